"""A ticket's SLA clocks: pure functions over timestamps and a calendar (no I/O, no clock of their
own). The rules are shared/design/SLA_CALENDARS.md; the arithmetic is services/business_time.py.

- Two clocks (first response, resolution) start at ACCEPTED with the targets of the policy of
  (organization, priority), in business time of the calendar that applies (the organization's,
  else the policy's, else 24/7).
- WAITING_CUSTOMER pauses both (R5); CLOSED/CANCELLED without a resolution (a merge, a withdrawal)
  stop them where they are.
- The first public staff reply completes the first-response clock; RESOLVED completes both (a
  resolution is the customer's answer, so an unanswered ticket is first-responded at that instant).
  A completed clock's consumed seconds are its business duration.
- A priority change keeps the time used and swaps the targets (R6); a reopen runs the resolution
  clock again with its remaining budget (R7); a breach, once recorded, never moves.

:func:`schedule` turns the clocks into the instants stored on the ticket (due, warn, next due,
escalation), so queries never compute business time.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, replace
from datetime import datetime

from app.services.business_time import Calendar, Clock, NoBusinessHours, add_business


@dataclass(frozen=True, slots=True)
class Terms:
    """What the policy and calendar say for one ticket."""

    first_response_s: int
    resolution_s: int
    calendar: Calendar | None = None
    calendar_id: uuid.UUID | None = None
    warn_pct: int = 80
    warn_before_s: int | None = None
    escalate_after_s: int | None = None
    escalate_to_user_id: uuid.UUID | None = None
    escalate_to_team_id: uuid.UUID | None = None


@dataclass(frozen=True, slots=True)
class Clocks:
    first_response: Clock
    resolution: Clock
    paused_at: datetime | None = None
    # Wall-clock seconds spent paused (the API's ``paused_seconds``).
    paused_seconds: int = 0

    @property
    def started(self) -> bool:
        return self.resolution.target_s > 0

    @property
    def paused(self) -> bool:
        return self.paused_at is not None

    @property
    def running_since(self) -> datetime | None:
        return self.resolution.running_since or self.first_response.running_since


@dataclass(frozen=True, slots=True)
class Schedule:
    first_response_due_at: datetime | None
    first_response_warn_at: datetime | None
    resolution_due_at: datetime | None
    resolution_warn_at: datetime | None
    next_due_at: datetime | None
    escalate_at: datetime | None


NOT_STARTED = Clocks(Clock(0), Clock(0))


def start(terms: Terms, now: datetime) -> Clocks:
    return Clocks(
        Clock(terms.first_response_s).start(now),
        Clock(terms.resolution_s).start(now),
    )


def pause(c: Clocks, calendar: Calendar | None, now: datetime) -> Clocks:
    if not c.started or c.paused:
        return c
    return replace(
        c,
        first_response=c.first_response.pause(calendar, now),
        resolution=c.resolution.pause(calendar, now),
        paused_at=now,
    )


def _unpause(c: Clocks, now: datetime) -> Clocks:
    if c.paused_at is None:
        return c
    spent = max(int((now - c.paused_at).total_seconds()), 0)
    return replace(c, paused_at=None, paused_seconds=c.paused_seconds + spent)


def resume(c: Clocks, now: datetime) -> Clocks:
    """Leaving WAITING_CUSTOMER: both unfinished clocks run on with their remaining budget."""
    if not c.paused:
        return c
    c = _unpause(c, now)
    return replace(
        c, first_response=c.first_response.resume(now), resolution=c.resolution.resume(now)
    )


def respond(c: Clocks, calendar: Calendar | None, now: datetime) -> Clocks:
    """A public staff reply completes the first-response clock (a late one records its breach)."""
    if not c.started:
        return c
    return replace(c, first_response=c.first_response.complete(calendar, now))


def resolve(c: Clocks, calendar: Calendar | None, now: datetime) -> Clocks:
    """RESOLVED completes both clocks (from a pause too: the pause ends there)."""
    if not c.started:
        return c
    c = _unpause(c, now)
    return replace(
        c,
        first_response=c.first_response.complete(calendar, now),
        resolution=c.resolution.complete(calendar, now),
    )


def stop(c: Clocks, calendar: Calendar | None, now: datetime) -> Clocks:
    """Closed or cancelled without a resolution: the clocks stop where they are."""
    if not c.started:
        return c
    c = _unpause(c, now)
    return replace(
        c,
        first_response=c.first_response.pause(calendar, now),
        resolution=c.resolution.pause(calendar, now),
    )


def reopen(c: Clocks, now: datetime) -> Clocks:
    """R7: the resolution clock runs again with its remaining budget; the first response stays
    as it was."""
    if not c.resolution.completed:
        return c
    return replace(c, resolution=c.resolution.reopen(now))


def retarget(c: Clocks, calendar: Calendar | None, terms: Terms, now: datetime) -> Clocks:
    """R6: a priority change keeps the time used and swaps both targets; a target already used
    up is breached at *now*."""
    if not c.started:
        return c
    return replace(
        c,
        first_response=c.first_response.retarget(calendar, terms.first_response_s, now),
        resolution=c.resolution.retarget(calendar, terms.resolution_s, now),
    )


def settle(c: Clocks, calendar: Calendar | None, now: datetime) -> Clocks:
    """Fold the time run so far into the consumed seconds (keeps the targets): before a calendar
    change, so the time already used is kept (R8)."""
    return retarget(
        c,
        calendar,
        Terms(int(c.first_response.target_s), int(c.resolution.target_s)),
        now,
    )


def mark_breaches(c: Clocks, calendar: Calendar | None, now: datetime) -> Clocks:
    return replace(
        c,
        first_response=c.first_response.mark_breach(calendar, now),
        resolution=c.resolution.mark_breach(calendar, now),
    )


def _warn_at(clock: Clock, terms: Terms) -> datetime | None:
    warn = clock.warn_at(terms.calendar, terms.warn_pct)
    if warn is not None and terms.warn_before_s is not None:
        before = clock.spent_at(terms.calendar, max(clock.target_s - terms.warn_before_s, 0))
        if before is not None and before < warn:
            warn = before
    return warn


def _due(clock: Clock, calendar: Calendar | None) -> datetime | None:
    """A running clock's due time; a completed one keeps the due time it had (its breach, or
    when the budget left at completion would have run out), so the desk can show "met, was due
    at …"; a paused or stopped clock has none (R5)."""
    if clock.completed_at is not None and clock.target_s > 0:
        if clock.breached_at is not None:
            return clock.breached_at
        left = max(clock.target_s - clock.consumed_s, 0.0)
        return add_business(calendar, clock.completed_at, left)
    return clock.due_at(calendar)


