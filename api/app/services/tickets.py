"""Tickets: creation, lists, details, the lifecycle commands and comments.

Every path starts from ``visible_tickets(actor)``; every status change goes through
``workflow.transition``; every change is audited in the same transaction. Mutations lock the
ticket row (``FOR UPDATE``), so two managers accepting at once get exactly one success.
"""

from __future__ import annotations

import uuid
from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from pydantic import ValidationError
from sqlalchemy import (
    DateTime,
    Result,
    Row,
    Select,
    and_,
    bindparam,
    func,
    insert,
    literal_column,
    or_,
    select,
    update,
)
from sqlalchemy.dialects.postgresql import UUID as PgUUID
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased
from sqlalchemy.orm.attributes import set_committed_value
from sqlalchemy.orm.util import identity_key

from app.ai import queue as ai_queue
from app.auth.deps import CurrentUser
from app.config import get_settings
from app.errors import Conflict, Forbidden, Invalid, NotFound, RateLimited
from app.models import (
    AuditLog,
    Organization,
    Service,
    Tag,
    Team,
    Ticket,
    TicketAttachment,
    TicketComment,
    TicketCsat,
    TicketLink,
    TicketTag,
    User,
)
from app.models.enums import STAFF_ROLES, Priority, Role
from app.models.enums import TicketStatus as S
from app.schemas.ticket import Accept, Assign, StatusChange, TicketCreate, TicketUpdate
from app.services import (
    audit,
    business_time,
    calendar_cache,
    ccs,
    csat,
    notifications,
    ratelimit,
    search,
    sla,
    sla_sweep,
    tags,
    workflow,
)
from app.services.visibility import (
    actor_values,
    opened_or_copied,
    stand_in,
    visible_attachments,
    visible_comments,
    visible_services,
    visible_tags,
    visible_tickets,
)
from app.utils.pagination import decode_cursor, encode_cursor

_STAFF = [r.value for r in STAFF_ROLES]
Creator, Acceptor, Assignee = aliased(User), aliased(User), aliased(User)


# ---------------------------------------------------------------- reading


# What the ticket views read: plain rows of these columns (Core), not ORM objects, and never the
# search document (a tsvector per ticket that no view shows).
_VIEW_COLUMNS = [column for column in Ticket.__table__.c if column.key != "search"]


def _tag_names(actor: CurrentUser) -> Any:
    """The ticket's tag names, sorted, as one array column (index: the ticket_tags key)."""
    names = (
        visible_tags(actor)
        .with_only_columns(Tag.name)
        .join(TicketTag, TicketTag.tag_id == Tag.id)
        .where(TicketTag.ticket_id == Ticket.id)
        .order_by(Tag.name)
        .correlate(Ticket)
    )
    return func.array(names.scalar_subquery()).label("tags")


def _page_with_refs(
    stmt: Select[Ticket], actor: CurrentUser, *, newest_first: bool = False, by_due: bool = False
) -> Select[Any]:
    """A list page (*stmt* has its order and LIMIT) with the names its views show. The staff's tags
    are read for the page's rows only, around the limited statement: inside it, the tags' subquery
    in the select list would make an ordered index walk look dearer than sorting every match, and
    PostgreSQL would change the list's plan. The outer order repeats the page's: newest first,
    oldest first, or (*by_due*) soonest SLA due first."""
    page = _with_refs_all(stmt)
    if not actor.is_staff:
        return page
    rows = page.subquery("page")
    names = (
        visible_tags(actor)
        .with_only_columns(Tag.name)
        .join(TicketTag, TicketTag.tag_id == Tag.id)
        .where(TicketTag.ticket_id == rows.c.id)
        .order_by(Tag.name)
        .correlate(rows)
    )
    order: list[Any]
    if by_due:
        order = [rows.c.sla_next_due_at.asc().nulls_last(), rows.c.id.asc()]
    else:
        keys = (rows.c.created_at, rows.c.id)
        order = [k.desc() for k in keys] if newest_first else list(keys)
    return select(*rows.c, func.array(names.scalar_subquery()).label("tags")).order_by(*order)


def _with_refs(stmt: Select[Ticket], actor: CurrentUser) -> Select[Any]:
    """The ticket's columns plus every name its views show, in the same statement (no N+1).
    Only the staff views show tags: a customer's statement does not even read them."""
    stmt = _with_refs_all(stmt)
    return stmt.add_columns(_tag_names(actor)) if actor.is_staff else stmt


def _with_refs_all(stmt: Select[Ticket]) -> Select[Any]:
    return (
        stmt.with_only_columns(
            *_VIEW_COLUMNS,
            Organization.name.label("org_name"),
            Creator.name.label("creator_name"),
            Acceptor.name.label("acceptor_name"),
            Assignee.name.label("assignee_name"),
            Team.name.label("team_name"),
        )
        .join(Organization, Organization.id == Ticket.org_id)
        .outerjoin(Creator, Creator.id == Ticket.created_by)
        .outerjoin(Acceptor, Acceptor.id == Ticket.accepted_by)
        .outerjoin(Assignee, Assignee.id == Ticket.assigned_to)
        .outerjoin(Team, Team.id == Ticket.assigned_team_id)
    )


def _ref(id_: uuid.UUID | None, name: str | None) -> dict[str, Any] | None:
    return {"id": id_, "name": name} if id_ is not None and name is not None else None


def view(row: Row[Any], now: datetime, *, with_sla: bool = True) -> dict[str, Any]:
    """A ticket row as a dict both view schemas validate (each keeps only its own fields; the
    SLA clock, which only the staff views show, is left out with ``with_sla=False``)."""
    t: Any = row  # the ticket's columns, by name
    out = {
        "id": t.id,
        "number": t.number,
        "org_id": t.org_id,
        "org_name": row.org_name,
        "service_id": t.service_id,
        "title": t.title,
        "description": t.description,
        "status": t.status,
        "priority": t.priority,
        "category": t.category,
        "created_by": _ref(t.created_by, row.creator_name),
        "accepted_by": _ref(t.accepted_by, row.acceptor_name),
        "assigned_to": _ref(t.assigned_to, row.assignee_name),
        "accepted_at": t.accepted_at,
        "resolved_at": t.resolved_at,
        "closed_at": t.closed_at,
        "created_at": t.created_at,
        "updated_at": t.updated_at,
        "resolution": t.resolution,
        "root_cause": t.root_cause,
        "assigned_team": _ref(t.assigned_team_id, row.team_name),
        "channel": t.channel,
        "follow_up_of": t.follow_up_of,
        "merged_into": t.merged_into,
    }
    if with_sla:
        out["sla"] = sla_view(t, now)
    if "tags" in row._fields:
        out["tags"] = list(row.tags)
    return out


