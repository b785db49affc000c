"""Applying a stored AI suggestion to its ticket: the staff member's own ticket update.

The suggestion only supplies the value; the change itself is ``app.services.tickets.update_fields``
(the service behind ``PATCH /api/internal/tickets/{id}``), so it has the PATCH's rules (a final
ticket cannot be changed, SLA targets follow a new priority) and is audited as the caller's
``ticket.updated``. This is the one module of ``app/ai`` that reaches the ticket service, and it
runs only on a staff request: the worker's triage code never imports it.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Literal

from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.deps import CurrentUser
from app.errors import Conflict
from app.models import AiSuggestion
from app.schemas.common import RequestModel
from app.schemas.ticket import TicketUpdate
from app.services import tickets

Field = Literal["category", "priority"]


class ApplySuggestion(RequestModel):
    """Which of the ticket's stored suggestions to apply."""

    field: Field


async def apply(
    session: AsyncSession, actor: CurrentUser, ticket_id: uuid.UUID, field: Field, now: datetime
) -> None:
    """Set the ticket's *field* to its stored suggestion. 404 when the ticket is outside the
    caller's visibility (checked first, so a stranger learns nothing about suggestions); 409 when
    there is no suggestion for *field*, or when the ticket cannot be changed (as the PATCH)."""
    await tickets.lock(session, actor, ticket_id)
    suggestion = await session.get(AiSuggestion, ticket_id, populate_existing=True)
    value = getattr(suggestion, field) if suggestion is not None else None
    if value is None:
        raise Conflict(f"There is no {field} suggestion for this ticket")
    try:
        change = TicketUpdate.model_validate({field: value})
    except ValidationError:
        raise Conflict(f"The stored {field} suggestion is not a valid value") from None
    await tickets.update_fields(session, actor, ticket_id, change, now)
