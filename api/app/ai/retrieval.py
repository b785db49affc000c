"""Retrieval: similar tickets and knowledge-base passages, by full-text ranking and, when the
ticket has an embedding, by embedding similarity too, the two rankings fused by reciprocal rank
fusion (RRF: each list gives ``1 / (RRF_K + rank)``; no score scales to reconcile).

Full-text candidates are bounded (``POOL``, below); embedding neighbours come from
``app/ai/vectors.py`` (pgvector's HNSW index, or exact search over a bounded pool). Knowledge
means KB articles (``kb:`` passages): the operator documentation (``docs/``) only when an admin
opted in (``ATUM_AI_OPERATOR_DOCS``). With embeddings, a passage below ``KB_FLOOR`` cosine
similarity is not shown at all, and a ticket below ``SIMILAR_FLOOR`` is not listed as similar:
nothing is better than something irrelevant (both floors chosen on the evaluation set, see
docs/AI.md). Runs in the worker with no caller: what a viewer may see is re-checked on every read
(``app/ai/suggestions.py``).
"""

from __future__ import annotations

import uuid
from collections import Counter
from dataclasses import dataclass
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from app.ai import vectors
from app.ai.kb import ARTICLE_PREFIX
from app.ai.text import MAX_QUERY_TERMS, or_query, terms
from app.services.kb_articles import plain_excerpt

CANDIDATES = 50
RESOLVED = ("RESOLVED", "CLOSED")
RRF_K = 60
# The embedding ranking counts this many times the full-text one for similar tickets (measured
# on the evaluation set, docs/AI.md: duplicate recall@5 0.753 at 1, 0.792 at 2, 0.803 at 3,
# 0.809 at 5, 0.798 with the embedding ranking alone).
SIMILAR_SEMANTIC_WEIGHT = 5.0
SIMILAR_FLOOR = 0.35
KB_FLOOR = 0.55
EXCERPT_CHARS = 400

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
_TICKET_ROWS = text(
    "SELECT id, number, status, category, priority FROM tickets WHERE id = ANY(:ids)"
)
_KB = text(
    """
    SELECT p.id, p.source, p.title, p.body, ts_rank(p.search, q, 1 | 32) AS score
    FROM kb_passages AS p, to_tsquery('english', :q) AS q
    WHERE p.search @@ q AND (p.source LIKE 'kb:%' OR :docs)
    ORDER BY score DESC, p.source, p.position
    LIMIT :limit
    """
)
_KB_EMBEDDED = text(
    """
    SELECT id, source, title, body, embedding FROM kb_passages
    WHERE embed_model = :model AND embedding IS NOT NULL AND (source LIKE 'kb:%' OR :docs)
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
    similarity: float | None = None  # cosine of the embeddings, when both have one

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
    similarity: float | None = None

    @property
    def article_id(self) -> uuid.UUID | None:
        if not self.source.startswith(ARTICLE_PREFIX):
            return None
        try:
            return uuid.UUID(self.source.removeprefix(ARTICLE_PREFIX))
        except ValueError:
            return None

    def as_json(self) -> dict[str, Any]:
        return {
            "title": self.title,
            "source": self.source,
            "article_id": str(self.article_id) if self.article_id else None,
            "excerpt": plain_excerpt(self.body, EXCERPT_CHARS),
            "body": self.body,
            "score": round(self.similarity if self.similarity is not None else self.score, 4),
        }


def _relevant(similarity: float | None, floor: float) -> bool:
    """A hit with an embedding must reach *floor*; one without (not embedded yet: only the
    full-text step found it) is kept on its full-text rank."""
    return similarity is None or similarity >= floor


def fuse(
    lexical: list[uuid.UUID], semantic: list[uuid.UUID], semantic_weight: float = 1.0
) -> dict[uuid.UUID, float]:
    """Weighted reciprocal rank fusion of two best-first id lists."""
    fused: dict[uuid.UUID, float] = {}
    for ranking, weight in ((lexical, 1.0), (semantic, semantic_weight)):
        for rank, key in enumerate(ranking, 1):
            fused[key] = fused.get(key, 0.0) + weight / (RRF_K + rank)
    return fused


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
    exact: bool = False,
) -> list[TicketHit]:
    """Tickets most like *document* (every organization: the caller's visibility is applied when
    the result is read), best first. With an embedding: full-text and nearest-neighbour
    rankings fused (RRF), tickets below SIMILAR_FLOOR similarity dropped."""
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
    lexical = list(hits)
    near = await vectors.nearest_tickets(
        session, embed_model, embedding, ticket_id, also=lexical, limit=limit, exact=exact
    )
    missing = [key for key in near if key not in hits]
    if missing:
        for row in await session.execute(_TICKET_ROWS, {"ids": missing}):
            hits[row.id] = TicketHit(
                row.id, row.number, row.status, row.category, row.priority, 0.0
            )
    by_similarity = sorted(near, key=lambda key: -near[key])
    fused = fuse(lexical, by_similarity, SIMILAR_SEMANTIC_WEIGHT)
    for key, hit in hits.items():
        hit.score = fused.get(key, 0.0)
        hit.similarity = near.get(key)
    ranked = sorted(hits.values(), key=lambda h: (-h.score, -h.number))
    return [h for h in ranked if _relevant(h.similarity, SIMILAR_FLOOR)][:limit]


async def kb_passages(
    session: AsyncSession,
    document: str,
    *,
    embedding: list[float] | None = None,
    embed_model: str | None = None,
    include_docs: bool = False,
    limit: int = 3,
) -> list[KbHit]:
    """The KB passages that best answer *document*: article passages, plus the operator
    documentation when *include_docs*. With an embedding: full-text and embedding rankings
    fused, passages below KB_FLOOR similarity dropped."""
    query = or_query(document)
    hits: dict[uuid.UUID, KbHit] = {}
    if query is not None:
        rows = await session.execute(_KB, {"q": query, "limit": CANDIDATES, "docs": include_docs})
        for row in rows.all():
            hits[row.id] = KbHit(row.id, row.source, row.title, row.body, float(row.score))
    if embedding is None or embed_model is None:
        return list(hits.values())[:limit]
    lexical = list(hits)
    passages = (
        await session.execute(_KB_EMBEDDED, {"model": embed_model, "docs": include_docs})
    ).all()
    for row in passages:
        hits.setdefault(row.id, KbHit(row.id, row.source, row.title, row.body, 0.0))
    scores = vectors.cosines(embedding, [list(row.embedding) for row in passages])
    near = {row.id: float(score) for row, score in zip(passages, scores.tolist(), strict=True)}
    fused = fuse(lexical, sorted(near, key=lambda key: -near[key]))
    for key, hit in hits.items():
        hit.score = fused.get(key, 0.0)
        hit.similarity = near.get(key)
    ranked = sorted(hits.values(), key=lambda h: -h.score)
    return [h for h in ranked if _relevant(h.similarity, KB_FLOOR)][:limit]
