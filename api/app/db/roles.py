"""Privileges of the application's database role in a production install.

The schema is owned by a separate owner role (which runs migrations); the app role gets plain DML
on every table except ``audit_log``, where it may only INSERT and SELECT, and
``audit_chain_heads``, whose fixed rows it may only read and move (SELECT, UPDATE).
"""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection


def grant_statements(role: str) -> list[str]:
    if not role.replace("_", "").replace("-", "").isalnum():
        raise ValueError("role names may contain letters, digits, '_' and '-' only")
    quoted = f'"{role}"'
    return [
        f"GRANT USAGE ON SCHEMA public TO {quoted}",
        f"GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {quoted}",
        f"REVOKE UPDATE, DELETE, TRUNCATE ON audit_log FROM {quoted}",
        f"REVOKE INSERT, DELETE, TRUNCATE ON audit_chain_heads FROM {quoted}",
        f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO {quoted}",
    ]


async def grant_app_role(conn: AsyncConnection, role: str) -> None:
    for statement in grant_statements(role):
        await conn.execute(text(statement))
