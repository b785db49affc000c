"""The two triage engines behind one interface, chosen by configuration (``engine_for``).

- ``lexical`` (default, always available): similar tickets by full-text ranking, category and
  priority by a score-weighted vote over the most similar resolved tickets (a confidence, and no
  suggestion below ``ATUM_AI_MIN_CONFIDENCE``), an extractive summary, KB passages by full-text.
- ``ollama`` (``ATUM_OLLAMA_URL`` set): embeddings (``ATUM_OLLAMA_EMBED_MODEL``) stored in
  PostgreSQL for hybrid retrieval, then summary, suggestions and a reply citing its sources from
  the LLM, validated against a strict schema. Any failure (unreachable, slow, error, invalid
  answer) gives the lexical result: never an error.

Advisory by construction: an engine only reads tickets and returns an ``Analysis``; nothing here
imports the ticket or workflow services.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any, Protocol

import structlog
from sqlalchemy import select, text
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession

from app.ai import retrieval
from app.ai.ollama import OllamaClient, OllamaError, parse_triage, triage_schema
from app.ai.retrieval import KbHit, TicketHit
from app.ai.text import digest, extractive_summary
from app.config import Settings
from app.models import KbPassage, Ticket, TicketEmbedding

log = structlog.get_logger("atum.ai")

SHOWN_SIMILAR = 5
VOTERS = 10
KB_SHOWN = 3
EMBED_BATCH = 16


@dataclass(frozen=True, slots=True)
class TicketText:
    id: uuid.UUID
    number: int
    title: str
    description: str
    comments: tuple[str, ...] = ()

    @property
    def document(self) -> str:
        return "\n\n".join((self.title, self.description, *self.comments))


@dataclass(frozen=True, slots=True)
class Vote:
    value: str
    confidence: float


@dataclass(slots=True)
class Analysis:
    engine: str
    summary: str
    category: Vote | None
    priority: Vote | None
    similar: list[TicketHit]
    kb: list[KbHit]
    reply: str | None = None
    model: str | None = None
    notes: list[str] = field(default_factory=list)


class Engine(Protocol):
    name: str

    async def analyse(self, session: AsyncSession, ticket: TicketText) -> Analysis: ...


def vote(hits: list[TicketHit], attribute: str, threshold: float) -> Vote | None:
    """Score-weighted vote of the most similar resolved tickets; None below *threshold*."""
    weights: dict[str, float] = defaultdict(float)
    voters = [h for h in hits if h.resolved and h.score > 0][:VOTERS]
    for hit in voters:
        value = getattr(hit, attribute)
        if value:
            weights[value] += hit.score
    total = sum(weights.values())
    if not total:
        return None
    value, weight = max(weights.items(), key=lambda item: (item[1], item[0]))
    confidence = round(weight / total, 4)
    return Vote(value, confidence) if confidence >= threshold else None


class LexicalEngine:
    name = "lexical"

    def __init__(self, settings: Settings) -> None:
        self.threshold = settings.ai_min_confidence

    def from_hits(self, ticket: TicketText, hits: list[TicketHit], kb: list[KbHit]) -> Analysis:
        return Analysis(
            engine=self.name,
            summary=extractive_summary(ticket.title, ticket.description),
            category=vote(hits, "category", self.threshold),
            priority=vote(hits, "priority", self.threshold),
            similar=hits[:SHOWN_SIMILAR],
            kb=kb[:KB_SHOWN],
        )

    async def analyse(self, session: AsyncSession, ticket: TicketText) -> Analysis:
        hits = await retrieval.similar_tickets(session, ticket.id, ticket.document)
        kb = await retrieval.kb_passages(session, ticket.document, limit=KB_SHOWN)
        return self.from_hits(ticket, hits, kb)


_SYSTEM = (
    "You triage helpdesk tickets for a support team. Answer with JSON only, matching the given "
    "schema. summary: two or three neutral sentences. category and priority: choose only from "
    "the offered values, or null when unsure; the confidences are your probability of being "
    "right. reply: a short, polite draft answer to the customer that the agent will edit; cite "
    "the ticket or passage tags you used in square brackets, e.g. [T1042] or [KB1], and list "
    "those tags in sources. Never invent facts that are not in the ticket or the sources."
)


class OllamaEngine:
    name = "ollama"

    def __init__(self, settings: Settings, client: OllamaClient | None = None) -> None:
        assert settings.ollama_url
        self.settings = settings
        self.client = client or OllamaClient(settings.ollama_url, settings.ollama_timeout_seconds)
        self.lexical = LexicalEngine(settings)

    async def analyse(self, session: AsyncSession, ticket: TicketText) -> Analysis:
        embedding = await self._embed_ticket(session, ticket)
        model = self.settings.ollama_embed_model if embedding is not None else None
        hits = await retrieval.similar_tickets(
            session, ticket.id, ticket.document, embedding=embedding, embed_model=model
        )
        kb = await retrieval.kb_passages(
            session, ticket.document, embedding=embedding, embed_model=model, limit=KB_SHOWN
        )
        fallback = self.lexical.from_hits(ticket, hits, kb)
        try:
            return await self._ask(session, ticket, fallback)
        except OllamaError as exc:
            log.info("ai_ollama_fallback", ticket_id=str(ticket.id), reason=str(exc)[:200])
            fallback.notes.append(str(exc))
            return fallback

    async def _embed_ticket(self, session: AsyncSession, ticket: TicketText) -> list[float] | None:
        model = self.settings.ollama_embed_model
        if not model:
            return None
        try:
            await self._embed_passages(session, model)
            [vector] = await self.client.embed(model, [ticket.document])
        except OllamaError as exc:
            log.info("ai_embed_unavailable", ticket_id=str(ticket.id), reason=str(exc)[:200])
            return None
        values = {
            "ticket_id": ticket.id,
            "model": model,
            "content_hash": digest(ticket.document),
            "embedding": vector,
        }
        await session.execute(
            pg_insert(TicketEmbedding)
            .values(values)
            .on_conflict_do_update(
                index_elements=[TicketEmbedding.ticket_id],
                set_={
                    **{k: v for k, v in values.items() if k != "ticket_id"},
                    "updated_at": text("now()"),
                },
            )
        )
        return vector

    async def _embed_passages(self, session: AsyncSession, model: str) -> None:
        """Embed a batch of KB passages that have no embedding of *model* yet."""
        rows = (
            await session.execute(
                select(KbPassage.id, KbPassage.title, KbPassage.body)
                .where(KbPassage.embed_model.is_distinct_from(model))
                .order_by(KbPassage.source, KbPassage.position)
                .limit(EMBED_BATCH)
            )
        ).all()
        if not rows:
            return
        vectors = await self.client.embed(model, [f"{r.title}\n\n{r.body}" for r in rows])
        for row, vector in zip(rows, vectors, strict=True):
            passage = await session.get(KbPassage, row.id)
            if passage is not None:
                passage.embedding = vector
                passage.embed_model = model
        await session.flush()

    async def _ask(self, session: AsyncSession, ticket: TicketText, base: Analysis) -> Analysis:
        categories = await _known_categories(session)
        similar = await _similar_context(session, base.similar)
        tags = [f"T{row['number']}" for row in similar] + [
            f"KB{i}" for i in range(1, len(base.kb) + 1)
        ]
        prompt = _prompt(ticket, similar, base.kb, categories)
        content = await self.client.chat_json(
            self.settings.ollama_model, _SYSTEM, prompt, triage_schema(categories, tags)
        )
        answer = parse_triage(content, categories, tags)
        threshold = self.settings.ai_min_confidence
        return Analysis(
            engine=self.name,
            model=self.settings.ollama_model,
            summary=answer.summary,
            category=Vote(answer.category, answer.category_confidence)
            if answer.category and answer.category_confidence >= threshold
            else None,
            priority=Vote(answer.priority, answer.priority_confidence)
            if answer.priority and answer.priority_confidence >= threshold
            else None,
            similar=base.similar,
            kb=base.kb,
            reply=answer.reply,
        )


async def _known_categories(session: AsyncSession, limit: int = 50) -> list[str]:
    rows = await session.execute(
        select(Ticket.category)
        .where(Ticket.category.is_not(None), Ticket.status.in_(retrieval.RESOLVED))
        .group_by(Ticket.category)
        .order_by(Ticket.category)
        .limit(limit)
    )
    return [c for (c,) in rows.all() if c]


async def _similar_context(session: AsyncSession, hits: list[TicketHit]) -> list[dict[str, Any]]:
    if not hits:
        return []
    rows = await session.execute(
        select(Ticket.id, Ticket.number, Ticket.title, Ticket.resolution).where(
            Ticket.id.in_([h.id for h in hits])
        )
    )
    by_id = {r.id: r for r in rows.all()}
    return [
        {
            "number": by_id[h.id].number,
            "title": by_id[h.id].title,
            "resolution": by_id[h.id].resolution,
            "category": h.category,
            "priority": h.priority,
        }
        for h in hits
        if h.id in by_id
    ]


def _prompt(
    ticket: TicketText, similar: list[dict[str, Any]], kb: list[KbHit], categories: list[str]
) -> str:
    lines = [
        f"Ticket #{ticket.number}: {ticket.title}",
        ticket.description[:6000],
        *(f"Customer/agent message: {c[:2000]}" for c in ticket.comments[-5:]),
        "",
        "Categories you may choose: " + (", ".join(categories) or "(none: answer null)"),
        "Priorities: P1 (outage) … P4 (question).",
        "",
        "Similar past tickets:",
    ]
    for row in similar:
        lines.append(
            f"[T{row['number']}] {row['title']} (category {row['category'] or '—'}, "
            f"priority {row['priority']}); resolution: {(row['resolution'] or 'none')[:800]}"
        )
    lines.append("")
    lines.append("Knowledge base passages:")
    for i, hit in enumerate(kb, 1):
        lines.append(f"[KB{i}] {hit.title} ({hit.source}): {hit.body[:1200]}")
    return "\n".join(lines)


def engine_for(settings: Settings) -> Engine:
    if settings.ollama_url:
        return OllamaEngine(settings)
    return LexicalEngine(settings)


def configured_engine_name(settings: Settings) -> str:
    return "ollama" if settings.ollama_url else "lexical"
