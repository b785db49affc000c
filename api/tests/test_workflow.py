"""The ticket state machine against WORKFLOW.md: every (state, target, caller) triple through the
endpoint that caller would use, the acceptance gate, the system transitions on customer comments,
withdraw and reject, and the assignment rules.

The expectations come from ``WORKFLOW_TABLE`` below, transcribed from WORKFLOW.md, never from the
application's own table, so a wrong entry in app/services/workflow.py shows up here.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import Enum
from typing import Any

import pytest
from fastapi import FastAPI
from httpx import AsyncClient, Response
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.tokens import create_access_token
from app.config import get_settings
from app.models import AuditLog, AuthSession, Organization, Team, Ticket, User
from app.models.enums import Role
from app.models.enums import TicketStatus as S
from app.services import sla, workflow
from app.utils.clock import get_now, utcnow
from tests.factories import Actor, make_org, make_user

T0 = datetime(2026, 5, 4, 8, 0, tzinfo=UTC)
RESOLVE_BODY = {"resolution": "Replaced the faulty switch.", "root_cause": "Power surge."}
REASON = "Duplicate of another ticket"

# WORKFLOW.md, "States": (from, to) -> who. "assignee" is the staff member the ticket is assigned
# to, "creator" the customer who opened it, "system" a customer's public comment.
MANAGERS = frozenset({"manager", "admin"})
WORKERS = MANAGERS | {"assignee"}
WORKFLOW_TABLE: dict[tuple[S, S], frozenset[str]] = {
    (S.NEW, S.ACCEPTED): MANAGERS,
    (S.NEW, S.CANCELLED): MANAGERS | {"creator"},
    (S.ACCEPTED, S.ASSIGNED): MANAGERS | {"agent"},
    (S.ASSIGNED, S.IN_PROGRESS): WORKERS,
    (S.ASSIGNED, S.WAITING_CUSTOMER): WORKERS,
    (S.IN_PROGRESS, S.WAITING_CUSTOMER): WORKERS,
    (S.WAITING_CUSTOMER, S.IN_PROGRESS): WORKERS | {"system"},
    (S.ASSIGNED, S.RESOLVED): WORKERS,
    (S.IN_PROGRESS, S.RESOLVED): WORKERS,
    (S.WAITING_CUSTOMER, S.RESOLVED): WORKERS,
    (S.RESOLVED, S.CLOSED): MANAGERS,
    (S.RESOLVED, S.IN_PROGRESS): MANAGERS | {"system"},
}
# States in which the ticket has an assignee (it went through ACCEPTED -> ASSIGNED).
ASSIGNED_STATES = frozenset({S.ASSIGNED, S.IN_PROGRESS, S.WAITING_CUSTOMER, S.RESOLVED, S.CLOSED})
# "(re)assign" in WORKFLOW.md: ACCEPTED -> ASSIGNED, and a status-preserving reassign while worked.
REASSIGNABLE = frozenset({S.ASSIGNED, S.IN_PROGRESS, S.WAITING_CUSTOMER})


def allowed_from(state: S) -> list[str]:
    return sorted(to.value for (frm, to) in WORKFLOW_TABLE if frm is state)


class Caller(Enum):
    CREATOR = ("creator", Role.CUSTOMER_USER)
    COLLEAGUE = ("colleague", Role.CUSTOMER_USER)
    CUSTOMER_ADMIN = ("customer_admin", Role.CUSTOMER_ADMIN)
    ASSIGNEE = ("assignee", Role.AGENT)
    OTHER_AGENT = ("other_agent", Role.AGENT)
    MANAGER = ("manager", Role.MANAGER)
    ADMIN = ("admin", Role.ADMIN)

    @property
    def role(self) -> Role:
        return self.value[1]

    def parties(self, state: S) -> set[str]:
        """The parties of WORKFLOW.md this caller plays on a ticket in *state*."""
        parties = {self.role.value} if self.role.is_staff else set()
        if self is Caller.ASSIGNEE and state in ASSIGNED_STATES:
            parties.add("assignee")
        if self is Caller.CREATOR:
            parties.add("creator")
        return parties


class Route(Enum):
    """The endpoints that move a status, and the roles API.md opens each of them to."""

    STATUS = ("/api/internal/tickets/{id}/status", {Role.AGENT, Role.MANAGER, Role.ADMIN})
    ACCEPT = ("/api/internal/tickets/{id}/accept", {Role.MANAGER, Role.ADMIN})
    WITHDRAW = ("/api/tickets/{id}/withdraw", {Role.CUSTOMER_USER, Role.CUSTOMER_ADMIN})

    def url(self, ticket_id: uuid.UUID) -> str:
        return self.value[0].format(id=ticket_id)

    def open_to(self, role: Role) -> bool:
        return role in self.value[1]


def routes_for(caller: Caller, target: S) -> list[Route]:
    """The endpoint(s) a caller of this role would use to reach *target*. Customers have no
    status endpoint: withdraw is theirs for CANCELLED, and the desk's endpoint refuses them."""
    if not caller.role.is_staff:
        return [Route.WITHDRAW] if target is S.CANCELLED else [Route.STATUS]
    return [Route.STATUS, Route.ACCEPT] if target is S.ACCEPTED else [Route.STATUS]


