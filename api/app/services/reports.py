"""Reports for managers and admins: figures over the business durations stored on every ticket.

Nothing here computes business time: a completed clock's business seconds are stored when it
completes (services/sla.py), so every figure is an aggregate over stored columns, read through
the date indexes (created_at, resolved_at, first_responded_at, accepted_at; docs/RUNBOOK.md
"Reports and CSV export"). Every statement starts from ``visible_tickets`` (staff see every
organization today).

Definitions (a range is ``[start, end)``, in UTC instants):

- ``created``: tickets whose ``created_at`` is in the range.
- ``resolved``: tickets whose ``resolved_at`` (their latest resolution) is in the range.
- ``backlog``: tickets open at ``end``: created before ``end`` and either in an open state now
  (not RESOLVED, CLOSED or CANCELLED), or RESOLVED/CLOSED with a resolution at or after ``end``.
  Exact when ``end`` is now (the default); for an ``end`` in the past it reads today's states, so
  a ticket resolved before ``end`` and reopened since counts, and a cancelled one never does.
- ``first_response_p50_s`` / ``_p90_s``: ``percentile_cont`` (linear interpolation) of
  ``sla_first_response_consumed_s`` over tickets whose ``first_responded_at`` is in the range.
- ``resolution_p50_s`` / ``_p90_s``: the same over ``sla_resolution_consumed_s`` of the tickets
  resolved in the range.
- ``accept_p50_s``: the median of ``accept_business_s`` (created → accepted, business seconds)
  over tickets accepted in the range.
- ``sla_compliance_pct``: of the tickets resolved in the range, the percentage with neither clock
  breached (null when none was resolved).
- ``reopen_rate``: of the tickets resolved in the range, the fraction (0-1) reopened at least once
  (null when none was resolved).
- ``csat``: the ratings submitted in the range; ``score_pct`` = good / all ratings * 100 (null
  when there is none).

Percentiles are null when no clock completed in the range.
"""

from __future__ import annotations

import asyncio
import csv
import io
import uuid
import zoneinfo
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from functools import lru_cache
from typing import Any, Literal

from sqlalchemy import (
    ColumnElement,
    Select,
    and_,
    case,
    func,
    literal_column,
    or_,
    select,
    true,
)
from sqlalchemy.dialects import postgresql
from sqlalchemy.dialects.postgresql.asyncpg import PGDialect_asyncpg
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.deps import CurrentUser
from app.errors import Invalid
from app.models import Organization, Team, Ticket, TicketCsat, User
from app.models.enums import STAFF_ROLES
from app.services.visibility import visible_orgs, visible_teams, visible_tickets, visible_users

DONE_STATUSES = ("RESOLVED", "CLOSED", "CANCELLED")
OPEN_STATUSES = ("NEW", "ACCEPTED", "ASSIGNED", "IN_PROGRESS", "WAITING_CUSTOMER")
PRIORITIES = ("P1", "P2", "P3", "P4")
CHANNELS = ("portal", "email", "phone", "api")
MAX_RANGE = timedelta(days=3653)  # ten years (with their leap days)
DEFAULT_RANGE = timedelta(days=30)
Interval = Literal["day", "week"]
BreakdownBy = Literal["agent", "team", "organization"]
CSV_NAMES = ("tickets", "agents", "teams", "organizations", "sla")

# Backlog age buckets: (key, label, lower bound in days, upper bound in days or None).
AGE_BUCKETS: tuple[tuple[str, str, int, int | None], ...] = (
    ("lt_1d", "< 1 d", 0, 1),
    ("1_3d", "1-3 d", 1, 3),
    ("3_7d", "3-7 d", 3, 7),
    ("7_30d", "7-30 d", 7, 30),
    ("gt_30d", "> 30 d", 30, None),
)


@lru_cache
def _zones() -> frozenset[str]:
    return frozenset(zoneinfo.available_timezones())


