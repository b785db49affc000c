"""The desk's side of the colleagues copied on a ticket (the portal's is in routers/tickets.py)."""

from __future__ import annotations

import uuid

from fastapi import APIRouter

from app.auth.deps import DbSession, DeskUser
from app.schemas.ticket import CcUpdate, TicketCcs
from app.services import ccs

router = APIRouter(prefix="/internal/tickets", tags=["desk"])


@router.put("/{ticket_id}/cc", response_model=TicketCcs)
async def set_cc(
    ticket_id: uuid.UUID, body: CcUpdate, actor: DeskUser, session: DbSession
) -> TicketCcs:
    """Copy users of the ticket's organization on it (the whole list)."""
    return TicketCcs.model_validate(
        {"items": await ccs.replace(session, actor, ticket_id, body.user_ids)}
    )


@router.get("/{ticket_id}/cc/candidates", response_model=TicketCcs)
async def cc_candidates(ticket_id: uuid.UUID, actor: DeskUser, session: DbSession) -> TicketCcs:
    """Who may be copied on the ticket: the active users of its organization but the requester."""
    return TicketCcs.model_validate({"items": await ccs.candidates(session, actor, ticket_id)})