def expected_status(state: S, target: S, caller: Caller, route: Route) -> int:
    if not route.open_to(caller.role):
        return 403
    who = WORKFLOW_TABLE.get((state, target))
    if who is None:
        return 409
    if not caller.parties(state) & who:
        return 403
    if route is Route.STATUS and target is S.ASSIGNED:
        return 422  # the transition exists, but it is made with /assign (it needs an assignee)
    return 200


def body_for(route: Route, target: S) -> dict[str, Any]:
    if route is Route.ACCEPT:
        return {}
    if route is Route.WITHDRAW:
        return {"reason": "No longer needed"}
    body: dict[str, Any] = {"status": target.value}
    if target is S.RESOLVED:
        body.update(RESOLVE_BODY)
    if target is S.CANCELLED:
        body["reason"] = REASON
    return body


@dataclass
class Cast:
    org: Organization
    actors: dict[Caller, Actor]

    def __getitem__(self, caller: Caller) -> Actor:
        return self.actors[caller]


async def signed_in(db: AsyncSession, user: User) -> Actor:
    """A real token (server-side session row + signed JWT) without paying for argon2: the
    matrix needs seven callers per test, and login itself is tested in test_auth.py."""
    now, lifetime = utcnow(), timedelta(minutes=30)
    session = AuthSession(id=uuid.uuid4(), user_id=user.id, expires_at=now + lifetime)
    db.add(session)
    await db.flush()
    token = create_access_token(
        secret=get_settings().resolved_secret_key() or "",
        user_id=user.id,
        session_id=session.id,
        now=now,
        lifetime=lifetime,
    )
    return Actor(user=user, token=token)


@pytest.fixture
async def cast(db: AsyncSession, client: AsyncClient) -> Cast:
    org = await make_org(db)
    actors = {
        caller: await signed_in(db, await make_user(db, role=caller.role, org=org))
        for caller in Caller
    }
    return Cast(org, actors)


@pytest.fixture
def clock(app: FastAPI, client: AsyncClient) -> Iterator[list[datetime]]:
    """The injected "now" (a one-element list the test moves forward)."""
    now = [T0]
    app.dependency_overrides[get_now] = lambda: now[0]
    try:
        yield now
    finally:
        app.dependency_overrides.pop(get_now, None)


async def make_ticket(
    db: AsyncSession,
    cast: Cast,
    status: S,
    *,
    first_responded: bool = True,
    assignee: Caller = Caller.ASSIGNEE,
) -> Ticket:
    """A ticket built directly in *status*, with the fields the workflow would have set on the
    way there (accepted, assigned, SLA clock, paused since T0+1h, resolution)."""
    ticket = Ticket(
        id=uuid.uuid4(),
        org_id=cast.org.id,
        created_by=cast[Caller.CREATOR].id,
        status=status.value,
        priority="P3",
        title=f"Printer on floor {uuid.uuid4().hex[:6]}",
        description="It jams.",
        created_at=T0 - timedelta(hours=1),
        updated_at=T0 - timedelta(hours=1),
    )
    if status not in (S.NEW, S.CANCELLED):
        ticket.accepted_by = cast[Caller.MANAGER].id
        ticket.accepted_at = T0
        # The clocks as the way there left them (P3 around the clock: 8 h / 3 days).
        terms = sla.Terms(first_response_s=8 * 3600, resolution_s=3 * 86400)
        clocks = sla.start(terms, T0)
        if status in ASSIGNED_STATES and first_responded:
            clocks = sla.respond(clocks, None, T0 + timedelta(minutes=30))
        if status is S.WAITING_CUSTOMER:
            clocks = sla.pause(clocks, None, T0 + timedelta(hours=1))
        if status in (S.RESOLVED, S.CLOSED):
            clocks = sla.resolve(clocks, None, T0 + timedelta(hours=2))
        workflow.apply_clock(ticket, clocks, terms)
    if status in ASSIGNED_STATES:
        ticket.assigned_to = cast[assignee].id
    if status in (S.RESOLVED, S.CLOSED):
        ticket.resolution = "Rebooted it."
        ticket.root_cause = "Firmware bug."
    if status is S.CLOSED:
        ticket.closed_at = T0 + timedelta(hours=3)
    db.add(ticket)
    await db.flush()
    return ticket