def time_zone(name: str) -> zoneinfo.ZoneInfo:
    """An IANA time zone by name, or a 422 naming the ``tz`` parameter."""
    if name not in _zones():
        raise Invalid("tz", f"unknown time zone {name!r}: use an IANA name like Europe/Berlin")
    return zoneinfo.ZoneInfo(name)


def _bound(value: date | datetime | None, zone: zoneinfo.ZoneInfo, *, end: bool) -> datetime | None:
    """A date is local midnight in *zone*; as the end of a range it includes that whole day."""
    if value is None:
        return None
    if isinstance(value, datetime):
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value
    day = value + timedelta(days=1) if end else value
    return datetime(day.year, day.month, day.day, tzinfo=zone).astimezone(UTC)


@dataclass(frozen=True, slots=True)
class ReportFilter:
    start: datetime
    end: datetime
    org_id: uuid.UUID | None = None
    team_id: uuid.UUID | None = None
    assignee_id: uuid.UUID | None = None
    priority: str | None = None
    category: str | None = None
    channel: str | None = None

    def conditions(self) -> list[ColumnElement[bool]]:
        """The non-date filters as conditions on ``tickets``."""
        out: list[ColumnElement[bool]] = []
        for column, value in (
            (Ticket.org_id, self.org_id),
            (Ticket.assigned_team_id, self.team_id),
            (Ticket.assigned_to, self.assignee_id),
            (Ticket.priority, self.priority),
            (Ticket.category, self.category),
            (Ticket.channel, self.channel),
        ):
            if value is not None:
                out.append(column == value)
        return out

    def in_range(self, column: Any) -> ColumnElement[bool]:
        return and_(column >= self.start, column < self.end)

    def as_json(self) -> dict[str, str]:
        out: dict[str, str] = {}
        for name in self.__slots__:
            value = getattr(self, name)
            if value is not None:
                out[name] = value.isoformat() if isinstance(value, datetime) else str(value)
        return out


async def make_filter(
    session: AsyncSession,
    actor: CurrentUser,
    *,
    start: date | datetime | None,
    end: date | datetime | None,
    tz: str = "UTC",
    org_id: uuid.UUID | None = None,
    team_id: uuid.UUID | None = None,
    assignee_id: uuid.UUID | None = None,
    priority: str | None = None,
    category: str | None = None,
    channel: str | None = None,
    now: datetime,
) -> ReportFilter:
    """The validated filter: dates resolved in *tz* (default: the last 30 days up to *now*),
    every id an existing object the caller sees, a category some ticket has (422 otherwise)."""
    zone = time_zone(tz)
    end_at = _bound(end, zone, end=True) or now
    start_at = _bound(start, zone, end=False) or end_at - DEFAULT_RANGE
    if end_at < start_at:
        raise Invalid("to", "to must not be before from")
    if end_at - start_at > MAX_RANGE:
        raise Invalid("from", "a report covers at most ten years")
    if priority is not None and priority not in PRIORITIES:
        raise Invalid("priority", f"priority must be one of {', '.join(PRIORITIES)}")
    if channel is not None and channel not in CHANNELS:
        raise Invalid("channel", f"channel must be one of {', '.join(CHANNELS)}")
    checks: list[tuple[str, Select[Any]]] = []
    if org_id is not None:
        checks.append(
            (
                "org_id",
                visible_orgs(actor)
                .with_only_columns(Organization.id)
                .where(Organization.id == org_id),
            )
        )
    if team_id is not None:
        checks.append(
            ("team_id", visible_teams(actor).with_only_columns(Team.id).where(Team.id == team_id))
        )
    if assignee_id is not None:
        staff = User.role.in_([r.value for r in STAFF_ROLES])
        checks.append(
            (
                "assignee_id",
                visible_users(actor)
                .with_only_columns(User.id)
                .where(User.id == assignee_id, staff),
            )
        )
    if category is not None:
        checks.append(
            (
                "category",
                visible_tickets(actor)
                .with_only_columns(Ticket.id)
                .where(Ticket.category == category)
                .limit(1),
            )
        )
    for field, stmt in checks:
        if (await session.execute(select(stmt.exists()))).scalar_one() is not True:
            raise Invalid(field, f"no such {field.removesuffix('_id').replace('_', ' ')}")
    return ReportFilter(start_at, end_at, org_id, team_id, assignee_id, priority, category, channel)


