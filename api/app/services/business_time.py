"""Business-hours time: pure functions over a calendar and timestamps (no I/O, no clock of its own).

The rules are those of shared/design/SLA_CALENDARS.md (R1-R7); services/sla.py applies them to a
ticket's two clocks.

- A :class:`Calendar` is an IANA time zone, weekly local windows ``[start, end)`` (several per day,
  ``24:00`` allowed as an end) and dated exceptions (closed, or special hours replacing the
  weekday's windows). ``None`` (or :meth:`Calendar.always`) is 24/7: business time is plain elapsed
  time.
- Windows are materialised per *local date* through ``zoneinfo`` and compared in UTC; nothing is
  ever stored as a fixed offset.
- **Local time → instant.** A window boundary ``HH:MM`` on a date is *the first instant at which the
  local wall clock reads that time or later*:
    * a wall time that exists once is that instant;
    * a wall time that exists twice (autumn, e.g. Europe/Berlin 2025-10-26 02:30) is its **first**
      occurrence: a window covering the repeated hour counts it twice (00:00-24:00 that day is 25
      hours), a window with a boundary inside it counts up to the first occurrence;
    * a wall time that does not exist (spring, e.g. Europe/Berlin 2025-03-30 02:30) is the moment
      the clocks jump (03:00+02): a window 02:30-03:30 that day is open 03:00-03:30 (30 min), a
      window 02:00-03:00 is empty.
  This mapping never goes backwards, so windows of one date never overlap or invert and adjacent
  windows (and a window ending at 24:00 followed by one starting at 00:00) stay seamless.
- :func:`add_business` returns the **earliest** instant at which the budget is used up: a budget
  ending exactly at closing time is due at closing time (R3), and a zero budget is due at *start*
  itself, open or not (nothing is left to spend).
- An open-ended search (:func:`add_business`, and so every due/warn time) gives up with
  :class:`NoBusinessHours` after ``MAX_CLOSED_DAYS`` consecutive local days without any open time,
  instead of looping forever. Bounded questions (:func:`business_seconds`, :func:`windows_between`,
  :func:`is_open`) never raise it.

:class:`Clock` is one SLA clock (first response or resolution) with pure transitions: it keeps the
business seconds consumed and the instant it last started running; ``due_at`` and ``warn_at`` are
derived from them and a calendar.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, time, timedelta
from itertools import pairwise
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

DAY_NAMES = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
MINUTES_PER_DAY = 24 * 60
# An open-ended search gives up after this many consecutive local days with no open time at all.
MAX_CLOSED_DAYS = 5 * 366
_HHMM = re.compile(r"(?P<h>[01][0-9]|2[0-3]):(?P<m>[0-5][0-9])|24:00")
_ZERO = timedelta(0)
_TICK = timedelta(microseconds=1)


class NoBusinessHours(ValueError):
    """The calendar has no open time within the search bound."""


def _hhmm(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def parse_hhmm(value: object, *, end: bool = False) -> int:
    """``"HH:MM"`` → minutes since local midnight; ``"24:00"`` only as an *end*."""
    match = _HHMM.fullmatch(value) if isinstance(value, str) else None
    if match is None or (value == "24:00" and not end):
        allowed = "00:00-24:00" if end else "00:00-23:59"
        raise ValueError(f"bad time {value!r}: expected HH:MM ({allowed})")
    if value == "24:00":
        return MINUTES_PER_DAY
    return int(match["h"]) * 60 + int(match["m"])


@dataclass(frozen=True, slots=True, order=True)
class Window:
    """Local opening ``[start, end)`` in minutes since midnight (``end`` may be 1440 = 24:00)."""

    start: int
    end: int

    def __post_init__(self) -> None:
        if not (0 <= self.start < MINUTES_PER_DAY and 0 < self.end <= MINUTES_PER_DAY):
            raise ValueError(f"window {self.start}-{self.end}: minutes out of range 0-1440")
        if self.start >= self.end:
            raise ValueError(f"window {self}: start must be before end")

    @classmethod
    def parse(cls, start: object, end: object) -> Window:
        return cls(parse_hhmm(start), parse_hhmm(end, end=True))

    def __str__(self) -> str:
        return f"{_hhmm(self.start)}-{_hhmm(self.end)}"


def _checked(windows: Iterable[Window], where: str) -> tuple[Window, ...]:
    ordered = tuple(sorted(windows))
    for before, after in pairwise(ordered):
        if before.end > after.start:
            raise ValueError(f"windows on {where} overlap: {before} and {after}")
    return ordered


_FULL_DAY = (Window(0, MINUTES_PER_DAY),)


@dataclass(frozen=True, slots=True)
class Calendar:
    """A validated calendar. ``weekly[0]`` is Monday; ``exceptions`` pairs a local date with the
    windows that replace the weekday's on that date (``()`` = closed)."""

    timezone: str
    weekly: tuple[tuple[Window, ...], ...]
    exceptions: tuple[tuple[date, tuple[Window, ...]], ...] = ()
    zone: ZoneInfo = field(init=False, repr=False, compare=False)
    _by_date: Mapping[date, tuple[Window, ...]] = field(init=False, repr=False, compare=False)
    _always: bool = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        try:
            zone = ZoneInfo(self.timezone)
        except (ZoneInfoNotFoundError, ValueError, TypeError, OSError):
            raise ValueError(f"unknown time zone {self.timezone!r}") from None
        if len(self.weekly) != 7:
            raise ValueError(f"weekly needs 7 days (Monday first), got {len(self.weekly)}")
        weekly = tuple(_checked(day, DAY_NAMES[weekday]) for weekday, day in enumerate(self.weekly))
        by_date: dict[date, tuple[Window, ...]] = {}
        for day, windows in self.exceptions:
            if day in by_date:
                raise ValueError(f"exception {day.isoformat()} is listed twice")
            by_date[day] = _checked(windows, day.isoformat())
        object.__setattr__(self, "weekly", weekly)
        object.__setattr__(self, "exceptions", tuple(sorted(by_date.items())))
        object.__setattr__(self, "zone", zone)
        object.__setattr__(self, "_by_date", by_date)
        object.__setattr__(self, "_always", not by_date and all(d == _FULL_DAY for d in weekly))

    @classmethod
    def always(cls) -> Calendar:
        """24/7: every instant is business time (the same as no calendar)."""
        return cls("UTC", (_FULL_DAY,) * 7)

    @classmethod
    def from_spec(
        cls,
        timezone: str,
        windows: Iterable[Mapping[str, Any]],
        exceptions: Iterable[Mapping[str, Any]] = (),
    ) -> Calendar:
        """The API shape: ``windows: [{weekday: 0..6 (Monday = 0), start: "HH:MM", end:
        "HH:MM"}]``, ``exceptions: [{date: "YYYY-MM-DD", closed: bool, windows?: [{start,
        end}]}]``."""
        weekly: list[list[Window]] = [[] for _ in DAY_NAMES]
        for spec in windows:
            weekday = spec.get("weekday")
            if not isinstance(weekday, int) or isinstance(weekday, bool) or not 0 <= weekday <= 6:
                raise ValueError(f"weekday must be 0..6 (Monday = 0), not {weekday!r}")
            weekly[weekday].append(Window.parse(spec.get("start"), spec.get("end")))
        dated: list[tuple[date, tuple[Window, ...]]] = []
        for spec in exceptions:
            raw = spec.get("date")
            try:
                day = raw if isinstance(raw, date) else date.fromisoformat(str(raw))
            except ValueError:
                raise ValueError(f"bad exception date {raw!r}: expected YYYY-MM-DD") from None
            closed = spec.get("closed", False)
            special = list(spec.get("windows") or ())
            if closed and special:
                raise ValueError(f"exception {day.isoformat()} is closed but lists windows")
            if not closed and not special:
                raise ValueError(
                    f"exception {day.isoformat()}: give windows (special hours) or closed: true"
                )
            dated.append((day, tuple(Window.parse(w.get("start"), w.get("end")) for w in special)))
        return cls(timezone, tuple(tuple(day) for day in weekly), tuple(dated))

    @property
    def is_always(self) -> bool:
        return self._always

    def windows_on(self, day: date) -> tuple[Window, ...]:
        """The local windows of *day*: its exception if any, else its weekday's."""
        return self._by_date.get(day, self.weekly[day.weekday()])


