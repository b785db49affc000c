"""Live updates (GET /api/events, docs/RUNBOOK.md "Live updates (SSE) behind nginx").

Producer: ``audit.write``, the one place every ticket change passes through, inserts the events
(``event_columns``) in the statement that inserts the audit rows, in the change's own transaction:
one ``live_events`` row per changed ticket (its identity id is the stream's event id), announced
with ``pg_notify``. PostgreSQL delivers a notification only when its transaction commits: a change
that rolls back never reaches a stream.
Events carry ids only; the browser fetches what changed through the ordinary endpoints, so the
visibility rules are applied once, where they are written.

Hub: ONE listening connection per API process (asyncpg, outside the pool, reconnecting with
back-off) fans the notifications out in memory to the open streams, each filtered by
``visibility.sees_live_event``. Every few seconds (and at once when a session is revoked) the hub
checks, in one statement, that each stream's session still stands; a stream whose session was
revoked, or whose account changed role or organization, is closed. Presence (who is viewing or
replying to a ticket, app/services/presence.py) travels the same channel to staff streams only.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
import uuid
from collections.abc import AsyncIterator, Iterable
from dataclasses import dataclass, field
from typing import Any

import asyncpg
import structlog
from sqlalchemy import text
from sqlalchemy.engine import make_url

from app.auth.deps import CurrentUser
from app.db.session import get_engine
from app.models import Ticket
from app.services import visibility

log = structlog.get_logger("atum.live")

CHANNEL = "atum_live"  # also spelled out in the statements below
# Comment lines keep idle streams (and the proxies in front of them) open.
HEARTBEAT_SECONDS = 15.0
# How often every open stream's session is checked (besides at once on a revocation).
SESSION_CHECK_SECONDS = 5.0
# Events kept for Last-Event-ID replay; the worker deletes older ones.
KEEP_SECONDS = 300
# Events a slow stream may fall behind before it is closed (the browser reconnects and replays).
QUEUE_LIMIT = 500
REPLAY_LIMIT = 1000
# Events written to a stream at once when several are waiting.
BATCH_LIMIT = 64
# The browser's reconnect delay (SSE "retry:").
RETRY_MS = 2000

# ---------------------------------------------------------------- producer

# Read actions, and mail handling already announced by the ticket/comment entry beside it.
_SILENT_SUFFIXES = (".downloaded", ".exported")
_SILENT = frozenset({"mail.received"})
# Changes customers have no view of.
_STAFF_PREFIXES = ("mail.", "notification.", "sla.", "tag.", "ai.", "macro.", "link.", "cc.")
_STAFF_FIELDS = frozenset({"tags", "assigned_team_id", "team_id"})
# Actions after which open streams' sessions are checked at once.
_SESSION_ACTIONS = frozenset(
    {
        "auth.logout",
        "auth.session_revoked",
        "auth.password_changed",
        "auth.password_reset",
        "user.deactivated",
        "user.updated",
        "org.updated",
    }
)

_CHECK = "SELECT pg_notify('atum_live', '\"check\"')"

Event = tuple[uuid.UUID, uuid.UUID | None, str, bool]


def kind_of(action: str) -> str:
    if action == "ticket.created":
        return "created"
    if action.startswith("comment."):
        return "comment"
    return "updated"


def staff_only(action: str, new_value: dict[str, Any] | None) -> bool:
    if isinstance(new_value, dict) and new_value.get("is_internal") is True:
        return True
    if action.startswith(_STAFF_PREFIXES):
        return True
    if action in ("ticket.updated", "ticket.assigned") and isinstance(new_value, dict):
        return bool(new_value) and set(new_value) <= _STAFF_FIELDS
    return False


def events_of(rows: Iterable[dict[str, Any]]) -> list[Event]:
    """The live events of audit rows: one per (ticket, kind, audience), in order."""
    found: list[Event] = []
    for row in rows:
        ticket_id, action = row.get("ticket_id"), str(row["action"])
        if ticket_id is None or action in _SILENT or action.endswith(_SILENT_SUFFIXES):
            continue
        only_staff = staff_only(action, row["new_value"])
        event = (ticket_id, row.get("org_id"), kind_of(action), only_staff)
        if event not in found:
            found.append(event)
    return found


def event_columns(rows: Iterable[dict[str, Any]]) -> list[list[Any]]:
    """The live events of *rows* as four arrays (ticket ids, organization ids, kinds, staff only;
    none when there is no event): the parameters of the ``events`` part of the statement that
    inserts the audit rows (services/audit.py), which inserts one ``live_events`` row each and
    announces it with ``pg_notify`` (delivered at commit)."""
    events = events_of(rows)
    return [list(column) for column in zip(*events, strict=True)] if events else []


async def check_sessions(driver: asyncpg.Connection, rows: list[dict[str, Any]]) -> int:
    """After an action that may end sessions (a logout, a deactivation), tell the open streams
    to check theirs at once. Returns the number of statements run (0 or 1)."""
    if any(row["action"] in _SESSION_ACTIONS for row in rows):
        await driver.fetchval(_CHECK)
        return 1
    return 0


# ---------------------------------------------------------------- messages


def message(event: str, data: Any, event_id: int | None = None) -> bytes:
    head = f"id: {event_id}\n" if event_id is not None else ""
    return f"{head}event: {event}\ndata: {json.dumps(data, separators=(',', ':'))}\n\n".encode()


def ticket_message(event_id: int, ticket_id: object, kind: str) -> bytes:
    return message("ticket", {"id": str(ticket_id), "kind": kind}, event_id)


HEARTBEAT = b": keep-alive\n\n"


# ---------------------------------------------------------------- hub


@dataclass(eq=False)
class Subscriber:
    actor: CurrentUser
    queue: asyncio.Queue[bytes | None] = field(
        default_factory=lambda: asyncio.Queue(maxsize=QUEUE_LIMIT)
    )
    closed: bool = False

    def offer(self, chunk: bytes) -> None:
        if self.closed:
            return
        try:
            self.queue.put_nowait(chunk)
        except asyncio.QueueFull:
            # Too slow: closed; the browser reconnects and replays from its last event id.
            self.close()

    def close(self) -> None:
        if not self.closed:
            self.closed = True
            with contextlib.suppress(asyncio.QueueFull):
                self.queue.put_nowait(None)


@dataclass
class Viewer:
    id: str
    name: str
    state: str
    expires: float


class Hub:
    """The process's listener and its open streams."""

    def __init__(self) -> None:
        self.subscribers: set[Subscriber] = set()
        self.presence: dict[str, dict[str, Viewer]] = {}
        self.last_id = 0
        self.connected = asyncio.Event()
        self._check_now = asyncio.Event()
        self._check_soon = False
        self._pending: set[asyncio.Task[None]] = set()
        self._tasks: list[asyncio.Task[None]] = []
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stopping = False

    # -- life cycle

    def start(self) -> None:
        loop = asyncio.get_running_loop()
        if self._loop is loop and all(not t.done() for t in self._tasks) and self._tasks:
            return
        self._loop = loop
        self._stopping = False
        self.connected = asyncio.Event()
        self._check_now = asyncio.Event()
        self._tasks = [
            loop.create_task(self._listen(), name="live-listen"),
            loop.create_task(self._housekeeping(), name="live-housekeeping"),
        ]

    async def stop(self) -> None:
        self._stopping = True
        for sub in list(self.subscribers):
            sub.close()
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        self._tasks = []

    def subscribe(self, actor: CurrentUser) -> Subscriber:
        self.start()
        sub = Subscriber(actor)
        self.subscribers.add(sub)
        # Its session is checked with the next batch (within a second): a session revoked
        # between authentication and here must not keep a stream.
        self._check_soon = True
        if visibility.sees_presence(actor):
            now = time.time()
            for ticket_id, viewers in self.presence.items():
                live = [v for v in viewers.values() if v.expires > now]
                if live:
                    sub.offer(_presence_message(ticket_id, live))
        return sub

    def unsubscribe(self, sub: Subscriber) -> None:
        self.subscribers.discard(sub)

    # -- the listening connection

    async def _connect(self) -> asyncpg.Connection:
        url = make_url(get_engine().url.render_as_string(hide_password=False))
        socket_dir = url.query.get("host")
        host = socket_dir if isinstance(socket_dir, str) else url.host
        conn: asyncpg.Connection = await asyncpg.connect(
            user=url.username,
            password=url.password,
            database=url.database,
            host=host,
            port=url.port,
            timeout=5,
            server_settings={"application_name": "atum-desk-live"},
        )
        return conn

    async def _listen(self) -> None:
        backoff = 0.5
        while not self._stopping:
            conn: asyncpg.Connection | None = None
            try:
                conn = await self._connect()
                lost = asyncio.Event()
                conn.add_termination_listener(lambda _c, lost=lost: lost.set())
                await conn.add_listener(CHANNEL, self._notified)
                # What committed while no connection listened (or before this process did).
                await self._catch_up(conn)
                self.connected.set()
                backoff = 0.5
                log.info("live_listening")
                while not lost.is_set():
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(lost.wait(), timeout=30)
                    if not lost.is_set():
                        # A half-open TCP connection never reports itself: ask.
                        await conn.fetchval("SELECT 1", timeout=10)
                raise ConnectionError("listening connection lost")
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                self.connected.clear()
                log.warning("live_listen_failed", error_type=type(exc).__name__, retry_in=backoff)
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, 30.0)
            finally:
                if conn is not None and not conn.is_closed():
                    with contextlib.suppress(Exception):
                        await conn.close(timeout=2)

    async def _catch_up(self, conn: asyncpg.Connection) -> None:
        if self.last_id == 0:
            self.last_id = int(await conn.fetchval("SELECT coalesce(max(id), 0) FROM live_events"))
            return
        rows = await conn.fetch(
            "SELECT id, ticket_id, org_id, kind, staff_only FROM live_events "
            "WHERE id > $1 ORDER BY id LIMIT $2",
            self.last_id,
            REPLAY_LIMIT,
        )
        for row in rows:
            self._dispatch(
                row["id"], row["ticket_id"], row["org_id"], row["kind"], row["staff_only"]
            )

    def _notified(self, _conn: Any, _pid: int, _channel: str, payload: object) -> None:
        try:
            data = json.loads(str(payload))
            if data == "check":
                self._check_now.set()
            elif isinstance(data, list):
                event_id, ticket_id, org_id, kind, only_staff = data
                self._dispatch(
                    int(event_id),
                    uuid.UUID(ticket_id),
                    uuid.UUID(org_id) if org_id else None,
                    str(kind),
                    bool(only_staff),
                )
            elif isinstance(data, dict) and "p" in data:
                self._presence(str(data["p"]), data["v"] or [])
        except Exception as exc:  # one bad payload must not stop the listener
            log.warning("live_bad_notification", error_type=type(exc).__name__)

    def _dispatch(
        self,
        event_id: int,
        ticket_id: uuid.UUID,
        org_id: uuid.UUID | None,
        kind: str,
        only_staff: bool,
    ) -> None:
        self.last_id = max(self.last_id, event_id)
        chunk = ticket_message(event_id, ticket_id, kind)
        for sub in list(self.subscribers):
            if not visibility.sees_live_event(sub.actor, org_id=org_id, staff_only=only_staff):
                continue
            if visibility.live_event_needs_ticket_check(sub.actor):
                task = asyncio.get_running_loop().create_task(
                    self._offer_if_visible(sub, ticket_id, chunk)
                )
                self._pending.add(task)
                task.add_done_callback(self._pending.discard)
            else:
                sub.offer(chunk)

    async def _offer_if_visible(self, sub: Subscriber, ticket_id: uuid.UUID, chunk: bytes) -> None:
        try:
            if await visible_ids(sub.actor, [ticket_id]):
                sub.offer(chunk)
        except Exception as exc:  # the database may be away: the stream resumes with a reset
            log.warning("live_visibility_check_failed", error_type=type(exc).__name__)
            sub.close()

    # -- presence (staff streams only)

    def _presence(self, ticket_id: str, viewers: list[list[Any]]) -> None:
        now = time.time()
        fresh = {
            str(v[0]): Viewer(str(v[0]), str(v[1]), str(v[2]), float(v[3]))
            for v in viewers
            if float(v[3]) > now
        }
        before = self.presence.get(ticket_id, {})
        if fresh:
            self.presence[ticket_id] = fresh
        else:
            self.presence.pop(ticket_id, None)
        if _shape(before) != _shape(fresh):
            self._broadcast_presence(ticket_id, list(fresh.values()))

    def _broadcast_presence(self, ticket_id: str, viewers: list[Viewer]) -> None:
        chunk = _presence_message(ticket_id, viewers)
        for sub in list(self.subscribers):
            if visibility.sees_presence(sub.actor):
                sub.offer(chunk)

    def _expire_presence(self) -> None:
        now = time.time()
        for ticket_id, viewers in list(self.presence.items()):
            live = {k: v for k, v in viewers.items() if v.expires > now}
            if len(live) != len(viewers):
                if live:
                    self.presence[ticket_id] = live
                else:
                    del self.presence[ticket_id]
                self._broadcast_presence(ticket_id, list(live.values()))

    # -- sessions

    async def _housekeeping(self) -> None:
        loop = asyncio.get_running_loop()
        last_check = loop.time()
        while not self._stopping:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._check_now.wait(), timeout=1.0)
            try:
                self._expire_presence()
                due = loop.time() - last_check >= SESSION_CHECK_SECONDS
                if self._check_now.is_set() or self._check_soon or due:
                    self._check_now.clear()
                    self._check_soon = False
                    last_check = loop.time()
                    await self.check_sessions()
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # the database may be away: streams stay, checks resume
                log.warning("live_session_check_failed", error_type=type(exc).__name__)

    async def check_sessions(self) -> int:
        """Close the streams whose session no longer stands; returns how many were closed."""
        subs = [s for s in self.subscribers if not s.closed]
        if not subs:
            return 0
        ids = list({s.actor.session_id for s in subs})
        async with get_engine().connect() as conn:
            rows = (await conn.execute(_SESSIONS, {"ids": ids})).all()
        standing = {
            (r.id, r.user_id, r.role, r.org_id, r.portal_visibility or "organization") for r in rows
        }
        closed = 0
        for sub in subs:
            a = sub.actor
            now = (a.session_id, a.id, a.role.value, a.org_id, a.portal_visibility)
            if now not in standing:
                sub.close()
                closed += 1
        return closed


