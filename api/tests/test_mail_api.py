"""The e-mail channel's API for people: mailboxes (the IMAP password is write-only and encrypted
at rest), organizations' e-mail domains (one organization per domain), held mail (a manager makes
a ticket for a chosen organization, creating the contact, or discards it; both audited), bouncing
addresses, quarantined mail, and the original .eml of a mail on a ticket (staff only)."""

from __future__ import annotations

import uuid
from typing import Any

from httpx import AsyncClient
from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession

from app.mail import secretbox
from app.models import AuditLog, InboundMessage, MailBounce, Mailbox, Ticket, User
from app.models.enums import Role
from tests.factories import bearer_headers, make_org, make_user
from tests.mail_support import stored_mail


async def headers_of(db: AsyncSession, role: Role, **kwargs: Any) -> dict[str, str]:
    return await bearer_headers(db, await make_user(db, role=role, **kwargs))


async def audit_of(db: AsyncSession, action: str, entity_id: uuid.UUID) -> list[AuditLog]:
    rows = await db.execute(
        select(AuditLog).where(AuditLog.action == action, AuditLog.entity_id == entity_id)
    )
    return list(rows.scalars())


async def held_mail(db: AsyncSession, sender: str, body: str = "Please help me.") -> uuid.UUID:
    return await stored_mail(db, status="held", sender=sender, body=body)


class TestMailboxes:
    async def test_the_imap_password_is_write_only_and_encrypted_at_rest(
        self, client: AsyncClient, db: AsyncSession
    ) -> None:
        admin = await headers_of(db, Role.ADMIN)
        secret = f"imap-secret-{uuid.uuid4().hex}"
        address = f"help-{uuid.uuid4().hex[:8]}@desk.test"
        created = await client.post(
            "/api/admin/mailboxes",
            json={
                "address": address.upper(),
                "kind": "imap",
                "imap_host": "imap.example.test",
                "imap_user": "help",
                "imap_password": secret,
                "processed_folder": "Processed",
            },
            headers=admin,
        )
        assert created.status_code == 201, created.text
        body = created.json()
        assert secret not in created.text and "imap_password" not in body
        assert (body["address"], body["imap_port"], body["has_password"]) == (address, 993, True)
        stored = await db.get(Mailbox, uuid.UUID(body["id"]))
        assert stored is not None and stored.imap_password_enc is not None
        assert secret not in stored.imap_password_enc
        assert secretbox.unseal(stored.imap_password_enc) == secret
        listed = await client.get("/api/admin/mailboxes", headers=admin)
        assert secret not in listed.text
        [entry] = await audit_of(db, "mailbox.created", stored.id)
        assert secret not in str(entry.new_value)

        patched = await client.patch(
            f"/api/admin/mailboxes/{stored.id}", json={"imap_password": "new-secret"}, headers=admin
        )
        assert patched.status_code == 200 and "new-secret" not in patched.text
        [change] = await audit_of(db, "mailbox.updated", stored.id)
        assert change.new_value == {"imap_password": "changed"}

    async def test_bad_mailboxes_are_refused_clearly(
        self, client: AsyncClient, db: AsyncSession
    ) -> None:
        admin = await headers_of(db, Role.ADMIN)
        incomplete = await client.post(
            "/api/admin/mailboxes",
            json={"address": f"x-{uuid.uuid4().hex[:6]}@desk.test", "kind": "imap"},
            headers=admin,
        )
        assert incomplete.status_code == 422
        assert "imap_host, imap_user and imap_password" in incomplete.text
        plus = await client.post(
            "/api/admin/mailboxes",
            json={"address": "support+x@desk.test", "kind": "lmtp"},
            headers=admin,
        )
        assert plus.status_code == 422
        unknown_field = await client.post(
            "/api/admin/mailboxes",
            json={"address": "a@desk.test", "kind": "lmtp", "password": "x"},
            headers=admin,
        )
        assert unknown_field.status_code == 422


