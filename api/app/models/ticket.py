"""Tickets. ``status`` is written by the workflow service only (services/workflow.py)."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Computed,
    DateTime,
    Double,
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


# What services/reports.py reads of the tickets resolved, first answered and accepted in a range,
# carried in those instants' indexes (migration 0018): the summary and the breakdowns by agent,
# team and organization read a range from the index alone instead of one row per ticket (90 days
# at 1,000,000 tickets: 280 -> 100 ms; the whole history: 2.9 -> 1.0 s).
# A ticket with either SLA clock breached (the breached lists and counts).
BREACHED = "sla_first_response_breached_at IS NOT NULL OR sla_resolution_breached_at IS NOT NULL"
REPORT_KEYS = ("assigned_to", "assigned_team_id", "org_id")
REPORT_RESOLVED = (
    "sla_resolution_consumed_s",
    "reopen_count",
    "sla_first_response_breached_at",
    "sla_resolution_breached_at",
)
REPORT_FIRST = ("sla_first_response_consumed_s",)
REPORT_ACCEPTED = ("accept_business_s",)


class Ticket(UUIDPrimaryKey, Timestamps, Base):
    __tablename__ = "tickets"
    # Server values are read back after an INSERT (the number, the defaults), not after an
    # UPDATE: the only column the server computes on change is the search document, which no
    # code reads through the model (an UPDATE returned it, a tsvector per changed ticket).
    __mapper_args__ = {"eager_defaults": "auto"}  # noqa: RUF012
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
        # A requester's tickets, newest first (staff search by the requester's name).
        Index(
            "ix_tickets_created_by_created", "created_by", text("created_at DESC"), text("id DESC")
        ),
        Index("ix_tickets_new_queue", "created_at", "id", postgresql_where=text("status = 'NEW'")),
        Index(
            "ix_tickets_sla_open",
            "sla_resolution_due_at",
            postgresql_where=text(
                "sla_paused_at IS NULL AND status NOT IN ('RESOLVED', 'CLOSED', 'CANCELLED')"
            ),
        ),
        Index("ix_tickets_search", "search", postgresql_using="gin"),
        # The SLA sweep (R9): only rows with a pending warning, breach or escalation are indexed.
        Index(
            "ix_tickets_sla_fr_due",
            "sla_first_response_due_at",
            postgresql_where=text(
                "sla_first_response_due_at IS NOT NULL AND sla_first_response_breached_at IS NULL "
                "AND first_responded_at IS NULL"
            ),
        ),
        Index(
            "ix_tickets_sla_res_due",
            "sla_resolution_due_at",
            postgresql_where=text(
                "sla_resolution_due_at IS NOT NULL AND sla_resolution_breached_at IS NULL "
                "AND resolved_at IS NULL"
            ),
        ),
        Index(
            "ix_tickets_sla_fr_warn",
            "sla_first_response_warn_at",
            postgresql_where=text(
                "sla_first_response_warn_at IS NOT NULL AND sla_first_response_warned_at IS NULL"
            ),
        ),
        Index(
            "ix_tickets_sla_res_warn",
            "sla_resolution_warn_at",
            postgresql_where=text(
                "sla_resolution_warn_at IS NOT NULL AND sla_resolution_warned_at IS NULL"
            ),
        ),
        Index(
            "ix_tickets_sla_escalate",
            "sla_escalate_at",
            postgresql_where=text("sla_escalate_at IS NOT NULL AND sla_escalated_at IS NULL"),
        ),
        # "Next SLA due" sorting: running clocks first (soonest due), then the rest (NULLS LAST).
        Index("ix_tickets_sla_next_due", "sla_next_due_at", "id"),
        Index(
            "ix_tickets_sla_calendar_running",
            "sla_calendar_id",
            postgresql_where=text("sla_running_since IS NOT NULL"),
        ),
        # Reports: tickets resolved in a date range.
        Index(
            "ix_tickets_resolved_at",
            "resolved_at",
            postgresql_where=text("resolved_at IS NOT NULL"),
            postgresql_include=[*REPORT_RESOLVED, *REPORT_KEYS],
        ),
        # Reports: tickets first answered and accepted in a date range (migration 0015), with
        # what the reports read of them, so that a range is read from the index alone (0018).
        Index(
            "ix_tickets_first_responded_at",
            "first_responded_at",
            postgresql_where=text("first_responded_at IS NOT NULL"),
            postgresql_include=[*REPORT_FIRST, *REPORT_KEYS],
        ),
        Index(
            "ix_tickets_accepted_at",
            "accepted_at",
            postgresql_where=text("accepted_at IS NOT NULL"),
            postgresql_include=[*REPORT_ACCEPTED, "org_id"],
        ),
        Index(
            "ix_tickets_breached",
            text("created_at DESC"),
            text("id DESC"),
            postgresql_where=text(BREACHED),
        ),
        # An agent's breached tickets, counted from the index alone (the saved view "mine,
        # breached": reading each ticket cost 70 ms for an agent with 17,000 of them).
        Index(
            "ix_tickets_assignee_breached",
            "assigned_to",
            postgresql_where=text(BREACHED),
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
    # Business-hours clocks (services/sla.py, SLA_CALENDARS.md R3). Both clocks run from
    # sla_running_since (NULL while paused, before acceptance and once the ticket is done); a
    # clock's consumed business seconds are folded in at every event, and its due/warn instants
    # stored then, so no query computes business time. A completed clock's consumed seconds are
    # its business duration (reports read them). *_due_at and *_warn_at are NULL while a clock
    # does not run, which keeps the sweep's partial indexes small.
    sla_calendar_id: Mapped[uuid.UUID | None] = mapped_column(
        UUID(as_uuid=True), ForeignKey("sla_calendars.id"), nullable=True
    )
    sla_running_since: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    sla_first_response_target_s: Mapped[int | None] = mapped_column(Integer)
    sla_resolution_target_s: Mapped[int | None] = mapped_column(Integer)
    sla_first_response_consumed_s: Mapped[float] = mapped_column(
        Double, nullable=False, server_default=text("0")
    )
    sla_resolution_consumed_s: Mapped[float] = mapped_column(
        Double, nullable=False, server_default=text("0")
    )
    sla_first_response_warn_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    sla_resolution_warn_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    sla_first_response_warned_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    sla_resolution_warned_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # The earliest due instant of the running clocks ("next SLA due" sorting; NULL = none runs).
    sla_next_due_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # The optional second escalation after a breach (policy escalate_after_minutes).
    sla_escalate_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    sla_escalated_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # Created -> accepted in business seconds of the ticket's calendar (the gate, R4).
    accept_business_s: Mapped[float | None] = mapped_column(Double)
    reopen_count: Mapped[int] = mapped_column(Integer, nullable=False, server_default=text("0"))
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
