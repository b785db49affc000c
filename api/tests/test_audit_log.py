"""audit_log is append-only in the database itself: a trigger refuses changes for every role (the
superuser included) and the production app role only holds INSERT and SELECT on it."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import asyncpg
import pytest
from sqlalchemy.engine import make_url

from app.db.roles import grant_statements


async def connect(url: str) -> asyncpg.Connection:
    parsed = make_url(url)
    return await asyncpg.connect(
        user=parsed.username,
        password=parsed.password,
        database=parsed.database,
        host=parsed.query.get("host") or parsed.host,
        port=parsed.port,
    )


@pytest.fixture
async def raw(database_url: str) -> AsyncIterator[asyncpg.Connection]:
    """A superuser connection inside a transaction that is rolled back (roles included)."""
    conn = await connect(database_url)
    transaction = conn.transaction()
    await transaction.start()
    try:
        yield conn
    finally:
        await transaction.rollback()
        await conn.close()


async def insert_entry(conn: asyncpg.Connection, action: str) -> uuid.UUID:
    # chain/prev_hash/hash are required; these rows are no valid chain links (tests/
    # test_audit_chain.py covers those), and every test here rolls its transaction back.
    entry_id: uuid.UUID = await conn.fetchval(
        "INSERT INTO audit_log (action, entity_type, new_value, chain, prev_hash, hash) "
        "VALUES ($1, 'test', '{\"k\": 1}'::jsonb, 0, $2, $2) RETURNING id",
        action,
        bytes(32),
    )
    return entry_id


async def refused(conn: asyncpg.Connection, statement: str, *args: object) -> str:
    """Run *statement* in a savepoint and return the error message it was refused with."""
    with pytest.raises(asyncpg.PostgresError) as caught:
        async with conn.transaction():
            await conn.execute(statement, *args)
    return str(caught.value)


class TestTriggerRefusesChanges:
    async def test_update_delete_and_truncate_are_refused_even_for_the_superuser(
        self, raw: asyncpg.Connection
    ) -> None:
        assert await raw.fetchval("SELECT rolsuper FROM pg_roles WHERE rolname = current_user")
        action = f"test.{uuid.uuid4().hex[:12]}"
        entry_id = await insert_entry(raw, action)
        before = await raw.fetchrow("SELECT * FROM audit_log WHERE id = $1", entry_id)

        statements = [
            ("UPDATE audit_log SET action = 'tampered' WHERE id = $1", (entry_id,)),
            ("DELETE FROM audit_log WHERE id = $1", (entry_id,)),
            ("TRUNCATE audit_log", ()),
            ("TRUNCATE audit_log CASCADE", ()),
        ]
        for statement, args in statements:
            message = await refused(raw, statement, *args)
            assert "append-only" in message, (statement, message)

        after = await raw.fetchrow("SELECT * FROM audit_log WHERE id = $1", entry_id)
        assert after == before
        assert after is not None and after["action"] == action

    async def test_refusal_is_insufficient_privilege(self, raw: asyncpg.Connection) -> None:
        entry_id = await insert_entry(raw, "test.sqlstate")
        with pytest.raises(asyncpg.InsufficientPrivilegeError, match="append-only"):
            async with raw.transaction():
                await raw.execute("DELETE FROM audit_log WHERE id = $1", entry_id)


class TestAppRole:
    @pytest.fixture
    async def as_app_role(self, raw: asyncpg.Connection) -> asyncpg.Connection:
        role = f"atum_app_test_{uuid.uuid4().hex[:12]}"
        await raw.execute(f'CREATE ROLE "{role}" NOLOGIN')
        for statement in grant_statements(role):
            await raw.execute(statement)
        await raw.execute(f'SET LOCAL ROLE "{role}"')
        assert await raw.fetchval("SELECT current_user") == role
        return raw

    async def test_insert_and_select_are_allowed(self, as_app_role: asyncpg.Connection) -> None:
        action = f"test.{uuid.uuid4().hex[:12]}"
        entry_id = await insert_entry(as_app_role, action)
        row = await as_app_role.fetchrow(
            "SELECT action, seq FROM audit_log WHERE id = $1", entry_id
        )
        assert row is not None and row["action"] == action and row["seq"] > 0

    async def test_update_delete_truncate_are_permission_denied(
        self, as_app_role: asyncpg.Connection
    ) -> None:
        entry_id = await insert_entry(as_app_role, "test.app-role")
        for statement, args in [
            ("UPDATE audit_log SET action = 'tampered' WHERE id = $1", (entry_id,)),
            ("DELETE FROM audit_log WHERE id = $1", (entry_id,)),
            ("TRUNCATE audit_log", ()),
        ]:
            with pytest.raises(asyncpg.InsufficientPrivilegeError) as caught:
                async with as_app_role.transaction():
                    await as_app_role.execute(statement, *args)
            assert "permission denied" in str(caught.value), statement
        assert (
            await as_app_role.fetchval("SELECT action FROM audit_log WHERE id = $1", entry_id)
            == "test.app-role"
        )

    async def test_chain_heads_can_be_moved_but_not_added_or_removed(
        self, as_app_role: asyncpg.Connection
    ) -> None:
        for statement in (
            "INSERT INTO audit_chain_heads (chain, seq, hash) VALUES (999, 0, '\\x00')",
            "DELETE FROM audit_chain_heads WHERE chain = 0",
            "TRUNCATE audit_chain_heads",
        ):
            with pytest.raises(asyncpg.InsufficientPrivilegeError) as caught:
                async with as_app_role.transaction():
                    await as_app_role.execute(statement)
            assert "permission denied" in str(caught.value), statement
        moved = await as_app_role.execute("UPDATE audit_chain_heads SET seq = seq WHERE chain = 0")
        assert moved == "UPDATE 1"

    async def test_other_tables_accept_full_dml(self, as_app_role: asyncpg.Connection) -> None:
        name = f"Role test {uuid.uuid4().hex[:12]}"
        org_id = await as_app_role.fetchval(
            "INSERT INTO organizations (name) VALUES ($1) RETURNING id", name
        )
        updated = await as_app_role.execute(
            "UPDATE organizations SET status = 'suspended' WHERE id = $1", org_id
        )
        assert updated == "UPDATE 1"
        ticket_number = await as_app_role.fetchval("SELECT nextval('ticket_number_seq')")
        assert ticket_number >= 1000
        assert await as_app_role.execute("DELETE FROM organizations WHERE id = $1", org_id) == (
            "DELETE 1"
        )

    def test_role_names_are_validated(self) -> None:
        with pytest.raises(ValueError):
            grant_statements('app"; DROP TABLE users; --')
