"""The desk's merge of duplicate tickets and links between related tickets (staff only)."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Response, status

from app.auth.deps import CurrentUser, DbSession, DeskUser, require
from app.auth.permissions import Action
from app.schemas.ticket import MergeInto, StaffTicket
from app.services import merge, tickets
from app.utils.clock import Now

router = APIRouter(prefix="/internal/tickets", tags=["desk"])

Merger = Annotated[CurrentUser, Depends(require(Action.TICKET_MERGE))]


@router.post("/{ticket_id}/merge", response_model=StaffTicket)
async def merge_ticket(
    ticket_id: uuid.UUID, body: MergeInto, actor: Merger, session: DbSession, now: Now
) -> StaffTicket:
    """Merge this ticket (a duplicate) into ``into_id``; answers the target's staff view. The
    duplicate is CLOSED with ``merged_into`` and resolution "Merged into #N"."""
    target = await merge.merge(session, actor, ticket_id, body.into_id, now)
    return StaffTicket.model_validate(
        tickets.view(await tickets.get_row(session, actor, target.id), now)
    )


@router.post("/{ticket_id}/links/{other_id}", status_code=status.HTTP_204_NO_CONTENT)
async def link_tickets(
    ticket_id: uuid.UUID, other_id: uuid.UUID, actor: DeskUser, session: DbSession
) -> Response:
    """Link two related tickets (any organizations; idempotent). Shown on both staff views."""
    await merge.link(session, actor, ticket_id, other_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.delete("/{ticket_id}/links/{other_id}", status_code=status.HTTP_204_NO_CONTENT)
async def unlink_tickets(
    ticket_id: uuid.UUID, other_id: uuid.UUID, actor: DeskUser, session: DbSession
) -> Response:
    await merge.unlink(session, actor, ticket_id, other_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
