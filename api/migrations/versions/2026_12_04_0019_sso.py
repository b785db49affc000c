"""Single sign-on: identity providers (OpenID Connect, LDAP), users' identities at them, the
OpenID Connect sign-ins under way, the per-role sign-in policy, the break-glass administrator,
what a session's provider said of the authentication, and the half-login that links a local
account after its password is proven.

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-04 20:00:00.000000+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0019"
down_revision: str | None = "0018"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_OLD = ("invitation", "password_reset", "email_change", "mfa_login", "webauthn_register")
_NEW = (*_OLD, "sso_link")


def _purposes(values: tuple[str, ...]) -> str:
    return "purpose IN (" + ", ".join(f"'{p}'" for p in values) + ")"


def upgrade() -> None:
    op.create_table(
        "identity_providers",
        sa.Column("id", sa.UUID(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column("kind", sa.String(10), nullable=False),
        sa.Column("slug", sa.String(40), nullable=False),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("enabled", sa.Boolean(), server_default=sa.text("true"), nullable=False),
        sa.Column("settings", postgresql.JSONB(), nullable=False),
        sa.Column("secret_sealed", sa.Text(), nullable=True),
        sa.Column(
            "mappings", postgresql.JSONB(), server_default=sa.text("'[]'::jsonb"), nullable=False
        ),
        sa.Column("sync_minutes", sa.Integer(), server_default=sa.text("60"), nullable=False),
        sa.Column("next_sync_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_sync_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_sync_result", postgresql.JSONB(), nullable=True),
        sa.Column("last_error", sa.String(500), nullable=True),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.Column(
            "updated_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.CheckConstraint("kind IN ('oidc', 'ldap')", name=op.f("ck_identity_providers_kind")),
        sa.CheckConstraint(
            "slug ~ '^[a-z0-9][a-z0-9-]{0,39}$'", name=op.f("ck_identity_providers_slug")
        ),
        sa.CheckConstraint("sync_minutes >= 5", name=op.f("ck_identity_providers_sync_minutes")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_identity_providers")),
        sa.UniqueConstraint("slug", name=op.f("uq_identity_providers_slug")),
    )
    op.create_table(
        "user_identities",
        sa.Column("id", sa.UUID(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column("user_id", sa.UUID(), nullable=False),
        sa.Column("provider_id", sa.UUID(), nullable=False),
        sa.Column("issuer", sa.String(500), nullable=False),
        sa.Column("subject", sa.String(500), nullable=True),
        sa.Column("groups", postgresql.JSONB(), nullable=True),
        sa.Column("last_login_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column(
            "deactivated_by_sync", sa.Boolean(), server_default=sa.text("false"), nullable=False
        ),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_user_identities_user_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["provider_id"],
            ["identity_providers.id"],
            name=op.f("fk_user_identities_provider_id_identity_providers"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_user_identities")),
        sa.UniqueConstraint("issuer", "subject", name="uq_user_identities_issuer_subject"),
        sa.UniqueConstraint("provider_id", "user_id", name="uq_user_identities_provider_user"),
    )
    op.create_index("ix_user_identities_user_id", "user_identities", ["user_id"])
    op.create_table(
        "sso_logins",
        sa.Column("id", sa.UUID(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column("state_hash", sa.LargeBinary(32), nullable=False),
        sa.Column("browser_hash", sa.LargeBinary(32), nullable=False),
        sa.Column("provider_id", sa.UUID(), nullable=False),
        sa.Column("nonce", sa.String(100), nullable=False),
        sa.Column("code_verifier_sealed", sa.Text(), nullable=False),
        sa.Column("return_to", sa.String(500), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.ForeignKeyConstraint(
            ["provider_id"],
            ["identity_providers.id"],
            name=op.f("fk_sso_logins_provider_id_identity_providers"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sso_logins")),
        sa.UniqueConstraint("state_hash", name=op.f("uq_sso_logins_state_hash")),
    )
    op.create_index("ix_sso_logins_expires_at", "sso_logins", ["expires_at"])
    op.create_table(
        "signin_policy",
        sa.Column("role", sa.String(20), nullable=False),
        sa.Column("password_allowed", sa.Boolean(), server_default=sa.text("true"), nullable=False),
        sa.Column(
            "idp_mfa_required", sa.Boolean(), server_default=sa.text("false"), nullable=False
        ),
        sa.PrimaryKeyConstraint("role", name=op.f("pk_signin_policy")),
    )
    op.add_column(
        "users",
        sa.Column("break_glass", sa.Boolean(), server_default=sa.text("false"), nullable=False),
    )
    op.create_index(
        "uq_users_break_glass",
        "users",
        ["break_glass"],
        unique=True,
        postgresql_where=sa.text("break_glass"),
    )
    op.create_check_constraint(
        op.f("ck_users_break_glass_admin"), "users", "NOT break_glass OR role = 'admin'"
    )
    op.add_column("auth_sessions", sa.Column("provider_id", sa.UUID(), nullable=True))
    op.create_foreign_key(
        op.f("fk_auth_sessions_provider_id_identity_providers"),
        "auth_sessions",
        "identity_providers",
        ["provider_id"],
        ["id"],
    )
    op.add_column("auth_sessions", sa.Column("amr", postgresql.JSONB(), nullable=True))
    op.add_column("auth_sessions", sa.Column("acr", sa.String(200), nullable=True))
    op.add_column("auth_sessions", sa.Column("idp_sid", sa.String(200), nullable=True))
    op.drop_constraint(op.f("ck_account_tokens_purpose"), "account_tokens")
    op.create_check_constraint(op.f("ck_account_tokens_purpose"), "account_tokens", _purposes(_NEW))


def downgrade() -> None:
    op.execute("DELETE FROM account_tokens WHERE purpose = 'sso_link'")
    op.drop_constraint(op.f("ck_account_tokens_purpose"), "account_tokens")
    op.create_check_constraint(op.f("ck_account_tokens_purpose"), "account_tokens", _purposes(_OLD))
    op.drop_column("auth_sessions", "idp_sid")
    op.drop_column("auth_sessions", "acr")
    op.drop_column("auth_sessions", "amr")
    op.drop_constraint(
        op.f("fk_auth_sessions_provider_id_identity_providers"), "auth_sessions", type_="foreignkey"
    )
    op.drop_column("auth_sessions", "provider_id")
    op.drop_constraint(op.f("ck_users_break_glass_admin"), "users")
    op.drop_index("uq_users_break_glass", table_name="users")
    op.drop_column("users", "break_glass")
    op.drop_table("signin_policy")
    op.drop_index("ix_sso_logins_expires_at", table_name="sso_logins")
    op.drop_table("sso_logins")
    op.drop_index("ix_user_identities_user_id", table_name="user_identities")
    op.drop_table("user_identities")
    op.drop_table("identity_providers")
