"""A ticket's SLA clocks (app/services/sla.py over business_time.py, stored by workflow.py):
the ticket-level rules in pure form, every example of shared/design/SLA_CALENDARS.md played
through the API with a stored calendar (accept, pause, resume, priority change, reopen, calendar
edit), the "next SLA due" order, and a random-sequence check against a minute-by-minute model."""

from __future__ import annotations

import random
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from fastapi import FastAPI
from httpx import AsyncClient
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from app.models import Organization, SlaPolicy, Ticket
from app.models.calendar import SlaCalendar
from app.models.enums import Role
from app.services import business_time, sla, sla_sweep
from app.services.business_time import Calendar
from app.utils.clock import get_now
from tests.factories import Actor, make_actor, make_org

BERLIN = ZoneInfo("Europe/Berlin")
NEW_YORK = ZoneInfo("America/New_York")
H = 3600


def weekdays(start: str, end: str) -> list[dict[str, Any]]:
    return [{"weekday": d, "start": start, "end": end} for d in range(5)]


BERLIN_SPEC: dict[str, Any] = {
    "timezone": "Europe/Berlin",
    "windows": weekdays("08:00", "18:00"),
    "exceptions": [
        {"date": "2025-12-25", "closed": True},
        {"date": "2025-12-26", "closed": True},
    ],
}


def berlin(*args: int) -> datetime:
    return datetime(*args, tzinfo=BERLIN)  # type: ignore[misc]


# ------------------------------------------------------------------ pure ticket clocks

T0 = datetime(2031, 3, 3, 9, 0, tzinfo=UTC)  # a Monday


def at(minutes: float) -> datetime:
    return T0 + timedelta(minutes=minutes)


TERMS = sla.Terms(first_response_s=60 * 60, resolution_s=600 * 60)


class TestClocks:
    def test_start_runs_both_clocks_from_acceptance(self) -> None:
        c = sla.start(TERMS, T0)
        plan = sla.schedule(c, TERMS)
        assert (plan.first_response_due_at, plan.resolution_due_at) == (at(60), at(600))
        assert (plan.first_response_warn_at, plan.resolution_warn_at) == (at(48), at(480))
        assert plan.next_due_at == at(60)

    def test_an_unstarted_clock_ignores_every_event(self) -> None:
        c = sla.NOT_STARTED
        for step in (
            lambda c: sla.pause(c, None, T0),
            lambda c: sla.resume(c, T0),
            lambda c: sla.respond(c, None, T0),
            lambda c: sla.resolve(c, None, T0),
            lambda c: sla.reopen(c, T0),
            lambda c: sla.stop(c, None, T0),
        ):
            assert step(c) == c
        assert sla.schedule(c, TERMS).next_due_at is None

    def test_a_pause_clears_the_due_times_and_keeps_the_time_used(self) -> None:
        c = sla.pause(sla.start(TERMS, T0), None, at(20))
        plan = sla.schedule(c, TERMS)
        assert plan == sla.Schedule(None, None, None, None, None, None)
        assert c.first_response.consumed_s == c.resolution.consumed_s == 20 * 60
        c = sla.resume(c, at(110))
        plan = sla.schedule(c, TERMS)
        assert (plan.first_response_due_at, plan.resolution_due_at) == (at(150), at(690))
        assert c.paused_seconds == 90 * 60

    def test_a_reply_completes_only_the_first_response_clock(self) -> None:
        c = sla.respond(sla.start(TERMS, T0), None, at(10))
        assert c.first_response.completed_at == at(10)
        assert c.first_response.consumed_s == 600
        plan = sla.schedule(c, TERMS)
        # A met clock keeps its due time (for "met, was due at …") but is not due any more.
        assert plan.first_response_due_at == at(60) and plan.resolution_due_at == at(600)
        assert plan.first_response_warn_at is None
        assert plan.next_due_at == at(600)
        assert sla.respond(c, None, at(20)) == c

    def test_a_late_reply_records_the_breach_at_the_due_instant(self) -> None:
        c = sla.respond(sla.start(TERMS, T0), None, at(75))
        assert c.first_response.breached_at == at(60)

    def test_resolve_completes_both_clocks_and_ends_a_pause(self) -> None:
        c = sla.pause(sla.start(TERMS, T0), None, at(30))
        c = sla.resolve(c, None, at(100))
        assert c.first_response.completed_at == c.resolution.completed_at == at(100)
        assert c.resolution.consumed_s == 30 * 60
        assert c.paused_at is None and c.paused_seconds == 70 * 60

    def test_reopen_runs_the_resolution_clock_with_the_budget_left(self) -> None:
        c = sla.resolve(sla.respond(sla.start(TERMS, T0), None, at(10)), None, at(200))
        c = sla.reopen(c, at(260))
        plan = sla.schedule(c, TERMS)
        # 200 of 600 minutes used; resolved time is not counted.
        assert plan.resolution_due_at == at(260 + 400)
        assert plan.first_response_due_at == at(60)
        assert plan.next_due_at == at(260 + 400)
        assert c.first_response.completed_at == at(10)

    def test_stop_freezes_the_clocks(self) -> None:
        c = sla.stop(sla.start(TERMS, T0), None, at(30))
        assert sla.schedule(c, TERMS).next_due_at is None
        assert c.resolution.consumed_s == 30 * 60

    def test_warn_minutes_before_win_when_earlier(self) -> None:
        terms = sla.Terms(3600, 36000, warn_pct=90, warn_before_s=30 * 60)
        plan = sla.schedule(sla.start(terms, T0), terms)
        # 90 % of 60 min = 54 min, 30 min before = 30 min: the earlier wins.
        assert plan.first_response_warn_at == at(30)
        # 90 % of 600 min = 540 min, 30 min before = 570 min.
        assert plan.resolution_warn_at == at(540)

    def test_escalation_is_planned_after_the_first_breach_in_business_time(self) -> None:
        cal = Calendar.from_spec("UTC", weekdays("09:00", "17:00"))
        terms = sla.Terms(3600, 8 * H, calendar=cal, escalate_after_s=2 * H)
        c = sla.mark_breaches(sla.start(terms, T0), cal, at(8 * 60))
        assert c.first_response.breached_at == at(60)
        # 10:00 + 2 business hours = 12:00.
        assert sla.schedule(c, terms).escalate_at == at(180)
        done = sla.resolve(c, cal, at(120))
        assert sla.schedule(done, terms).escalate_at is None


