"""Business-hours calendars: the admin's CRUD, holiday import, and loading them for the SLA engine.

A calendar (SLA_CALENDARS.md R1) is an IANA time zone, weekly local windows and dated exceptions
(closed days such as holidays, or special hours), stored as the admin wrote them. Every write is
checked by the engine (:meth:`business_time.Calendar.from_spec`), so a calendar that is stored can
always be loaded. An edit that changes the hours moves the deadlines of the clocks running on the
calendar at once (R8: their consumed seconds stay).

Holiday import: a country preset (the ``holidays`` package) or an iCalendar text, whose all-day
events (recurring ones expanded) become closed days; timed events are skipped (a meeting is not a
closed day; special hours are entered by hand). Dates already listed are kept as they are.
"""

from __future__ import annotations

import asyncio
import functools
import re
import uuid
import zoneinfo
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

import holidays as holiday_data
import icalendar
import recurring_ical_events
from sqlalchemy import delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.deps import CurrentUser
from app.errors import Conflict, Invalid, NotFound
from app.models import Organization, SlaPolicy, Ticket
from app.models.calendar import SlaCalendar
from app.schemas.calendar import (
    FIRST_YEAR,
    LAST_YEAR,
    MAX_EXCEPTIONS,
    CalendarCreate,
    CalendarException,
    CalendarUpdate,
    HolidayImport,
    WeeklyWindow,
)
from app.services import audit, business_time, calendar_cache, sla_sweep
from app.utils.pagination import keyset_page

# One import adds at most this many dates; an ICS expands to at most this many occurrences (timed
# ones included) before it is refused, whatever its rules say (FREQ=SECONDLY).
MAX_IMPORT_DATES = 500
MAX_ICS_OCCURRENCES = 20_000
MAX_ICS_EVENTS = 5_000
# Without explicit years, recurring ICS events are expanded from last year to three years ahead.
ICS_YEARS_BACK, ICS_YEARS_AHEAD = 1, 3
_CONTROL = re.compile(r"[\x00-\x1f\x7f]+")
_NAMED_IN_CONFLICT = 5


def engine_calendar(row: SlaCalendar) -> business_time.Calendar:
    """The stored calendar as the engine's :class:`business_time.Calendar` (validated)."""
    return business_time.Calendar.from_spec(row.timezone, row.windows, row.exceptions)


async def load(
    session: AsyncSession, calendar_id: uuid.UUID | None
) -> business_time.Calendar | None:
    """The engine calendar of *calendar_id*; ``None`` (24/7) for no calendar."""
    if calendar_id is None:
        return None
    row = (
        await session.execute(select(SlaCalendar).where(SlaCalendar.id == calendar_id))
    ).scalar_one_or_none()
    return None if row is None else engine_calendar(row)


# --- shapes and validation ------------------------------------------------------------------------


def _windows_json(windows: Iterable[WeeklyWindow]) -> list[dict[str, Any]]:
    rows = [{"weekday": w.weekday, "start": w.start, "end": w.end} for w in windows]
    return sorted(rows, key=lambda w: (w["weekday"], w["start"], w["end"]))


def _exception_json(e: CalendarException) -> dict[str, Any]:
    return {
        "date": e.date.isoformat(),
        "closed": e.closed,
        "windows": sorted(
            ({"start": w.start, "end": w.end} for w in e.windows),
            key=lambda w: (w["start"], w["end"]),
        ),
        "name": e.name or None,
    }


def _exceptions_json(exceptions: Iterable[CalendarException]) -> list[dict[str, Any]]:
    return sorted((_exception_json(e) for e in exceptions), key=lambda e: str(e["date"]))


@functools.cache
def _zones() -> frozenset[str]:
    return frozenset(zoneinfo.available_timezones())


def _check(timezone: str, windows: list[dict[str, Any]], exceptions: list[dict[str, Any]]) -> None:
    """The engine's verdict, attributed to the field at fault (each part is checked alone). The
    zone must be an IANA name of the bundled database ("Europe" is a folder there, not a zone)."""
    if timezone not in _zones():
        raise Invalid(
            "timezone", f"unknown time zone {timezone!r}: use an IANA name such as Europe/Berlin"
        )
    for name, parts in (
        ("timezone", (timezone, [], [])),
        ("windows", ("UTC", windows, [])),
        ("exceptions", ("UTC", [], exceptions)),
    ):
        try:
            business_time.Calendar.from_spec(*parts)
        except ValueError as exc:
            raise Invalid(name, str(exc)) from None


def _snapshot(c: SlaCalendar) -> dict[str, object]:
    return {
        "name": c.name,
        "timezone": c.timezone,
        "windows": c.windows,
        "exceptions": c.exceptions,
    }


_HOURS = ("timezone", "windows", "exceptions")


