"""Signed reply tokens: what lets a reply find its ticket without trusting anything a sender can
type. A token names the ticket (by number), the recipient the mail was sent to (by user id) and
the kind of thread (a public one, or a staff member's internal-note thread), and carries an
HMAC-SHA256 tag (96 bits) under a key derived from the secret key.

It travels in the Reply-To address (``support+<token>@domain``) and inside every Message-ID we
send (``<outbox-id-hex.<token>@domain>``), so a reply is matched by its recipient address or by
its In-Reply-To/References. Base32 (lower case, no padding): mail systems may change the case of
an address, never its letters; 55 characters keep ``support+<token>`` within the 64 octets
RFC 5321 allows a local part.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import uuid
from dataclasses import dataclass
from functools import lru_cache

from app.config import get_settings

_TAG_BYTES = 12  # 96 bits
_NUMBER_BYTES = 5
PUBLIC, INTERNAL = "r", "n"
_KINDS = {PUBLIC: 1, INTERNAL: 2}
_KIND_OF = {v: k for k, v in _KINDS.items()}
_RAW_BYTES = 1 + _NUMBER_BYTES + 16 + _TAG_BYTES
TOKEN_LENGTH = 55  # ceil(34 * 8 / 5)
TOKEN_RE = re.compile(rf"(?<![a-z2-7])[a-z2-7]{{{TOKEN_LENGTH}}}(?![a-z2-7])")


@dataclass(frozen=True, slots=True)
class ReplyToken:
    kind: str  # PUBLIC or INTERNAL
    ticket_number: int
    recipient_id: uuid.UUID


@lru_cache(maxsize=4)
def _key(secret: str) -> bytes:
    # A key of its own, derived from the secret key: a reply token can never be confused with
    # (or used to forge) anything else the secret key signs.
    return hmac.new(secret.encode(), b"atum-desk mail reply token v1", hashlib.sha256).digest()


def _secret() -> str:
    key = get_settings().resolved_secret_key()
    assert key is not None
    return key


def _tag(body: bytes) -> bytes:
    return hmac.new(_key(_secret()), body, hashlib.sha256).digest()[:_TAG_BYTES]


def make(ticket_number: int, recipient_id: uuid.UUID, kind: str = PUBLIC) -> str:
    body = bytes([_KINDS[kind]]) + ticket_number.to_bytes(_NUMBER_BYTES, "big") + recipient_id.bytes
    return base64.b32encode(body + _tag(body)).decode().rstrip("=").lower()


def verify(token: str) -> ReplyToken | None:
    """The token's content when its tag is right, else None (constant-time comparison)."""
    if len(token) != TOKEN_LENGTH:
        return None
    try:
        raw = base64.b32decode(token.upper() + "=" * (-len(token) % 8))
    except ValueError:  # binascii.Error is a ValueError
        return None
    if len(raw) != _RAW_BYTES:
        return None
    body, tag = raw[:-_TAG_BYTES], raw[-_TAG_BYTES:]
    if not hmac.compare_digest(tag, _tag(body)) or body[0] not in _KIND_OF:
        return None
    return ReplyToken(
        kind=_KIND_OF[body[0]],
        ticket_number=int.from_bytes(body[1 : 1 + _NUMBER_BYTES], "big"),
        recipient_id=uuid.UUID(bytes=body[1 + _NUMBER_BYTES :]),
    )


def reply_address(mailbox_address: str, token: str) -> str:
    local, _, domain = mailbox_address.partition("@")
    return f"{local}+{token}@{domain}"


def message_id(outbox_id: uuid.UUID, token: str, domain: str) -> str:
    return f"<{outbox_id.hex}.{token}@{domain}>"


def in_address(address: str) -> ReplyToken | None:
    """The valid token in a ``local+token@domain`` address, if any."""
    local = address.rpartition("@")[0].lower()
    if "+" not in local:
        return None
    return verify(local.rpartition("+")[2])


def in_message_id(value: str, domain: str) -> ReplyToken | None:
    """The valid token in one of our Message-IDs (``<hex.token@domain>``), if any."""
    inner = value.strip().strip("<>").lower()
    left, _, right = inner.rpartition("@")
    if right != domain.lower():
        return None
    candidate = left.rpartition(".")[2]
    return verify(candidate)
