"""Macros and bulk actions (API-2.md "Agent workspace"): each action through the service of the
manual action, all-or-nothing per macro with the refused action named, per-ticket results in
bulk, audit, scopes and what customers never see."""

from __future__ import annotations

import time
import uuid
from datetime import timedelta
from typing import Any

import pytest
from httpx import AsyncClient
from sqlalchemy import event, func, insert, select
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from app.models import AuditLog, CannedReply, Macro, Ticket, TicketComment
from app.utils.clock import utcnow
from tests.test_canned_replies import Staff, build_staff
from tests.test_tickets_api import ok, open_ticket

M = "/api/internal/macros"
I = "/api/internal/tickets"  # noqa: E741
BULK = f"{I}/bulk"


@pytest.fixture
async def staff(db: AsyncSession) -> Staff:
    return await build_staff(db)


async def assigned_ticket(client: AsyncClient, s: Staff, **body: Any) -> dict[str, Any]:
    """A ticket accepted by the manager and assigned to the agent."""
    ticket = await open_ticket(client, s.h["customer"], **body)
    ok(await client.post(f"{I}/{ticket['id']}/accept", json={}, headers=s.h["manager"]))
    assign = {"assignee_id": str(s.agent.id)}
    return ok(await client.post(f"{I}/{ticket['id']}/assign", json=assign, headers=s.h["manager"]))  # type: ignore[no-any-return]


async def make_macro(
    client: AsyncClient, headers: dict[str, str], actions: list[dict[str, Any]], **body: Any
) -> dict[str, Any]:
    payload = {"name": f"Macro {uuid.uuid4().hex[:6]}", "actions": actions, **body}
    return ok(await client.post(M, json=payload, headers=headers), 201)  # type: ignore[no-any-return]


async def comments(db: AsyncSession, ticket_id: str) -> list[TicketComment]:
    rows = await db.execute(
        select(TicketComment)
        .where(TicketComment.ticket_id == uuid.UUID(ticket_id))
        .order_by(TicketComment.created_at)
    )
    return list(rows.scalars())


async def trail(db: AsyncSession, ticket_id: str) -> list[str]:
    rows = await db.execute(
        select(AuditLog.action)
        .where(AuditLog.ticket_id == uuid.UUID(ticket_id))
        .order_by(AuditLog.seq)
    )
    return list(rows.scalars())


