"""Embeddings: who computes them (the in-process model or Ollama) and where they live
(``ticket_embeddings`` and ``kb_passages``, ``real[]`` columns), and nearest-neighbour search.

Search: where the pgvector extension is installed (the embedded PostgreSQL ships it; Debian's
``postgresql-15-pgvector`` adds it to a stock server), an HNSW index over
``embedding::vector(384)`` of the local model's rows answers "the nearest tickets" directly.
Without it, the search is exact over a bounded candidate set: the tickets the full-text step
found plus the ``EXACT_POOL`` most recently embedded ones, compared in NumPy. The bound keeps the
cost flat as history grows; the price is that an old ticket sharing no word with the query is
not found (with pgvector it is).

Every model call runs on the AI executor (one thread, ``AI_THREADS``): the model's NumPy kernels
release the GIL, so the worker's event loop (mail, SLA sweeps) keeps running meanwhile.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Protocol, TypeVar

import numpy as np
import structlog
from sqlalchemy import text
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from app.ai import local_model
from app.models import TicketEmbedding

log = structlog.get_logger("atum.ai")

AI_THREADS = 1
EXACT_POOL = 2000
HNSW_INDEX = "ix_ticket_embeddings_minilm_hnsw"
HNSW_EF_SEARCH = 100
T = TypeVar("T")
_executor = ThreadPoolExecutor(max_workers=AI_THREADS, thread_name_prefix="atum-ai")


async def in_ai_thread(fn: Callable[..., T], *args: Any) -> T:
    """Run *fn* on the AI executor: the AI's own concurrency budget, off the event loop."""
    loop = asyncio.get_running_loop()
    return await loop.run_in_executor(_executor, fn, *args)


class Embedder(Protocol):
    name: str

    async def embed(self, texts: list[str]) -> list[list[float]]: ...


class LocalEmbedder:
    """all-MiniLM-L6-v2 in this process (``local_model``), on the AI thread."""

    name = local_model.MODEL_NAME

    async def embed(self, texts: list[str]) -> list[list[float]]:
        model = await in_ai_thread(local_model.load)
        matrix = await in_ai_thread(model.embed, texts)
        rows: list[list[float]] = matrix.tolist()
        return rows


def as_matrix(rows: list[list[float]]) -> np.ndarray:
    return np.asarray(rows, dtype=np.float32).reshape(len(rows), -1)


async def store_tickets(
    session: AsyncSession, model: str, items: list[tuple[uuid.UUID, str, list[float]]]
) -> None:
    """Upsert (ticket id, content hash, vector) rows of *model* in one statement."""
    if not items:
        return
    stmt = pg_insert(TicketEmbedding).values(
        [
            {"ticket_id": ticket_id, "model": model, "content_hash": content_hash, "embedding": v}
            for ticket_id, content_hash, v in items
        ]
    )
    await session.execute(
        stmt.on_conflict_do_update(
            index_elements=[TicketEmbedding.ticket_id],
            set_={
                "model": stmt.excluded.model,
                "content_hash": stmt.excluded.content_hash,
                "embedding": stmt.excluded.embedding,
                "updated_at": text("now()"),
            },
        )
    )


async def store_ticket(
    session: AsyncSession, ticket_id: uuid.UUID, model: str, content_hash: str, vector: list[float]
) -> None:
    await store_tickets(session, model, [(ticket_id, content_hash, vector)])


async def stored_ticket(
    session: AsyncSession, ticket_id: uuid.UUID, model: str, content_hash: str
) -> list[float] | None:
    """The ticket's stored embedding when it is of *model* and of the current text."""
    row = (
        await session.execute(
            text(
                "SELECT embedding FROM ticket_embeddings "
                "WHERE ticket_id = :id AND model = :model AND content_hash = :hash"
            ),
            {"id": ticket_id, "model": model, "hash": content_hash},
        )
    ).first()
    return list(row[0]) if row is not None else None


async def has_vector_index(session: AsyncSession | AsyncConnection) -> bool:
    found = await session.execute(
        text("SELECT 1 FROM pg_indexes WHERE tablename = 'ticket_embeddings' AND indexname = :n"),
        {"n": HNSW_INDEX},
    )
    return found.first() is not None


