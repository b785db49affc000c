"""SLA clocks: the pure arithmetic of app/services/sla.py on explicit timestamps, then the same
rules end to end through the API with an injected clock (policy choice at accept, the staff view's
sla block at every step of a ticket's life, no sla in the customer view)."""

from __future__ import annotations

import random
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi import FastAPI
from httpx import AsyncClient
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.models import SlaPolicy
from app.models.enums import Role
from app.services import sla
from app.services.sla import SlaClock
from app.utils.clock import get_now
from tests.factories import Actor, make_actor, make_org

T0 = datetime(2031, 3, 3, 9, 0, tzinfo=UTC)
FIRST, RESOLUTION = 60, 600


def at(minutes: float = 0, seconds: float = 0) -> datetime:
    return T0 + timedelta(minutes=minutes, seconds=seconds)


def started(first: int = FIRST, resolution: int = RESOLUTION) -> SlaClock:
    return sla.start(T0, first_response_minutes=first, resolution_minutes=resolution)


class TestStart:
    @pytest.mark.parametrize(
        ("first", "resolution"), [(30, 240), (120, 1440), (480, 4320), (1440, 7200), (1, 1)]
    )
    def test_due_times_are_now_plus_the_policy(self, first: int, resolution: int) -> None:
        clock = started(first, resolution)
        assert clock == SlaClock(first_response_due_at=at(first), resolution_due_at=at(resolution))
        assert clock.started and not clock.paused

    def test_an_unstarted_clock_ignores_every_event(self) -> None:
        idle = SlaClock()
        for event in (sla.pause, sla.resume, sla.respond, sla.reopen, sla.mark_breaches):
            assert event(idle, at(5)) == idle
        assert not sla.first_response_breached(idle, at(10**6))
        assert not sla.resolution_breached(idle, at(10**6))


class TestPauseResume:
    def test_paused_time_is_added_to_every_unmet_due_time(self) -> None:
        paused = sla.pause(started(), at(10))
        assert paused.paused and paused.paused_at == at(10)
        assert (paused.first_response_due_at, paused.resolution_due_at) == (at(60), at(600))

        resumed = sla.resume(paused, at(100))
        assert resumed == replace(
            started(),
            first_response_due_at=at(150),
            resolution_due_at=at(690),
            paused_seconds=90 * 60,
        )

    def test_a_met_first_response_keeps_its_due_time(self) -> None:
        clock = sla.respond(started(), at(5))
        clock = sla.resume(sla.pause(clock, at(10)), at(40))
        assert clock.first_response_due_at == at(60)
        assert clock.first_responded_at == at(5)
        assert clock.resolution_due_at == at(630)

    def test_a_reply_while_paused_meets_the_first_response_before_the_resume(self) -> None:
        clock = sla.respond(sla.pause(started(), at(10)), at(20))
        clock = sla.resume(clock, at(50))
        assert clock.first_responded_at == at(20)
        assert clock.first_response_due_at == at(60)
        assert clock.resolution_due_at == at(640)

    def test_paused_seconds_accumulate_over_several_pauses(self) -> None:
        clock = started()
        for pause_at, resume_at in ((10, 25), (30, 31), (100, 160)):
            clock = sla.resume(sla.pause(clock, at(pause_at)), at(resume_at))
        assert clock.paused_seconds == (15 + 1 + 60) * 60
        assert clock.first_response_due_at == at(60 + 76)
        assert clock.resolution_due_at == at(600 + 76)

    def test_resume_without_a_pause_changes_nothing(self) -> None:
        clock = sla.respond(started(), at(3))
        assert sla.resume(clock, at(50)) == clock

    def test_pausing_twice_keeps_the_first_pause_start(self) -> None:
        clock = sla.pause(sla.pause(started(), at(10)), at(30))
        assert clock.paused_at == at(10)
        assert sla.resume(clock, at(40)).paused_seconds == 30 * 60

    def test_a_resume_before_the_pause_never_moves_due_times_earlier(self) -> None:
        clock = sla.resume(sla.pause(started(), at(10)), at(5))
        assert clock == started()