def _tickets(actor: CurrentUser, flt: ReportFilter, *columns: Any) -> Select[Any]:
    return (
        visible_tickets(actor)
        .with_only_columns(*columns)
        .select_from(Ticket)
        .where(*flt.conditions())
    )


def _percentiles(column: Any) -> Any:
    """``percentile_cont`` at 0.5 and 0.9 in one sort (an array of two, or NULL)."""
    return func.percentile_cont(literal_column("ARRAY[0.5, 0.9]::float8[]")).within_group(column)


_NEITHER_BREACHED = and_(
    Ticket.sla_first_response_breached_at.is_(None), Ticket.sla_resolution_breached_at.is_(None)
)


def _pct(part: int, whole: int) -> float | None:
    return None if whole == 0 else round(100.0 * part / whole, 2)


def _p(values: list[float] | None, index: int) -> float | None:
    return None if values is None or values[index] is None else float(values[index])


def csat_figures(good: int, okay: int, bad: int) -> dict[str, Any]:
    return {"good": good, "okay": okay, "bad": bad, "score_pct": _pct(good, good + okay + bad)}


def _csat_counts(actor: CurrentUser, flt: ReportFilter, *keys: Any) -> Select[Any]:
    rating = TicketCsat.rating
    counts = (
        func.count().filter(rating == "good").label("good"),
        func.count().filter(rating == "okay").label("okay"),
        func.count().filter(rating == "bad").label("bad"),
    )
    if not keys and not flt.conditions() and visible_tickets(actor).whereclause is None:
        # Nothing to read from the tickets: the ratings' own date index is enough.
        only: Select[Any] = select(*counts).where(flt.in_range(TicketCsat.submitted_at))  # type: ignore[assignment]
        return only
    return (
        _tickets(actor, flt, *keys, *counts)
        .join(TicketCsat, TicketCsat.ticket_id == Ticket.id)
        .where(flt.in_range(TicketCsat.submitted_at))
    )


async def summary(session: AsyncSession, actor: CurrentUser, flt: ReportFilter) -> dict[str, Any]:
    """The figures of the module docstring, in one statement."""
    created = (
        _tickets(actor, flt, func.count().label("created"))
        .where(flt.in_range(Ticket.created_at))
        .subquery("c")
    )
    resolved = (
        _tickets(
            actor,
            flt,
            func.count().label("resolved"),
            func.count().filter(_NEITHER_BREACHED).label("compliant"),
            func.count().filter(Ticket.reopen_count > 0).label("reopened"),
            _percentiles(Ticket.sla_resolution_consumed_s).label("resolution"),
        )
        .where(flt.in_range(Ticket.resolved_at))
        .subquery("r")
    )
    first = (
        _tickets(
            actor, flt, _percentiles(Ticket.sla_first_response_consumed_s).label("first_response")
        )
        .where(flt.in_range(Ticket.first_responded_at))
        .subquery("f")
    )
    accept = (
        _tickets(
            actor,
            flt,
            func.percentile_cont(0.5).within_group(Ticket.accept_business_s).label("accept"),
        )
        .where(flt.in_range(Ticket.accepted_at), Ticket.accept_business_s.is_not(None))
        .subquery("a")
    )
    open_now = _tickets(actor, flt, func.count().label("n")).where(
        Ticket.status.in_(OPEN_STATUSES), Ticket.created_at < flt.end
    )
    done_later = _tickets(actor, flt, func.count().label("n")).where(
        Ticket.status.in_(("RESOLVED", "CLOSED")),
        Ticket.resolved_at >= flt.end,
        Ticket.created_at < flt.end,
    )
    ratings = _csat_counts(actor, flt).subquery("s")
    stmt = select(
        created.c.created,
        resolved,
        first.c.first_response,
        accept.c.accept,
        (open_now.scalar_subquery() + done_later.scalar_subquery()).label("backlog"),
        ratings.c.good,
        ratings.c.okay,
        ratings.c.bad,
    ).select_from(
        created.join(resolved, true())
        .join(first, true())
        .join(accept, true())
        .join(ratings, true())
    )
    row = (await session.execute(stmt)).one()
    return {
        "created": row.created,
        "resolved": row.resolved,
        "backlog": row.backlog,
        "first_response_p50_s": _p(row.first_response, 0),
        "first_response_p90_s": _p(row.first_response, 1),
        "resolution_p50_s": _p(row.resolution, 0),
        "resolution_p90_s": _p(row.resolution, 1),
        "accept_p50_s": None if row.accept is None else float(row.accept),
        "sla_compliance_pct": _pct(row.compliant, row.resolved),
        "reopen_rate": None if row.resolved == 0 else round(row.reopened / row.resolved, 4),
        "csat": csat_figures(row.good, row.okay, row.bad),
        "from": flt.start,
        "to": flt.end,
    }