# --- reads -------------------------------------------------------------------------------------


async def get(session: AsyncSession, calendar_id: uuid.UUID) -> SlaCalendar:
    row = (
        await session.execute(select(SlaCalendar).where(SlaCalendar.id == calendar_id))
    ).scalar_one_or_none()
    if row is None:
        raise NotFound("Calendar not found")
    return row


async def list_calendars(
    session: AsyncSession, *, q: str | None, cursor: str | None, limit: int
) -> tuple[list[SlaCalendar], str | None]:
    stmt = select(SlaCalendar)
    if q:
        stmt = stmt.where(SlaCalendar.name.icontains(q, autoescape=True))
    return await keyset_page(
        session,
        stmt,
        keys=[SlaCalendar.name, SlaCalendar.id],
        kinds=[str, uuid.UUID],
        key_of=lambda c: (c.name, c.id),
        cursor=cursor,
        limit=limit,
    )


async def require_exists(session: AsyncSession, calendar_id: uuid.UUID | None, field: str) -> None:
    """For the policies' and organizations' ``calendar_id``: an unknown id is a 422 on *field*."""
    if calendar_id is None:
        return
    found = await session.execute(select(SlaCalendar.id).where(SlaCalendar.id == calendar_id))
    if found.first() is None:
        raise Invalid(field, f"No calendar with id {calendar_id}")


# --- writes ------------------------------------------------------------------------------------


async def _name_taken(session: AsyncSession, name: str, exclude: uuid.UUID | None = None) -> bool:
    stmt = select(SlaCalendar.id).where(func.lower(SlaCalendar.name) == name.lower())
    if exclude is not None:
        stmt = stmt.where(SlaCalendar.id != exclude)
    return (await session.execute(stmt)).first() is not None


async def create(session: AsyncSession, actor: CurrentUser, body: CalendarCreate) -> SlaCalendar:
    windows, exceptions = _windows_json(body.windows), _exceptions_json(body.exceptions)
    _check(body.timezone, windows, exceptions)
    if await _name_taken(session, body.name):
        raise Conflict("A calendar with this name already exists")
    row = SlaCalendar(
        id=uuid.uuid4(),
        name=body.name,
        timezone=body.timezone,
        windows=windows,
        exceptions=exceptions,
    )
    session.add(row)
    await session.flush()
    await audit.record(
        session,
        actor=actor,
        action="calendar.created",
        entity_type="sla_calendar",
        entity_id=row.id,
        new_value=_snapshot(row),
    )
    return row


async def update_calendar(
    session: AsyncSession,
    actor: CurrentUser,
    calendar_id: uuid.UUID,
    body: CalendarUpdate,
    now: datetime,
) -> SlaCalendar:
    row = await get(session, calendar_id)
    before = _snapshot(row)
    timezone = body.timezone if body.timezone is not None else row.timezone
    windows = _windows_json(body.windows) if body.windows is not None else row.windows
    exceptions = (
        _exceptions_json(body.exceptions) if body.exceptions is not None else row.exceptions
    )
    _check(timezone, windows, exceptions)
    if body.name is not None and body.name != row.name:
        if await _name_taken(session, body.name, exclude=row.id):
            raise Conflict("A calendar with this name already exists")
        row.name = body.name
    row.timezone, row.windows, row.exceptions = timezone, windows, exceptions
    old, new = audit.changes(before, _snapshot(row))
    if new:
        await session.flush()
        await audit.record(
            session,
            actor=actor,
            action="calendar.updated",
            entity_type="sla_calendar",
            entity_id=row.id,
            old_value=old,
            new_value=new,
        )
        if any(key in new for key in _HOURS):
            calendar_cache.forget(row.id)
            await sla_sweep.recompute_running(session, now, calendar_id=row.id)
    return row


def _named(label: str, names: list[str], total: int) -> str:
    more = f" and {total - len(names)} more" if total > len(names) else ""
    return f"{label} {', '.join(names)}{more}"


async def _users_of(session: AsyncSession, calendar_id: uuid.UUID) -> list[str]:
    """What keeps the calendar in use, in words (empty when nothing does)."""
    found: list[str] = []
    policies = (
        await session.execute(
            select(SlaPolicy.priority, Organization.name)
            .outerjoin(Organization, Organization.id == SlaPolicy.org_id)
            .where(SlaPolicy.calendar_id == calendar_id)
            .order_by(Organization.name.nulls_first(), SlaPolicy.priority)
        )
    ).all()
    if policies:
        names = [f"{p} ({org or 'default'})" for p, org in policies[:_NAMED_IN_CONFLICT]]
        found.append(_named("SLA policies", names, len(policies)))
    orgs = (
        (
            await session.execute(
                select(Organization.name)
                .where(Organization.sla_calendar_id == calendar_id)
                .order_by(Organization.name)
            )
        )
        .scalars()
        .all()
    )
    if orgs:
        found.append(_named("organizations", list(orgs[:_NAMED_IN_CONFLICT]), len(orgs)))
    running = (
        await session.execute(
            select(func.count())
            .select_from(Ticket)
            .where(Ticket.sla_calendar_id == calendar_id, Ticket.sla_running_since.is_not(None))
        )
    ).scalar_one()
    if running:
        found.append(f"{running} ticket{'s' if running != 1 else ''} with a running SLA clock")
    return found