class TestRespond:
    def test_only_the_first_response_counts(self) -> None:
        clock = sla.respond(sla.respond(started(), at(7)), at(8))
        assert clock.first_responded_at == at(7)
        assert clock.first_response_due_at == at(60)

    def test_no_response_is_recorded_before_the_clock_starts(self) -> None:
        assert sla.respond(SlaClock(), at(1)).first_responded_at is None


class TestResolveReopen:
    def test_resolving_a_paused_ticket_closes_the_pause_first(self) -> None:
        clock = sla.resolve(sla.pause(started(), at(10)), at(70))
        assert clock.resolved_at == at(70)
        assert not clock.paused
        assert clock.paused_seconds == 60 * 60
        assert clock.first_response_due_at == at(120)
        assert clock.resolution_due_at == at(660)

    def test_resolving_a_running_ticket_keeps_its_due_times(self) -> None:
        clock = sla.resolve(sla.respond(started(), at(5)), at(300))
        assert clock == replace(started(), first_responded_at=at(5), resolved_at=at(300))

    def test_reopen_adds_the_time_spent_resolved_to_the_resolution_clock(self) -> None:
        resolved = sla.resolve(sla.respond(started(), at(5)), at(300))
        clock = sla.reopen(resolved, at(420))
        assert clock.resolved_at is None
        assert clock.resolution_due_at == at(720)
        assert clock.paused_seconds == 120 * 60
        assert clock.first_response_due_at == at(60)
        assert clock.first_responded_at == at(5)

    def test_reopen_counts_time_resolved_like_a_pause_for_an_unmet_first_response(self) -> None:
        resolved = sla.resolve(started(), at(30))
        assert not sla.first_response_breached(resolved, at(500))
        clock = sla.reopen(resolved, at(500))
        assert clock.first_response_due_at == at(60 + 470)
        assert clock.resolution_due_at == at(600 + 470)
        assert not sla.first_response_breached(clock, at(529))
        assert sla.first_response_breached(clock, at(531))

    def test_reopen_of_an_unresolved_ticket_changes_nothing(self) -> None:
        clock = sla.pause(started(), at(10))
        assert sla.reopen(clock, at(20)) == clock


@dataclass(frozen=True)
class BreachCase:
    name: str
    clock: SlaClock
    now: datetime
    first_response: bool
    resolution: bool


_EPS = timedelta(microseconds=1)
BREACH_CASES = [
    BreachCase("before due", started(), at(59), False, False),
    BreachCase("exactly at first-response due", started(), at(60), False, False),
    BreachCase("just after first-response due", started(), at(60) + _EPS, True, False),
    BreachCase("exactly at resolution due", started(), at(600), True, False),
    BreachCase("just after resolution due", started(), at(600) + _EPS, True, True),
    BreachCase("paused past both due times", sla.pause(started(), at(10)), at(10**4), False, False),
    BreachCase("first response met", sla.respond(started(), at(59)), at(61), False, False),
    BreachCase(
        "met late is not a live breach", sla.respond(started(), at(70)), at(71), False, False
    ),
    BreachCase("resolved", sla.resolve(started(), at(30)), at(10**4), False, False),
    BreachCase(
        "already marked",
        replace(started(), first_response_breached_at=at(61), resolution_breached_at=at(601)),
        at(10**4),
        False,
        False,
    ),
]