def _buckets(flt: ReportFilter, zone: zoneinfo.ZoneInfo, interval: Interval) -> list[date]:
    first = flt.start.astimezone(zone).date()
    last = (flt.end - timedelta(microseconds=1)).astimezone(zone).date()
    if interval == "week":
        first -= timedelta(days=first.weekday())
    step = timedelta(days=7 if interval == "week" else 1)
    out: list[date] = []
    day = first
    while day <= last and flt.end > flt.start:
        out.append(day)
        day += step
    return out


async def series(
    session: AsyncSession,
    actor: CurrentUser,
    flt: ReportFilter,
    *,
    interval: Interval,
    tz: str,
) -> dict[str, Any]:
    """Created and resolved tickets per local day or ISO week (Monday) in *tz*; every bucket of
    the range is present, empty ones with zeros."""
    zone = time_zone(tz)

    def per_bucket(column: Any) -> Select[Any]:
        bucket = func.date_trunc(interval, func.timezone(tz, column)).label("bucket")
        return (
            _tickets(actor, flt, bucket, func.count().label("n"))
            .where(flt.in_range(column))
            .group_by(bucket)
        )

    created = {r.bucket.date(): r.n for r in await session.execute(per_bucket(Ticket.created_at))}
    resolved = {r.bucket.date(): r.n for r in await session.execute(per_bucket(Ticket.resolved_at))}
    return {
        "interval": interval,
        "tz": tz,
        "items": [
            {"bucket": day, "created": created.get(day, 0), "resolved": resolved.get(day, 0)}
            for day in _buckets(flt, zone, interval)
        ],
    }


async def backlog(
    session: AsyncSession, actor: CurrentUser, flt: ReportFilter, *, now: datetime
) -> dict[str, Any]:
    """Tickets open now (the non-date filters apply) by age since creation and by priority."""
    columns: list[Any] = [Ticket.priority, func.count().label("total")]
    for key, _label, low, high in AGE_BUCKETS:
        older = Ticket.created_at <= now - timedelta(days=low)
        cond = (
            older if high is None else and_(older, Ticket.created_at > now - timedelta(days=high))
        )
        columns.append(func.count().filter(cond).label(key))
    stmt = (
        _tickets(actor, flt, *columns)
        .where(Ticket.status.in_(OPEN_STATUSES))
        .group_by(Ticket.priority)
    )
    rows = {r.priority: r for r in await session.execute(stmt)}
    by_age = []
    for key, label, _low, _high in AGE_BUCKETS:
        per = {p: (getattr(rows[p], key) if p in rows else 0) for p in PRIORITIES}
        by_age.append(
            {"bucket": key, "label": label, "count": sum(per.values()), "by_priority": per}
        )
    return {
        "total": sum(r.total for r in rows.values()),
        "by_age": by_age,
        "by_priority": [
            {"priority": p, "count": rows[p].total if p in rows else 0} for p in PRIORITIES
        ],
        "at": now,
    }


