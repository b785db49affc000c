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
    visible = await session.execute(
        visible_tickets(actor).with_only_columns(Ticket.id).where(Ticket.id == ticket_id)
    )
    if visible.first() is None:
        raise NotFound("Ticket not found")
    suggestion = await session.get(AiSuggestion, ticket_id, populate_existing=True)
    waiting = (
        await session.execute(
            select(AiJob.id)
            .where(AiJob.ticket_id == ticket_id, AiJob.status.in_(("pending", "running")))
            .limit(1)
        )
    ).first() is not None
    status = "pending" if waiting else "ready" if suggestion is not None else "unavailable"
    if suggestion is None:
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
        "engine": suggestion.engine,
        "summary": suggestion.summary,
        "category": vote(suggestion.category, suggestion.category_confidence),
        "priority": vote(suggestion.priority, suggestion.priority_confidence),
        "similar": await _similar(session, actor, suggestion.similar),
        "kb": suggestion.kb,
        "reply": suggestion.reply,
    }
