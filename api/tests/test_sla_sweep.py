"""The SLA breach sweep (services.tickets.sweep_breaches): marks each breach once with the sweep's
time, audits it once as sla.breached by nobody, skips paused, met and not-workable tickets, and
stays exactly-once when several sweeps run at the same time.

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
from sqlalchemy import func, insert, select, text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, create_async_engine

from app.db.embedded import to_async_url
from app.models import AuditLog, Organization, Ticket, User
from app.models.enums import Role
from app.models.enums import TicketStatus as S
from app.services.tickets import sweep_breaches
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
    responded: datetime | None = None,
    paused_at: datetime | None = None,
    resolved_at: datetime | None = None,
) -> dict[str, Any]:
    return {
        "id": uuid.uuid4(),
        "org_id": org_id,
        "created_by": creator_id,
        "status": status.value,
        "priority": "P2",
        "title": f"Sweep {uuid.uuid4().hex[:8]}",
        "description": "Past due.",
        "created_at": ACCEPTED_AT,
        "updated_at": ACCEPTED_AT,
        "accepted_at": ACCEPTED_AT if status is not S.NEW else None,
        "sla_first_response_due_at": first_due,
        "sla_resolution_due_at": resolution_due,
        "first_responded_at": responded,
        "sla_paused_at": paused_at,
        "resolved_at": resolved_at,
    }


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
        ticket_id = await desk.ticket(first_due=minutes(-1), resolution_due=minutes(60))

        assert ticket_id in await sweep_breaches(db, NOW)
        assert await breaches_of(db, ticket_id) == (NOW, None)
        [entry] = await breach_audits(db, ticket_id)
        assert entry.actor_id is None
        assert (entry.entity_type, entry.entity_id, entry.org_id) == (
            "ticket",
            ticket_id,
            desk.org.id,
        )
        assert entry.new_value is not None and entry.new_value["sla"] == "first_response"
        assert datetime.fromisoformat(entry.new_value["breached_at"]) == NOW

        assert ticket_id not in await sweep_breaches(db, minutes(30))
        assert await breaches_of(db, ticket_id) == (NOW, None)
        assert len(await breach_audits(db, ticket_id)) == 1

    async def test_the_resolution_breach_is_marked_later_and_separately(
        self, db: AsyncSession, desk: Desk
    ) -> None:
        ticket_id = await desk.ticket(first_due=minutes(-1), resolution_due=minutes(60))
        await sweep_breaches(db, NOW)
        assert ticket_id in await sweep_breaches(db, minutes(61))
        assert await breaches_of(db, ticket_id) == (NOW, minutes(61))
        kinds = [e.new_value["sla"] for e in await breach_audits(db, ticket_id) if e.new_value]
        assert kinds == ["first_response", "resolution"]

    async def test_due_is_not_a_breach_until_strictly_past(
        self, db: AsyncSession, desk: Desk
    ) -> None:
        ticket_id = await desk.ticket(first_due=NOW, resolution_due=NOW)
        assert ticket_id not in await sweep_breaches(db, NOW)
        assert await breaches_of(db, ticket_id) == (None, None)
        assert ticket_id in await sweep_breaches(db, NOW + timedelta(microseconds=1))

    async def test_a_paused_ticket_past_due_is_not_marked(
        self, db: AsyncSession, desk: Desk
    ) -> None:
        ticket_id = await desk.ticket(
            status=S.WAITING_CUSTOMER,
            first_due=minutes(-100),
            resolution_due=minutes(-50),
            paused_at=minutes(-200),
        )
        assert ticket_id not in await sweep_breaches(db, NOW)
        assert await breaches_of(db, ticket_id) == (None, None)
        assert await breach_audits(db, ticket_id) == []

    async def test_a_responded_ticket_is_only_marked_for_resolution(
        self, db: AsyncSession, desk: Desk
    ) -> None:
        within = await desk.ticket(
            first_due=minutes(-100), resolution_due=minutes(10), responded=minutes(-500)
        )
        overdue = await desk.ticket(
            first_due=minutes(-100), resolution_due=minutes(-1), responded=minutes(-90)
        )

        swept = await sweep_breaches(db, NOW)
        assert within not in swept
        assert await breaches_of(db, within) == (None, None)
        assert await breach_audits(db, within) == []
        assert swept.count(overdue) == 1
        assert await breaches_of(db, overdue) == (None, NOW)
        [entry] = await breach_audits(db, overdue)
        assert entry.new_value is not None and entry.new_value["sla"] == "resolution"

    @pytest.mark.parametrize("status", [S.ACCEPTED, S.ASSIGNED, S.IN_PROGRESS])
    async def test_every_workable_status_is_swept(
        self, db: AsyncSession, desk: Desk, status: S
    ) -> None:
        ticket_id = await desk.ticket(
            status=status, first_due=minutes(-2), resolution_due=minutes(-1)
        )
        assert (await sweep_breaches(db, NOW)).count(ticket_id) == 2
        assert await breaches_of(db, ticket_id) == (NOW, NOW)
        assert len(await breach_audits(db, ticket_id)) == 2

    @pytest.mark.parametrize(
        ("status", "resolved"),
        [(S.NEW, False), (S.CANCELLED, False), (S.RESOLVED, True), (S.CLOSED, True)],
    )
    async def test_tickets_not_being_worked_are_never_marked(
        self, db: AsyncSession, desk: Desk, status: S, resolved: bool
    ) -> None:
        ticket_id = await desk.ticket(
            status=status,
            first_due=minutes(-100),
            resolution_due=minutes(-50),
            resolved_at=minutes(-60) if resolved else None,
        )
        assert ticket_id not in await sweep_breaches(db, minutes(10**4))
        assert await breaches_of(db, ticket_id) == (None, None)
        assert await breach_audits(db, ticket_id) == []

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


# ------------------------------------------------------------------ concurrent sweeps


@pytest.fixture
async def engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    engine = create_async_engine(to_async_url(database_url))
    try:
        yield engine
    finally:
        await engine.dispose()


async def committed_tickets(engine: AsyncEngine, count: int) -> list[uuid.UUID]:
    """Committed, fully overdue tickets (both clocks), so every later sweep finds them marked."""
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
        rows = [
            ticket_values(
                org_id, user_id, first_due=minutes(-30 - i), resolution_due=minutes(-1 - i)
            )
            for i in range(count)
        ]
        await conn.execute(insert(Ticket).values(rows))
    return [row["id"] for row in rows]


async def audit_counts(engine: AsyncEngine, ids: list[uuid.UUID]) -> dict[tuple[Any, str], int]:
    async with engine.connect() as conn:
        rows = await conn.execute(
            select(AuditLog.ticket_id, AuditLog.new_value).where(
                AuditLog.ticket_id.in_(ids), AuditLog.action == "sla.breached"
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
        assert {(row[1], row[2]) for row in await marks(engine, ids)} == {(NOW, NOW)}
        assert set((await audit_counts(engine, ids)).values()) == {1}
        assert len(await audit_counts(engine, ids)) == 2 * len(ids)