class TestBreaches:
    @pytest.mark.parametrize("case", BREACH_CASES, ids=lambda c: c.name)
    def test_predicates(self, case: BreachCase) -> None:
        assert sla.first_response_breached(case.clock, case.now) is case.first_response
        assert sla.resolution_breached(case.clock, case.now) is case.resolution

    @pytest.mark.parametrize("case", BREACH_CASES, ids=lambda c: c.name)
    def test_mark_breaches_records_exactly_the_live_breaches(self, case: BreachCase) -> None:
        marked = sla.mark_breaches(case.clock, case.now)
        assert marked.first_response_breached_at == (
            case.now if case.first_response else case.clock.first_response_breached_at
        )
        assert marked.resolution_breached_at == (
            case.now if case.resolution else case.clock.resolution_breached_at
        )
        assert replace(marked, first_response_breached_at=None, resolution_breached_at=None) == (
            replace(case.clock, first_response_breached_at=None, resolution_breached_at=None)
        )

    def test_mark_breaches_is_idempotent(self) -> None:
        first = sla.mark_breaches(started(), at(61))
        assert first.first_response_breached_at == at(61)
        assert first.resolution_breached_at is None
        later = sla.mark_breaches(first, at(700))
        assert later.first_response_breached_at == at(61)
        assert later.resolution_breached_at == at(700)
        assert sla.mark_breaches(later, at(900)) == later


@dataclass
class Model:
    """An independent bookkeeping of what the clock must show after each event."""

    first: int
    resolution: int
    paused_since: datetime | None = None
    resolved_since: datetime | None = None
    responded_at: datetime | None = None
    paused_total: int = 0
    first_shift: int = 0

    def leave_pause(self, now: datetime) -> None:
        assert self.paused_since is not None
        length = int((now - self.paused_since).total_seconds())
        self.paused_total += length
        if self.responded_at is None:
            self.first_shift += length
        self.paused_since = None

    def events(self) -> list[str]:
        if self.resolved_since is not None:
            return ["reopen", "respond", "mark"]
        if self.paused_since is not None:
            return ["resume", "respond", "resolve", "mark", "pause"]
        return ["pause", "respond", "resolve", "mark", "resume"]

    def apply(self, event: str, now: datetime) -> None:
        if event == "pause" and self.paused_since is None:
            self.paused_since = now
        elif event == "resume" and self.paused_since is not None:
            self.leave_pause(now)
        elif event == "respond" and self.responded_at is None:
            self.responded_at = now
        elif event == "resolve":
            if self.paused_since is not None:
                self.leave_pause(now)
            self.resolved_since = now
        elif event == "reopen":
            assert self.resolved_since is not None
            length = int((now - self.resolved_since).total_seconds())
            self.paused_total += length
            if self.responded_at is None:
                self.first_shift += length
            self.resolved_since = None


_EVENTS = {
    "pause": sla.pause,
    "resume": sla.resume,
    "respond": sla.respond,
    "resolve": sla.resolve,
    "reopen": sla.reopen,
    "mark": sla.mark_breaches,
}


def _check_invariants(clock: SlaClock, before: SlaClock, model: Model, now: datetime) -> None:
    assert clock.first_response_due_at is not None and clock.resolution_due_at is not None
    assert before.first_response_due_at is not None and before.resolution_due_at is not None
    assert clock.first_response_due_at >= before.first_response_due_at
    assert clock.resolution_due_at >= before.resolution_due_at
    assert clock.paused_seconds == model.paused_total
    assert clock.paused_at == model.paused_since
    assert clock.resolved_at == model.resolved_since
    assert clock.first_responded_at == model.responded_at
    assert clock.first_response_due_at == T0 + timedelta(
        minutes=model.first, seconds=model.first_shift
    )
    if model.resolved_since is None:
        assert clock.resolution_due_at - T0 == timedelta(
            minutes=model.resolution, seconds=clock.paused_seconds
        )
    for field in ("first_response_breached_at", "resolution_breached_at"):
        if getattr(before, field) is not None:
            assert getattr(clock, field) == getattr(before, field)
        elif getattr(clock, field) is not None:
            assert getattr(clock, field) == now


def _check_marks(clock: SlaClock, before: SlaClock, model: Model, now: datetime) -> None:
    running = model.paused_since is None and model.resolved_since is None
    assert before.first_response_due_at is not None and before.resolution_due_at is not None
    first_due = running and model.responded_at is None and before.first_response_due_at < now
    resolution_due = running and before.resolution_due_at < now
    assert clock.first_response_breached_at == (
        before.first_response_breached_at or (now if first_due else None)
    )
    assert clock.resolution_breached_at == (
        before.resolution_breached_at or (now if resolution_due else None)
    )
    assert sla.mark_breaches(clock, now) == clock


