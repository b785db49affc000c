"""The notification worker against real SMTP servers (aiosmtpd on loopback, started here) and a
database of its own (created on the test server and migrated), so ``drain()`` sees only the rows
these tests commit: delivery, retries and backoff, permanent failures, crashes (SIGKILL), SIGTERM,
two workers at once, stale leases, LISTEN/NOTIFY wake-up, rolled-back changes and the SLA sweep.

Nothing about SMTP is mocked: the worker speaks to a real server whose handler records what it
accepts, or answers with scripted 4xx/5xx replies, or sleeps to keep a message "in hand".
"""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import sys
import threading
import uuid
from collections import Counter, deque
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import asyncpg
import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult
from fastapi import FastAPI
from httpx import ASGITransport, AsyncClient
from sqlalchemy import func, insert, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, create_async_engine

from app import mailsink
from app import worker as worker_module
from app.ai import queue as ai_queue
from app.auth.tokens import create_access_token
from app.config import Settings, get_settings
from app.db import migrations
from app.db.embedded import to_async_url
from app.db.session import get_session
from app.models import AuditLog, AuthSession, OutboxMessage, Ticket, User
from app.models.enums import Role
from app.models.enums import TicketStatus as S
from app.services import notifications
from app.utils.clock import utcnow
from app.worker import Worker, backoff_seconds
from tests.factories import make_org, make_user
from tests.test_ai_ollama import (  # noqa: F401  (ollama: a fixture)
    CHAT_MODEL,
    EMBED_MODEL,
    FakeOllama,
    ollama,
)

API = Path(__file__).resolve().parents[1]
MAIL_HOST = "atum.test"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def message_id(outbox_id: uuid.UUID) -> str:
    """The key a mail is counted under: its outbox row's id (the Message-ID starts with it)."""
    return outbox_id.hex


def outbox_key(header: str) -> str:
    """The outbox row id of a Message-ID: ``<hex.token@domain>`` (every row the app queues) or
    ``<outbox-uuid@host>`` (rows written without a Message-ID of their own)."""
    inner = header.strip().strip("<>")
    if inner.startswith("outbox-"):
        return uuid.UUID(inner[len("outbox-") :].partition("@")[0]).hex
    return inner.partition(".")[0]


# ---------------------------------------------------------------- a real SMTP server


@dataclass(frozen=True)
class Received:
    envelope_from: str
    envelope_to: tuple[str, ...]
    message: EmailMessage
    peer: Any
    login: bytes | None

    @property
    def message_id(self) -> str:
        return str(self.message["Message-ID"])


def body_of(mail: Received, subtype: str) -> str:
    """The text/<subtype> part of a received mail, with the wire's CRLFs back to newlines."""
    part = mail.message.get_body((subtype,))
    assert part is not None, f"no text/{subtype} part"
    content: str = part.get_content()
    return content.replace("\r\n", "\n")


