"""Retrieval: similar tickets and knowledge-base passages, by full-text ranking and, when
embeddings exist, hybrid (full-text + cosine) over a candidate set.

The candidate set is pre-filtered by full-text (GIN index) plus, with embeddings, the most recent
embedded tickets; cosine similarity is computed by pgvector where the extension is installed and
in Python otherwise (Debian's stock PostgreSQL has no pgvector). Runs in the worker with no
caller: what a viewer may see is re-checked on every read (``app/ai/suggestions.py``).
"""

from __future__ import annotations

import math
import uuid
from collections import Counter
from dataclasses import dataclass
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from app.ai.text import MAX_QUERY_TERMS, excerpt, or_query, terms

CANDIDATES = 50
RECENT_EMBEDDED = 200
LEXICAL_WEIGHT = 0.5
RESOLVED = ("RESOLVED", "CLOSED")

# Ranking reads every candidate's search document, so the candidates are bounded: the POOL most
# recent tickets sharing a word with the document (newest first on ix_tickets_created, or the GIN
# index when the words are rare), ranked among themselves. The cost stays flat as history grows
# (measured: ~5 ms instead of 60-100 ms at 10,000 tickets, and growing with the number of
# matches without the bound); the price is that a match older than the POOL most recent ones is
# not found when the document's words are common.
POOL = 1000
_SIMILAR = text(
    """
    SELECT c.id, c.number, c.status, c.category, c.priority,
           ts_rank(c.search, q, 1 | 32) AS score
    FROM (
        SELECT t.id, t.number, t.status, t.category, t.priority, t.search, t.created_at
        FROM tickets AS t
        WHERE t.search @@ to_tsquery('simple', :q) AND t.id <> :id
        ORDER BY t.created_at DESC
        LIMIT :pool
    ) AS c, to_tsquery('simple', :q) AS q
    ORDER BY score DESC, c.created_at DESC
    LIMIT :limit
    """
)
_RECENT_EMBEDDED = text(
    """
    SELECT t.id, t.number, t.status, t.category, t.priority, 0.0 AS score
    FROM ticket_embeddings AS e JOIN tickets AS t ON t.id = e.ticket_id
    WHERE e.model = :model AND t.id <> :id
    ORDER BY t.created_at DESC
    LIMIT :limit
    """
)
_KB = text(
    """
    SELECT p.id, p.source, p.title, p.body, ts_rank(p.search, q, 1 | 32) AS score
    FROM kb_passages AS p, to_tsquery('english', :q) AS q
    WHERE p.search @@ q
    ORDER BY score DESC, p.source, p.position
    LIMIT :limit
    """
)


@dataclass(slots=True)
class TicketHit:
    id: uuid.UUID
    number: int
    status: str
    category: str | None
    priority: str
    score: float

    @property
    def resolved(self) -> bool:
        return self.status in RESOLVED


@dataclass(slots=True)
class KbHit:
    id: uuid.UUID
    source: str
    title: str
    body: str
    score: float

    def as_json(self) -> dict[str, Any]:
        return {
            "title": self.title,
            "source": self.source,
            "excerpt": excerpt(self.body),
            "score": round(self.score, 4),
        }


def cosine(a: list[float], b: list[float]) -> float:
    if len(a) != len(b) or not a:
        return 0.0
    dot = sum(x * y for x, y in zip(a, b, strict=True))
    norm = math.sqrt(sum(x * x for x in a)) * math.sqrt(sum(y * y for y in b))
    return dot / norm if norm else 0.0


async def has_pgvector(session: AsyncSession) -> bool:
    found = await session.execute(text("SELECT 1 FROM pg_extension WHERE extname = 'vector'"))
    return found.first() is not None


def _vector_literal(values: list[float]) -> str:
    return "[" + ",".join(repr(float(v)) for v in values) + "]"


# Per table: (pgvector cosine similarity, stored vectors for the Python fallback).
_COSINE_SQL = {
    "tickets": (
        text(
            "SELECT ticket_id, 1 - (embedding::vector <=> CAST(:q AS vector)) "
            "FROM ticket_embeddings WHERE ticket_id = ANY(:ids) AND cardinality(embedding) = :dim"
        ),
        text("SELECT ticket_id, embedding FROM ticket_embeddings WHERE ticket_id = ANY(:ids)"),
    ),
    "kb": (
        text(
            "SELECT id, 1 - (embedding::vector <=> CAST(:q AS vector)) FROM kb_passages "
            "WHERE id = ANY(:ids) AND embedding IS NOT NULL AND cardinality(embedding) = :dim"
        ),
        text("SELECT id, embedding FROM kb_passages WHERE id = ANY(:ids)"),
    ),
}