def actions(t: Ticket, actor: CurrentUser) -> dict[str, Any]:
    """What *actor* may do with the ticket now, from the workflow rules (the UI offers exactly
    these; the commands check them again)."""
    targets = workflow.available(t, actor)
    return {
        "transitions": [s.value for s in targets if s not in (S.ACCEPTED, S.ASSIGNED)],
        "accept": S.ACCEPTED in targets,
        "assign": workflow.can_assign(t, actor),
        "reply": workflow.can_comment(t, actor, internal=False),
        "note": workflow.can_comment(t, actor, internal=True),
        "withdraw": S.CANCELLED in targets and not actor.is_staff,
        "attach": S(t.status) not in workflow.FINAL,
    }


def sla_view(t: Ticket, now: datetime) -> dict[str, Any]:
    """The SLA block of the staff views, from the stored clocks. A due time already passed counts
    as breached before the sweep records it. The calendar (for "outside hours" and the business
    time left) comes from the process cache; a ticket whose calendar is not cached shows neither
    rather than guess."""
    clocks = workflow.clock_of(t)
    calendar = calendar_cache.get(t.sla_calendar_id)
    known = t.sla_calendar_id is None or calendar is not None
    fr_due, res_due = t.sla_first_response_due_at, t.sla_resolution_due_at
    running = t.sla_running_since is not None
    return {
        "first_response_due_at": fr_due,
        "resolution_due_at": res_due,
        "first_response_warn_at": t.sla_first_response_warn_at,
        "resolution_warn_at": t.sla_resolution_warn_at,
        "first_responded_at": t.first_responded_at,
        "paused": t.sla_paused_at is not None,
        "paused_since": t.sla_paused_at,
        "paused_seconds": t.sla_paused_seconds,
        "first_response_breached": t.sla_first_response_breached_at is not None
        or (fr_due is not None and t.first_responded_at is None and running and fr_due <= now),
        "resolution_breached": t.sla_resolution_breached_at is not None
        or (res_due is not None and t.resolved_at is None and running and res_due <= now),
        "calendar_id": t.sla_calendar_id,
        "outside_hours": bool(
            running and calendar is not None and not business_time.is_open(calendar, now)
        ),
        "first_response_left_s": _left(clocks.first_response, calendar, now) if known else None,
        "resolution_left_s": _left(clocks.resolution, calendar, now) if known else None,
        "first_response_target_s": t.sla_first_response_target_s,
        "resolution_target_s": t.sla_resolution_target_s,
    }


def _left(clock: business_time.Clock, calendar: Any, now: datetime) -> int | None:
    left = sla.left_s(clock, calendar, now)
    return None if left is None else int(left)


# The read statements are built once per shape and kept, for a stand-in of the caller's role
# (services/visibility.py: stand_in, actor_values).
_AFTER_CREATED = bindparam("after_created", type_=DateTime(timezone=True))
_AFTER_ID = bindparam("after_id", type_=PgUUID(as_uuid=True))
Uploader = aliased(User)
Rater = aliased(User)


async def _core(session: AsyncSession, stmt: Select[Any], values: dict[str, Any]) -> Result[Any]:
    """Run a read on the session's connection: plain rows, without the ORM's loading layer
    (these statements select columns, never objects)."""
    connection = await session.connection()
    result: Result[Any] = await connection.execute(stmt, values)
    return result


@lru_cache(maxsize=16)
def _one(role: Role) -> Select[Any]:
    actor = stand_in(role)
    return _with_refs(visible_tickets(actor), actor).where(Ticket.id == bindparam("ticket_id"))


async def get_row(session: AsyncSession, actor: CurrentUser, ticket_id: uuid.UUID) -> Row[Any]:
    row = (
        await _core(session, _one(actor.role), actor_values(actor, ticket_id=ticket_id))
    ).one_or_none()
    if row is None:
        raise NotFound("Ticket not found")
    await calendar_cache.prime(session, (row,))
    return row


@dataclass(frozen=True, slots=True)
class TicketFilter:
    status: list[S] = field(default_factory=list)
    priority: list[Priority] = field(default_factory=list)
    q: str | None = None
    org_id: uuid.UUID | None = None
    assigned_to: uuid.UUID | None = None
    breached: bool | None = None
    tag: str | None = None
    team_id: uuid.UUID | None = None
    channel: str | None = None
    # No assignee (``assigned_to=unassigned`` in the query).
    unassigned: bool = False
    # Open, not paused, resolution due within this many hours or already overdue.
    due_within_hours: int | None = None
    # Only the tickets the caller opened or is copied on (the portal's ``scope=mine``).
    mine: bool = False
    # "created": newest first; "sla_due": the soonest SLA due first, clocks not running last.
    sort: str = "created"


# The list query's ``assigned_to``: a user's id, or one of these words.
ME, UNASSIGNED = "me", "unassigned"


def assignee_filter(value: str | None, actor: CurrentUser) -> dict[str, Any]:
    """``assigned_to`` as TicketFilter fields: "me" is the caller, "unassigned" nobody, anything
    else a user's id (422 when it is not one)."""
    if value is None:
        return {}
    if value == ME:
        return {"assigned_to": actor.id}
    if value == UNASSIGNED:
        return {"unassigned": True}
    try:
        return {"assigned_to": uuid.UUID(value)}
    except ValueError:
        raise Invalid("assigned_to", "A user's id, 'me' or 'unassigned'") from None


# The tickets whose resolution clock runs: the same predicate as the partial index
# ix_tickets_sla_open, written with literals so that even a generic (cached) plan can use it.
_SLA_RUNNING = (
    Ticket.sla_paused_at.is_(None),
    Ticket.status.not_in(
        [literal_column(f"'{s.value}'") for s in (S.RESOLVED, S.CLOSED, S.CANCELLED)]
    ),
)


@lru_cache(maxsize=512)
def _filtered(
    role: Role,
    status: bool,
    priority: bool,
    org: bool,
    assignee: bool,
    breached: bool | None,
    search: str | None,
    tag: bool,
    team: bool,
    channel: bool,
    unassigned: bool,
    due: bool,
    mine: bool = False,
) -> Select[Any]:
    """The tickets matching one shape of filter (which filters are set): the one place the list
    query's filters are written; the lists, the saved views and their counts all start here.
    *search*: None, "number" (``#1042``) or "text" (words: services/search.py)."""
    actor = stand_in(role)
    stmt = visible_tickets(actor)
    if status:
        stmt = stmt.where(Ticket.status.in_(bindparam("statuses", expanding=True)))
    if priority:
        stmt = stmt.where(Ticket.priority.in_(bindparam("priorities", expanding=True)))
    if org:
        stmt = stmt.where(Ticket.org_id == bindparam("org_id"))
    if assignee:
        stmt = stmt.where(Ticket.assigned_to == bindparam("assigned_to"))
    if unassigned:
        stmt = stmt.where(Ticket.assigned_to.is_(None))
    if breached is not None:
        is_breached = or_(
            Ticket.sla_first_response_breached_at.is_not(None),
            Ticket.sla_resolution_breached_at.is_not(None),
        )
        stmt = stmt.where(is_breached if breached else ~is_breached)
    if due:
        # Through ix_tickets_sla_open: a range on the due time of the running clocks.
        stmt = stmt.where(
            *_SLA_RUNNING,
            Ticket.sla_resolution_due_at <= bindparam("due_before", type_=DateTime(timezone=True)),
        )
    if search == "number":
        # "#1042": that ticket alone (the number's unique index).
        stmt = stmt.where(Ticket.number == bindparam("number"))
    # A text search (search == "text") is not a filter here: what it matches and how the newest
    # matches are found is services/search.py's, applied by the list, order and count below.
    if tag:
        # The tickets of one tag, through ix_ticket_tags_tag_ticket (tag first).
        tagged = (
            visible_tags(actor)
            .with_only_columns(TicketTag.ticket_id)
            .select_from(Tag)
            .join(TicketTag, TicketTag.tag_id == Tag.id)
            .where(Tag.name == bindparam("tag"))
        )
        stmt = stmt.where(Ticket.id.in_(tagged))
    if team:
        stmt = stmt.where(Ticket.assigned_team_id == bindparam("team_id"))
    if channel:
        stmt = stmt.where(Ticket.channel == bindparam("channel"))
    if mine:
        stmt = stmt.where(opened_or_copied(actor))
    return stmt