@pytest.mark.parametrize("seed_block", range(4))
def test_random_event_sequences_keep_the_invariants(seed_block: int) -> None:
    for seed in range(seed_block * 100, seed_block * 100 + 100):
        rng = random.Random(seed)
        model = Model(first=rng.randint(1, 2000), resolution=rng.randint(1, 20000))
        clock = started(model.first, model.resolution)
        now = T0
        for _ in range(rng.randint(1, 40)):
            now += timedelta(seconds=rng.choice([0, 1, rng.randint(2, 7200)]))
            event = rng.choice(model.events())
            before = clock
            clock = _EVENTS[event](clock, now)
            model.apply(event, now)
            try:
                _check_invariants(clock, before, model, now)
                if event == "mark":
                    _check_marks(clock, before, model, now)
            except AssertionError as exc:
                raise AssertionError(f"seed {seed}, event {event} at {now}: {exc}") from exc


# ------------------------------------------------------------------ through the API


class Clock:
    def __init__(self, start: datetime) -> None:
        self.now = start

    def set(self, minutes: float) -> datetime:
        self.now = at(minutes)
        return self.now


@pytest.fixture
def clock(app: FastAPI, client: AsyncClient) -> Iterator[Clock]:
    current = Clock(T0)
    app.dependency_overrides[get_now] = lambda: current.now
    try:
        yield current
    finally:
        app.dependency_overrides.pop(get_now, None)


def _parse(value: Any) -> Any:
    return datetime.fromisoformat(value) if isinstance(value, str) else value


async def staff_sla(client: AsyncClient, staff: Actor, ticket_id: str) -> dict[str, Any]:
    response = await client.get(f"/api/internal/tickets/{ticket_id}", headers=staff.headers)
    assert response.status_code == 200, response.text
    return {k: _parse(v) for k, v in response.json()["sla"].items()}


def sla_block(
    *,
    first_due: datetime | None,
    resolution_due: datetime | None,
    responded: datetime | None = None,
    paused_since: datetime | None = None,
    paused_seconds: int = 0,
    first_breached: bool = False,
    resolution_breached: bool = False,
) -> dict[str, Any]:
    return {
        "first_response_due_at": first_due,
        "resolution_due_at": resolution_due,
        "first_responded_at": responded,
        "paused": paused_since is not None,
        "paused_since": paused_since,
        "paused_seconds": paused_seconds,
        "first_response_breached": first_breached,
        "resolution_breached": resolution_breached,
    }


async def open_ticket(client: AsyncClient, customer: Actor, priority: str = "P3") -> str:
    response = await client.post(
        "/api/tickets",
        json={"title": "Printer on fire", "description": "Smoke.", "priority": priority},
        headers=customer.headers,
    )
    assert response.status_code == 201, response.text
    ticket_id: str = response.json()["id"]
    return ticket_id


async def ok(client: AsyncClient, method: str, url: str, actor: Actor, **json: Any) -> Any:
    response = await client.request(method, url, json=json, headers=actor.headers)
    assert response.status_code in (200, 201), response.text
    return response.json()


async def global_policy(db: AsyncSession, priority: str) -> tuple[int, int]:
    row = (
        await db.execute(
            select(SlaPolicy.first_response_minutes, SlaPolicy.resolution_minutes).where(
                SlaPolicy.org_id.is_(None), SlaPolicy.priority == priority
            )
        )
    ).one()
    return int(row[0]), int(row[1])


