"""The SLA sweep (services/sla_sweep.sweep, SLA_CALENDARS.md R9): finds due breaches, warnings
and escalations through partial indexes on the stored instants, records each once (a breach at
the instant the budget ran out), audits it once by nobody, mails it once, and stays exactly-once
when several sweeps run at the same time. Which tickets have a due or warning time at all (none
while paused or done) is the clocks' business: tests/test_sla.py.

Due times lie in 2002, long before anything other tests create with the real clock, so a sweep
here never reaches another test's tickets."""

from __future__ import annotations

import asyncio
import uuid
from collections import Counter
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi import FastAPI
from httpx import AsyncClient
from sqlalchemy import func, insert, select, text, update
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, create_async_engine

from app.db.embedded import to_async_url
from app.models import (
    AuditLog,
    Organization,
    OutboxMessage,
    SlaPolicy,
    Team,
    TeamMember,
    Ticket,
    User,
)
from app.models.enums import Role
from app.models.enums import TicketStatus as S
from app.services import sla_sweep
from app.utils.clock import get_now
from tests.factories import make_actor, make_org, make_user

NOW = datetime(2002, 6, 1, 12, 0, tzinfo=UTC)
ACCEPTED_AT = NOW - timedelta(days=2)


def minutes(n: float) -> datetime:
    return NOW + timedelta(minutes=n)


def ticket_values(
    org_id: uuid.UUID,
    creator_id: uuid.UUID,
    *,
    status: S = S.IN_PROGRESS,
    first_due: datetime | None = None,
    resolution_due: datetime | None = None,
    first_warn: datetime | None = None,
    resolution_warn: datetime | None = None,
    responded: datetime | None = None,
    assigned_to: uuid.UUID | None = None,
    priority: str = "P2",
) -> dict[str, Any]:
    return {
        "id": uuid.uuid4(),
        "org_id": org_id,
        "created_by": creator_id,
        "status": status.value,
        "priority": priority,
        "title": f"Sweep {uuid.uuid4().hex[:8]}",
        "description": "Past due.",
        "created_at": ACCEPTED_AT,
        "updated_at": ACCEPTED_AT,
        "accepted_at": ACCEPTED_AT if status is not S.NEW else None,
        "sla_first_response_due_at": first_due,
        "sla_resolution_due_at": resolution_due,
        "sla_first_response_warn_at": first_warn,
        "sla_resolution_warn_at": resolution_warn,
        "sla_running_since": ACCEPTED_AT,
        "sla_first_response_target_s": 3600,
        "sla_resolution_target_s": 36000,
        "first_responded_at": responded,
        "assigned_to": assigned_to,
    }


async def sweep_breaches(session: AsyncSession, now: datetime) -> list[uuid.UUID]:
    return [ticket_id for ticket_id, _ in (await sla_sweep.sweep(session, now)).breached]


class Desk:
    """An organization with a customer, for tickets inserted straight into the database."""

    def __init__(self, db: AsyncSession, org: Organization, customer: User) -> None:
        self.db, self.org, self.customer = db, org, customer

    async def ticket(self, **fields: Any) -> uuid.UUID:
        values = ticket_values(self.org.id, self.customer.id, **fields)
        await self.db.execute(insert(Ticket).values(values))
        ticket_id: uuid.UUID = values["id"]
        return ticket_id


@pytest.fixture
async def desk(db: AsyncSession) -> Desk:
    org = await make_org(db)
    return Desk(db, org, await make_user(db, role=Role.CUSTOMER_USER, org=org))


async def breaches_of(session: AsyncSession, ticket_id: uuid.UUID) -> tuple[Any, Any]:
    row = (
        await session.execute(
            select(Ticket.sla_first_response_breached_at, Ticket.sla_resolution_breached_at).where(
                Ticket.id == ticket_id
            )
        )
    ).one()
    return row[0], row[1]


async def audits(session: AsyncSession, ticket_id: uuid.UUID, action: str) -> list[AuditLog]:
    rows = await session.execute(
        select(AuditLog)
        .where(AuditLog.ticket_id == ticket_id, AuditLog.action == action)
        .order_by(AuditLog.created_at, AuditLog.id)
    )
    return list(rows.scalars())


async def mails(session: AsyncSession, ticket_id: uuid.UUID, template: str) -> list[str]:
    rows = await session.execute(
        select(OutboxMessage.recipient_email).where(
            OutboxMessage.ticket_id == ticket_id, OutboxMessage.template == template
        )
    )
    return sorted(r[0] for r in rows)


