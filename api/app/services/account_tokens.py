"""Single-use account tokens (invitation, password reset, e-mail change, half-login, key
registration): 256 bits from ``secrets``, stored as SHA-256 only, dead on use, on expiry, or when a
newer one of the same purpose is issued to the same user. Every refusal is the same neutral
error: an expired, used, superseded, tampered or unknown token cannot be told apart."""

from __future__ import annotations

import hashlib
import secrets
import uuid
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import func, select, text, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from app.auth.deps import USABLE_ACCOUNT
from app.db.session import KeepChanges
from app.errors import DomainError
from app.models import AccountToken, Organization, User
from app.utils.clock import utcnow

TOKEN_BYTES = 32
_MAX_TOKEN_LENGTH = 100


class BadToken(KeepChanges, DomainError):
    status_code = 400
    code = "invalid_token"
    default_detail = "This link is invalid or has expired"


def digest(token: str) -> bytes:
    return hashlib.sha256(token.encode()).digest()


@dataclass(frozen=True, slots=True)
class Issued:
    token: str
    row: AccountToken


async def issue(
    session: AsyncSession,
    user_id: uuid.UUID,
    purpose: str,
    lifetime: timedelta,
    *,
    new_email: str | None = None,
    data: dict[str, Any] | None = None,
) -> Issued:
    """A new token for *user_id*; every earlier live token of that purpose dies."""
    await kill(session, user_id, purpose)
    token = secrets.token_urlsafe(TOKEN_BYTES)
    row = AccountToken(
        id=uuid.uuid4(),
        user_id=user_id,
        purpose=purpose,
        token_hash=digest(token),
        expires_at=utcnow() + lifetime,
        new_email=new_email,
        data=data,
    )
    session.add(row)
    await session.flush()
    return Issued(token, row)


async def kill(session: AsyncSession, user_id: uuid.UUID, purpose: str) -> None:
    await session.execute(
        update(AccountToken)
        .where(
            AccountToken.user_id == user_id,
            AccountToken.purpose == purpose,
            AccountToken.used_at.is_(None),
        )
        .values(used_at=func.now())
    )


async def find(
    session: AsyncSession, token: str, purpose: str, *, lock: bool = False
) -> tuple[AccountToken, User]:
    """The live token and its user (active, of an active organization), or ``BadToken``.
    *lock*: held until commit, so two requests presenting the same token cannot both use it."""
    if not token or len(token) > _MAX_TOKEN_LENGTH:
        raise BadToken()
    stmt = (
        select(AccountToken, User)
        .join(User, User.id == AccountToken.user_id)
        .outerjoin(Organization, Organization.id == User.org_id)
        .where(
            AccountToken.token_hash == digest(token),
            AccountToken.purpose == purpose,
            AccountToken.used_at.is_(None),
            AccountToken.expires_at > func.now(),
            USABLE_ACCOUNT,
        )
    )
    if lock:
        stmt = stmt.with_for_update(of=AccountToken)
    row = (await session.execute(stmt)).one_or_none()
    if row is None:
        raise BadToken()
    return row[0], row[1]


async def consume(session: AsyncSession, token: str, purpose: str) -> tuple[AccountToken, User]:
    """``find`` and mark it used (in the caller's transaction)."""
    row, user = await find(session, token, purpose, lock=True)
    row.used_at = utcnow()
    await session.flush()
    return row, user


_PRUNE = text(
    """
    DELETE FROM account_tokens WHERE id IN (
        SELECT id FROM account_tokens
        WHERE expires_at < now() - interval '1 day'
        LIMIT :limit
    )
    """
)


async def prune(session: AsyncConnection | AsyncSession, limit: int = 5000) -> int:
    """Delete tokens that expired over a day ago (used or not: they can never work again); the
    worker calls this with its housekeeping. Returns the number deleted."""
    result = await session.execute(_PRUNE, {"limit": limit})
    return int(getattr(result, "rowcount", 0) or 0)
