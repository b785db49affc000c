"""``./atum-desk ai-reindex``: embed every ticket that has no embedding of the engine's model yet.

Resumable by construction: each batch is committed on its own and the next batch is "the next
tickets (by id) still without an embedding", so an interrupted run continues where it stopped and
a finished one finds nothing to do. The text embedded is the same as the worker's
(``TicketText.document``: title, description, public comments), with the same content hash, so
the worker does not embed a backfilled ticket again. Model calls run on the AI thread.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from app.ai import vectors
from app.ai.engines import TicketText
from app.ai.text import digest

BATCH = 64

_MISSING = text(
    """
    SELECT count(*) FROM tickets AS t
    WHERE NOT EXISTS (
        SELECT 1 FROM ticket_embeddings AS e WHERE e.ticket_id = t.id AND e.model = :model
    )
    """
)
_NEXT = text(
    """
    SELECT t.id, t.number, t.title, t.description,
           coalesce((SELECT array_agg(c.body ORDER BY c.created_at, c.id)
                     FROM ticket_comments AS c
                     WHERE c.ticket_id = t.id AND NOT c.is_internal), '{}') AS comments
    FROM tickets AS t
    WHERE t.id > :after AND NOT EXISTS (
        SELECT 1 FROM ticket_embeddings AS e WHERE e.ticket_id = t.id AND e.model = :model
    )
    ORDER BY t.id
    LIMIT :batch
    """
)


@dataclass(slots=True)
class Progress:
    total: int
    done: int = 0


async def missing(engine: AsyncEngine, model: str) -> int:
    async with engine.connect() as conn:
        return int((await conn.execute(_MISSING, {"model": model})).scalar_one())


async def reindex(
    engine: AsyncEngine,
    embedder: vectors.Embedder,
    *,
    batch: int = BATCH,
    limit: int | None = None,
    on_batch: Callable[[int], None] | None = None,
) -> int:
    """Embed tickets without an embedding of *embedder*'s model (at most *limit*); returns how
    many were embedded. *on_batch* is told each committed batch's size."""
    done = 0
    after = uuid.UUID(int=0)
    while limit is None or done < limit:
        size = batch if limit is None else min(batch, limit - done)
        async with AsyncSession(engine, expire_on_commit=False) as session, session.begin():
            rows = (
                await session.execute(
                    _NEXT, {"after": after, "model": embedder.name, "batch": size}
                )
            ).all()
            if not rows:
                break
            texts = [
                TicketText(r.id, r.number, r.title, r.description, tuple(r.comments)) for r in rows
            ]
            found = await embedder.embed([t.document for t in texts])
            await vectors.store_tickets(
                session,
                embedder.name,
                [
                    (t.id, digest(t.document), vector)
                    for t, vector in zip(texts, found, strict=True)
                ],
            )
        after = rows[-1].id
        done += len(rows)
        if on_batch is not None:
            on_batch(len(rows))
    return done
