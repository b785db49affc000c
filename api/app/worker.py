"""The background worker: delivers the notification outbox over SMTP and sweeps SLA breaches.

Delivery is at-least-once with a narrow window: rows are claimed in small batches with
``FOR UPDATE SKIP LOCKED`` and a lease (a random token and an expiry); a row is marked sent only
if its lease is still ours, so a stalled worker's late "sent" is ignored and its rows are taken
over once the lease expires. A crash between the SMTP answer and the "sent" mark may resend that
one row; the stable ``Message-ID: <outbox-{id}@host>`` lets mail clients recognise the duplicate.

Wakes up at once on ``NOTIFY atum_outbox`` (sent by the transaction that enqueued), and polls too.
SIGTERM/SIGINT: the row in hand is finished, then the worker exits.
"""

from __future__ import annotations

import asyncio
import signal
import socket
import uuid
from dataclasses import dataclass
from datetime import datetime
from email.message import EmailMessage
from email.utils import format_datetime

import aiosmtplib
import asyncpg
import structlog
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine

from app.config import Settings
from app.db.session import get_engine, get_sessionmaker
from app.services import notifications, tickets
from app.utils.clock import utcnow

log = structlog.get_logger("atum.worker")

_CLAIM = text(
    """
    UPDATE notification_outbox AS o
    SET status = 'sending', attempts = o.attempts + 1,
        lease_token = :token, lease_until = now() + make_interval(secs => :lease)
    WHERE o.id IN (
        SELECT id FROM notification_outbox
        WHERE (status = 'pending' AND next_attempt_at <= now())
           OR (status = 'sending' AND lease_until < now())
        ORDER BY next_attempt_at
        LIMIT :batch
        FOR UPDATE SKIP LOCKED
    )
    RETURNING o.id, o.recipient_email, o.subject, o.body_text, o.body_html, o.attempts
    """
)
_SENT = text(
    """
    UPDATE notification_outbox SET status = 'sent', sent_at = now(), lease_token = NULL,
        lease_until = NULL, last_error = NULL
    WHERE id = :id AND lease_token = :token AND status = 'sending'
    """
)
_RETRY = text(
    """
    UPDATE notification_outbox SET status = :status, lease_token = NULL, lease_until = NULL,
        next_attempt_at = now() + make_interval(secs => :delay), last_error = :error
    WHERE id = :id AND lease_token = :token AND status = 'sending'
    """
)


@dataclass(frozen=True, slots=True)
class Claimed:
    id: uuid.UUID
    recipient: str
    subject: str
    body_text: str
    body_html: str
    attempts: int


class PermanentFailure(Exception):
    """The SMTP server refused the message for good (5xx)."""


def backoff_seconds(attempts: int, base: int, cap: int) -> int:
    """Exponential backoff: base, 2·base, 4·base, … capped."""
    return int(min(cap, base * 2 ** max(0, attempts - 1)))


def build_message(row: Claimed, settings: Settings) -> EmailMessage:
    message = EmailMessage()
    message["From"] = settings.mail_from
    message["To"] = row.recipient
    message["Subject"] = row.subject
    message["Date"] = format_datetime(utcnow())
    message["Message-ID"] = f"<outbox-{row.id}@{settings.mail_host or socket.getfqdn()}>"
    message["Auto-Submitted"] = "auto-generated"
    message.set_content(row.body_text)
    message.add_alternative(row.body_html, subtype="html")
    return message


async def send(message: EmailMessage, settings: Settings) -> None:
    """Deliver one message; 5xx answers are permanent, everything else is worth a retry."""
    try:
        await aiosmtplib.send(
            message,
            hostname=settings.smtp_host or "127.0.0.1",
            port=settings.smtp_port,
            username=settings.smtp_username,
            password=settings.smtp_password.get_secret_value() if settings.smtp_password else None,
            start_tls=settings.smtp_starttls,
            use_tls=settings.smtp_ssl,
            timeout=settings.smtp_timeout_seconds,
        )
    except aiosmtplib.SMTPRecipientsRefused as exc:
        codes = [r.code for r in exc.recipients]
        if codes and all(500 <= c < 600 for c in codes):
            raise PermanentFailure(str(exc)) from exc
        raise
    except aiosmtplib.SMTPResponseException as exc:
        if 500 <= exc.code < 600:
            raise PermanentFailure(f"{exc.code} {exc.message}") from exc
        raise


