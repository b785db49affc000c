"""Ticket comments: public replies and internal notes (``is_internal``)."""

from __future__ import annotations

import uuid

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Computed,
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    String,
    Text,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB, TSVECTOR, UUID
from sqlalchemy.orm import Mapped, mapped_column

from app.db.base import Base, CreatedAt, UUIDPrimaryKey


class TicketComment(UUIDPrimaryKey, CreatedAt, Base):
    __tablename__ = "ticket_comments"
    __table_args__ = (
        ForeignKeyConstraint(
            ["ticket_id", "org_id"],
            ["tickets.id", "tickets.org_id"],
            name="fk_ticket_comments_ticket_org",
        ),
        Index("ix_ticket_comments_ticket_created", "ticket_id", "created_at"),
        # Ticket search over comments (services/search.py); 'simple' as the tickets' document.
        Index("ix_ticket_comments_search", "search", postgresql_using="gin"),
        CheckConstraint("channel IN ('portal', 'email', 'phone', 'api')", name="channel"),
        # Only automatic mail (an out-of-office, a bounce) has no author: it is kept as an
        # internal note under its sender's address.
        CheckConstraint(
            "author_id IS NOT NULL OR (automatic AND is_internal AND from_address IS NOT NULL)",
            name="author_or_automatic",
        ),
    )

    ticket_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), nullable=False)
    org_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("organizations.id"), nullable=False
    )
    author_id: Mapped[uuid.UUID | None] = mapped_column(
        UUID(as_uuid=True), ForeignKey("users.id"), nullable=True
    )
    body: Mapped[str] = mapped_column(Text, nullable=False)
    is_internal: Mapped[bool] = mapped_column(Boolean, nullable=False, server_default=text("false"))
    channel: Mapped[str] = mapped_column(String(10), nullable=False, server_default="portal")
    automatic: Mapped[bool] = mapped_column(Boolean, nullable=False, server_default=text("false"))
    # Mail only: the sender's address, the Message-ID, the quoted history split off the body
    # (shown folded) and the attachments refused by the upload rules ({file_name, reason}).
    from_address: Mapped[str | None] = mapped_column(String(254), nullable=True)
    message_id: Mapped[str | None] = mapped_column(String(998), nullable=True)
    quoted: Mapped[str | None] = mapped_column(Text, nullable=True)
    refused_files: Mapped[list[dict[str, str]] | None] = mapped_column(
        JSONB(none_as_null=True), nullable=True
    )
    # The comment's words for ticket search (never shown, never read by the views).
    search: Mapped[str] = mapped_column(
        TSVECTOR, Computed("to_tsvector('simple', body)", persisted=True), deferred=True
    )
    inbound_id: Mapped[uuid.UUID | None] = mapped_column(
        UUID(as_uuid=True), ForeignKey("inbound_messages.id"), nullable=True
    )
