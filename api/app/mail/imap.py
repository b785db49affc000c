"""The IMAP poller: hosted mailboxes (IMAPClient), run by the worker every ATUM_IMAP_POLL_SECONDS.

Only UIDs are trusted, never ``\\Seen`` (a person reading the mailbox in Outlook changes nothing
here) or sequence numbers. The checkpoint ``(UIDVALIDITY, last UID)`` is written in the same
transaction as each stored message, so a crash between two messages loses none and stores none
twice. A changed UIDVALIDITY starts over from UID 1; the deduplication of the store (Message-ID
and content) drops the messages already taken. ``RFC822.SIZE`` is read before a message is
fetched: one over ATUM_MAIL_MAX_MB is recorded as refused and skipped, so it never blocks the
ones behind it. Messages are fetched with ``BODY.PEEK[]`` (the server marks nothing as read) and,
when a processed folder is set, moved there only after their row is committed.

IMAPClient is synchronous: each server round trip runs in a thread.
"""

from __future__ import annotations

import asyncio
import hashlib
import ssl
import uuid
from dataclasses import dataclass
from typing import Any

import structlog
from imapclient import IMAPClient
from imapclient.exceptions import IMAPClientError
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from app.config import Settings
from app.mail import secretbox
from app.mail.store import store

log = structlog.get_logger("atum.imap")

FETCH_SIZES_CHUNK = 500
TIMEOUT_SECONDS = 30

# A mailbox is taken for one poll by moving its last_checked_at forward (several workers never
# poll the same mailbox at once).
_COLUMNS = """id, address, imap_host, imap_port, imap_tls, imap_user, imap_password_enc,
        imap_folder, processed_folder, imap_uidvalidity, imap_last_uid"""
_DUE = text(
    f"""
    UPDATE mailboxes SET last_checked_at = now()
    WHERE id IN (
        SELECT id FROM mailboxes
        WHERE kind = 'imap' AND active
          AND (last_checked_at IS NULL
               OR last_checked_at < now() - make_interval(secs => :interval))
        ORDER BY last_checked_at NULLS FIRST
        LIMIT 5
        FOR UPDATE SKIP LOCKED
    )
    RETURNING {_COLUMNS}
    """  # noqa: S608  (column names only)
)
_ONE = text(f"SELECT {_COLUMNS} FROM mailboxes WHERE id = :id AND kind = 'imap'")  # noqa: S608  (column names only)

_CHECKPOINT = text(
    """
    UPDATE mailboxes SET imap_uidvalidity = :uidvalidity,
        imap_last_uid = CASE WHEN imap_uidvalidity IS DISTINCT FROM :uidvalidity THEN :uid
                             ELSE greatest(imap_last_uid, :uid) END
    WHERE id = :id
    """
)
_REFUSED = text(
    """
    INSERT INTO inbound_messages (id, mailbox_id, via, imap_uidvalidity, imap_uid, size_bytes,
        sha256, content_hash, status, reason, processed_at)
    VALUES (:id, :mailbox_id, 'imap', :uidvalidity, :uid, :size, '', :content_hash, 'refused',
        :reason, now())
    ON CONFLICT DO NOTHING
    """
)
_STATUS = text(
    """
    UPDATE mailboxes SET last_error = :error,
        last_checked_at = CASE WHEN :again THEN now() - make_interval(secs => :interval)
                               ELSE last_checked_at END
    WHERE id = :id
    """
)


@dataclass(frozen=True, slots=True)
class Box:
    id: uuid.UUID
    address: str
    host: str
    port: int
    tls: bool
    user: str
    password_enc: str | None
    folder: str
    processed_folder: str | None
    uidvalidity: int | None
    last_uid: int


@dataclass(slots=True)
class PollResult:
    stored: int = 0
    duplicates: int = 0
    refused: int = 0
    more: bool = False


def _connect(box: Box, password: str) -> IMAPClient:
    context = ssl.create_default_context() if box.tls else None
    client = IMAPClient(
        box.host, port=box.port, ssl=box.tls, ssl_context=context, timeout=TIMEOUT_SECONDS
    )
    try:
        client.login(box.user, password)
    except BaseException:
        client.shutdown()
        raise
    return client


def _logout(client: IMAPClient) -> None:
    try:
        client.logout()
    except (IMAPClientError, OSError):
        client.shutdown()


async def poll_due(engine: AsyncEngine, settings: Settings, *, budget_seconds: float = 5.0) -> int:
    """Poll the IMAP mailboxes that are due; returns the number of messages stored."""
    async with engine.begin() as conn:
        rows = (await conn.execute(_DUE, {"interval": settings.imap_poll_seconds})).all()
    stored = 0
    for row in rows:
        box = _box(row)
        error: str | None = None
        result = PollResult()
        try:
            result = await poll(engine, settings, box, budget_seconds=budget_seconds)
            stored += result.stored
        except (IMAPClientError, OSError, TimeoutError, ssl.SSLError) as exc:
            error = f"{type(exc).__name__}: {exc}"[:1000]
            log.warning("imap_failed", mailbox=box.address, error_type=type(exc).__name__)
        except PasswordUnreadable as exc:
            error = str(exc)
        async with engine.begin() as conn:
            await conn.execute(
                _STATUS,
                {
                    "id": box.id,
                    "error": error,
                    "again": result.more,
                    "interval": settings.imap_poll_seconds,
                },
            )
    return stored


