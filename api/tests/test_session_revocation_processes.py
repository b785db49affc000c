"""Each API process caches who a session is (app/auth/session_cache.py); whatever ends a session
or changes its caller on one process holds on every other one within a second. Two real uvicorn
servers on the test database: the change is made through process A, the next requests go to
process B, which had the session cached (its access log shows requests authenticated without a
statement)."""

from __future__ import annotations

import asyncio
import json
import os
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import jwt
import pytest
from sqlalchemy import insert, update
from sqlalchemy.ext.asyncio import create_async_engine

from app.auth.passwords import hash_password
from app.db.embedded import to_async_url
from app.models import AuthSession, Organization, User
from app.models.enums import Role
from tests.test_ratelimit_processes import (
    CLIENT_IP,
    PASSWORD,
    Server,
    start_server,
    stop_server,
    wait_until_healthy,
)

DEADLINE_SECONDS = 1.0


@pytest.fixture
def servers(tmp_path: Path) -> Iterator[list[Server]]:
    started: list[Server] = []
    saved = os.environ.get("ATUM_LOG_LEVEL")
    # B's access log (JSON, INFO) shows how many statements each request ran.
    os.environ["ATUM_LOG_LEVEL"] = "INFO"
    try:
        for name in ("a", "b"):
            started.append(start_server(tmp_path / f"api-{name}.log"))
        yield started
    finally:
        if saved is None:
            os.environ.pop("ATUM_LOG_LEVEL", None)
        else:
            os.environ["ATUM_LOG_LEVEL"] = saved
        for server in started:
            stop_server(server)


@pytest.fixture
async def http() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(timeout=10, headers={"X-Real-IP": CLIENT_IP}) as c:
        yield c


class People:
    def __init__(self, database_url: str) -> None:
        self.engine = create_async_engine(to_async_url(database_url))
        self.password_hash = hash_password(PASSWORD)

    async def org(self) -> uuid.UUID:
        org_id = uuid.uuid4()
        async with self.engine.begin() as conn:
            await conn.execute(
                insert(Organization).values(id=org_id, name=f"Revocation {org_id.hex[:12]}")
            )
        return org_id

    async def user(self, role: Role, org_id: uuid.UUID | None = None) -> tuple[uuid.UUID, str]:
        user_id = uuid.uuid4()
        email = f"revoke-{user_id.hex}@example.test"
        async with self.engine.begin() as conn:
            await conn.execute(
                insert(User).values(
                    id=user_id,
                    email=email,
                    name="Revocation Test",
                    role=role.value,
                    org_id=org_id,
                    password_hash=self.password_hash,
                )
            )
        return user_id, email

    async def restrict(self, session_id: uuid.UUID) -> None:
        async with self.engine.begin() as conn:
            await conn.execute(
                update(AuthSession).where(AuthSession.id == session_id).values(restricted=True)
            )


@pytest.fixture
async def people(database_url: str) -> AsyncIterator[People]:
    p = People(database_url)
    try:
        yield p
    finally:
        await p.engine.dispose()


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def login(http: httpx.AsyncClient, server: Server, email: str) -> str:
    r = await http.post(f"{server.url}/api/auth/login", json={"email": email, "password": PASSWORD})
    assert r.status_code == 200, r.text
    return str(r.json()["access_token"])


def _statements(server: Server, request_id: str) -> int | None:
    for line in server.log.read_text().splitlines():
        if request_id in line and line.startswith("{"):
            entry = json.loads(line)
            if entry.get("event") == "request" and entry.get("request_id") == request_id:
                return int(entry["db_statements"])
    return None


async def cached_on(http: httpx.AsyncClient, server: Server, token: str) -> dict[str, object]:
    """/api/me on *server* until a request is answered from its session cache (no statement:
    the listener connects shortly after start-up)."""
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        request_id = f"revocation-{uuid.uuid4().hex}"
        r = await http.get(
            f"{server.url}/api/me", headers={**bearer(token), "X-Request-ID": request_id}
        )
        assert r.status_code == 200, r.text
        for _ in range(20):
            found = _statements(server, request_id)
            if found is not None:
                break
            await asyncio.sleep(0.05)
        if found == 0:
            return dict(r.json())
        await asyncio.sleep(0.1)
    pytest.fail(f"process B never answered from its session cache:\n{server.log.read_text()}")


async def refused_within_deadline(http: httpx.AsyncClient, server: Server, token: str) -> None:
    started = time.monotonic()
    while True:
        r = await http.get(f"{server.url}/api/me", headers=bearer(token))
        if r.status_code == 401:
            return
        assert r.status_code == 200, r.text
        if time.monotonic() - started > DEADLINE_SECONDS:
            pytest.fail(f"still accepted {DEADLINE_SECONDS}s after the change on the other process")
        await asyncio.sleep(0.02)