class Recorder:
    """aiosmtpd handler: records each accepted message; can refuse recipients, answer DATA with
    scripted replies first, or take its time (a message "in hand" for the worker)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._received: list[Received] = []
        self.data_replies: deque[str] = deque()
        self.rcpt_reply: str | None = None
        self.delay = 0.0

    @property
    def received(self) -> list[Received]:
        with self._lock:
            return list(self._received)

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, options: list[str]
    ) -> str:
        if self.rcpt_reply is not None:
            return self.rcpt_reply
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        with self._lock:
            scripted = self.data_replies.popleft() if self.data_replies else None
        if scripted is not None:
            return scripted
        parsed = message_from_bytes(envelope.content, policy=policy.default)
        assert isinstance(parsed, EmailMessage)
        login = session.auth_data.login if session.authenticated else None
        with self._lock:
            self._received.append(
                Received(envelope.mail_from, tuple(envelope.rcpt_tos), parsed, session.peer, login)
            )
        if self.delay:
            await asyncio.sleep(self.delay)
        return "250 Message accepted for delivery"


class Sink:
    """An SMTP server on 127.0.0.1:<port>; not listening until ``start()``. With *login*, it
    offers AUTH (without TLS, loopback only) and accepts exactly that user and password."""

    def __init__(self, login: tuple[str, str] | None = None) -> None:
        self.port = free_port()
        self.handler = Recorder()
        self.login = login
        self._controller: Controller | None = None

    def _authenticate(
        self, server: Any, session: Any, envelope: Any, mechanism: str, auth_data: Any
    ) -> AuthResult:
        given = (auth_data.login.decode(), auth_data.password.decode())
        return AuthResult(success=given == self.login, handled=False, auth_data=auth_data)

    def start(self) -> Sink:
        options: dict[str, Any] = {}
        if self.login is not None:
            options = {"authenticator": self._authenticate, "auth_require_tls": False}
        self._controller = Controller(self.handler, hostname="127.0.0.1", port=self.port, **options)
        self._controller.start()
        return self

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    @property
    def received(self) -> list[Received]:
        return self.handler.received

    def counts(self) -> Counter[str]:
        return Counter(outbox_key(r.message_id) for r in self.received)

    async def wait_for(self, count: int, deadline_s: float = 10) -> None:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + deadline_s
        while len(self.received) < count:
            assert loop.time() < deadline, f"{len(self.received)} of {count} mails arrived"
            await asyncio.sleep(0.02)


@pytest.fixture
def sink() -> Iterator[Sink]:
    server = Sink().start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def down() -> Iterator[Sink]:
    """A port with no SMTP server behind it (yet)."""
    server = Sink()
    try:
        yield server
    finally:
        server.stop()


def worker_settings(port: int, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "smtp_host": "127.0.0.1",
        "smtp_port": port,
        "smtp_timeout_seconds": 10,
        "mail_host": MAIL_HOST,
        "mail_from": "ATUM DESK <desk@atum.test>",
        "mail_batch_size": 20,
        "mail_retry_base_seconds": 30,
        "sla_sweep_seconds": 3600,
        **overrides,
    }
    return Settings(**values)


# ---------------------------------------------------------------- a database of our own


async def _server_connection(server_url: str) -> asyncpg.Connection:
    url = make_url(server_url)
    return await asyncpg.connect(
        user=url.username,
        password=url.password,
        database=url.database,
        host=url.query.get("host") or url.host,
        port=url.port,
    )


@asynccontextmanager
async def worker_database(server_url: str) -> AsyncIterator[str]:
    """postgresql:// URL of a fresh, migrated database of its own, dropped afterwards."""
    name = f"atum_mail_{uuid.uuid4().hex[:12]}"
    conn = await _server_connection(server_url)
    try:
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()
    url = make_url(server_url).set(database=name).render_as_string(hide_password=False)
    try:
        await asyncio.to_thread(migrations.upgrade, to_async_url(url))
        yield url
    finally:
        conn = await _server_connection(server_url)
        try:
            await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await conn.close()


@asynccontextmanager
async def outbox_engine(url: str) -> AsyncIterator[AsyncEngine]:
    """An engine on a worker database, whose outbox starts empty (and with no open ticket left
    by an earlier test for a worker's real-time SLA sweep to find)."""
    engine = create_async_engine(to_async_url(url))
    async with engine.begin() as conn:
        await conn.execute(text("DELETE FROM notification_outbox"))
        await conn.execute(text("UPDATE tickets SET status = 'CLOSED' WHERE status <> 'CLOSED'"))
    try:
        yield engine
    finally:
        await engine.dispose()


@pytest.fixture(scope="module")
async def mail_db(server_url: str) -> AsyncIterator[str]:
    """The database only this module's workers use, so ``drain()`` sees only its rows."""
    async with worker_database(server_url) as url:
        yield url


@pytest.fixture
async def engine(mail_db: str) -> AsyncIterator[AsyncEngine]:
    async with outbox_engine(mail_db) as engine:
        yield engine


@dataclass(frozen=True)
class Row:
    status: str
    attempts: int
    last_error: str | None
    lease_token: uuid.UUID | None
    sent_at: datetime | None
    due_in: float


async def enqueue(engine: AsyncEngine, count: int) -> list[uuid.UUID]:
    """Commit *count* pending mails to distinct recipients; their ids, in order."""
    tag = uuid.uuid4().hex[:8]
    rows = [
        {
            "id": uuid.uuid4(),
            "idempotency_key": f"test:{tag}:{i}",
            "recipient_email": f"person-{i}-{tag}@example.test",
            "template": "status",
            "subject": f"[ATUM DESK #{i}] Mail {i} of {tag}",
            "body_text": f"Plain body {i}\n",
            "body_html": f"<p>HTML body {i}</p>\n",
        }
        for i in range(count)
    ]
    async with engine.begin() as conn:
        await conn.execute(insert(OutboxMessage), rows)
    return [r["id"] for r in rows]


async def rows_of(engine: AsyncEngine, ids: list[uuid.UUID]) -> dict[uuid.UUID, Row]:
    async with engine.connect() as conn:
        result = await conn.execute(
            text(
                "SELECT id, status, attempts, last_error, lease_token, sent_at, "
                "extract(epoch FROM next_attempt_at - now()) AS due_in "
                "FROM notification_outbox WHERE id = ANY(:ids)"
            ),
            {"ids": ids},
        )
        return {r.id: Row(*r[1:6], float(r.due_in)) for r in result}


async def make_due(engine: AsyncEngine) -> None:
    """What waiting for the backoff would do, without the wait."""
    async with engine.begin() as conn:
        await conn.execute(text("UPDATE notification_outbox SET next_attempt_at = now()"))