class TestOrganizationDomains:
    async def test_domains_are_lower_case_unique_across_organizations_and_audited(
        self, client: AsyncClient, db: AsyncSession
    ) -> None:
        admin = await headers_of(db, Role.ADMIN)
        domain = f"Acme-{uuid.uuid4().hex[:8]}.TEST"
        created = await client.post(
            "/api/orgs",
            json={"name": f"Acme {uuid.uuid4().hex[:6]}", "email_domains": [domain, "@" + domain]},
            headers=admin,
        )
        assert created.status_code == 201, created.text
        assert created.json()["email_domains"] == [domain.lower()]
        other = await client.post(
            "/api/orgs",
            json={"name": f"Other {uuid.uuid4().hex[:6]}", "email_domains": [domain.lower()]},
            headers=admin,
        )
        assert other.status_code == 409 and domain.lower() in other.json()["detail"]
        org_id = created.json()["id"]
        renamed = await client.patch(
            f"/api/orgs/{org_id}", json={"email_domains": ["acme.example"]}, headers=admin
        )
        assert renamed.json()["email_domains"] == ["acme.example"]
        [change] = await audit_of(db, "org.updated", uuid.UUID(org_id))
        assert change.old_value == {"email_domains": [domain.lower()]}
        assert change.new_value == {"email_domains": ["acme.example"]}
        bad = await client.patch(
            f"/api/orgs/{org_id}", json={"email_domains": ["not a domain"]}, headers=admin
        )
        assert bad.status_code == 422
        read = await client.get(f"/api/orgs/{org_id}", headers=admin)
        assert read.json()["email_domains"] == ["acme.example"]


class TestHeldMail:
    async def test_a_manager_makes_a_ticket_for_an_organization_and_the_sender_its_contact(
        self, client: AsyncClient, db: AsyncSession
    ) -> None:
        manager = await headers_of(db, Role.MANAGER)
        org = await make_org(db)
        sender = f"erin-{uuid.uuid4().hex[:6]}@partner.test"
        held_id = await held_mail(db, sender)
        listed = await client.get("/api/internal/mail/held", headers=manager)
        item = next(i for i in listed.json()["items"] if i["id"] == str(held_id))
        assert item["from_address"] == sender and item["reason"] == f"unknown sender {sender}"

        made = await client.post(
            f"/api/internal/mail/held/{held_id}/ticket",
            json={"org_id": str(org.id)},
            headers=manager,
        )
        assert made.status_code == 201, made.text
        ticket = made.json()
        assert (ticket["org_id"], ticket["channel"], ticket["status"]) == (
            str(org.id),
            "email",
            "NEW",
        )
        assert "Please help me." in ticket["description"]
        erin = (await db.execute(select(User).where(User.email == sender))).scalar_one()
        assert (erin.org_id, erin.role, erin.name) == (org.id, "customer_user", "Erin Example")
        assert len(await audit_of(db, "mail.held_ticket", held_id)) == 1
        row = await db.get(InboundMessage, held_id, populate_existing=True)
        assert row is not None and (row.status, str(row.ticket_id)) == ("done", ticket["id"])
        again = await client.post(
            f"/api/internal/mail/held/{held_id}/ticket",
            json={"org_id": str(org.id)},
            headers=manager,
        )
        assert again.status_code == 404

    async def test_a_sender_of_another_organization_is_not_moved(
        self, client: AsyncClient, db: AsyncSession
    ) -> None:
        manager = await headers_of(db, Role.MANAGER)
        theirs, other = await make_org(db), await make_org(db)
        customer = await make_user(db, role=Role.CUSTOMER_USER, org=theirs)
        held_id = await held_mail(db, customer.email)
        refused = await client.post(
            f"/api/internal/mail/held/{held_id}/ticket",
            json={"org_id": str(other.id)},
            headers=manager,
        )
        assert refused.status_code == 409
        count = await db.execute(select(Ticket.id).where(Ticket.created_by == customer.id))
        assert count.first() is None

    async def test_discard_is_audited_and_agents_cannot_see_held_mail(
        self, client: AsyncClient, db: AsyncSession
    ) -> None:
        manager = await headers_of(db, Role.MANAGER)
        agent = await headers_of(db, Role.AGENT)
        held_id = await held_mail(db, "spam@spam.test")
        assert (await client.get("/api/internal/mail/held", headers=agent)).status_code == 403
        done = await client.post(f"/api/internal/mail/held/{held_id}/discard", headers=manager)
        assert done.status_code == 204
        assert len(await audit_of(db, "mail.held_discarded", held_id)) == 1
        listed = await client.get("/api/internal/mail/held", headers=manager)
        assert str(held_id) not in listed.text


