"""Customer satisfaction: one rating per ticket (good / okay / bad and an optional comment), for
the resolution it rates (``resolved_at`` of that resolution). A later resolution's rating replaces
it; the audit trail (``csat.submitted``) keeps every change."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import (
    CheckConstraint,
    DateTime,
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    String,
    Text,
    text,
)
from sqlalchemy.dialects.postgresql import UUID
from sqlalchemy.orm import Mapped, mapped_column

from app.db.base import Base

CSAT_RATINGS = ("good", "okay", "bad")
CSAT_COMMENT_MAX = 2000


class TicketCsat(Base):
    __tablename__ = "ticket_csat"
    __table_args__ = (
        # The rating sits in its ticket's organization (reports per organization read org_id).
        ForeignKeyConstraint(
            ["ticket_id", "org_id"],
            ["tickets.id", "tickets.org_id"],
            name="fk_ticket_csat_ticket_org",
            ondelete="CASCADE",
        ),
        CheckConstraint("rating IN ('good', 'okay', 'bad')", name="rating"),
        CheckConstraint(f"char_length(comment) <= {CSAT_COMMENT_MAX}", name="comment_length"),
        Index("ix_ticket_csat_org_submitted", "org_id", "submitted_at"),
        Index("ix_ticket_csat_submitted", "submitted_at"),
    )

    ticket_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True)
    org_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("organizations.id"), nullable=False
    )
    rating: Mapped[str] = mapped_column(String(4), nullable=False)
    comment: Mapped[str | None] = mapped_column(Text, nullable=True)
    # The customer who rated (the one the mail link was for, or signed in to the portal).
    rated_by: Mapped[uuid.UUID | None] = mapped_column(
        UUID(as_uuid=True), ForeignKey("users.id"), nullable=True
    )
    # The resolution rated: the ticket's resolved_at when it was rated.
    resolved_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    submitted_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), nullable=False, server_default=text("now()")
    )
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), nullable=False, server_default=text("now()")
    )
