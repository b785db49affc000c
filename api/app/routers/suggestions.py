"""AI triage suggestions on the desk (staff only; advisory: applying one is the staff member's
own audited ticket update, the same service call as ``PATCH /api/internal/tickets/{id}``)."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Response

from app.ai import apply, suggestions
from app.ai.schemas import Suggestions
from app.auth.deps import CurrentUser, DbSession, DeskUser, require
from app.auth.permissions import Action
from app.errors import error_responses
from app.routers.common import serialized
from app.schemas.ticket import StaffTicket
from app.services import tickets
from app.utils.clock import Now

router = APIRouter(prefix="/internal/tickets", tags=["desk"])

SuggestionReader = Annotated[CurrentUser, Depends(require(Action.AI_SUGGESTIONS))]


@router.get("/{ticket_id}/suggestions", response_model=Suggestions)
async def get_suggestions(
    ticket_id: uuid.UUID, actor: SuggestionReader, session: DbSession
) -> Response:
    return serialized(Suggestions, await suggestions.view(session, actor, ticket_id))


@router.post(
    "/{ticket_id}/suggestions/apply",
    response_model=StaffTicket,
    # Besides the router's errors: a malformed body, and no suggestion / a final ticket.
    responses=error_responses(400, 409),
)
async def apply_suggestion(
    ticket_id: uuid.UUID,
    body: apply.ApplySuggestion,
    actor: DeskUser,
    session: DbSession,
    now: Now,
) -> StaffTicket:
    """Set the ticket's category or priority to the stored suggestion, as the caller's own
    ticket update (audited as theirs; the permission of the ticket PATCH). 409 when there is no
    suggestion for that field or the ticket can no longer be changed."""
    await apply.apply(session, actor, ticket_id, body.field, now)
    return StaffTicket.model_validate(
        tickets.view(await tickets.get_row(session, actor, ticket_id), now)
    )