# ------------------------------------------------------------------ through the API


class Clock:
    def __init__(self, start: datetime) -> None:
        self.now = start

    def set(self, moment: datetime) -> datetime:
        self.now = moment
        return moment


@pytest.fixture
def clock(app: FastAPI, client: AsyncClient) -> Iterator[Clock]:
    current = Clock(T0)
    app.dependency_overrides[get_now] = lambda: current.now
    try:
        yield current
    finally:
        app.dependency_overrides.pop(get_now, None)


def _parse(value: Any) -> Any:
    if isinstance(value, str):
        try:
            return datetime.fromisoformat(value)
        except ValueError:
            return value
    return value


class Desk:
    """An organization with its own P1-P4 policies on a calendar, a customer and a manager."""

    def __init__(
        self, db: AsyncSession, client: AsyncClient, clock: Clock, org: Organization
    ) -> None:
        self.db, self.client, self.clock, self.org = db, client, clock, org
        self.customer: Actor
        self.manager: Actor
        self.calendar_id: uuid.UUID | None = None

    async def setup(self) -> Desk:
        self.customer = await make_actor(
            self.db, self.client, role=Role.CUSTOMER_USER, org=self.org
        )
        self.manager = await make_actor(self.db, self.client, role=Role.MANAGER)
        return self

    async def calendar(self, spec: dict[str, Any] | None) -> None:
        if spec is None:
            self.calendar_id = None
        else:
            row = SlaCalendar(name=f"Hours {uuid.uuid4().hex[:8]}", **spec)
            self.db.add(row)
            await self.db.flush()
            self.calendar_id = row.id

    async def policy(self, priority: str, first_h: float, resolution_h: float, **more: Any) -> None:
        self.db.add(
            SlaPolicy(
                org_id=self.org.id,
                priority=priority,
                first_response_minutes=int(first_h * 60),
                resolution_minutes=int(resolution_h * 60),
                calendar_id=self.calendar_id,
                **more,
            )
        )
        await self.db.flush()

    async def call(self, method: str, url: str, actor: Actor | None = None, **json: Any) -> Any:
        response = await self.client.request(
            method,
            url,
            json=json if method != "GET" else None,
            headers=(actor or self.manager).headers,
        )
        assert response.status_code in (200, 201), response.text
        return response.json()

    async def ticket(self, priority: str = "P3") -> str:
        created = await self.call(
            "POST",
            "/api/tickets",
            self.customer,
            title="Printer on fire",
            description="Smoke.",
            priority=priority,
        )
        ticket_id: str = created["id"]
        return ticket_id

    async def accepted(self, when: datetime, priority: str = "P3") -> str:
        ticket_id = await self.ticket(priority)
        self.clock.set(when)
        await self.call("POST", f"/api/internal/tickets/{ticket_id}/accept", priority=priority)
        await self.call(
            "POST",
            f"/api/internal/tickets/{ticket_id}/assign",
            assignee_id=str(self.manager.id),
        )
        return ticket_id

    async def sla(self, ticket_id: str) -> dict[str, Any]:
        got = await self.call("GET", f"/api/internal/tickets/{ticket_id}")
        return {k: _parse(v) for k, v in got["sla"].items()}

    async def status(self, ticket_id: str, when: datetime, status: str, **more: Any) -> None:
        self.clock.set(when)
        await self.call("POST", f"/api/internal/tickets/{ticket_id}/status", status=status, **more)