class TestAcceptPolicy:
    async def test_the_org_override_wins_over_the_global_policy(
        self, client: AsyncClient, db: AsyncSession, clock: Clock
    ) -> None:
        org, other_org = await make_org(db), await make_org(db)
        customer = await make_actor(db, client, role=Role.CUSTOMER_USER, org=org)
        other = await make_actor(db, client, role=Role.CUSTOMER_USER, org=other_org)
        admin = await make_actor(db, client, role=Role.ADMIN)
        manager = await make_actor(db, client, role=Role.MANAGER)
        await ok(
            client,
            "POST",
            "/api/sla",
            admin,
            org_id=str(org.id),
            priority="P2",
            first_response_minutes=45,
            resolution_minutes=500,
        )
        global_first, global_resolution = await global_policy(db, "P2")
        assert (global_first, global_resolution) != (45, 500)

        overridden = await open_ticket(client, customer, "P3")
        plain = await open_ticket(client, other, "P3")
        same_org_other_priority = await open_ticket(client, customer, "P4")
        clock.set(7)
        for ticket_id in (overridden, plain):
            await ok(
                client, "POST", f"/api/internal/tickets/{ticket_id}/accept", manager, priority="P2"
            )
        await ok(client, "POST", f"/api/internal/tickets/{same_org_other_priority}/accept", manager)

        assert await staff_sla(client, manager, overridden) == sla_block(
            first_due=at(7 + 45), resolution_due=at(7 + 500)
        )
        assert await staff_sla(client, manager, plain) == sla_block(
            first_due=at(7 + global_first), resolution_due=at(7 + global_resolution)
        )
        p4_first, p4_resolution = await global_policy(db, "P4")
        assert await staff_sla(client, manager, same_org_other_priority) == sla_block(
            first_due=at(7 + p4_first), resolution_due=at(7 + p4_resolution)
        )

    async def test_a_new_ticket_has_no_running_clock(
        self, client: AsyncClient, db: AsyncSession, clock: Clock
    ) -> None:
        customer = await make_actor(db, client, role=Role.CUSTOMER_USER)
        manager = await make_actor(db, client, role=Role.MANAGER)
        ticket_id = await open_ticket(client, customer)
        clock.set(10**5)
        assert await staff_sla(client, manager, ticket_id) == sla_block(
            first_due=None, resolution_due=None
        )