async def breach_audits(session: AsyncSession, ticket_id: uuid.UUID) -> list[AuditLog]:
    rows = await session.execute(
        select(AuditLog)
        .where(AuditLog.ticket_id == ticket_id, AuditLog.action == "sla.breached")
        .order_by(AuditLog.seq)
    )
    return list(rows.scalars())


class TestSweep:
    async def test_an_unanswered_ticket_past_its_first_response_due_is_marked_once(
        self, db: AsyncSession, desk: Desk
    ) -> None:
        due = minutes(-1)
        ticket_id = await desk.ticket(first_due=due, resolution_due=minutes(60))

        assert ticket_id in await sweep_breaches(db, NOW)
        # The breach is when the budget ran out, not when the sweep saw it.
        assert await breaches_of(db, ticket_id) == (due, None)
        [entry] = await breach_audits(db, ticket_id)
        assert entry.actor_id is None
        assert (entry.entity_type, entry.entity_id, entry.org_id) == (
            "ticket",
            ticket_id,
            desk.org.id,
        )
        assert entry.new_value is not None and entry.new_value["sla"] == "first_response"
        assert datetime.fromisoformat(entry.new_value["breached_at"]) == due

        assert ticket_id not in await sweep_breaches(db, minutes(30))
        assert await breaches_of(db, ticket_id) == (due, None)
        assert len(await breach_audits(db, ticket_id)) == 1

    async def test_the_resolution_breach_is_marked_later_and_separately(
        self, db: AsyncSession, desk: Desk
    ) -> None:
        ticket_id = await desk.ticket(first_due=minutes(-1), resolution_due=minutes(60))
        await sweep_breaches(db, NOW)
        assert ticket_id not in await sweep_breaches(db, minutes(59))
        assert ticket_id in await sweep_breaches(db, minutes(61))
        assert await breaches_of(db, ticket_id) == (minutes(-1), minutes(60))
        kinds = [e.new_value["sla"] for e in await breach_audits(db, ticket_id) if e.new_value]
        assert kinds == ["first_response", "resolution"]

    async def test_a_due_time_is_a_breach_at_that_very_instant(
        self, db: AsyncSession, desk: Desk
    ) -> None:
        ticket_id = await desk.ticket(first_due=NOW, resolution_due=NOW + timedelta(seconds=1))
        assert ticket_id not in await sweep_breaches(db, NOW - timedelta(microseconds=1))
        assert await breaches_of(db, ticket_id) == (None, None)
        assert (await sweep_breaches(db, NOW)).count(ticket_id) == 1
        assert await breaches_of(db, ticket_id) == (NOW, None)

    async def test_a_clock_without_a_due_time_is_never_marked(
        self, db: AsyncSession, desk: Desk
    ) -> None:
        # Paused, done or not accepted: the clocks store no due time (tests/test_sla.py).
        ticket_id = await desk.ticket(status=S.WAITING_CUSTOMER)
        assert ticket_id not in await sweep_breaches(db, minutes(10**6))
        assert await breach_audits(db, ticket_id) == []

    async def test_a_breach_mails_the_assignee_and_the_managers_once(
        self, db: AsyncSession, desk: Desk
    ) -> None:
        agent = await make_user(db, role=Role.AGENT)
        manager = await make_user(db, role=Role.MANAGER)
        ticket_id = await desk.ticket(
            first_due=minutes(-1), resolution_due=minutes(60), assigned_to=agent.id
        )
        await sla_sweep.sweep(db, NOW)
        await sla_sweep.sweep(db, NOW + timedelta(seconds=30))
        sent = await mails(db, ticket_id, "sla_breached")
        assert agent.email in sent and manager.email in sent
        assert sent.count(agent.email) == 1 and sent.count(manager.email) == 1
        assert desk.customer.email not in sent

    async def test_the_breached_filter_lists_swept_tickets(
        self, app: FastAPI, client: AsyncClient, db: AsyncSession, desk: Desk
    ) -> None:
        agent = await make_actor(db, client, role=Role.AGENT)
        breached = await desk.ticket(first_due=minutes(-1), resolution_due=minutes(60))
        healthy = await desk.ticket(first_due=minutes(5), resolution_due=minutes(60))

        async def listed(flag: str) -> set[str]:
            response = await client.get(
                "/api/internal/tickets",
                params={"breached": flag, "org_id": str(desk.org.id)},
                headers=agent.headers,
            )
            assert response.status_code == 200, response.text
            return {item["id"] for item in response.json()["items"]}

        assert await listed("true") == set()
        await sweep_breaches(db, NOW)
        assert await listed("true") == {str(breached)}
        assert await listed("false") == {str(healthy)}

        app.dependency_overrides[get_now] = lambda: NOW
        try:
            detail = await client.get(f"/api/internal/tickets/{breached}", headers=agent.headers)
        finally:
            app.dependency_overrides.pop(get_now, None)
        assert detail.json()["sla"]["first_response_breached"] is True
        assert detail.json()["sla"]["resolution_breached"] is False


