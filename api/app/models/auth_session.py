"""Server-side sessions behind access tokens.

A token names its session (``sid``); authentication reads the session and its user in one indexed
statement, so logout (revoke one session), deactivation and password changes (revoke all) take
effect on the very next request.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import Boolean, DateTime, ForeignKey, Index, String, func, text
from sqlalchemy.dialects.postgresql import JSONB, UUID
from sqlalchemy.orm import Mapped, mapped_column

from app.db.base import Base, CreatedAt, UUIDPrimaryKey


class AuthSession(UUIDPrimaryKey, CreatedAt, Base):
    __tablename__ = "auth_sessions"
    __table_args__ = (Index("ix_auth_sessions_user_id", "user_id"),)

    user_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("users.id"), nullable=False
    )
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    ip: Mapped[str | None] = mapped_column(String(64), nullable=True)
    user_agent: Mapped[str | None] = mapped_column(String(400), nullable=True)
    # Updated at most once a minute by the request that finds it older.
    last_seen_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), nullable=False, server_default=func.now()
    )
    # Signed in with a second factor; or restricted to enrolling one (the grace period of a role
    # that requires two factors is over).
    mfa: Mapped[bool] = mapped_column(Boolean, nullable=False, server_default=text("false"))
    restricted: Mapped[bool] = mapped_column(Boolean, nullable=False, server_default=text("false"))
    # Signed in through an identity provider: which, and what it said of the authentication
    # (OpenID Connect amr/acr; a directory: ["pwd"]).
    provider_id: Mapped[uuid.UUID | None] = mapped_column(
        UUID(as_uuid=True), ForeignKey("identity_providers.id"), nullable=True
    )
    amr: Mapped[list[str] | None] = mapped_column(JSONB, nullable=True)
    acr: Mapped[str | None] = mapped_column(String(200), nullable=True)
    # The provider's session id (OpenID Connect ``sid``): a back-channel logout naming it ends
    # this session.
    idp_sid: Mapped[str | None] = mapped_column(String(200), nullable=True)