def _first_instant(zone: ZoneInfo, wall: datetime) -> datetime:
    """The first instant (UTC) at which the wall clock of *zone* reads *wall* or later."""
    guess = wall.replace(tzinfo=zone).astimezone(UTC)  # fold=0: the first of two occurrences
    if guess.astimezone(zone).replace(tzinfo=None) == wall:
        return guess
    # *wall* is skipped (spring forward): find the jump, which lies between reading *wall* with the
    # offset after it (too early) and with the offset before it (*guess*, at or after the jump).
    low = int(wall.replace(tzinfo=zone, fold=1).timestamp())
    high = int(guess.timestamp())
    after = datetime.fromtimestamp(high, zone).utcoffset()
    while high - low > 1:
        middle = (low + high) // 2
        if datetime.fromtimestamp(middle, zone).utcoffset() == after:
            high = middle
        else:
            low = middle
    return datetime.fromtimestamp(high, UTC)


def _day_intervals(calendar: Calendar, day: date) -> Iterator[tuple[datetime, datetime]]:
    midnight = datetime.combine(day, time())
    for window in calendar.windows_on(day):
        opens = _first_instant(calendar.zone, midnight + timedelta(minutes=window.start))
        closes = _first_instant(calendar.zone, midnight + timedelta(minutes=window.end))
        if closes > opens:
            yield opens, closes