class TestMacros:
    async def test_applies_every_action_through_the_manual_services(
        self, client: AsyncClient, db: AsyncSession, staff: Staff
    ) -> None:
        ticket = await assigned_ticket(client, staff)
        reply = ok(
            await client.post(
                "/api/internal/canned-replies",
                json={
                    "title": "Looking",
                    "body": "Hi {{ customer.first_name }}, on it. {{ agent.name }}",
                },
                headers=staff.h["agent"],
            ),
            201,
        )
        macro = await make_macro(
            client,
            staff.h["agent"],
            [
                {"type": "comment", "canned_reply_id": reply["id"], "is_internal": False},
                {"type": "comment", "body": "Checked #{{ ticket.number }}", "is_internal": True},
                {"type": "status", "status": "IN_PROGRESS"},
                {"type": "priority", "priority": "P2"},
                {"type": "tags", "add": ["Printer", "vip"], "remove": ["none"]},
                {"type": "assign", "me": True, "team_id": str(staff.team.id)},
            ],
        )
        before = await trail(db, ticket["id"])
        view = ok(
            await client.post(f"{I}/{ticket['id']}/macros/{macro['id']}", headers=staff.h["agent"])
        )
        assert view["status"] == "IN_PROGRESS" and view["priority"] == "P2"
        assert view["tags"] == ["printer", "vip"]
        assert view["assigned_team"]["id"] == str(staff.team.id)
        assert view["assigned_to"]["id"] == str(staff.agent.id)
        texts = [(c.body, c.is_internal) for c in await comments(db, ticket["id"])]
        assert texts == [
            ("Hi Ada, on it. Grace Hopper", False),
            (f"Checked #{ticket['number']}", True),
        ]
        new = (await trail(db, ticket["id"]))[len(before) :]
        assert new == [
            "comment.created",
            "comment.created",
            "ticket.status_changed",
            "ticket.updated",
            "ticket.updated",
            "ticket.assigned",
            "macro.applied",
        ]
        applied = (
            await db.execute(
                select(AuditLog).where(
                    AuditLog.action == "macro.applied",
                    AuditLog.ticket_id == uuid.UUID(ticket["id"]),
                )
            )
        ).scalar_one()
        assert applied.new_value["macro_id"] == macro["id"]
        assert applied.new_value["name"] == macro["name"]
        assert applied.actor_id == staff.agent.id
        stored_macro = await db.get(Macro, uuid.UUID(macro["id"]))
        stored_reply = await db.get(CannedReply, uuid.UUID(reply["id"]))
        assert stored_macro is not None and stored_reply is not None
        await db.refresh(stored_macro)
        await db.refresh(stored_reply)
        assert (stored_macro.usage_count, stored_reply.usage_count) == (1, 1)

    async def test_a_refused_action_undoes_the_whole_macro_and_is_named(
        self, client: AsyncClient, db: AsyncSession, staff: Staff
    ) -> None:
        ticket = await assigned_ticket(client, staff)
        macro = await make_macro(
            client,
            staff.h["agent"],
            [
                {"type": "comment", "body": "Closing this now.", "is_internal": False},
                {"type": "tags", "add": ["closing"]},
                {"type": "status", "status": "CLOSED"},  # ASSIGNED -> CLOSED does not exist
            ],
        )
        before = await trail(db, ticket["id"])
        answer = await client.post(
            f"{I}/{ticket['id']}/macros/{macro['id']}", headers=staff.h["agent"]
        )
        assert answer.status_code == 409, answer.text
        body = answer.json()
        assert body["action_index"] == 2 and body["action_type"] == "status"
        assert body["detail"].startswith("Action 3 (status): ")
        assert await comments(db, ticket["id"]) == []
        assert await trail(db, ticket["id"]) == before
        view = ok(await client.get(f"{I}/{ticket['id']}", headers=staff.h["agent"]))
        assert view["tags"] == [] and view["status"] == "ASSIGNED"
        stored = await db.get(Macro, uuid.UUID(macro["id"]))
        assert stored is not None
        await db.refresh(stored)
        assert stored.usage_count == 0

    async def test_a_forbidden_action_is_403_naming_it(
        self, client: AsyncClient, db: AsyncSession, staff: Staff
    ) -> None:
        # The ticket is the agent's; another agent may note but not move it to IN_PROGRESS.
        ticket = await assigned_ticket(client, staff)
        macro = await make_macro(
            client,
            staff.h["manager"],
            [
                {"type": "comment", "body": "Noted", "is_internal": True},
                {"type": "status", "status": "IN_PROGRESS"},
            ],
            scope="shared",
        )
        answer = await client.post(
            f"{I}/{ticket['id']}/macros/{macro['id']}", headers=staff.h["other_agent"]
        )
        assert answer.status_code == 403, answer.text
        assert answer.json()["action_index"] == 1
        assert await comments(db, ticket["id"]) == []
        # A missing resolution is a 422 naming the action and the field.
        resolve = await make_macro(
            client, staff.h["agent"], [{"type": "status", "status": "RESOLVED"}]
        )
        answer = await client.post(
            f"{I}/{ticket['id']}/macros/{resolve['id']}", headers=staff.h["agent"]
        )
        assert answer.status_code == 422, answer.text
        assert answer.json()["detail"][0]["loc"] == ["body", "actions.0.resolution"]

    async def test_scopes_and_validation(self, client: AsyncClient, staff: Staff) -> None:
        mine = await make_macro(client, staff.h["agent"], [{"type": "priority", "priority": "P1"}])
        ticket = await assigned_ticket(client, staff)
        listed = ok(await client.get(M, headers=staff.h["other_agent"]))["items"]
        assert mine["id"] not in [m["id"] for m in listed]
        h = staff.h["other_agent"]
        answers = [
            await client.post(f"{I}/{ticket['id']}/macros/{mine['id']}", headers=h),
            await client.patch(f"{M}/{mine['id']}", json={"name": "x"}, headers=h),
            await client.delete(f"{M}/{mine['id']}", headers=h),
        ]
        assert [a.status_code for a in answers] == [404, 404, 404]
        bad = [
            [],
            [{"type": "explode"}],
            [{"type": "comment", "is_internal": True}],
            [{"type": "comment", "body": "{{ ''.__class__ }}", "is_internal": True}],
            [{"type": "tags"}],
            [{"type": "assign"}],
            [{"type": "priority", "priority": "P9"}],
        ]
        for actions in bad:
            answer = await client.post(
                M, json={"name": "Bad", "actions": actions}, headers=staff.h["agent"]
            )
            assert answer.status_code == 422, (actions, answer.text)
        shared = await client.post(
            M,
            json={
                "name": "S",
                "actions": [{"type": "priority", "priority": "P1"}],
                "scope": "shared",
            },
            headers=staff.h["agent"],
        )
        assert shared.status_code == 403
        # A shared macro cannot carry someone's personal canned reply.
        personal = ok(
            await client.post(
                "/api/internal/canned-replies",
                json={"title": "p", "body": "personal"},
                headers=staff.h["manager"],
            ),
            201,
        )
        carry = {
            "name": "S",
            "scope": "shared",
            "actions": [
                {"type": "comment", "canned_reply_id": personal["id"], "is_internal": True}
            ],
        }
        answer = await client.post(M, json=carry, headers=staff.h["manager"])
        assert answer.status_code == 409 and answer.json()["action_index"] == 0, answer.text
        # Nor one the author cannot see.
        answer = await client.post(M, json={**carry, "scope": "personal"}, headers=staff.h["agent"])
        assert answer.status_code == 404, answer.text
        renamed = ok(
            await client.patch(
                f"{M}/{mine['id']}", json={"name": "Renamed"}, headers=staff.h["agent"]
            )
        )
        assert renamed["name"] == "Renamed" and renamed["actions"] == mine["actions"]

    async def test_audit_of_macro_changes(
        self, client: AsyncClient, db: AsyncSession, staff: Staff
    ) -> None:
        macro = await make_macro(client, staff.h["agent"], [{"type": "priority", "priority": "P1"}])
        ok(
            await client.patch(
                f"{M}/{macro['id']}",
                json={"actions": [{"type": "priority", "priority": "P2"}]},
                headers=staff.h["agent"],
            )
        )
        assert (
            await client.delete(f"{M}/{macro['id']}", headers=staff.h["agent"])
        ).status_code == 204
        rows = (
            (
                await db.execute(
                    select(AuditLog)
                    .where(AuditLog.entity_id == uuid.UUID(macro["id"]))
                    .order_by(AuditLog.seq)
                )
            )
            .scalars()
            .all()
        )
        assert [r.action for r in rows] == ["macro.created", "macro.updated", "macro.deleted"]
        assert rows[1].new_value == {"actions": [{"type": "priority", "priority": "P2"}]}

    async def test_customers_get_403_and_never_see_macro_or_reply_names(
        self, client: AsyncClient, db: AsyncSession, staff: Staff
    ) -> None:
        ticket = await assigned_ticket(client, staff)
        secret = f"Secret-{uuid.uuid4().hex[:8]}"
        reply = ok(
            await client.post(
                "/api/internal/canned-replies",
                json={
                    "title": f"{secret} reply",
                    "body": "We are on it, {{ customer.first_name }}.",
                },
                headers=staff.h["agent"],
            ),
            201,
        )
        macro = await make_macro(
            client,
            staff.h["agent"],
            [{"type": "comment", "canned_reply_id": reply["id"], "is_internal": False}],
            name=f"{secret} macro",
        )
        ok(await client.post(f"{I}/{ticket['id']}/macros/{macro['id']}", headers=staff.h["agent"]))
        h = staff.h["customer"]
        answers = [
            await client.get(M, headers=h),
            await client.post(
                M,
                json={"name": "x", "actions": [{"type": "priority", "priority": "P1"}]},
                headers=h,
            ),
            await client.patch(f"{M}/{macro['id']}", json={"name": "x"}, headers=h),
            await client.delete(f"{M}/{macro['id']}", headers=h),
            await client.post(f"{I}/{ticket['id']}/macros/{macro['id']}", headers=h),
            await client.post(
                BULK,
                json={
                    "ticket_ids": [ticket["id"]],
                    "action": {"type": "priority", "priority": "P1"},
                },
                headers=h,
            ),
        ]
        assert [a.status_code for a in answers] == [403] * 6
        portal = [
            await client.get(f"/api/tickets/{ticket['id']}", headers=h),
            await client.get("/api/tickets", headers=h),
        ]
        assert [p.status_code for p in portal] == [200, 200]
        assert "We are on it, Ada." in portal[0].text
        for answer in portal:
            assert secret not in answer.text and "macro" not in answer.text.lower()