class TestWarnings:
    async def test_a_warning_mails_the_assignee_once_per_clock(
        self, db: AsyncSession, desk: Desk
    ) -> None:
        agent = await make_user(db, role=Role.AGENT)
        ticket_id = await desk.ticket(
            first_due=minutes(10),
            first_warn=minutes(-1),
            resolution_due=minutes(600),
            resolution_warn=minutes(480),
            assigned_to=agent.id,
        )
        first = await sla_sweep.sweep(db, NOW)
        assert (ticket_id, "first_response") in first.warned
        assert (ticket_id, "resolution") not in first.warned
        again = await sla_sweep.sweep(db, minutes(5))
        assert all(t != ticket_id for t, _ in again.warned)
        assert await mails(db, ticket_id, "sla_warning") == [agent.email]
        [entry] = await audits(db, ticket_id, "sla.warning")
        assert entry.actor_id is None and entry.new_value is not None
        assert entry.new_value["sla"] == "first_response"

        later = await sla_sweep.sweep(db, minutes(480))
        assert (ticket_id, "resolution") in later.warned
        assert await mails(db, ticket_id, "sla_warning") == [agent.email, agent.email]
        assert await breaches_of(db, ticket_id) == (minutes(10), None)

    async def test_an_unassigned_ticket_warns_the_managers(
        self, db: AsyncSession, desk: Desk
    ) -> None:
        manager = await make_user(db, role=Role.MANAGER)
        ticket_id = await desk.ticket(first_due=minutes(10), first_warn=minutes(-1))
        await sla_sweep.sweep(db, NOW)
        assert manager.email in await mails(db, ticket_id, "sla_warning")

    async def test_a_breach_found_first_makes_its_warning_moot(
        self, db: AsyncSession, desk: Desk
    ) -> None:
        # The worker was down through both instants: one breach mail, no warning after it.
        ticket_id = await desk.ticket(first_due=minutes(-5), first_warn=minutes(-20))
        swept = await sla_sweep.sweep(db, NOW)
        assert swept.breached == [(ticket_id, "first_response")]
        assert [w for w in swept.warned if w[0] == ticket_id] == []
        assert await mails(db, ticket_id, "sla_warning") == []


class TestEscalation:
    async def test_a_breach_escalates_to_the_policys_user_and_team_after_business_time(
        self, db: AsyncSession, desk: Desk
    ) -> None:
        lead = await make_user(db, role=Role.MANAGER)
        member = await make_user(db, role=Role.AGENT)
        team = Team(id=uuid.uuid4(), name=f"Escalations {uuid.uuid4().hex[:6]}")
        db.add(team)
        await db.flush()
        db.add(TeamMember(team_id=team.id, user_id=member.id))
        db.add(
            SlaPolicy(
                org_id=desk.org.id,
                priority="P2",
                first_response_minutes=60,
                resolution_minutes=600,
                escalate_after_minutes=120,
                escalate_to_user_id=lead.id,
                escalate_to_team_id=team.id,
            )
        )
        await db.flush()
        ticket_id = await desk.ticket(first_due=minutes(-1), resolution_due=minutes(600))
        await sla_sweep.sweep(db, NOW)
        escalate_at = (
            await db.execute(select(Ticket.sla_escalate_at).where(Ticket.id == ticket_id))
        ).scalar_one()
        # No calendar: two hours after the breach instant.
        assert escalate_at == minutes(-1) + timedelta(minutes=120)

        assert (await sla_sweep.sweep(db, minutes(118))).escalated == []
        assert (await sla_sweep.sweep(db, minutes(119))).escalated == [ticket_id]
        assert (await sla_sweep.sweep(db, minutes(500))).escalated == []
        assert await mails(db, ticket_id, "sla_escalated") == sorted([lead.email, member.email])
        [entry] = await audits(db, ticket_id, "sla.escalated")
        assert entry.new_value is not None
        assert entry.new_value["to_team_id"] == str(team.id)

    async def test_no_escalation_while_waiting_for_the_customer(
        self, db: AsyncSession, desk: Desk
    ) -> None:
        lead = await make_user(db, role=Role.MANAGER)
        db.add(
            SlaPolicy(
                org_id=desk.org.id,
                priority="P2",
                first_response_minutes=60,
                resolution_minutes=600,
                escalate_after_minutes=30,
                escalate_to_user_id=lead.id,
            )
        )
        await db.flush()
        ticket_id = await desk.ticket(first_due=minutes(-1), resolution_due=minutes(600))
        await sla_sweep.sweep(db, NOW)
        await db.execute(
            update(Ticket).where(Ticket.id == ticket_id).values(sla_paused_at=minutes(1))
        )
        assert (await sla_sweep.sweep(db, minutes(60))).escalated == []
        await db.execute(update(Ticket).where(Ticket.id == ticket_id).values(sla_paused_at=None))
        assert (await sla_sweep.sweep(db, minutes(61))).escalated == [ticket_id]

    async def test_without_an_escalation_policy_nothing_is_planned(
        self, db: AsyncSession, desk: Desk
    ) -> None:
        ticket_id = await desk.ticket(first_due=minutes(-1), resolution_due=minutes(600))
        await sla_sweep.sweep(db, NOW)
        escalate_at = (
            await db.execute(select(Ticket.sla_escalate_at).where(Ticket.id == ticket_id))
        ).scalar_one()
        assert escalate_at is None


