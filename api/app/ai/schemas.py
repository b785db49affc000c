"""The staff-only suggestions view (no customer schema has any of these fields)."""

from __future__ import annotations

import uuid
from typing import Literal

from app.models.enums import Priority
from app.schemas.common import ResponseModel

EngineName = Literal["lexical", "ollama"]


class CategorySuggestion(ResponseModel):
    value: str
    confidence: float


class PrioritySuggestion(ResponseModel):
    value: Priority
    confidence: float


class SimilarTicket(ResponseModel):
    id: uuid.UUID
    number: int
    title: str
    org_name: str
    score: float
    resolution: str | None


class KbPassage(ResponseModel):
    title: str
    source: str
    excerpt: str
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
