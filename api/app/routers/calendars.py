"""Business-hours calendars of the SLA clocks (admins write; managers read)."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Response, status

from app.auth.deps import CalendarReader, CalendarWriter, DbSession
from app.routers.common import DEFAULT, Cursor, Limit, Search
from app.schemas.calendar import (
    CalendarCreate,
    CalendarExceptionOut,
    CalendarOut,
    CalendarUpdate,
    HolidayImport,
    HolidayImportOut,
)
from app.schemas.common import Page
from app.services import calendars
from app.utils.clock import Now

router = APIRouter(prefix="/admin/calendars", tags=["admin"])


@router.get("", response_model=Page[CalendarOut])
async def list_calendars(
    actor: CalendarReader,
    session: DbSession,
    q: Search = None,
    cursor: Cursor = None,
    limit: Limit = DEFAULT,
) -> Page[CalendarOut]:
    """Calendars by name (containing *q*)."""
    items, next_cursor = await calendars.list_calendars(session, q=q, cursor=cursor, limit=limit)
    return Page[CalendarOut](
        items=[CalendarOut.model_validate(c) for c in items], next_cursor=next_cursor
    )


@router.post("", response_model=CalendarOut, status_code=status.HTTP_201_CREATED)
async def create_calendar(
    body: CalendarCreate, actor: CalendarWriter, session: DbSession
) -> CalendarOut:
    """A new calendar; 422 names the field the engine refuses (time zone, a window, a date),
    409 when the name is taken (case-insensitively)."""
    return CalendarOut.model_validate(await calendars.create(session, actor, body))


@router.get("/{calendar_id}", response_model=CalendarOut)
async def get_calendar(
    calendar_id: uuid.UUID, actor: CalendarReader, session: DbSession
) -> CalendarOut:
    return CalendarOut.model_validate(await calendars.get(session, calendar_id))


@router.patch("/{calendar_id}", response_model=CalendarOut)
async def update_calendar(
    calendar_id: uuid.UUID,
    body: CalendarUpdate,
    actor: CalendarWriter,
    session: DbSession,
    now: Now,
) -> CalendarOut:
    """Change a calendar; a change of hours moves the deadlines of the clocks running on it."""
    row = await calendars.update_calendar(session, actor, calendar_id, body, now)
    return CalendarOut.model_validate(row)


@router.delete("/{calendar_id}", status_code=status.HTTP_204_NO_CONTENT, response_class=Response)
async def delete_calendar(
    calendar_id: uuid.UUID, actor: CalendarWriter, session: DbSession
) -> Response:
    """409 naming what still uses it (SLA policies, organizations, running clocks)."""
    await calendars.remove(session, actor, calendar_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post("/{calendar_id}/holidays", response_model=HolidayImportOut)
async def import_holidays(
    calendar_id: uuid.UUID,
    body: HolidayImport,
    actor: CalendarWriter,
    session: DbSession,
    now: Now,
) -> HolidayImportOut:
    """Closed days from a country's public holidays or an iCalendar text's all-day events. Dates
    the calendar already lists are kept and answered as ``skipped``; timed events are counted as
    ``ignored``."""
    result = await calendars.import_holidays(session, actor, calendar_id, body, now)
    return HolidayImportOut(
        added=[CalendarExceptionOut.model_validate(e) for e in result.added],
        skipped=result.skipped,
        ignored=result.ignored,
        calendar=CalendarOut.model_validate(result.calendar),
    )
