"""Reports (managers and admins): summary figures, created vs resolved over time, the backlog by
age, breakdowns per agent, team and organization, and CSV exports; the dashboard's counts for
every staff member. Definitions: services/reports.py and docs/RUNBOOK.md "Reports and CSV
export"."""

from __future__ import annotations

import re
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query
from fastapi.responses import StreamingResponse
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.deps import DbSession, DeskUser, ReportReader
from app.errors import Invalid, NotFound
from app.routers.common import ClosingStream, StorableText
from app.schemas.reports import (
    DashboardCounts,
    ReportBacklog,
    ReportBreakdown,
    ReportSeries,
    ReportSummary,
)
from app.services import audit, reports
from app.services.reports import BreakdownBy, Interval, ReportFilter
from app.utils.clock import utcnow

router = APIRouter(prefix="/internal/reports", tags=["reports"])

_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_DATETIME = re.compile(
    r"^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d{1,6})?)?(Z|[+-]\d{2}:?\d{2})?$", re.IGNORECASE
)
# Dates outside these years are refused (no ticket is older; no time-zone arithmetic overflows).
_YEARS = (1970, 2200)
_BOUND = (
    "A date (YYYY-MM-DD, local midnight in `tz`) or an ISO 8601 date-time (UTC without an offset)."
)


def _moment(field: str, value: str | None) -> date | datetime | None:
    if value is None:
        return None
    try:
        if _DATE.match(value):
            moment: date | datetime = date.fromisoformat(value)
        elif _DATETIME.match(value):
            moment = datetime.fromisoformat(value.replace("z", "Z"))
        else:
            raise ValueError(value)
        if _YEARS[0] <= moment.year <= _YEARS[1]:
            return moment
    except ValueError:
        pass
    raise Invalid(field, f"{field} must be a date (YYYY-MM-DD) or an ISO 8601 date-time")


Bound = Annotated[str | None, Query(max_length=40, description=_BOUND)]
Zone = Annotated[
    StorableText, Query(max_length=64, description="IANA time zone for dates and buckets.")
]
OptionalId = Annotated[uuid.UUID | None, Query()]
OptionalText = Annotated[StorableText | None, Query(max_length=100)]


async def _filter(
    actor: DeskUser,
    session: DbSession,
    from_: Annotated[str | None, Query(alias="from", max_length=40, description=_BOUND)] = None,
    to: Bound = None,
    tz: Zone = "UTC",
    org_id: OptionalId = None,
    team_id: OptionalId = None,
    assignee_id: OptionalId = None,
    priority: Annotated[str | None, Query(max_length=2)] = None,
    category: OptionalText = None,
    channel: Annotated[str | None, Query(max_length=10)] = None,
) -> ReportFilter:
    return await reports.make_filter(
        session,
        actor,
        start=_moment("from", from_),
        end=_moment("to", to),
        tz=tz,
        org_id=org_id,
        team_id=team_id,
        assignee_id=assignee_id,
        priority=priority,
        category=category,
        channel=channel,
        now=utcnow(),
    )


Filter = Annotated[ReportFilter, Depends(_filter)]


@router.get("/summary", response_model=ReportSummary)
async def summary(actor: ReportReader, session: DbSession, flt: Filter) -> Any:
    return await reports.summary(session, actor, flt)


@router.get("/series", response_model=ReportSeries)
async def series(
    actor: ReportReader,
    session: DbSession,
    flt: Filter,
    interval: Interval = "day",
    tz: Zone = "UTC",
) -> Any:
    return await reports.series(session, actor, flt, interval=interval, tz=tz)


@router.get("/backlog", response_model=ReportBacklog)
async def backlog(actor: ReportReader, session: DbSession, flt: Filter) -> Any:
    """Tickets open now by age and priority (the organization, team, assignee, priority,
    category and channel filters apply; the dates do not)."""
    return await reports.backlog(session, actor, flt, now=utcnow())


@router.get("/breakdown", response_model=ReportBreakdown)
async def breakdown(
    actor: ReportReader, session: DbSession, flt: Filter, by: BreakdownBy = "agent"
) -> Any:
    return await reports.breakdown(session, actor, flt, by)


@router.get("/dashboard", response_model=DashboardCounts)
async def dashboard(actor: DeskUser, session: DbSession, tz: Zone = "UTC") -> Any:
    """Counts for every staff member's dashboard (no durations, no filters)."""
    return await reports.dashboard(session, actor, now=utcnow(), tz=tz)


@router.get(
    "/{name}.csv",
    response_class=StreamingResponse,
    responses={200: {"content": {"text/csv": {}}}},
)
async def export_csv(
    name: str,
    actor: ReportReader,
    session: DbSession,
    flt: Filter,
) -> StreamingResponse:
    """A report as CSV with a header row, streamed: ``tickets`` (one row per ticket created in
    the range), ``agents``, ``teams``, ``organizations`` (the breakdown rows) and ``sla`` (per
    priority).
    Text cells starting with = + - @ (or a tab or carriage return) get a leading apostrophe.
    The export is audited."""
    if name not in reports.CSV_NAMES:
        raise NotFound()
    await audit.record(
        session,
        actor=actor,
        action="report.exported",
        entity_type="report",
        entity_id=None,
        new_value={"report": name, "filters": flt.as_json()},
    )

    bind = session.bind

    async def body() -> AsyncIterator[bytes]:
        # The request's session is handed back when this function returns: the stream reads
        # through a session of its own on the same bind, closed when done or cut off.
        async with AsyncSession(bind=bind, expire_on_commit=False, autoflush=False) as reader:
            async for chunk in reports.export(reader, actor, flt, name):
                yield chunk

    filename = f"{name}-{datetime.now(UTC).date().isoformat()}.csv"
    return ClosingStream(
        body(),
        media_type="text/csv; charset=utf-8",
        headers={
            "Content-Disposition": f'attachment; filename="{filename}"',
            "X-Content-Type-Options": "nosniff",
            "Cache-Control": "private, no-store",
        },
    )
