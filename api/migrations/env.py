"""Alembic environment: runs migrations on the app's async engine (embedded or configured)."""

from __future__ import annotations

import asyncio
from logging.config import fileConfig

from alembic import context
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import create_async_engine

import app.models  # noqa: F401  (registers every table)
from app.db.base import Base
from app.db.session import resolve_database_url

config = context.config
if config.config_file_name is not None and config.attributes.get("configure_logger", True):
    fileConfig(config.config_file_name, disable_existing_loggers=False)

target_metadata = Base.metadata


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        compare_type=True,
        transaction_per_migration=True,
    )
    with context.begin_transaction():
        context.run_migrations()
    _tune_tables(connection)


def _tune_tables(connection: Connection) -> None:
    """The hot tables' autovacuum settings (app/pgconf.py), kept current by every migrate rather
    than by a migration per change; a table already right is not touched."""
    from sqlalchemy import text

    from app.pgconf import TABLE_SETTINGS, table_changes

    rows = connection.execute(
        text(
            "SELECT relname, reloptions FROM pg_class WHERE relkind = 'r' "
            "AND relnamespace = current_schema()::regnamespace AND relname = ANY(:names)"
        ),
        {"names": list(TABLE_SETTINGS)},
    )
    for statement in table_changes({row.relname: row.reloptions for row in rows}):
        connection.execute(text(statement))
    connection.commit()


async def _run_async() -> None:
    url = config.attributes.get("database_url") or resolve_database_url()
    engine = create_async_engine(url)
    try:
        async with engine.connect() as connection:
            await connection.run_sync(_run)
            await connection.commit()
    finally:
        await engine.dispose()


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
    else:
        asyncio.run(_run_async())


if context.is_offline_mode():
    raise SystemExit("offline (SQL script) migrations are not supported; run `atum-desk migrate`")
run_migrations_online()
