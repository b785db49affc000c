"""Engine and sessions. One transaction per request: the dependency commits when the endpoint
returns and rolls back when it raises; services only ``flush()``. GET and HEAD requests read
without a transaction around them (autocommit): a transaction would add a BEGIN and a COMMIT
round trip to every read, and the only write a GET makes (the audit entry of a download) is a
single statement."""

from __future__ import annotations

from collections.abc import AsyncIterator
from functools import lru_cache

from fastapi import Request
from sqlalchemy import event
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

from app.config import get_settings
from app.context import statement_count_var
from app.db.embedded import database_url


def resolve_database_url() -> str:
    settings = get_settings()
    return database_url(settings.database_url, settings.data_dir)


def _count_statement(*_: object) -> None:
    counter = statement_count_var.get()
    if counter is not None:
        counter[0] += 1


@lru_cache
def get_engine() -> AsyncEngine:
    settings = get_settings()
    engine = create_async_engine(
        resolve_database_url(),
        # A fixed set of connections per process: overflow connections would be opened and closed
        # around every request under load (a new connection costs a TCP/TLS handshake, a backend
        # fork and the re-preparation of every statement), which halved throughput when measured.
        pool_size=settings.db_pool_size,
        max_overflow=0,
        pool_pre_ping=False,
        pool_timeout=10,
        connect_args={
            # JIT off: PostgreSQL compiles a statement when its estimated cost is high, and the
            # estimate counts branches that never run (the search's collect step is planned in
            # every search and skipped in most): 300-400 ms of compilation on a 10 ms read.
            "server_settings": {"application_name": "atum-desk", "timezone": "UTC", "jit": "off"},
            "command_timeout": 30,
            "timeout": 5,
        },
    )
    event.listen(engine.sync_engine, "before_cursor_execute", _count_statement)
    return engine


@lru_cache
def get_sessionmaker() -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(get_engine(), expire_on_commit=False, autoflush=False)


@lru_cache
def get_read_sessionmaker() -> async_sessionmaker[AsyncSession]:
    """Sessions that run each statement on its own (same pool, autocommit)."""
    engine = get_engine().execution_options(isolation_level="AUTOCOMMIT")
    return async_sessionmaker(engine, expire_on_commit=False, autoflush=False)


_READS = frozenset({"GET", "HEAD"})


class KeepChanges(Exception):
    """Marker base for domain errors whose side effects must be committed even though the request
    fails (a failed login still counts against the rate limit and is audited)."""


async def get_session(request: Request) -> AsyncIterator[AsyncSession]:
    maker = get_read_sessionmaker() if request.method in _READS else get_sessionmaker()
    async with maker() as session:
        try:
            yield session
        except KeepChanges:
            await session.commit()
            raise
        except BaseException:
            await session.rollback()
            raise
        else:
            await session.commit()