_KEYS: dict[str, Any] = {
    "agent": Ticket.assigned_to,
    "team": Ticket.assigned_team_id,
    "organization": Ticket.org_id,
}


async def _names(session: AsyncSession, by: BreakdownBy, ids: list[uuid.UUID]) -> dict[Any, str]:
    if not ids:
        return {}
    model: Any = {"agent": User, "team": Team, "organization": Organization}[by]
    rows = await session.execute(select(model.id, model.name).where(model.id.in_(ids)))
    return {r.id: r.name for r in rows}


async def breakdown(
    session: AsyncSession, actor: CurrentUser, flt: ReportFilter, by: BreakdownBy
) -> dict[str, Any]:
    """One row per agent (assignee), team or organization that has any figure in the range;
    tickets without an assignee or team form a row with ``id`` null. Same definitions as the
    summary."""
    key = _KEYS[by].label("key")
    created_q = (
        _tickets(actor, flt, key, func.count().label("n"))
        .where(flt.in_range(Ticket.created_at))
        .group_by(key)
    )
    resolved_q = (
        _tickets(
            actor,
            flt,
            key,
            func.count().label("n"),
            func.count().filter(_NEITHER_BREACHED).label("compliant"),
            func.percentile_cont(0.5).within_group(Ticket.sla_resolution_consumed_s).label("p50"),
        )
        .where(flt.in_range(Ticket.resolved_at))
        .group_by(key)
    )
    first_q = (
        _tickets(
            actor,
            flt,
            key,
            func.percentile_cont(0.5)
            .within_group(Ticket.sla_first_response_consumed_s)
            .label("p50"),
        )
        .where(flt.in_range(Ticket.first_responded_at))
        .group_by(key)
    )
    csat_q = _csat_counts(actor, flt, key).group_by(key)
    created = {r.key: r.n for r in await session.execute(created_q)}
    resolved = {r.key: r for r in await session.execute(resolved_q)}
    first = {r.key: r.p50 for r in await session.execute(first_q)}
    ratings = {r.key: r for r in await session.execute(csat_q)}
    keys = set(created) | set(resolved) | set(first) | set(ratings)
    names = await _names(session, by, [k for k in keys if k is not None])
    items = []
    for k in keys:
        res = resolved.get(k)
        rat = ratings.get(k)
        items.append(
            {
                "id": k,
                "name": names.get(k, "Unassigned") if k is not None else "Unassigned",
                "created": created.get(k, 0),
                "resolved": res.n if res else 0,
                "first_response_p50_s": None if first.get(k) is None else float(first[k]),
                "resolution_p50_s": None if res is None or res.p50 is None else float(res.p50),
                "sla_compliance_pct": _pct(res.compliant, res.n) if res else None,
                "csat": csat_figures(rat.good, rat.okay, rat.bad) if rat else csat_figures(0, 0, 0),
            }
        )
    items.sort(key=lambda r: (r["id"] is None, r["name"].casefold(), str(r["id"])))
    return {"by": by, "items": items}


