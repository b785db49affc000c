"""Announce every change that ends a session or changes who its caller is (``pg_notify`` on the
``atum_auth`` channel), so each API process drops its cached authentication of that session,
user or organization (app/auth/session_cache.py). Triggers, so that no write path can forget it:
a session revoked, expired early or (un)restricted; a user deactivated, deleted or changed in
role, organization, name, address, language or password; an organization suspended, deleted or
changed in name or portal visibility (a DELETE on any of them: everything). The notification is
delivered when the transaction commits.

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-03 08:00:00.000000+00:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0017"
down_revision: str | None = "0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# (table, payload prefix, the columns the cached authentication reads)
_WATCHED = (
    ("auth_sessions", "s", ("user_id", "expires_at", "revoked_at", "restricted")),
    (
        "users",
        "u",
        ("org_id", "email", "name", "role", "password_hash", "is_active", "language"),
    ),
    ("organizations", "o", ("name", "status", "portal_visibility")),
)


def upgrade() -> None:
    op.execute(
        """
        CREATE FUNCTION auth_changed() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            IF TG_LEVEL = 'ROW' THEN
                PERFORM pg_notify('atum_auth', TG_ARGV[0] || ':' || OLD.id::text);
            ELSE
                -- Rows deleted (no path of the application does): every process starts afresh.
                PERFORM pg_notify('atum_auth', '*');
            END IF;
            RETURN NULL;
        END
        $$
        """
    )
    for table, prefix, columns in _WATCHED:
        old = ", ".join(f"OLD.{c}" for c in columns)
        new = ", ".join(f"NEW.{c}" for c in columns)
        op.execute(
            f"CREATE TRIGGER {table}_auth_changed AFTER UPDATE ON {table} FOR EACH ROW "
            f"WHEN (({old}) IS DISTINCT FROM ({new})) "
            f"EXECUTE FUNCTION auth_changed('{prefix}')"
        )
        op.execute(
            f"CREATE TRIGGER {table}_auth_deleted AFTER DELETE ON {table} FOR EACH STATEMENT "
            f"EXECUTE FUNCTION auth_changed('{prefix}')"
        )


def downgrade() -> None:
    for table, _, _ in _WATCHED:
        op.execute(f"DROP TRIGGER {table}_auth_deleted ON {table}")
        op.execute(f"DROP TRIGGER {table}_auth_changed ON {table}")
    op.execute("DROP FUNCTION auth_changed()")
