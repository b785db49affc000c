"""SLA arithmetic: pure functions over timestamps (no I/O, no clock of their own).

Clocks start at ACCEPTED from the policy of (organization, priority), falling back to the global
policy. WAITING_CUSTOMER pauses both clocks; on resume the paused time is added to every due time
not yet met. First response is met by the first public staff comment, resolution at RESOLVED;
a reopened ticket's resolution clock runs on, not counting the time it spent resolved.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta


@dataclass(frozen=True, slots=True)
class SlaClock:
    first_response_due_at: datetime | None = None
    resolution_due_at: datetime | None = None
    first_responded_at: datetime | None = None
    resolved_at: datetime | None = None
    paused_at: datetime | None = None
    paused_seconds: int = 0
    first_response_breached_at: datetime | None = None
    resolution_breached_at: datetime | None = None

    @property
    def started(self) -> bool:
        return self.resolution_due_at is not None

    @property
    def paused(self) -> bool:
        return self.paused_at is not None


def start(now: datetime, *, first_response_minutes: int, resolution_minutes: int) -> SlaClock:
    return SlaClock(
        first_response_due_at=now + timedelta(minutes=first_response_minutes),
        resolution_due_at=now + timedelta(minutes=resolution_minutes),
    )


def pause(clock: SlaClock, now: datetime) -> SlaClock:
    if not clock.started or clock.paused:
        return clock
    return replace(clock, paused_at=now)


def resume(clock: SlaClock, now: datetime) -> SlaClock:
    """Leave a pause: push every unmet due time back by the time spent paused."""
    if clock.paused_at is None:
        return clock
    delta = max(now - clock.paused_at, timedelta(0))
    first_due = clock.first_response_due_at
    if first_due is not None and clock.first_responded_at is None:
        first_due += delta
    resolution_due = clock.resolution_due_at
    if resolution_due is not None and clock.resolved_at is None:
        resolution_due += delta
    return replace(
        clock,
        first_response_due_at=first_due,
        resolution_due_at=resolution_due,
        paused_at=None,
        paused_seconds=clock.paused_seconds + int(delta.total_seconds()),
    )


def respond(clock: SlaClock, now: datetime) -> SlaClock:
    """A public staff reply: meets the first-response target once. A reply after the due time
    records the breach (like the sweep, as of when it was seen) even if no sweep ran in
    between."""
    if not clock.started or clock.first_responded_at is not None:
        return clock
    late = clock.first_response_due_at is not None and clock.first_response_due_at < now
    return replace(
        clock,
        first_responded_at=now,
        first_response_breached_at=clock.first_response_breached_at or (now if late else None),
    )


def resolve(clock: SlaClock, now: datetime) -> SlaClock:
    """RESOLVED: meets the resolution target (a late resolution records its breach)."""
    clock = resume(clock, now)
    late = clock.resolution_due_at is not None and clock.resolution_due_at < now
    return replace(
        clock,
        resolved_at=now,
        resolution_breached_at=clock.resolution_breached_at or (now if late else None),
    )


def retarget(
    clock: SlaClock, accepted_at: datetime, *, first_response_minutes: int, resolution_minutes: int
) -> SlaClock:
    """A priority change after acceptance: unmet due times follow the new policy, counted from
    acceptance plus the time already spent paused."""
    if not clock.started:
        return clock
    shift = timedelta(seconds=clock.paused_seconds)
    first_due = clock.first_response_due_at
    if clock.first_responded_at is None:
        first_due = accepted_at + timedelta(minutes=first_response_minutes) + shift
    resolution_due = clock.resolution_due_at
    if clock.resolved_at is None:
        resolution_due = accepted_at + timedelta(minutes=resolution_minutes) + shift
    return replace(clock, first_response_due_at=first_due, resolution_due_at=resolution_due)


def reopen(clock: SlaClock, now: datetime) -> SlaClock:
    """RESOLVED → IN_PROGRESS: the clocks run again. The time the ticket spent resolved
    (waiting for the customer to object) counts like a pause: it is added to every unmet due
    time."""
    if clock.resolved_at is None:
        return clock
    delta = max(now - clock.resolved_at, timedelta(0))
    first_due = clock.first_response_due_at
    if first_due is not None and clock.first_responded_at is None:
        first_due += delta
    due = clock.resolution_due_at + delta if clock.resolution_due_at is not None else None
    return replace(
        clock,
        first_response_due_at=first_due,
        resolution_due_at=due,
        resolved_at=None,
        paused_seconds=clock.paused_seconds + int(delta.total_seconds()),
    )


def first_response_breached(clock: SlaClock, now: datetime) -> bool:
    due = clock.first_response_due_at
    return (
        due is not None
        and not clock.paused
        and clock.first_responded_at is None
        and clock.resolved_at is None
        and clock.first_response_breached_at is None
        and due < now
    )


def resolution_breached(clock: SlaClock, now: datetime) -> bool:
    due = clock.resolution_due_at
    return (
        due is not None
        and not clock.paused
        and clock.resolved_at is None
        and clock.resolution_breached_at is None
        and due < now
    )


def mark_breaches(clock: SlaClock, now: datetime) -> SlaClock:
    """Record breaches that happened by *now* (idempotent: a breach is marked once)."""
    return replace(
        clock,
        first_response_breached_at=now
        if first_response_breached(clock, now)
        else clock.first_response_breached_at,
        resolution_breached_at=now
        if resolution_breached(clock, now)
        else clock.resolution_breached_at,
    )