async def dashboard(
    session: AsyncSession, actor: CurrentUser, *, now: datetime, tz: str, days: int = 14
) -> dict[str, Any]:
    """Counts for every staff member's dashboard (no durations, no filters): open tickets by
    status, those awaiting acceptance, open ones with a breached clock, resolved in the last
    7 days, breaches by priority among tickets created in the last 30 days, and created vs
    resolved per local day for the last *days* days in *tz*."""
    zone = time_zone(tz)
    today = now.astimezone(zone).date()
    first_day = today - timedelta(days=days - 1)
    start = datetime(first_day.year, first_day.month, first_day.day, tzinfo=zone).astimezone(UTC)
    breached = or_(
        Ticket.sla_first_response_breached_at.is_not(None),
        Ticket.sla_resolution_breached_at.is_not(None),
    )

    def mine(*columns: Any) -> Select[Any]:
        return visible_tickets(actor).with_only_columns(*columns).select_from(Ticket)

    by_status = (
        mine(
            Ticket.status, func.count().label("n"), func.count().filter(breached).label("breached")
        )
        .where(Ticket.status.in_(OPEN_STATUSES))
        .group_by(Ticket.status)
    )
    status_rows = {r.status: r for r in await session.execute(by_status)}
    resolved_7 = (
        await session.execute(
            mine(func.count()).where(Ticket.resolved_at >= now - timedelta(days=7))
        )
    ).scalar_one()
    month = now - timedelta(days=30)
    breaches = (
        mine(
            Ticket.priority,
            func.count().filter(Ticket.sla_first_response_breached_at.is_not(None)).label("fr"),
            func.count().filter(Ticket.sla_resolution_breached_at.is_not(None)).label("res"),
        )
        .where(Ticket.created_at >= month, breached)
        .group_by(Ticket.priority)
    )
    breach_rows = {r.priority: r for r in await session.execute(breaches)}
    flt = ReportFilter(start, now)

    def per_day(column: Any) -> Select[Any]:
        bucket = func.date_trunc("day", func.timezone(tz, column)).label("bucket")
        return mine(bucket, func.count().label("n")).where(flt.in_range(column)).group_by(bucket)

    created = {r.bucket.date(): r.n for r in await session.execute(per_day(Ticket.created_at))}
    resolved = {r.bucket.date(): r.n for r in await session.execute(per_day(Ticket.resolved_at))}
    return {
        "open": sum(r.n for r in status_rows.values()),
        "awaiting_acceptance": status_rows["NEW"].n if "NEW" in status_rows else 0,
        "breached_open": sum(r.breached for r in status_rows.values()),
        "resolved_last_7d": resolved_7,
        "by_status": [
            {"status": s, "count": status_rows[s].n if s in status_rows else 0}
            for s in OPEN_STATUSES
        ],
        "breaches_by_priority": [
            {
                "priority": p,
                "first_response": breach_rows[p].fr if p in breach_rows else 0,
                "resolution": breach_rows[p].res if p in breach_rows else 0,
            }
            for p in PRIORITIES
        ],
        "per_day": [
            {
                "bucket": first_day + timedelta(days=i),
                "created": created.get(first_day + timedelta(days=i), 0),
                "resolved": resolved.get(first_day + timedelta(days=i), 0),
            }
            for i in range(days)
        ],
        "tz": tz,
    }


# CSV ------------------------------------------------------------------------------------------

# A spreadsheet runs a cell that starts with one of these as a formula (CSV injection): such a
# text cell is written with a leading apostrophe.
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def neutralised(value: object) -> str:
    if value is None:
        return ""
    text_value = value.isoformat() if isinstance(value, datetime | date) else str(value)
    return "'" + text_value if text_value.startswith(FORMULA_START) else text_value


def _safe_sql(expr: Any) -> Any:
    """The SQL twin of :func:`neutralised` for the COPY export."""
    starts = func.left(expr, 1).in_(FORMULA_START)
    return case((starts, literal_column("''''") + expr), else_=expr)


def _seconds(expr: Any) -> Any:
    return func.round(expr).cast(postgresql.BIGINT)


