"""A streamed export gives its database connection back to the pool however the stream ends, a
client that goes away mid-download included."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator

import anyio
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.requests import ClientDisconnect
from starlette.types import Message

from app.db.session import get_engine
from app.routers.common import ClosingStream


async def test_a_cut_off_download_closes_its_body_and_returns_its_connection() -> None:
    """An export streams through a session of its own (routers/reports.py, routers/audit.py);
    when the client goes away mid-stream, ClosingStream still closes the body, so the session
    gives its connection back."""
    pool = get_engine().pool
    before = pool.checkedout()  # type: ignore[attr-defined]
    closed: list[bool] = []

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
        # The server reports the closed connection when the first chunk is sent: the body is
        # left suspended at its first yield, its session open.
        if message["type"] == "http.response.body" and message.get("body"):
            raise OSError("the client went away")

    async def receive() -> Message:
        await anyio.sleep_forever()
        raise AssertionError  # never reached

    scope = {"type": "http", "asgi": {"spec_version": "2.4"}, "method": "GET", "headers": []}
    with anyio.fail_after(4), contextlib.suppress(OSError, ClientDisconnect):
        await ClosingStream(body())(scope, receive, send)
    assert closed
    assert pool.checkedout() == before  # type: ignore[attr-defined]