# The sessions that still stand, with their account's role and organization (and its portal
# visibility) now: a change ends the stream, and the browser reconnects as what the account is.
_SESSIONS = text(
    """
    SELECT s.id, u.id AS user_id, u.role, u.org_id, o.portal_visibility
    FROM auth_sessions s
    JOIN users u ON u.id = s.user_id
    LEFT JOIN organizations o ON o.id = u.org_id
    WHERE s.id = ANY(:ids) AND s.revoked_at IS NULL AND s.expires_at > now()
      AND u.is_active AND (u.org_id IS NULL OR o.status = 'active')
    """
)


def _shape(viewers: dict[str, Viewer]) -> set[tuple[str, str]]:
    return {(v.id, v.state) for v in viewers.values()}


def _presence_message(ticket_id: str, viewers: list[Viewer]) -> bytes:
    return message(
        "presence",
        {
            "ticket_id": ticket_id,
            "viewers": [
                {"id": v.id, "name": v.name, "state": v.state}
                for v in sorted(viewers, key=lambda v: v.name)
            ],
        },
    )


hub = Hub()

# ---------------------------------------------------------------- one stream


async def _replay(actor: CurrentUser, after: int) -> tuple[list[bytes], set[int], bool]:
    """The events after *after* the actor may receive, and whether some may have been pruned
    (then the browser refetches everything)."""
    async with get_engine().connect() as conn:
        pruned = not (
            await conn.execute(
                text("SELECT EXISTS (SELECT 1 FROM live_events WHERE id <= :after)"),
                {"after": after},
            )
        ).scalar_one()
        rows = (
            await conn.execute(
                text(
                    "SELECT id, ticket_id, org_id, kind, staff_only FROM live_events "
                    "WHERE id > :after ORDER BY id LIMIT :limit"
                ),
                {"after": after, "limit": REPLAY_LIMIT},
            )
        ).all()
    kept = [
        r
        for r in rows
        if visibility.sees_live_event(actor, org_id=r.org_id, staff_only=r.staff_only)
    ]
    if kept and visibility.live_event_needs_ticket_check(actor):
        visible = await visible_ids(actor, list({r.ticket_id for r in kept}))
        kept = [r for r in kept if r.ticket_id in visible]
    chunks = [ticket_message(r.id, r.ticket_id, r.kind) for r in kept]
    return chunks, {r.id for r in kept}, pruned or len(rows) == REPLAY_LIMIT


