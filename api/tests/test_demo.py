"""The demo data of `make run` (app/demo.py, app/demo_tickets.py) on a database of its own: a
day of tickets in every state, made through the services, so no first screen is empty."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from datetime import timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, create_async_engine

from app.db.embedded import to_async_url
from app.demo import seed
from app.demo_tickets import STORIES
from app.models import (
    AuditLog,
    Organization,
    OutboxMessage,
    Ticket,
    TicketCc,
    TicketComment,
    TicketTag,
)
from app.models.enums import TicketStatus as S
from app.utils.clock import utcnow
from tests.test_schemathesis import create_database, drop_database


@pytest.fixture(scope="module")
async def demo(server_url: str) -> AsyncIterator[tuple[AsyncEngine, float]]:
    url = await create_database(server_url, "atum_demo")
    engine = create_async_engine(to_async_url(url))
    try:
        started = time.monotonic()
        async with AsyncSession(engine) as session, session.begin():
            assert await seed(session) is not None
        yield engine, time.monotonic() - started
    finally:
        await engine.dispose()
        await drop_database(url)


async def scalar(engine: AsyncEngine, stmt: object) -> object:
    async with AsyncSession(engine) as session:
        return (await session.execute(stmt)).scalar_one()  # type: ignore[call-overload]


async def test_every_state_has_tickets_of_both_organizations(
    demo: tuple[AsyncEngine, float],
) -> None:
    engine, seconds = demo
    assert seconds < 10, f"seeding took {seconds:.1f} s"
    async with AsyncSession(engine) as session:
        rows = (
            await session.execute(
                select(Ticket.status, Ticket.channel, Organization.name, Organization.id).join(
                    Organization, Organization.id == Ticket.org_id
                )
            )
        ).all()
    assert len(rows) == len(STORIES) >= 30
    assert {r.status for r in rows} == {s.value for s in S}
    assert {r.channel for r in rows} == {"portal", "email", "phone"}
    assert {r.name for r in rows} == {"Acme Corp", "Globex"}


async def test_the_day_looks_lived_in(demo: tuple[AsyncEngine, float]) -> None:
    engine, _ = demo
    now = utcnow()
    async with AsyncSession(engine) as session:
        created = (await session.execute(select(Ticket.created_at))).scalars().all()
        assert min(created) < now - timedelta(hours=20)
        assert max(created) > now - timedelta(hours=1)
        assert all(c <= now for c in created)
        comments = (await session.execute(select(TicketComment.is_internal))).scalars().all()
        assert set(comments) == {True, False}, "the day has public replies and internal notes"
        assert (await session.execute(select(func.count()).select_from(TicketTag))).scalar_one()
        assert (await session.execute(select(func.count()).select_from(TicketCc))).scalar_one()
        teams = (await session.execute(select(Ticket.assigned_team_id))).scalars().all()
        assert len({t for t in teams if t is not None}) >= 2
        breached = await session.execute(
            select(func.count()).where(Ticket.sla_resolution_breached_at.is_not(None))
        )
        assert breached.scalar_one() >= 1
        due_soon = await session.execute(
            select(func.count()).where(
                Ticket.status.in_(["ASSIGNED", "IN_PROGRESS"]),
                Ticket.sla_resolution_breached_at.is_(None),
                Ticket.sla_resolution_due_at < now + timedelta(hours=4),
            )
        )
        assert due_soon.scalar_one() >= 1
        visibility = (
            await session.execute(
                select(Organization.portal_visibility).where(Organization.name == "Globex")
            )
        ).scalar_one()
        assert visibility == "own"


async def test_it_went_through_the_services_and_mailed_nobody(
    demo: tuple[AsyncEngine, float],
) -> None:
    engine, _ = demo
    async with AsyncSession(engine) as session:
        actions = set((await session.execute(select(AuditLog.action).distinct())).scalars().all())
        assert {
            "ticket.created",
            "ticket.accepted",
            "ticket.assigned",
            "ticket.status_changed",
            "ticket.cc_changed",
            "sla.breached",
        } <= actions, actions
        mails = await session.execute(select(func.count()).select_from(OutboxMessage))
        assert mails.scalar_one() == 0


async def test_a_second_run_loads_nothing(demo: tuple[AsyncEngine, float]) -> None:
    engine, _ = demo
    async with AsyncSession(engine) as session, session.begin():
        assert await seed(session) is None
    assert await scalar(engine, select(func.count()).select_from(Ticket)) == len(STORIES)
