"""Fixed-window counters in PostgreSQL, so every API process on every host shares them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from app.errors import RateLimited

_HIT = text(
    """
    INSERT INTO rate_limit_counters AS c (key, window_started_at, hits)
    VALUES (:key, now(), 1)
    ON CONFLICT (key) DO UPDATE SET
        hits = CASE WHEN c.window_started_at <= now() - make_interval(secs => :window)
                    THEN 1 ELSE c.hits + 1 END,
        window_started_at = CASE WHEN c.window_started_at <= now() - make_interval(secs => :window)
                    THEN now() ELSE c.window_started_at END
    RETURNING hits, window_started_at
    """
)
_PEEK = text(
    """
    SELECT key, hits,
           GREATEST(1, CEIL(EXTRACT(EPOCH FROM
               window_started_at + make_interval(secs => :window) - now())))::int AS retry_after
    FROM rate_limit_counters
    WHERE key = ANY(:keys) AND window_started_at > now() - make_interval(secs => :window)
    """
)
_CLEAR = text("DELETE FROM rate_limit_counters WHERE key = :key")
# Counters whose window started before the cutoff, at most :limit of them per statement (a
# counter hit since is a new row version with another ctid, and its window is checked again).
_PRUNE = text(
    """
    DELETE FROM rate_limit_counters
    WHERE ctid = ANY(ARRAY(
        SELECT ctid FROM rate_limit_counters
        WHERE window_started_at < now() - make_interval(secs => :age)
        LIMIT :limit
    ))
      AND window_started_at < now() - make_interval(secs => :age)
    """
)
# Windows in use: ticket creation per hour, login failures per ATUM_LOGIN_WINDOW_SECONDS (15
# minutes by default). A counter whose window started a day ago (or longer ago than the longest
# window) counts nothing any more: its next hit starts a new window anyway.
PRUNE_AFTER_SECONDS = 24 * 3600


@dataclass(frozen=True, slots=True)
class Usage:
    key: str
    hits: int
    retry_after: int


async def peek(session: AsyncSession, keys: list[str], window: int) -> dict[str, Usage]:
    """Current counts of the live windows of *keys* (one statement)."""
    rows = await session.execute(_PEEK, {"keys": keys, "window": window})
    return {r.key: Usage(r.key, r.hits, r.retry_after) for r in rows}


def account_key(email: str) -> str:
    """The counter of failed passwords of one local account (sign-in, re-authentication, link)."""
    return f"login:account:{email}"


async def refuse_over(session: AsyncSession, limits: dict[str, int], window: int) -> None:
    """``RateLimited`` when any key already reached its limit within the window."""
    usage = await peek(session, list(limits), window)
    for key, limit in limits.items():
        if key in usage and usage[key].hits >= limit:
            raise RateLimited(usage[key].retry_after)


async def hit(session: AsyncSession, key: str, window: int) -> tuple[int, datetime]:
    """Count one event against *key*; returns the count in the current window."""
    row = (await session.execute(_HIT, {"key": key, "window": window})).one()
    return int(row.hits), row.window_started_at


async def clear(session: AsyncSession, key: str) -> None:
    await session.execute(_CLEAR, {"key": key})


def prune_age(login_window_seconds: int) -> int:
    """Seconds after which a counter's window has certainly ended."""
    return max(PRUNE_AFTER_SECONDS, 3600, login_window_seconds)


async def prune(
    conn: AsyncConnection | AsyncSession, older_than_seconds: int, limit: int = 10_000
) -> int:
    """Delete up to *limit* counters whose window started more than *older_than_seconds* ago
    (one statement); returns how many."""
    result = await conn.execute(_PRUNE, {"age": older_than_seconds, "limit": limit})
    return int(result.rowcount)  # type: ignore[attr-defined]