def _shape(flt: TicketFilter, search_kind: str | None) -> tuple[Any, ...]:
    """The arguments of ``_filtered`` after the role: which filters *flt* sets."""
    return (
        bool(flt.status),
        bool(flt.priority),
        flt.org_id is not None,
        flt.assigned_to is not None,
        flt.breached,
        search_kind,
        flt.tag is not None,
        flt.team_id is not None,
        flt.channel is not None,
        flt.unassigned,
        flt.due_within_hours is not None,
        flt.mine,
    )


def _filter_values(
    actor: CurrentUser, flt: TicketFilter, terms: Any, now: datetime | None
) -> dict[str, Any]:
    due_before = None
    if flt.due_within_hours is not None:
        due_before = (now or datetime.now(UTC)) + timedelta(hours=flt.due_within_hours)
    return actor_values(
        actor,
        statuses=[s.value for s in flt.status],
        priorities=[p.value for p in flt.priority],
        org_id=flt.org_id,
        assigned_to=flt.assigned_to,
        q=terms if isinstance(terms, str) else "",
        number=terms if isinstance(terms, int) else None,
        tag=(flt.tag or "").strip().lower(),
        team_id=flt.team_id,
        channel=flt.channel,
        due_before=due_before,
    )


_AFTER_DUE = bindparam("after_due", type_=DateTime(timezone=True))


# Where the search kind sits in a shape (``_shape``).
_SEARCH = 5


@lru_cache(maxsize=512)
def _list_by_due(role: Role, shape: tuple[Any, ...], after: str | None) -> Select[Any]:
    """The list statement of one shape, soonest SLA due first, tickets whose clocks do not run
    (paused, done, not accepted) last; keyset on (sla_next_due_at NULLS LAST, id) through
    ix_tickets_sla_next_due. *after*: None, "due" (the cursor's row has a due time) or "null"."""
    actor = stand_in(role)
    stmt = _filtered(role, *shape)
    if shape[_SEARCH] == "text":
        stmt = stmt.where(search.matches(actor, Ticket))
    due = Ticket.sla_next_due_at
    if after == "due":
        stmt = stmt.where(
            or_(
                due > _AFTER_DUE,
                and_(due == _AFTER_DUE, Ticket.id > _AFTER_ID),
                due.is_(None),
            )
        )
    elif after == "null":
        stmt = stmt.where(due.is_(None), Ticket.id > _AFTER_ID)
    stmt = stmt.order_by(due.asc().nulls_last(), Ticket.id.asc()).limit(bindparam("limit"))
    return _page_with_refs(stmt, actor, by_due=True)


def search_page(kind: str | None, rows: int) -> int | None:
    """A text search's rows per statement, written into it as literals. The search statement
    takes PostgreSQL 10-25 ms to plan; with nothing left to a parameter but the words (read by
    InitPlans, which a plan cannot see into either way), its generic plan costs what a custom one
    does, so after five executions on a connection PostgreSQL may keep the generic plan and stop
    planning it (measured on a scratch database; no test checks it yet)."""
    return rows if kind == "text" else None


@lru_cache(maxsize=512)
def _list(role: Role, shape: tuple[Any, ...], after: bool, page: int | None = None) -> Select[Any]:
    """The list statement of one shape, newest first (a text search: the newest matches found
    by services/search.py, then read like any list page). *page*: the page size written into a
    text search's statement (``search_page``)."""
    actor = stand_in(role)
    stmt = _filtered(role, *shape)
    if after:
        stmt = stmt.where(
            or_(
                Ticket.created_at < _AFTER_CREATED,
                and_(Ticket.created_at == _AFTER_CREATED, Ticket.id < _AFTER_ID),
            )
        )
    limit: Any = bindparam("limit") if page is None else literal_column(str(page))
    if shape[_SEARCH] == "text":
        # Joined from the (at most two pages of) hits: nothing else to walk.
        hits = search.newest(actor, stmt, limit)
        stmt = select(Ticket).select_from(hits).join(Ticket, Ticket.id == hits.c.id)
    stmt = stmt.order_by(Ticket.created_at.desc(), Ticket.id.desc()).limit(limit)
    return _page_with_refs(stmt, actor, newest_first=True)


@lru_cache(maxsize=512)
def _count(role: Role, shape: tuple[Any, ...]) -> Select[Any]:
    """How many tickets match one shape: the same statement as the list, counted (a text
    search: its matches collected through the indexes, services/search.py)."""
    stmt = _filtered(role, *shape)
    if shape[_SEARCH] == "text":
        return select(func.count()).select_from(search.collected(stand_in(role), stmt).subquery())
    return stmt.with_only_columns(func.count(), maintain_column_froms=True)


async def list_rows(
    session: AsyncSession,
    actor: CurrentUser,
    flt: TicketFilter,
    *,
    cursor: str | None,
    limit: int,
    now: datetime | None = None,
) -> tuple[list[Row[Any]], str | None]:
    """Newest first, keyset on (created_at, id)."""
    kind, terms = search.parse(flt.q)
    values = _filter_values(actor, flt, terms, now)
    values["limit"] = limit + 1
    if flt.sort == "sla_due":
        after: str | None = None
        if cursor:
            due_text, values["after_id"] = decode_cursor(cursor, [str, uuid.UUID])
            after = "null" if due_text == "null" else "due"
            if after == "due":
                values["after_due"] = decode_cursor(encode_cursor([due_text]), [datetime])[0]
        stmt = _list_by_due(actor.role, _shape(flt, kind), after)
        rows = list((await _core(session, stmt, values)).all())
        await calendar_cache.prime(session, rows)
        if len(rows) > limit:
            rows = rows[:limit]
            last = rows[-1]
            due = last.sla_next_due_at
            return rows, encode_cursor([due.isoformat() if due else "null", last.id])
        return rows, None
    if cursor:
        values["after_created"], values["after_id"] = decode_cursor(cursor, [datetime, uuid.UUID])
    stmt = _list(actor.role, _shape(flt, kind), bool(cursor), search_page(kind, limit + 1))
    rows = list((await _core(session, stmt, values)).all())
    await calendar_cache.prime(session, rows)
    if len(rows) > limit:
        rows = rows[:limit]
        return rows, encode_cursor([rows[-1].created_at, rows[-1].id])
    return rows, None


