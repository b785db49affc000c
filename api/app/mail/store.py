"""Store first, parse later: a received message becomes one row (identity, size, hashes) and its
raw bytes, in one statement, before anybody reads it. The same message stored twice — the same
mailbox UID, or the same Message-ID with the same content, whichever way it came in — is stored
once (``ON CONFLICT DO NOTHING`` on the two unique indexes), so it can only ever become one ticket
or one comment. A reused Message-ID with other content is another message.
"""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from app.mail.parse import identity

# The row, its raw bytes and the workers' wake-up in one statement (pg_notify is delivered when,
# and only if, the transaction commits).
_STORE = text(
    """
    WITH msg AS (
        INSERT INTO inbound_messages (id, mailbox_id, via, envelope_from, envelope_to,
            imap_uidvalidity, imap_uid, size_bytes, sha256, content_hash, message_id)
        VALUES (:id, :mailbox_id, :via, :envelope_from, CAST(:envelope_to AS varchar[]),
            :uidvalidity, :uid, :size, :sha256, :content_hash, :message_id)
        ON CONFLICT DO NOTHING
        RETURNING id
    ), raw AS (
        INSERT INTO inbound_raw (inbound_id, raw) SELECT id, :raw FROM msg RETURNING inbound_id
    )
    SELECT (SELECT inbound_id FROM raw), pg_notify('atum_outbox', '')
    """
)


@dataclass(frozen=True, slots=True)
class Stored:
    id: uuid.UUID | None  # None: a duplicate, already stored
    sha256: str
    size: int


async def store(
    conn: AsyncConnection,
    raw: bytes,
    *,
    via: str,
    mailbox_id: uuid.UUID | None,
    envelope_from: str | None = None,
    envelope_to: list[str] | None = None,
    uidvalidity: int | None = None,
    uid: int | None = None,
) -> Stored:
    message_id, content_hash = identity(raw)
    sha256 = hashlib.sha256(raw).hexdigest()
    row = (
        await conn.execute(
            _STORE,
            {
                "id": uuid.uuid4(),
                "mailbox_id": mailbox_id,
                "via": via,
                "envelope_from": (envelope_from or "")[:998] or None,
                "envelope_to": [a[:998] for a in envelope_to or []],
                "uidvalidity": uidvalidity,
                "uid": uid,
                "size": len(raw),
                "sha256": sha256,
                "content_hash": content_hash,
                "message_id": message_id,
                "raw": raw,
            },
        )
    ).one()
    return Stored(row[0], sha256, len(raw))