async def remove(session: AsyncSession, actor: CurrentUser, calendar_id: uuid.UUID) -> None:
    """Delete a calendar no policy, organization or running clock uses (else 409 naming them).
    Tickets whose clocks no longer run forget it: their stored business seconds stay."""
    row = await get(session, calendar_id)
    users = await _users_of(session, row.id)
    if users:
        raise Conflict(f"The calendar is in use by {'; '.join(users)}")
    snapshot = _snapshot(row)
    await session.execute(
        update(Ticket).where(Ticket.sla_calendar_id == row.id).values(sla_calendar_id=None)
    )
    await session.execute(delete(SlaCalendar).where(SlaCalendar.id == row.id))
    calendar_cache.forget(row.id)
    await audit.record(
        session,
        actor=actor,
        action="calendar.deleted",
        entity_type="sla_calendar",
        entity_id=row.id,
        old_value=snapshot,
    )


# --- holiday import ----------------------------------------------------------------------------


@dataclass
class Found:
    """Closed days found by an import: date → label (first label wins for a date)."""

    source: str
    days: dict[date, str | None] = field(default_factory=dict)
    ignored: int = 0

    def add(self, day: date, name: str | None) -> None:
        if day not in self.days:
            if len(self.days) >= MAX_IMPORT_DATES:
                raise Invalid(
                    self.source,
                    f"The import finds more than {MAX_IMPORT_DATES} dates; narrow it down",
                )
            self.days[day] = name


@dataclass
class Imported:
    added: list[dict[str, Any]]
    skipped: list[date]
    ignored: int
    calendar: SlaCalendar


def _label(value: object) -> str | None:
    text = _CONTROL.sub(" ", str(value)).strip() if value is not None else ""
    text = text.encode("utf-8", "replace").decode("utf-8")
    return text[:120] or None


def country_days(country: str, subdivision: str | None, years: list[int]) -> Found:
    """Public holidays of *country* (ISO 3166-1 alpha-2) and optional *subdivision*."""
    code = country.upper()
    supported: Mapping[str, list[str]] = holiday_data.list_supported_countries()
    if code not in supported:
        raise Invalid("country", f"Unknown country {country!r}: use an ISO 3166 code such as DE")
    subdivisions = supported[code]
    subdiv = None
    if subdivision is not None:
        subdiv = next((s for s in subdivisions if s.upper() == subdivision.upper()), None)
        if subdiv is None:
            listed = ", ".join(subdivisions[:40]) + (" …" if len(subdivisions) > 40 else "")
            known = f"one of {listed}" if subdivisions else "none (give no subdivision)"
            raise Invalid("subdivision", f"Unknown subdivision {subdivision!r} of {code}: {known}")
    try:
        # English labels where the country provides them, else its own language.
        probe = holiday_data.country_holidays(code, subdiv=subdiv)
        language = "en_US" if "en_US" in (probe.supported_languages or ()) else None
        table = holiday_data.country_holidays(
            code, subdiv=subdiv, years=sorted(set(years)), language=language
        )
        dated = sorted(table.items())
    except (NotImplementedError, ValueError, KeyError) as exc:
        raise Invalid("country", f"No holidays for {code}: {str(exc)[:200]}") from None
    found = Found("country")
    for day, name in dated:
        found.add(day, _label(name))
    return found


def _as_date(value: object) -> date | None:
    """The date of an all-day value; ``None`` for a timed one."""
    if isinstance(value, datetime):
        return None
    return value if isinstance(value, date) else None


def _start_of(event: Any) -> object:
    prop = event.get("DTSTART")
    return prop.dt if prop is not None else None