def compiled_list(
    role: Role, flt: TicketFilter, limit: int, user_id: uuid.UUID, org_id: uuid.UUID | None
) -> tuple[str, list[Any]]:
    """The SQL text (asyncpg's $n placeholders) and the positional arguments of the first list
    page ``list_rows`` runs for a caller of *role* (*user_id*, *org_id*) and *flt*, newest first:
    the benchmark's raw-driver ceiling runs exactly this."""
    from sqlalchemy.dialects import postgresql

    kind, terms = search.parse(flt.q)
    actor = CurrentUser(
        id=user_id,
        email="",
        name="",
        role=role,
        org_id=org_id,
        org_name=None,
        session_id=uuid.UUID(int=0),
    )
    values = _filter_values(actor, flt, terms, None)
    values["limit"] = limit + 1
    stmt = _list(role, _shape(flt, kind), False, search_page(kind, limit + 1))
    compiled = stmt.compile(dialect=postgresql.asyncpg.dialect())  # type: ignore[no-untyped-call]
    bound = compiled.construct_params(values)
    positions = compiled.positiontup or []
    return compiled.string, [bound[name] for name in positions]


async def count_rows(
    session: AsyncSession, actor: CurrentUser, flt: TicketFilter, *, now: datetime | None = None
) -> int:
    """How many tickets the list of *flt* holds (one COUNT over the list's own filters)."""
    kind, terms = search.parse(flt.q)
    stmt = _count(actor.role, _shape(flt, kind))
    result = await _core(session, stmt, _filter_values(actor, flt, terms, now))
    return int(result.scalar_one())


@lru_cache(maxsize=32)
def _queue(role: Role, after: bool) -> Select[Any]:
    # A literal, not a parameter: only then can a generic (cached) plan use the partial index.
    actor = stand_in(role)
    stmt = visible_tickets(actor).where(Ticket.status == literal_column("'NEW'"))
    if after:
        stmt = stmt.where(
            or_(
                Ticket.created_at > _AFTER_CREATED,
                and_(Ticket.created_at == _AFTER_CREATED, Ticket.id > _AFTER_ID),
            )
        )
    page = stmt.order_by(Ticket.created_at, Ticket.id).limit(bindparam("limit"))
    return _page_with_refs(page, actor, newest_first=False)


async def new_queue(
    session: AsyncSession, actor: CurrentUser, *, cursor: str | None, limit: int
) -> tuple[list[Row[Any]], str | None]:
    """The unaccepted queue, oldest first (partial index on NEW tickets)."""
    values = actor_values(actor, limit=limit + 1)
    if cursor:
        values["after_created"], values["after_id"] = decode_cursor(cursor, [datetime, uuid.UUID])
    rows = list((await _core(session, _queue(actor.role, bool(cursor)), values)).all())
    if len(rows) > limit:
        rows = rows[:limit]
        return rows, encode_cursor([rows[-1].created_at, rows[-1].id])
    return rows, None


def _comment(c: Any, ticket_id: uuid.UUID) -> dict[str, Any]:
    (
        id_,
        author_id,
        name,
        role,
        body,
        is_internal,
        created_at,
        channel,
        automatic,
        from_address,
        message_id,
        quoted,
        refused,
        inbound_id,
    ) = c
    return {
        "id": id_,
        "ticket_id": ticket_id,
        # Automatic mail (an out-of-office, a bounce) has no author: its sender's address.
        "author": {"id": author_id, "name": name or from_address or "", "is_staff": role in _STAFF},
        "body": body,
        "is_internal": is_internal,
        "created_at": created_at,
        "channel": channel,
        "automatic": automatic,
        "from_address": from_address,
        "message_id": message_id,
        "quoted": quoted,
        "refused_files": refused or [],
        "has_original": inbound_id is not None,
    }


def _attachment(a: Any) -> dict[str, Any]:
    id_, file_name, mime, size, sha256, created_at, is_internal, uploader, name, comment_id = a
    return {
        "id": id_,
        "file_name": file_name,
        "mime_type": mime,
        "size_bytes": size,
        "sha256": sha256,
        "created_at": created_at,
        "is_internal": is_internal,
        "uploaded_by": _ref(uploader, name),
        "comment_id": comment_id,
    }


@lru_cache(maxsize=16)
def _detail(role: Role) -> Select[Any]:
    """One ticket with the comments and attachments the role may see, as arrays of rows."""
    actor = stand_in(role)
    comments = (
        visible_comments(actor)
        .with_only_columns(
            func.row(
                TicketComment.id,
                TicketComment.author_id,
                User.name,
                User.role,
                TicketComment.body,
                TicketComment.is_internal,
                TicketComment.created_at,
                TicketComment.channel,
                TicketComment.automatic,
                TicketComment.from_address,
                TicketComment.message_id,
                TicketComment.quoted,
                TicketComment.refused_files,
                TicketComment.inbound_id,
            )
        )
        .outerjoin(User, User.id == TicketComment.author_id)
        .where(TicketComment.ticket_id == Ticket.id)
        .order_by(TicketComment.created_at, TicketComment.id)
        .correlate(Ticket)
    )
    files = (
        visible_attachments(actor)
        .with_only_columns(
            func.row(
                TicketAttachment.id,
                TicketAttachment.file_name,
                TicketAttachment.mime_type,
                TicketAttachment.size_bytes,
                TicketAttachment.sha256,
                TicketAttachment.created_at,
                TicketAttachment.is_internal,
                TicketAttachment.uploaded_by,
                Uploader.name,
                TicketAttachment.comment_id,
            )
        )
        .outerjoin(Uploader, Uploader.id == TicketAttachment.uploaded_by)
        .where(TicketAttachment.ticket_id == Ticket.id)
        .order_by(TicketAttachment.created_at, TicketAttachment.id)
        .correlate(Ticket)
    )
    rating = (
        select(
            func.row(
                TicketCsat.rating,
                TicketCsat.comment,
                TicketCsat.submitted_at,
                TicketCsat.updated_at,
                TicketCsat.rated_by,
                Rater.name,
                TicketCsat.resolved_at,
            )
        )
        .outerjoin(Rater, Rater.id == TicketCsat.rated_by)
        .where(TicketCsat.ticket_id == Ticket.id)
        .correlate(Ticket)
    )
    stmt = (
        _with_refs(visible_tickets(actor), actor)
        .add_columns(
            func.array(comments.scalar_subquery()).label("comments"),
            func.array(files.scalar_subquery()).label("attachments"),
            ccs.names_column(),
            # The ticket's rating (at most one row); each view keeps what its reader may see.
            func.array(rating.scalar_subquery()).label("csat"),
        )
        .where(Ticket.id == bindparam("ticket_id"))
    )
    return stmt.add_columns(*_staff_context()) if actor.is_staff else stmt