async def expire_leases(engine: AsyncEngine) -> None:
    """What waiting for a dead worker's leases to run out would do, without the wait."""
    async with engine.begin() as conn:
        await conn.execute(
            text(
                "UPDATE notification_outbox SET lease_until = now() - interval '1 second' "
                "WHERE status = 'sending'"
            )
        )


def assert_each_delivered_once(sink: Sink, ids: list[uuid.UUID]) -> None:
    counts = sink.counts()
    assert {mid: counts[mid] for mid in map(message_id, ids)} == dict.fromkeys(
        map(message_id, ids), 1
    )
    assert sum(counts.values()) == len(ids)


# ---------------------------------------------------------------- worker subprocesses


async def spawn_worker(mail_db: str, sink: Sink, **env: str) -> asyncio.subprocess.Process:
    """`python -m app.cli worker` on the worker database and *sink*."""
    return await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "app.cli",
        "worker",
        cwd=API,
        env={
            **os.environ,
            "ATUM_DATABASE_URL": mail_db,
            "ATUM_SMTP_HOST": "127.0.0.1",
            "ATUM_SMTP_PORT": str(sink.port),
            "ATUM_MAIL_HOST": MAIL_HOST,
            "ATUM_MAIL_LEASE_SECONDS": "5",
            "ATUM_MAIL_BATCH_SIZE": "5",
            "ATUM_WORKER_POLL_SECONDS": "0.2",
            "ATUM_SLA_SWEEP_SECONDS": "3600",
            **env,
        },
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.PIPE,
    )


async def wait_received(
    sink: Sink, count: int, proc: asyncio.subprocess.Process, deadline_s: float = 30
) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + deadline_s
    while len(sink.received) < count:
        if proc.returncode is not None:
            stderr = await proc.stderr.read() if proc.stderr else b""
            pytest.fail(f"the worker exited with {proc.returncode}: {stderr.decode()[-2000:]}")
        assert loop.time() < deadline, f"only {len(sink.received)} mails arrived"
        await asyncio.sleep(0.02)


async def wait_exit(proc: asyncio.subprocess.Process, deadline_s: float = 15) -> tuple[int, str]:
    try:
        _, stderr = await asyncio.wait_for(proc.communicate(), timeout=deadline_s)
    except TimeoutError:
        proc.kill()
        await proc.wait()
        pytest.fail(f"the worker did not exit within {deadline_s} s")
    assert proc.returncode is not None
    return proc.returncode, stderr.decode()


# ---------------------------------------------------------------- committed people and tickets


@dataclass(frozen=True)
class People:
    customer: User
    agent: User
    managers: list[User]


async def committed_people(engine: AsyncEngine) -> People:
    async with AsyncSession(engine, expire_on_commit=False) as session:
        org = await make_org(session)
        customer = await make_user(session, role=Role.CUSTOMER_USER, org=org)
        agent = await make_user(session, role=Role.AGENT)
        managers = [await make_user(session, role=Role.MANAGER) for _ in range(2)]
        await session.commit()
    return People(customer, agent, managers)


def new_ticket(people: People, **fields: Any) -> Ticket:
    now = utcnow()
    values: dict[str, Any] = {
        "id": uuid.uuid4(),
        "org_id": people.customer.org_id,
        "created_by": people.customer.id,
        "status": S.NEW.value,
        "priority": "P2",
        "title": f"Printer {uuid.uuid4().hex[:8]}",
        "description": "It is on fire.",
        "created_at": now,
        "updated_at": now,
        **fields,
    }
    return Ticket(**values)


async def active_managers(engine: AsyncEngine) -> set[uuid.UUID]:
    async with engine.connect() as conn:
        rows = await conn.execute(
            select(User.id).where(User.role == Role.MANAGER.value, User.is_active.is_(True))
        )
        return set(rows.scalars())


async def outbox_of(engine: AsyncEngine, ticket_id: uuid.UUID) -> list[OutboxMessage]:
    async with AsyncSession(engine) as session:
        rows = await session.scalars(
            select(OutboxMessage).where(OutboxMessage.ticket_id == ticket_id)
        )
        return list(rows)


# ---------------------------------------------------------------- tests