TICKET_CSV_COLUMNS = (
    "number",
    "title",
    "organization",
    "status",
    "priority",
    "category",
    "channel",
    "assignee",
    "team",
    "created_at",
    "accepted_at",
    "accept_business_s",
    "first_responded_at",
    "first_response_business_s",
    "first_response_breached",
    "resolved_at",
    "resolution_business_s",
    "resolution_breached",
    "reopen_count",
    "csat",
)


def tickets_csv_query(actor: CurrentUser, flt: ReportFilter) -> Select[Any]:
    """One row per ticket created in the range (oldest first), with the report's figures."""
    responded = Ticket.first_responded_at.is_not(None)
    done = Ticket.resolved_at.is_not(None)
    return (
        _tickets(
            actor,
            flt,
            Ticket.number,
            _safe_sql(Ticket.title).label("title"),
            _safe_sql(Organization.name).label("organization"),
            Ticket.status,
            Ticket.priority,
            _safe_sql(Ticket.category).label("category"),
            Ticket.channel,
            _safe_sql(User.email).label("assignee"),
            _safe_sql(Team.name).label("team"),
            Ticket.created_at,
            Ticket.accepted_at,
            _seconds(Ticket.accept_business_s).label("accept_business_s"),
            Ticket.first_responded_at,
            case((responded, _seconds(Ticket.sla_first_response_consumed_s))).label("fr_s"),
            Ticket.sla_first_response_breached_at.is_not(None).label("fr_breached"),
            Ticket.resolved_at,
            case((done, _seconds(Ticket.sla_resolution_consumed_s))).label("res_s"),
            Ticket.sla_resolution_breached_at.is_not(None).label("res_breached"),
            Ticket.reopen_count,
            TicketCsat.rating,
        )
        .join(Organization, Organization.id == Ticket.org_id)
        .outerjoin(User, User.id == Ticket.assigned_to)
        .outerjoin(Team, Team.id == Ticket.assigned_team_id)
        .outerjoin(TicketCsat, TicketCsat.ticket_id == Ticket.id)
        .where(flt.in_range(Ticket.created_at))
        .order_by(Ticket.created_at, Ticket.id)
    )


def copy_statement(stmt: Select[Any]) -> tuple[str, list[Any]]:
    """*stmt* as asyncpg SQL (``$n`` placeholders) and its arguments in order."""
    compiled = stmt.compile(
        dialect=PGDialect_asyncpg(),  # type: ignore[no-untyped-call]
        compile_kwargs={"render_postcompile": True},
    )
    params = compiled.params
    names = compiled.positiontup or []
    return str(compiled), [params[n] for n in names]


# The COPY output is handed on in chunks of about this many bytes; a queue of a few chunks is the
# only buffer between the database and the client (a slow client holds COPY back).
CHUNK_BYTES = 64 * 1024
QUEUE_CHUNKS = 4


async def copy_csv(
    session: AsyncSession, stmt: Select[Any], header: tuple[str, ...]
) -> AsyncIterator[bytes]:
    """``COPY (stmt) TO STDOUT (FORMAT csv)`` on the session's connection, streamed."""
    sql, args = copy_statement(stmt)
    connection = await session.connection()
    raw = await connection.get_raw_connection()
    driver: Any = raw.driver_connection
    queue: asyncio.Queue[bytes | None] = asyncio.Queue(QUEUE_CHUNKS)
    pending = bytearray()

    async def sink(data: bytes) -> None:
        pending.extend(data)
        if len(pending) >= CHUNK_BYTES:
            await queue.put(bytes(pending))
            pending.clear()

    async def run() -> None:
        try:
            await driver.copy_from_query(sql, *args, output=sink, format="csv")
            if pending:
                await queue.put(bytes(pending))
        finally:
            await queue.put(None)

    yield _csv_text([list(header)]).encode()
    task = asyncio.create_task(run())
    try:
        while (chunk := await queue.get()) is not None:
            yield chunk
        await task
    finally:
        if not task.done():
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)


def _csv_text(rows: list[list[Any]]) -> str:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\r\n").writerows(
        [[neutralised(c) for c in row] for row in rows]
    )
    return buffer.getvalue()


