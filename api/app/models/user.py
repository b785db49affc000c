"""Users: customers belong to exactly one organization, staff to none."""

from __future__ import annotations

import uuid

from sqlalchemy import Boolean, CheckConstraint, ForeignKey, Index, String, text
from sqlalchemy.dialects.postgresql import UUID
from sqlalchemy.orm import Mapped, mapped_column

from app.db.base import Base, Timestamps, UUIDPrimaryKey
from app.models.enums import CUSTOMER_ROLES, Role, sql_in

_customer_roles = ", ".join(f"'{r.value}'" for r in sorted(CUSTOMER_ROLES))


class User(UUIDPrimaryKey, Timestamps, Base):
    __tablename__ = "users"
    __table_args__ = (
        CheckConstraint(f"role IN ({sql_in(Role)})", name="role"),
        # Customers carry their organization; staff carry none.
        CheckConstraint(
            f"(role IN ({_customer_roles})) = (org_id IS NOT NULL)", name="org_matches_role"
        ),
        CheckConstraint("email = lower(email)", name="email_lowercase"),
        Index("ix_users_org_id_role", "org_id", "role"),
        Index("ix_users_role_active", "role", postgresql_where=text("is_active")),
    )

    org_id: Mapped[uuid.UUID | None] = mapped_column(
        UUID(as_uuid=True), ForeignKey("organizations.id"), nullable=True
    )
    email: Mapped[str] = mapped_column(String(254), nullable=False, unique=True)
    name: Mapped[str] = mapped_column(String(200), nullable=False)
    role: Mapped[str] = mapped_column(String(20), nullable=False)
    password_hash: Mapped[str] = mapped_column(String(255), nullable=False)
    is_active: Mapped[bool] = mapped_column(Boolean, nullable=False, server_default=text("true"))
    notify_enabled: Mapped[bool] = mapped_column(
        Boolean, nullable=False, server_default=text("true")
    )