# How many of the requester's other open tickets the desk's detail shows.
REQUESTER_OPEN_TICKETS = 5


def _staff_context() -> list[Any]:
    """The staff detail's extra columns, in the detail's one statement: the requester's address,
    their other open tickets (newest first; the organization narrows the read to its index) and
    the linked tickets (either side of ``ticket_links``, any organization: staff-only data)."""
    other = aliased(Ticket)
    open_tickets = (
        select(func.row(other.id, other.number, other.title, other.status))
        .where(
            other.org_id == Ticket.org_id,
            other.created_by == Ticket.created_by,
            other.id != Ticket.id,
            other.status.in_([s.value for s in workflow.OPEN]),
        )
        .order_by(other.created_at.desc(), other.id.desc())
        .limit(REQUESTER_OPEN_TICKETS)
        .correlate(Ticket)
    )
    linked = aliased(Ticket)
    links = (
        select(func.row(linked.id, linked.number, linked.title))
        .where(
            or_(
                linked.id.in_(
                    select(TicketLink.ticket_b)
                    .where(TicketLink.ticket_a == Ticket.id)
                    .correlate(Ticket)
                ),
                linked.id.in_(
                    select(TicketLink.ticket_a)
                    .where(TicketLink.ticket_b == Ticket.id)
                    .correlate(Ticket)
                ),
            )
        )
        .order_by(linked.number)
        .correlate(Ticket)
    )
    return [
        Creator.email.label("creator_email"),
        func.array(open_tickets.scalar_subquery()).label("requester_open"),
        func.array(links.scalar_subquery()).label("links"),
    ]


def _staff_extras(row: Any) -> dict[str, Any]:
    return {
        "requester": {"id": row.created_by, "name": row.creator_name, "email": row.creator_email}
        if row.creator_name is not None
        else None,
        "requester_open_tickets": [
            {"id": i, "number": n, "title": t, "status": st} for i, n, t, st in row.requester_open
        ],
        "links": [{"id": i, "number": n, "title": t} for i, n, t in row.links],
    }


async def detail(
    session: AsyncSession, actor: CurrentUser, ticket_id: uuid.UUID, now: datetime
) -> dict[str, Any]:
    """The detail view: the ticket, the comments and attachments *actor* may see (oldest first)
    and the actions open to *actor*, read in one statement."""
    row = (
        await _core(session, _detail(actor.role), actor_values(actor, ticket_id=ticket_id))
    ).one_or_none()
    if row is None:
        raise NotFound("Ticket not found")
    ticket: Any = row
    rating = row.csat[0] if row.csat else None
    return {
        **view(row, now, with_sla=actor.is_staff),
        "csat": csat.staff_view(rating, ticket.resolved_at)
        if actor.is_staff
        else csat.customer_view(rating, ticket, actor, now),
        "comments": [_comment(c, ticket_id) for c in row.comments],
        "attachments": [_attachment(a) for a in row.attachments],
        "actions": actions(ticket, actor),
        "cc": [{"id": i, "name": n} for i, n in row.cc],
        **(_staff_extras(row) if actor.is_staff else {}),
    }


async def audit_trail(session: AsyncSession, ticket_id: uuid.UUID) -> list[dict[str, Any]]:
    rows = await session.execute(
        select(AuditLog, User.name)
        .outerjoin(User, User.id == AuditLog.actor_id)
        .where(AuditLog.ticket_id == ticket_id)
        .order_by(AuditLog.seq)
    )
    return [
        {
            "id": e.id,
            "seq": e.seq,
            "actor_id": e.actor_id,
            "actor_name": name,
            "action": e.action,
            "entity_type": e.entity_type,
            "entity_id": e.entity_id,
            "org_id": e.org_id,
            "ticket_id": e.ticket_id,
            "old_value": e.old_value,
            "new_value": e.new_value,
            "ip": e.ip,
            "request_id": e.request_id,
            "created_at": e.created_at,
        }
        for e, name in rows.all()
    ]


# ---------------------------------------------------------------- commands


def _lock(actor: CurrentUser | None, ticket_id: uuid.UUID) -> Select[Ticket]:
    return (
        (visible_tickets(actor) if actor is not None else select(Ticket))
        .where(Ticket.id == ticket_id)
        .with_for_update(of=Ticket)
    )


async def lock(session: AsyncSession, actor: CurrentUser | None, ticket_id: uuid.UUID) -> Ticket:
    """The ticket, row-locked for the rest of the transaction; 404 when not visible."""
    ticket = (await session.execute(_lock(actor, ticket_id))).scalar_one_or_none()
    if ticket is None:
        raise NotFound("Ticket not found")
    return ticket


async def _lock_with_tags(
    session: AsyncSession, actor: CurrentUser, ticket_id: uuid.UUID
) -> tuple[Ticket, list[str]]:
    """``lock`` and the ticket's current tag names (sorted) in the same statement."""
    stmt = _lock(actor, ticket_id).add_columns(_tag_names(actor))
    row = (await session.execute(stmt)).one_or_none()
    if row is None:
        raise NotFound("Ticket not found")
    return row[0], list(row[1])


# What a command reads of the ticket it changes: the columns of the views (not the search document).
_ROW_KEYS = frozenset(column.key for column in _VIEW_COLUMNS)


# For the type checker a locked row is the model (the same attributes, the same types); at run
# time it is a plain object over the row's values.
_Row = Ticket if TYPE_CHECKING else object


class Locked(_Row):  # type: ignore[misc,valid-type]
    """A ticket row locked for the rest of the transaction (``lock_row``): its columns as
    attributes, as on the model, so the workflow, SLA, audit and notification rules apply to it
    unchanged; ``save`` writes what they changed in one UPDATE (Core: no unit of work, no
    re-read)."""

    __slots__ = ("_changed", "_values")

    def __init__(self, values: dict[str, Any]) -> None:
        object.__setattr__(self, "_values", values)
        object.__setattr__(self, "_changed", {})

    def __getattr__(self, name: str) -> Any:
        try:
            return self._values[name]
        except KeyError:
            raise AttributeError(name) from None

    def __setattr__(self, name: str, value: Any) -> None:
        if name not in _ROW_KEYS:
            raise AttributeError(name)
        self._values[name] = value
        self._changed[name] = value

    @property
    def _fields(self) -> tuple[str, ...]:
        return tuple(self._values)

    def refer(self, **names: str | None) -> None:
        """The names the views show for references the command changed (``assignee_name``...):
        they come with the command's own reads, not from reading the row again."""
        self._values.update(names)


@lru_cache(maxsize=16)
def _lock_row(role: Role | None) -> Select[Any]:
    if role is None:
        return (
            select(*_VIEW_COLUMNS)
            .where(Ticket.id == bindparam("ticket_id"))
            .with_for_update(of=Ticket)
        )
    return _one(role).with_for_update(of=Ticket)