class TestLifecycle:
    async def test_the_sla_block_at_every_step(
        self, client: AsyncClient, db: AsyncSession, clock: Clock
    ) -> None:
        org = await make_org(db)
        customer = await make_actor(db, client, role=Role.CUSTOMER_USER, org=org)
        admin = await make_actor(db, client, role=Role.ADMIN)
        manager = await make_actor(db, client, role=Role.MANAGER)
        agent = await make_actor(db, client, role=Role.AGENT)
        await ok(
            client,
            "POST",
            "/api/sla",
            admin,
            org_id=str(org.id),
            priority="P2",
            first_response_minutes=60,
            resolution_minutes=600,
        )
        ticket_id = await open_ticket(client, customer, "P2")
        url = f"/api/internal/tickets/{ticket_id}"

        async def expect(status: str, **block: Any) -> None:
            response = await client.get(url, headers=manager.headers)
            assert response.json()["status"] == status
            assert await staff_sla(client, manager, ticket_id) == sla_block(**block)

        await expect("NEW", first_due=None, resolution_due=None)

        clock.set(0)
        await ok(client, "POST", f"{url}/accept", manager)
        await expect("ACCEPTED", first_due=at(60), resolution_due=at(600))

        clock.set(5)
        await ok(client, "POST", f"{url}/assign", manager, assignee_id=str(agent.id))
        clock.set(10)
        await ok(client, "POST", f"{url}/comments", agent, body="On it.", is_internal=False)
        await expect("ASSIGNED", first_due=at(60), resolution_due=at(600), responded=at(10))

        clock.set(20)
        await ok(client, "POST", f"{url}/status", agent, status="WAITING_CUSTOMER")
        clock.set(20 + 1000)
        await expect(
            "WAITING_CUSTOMER",
            first_due=at(60),
            resolution_due=at(600),
            responded=at(10),
            paused_since=at(20),
        )

        clock.set(110)
        await ok(client, "POST", f"/api/tickets/{ticket_id}/comments", customer, body="Here.")
        await expect(
            "IN_PROGRESS",
            first_due=at(60),
            resolution_due=at(690),
            responded=at(10),
            paused_seconds=90 * 60,
        )

        clock.set(200)
        await ok(
            client,
            "POST",
            f"{url}/status",
            agent,
            status="RESOLVED",
            resolution="Replaced the fuser.",
            root_cause="Worn fuser.",
        )
        clock.set(250)
        await expect(
            "RESOLVED",
            first_due=at(60),
            resolution_due=at(690),
            responded=at(10),
            paused_seconds=90 * 60,
        )

        clock.set(260)
        await ok(client, "POST", f"/api/tickets/{ticket_id}/comments", customer, body="Again!")
        await expect(
            "IN_PROGRESS",
            first_due=at(60),
            resolution_due=at(750),
            responded=at(10),
            paused_seconds=150 * 60,
        )

        # A read changes nothing: look past the new resolution due, then carry on at 300.
        clock.set(751)
        await expect(
            "IN_PROGRESS",
            first_due=at(60),
            resolution_due=at(750),
            responded=at(10),
            paused_seconds=150 * 60,
            resolution_breached=True,
        )

        clock.set(300)
        await ok(
            client,
            "POST",
            f"{url}/status",
            agent,
            status="RESOLVED",
            resolution="New printer.",
            root_cause="End of life.",
        )
        clock.set(310)
        await ok(client, "POST", f"{url}/status", manager, status="CLOSED")
        clock.set(10**5)
        await expect(
            "CLOSED",
            first_due=at(60),
            resolution_due=at(750),
            responded=at(10),
            paused_seconds=150 * 60,
        )

        customer_view = await client.get(f"/api/tickets/{ticket_id}", headers=customer.headers)
        assert customer_view.status_code == 200
        assert "sla" not in customer_view.json()
        assert not any(
            key.startswith(("sla", "first_resp", "paused")) for key in customer_view.json()
        )
        listed = await client.get("/api/tickets", headers=customer.headers)
        assert [item for item in listed.json()["items"] if "sla" in item] == []

    async def test_live_breach_flags_follow_the_clock(
        self, client: AsyncClient, db: AsyncSession, clock: Clock
    ) -> None:
        customer = await make_actor(db, client, role=Role.CUSTOMER_USER)
        manager = await make_actor(db, client, role=Role.MANAGER)
        ticket_id = await open_ticket(client, customer, "P1")
        first, resolution = await global_policy(db, "P1")
        await ok(client, "POST", f"/api/internal/tickets/{ticket_id}/accept", manager)
        due = {"first_due": at(first), "resolution_due": at(resolution)}

        clock.set(first)
        assert await staff_sla(client, manager, ticket_id) == sla_block(**due)
        clock.set(first + 1)
        assert await staff_sla(client, manager, ticket_id) == sla_block(**due, first_breached=True)
        clock.set(resolution + 1)
        assert await staff_sla(client, manager, ticket_id) == sla_block(
            **due, first_breached=True, resolution_breached=True
        )

    async def test_a_ticket_resolved_before_its_first_response_due_is_not_breached(
        self, client: AsyncClient, db: AsyncSession, clock: Clock
    ) -> None:
        customer = await make_actor(db, client, role=Role.CUSTOMER_USER)
        manager = await make_actor(db, client, role=Role.MANAGER)
        ticket_id = await open_ticket(client, customer, "P3")
        first, resolution = await global_policy(db, "P3")
        url = f"/api/internal/tickets/{ticket_id}"
        await ok(client, "POST", f"{url}/accept", manager)
        await ok(client, "POST", f"{url}/assign", manager, assignee_id=str(manager.id))
        clock.set(first - 1)
        await ok(
            client,
            "POST",
            f"{url}/status",
            manager,
            status="RESOLVED",
            resolution="Fixed remotely.",
            root_cause=f"Known issue {uuid.uuid4().hex[:6]}.",
        )
        clock.set(resolution + 10)
        assert await staff_sla(client, manager, ticket_id) == sla_block(
            first_due=at(first), resolution_due=at(resolution)
        )
