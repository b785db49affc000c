"""Saved views of the desk's ticket list, with their live counts.

A view is a name and the list query's own filters (schemas/views.py ViewFilters); its tickets and
its count come from ``tickets.list_rows`` / ``tickets.count_rows``, the very statement the list
endpoint runs, so a view and the same filters typed by hand always agree.

The built-in views ("My open", "Unassigned", "Breaching soon", "Waiting on customer") are
constants with fixed ids, merged in front of the caller's own: reading the list writes nothing
(no race between two first readers, no row an admin could half-delete), and changing a default
is a code change reviewed like any other. They are scope "shared" and read-only.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.deps import CurrentUser
from app.auth.permissions import Action, allowed
from app.errors import Forbidden, Invalid, NotFound
from app.models import SavedView, Team, TeamMember
from app.models.enums import TicketStatus as S
from app.schemas.views import ViewCreate, ViewFilters, ViewUpdate
from app.services import audit, tickets, workflow
from app.services.visibility import visible_saved_views, visible_teams

_OPEN = [s.value for s in S if s in workflow.OPEN]


@dataclass(frozen=True)
class Builtin:
    id: uuid.UUID
    name: str
    filters: dict[str, Any]
    position: int


BREACHING_SOON_HOURS = 4

BUILTIN: tuple[Builtin, ...] = (
    Builtin(
        uuid.UUID("5a7ed000-0000-4000-8000-000000000001"),
        "My open",
        {"assigned_to": tickets.ME, "status": _OPEN},
        0,
    ),
    Builtin(
        uuid.UUID("5a7ed000-0000-4000-8000-000000000002"),
        "Unassigned",
        {"assigned_to": tickets.UNASSIGNED, "status": _OPEN},
        1,
    ),
    Builtin(
        uuid.UUID("5a7ed000-0000-4000-8000-000000000003"),
        "Breaching soon",
        {"due_within_hours": BREACHING_SOON_HOURS, "sort": "sla_due"},
        2,
    ),
    Builtin(
        uuid.UUID("5a7ed000-0000-4000-8000-000000000004"),
        "Waiting on customer",
        {"status": [S.WAITING_CUSTOMER.value]},
        3,
    ),
)
_BUILTIN_BY_ID = {b.id: b for b in BUILTIN}
MY_OPEN = BUILTIN[0].id


def ticket_filter(
    filters: ViewFilters | dict[str, Any], actor: CurrentUser
) -> tickets.TicketFilter:
    """A view's filters as the list query's filter ("me" is whoever looks at the view)."""
    f = filters if isinstance(filters, ViewFilters) else ViewFilters.model_validate(filters)
    return tickets.TicketFilter(
        status=list(f.status or []),
        priority=list(f.priority or []),
        q=f.q,
        org_id=f.org_id,
        breached=f.breached,
        tag=f.tag,
        team_id=f.team_id,
        channel=f.channel,
        due_within_hours=f.due_within_hours,
        sort=f.sort or "created",
        **tickets.assignee_filter(f.assigned_to, actor),
    )


def _builtin_out(b: Builtin) -> dict[str, Any]:
    return {
        "id": b.id,
        "name": b.name,
        "scope": "shared",
        "team_id": None,
        "owner_id": None,
        "filters": b.filters,
        "position": b.position,
        "builtin": True,
        "editable": False,
        "created_at": None,
    }


def _out(v: SavedView) -> dict[str, Any]:
    return {
        "id": v.id,
        "name": v.name,
        "scope": v.scope,
        "team_id": v.team_id,
        "owner_id": v.owner_id,
        "filters": v.filters,
        "position": v.position,
        "builtin": False,
        # Visible personal views are the caller's; visible team views are their team's or (for
        # managers and admins) any team's. Shared rows are built-in only.
        "editable": v.scope != "shared",
        "created_at": v.created_at,
    }


async def list_views(
    session: AsyncSession, actor: CurrentUser, now: datetime
) -> list[dict[str, Any]]:
    """The built-in views, then the caller's personal and team views, each with its count (one
    COUNT per view, each on the indexes the list itself uses)."""
    own = (
        await session.scalars(
            visible_saved_views(actor).order_by(
                SavedView.position, SavedView.created_at, SavedView.id
            )
        )
    ).all()
    out = [_builtin_out(b) for b in BUILTIN] + [_out(v) for v in own]
    for item in out:
        item["count"] = await tickets.count_rows(
            session, actor, ticket_filter(item["filters"], actor), now=now
        )
    return out


async def _find(session: AsyncSession, actor: CurrentUser, view_id: uuid.UUID) -> SavedView:
    """A stored view the caller may see; managers and admins reach any team's view too."""
    found = await session.scalar(visible_saved_views(actor).where(SavedView.id == view_id))
    if found is None and allowed(actor.role, Action.TEAM_VIEWS_MANAGE):
        found = await session.scalar(
            select(SavedView).where(SavedView.id == view_id, SavedView.scope == "team")
        )
    if found is None:
        raise NotFound("View not found")
    return found