async def lock_row(
    session: AsyncSession, actor: CurrentUser | None, ticket_id: uuid.UUID
) -> Locked:
    """``lock`` as a plain row (``Locked``): the ticket with the names its views show (as
    ``get_row``), row-locked for the rest of the transaction; 404 when not visible. After the
    command, ``locked_view`` is its view without another read."""
    if session.new or session.dirty or session.deleted:
        await session.flush()  # as session.execute() would: the row may have pending changes
    values = (
        actor_values(actor, ticket_id=ticket_id) if actor is not None else {"ticket_id": ticket_id}
    )
    role = actor.role if actor is not None else None
    row = (await _core(session, _lock_row(role), values)).one_or_none()
    if row is None:
        raise NotFound("Ticket not found")
    return Locked(dict(row._mapping))


async def save(session: AsyncSession, ticket: Locked, *, inserting: Any = None) -> None:
    """Write what the command changed on the locked row *ticket* (one UPDATE; with *inserting*,
    an INSERT of the same transaction, in the same statement). The session's own copy of the
    ticket, if it holds one, is kept in step."""
    changed: dict[str, Any] = ticket._changed
    if not changed:
        if inserting is not None:
            await (await session.connection()).execute(inserting)
        return
    stmt = update(Ticket).where(Ticket.id == ticket.id).values(changed)
    if inserting is not None:
        stmt = stmt.add_cte(inserting.cte("inserted"))
    await (await session.connection()).execute(stmt)
    instance = session.identity_map.get(identity_key(Ticket, ticket.id))
    if instance is not None:
        for key, value in changed.items():
            set_committed_value(instance, key, value)
    changed.clear()


async def locked_view(session: AsyncSession, ticket: Locked, now: datetime) -> dict[str, Any]:
    """The view of a ticket a command changed (``view``), from its locked row as written."""
    await calendar_cache.prime(session, (ticket,))
    return view(ticket, now)


def _status_entry(
    actor: CurrentUser | None, t: Ticket, change: workflow.Change, **extra: Any
) -> dict[str, Any]:
    return audit.entry(
        actor=actor,
        action="ticket.status_changed",
        entity_type="ticket",
        entity_id=t.id,
        org_id=t.org_id,
        ticket_id=t.id,
        old_value={"status": change.old.value},
        new_value={"status": change.new.value, **{k: v for k, v in extra.items() if v is not None}},
    )


async def _audit_status(
    session: AsyncSession,
    actor: CurrentUser | None,
    t: Ticket,
    change: workflow.Change,
    **extra: Any,
) -> None:
    await audit.write(session, _status_entry(actor, t, change, **extra))


@dataclass(frozen=True, slots=True)
class MailOrigin:
    """Where a ticket or comment that came by e-mail came from (app/mail/inbound.py)."""

    inbound_id: uuid.UUID
    message_id: str | None
    from_address: str
    quoted: str | None = None
    automatic: bool = False


async def create(
    session: AsyncSession,
    actor: CurrentUser,
    body: TicketCreate,
    now: datetime,
    *,
    channel: str = "portal",
    follow_up_of: uuid.UUID | None = None,
    mail: MailOrigin | None = None,
    recorded_by: CurrentUser | None = None,
) -> Ticket:
    """A customer's new ticket, from the portal or a mail (*mail* says which message), or one a
    staff member recorded for them (*recorded_by*: a phone call, a mail to a person; the
    customer is still the creator, the staff member the audit entry's actor); the same
    acceptance gate, audit, notifications and triage job whichever way it came. A service with
    a default team hands the ticket to that team."""
    assert actor.org_id is not None
    settings = get_settings()
    limited = recorded_by or actor
    hits, _ = await ratelimit.hit(session, f"ticket:create:{limited.id}", 3600)
    if hits > settings.ticket_create_per_hour:
        raise RateLimited(3600, "Too many tickets opened in the last hour; try again later")
    team_id = None
    if body.service_id is not None:
        found = (
            await session.execute(
                visible_services(actor)
                .with_only_columns(Service.id, Service.default_team_id)
                .where(Service.id == body.service_id)
            )
        ).first()
        if found is None:
            raise NotFound("Service not found")
        team_id = found.default_team_id
    ticket = Ticket(
        id=uuid.uuid4(),
        org_id=actor.org_id,
        service_id=body.service_id,
        created_by=actor.id,
        status=S.NEW.value,
        priority=body.priority.value,
        category=body.category,
        title=body.title,
        description=body.description,
        created_at=now,
        updated_at=now,
        channel=channel,
        follow_up_of=follow_up_of,
        assigned_team_id=team_id,
    )
    session.add(ticket)
    await session.flush()
    created: dict[str, Any] = {
        "number": ticket.number,
        "priority": ticket.priority,
        "title": ticket.title,
    }
    if team_id is not None:
        created["assigned_team_id"] = team_id
    if recorded_by is not None:
        created |= {"recorded_by": recorded_by.id, "created_by": actor.id}
    entries = [
        audit.entry(
            actor=recorded_by or actor,
            action="ticket.created",
            entity_type="ticket",
            entity_id=ticket.id,
            org_id=ticket.org_id,
            ticket_id=ticket.id,
            new_value=created
            if channel == "portal"
            else {**created, "channel": channel, "follow_up_of": follow_up_of},
        )
    ]
    if mail is not None:
        entries.append(_mail_entry(actor, ticket, "ticket", ticket.id, mail))
    await audit.write(session, *entries)
    await notifications.send(session, notifications.created(ticket), new_tickets=True)
    await ai_queue.enqueue(session, ticket.id, "created")
    return ticket


async def withdraw(
    session: AsyncSession,
    actor: CurrentUser,
    ticket_id: uuid.UUID,
    reason: str | None,
    now: datetime,
) -> Locked:
    ticket = await lock_row(session, actor, ticket_id)
    change = workflow.transition(ticket, S.CANCELLED, actor, now)
    await save(session, ticket)
    await _audit_status(session, actor, ticket, change, reason=reason, withdrawn=True)
    await notifications.send(session, notifications.status(ticket, actor.id, change.new))
    return ticket


async def accept(
    session: AsyncSession, actor: CurrentUser, ticket_id: uuid.UUID, body: Accept, now: datetime
) -> Locked:
    ticket = await lock_row(session, actor, ticket_id)
    workflow.check(ticket, S.ACCEPTED, actor)
    before = {"priority": ticket.priority, "category": ticket.category}
    if body.priority is not None:
        ticket.priority = body.priority.value
    if body.category is not None:
        ticket.category = body.category
    terms = await sla_sweep.terms_for(session, ticket.org_id, ticket.priority)
    if terms is None:
        raise Conflict(f"No SLA policy for priority {ticket.priority}")
    change = workflow.transition(ticket, S.ACCEPTED, actor, now, terms=terms)
    ticket.refer(acceptor_name=actor.name)
    await save(session, ticket)
    old, new = audit.changes(before, {"priority": ticket.priority, "category": ticket.category})
    await audit.record(
        session,
        actor=actor,
        action="ticket.accepted",
        entity_type="ticket",
        entity_id=ticket.id,
        org_id=ticket.org_id,
        ticket_id=ticket.id,
        old_value={"status": change.old.value, **old},
        new_value={
            "status": change.new.value,
            "sla_first_response_due_at": ticket.sla_first_response_due_at,
            "sla_resolution_due_at": ticket.sla_resolution_due_at,
            **new,
        },
    )
    await notifications.send(session, notifications.accepted(ticket, actor.id))
    return ticket