async def status_of(db: AsyncSession, ticket_id: uuid.UUID) -> str:
    return (await db.execute(select(Ticket.status).where(Ticket.id == ticket_id))).scalar_one()


async def stored(db: AsyncSession, ticket_id: uuid.UUID) -> Ticket:
    ticket = await db.get(Ticket, ticket_id)
    assert ticket is not None
    await db.refresh(ticket)
    return ticket


async def audit_of(db: AsyncSession, ticket_id: uuid.UUID) -> list[AuditLog]:
    stmt = select(AuditLog).where(AuditLog.ticket_id == ticket_id).order_by(AuditLog.seq)
    return list((await db.execute(stmt)).scalars())


def allowed_in(response: Response) -> list[str] | None:
    """The targets a 409 names, in a stable order (the order is not part of the contract)."""
    allowed = response.json().get("allowed")
    return None if allowed is None else sorted(allowed)


def field_errors(response: Response) -> list[str]:
    return [error["loc"][-1] for error in response.json()["detail"]]


async def check_attempt(
    db: AsyncSession, client: AsyncClient, cast: Cast, state: S, target: S, caller: Caller
) -> list[str]:
    """Every way *caller* could try to move a *state* ticket to *target*; the mismatches found."""
    problems: list[str] = []
    for route in routes_for(caller, target):
        ticket = await make_ticket(db, cast, state)
        want = expected_status(state, target, caller, route)
        response = await client.post(
            route.url(ticket.id), json=body_for(route, target), headers=cast[caller].headers
        )
        where = f"{state.value} -> {target.value} as {caller.name} via {route.name}"
        if response.status_code != want:
            problems.append(f"{where}: {response.status_code} (expected {want}) {response.text}")
            continue
        trail = await audit_of(db, ticket.id)
        now_status = await status_of(db, ticket.id)
        if want != 200:
            if now_status != state.value or trail:
                problems.append(f"{where}: refused but changed ({now_status}, {len(trail)} rows)")
            if want == 409 and allowed_in(response) != allowed_from(state):
                problems.append(f"{where}: allowed={allowed_in(response)}")
            continue
        action = "ticket.accepted" if target is S.ACCEPTED else "ticket.status_changed"
        if now_status != target.value or response.json()["status"] != target.value:
            problems.append(f"{where}: status is {now_status}")
        if [e.action for e in trail] != [action]:
            problems.append(f"{where}: audit {[e.action for e in trail]}")
            continue
        (entry,) = trail
        assert entry.old_value is not None and entry.new_value is not None
        if (entry.actor_id, entry.old_value["status"], entry.new_value["status"]) != (
            cast[caller].id,
            state.value,
            target.value,
        ):
            problems.append(f"{where}: audit row {entry.old_value} {entry.new_value}")
    return problems


