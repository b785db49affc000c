"""Local AI triage (advisory only): the job queue, the latest suggestion per ticket, ticket
embeddings and the knowledge-base passages (docs/*.md). Nothing here is ever written back to a
ticket; staff apply a suggestion through the ordinary ticket endpoints.

Embeddings are ``real[]`` (portable: Debian's stock PostgreSQL has no pgvector); where the
``vector`` extension exists the distances are computed by pgvector (``app/ai/retrieval.py``).
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import (
    REAL,
    CheckConstraint,
    Computed,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB, TSVECTOR, UUID
from sqlalchemy.orm import Mapped, mapped_column

from app.db.base import Base, CreatedAt, UUIDPrimaryKey

AI_JOB_STATUSES = ("pending", "running", "done", "failed")
AI_JOB_REASONS = ("created", "comment")
AI_METHODS = ("classifier", "neighbours", "llm")
AI_METHODS_SQL = "(" + ", ".join(f"'{m}'" for m in AI_METHODS) + ")"
AI_MODEL_FIELDS = ("category", "priority")

KB_SEARCH_DOCUMENT = (
    "setweight(to_tsvector('english', coalesce(title, '')), 'A') || "
    "setweight(to_tsvector('english', coalesce(body, '')), 'B')"
)


class AiJob(UUIDPrimaryKey, CreatedAt, Base):
    """One triage run to do for a ticket; at most one pending per ticket (later triggers merge)."""

    __tablename__ = "ai_jobs"
    __table_args__ = (
        CheckConstraint("status IN ('pending', 'running', 'done', 'failed')", name="status"),
        CheckConstraint("reason IN ('created', 'comment')", name="reason"),
        Index(
            "ix_ai_jobs_due",
            "run_after",
            postgresql_where=text("status IN ('pending', 'running')"),
        ),
        Index(
            "uq_ai_jobs_pending_ticket",
            "ticket_id",
            unique=True,
            postgresql_where=text("status = 'pending'"),
        ),
        Index("ix_ai_jobs_ticket_created", "ticket_id", "created_at"),
    )

    ticket_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("tickets.id", ondelete="CASCADE"), nullable=False
    )
    reason: Mapped[str] = mapped_column(String(10), nullable=False)
    status: Mapped[str] = mapped_column(String(10), nullable=False, server_default="pending")
    attempts: Mapped[int] = mapped_column(Integer, nullable=False, server_default=text("0"))
    run_after: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), nullable=False, server_default=text("now()")
    )
    lease_token: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True), nullable=True)
    lease_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    last_error: Mapped[str | None] = mapped_column(Text, nullable=True)
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


class AiSuggestion(Base):
    """The latest triage result of a ticket (replaced by each run)."""

    __tablename__ = "ai_suggestions"
    __table_args__ = (
        CheckConstraint("engine IN ('local', 'lexical', 'ollama')", name="engine"),
        CheckConstraint(f"category_method IN {AI_METHODS_SQL}", name="category_method"),
        CheckConstraint(f"priority_method IN {AI_METHODS_SQL}", name="priority_method"),
    )

    ticket_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("tickets.id", ondelete="CASCADE"), primary_key=True
    )
    engine: Mapped[str] = mapped_column(String(10), nullable=False)
    model: Mapped[str | None] = mapped_column(String(200), nullable=True)
    summary: Mapped[str] = mapped_column(Text, nullable=False)
    category: Mapped[str | None] = mapped_column(String(100), nullable=True)
    category_confidence: Mapped[float | None] = mapped_column(Float, nullable=True)
    priority: Mapped[str | None] = mapped_column(String(2), nullable=True)
    priority_confidence: Mapped[float | None] = mapped_column(Float, nullable=True)
    # How each value was chosen (AI_METHODS) and, for the classifier, its version (ai_models).
    category_method: Mapped[str | None] = mapped_column(String(12), nullable=True)
    category_model: Mapped[int | None] = mapped_column(Integer, nullable=True)
    priority_method: Mapped[str | None] = mapped_column(String(12), nullable=True)
    priority_model: Mapped[int | None] = mapped_column(Integer, nullable=True)
    # [{"ticket_id": str, "score": float}]: re-filtered through visibility.py on every read.
    similar: Mapped[list[dict[str, Any]]] = mapped_column(
        JSONB, nullable=False, server_default=text("'[]'::jsonb")
    )
    # [{"title", "source", "excerpt", "body", "score"}]: KB article passages (operator docs only
    # when an admin opted in), Markdown in "body".
    kb: Mapped[list[dict[str, Any]]] = mapped_column(
        JSONB, nullable=False, server_default=text("'[]'::jsonb")
    )
    reply: Mapped[str | None] = mapped_column(Text, nullable=True)
    generated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)


class AiModel(UUIDPrimaryKey, CreatedAt, Base):
    """A trained classifier for one ticket field (category or priority): its parameters as a
    NumPy ``.npz`` archive (arrays only, loaded without pickle), the labels it chooses among, the
    embedding model its inputs come from, and what held-out data said of it (calibration
    temperature, abstain threshold, accuracy). Versions count up per field; the newest is used."""

    __tablename__ = "ai_models"
    __table_args__ = (
        CheckConstraint("field IN ('category', 'priority')", name="field"),
        UniqueConstraint("field", "version", name="uq_ai_models_field_version"),
    )

    field: Mapped[str] = mapped_column(String(10), nullable=False)
    version: Mapped[int] = mapped_column(Integer, nullable=False)
    embed_model: Mapped[str] = mapped_column(String(200), nullable=False)
    labels: Mapped[int] = mapped_column(Integer, nullable=False)
    classes: Mapped[list[str]] = mapped_column(JSONB, nullable=False)
    params: Mapped[bytes] = mapped_column(LargeBinary, nullable=False)
    metrics: Mapped[dict[str, Any]] = mapped_column(JSONB, nullable=False)


class TicketEmbedding(Base):
    """A ticket's text embedded by the local model (``all-MiniLM-L6-v2``) or by
    ``ATUM_OLLAMA_EMBED_MODEL`` (hybrid retrieval, the classifier's input)."""

    __tablename__ = "ticket_embeddings"
    # The exact search's bounded pool (no pgvector): the most recently embedded of a model.
    __table_args__ = (Index("ix_ticket_embeddings_model_updated", "model", "updated_at"),)

    ticket_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("tickets.id", ondelete="CASCADE"), primary_key=True
    )
    model: Mapped[str] = mapped_column(String(200), nullable=False)
    content_hash: Mapped[str] = mapped_column(String(64), nullable=False)
    embedding: Mapped[list[float]] = mapped_column(ARRAY(REAL), nullable=False)
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), nullable=False, server_default=text("now()")
    )


class KbPassage(UUIDPrimaryKey, CreatedAt, Base):
    """One section of a Markdown document under docs/, indexed for full-text (and vector)
    search. Reloaded per file when its content hash changes."""

    __tablename__ = "kb_passages"
    __table_args__ = (
        UniqueConstraint("source", "position", name="uq_kb_passages_source_position"),
        Index("ix_kb_passages_search", "search", postgresql_using="gin"),
    )

    source: Mapped[str] = mapped_column(String(300), nullable=False)
    position: Mapped[int] = mapped_column(Integer, nullable=False)
    title: Mapped[str] = mapped_column(String(300), nullable=False)
    body: Mapped[str] = mapped_column(Text, nullable=False)
    file_hash: Mapped[str] = mapped_column(String(64), nullable=False)
    embed_model: Mapped[str | None] = mapped_column(String(200), nullable=True)
    embedding: Mapped[list[float] | None] = mapped_column(ARRAY(REAL), nullable=True)
    search: Mapped[str] = mapped_column(TSVECTOR, Computed(KB_SEARCH_DOCUMENT, persisted=True))
