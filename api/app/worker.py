"""The background worker: delivers the notification outbox over SMTP, sweeps SLA breaches, turns
stored mail into tickets and comments (app/mail/inbound.py) and polls IMAP mailboxes.

Delivery is at-least-once with a narrow window: rows are claimed in small batches with
``FOR UPDATE SKIP LOCKED`` and a lease (a random token and an expiry); a row is marked sent only
if its lease is still ours, so a stalled worker's late "sent" is ignored and its rows are taken
over once the lease expires. A crash between the SMTP answer and the "sent" mark may resend that
one row; the stable ``Message-ID: <outbox-{id}@host>`` lets mail clients recognise the duplicate.

One SMTP connection is kept open while there is mail to send; each mail's "sent" mark goes to
the database while the next mail's envelope goes out (see ``Worker.deliver``).

Wakes up at once on ``NOTIFY atum_outbox`` (sent by the transaction that enqueued), and polls too.
Every ATUM_AUDIT_HEAD_EXPORT_MINUTES (and at start) it logs the audit chain heads and appends them
to <data dir>/audit-heads (docs/AUDIT_CHAIN.md); every ATUM_RATE_LIMIT_PRUNE_MINUTES it deletes
rate-limit counters whose window ended long ago.
SIGTERM/SIGINT: the row in hand is finished, the rest of its batch is given back, then the worker
exits.
"""

from __future__ import annotations

import asyncio
import binascii
import contextlib
import signal
import socket
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime
from email.charset import BASE64, Charset
from email.errors import MessageError
from email.header import Header
from email.utils import format_datetime, formataddr, parseaddr
from functools import lru_cache
from pathlib import Path

import aiosmtplib
import asyncpg
import structlog
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession

from app.ai import jobs as ai_jobs
from app.config import Settings
from app.db.session import get_engine
from app.mail import imap, inbound
from app.mail.tokens import reply_address
from app.services import (
    account_mail,
    account_tokens,
    live,
    notifications,
    presence,
    ratelimit,
    sla_sweep,
    sso,
)
from app.services.audit_chain import Head, export_line
from app.utils.clock import utcnow

log = structlog.get_logger("atum.worker")

_UTF8_B64 = Charset("utf-8")
_UTF8_B64.header_encoding = BASE64

# Claims and "sent" marks are single statements (one round trip each) committed asynchronously:
# visible to every worker at once and kept when a worker dies; only a crash of the database server
# itself could lose the last ones, and those mails would then be sent again. A synchronous commit
# (a WAL flush) per mail would cost more than the mail.
# Seconds of mail delivery per worker cycle before the SLA sweep and the triage jobs get their turn.
CYCLE_BUDGET_SECONDS = 5.0
# On shutdown the AI task may finish the job it is on for this long (else its lease expires and
# the job is taken again later).
AI_STOP_SECONDS = 10.0
# ... and while a backlog of incoming mail remains, for notifications and triage.
BACKLOG_SLICE_SECONDS = 0.5

