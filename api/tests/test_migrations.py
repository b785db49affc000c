"""The migrations on a database of their own: empty -> head matches the models exactly, seeds the
global SLA defaults and builds the database-level rules; head -> base removes everything."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from typing import Any

import asyncpg
import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.ext.asyncio import create_async_engine

import app.models  # noqa: F401  (registers every table)
from app.db import migrations
from app.db.base import Base
from app.db.embedded import to_async_url

EXPECTED_SLA_DEFAULTS = {
    "P1": (30, 240),
    "P2": (120, 1440),
    "P3": (480, 4320),
    "P4": (1440, 7200),
}


async def connect(url: str) -> asyncpg.Connection:
    parsed = make_url(url)
    return await asyncpg.connect(
        user=parsed.username,
        password=parsed.password,
        database=parsed.database,
        host=parsed.query.get("host") or parsed.host,
        port=parsed.port,
    )


async def create_database(server_url: str) -> str:
    name = f"atum_migrations_{uuid.uuid4().hex[:12]}"
    conn = await connect(server_url)
    try:
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()
    return make_url(server_url).set(database=name).render_as_string(hide_password=False)


async def drop_database(server_url: str, url: str) -> None:
    conn = await connect(server_url)
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{make_url(url).database}" WITH (FORCE)')
    finally:
        await conn.close()


async def upgrade(url: str, revision: str = "head") -> None:
    await asyncio.to_thread(migrations.upgrade, to_async_url(url), revision)


async def downgrade(url: str, revision: str = "base") -> None:
    await asyncio.to_thread(migrations.downgrade, to_async_url(url), revision)


async def schema_differences(url: str) -> list[Any]:
    def compare(sync_conn: Connection) -> list[Any]:
        context = MigrationContext.configure(sync_conn, opts={"compare_type": True})
        return list(compare_metadata(context, Base.metadata))

    engine = create_async_engine(to_async_url(url))
    try:
        async with engine.connect() as conn:
            return await conn.run_sync(compare)
    finally:
        await engine.dispose()


@pytest.fixture(scope="module")
async def migrated(server_url: str) -> AsyncIterator[str]:
    url = await create_database(server_url)
    try:
        await upgrade(url)
        yield url
    finally:
        await drop_database(server_url, url)


@pytest.fixture
async def conn(migrated: str) -> AsyncIterator[asyncpg.Connection]:
    connection = await connect(migrated)
    transaction = connection.transaction()
    await transaction.start()
    try:
        yield connection
    finally:
        await transaction.rollback()
        await connection.close()


async def insert_org(conn: asyncpg.Connection) -> uuid.UUID:
    org_id: uuid.UUID = await conn.fetchval(
        "INSERT INTO organizations (name) VALUES ($1) RETURNING id", f"Org {uuid.uuid4().hex}"
    )
    return org_id


async def insert_user(
    conn: asyncpg.Connection, *, role: str, org_id: uuid.UUID | None
) -> uuid.UUID:
    user_id: uuid.UUID = await conn.fetchval(
        "INSERT INTO users (email, name, role, org_id, password_hash) "
        "VALUES ($1, 'Someone', $2, $3, 'x') RETURNING id",
        f"{uuid.uuid4().hex}@example.test",
        role,
        org_id,
    )
    return user_id


async def insert_ticket(
    conn: asyncpg.Connection, *, org_id: uuid.UUID, created_by: uuid.UUID
) -> asyncpg.Record:
    row: asyncpg.Record = await conn.fetchrow(
        "INSERT INTO tickets (org_id, created_by, priority, title, description) "
        "VALUES ($1, $2, 'P3', 'Printer on fire', 'Smoke everywhere') RETURNING id, number",
        org_id,
        created_by,
    )
    return row


class TestHead:
    async def test_schema_matches_the_models(self, migrated: str) -> None:
        assert await schema_differences(migrated) == []

    async def test_revision_is_head(self, conn: asyncpg.Connection) -> None:
        assert await conn.fetchval("SELECT version_num FROM alembic_version") == (
            migrations.head_revision()
        )

    async def test_global_sla_defaults_are_seeded(self, conn: asyncpg.Connection) -> None:
        rows = await conn.fetch(
            "SELECT priority, first_response_minutes, resolution_minutes, org_id FROM sla_policies"
        )
        assert {r["priority"]: (r[1], r[2]) for r in rows} == EXPECTED_SLA_DEFAULTS
        assert len(rows) == 4
        assert all(r["org_id"] is None for r in rows)

    async def test_ticket_numbers_come_from_a_sequence(self, conn: asyncpg.Connection) -> None:
        org_id = await insert_org(conn)
        author = await insert_user(conn, role="customer_user", org_id=org_id)
        first = await insert_ticket(conn, org_id=org_id, created_by=author)
        second = await insert_ticket(conn, org_id=org_id, created_by=author)
        assert first["number"] >= 1000
        assert second["number"] == first["number"] + 1

    async def test_comment_cannot_sit_in_another_org_than_its_ticket(
        self, conn: asyncpg.Connection
    ) -> None:
        org_id, other_org = await insert_org(conn), await insert_org(conn)
        author = await insert_user(conn, role="customer_user", org_id=org_id)
        ticket = await insert_ticket(conn, org_id=org_id, created_by=author)
        comment = (
            "INSERT INTO ticket_comments (ticket_id, org_id, author_id, body) "
            "VALUES ($1, $2, $3, 'hi')"
        )

        with pytest.raises(asyncpg.ForeignKeyViolationError, match="fk_ticket_comments_ticket_org"):
            async with conn.transaction():
                await conn.execute(comment, ticket["id"], other_org, author)
        assert await conn.execute(comment, ticket["id"], org_id, author) == "INSERT 0 1"

    async def test_users_org_must_match_role(self, conn: asyncpg.Connection) -> None:
        org_id = await insert_org(conn)
        for role, org in [("customer_user", None), ("customer_admin", None), ("agent", org_id)]:
            with pytest.raises(asyncpg.CheckViolationError, match="ck_users_org_matches_role"):
                async with conn.transaction():
                    await insert_user(conn, role=role, org_id=org)
        await insert_user(conn, role="customer_admin", org_id=org_id)
        await insert_user(conn, role="admin", org_id=None)


async def application_objects(url: str) -> dict[str, list[str]]:
    conn = await connect(url)
    try:
        queries = {
            "tables": "SELECT tablename FROM pg_tables WHERE schemaname = 'public'",
            "sequences": "SELECT sequencename FROM pg_sequences WHERE schemaname = 'public'",
            "functions": (
                "SELECT p.proname FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace "
                "WHERE n.nspname = 'public'"
            ),
            "triggers": "SELECT tgname FROM pg_trigger WHERE NOT tgisinternal",
            "types": (
                "SELECT t.typname FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace "
                "WHERE n.nspname = 'public' AND t.typtype IN ('e', 'd')"
            ),
        }
        return {kind: sorted(r[0] for r in await conn.fetch(sql)) for kind, sql in queries.items()}
    finally:
        await conn.close()


async def test_downgrade_to_base_removes_everything_and_upgrade_rebuilds(server_url: str) -> None:
    url = await create_database(server_url)
    try:
        await upgrade(url)
        built = await application_objects(url)
        assert {"audit_log", "tickets", "users"} <= set(built["tables"])
        assert "ticket_number_seq" in built["sequences"]
        assert "audit_log_refuse_change" in built["functions"]

        await downgrade(url, "base")
        left = await application_objects(url)
        assert set(left["tables"]) <= {"alembic_version"}
        assert left == {
            "tables": left["tables"],
            "sequences": [],
            "functions": [],
            "triggers": [],
            "types": [],
        }

        await upgrade(url)
        assert await application_objects(url) == built
        assert await schema_differences(url) == []
    finally:
        await drop_database(server_url, url)