def schedule(c: Clocks, terms: Terms) -> Schedule:
    """The instants to store: due and warning times of the running clocks, the next due time,
    and the second escalation after a breach (a calendar with no open time at all for years
    gives no due time rather than an endless search)."""
    try:
        fr_due = _due(c.first_response, terms.calendar)
        fr_warn = _warn_at(c.first_response, terms)
        res_due = _due(c.resolution, terms.calendar)
        res_warn = _warn_at(c.resolution, terms)
    except NoBusinessHours:
        fr_due = fr_warn = res_due = res_warn = None
    dues = [
        d
        for d, clock in ((fr_due, c.first_response), (res_due, c.resolution))
        if d is not None and clock.running
    ]
    escalate_at = None
    breaches = [
        b for b in (c.first_response.breached_at, c.resolution.breached_at) if b is not None
    ]
    if terms.escalate_after_s and breaches and not c.resolution.completed:
        try:
            escalate_at = add_business(terms.calendar, min(breaches), terms.escalate_after_s)
        except NoBusinessHours:
            escalate_at = None
    return Schedule(
        first_response_due_at=fr_due,
        first_response_warn_at=fr_warn,
        resolution_due_at=res_due,
        resolution_warn_at=res_warn,
        next_due_at=min(dues) if dues else None,
        escalate_at=escalate_at,
    )


def left_s(clock: Clock, calendar: Calendar | None, now: datetime) -> float | None:
    """Business seconds left on a started, unfinished clock (negative once over)."""
    if clock.target_s <= 0 or clock.completed:
        return None
    return clock.target_s - clock.consumed_at(calendar, now)