async def assign(
    session: AsyncSession, actor: CurrentUser, ticket_id: uuid.UUID, body: Assign, now: datetime
) -> Locked:
    if body.assignee_id is None and body.team_id is None:
        raise Invalid("assignee_id", "Give an assignee, a team or both")
    ticket = await lock_row(session, actor, ticket_id)
    current = S(ticket.status)
    if current is S.ACCEPTED:
        workflow.check(ticket, S.ASSIGNED, actor)
    elif current not in workflow.WORKABLE:
        allowed = [t.value for t in workflow.allowed_targets(current)]
        raise Conflict(f"A {current.value} ticket cannot be assigned", allowed=allowed)
    elif not actor.is_staff:
        raise Forbidden()
    if body.assignee_id is not None:
        assignee = (
            await session.execute(
                select(User.id, User.role, User.name).where(
                    User.id == body.assignee_id,
                    User.is_active.is_(True),
                    User.role.in_([Role.AGENT.value, Role.MANAGER.value]),
                )
            )
        ).one_or_none()
        if assignee is None:
            raise Invalid("assignee_id", "The assignee must be an active agent or manager")
        if actor.role is Role.AGENT and assignee.role != Role.AGENT.value:
            raise Forbidden("Agents may assign tickets to agents only")
        ticket.refer(assignee_name=assignee.name)
    if body.team_id is not None:
        team = (await session.execute(select(Team.name).where(Team.id == body.team_id))).first()
        if team is None:
            raise Invalid("team_id", "Unknown team")
        ticket.refer(team_name=team.name)

    before = {"assigned_to": ticket.assigned_to, "assigned_team_id": ticket.assigned_team_id}
    if body.assignee_id is not None:
        ticket.assigned_to = body.assignee_id
    if body.team_id is not None:
        ticket.assigned_team_id = body.team_id
    change = None
    if current is S.ACCEPTED:
        change = workflow.transition(ticket, S.ASSIGNED, actor, now)
    ticket.updated_at = now
    await save(session, ticket)
    old, new = audit.changes(
        before, {"assigned_to": ticket.assigned_to, "assigned_team_id": ticket.assigned_team_id}
    )
    entries = [
        audit.entry(
            actor=actor,
            action="ticket.assigned",
            entity_type="ticket",
            entity_id=ticket.id,
            org_id=ticket.org_id,
            ticket_id=ticket.id,
            old_value=old,
            new_value=new,
        )
    ]
    mails: list[notifications.Mail] = []
    if "assigned_to" in new:
        mails += notifications.assigned(ticket, actor.id)
    if change is not None:
        entries.append(_status_entry(actor, ticket, change))
        # The new assignee already gets the "assigned to you" mail: no second one for the status.
        mails += [
            m
            for m in notifications.status(ticket, actor.id, change.new)
            if not (m.template == "staff_status" and "assigned_to" in new)
        ]
    await audit.write(session, *entries)
    await notifications.send(session, mails)
    return ticket


async def change_status(
    session: AsyncSession,
    actor: CurrentUser,
    ticket_id: uuid.UUID,
    body: StatusChange,
    now: datetime,
) -> Locked:
    if body.status is S.ACCEPTED:
        return await accept(session, actor, ticket_id, Accept(), now)
    ticket = await lock_row(session, actor, ticket_id)
    if body.status is S.ASSIGNED:
        workflow.check(ticket, S.ASSIGNED, actor)
        raise Invalid("status", "Use the assign action to assign a ticket")
    if body.status is S.CANCELLED and not body.reason:
        workflow.check(ticket, S.CANCELLED, actor)
        raise Invalid("reason", "A reason is required to reject a ticket")
    before = workflow.clock_of(ticket)
    change = workflow.transition(
        ticket,
        body.status,
        actor,
        now,
        resolution=body.resolution,
        root_cause=body.root_cause,
        terms=await sla_sweep.terms_of(session, ticket),
    )
    await save(session, ticket)
    await sla_sweep.announce_breaches(session, ticket, before, now)
    await _audit_status(
        session,
        actor,
        ticket,
        change,
        reason=body.reason,
        resolution=body.resolution if body.status is S.RESOLVED else None,
        root_cause=body.root_cause if body.status is S.RESOLVED else None,
    )
    await notifications.send(session, notifications.status(ticket, actor.id, change.new))
    return ticket


async def update_fields(
    session: AsyncSession,
    actor: CurrentUser,
    ticket_id: uuid.UUID,
    body: TicketUpdate,
    now: datetime,
    *,
    tag_delta: tuple[Collection[str], Collection[str]] | None = None,
) -> Ticket:
    """The desk's in-place edit: priority (retargets the SLA), category, service, tags (the
    whole set; new names are created) in one ``ticket.updated`` entry. A team goes through
    ``assign`` — the same command, rules and ``ticket.assigned`` entry as POST /assign.

    *tag_delta* (names to add, names to remove: a macro's or a bulk action's tags) changes the
    tags relative to the set read under the row lock; when it changes nothing, nothing happens,
    whatever the ticket's status."""
    current_tags: list[str] | None = None
    if body.tags is not None or tag_delta is not None:
        ticket, current_tags = await _lock_with_tags(session, actor, ticket_id)
    else:
        ticket = await lock(session, actor, ticket_id)
    if tag_delta is not None:
        assert current_tags is not None
        add, remove = tag_delta
        wanted = sorted((set(current_tags) | set(add)) - set(remove))
        if wanted == current_tags:
            return ticket
        try:
            body = body.model_copy(update={"tags": TicketUpdate(tags=wanted).tags})
        except ValidationError as exc:
            raise Invalid("tags", exc.errors()[0].get("msg", "Invalid tags")) from None
    if S(ticket.status) in workflow.FINAL:
        raise Conflict(f"A {ticket.status} ticket cannot be changed")
    fields = body.model_dump(exclude_unset=True)
    for name in ("priority", "tags", "team_id"):
        if name in fields and fields[name] is None:
            raise Invalid(name, f"{name} cannot be empty")
    if body.team_id is not None and body.team_id != ticket.assigned_team_id:
        await assign(session, actor, ticket_id, Assign(team_id=body.team_id), now)
    if (
        body.service_id is not None
        and (
            await session.execute(
                select(Service.id).where(
                    Service.id == body.service_id,
                    or_(Service.org_id.is_(None), Service.org_id == ticket.org_id),
                )
            )
        ).first()
        is None
    ):
        raise NotFound("Service not found")
    before: dict[str, Any] = {
        "priority": ticket.priority,
        "category": ticket.category,
        "service_id": ticket.service_id,
    }
    after_tags: list[str] = []
    clocks_before: sla.Clocks | None = None
    if body.tags is not None:
        assert current_tags is not None
        before["tags"] = current_tags
        after_tags = body.tags  # normalised, distinct and sorted by the schema
    if body.priority is not None and body.priority.value != ticket.priority:
        ticket.priority = body.priority.value
        if ticket.accepted_at is not None:
            terms = await sla_sweep.terms_for(session, ticket.org_id, ticket.priority)
            if terms is None:
                raise Conflict(f"No SLA policy for priority {ticket.priority}")
            clocks_before = workflow.clock_of(ticket)
            workflow.apply_clock(
                ticket, sla.retarget(clocks_before, terms.calendar, terms, now), terms
            )
    if "category" in fields:
        ticket.category = body.category
    if "service_id" in fields:
        ticket.service_id = body.service_id
    after: dict[str, Any] = {
        "priority": ticket.priority,
        "category": ticket.category,
        "service_id": ticket.service_id,
    }
    if body.tags is not None:
        after["tags"] = after_tags
        if after_tags != before["tags"]:
            await tags.set_for_ticket(session, ticket.id, before["tags"], after_tags)
    old, new = audit.changes(before, after)
    if new:
        ticket.updated_at = now
        await session.flush()
        await audit.record(
            session,
            actor=actor,
            action="ticket.updated",
            entity_type="ticket",
            entity_id=ticket.id,
            org_id=ticket.org_id,
            ticket_id=ticket.id,
            old_value=old,
            new_value=new,
        )
    if clocks_before is not None:
        await sla_sweep.announce_breaches(session, ticket, clocks_before, now)
    return ticket


