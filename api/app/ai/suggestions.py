"""Reading a ticket's suggestions for a staff member. The stored similar-ticket list is only a
ranking: each read re-selects those tickets through ``visible_tickets(actor)``, so nothing
outside the caller's visibility is ever shown, and titles and resolutions are current."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.ai.engines import configured_engine_name
from app.auth.deps import CurrentUser
from app.config import get_settings
from app.errors import NotFound
from app.models import AiJob, AiSuggestion, Organization, Ticket
from app.services.visibility import visible_tickets


async def _similar(
    session: AsyncSession, actor: CurrentUser, stored: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    scores: dict[uuid.UUID, float] = {}
    for item in stored:
        try:
            scores[uuid.UUID(str(item["ticket_id"]))] = float(item["score"])
        except (KeyError, TypeError, ValueError):
            continue
    if not scores:
        return []
    rows = await session.execute(
        visible_tickets(actor)
        .with_only_columns(
            Ticket.id, Ticket.number, Ticket.title, Ticket.resolution, Organization.name
        )
        .join(Organization, Organization.id == Ticket.org_id)
        .where(Ticket.id.in_(list(scores)))
    )
    found = {
        row.id: {
            "id": row.id,
            "number": row.number,
            "title": row.title,
            "org_name": row.name,
            "score": scores[row.id],
            "resolution": row.resolution,
        }
        for row in rows.all()
    }
    return [found[key] for key in scores if key in found]


async def view(session: AsyncSession, actor: CurrentUser, ticket_id: uuid.UUID) -> dict[str, Any]:
    """The ticket's suggestions in at most two statements: the ticket (through the caller's
    visibility) with its stored suggestion and whether a job is still waiting, then the similar
    tickets, re-selected through the same visibility."""
    waiting = (
        select(AiJob.id)
        .where(AiJob.ticket_id == Ticket.id, AiJob.status.in_(("pending", "running")))
        .exists()
    )
    row = (
        await session.execute(
            visible_tickets(actor)
            .with_only_columns(
                Ticket.id,
                waiting.label("waiting"),
                AiSuggestion.ticket_id.label("suggested"),
                AiSuggestion.engine,
                AiSuggestion.summary,
                AiSuggestion.category,
                AiSuggestion.category_confidence,
                AiSuggestion.priority,
                AiSuggestion.priority_confidence,
                AiSuggestion.similar,
                AiSuggestion.kb,
                AiSuggestion.reply,
            )
            .outerjoin(AiSuggestion, AiSuggestion.ticket_id == Ticket.id)
            .where(Ticket.id == ticket_id)
        )
    ).one_or_none()
    if row is None:
        raise NotFound("Ticket not found")
    status = "pending" if row.waiting else "ready" if row.suggested is not None else "unavailable"
    if row.suggested is None:
        return {
            "status": status,
            "engine": configured_engine_name(get_settings()),
            "summary": None,
            "category": None,
            "priority": None,
            "similar": [],
            "kb": [],
            "reply": None,
        }

    def vote(value: str | None, confidence: float | None) -> dict[str, Any] | None:
        if value is None or confidence is None:
            return None
        return {"value": value, "confidence": confidence}

    return {
        "status": status,
        "engine": row.engine,
        "summary": row.summary,
        "category": vote(row.category, row.category_confidence),
        "priority": vote(row.priority, row.priority_confidence),
        "similar": await _similar(session, actor, row.similar or []),
        "kb": row.kb or [],
        "reply": row.reply,
    }