def _aware(value: datetime, name: str) -> datetime:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{name} must be timezone-aware, got {value!r}")
    return value.astimezone(UTC)


def _open_intervals(
    calendar: Calendar, start: datetime, end: datetime | None
) -> Iterator[tuple[datetime, datetime]]:
    """Open UTC intervals clipped to ``[start, end)``, in order; ``end=None`` searches forward,
    bounded by ``MAX_CLOSED_DAYS``."""
    zone = calendar.zone
    day = start.astimezone(zone).date() - timedelta(days=1)
    last = None if end is None else end.astimezone(zone).date() + timedelta(days=1)
    closed_days = 0
    while last is None or day <= last:
        seen = False
        for opens, closes in _day_intervals(calendar, day):
            seen = True
            if end is not None and opens >= end:
                return
            lower, upper = max(opens, start), closes if end is None else min(closes, end)
            if upper > lower:
                yield lower, upper
        closed_days = 0 if seen else closed_days + 1
        if last is None and closed_days > MAX_CLOSED_DAYS:
            raise NoBusinessHours(
                f"the calendar ({calendar.timezone}) has no business hours on "
                f"{MAX_CLOSED_DAYS} consecutive days up to {day.isoformat()}: is every day closed?"
            )
        day += timedelta(days=1)


def windows_between(
    calendar: Calendar | None, start: datetime, end: datetime
) -> Iterator[tuple[datetime, datetime]]:
    """The open intervals within ``[start, end)`` as UTC ``(opens, closes)`` pairs, in order."""
    start, end = _aware(start, "start"), _aware(end, "end")
    if end <= start:
        return
    if calendar is None or calendar.is_always:
        yield start, end
        return
    yield from _open_intervals(calendar, start, end)


def business_time(calendar: Calendar | None, start: datetime, end: datetime) -> timedelta:
    """Business time in ``[start, end)`` (zero when *end* is not after *start*), exact."""
    return sum((closes - opens for opens, closes in windows_between(calendar, start, end)), _ZERO)


def business_seconds(calendar: Calendar | None, start: datetime, end: datetime) -> float:
    """Business seconds in ``[start, end)`` (zero when *end* is not after *start*)."""
    return business_time(calendar, start, end).total_seconds()


def add_business(
    calendar: Calendar | None, start: datetime, seconds: float | timedelta
) -> datetime:
    """The earliest instant (UTC) by which *seconds* of business time have passed since *start*.

    A budget ending exactly at closing time is due at closing time, not at the next opening; a zero
    budget is due at *start* itself. Raises :class:`NoBusinessHours` for a calendar without open
    time within ``MAX_CLOSED_DAYS``."""
    start = _aware(start, "start")
    budget = seconds if isinstance(seconds, timedelta) else timedelta(seconds=seconds)
    if budget < _ZERO:
        raise ValueError(f"a business-time budget cannot be negative: {seconds!r}")
    if budget == _ZERO:
        return start
    if calendar is None or calendar.is_always:
        return start + budget
    for opens, closes in _open_intervals(calendar, start, None):
        if budget <= closes - opens:
            return opens + budget
        budget -= closes - opens
    raise AssertionError("an open-ended search ends only by raising")  # pragma: no cover


def is_open(calendar: Calendar | None, at: datetime) -> bool:
    """Whether the instant *at* lies inside an open window."""
    return next(windows_between(calendar, at, at + _TICK), None) is not None