class TestTransitionMatrix:
    """8 states x 8 targets x 7 callers, each on a fresh ticket in that state."""

    @pytest.mark.parametrize("state", list(S), ids=lambda s: s.value)
    async def test_every_target_and_caller(
        self, db: AsyncSession, client: AsyncClient, cast: Cast, state: S, clock: list[datetime]
    ) -> None:
        # After the fixture tickets' history, before any SLA clock runs out (a transition that
        # sees a clock past due records and audits its breach).
        clock[0] = T0 + timedelta(hours=3)
        problems: list[str] = []
        for target in S:
            for caller in Caller:
                problems += await check_attempt(db, client, cast, state, target, caller)
        assert problems == []

    @pytest.mark.parametrize("state", [S.CLOSED, S.CANCELLED], ids=lambda s: s.value)
    async def test_final_states_refuse_every_target(
        self, db: AsyncSession, client: AsyncClient, cast: Cast, state: S
    ) -> None:
        ticket = await make_ticket(db, cast, state)
        for target in S:
            body = body_for(Route.STATUS, target)
            response = await client.post(
                Route.STATUS.url(ticket.id), json=body, headers=cast[Caller.ADMIN].headers
            )
            assert response.status_code == 409, (target, response.text)
            assert allowed_in(response) == []
        assert await status_of(db, ticket.id) == state.value

    @pytest.mark.parametrize("missing", ["resolution", "root_cause"])
    async def test_resolve_requires_resolution_and_root_cause(
        self, db: AsyncSession, client: AsyncClient, cast: Cast, missing: str
    ) -> None:
        ticket = await make_ticket(db, cast, S.IN_PROGRESS)
        body = {"status": "RESOLVED", **RESOLVE_BODY}
        del body[missing]
        response = await client.post(
            Route.STATUS.url(ticket.id), json=body, headers=cast[Caller.ASSIGNEE].headers
        )
        assert response.status_code == 422, response.text
        assert field_errors(response) == [missing]
        blank = await client.post(
            Route.STATUS.url(ticket.id),
            json={**body, missing: "   "},
            headers=cast[Caller.ASSIGNEE].headers,
        )
        assert blank.status_code == 422
        assert missing in field_errors(blank)
        assert await status_of(db, ticket.id) == "IN_PROGRESS"
        assert await audit_of(db, ticket.id) == []

    async def test_status_assigned_points_to_the_assign_action(
        self, db: AsyncSession, client: AsyncClient, cast: Cast
    ) -> None:
        ticket = await make_ticket(db, cast, S.ACCEPTED)
        response = await client.post(
            Route.STATUS.url(ticket.id),
            json={"status": "ASSIGNED"},
            headers=cast[Caller.MANAGER].headers,
        )
        assert response.status_code == 422
        assert field_errors(response) == ["status"]
        assert "assign" in response.json()["detail"][0]["msg"]
        assert await status_of(db, ticket.id) == "ACCEPTED"

    async def test_resolving_clears_a_pause_and_records_the_fields(
        self, db: AsyncSession, client: AsyncClient, cast: Cast, clock: list[datetime]
    ) -> None:
        ticket = await make_ticket(db, cast, S.WAITING_CUSTOMER)
        clock[0] = T0 + timedelta(hours=5)
        response = await client.post(
            Route.STATUS.url(ticket.id),
            json={"status": "RESOLVED", **RESOLVE_BODY},
            headers=cast[Caller.ASSIGNEE].headers,
        )
        assert response.status_code == 200, response.text
        row = await stored(db, ticket.id)
        assert (row.resolution, row.root_cause) == (
            RESOLVE_BODY["resolution"],
            RESOLVE_BODY["root_cause"],
        )
        assert row.resolved_at == clock[0]
        assert row.sla_paused_at is None
        assert row.sla_paused_seconds == 4 * 3600
        (entry,) = await audit_of(db, ticket.id)
        assert entry.new_value == {"status": "RESOLVED", **RESOLVE_BODY}