class TestBouncesAndQuarantine:
    async def test_clearing_a_bounce_and_retrying_a_quarantined_mail(
        self, client: AsyncClient, db: AsyncSession
    ) -> None:
        admin = await headers_of(db, Role.ADMIN)
        address = f"gone-{uuid.uuid4().hex[:6]}@example.test"
        db.add(MailBounce(address=address, status="5.1.1", diagnostic="550 user unknown"))
        held_id = await held_mail(db, "x@client.test")
        await db.execute(
            text(
                "UPDATE inbound_messages SET status = 'quarantined', error = 'boom', attempts = 5 "
                "WHERE id = :i"
            ),
            {"i": held_id},
        )
        bounces = await client.get("/api/admin/mail/bounces", headers=admin)
        assert address in bounces.text
        cleared = await client.delete(f"/api/admin/mail/bounces/{address.upper()}", headers=admin)
        assert cleared.status_code == 204
        assert await db.get(MailBounce, address, populate_existing=True) is None
        quarantined = await client.get("/api/admin/mail/quarantined", headers=admin)
        item = next(i for i in quarantined.json()["items"] if i["id"] == str(held_id))
        assert (item["error"], item["attempts"]) == ("boom", 5)
        retried = await client.post(f"/api/admin/mail/quarantined/{held_id}/retry", headers=admin)
        assert retried.status_code == 204
        row = await db.get(InboundMessage, held_id, populate_existing=True)
        assert row is not None and (row.status, row.attempts) == ("pending", 0)


class TestOriginal:
    async def test_staff_download_the_original_eml_as_an_attachment(
        self, client: AsyncClient, db: AsyncSession
    ) -> None:
        agent = await headers_of(db, Role.AGENT)
        org = await make_org(db)
        customer = await make_user(db, role=Role.CUSTOMER_USER, org=org)
        held_id = await held_mail(db, customer.email, body="<script>alert(1)</script>")
        ticket = Ticket(
            id=uuid.uuid4(),
            org_id=org.id,
            created_by=customer.id,
            status="NEW",
            priority="P3",
            title="By mail",
            description="By mail",
            channel="email",
        )
        db.add(ticket)
        await db.flush()
        await db.execute(
            text("UPDATE inbound_messages SET status = 'done', ticket_id = :t WHERE id = :i"),
            {"t": ticket.id, "i": held_id},
        )
        answer = await client.get(f"/api/internal/tickets/{ticket.id}/original", headers=agent)
        assert answer.status_code == 200
        assert answer.headers["content-type"] == "message/rfc822"
        assert answer.headers["content-disposition"].startswith("attachment;")
        assert answer.headers["x-content-type-options"] == "nosniff"
        assert "sandbox" in answer.headers["content-security-policy"]
        assert b"<script>alert(1)</script>" in answer.content
        assert len(await audit_of(db, "mail.original_downloaded", held_id)) == 1
        customer_headers = await bearer_headers(db, customer)
        refused = await client.get(
            f"/api/internal/tickets/{ticket.id}/original", headers=customer_headers
        )
        assert refused.status_code == 403
        missing = await client.get(
            f"/api/internal/tickets/{ticket.id}/comments/{uuid.uuid4()}/original", headers=agent
        )
        assert missing.status_code == 404
