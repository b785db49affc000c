"""Knowledge-base articles written by staff. ``internal`` articles are for the desk only;
``public`` ones are also offered to customers (portal deflection). Every article is cut into
passages in ``kb_passages`` (source ``kb:<id>``), so AI triage suggestions cite it next to the
documentation."""

from __future__ import annotations

import uuid

from sqlalchemy import CheckConstraint, Computed, ForeignKey, Index, String, Text, text
from sqlalchemy.dialects.postgresql import TSVECTOR, UUID
from sqlalchemy.orm import Mapped, mapped_column

from app.db.base import Base, Timestamps, UUIDPrimaryKey

KB_VISIBILITIES = ("internal", "public")

KB_ARTICLE_SEARCH_DOCUMENT = (
    "setweight(to_tsvector('english', coalesce(title, '')), 'A') || "
    "setweight(to_tsvector('english', coalesce(body, '')), 'B')"
)


class KbArticle(UUIDPrimaryKey, Timestamps, Base):
    __tablename__ = "kb_articles"
    __table_args__ = (
        CheckConstraint("visibility IN ('internal', 'public')", name="visibility"),
        Index("ix_kb_articles_search", "search", postgresql_using="gin"),
        Index("ix_kb_articles_updated", text("updated_at DESC"), text("id DESC")),
    )

    title: Mapped[str] = mapped_column(String(200), nullable=False)
    body: Mapped[str] = mapped_column(Text, nullable=False)
    visibility: Mapped[str] = mapped_column(String(10), nullable=False)
    created_by: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("users.id"), nullable=False
    )
    updated_by: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("users.id"), nullable=False
    )
    search: Mapped[str] = mapped_column(
        TSVECTOR, Computed(KB_ARTICLE_SEARCH_DOCUMENT, persisted=True)
    )