class TestAcceptanceGate:
    """Nobody works a NEW ticket before a manager accepts it."""

    async def test_public_staff_reply_on_new_is_refused(
        self, db: AsyncSession, client: AsyncClient, cast: Cast
    ) -> None:
        ticket = await make_ticket(db, cast, S.NEW)
        for caller in (Caller.OTHER_AGENT, Caller.MANAGER, Caller.ADMIN):
            response = await client.post(
                f"/api/internal/tickets/{ticket.id}/comments",
                json={"body": "We are on it", "is_internal": False},
                headers=cast[caller].headers,
            )
            assert response.status_code == 409, response.text
            assert allowed_in(response) == allowed_from(S.NEW)
        assert await audit_of(db, ticket.id) == []
        assert (await stored(db, ticket.id)).first_responded_at is None

    async def test_internal_note_on_new_is_allowed(
        self, db: AsyncSession, client: AsyncClient, cast: Cast
    ) -> None:
        ticket = await make_ticket(db, cast, S.NEW)
        response = await client.post(
            f"/api/internal/tickets/{ticket.id}/comments",
            json={"body": "Looks like a duplicate", "is_internal": True},
            headers=cast[Caller.OTHER_AGENT].headers,
        )
        assert response.status_code == 201, response.text
        assert response.json()["is_internal"] is True
        assert await status_of(db, ticket.id) == "NEW"
        assert [e.action for e in await audit_of(db, ticket.id)] == ["comment.created"]

    async def test_assign_on_new_is_refused(
        self, db: AsyncSession, client: AsyncClient, cast: Cast
    ) -> None:
        ticket = await make_ticket(db, cast, S.NEW)
        response = await client.post(
            f"/api/internal/tickets/{ticket.id}/assign",
            json={"assignee_id": str(cast[Caller.ASSIGNEE].id)},
            headers=cast[Caller.MANAGER].headers,
        )
        assert response.status_code == 409, response.text
        assert allowed_in(response) == allowed_from(S.NEW)
        row = await stored(db, ticket.id)
        assert (row.status, row.assigned_to) == ("NEW", None)

    async def test_only_accept_or_cancel_leave_new(
        self, db: AsyncSession, client: AsyncClient, cast: Cast
    ) -> None:
        for target in set(S) - {S.ACCEPTED, S.CANCELLED}:
            ticket = await make_ticket(db, cast, S.NEW)
            response = await client.post(
                Route.STATUS.url(ticket.id),
                json=body_for(Route.STATUS, target),
                headers=cast[Caller.MANAGER].headers,
            )
            assert response.status_code == 409, (target, response.text)
            assert await status_of(db, ticket.id) == "NEW"


class TestCustomerComments:
    """A customer's public comment is the system transition back to IN_PROGRESS."""

    async def test_reply_while_waiting_resumes_work_and_the_sla(
        self, db: AsyncSession, client: AsyncClient, cast: Cast, clock: list[datetime]
    ) -> None:
        ticket = await make_ticket(db, cast, S.WAITING_CUSTOMER, first_responded=False)
        clock[0] = T0 + timedelta(hours=3)  # paused since T0 + 1 h: two hours paused
        response = await client.post(
            f"/api/tickets/{ticket.id}/comments",
            json={"body": "Here are the details"},
            headers=cast[Caller.COLLEAGUE].headers,
        )
        assert response.status_code == 201, response.text
        row = await stored(db, ticket.id)
        assert row.status == "IN_PROGRESS"
        assert row.sla_paused_at is None
        assert row.sla_paused_seconds == 2 * 3600
        # Neither target was met yet: both move by the paused time.
        assert row.sla_first_response_due_at == T0 + timedelta(hours=10)
        assert row.sla_resolution_due_at == T0 + timedelta(days=3, hours=2)
        comment, change = await audit_of(db, ticket.id)
        assert (comment.action, comment.actor_id) == ("comment.created", cast[Caller.COLLEAGUE].id)
        assert comment.new_value == {"is_internal": False}
        assert (change.action, change.actor_id) == ("ticket.status_changed", None)
        assert change.old_value == {"status": "WAITING_CUSTOMER"}
        assert change.new_value["status"] == "IN_PROGRESS"

    async def test_met_first_response_keeps_its_due_time(
        self, db: AsyncSession, client: AsyncClient, cast: Cast, clock: list[datetime]
    ) -> None:
        ticket = await make_ticket(db, cast, S.WAITING_CUSTOMER, first_responded=True)
        clock[0] = T0 + timedelta(hours=4)
        response = await client.post(
            f"/api/tickets/{ticket.id}/comments",
            json={"body": "Done, try again"},
            headers=cast[Caller.CREATOR].headers,
        )
        assert response.status_code == 201, response.text
        row = await stored(db, ticket.id)
        assert row.sla_first_response_due_at == T0 + timedelta(hours=8)
        assert row.sla_resolution_due_at == T0 + timedelta(days=3, hours=3)

    async def test_reply_on_resolved_reopens(
        self, db: AsyncSession, client: AsyncClient, cast: Cast, clock: list[datetime]
    ) -> None:
        ticket = await make_ticket(db, cast, S.RESOLVED)
        clock[0] = T0 + timedelta(hours=6)  # resolved at T0 + 2 h
        response = await client.post(
            f"/api/tickets/{ticket.id}/comments",
            json={"body": "It is broken again"},
            headers=cast[Caller.CREATOR].headers,
        )
        assert response.status_code == 201, response.text
        row = await stored(db, ticket.id)
        assert (row.status, row.resolved_at) == ("IN_PROGRESS", None)
        assert row.sla_resolution_due_at == T0 + timedelta(days=3, hours=4)
        assert row.sla_first_response_due_at == T0 + timedelta(hours=8)  # met: not moved
        change = [e for e in await audit_of(db, ticket.id) if e.action == "ticket.status_changed"]
        assert [(e.actor_id, e.old_value, e.new_value["status"]) for e in change] == [
            (None, {"status": "RESOLVED"}, "IN_PROGRESS")
        ]

    @pytest.mark.parametrize(
        "state", [S.NEW, S.ACCEPTED, S.ASSIGNED, S.IN_PROGRESS], ids=lambda s: s.value
    )
    async def test_reply_elsewhere_leaves_the_status(
        self, db: AsyncSession, client: AsyncClient, cast: Cast, state: S
    ) -> None:
        ticket = await make_ticket(db, cast, state)
        response = await client.post(
            f"/api/tickets/{ticket.id}/comments",
            json={"body": "Any news?"},
            headers=cast[Caller.CREATOR].headers,
        )
        assert response.status_code == 201, response.text
        assert await status_of(db, ticket.id) == state.value
        assert [e.action for e in await audit_of(db, ticket.id)] == ["comment.created"]

    @pytest.mark.parametrize("state", [S.CLOSED, S.CANCELLED], ids=lambda s: s.value)
    async def test_final_tickets_take_no_comments(
        self, db: AsyncSession, client: AsyncClient, cast: Cast, state: S
    ) -> None:
        ticket = await make_ticket(db, cast, state)
        response = await client.post(
            f"/api/tickets/{ticket.id}/comments",
            json={"body": "Hello?"},
            headers=cast[Caller.CREATOR].headers,
        )
        assert response.status_code == 409
        assert await audit_of(db, ticket.id) == []

    async def test_staff_reply_while_waiting_does_not_resume(
        self, db: AsyncSession, client: AsyncClient, cast: Cast
    ) -> None:
        ticket = await make_ticket(db, cast, S.WAITING_CUSTOMER)
        response = await client.post(
            f"/api/internal/tickets/{ticket.id}/comments",
            json={"body": "Still waiting for your logs", "is_internal": False},
            headers=cast[Caller.ASSIGNEE].headers,
        )
        assert response.status_code == 201
        row = await stored(db, ticket.id)
        assert (row.status, row.sla_paused_at) == ("WAITING_CUSTOMER", T0 + timedelta(hours=1))


