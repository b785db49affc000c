"""The evaluation of AI triage on the labelled sets ``eval/tickets.jsonl`` (part A, 225 tickets)
and ``eval/tickets-styles.jsonl`` (part B, 100 tickets in other styles: short mobile messages,
long forwarded threads, German and mixed English/German), shared by ``make eval``
(``eval/run.py``) and the regression test ``api/tests/test_ai_eval.py``.

Everything runs on a throwaway database (created on the server of ``ATUM_DATABASE_URL`` or on the
embedded PostgreSQL, migrated to head, dropped afterwards), so no other ticket can take part.
The whole set is loaded as resolved tickets; each ticket is then analysed by the engine exactly as
the worker does (``Engine.analyse``) under its own id, and retrieval never returns the ticket
being analysed: it is predicted from all the others (leave-one-out). For the local engine the
classifiers are trained anew for each ticket on all the others (``classifier.train``, the same
code the worker runs), so no ticket is ever predicted by a model that saw its label.

Top-1 is the engine's best value whatever its confidence; a ticket is *covered* when the engine
would show that value (``Vote.shown``: the classifier's threshold chosen on held-out data, or
``ATUM_AI_MIN_CONFIDENCE`` for a vote of neighbours), the level below which the desk shows
"No suggestion".
"""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from collections import Counter
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

import numpy as np
from sqlalchemy import select, text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncSession, create_async_engine

from app.ai import classifier, vectors
from app.ai.engines import (
    Analysis,
    Engine,
    LexicalEngine,
    LocalEngine,
    OllamaEngine,
    TicketText,
    embedder_of,
)
from app.ai.text import digest
from app.ai.training import FixedModels
from app.config import Settings
from app.db import migrations
from app.db.embedded import to_async_url
from app.models import Organization, Ticket, User
from app.utils.clock import utcnow

EVAL = Path(__file__).resolve().parent
TICKETS = EVAL / "tickets.jsonl"
STYLES = EVAL / "tickets-styles.jsonl"
KB_ARTICLES = EVAL / "kb-articles.jsonl"
KB_FLOORS = (0.35, 0.40, 0.45, 0.50, 0.55, 0.60, 0.65)
PARTS = {"A": TICKETS, "B": STYLES}
TOP_K = 5
FIELDS = ("id", "title", "description", "category", "priority", "duplicate_group")
CURVE = (5, 10, 20, 40)
CURVE_REPEATS = 5


@dataclass(frozen=True, slots=True)
class Labelled:
    id: str
    title: str
    description: str
    category: str
    priority: str
    duplicate_group: str | None
    part: str = "A"

    @property
    def document(self) -> str:
        return f"{self.title}\n\n{self.description}"


def load_all() -> list[Labelled]:
    """Both parts, A first; ids are unique across them."""
    rows = [row for part, path in PARTS.items() for row in load_set(path, part)]
    if len({r.id for r in rows}) != len(rows):
        raise ValueError("duplicate ids across the parts")
    return rows


def load_set(path: Path = TICKETS, part: str = "A") -> list[Labelled]:
    """The labelled tickets; a malformed line is an error naming its line number."""
    rows: list[Labelled] = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        raw = json.loads(line)
        if set(raw) != set(FIELDS):
            raise ValueError(f"{path.name}:{number}: fields {sorted(raw)}, expected {FIELDS}")
        rows.append(Labelled(**{k: raw[k] for k in FIELDS}, part=part))
    if len({r.id for r in rows}) != len(rows):
        raise ValueError(f"{path.name}: duplicate ids")
    return rows


# ---------------------------------------------------------------- the throwaway database


def _asyncpg_kwargs(url: str) -> dict[str, Any]:
    parsed = make_url(url)
    return {
        "user": parsed.username,
        "password": parsed.password,
        "database": parsed.database,
        "host": parsed.query.get("host") or parsed.host,
        "port": parsed.port,
    }


