"""Users: customers belong to exactly one organization, staff to none."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Computed,
    DateTime,
    ForeignKey,
    Index,
    String,
    text,
)
from sqlalchemy.dialects.postgresql import TSVECTOR, UUID
from sqlalchemy.orm import Mapped, mapped_column

from app.db.base import Base, Timestamps, UUIDPrimaryKey
from app.models.enums import CUSTOMER_ROLES, Role, sql_in

# The password hash of an account that has none yet (invited, or a contact created from an
# e-mail): no password ever verifies against it (argon2 refuses it as a hash).
NO_PASSWORD = "!"  # noqa: S105  (a marker, not a password)

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
        # Staff search finds tickets by the requester's name or e-mail (services/search.py).
        Index("ix_users_search", "search", postgresql_using="gin"),
        # At most one break-glass administrator (docs/SSO.md "Break-glass").
        Index(
            "uq_users_break_glass",
            "break_glass",
            unique=True,
            postgresql_where=text("break_glass"),
        ),
        CheckConstraint("NOT break_glass OR role = 'admin'", name="break_glass_admin"),
    )

    org_id: Mapped[uuid.UUID | None] = mapped_column(
        UUID(as_uuid=True), ForeignKey("organizations.id"), nullable=True
    )
    email: Mapped[str] = mapped_column(String(254), nullable=False, unique=True)
    name: Mapped[str] = mapped_column(String(200), nullable=False)
    # The name and address as words for ticket search (never shown, never read by the views).
    search: Mapped[str] = mapped_column(
        TSVECTOR,
        Computed(
            "to_tsvector('simple', coalesce(name, '') || ' ' || coalesce(email, ''))",
            persisted=True,
        ),
        deferred=True,
    )
    role: Mapped[str] = mapped_column(String(20), nullable=False)
    password_hash: Mapped[str] = mapped_column(String(255), nullable=False)
    is_active: Mapped[bool] = mapped_column(Boolean, nullable=False, server_default=text("true"))
    notify_enabled: Mapped[bool] = mapped_column(
        Boolean, nullable=False, server_default=text("true")
    )
    # The language of the pages and mails (a placeholder until they are translated).
    language: Mapped[str] = mapped_column(String(10), nullable=False, server_default="en")
    # Two-factor sign-in: the TOTP secret sealed under the secret key (pending until a first code
    # confirms it), the last time step accepted (a code works once), whether any second factor is
    # enrolled (read at every sign-in), and when the grace period of a role that requires one
    # began.
    totp_secret: Mapped[str | None] = mapped_column(String(255), nullable=True)
    totp_pending_secret: Mapped[str | None] = mapped_column(String(255), nullable=True)
    totp_last_step: Mapped[int] = mapped_column(
        BigInteger, nullable=False, server_default=text("0")
    )
    mfa_enabled: Mapped[bool] = mapped_column(Boolean, nullable=False, server_default=text("false"))
    mfa_grace_started_at: Mapped[datetime | None] = mapped_column(
        DateTime(timezone=True), nullable=True
    )
    password_changed_at: Mapped[datetime | None] = mapped_column(
        DateTime(timezone=True), nullable=True
    )
    # The administrator who may always sign in with a password and a second factor, even when
    # local passwords are off for admins and every identity provider is down.
    break_glass: Mapped[bool] = mapped_column(Boolean, nullable=False, server_default=text("false"))

    @property
    def status(self) -> str:
        """``invited`` (no password yet), ``active`` or ``deactivated``."""
        if not self.is_active:
            return "deactivated"
        return "invited" if self.password_hash == NO_PASSWORD else "active"