async def visible_ids(actor: CurrentUser, ticket_ids: list[uuid.UUID]) -> set[uuid.UUID]:
    """The tickets among *ticket_ids* that *actor* may see (``visible_tickets``)."""
    stmt = (
        visibility.visible_tickets(actor)
        .with_only_columns(Ticket.id)
        .where(Ticket.id.in_(ticket_ids))
    )
    async with get_engine().connect() as conn:
        return set((await conn.execute(stmt)).scalars())


async def _newest() -> int:
    async with get_engine().connect() as conn:
        value = (await conn.execute(text("SELECT coalesce(max(id), 0) FROM live_events"))).scalar()
    return int(value or 0)


def parse_last_event_id(value: str | None) -> int | None:
    if value is None or not value.strip().isdigit():
        return None
    return int(value.strip())


async def stream(actor: CurrentUser, last_event_id: int | None) -> AsyncIterator[bytes]:
    """One browser tab's stream: the events it missed (``Last-Event-ID``), then live events,
    presence (staff) and a heartbeat comment every ~15 s, until the session ends. Holds no
    pooled connection between events."""
    sub = hub.subscribe(actor)
    try:
        yield f"retry: {RETRY_MS}\n\n".encode()
        replayed: set[int] = set()
        if last_event_id is not None:
            chunks, replayed, reset = await _replay(actor, last_event_id)
            if reset:
                yield message("reset", {}, max(replayed, default=None))
            for chunk in chunks:
                yield chunk
        else:
            # Gives the browser an event id to resume from should the stream break.
            yield message("ready", {}, await _newest())
        while not sub.closed:
            try:
                queued = await asyncio.wait_for(sub.queue.get(), timeout=HEARTBEAT_SECONDS)
            except TimeoutError:
                yield HEARTBEAT
                continue
            # Whatever else is waiting goes out in the same write: under load, one send per
            # batch instead of one per event.
            batch = [queued]
            while batch[-1] is not None and not sub.queue.empty() and len(batch) < BATCH_LIMIT:
                batch.append(sub.queue.get_nowait())
            chunks = [c for c in batch if c is not None and not _seen_before(c, replayed)]
            if chunks and not sub.closed:
                yield b"".join(chunks)
            if batch[-1] is None or sub.closed:
                break
    finally:
        hub.unsubscribe(sub)


def _seen_before(chunk: bytes, replayed: set[int]) -> bool:
    """An event already sent by the Last-Event-ID replay (it was also queued live)."""
    if not replayed or not chunk.startswith(b"id: "):
        return False
    event_id = int(chunk[4 : chunk.index(b"\n")])
    if event_id in replayed:
        replayed.discard(event_id)
        return True
    return False


async def prune(conn: Any, keep_seconds: int = KEEP_SECONDS, limit: int = 10000) -> int:
    """Delete events older than *keep_seconds* (the worker's housekeeping)."""
    result = await conn.execute(
        text(
            "DELETE FROM live_events WHERE id IN (SELECT id FROM live_events "
            "WHERE created_at < now() - make_interval(secs => :keep) LIMIT :limit)"
        ),
        {"keep": keep_seconds, "limit": limit},
    )
    return int(getattr(result, "rowcount", 0) or 0)