class TestBulk:
    async def test_per_ticket_results_with_a_mix_of_ok_and_refused(
        self, client: AsyncClient, db: AsyncSession, staff: Staff
    ) -> None:
        first = await assigned_ticket(client, staff)
        new = await open_ticket(client, staff.h["customer"])  # NEW: no public reply yet
        second = await assigned_ticket(client, staff)
        missing = str(uuid.uuid4())
        body = {
            "ticket_ids": [first["id"], new["id"], missing, second["id"], first["id"]],
            "action": {
                "type": "comment",
                "body": "Hello {{ customer.first_name }}",
                "is_internal": False,
            },
        }
        results = ok(await client.post(BULK, json=body, headers=staff.h["agent"]))["results"]
        assert [(r["ticket_id"], r["ok"], r["status_code"]) for r in results] == [
            (first["id"], True, 200),
            (new["id"], False, 409),
            (missing, False, 404),
            (second["id"], True, 200),
        ]
        assert "Accept the ticket" in results[1]["detail"]
        for t in (first, second):
            assert [c.body for c in await comments(db, t["id"])] == ["Hello Ada"]
        assert await comments(db, new["id"]) == []
        summary = (
            await db.execute(
                select(AuditLog).where(
                    AuditLog.action == "tickets.bulk", AuditLog.actor_id == staff.agent.id
                )
            )
        ).scalar_one()
        assert summary.new_value["tickets"] == 4 and summary.new_value["applied"] == 2

    async def test_a_macro_in_bulk_is_all_or_nothing_per_ticket(
        self, client: AsyncClient, db: AsyncSession, staff: Staff
    ) -> None:
        mine = await assigned_ticket(client, staff)
        theirs = await assigned_ticket(client, staff)
        ok(
            await client.post(
                f"{I}/{theirs['id']}/status",
                json={"status": "IN_PROGRESS"},
                headers=staff.h["agent"],
            )
        )
        macro = await make_macro(
            client,
            staff.h["agent"],
            [
                {"type": "comment", "body": "Working on it", "is_internal": True},
                {"type": "status", "status": "IN_PROGRESS"},  # already IN_PROGRESS: 409
            ],
        )
        body = {
            "ticket_ids": [mine["id"], theirs["id"]],
            "action": {"type": "macro", "macro_id": macro["id"]},
        }
        results = ok(await client.post(BULK, json=body, headers=staff.h["agent"]))["results"]
        assert [(r["ok"], r["status_code"]) for r in results] == [(True, 200), (False, 409)]
        assert results[1]["detail"].startswith("Action 2 (status)")
        assert len(await comments(db, mine["id"])) == 1
        assert await comments(db, theirs["id"]) == []
        assert "macro.applied" in await trail(db, mine["id"])
        # The refused ticket's note was undone with its savepoint, and so was its audit entry
        # (the bulk holds the entries back and writes them together at the end).
        assert "macro.applied" not in await trail(db, theirs["id"])
        assert "comment.created" in await trail(db, mine["id"])
        assert "comment.created" not in await trail(db, theirs["id"])
        stored = await db.get(Macro, uuid.UUID(macro["id"]))
        assert stored is not None
        await db.refresh(stored)
        assert stored.usage_count == 1
        unknown = {
            "ticket_ids": [mine["id"]],
            "action": {"type": "macro", "macro_id": str(uuid.uuid4())},
        }
        assert (await client.post(BULK, json=unknown, headers=staff.h["agent"])).status_code == 404

    async def test_more_than_1000_tickets_is_422(self, client: AsyncClient, staff: Staff) -> None:
        action = {"type": "priority", "priority": "P1"}
        for ids in ([], [str(uuid.uuid4()) for _ in range(1001)]):
            answer = await client.post(
                BULK, json={"ticket_ids": ids, "action": action}, headers=staff.h["agent"]
            )
            assert answer.status_code == 422, answer.text
            assert answer.json()["detail"][0]["loc"] == ["body", "ticket_ids"]

    @pytest.mark.parametrize("n", [1000])
    async def test_1000_tickets_take_a_bounded_number_of_statements_each(
        self,
        client: AsyncClient,
        db: AsyncSession,
        connection: AsyncConnection,
        staff: Staff,
        n: int,
    ) -> None:
        now = utcnow()
        ids = [uuid.uuid4() for _ in range(n)]
        await db.execute(
            insert(Ticket),
            [
                {
                    "id": tid,
                    "org_id": staff.org.id,
                    "created_by": staff.customer.id,
                    "accepted_by": staff.manager.id,
                    "accepted_at": now,
                    "assigned_to": staff.agent.id,
                    "status": "IN_PROGRESS",
                    "priority": "P3",
                    "title": f"Bulk {i}",
                    "description": "Bulk",
                    "created_at": now - timedelta(seconds=i),
                    "updated_at": now,
                }
                for i, tid in enumerate(ids)
            ],
        )
        macro = await make_macro(
            client,
            staff.h["agent"],
            [
                {
                    "type": "comment",
                    "body": "Bulk note for #{{ ticket.number }}",
                    "is_internal": True,
                },
                {"type": "tags", "add": ["bulk"]},
            ],
        )
        body = {
            "ticket_ids": [str(t) for t in ids],
            "action": {"type": "macro", "macro_id": macro["id"]},
        }
        statements: list[str] = []
        sync = connection.sync_connection
        assert sync is not None

        def count(*args: Any) -> None:
            statements.append(args[2])

        event.listen(sync, "before_cursor_execute", count)
        started = time.perf_counter()
        try:
            answer = await client.post(BULK, json=body, headers=staff.h["agent"])
        finally:
            elapsed = time.perf_counter() - started
            event.remove(sync, "before_cursor_execute", count)
        results = ok(answer)["results"]
        per_ticket = len(statements) / n
        print(
            f"\nbulk: {n} tickets (macro: note + tag) in {elapsed:.2f} s, {per_ticket:.1f}/ticket"
        )
        # SAVEPOINT and RELEASE; the note: lock and insert with the ticket's update, recipients,
        # pending mails, their upsert; the tag: update_fields' lock with the current names, the
        # tags created and linked in one statement (the ticket's updated_at is the note's). The
        # audit entries are held back and written once at the end, to the driver directly.
        assert per_ticket <= 8.1, per_ticket
        assert all(r["ok"] for r in results), [r for r in results if not r["ok"]][:3]
        # The time is make bench's to judge ("bulk macro, 1,000 tickets"); here the structure.
        notes = await db.scalar(
            select(func.count()).select_from(TicketComment).where(TicketComment.ticket_id.in_(ids))
        )
        assert notes == n