# ------------------------------------------------------------------ concurrent sweeps


@pytest.fixture
async def engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    engine = create_async_engine(to_async_url(database_url))
    try:
        yield engine
    finally:
        await engine.dispose()


async def committed_tickets(
    engine: AsyncEngine, count: int, *, warn_only: bool = False
) -> list[uuid.UUID]:
    """Committed, fully overdue tickets (both clocks), so every later sweep finds them marked;
    *warn_only*: past their warning time, due far later (2002 is long gone for real clocks,
    so later sweeps find them warned)."""
    org_id, user_id = uuid.uuid4(), uuid.uuid4()
    async with engine.begin() as conn:
        await conn.execute(
            insert(Organization).values(id=org_id, name=f"Sweep {org_id.hex}", status="active")
        )
        await conn.execute(
            insert(User).values(
                id=user_id,
                email=f"sweep-{user_id.hex}@example.test",
                name="Sweep Customer",
                role=Role.CUSTOMER_USER.value,
                org_id=org_id,
                password_hash="not-a-hash",
            )
        )
        agent_id = uuid.uuid4()
        await conn.execute(
            insert(User).values(
                id=agent_id,
                email=f"sweep-agent-{agent_id.hex}@example.test",
                name="Sweep Agent",
                role=Role.AGENT.value,
                password_hash="not-a-hash",
            )
        )
        rows = [
            ticket_values(
                org_id,
                user_id,
                first_due=minutes(-30 - i),
                resolution_due=minutes(-1 - i),
                first_warn=minutes(-40 - i),
            )
            if not warn_only
            else ticket_values(
                org_id,
                user_id,
                assigned_to=agent_id,
                first_due=minutes(10**5),
                resolution_due=minutes(10**6),
                first_warn=minutes(-1 - i),
                resolution_warn=minutes(-2 - i),
            )
            for i in range(count)
        ]
        await conn.execute(insert(Ticket).values(rows))
    return [row["id"] for row in rows]


async def audit_counts(
    engine: AsyncEngine, ids: list[uuid.UUID], action: str = "sla.breached"
) -> dict[tuple[Any, str], int]:
    async with engine.connect() as conn:
        rows = await conn.execute(
            select(AuditLog.ticket_id, AuditLog.new_value).where(
                AuditLog.ticket_id.in_(ids), AuditLog.action == action
            )
        )
        return dict(Counter((ticket_id, value["sla"]) for ticket_id, value in rows.all()))


async def marks(engine: AsyncEngine, ids: list[uuid.UUID]) -> set[tuple[Any, Any, Any]]:
    async with engine.connect() as conn:
        rows = await conn.execute(
            select(
                Ticket.id,
                Ticket.sla_first_response_breached_at,
                Ticket.sla_resolution_breached_at,
            ).where(Ticket.id.in_(ids))
        )
        return {tuple(row) for row in rows.all()}


async def sweep_and_commit(engine: AsyncEngine, now: datetime) -> list[uuid.UUID]:
    """One sweep in its own transaction: the ids it breached (a ticket per clock)."""
    async with AsyncSession(engine, expire_on_commit=False) as session:
        swept = await sweep_breaches(session, now)
        await session.commit()
        return swept