@pytest.fixture
async def desk(db: AsyncSession, client: AsyncClient, clock: Clock) -> Desk:
    return await Desk(db, client, clock, await make_org(db)).setup()


async def berlin_desk(desk: Desk, first_h: float = 1, resolution_h: float = 4) -> Desk:
    await desk.calendar(BERLIN_SPEC)
    for p in ("P1", "P2", "P3", "P4"):
        await desk.policy(p, first_h, resolution_h)
    return desk


class TestSlaCalendarExamples:
    """shared/design/SLA_CALENDARS.md, Europe/Berlin Mon-Fri 08-18, holidays 25/26 Dec 2025."""

    @pytest.mark.parametrize(
        ("accepted", "hours", "due"),
        [
            pytest.param(berlin(2025, 6, 6, 16), 4, berlin(2025, 6, 9, 10), id="weekend"),
            pytest.param(berlin(2025, 6, 6, 16), 2, berlin(2025, 6, 6, 18), id="closing"),
            pytest.param(berlin(2025, 12, 24, 16), 4, berlin(2025, 12, 29, 10), id="holiday"),
            pytest.param(
                datetime(2025, 3, 28, 16, tzinfo=UTC),
                2,
                datetime(2025, 3, 31, 7, tzinfo=UTC),
                id="dst-spring",
            ),
        ],
    )
    async def test_resolution_due(
        self, desk: Desk, accepted: datetime, hours: int, due: datetime
    ) -> None:
        await berlin_desk(desk, first_h=hours, resolution_h=hours)
        ticket_id = await desk.accepted(accepted)
        block = await desk.sla(ticket_id)
        assert block["resolution_due_at"] == due
        assert block["first_response_due_at"] == due
        assert block["calendar_id"] == str(desk.calendar_id)

    async def test_outside_hours(self, desk: Desk, clock: Clock) -> None:
        await berlin_desk(desk, first_h=1, resolution_h=8)
        ticket_id = await desk.accepted(berlin(2025, 6, 7, 11))  # Saturday
        block = await desk.sla(ticket_id)
        assert block["first_response_due_at"] == berlin(2025, 6, 9, 9)
        assert block["outside_hours"] is True
        assert block["first_response_left_s"] == H
        clock.set(berlin(2025, 6, 9, 8, 30))
        block = await desk.sla(ticket_id)
        assert block["outside_hours"] is False
        assert block["first_response_left_s"] == 30 * 60  # 30 min consumed

    async def test_dst_around_the_clock(self, desk: Desk) -> None:
        await desk.calendar(None)
        for p in ("P1", "P2", "P3", "P4"):
            await desk.policy(p, 4, 23)
        start = datetime(2025, 3, 30, 1, tzinfo=BERLIN)
        ticket_id = await desk.accepted(start)
        block = await desk.sla(ticket_id)
        assert block["first_response_due_at"] == datetime(2025, 3, 30, 6, tzinfo=BERLIN)
        assert block["calendar_id"] is None and block["outside_hours"] is False
        sat = await desk.accepted(datetime(2025, 3, 29, 12, tzinfo=BERLIN))
        assert (await desk.sla(sat))["resolution_due_at"] == datetime(
            2025, 3, 30, 12, tzinfo=BERLIN
        )

    @pytest.mark.parametrize(
        ("resumed", "due"),
        [
            pytest.param(berlin(2025, 6, 3, 10), berlin(2025, 6, 3, 11), id="resumed-tue-10"),
            pytest.param(berlin(2025, 6, 2, 20), berlin(2025, 6, 3, 9), id="resumed-mon-20"),
        ],
    )
    async def test_pause_across_closing(self, desk: Desk, resumed: datetime, due: datetime) -> None:
        await berlin_desk(desk, first_h=8, resolution_h=8)
        ticket_id = await desk.accepted(berlin(2025, 6, 2, 9))
        await desk.status(ticket_id, berlin(2025, 6, 2, 16), "WAITING_CUSTOMER")
        paused = await desk.sla(ticket_id)
        # R5: no due time while paused.
        assert paused["resolution_due_at"] is None and paused["paused"] is True
        assert paused["resolution_left_s"] == 1 * H  # 7 h of 8 used
        await desk.status(ticket_id, resumed, "IN_PROGRESS")
        block = await desk.sla(ticket_id)
        assert block["resolution_due_at"] == due
        assert block["paused"] is False

    @pytest.mark.parametrize(
        ("changed", "due", "breached"),
        [
            pytest.param(berlin(2025, 6, 2, 12), berlin(2025, 6, 2, 13), False, id="at-12"),
            # Already used up: breached (and due) at the moment of the change.
            pytest.param(berlin(2025, 6, 2, 14), berlin(2025, 6, 2, 14), True, id="at-14"),
        ],
    )
    async def test_priority_upgrade(
        self, desk: Desk, db: AsyncSession, changed: datetime, due: datetime, breached: bool
    ) -> None:
        await desk.calendar(BERLIN_SPEC)
        await desk.policy("P3", 8, 8)
        await desk.policy("P1", 4, 4)
        ticket_id = await desk.accepted(berlin(2025, 6, 2, 9), "P3")
        desk.clock.set(changed)
        await desk.call("PATCH", f"/api/internal/tickets/{ticket_id}", priority="P1")
        block = await desk.sla(ticket_id)
        assert block["resolution_due_at"] == due
        assert (
            block["resolution_breached"] is True
            if breached
            else block["resolution_breached"] is False
        )
        stored = (
            await db.execute(
                select(Ticket.sla_resolution_breached_at).where(Ticket.id == uuid.UUID(ticket_id))
            )
        ).scalar_one()
        # R6: breached at the moment of the change, announced at once (not by a later sweep).
        assert stored == (changed if breached else None)
        trail = await desk.call("GET", f"/api/internal/tickets/{ticket_id}/audit")
        entries = trail["items"] if isinstance(trail, dict) else trail
        actions = [e["action"] for e in entries]
        assert actions.count("sla.breached") == (2 if breached else 0)

    async def test_eighty_percent_warning(self, desk: Desk) -> None:
        await berlin_desk(desk, first_h=8, resolution_h=8)
        ticket_id = await desk.accepted(berlin(2025, 6, 2, 9))
        block = await desk.sla(ticket_id)
        assert block["resolution_warn_at"] == berlin(2025, 6, 2, 15, 24)
        assert block["resolution_due_at"] == berlin(2025, 6, 2, 17)

    async def test_split_shift(self, desk: Desk) -> None:
        await desk.calendar(
            {
                "timezone": "Europe/Berlin",
                "windows": weekdays("08:00", "12:00") + weekdays("13:00", "17:00"),
                "exceptions": [],
            }
        )
        await desk.policy("P3", 1, 1)
        ticket_id = await desk.accepted(berlin(2025, 6, 2, 11, 30))
        assert (await desk.sla(ticket_id))["resolution_due_at"] == berlin(2025, 6, 2, 13, 30)

    async def test_new_york(self, desk: Desk) -> None:
        await desk.calendar(
            {
                "timezone": "America/New_York",
                "windows": weekdays("09:00", "17:00"),
                "exceptions": [],
            }
        )
        await desk.policy("P3", 2, 2)
        ticket_id = await desk.accepted(datetime(2025, 3, 7, 16, tzinfo=NEW_YORK))
        due = (await desk.sla(ticket_id))["resolution_due_at"]
        assert due == datetime(2025, 3, 10, 14, tzinfo=UTC)

    async def test_autumn_switch_counts_the_repeated_hour(self, desk: Desk) -> None:
        await desk.calendar(
            {
                "timezone": "Europe/Berlin",
                "windows": [{"weekday": 6, "start": "00:00", "end": "24:00"}],
                "exceptions": [],
            }
        )
        await desk.policy("P3", 25, 25)
        ticket_id = await desk.accepted(berlin(2025, 10, 26, 0))
        # 2025-10-26 is a 25-hour Sunday: 25 business hours end exactly at its end.
        due = (await desk.sla(ticket_id))["resolution_due_at"]
        assert due == berlin(2025, 10, 27, 0)