class TestDelivery:
    async def test_pending_mails_are_delivered_once_as_text_and_html(
        self, engine: AsyncEngine, sink: Sink
    ) -> None:
        ids = await enqueue(engine, 3)
        worker = Worker(worker_settings(sink.port), engine)

        assert await worker.drain() == 3
        assert await worker.drain() == 0

        assert_each_delivered_once(sink, ids)
        stored = await rows_of(engine, ids)
        assert {r.status for r in stored.values()} == {"sent"}
        assert all(r.sent_at is not None and r.lease_token is None for r in stored.values())
        assert worker.delivered == 3
        assert len({mail.peer for mail in sink.received}) == 1, "one SMTP connection per drain"
        async with engine.connect() as conn:
            expected = {
                message_id(r.id): r
                for r in await conn.execute(
                    select(OutboxMessage.__table__).where(OutboxMessage.id.in_(ids))
                )
            }
        for mail in sink.received:
            row = expected[outbox_key(mail.message_id)]
            assert mail.envelope_from == "desk@atum.test"
            assert mail.message["From"] == "ATUM DESK <desk@atum.test>"
            assert mail.envelope_to == (row.recipient_email,)
            assert mail.message["To"] == row.recipient_email
            assert mail.message["Subject"] == row.subject
            assert mail.message["Auto-Submitted"] == "auto-generated"
            assert mail.message.get_content_type() == "multipart/alternative"
            assert body_of(mail, "plain") == row.body_text
            assert body_of(mail, "html") == row.body_html

    async def test_the_dev_mail_sink_stores_each_mail_as_an_eml_file(
        self, engine: AsyncEngine, tmp_path: Path
    ) -> None:
        port = free_port()
        controller = mailsink.start(tmp_path / "mail", port=port)
        try:
            ids = await enqueue(engine, 2)
            settings = worker_settings(port)
            assert await Worker(settings, engine).drain() == 2
        finally:
            controller.stop()

        files = sorted((tmp_path / "mail").glob("*.eml"))
        assert not list((tmp_path / "mail").glob("*.part"))
        stored = [message_from_bytes(f.read_bytes(), policy=policy.default) for f in files]
        assert sorted(outbox_key(m["Message-ID"]) for m in stored) == sorted(map(message_id, ids))

    async def test_unusual_text_arrives_exactly_as_written(
        self, engine: AsyncEngine, sink: Sink
    ) -> None:
        subject = "[ATUM DESK #1234] Drucker brennt — “überall” 🔥 " + "sehr lang " * 20
        body_text = (
            "Line with = sign and =3D literal\n"
            ".a line starting with a dot\n"
            ".\n"
            "trailing spaces   \n"
            "tab\tinside\n"
            "--=_atum_not_a_boundary\n" + "x" * 300 + "\n"
            "Ünïcödé ✓ 日本語\n"
        )
        body_html = '<p style="color:#141B3D">Grüße &amp; ✓</p>\n' + "<b>long</b> " * 60
        [outbox_id] = await enqueue(engine, 1)
        async with engine.begin() as conn:
            await conn.execute(
                text(
                    "UPDATE notification_outbox SET subject = :s, body_text = :t, body_html = :h "
                    "WHERE id = :id"
                ),
                {"s": subject.strip(), "t": body_text, "h": body_html, "id": outbox_id},
            )

        sender = "Servicedesk Müller & Söhne <desk@example.test>"
        settings = worker_settings(sink.port, mail_from=sender)
        assert await Worker(settings, engine).drain() == 1

        [mail] = sink.received
        assert mail.message["From"] == sender
        assert mail.message["Subject"] == subject.strip()
        assert body_of(mail, "plain") == body_text
        assert body_of(mail, "html") == body_html
        assert not mail.message.defects
        assert all(not part.defects for part in mail.message.walk())

    async def test_a_mail_that_cannot_be_written_fails_alone(
        self, engine: AsyncEngine, sink: Sink
    ) -> None:
        good = await enqueue(engine, 2)
        header_break, non_ascii = await enqueue(engine, 2)
        async with engine.begin() as conn:
            await conn.execute(
                text("UPDATE notification_outbox SET subject = :s WHERE id = :id"),
                {"s": "Printer\n\nInjected body", "id": header_break},
            )
            await conn.execute(
                text("UPDATE notification_outbox SET recipient_email = :e WHERE id = :id"),
                {"e": f"jürgen-{uuid.uuid4().hex[:6]}@example.test", "id": non_ascii},
            )
        worker = Worker(worker_settings(sink.port), engine)

        assert await worker.drain() == 4

        assert_each_delivered_once(sink, good)
        stored = await rows_of(engine, [*good, header_break, non_ascii])
        assert {i: r.status for i, r in stored.items()} == {
            good[0]: "sent",
            good[1]: "sent",
            header_break: "failed",
            non_ascii: "failed",
        }
        assert "line break" in (stored[header_break].last_error or "")
        assert "non-ASCII" in (stored[non_ascii].last_error or "")

    async def test_smtp_login_from_the_settings(self, engine: AsyncEngine) -> None:
        sink = Sink(login=("desk", "s3cret")).start()
        try:
            ids = await enqueue(engine, 2)
            wrong = worker_settings(sink.port, smtp_username="desk", smtp_password="wrong")
            await Worker(wrong, engine).drain()
            refused = await rows_of(engine, ids)
            await make_due(engine)
            right = worker_settings(sink.port, smtp_username="desk", smtp_password="s3cret")
            await Worker(right, engine).drain()
        finally:
            sink.stop()

        assert {(r.status, r.attempts) for r in refused.values()} == {("pending", 1)}
        assert all("535" in (r.last_error or "") for r in refused.values())
        assert_each_delivered_once(sink, ids)
        assert {mail.login for mail in sink.received} == {b"desk"}


