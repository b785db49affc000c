"""Calendars kept in the process for reading views (the "outside hours" flag and business time
left on a ticket's SLA chip). Deadlines never come from here: they are stored on the ticket when
an event happens. An entry is reloaded after CACHE_SECONDS, and at once in the process that edits
the calendar."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterable
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.models.calendar import SlaCalendar
from app.services.business_time import Calendar

CACHE_SECONDS = 30.0
_cache: dict[uuid.UUID, tuple[float, Calendar]] = {}


async def prime(session: AsyncSession, rows: Iterable[Any]) -> None:
    """Load the calendars the rows' SLA clocks run on that are missing or stale: no statement at
    all when every row runs around the clock or every calendar is fresh."""
    now = time.monotonic()
    wanted = {
        cid
        for r in rows
        if (cid := getattr(r, "sla_calendar_id", None)) is not None
        and (cid not in _cache or now - _cache[cid][0] > CACHE_SECONDS)
    }
    if not wanted:
        return
    found = await session.execute(select(SlaCalendar).where(SlaCalendar.id.in_(wanted)))
    for row in found.scalars():
        _cache[row.id] = (now, Calendar.from_spec(row.timezone, row.windows, row.exceptions))


def get(calendar_id: uuid.UUID | None) -> Calendar | None:
    entry = _cache.get(calendar_id) if calendar_id is not None else None
    return entry[1] if entry is not None else None


def forget(calendar_id: uuid.UUID) -> None:
    _cache.pop(calendar_id, None)
