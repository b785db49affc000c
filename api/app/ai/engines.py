"""The triage engines behind one interface (``Engine.analyse``), chosen by configuration
(``engine_for``); all three share one pipeline (``Pipeline``) and differ in what they have:

- ``local`` (default when the model package is installed): the ticket is embedded in-process
  (all-MiniLM-L6-v2, ``app/ai/local_model.py``); similar tickets and KB passages by full-text and
  embedding rankings fused; category and priority by the trained classifier
  (``app/ai/classifier.py``), or by a similarity-weighted vote of the nearest resolved tickets
  while too few labels exist; an extractive summary and, when a KB passage is relevant enough,
  an extractive draft reply citing it.
- ``lexical`` (no model installed): the same without embeddings: full-text retrieval and a
  score-weighted vote of the most similar resolved tickets.
- ``ollama`` (``ATUM_OLLAMA_URL`` set): the local pipeline (embeddings from
  ``ATUM_OLLAMA_EMBED_MODEL`` when set), then the language model writes the summary and the
  reply citing its sources, and names category/priority where the classifier abstained; its
  answer must pass a strict schema. Any failure (unreachable, slow, error, invalid answer) keeps
  the pipeline's result: never an error.

Advisory by construction: an engine only reads tickets and returns an ``Analysis``; nothing here
imports the ticket or workflow services.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any, Protocol

import structlog
from sqlalchemy import select, text, true
from sqlalchemy.ext.asyncio import AsyncSession

from app.ai import local_model, retrieval, training, vectors
from app.ai.choice import resolved_engine_name
from app.ai.classifier import Classifier
from app.ai.kb import ARTICLE_PREFIX
from app.ai.ollama import OllamaClient, OllamaError, parse_triage, triage_schema
from app.ai.retrieval import KbHit, TicketHit
from app.ai.text import digest, extractive_summary, sentences, terms
from app.config import Settings
from app.models import KbPassage, Ticket
from app.services.kb_articles import plain_text

log = structlog.get_logger("atum.ai")

SHOWN_SIMILAR = 5
VOTERS = 10
KB_SHOWN = 3
PASSAGE_BATCH = 64
REPLY_SENTENCES = 4
REPLY_MAX_CHARS = 900


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
    """A field's best value; ``shown`` when its confidence reaches the threshold that applies
    (the classifier's own, chosen on held-out data, or ``ATUM_AI_MIN_CONFIDENCE`` for a vote):
    only a shown vote is stored and offered to staff."""

    value: str
    confidence: float
    method: str  # "classifier" | "neighbours" | "llm"
    version: int | None = None
    shown: bool = True


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
    """Weighted vote of the most similar resolved tickets (by embedding similarity when known,
    else by full-text score); ``shown`` from *threshold*."""
    weights: dict[str, float] = defaultdict(float)
    voters = [h for h in hits if h.resolved and _weight(h) > 0][:VOTERS]
    for hit in voters:
        value = getattr(hit, attribute)
        if value:
            weights[value] += _weight(hit)
    total = sum(weights.values())
    if not total:
        return None
    value, weight = max(weights.items(), key=lambda item: (item[1], item[0]))
    confidence = round(weight / total, 4)
    return Vote(value, confidence, "neighbours", shown=confidence >= threshold)


def _weight(hit: TicketHit) -> float:
    return max(0.0, hit.similarity) if hit.similarity is not None else hit.score


def extractive_reply(ticket: TicketText, kb: list[KbHit]) -> str | None:
    """A draft built from the best passage: its sentences that share most words with the ticket
    (in their order, as plain text), citing the article. None without a passage."""
    if not kb:
        return None
    best = kb[0]
    wanted = set(terms(ticket.document))
    parts = [s for s in sentences(best.body) if not s.lstrip().startswith(("```", "~~~", "|"))]
    if not parts:
        return None

    def overlap(sentence: str) -> int:
        return len(wanted & set(terms(sentence)))

    chosen = sorted(
        sorted(range(len(parts)), key=lambda i: (-overlap(parts[i]), i))[:REPLY_SENTENCES]
    )
    # Plain text: the draft goes to the customer, who reads comments as text, not Markdown.
    body = "\n\n".join(" ".join(plain_text(parts[i]).split()) for i in chosen)
    if len(body) > REPLY_MAX_CHARS:
        body = body[: REPLY_MAX_CHARS - 1].rstrip() + "…"
    return (
        "Hello,\n\nthank you for your message. "
        f'Our knowledge base article "{best.title}" [KB1] describes this:\n\n{body}\n\n'
        "Please let us know whether this solves it.\n\nKind regards"
    )


class Pipeline:
    """Retrieval, classification and drafting, with or without embeddings."""

    def __init__(
        self,
        settings: Settings,
        *,
        name: str,
        embedder: vectors.Embedder | None,
        models: training.ModelSource | None = None,
        exact: bool = False,
    ) -> None:
        self.name = name
        self.settings = settings
        self.threshold = settings.ai_min_confidence
        self.embedder = embedder
        self.models = models or training.ModelSource()
        self.exact = exact

    async def embed_ticket(self, session: AsyncSession, ticket: TicketText) -> list[float] | None:
        """The ticket's embedding: the stored one when its text is unchanged, else computed and
        stored. None without an embedder or when it fails (retrieval is then full-text)."""
        if self.embedder is None:
            return None
        model = self.embedder.name
        content_hash = digest(ticket.document)
        stored = await vectors.stored_ticket(session, ticket.id, model, content_hash)
        if stored is not None:
            return stored
        try:
            [vector] = await self.embedder.embed([ticket.document])
        except (OllamaError, local_model.ModelUnavailable) as exc:
            log.info("ai_embed_unavailable", ticket_id=str(ticket.id), reason=str(exc)[:200])
            return None
        await vectors.store_ticket(session, ticket.id, model, content_hash, vector)
        return vector

    async def embed_passages(self, session: AsyncSession) -> int:
        """Embed a batch of the passages that may be cited (articles; the operator docs too when
        opted in) that have no embedding of this model yet."""
        if self.embedder is None:
            return 0
        model = self.embedder.name
        rows = (
            await session.execute(
                select(KbPassage.id, KbPassage.title, KbPassage.body)
                .where(KbPassage.embed_model.is_distinct_from(model))
                .where(
                    KbPassage.source.startswith(ARTICLE_PREFIX)
                    if not self.settings.ai_operator_docs
                    else true()
                )
                .order_by(KbPassage.source, KbPassage.position)
                .limit(PASSAGE_BATCH)
            )
        ).all()
        if not rows:
            return 0
        try:
            found = await self.embedder.embed([f"{r.title}\n\n{r.body}" for r in rows])
        except (OllamaError, local_model.ModelUnavailable) as exc:
            log.info("ai_embed_unavailable", reason=str(exc)[:200])
            return 0
        for row, vector in zip(rows, found, strict=True):
            await session.execute(
                text("UPDATE kb_passages SET embedding = :v, embed_model = :m WHERE id = :id"),
                {"v": vector, "m": model, "id": row.id},
            )
        return len(rows)

    async def classify(
        self,
        session: AsyncSession,
        field_name: str,
        vector: list[float] | None,
        hits: list[TicketHit],
    ) -> Vote | None:
        model: Classifier | None = None
        if vector is not None and self.embedder is not None:
            model = await self.models.get(session, field_name, self.embedder.name)
        if model is None:
            return vote(hits, field_name, self.threshold)
        value, confidence = model.predict(vector)  # type: ignore[arg-type]
        return Vote(
            value,
            round(confidence, 4),
            "classifier",
            model.version,
            shown=confidence >= model.threshold,
        )

    async def analyse(self, session: AsyncSession, ticket: TicketText) -> Analysis:
        await self.embed_passages(session)
        vector = await self.embed_ticket(session, ticket)
        model = self.embedder.name if self.embedder is not None and vector is not None else None
        hits = await retrieval.similar_tickets(
            session,
            ticket.id,
            ticket.document,
            embedding=vector,
            embed_model=model,
            exact=self.exact,
        )
        kb = await retrieval.kb_passages(
            session,
            ticket.document,
            embedding=vector,
            embed_model=model,
            include_docs=self.settings.ai_operator_docs,
            limit=KB_SHOWN,
        )
        return Analysis(
            engine=self.name,
            model=model,
            summary=extractive_summary(ticket.title, ticket.description),
            category=await self.classify(session, "category", vector, hits),
            priority=await self.classify(session, "priority", vector, hits),
            similar=hits[:SHOWN_SIMILAR],
            kb=kb,
            reply=extractive_reply(ticket, kb) if vector is not None else None,
        )


_SYSTEM = (
    "You triage helpdesk tickets for a support team. Answer with JSON only, matching the given "
    "schema. summary: two or three neutral sentences. category and priority: choose only from "
    "the offered values, or null when unsure; the confidences are your probability of being "
    "right. reply: a short, polite draft answer to the customer that the agent will edit; cite "
    "the ticket or passage tags you used in square brackets, e.g. [T1042] or [KB1], and list "
    "those tags in sources. Never invent facts that are not in the ticket or the sources."
)


class LexicalEngine(Pipeline):
    """The pipeline without embeddings (no model installed, or ``ATUM_AI_ENGINE=lexical``)."""

    def __init__(self, settings: Settings, models: training.ModelSource | None = None) -> None:
        super().__init__(settings, name="lexical", embedder=None, models=models)


class LocalEngine(Pipeline):
    """The pipeline with the in-process model."""

    def __init__(
        self,
        settings: Settings,
        models: training.ModelSource | None = None,
        *,
        exact: bool = False,
    ) -> None:
        super().__init__(
            settings, name="local", embedder=vectors.LocalEmbedder(), models=models, exact=exact
        )


class OllamaEngine:
    """The pipeline, then the language model for summary, reply and the fields the classifier
    left open."""

    name = "ollama"

    def __init__(
        self,
        settings: Settings,
        client: OllamaClient | None = None,
        models: training.ModelSource | None = None,
    ) -> None:
        assert settings.ollama_url
        self.settings = settings
        self.client = client or OllamaClient(settings.ollama_url, settings.ollama_timeout_seconds)
        embedder: vectors.Embedder | None = None
        if settings.ollama_embed_model:
            embedder = OllamaEmbedder(self.client, settings.ollama_embed_model)
        elif local_model.installed():
            embedder = vectors.LocalEmbedder()
        self.pipeline = Pipeline(settings, name="ollama", embedder=embedder, models=models)

    async def analyse(self, session: AsyncSession, ticket: TicketText) -> Analysis:
        base = await self.pipeline.analyse(session, ticket)
        try:
            return await self._ask(session, ticket, base)
        except OllamaError as exc:
            log.info("ai_ollama_fallback", ticket_id=str(ticket.id), reason=str(exc)[:200])
            base.engine = "local" if base.model == local_model.MODEL_NAME else "lexical"
            base.notes.append(str(exc))
            return base

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

        def llm_vote(value: str | None, confidence: float) -> Vote | None:
            if value is None:
                return None
            return Vote(value, confidence, "llm", shown=confidence >= threshold)

        def either(base: Vote | None, llm: Vote | None) -> Vote | None:
            # A trained classifier (measured on held-out data) beats the language model; the
            # language model beats a vote of few neighbours.
            for candidate in (base, llm):
                if (
                    candidate is not None
                    and candidate.shown
                    and (candidate.method != "neighbours" or llm is None or not llm.shown)
                ):
                    return candidate
            return base or llm

        return Analysis(
            engine=self.name,
            model=self.settings.ollama_model,
            summary=answer.summary,
            category=either(base.category, llm_vote(answer.category, answer.category_confidence)),
            priority=either(base.priority, llm_vote(answer.priority, answer.priority_confidence)),
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


class OllamaEmbedder:
    """Embeddings from Ollama's ``/api/embed`` (``ATUM_OLLAMA_EMBED_MODEL``)."""

    def __init__(self, client: OllamaClient, model: str) -> None:
        self.client = client
        self.name = model

    async def embed(self, texts: list[str]) -> list[list[float]]:
        return await self.client.embed(self.name, texts)


def engine_for(settings: Settings, models: training.ModelSource | None = None) -> Engine:
    name = resolved_engine_name(settings)
    if name == "ollama" and settings.ollama_url:
        return OllamaEngine(settings, models=models)
    if name in ("local", "ollama") and local_model.installed():
        return LocalEngine(settings, models)
    return LexicalEngine(settings, models)


def embedder_of(engine: Engine) -> vectors.Embedder | None:
    """The embedding model an engine uses, if any."""
    pipeline = engine.pipeline if isinstance(engine, OllamaEngine) else engine
    return pipeline.embedder if isinstance(pipeline, Pipeline) else None