class TestWithdrawAndReject:
    async def test_creator_withdraws_a_new_ticket(
        self, db: AsyncSession, client: AsyncClient, cast: Cast
    ) -> None:
        ticket = await make_ticket(db, cast, S.NEW)
        response = await client.post(
            Route.WITHDRAW.url(ticket.id),
            json={"reason": "Fixed itself"},
            headers=cast[Caller.CREATOR].headers,
        )
        assert response.status_code == 200, response.text
        assert response.json()["status"] == "CANCELLED"
        (entry,) = await audit_of(db, ticket.id)
        assert (entry.action, entry.actor_id) == ("ticket.status_changed", cast[Caller.CREATOR].id)
        assert entry.new_value == {
            "status": "CANCELLED",
            "reason": "Fixed itself",
            "withdrawn": True,
        }

    @pytest.mark.parametrize("caller", [Caller.COLLEAGUE, Caller.CUSTOMER_ADMIN], ids=str)
    async def test_someone_else_of_the_organization_may_not(
        self, db: AsyncSession, client: AsyncClient, cast: Cast, caller: Caller
    ) -> None:
        ticket = await make_ticket(db, cast, S.NEW)
        response = await client.post(
            Route.WITHDRAW.url(ticket.id), json={}, headers=cast[caller].headers
        )
        assert response.status_code == 403
        assert await status_of(db, ticket.id) == "NEW"

    async def test_accepted_ticket_cannot_be_withdrawn(
        self, db: AsyncSession, client: AsyncClient, cast: Cast
    ) -> None:
        ticket = await make_ticket(db, cast, S.ACCEPTED)
        response = await client.post(
            Route.WITHDRAW.url(ticket.id), json={}, headers=cast[Caller.CREATOR].headers
        )
        assert response.status_code == 409
        assert allowed_in(response) == allowed_from(S.ACCEPTED)
        assert await status_of(db, ticket.id) == "ACCEPTED"

    async def test_staff_cannot_use_the_withdraw_endpoint(
        self, db: AsyncSession, client: AsyncClient, cast: Cast
    ) -> None:
        ticket = await make_ticket(db, cast, S.NEW)
        response = await client.post(
            Route.WITHDRAW.url(ticket.id), json={}, headers=cast[Caller.MANAGER].headers
        )
        assert response.status_code == 403
        assert await status_of(db, ticket.id) == "NEW"

    async def test_reject_needs_a_reason(
        self, db: AsyncSession, client: AsyncClient, cast: Cast
    ) -> None:
        ticket = await make_ticket(db, cast, S.NEW)
        response = await client.post(
            Route.STATUS.url(ticket.id),
            json={"status": "CANCELLED"},
            headers=cast[Caller.MANAGER].headers,
        )
        assert response.status_code == 422, response.text
        assert field_errors(response) == ["reason"]
        assert await status_of(db, ticket.id) == "NEW"
        rejected = await client.post(
            Route.STATUS.url(ticket.id),
            json={"status": "CANCELLED", "reason": REASON},
            headers=cast[Caller.MANAGER].headers,
        )
        assert rejected.status_code == 200, rejected.text
        (entry,) = await audit_of(db, ticket.id)
        assert entry.new_value == {"status": "CANCELLED", "reason": REASON}

    async def test_agent_without_reason_is_still_403(
        self, db: AsyncSession, client: AsyncClient, cast: Cast
    ) -> None:
        """The role is checked before the body: an agent learns it may not reject at all."""
        ticket = await make_ticket(db, cast, S.NEW)
        response = await client.post(
            Route.STATUS.url(ticket.id),
            json={"status": "CANCELLED"},
            headers=cast[Caller.OTHER_AGENT].headers,
        )
        assert response.status_code == 403