async def _cosines(
    session: AsyncSession, kind: str, ids: list[uuid.UUID], query: list[float]
) -> dict[uuid.UUID, float]:
    """Cosine similarity of each stored embedding (same dimension as *query*) to *query*."""
    if not ids:
        return {}
    in_database, stored = _COSINE_SQL[kind]
    if await has_pgvector(session):
        rows = await session.execute(
            in_database, {"q": _vector_literal(query), "ids": ids, "dim": len(query)}
        )
        return {row[0]: float(row[1]) for row in rows.all()}
    rows = await session.execute(stored, {"ids": ids})
    return {row[0]: cosine(list(row[1]), query) for row in rows.all() if row[1] is not None}


def _blend(
    lexical: dict[uuid.UUID, float], vector: dict[uuid.UUID, float]
) -> dict[uuid.UUID, float]:
    top = max(lexical.values(), default=0.0) or 1.0
    return {
        key: LEXICAL_WEIGHT * (lexical.get(key, 0.0) / top)
        + (1 - LEXICAL_WEIGHT) * max(0.0, vector.get(key, 0.0))
        for key in lexical.keys() | vector.keys()
    }


# Word endings dropped before prefix matching (the ticket search document is 'simple': no
# stemming), longest first; a stem keeps at least PREFIX_MIN characters.
_SUFFIXES = ("ations", "ation", "ings", "ing", "ies", "ied", "ers", "er", "ed", "es", "s")
PREFIX_MIN = 4


def stem(word: str) -> str:
    for suffix in _SUFFIXES:
        if word.endswith(suffix) and len(word) - len(suffix) >= PREFIX_MIN:
            return word[: -len(suffix)]
    return word


def similar_query(document: str, limit: int = MAX_QUERY_TERMS) -> str | None:
    """A ``to_tsquery`` text matching any of *document*'s most frequent content words, each by
    its stem as a prefix ("printers" finds "printer", "printing" and "prints"; the search
    document has no stemming); stems shorter than PREFIX_MIN match exactly. Every term is
    ``\\w+`` only and single-quoted, so nothing in it is tsquery syntax."""
    counted = Counter(stem(w) for w in terms(document))
    if not counted:
        return None
    return " | ".join(
        f"'{w}':*" if len(w) >= PREFIX_MIN else f"'{w}'" for w, _ in counted.most_common(limit)
    )


async def similar_tickets(
    session: AsyncSession,
    ticket_id: uuid.UUID,
    document: str,
    *,
    embedding: list[float] | None = None,
    embed_model: str | None = None,
    limit: int = CANDIDATES,
) -> list[TicketHit]:
    """Tickets most like *document* (every organization: the caller's visibility is applied when
    the result is read), best first."""
    query = similar_query(document)
    hits: dict[uuid.UUID, TicketHit] = {}
    if query is not None:
        rows = await session.execute(
            _SIMILAR, {"q": query, "id": ticket_id, "limit": limit, "pool": POOL}
        )
        for row in rows.all():
            hits[row.id] = TicketHit(
                row.id, row.number, row.status, row.category, row.priority, float(row.score)
            )
    if embedding is None or embed_model is None:
        return list(hits.values())
    lexical = {key: hit.score for key, hit in hits.items()}
    rows = await session.execute(
        _RECENT_EMBEDDED, {"model": embed_model, "id": ticket_id, "limit": RECENT_EMBEDDED}
    )
    for row in rows.all():
        hits.setdefault(
            row.id, TicketHit(row.id, row.number, row.status, row.category, row.priority, 0.0)
        )
    vector = await _cosines(session, "tickets", list(hits), embedding)
    blended = _blend(lexical, vector)
    for key, hit in hits.items():
        hit.score = blended.get(key, 0.0)
    ranked = sorted(hits.values(), key=lambda h: -h.score)
    return [h for h in ranked if h.score > 0][:limit]


async def kb_passages(
    session: AsyncSession,
    document: str,
    *,
    embedding: list[float] | None = None,
    embed_model: str | None = None,
    limit: int = 3,
) -> list[KbHit]:
    query = or_query(document)
    hits: dict[uuid.UUID, KbHit] = {}
    if query is not None:
        rows = await session.execute(_KB, {"q": query, "limit": CANDIDATES})
        for row in rows.all():
            hits[row.id] = KbHit(row.id, row.source, row.title, row.body, float(row.score))
    if embedding is None or embed_model is None:
        return list(hits.values())[:limit]
    lexical = {key: hit.score for key, hit in hits.items()}
    rows = await session.execute(
        text(
            "SELECT id, source, title, body FROM kb_passages "
            "WHERE embed_model = :model AND embedding IS NOT NULL"
        ),
        {"model": embed_model},
    )
    for row in rows.all():
        hits.setdefault(row.id, KbHit(row.id, row.source, row.title, row.body, 0.0))
    vector = await _cosines(session, "kb", list(hits), embedding)
    blended = _blend(lexical, vector)
    for key, hit in hits.items():
        hit.score = blended.get(key, 0.0)
    return [h for h in sorted(hits.values(), key=lambda h: -h.score) if h.score > 0][:limit]