class TestFailures:
    async def test_server_down_keeps_every_mail_pending_until_it_is_back(
        self, engine: AsyncEngine, down: Sink
    ) -> None:
        ids = await enqueue(engine, 5)
        worker = Worker(worker_settings(down.port), engine)

        assert await worker.drain() == 5
        waiting = await rows_of(engine, ids)
        assert len(waiting) == 5
        for row in waiting.values():
            assert (row.status, row.attempts, row.sent_at) == ("pending", 1, None)
            assert row.last_error
            assert 20 < row.due_in <= 30
        assert await worker.drain() == 0, "a mail was retried before its backoff ran out"

        down.start()
        await make_due(engine)
        assert await worker.drain() == 5

        assert_each_delivered_once(down, ids)
        assert {r.status for r in (await rows_of(engine, ids)).values()} == {"sent"}

    async def test_a_4xx_answer_is_retried_with_growing_backoff_then_delivered(
        self, engine: AsyncEngine, sink: Sink
    ) -> None:
        sink.handler.data_replies.extend(["451 4.3.0 Try again later"] * 2)
        [outbox_id] = await enqueue(engine, 1)
        worker = Worker(worker_settings(sink.port, mail_retry_base_seconds=40), engine)

        await worker.drain()
        first = (await rows_of(engine, [outbox_id]))[outbox_id]
        await make_due(engine)
        await worker.drain()
        second = (await rows_of(engine, [outbox_id]))[outbox_id]
        await make_due(engine)
        await worker.drain()

        assert (first.status, first.attempts) == ("pending", 1)
        assert first.last_error is not None and "451" in first.last_error
        assert 30 < first.due_in <= 40
        assert (second.status, second.attempts) == ("pending", 2)
        assert 70 < second.due_in <= 80
        final = (await rows_of(engine, [outbox_id]))[outbox_id]
        assert (final.status, final.attempts, final.last_error) == ("sent", 3, None)
        assert_each_delivered_once(sink, [outbox_id])

    @pytest.mark.parametrize("stage", ["RCPT", "DATA"])
    async def test_a_5xx_answer_fails_the_mail_for_good(
        self, engine: AsyncEngine, sink: Sink, stage: str
    ) -> None:
        if stage == "RCPT":
            sink.handler.rcpt_reply = "550 5.1.1 No such user"
        else:
            sink.handler.data_replies.append("554 5.7.1 Rejected as spam")
        [outbox_id] = await enqueue(engine, 1)
        worker = Worker(worker_settings(sink.port), engine)

        await worker.drain()
        await make_due(engine)

        assert await worker.drain() == 0
        row = (await rows_of(engine, [outbox_id]))[outbox_id]
        assert (row.status, row.attempts, row.sent_at) == ("failed", 1, None)
        assert (
            row.last_error is not None and ("550" if stage == "RCPT" else "554") in row.last_error
        )
        assert sink.received == []

    async def test_max_attempts_fail_the_mail_and_the_admin_retry_sends_it(
        self, engine: AsyncEngine, sink: Sink, app: FastAPI
    ) -> None:
        sink.handler.data_replies.extend(["421 4.7.0 Busy"] * 3)
        [outbox_id] = await enqueue(engine, 1)
        worker = Worker(worker_settings(sink.port, mail_max_attempts=3), engine)

        history = []
        for _ in range(3):
            await worker.drain()
            history.append((await rows_of(engine, [outbox_id]))[outbox_id])
            await make_due(engine)

        assert [(r.status, r.attempts) for r in history] == [
            ("pending", 1),
            ("pending", 2),
            ("failed", 3),
        ]
        assert await worker.drain() == 0
        assert sink.received == []

        async with admin_api(app, engine) as (client, admin):
            listed = await client.get("/api/admin/notifications?status=failed")
            retried = await client.post(f"/api/admin/notifications/{outbox_id}/retry")
        assert [item["id"] for item in listed.json()["items"]] == [str(outbox_id)]
        assert retried.status_code == 200, retried.text
        assert (retried.json()["status"], retried.json()["attempts"]) == ("pending", 0)
        assert retried.json()["last_error"] is None

        assert await worker.drain() == 1
        assert_each_delivered_once(sink, [outbox_id])
        assert (await rows_of(engine, [outbox_id]))[outbox_id].status == "sent"
        async with engine.connect() as conn:
            audited = await conn.execute(
                select(AuditLog.actor_id).where(
                    AuditLog.action == "notification.retried", AuditLog.entity_id == outbox_id
                )
            )
            assert audited.scalars().all() == [admin]

    def test_backoff_doubles_from_the_base_up_to_the_cap(self) -> None:
        assert [backoff_seconds(n, 30, 3600) for n in range(1, 10)] == [
            30,
            60,
            120,
            240,
            480,
            960,
            1920,
            3600,
            3600,
        ]