class TestLifecycle:
    async def test_reopen_resumes_with_the_remaining_budget_and_is_counted(
        self, desk: Desk, db: AsyncSession
    ) -> None:
        await berlin_desk(desk, first_h=1, resolution_h=8)
        ticket_id = await desk.accepted(berlin(2025, 6, 2, 9))
        desk.clock.set(berlin(2025, 6, 2, 9, 30))
        await desk.call(
            "POST", f"/api/internal/tickets/{ticket_id}/comments", body="On it.", is_internal=False
        )
        await desk.status(
            ticket_id,
            berlin(2025, 6, 2, 12),
            "RESOLVED",
            resolution="Replaced the fuser.",
            root_cause="Worn fuser.",
        )
        done = await desk.sla(ticket_id)
        # Met clocks keep the due times they had; nothing is due any more.
        assert done["first_response_due_at"] == berlin(2025, 6, 2, 10)
        assert done["resolution_due_at"] == berlin(2025, 6, 2, 17)
        assert done["resolution_breached"] is False and done["resolution_left_s"] is None
        # The customer objects on Wednesday: 3 h used, 5 h left from Wed 10:00.
        desk.clock.set(berlin(2025, 6, 4, 10))
        await desk.call(
            "POST", f"/api/tickets/{ticket_id}/comments", desk.customer, body="Still broken."
        )
        block = await desk.sla(ticket_id)
        assert block["resolution_due_at"] == berlin(2025, 6, 4, 15)
        assert block["first_responded_at"] == berlin(2025, 6, 2, 9, 30)
        row = (
            await db.execute(
                select(
                    Ticket.reopen_count,
                    Ticket.sla_first_response_consumed_s,
                    Ticket.accept_business_s,
                ).where(Ticket.id == uuid.UUID(ticket_id))
            )
        ).one()
        assert row.reopen_count == 1
        assert row.sla_first_response_consumed_s == 30 * 60

    async def test_a_resolution_answers_an_unanswered_ticket(self, desk: Desk) -> None:
        await berlin_desk(desk, first_h=2, resolution_h=8)
        ticket_id = await desk.accepted(berlin(2025, 6, 2, 9))
        await desk.status(
            ticket_id, berlin(2025, 6, 2, 10), "RESOLVED", resolution="Done.", root_cause="User."
        )
        block = await desk.sla(ticket_id)
        assert block["first_responded_at"] == berlin(2025, 6, 2, 10)
        assert block["first_response_breached"] is False

    async def test_acceptance_time_is_stored_in_business_seconds(
        self, desk: Desk, db: AsyncSession
    ) -> None:
        await berlin_desk(desk)
        desk.clock.set(berlin(2025, 6, 6, 17))  # created Friday 17:00
        ticket_id = await desk.ticket()
        desk.clock.set(berlin(2025, 6, 9, 9))
        await desk.call("POST", f"/api/internal/tickets/{ticket_id}/accept")
        stored = (
            await db.execute(
                select(Ticket.accept_business_s).where(Ticket.id == uuid.UUID(ticket_id))
            )
        ).scalar_one()
        assert stored == 2 * H  # Fri 17-18 and Mon 08-09

    async def test_the_customer_never_sees_the_clocks(self, desk: Desk) -> None:
        await berlin_desk(desk)
        ticket_id = await desk.accepted(berlin(2025, 6, 2, 9))
        got = await desk.call("GET", f"/api/tickets/{ticket_id}", desk.customer)
        assert not any(k.startswith(("sla", "first_resp", "paused", "reopen")) for k in got)