async def seen_within_deadline(
    http: httpx.AsyncClient, server: Server, token: str, field: str, value: object
) -> None:
    started = time.monotonic()
    while True:
        r = await http.get(f"{server.url}/api/me", headers=bearer(token))
        assert r.status_code == 200, r.text
        if r.json()[field] == value:
            return
        if time.monotonic() - started > DEADLINE_SECONDS:
            pytest.fail(f"{field} still {r.json()[field]!r} after {DEADLINE_SECONDS}s")
        await asyncio.sleep(0.02)


async def test_a_change_on_one_process_holds_on_the_other_within_a_second(
    servers: list[Server], http: httpx.AsyncClient, people: People
) -> None:
    a, b = servers
    org_id = await people.org()
    _, admin_email = await people.user(Role.ADMIN)
    agent_id, agent_email = await people.user(Role.AGENT)
    _, customer_email = await people.user(Role.CUSTOMER_ADMIN, org_id)
    for server in servers:
        await wait_until_healthy(http, server)
    admin = await login(http, a, admin_email)

    # Logout on A.
    token = await login(http, a, agent_email)
    await cached_on(http, b, token)
    assert (await http.post(f"{a.url}/api/auth/logout", headers=bearer(token))).status_code == 204
    await refused_within_deadline(http, b, token)

    # Password change on A: every other session of the user ends.
    changing, other = await login(http, a, agent_email), await login(http, a, agent_email)
    await cached_on(http, b, other)
    r = await http.post(
        f"{a.url}/api/me/password",
        headers=bearer(changing),
        json={"current_password": PASSWORD, "new_password": PASSWORD + " again"},
    )
    assert r.status_code == 204, r.text
    await refused_within_deadline(http, b, other)
    await refused_within_deadline(http, b, other)
    r = await http.post(
        f"{a.url}/api/me/password",
        headers=bearer(changing),
        json={"current_password": PASSWORD + " again", "new_password": PASSWORD},
    )
    assert r.status_code == 204, r.text

    # One session ended by its owner from another one, and every session by an administrator.
    current, ended = await login(http, a, agent_email), await login(http, a, agent_email)
    await cached_on(http, b, ended)
    r = await http.post(f"{a.url}/api/me/sessions/revoke-others", headers=bearer(current))
    assert r.status_code == 204, r.text
    await refused_within_deadline(http, b, ended)
    await cached_on(http, b, current)
    r = await http.delete(f"{a.url}/api/users/{agent_id}/sessions", headers=bearer(admin))
    assert r.status_code == 204, r.text
    await refused_within_deadline(http, b, current)

    # A role change is seen at once, a deactivation refuses the session.
    token = await login(http, a, agent_email)
    assert (await cached_on(http, b, token))["role"] == Role.AGENT.value
    r = await http.patch(
        f"{a.url}/api/users/{agent_id}", headers=bearer(admin), json={"role": "manager"}
    )
    assert r.status_code == 200, r.text
    await seen_within_deadline(http, b, token, "role", Role.MANAGER.value)
    r = await http.patch(
        f"{a.url}/api/users/{agent_id}", headers=bearer(admin), json={"is_active": False}
    )
    assert r.status_code == 200, r.text
    await refused_within_deadline(http, b, token)

    # The caller's language and the organization's portal visibility are seen at once, a session
    # restricted to enrolling a second factor is restricted, the organization's suspension
    # refuses its people.
    customer = await login(http, a, customer_email)
    assert (await cached_on(http, b, customer))["portal_visibility"] == "organization"
    r = await http.patch(f"{a.url}/api/me", headers=bearer(customer), json={"language": "de"})
    assert r.status_code == 200, r.text
    await seen_within_deadline(http, b, customer, "language", "de")
    r = await http.patch(
        f"{a.url}/api/orgs/{org_id}", headers=bearer(admin), json={"portal_visibility": "own"}
    )
    assert r.status_code == 200, r.text
    await seen_within_deadline(http, b, customer, "portal_visibility", "own")
    session_id = jwt.decode(customer, options={"verify_signature": False})["sid"]
    assert (await http.get(f"{b.url}/api/tickets", headers=bearer(customer))).status_code == 200
    await people.restrict(uuid.UUID(session_id))
    started = time.monotonic()
    while (await http.get(f"{b.url}/api/tickets", headers=bearer(customer))).status_code != 403:
        assert time.monotonic() - started <= DEADLINE_SECONDS, "restriction not seen in time"
        await asyncio.sleep(0.02)
    r = await http.patch(
        f"{a.url}/api/orgs/{org_id}", headers=bearer(admin), json={"status": "suspended"}
    )
    assert r.status_code == 200, r.text
    await refused_within_deadline(http, b, customer)
