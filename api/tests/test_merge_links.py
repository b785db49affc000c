"""Merging a duplicate into another ticket and linking related tickets (API-2.md "Agent
workspace"): who may, what moves (comments and attachments with their authors and timestamps),
the duplicate CLOSED through the workflow's merge rule with ``merged_into``, the audit on both,
the customer told; links stored once, shown on both staff views, never in a customer view; the
requester card of the staff detail."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from httpx import AsyncClient
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.models import (
    AuditLog,
    Organization,
    Ticket,
    TicketAttachment,
    TicketComment,
    TicketLink,
    User,
)
from app.models.enums import Role
from app.models.enums import TicketStatus as S
from tests.factories import bearer_headers as headers_for
from tests.factories import make_org, make_user, outbox_mails

I = "/api/internal/tickets"  # noqa: E741
T0 = datetime(2030, 3, 1, 9, 0, tzinfo=UTC)


class Desk:
    def __init__(self) -> None:
        self.h: dict[str, dict[str, str]] = {}

    org: Organization
    customer: User
    agent: User
    manager: User


@pytest.fixture
async def desk(db: AsyncSession) -> Desk:
    desk = Desk()
    desk.org = await make_org(db)
    desk.customer = await make_user(db, role=Role.CUSTOMER_USER, org=desk.org)
    desk.agent = await make_user(db, role=Role.AGENT)
    desk.manager = await make_user(db, role=Role.MANAGER)
    for name in ("customer", "agent", "manager"):
        desk.h[name] = await headers_for(db, getattr(desk, name))
    return desk


async def make_ticket(
    db: AsyncSession,
    org: Organization,
    creator: User,
    status: S = S.IN_PROGRESS,
    *,
    title: str = "Printer jams",
    minutes: int = 0,
) -> Ticket:
    ticket = Ticket(
        id=uuid.uuid4(),
        org_id=org.id,
        created_by=creator.id,
        status=status.value,
        priority="P3",
        title=f"{title} {uuid.uuid4().hex[:6]}",
        description=f"{title}: the details.",
        created_at=T0 + timedelta(minutes=minutes),
        updated_at=T0 + timedelta(minutes=minutes),
    )
    if status is not S.NEW:
        ticket.accepted_at = T0
        ticket.sla_first_response_due_at = T0 + timedelta(hours=8)
        ticket.sla_resolution_due_at = T0 + timedelta(days=3)
    if status in (S.RESOLVED, S.CLOSED):
        ticket.resolution, ticket.root_cause = "Rebooted.", "Firmware."
    db.add(ticket)
    await db.flush()
    return ticket


async def add_thread(db: AsyncSession, ticket: Ticket, author: User, staff: User) -> list[Any]:
    """A public comment by *author*, an internal note by *staff*, an attachment on each."""
    rows: list[Any] = []
    for i, (who, internal) in enumerate(((author, False), (staff, True))):
        at = T0 - timedelta(days=3, minutes=i)
        comment = TicketComment(
            id=uuid.uuid4(),
            ticket_id=ticket.id,
            org_id=ticket.org_id,
            author_id=who.id,
            body=f"comment {i}",
            is_internal=internal,
            created_at=at,
        )
        db.add(comment)
        await db.flush()
        file = TicketAttachment(
            id=uuid.uuid4(),
            ticket_id=ticket.id,
            org_id=ticket.org_id,
            comment_id=comment.id,
            uploaded_by=who.id,
            file_path=uuid.uuid4().hex,
            file_name=f"file-{i}.txt",
            mime_type="text/plain",
            size_bytes=10,
            sha256=f"{i:064x}",
            is_internal=internal,
            created_at=at,
        )
        db.add(file)
        await db.flush()
        rows += [comment, file]
    return rows


def ok(response: Any, status: int = 200) -> Any:
    assert response.status_code == status, response.text
    return response.json() if status != 204 else None


async def merge(client: AsyncClient, headers: dict[str, str], source: Any, target: Any) -> Any:
    return await client.post(
        f"{I}/{source.id}/merge", json={"into_id": str(target.id)}, headers=headers
    )


class TestMerge:
    async def test_merge_moves_the_thread_and_closes_the_duplicate(
        self, client: AsyncClient, db: AsyncSession, desk: Desk
    ) -> None:
        source = await make_ticket(db, desk.org, desk.customer, S.IN_PROGRESS)
        target = await make_ticket(db, desk.org, desk.customer, S.ASSIGNED, minutes=1)
        thread = await add_thread(db, source, desk.customer, desk.agent)
        before = {
            (r.id, getattr(r, "author_id", None) or getattr(r, "uploaded_by", None), r.created_at)
            for r in thread
        }
        answer = ok(await merge(client, desk.h["manager"], source, target))
        assert answer["id"] == str(target.id)
        assert "sla" in answer  # the target's staff view

        # Every comment and attachment now sits on the target, authors and times intact.
        moved = set()
        thread_ids = [r.id for r in thread]
        for model, who in ((TicketComment, "author_id"), (TicketAttachment, "uploaded_by")):
            fresh = (
                select(model)
                .where(model.id.in_(thread_ids))
                .execution_options(populate_existing=True)
            )
            for row in (await db.execute(fresh)).scalars():
                assert row.ticket_id == target.id
                moved.add((row.id, getattr(row, who), row.created_at))
        assert moved == before

        detail = ok(await client.get(f"{I}/{target.id}", headers=desk.h["agent"]))
        bodies = [c["body"] for c in detail["comments"]]
        assert {"comment 0", "comment 1"} <= set(bodies)
        note = next(c for c in detail["comments"] if c["body"].startswith("Merged from"))
        assert note["is_internal"] is True
        assert f"#{source.number}" in note["body"] and source.description in note["body"]
        told = [c for c in detail["comments"] if "merged into it" in c["body"]]
        assert len(told) == 1 and told[0]["is_internal"] is False
        assert len(detail["attachments"]) == 2

        # The duplicate: CLOSED through the workflow, merged_into set, with its resolution.
        closed = ok(await client.get(f"{I}/{source.id}", headers=desk.h["agent"]))
        assert closed["status"] == "CLOSED"
        assert closed["merged_into"] == str(target.id)
        assert closed["resolution"] == f"Merged into #{target.number}"
        assert closed["closed_at"] is not None
        assert closed["comments"] == [] and closed["attachments"] == []

        # Audited on both.
        for ticket, key in ((source, "into_id"), (target, "from_id")):
            entries = (
                await db.execute(
                    select(AuditLog).where(
                        AuditLog.entity_id == ticket.id, AuditLog.action == "ticket.merged"
                    )
                )
            ).scalars()
            [entry] = list(entries)
            assert entry.actor_id == desk.manager.id
            assert entry.new_value is not None and key in entry.new_value
        status_entry = (
            await db.execute(
                select(AuditLog).where(
                    AuditLog.entity_id == source.id, AuditLog.action == "ticket.status_changed"
                )
            )
        ).scalar_one()
        assert status_entry.new_value == {"status": "CLOSED", "merged_into": str(target.id)}

        # The customer: told by mail, sees "merged into" but no links in the portal.
        mails = await outbox_mails(db, desk.customer.email)
        assert any(m.ticket_id == source.id and f"#{target.number}" in m.body_text for m in mails)
        portal = ok(await client.get(f"/api/tickets/{source.id}", headers=desk.h["customer"]))
        assert portal["merged_into"] == str(target.id)
        assert "links" not in portal and "tags" not in portal
        portal_target = ok(
            await client.get(f"/api/tickets/{target.id}", headers=desk.h["customer"])
        )
        assert all(not c["body"].startswith("Merged from") for c in portal_target["comments"])

    async def test_into_a_new_ticket_no_public_comment(
        self, client: AsyncClient, db: AsyncSession, desk: Desk
    ) -> None:
        source = await make_ticket(db, desk.org, desk.customer, S.NEW)
        target = await make_ticket(db, desk.org, desk.customer, S.NEW, minutes=1)
        ok(await merge(client, desk.h["manager"], source, target))
        detail = ok(await client.get(f"{I}/{target.id}", headers=desk.h["agent"]))
        assert [c["is_internal"] for c in detail["comments"]] == [True]
        assert (
            ok(await client.get(f"{I}/{source.id}", headers=desk.h["agent"]))["status"] == "CLOSED"
        )

    async def test_refusals(self, client: AsyncClient, db: AsyncSession, desk: Desk) -> None:
        source = await make_ticket(db, desk.org, desk.customer)
        target = await make_ticket(db, desk.org, desk.customer, minutes=1)
        other_org = await make_org(db)
        stranger = await make_user(db, role=Role.CUSTOMER_USER, org=other_org)
        foreign = await make_ticket(db, other_org, stranger)
        closed = await make_ticket(db, desk.org, desk.customer, S.CLOSED)
        cancelled = await make_ticket(db, desk.org, desk.customer, S.CANCELLED)
        m = desk.h["manager"]

        cross = await merge(client, m, source, foreign)
        assert cross.status_code == 409 and cross.json()["code"] == "merge_cross_org"
        itself = await merge(client, m, source, source)
        assert itself.status_code == 409 and itself.json()["code"] == "merge_refused"
        for final in (closed, cancelled):
            refused = await merge(client, m, source, final)
            assert refused.status_code == 409 and refused.json()["code"] == "merge_refused"
            refused = await merge(client, m, final, target)
            assert refused.status_code == 409, refused.text
        missing = await client.post(
            f"{I}/{source.id}/merge", json={"into_id": str(uuid.uuid4())}, headers=m
        )
        assert missing.status_code == 404

        # Agents and customers may not merge.
        assert (await merge(client, desk.h["agent"], source, target)).status_code == 403
        assert (await merge(client, desk.h["customer"], source, target)).status_code == 403

        # Into a ticket that was itself merged: refused; a merged ticket cannot merge again.
        ok(await merge(client, m, source, target))
        third = await make_ticket(db, desk.org, desk.customer, minutes=2)
        assert (await merge(client, m, third, source)).status_code == 409
        assert (await merge(client, m, source, third)).status_code == 409
        # Nothing of the refused attempts was written.
        assert (await db.get(Ticket, third.id)) is not None
        await db.refresh(third)
        assert third.status == S.IN_PROGRESS.value and third.merged_into is None


class TestLinks:
    async def test_link_shown_on_both_once_and_unlinked(
        self, client: AsyncClient, db: AsyncSession, desk: Desk
    ) -> None:
        one = await make_ticket(db, desk.org, desk.customer)
        other_org = await make_org(db)
        foreign = await make_ticket(
            db, other_org, await make_user(db, role=Role.CUSTOMER_USER, org=other_org)
        )
        a = desk.h["agent"]
        ok(await client.post(f"{I}/{foreign.id}/links/{one.id}", headers=a), 204)
        ok(await client.post(f"{I}/{one.id}/links/{foreign.id}", headers=a), 204)  # idempotent
        rows = list((await db.execute(select(TicketLink))).scalars())
        mine = [r for r in rows if {r.ticket_a, r.ticket_b} == {one.id, foreign.id}]
        assert len(mine) == 1 and mine[0].ticket_a < mine[0].ticket_b

        for ticket, linked in ((one, foreign), (foreign, one)):
            detail = ok(await client.get(f"{I}/{ticket.id}", headers=a))
            assert detail["links"] == [
                {"id": str(linked.id), "number": linked.number, "title": linked.title}
            ]
        # The customer view never carries links (nor tags).
        portal = ok(await client.get(f"/api/tickets/{one.id}", headers=desk.h["customer"]))
        assert "links" not in portal and "tags" not in portal

        linked_entries = (
            await db.execute(select(AuditLog).where(AuditLog.action == "ticket.linked"))
        ).scalars()
        assert {e.ticket_id for e in linked_entries} >= {one.id, foreign.id}

        ok(await client.delete(f"{I}/{one.id}/links/{foreign.id}", headers=a), 204)
        assert ok(await client.get(f"{I}/{one.id}", headers=a))["links"] == []
        unlinked = (
            await db.execute(select(AuditLog).where(AuditLog.action == "ticket.unlinked"))
        ).scalars()
        assert {e.ticket_id for e in unlinked} >= {one.id, foreign.id}
        again = await client.delete(f"{I}/{one.id}/links/{foreign.id}", headers=a)
        assert again.status_code == 404

    async def test_refusals(self, client: AsyncClient, db: AsyncSession, desk: Desk) -> None:
        one = await make_ticket(db, desk.org, desk.customer)
        two = await make_ticket(db, desk.org, desk.customer, minutes=1)
        a = desk.h["agent"]
        missing = await client.post(f"{I}/{one.id}/links/{uuid.uuid4()}", headers=a)
        assert missing.status_code == 404
        itself = await client.post(f"{I}/{one.id}/links/{one.id}", headers=a)
        assert itself.status_code == 409 and itself.json()["code"] == "link_refused"
        for method in ("POST", "DELETE"):
            refused = await client.request(
                method, f"{I}/{one.id}/links/{two.id}", headers=desk.h["customer"]
            )
            assert refused.status_code == 403


class TestRequester:
    async def test_staff_detail_shows_the_requester_and_their_open_tickets(
        self, client: AsyncClient, db: AsyncSession, desk: Desk
    ) -> None:
        this = await make_ticket(db, desk.org, desk.customer)
        others = [
            await make_ticket(db, desk.org, desk.customer, S.ASSIGNED, minutes=i + 1)
            for i in range(6)
        ]
        await make_ticket(db, desk.org, desk.customer, S.CLOSED, minutes=30)
        colleague = await make_user(db, role=Role.CUSTOMER_USER, org=desk.org)
        await make_ticket(db, desk.org, colleague, minutes=40)
        detail = ok(await client.get(f"{I}/{this.id}", headers=desk.h["agent"]))
        assert detail["requester"] == {
            "id": str(desk.customer.id),
            "name": desk.customer.name,
            "email": desk.customer.email,
        }
        assert detail["org_name"] == desk.org.name
        listed = detail["requester_open_tickets"]
        newest = sorted(others, key=lambda t: t.created_at, reverse=True)[:5]
        assert [t["id"] for t in listed] == [str(t.id) for t in newest]
        assert all(t["status"] == "ASSIGNED" for t in listed)
        portal = ok(await client.get(f"/api/tickets/{this.id}", headers=desk.h["customer"]))
        assert "requester" not in portal and "requester_open_tickets" not in portal