AGENT_CSV_COLUMNS = (
    "id",
    "name",
    "created",
    "resolved",
    "first_response_p50_s",
    "resolution_p50_s",
    "sla_compliance_pct",
    "csat_good",
    "csat_okay",
    "csat_bad",
    "csat_score_pct",
)


async def _breakdown_csv(
    session: AsyncSession, actor: CurrentUser, flt: ReportFilter, by: BreakdownBy
) -> AsyncIterator[bytes]:
    data = await breakdown(session, actor, flt, by)
    rows: list[list[Any]] = [list(AGENT_CSV_COLUMNS)]
    for item in data["items"]:
        c = item["csat"]
        rows.append(
            [
                item["id"],
                item["name"],
                item["created"],
                item["resolved"],
                _round(item["first_response_p50_s"]),
                _round(item["resolution_p50_s"]),
                item["sla_compliance_pct"],
                c["good"],
                c["okay"],
                c["bad"],
                c["score_pct"],
            ]
        )
    yield _csv_text(rows).encode()


def _round(value: float | None) -> int | None:
    return None if value is None else round(value)


SLA_CSV_COLUMNS = (
    "priority",
    "resolved",
    "first_response_breached",
    "resolution_breached",
    "sla_compliance_pct",
    "first_response_p50_s",
    "first_response_p90_s",
    "resolution_p50_s",
    "resolution_p90_s",
)


async def _sla_csv(
    session: AsyncSession, actor: CurrentUser, flt: ReportFilter
) -> AsyncIterator[bytes]:
    """Per priority: the tickets resolved in the range, their breaches and durations."""
    resolved_q = (
        _tickets(
            actor,
            flt,
            Ticket.priority,
            func.count().label("n"),
            func.count().filter(Ticket.sla_first_response_breached_at.is_not(None)).label("fr"),
            func.count().filter(Ticket.sla_resolution_breached_at.is_not(None)).label("res"),
            func.count().filter(_NEITHER_BREACHED).label("ok"),
            _percentiles(Ticket.sla_resolution_consumed_s).label("p"),
        )
        .where(flt.in_range(Ticket.resolved_at))
        .group_by(Ticket.priority)
    )
    first_q = (
        _tickets(
            actor,
            flt,
            Ticket.priority,
            _percentiles(Ticket.sla_first_response_consumed_s).label("p"),
        )
        .where(flt.in_range(Ticket.first_responded_at))
        .group_by(Ticket.priority)
    )
    resolved = {r.priority: r for r in await session.execute(resolved_q)}
    first = {r.priority: r.p for r in await session.execute(first_q)}
    rows: list[list[Any]] = [list(SLA_CSV_COLUMNS)]
    for p in PRIORITIES:
        r = resolved.get(p)
        rows.append(
            [
                p,
                r.n if r else 0,
                r.fr if r else 0,
                r.res if r else 0,
                _pct(r.ok, r.n) if r else None,
                _round(_p(first.get(p), 0)),
                _round(_p(first.get(p), 1)),
                _round(_p(r.p, 0)) if r else None,
                _round(_p(r.p, 1)) if r else None,
            ]
        )
    yield _csv_text(rows).encode()


def export(
    session: AsyncSession, actor: CurrentUser, flt: ReportFilter, name: str
) -> AsyncIterator[bytes]:
    """The CSV body of report *name* (one of ``CSV_NAMES``)."""
    if name == "tickets":
        return copy_csv(session, tickets_csv_query(actor, flt), TICKET_CSV_COLUMNS)
    if name == "agents":
        return _breakdown_csv(session, actor, flt, "agent")
    if name == "teams":
        return _breakdown_csv(session, actor, flt, "team")
    if name == "organizations":
        return _breakdown_csv(session, actor, flt, "organization")
    return _sla_csv(session, actor, flt)
