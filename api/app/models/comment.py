"""Ticket comments: public replies and internal notes (``is_internal``)."""

from __future__ import annotations

import uuid

from sqlalchemy import Boolean, ForeignKey, ForeignKeyConstraint, Index, Text, text
from sqlalchemy.dialects.postgresql import UUID
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
    )

    ticket_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), nullable=False)
    org_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("organizations.id"), nullable=False
    )
    author_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("users.id"), nullable=False
    )
    body: Mapped[str] = mapped_column(Text, nullable=False)
    is_internal: Mapped[bool] = mapped_column(Boolean, nullable=False, server_default=text("false"))