async def _admin(server_url: str, statement: str) -> None:
    import asyncpg

    conn = await asyncpg.connect(**_asyncpg_kwargs(server_url))
    try:
        await conn.execute(statement)
    finally:
        await conn.close()


@asynccontextmanager
async def throwaway_database(server_url: str) -> AsyncIterator[str]:
    """A new database on *server_url*'s server, migrated to head; its async URL. Dropped after."""
    name = f"atum_eval_{uuid.uuid4().hex[:12]}"
    maintenance = make_url(server_url.replace("postgresql+asyncpg://", "postgresql://", 1))
    maintenance = maintenance.set(database="postgres")
    admin_url = maintenance.render_as_string(hide_password=False)
    await _admin(admin_url, f'CREATE DATABASE "{name}"')
    try:
        url = to_async_url(maintenance.set(database=name).render_as_string(hide_password=False))
        await asyncio.to_thread(migrations.upgrade, url)
        yield url
    finally:
        await _admin(admin_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


async def load_history(session: AsyncSession, rows: list[Labelled]) -> dict[str, TicketText]:
    """Every labelled ticket as a resolved ticket of one organization; their texts by set id."""
    org = Organization(id=uuid.uuid4(), name="Evaluation customers", status="active")
    customer = User(
        id=uuid.uuid4(),
        email="eval-customer@example.test",
        name="Evaluation customer",
        role="customer_user",
        org_id=org.id,
        password_hash="!",  # noqa: S106  (not a hash: this user never logs in)
    )
    session.add(org)
    await session.flush()
    session.add(customer)
    await session.flush()
    now = utcnow()
    tickets: dict[str, Ticket] = {}
    for i, row in enumerate(rows):
        created = now - timedelta(days=len(rows) - i)
        tickets[row.id] = Ticket(
            id=uuid.uuid4(),
            org_id=org.id,
            created_by=customer.id,
            status="RESOLVED",
            priority=row.priority,
            category=row.category,
            title=row.title,
            description=row.description,
            resolution="Resolved.",
            root_cause="See the ticket.",
            created_at=created,
            updated_at=created,
            accepted_at=created + timedelta(minutes=10),
            resolved_at=created + timedelta(hours=4),
            sla_first_response_due_at=created + timedelta(hours=2),
            sla_resolution_due_at=created + timedelta(days=2),
        )
    session.add_all(tickets.values())
    await session.flush()
    # What autovacuum does after a bulk insert: the similar-ticket ranking weighs words by the
    # search document's statistics.
    await session.execute(text("ANALYZE tickets"))
    found = await session.execute(
        select(Ticket.id, Ticket.number).where(Ticket.id.in_([t.id for t in tickets.values()]))
    )
    numbers = {row.id: row.number for row in found}
    return {
        key: TicketText(t.id, numbers[t.id], t.title, t.description) for key, t in tickets.items()
    }


async def embed_history(
    session: AsyncSession, embedder: vectors.Embedder, texts: dict[str, TicketText], batch: int = 16
) -> dict[str, list[float]]:
    """Embed every ticket up front, as a desk whose history was all triaged (or backfilled by
    ``ai-reindex``) would have them; returns the vectors by set id."""
    found: dict[str, list[float]] = {}
    items = list(texts.items())
    for start in range(0, len(items), batch):
        chunk = items[start : start + batch]
        embedded = await embedder.embed([t.document for _, t in chunk])
        await vectors.store_tickets(
            session,
            embedder.name,
            [(t.id, digest(t.document), v) for (_, t), v in zip(chunk, embedded, strict=True)],
        )
        found.update({key: v for (key, _), v in zip(chunk, embedded, strict=True)})
    await session.flush()
    return found


# ---------------------------------------------------------------- measuring


@dataclass(slots=True)
class FieldScore:
    """Top-1 and covered accuracy of one predicted field."""

    name: str
    threshold: float
    total: int = 0
    correct: int = 0
    covered: int = 0
    covered_correct: int = 0
    labels: Counter[str] = field(default_factory=Counter)
    per_label: dict[str, list[int]] = field(default_factory=dict)  # label -> [right, total]

    def add(self, truth: str, predicted: str | None, shown: bool) -> None:
        self.total += 1
        self.labels[truth] += 1
        right = predicted == truth
        self.correct += right
        tally = self.per_label.setdefault(truth, [0, 0])
        tally[0] += right
        tally[1] += 1
        if predicted is not None and shown:
            self.covered += 1
            self.covered_correct += right

    @property
    def accuracy(self) -> float:
        return self.correct / self.total if self.total else 0.0

    @property
    def baseline(self) -> float:
        """Always answering the most frequent label."""
        return max(self.labels.values()) / self.total if self.total else 0.0

    @property
    def majority(self) -> str:
        return self.labels.most_common(1)[0][0] if self.labels else "-"

    @property
    def coverage(self) -> float:
        return self.covered / self.total if self.total else 0.0

    @property
    def covered_accuracy(self) -> float:
        return self.covered_correct / self.covered if self.covered else 0.0


@dataclass(slots=True)
class Scores:
    """The figures of one group of tickets (a part, or all)."""

    category: FieldScore
    priority: FieldScore
    duplicate_pairs: int = 0  # ordered (ticket, its duplicate) pairs
    duplicates_found: int = 0  # ... whose duplicate is among the ticket's top TOP_K similar

    @property
    def recall_at_k(self) -> float:
        return self.duplicates_found / self.duplicate_pairs if self.duplicate_pairs else 0.0


@dataclass(slots=True)
class Report:
    engine: str
    tickets: int
    category: FieldScore
    priority: FieldScore
    duplicate_pairs: int = 0
    duplicates_found: int = 0
    fallbacks: int = 0  # Ollama answers that were replaced by the pipeline's result
    seconds: float = 0.0
    parts: dict[str, Scores] = field(default_factory=dict)
    methods: Counter[str] = field(default_factory=Counter)  # how category values were chosen
    curve: list[dict[str, Any]] = field(default_factory=list)
    floors: dict[str, Any] = field(default_factory=dict)
    kb_floors: list[dict[str, Any]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def recall_at_k(self) -> float:
        return self.duplicates_found / self.duplicate_pairs if self.duplicate_pairs else 0.0

    def as_json(self) -> dict[str, Any]:
        def score(s: FieldScore) -> dict[str, Any]:
            return {
                "top1_accuracy": round(s.accuracy, 4),
                "majority_baseline": round(s.baseline, 4),
                "majority_label": s.majority,
                "coverage": round(s.coverage, 4),
                "covered_accuracy": round(s.covered_accuracy, 4),
                "per_label": {k: {"right": v[0], "total": v[1]} for k, v in s.per_label.items()},
            }

        return {
            "engine": self.engine,
            "tickets": self.tickets,
            "category": score(self.category),
            "priority": score(self.priority),
            f"recall_at_{TOP_K}": round(self.recall_at_k, 4),
            "duplicate_pairs": self.duplicate_pairs,
            "parts": {
                name: {
                    "category": score(p.category),
                    "priority": score(p.priority),
                    f"recall_at_{TOP_K}": round(p.recall_at_k, 4),
                    "duplicate_pairs": p.duplicate_pairs,
                }
                for name, p in self.parts.items()
            },
            "category_methods": dict(self.methods),
            "learning_curve": self.curve,
            "floors": self.floors,
            "kb_floors": self.kb_floors,
            "fallbacks": self.fallbacks,
            "seconds": round(self.seconds, 1),
        }


def _scores(threshold: float) -> Scores:
    return Scores(FieldScore("category", threshold), FieldScore("priority", threshold))


def loo_models(
    rows: list[Labelled], embedded: dict[str, list[float]], held_out: str, embed_model: str
) -> FixedModels:
    """Classifiers trained on every labelled ticket but *held_out* (as the worker would)."""
    keep = [r for r in rows if r.id != held_out]
    matrix = np.asarray([embedded[r.id] for r in keep], dtype=np.float32)
    return FixedModels(
        {
            name: classifier.train(name, matrix, [getattr(r, name) for r in keep], embed_model)
            for name in classifier.FIELDS
        }
    )


async def evaluate(
    session: AsyncSession,
    rows: list[Labelled],
    texts: dict[str, TicketText],
    engine: Engine,
    threshold: float,
    *,
    embedded: dict[str, list[float]] | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> Report:
    """Leave-one-out: each ticket analysed with every other one as resolved history (and, with
    *embedded*, classifiers trained on every other one)."""
    started = time.monotonic()
    report = Report(
        engine=engine.name,
        tickets=len(rows),
        category=FieldScore("category", threshold),
        priority=FieldScore("priority", threshold),
    )
    groups: dict[str, set[uuid.UUID]] = {}
    for row in rows:
        if row.duplicate_group:
            groups.setdefault(row.duplicate_group, set()).add(texts[row.id].id)
    pipeline = getattr(engine, "pipeline", engine)
    embedder = embedder_of(engine)
    for done, row in enumerate(rows, 1):
        ticket = texts[row.id]
        if embedded is not None and embedder is not None:
            pipeline.models = await asyncio.to_thread(
                loo_models, rows, embedded, row.id, embedder.name
            )
        analysis: Analysis = await engine.analyse(session, ticket)
        if analysis.engine != engine.name:
            report.fallbacks += 1
        if analysis.category is not None:
            report.methods[analysis.category.method] += 1
        part = report.parts.setdefault(row.part, _scores(threshold))
        for scores in (report, part):
            for score, truth, vote in (
                (scores.category, row.category, analysis.category),
                (scores.priority, row.priority, analysis.priority),
            ):
                score.add(truth, vote.value if vote else None, bool(vote and vote.shown))
        shown = [hit.id for hit in analysis.similar[:TOP_K]]
        assert ticket.id not in shown, "a ticket must never be its own history"
        if row.duplicate_group:
            partners = groups[row.duplicate_group] - {ticket.id}
            found = len(partners & set(shown))
            for scores in (report, part):
                scores.duplicate_pairs += len(partners)
                scores.duplicates_found += found
        if progress is not None:
            progress(done, len(rows))
    report.seconds = time.monotonic() - started
    return report


def learning_curve(
    rows: list[Labelled],
    embedded: dict[str, list[float]],
    embed_model: str,
    sizes: tuple[int, ...] = CURVE,
    repeats: int = CURVE_REPEATS,
) -> list[dict[str, Any]]:
    """Category accuracy of the classifier trained on *n* labelled tickets per category (drawn
    at random, *repeats* times) and tested on every ticket not drawn."""
    import random

    by_label: dict[str, list[Labelled]] = {}
    for row in rows:
        by_label.setdefault(row.category, []).append(row)
    curve: list[dict[str, Any]] = []
    for n in sizes:
        accuracy: list[float] = []
        coverage: list[float] = []
        covered_accuracy: list[float] = []
        for repeat in range(repeats):
            pick = random.Random(f"{n}-{repeat}")  # noqa: S311  (a reproducible sample)
            train_rows = [
                r for group in by_label.values() for r in pick.sample(group, min(n, len(group)))
            ]
            chosen = {r.id for r in train_rows}
            test_rows = [r for r in rows if r.id not in chosen]
            model = classifier.train(
                "category",
                np.asarray([embedded[r.id] for r in train_rows], dtype=np.float32),
                [r.category for r in train_rows],
                embed_model,
                seed=repeat,
            )
            if model is None or not test_rows:
                continue
            probs = model.probabilities(
                np.asarray([embedded[r.id] for r in test_rows], dtype=np.float32)
            )
            predicted = [model.classes[i] for i in probs.argmax(axis=1)]
            confident = probs.max(axis=1) >= model.threshold
            right = np.asarray([p == r.category for p, r in zip(predicted, test_rows, strict=True)])
            accuracy.append(float(right.mean()))
            coverage.append(float(confident.mean()))
            if confident.any():
                covered_accuracy.append(float(right[confident].mean()))
        curve.append(
            {
                "per_category": n,
                "top1_accuracy": round(float(np.mean(accuracy)), 4) if accuracy else None,
                "coverage": round(float(np.mean(coverage)), 4) if coverage else None,
                "covered_accuracy": (
                    round(float(np.mean(covered_accuracy)), 4) if covered_accuracy else None
                ),
                "repeats": len(accuracy),
            }
        )
    return curve


def floor_evidence(
    rows: list[Labelled], embedded: dict[str, list[float]], noise: list[list[float]]
) -> dict[str, Any]:
    """What the evaluation set says of the relevance floors: how many duplicate pairs reach the
    similar-ticket floor against how many unrelated pairs (different category), and how often an
    eval ticket's best operator-documentation passage (never the answer to a customer's ticket:
    the noise) reaches the KB floor."""
    from app.ai import retrieval

    ids = [r.id for r in rows]
    matrix = np.asarray([embedded[i] for i in ids], dtype=np.float32)
    sims = matrix @ matrix.T
    duplicates: list[float] = []
    unrelated: list[float] = []
    for i, a in enumerate(rows):
        for j in range(i + 1, len(rows)):
            b = rows[j]
            if a.duplicate_group and a.duplicate_group == b.duplicate_group:
                duplicates.append(float(sims[i, j]))
            elif a.category != b.category:
                unrelated.append(float(sims[i, j]))
    evidence: dict[str, Any] = {
        "similar_floor": retrieval.SIMILAR_FLOOR,
        "duplicate_pairs_at_or_above": round(
            float(np.mean(np.asarray(duplicates) >= retrieval.SIMILAR_FLOOR)), 4
        ),
        "unrelated_pairs_at_or_above": round(
            float(np.mean(np.asarray(unrelated) >= retrieval.SIMILAR_FLOOR)), 4
        ),
        "duplicate_similarity_p05": round(float(np.percentile(duplicates, 5)), 4),
        "unrelated_similarity_p99": round(float(np.percentile(unrelated, 99)), 4),
        "kb_floor": retrieval.KB_FLOOR,
    }
    if noise:
        best = (matrix @ np.asarray(noise, dtype=np.float32).T).max(axis=1)
        evidence["operator_doc_best_passage_p99"] = round(float(np.percentile(best, 99)), 4)
        evidence["tickets_whose_best_operator_passage_reaches_kb_floor"] = round(
            float(np.mean(best >= retrieval.KB_FLOOR)), 4
        )
    return evidence


async def run_engine(
    database_url: str,
    rows: list[Labelled],
    settings: Settings,
    engine: str = "lexical",
    progress: Callable[[int, int], None] | None = None,
    *,
    curve: bool = True,
) -> Report:
    """Load *rows* into the (empty, migrated) database at *database_url* and evaluate *engine*
    (``lexical``, ``local`` or ``ollama``); the data is rolled back at the end."""
    db = create_async_engine(database_url)
    try:
        async with AsyncSession(db, expire_on_commit=False) as session, session.begin():
            texts = await load_history(session, rows)
            triage: Engine
            embedded: dict[str, list[float]] | None = None
            if engine == "ollama":
                triage = OllamaEngine(settings)
            elif engine == "local":
                triage = LocalEngine(settings)
            else:
                triage = LexicalEngine(settings)
            embedder = embedder_of(triage)
            if embedder is not None:
                async with db.begin() as conn:
                    await vectors.ensure_vector_index(conn)
                embedded = await embed_history(session, embedder, texts)
            report = await evaluate(
                session,
                rows,
                texts,
                triage,
                settings.ai_min_confidence,
                embedded=embedded,
                progress=progress,
            )
            if embedded is not None and embedder is not None:
                if curve:
                    report.curve = await asyncio.to_thread(
                        learning_curve, rows, embedded, embedder.name
                    )
                report.floors = floor_evidence(rows, embedded, await operator_noise(embedder))
                report.kb_floors = await kb_floor_table(rows, embedded, embedder)
            await session.rollback()
            return report
    finally:
        await db.dispose()


async def kb_floor_table(
    rows: list[Labelled], embedded: dict[str, list[float]], embedder: vectors.Embedder
) -> list[dict[str, Any]]:
    """The KB relevance floor on eval/kb-articles.jsonl (16 articles answering a duplicate group
    of the set, 8 distractors on topics no ticket asks about): per candidate floor, how many
    answerable tickets get their article as the best passage at or above it, and how many
    tickets without an answering article are shown a passage anyway."""
    from app.ai.kb import split_markdown

    articles = [json.loads(line) for line in KB_ARTICLES.read_text("utf-8").splitlines() if line]
    texts: list[str] = []
    owner: list[str] = []
    for article in articles:
        for passage in split_markdown(article["body"], article["title"]):
            texts.append(f"{passage.title}\n\n{passage.body}")
            owner.append(article["id"])
    answers = {group: a["id"] for a in articles for group in a["answers"]}
    sims = (
        np.asarray([embedded[r.id] for r in rows], dtype=np.float32)
        @ np.asarray(await embedder.embed(texts), dtype=np.float32).T
    )
    best = sims.argmax(axis=1)
    best_sim = sims.max(axis=1)
    answerable = np.asarray([r.duplicate_group in answers for r in rows])
    right = np.asarray(
        [
            bool(answerable[i]) and owner[best[i]] == answers[str(r.duplicate_group)]
            for i, r in enumerate(rows)
        ]
    )
    table = []
    for floor in KB_FLOORS:
        shown = best_sim >= floor
        table.append(
            {
                "floor": floor,
                "answerable_right": f"{int(right[shown].sum())}/{int(answerable.sum())}",
                "unanswerable_shown": f"{int(shown[~answerable].sum())}/{int((~answerable).sum())}",
                "precision": round(float(right[shown].sum() / max(1, shown.sum())), 3),
            }
        )
    return table


async def operator_noise(embedder: vectors.Embedder) -> list[list[float]]:
    """Embeddings of the operator documentation's passages (docs/*.md)."""
    from app.ai.kb import DOCS_DIR, read_docs, split_markdown

    passages = [
        f"{p.title}\n\n{p.body}"
        for source, content in read_docs(DOCS_DIR)
        for p in split_markdown(content, source)
    ]
    return await embedder.embed(passages) if passages else []


# ---------------------------------------------------------------- the report


def _pct(value: float) -> str:
    return f"{value:.3f}"


def _field_line(name: str, s: FieldScore) -> str:
    return (
        f"  {name} top-1 {_pct(s.accuracy)} (majority baseline {_pct(s.baseline)}, "
        f"'{s.majority}'); coverage {_pct(s.coverage)}, accuracy on covered "
        f"{_pct(s.covered_accuracy)}"
    )


def summary_lines(report: Report) -> list[str]:
    lines = [
        f"engine {report.engine}: {report.tickets} tickets, leave-one-out, {report.seconds:.1f} s",
        _field_line("category", report.category),
        _field_line("priority", report.priority),
        f"  similar tickets recall@{TOP_K} on duplicates {_pct(report.recall_at_k)} "
        f"({report.duplicates_found}/{report.duplicate_pairs} ordered pairs)"
        + (f"; {report.fallbacks} fell back" if report.engine == "ollama" else ""),
    ]
    for name, part in sorted(report.parts.items()):
        lines.append(
            f"  part {name}: category {_pct(part.category.accuracy)} (coverage "
            f"{_pct(part.category.coverage)}, on covered {_pct(part.category.covered_accuracy)}),"
            f" priority {_pct(part.priority.accuracy)}, recall@{TOP_K} {_pct(part.recall_at_k)}"
        )
    for point in report.curve:
        lines.append(
            f"  {point['per_category']} labels per category: category top-1 "
            f"{point['top1_accuracy']}, coverage {point['coverage']}"
        )
    return lines


def markdown(reports: list[Report], skipped: list[str], facts: dict[str, str]) -> str:
    lines = [
        "# AI triage evaluation",
        "",
        "Written by `make eval` (`eval/run.py`); see docs/AI.md for what the figures mean.",
        "",
        *(f"- {k}: {v}" for k, v in facts.items()),
        "",
        "| engine | tickets | field | top-1 | majority baseline | coverage | accuracy on covered |",
        "|---|---|---|---|---|---|---|",
    ]
    for r in reports:
        groups = [("all", r.category, r.priority)] + [
            (f"part {name}", p.category, p.priority) for name, p in sorted(r.parts.items())
        ]
        for label, category, priority in groups:
            for s in (category, priority):
                lines.append(
                    f"| {r.engine} | {label} | {s.name} | {_pct(s.accuracy)} | "
                    f"{_pct(s.baseline)} ({s.majority}) | {_pct(s.coverage)} | "
                    f"{_pct(s.covered_accuracy)} |"
                )
    lines += ["", f"| engine | tickets | recall@{TOP_K} of duplicates | ordered pairs | s |"]
    lines.append("|---|---|---|---|---|")
    for r in reports:
        lines.append(
            f"| {r.engine} | all | {_pct(r.recall_at_k)} | {r.duplicate_pairs} | {r.seconds:.1f} |"
        )
        for name, p in sorted(r.parts.items()):
            lines.append(
                f"| {r.engine} | part {name} | {_pct(p.recall_at_k)} | {p.duplicate_pairs} | |"
            )
    for r in reports:
        if r.methods:
            used = ", ".join(f"{k} {v}" for k, v in sorted(r.methods.items()))
            lines += ["", f"How category values were chosen ({r.engine}): {used}."]
        if r.curve:
            lines += ["", f"Learning curve ({r.engine}, category, classifier):", ""]
            lines += ["| labels per category | top-1 | coverage | accuracy on covered | runs |"]
            lines.append("|---|---|---|---|---|")
            for point in r.curve:
                lines.append(
                    f"| {point['per_category']} | {point['top1_accuracy']} | "
                    f"{point['coverage']} | {point['covered_accuracy']} | {point['repeats']} |"
                )
        if r.floors:
            lines += ["", f"Relevance floors ({r.engine}):", ""]
            lines += [f"- {k}: {v}" for k, v in r.floors.items()]
        if r.kb_floors:
            lines += ["", f"KB relevance floor on eval/kb-articles.jsonl ({r.engine}):", ""]
            lines += [
                "| floor | answerable tickets given their article | tickets without one shown a "
                "passage | precision |",
                "|---|---|---|---|",
            ]
            for row in r.kb_floors:
                lines.append(
                    f"| {row['floor']} | {row['answerable_right']} | {row['unanswerable_shown']} "
                    f"| {row['precision']} |"
                )
    for r in reports:
        lines += ["", f"Category top-1 per label ({r.engine}):", ""]
        lines += ["| category | right | tickets |", "|---|---|---|"]
        for label, (right, total) in sorted(r.category.per_label.items()):
            lines.append(f"| {label} | {right} | {total} |")
    if skipped:
        lines += ["", *(f"Skipped: {s}" for s in skipped)]
    return "\n".join(lines) + "\n"
