"""Test fixtures: a real PostgreSQL (embedded under var/test, or the server of
ATUM_DATABASE_URL) with a fresh database built by the migrations once per session; every test runs
inside a transaction that is rolled back at the end (requests commit to savepoints)."""

from __future__ import annotations

import os
import secrets
import sys
import uuid
from collections.abc import AsyncIterator, Iterator
from http.cookiejar import CookieJar, DefaultCookiePolicy
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
# One database per test run, so parallel runs (and a developer's make run) never collide.
TEST_DB = f"atum_test_{os.getpid()}"


def _server_url() -> str:
    """postgresql:// URL of the server's maintenance database."""
    from sqlalchemy.engine import make_url

    from app.db.embedded import embedded_server_uri

    explicit = os.environ.get("ATUM_TEST_SERVER_URL") or os.environ.get("ATUM_DATABASE_URL")
    if explicit:
        return make_url(explicit).set(database="postgres").render_as_string(hide_password=False)
    return embedded_server_uri(REPO / "var" / "test", database="postgres")


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _recreate(server_url: str, name: str) -> str:
    import asyncio

    import asyncpg
    from sqlalchemy.engine import make_url

    url = make_url(server_url)

    async def go() -> None:
        conn = await asyncpg.connect(
            user=url.username,
            password=url.password,
            database="postgres",
            host=url.query.get("host") or url.host,
            port=url.port,
        )
        try:
            for (stale,) in await conn.fetch(
                "SELECT datname FROM pg_database WHERE datname LIKE 'atum\\_test\\_%'"
            ):
                pid = stale.rsplit("_", 1)[-1]
                if pid.isdigit() and not _alive(int(pid)):
                    await conn.execute(f'DROP DATABASE IF EXISTS "{stale}" WITH (FORCE)')
            await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            await conn.execute(f'CREATE DATABASE "{name}"')
        finally:
            await conn.close()

    asyncio.run(go())
    return url.set(database=name).render_as_string(hide_password=False)


_SERVER_URL = _server_url()
TEST_DATABASE_URL = _recreate(_SERVER_URL, TEST_DB)
os.environ["ATUM_DATABASE_URL"] = TEST_DATABASE_URL
os.environ["ATUM_TEST_SERVER_URL"] = _SERVER_URL
os.environ["ATUM_ENV"] = "test"
os.environ.setdefault("ATUM_SECRET_KEY", secrets.token_urlsafe(48))
os.environ["ATUM_DATA_DIR"] = str(REPO / "var" / "test" / "data")
os.environ.setdefault("ATUM_LOG_LEVEL", "WARNING")
# Mails go out at once in the tests; the coalescing tests set their own window.
os.environ.setdefault("ATUM_MAIL_COALESCE_SECONDS", "0")
os.environ.setdefault("ATUM_MAIL_DOMAIN", "desk.test")

from app.db import migrations  # noqa: E402

migrations.upgrade()

from httpx import ASGITransport, AsyncClient  # noqa: E402
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession  # noqa: E402

from app.db.session import KeepChanges, get_engine, get_session  # noqa: E402
from app.main import create_app  # noqa: E402
from tests.factories import Actor  # noqa: E402


@pytest.fixture(scope="session")
def server_url() -> str:
    return _SERVER_URL


@pytest.fixture(scope="session")
def database_url() -> str:
    return TEST_DATABASE_URL


@pytest.fixture(scope="session")
def app() -> object:
    return create_app()


@pytest.fixture
async def connection() -> AsyncIterator[AsyncConnection]:
    async with get_engine().connect() as conn:
        transaction = await conn.begin()
        try:
            yield conn
        finally:
            await transaction.rollback()


@pytest.fixture
async def db(connection: AsyncConnection) -> AsyncIterator[AsyncSession]:
    session = AsyncSession(
        bind=connection, join_transaction_mode="create_savepoint", expire_on_commit=False
    )
    try:
        yield session
    finally:
        await session.close()


@pytest.fixture
async def client(app: object, db: AsyncSession) -> AsyncIterator[AsyncClient]:
    async def test_session() -> AsyncIterator[AsyncSession]:
        # Each request in its own savepoint: a failed request rolls back its own work only,
        # never the test's setup data.
        request_tx = await db.begin_nested()
        try:
            yield db
        except KeepChanges:
            await request_tx.commit()
            raise
        except BaseException:
            await request_tx.rollback()
            raise
        else:
            await request_tx.commit()

    app.dependency_overrides[get_session] = test_session  # type: ignore[attr-defined]
    transport = ASGITransport(app=app)  # type: ignore[arg-type]
    # API-client semantics: no cookie jar (browser sessions are tested with their own client),
    # so a login never silently authenticates a later "anonymous" request.
    no_cookies = CookieJar(policy=DefaultCookiePolicy(allowed_domains=[]))
    async with AsyncClient(
        transport=transport, base_url="http://testserver", cookies=no_cookies
    ) as c:
        yield c
    app.dependency_overrides.clear()  # type: ignore[attr-defined]


@pytest.fixture
def python() -> str:
    return sys.executable


@pytest.fixture
def unique() -> Iterator[str]:
    yield uuid.uuid4().hex[:10]


__all__ = ["Actor"]
