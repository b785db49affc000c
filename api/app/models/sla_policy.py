"""SLA targets per (organization, priority); org_id NULL is the global default."""

from __future__ import annotations

import uuid

from sqlalchemy import CheckConstraint, ForeignKey, Integer, String, UniqueConstraint
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
