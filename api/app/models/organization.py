"""Customer organizations: the tenant boundary."""

from __future__ import annotations

import uuid

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, text
from sqlalchemy.dialects.postgresql import UUID
from sqlalchemy.orm import Mapped, mapped_column

from app.db.base import Base, Timestamps, UUIDPrimaryKey
from app.models.enums import OrgStatus, sql_in


class Organization(UUIDPrimaryKey, Timestamps, Base):
    __tablename__ = "organizations"
    __table_args__ = (
        CheckConstraint(f"status IN ({sql_in(OrgStatus)})", name="status"),
        CheckConstraint("portal_visibility IN ('own', 'organization')", name="portal_visibility"),
        Index("uq_organizations_lower_name", text("lower(name)"), unique=True),
    )

    name: Mapped[str] = mapped_column(String(200), nullable=False)
    status: Mapped[str] = mapped_column(String(20), nullable=False, server_default="active")
    # What a customer_user sees in the portal: tickets they opened or are copied on ("own"), or
    # every ticket of the organization. A customer_admin always sees the organization's.
    portal_visibility: Mapped[str] = mapped_column(
        String(12), nullable=False, server_default="organization"
    )
    # Business hours for this organization's SLA clocks, overriding the policy's calendar.
    sla_calendar_id: Mapped[uuid.UUID | None] = mapped_column(
        UUID(as_uuid=True), ForeignKey("sla_calendars.id"), nullable=True
    )