def _box(row: Any) -> Box:
    return Box(
        id=row[0],
        address=row[1],
        host=row[2],
        port=row[3] or (993 if row[4] else 143),
        tls=row[4],
        user=row[5],
        password_enc=row[6],
        folder=row[7],
        processed_folder=row[8],
        uidvalidity=row[9],
        last_uid=row[10],
    )


async def mailbox(engine: AsyncEngine, mailbox_id: uuid.UUID) -> Box:
    """An IMAP mailbox with its checkpoint, as a poll reads it."""
    async with engine.connect() as conn:
        return _box((await conn.execute(_ONE, {"id": mailbox_id})).one())


class PasswordUnreadable(Exception):
    pass


async def poll(
    engine: AsyncEngine, settings: Settings, box: Box, *, budget_seconds: float = 5.0
) -> PollResult:
    """Store the mailbox's new messages (UID order), each with its checkpoint."""
    password = secretbox.unseal(box.password_enc) if box.password_enc else None
    if password is None:
        raise PasswordUnreadable(
            "The stored password cannot be read (the secret key changed?): enter it again"
        )
    loop = asyncio.get_running_loop()
    deadline = loop.time() + budget_seconds
    result = PollResult()
    client = await asyncio.to_thread(_connect, box, password)
    try:
        selected: dict[bytes, Any] = await asyncio.to_thread(
            client.select_folder, box.folder, readonly=box.processed_folder is None
        )
        uidvalidity = int(selected[b"UIDVALIDITY"])
        if box.processed_folder and not await asyncio.to_thread(
            client.folder_exists, box.processed_folder
        ):
            await asyncio.to_thread(client.create_folder, box.processed_folder)
        last_uid = box.last_uid
        if box.uidvalidity is not None and box.uidvalidity != uidvalidity:
            log.warning("imap_uidvalidity_changed", mailbox=box.address, old=box.uidvalidity)
            last_uid = 0
        if box.uidvalidity != uidvalidity:
            async with engine.begin() as conn:
                await conn.execute(
                    _CHECKPOINT, {"id": box.id, "uidvalidity": uidvalidity, "uid": last_uid}
                )
        if box.processed_folder and last_uid > 0:
            # Stored by an earlier poll that stopped before moving them: move them now.
            stored_before = await asyncio.to_thread(client.search, ["UID", f"1:{last_uid}"])
            leftovers = [int(u) for u in stored_before if int(u) <= last_uid]
            for uid in leftovers:
                await asyncio.to_thread(_move, client, uid, box.processed_folder)
        found = await asyncio.to_thread(client.search, ["UID", f"{last_uid + 1}:*"])
        uids = sorted(int(u) for u in found if int(u) > last_uid)
        limit = settings.mail_max_bytes
        for start in range(0, len(uids), FETCH_SIZES_CHUNK):
            chunk = uids[start : start + FETCH_SIZES_CHUNK]
            sizes = await asyncio.to_thread(client.fetch, chunk, ["RFC822.SIZE"])
            for uid in chunk:
                # At least one message per poll, then the time budget decides.
                if (result.stored or result.duplicates or result.refused) and (
                    loop.time() >= deadline
                ):
                    result.more = True
                    return result
                size = int(sizes.get(uid, {}).get(b"RFC822.SIZE", 0))
                if size > limit:
                    await _refuse(engine, box, uidvalidity, uid, size, limit)
                    result.refused += 1
                    continue
                fetched = await asyncio.to_thread(client.fetch, [uid], ["BODY.PEEK[]"])
                raw = fetched.get(uid, {}).get(b"BODY[]")
                if not isinstance(raw, bytes):
                    continue  # gone meanwhile (expunged by someone else)
                async with engine.begin() as conn:
                    done = await store(
                        conn,
                        raw,
                        via="imap",
                        mailbox_id=box.id,
                        uidvalidity=uidvalidity,
                        uid=uid,
                    )
                    await conn.execute(
                        _CHECKPOINT, {"id": box.id, "uidvalidity": uidvalidity, "uid": uid}
                    )
                if done.id is None:
                    result.duplicates += 1
                else:
                    result.stored += 1
                if box.processed_folder:
                    await asyncio.to_thread(_move, client, uid, box.processed_folder)
    finally:
        await asyncio.to_thread(_logout, client)
    if result.stored or result.refused:
        log.info("imap_polled", mailbox=box.address, stored=result.stored, refused=result.refused)
    return result


def _move(client: IMAPClient, uid: int, folder: str) -> None:
    if client.has_capability("MOVE"):
        client.move([uid], folder)
    else:
        client.copy([uid], folder)
        client.delete_messages([uid])
        client.uid_expunge([uid]) if client.has_capability("UIDPLUS") else client.expunge()


async def _refuse(
    engine: AsyncEngine, box: Box, uidvalidity: int, uid: int, size: int, limit: int
) -> None:
    """A message over the size limit: recorded as refused (never fetched), checkpoint moved."""
    identity = hashlib.sha256(f"imap-refused:{box.id}:{uidvalidity}:{uid}".encode()).hexdigest()
    async with engine.begin() as conn:
        await conn.execute(
            _REFUSED,
            {
                "id": uuid.uuid4(),
                "mailbox_id": box.id,
                "uidvalidity": uidvalidity,
                "uid": uid,
                "size": size,
                "content_hash": identity,
                "reason": f"{size} bytes, over the limit of {limit} bytes: not fetched",
            },
        )
        await conn.execute(_CHECKPOINT, {"id": box.id, "uidvalidity": uidvalidity, "uid": uid})
    log.warning("imap_message_too_large", mailbox=box.address, uid=uid, size=size)