class TestAssign:
    async def assign(
        self, client: AsyncClient, cast: Cast, ticket: Ticket, caller: Caller, **body: Any
    ) -> Response:
        return await client.post(
            f"/api/internal/tickets/{ticket.id}/assign",
            json={k: str(v) for k, v in body.items()},
            headers=cast[caller].headers,
        )

    @pytest.mark.parametrize("state", list(S), ids=lambda s: s.value)
    async def test_assign_matrix(
        self, db: AsyncSession, client: AsyncClient, cast: Cast, state: S
    ) -> None:
        """Every caller assigns a ticket in *state* to an agent: ACCEPTED becomes ASSIGNED, a
        worked ticket keeps its status, NEW and finished tickets are refused."""
        target = cast[Caller.OTHER_AGENT].id
        for caller in Caller:
            ticket = await make_ticket(db, cast, state)
            response = await self.assign(client, cast, ticket, caller, assignee_id=target)
            row = await stored(db, ticket.id)
            trail = [e.action for e in await audit_of(db, ticket.id)]
            if not caller.role.is_staff:
                assert response.status_code == 403, (caller, response.text)
            elif state is S.ACCEPTED:
                assert response.status_code == 200, (caller, response.text)
                assert (row.status, row.assigned_to) == ("ASSIGNED", target)
                assert trail == ["ticket.assigned", "ticket.status_changed"]
                continue
            elif state in REASSIGNABLE:
                assert response.status_code == 200, (caller, response.text)
                assert (row.status, row.assigned_to) == (state.value, target)
                assert trail == ["ticket.assigned"]
                continue
            else:
                assert response.status_code == 409, (caller, response.text)
                assert allowed_in(response) == allowed_from(state)
            assert row.status == state.value
            assert row.assigned_to == (
                cast[Caller.ASSIGNEE].id if state in ASSIGNED_STATES else None
            )
            assert trail == []

    async def test_agent_assigns_to_self_or_another_agent(
        self, db: AsyncSession, client: AsyncClient, cast: Cast
    ) -> None:
        ticket = await make_ticket(db, cast, S.ACCEPTED)
        me = cast[Caller.OTHER_AGENT].id
        response = await self.assign(client, cast, ticket, Caller.OTHER_AGENT, assignee_id=me)
        assert response.status_code == 200, response.text
        assert response.json()["assigned_to"]["id"] == str(me)
        colleague = cast[Caller.ASSIGNEE].id
        again = await self.assign(client, cast, ticket, Caller.OTHER_AGENT, assignee_id=colleague)
        assert again.status_code == 200, again.text
        assert (await stored(db, ticket.id)).assigned_to == colleague
        entries = [e for e in await audit_of(db, ticket.id) if e.action == "ticket.assigned"]
        assert [e.new_value for e in entries] == [
            {"assigned_to": str(me)},
            {"assigned_to": str(colleague)},
        ]

    async def test_agent_may_not_assign_to_a_manager(
        self, db: AsyncSession, client: AsyncClient, cast: Cast
    ) -> None:
        ticket = await make_ticket(db, cast, S.ASSIGNED)
        manager = cast[Caller.MANAGER].id
        response = await self.assign(client, cast, ticket, Caller.ASSIGNEE, assignee_id=manager)
        assert response.status_code == 403
        assert (await stored(db, ticket.id)).assigned_to == cast[Caller.ASSIGNEE].id
        by_manager = await self.assign(client, cast, ticket, Caller.MANAGER, assignee_id=manager)
        assert by_manager.status_code == 200, by_manager.text

    @pytest.mark.parametrize("who", ["customer", "deactivated_agent", "admin", "unknown"])
    async def test_assignee_must_be_an_active_agent_or_manager(
        self, db: AsyncSession, client: AsyncClient, cast: Cast, who: str
    ) -> None:
        ticket = await make_ticket(db, cast, S.ACCEPTED)
        assignee = {
            "customer": cast[Caller.CREATOR].id,
            "deactivated_agent": (await make_user(db, role=Role.AGENT, is_active=False)).id,
            "admin": cast[Caller.ADMIN].id,
            "unknown": uuid.uuid4(),
        }[who]
        response = await self.assign(client, cast, ticket, Caller.MANAGER, assignee_id=assignee)
        assert response.status_code == 422, response.text
        assert field_errors(response) == ["assignee_id"]
        row = await stored(db, ticket.id)
        assert (row.status, row.assigned_to) == ("ACCEPTED", None)
        assert await audit_of(db, ticket.id) == []

    async def test_reassign_while_in_progress_keeps_the_status(
        self, db: AsyncSession, client: AsyncClient, cast: Cast
    ) -> None:
        ticket = await make_ticket(db, cast, S.IN_PROGRESS)
        other = cast[Caller.OTHER_AGENT].id
        response = await self.assign(client, cast, ticket, Caller.MANAGER, assignee_id=other)
        assert response.status_code == 200, response.text
        assert response.json()["status"] == "IN_PROGRESS"
        (entry,) = await audit_of(db, ticket.id)
        assert entry.action == "ticket.assigned"
        assert entry.old_value == {"assigned_to": str(cast[Caller.ASSIGNEE].id)}
        assert entry.new_value == {"assigned_to": str(other)}

    async def test_team_only_assignment(
        self, db: AsyncSession, client: AsyncClient, cast: Cast
    ) -> None:
        team = Team(id=uuid.uuid4(), name=f"Network {uuid.uuid4().hex[:6]}")
        db.add(team)
        await db.flush()
        ticket = await make_ticket(db, cast, S.ACCEPTED)
        response = await self.assign(client, cast, ticket, Caller.MANAGER, team_id=team.id)
        assert response.status_code == 200, response.text
        view = response.json()
        assert view["status"] == "ASSIGNED"
        assert view["assigned_to"] is None
        assert view["assigned_team"] == {"id": str(team.id), "name": team.name}
        unknown = await make_ticket(db, cast, S.ACCEPTED)
        refused = await self.assign(client, cast, unknown, Caller.MANAGER, team_id=uuid.uuid4())
        assert refused.status_code == 422
        assert field_errors(refused) == ["team_id"]

    async def test_assign_needs_an_assignee_or_a_team(
        self, db: AsyncSession, client: AsyncClient, cast: Cast
    ) -> None:
        ticket = await make_ticket(db, cast, S.ACCEPTED)
        response = await self.assign(client, cast, ticket, Caller.MANAGER)
        assert response.status_code == 422
        assert await status_of(db, ticket.id) == "ACCEPTED"
