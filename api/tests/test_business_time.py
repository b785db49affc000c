"""Business-hours time (app/services/business_time.py): every example of
shared/design/SLA_CALENDARS.md, both DST switches, a window ending at 24:00, validation, the
never-loop guard, and property tests (additivity, add_business inverting business_seconds, a
brute-force wall-clock oracle, pause/resume sequences that never lose or invent time)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, date, datetime, timedelta
from itertools import pairwise
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.services.business_time import (
    MAX_CLOSED_DAYS,
    Calendar,
    Clock,
    NoBusinessHours,
    Window,
    add_business,
    business_seconds,
    is_open,
    windows_between,
)

BERLIN = ZoneInfo("Europe/Berlin")
NEW_YORK = ZoneInfo("America/New_York")
H = 3600


def weekdays(start: str, end: str, days: Iterable[int] = range(5)) -> list[dict[str, object]]:
    return [{"weekday": d, "start": start, "end": end} for d in days]


# The examples' calendar: Europe/Berlin, Mon-Fri 08:00-18:00, holidays 2025-12-25 and 2025-12-26.
OFFICE = Calendar.from_spec(
    "Europe/Berlin",
    weekdays("08:00", "18:00"),
    [{"date": "2025-12-25", "closed": True}, {"date": "2025-12-26", "closed": True}],
)


def berlin(
    year: int, month: int, day: int, hour: int = 0, minute: int = 0, sec: int = 0
) -> datetime:
    return datetime(year, month, day, hour, minute, sec, tzinfo=BERLIN)


# --- the examples table ---------------------------------------------------------------------


def test_weekend() -> None:
    assert add_business(OFFICE, berlin(2025, 6, 6, 16), 4 * H) == berlin(2025, 6, 9, 10)


def test_closing_time_is_due_at_closing_not_next_opening() -> None:
    due = add_business(OFFICE, berlin(2025, 6, 6, 16), 2 * H)
    assert due == berlin(2025, 6, 6, 18)
    assert due != berlin(2025, 6, 9, 8)


def test_outside_hours() -> None:
    clock = Clock(target_s=1 * H).start(berlin(2025, 6, 7, 11))  # Saturday
    assert clock.due_at(OFFICE) == berlin(2025, 6, 9, 9)
    assert clock.consumed_at(OFFICE, berlin(2025, 6, 9, 8, 30)) == 30 * 60
    assert not is_open(OFFICE, berlin(2025, 6, 7, 11))


def test_holiday() -> None:
    due = add_business(OFFICE, berlin(2025, 12, 24, 16), 4 * H)
    assert due == berlin(2025, 12, 29, 10)
    assert due.astimezone(BERLIN).utcoffset() == timedelta(hours=1)
    assert not is_open(OFFICE, berlin(2025, 12, 25, 10))
    assert is_open(OFFICE, berlin(2025, 12, 24, 10))


def test_dst_spring() -> None:
    start = datetime(2025, 3, 28, 17, tzinfo=BERLIN)
    assert start.utcoffset() == timedelta(hours=1)
    due = add_business(OFFICE, start, 2 * H)
    assert due == datetime(2025, 3, 31, 7, tzinfo=UTC)
    assert due.astimezone(BERLIN) == berlin(2025, 3, 31, 9)
    assert due.astimezone(BERLIN).utcoffset() == timedelta(hours=2)
    # frozen winter offsets (08:00+01 = 07:00Z opening) would have said 08:00Z = 10:00+02
    assert due != datetime(2025, 3, 31, 8, tzinfo=UTC)


@pytest.mark.parametrize(
    "calendar",
    [
        None,
        Calendar.always(),
        Calendar.from_spec("Europe/Berlin", weekdays("00:00", "24:00", range(7))),
    ],
    ids=["none", "always", "berlin-all-day"],
)
def test_dst_24_7(calendar: Calendar | None) -> None:
    start = berlin(2025, 3, 30, 1)
    assert start.utcoffset() == timedelta(hours=1)
    due = add_business(calendar, start, 4 * H)
    assert due == berlin(2025, 3, 30, 6)
    assert due.astimezone(BERLIN).utcoffset() == timedelta(hours=2)
    assert business_seconds(calendar, berlin(2025, 3, 29, 12), berlin(2025, 3, 30, 12)) == 23 * H


def test_pause_across_closing() -> None:
    clock = Clock(target_s=8 * H).start(berlin(2025, 6, 2, 9))
    paused = clock.pause(OFFICE, berlin(2025, 6, 2, 16))
    assert paused.consumed_s == 7 * H
    assert paused.due_at(OFFICE) is None  # R5
    assert paused.warn_at(OFFICE) is None
    resumed = paused.resume(berlin(2025, 6, 3, 10))
    assert resumed.due_at(OFFICE) == berlin(2025, 6, 3, 11)
    # resumed Monday 20:00 instead (after closing): the last hour is Tuesday's first
    assert paused.resume(berlin(2025, 6, 2, 20)).due_at(OFFICE) == berlin(2025, 6, 3, 9)


def test_priority_upgrade() -> None:
    p3 = Clock(target_s=8 * H).start(berlin(2025, 6, 2, 9))
    at_noon = p3.retarget(OFFICE, 4 * H, berlin(2025, 6, 2, 12))
    assert at_noon.consumed_s == 3 * H
    assert at_noon.due_at(OFFICE) == berlin(2025, 6, 2, 13)
    assert at_noon.breached_at is None
    # consumed exactly the new target: breached at the change (R6: consumed >= new target)
    exact = p3.retarget(OFFICE, 4 * H, berlin(2025, 6, 2, 13))
    assert exact.breached_at == berlin(2025, 6, 2, 13)
    late = p3.retarget(OFFICE, 4 * H, berlin(2025, 6, 2, 14))
    assert late.breached_at == berlin(2025, 6, 2, 14)
    # a recorded breach never disappears: not by a downgrade, a pause, completion or a reopen
    back = late.retarget(OFFICE, 8 * H, berlin(2025, 6, 2, 15))
    assert back.breached_at == berlin(2025, 6, 2, 14)
    assert back.due_at(OFFICE) == berlin(2025, 6, 2, 17)
    done = back.pause(OFFICE, berlin(2025, 6, 2, 15, 30)).complete(OFFICE, berlin(2025, 6, 2, 16))
    assert done.reopen(berlin(2025, 6, 3, 9)).breached_at == berlin(2025, 6, 2, 14)


def test_eighty_percent_warning() -> None:
    clock = Clock(target_s=8 * H).start(berlin(2025, 6, 2, 9))
    assert clock.warn_at(OFFICE) == berlin(2025, 6, 2, 15, 24)
    assert clock.warn_at(OFFICE, warn_pct=80) == berlin(2025, 6, 2, 15, 24)
    assert clock.due_at(OFFICE) == berlin(2025, 6, 2, 17)


def test_split_shift() -> None:
    split = Calendar.from_spec(
        "Europe/Berlin", weekdays("08:00", "12:00") + weekdays("13:00", "17:00")
    )
    assert add_business(split, berlin(2025, 6, 2, 11, 30), 1 * H) == berlin(2025, 6, 2, 13, 30)
    assert not is_open(split, berlin(2025, 6, 2, 12, 30))


def test_new_york() -> None:
    ny = Calendar.from_spec("America/New_York", weekdays("09:00", "17:00"))
    start = datetime(2025, 3, 7, 16, tzinfo=NEW_YORK)
    assert start.utcoffset() == timedelta(hours=-5)
    due = add_business(ny, start, 2 * H)
    assert due == datetime(2025, 3, 10, 14, tzinfo=UTC)
    assert due.astimezone(NEW_YORK) == datetime(2025, 3, 10, 10, tzinfo=NEW_YORK)
    assert due.astimezone(NEW_YORK).utcoffset() == timedelta(hours=-4)


# --- DST details: the autumn switch, the gap and fold rules --------------------------------------


def test_autumn_switch_is_a_25_hour_day() -> None:
    all_days = Calendar.from_spec("Europe/Berlin", weekdays("00:00", "24:00", range(7)))
    sunday = business_seconds(all_days, berlin(2025, 10, 26), berlin(2025, 10, 27))
    assert sunday == 25 * H
    assert business_seconds(None, berlin(2025, 10, 25, 12), berlin(2025, 10, 26, 12)) == 25 * H
    # Saturday 20:00 + 10 h of round-the-clock time: the repeated hour is counted
    assert add_business(all_days, berlin(2025, 10, 25, 20), 10 * H) == berlin(2025, 10, 26, 5)
    # an office-hours calendar does not notice (Sunday closed, Monday normal)
    assert add_business(OFFICE, berlin(2025, 10, 24, 17), 2 * H) == berlin(2025, 10, 27, 9)


def sunday_only(start: str, end: str) -> Calendar:
    return Calendar.from_spec("Europe/Berlin", [{"weekday": 6, "start": start, "end": end}])


def hours_on(calendar: Calendar, day: date) -> float:
    start = datetime(day.year, day.month, day.day, tzinfo=BERLIN) - timedelta(hours=6)
    return business_seconds(calendar, start, start + timedelta(days=2)) / H


def test_fold_boundaries_are_first_occurrences() -> None:
    autumn = date(2025, 10, 26)  # 02:00-03:00 happens twice
    assert hours_on(sunday_only("01:00", "04:00"), autumn) == 4
    assert hours_on(sunday_only("02:00", "03:00"), autumn) == 2
    # a boundary inside the repeated hour means its first occurrence
    assert hours_on(sunday_only("00:00", "02:30"), autumn) == 2.5
    assert hours_on(sunday_only("02:30", "04:00"), autumn) == 2.5
    opens = next(
        windows_between(sunday_only("02:30", "04:00"), berlin(2025, 10, 26), berlin(2025, 10, 27))
    )
    assert opens[0] == datetime(2025, 10, 26, 0, 30, tzinfo=UTC)  # 02:30+02, the first one


def test_gap_boundaries_are_the_jump() -> None:
    spring = date(2025, 3, 30)  # 02:00-03:00 does not exist
    assert hours_on(sunday_only("01:00", "04:00"), spring) == 2
    assert hours_on(sunday_only("02:00", "03:00"), spring) == 0
    assert hours_on(sunday_only("02:30", "03:30"), spring) == 0.5
    assert hours_on(sunday_only("01:00", "02:30"), spring) == 1
    [(opens, closes)] = windows_between(
        sunday_only("02:30", "03:30"), berlin(2025, 3, 30), berlin(2025, 3, 31)
    )
    assert (opens, closes) == (berlin(2025, 3, 30, 3), berlin(2025, 3, 30, 3, 30))
    assert not is_open(sunday_only("02:00", "03:00"), datetime(2025, 3, 30, 1, tzinfo=UTC))


def test_midnight_gap_zone() -> None:
    # America/Santiago springs forward at 24:00 -> 01:00 (2025-09-07 00:00 does not exist)
    cal = Calendar.from_spec("America/Santiago", weekdays("00:00", "02:00", range(7)))
    santiago = ZoneInfo("America/Santiago")
    [(opens, closes)] = windows_between(
        cal, datetime(2025, 9, 6, 12, tzinfo=santiago), datetime(2025, 9, 7, 12, tzinfo=santiago)
    )
    assert opens == datetime(2025, 9, 7, 4, tzinfo=UTC)  # the jump, 01:00-03
    assert closes - opens == timedelta(hours=1)


def test_window_ending_at_midnight() -> None:
    evenings = Calendar.from_spec("Europe/Berlin", weekdays("20:00", "24:00"))
    assert add_business(evenings, berlin(2025, 6, 2, 23), 1 * H) == berlin(2025, 6, 3)
    assert add_business(evenings, berlin(2025, 6, 2, 23), 2 * H) == berlin(2025, 6, 3, 21)
    assert is_open(evenings, berlin(2025, 6, 2, 23, 59, 59))
    assert not is_open(evenings, berlin(2025, 6, 3))
    # ...and running on into the next day's 00:00 window without a seam
    night = Calendar.from_spec(
        "Europe/Berlin", weekdays("22:00", "24:00") + weekdays("00:00", "02:00")
    )
    assert add_business(night, berlin(2025, 6, 2, 23), 2 * H) == berlin(2025, 6, 3, 1)
    assert business_seconds(night, berlin(2025, 6, 2, 22), berlin(2025, 6, 3, 2)) == 4 * H


def test_special_hours_replace_the_weekday() -> None:
    cal = Calendar.from_spec(
        "Europe/Berlin",
        weekdays("08:00", "18:00"),
        [{"date": "2025-12-24", "closed": False, "windows": [{"start": "08:00", "end": "12:00"}]}],
    )
    assert add_business(cal, berlin(2025, 12, 24, 11), 2 * H) == berlin(2025, 12, 25, 9)


# --- zero budgets, clock transitions --------------------------------------------------------------


def test_zero_budget_is_due_at_start_itself() -> None:
    saturday = berlin(2025, 6, 7, 11)
    assert add_business(OFFICE, saturday, 0) == saturday
    assert add_business(OFFICE, berlin(2025, 6, 2, 10), 0) == berlin(2025, 6, 2, 10)
    with pytest.raises(ValueError, match="negative"):
        add_business(OFFICE, saturday, -1)


def test_naive_datetimes_are_refused() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        add_business(OFFICE, datetime(2025, 6, 2, 9), 60)


def test_complete_records_a_late_finish_at_the_due_instant() -> None:
    clock = Clock(target_s=2 * H).start(berlin(2025, 6, 6, 16))
    on_time = clock.complete(OFFICE, berlin(2025, 6, 6, 18))
    assert on_time.breached_at is None
    assert on_time.consumed_s == 2 * H
    late = clock.complete(OFFICE, berlin(2025, 6, 7, 10))  # Saturday
    assert late.breached_at == berlin(2025, 6, 6, 18)
    assert late.consumed_s == 2 * H
    assert late.due_at(OFFICE) is None


def test_reopen_resumes_the_remaining_budget() -> None:
    clock = Clock(target_s=8 * H).start(berlin(2025, 6, 2, 9))
    done = clock.complete(OFFICE, berlin(2025, 6, 2, 12))
    assert done.complete(OFFICE, berlin(2025, 6, 2, 13)) == done
    reopened = done.reopen(berlin(2025, 6, 4, 10))  # two days resolved: not counted
    assert reopened.consumed_s == 3 * H
    assert reopened.due_at(OFFICE) == berlin(2025, 6, 4, 15)
    assert clock.reopen(berlin(2025, 6, 4, 10)) == clock  # not completed: nothing to reopen


def test_sweep_marks_once_at_the_due_instant() -> None:
    clock = Clock(target_s=1 * H).start(berlin(2025, 6, 2, 9))
    assert clock.mark_breach(OFFICE, berlin(2025, 6, 2, 9, 59)) == clock
    marked = clock.mark_breach(OFFICE, berlin(2025, 6, 2, 10, 5))
    assert marked.breached_at == berlin(2025, 6, 2, 10)
    assert marked.mark_breach(OFFICE, berlin(2025, 6, 2, 11)) == marked
    assert marked.warn_at(OFFICE) is None


def test_idempotent_transitions() -> None:
    idle = Clock(target_s=H)
    assert idle.due_at(OFFICE) is None
    assert idle.pause(OFFICE, berlin(2025, 6, 2, 9)) == idle
    running = idle.start(berlin(2025, 6, 2, 9))
    assert running.start(berlin(2025, 6, 2, 10)) == running
    assert running.resume(berlin(2025, 6, 2, 10)) == running
    with pytest.raises(ValueError, match="warn_pct"):
        running.warn_at(OFFICE, warn_pct=0)


# --- validation ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("windows", "exceptions", "message"),
    [
        (weekdays("18:00", "08:00"), [], "start must be before end"),
        (weekdays("08:00", "08:00"), [], "start must be before end"),
        (weekdays("08:00", "12:00") + weekdays("11:00", "13:00"), [], "Monday overlap"),
        (weekdays("8:00", "12:00"), [], "bad time '8:00'"),
        (weekdays("08:00", "12:60"), [], "bad time '12:60'"),
        (weekdays("08:00", "24:01"), [], "bad time '24:01'"),
        (weekdays("24:00", "24:00"), [], "bad time '24:00'"),
        (weekdays("08:00:00", "12:00"), [], "bad time"),
        (weekdays("08:00", "12:00", [7]), [], "weekday must be 0..6"),
        (weekdays("08:00", "12:00", [-1]), [], "weekday must be 0..6"),
        ([{"weekday": True, "start": "08:00", "end": "09:00"}], [], "weekday must be 0..6"),
        ([{"weekday": 0, "start": None, "end": "09:00"}], [], "bad time None"),
        ([], [{"date": "2025-12-25", "closed": True}] * 2, "listed twice"),
        ([], [{"date": "25.12.2025", "closed": True}], "bad exception date"),
        (
            [],
            [
                {
                    "date": "2025-12-24",
                    "closed": True,
                    "windows": [{"start": "08:00", "end": "12:00"}],
                }
            ],
            "closed but lists windows",
        ),
        ([], [{"date": "2025-12-24", "closed": False}], "give windows"),
        (
            [],
            [
                {
                    "date": "2025-12-24",
                    "windows": [
                        {"start": "08:00", "end": "12:00"},
                        {"start": "09:00", "end": "10:00"},
                    ],
                }
            ],
            "2025-12-24 overlap",
        ),
    ],
)
def test_validation(
    windows: list[dict[str, object]], exceptions: list[dict[str, object]], message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        Calendar.from_spec("Europe/Berlin", windows, exceptions)


@pytest.mark.parametrize(
    "zone", ["Mars/Olympus_Mons", "../etc/passwd", "", "Europe/Berlin ", "Europe", "America"]
)
def test_unknown_time_zone(zone: str) -> None:
    with pytest.raises(ValueError, match="unknown time zone"):
        Calendar.from_spec(zone, weekdays("08:00", "18:00"))


def test_adjacent_windows_are_not_an_overlap() -> None:
    cal = Calendar.from_spec(
        "Europe/Berlin", weekdays("12:00", "13:00") + weekdays("08:00", "12:00")
    )
    assert cal.weekly[0] == (Window(480, 720), Window(720, 780))
    assert business_seconds(cal, berlin(2025, 6, 2), berlin(2025, 6, 3)) == 5 * H
    with pytest.raises(ValueError, match="7 days"):
        Calendar("UTC", ((),) * 6)


# --- never loop forever -------------------------------------------------------------------------


def test_a_calendar_without_windows_raises_instead_of_looping() -> None:
    empty = Calendar.from_spec("Europe/Berlin", [])
    start = berlin(2025, 6, 2, 9)
    with pytest.raises(NoBusinessHours, match="consecutive days"):
        add_business(empty, start, 60)
    clock = Clock(target_s=60).start(start)
    with pytest.raises(NoBusinessHours):
        clock.due_at(empty)
    # bounded questions answer normally
    assert business_seconds(empty, start, start + timedelta(days=30)) == 0
    assert not is_open(empty, start)
    assert add_business(empty, start, 0) == start


def test_years_of_closed_days_raise_but_a_late_opening_is_found() -> None:
    first = date(2025, 1, 1)
    closed = [
        {"date": (first + timedelta(days=i)).isoformat(), "closed": True}
        for i in range(MAX_CLOSED_DAYS + 10)
    ]
    cal = Calendar.from_spec("Europe/Berlin", weekdays("08:00", "18:00"), closed)
    with pytest.raises(NoBusinessHours):
        add_business(cal, berlin(2025, 1, 1, 9), 60)
    # an opening within the bound is found, however far away
    sparse = Calendar.from_spec(
        "Europe/Berlin",
        [],
        [{"date": "2028-02-29", "windows": [{"start": "10:00", "end": "11:00"}]}],
    )
    assert add_business(sparse, berlin(2025, 1, 1, 9), 60) == berlin(2028, 2, 29, 10, 1)


# --- properties -------------------------------------------------------------------------------

# zones and their 2025 switches (UTC), where the interesting things happen
SWITCHES = {
    "Europe/Berlin": [datetime(2025, 3, 30, 1, tzinfo=UTC), datetime(2025, 10, 26, 1, tzinfo=UTC)],
    "America/New_York": [datetime(2025, 3, 9, 7, tzinfo=UTC), datetime(2025, 11, 2, 6, tzinfo=UTC)],
    # springs forward at local midnight
    "America/Santiago": [datetime(2025, 4, 6, 3, tzinfo=UTC), datetime(2025, 9, 7, 4, tzinfo=UTC)],
    # a 30-minute shift
    "Australia/Lord_Howe": [
        datetime(2025, 4, 5, 15, tzinfo=UTC),
        datetime(2025, 10, 4, 15, 30, tzinfo=UTC),
    ],
    "Asia/Kolkata": [datetime(2025, 6, 1, tzinfo=UTC)],
    "UTC": [datetime(2025, 6, 1, tzinfo=UTC)],
}


def test_the_switches_are_switches() -> None:
    for name, switches in SWITCHES.items():
        zone = ZoneInfo(name)
        for at in switches:
            changes = (at - timedelta(seconds=1)).astimezone(zone).utcoffset() != at.astimezone(
                zone
            ).utcoffset()
            assert changes == (name not in ("UTC", "Asia/Kolkata")), (name, at)


@st.composite
def day_windows(draw: st.DrawFn) -> tuple[Window, ...]:
    # boundaries on a 30-minute grid, often between 00:00 and 03:00 where the switches cut them
    mark = st.one_of(st.integers(0, 48), st.sampled_from([0, 3, 4, 5, 6, 48]))
    marks = sorted(draw(st.sets(mark, max_size=6)))
    pairs = zip(marks[0::2], marks[1::2], strict=False)
    return tuple(Window(a * 30, b * 30) for a, b in pairs)


@st.composite
def calendars(draw: st.DrawFn, zone: str) -> Calendar:
    weekly = tuple(draw(day_windows()) for _ in range(7))
    if not any(weekly):
        weekly = (*weekly[:6], (Window(600, 660),))
    base = date(2025, 3, 1)
    offsets = draw(st.sets(st.integers(0, 300), max_size=4))
    exceptions = tuple((base + timedelta(days=o), draw(day_windows())) for o in sorted(offsets))
    return Calendar(zone, weekly, exceptions)


@st.composite
def cases(draw: st.DrawFn, near: int = 2 * 86400) -> tuple[Calendar, datetime]:
    """A calendar and a whole-second instant, mostly within *near* seconds of a switch of its
    zone."""
    zone = draw(st.sampled_from(sorted(SWITCHES)))
    switch = draw(st.sampled_from(SWITCHES[zone]))
    at = draw(
        st.one_of(
            st.integers(-near, near).map(lambda s: switch + timedelta(seconds=s)),
            st.integers(1735689600, 1767225600).map(lambda s: datetime.fromtimestamp(s, UTC)),
        )
    )
    cal = draw(calendars(zone))
    switch_day = switch.astimezone(cal.zone).date()
    if draw(st.booleans()) and switch_day not in dict(cal.exceptions):
        # special hours on the day of the switch, with boundaries inside its gap or fold
        marks = sorted(draw(st.sets(st.sampled_from([0, 2, 3, 4, 5, 6, 7, 48]), max_size=4)))
        special = tuple(
            Window(a * 30, b * 30) for a, b in zip(marks[0::2], marks[1::2], strict=False)
        )
        cal = Calendar(zone, cal.weekly, (*cal.exceptions, (switch_day, special)))
    return cal, at


PROPERTY = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@PROPERTY
@given(cases(), st.integers(0, 5 * 86400), st.integers(0, 5 * 86400))
def test_business_time_is_additive(case: tuple[Calendar, datetime], a: int, b: int) -> None:
    cal, start = case
    middle, end = start + timedelta(seconds=a), start + timedelta(seconds=a + b)
    assert business_seconds(cal, start, middle) + business_seconds(
        cal, middle, end
    ) == business_seconds(cal, start, end)
    assert business_seconds(cal, end, start) == 0
    intervals = list(windows_between(cal, start, end))
    assert all(o < c for o, c in intervals)
    assert all(c1 <= o2 for (_, c1), (o2, _) in pairwise(intervals))


@PROPERTY
@given(cases(), st.integers(0, 4 * 86400))
def test_add_business_inverts_business_seconds(
    case: tuple[Calendar, datetime], budget: int
) -> None:
    cal, start = case
    due = add_business(cal, start, budget)
    assert due >= start
    assert business_seconds(cal, start, due) == budget
    if budget:  # the earliest such instant: a moment before, the budget is not yet used up
        assert business_seconds(cal, start, due - timedelta(microseconds=1)) < budget
        assert is_open(cal, due - timedelta(seconds=1))
    # and business_seconds then add_business lands no later than where it started
    end = start + timedelta(seconds=budget)
    assert add_business(cal, start, business_seconds(cal, start, end)) <= end


@PROPERTY
@given(cases())
def test_is_open_agrees_with_business_seconds(case: tuple[Calendar, datetime]) -> None:
    cal, at = case
    assert is_open(cal, at) == (business_seconds(cal, at, at + timedelta(seconds=1)) == 1)


def oracle_minutes(cal: Calendar, start: datetime, minutes: int) -> int:
    """Open minutes from *start* (on the minute) by brute force: walk the UTC minutes with the
    highest local wall time seen so far (a boundary is the first instant the wall clock reads it
    or later) and look it up in that local date's windows."""
    highest = None
    warmup = 26 * 60
    count = 0
    for step in range(-warmup, minutes):
        wall = (start + timedelta(minutes=step)).astimezone(cal.zone).replace(tzinfo=None)
        highest = wall if highest is None or wall > highest else highest
        if step < 0:
            continue
        minute = highest.hour * 60 + highest.minute
        if any(w.start <= minute < w.end for w in cal.windows_on(highest.date())):
            count += 1
    return count


