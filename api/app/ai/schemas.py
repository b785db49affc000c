"""The staff-only suggestions view (no customer schema has any of these fields)."""

from __future__ import annotations

import uuid
from typing import Literal

from app.models.enums import Priority
from app.schemas.common import ResponseModel

EngineName = Literal["local", "lexical", "ollama"]
# How a value was chosen: the trained classifier (its version), a vote of the nearest resolved
# tickets (few labels yet), or the language model.
Method = Literal["classifier", "neighbours", "llm"]


class CategorySuggestion(ResponseModel):
    value: str
    confidence: float
    method: Method
    model_version: int | None


class PrioritySuggestion(ResponseModel):
    value: Priority
    confidence: float
    method: Method
    model_version: int | None


class SimilarTicket(ResponseModel):
    id: uuid.UUID
    number: int
    title: str
    org_name: str
    # The cosine similarity (0..1) when the engine has embeddings; the full-text rank with the
    # lexical engine; null for a ticket the full-text step found that has no embedding yet.
    score: float | None
    resolution: str | None
    resolved: bool
    category: str | None
    priority: Priority


class KbPassage(ResponseModel):
    """A passage of a KB article (or, when an admin opted in, of the operator documentation):
    ``body`` is its Markdown, rendered like the article; ``article_id`` links the article."""

    title: str
    source: str
    article_id: uuid.UUID | None
    excerpt: str
    body: str
    score: float


class Suggestions(ResponseModel):
    """``pending``: a job is queued or running (the previous result, if any, is shown);
    ``ready``: the latest result; ``unavailable``: none was produced for this ticket."""

    status: Literal["pending", "ready", "unavailable"]
    engine: EngineName
    summary: str | None
    category: CategorySuggestion | None
    priority: PrioritySuggestion | None
    similar: list[SimilarTicket]
    kb: list[KbPassage]
    reply: str | None