_CLAIM = text(
    """
    WITH async_commit AS (SELECT set_config('synchronous_commit', 'off', true))
    UPDATE notification_outbox AS o
    SET status = 'sending', attempts = o.attempts + 1,
        lease_token = :token, lease_until = now() + make_interval(secs => :lease)
    FROM async_commit
    WHERE o.id IN (
        SELECT id FROM notification_outbox
        WHERE (status = 'pending' AND next_attempt_at <= now())
           OR (status = 'sending' AND lease_until < now())
        ORDER BY next_attempt_at
        LIMIT :batch
        FOR UPDATE SKIP LOCKED
    )
    RETURNING o.id, o.recipient_email, o.subject, o.body_text, o.body_html, o.attempts,
        o.message_id, o.reply_token,
        -- the thread: this recipient's earlier mails about the ticket, oldest first (References)
        ARRAY(
            SELECT e.message_id FROM (
                SELECT p.message_id, p.created_at FROM notification_outbox p
                WHERE p.ticket_id = o.ticket_id AND p.recipient_id = o.recipient_id
                  AND p.created_at < o.created_at AND p.status = 'sent'
                  AND p.message_id IS NOT NULL
                ORDER BY p.created_at DESC LIMIT 20
            ) e ORDER BY e.created_at
        ),
        o.sealed_link
    """
)
_SENT = text(
    """
    WITH async_commit AS (SELECT set_config('synchronous_commit', 'off', true))
    UPDATE notification_outbox SET status = 'sent', sent_at = now(), lease_token = NULL,
        lease_until = NULL, last_error = NULL
    FROM async_commit
    WHERE id = :id AND lease_token = :token AND status = 'sending'
    """
)
_RELEASE = text(
    """
    UPDATE notification_outbox SET status = 'pending', attempts = attempts - 1,
        lease_token = NULL, lease_until = NULL
    WHERE id = ANY(:ids) AND lease_token = :token AND status = 'sending'
    """
)
_HEADS = text("SELECT chain, seq, hash FROM audit_chain_heads ORDER BY chain")
_PRUNE_SSO_LOGINS = text("DELETE FROM sso_logins WHERE expires_at < now() - interval '1 day'")
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
    message_id: str | None = None
    reply_token: str | None = None
    references: tuple[str, ...] | list[str] = ()
    # The link of an account mail or of a resolved mail's rating, sealed (services/account_mail.py).
    sealed_link: str | None = None


class PermanentFailure(Exception):
    """The SMTP server refused the message for good (5xx)."""


def backoff_seconds(attempts: int, base: int, cap: int) -> int:
    """Exponential backoff: base, 2·base, 4·base, … capped."""
    return int(min(cap, base * 2 ** max(0, attempts - 1)))


@lru_cache
def _fqdn() -> str:
    return socket.getfqdn()


def envelope_sender(settings: Settings) -> str:
    return parseaddr(settings.resolved_mail_from)[1]


def _one_line(value: str) -> str:
    if "\r" in value or "\n" in value:
        raise ValueError(f"line break in a header value: {value[:80]!r}")
    return value


def _encoded(value: str) -> str:
    """A header value as 7-bit text: as it is when ASCII, else RFC 2047 encoded words."""
    if value.isascii():
        return _one_line(value)
    return Header(_one_line(value), _UTF8_B64).encode(linesep="\n")


def _address(value: str) -> str:
    if not value.isascii():
        raise ValueError(f"non-ASCII address (needs SMTPUTF8): {value[:80]!r}")
    return _one_line(value)


def build_message(row: Claimed, settings: Settings) -> bytes:
    """The mail as sent: multipart/alternative (text, HTML), each UTF-8 quoted-printable, with a
    stable Message-ID. Written directly (the boundary cannot occur in quoted-printable text, which
    never has "=_"): ten times cheaper than ``email.mime``, which cost more than the SMTP dialogue.
    Raises ``ValueError`` when a header cannot be written safely."""
    name, address = parseaddr(settings.resolved_mail_from)
    boundary = f"=_atum_{row.id.hex}"
    message_id = row.message_id or f"<outbox-{row.id}@{settings.mail_host or _fqdn()}>"
    thread = ""
    if row.references:
        thread = (
            f"In-Reply-To: {_one_line(row.references[-1])}\n"
            f"References: {' '.join(_one_line(r) for r in row.references)}\n"
        )
    reply_to = ""
    if row.reply_token:
        to = reply_address(settings.resolved_inbound_address, row.reply_token)
        reply_to = f"Reply-To: {_address(to)}\n"
    head = (
        f"From: {formataddr((name, _address(address)), charset='utf-8')}\n"
        f"To: {_address(row.recipient)}\n"
        f"Subject: {_encoded(row.subject)}\n"
        f"Date: {format_datetime(utcnow())}\n"
        f"Message-ID: {_one_line(message_id)}\n"
        f"{thread}{reply_to}"
        "Auto-Submitted: auto-generated\n"
        # Exchange and Outlook: no out-of-office or read receipts for our notifications.
        "X-Auto-Response-Suppress: All\n"
        "MIME-Version: 1.0\n"
        f'Content-Type: multipart/alternative; boundary="{boundary}"\n'
    )
    parts = [head.encode("ascii")]
    bodies = (
        ("plain", account_mail.open_link(row.id, row.body_text, row.sealed_link)),
        ("html", account_mail.open_link(row.id, row.body_html, row.sealed_link)),
    )
    for subtype, content in bodies:
        parts.append(
            f"\n--{boundary}\n"
            f'Content-Type: text/{subtype}; charset="utf-8"\n'
            "Content-Transfer-Encoding: quoted-printable\n\n".encode("ascii")
        )
        parts.append(binascii.b2a_qp(content.encode("utf-8"), istext=True))
    parts.append(f"\n--{boundary}--\n".encode("ascii"))
    return b"".join(parts)