@dataclass(frozen=True, slots=True)
class Clock:
    """One SLA clock (R3): ``consumed_s`` business seconds used before ``running_since`` (``None``
    while paused, before the start and once completed). Transitions return a new clock and ignore
    calls that do not apply (pausing a paused clock, completing a completed one), like sla.py.

    A breach is recorded at the instant the budget ran out, as soon as a transition (or
    :meth:`mark_breach`, the sweep) sees it; R6 records a breach at the moment of a priority
    change. A recorded breach is never cleared."""

    target_s: float
    consumed_s: float = 0.0
    running_since: datetime | None = None
    breached_at: datetime | None = None
    completed_at: datetime | None = None

    @property
    def running(self) -> bool:
        return self.running_since is not None

    @property
    def completed(self) -> bool:
        return self.completed_at is not None

    def consumed_at(self, calendar: Calendar | None, now: datetime) -> float:
        """Business seconds used by *now*."""
        if self.running_since is None:
            return self.consumed_s
        return self.consumed_s + business_seconds(calendar, self.running_since, now)

    def spent_at(self, calendar: Calendar | None, budget_s: float) -> datetime | None:
        """When *budget_s* business seconds in total are used up; ``None`` unless running."""
        if self.running_since is None:
            return None
        return add_business(calendar, self.running_since, max(budget_s - self.consumed_s, 0.0))

    def due_at(self, calendar: Calendar | None) -> datetime | None:
        """When the target is used up; ``None`` unless running (R5: NULL while paused)."""
        return self.spent_at(calendar, self.target_s)

    def warn_at(self, calendar: Calendar | None, warn_pct: float = 80) -> datetime | None:
        """When *warn_pct* % of the target is used up (at once if already past it); ``None``
        unless running, and once breached."""
        if not 0 < warn_pct <= 100:
            raise ValueError(f"warn_pct must be in (0, 100], got {warn_pct!r}")
        if self.breached_at is not None:
            return None
        return self.spent_at(calendar, self.target_s * warn_pct / 100)

    def _settle(self, calendar: Calendar | None, now: datetime) -> Clock:
        """Fold the running time up to *now* into ``consumed_s`` (and record a breach that
        happened before *now*); the clock keeps running from *now*."""
        if self.running_since is None:
            return self
        breached = self.breached_at
        if breached is None:
            due = self.due_at(calendar)
            if due is not None and due < now:
                breached = due
        return replace(
            self,
            consumed_s=self.consumed_s + business_seconds(calendar, self.running_since, now),
            running_since=max(self.running_since, now),
            breached_at=breached,
        )

    def start(self, now: datetime) -> Clock:
        """ACCEPTED (R4): a fresh clock starts running."""
        if self.running or self.completed or self.consumed_s or self.breached_at:
            return self
        return replace(self, running_since=now)

    def pause(self, calendar: Calendar | None, now: datetime) -> Clock:
        """WAITING_CUSTOMER (R5)."""
        if self.running_since is None:
            return self
        return replace(self._settle(calendar, now), running_since=None)

    def resume(self, now: datetime) -> Clock:
        """Leaving WAITING_CUSTOMER: runs on with the remaining budget."""
        if self.running or self.completed:
            return self
        return replace(self, running_since=now)

    def retarget(self, calendar: Calendar | None, new_target_s: float, now: datetime) -> Clock:
        """A priority change (R6): keeps ``consumed_s``, swaps the target, and is breached at
        *now* if the budget used already reaches the new target. A completed clock only records
        the new target (for a reopen)."""
        if self.completed:
            return replace(self, target_s=new_target_s)
        clock = self._settle(calendar, now)
        breached = clock.breached_at
        if breached is None and clock.consumed_s >= new_target_s:
            breached = now
        return replace(clock, target_s=new_target_s, breached_at=breached)

    def complete(self, calendar: Calendar | None, now: datetime) -> Clock:
        """The target is met (first public reply, RESOLVED); a late one records its breach.
        ``consumed_s`` is then the business duration to store."""
        if self.completed:
            return self
        return replace(self._settle(calendar, now), running_since=None, completed_at=now)

    def reopen(self, now: datetime) -> Clock:
        """R7: runs again with its remaining budget; the time spent completed counts as paused."""
        if not self.completed:
            return self
        return replace(self, completed_at=None, running_since=now)

    def mark_breach(self, calendar: Calendar | None, now: datetime) -> Clock:
        """The sweep (R9): record the breach if the budget ran out by *now* (idempotent)."""
        if self.breached_at is not None:
            return self
        due = self.due_at(calendar)
        if due is None or due > now:
            return self
        return replace(self, breached_at=due)