async def _editable(session: AsyncSession, actor: CurrentUser, view_id: uuid.UUID) -> SavedView:
    if view_id in _BUILTIN_BY_ID:
        raise Forbidden("The built-in views cannot be changed")
    found = await _find(session, actor, view_id)
    if found.scope == "shared":
        raise Forbidden("The built-in views cannot be changed")
    return found


async def view_filter(
    session: AsyncSession, actor: CurrentUser, view_id: uuid.UUID
) -> tickets.TicketFilter:
    builtin = _BUILTIN_BY_ID.get(view_id)
    filters = builtin.filters if builtin else (await _find(session, actor, view_id)).filters
    return ticket_filter(filters, actor)


async def get_view(session: AsyncSession, actor: CurrentUser, view_id: uuid.UUID) -> dict[str, Any]:
    builtin = _BUILTIN_BY_ID.get(view_id)
    return _builtin_out(builtin) if builtin else _out(await _find(session, actor, view_id))


async def create_view(
    session: AsyncSession, actor: CurrentUser, body: ViewCreate
) -> dict[str, Any]:
    if body.scope == "team":
        assert body.team_id is not None  # the schema requires it
        if await session.scalar(visible_teams(actor).where(Team.id == body.team_id)) is None:
            raise Invalid("team_id", "No such team")
        member = await session.scalar(
            select(TeamMember.user_id).where(
                TeamMember.team_id == body.team_id, TeamMember.user_id == actor.id
            )
        )
        if member is None and not allowed(actor.role, Action.TEAM_VIEWS_MANAGE):
            raise Forbidden("Only the team's members save views for it")
    # The stored filters must read back as the same filters (and "me" stays a word).
    ticket_filter(body.filters, actor)
    view = SavedView(
        name=body.name,
        scope=body.scope,
        owner_id=actor.id,
        team_id=body.team_id,
        filters=body.filters.model_dump(mode="json", exclude_none=True),
    )
    session.add(view)
    await session.flush()
    await session.refresh(view)
    await audit.record(
        session,
        actor=actor,
        action="view.created",
        entity_type="saved_view",
        entity_id=view.id,
        new_value=_audited(view),
    )
    return _out(view)


def _audited(view: SavedView) -> dict[str, Any]:
    return {
        "name": view.name,
        "scope": view.scope,
        "team_id": view.team_id,
        "filters": view.filters,
    }


async def update_view(
    session: AsyncSession, actor: CurrentUser, view_id: uuid.UUID, body: ViewUpdate
) -> dict[str, Any]:
    view = await _editable(session, actor, view_id)
    before = _audited(view)
    if body.name is not None:
        view.name = body.name
    if body.filters is not None:
        view.filters = body.filters.model_dump(mode="json", exclude_none=True)
    if body.position is not None:
        view.position = body.position
    await session.flush()
    await session.refresh(view)
    after = _audited(view)
    if after != before:
        await audit.record(
            session,
            actor=actor,
            action="view.updated",
            entity_type="saved_view",
            entity_id=view.id,
            old_value=before,
            new_value=after,
        )
    return _out(view)


async def delete_view(session: AsyncSession, actor: CurrentUser, view_id: uuid.UUID) -> None:
    view = await _editable(session, actor, view_id)
    await audit.record(
        session,
        actor=actor,
        action="view.deleted",
        entity_type="saved_view",
        entity_id=view.id,
        old_value=_audited(view),
    )
    await session.delete(view)
    await session.flush()
