"""Single sign-on: identity providers (OpenID Connect, LDAP directories), the identities that tie a
user to one of them, the OpenID Connect sign-ins under way, and the per-role sign-in policy.

A user is found by the identity ``(issuer, subject)`` the provider vouches for, never by e-mail
alone (ASVS 6.8.1). A provider's secret (client secret, bind password) is sealed under the secret
key (app/mail/secretbox.py) and never answered by the API.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB, UUID
from sqlalchemy.orm import Mapped, mapped_column

from app.db.base import Base, CreatedAt, Timestamps, UUIDPrimaryKey

PROVIDER_KINDS = ("oidc", "ldap")


class IdentityProvider(UUIDPrimaryKey, Timestamps, Base):
    __tablename__ = "identity_providers"
    __table_args__ = (
        CheckConstraint("kind IN ('oidc', 'ldap')", name="kind"),
        CheckConstraint("slug ~ '^[a-z0-9][a-z0-9-]{0,39}$'", name="slug"),
        CheckConstraint("sync_minutes >= 5", name="sync_minutes"),
    )

    kind: Mapped[str] = mapped_column(String(10), nullable=False)
    # In the sign-in URLs (/api/auth/sso/<slug>/...): never changes once users signed in with it.
    slug: Mapped[str] = mapped_column(String(40), nullable=False, unique=True)
    name: Mapped[str] = mapped_column(String(100), nullable=False)
    enabled: Mapped[bool] = mapped_column(Boolean, nullable=False, server_default=text("true"))
    # The kind's settings (app/schemas/sso.py: OidcSettings, LdapSettings), without the secret.
    settings: Mapped[dict[str, Any]] = mapped_column(JSONB, nullable=False)
    secret_sealed: Mapped[str | None] = mapped_column(Text, nullable=True)
    # [{"group": ..., "role": ..., "org_id": ...}]: which groups give which role (and, for a
    # customer role, which organization).
    mappings: Mapped[list[dict[str, Any]]] = mapped_column(
        JSONB, nullable=False, server_default=text("'[]'::jsonb")
    )
    # Directories: users are synchronised every sync_minutes by one worker.
    sync_minutes: Mapped[int] = mapped_column(Integer, nullable=False, server_default=text("60"))
    next_sync_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    last_sync_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    last_sync_result: Mapped[dict[str, Any] | None] = mapped_column(JSONB, nullable=True)
    last_error: Mapped[str | None] = mapped_column(String(500), nullable=True)


class UserIdentity(UUIDPrimaryKey, CreatedAt, Base):
    """A user as a provider knows them. ``subject`` NULL: an administrator approved linking this
    user to the provider, done at the user's next sign-in there with the same e-mail address."""

    __tablename__ = "user_identities"
    __table_args__ = (
        UniqueConstraint("issuer", "subject", name="uq_user_identities_issuer_subject"),
        UniqueConstraint("provider_id", "user_id", name="uq_user_identities_provider_user"),
        Index("ix_user_identities_user_id", "user_id"),
    )

    user_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("users.id"), nullable=False
    )
    provider_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("identity_providers.id"), nullable=False
    )
    # OpenID Connect: the ID token's iss; LDAP: "ldap:<provider slug>".
    issuer: Mapped[str] = mapped_column(String(500), nullable=False)
    # OpenID Connect: sub; LDAP: the entry's stable id (entryUUID, objectGUID).
    subject: Mapped[str | None] = mapped_column(String(500), nullable=True)
    groups: Mapped[list[str] | None] = mapped_column(JSONB, nullable=True)
    last_login_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    # Deactivated by the directory sync (gone, disabled, in no mapped group): the sync or the next
    # sign-in reactivates the user when the directory allows them again. A user an administrator
    # deactivated stays deactivated.
    deactivated_by_sync: Mapped[bool] = mapped_column(
        Boolean, nullable=False, server_default=text("false")
    )


class SsoLogin(UUIDPrimaryKey, CreatedAt, Base):
    """An OpenID Connect sign-in between the redirect to the provider and its callback. The
    ``state`` and the browser's binding cookie are stored as SHA-256 only; it works once."""

    __tablename__ = "sso_logins"
    __table_args__ = (Index("ix_sso_logins_expires_at", "expires_at"),)

    state_hash: Mapped[bytes] = mapped_column(LargeBinary(32), nullable=False, unique=True)
    browser_hash: Mapped[bytes] = mapped_column(LargeBinary(32), nullable=False)
    provider_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("identity_providers.id", ondelete="CASCADE"), nullable=False
    )
    nonce: Mapped[str] = mapped_column(String(100), nullable=False)
    code_verifier_sealed: Mapped[str] = mapped_column(Text, nullable=False)
    return_to: Mapped[str] = mapped_column(String(500), nullable=False)
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    used_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


class SigninPolicy(Base):
    """Per role: may its users sign in with a local password (else only through a provider; the
    break-glass administrator excepted), and must a provider's sign-in carry a second factor."""

    __tablename__ = "signin_policy"

    role: Mapped[str] = mapped_column(String(20), primary_key=True)
    password_allowed: Mapped[bool] = mapped_column(
        Boolean, nullable=False, server_default=text("true")
    )
    idp_mfa_required: Mapped[bool] = mapped_column(
        Boolean, nullable=False, server_default=text("false")
    )
