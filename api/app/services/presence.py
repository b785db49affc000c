"""Who is viewing or replying to a ticket (collision warnings on the desk).

The desk's ticket page sends a heartbeat every ~10 s (POST /api/internal/tickets/{id}/presence,
``viewing`` or ``replying``); each one keeps the person's row in the UNLOGGED ``ticket_presence``
table alive for ``TTL_SECONDS`` and announces the ticket's current viewers on the live channel
(app/services/live.py), in the request's transaction. Each API process's hub forwards the list to
its staff streams when it changed, and drops viewers whose heartbeats stopped. Customers never
receive presence: the endpoint is staff-only and the hub sends presence to staff streams only.
"""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.deps import CurrentUser
from app.errors import NotFound
from app.models import Ticket
from app.services.visibility import visible_tickets

TTL_SECONDS = 30

# The upsert and the announcement in one statement (at most 20 viewers: a notification's
# payload is bounded): the ticket's other live viewers and the row
# just written (a statement does not see its own CTE's changes, hence the UNION).
_BEAT = text(
    """
    WITH up AS (
        INSERT INTO ticket_presence AS p (ticket_id, user_id, state, expires_at)
        VALUES (:ticket_id, :user_id, :state, now() + make_interval(secs => :ttl))
        ON CONFLICT (ticket_id, user_id)
        DO UPDATE SET state = excluded.state, expires_at = excluded.expires_at
        RETURNING p.user_id, p.state, p.expires_at
    ), viewers AS (
        SELECT user_id, state, expires_at FROM up
        UNION ALL
        SELECT user_id, state, expires_at FROM ticket_presence
        WHERE ticket_id = :ticket_id AND user_id <> :user_id AND expires_at > now()
    )
    SELECT pg_notify('atum_live', json_build_object(
        'p', CAST(:ticket_id AS uuid),
        'v', (SELECT coalesce(json_agg(json_build_array(
                    v.user_id, u.name, v.state, extract(epoch FROM v.expires_at))), '[]')
              FROM (SELECT * FROM viewers LIMIT 20) v
              JOIN users u ON u.id = v.user_id)
    )::text)
    """
)
_PRUNE = text(
    "DELETE FROM ticket_presence WHERE ctid IN (SELECT ctid FROM ticket_presence "
    "WHERE expires_at < now() - interval '1 minute' LIMIT :limit)"
)


async def beat(session: AsyncSession, actor: CurrentUser, ticket_id: uuid.UUID, state: str) -> None:
    """Record that *actor* is viewing or replying to the ticket (visible to them, else 404)."""
    found = await session.execute(
        visible_tickets(actor).with_only_columns(Ticket.id).where(Ticket.id == ticket_id)
    )
    if found.first() is None:
        raise NotFound("Ticket not found")
    await session.execute(
        _BEAT, {"ticket_id": ticket_id, "user_id": actor.id, "state": state, "ttl": TTL_SECONDS}
    )


async def prune(conn: Any, limit: int = 10000) -> int:
    """Delete rows whose heartbeats stopped over a minute ago (the worker's housekeeping)."""
    result = await conn.execute(_PRUNE, {"limit": limit})
    return int(getattr(result, "rowcount", 0) or 0)