def _mail_entry(
    actor: CurrentUser | None,
    ticket: Ticket,
    entity_type: str,
    entity_id: uuid.UUID,
    mail: MailOrigin,
) -> dict[str, Any]:
    return audit.entry(
        actor=actor,
        action="mail.received",
        entity_type=entity_type,
        entity_id=entity_id,
        org_id=ticket.org_id,
        ticket_id=ticket.id,
        new_value={
            "inbound_id": mail.inbound_id,
            "message_id": mail.message_id,
            "from": mail.from_address,
            "automatic": mail.automatic,
        },
    )


def _mail_fields(mail: MailOrigin | None) -> dict[str, Any]:
    if mail is None:
        return {}
    return {
        "from_address": mail.from_address[:254],
        "message_id": mail.message_id,
        "quoted": mail.quoted,
        "inbound_id": mail.inbound_id,
        "automatic": mail.automatic,
    }


_COMMENT_KEYS = tuple(
    c.key for c in TicketComment.__table__.c if c.computed is None and c.key != "search"
)


def _insert_comment(comment: TicketComment) -> Any:
    """The INSERT of a new comment (Core; the object stays out of the session: it is the
    command's answer, not something to flush)."""
    state = comment.__dict__
    return insert(TicketComment).values({k: state[k] for k in _COMMENT_KEYS if k in state})


async def add_comment(
    session: AsyncSession,
    actor: CurrentUser,
    ticket_id: uuid.UUID,
    *,
    body: str,
    is_internal: bool,
    now: datetime,
    channel: str = "portal",
    mail: MailOrigin | None = None,
) -> TicketComment:
    """A public reply or internal note. A customer's public comment on a ticket waiting for it
    (or resolved) moves it back to IN_PROGRESS; a staff reply meets the first-response SLA.
    A reply by mail (*mail*) is the same command, by the same rules, as its sender."""
    ticket = await lock_row(session, actor, ticket_id)
    status = S(ticket.status)
    if is_internal and not actor.is_staff:
        raise Forbidden()
    if status in workflow.FINAL:
        raise Conflict(f"A {status.value} ticket does not take comments")
    if not is_internal:
        workflow.check_public_reply(ticket, actor)
    comment = TicketComment(
        id=uuid.uuid4(),
        ticket_id=ticket.id,
        org_id=ticket.org_id,
        author_id=actor.id,
        body=body,
        is_internal=is_internal,
        created_at=now,
        channel=channel,
        **_mail_fields(mail),
    )
    change = None
    clocks_before = workflow.clock_of(ticket)
    if actor.is_staff and not is_internal:
        if clocks_before.started and clocks_before.first_response.completed_at is None:
            terms = await sla_sweep.terms_of(session, ticket)
            workflow.apply_clock(ticket, sla.respond(clocks_before, terms.calendar, now), terms)
    elif not actor.is_staff and status in (S.WAITING_CUSTOMER, S.RESOLVED):
        change = workflow.transition(
            ticket, S.IN_PROGRESS, None, now, terms=await sla_sweep.terms_of(session, ticket)
        )
    ticket.updated_at = now
    # The comment and the ticket's change in one statement.
    await save(session, ticket, inserting=_insert_comment(comment))
    entries = [
        audit.entry(
            actor=actor,
            action="comment.created",
            entity_type="comment",
            entity_id=comment.id,
            org_id=ticket.org_id,
            ticket_id=ticket.id,
            new_value={"is_internal": is_internal}
            if channel == "portal"
            else {"is_internal": is_internal, "channel": channel},
        )
    ]
    if mail is not None:
        entries.append(_mail_entry(actor, ticket, "comment", comment.id, mail))
    mails = notifications.comment(
        ticket,
        author_id=actor.id,
        author_is_staff=actor.is_staff,
        body=body,
        is_internal=is_internal,
    )
    if change is not None:
        entries.append(_status_entry(None, ticket, change, trigger="customer_comment"))
        # Triggered by the customer's own comment: not worth a mail to that customer.
        mails += notifications.status(ticket, actor.id, change.new)
    await audit.write(session, *entries)
    await notifications.send(session, mails)
    await sla_sweep.announce_breaches(session, ticket, clocks_before, now)
    if not is_internal:
        await ai_queue.enqueue(session, ticket.id, "comment")
    return comment


async def add_mail_note(
    session: AsyncSession,
    ticket_id: uuid.UUID,
    *,
    author: CurrentUser | None,
    body: str,
    mail: MailOrigin,
    now: datetime,
) -> TicketComment:
    """Automatic mail (an out-of-office, a bounce, a list) on an existing ticket: kept as an
    internal note marked automatic. It never changes a status, never counts as a response and
    never sends a notification — that is what keeps two robots from answering each other."""
    ticket = await lock(session, None, ticket_id)
    comment = TicketComment(
        id=uuid.uuid4(),
        ticket_id=ticket.id,
        org_id=ticket.org_id,
        author_id=author.id if author is not None else None,
        body=body,
        is_internal=True,
        created_at=now,
        channel="email",
        **_mail_fields(mail),
    )
    session.add(comment)
    await session.flush()
    await audit.write(
        session,
        audit.entry(
            actor=author,
            action="comment.created",
            entity_type="comment",
            entity_id=comment.id,
            org_id=ticket.org_id,
            ticket_id=ticket.id,
            new_value={"is_internal": True, "channel": "email", "automatic": True},
        ),
        _mail_entry(author, ticket, "comment", comment.id, mail),
    )
    return comment
