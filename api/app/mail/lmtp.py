"""The LMTP listener an MTA (Postfix: ``virtual_transport = lmtp:inet:host:port``) delivers to.

It only stores: ``250`` is answered after the raw message and its row are committed; any failure
(the database away, a full disk) answers ``451`` so the MTA keeps the mail queued and tries again;
a message over ``ATUM_MAIL_MAX_MB`` is refused with ``552`` (announced with SIZE in LHLO, checked
again while the data arrives, and nothing of it is stored). A recipient that is not one of our
active LMTP mailboxes (with or without a ``+token``) is refused with ``550`` at RCPT.
Parsing and everything after it is the worker's job (app/mail/inbound.py).
"""

from __future__ import annotations

import asyncio
import signal
from typing import Any

import structlog
from aiosmtpd.lmtp import LMTP
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from app.config import Settings
from app.db.session import get_engine
from app.mail.store import store

log = structlog.get_logger("atum.lmtp")

_MAILBOX = text("SELECT id FROM mailboxes WHERE address = :address AND kind = 'lmtp' AND active")
# Long lines happen in real mail (bad senders); the MTA passes them on, so must we.
_LINE_LIMIT = 1 << 20


def base_address(address: str) -> str:
    """``support+token@Desk.Test`` → ``support@desk.test``."""
    local, _, domain = address.strip().strip("<>").rpartition("@")
    return f"{local.partition('+')[0]}@{domain}".lower()


# A mailbox found is remembered this long (one round trip less per mail); an address not found
# is asked again every time, so a mailbox an admin just added never bounces mail.
MAILBOX_CACHE_SECONDS = 10.0


class Handler:
    def __init__(self, engine: AsyncEngine, settings: Settings) -> None:
        self.engine = engine
        self.settings = settings
        self.stored = 0
        self._mailboxes: dict[str, tuple[Any, float]] = {}

    async def _mailbox(self, address: str) -> Any:
        loop = asyncio.get_running_loop()
        cached = self._mailboxes.get(address)
        if cached is not None and cached[1] > loop.time():
            return cached[0]
        async with self.engine.connect() as conn:
            found = (await conn.execute(_MAILBOX, {"address": address})).first()
        if found is None:
            self._mailboxes.pop(address, None)
            return None
        self._mailboxes[address] = (found[0], loop.time() + MAILBOX_CACHE_SECONDS)
        return found[0]

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, rcpt_options: list[str]
    ) -> str:
        try:
            mailbox_id = await self._mailbox(base_address(address))
        except Exception as exc:
            log.warning("lmtp_rcpt_failed", error_type=type(exc).__name__)
            return "451 4.3.0 Temporary failure, please try again later"
        if mailbox_id is None:
            return "550 5.1.1 No such mailbox here"
        envelope.rcpt_tos.append(address)
        envelope.rcpt_options.append(rcpt_options)
        if not hasattr(envelope, "mailbox_id"):
            envelope.mailbox_id = mailbox_id
        return "250 2.1.5 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        recipients = len(envelope.rcpt_tos)
        raw = envelope.original_content
        if not isinstance(raw, bytes):
            raw = str(raw).encode("utf-8", "surrogateescape")
        try:
            async with self.engine.begin() as conn:
                done = await store(
                    conn,
                    raw,
                    via="lmtp",
                    mailbox_id=getattr(envelope, "mailbox_id", None),
                    envelope_from=envelope.mail_from,
                    envelope_to=list(envelope.rcpt_tos),
                )
        except Exception as exc:
            log.warning("lmtp_store_failed", error_type=type(exc).__name__, size=len(raw))
            return "\r\n".join(["451 4.3.0 Temporary failure, please try again later"] * recipients)
        self.stored += 1
        log.info(
            "mail_stored",
            via="lmtp",
            inbound_id=str(done.id) if done.id else None,
            duplicate=done.id is None,
            size=done.size,
        )
        # LMTP: one answer per accepted recipient.
        return "\r\n".join([f"250 2.0.0 Stored {done.sha256[:12]}"] * recipients)


class _LMTP(LMTP):
    line_length_limit = _LINE_LIMIT


async def start(
    settings: Settings, engine: AsyncEngine | None = None
) -> tuple[asyncio.Server, Handler]:
    handler = Handler(engine or get_engine(), settings)
    loop = asyncio.get_running_loop()
    server = await loop.create_server(
        lambda: _LMTP(
            handler,
            data_size_limit=settings.mail_max_bytes,
            enable_SMTPUTF8=True,
            hostname=settings.resolved_mail_domain,
            ident="ATUM DESK LMTP",
            timeout=300,
        ),
        host=settings.lmtp_host,
        port=settings.lmtp_port,
    )
    return server, handler


async def serve(settings: Settings) -> None:
    server, _ = await start(settings)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    log.info("lmtp_listening", host=settings.lmtp_host, port=settings.lmtp_port)
    try:
        await stop.wait()
    finally:
        server.close()
        await server.wait_closed()
        await get_engine().dispose()
