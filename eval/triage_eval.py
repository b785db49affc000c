"""The evaluation of AI triage on the labelled set ``eval/tickets.jsonl``, shared by ``make eval``
(``eval/run.py``) and the regression test ``api/tests/test_ai_eval.py``.

Everything runs on a throwaway database (created on the server of ``ATUM_DATABASE_URL`` or on the
embedded PostgreSQL, migrated to head, dropped afterwards), so no other ticket can take part.
The whole set is loaded as resolved tickets; each ticket is then analysed by the engine exactly as
the worker does (``Engine.analyse``) under its own id, and retrieval never returns the ticket
being analysed: it is predicted from all the others (leave-one-out).

Top-1 is the engine's best value whatever its confidence (the engine runs with a zero threshold);
a ticket is *covered* when that confidence reaches ``ATUM_AI_MIN_CONFIDENCE``, the level below
which the desk shows "No suggestion".
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

from sqlalchemy import select, text
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncSession, create_async_engine

from app.ai.engines import Analysis, Engine, LexicalEngine, OllamaEngine, TicketText
from app.ai.ollama import OllamaClient
from app.config import Settings
from app.db import migrations
from app.db.embedded import to_async_url
from app.models import Organization, Ticket, TicketEmbedding, User
from app.utils.clock import utcnow

EVAL = Path(__file__).resolve().parent
TICKETS = EVAL / "tickets.jsonl"
TOP_K = 5
FIELDS = ("id", "title", "description", "category", "priority", "duplicate_group")


@dataclass(frozen=True, slots=True)
class Labelled:
    id: str
    title: str
    description: str
    category: str
    priority: str
    duplicate_group: str | None

    @property
    def document(self) -> str:
        return f"{self.title}\n\n{self.description}"


def load_set(path: Path = TICKETS) -> list[Labelled]:
    """The labelled tickets; a malformed line is an error naming its line number."""
    rows: list[Labelled] = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        raw = json.loads(line)
        if set(raw) != set(FIELDS):
            raise ValueError(f"{path.name}:{number}: fields {sorted(raw)}, expected {FIELDS}")
        rows.append(Labelled(**{k: raw[k] for k in FIELDS}))
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
    session: AsyncSession, settings: Settings, texts: dict[str, TicketText], batch: int = 16
) -> None:
    """With an embedding model configured, embed every ticket up front, as a desk whose history
    was all triaged would have them (the engine embeds only the ticket it analyses)."""
    model = settings.ollama_embed_model
    if not model or not settings.ollama_url:
        return
    client = OllamaClient(settings.ollama_url, settings.ollama_timeout_seconds)
    items = list(texts.values())
    for start in range(0, len(items), batch):
        chunk = items[start : start + batch]
        vectors = await client.embed(model, [t.document for t in chunk])
        for ticket, vector in zip(chunk, vectors, strict=True):
            await session.execute(
                pg_insert(TicketEmbedding)
                .values(ticket_id=ticket.id, model=model, content_hash="eval", embedding=vector)
                .on_conflict_do_nothing()
            )
    await session.flush()


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

    def add(self, truth: str, predicted: str | None, confidence: float) -> None:
        self.total += 1
        self.labels[truth] += 1
        right = predicted == truth
        self.correct += right
        tally = self.per_label.setdefault(truth, [0, 0])
        tally[0] += right
        tally[1] += 1
        if predicted is not None and confidence >= self.threshold:
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
class Report:
    engine: str
    tickets: int
    category: FieldScore
    priority: FieldScore
    duplicate_pairs: int = 0  # ordered (ticket, its duplicate) pairs
    duplicates_found: int = 0  # ... whose duplicate is among the ticket's top TOP_K similar
    fallbacks: int = 0  # Ollama answers that were replaced by the lexical result
    seconds: float = 0.0
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
            "threshold": self.category.threshold,
            "category": score(self.category),
            "priority": score(self.priority),
            f"recall_at_{TOP_K}": round(self.recall_at_k, 4),
            "duplicate_pairs": self.duplicate_pairs,
            "fallbacks": self.fallbacks,
            "seconds": round(self.seconds, 1),
        }


def zero_threshold(settings: Settings) -> Settings:
    """The same settings with no confidence threshold: the engine then always names its best
    value and its confidence, and coverage is computed here against the real threshold."""
    return settings.model_copy(update={"ai_min_confidence": 0.0})


async def evaluate(
    session: AsyncSession,
    rows: list[Labelled],
    texts: dict[str, TicketText],
    engine: Engine,
    threshold: float,
    *,
    progress: Callable[[int, int], None] | None = None,
) -> Report:
    """Leave-one-out: each ticket analysed with every other one as resolved history."""
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
    for done, row in enumerate(rows, 1):
        ticket = texts[row.id]
        analysis: Analysis = await engine.analyse(session, ticket)
        if analysis.engine != engine.name:
            report.fallbacks += 1
        for score, truth, vote in (
            (report.category, row.category, analysis.category),
            (report.priority, row.priority, analysis.priority),
        ):
            score.add(truth, vote.value if vote else None, vote.confidence if vote else 0.0)
        shown = [hit.id for hit in analysis.similar[:TOP_K]]
        assert ticket.id not in shown, "a ticket must never be its own history"
        if row.duplicate_group:
            partners = groups[row.duplicate_group] - {ticket.id}
            report.duplicate_pairs += len(partners)
            report.duplicates_found += len(partners & set(shown))
        if progress is not None:
            progress(done, len(rows))
    report.seconds = time.monotonic() - started
    return report


async def run_engine(
    database_url: str,
    rows: list[Labelled],
    settings: Settings,
    engine: str = "lexical",
    progress: Callable[[int, int], None] | None = None,
) -> Report:
    """Load *rows* into the (empty, migrated) database at *database_url* and evaluate *engine*
    (``lexical`` or ``ollama``); the data is rolled back at the end."""
    db = create_async_engine(database_url)
    try:
        async with AsyncSession(db, expire_on_commit=False) as session, session.begin():
            texts = await load_history(session, rows)
            raw = zero_threshold(settings)
            triage: Engine
            if engine == "ollama":
                await embed_history(session, settings, texts)
                triage = OllamaEngine(raw)
            else:
                triage = LexicalEngine(raw)
            report = await evaluate(
                session, rows, texts, triage, settings.ai_min_confidence, progress=progress
            )
            await session.rollback()
            return report
    finally:
        await db.dispose()


# ---------------------------------------------------------------- the report


def _pct(value: float) -> str:
    return f"{value:.3f}"


def summary_lines(report: Report) -> list[str]:
    c, p = report.category, report.priority
    return [
        f"engine {report.engine}: {report.tickets} tickets, leave-one-out, "
        f"threshold {c.threshold:g}, {report.seconds:.1f} s",
        f"  category top-1 {_pct(c.accuracy)} (majority baseline {_pct(c.baseline)}, "
        f"'{c.majority}'); coverage {_pct(c.coverage)}, accuracy on covered "
        f"{_pct(c.covered_accuracy)}",
        f"  priority top-1 {_pct(p.accuracy)} (majority baseline {_pct(p.baseline)}, "
        f"'{p.majority}'); coverage {_pct(p.coverage)}, accuracy on covered "
        f"{_pct(p.covered_accuracy)}",
        f"  similar tickets recall@{TOP_K} on duplicates {_pct(report.recall_at_k)} "
        f"({report.duplicates_found}/{report.duplicate_pairs} ordered pairs)"
        + (f"; {report.fallbacks} fell back to lexical" if report.engine == "ollama" else ""),
    ]


def markdown(reports: list[Report], skipped: list[str], facts: dict[str, str]) -> str:
    lines = [
        "# AI triage evaluation",
        "",
        "Written by `make eval` (`eval/run.py`); see docs/AI.md for what the figures mean.",
        "",
        *(f"- {k}: {v}" for k, v in facts.items()),
        "",
        "| engine | field | top-1 | majority baseline | coverage | accuracy on covered |",
        "|---|---|---|---|---|---|",
    ]
    for r in reports:
        for s in (r.category, r.priority):
            lines.append(
                f"| {r.engine} | {s.name} | {_pct(s.accuracy)} | {_pct(s.baseline)} "
                f"({s.majority}) | {_pct(s.coverage)} | {_pct(s.covered_accuracy)} |"
            )
    lines += ["", f"| engine | recall@{TOP_K} of duplicates | ordered pairs | fallbacks | s |"]
    lines.append("|---|---|---|---|---|")
    for r in reports:
        lines.append(
            f"| {r.engine} | {_pct(r.recall_at_k)} | {r.duplicate_pairs} | "
            f"{r.fallbacks if r.engine == 'ollama' else '-'} | {r.seconds:.1f} |"
        )
    for r in reports:
        lines += ["", f"Category top-1 per label ({r.engine}):", ""]
        lines += ["| category | right | tickets |", "|---|---|---|"]
        for label, (right, total) in sorted(r.category.per_label.items()):
            lines.append(f"| {label} | {right} | {total} |")
    if skipped:
        lines += ["", *(f"Skipped: {s}" for s in skipped)]
    return "\n".join(lines) + "\n"
