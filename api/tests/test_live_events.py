"""Live updates over Server-Sent Events (GET /api/events): real streams from a uvicorn
subprocess, fed by the process's LISTEN connection from changes committed in PostgreSQL."""

from __future__ import annotations

import asyncio
import contextlib
import json
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession, create_async_engine

from app.auth.deps import CurrentUser
from app.db.embedded import to_async_url
from app.models import User
from app.models.enums import Role
from app.services import live, tickets
from app.utils.clock import utcnow
from tests.browser_support import PASSWORDS, demo_database, live_server

AGENT = "agent@atum.test"
ACME = "user@acme.test"
GLOBEX = "user@globex.test"


@dataclass
class Server:
    base_url: str
    database_url: str


@pytest.fixture(scope="module")
async def server(
    server_url: str, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[Server]:
    data_dir: Path = tmp_path_factory.mktemp("live-data")
    async with (
        demo_database(server_url) as database_url,
        live_server(database_url, data_dir) as base_url,
    ):
        yield Server(base_url, database_url)


async def token(server: Server, email: str) -> str:
    async with httpx.AsyncClient(base_url=server.base_url, timeout=10) as client:
        r = await client.post(
            "/api/auth/login", json={"email": email, "password": PASSWORDS[email]}
        )
        assert r.status_code == 200, r.text
        return str(r.json()["access_token"])


def api(server: Server, bearer: str) -> httpx.AsyncClient:
    return httpx.AsyncClient(
        base_url=server.base_url, timeout=10, headers={"Authorization": f"Bearer {bearer}"}
    )


@dataclass
class Stream:
    """One open SSE stream, parsed into (event, data, id) as it arrives."""

    events: asyncio.Queue[tuple[str, Any, str | None]] = field(default_factory=asyncio.Queue)
    ended: asyncio.Event = field(default_factory=asyncio.Event)
    headers: httpx.Headers | None = None
    status: int = 0

    async def next(self, event: str = "ticket", within: float = 5) -> tuple[Any, str | None]:
        async with asyncio.timeout(within):
            while True:
                name, data, event_id = await self.events.get()
                if name == event:
                    return data, event_id

    async def tickets(self, within: float) -> list[dict[str, Any]]:
        """Every ticket event that arrives within *within* seconds."""
        found: list[dict[str, Any]] = []
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(within):
                while True:
                    name, data, _ = await self.events.get()
                    if name == "ticket":
                        found.append(data)
        return found


@contextlib.asynccontextmanager
async def stream(
    server: Server, bearer: str, last_event_id: str | None = None
) -> AsyncIterator[Stream]:
    s = Stream()
    headers = {"Authorization": f"Bearer {bearer}", "Accept": "text/event-stream"}
    if last_event_id is not None:
        headers["Last-Event-ID"] = last_event_id
    ready = asyncio.Event()

    async def read() -> None:
        try:
            async with (
                httpx.AsyncClient(
                    base_url=server.base_url, timeout=httpx.Timeout(5, read=60)
                ) as client,
                client.stream("GET", "/api/events", headers=headers) as r,
            ):
                s.status, s.headers = r.status_code, r.headers
                ready.set()
                name, data, event_id = "message", "", None
                async for line in r.aiter_lines():
                    if line == "":
                        if data:
                            await s.events.put((name, json.loads(data), event_id))
                        name, data, event_id = "message", "", None
                    elif line.startswith("event: "):
                        name = line[7:]
                    elif line.startswith("data: "):
                        data = line[6:]
                    elif line.startswith("id: "):
                        event_id = line[4:]
        finally:
            ready.set()
            s.ended.set()

    task = asyncio.create_task(read())
    try:
        await asyncio.wait_for(ready.wait(), 10)
        if s.status == 200 and last_event_id is None:
            await s.next("ready")  # subscribed: everything committed from now on arrives
        yield s
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


async def open_ticket(client: httpx.AsyncClient, title: str) -> str:
    r = await client.post(
        "/api/tickets", json={"title": title, "description": "Details", "priority": "P3"}
    )
    assert r.status_code == 201, r.text
    return str(r.json()["id"])


async def test_changes_reach_streams_by_visibility(server: Server) -> None:
    agent, acme, globex = [await token(server, e) for e in (AGENT, ACME, GLOBEX)]
    async with (
        stream(server, agent) as staff,
        stream(server, acme) as acme_stream,
        stream(server, globex) as globex_stream,
        api(server, acme) as acme_api,
        api(server, agent) as agent_api,
    ):
        assert staff.headers is not None
        assert staff.headers["content-type"].startswith("text/event-stream")
        assert staff.headers["x-accel-buffering"] == "no"
        ticket_id = await open_ticket(acme_api, "Live printer")
        for s in (staff, acme_stream):
            data, event_id = await s.next()
            assert data == {"id": ticket_id, "kind": "created"} and event_id

        r = await agent_api.post(
            f"/api/internal/tickets/{ticket_id}/comments",
            json={"body": "Internal: looks like the toner", "is_internal": True},
        )
        assert r.status_code == 201, r.text
        data, _ = await staff.next()
        assert data == {"id": ticket_id, "kind": "comment"}

        r = await acme_api.post(f"/api/tickets/{ticket_id}/comments", json={"body": "Any news?"})
        assert r.status_code == 201, r.text
        data, _ = await staff.next()
        assert data == {"id": ticket_id, "kind": "comment"}
        # The customer's stream: the public comment, never the internal note before it.
        assert await acme_stream.tickets(1.5) == [{"id": ticket_id, "kind": "comment"}]
        # Another organization's customer hears nothing of it.
        assert await globex_stream.tickets(0.5) == []


async def test_rolled_back_change_emits_nothing(server: Server) -> None:
    agent = await token(server, AGENT)
    engine = create_async_engine(to_async_url(server.database_url))
    try:
        async with AsyncSession(engine) as session:
            user = (await session.execute(select(User).where(User.email == ACME))).scalar_one()
            actor = CurrentUser(
                id=user.id,
                email=user.email,
                name=user.name,
                role=Role(user.role),
                org_id=user.org_id,
                org_name=None,
                session_id=uuid.uuid4(),
            )
        async with stream(server, agent) as staff, api(server, await token(server, ACME)) as c:
            ticket_id = uuid.UUID(await open_ticket(c, "Rollback subject"))
            await staff.next()
            async with AsyncSession(engine) as session, session.begin():
                await tickets.add_comment(
                    session, actor, ticket_id, body="never", is_internal=False, now=utcnow()
                )
                await session.rollback()
            assert await staff.tickets(1.5) == []
            async with AsyncSession(engine) as session, session.begin():
                await tickets.add_comment(
                    session, actor, ticket_id, body="kept", is_internal=False, now=utcnow()
                )
            data, _ = await staff.next()
            assert data == {"id": str(ticket_id), "kind": "comment"}
    finally:
        await engine.dispose()


async def test_last_event_id_replays_what_was_missed(server: Server) -> None:
    agent, acme = await token(server, AGENT), await token(server, ACME)
    async with stream(server, agent) as staff, api(server, acme) as c:
        first = await open_ticket(c, "Before the break")
        _, last_id = await staff.next()
    assert last_id is not None
    async with api(server, acme) as c:
        missed = [await open_ticket(c, f"During the break {i}") for i in range(2)]
    async with stream(server, agent, last_event_id=last_id) as again:
        replayed = [await again.next() for _ in missed]
        assert [d["id"] for d, _ in replayed] == missed
        assert all(int(i or 0) > int(last_id) for _, i in replayed)
        assert first not in [d["id"] for d, _ in replayed]
    # A customer replaying sees their organization's events only.
    async with api(server, await token(server, GLOBEX)) as g:
        foreign = await open_ticket(g, "Globex, during the break")
    async with stream(server, acme, last_event_id=last_id) as customer:
        seen = [d["id"] for d in await customer.tickets(1.5)]
        assert seen == missed and foreign not in seen
    # An id older than every kept event: the client is told to refetch everything.
    async with stream(server, agent, last_event_id="0") as old:
        await old.next("reset")


async def test_revoked_session_closes_its_stream(server: Server) -> None:
    agent = await token(server, AGENT)
    async with stream(server, agent) as staff:
        async with api(server, agent) as c:
            r = await c.post("/api/auth/logout")
            assert r.status_code == 204, r.text
        await asyncio.wait_for(staff.ended.wait(), timeout=live.SESSION_CHECK_SECONDS + 3)
    async with stream(server, agent) as refused:
        assert refused.status == 401


async def test_unauthenticated_stream_is_refused(server: Server) -> None:
    async with httpx.AsyncClient(base_url=server.base_url, timeout=5) as client:
        r = await client.get("/api/events")
        assert r.status_code == 401


async def test_stream_holds_no_pooled_connection(server: Server) -> None:
    """Many open streams, yet ordinary requests still get a connection (the pool is 20)."""
    agent = await token(server, AGENT)
    async with contextlib.AsyncExitStack() as stack:
        for _ in range(30):
            await stack.enter_async_context(stream(server, agent))
        async with api(server, agent) as c:
            r = await c.get("/api/internal/tickets")
            assert r.status_code == 200
    engine = create_async_engine(to_async_url(server.database_url))
    try:
        async with engine.connect() as conn:
            listening = await conn.scalar(
                text(
                    "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                    "AND application_name = 'atum-desk-live'"
                )
            )
        assert listening == 1, "one listening connection per API process"
    finally:
        await engine.dispose()


def test_events_of_audit_rows() -> None:
    t, o = uuid.uuid4(), uuid.uuid4()

    def row(action: str, new_value: dict[str, Any] | None = None) -> dict[str, Any]:
        return {"ticket_id": t, "org_id": o, "action": action, "new_value": new_value}

    assert live.events_of([row("ticket.created"), row("mail.received", {})]) == [
        (t, o, "created", False)
    ]
    assert live.events_of([row("comment.created", {"is_internal": True})]) == [
        (t, o, "comment", True)
    ]
    assert live.events_of([row("ticket.updated", {"tags": ["a"]})]) == [(t, o, "updated", True)]
    assert live.events_of([row("ticket.updated", {"priority": "P1"})]) == [(t, o, "updated", False)]
    assert live.events_of([row("attachment.downloaded")]) == []
    assert live.events_of([{**row("auth.login"), "ticket_id": None}]) == []


async def _sql(server: Server, statement: str, **params: Any) -> Any:
    engine = create_async_engine(to_async_url(server.database_url))
    try:
        async with engine.begin() as conn:
            result = await conn.execute(text(statement), params)
            return result.all() if result.returns_rows else None
    finally:
        await engine.dispose()


async def test_own_tickets_portal_streams_only_the_callers_tickets(server: Server) -> None:
    """In an organization whose portal shows people their own tickets, a customer_user's stream
    carries their own tickets' events only (the customer_admin's, all of them)."""
    await _sql(
        server, "UPDATE organizations SET portal_visibility = 'own' WHERE name = 'Acme Corp'"
    )
    try:
        user, admin = await token(server, ACME), await token(server, "admin@acme.test")
        async with (
            stream(server, user) as user_stream,
            stream(server, admin) as admin_stream,
            api(server, user) as u,
            api(server, admin) as a,
        ):
            theirs = await open_ticket(a, "The admin's own ticket")
            mine = await open_ticket(u, "The user's own ticket")
            assert [d["id"] for d in await user_stream.tickets(1.5)] == [mine]
            assert {d["id"] for d in await admin_stream.tickets(0.5)} == {theirs, mine}
        async with stream(server, user, last_event_id="1") as replay:
            replayed = {d["id"] for d in await replay.tickets(1.5)}
            assert mine in replayed and theirs not in replayed
    finally:
        await _sql(
            server,
            "UPDATE organizations SET portal_visibility = 'organization' WHERE name = 'Acme Corp'",
        )


async def test_the_listener_reconnects(server: Server) -> None:
    agent = await token(server, AGENT)
    async with stream(server, agent) as staff, api(server, await token(server, ACME)) as c:
        killed = await _sql(
            server,
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE application_name = 'atum-desk-live' AND datname = current_database()",
        )
        assert killed == [(True,)]
        # Committed while nothing listened: delivered once the listener is back.
        ticket_id = await open_ticket(c, "While the listener was away")
        data, _ = await staff.next(within=10)
        assert data == {"id": ticket_id, "kind": "created"}
        later = await open_ticket(c, "After the reconnect")
        data, _ = await staff.next(within=5)
        assert data == {"id": later, "kind": "created"}