@asynccontextmanager
async def admin_api(app: FastAPI, engine: AsyncEngine) -> AsyncIterator[tuple[AsyncClient, Any]]:
    """The real API on the worker database (its session dependency bound to *engine*), with an
    admin's bearer token; the override is removed afterwards."""

    async def session_on_worker_db() -> AsyncIterator[AsyncSession]:
        async with AsyncSession(engine, expire_on_commit=False) as session:
            try:
                yield session
            except BaseException:
                await session.rollback()
                raise
            else:
                await session.commit()

    now, lifetime = utcnow(), timedelta(minutes=10)
    async with AsyncSession(engine, expire_on_commit=False) as session:
        admin = await make_user(session, role=Role.ADMIN)
        auth = AuthSession(id=uuid.uuid4(), user_id=admin.id, expires_at=now + lifetime)
        session.add(auth)
        await session.commit()
    token = create_access_token(
        secret=get_settings().resolved_secret_key() or "",
        user_id=admin.id,
        session_id=auth.id,
        now=now,
        lifetime=lifetime,
    )
    app.dependency_overrides[get_session] = session_on_worker_db
    try:
        async with AsyncClient(
            transport=ASGITransport(app=app),
            base_url="http://testserver",
            headers={"Authorization": f"Bearer {token}"},
        ) as client:
            yield client, admin.id
    finally:
        app.dependency_overrides.pop(get_session, None)


class TestCrashesAndConcurrency:
    async def test_a_worker_killed_mid_batch_loses_nothing_and_resends_at_most_one(
        self, engine: AsyncEngine, sink: Sink, mail_db: str
    ) -> None:
        ids = await enqueue(engine, 12)
        sink.handler.delay = 0.3
        proc = await spawn_worker(mail_db, sink)
        try:
            await wait_received(sink, 3, proc)
        finally:
            proc.send_signal(signal.SIGKILL)
            await proc.wait()
        assert proc.returncode == -signal.SIGKILL
        interrupted = await rows_of(engine, ids)
        assert {r.status for r in interrupted.values()} >= {"sending"}

        sink.handler.delay = 0
        await expire_leases(engine)
        await Worker(worker_settings(sink.port), engine).drain()

        assert {r.status for r in (await rows_of(engine, ids)).values()} == {"sent"}
        counts = sink.counts()
        assert set(counts) == set(map(message_id, ids))
        assert sum(n - 1 for n in counts.values()) <= 1, counts

    async def test_two_workers_deliver_500_mails_without_a_duplicate(
        self, engine: AsyncEngine, sink: Sink, mail_db: str
    ) -> None:
        ids = await enqueue(engine, 500)
        engines = [create_async_engine(to_async_url(mail_db)) for _ in range(2)]
        try:
            workers = [Worker(worker_settings(sink.port), e) for e in engines]
            await asyncio.gather(*(w.drain() for w in workers))
        finally:
            for e in engines:
                await e.dispose()

        assert_each_delivered_once(sink, ids)
        assert {r.status for r in (await rows_of(engine, ids)).values()} == {"sent"}
        assert sum(w.delivered for w in workers) == 500
        assert all(w.delivered > 0 for w in workers), "the workers did not run concurrently"

    async def test_sigterm_finishes_the_mail_in_hand_and_exits_cleanly(
        self, engine: AsyncEngine, sink: Sink, mail_db: str
    ) -> None:
        ids = await enqueue(engine, 10)
        sink.handler.delay = 0.3
        proc = await spawn_worker(mail_db, sink)
        try:
            await wait_received(sink, 2, proc)
            at_signal = len(sink.received)
            proc.send_signal(signal.SIGTERM)
            code, stderr = await wait_exit(proc, deadline_s=10)
        finally:
            if proc.returncode is None:
                proc.kill()
                await proc.wait()

        assert code == 0, stderr
        assert "Traceback" not in stderr
        received = sink.counts()
        assert at_signal <= len(received) <= at_signal + 1
        assert all(n == 1 for n in received.values())
        stored = await rows_of(engine, ids)
        sent = {message_id(i) for i, r in stored.items() if r.status == "sent"}
        assert sent == set(received), "a mail in hand was sent but not marked, or the reverse"
        assert len(sent) < len(ids), "the worker ignored SIGTERM and sent everything"
        unsent = [r for r in stored.values() if r.status != "sent"]
        assert {(r.status, r.attempts, r.lease_token) for r in unsent} == {("pending", 0, None)}, (
            "the rest of the batch was not given back"
        )

        sink.handler.delay = 0
        await Worker(worker_settings(sink.port), engine).drain()
        assert_each_delivered_once(sink, ids)

    async def test_a_stalled_workers_late_marks_change_nothing(
        self, engine: AsyncEngine, sink: Sink
    ) -> None:
        ids = await enqueue(engine, 2)
        stalled = Worker(worker_settings(sink.port), engine)
        successor = Worker(worker_settings(sink.port), engine)

        token_a, claimed_a = await stalled.claim()
        await expire_leases(engine)
        token_b, claimed_b = await successor.claim()
        assert sorted(r.id for r in claimed_a) == sorted(r.id for r in claimed_b) == sorted(ids)

        await stalled.deliver(token_a, claimed_a[0])
        sink.handler.data_replies.append("451 4.3.0 Try again later")
        await stalled.deliver(token_a, claimed_a[1])
        await stalled.settle()

        after_stall = await rows_of(engine, ids)
        assert {(r.status, r.lease_token, r.last_error) for r in after_stall.values()} == {
            ("sending", token_b, None)
        }
        assert stalled.delivered == 0

        for row in claimed_b:
            await successor.deliver(token_b, row)
        await successor.settle()
        assert successor.delivered == 2
        assert {r.status for r in (await rows_of(engine, ids)).values()} == {"sent"}
        assert sink.counts()[message_id(claimed_a[0].id)] == 2

    async def test_a_committed_mail_wakes_a_sleeping_worker_at_once(
        self, engine: AsyncEngine, sink: Sink
    ) -> None:
        people = await committed_people(engine)
        worker = ObservedWorker(worker_settings(sink.port, worker_poll_seconds=60), engine)
        running = asyncio.create_task(worker.run())
        try:
            await asyncio.wait_for(worker.drained.wait(), timeout=10)
            ticket = new_ticket(people)
            async with AsyncSession(engine, expire_on_commit=False) as session:
                session.add(ticket)
                await session.flush()
                await notifications.send(session, notifications.created(ticket))
                await session.commit()
            rows = await outbox_of(engine, ticket.id)
            assert len(rows) >= 3
            await sink.wait_for(len(rows), deadline_s=10)
        finally:
            worker.stopping.set()
            await asyncio.wait_for(running, timeout=10)

        assert_each_delivered_once(sink, [r.id for r in rows])