async def ensure_vector_index(conn: AsyncConnection) -> str:
    """Create the HNSW index when pgvector can be had; returns what happened:
    ``exists``, ``created`` or ``unavailable`` (no extension: exact search is used)."""
    if await has_vector_index(conn):
        return "exists"
    available = (
        await conn.execute(text("SELECT 1 FROM pg_available_extensions WHERE name = 'vector'"))
    ).first()
    if available is None:
        return "unavailable"
    installed = (
        await conn.execute(text("SELECT 1 FROM pg_extension WHERE extname = 'vector'"))
    ).first()
    if installed is None:
        superuser = (
            await conn.execute(text("SELECT rolsuper FROM pg_roles WHERE rolname = current_user"))
        ).scalar()
        if not superuser:
            return "unavailable"
        await conn.execute(text("CREATE EXTENSION IF NOT EXISTS vector"))
    await conn.execute(_INDEX)
    return "created"


# The query vector is a bound text literal cast to vector; the model name is a literal so that
# the planner can prove the partial index's predicate.
_NEAREST_INDEXED = text(
    """
    SELECT e.ticket_id,
           1 - (e.embedding::vector(384) <=> CAST(:q AS vector(384))) AS similarity
    FROM ticket_embeddings AS e
    WHERE e.model = 'all-MiniLM-L6-v2' AND e.ticket_id <> :id
    ORDER BY e.embedding::vector(384) <=> CAST(:q AS vector(384))
    LIMIT :limit
    """
)
_INDEX = text(
    "CREATE INDEX IF NOT EXISTS ix_ticket_embeddings_minilm_hnsw ON ticket_embeddings "
    "USING hnsw ((embedding::vector(384)) vector_cosine_ops) WHERE model = 'all-MiniLM-L6-v2'"
)
assert (local_model.MODEL_NAME, local_model.DIMENSIONS) == ("all-MiniLM-L6-v2", 384)
_POOL = text(
    """
    SELECT ticket_id, embedding FROM ticket_embeddings
    WHERE model = :model AND ticket_id <> :id
    ORDER BY updated_at DESC
    LIMIT :pool
    """
)
_BY_ID = text(
    "SELECT ticket_id, embedding FROM ticket_embeddings "
    "WHERE model = :model AND ticket_id = ANY(:ids)"
)


def _literal(vector: list[float]) -> str:
    return "[" + ",".join(f"{v:.7g}" for v in vector) + "]"


def cosines(query: list[float], rows: list[list[float]]) -> np.ndarray:
    """Cosine similarity of *query* to each row (rows of another dimension score 0)."""
    q = np.asarray(query, dtype=np.float32)
    out = np.zeros(len(rows), dtype=np.float32)
    norm = float(np.linalg.norm(q))
    same = [i for i, row in enumerate(rows) if len(row) == len(q)]
    if not norm or not same:
        return out
    matrix = np.asarray([rows[i] for i in same], dtype=np.float32)
    norms = np.linalg.norm(matrix, axis=1) * norm
    norms[norms == 0] = 1.0
    out[same] = (matrix @ q) / norms
    return out


async def nearest_tickets(
    session: AsyncSession,
    model: str,
    query: list[float],
    exclude: uuid.UUID,
    *,
    also: list[uuid.UUID],
    limit: int,
    exact: bool = False,
) -> dict[uuid.UUID, float]:
    """The *limit* tickets whose embedding (of *model*) is nearest to *query*, with their cosine
    similarity, plus the similarity of each ticket in *also* that has an embedding."""
    indexed = (
        not exact
        and model == local_model.MODEL_NAME
        and len(query) == local_model.DIMENSIONS
        and await has_vector_index(session)
    )
    found: dict[uuid.UUID, float] = {}
    if indexed:
        await session.execute(text(f"SET LOCAL hnsw.ef_search = {HNSW_EF_SEARCH}"))
        rows = await session.execute(
            _NEAREST_INDEXED, {"q": _literal(query), "id": exclude, "limit": limit}
        )
        found = {row.ticket_id: float(row.similarity) for row in rows}
        pool: list[tuple[uuid.UUID, list[float]]] = []
    else:
        pool = [
            (row.ticket_id, row.embedding)
            for row in await session.execute(
                _POOL, {"model": model, "id": exclude, "pool": EXACT_POOL}
            )
        ]
    missing = [i for i in also if i not in found and i != exclude]
    if missing:
        pool += [
            (row.ticket_id, row.embedding)
            for row in await session.execute(_BY_ID, {"model": model, "ids": missing})
        ]
    if pool:
        scores = cosines(query, [vector for _, vector in pool])
        ranked = sorted(
            zip((i for i, _ in pool), scores.tolist(), strict=True), key=lambda p: -p[1]
        )
        wanted = set(also)
        for position, (ticket_id, score) in enumerate(ranked):
            if position < limit or ticket_id in wanted:
                found.setdefault(ticket_id, float(score))
    return found