class Worker:
    def __init__(self, settings: Settings, engine: AsyncEngine | None = None) -> None:
        self.settings = settings
        self.engine = engine or get_engine()
        self.stopping = asyncio.Event()
        self.wakeup = asyncio.Event()
        self.delivered = 0

    async def claim(self) -> tuple[uuid.UUID, list[Claimed]]:
        token = uuid.uuid4()
        async with self.engine.begin() as conn:
            rows = await conn.execute(
                _CLAIM,
                {
                    "token": token,
                    "lease": self.settings.mail_lease_seconds,
                    "batch": self.settings.mail_batch_size,
                },
            )
            return token, [Claimed(*r) for r in rows.all()]

    async def deliver(self, token: uuid.UUID, row: Claimed) -> None:
        settings = self.settings
        try:
            await send(build_message(row, settings), settings)
        except PermanentFailure as exc:
            await self._retry(row, token, "failed", 0, str(exc))
            log.warning("mail_failed", outbox_id=str(row.id), error=str(exc)[:300])
            return
        except (aiosmtplib.SMTPException, OSError, TimeoutError) as exc:
            final = row.attempts >= settings.mail_max_attempts
            delay = backoff_seconds(row.attempts, settings.mail_retry_base_seconds, 3600)
            await self._retry(row, token, "failed" if final else "pending", delay, repr(exc))
            log.info("mail_deferred", outbox_id=str(row.id), attempts=row.attempts, final=final)
            return
        async with self.engine.begin() as conn:
            result = await conn.execute(_SENT, {"id": row.id, "token": token})
        if result.rowcount == 1:
            self.delivered += 1
        else:
            log.warning("mail_lease_lost", outbox_id=str(row.id))

    async def _retry(
        self, row: Claimed, token: uuid.UUID, status: str, delay: int, error: str
    ) -> None:
        async with self.engine.begin() as conn:
            await conn.execute(
                _RETRY,
                {
                    "id": row.id,
                    "token": token,
                    "status": status,
                    "delay": delay,
                    "error": error[:2000],
                },
            )

    async def drain(self) -> int:
        """Deliver due rows until none are left (or we are asked to stop)."""
        total = 0
        while not self.stopping.is_set():
            token, batch = await self.claim()
            if not batch:
                return total
            for row in batch:
                if self.stopping.is_set():
                    break  # unclaimed rows of this batch go back when the lease expires
                await self.deliver(token, row)
                total += 1
        return total

    async def sweep(self, now: datetime | None = None) -> int:
        """Mark SLA breaches and enqueue their notifications, in one transaction."""
        now = now or utcnow()
        async with get_sessionmaker()() as session, session.begin():
            return len(await tickets.sweep_breaches(session, now))

    async def _listen(self) -> asyncpg.Connection | None:
        url = make_url(self.engine.url.render_as_string(hide_password=False))
        socket_dir = url.query.get("host")
        host: str | None = socket_dir if isinstance(socket_dir, str) else url.host
        try:
            conn: asyncpg.Connection = await asyncpg.connect(
                user=url.username,
                password=url.password,
                database=url.database,
                host=host,
                port=url.port,
            )
        except (OSError, asyncpg.PostgresError) as exc:
            log.warning("listen_unavailable", error_type=type(exc).__name__)
            return None
        await conn.add_listener(notifications.CHANNEL, lambda *_: self.wakeup.set())
        return conn

    async def run(self) -> None:
        listener = await self._listen()
        last_sweep = 0.0
        loop = asyncio.get_running_loop()
        log.info("worker_started", poll_seconds=self.settings.worker_poll_seconds)
        try:
            while not self.stopping.is_set():
                self.wakeup.clear()
                try:
                    if loop.time() - last_sweep >= self.settings.sla_sweep_seconds:
                        last_sweep = loop.time()
                        await self.sweep()
                    await self.drain()
                except (OSError, asyncpg.PostgresError, ConnectionError) as exc:
                    log.warning("worker_cycle_failed", error_type=type(exc).__name__)
                except Exception as exc:
                    if not _is_db_outage(exc):
                        raise
                    log.warning("worker_cycle_failed", error_type=type(exc).__name__)
                stop = asyncio.ensure_future(self.stopping.wait())
                wake = asyncio.ensure_future(self.wakeup.wait())
                await asyncio.wait(
                    {stop, wake},
                    timeout=self.settings.worker_poll_seconds,
                    return_when=asyncio.FIRST_COMPLETED,
                )
                for f in (stop, wake):
                    f.cancel()
        finally:
            if listener is not None:
                await listener.close()
            log.info("worker_stopped", delivered=self.delivered)


def _is_db_outage(exc: Exception) -> bool:
    from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError

    if isinstance(exc, OperationalError | InterfaceError):
        return True
    return isinstance(exc, DBAPIError) and bool(exc.connection_invalidated)


async def run_worker(settings: Settings) -> None:
    worker = Worker(settings)
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, worker.stopping.set)
    try:
        await worker.run()
    finally:
        await worker.engine.dispose()
