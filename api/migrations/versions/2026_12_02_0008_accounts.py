"""Accounts: invitations, password resets, e-mail changes and half-logins (one table of single-use
hashed tokens), two-factor sign-in (TOTP, WebAuthn keys, recovery codes, the per-role policy),
session details (device, last seen) and the profile's language.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-02 09:10:00+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


_PURPOSES = "'invitation', 'password_reset', 'email_change', 'mfa_login', 'webauthn_register'"
_TIMESTAMP = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.add_column(
        "users", sa.Column("language", sa.String(10), server_default="en", nullable=False)
    )
    op.add_column("users", sa.Column("totp_secret", sa.String(255), nullable=True))
    op.add_column("users", sa.Column("totp_pending_secret", sa.String(255), nullable=True))
    op.add_column(
        "users", sa.Column("totp_last_step", sa.BigInteger(), server_default="0", nullable=False)
    )
    op.add_column(
        "users", sa.Column("mfa_enabled", sa.Boolean(), server_default="false", nullable=False)
    )
    op.add_column("users", sa.Column("mfa_grace_started_at", _TIMESTAMP, nullable=True))
    op.add_column("users", sa.Column("password_changed_at", _TIMESTAMP, nullable=True))

    op.add_column("auth_sessions", sa.Column("user_agent", sa.String(400), nullable=True))
    op.add_column(
        "auth_sessions",
        sa.Column("last_seen_at", _TIMESTAMP, server_default=sa.text("now()"), nullable=False),
    )
    op.add_column(
        "auth_sessions", sa.Column("mfa", sa.Boolean(), server_default="false", nullable=False)
    )
    op.add_column(
        "auth_sessions",
        sa.Column("restricted", sa.Boolean(), server_default="false", nullable=False),
    )

    op.add_column("notification_outbox", sa.Column("sealed_link", sa.Text(), nullable=True))

    op.create_table(
        "account_tokens",
        sa.Column("id", sa.UUID(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column("user_id", sa.UUID(), nullable=False),
        sa.Column("purpose", sa.String(20), nullable=False),
        sa.Column("token_hash", sa.LargeBinary(32), nullable=False),
        sa.Column("expires_at", _TIMESTAMP, nullable=False),
        sa.Column("used_at", _TIMESTAMP, nullable=True),
        sa.Column("new_email", sa.String(254), nullable=True),
        sa.Column("data", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.Column("attempts", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("created_at", _TIMESTAMP, server_default=sa.text("now()"), nullable=False),
        sa.CheckConstraint(f"purpose IN ({_PURPOSES})", name=op.f("ck_account_tokens_purpose")),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_account_tokens_user_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_account_tokens")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_account_tokens_token_hash")),
    )
    op.create_index(
        "ix_account_tokens_live",
        "account_tokens",
        ["user_id", "purpose"],
        postgresql_where=sa.text("used_at IS NULL"),
    )
    op.create_index("ix_account_tokens_expires_at", "account_tokens", ["expires_at"])

    op.create_table(
        "mfa_recovery_codes",
        sa.Column("id", sa.UUID(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column("user_id", sa.UUID(), nullable=False),
        sa.Column("code_hash", sa.String(255), nullable=False),
        sa.Column("used_at", _TIMESTAMP, nullable=True),
        sa.Column("created_at", _TIMESTAMP, server_default=sa.text("now()"), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_mfa_recovery_codes_user_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_mfa_recovery_codes")),
    )
    op.create_index(
        "ix_mfa_recovery_codes_user",
        "mfa_recovery_codes",
        ["user_id"],
        postgresql_where=sa.text("used_at IS NULL"),
    )

    op.create_table(
        "webauthn_credentials",
        sa.Column("id", sa.UUID(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column("user_id", sa.UUID(), nullable=False),
        sa.Column("credential_id", sa.LargeBinary(), nullable=False),
        sa.Column("public_key", sa.LargeBinary(), nullable=False),
        sa.Column("sign_count", sa.BigInteger(), server_default=sa.text("0"), nullable=False),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("transports", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.Column("last_used_at", _TIMESTAMP, nullable=True),
        sa.Column("created_at", _TIMESTAMP, server_default=sa.text("now()"), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_webauthn_credentials_user_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_webauthn_credentials")),
        sa.UniqueConstraint("credential_id", name=op.f("uq_webauthn_credentials_credential_id")),
    )
    op.create_index("ix_webauthn_credentials_user", "webauthn_credentials", ["user_id"])

    policy = op.create_table(
        "mfa_policy",
        sa.Column("role", sa.String(20), nullable=False),
        sa.Column("required", sa.Boolean(), nullable=False),
        sa.Column("grace_hours", sa.Integer(), nullable=False),
        sa.CheckConstraint("grace_hours >= 0", name=op.f("ck_mfa_policy_grace_hours")),
        sa.PrimaryKeyConstraint("role", name=op.f("pk_mfa_policy")),
    )
    # Two factors are required of admins and managers (ASVS 6.3.3), after a grace period.
    op.bulk_insert(
        policy,
        [
            {"role": role, "required": role in ("admin", "manager"), "grace_hours": 72}
            for role in ("admin", "manager", "agent", "customer_admin", "customer_user")
        ],
    )


def downgrade() -> None:
    op.drop_table("mfa_policy")
    op.drop_table("webauthn_credentials")
    op.drop_table("mfa_recovery_codes")
    op.drop_table("account_tokens")
    op.drop_column("notification_outbox", "sealed_link")
    for column in ("restricted", "mfa", "last_seen_at", "user_agent"):
        op.drop_column("auth_sessions", column)
    for column in (
        "password_changed_at",
        "mfa_grace_started_at",
        "mfa_enabled",
        "totp_last_step",
        "totp_pending_secret",
        "totp_secret",
        "language",
    ):
        op.drop_column("users", column)