class TestCalendarEdit:
    async def test_an_edit_keeps_the_time_used_and_moves_running_deadlines(
        self, desk: Desk, db: AsyncSession
    ) -> None:
        await berlin_desk(desk, first_h=8, resolution_h=8)
        running = await desk.accepted(berlin(2025, 6, 2, 9))
        paused = await desk.accepted(berlin(2025, 6, 2, 9))
        await desk.status(paused, berlin(2025, 6, 2, 10), "WAITING_CUSTOMER")
        # At 12:00 the admin closes the rest of Monday and opens Tuesday 06:00-18:00.
        now = berlin(2025, 6, 2, 12)
        assert desk.calendar_id is not None
        await db.execute(
            update(SlaCalendar)
            .where(SlaCalendar.id == desk.calendar_id)
            .values(
                exceptions=[
                    {
                        "date": "2025-06-02",
                        "closed": False,
                        "windows": [{"start": "08:00", "end": "12:00"}],
                    },
                    {
                        "date": "2025-06-03",
                        "closed": False,
                        "windows": [{"start": "06:00", "end": "18:00"}],
                    },
                ]
            )
        )
        done = await sla_sweep.recompute_running(db, now, calendar_id=desk.calendar_id)
        assert done == 1  # the paused clock has no deadline to move
        db.expire_all()
        desk.clock.set(now)
        block = await desk.sla(running)
        # 3 h used Monday, 5 h left from Tuesday 06:00.
        assert block["resolution_due_at"] == berlin(2025, 6, 3, 11)
        assert (await desk.sla(paused))["resolution_due_at"] is None


