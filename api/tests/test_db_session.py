"""The request's database session gives its connection back to the pool whatever ends the request,
a client that goes away (the request cancelled mid-statement) included."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator

import anyio
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.requests import ClientDisconnect, Request
from starlette.types import Message

from app.db.session import get_engine, get_session
from app.routers.common import ClosingStream


def _request(method: str) -> Request:
    return Request({"type": "http", "method": method, "path": "/", "headers": []})


@pytest.mark.parametrize("method", ["GET", "POST"])
async def test_a_cancelled_request_returns_its_connection(method: str) -> None:
    pool = get_engine().pool
    before = pool.checkedout()  # type: ignore[attr-defined]
    session_of = contextlib.asynccontextmanager(get_session)
    with anyio.CancelScope() as scope:
        async with session_of(_request(method)) as session:
            await session.execute(text("SELECT 1"))
            assert pool.checkedout() == before + 1  # type: ignore[attr-defined]
            scope.cancel()  # as when the client disconnects: every await now raises
            await session.execute(text("SELECT pg_sleep(5)"))
    assert scope.cancelled_caught
    assert pool.checkedout() == before  # type: ignore[attr-defined]


@pytest.mark.parametrize("ending", ["disconnect", "broken pipe"])
async def test_a_cut_off_download_closes_its_body_and_returns_its_connection(ending: str) -> None:
    """An export streams through a session of its own (routers/reports.py, routers/audit.py);
    when the client goes away mid-stream, ClosingStream still closes the body, so the session
    gives its connection back."""
    pool = get_engine().pool
    before = pool.checkedout()  # type: ignore[attr-defined]
    closed: list[bool] = []
    first_chunk_sent = anyio.Event()

    async def body() -> AsyncIterator[bytes]:
        try:
            async with AsyncSession(bind=get_engine()) as reader:
                await reader.execute(text("SELECT 1"))
                yield b"a,b\n"
                await reader.execute(text("SELECT pg_sleep(5)"))
                yield b"1,2\n"
        finally:
            closed.append(True)

    async def send(message: Message) -> None:
        if message["type"] == "http.response.body" and message.get("body"):
            first_chunk_sent.set()
            if ending == "broken pipe":
                raise OSError("the client went away")

    async def receive() -> Message:
        await first_chunk_sent.wait()
        return {"type": "http.disconnect"}

    # ASGI 2.0: Starlette listens for the disconnect and cancels the stream; 2.4: the server
    # reports a closed connection as an error from send().
    version = "2.0" if ending == "disconnect" else "2.4"
    scope = {"type": "http", "asgi": {"spec_version": version}, "method": "GET", "headers": []}
    with anyio.fail_after(4), contextlib.suppress(OSError, ClientDisconnect):
        await ClosingStream(body())(scope, receive, send)
    assert closed
    assert pool.checkedout() == before  # type: ignore[attr-defined]