async def backend_pid(session: AsyncSession) -> int:
    pid: int = (await session.execute(select(func.pg_backend_pid()))).scalar_one()
    return pid


async def wait_until_blocked(engine: AsyncEngine, pid: int) -> None:
    """Poll (bounded) until backend *pid* waits for a lock another backend holds."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + 10
    async with engine.connect() as conn:
        while loop.time() < deadline:
            blockers = await conn.execute(text("SELECT pg_blocking_pids(:pid)"), {"pid": pid})
            if blockers.scalar_one():
                return
            await asyncio.sleep(0.01)
    raise AssertionError("the second sweep never waited for the first one's row locks")


class TestConcurrentSweeps:
    async def test_two_sweeps_at_once_mark_and_audit_each_breach_once(
        self, engine: AsyncEngine
    ) -> None:
        ids = await committed_tickets(engine, 6)
        first, second = await asyncio.gather(
            sweep_and_commit(engine, NOW), sweep_and_commit(engine, NOW + timedelta(seconds=1))
        )
        mine = set(ids)
        swept = [t for t in first + second if t in mine]
        assert sorted(swept) == sorted(ids * 2)

        stamped = await marks(engine, ids)
        assert {row[0] for row in stamped} == mine
        for _, first_at, resolution_at in stamped:
            assert first_at is not None and resolution_at is not None
        assert await audit_counts(engine, ids) == {
            (t, kind): 1 for t in ids for kind in ("first_response", "resolution")
        }

    async def test_a_sweep_blocked_by_another_marks_nothing_twice(
        self, engine: AsyncEngine
    ) -> None:
        ids = await committed_tickets(engine, 3)
        async with (
            AsyncSession(engine, expire_on_commit=False) as holder,
            AsyncSession(engine, expire_on_commit=False) as waiter,
        ):
            waiter_pid = await backend_pid(waiter)
            held = await sweep_breaches(holder, NOW)
            blocked = asyncio.create_task(sweep_breaches(waiter, NOW + timedelta(seconds=5)))
            try:
                await wait_until_blocked(engine, waiter_pid)
            finally:
                await holder.commit()
            late = await blocked
            await waiter.commit()

        assert sorted(t for t in held if t in set(ids)) == sorted(ids * 2)
        assert [t for t in late if t in set(ids)] == []
        assert {(row[0], row[1], row[2]) for row in await marks(engine, ids)} == {
            (t, minutes(-30 - i), minutes(-1 - i)) for i, t in enumerate(ids)
        }
        assert set((await audit_counts(engine, ids)).values()) == {1}
        assert len(await audit_counts(engine, ids)) == 2 * len(ids)

    async def test_two_sweeps_at_once_send_each_warning_once(self, engine: AsyncEngine) -> None:
        ids = await committed_tickets(engine, 5, warn_only=True)
        try:
            await self._warn_twice(engine, ids)
        finally:
            # Committed clocks still running would be due for every later sweep of the suite.
            async with engine.begin() as conn:
                await conn.execute(
                    update(Ticket)
                    .where(Ticket.id.in_(ids))
                    .values(
                        status=S.CLOSED.value,
                        sla_running_since=None,
                        sla_first_response_due_at=None,
                        sla_resolution_due_at=None,
                        sla_next_due_at=None,
                    )
                )

    async def _warn_twice(self, engine: AsyncEngine, ids: list[uuid.UUID]) -> None:

        async def warned(now: datetime) -> list[tuple[uuid.UUID, str]]:
            async with AsyncSession(engine, expire_on_commit=False) as session:
                swept = await sla_sweep.sweep(session, now)
                await session.commit()
                return [w for w in swept.warned if w[0] in set(ids)]

        first, second = await asyncio.gather(warned(NOW), warned(NOW + timedelta(seconds=1)))
        assert sorted(first + second) == sorted(
            (t, kind) for t in ids for kind in ("first_response", "resolution")
        )
        assert await audit_counts(engine, ids, "sla.warning") == {
            (t, kind): 1 for t in ids for kind in ("first_response", "resolution")
        }
        assert await audit_counts(engine, ids) == {}
        async with engine.connect() as conn:
            sent = await conn.execute(
                select(func.count())
                .select_from(OutboxMessage)
                .where(OutboxMessage.ticket_id.in_(ids), OutboxMessage.template == "sla_warning")
            )
            # One mail per warning, to the assignee.
            assert sent.scalar_one() == 2 * len(ids)