def connection(settings: Settings) -> aiosmtplib.SMTP:
    """An (unconnected) SMTP client for ``ATUM_SMTP_*``; ``connect()`` does STARTTLS and login."""
    return aiosmtplib.SMTP(
        hostname=settings.smtp_host or "127.0.0.1",
        port=settings.smtp_port,
        username=settings.smtp_username,
        password=settings.smtp_password.get_secret_value() if settings.smtp_password else None,
        start_tls=settings.smtp_starttls,
        use_tls=settings.smtp_ssl,
        timeout=settings.smtp_timeout_seconds,
    )


async def send(
    smtp: aiosmtplib.SMTP,
    sender: str,
    recipient: str,
    message: bytes,
    *,
    before_content: Callable[[], Awaitable[None]] | None = None,
) -> None:
    """Deliver one message; 5xx answers are permanent, everything else is worth a retry.
    *before_content* runs once the envelope is accepted, before the message itself goes out."""
    try:
        await smtp.mail(sender)
        await smtp.rcpt(recipient)
        if before_content is not None:
            await before_content()
        await smtp.data(message)
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
        self.ai = ai_jobs.AiRunner(self.engine, settings, self.stopping)
        self.delivered = 0
        self.mail_left = False
        self.sender = envelope_sender(settings)
        self._smtp: aiosmtplib.SMTP | None = None
        self._marking: asyncio.Future[None] | None = None
        self._conn: AsyncConnection | None = None

    async def claim(self) -> tuple[uuid.UUID, list[Claimed]]:
        token = uuid.uuid4()
        async with self._autocommit() as conn:
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
        """Send one claimed mail over the worker's SMTP connection.

        Its "sent" mark is committed in the background while the next mail's envelope goes out,
        and always before that mail's content does: at any moment at most one sent mail is
        unmarked, the one a crash may send again. ``settle()`` waits for the last mark."""
        settings = self.settings
        try:
            message = build_message(row, settings)
        except (ValueError, MessageError) as exc:
            await self._retry(row, token, "failed", 0, f"cannot build the mail: {exc}")
            log.warning("mail_failed", outbox_id=str(row.id), error=str(exc)[:300])
            return
        try:
            smtp = await self._connected()
            await send(smtp, self.sender, row.recipient, message, before_content=self.settle)
        except PermanentFailure as exc:
            self._drop_connection()
            await self._retry(row, token, "failed", 0, str(exc))
            log.warning("mail_failed", outbox_id=str(row.id), error=str(exc)[:300])
            return
        except (aiosmtplib.SMTPException, OSError, TimeoutError) as exc:
            self._drop_connection()
            final = row.attempts >= settings.mail_max_attempts
            delay = backoff_seconds(row.attempts, settings.mail_retry_base_seconds, 3600)
            await self._retry(row, token, "failed" if final else "pending", delay, repr(exc))
            log.info("mail_deferred", outbox_id=str(row.id), attempts=row.attempts, final=final)
            return
        self._marking = asyncio.ensure_future(self._mark_sent(token, row))

    async def settle(self) -> None:
        """Wait until the last mail sent is marked."""
        marking, self._marking = self._marking, None
        if marking is not None:
            await marking

    async def _mark_sent(self, token: uuid.UUID, row: Claimed) -> None:
        async with self._autocommit() as conn:
            result = await conn.execute(_SENT, {"id": row.id, "token": token})
        if result.rowcount == 1:
            self.delivered += 1
        else:
            log.warning("mail_lease_lost", outbox_id=str(row.id))

    @asynccontextmanager
    async def _autocommit(self) -> AsyncIterator[AsyncConnection]:
        """The drain's own connection for the "sent" marks (one statement, one transaction),
        else one from the pool."""
        if self._conn is not None:
            yield self._conn
            return
        async with self.engine.connect() as conn:
            yield await conn.execution_options(isolation_level="AUTOCOMMIT")

    async def _connected(self) -> aiosmtplib.SMTP:
        """One SMTP connection for as long as there is mail to send (reopened after errors)."""
        if self._smtp is None or not self._smtp.is_connected:
            smtp = connection(self.settings)
            await smtp.connect()
            self._smtp = smtp
        return self._smtp

    def _drop_connection(self) -> None:
        if self._smtp is not None:
            self._smtp.close()
            self._smtp = None

    async def _hang_up(self) -> None:
        smtp, self._smtp = self._smtp, None
        if smtp is not None and smtp.is_connected:
            try:
                await smtp.quit()
            except (aiosmtplib.SMTPException, OSError, TimeoutError):
                smtp.close()

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

    async def _release(self, token: uuid.UUID, rows: list[Claimed]) -> None:
        """Give claimed but untouched rows back at once (not when their lease runs out)."""
        async with self.engine.begin() as conn:
            await conn.execute(_RELEASE, {"ids": [r.id for r in rows], "token": token})

    async def drain(self, budget_seconds: float | None = None) -> int:
        """Deliver due rows until none are left, we are asked to stop or (with a budget) the
        budget is spent (checked after each batch, so every call delivers a batch);
        ``self.mail_left`` tells whether rows may still be waiting."""
        total = 0
        loop = asyncio.get_running_loop()
        deadline = None if budget_seconds is None else loop.time() + budget_seconds
        self.mail_left = False
        async with self.engine.connect() as conn:
            self._conn = await conn.execution_options(isolation_level="AUTOCOMMIT")
            try:
                while not self.stopping.is_set():
                    await self.settle()
                    token, batch = await self.claim()
                    if not batch:
                        break
                    for i, row in enumerate(batch):
                        if self.stopping.is_set():
                            await self._release(token, batch[i:])
                            break
                        await self.deliver(token, row)
                        total += 1
                    # At least one batch per call, then the budget is checked between batches.
                    if deadline is not None and loop.time() >= deadline:
                        self.mail_left = True
                        break
            finally:
                try:
                    await self.settle()
                finally:
                    self._conn = None
                    await self._hang_up()
        return total

    async def sweep(self, now: datetime | None = None) -> int:
        """Record SLA breaches, warnings and escalations and enqueue their mails, in one
        transaction (services/sla_sweep.py); returns how many were announced."""
        now = now or utcnow()
        async with AsyncSession(self.engine, expire_on_commit=False) as session, session.begin():
            recomputed = await sla_sweep.recompute_stale(session, now)
        if recomputed:
            log.info("sla_recomputed", tickets=recomputed)
        async with AsyncSession(self.engine, expire_on_commit=False) as session, session.begin():
            counts = (await sla_sweep.sweep(session, now)).counts()
        if any(counts.values()):
            log.info("sla_sweep", **counts)
        return sum(counts.values())

    async def export_heads(self, now: datetime | None = None) -> list[Head]:
        """Log the audit chain heads (event ``audit.chain_head``) and append them as one JSON line
        to <data dir>/audit-heads: kept outside the database, they let ``atum-desk audit verify
        --heads`` detect rows deleted from the end of a chain."""
        async with self.engine.connect() as conn:
            rows = (await conn.execute(_HEADS)).all()
        heads = [Head(int(r.chain), int(r.seq), bytes(r.hash)) for r in rows]
        line = export_line(heads, now or utcnow())
        log.info("audit.chain_head", chains=[h.as_json() for h in heads])
        await asyncio.to_thread(_append_line, self.settings.data_dir / "audit-heads", line)
        return heads

    async def prune_rate_limits(self) -> int:
        """Delete rate-limit counters whose window ended long ago (one bounded statement)."""
        age = ratelimit.prune_age(self.settings.login_window_seconds)
        async with self.engine.begin() as conn:
            pruned: int = await ratelimit.prune(conn, age)
            # Account links and half-logins that expired over a day ago can never work again.
            tokens = await account_tokens.prune(conn)
            # Live-update events older than the replay window, presence whose heartbeats stopped.
            await live.prune(conn)
            await presence.prune(conn)
            # OpenID Connect sign-ins that were never completed.
            await conn.execute(_PRUNE_SSO_LOGINS)
        if pruned:
            log.info("rate_limit_pruned", rows=pruned)
        if tokens:
            log.info("account_tokens_pruned", rows=tokens)
        return pruned

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
        await conn.add_listener(notifications.CHANNEL, lambda *_: self._wake())
        return conn

    def _wake(self) -> None:
        self.wakeup.set()
        self.ai.wakeup.set()

    async def run(self) -> None:
        listener = await self._listen()
        # Advisory AI triage runs as its own task (app/ai/jobs.py AiRunner): a slow model call
        # never delays the mail, SLA and mailbox work of this loop.
        ai_task = asyncio.create_task(self.ai.run(), name="atum-ai")
        last_sweep = last_export = last_prune = float("-inf")
        loop = asyncio.get_running_loop()
        log.info("worker_started", poll_seconds=self.settings.worker_poll_seconds)
        try:
            while not self.stopping.is_set():
                self.wakeup.clear()
                try:
                    if loop.time() - last_sweep >= self.settings.sla_sweep_seconds:
                        last_sweep = loop.time()
                        await self.sweep()
                    if loop.time() - last_export >= self.settings.audit_head_export_minutes * 60:
                        last_export = loop.time()
                        await self.export_heads()
                    if loop.time() - last_prune >= self.settings.rate_limit_prune_minutes * 60:
                        last_prune = loop.time()
                        await self.prune_rate_limits()
                    # Each kind of work gets a bounded slice per cycle, so that a flood of one
                    # never holds back the others. Mail in comes first: a customer's mail should
                    # be a ticket within seconds. While a backlog of it remains, notifications
                    # and the advisory triage get short slices (they catch up once it is gone).
                    received = await inbound.process_due(
                        self.engine,
                        self.settings,
                        stopping=self.stopping,
                        budget_seconds=CYCLE_BUDGET_SECONDS,
                    )
                    backlog = received > 0 and await inbound.backlog(self.engine)
                    slice_ = BACKLOG_SLICE_SECONDS if backlog else CYCLE_BUDGET_SECONDS
                    await self.drain(slice_)
                    # IMAP mailboxes that are due are polled (bounded in time per cycle).
                    fetched = await imap.poll_due(self.engine, self.settings)
                    # Directories (LDAP) due for their user sync (services/sso.py).
                    await sso.sync_due(self.engine)
                    if self.mail_left or received or fetched:
                        self.wakeup.set()  # work may be waiting: the next cycle at once
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
            self.stopping.set()
            with contextlib.suppress(Exception):
                await asyncio.wait_for(ai_task, timeout=AI_STOP_SECONDS)
            if not ai_task.done():
                ai_task.cancel()
            if listener is not None:
                await listener.close()
            log.info("worker_stopped", delivered=self.delivered, triaged=self.ai.completed)


def _append_line(path: Path, line: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a", encoding="ascii") as out:
        out.write(line + "\n")


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
