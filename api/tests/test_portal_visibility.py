"""An organization's portal visibility (services/visibility.py): in "own" a customer_user sees
the tickets they opened or are copied on, in "organization" (the default) every ticket of the
organization; a customer_admin always sees them all. Every path follows it: the list, the
detail, comments, files, withdrawal, mail replies. The orgs API sets it (admins only).

Organization A: customer users u1 and u2, customer admin ca; organization B: customer ub.
u1 opened t1 (with a public file and a staff reply), u2 opened t2, ub opened tb.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import pytest
from httpx import AsyncClient, Response
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from app.models import AuditLog, Organization, User
from app.models.enums import Role
from app.services import ccs
from tests.factories import PASSWORD, make_org, make_user
from tests.factories import bearer_headers as headers_for
from tests.mail_support import mail, staff
from tests.test_mail_inbound import World as MailWorld
from tests.test_mail_inbound import inbound_db, new_ticket_by_mail
from tests.test_mail_inbound import world as mail_world

Headers = dict[str, str]
__all__ = ["inbound_db", "mail_world"]  # fixtures of the mail tests, used below


def ok(response: Response, status: int = 200) -> Any:
    assert response.status_code == status, response.text
    return response.json()


@dataclass
class Desk:
    org: Organization
    other: Organization
    h: dict[str, Headers]
    users: dict[str, User]
    t1: str
    t2: str
    tb: str
    file1: str

    async def visibility(self, db: AsyncSession, value: str) -> None:
        await db.execute(
            update(Organization)
            .where(Organization.id == self.org.id)
            .values(portal_visibility=value)
        )
        await db.flush()


async def open_ticket(client: AsyncClient, headers: Headers, title: str) -> str:
    body = {"title": title, "description": "It does not work."}
    return str(ok(await client.post("/api/tickets", json=body, headers=headers), 201)["id"])


@pytest.fixture
async def desk(client: AsyncClient, db: AsyncSession) -> Desk:
    org = await make_org(db)
    other = await make_org(db)
    users = {
        "u1": await make_user(db, role=Role.CUSTOMER_USER, org=org, name="Uma One"),
        "u2": await make_user(db, role=Role.CUSTOMER_USER, org=org, name="Ugo Two"),
        "ca": await make_user(db, role=Role.CUSTOMER_ADMIN, org=org),
        "ub": await make_user(db, role=Role.CUSTOMER_USER, org=other),
        "agent": await make_user(db, role=Role.AGENT),
        "manager": await make_user(db, role=Role.MANAGER),
        "admin": await make_user(db, role=Role.ADMIN),
    }
    h = {name: await headers_for(db, user) for name, user in users.items()}
    t1 = await open_ticket(client, h["u1"], "Printer of u1")
    t2 = await open_ticket(client, h["u2"], "Laptop of u2")
    tb = await open_ticket(client, h["ub"], "Other organization")
    file1 = ok(
        await client.post(
            f"/api/tickets/{t1}/attachments",
            files={"file": ("log.txt", b"u1 log\n", "text/plain")},
            headers=h["u1"],
        ),
        201,
    )["id"]
    internal = f"/api/internal/tickets/{t1}"
    ok(await client.post(f"{internal}/accept", json={}, headers=h["manager"]))
    ok(
        await client.post(
            f"{internal}/assign", json={"assignee_id": str(users["agent"].id)}, headers=h["manager"]
        )
    )
    ok(
        await client.post(
            f"{internal}/comments",
            json={"body": "Looking into it.", "is_internal": False},
            headers=h["agent"],
        ),
        201,
    )
    return Desk(org, other, h, users, t1, t2, tb, file1)


async def listed(client: AsyncClient, headers: Headers, **params: str) -> list[str]:
    page = ok(await client.get("/api/tickets", params=params, headers=headers))
    return sorted(item["id"] for item in page["items"])


class TestOrganizationVisibility:
    async def test_the_default_shows_colleagues_tickets(
        self, client: AsyncClient, desk: Desk
    ) -> None:
        assert desk.org.portal_visibility == "organization"
        assert await listed(client, desk.h["u2"]) == sorted([desk.t1, desk.t2])
        detail = ok(await client.get(f"/api/tickets/{desk.t1}", headers=desk.h["u2"]))
        assert [c["body"] for c in detail["comments"]] == ["Looking into it."]
        download = await client.get(
            f"/api/tickets/{desk.t1}/attachments/{desk.file1}", headers=desk.h["u2"]
        )
        assert download.status_code == 200

    async def test_scope_mine_lists_what_the_caller_opened(
        self, client: AsyncClient, desk: Desk
    ) -> None:
        assert await listed(client, desk.h["u2"], scope="mine") == [desk.t2]
        assert await listed(client, desk.h["u2"], scope="organization") == sorted(
            [desk.t1, desk.t2]
        )
        assert await listed(client, desk.h["ca"], scope="mine") == []
        bad = await client.get("/api/tickets", params={"scope": "all"}, headers=desk.h["u2"])
        assert bad.status_code == 422


class TestOwnVisibility:
    async def test_a_customer_user_sees_only_their_own_tickets(
        self, client: AsyncClient, db: AsyncSession, desk: Desk
    ) -> None:
        await desk.visibility(db, "own")
        assert await listed(client, desk.h["u2"]) == [desk.t2]
        assert await listed(client, desk.h["u2"], scope="organization") == [desk.t2]
        assert await listed(client, desk.h["u1"]) == [desk.t1]
        searched = await listed(client, desk.h["u2"], q="Printer")
        assert searched == []

    async def test_a_colleagues_ticket_is_not_found_on_every_path(
        self, client: AsyncClient, db: AsyncSession, desk: Desk
    ) -> None:
        await desk.visibility(db, "own")
        h = desk.h["u2"]
        for ticket in (desk.t1, str(uuid.uuid4())):
            base = f"/api/tickets/{ticket}"
            answers = [
                await client.get(base, headers=h),
                await client.post(f"{base}/comments", json={"body": "Me too"}, headers=h),
                await client.post(f"{base}/withdraw", json={}, headers=h),
                await client.get(f"{base}/attachments/{desk.file1}", headers=h),
                await client.post(
                    f"{base}/attachments",
                    files={"file": ("x.txt", b"x\n", "text/plain")},
                    headers=h,
                ),
                await client.put(f"{base}/cc", json={"user_ids": []}, headers=h),
                await client.get(f"{base}/cc/candidates", headers=h),
            ]
            assert [a.status_code for a in answers] == [404] * len(answers), [
                a.text for a in answers
            ]
        # The owner still reaches all of it.
        detail = ok(await client.get(f"/api/tickets/{desk.t1}", headers=desk.h["u1"]))
        assert [a["id"] for a in detail["attachments"]] == [desk.file1]

    async def test_a_customer_admin_always_sees_the_organization(
        self, client: AsyncClient, db: AsyncSession, desk: Desk
    ) -> None:
        await desk.visibility(db, "own")
        assert await listed(client, desk.h["ca"]) == sorted([desk.t1, desk.t2])
        detail = ok(await client.get(f"/api/tickets/{desk.t1}", headers=desk.h["ca"]))
        assert [c["body"] for c in detail["comments"]] == ["Looking into it."]
        assert await listed(client, desk.h["ca"], scope="mine") == []

    async def test_being_copied_opens_the_ticket(
        self, client: AsyncClient, db: AsyncSession, desk: Desk
    ) -> None:
        await desk.visibility(db, "own")
        u2 = str(desk.users["u2"].id)
        ok(
            await client.put(
                f"/api/tickets/{desk.t1}/cc", json={"user_ids": [u2]}, headers=desk.h["u1"]
            )
        )
        assert await listed(client, desk.h["u2"]) == sorted([desk.t1, desk.t2])
        assert await listed(client, desk.h["u2"], scope="mine") == sorted([desk.t1, desk.t2])
        detail = ok(await client.get(f"/api/tickets/{desk.t1}", headers=desk.h["u2"]))
        assert detail["cc"] == [{"id": u2, "name": "Ugo Two"}]
        assert [c["body"] for c in detail["comments"]] == ["Looking into it."]
        download = await client.get(
            f"/api/tickets/{desk.t1}/attachments/{desk.file1}", headers=desk.h["u2"]
        )
        assert download.status_code == 200
        ok(
            await client.post(
                f"/api/tickets/{desk.t1}/comments",
                json={"body": "Same here."},
                headers=desk.h["u2"],
            ),
            201,
        )
        # Taken off the list, the ticket is gone again.
        ok(
            await client.put(
                f"/api/tickets/{desk.t1}/cc", json={"user_ids": []}, headers=desk.h["u1"]
            )
        )
        assert await listed(client, desk.h["u2"]) == [desk.t2]
        gone = await client.get(f"/api/tickets/{desk.t1}", headers=desk.h["u2"])
        assert gone.status_code == 404

    async def test_the_change_applies_to_open_sessions_at_once(
        self, client: AsyncClient, db: AsyncSession, desk: Desk
    ) -> None:
        assert await listed(client, desk.h["u2"]) == sorted([desk.t1, desk.t2])
        patch = await client.patch(
            f"/api/orgs/{desk.org.id}", json={"portal_visibility": "own"}, headers=desk.h["admin"]
        )
        assert ok(patch)["portal_visibility"] == "own"
        assert await listed(client, desk.h["u2"]) == [desk.t2]
        me = ok(await client.get("/api/me", headers=desk.h["u2"]))
        assert me["portal_visibility"] == "own"
        login = ok(
            await client.post(
                "/api/auth/login",
                json={"email": desk.users["u2"].email, "password": PASSWORD},
            )
        )
        assert login["user"]["portal_visibility"] == "own"
        staff = ok(await client.get("/api/me", headers=desk.h["agent"]))
        assert staff["portal_visibility"] is None
        # The other organization is untouched.
        assert await listed(client, desk.h["ub"]) == [desk.tb]


class TestOrgsApi:
    async def test_admins_set_the_visibility_and_it_is_audited(
        self, client: AsyncClient, db: AsyncSession, desk: Desk
    ) -> None:
        h = desk.h["admin"]
        created = ok(
            await client.post(
                "/api/orgs",
                json={"name": f"Private {uuid.uuid4().hex[:6]}", "portal_visibility": "own"},
                headers=h,
            ),
            201,
        )
        assert created["portal_visibility"] == "own"
        default = ok(
            await client.post(
                "/api/orgs", json={"name": f"Open {uuid.uuid4().hex[:6]}"}, headers=h
            ),
            201,
        )
        assert default["portal_visibility"] == "organization"
        path = f"/api/orgs/{created['id']}"
        assert ok(await client.get(path, headers=desk.h["agent"]))["portal_visibility"] == "own"
        changed = ok(
            await client.patch(path, json={"portal_visibility": "organization"}, headers=h)
        )
        assert changed["portal_visibility"] == "organization"
        entries = (
            await db.execute(
                select(AuditLog.old_value, AuditLog.new_value).where(
                    AuditLog.entity_id == uuid.UUID(created["id"]),
                    AuditLog.action == "org.updated",
                )
            )
        ).all()
        assert [tuple(e) for e in entries] == [
            ({"portal_visibility": "own"}, {"portal_visibility": "organization"})
        ]
        bad = await client.patch(path, json={"portal_visibility": "everyone"}, headers=h)
        assert bad.status_code == 422

    @pytest.mark.parametrize("caller", ["manager", "agent", "ca", "u1"])
    async def test_only_admins_change_it(
        self, client: AsyncClient, db: AsyncSession, desk: Desk, caller: str
    ) -> None:
        answer = await client.patch(
            f"/api/orgs/{desk.org.id}", json={"portal_visibility": "own"}, headers=desk.h[caller]
        )
        assert answer.status_code in (403, 404), answer.text
        await db.refresh(desk.org)
        assert desk.org.portal_visibility == "organization"


# ---------------------------------------------------------------- mail replies


@pytest.fixture
async def own_mail_world(mail_world: MailWorld) -> AsyncIterator[MailWorld]:
    async with mail_world.engine.begin() as conn:
        await conn.execute(
            update(Organization)
            .where(Organization.id == mail_world.people.org_a.id)
            .values(portal_visibility="own")
        )
    yield mail_world


class TestMailReplies:
    async def test_a_reply_reaches_a_colleagues_ticket_only_when_copied(
        self, own_mail_world: MailWorld
    ) -> None:
        w = own_mail_world
        p = w.people
        t = await new_ticket_by_mail(w, p.alice)
        reply = mail(sender=p.alex.email, subject=f"Re: [#{t.number}] {t.title}", body="Me too")
        await w.deliver_and_process(reply)
        row = await w.last()
        assert row.status == "held", row.reason
        assert "may not comment" in (row.reason or "")

        async with AsyncSession(w.engine, expire_on_commit=False) as session, session.begin():
            await ccs.replace(session, staff(p.manager), t.id, [p.alex.id])
        await w.deliver_and_process(
            mail(sender=p.alex.email, subject=f"Re: [#{t.number}] {t.title}", body="Me too")
        )
        row = await w.last()
        assert (row.status, row.ticket_id) == ("done", t.id), row.reason