@settings(max_examples=30, deadline=None)
@given(cases(near=86400))
def test_matches_a_brute_force_wall_clock_oracle(case: tuple[Calendar, datetime]) -> None:
    cal, at = case
    start = at.replace(second=0) - timedelta(days=1)
    minutes = 2 * 24 * 60
    expected = oracle_minutes(cal, start, minutes) * 60
    assert business_seconds(cal, start, start + timedelta(minutes=minutes)) == expected


event = st.tuples(
    st.sampled_from(["pause", "resume", "retarget", "complete", "reopen", "sweep"]),
    st.integers(0, 40 * H),
    st.integers(1, 40).map(lambda h: h * H),
)


@PROPERTY
@given(cases(), st.integers(H, 40 * H), st.lists(event, max_size=12))
def test_pause_resume_never_loses_or_invents_time(
    case: tuple[Calendar, datetime], target: int, events: list[tuple[str, int, int]]
) -> None:
    cal, start = case
    clock = Clock(target_s=target).start(start)
    now, running_from = start, start
    segments: list[tuple[datetime, datetime]] = []
    breached: datetime | None = None
    for name, gap, new_target in events:
        now += timedelta(seconds=gap)
        if name == "pause":
            clock = clock.pause(cal, now)
        elif name == "resume":
            clock = clock.resume(now)
        elif name == "retarget":
            clock = clock.retarget(cal, new_target, now)
        elif name == "complete":
            clock = clock.complete(cal, now)
        elif name == "reopen":
            clock = clock.reopen(now)
        else:
            clock = clock.mark_breach(cal, now)
        # the model: the clock runs exactly between starts/resumes/reopens and pauses/completions
        if running_from is not None and not clock.running:
            segments.append((running_from, now))
            running_from = None
        elif running_from is None and clock.running:
            running_from = now
        if breached is not None:
            assert clock.breached_at == breached  # never disappears, never moves
        breached = clock.breached_at
        assert breached is None or breached <= now
        due = clock.due_at(cal)
        if clock.running_since is not None and due is not None:
            remaining = max(clock.target_s - clock.consumed_s, 0)
            assert business_seconds(cal, clock.running_since, due) == remaining
    end = now + timedelta(hours=30)
    if running_from is not None:
        segments.append((running_from, end))
    used = sum(business_seconds(cal, a, b) for a, b in segments)
    assert clock.consumed_at(cal, end) == used