class TestNextDueOrder:
    async def test_the_soonest_due_first_and_clocks_not_running_last(self, desk: Desk) -> None:
        await desk.calendar(None)
        await desk.policy("P1", 1, 4)
        await desk.policy("P3", 8, 24)
        slow = await desk.accepted(T0, "P3")
        fast = await desk.accepted(T0 + timedelta(minutes=5), "P1")
        paused = await desk.accepted(T0, "P1")
        await desk.status(paused, T0 + timedelta(minutes=6), "WAITING_CUSTOMER")
        waiting_new = await desk.ticket("P1")
        seen: list[str] = []
        cursor = None
        while True:
            params: dict[str, Any] = {"org_id": str(desk.org.id), "sort": "sla_due", "limit": 1}
            if cursor:
                params["cursor"] = cursor
            response = await desk.client.get(
                "/api/internal/tickets", params=params, headers=desk.manager.headers
            )
            assert response.status_code == 200, response.text
            page = response.json()
            seen += [i["id"] for i in page["items"]]
            cursor = page["next_cursor"]
            if not cursor:
                break
        assert seen[:2] == [fast, slow]
        assert sorted(seen[2:]) == sorted([paused, waiting_new])
        bad = await desk.client.get(
            "/api/internal/tickets", params={"sort": "nonsense"}, headers=desk.manager.headers
        )
        assert bad.status_code == 422


# ------------------------------------------------------------------ random sequences


def _model_minutes(
    cal: Calendar, start: datetime, events: list[tuple[datetime, str]], end: datetime
) -> dict[str, float]:
    """Business minutes each clock consumed by *end*, walking minute by minute (an oracle)."""
    state = {"first": "running", "resolution": "running"}
    consumed = {"first": 0.0, "resolution": 0.0}
    queue = sorted(events)
    t = start
    i = 0
    while t < end:
        while i < len(queue) and queue[i][0] <= t:
            kind = queue[i][1]
            if kind == "pause":
                state = {k: "paused" if v == "running" else v for k, v in state.items()}
            elif kind == "resume":
                state = {k: "running" if v == "paused" else v for k, v in state.items()}
            elif kind == "respond" and state["first"] != "done":
                state["first"] = "done"
            elif kind == "resolve":
                state = {"first": "done", "resolution": "resolved"}
            elif kind == "reopen" and state["resolution"] == "resolved":
                state["resolution"] = "running"
            i += 1
        if business_time.is_open(cal, t):
            for k, v in state.items():
                if v == "running":
                    consumed[k] += 1
        t += timedelta(minutes=1)
    return consumed