class TestFairness:
    async def test_a_mail_flood_gives_way_to_the_sla_sweep_each_cycle_and_resumes_at_once(
        self, engine: AsyncEngine, sink: Sink, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        # No time budget at all: each cycle delivers one batch, then the sweep (and the triage
        # jobs) get their turn; the next cycle starts at once although the poll is a minute.
        monkeypatch.setattr(worker_module, "CYCLE_BUDGET_SECONDS", 0.0)
        ids = await enqueue(engine, 60)
        worker = SweepCountingWorker(
            worker_settings(
                sink.port, worker_poll_seconds=60, sla_sweep_seconds=0.001, mail_batch_size=20
            ),
            engine,
        )
        running = asyncio.create_task(worker.run())
        try:
            await sink.wait_for(60, deadline_s=20)
        finally:
            worker.stopping.set()
            await asyncio.wait_for(running, timeout=10)
        assert_each_delivered_once(sink, ids)
        assert worker.sweeps >= 3, "one batch of 20 per cycle, a sweep before each"


class TestAiBeside:
    async def test_a_stuck_model_call_does_not_hold_up_mail(
        self,
        engine: AsyncEngine,
        sink: Sink,
        ollama: FakeOllama,  # noqa: F811  (the fixture imported from test_ai_ollama)
    ) -> None:
        """The AI task waits on a model answer that does not come; meanwhile a new
        notification is committed and must be delivered at once (not after the model call)."""
        ollama.chat = "slow"  # answers only when released (or after 30 s)
        people = await committed_people(engine)
        settings = worker_settings(
            sink.port,
            worker_poll_seconds=60,
            ai_engine="ollama",
            ollama_url=ollama.url,
            ollama_model=CHAT_MODEL,
            ollama_embed_model=EMBED_MODEL,
            ollama_timeout_seconds=30,
        )
        triaged = new_ticket(people)
        async with AsyncSession(engine, expire_on_commit=False) as session:
            session.add(triaged)
            await session.flush()
            await ai_queue.enqueue(session, triaged.id, "created")
            await session.commit()
        worker = Worker(settings, engine)
        running = asyncio.create_task(worker.run())
        try:
            loop = asyncio.get_running_loop()
            deadline = loop.time() + 20
            while not any(path == "/api/chat" for path, _ in ollama.requests):
                assert loop.time() < deadline, "the AI job never asked the model"
                await asyncio.sleep(0.02)
            ticket = new_ticket(people)
            async with AsyncSession(engine, expire_on_commit=False) as session:
                session.add(ticket)
                await session.flush()
                await notifications.send(session, notifications.created(ticket))
                await session.commit()
            rows = await outbox_of(engine, ticket.id)
            await sink.wait_for(len(rows), deadline_s=10)
            assert not ollama.release.is_set(), "mail went out while the model call was open"
            assert worker.ai.completed == 0
        finally:
            ollama.release.set()
            worker.stopping.set()
            await asyncio.wait_for(running, timeout=20)
        assert_each_delivered_once(sink, [r.id for r in rows])
        assert worker.ai.completed == 1, "the job finished once the model answered"


class ObservedWorker(Worker):
    """A Worker that says when its first drain is over (it is then waiting: poll or NOTIFY)."""

    def __init__(self, settings: Settings, engine: AsyncEngine) -> None:
        super().__init__(settings, engine)
        self.drained = asyncio.Event()

    async def drain(self, budget_seconds: float | None = None) -> int:
        done = await super().drain(budget_seconds)
        self.drained.set()
        return done


class SweepCountingWorker(Worker):
    def __init__(self, settings: Settings, engine: AsyncEngine) -> None:
        super().__init__(settings, engine)
        self.sweeps = 0

    async def sweep(self, now: datetime | None = None) -> int:
        self.sweeps += 1
        return await super().sweep(now)


class TestTransactions:
    async def test_a_rolled_back_change_leaves_no_mail_and_wakes_no_worker(
        self, engine: AsyncEngine, mail_db: str
    ) -> None:
        people = await committed_people(engine)
        woken: list[str] = []

        def on_notify(conn: object, pid: int, channel: str, payload: object) -> None:
            woken.append(channel)

        listener = await _server_connection(mail_db)
        await listener.add_listener(notifications.CHANNEL, on_notify)
        try:
            rolled_back = new_ticket(people)
            async with AsyncSession(engine, expire_on_commit=False) as session:
                session.add(rolled_back)
                await session.flush()
                await notifications.send(session, notifications.created(rolled_back))
                inside = await session.scalar(
                    select(func.count())
                    .select_from(OutboxMessage)
                    .where(OutboxMessage.ticket_id == rolled_back.id)
                )
                await session.rollback()

            committed = new_ticket(people)
            async with AsyncSession(engine, expire_on_commit=False) as session:
                session.add(committed)
                await session.flush()
                await notifications.send(session, notifications.created(committed))
                await session.commit()
            loop = asyncio.get_running_loop()
            deadline = loop.time() + 10
            while not woken:
                assert loop.time() < deadline, "no NOTIFY for the committed change"
                await asyncio.sleep(0.02)
        finally:
            await listener.close()

        assert inside is not None and inside >= 3
        assert await outbox_of(engine, rolled_back.id) == []
        assert len(await outbox_of(engine, committed.id)) == inside
        assert woken == [notifications.CHANNEL], "the rolled-back change woke the workers"


NOW = datetime(2002, 6, 1, 12, 0, tzinfo=UTC)


class TestSlaSweep:
    async def test_two_sweepers_mark_a_breach_once_and_notify_each_recipient_once(
        self, engine: AsyncEngine, sink: Sink, mail_db: str
    ) -> None:
        people = await committed_people(engine)
        ticket = new_ticket(
            people,
            status=S.IN_PROGRESS.value,
            assigned_to=people.agent.id,
            accepted_by=people.managers[0].id,
            accepted_at=NOW - timedelta(hours=3),
            sla_first_response_due_at=NOW - timedelta(minutes=1),
            sla_resolution_due_at=NOW + timedelta(days=1),
        )
        async with AsyncSession(engine, expire_on_commit=False) as session:
            session.add(ticket)
            await session.commit()
        engines = [create_async_engine(to_async_url(mail_db)) for _ in range(2)]
        try:
            sweeps = await asyncio.gather(
                *(Worker(worker_settings(sink.port), e).sweep(now=NOW) for e in engines)
            )
            again = await Worker(worker_settings(sink.port), engines[0]).sweep(now=NOW)
        finally:
            for e in engines:
                await e.dispose()

        assert sorted(sweeps) == [0, 1]
        assert again == 0
        async with AsyncSession(engine) as session:
            stored = await session.get(Ticket, ticket.id)
            assert stored is not None
            assert stored.sla_first_response_breached_at == NOW - timedelta(minutes=1)
            assert stored.sla_resolution_breached_at is None
            audits = await session.scalars(
                select(AuditLog.new_value).where(
                    AuditLog.ticket_id == ticket.id, AuditLog.action == "sla.breached"
                )
            )
            assert [a["sla"] for a in audits] == ["first_response"]
        mails = await outbox_of(engine, ticket.id)
        recipients = Counter(m.recipient_id for m in mails)
        expected = {people.agent.id} | await active_managers(engine)
        assert recipients == dict.fromkeys(expected, 1)
        assert {m.template for m in mails} == {"sla_breached"}
        assert all("SLA breached (first response)" in m.subject for m in mails)
        assert people.customer.id not in recipients
