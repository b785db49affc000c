"""Races between real, concurrent transactions: two managers accepting the same ticket, two
customers answering the same waiting ticket.

These cannot run inside the rolled-back test transaction (one connection cannot race itself), so
the data is committed through a separate engine under unique names, and the requests go through the
application's own session dependency: no ``client`` fixture, no dependency override.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import timedelta

import pytest
from fastapi import FastAPI
from httpx import ASGITransport, AsyncClient, Response
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, create_async_engine
from sqlalchemy.pool import NullPool

from app.db.embedded import to_async_url
from app.models import AuditLog, Organization, OutboxMessage, Ticket, User
from app.models.enums import Role
from app.models.enums import TicketStatus as S
from app.services import sla, workflow
from app.utils.clock import utcnow
from tests.factories import PASSWORD, make_org, make_user

ROUNDS = 5


@dataclass
class Caller:
    user: User
    headers: dict[str, str]


@pytest.fixture
async def engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    engine = create_async_engine(to_async_url(database_url), poolclass=NullPool)
    try:
        yield engine
    finally:
        await engine.dispose()


@pytest.fixture
async def live_client(app: FastAPI) -> AsyncIterator[AsyncClient]:
    """The app exactly as it runs: every request in its own committed transaction."""
    if app.dependency_overrides:
        pytest.fail(
            "app.dependency_overrides is not empty "
            f"({list(app.dependency_overrides)}): a previous test leaked an override, "
            "so these requests would not run in transactions of their own"
        )
    async with AsyncClient(transport=ASGITransport(app=app), base_url="http://testserver") as c:
        yield c


async def sign_in(client: AsyncClient, user: User) -> Caller:
    response = await client.post(
        "/api/auth/login", json={"email": user.email, "password": PASSWORD}
    )
    assert response.status_code == 200, response.text
    return Caller(user, {"Authorization": f"Bearer {response.json()['access_token']}"})


async def committed_users(engine: AsyncEngine, *roles: Role) -> tuple[Organization, list[User]]:
    async with AsyncSession(engine, expire_on_commit=False) as session:
        org = await make_org(session, name=f"Race {uuid.uuid4().hex}")
        users = [await make_user(session, role=role, org=org) for role in roles]
        await session.commit()
    return org, users


async def committed_ticket(
    engine: AsyncEngine, org: Organization, creator: User, status: S, manager: User | None = None
) -> uuid.UUID:
    now = utcnow()
    ticket = Ticket(
        id=uuid.uuid4(),
        org_id=org.id,
        created_by=creator.id,
        status=status.value,
        priority="P2",
        title=f"Race {uuid.uuid4().hex[:8]}",
        description="Two people at once.",
        created_at=now,
        updated_at=now,
    )
    if status is S.WAITING_CUSTOMER:
        assert manager is not None
        ticket.accepted_by = manager.id
        ticket.assigned_to = manager.id
        ticket.accepted_at = now - timedelta(hours=2)
        # P2 around the clock: answered after an hour, waiting for the customer since 30 min.
        terms = sla.Terms(first_response_s=2 * 3600, resolution_s=86400)
        clocks = sla.start(terms, ticket.accepted_at)
        clocks = sla.respond(clocks, None, now - timedelta(hours=1))
        clocks = sla.pause(clocks, None, now - timedelta(minutes=30))
        workflow.apply_clock(ticket, clocks, terms)
    async with AsyncSession(engine, expire_on_commit=False) as session:
        session.add(ticket)
        await session.commit()
    return ticket.id


async def audit_actions(engine: AsyncEngine, ticket_id: uuid.UUID, action: str) -> list[AuditLog]:
    async with AsyncSession(engine) as session:
        stmt = select(AuditLog).where(AuditLog.ticket_id == ticket_id, AuditLog.action == action)
        return list((await session.execute(stmt.order_by(AuditLog.seq))).scalars())


async def outbox_templates(engine: AsyncEngine, ticket_id: uuid.UUID) -> list[str]:
    async with AsyncSession(engine) as session:
        stmt = select(OutboxMessage.template).where(OutboxMessage.ticket_id == ticket_id)
        return sorted((await session.scalars(stmt)).all())


async def stored(engine: AsyncEngine, ticket_id: uuid.UUID) -> Ticket:
    async with AsyncSession(engine, expire_on_commit=False) as session:
        ticket = await session.get(Ticket, ticket_id)
        assert ticket is not None
        return ticket


async def test_two_managers_accept_at_once_exactly_one_wins(
    engine: AsyncEngine, live_client: AsyncClient
) -> None:
    org, (customer, first, second) = await committed_users(
        engine, Role.CUSTOMER_USER, Role.MANAGER, Role.MANAGER
    )
    managers = [await sign_in(live_client, first), await sign_in(live_client, second)]
    # What one uncontested accept leaves in the notification outbox; a race must leave the same.
    control = await committed_ticket(engine, org, customer, S.NEW)
    alone = await live_client.post(
        f"/api/internal/tickets/{control}/accept", json={}, headers=managers[0].headers
    )
    assert alone.status_code == 200, alone.text
    single_accept_mail = await outbox_templates(engine, control)
    for _ in range(ROUNDS):
        ticket_id = await committed_ticket(engine, org, customer, S.NEW)
        url = f"/api/internal/tickets/{ticket_id}/accept"
        responses: list[Response] = await asyncio.gather(
            *(live_client.post(url, json={}, headers=m.headers) for m in managers)
        )
        assert sorted(r.status_code for r in responses) == [200, 409], [r.text for r in responses]
        winner, loser = (
            (managers[0], responses[1])
            if responses[0].status_code == 200
            else (managers[1], responses[0])
        )
        assert sorted(loser.json()["allowed"]) == ["ASSIGNED"]
        ticket = await stored(engine, ticket_id)
        assert (ticket.status, ticket.accepted_by) == ("ACCEPTED", winner.user.id)
        accepted = await audit_actions(engine, ticket_id, "ticket.accepted")
        assert [entry.actor_id for entry in accepted] == [winner.user.id]
        assert await outbox_templates(engine, ticket_id) == single_accept_mail


async def test_two_customer_replies_resume_a_waiting_ticket_once(
    engine: AsyncEngine, live_client: AsyncClient
) -> None:
    org, (creator, colleague, manager) = await committed_users(
        engine, Role.CUSTOMER_USER, Role.CUSTOMER_USER, Role.MANAGER
    )
    customers = [await sign_in(live_client, creator), await sign_in(live_client, colleague)]
    for _ in range(ROUNDS):
        ticket_id = await committed_ticket(engine, org, creator, S.WAITING_CUSTOMER, manager)
        url = f"/api/tickets/{ticket_id}/comments"
        responses: list[Response] = await asyncio.gather(
            *(
                live_client.post(url, json={"body": f"Answer {n}"}, headers=c.headers)
                for n, c in enumerate(customers)
            )
        )
        assert [r.status_code for r in responses] == [201, 201], [r.text for r in responses]
        changes = await audit_actions(engine, ticket_id, "ticket.status_changed")
        assert [(e.actor_id, e.old_value, e.new_value["status"]) for e in changes] == [
            (None, {"status": "WAITING_CUSTOMER"}, "IN_PROGRESS")
        ]
        assert len(await audit_actions(engine, ticket_id, "comment.created")) == 2
        ticket = await stored(engine, ticket_id)
        assert (ticket.status, ticket.sla_paused_at) == ("IN_PROGRESS", None)
        async with AsyncSession(engine) as session:
            entries = await session.scalar(
                select(func.count()).select_from(AuditLog).where(AuditLog.ticket_id == ticket_id)
            )
        assert entries == 3