def ics_days(text: str, years: list[int] | None, today: date) -> Found:
    """Closed days from an iCalendar text: every all-day event, recurring ones expanded within
    *years* (default: last year to three years ahead), one-off ones wherever they fall within
    2000-2100 (within *years* when given). Timed events are not expanded, only counted as ignored.

    Bounded whatever the file says: at most MAX_ICS_EVENTS events, recurring all-day events at
    most daily, at most MAX_ICS_OCCURRENCES expanded occurrences and MAX_IMPORT_DATES dates."""
    try:
        parsed = icalendar.Calendar.from_ical(text)
    except Exception as exc:  # the parser raises plain ValueErrors and worse on garbage
        raise Invalid("ics", f"Not a readable iCalendar text: {str(exc)[:200]}") from None
    if not isinstance(parsed, icalendar.Calendar) or parsed.name != "VCALENDAR":
        raise Invalid("ics", "Not an iCalendar text: it must start with BEGIN:VCALENDAR")
    wanted = set(years) if years else None
    first = min(wanted) if wanted else today.year - ICS_YEARS_BACK
    last = max(wanted) if wanted else today.year + ICS_YEARS_AHEAD
    start, end = date(first, 1, 1), date(last + 1, 1, 1)
    found = Found("ics")

    def take(event: Any) -> None:
        day = _as_date(_start_of(event))
        if day is None:
            return
        stop = _as_date(event.get("DTEND").dt if event.get("DTEND") else None)
        if stop is None or stop <= day:
            duration = event.get("DURATION")
            days = duration.dt.days if duration is not None else 1
            stop = day + timedelta(days=max(days, 1))
        name = _label(event.get("SUMMARY"))
        while day < stop:
            if FIRST_YEAR <= day.year <= LAST_YEAR and (wanted is None or day.year in wanted):
                found.add(day, name)
            day += timedelta(days=1)

    try:
        events = list(parsed.walk("VEVENT"))
        if len(events) > MAX_ICS_EVENTS:
            raise Invalid("ics", f"The iCalendar text holds over {MAX_ICS_EVENTS} events")
        series: dict[str, list[Any]] = {}
        for event in events:
            if _as_date(_start_of(event)) is None:
                found.ignored += 1  # timed (or without a start): not a closed day
                continue
            rule = event.get("RRULE")
            if rule is not None:
                freq = rule.get("FREQ") or []
                if {str(f).upper() for f in freq} & {"SECONDLY", "MINUTELY", "HOURLY"}:
                    raise Invalid("ics", "An all-day event repeats more often than daily")
            if rule is not None or event.get("RDATE") or event.get("RECURRENCE-ID"):
                series.setdefault(str(event.get("UID", "")), []).append(event)
            else:
                take(event)
        occurrences = 0
        for members in series.values():
            one = icalendar.Calendar()
            for member in members:
                one.add_component(member)
            expanded = recurring_ical_events.of(one).between(start, end)
            occurrences += len(expanded)
            if occurrences > MAX_ICS_OCCURRENCES:
                raise Invalid(
                    "ics", f"The recurring events expand to over {MAX_ICS_OCCURRENCES} days"
                )
            for occurrence in expanded:
                take(occurrence)
    except Invalid:
        raise
    except Exception as exc:  # a broken rule or date inside an otherwise readable file
        raise Invalid("ics", f"The iCalendar events cannot be read: {str(exc)[:200]}") from None
    return found


async def import_holidays(
    session: AsyncSession,
    actor: CurrentUser,
    calendar_id: uuid.UUID,
    body: HolidayImport,
    now: datetime,
) -> Imported:
    row = await get(session, calendar_id)
    if body.country is not None:
        found = await asyncio.to_thread(
            country_days, body.country, body.subdivision, body.years or []
        )
        source: dict[str, object] = {"country": body.country.upper(), "years": body.years}
        if body.subdivision:
            source["subdivision"] = body.subdivision
    else:
        found = await asyncio.to_thread(ics_days, body.ics or "", body.years, now.date())
        source = {"ics": True}
        if body.years:
            source["years"] = body.years
    present = {str(e["date"]) for e in row.exceptions}
    added: list[dict[str, Any]] = [
        {"date": day.isoformat(), "closed": True, "windows": [], "name": name}
        for day, name in sorted(found.days.items())
        if day.isoformat() not in present
    ]
    skipped = sorted(day for day in found.days if day.isoformat() in present)
    if added:
        exceptions = sorted([*row.exceptions, *added], key=lambda e: str(e["date"]))
        if len(exceptions) > MAX_EXCEPTIONS:
            raise Invalid(
                "exceptions",
                f"A calendar holds at most {MAX_EXCEPTIONS} dated exceptions; remove past ones",
            )
        _check(row.timezone, row.windows, exceptions)
        row.exceptions = exceptions
        await session.flush()
    await audit.record(
        session,
        actor=actor,
        action="calendar.holidays_imported",
        entity_type="sla_calendar",
        entity_id=row.id,
        new_value={
            **source,
            "added": [e["date"] for e in added],
            "skipped": [d.isoformat() for d in skipped],
        },
    )
    if added:
        calendar_cache.forget(row.id)
        await sla_sweep.recompute_running(session, now, calendar_id=row.id)
    return Imported(added=added, skipped=skipped, ignored=found.ignored, calendar=row)
