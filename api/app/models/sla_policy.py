"""SLA targets per (organization, priority); org_id NULL is the global default."""

from __future__ import annotations

import uuid

from sqlalchemy import (
    CheckConstraint,
    ForeignKey,
    Integer,
    SmallInteger,
    String,
    UniqueConstraint,
    text,
)
from sqlalchemy.dialects.postgresql import UUID
from sqlalchemy.orm import Mapped, mapped_column

from app.db.base import Base, Timestamps, UUIDPrimaryKey
from app.models.enums import Priority, sql_in


class SlaPolicy(UUIDPrimaryKey, Timestamps, Base):
    __tablename__ = "sla_policies"
    __table_args__ = (
        CheckConstraint(f"priority IN ({sql_in(Priority)})", name="priority"),
        CheckConstraint("first_response_minutes > 0", name="first_response_positive"),
        CheckConstraint("resolution_minutes > 0", name="resolution_positive"),
        CheckConstraint("warn_pct BETWEEN 1 AND 100", name="warn_pct_range"),
        CheckConstraint("warn_minutes IS NULL OR warn_minutes > 0", name="warn_minutes_positive"),
        CheckConstraint(
            "escalate_after_minutes IS NULL OR escalate_after_minutes > 0",
            name="escalate_after_positive",
        ),
        CheckConstraint(
            "escalate_after_minutes IS NULL "
            "OR escalate_to_user_id IS NOT NULL OR escalate_to_team_id IS NOT NULL",
            name="escalate_target",
        ),
        UniqueConstraint(
            "org_id",
            "priority",
            name="uq_sla_policies_org_id_priority",
            postgresql_nulls_not_distinct=True,
        ),
    )

    org_id: Mapped[uuid.UUID | None] = mapped_column(
        UUID(as_uuid=True), ForeignKey("organizations.id"), nullable=True
    )
    priority: Mapped[str] = mapped_column(String(2), nullable=False)
    first_response_minutes: Mapped[int] = mapped_column(Integer, nullable=False)
    resolution_minutes: Mapped[int] = mapped_column(Integer, nullable=False)
    # The business-hours calendar the clocks run on (SLA_CALENDARS.md); NULL = around the clock.
    # An organization's own calendar (organizations.sla_calendar_id) takes precedence.
    calendar_id: Mapped[uuid.UUID | None] = mapped_column(
        UUID(as_uuid=True), ForeignKey("sla_calendars.id"), nullable=True
    )
    # Warn the assignee when warn_pct % of a target is used up, or warn_minutes business minutes
    # before it is due, whichever comes first.
    warn_pct: Mapped[int] = mapped_column(SmallInteger, nullable=False, server_default=text("80"))
    warn_minutes: Mapped[int | None] = mapped_column(Integer, nullable=True)
    # A second escalation this many business minutes after a breach, to a user and/or a team.
    escalate_after_minutes: Mapped[int | None] = mapped_column(Integer, nullable=True)
    escalate_to_user_id: Mapped[uuid.UUID | None] = mapped_column(
        UUID(as_uuid=True), ForeignKey("users.id"), nullable=True
    )
    escalate_to_team_id: Mapped[uuid.UUID | None] = mapped_column(
        UUID(as_uuid=True), ForeignKey("teams.id"), nullable=True
    )
