"""Saved views of the desk's ticket list (staff)."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Response, status

from app.auth.deps import DbSession, DeskUser
from app.routers.common import DEFAULT, Cursor, Limit
from app.schemas.common import Page
from app.schemas.ticket import StaffTicket
from app.schemas.views import SavedViewOut, ViewCreate, ViewList, ViewUpdate
from app.services import tickets, views
from app.utils.clock import Now

router = APIRouter(prefix="/internal/views", tags=["desk"])


@router.get("", response_model=ViewList)
async def list_views(actor: DeskUser, session: DbSession, now: Now) -> ViewList:
    return ViewList.model_validate({"items": await views.list_views(session, actor, now)})


@router.post("", response_model=SavedViewOut, status_code=status.HTTP_201_CREATED)
async def create_view(body: ViewCreate, actor: DeskUser, session: DbSession) -> SavedViewOut:
    return SavedViewOut.model_validate(await views.create_view(session, actor, body))


@router.get("/{view_id}", response_model=SavedViewOut)
async def get_view(view_id: uuid.UUID, actor: DeskUser, session: DbSession) -> SavedViewOut:
    return SavedViewOut.model_validate(await views.get_view(session, actor, view_id))


@router.patch("/{view_id}", response_model=SavedViewOut)
async def update_view(
    view_id: uuid.UUID, body: ViewUpdate, actor: DeskUser, session: DbSession
) -> SavedViewOut:
    return SavedViewOut.model_validate(await views.update_view(session, actor, view_id, body))


@router.delete("/{view_id}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_view(view_id: uuid.UUID, actor: DeskUser, session: DbSession) -> Response:
    await views.delete_view(session, actor, view_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/{view_id}/tickets", response_model=Page[StaffTicket])
async def view_tickets(
    view_id: uuid.UUID,
    actor: DeskUser,
    session: DbSession,
    now: Now,
    cursor: Cursor = None,
    limit: Limit = DEFAULT,
) -> Page[StaffTicket]:
    """The view's tickets, newest first (keyset, like GET /internal/tickets)."""
    flt = await views.view_filter(session, actor, view_id)
    rows, next_cursor = await tickets.list_rows(
        session, actor, flt, cursor=cursor, limit=limit, now=now
    )
    return Page[StaffTicket].model_validate(
        {"items": [tickets.view(r, now) for r in rows], "next_cursor": next_cursor}
    )
