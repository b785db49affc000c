"""Tags on tickets: staff-only labels, created on the fly when a ticket names a new one."""

from __future__ import annotations

import uuid

from sqlalchemy import CheckConstraint, ForeignKey, Index, String
from sqlalchemy.dialects.postgresql import UUID
from sqlalchemy.orm import Mapped, mapped_column

from app.db.base import Base, CreatedAt, UUIDPrimaryKey


class Tag(UUIDPrimaryKey, CreatedAt, Base):
    __tablename__ = "tags"
    __table_args__ = (
        # The normalised form (schemas/tag.py): lower-case, 1-40 of [a-z0-9 _.-].
        CheckConstraint("name ~ '^[a-z0-9 _.-]{1,40}$'", name="name_normalised"),
    )

    name: Mapped[str] = mapped_column(String(40), nullable=False, unique=True)


class TicketTag(CreatedAt, Base):
    __tablename__ = "ticket_tags"
    # "Tickets with tag X": the primary key leads with the ticket (a ticket's tags), this index
    # with the tag.
    __table_args__ = (Index("ix_ticket_tags_tag_ticket", "tag_id", "ticket_id"),)

    ticket_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("tickets.id", ondelete="CASCADE"), primary_key=True
    )
    tag_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("tags.id", ondelete="CASCADE"), primary_key=True
    )