@pytest.mark.parametrize("seed", range(12))
def test_random_event_sequences_match_a_minute_by_minute_model(seed: int) -> None:
    rng = random.Random(seed)
    cal = Calendar.from_spec(
        "Europe/Berlin",
        weekdays("08:00", "12:00") + weekdays("13:00", "18:00"),
        [{"date": "2025-03-31", "closed": True}],
    )
    start = datetime(2025, 3, 28, 7, tzinfo=UTC)  # a Friday, the DST weekend ahead
    terms = sla.Terms(4 * H, 30 * H, calendar=cal)
    c = sla.start(terms, start)
    t = start
    events: list[tuple[datetime, str]] = [(start, "start")]
    status = "working"
    for _ in range(rng.randint(3, 14)):
        t += timedelta(minutes=rng.randint(1, 2000))
        choices = {
            "working": ["pause", "respond", "resolve"],
            "paused": ["resume", "respond", "resolve"],
            "resolved": ["reopen"],
        }[status]
        kind = rng.choice(choices)
        events.append((t, kind))
        if kind == "pause":
            c, status = sla.pause(c, cal, t), "paused"
        elif kind == "resume":
            c, status = sla.resume(c, t), "working"
        elif kind == "respond":
            c = sla.respond(c, cal, t)
        elif kind == "resolve":
            c, status = sla.resolve(c, cal, t), "resolved"
        elif kind == "reopen":
            c, status = sla.reopen(c, t), "working"
    end = t + timedelta(minutes=rng.randint(1, 3000))
    model = _model_minutes(cal, start, [e for e in events if e[1] != "start"], end)
    got_first = c.first_response.consumed_at(cal, end) / 60
    got_resolution = c.resolution.consumed_at(cal, end) / 60
    assert got_first == pytest.approx(model["first"], abs=1e-6), events
    assert got_resolution == pytest.approx(model["resolution"], abs=1e-6), events
    plan = sla.schedule(c, terms)
    if c.resolution.running_since is not None and not c.resolution.breached_at:
        assert plan.resolution_due_at is not None
        left = c.resolution.target_s - c.resolution.consumed_at(cal, plan.resolution_due_at)
        assert abs(left) < 1e-3


class TestRecomputeInTheBackground:
    async def test_the_worker_finishes_what_the_request_left(
        self, desk: Desk, db: AsyncSession
    ) -> None:
        await berlin_desk(desk, first_h=8, resolution_h=8)
        ids = [await desk.accepted(berlin(2025, 6, 2, 9)) for _ in range(3)]
        now = berlin(2025, 6, 2, 12)
        assert desk.calendar_id is not None
        # Calendar and organization were last changed before the tickets were accepted.
        before = berlin(2025, 6, 1)
        await db.execute(
            update(SlaCalendar).values(updated_at=before).where(SlaCalendar.id == desk.calendar_id)
        )
        await db.execute(
            update(Organization).values(updated_at=before).where(Organization.id == desk.org.id)
        )
        assert await sla_sweep.recompute_stale(db, now) == 0
        await db.execute(
            update(SlaCalendar)
            .where(SlaCalendar.id == desk.calendar_id)
            .values(windows=weekdays("08:00", "16:00"))
        )
        # The request recomputes one; the other two are stale for the worker, once.
        assert (
            await sla_sweep.recompute_running(db, now, calendar_id=desk.calendar_id, limit=1) == 1
        )
        assert await sla_sweep.recompute_stale(db, now) == 2
        assert await sla_sweep.recompute_stale(db, now) == 0
        db.expire_all()
        desk.clock.set(now)
        for ticket_id in ids:
            # 3 h used by 12:00, 4 h more on Monday until 16:00, the last hour Tuesday 08-09.
            assert (await desk.sla(ticket_id))["resolution_due_at"] == berlin(2025, 6, 3, 9)
