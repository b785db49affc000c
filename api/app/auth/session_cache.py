"""The process's cache of authenticated callers: a verified token and what its session row said
(the caller's user, organization and session flags), so that a request of a known session runs
neither the signature check nor the authentication statement.

It is kept honest by PostgreSQL: triggers (migration 0017) announce on the ``atum_auth`` channel
every change of a session (revoked, restricted, expiry), a user (deactivated, role, organization,
name, address, language, password) or an organization (suspended, name, portal visibility), when
the change commits; ONE listening connection per API process (asyncpg, outside the pool,
reconnecting with back-off) drops the cached callers it names. So a logout, a deactivation or a
password change on one process refuses the session on every other one within milliseconds.

Safety nets: an entry lives at most ``TTL_SECONDS``; nothing is cached or served while the
listener is not connected (and everything is dropped when it connects or drops, since a
notification may have been missed meanwhile); an entry read from the database is not stored when
a notification arrived while it was being read (it may predate the change)."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import time
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import asyncpg
import structlog
from sqlalchemy.engine import make_url

from app.db.session import get_engine

log = structlog.get_logger("atum.auth")

CHANNEL = "atum_auth"
# The longest an entry is used without being read again (besides the notifications).
TTL_SECONDS = 5.0
MAX_ENTRIES = 20_000
# How often the idle listening connection is asked whether it still stands.
PING_SECONDS = 5.0
_FIELDS = {"s": "session_id", "u": "user_id", "o": "org_id"}


@dataclass(slots=True)
class Entry:
    session_id: uuid.UUID
    user_id: uuid.UUID
    org_id: uuid.UUID | None
    # The token's own expiry (epoch seconds) and the session row's.
    token_expires: float
    session_expires: datetime
    restricted: bool
    last_seen_at: datetime
    # The caller (an ``auth.deps.CurrentUser``).
    user: Any
    stored: float


def token_key(token: str) -> bytes:
    """The cache key of a token (a digest: the cache keeps no bearer secret)."""
    return hashlib.blake2b(token.encode(), digest_size=20).digest()


class SessionCache:
    def __init__(self) -> None:
        self._entries: dict[bytes, Entry] = {}
        # Moves on every notification (and clear): a read that began before it is not stored.
        self.generation = 0
        self.listening = False
        self._task: asyncio.Task[None] | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stopping = False

    # -- use

    def get(self, key: bytes) -> Entry | None:
        if not self.listening:
            return None
        entry = self._entries.get(key)
        if entry is None:
            return None
        if time.monotonic() - entry.stored > TTL_SECONDS or entry.token_expires <= time.time():
            self._entries.pop(key, None)
            return None
        return entry

    def put(self, key: bytes, entry: Entry, generation: int) -> None:
        if not self.listening or generation != self.generation:
            return
        if len(self._entries) >= MAX_ENTRIES:
            self._entries.clear()
        self._entries[key] = entry

    def clear(self) -> None:
        self.generation += 1
        self._entries.clear()

    def invalidate(self, payload: str) -> None:
        """``s:<session id>``, ``u:<user id>`` or ``o:<organization id>``; anything else drops
        everything."""
        self.generation += 1
        kind, _, raw = payload.partition(":")
        field = _FIELDS.get(kind)
        try:
            ident = uuid.UUID(raw)
        except ValueError:
            field = None
        if field is None:
            self._entries.clear()
            return
        for key in [k for k, e in self._entries.items() if getattr(e, field) == ident]:
            del self._entries[key]

    def __len__(self) -> int:
        return len(self._entries)

    # -- the listening connection

    def start(self) -> None:
        loop = asyncio.get_running_loop()
        if self._task is not None and not self._task.done() and self._loop is loop:
            return
        self._loop = loop
        self._stopping = False
        self._task = loop.create_task(self._listen(), name="auth-listen")

    async def stop(self) -> None:
        self._stopping = True
        self.listening = False
        self.clear()
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task

    async def _connect(self) -> asyncpg.Connection:
        url = make_url(get_engine().url.render_as_string(hide_password=False))
        socket_dir = url.query.get("host")
        conn: asyncpg.Connection = await asyncpg.connect(
            user=url.username,
            password=url.password,
            database=url.database,
            host=socket_dir if isinstance(socket_dir, str) else url.host,
            port=url.port,
            timeout=5,
            server_settings={"application_name": "atum-desk-auth"},
        )
        return conn

    def _notified(self, _conn: Any, _pid: int, _channel: str, payload: object) -> None:
        self.invalidate(str(payload))

    async def _listen(self) -> None:
        backoff = 0.5
        while not self._stopping:
            conn: asyncpg.Connection | None = None
            try:
                conn = await self._connect()
                lost = asyncio.Event()
                conn.add_termination_listener(lambda _c, lost=lost: lost.set())
                await conn.add_listener(CHANNEL, self._notified)
                self.clear()
                self.listening = True
                backoff = 0.5
                while not lost.is_set():
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(lost.wait(), timeout=PING_SECONDS)
                    if not lost.is_set():
                        # A half-open TCP connection never reports itself: ask.
                        await conn.fetchval("SELECT 1", timeout=PING_SECONDS)
                raise ConnectionError("listening connection lost")
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                log.warning("auth_listen_failed", error_type=type(exc).__name__, retry_in=backoff)
            finally:
                # Whatever was announced while nobody listened is unknown: start afresh.
                self.listening = False
                self.clear()
                if conn is not None and not conn.is_closed():
                    with contextlib.suppress(Exception):
                        await conn.close(timeout=2)
            await asyncio.sleep(backoff)
            backoff = min(backoff * 2, 30.0)


cache = SessionCache()
