"""Reading a ticket's suggestions for a staff member. The stored similar-ticket list is only a
ranking: each read re-selects those tickets through ``visible_tickets(actor)``, so nothing
outside the caller's visibility is ever shown, and titles and resolutions are current."""

from __future__ import annotations

import contextlib
import uuid
from functools import lru_cache
from typing import Any, cast

from sqlalchemy import any_, bindparam, select
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.dialects.postgresql import UUID as PgUUID
from sqlalchemy.engine import Result
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql import Select

from app.ai.choice import configured_engine_name
from app.ai.kb import ARTICLE_PREFIX
from app.auth.deps import CurrentUser
from app.config import get_settings
from app.errors import NotFound
from app.models import AiJob, AiSuggestion, Organization, Ticket
from app.models.enums import Role, TicketStatus
from app.services.visibility import actor_values, stand_in, visible_tickets


# Both statements are built once per role and run as Core (building and hashing a statement per
# request cost more than running it), with the visibility rules applied to a stand-in of the
# caller's role (services/visibility.py: stand_in, actor_values).
async def _core(
    session: AsyncSession, stmt: Select[Any], actor: CurrentUser, **values: Any
) -> Result[Any]:
    connection = await session.connection()
    result: Result[Any] = await connection.execute(stmt, actor_values(actor, **values))
    return result


@lru_cache(maxsize=16)
def _similar_statement(role: Role) -> Select[Any]:
    ids = bindparam("ids", type_=ARRAY(PgUUID(as_uuid=True)))
    stmt = cast(
        Select[Any],
        (
            visible_tickets(stand_in(role))
            .with_only_columns(
                Ticket.id,
                Ticket.number,
                Ticket.title,
                Ticket.resolution,
                Ticket.status,
                Ticket.category,
                Ticket.priority,
                Organization.name,
            )
            .join(Organization, Organization.id == Ticket.org_id)
            .where(Ticket.id == any_(ids))
        ),
    )
    return stmt


@lru_cache(maxsize=16)
def _suggestion_statement(role: Role) -> Select[Any]:
    waiting = (
        select(AiJob.id)
        .where(AiJob.ticket_id == Ticket.id, AiJob.status.in_(("pending", "running")))
        .exists()
    )
    stmt = cast(
        Select[Any],
        (
            visible_tickets(stand_in(role))
            .with_only_columns(
                Ticket.id,
                waiting.label("waiting"),
                AiSuggestion.ticket_id.label("suggested"),
                AiSuggestion.engine,
                AiSuggestion.summary,
                AiSuggestion.category,
                AiSuggestion.category_confidence,
                AiSuggestion.category_method,
                AiSuggestion.category_model,
                AiSuggestion.priority,
                AiSuggestion.priority_confidence,
                AiSuggestion.priority_method,
                AiSuggestion.priority_model,
                AiSuggestion.similar,
                AiSuggestion.kb,
                AiSuggestion.reply,
            )
            .outerjoin(AiSuggestion, AiSuggestion.ticket_id == Ticket.id)
            .where(Ticket.id == bindparam("ticket_id"))
        ),
    )
    return stmt


async def _similar(
    session: AsyncSession, actor: CurrentUser, stored: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    scores: dict[uuid.UUID, float | None] = {}
    for item in stored:
        try:
            score = item.get("score")
            scores[uuid.UUID(str(item["ticket_id"]))] = None if score is None else float(score)
        except (KeyError, TypeError, ValueError):
            continue
    if not scores:
        return []
    rows = await _core(session, _similar_statement(actor.role), actor, ids=list(scores))
    found = {
        row.id: {
            "id": row.id,
            "number": row.number,
            "title": row.title,
            "org_name": row.name,
            "score": scores[row.id],
            "resolution": row.resolution,
            "resolved": row.status in (TicketStatus.RESOLVED, TicketStatus.CLOSED),
            "category": row.category,
            "priority": row.priority,
        }
        for row in rows.all()
    }
    return [found[key] for key in scores if key in found]


def _passage(item: dict[str, Any]) -> dict[str, Any]:
    """A stored passage as answered (rows stored before passages kept their Markdown and
    article link answer their excerpt as the body)."""
    source = str(item.get("source", ""))
    article_id = item.get("article_id")
    if article_id is None and source.startswith(ARTICLE_PREFIX):
        with contextlib.suppress(ValueError):
            article_id = str(uuid.UUID(source.removeprefix(ARTICLE_PREFIX)))
    return {
        "title": item.get("title", ""),
        "source": source,
        "article_id": article_id,
        "excerpt": item.get("excerpt", ""),
        "body": item.get("body") or item.get("excerpt", ""),
        "score": item.get("score", 0.0),
    }


async def view(session: AsyncSession, actor: CurrentUser, ticket_id: uuid.UUID) -> dict[str, Any]:
    """The ticket's suggestions in at most two statements: the ticket (through the caller's
    visibility) with its stored suggestion and whether a job is still waiting, then the similar
    tickets, re-selected through the same visibility."""
    row = (
        await _core(session, _suggestion_statement(actor.role), actor, ticket_id=ticket_id)
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

    def vote(
        value: str | None, confidence: float | None, method: str | None, version: int | None
    ) -> dict[str, Any] | None:
        if value is None or confidence is None:
            return None
        return {
            "value": value,
            "confidence": confidence,
            "method": method or "neighbours",
            "model_version": version,
        }

    return {
        "status": status,
        "engine": row.engine,
        "summary": row.summary,
        "category": vote(
            row.category, row.category_confidence, row.category_method, row.category_model
        ),
        "priority": vote(
            row.priority, row.priority_confidence, row.priority_method, row.priority_model
        ),
        "similar": await _similar(session, actor, row.similar or []),
        "kb": [_passage(item) for item in row.kb or []],
        "reply": row.reply,
    }
