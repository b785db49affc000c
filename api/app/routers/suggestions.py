"""AI triage suggestions on the desk (staff only; advisory: applying one is an ordinary
``PATCH /api/internal/tickets/{id}`` by the staff member)."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends

from app.ai import suggestions
from app.ai.schemas import Suggestions
from app.auth.deps import CurrentUser, DbSession, require
from app.auth.permissions import Action

router = APIRouter(prefix="/internal/tickets", tags=["desk"])

SuggestionReader = Annotated[CurrentUser, Depends(require(Action.AI_SUGGESTIONS))]


@router.get("/{ticket_id}/suggestions", response_model=Suggestions)
async def get_suggestions(
    ticket_id: uuid.UUID, actor: SuggestionReader, session: DbSession
) -> Suggestions:
    return Suggestions.model_validate(await suggestions.view(session, actor, ticket_id))
