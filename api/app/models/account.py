"""Accounts: single-use links and half-logins, two-factor credentials and the per-role policy.

Every token a person receives (invitation, password reset, e-mail confirmation) or a client holds
between the two steps of a sign-in is 256 bits from ``secrets`` and stored only as its SHA-256: a
copy of the database opens no account. A token dies on use, on expiry, or when a newer one of the
same purpose is issued to the same user.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB, UUID
from sqlalchemy.orm import Mapped, mapped_column

from app.db.base import Base, CreatedAt, UUIDPrimaryKey

TOKEN_PURPOSES = (
    "invitation",
    "password_reset",
    "email_change",
    "mfa_login",
    "webauthn_register",
    "sso_link",
)


class AccountToken(UUIDPrimaryKey, CreatedAt, Base):
    __tablename__ = "account_tokens"
    __table_args__ = (
        CheckConstraint(
            "purpose IN (" + ", ".join(f"'{p}'" for p in TOKEN_PURPOSES) + ")", name="purpose"
        ),
        Index(
            "ix_account_tokens_live",
            "user_id",
            "purpose",
            postgresql_where=text("used_at IS NULL"),
        ),
        Index("ix_account_tokens_expires_at", "expires_at"),
    )

    user_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("users.id"), nullable=False
    )
    purpose: Mapped[str] = mapped_column(String(20), nullable=False)
    token_hash: Mapped[bytes] = mapped_column(LargeBinary(32), nullable=False, unique=True)
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    used_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    # The new address of an e-mail change.
    new_email: Mapped[str | None] = mapped_column(String(254), nullable=True)
    # A WebAuthn challenge (half-login, key registration).
    data: Mapped[dict[str, Any] | None] = mapped_column(JSONB, nullable=True)
    # Wrong second factors tried with a half-login (it dies after a few).
    attempts: Mapped[int] = mapped_column(Integer, nullable=False, server_default=text("0"))


class RecoveryCode(UUIDPrimaryKey, CreatedAt, Base):
    __tablename__ = "mfa_recovery_codes"
    __table_args__ = (
        Index("ix_mfa_recovery_codes_user", "user_id", postgresql_where=text("used_at IS NULL")),
    )

    user_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("users.id"), nullable=False
    )
    code_hash: Mapped[str] = mapped_column(String(255), nullable=False)
    used_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


class WebAuthnCredential(UUIDPrimaryKey, CreatedAt, Base):
    __tablename__ = "webauthn_credentials"
    __table_args__ = (Index("ix_webauthn_credentials_user", "user_id"),)

    user_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("users.id"), nullable=False
    )
    credential_id: Mapped[bytes] = mapped_column(LargeBinary, nullable=False, unique=True)
    public_key: Mapped[bytes] = mapped_column(LargeBinary, nullable=False)
    sign_count: Mapped[int] = mapped_column(BigInteger, nullable=False, server_default=text("0"))
    name: Mapped[str] = mapped_column(String(100), nullable=False)
    transports: Mapped[list[str] | None] = mapped_column(JSONB, nullable=True)
    last_used_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


class MfaPolicy(Base):
    """Per role: is a second factor required, and how long may a user sign in without one after
    the first sign-in that asked for it."""

    __tablename__ = "mfa_policy"
    __table_args__ = (CheckConstraint("grace_hours >= 0", name="grace_hours"),)

    role: Mapped[str] = mapped_column(String(20), primary_key=True)
    required: Mapped[bool] = mapped_column(Boolean, nullable=False)
    grace_hours: Mapped[int] = mapped_column(Integer, nullable=False)
