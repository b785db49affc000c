"""Signed "How did we do?" links (services/csat.py). A token names the ticket (by id), the
resolution it rates (the ticket's ``resolved_at``, to the microsecond) and the customer it was
mailed to (by user id), and carries an HMAC-SHA256 tag of 128 bits under a key of its own derived
from the secret key. Nothing is stored: the link expires ``LIFETIME`` after the resolution it
names (the time is inside the signed data), and dies as soon as the ticket is reopened, since its
``resolved_at`` no longer matches (a new resolution mails a new link).

URL-safe base64 without padding, 75 characters. Never logged (the access log shows
``/api/csat/[redacted]``), never stored readable (the outbox seals the link).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import lru_cache

from app.config import get_settings
from app.models import Ticket
from app.models.enums import TicketStatus as S

LIFETIME = timedelta(days=14)
# The statuses in which a resolution can be rated.
RATEABLE = frozenset({S.RESOLVED.value, S.CLOSED.value})
_TAG_BYTES = 16  # 128 bits
_RAW_BYTES = 16 + 8 + 16 + _TAG_BYTES
TOKEN_LENGTH = 75  # ceil(56 * 4 / 3), unpadded
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass(frozen=True, slots=True)
class CsatToken:
    ticket_id: uuid.UUID
    resolved_at: datetime
    user_id: uuid.UUID

    @property
    def expires_at(self) -> datetime:
        return self.resolved_at + LIFETIME


@lru_cache(maxsize=4)
def _key(secret: str) -> bytes:
    # Its own key: a CSAT token can never be confused with (or forge) a reply token or a session.
    return hmac.new(secret.encode(), b"atum-desk csat token v1", hashlib.sha256).digest()


def _tag(body: bytes) -> bytes:
    secret = get_settings().resolved_secret_key()
    assert secret is not None
    return hmac.new(_key(secret), body, hashlib.sha256).digest()[:_TAG_BYTES]


def _micros(moment: datetime) -> int:
    delta = moment - _EPOCH
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


def make(ticket_id: uuid.UUID, resolved_at: datetime, user_id: uuid.UUID) -> str:
    body = ticket_id.bytes + _micros(resolved_at).to_bytes(8, "big", signed=True) + user_id.bytes
    return base64.urlsafe_b64encode(body + _tag(body)).decode().rstrip("=")


def token_for(ticket: Ticket, user_id: uuid.UUID) -> str | None:
    """The link token for *user_id* about the ticket's current resolution (None: not resolved)."""
    if ticket.status not in RATEABLE or ticket.resolved_at is None:
        return None
    return make(ticket.id, ticket.resolved_at, user_id)


def verify(token: str) -> CsatToken | None:
    """The token's content when its tag is right (constant-time comparison), else None. Whether
    it has expired, and whether the ticket is still at that resolution, is the caller's part."""
    if len(token) != TOKEN_LENGTH:
        return None
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
    except ValueError:  # binascii.Error is a ValueError
        return None
    if len(raw) != _RAW_BYTES or base64.urlsafe_b64encode(raw).decode().rstrip("=") != token:
        return None
    body, tag = raw[:-_TAG_BYTES], raw[-_TAG_BYTES:]
    if not hmac.compare_digest(tag, _tag(body)):
        return None
    micros = int.from_bytes(body[16:24], "big", signed=True)
    return CsatToken(
        ticket_id=uuid.UUID(bytes=body[:16]),
        resolved_at=_EPOCH + timedelta(microseconds=micros),
        user_id=uuid.UUID(bytes=body[24:]),
    )
