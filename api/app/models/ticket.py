"""Tickets. ``status`` is written by the workflow service only (services/workflow.py)."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Computed,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    Sequence,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.dialects.postgresql import TSVECTOR, UUID
from sqlalchemy.orm import Mapped, mapped_column

from app.db.base import Base, Timestamps, UUIDPrimaryKey
from app.models.enums import Priority, TicketStatus, sql_in

ticket_number_seq = Sequence("ticket_number_seq", start=1000)

# Weighted full-text document: number and title rank above the description. 'simple' keeps the
# search language-neutral (customers write in many languages); it is IMMUTABLE, as a generated
# column requires.
SEARCH_DOCUMENT = (
    "setweight(to_tsvector('simple', number::text || ' ' || coalesce(title, '')), 'A') || "
    "setweight(to_tsvector('simple', coalesce(description, '')), 'B')"
)


class Ticket(UUIDPrimaryKey, Timestamps, Base):
    __tablename__ = "tickets"
    __table_args__ = (
        CheckConstraint(f"status IN ({sql_in(TicketStatus)})", name="status"),
        CheckConstraint(f"priority IN ({sql_in(Priority)})", name="priority"),
        CheckConstraint("sla_paused_seconds >= 0", name="paused_seconds_nonnegative"),
        CheckConstraint("channel IN ('portal', 'email', 'phone', 'api')", name="channel"),
        # Lets child tables reference (ticket_id, org_id) so a comment can never sit in another
        # organization than its ticket.
        UniqueConstraint("id", "org_id", name="uq_tickets_id_org_id"),
        Index(
            "ix_tickets_org_status_created",
            "org_id",
            "status",
            text("created_at DESC"),
            text("id DESC"),
        ),
        Index("ix_tickets_org_created", "org_id", text("created_at DESC"), text("id DESC")),
        Index("ix_tickets_status_created", "status", text("created_at DESC"), text("id DESC")),
        Index("ix_tickets_created", text("created_at DESC"), text("id DESC")),
        Index(
            "ix_tickets_assignee_created", "assigned_to", text("created_at DESC"), text("id DESC")
        ),
        Index(
            "ix_tickets_assignee_status_created",
            "assigned_to",
            "status",
            text("created_at DESC"),
            text("id DESC"),
        ),
        Index("ix_tickets_team_status", "assigned_team_id", "status"),
        Index("ix_tickets_new_queue", "created_at", "id", postgresql_where=text("status = 'NEW'")),
        Index(
            "ix_tickets_sla_open",
            "sla_resolution_due_at",
            postgresql_where=text(
                "sla_paused_at IS NULL AND status NOT IN ('RESOLVED', 'CLOSED', 'CANCELLED')"
            ),
        ),
        Index("ix_tickets_search", "search", postgresql_using="gin"),
        Index(
            "ix_tickets_breached",
            text("created_at DESC"),
            text("id DESC"),
            postgresql_where=text(
                "sla_first_response_breached_at IS NOT NULL "
                "OR sla_resolution_breached_at IS NOT NULL"
            ),
        ),
    )

    number: Mapped[int] = mapped_column(
        BigInteger,
        ticket_number_seq,
        server_default=ticket_number_seq.next_value(),
        nullable=False,
        unique=True,
    )
    org_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("organizations.id"), nullable=False
    )
    service_id: Mapped[uuid.UUID | None] = mapped_column(
        UUID(as_uuid=True), ForeignKey("services.id"), nullable=True
    )
    created_by: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("users.id"), nullable=False
    )
    accepted_by: Mapped[uuid.UUID | None] = mapped_column(
        UUID(as_uuid=True), ForeignKey("users.id"), nullable=True
    )
    assigned_to: Mapped[uuid.UUID | None] = mapped_column(
        UUID(as_uuid=True), ForeignKey("users.id"), nullable=True
    )
    assigned_team_id: Mapped[uuid.UUID | None] = mapped_column(
        UUID(as_uuid=True), ForeignKey("teams.id"), nullable=True
    )
    status: Mapped[str] = mapped_column(String(20), nullable=False, server_default="NEW")
    priority: Mapped[str] = mapped_column(String(2), nullable=False)
    category: Mapped[str | None] = mapped_column(String(100), nullable=True)
    title: Mapped[str] = mapped_column(String(300), nullable=False)
    description: Mapped[str] = mapped_column(Text, nullable=False)
    resolution: Mapped[str | None] = mapped_column(Text, nullable=True)
    root_cause: Mapped[str | None] = mapped_column(Text, nullable=True)
    accepted_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    resolved_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    closed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    sla_first_response_due_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    sla_resolution_due_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    first_responded_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    sla_paused_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    sla_paused_seconds: Mapped[int] = mapped_column(
        Integer, nullable=False, server_default=text("0")
    )
    sla_first_response_breached_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    sla_resolution_breached_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # Where the ticket came from; a reply to a closed ticket opens a new one that follows it up.
    channel: Mapped[str] = mapped_column(String(10), nullable=False, server_default="portal")
    follow_up_of: Mapped[uuid.UUID | None] = mapped_column(
        UUID(as_uuid=True), ForeignKey("tickets.id"), nullable=True
    )
    # A duplicate merged into another ticket (then CLOSED).
    merged_into: Mapped[uuid.UUID | None] = mapped_column(
        UUID(as_uuid=True), ForeignKey("tickets.id"), nullable=True
    )
    search: Mapped[str] = mapped_column(TSVECTOR, Computed(SEARCH_DOCUMENT, persisted=True))
