"""The worker side of AI triage: claim due jobs (``FOR UPDATE SKIP LOCKED`` with a lease, as the
mail outbox does), run the configured engine, store the ticket's latest suggestion.

``AiRunner`` is the worker's AI task: it runs beside the mail and SLA loop (its own asyncio task;
model calls on the AI thread, Ollama calls awaited), so a slow model never holds up a
notification or an SLA sweep. It calls ``process_due`` (bounded time per call), keeps the
knowledge base in step with docs/*.md when an admin opted in, and retrains the classifiers when
enough new labels arrived (``app/ai/training.py``).
A job only ever writes ``ai_*`` rows, ``ticket_embeddings`` and ``kb_passages``: tickets are read,
never changed, and nothing is audited (AI is advisory; staff apply a suggestion themselves).
"""

from __future__ import annotations

import asyncio
import time
import uuid
from dataclasses import dataclass

import structlog
from sqlalchemy import select, text
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from app.ai import kb, training
from app.ai.engines import Analysis, Engine, TicketText, Vote, embedder_of, engine_for
from app.ai.retrieval import TicketHit
from app.config import Settings
from app.models import AiSuggestion, Ticket, TicketComment
from app.utils.clock import utcnow

log = structlog.get_logger("atum.ai")

MAX_ATTEMPTS = 3
DOCS_CHECK_SECONDS = 300.0
DEFAULT_BUDGET_SECONDS = 5.0

_CLAIM = text(
    """
    UPDATE ai_jobs AS j
    SET status = 'running', attempts = j.attempts + 1,
        lease_token = :token, lease_until = now() + make_interval(secs => :lease)
    WHERE j.id = (
        SELECT id FROM ai_jobs
        WHERE (status = 'pending' AND run_after <= now())
           OR (status = 'running' AND lease_until < now())
        ORDER BY run_after
        LIMIT 1
        FOR UPDATE SKIP LOCKED
    )
    RETURNING j.id, j.ticket_id, j.attempts
    """
)
_DONE = text(
    """
    UPDATE ai_jobs SET status = 'done', finished_at = now(), lease_token = NULL,
        lease_until = NULL, last_error = NULL
    WHERE id = :id AND lease_token = :token AND status = 'running'
    """
)
# Back to pending for another try, unless a newer trigger already queued one (this run is then
# superseded) or the attempts are used up.
_RETRY = text(
    """
    UPDATE ai_jobs AS j SET
        status = CASE
            WHEN j.attempts >= :max_attempts OR EXISTS (
                SELECT 1 FROM ai_jobs o
                WHERE o.ticket_id = j.ticket_id AND o.status = 'pending' AND o.id <> j.id
            ) THEN 'failed'
            ELSE 'pending' END,
        run_after = now() + make_interval(secs => 30 * j.attempts),
        lease_token = NULL, lease_until = NULL, last_error = :error,
        finished_at = CASE WHEN j.attempts >= :max_attempts THEN now() END
    WHERE id = :id AND lease_token = :token AND status = 'running'
    """
)


@dataclass(frozen=True, slots=True)
class Claimed:
    id: uuid.UUID
    ticket_id: uuid.UUID
    attempts: int


_docs_checked_at: dict[int, float] = {}


def _is_outage(exc: BaseException) -> bool:
    if isinstance(exc, OperationalError | InterfaceError | OSError | ConnectionError):
        return True
    return isinstance(exc, DBAPIError) and bool(exc.connection_invalidated)


async def sync_docs(engine: AsyncEngine) -> int:
    """Load docs/*.md into the knowledge base (changed files only); returns files reloaded."""
    async with AsyncSession(engine, expire_on_commit=False) as session, session.begin():
        return await kb.load_docs(session)


async def _ensure_docs(engine: AsyncEngine, settings: Settings) -> None:
    if not settings.ai_operator_docs:
        return
    key = id(engine)
    now = time.monotonic()
    if now - _docs_checked_at.get(key, float("-inf")) < DOCS_CHECK_SECONDS:
        return
    _docs_checked_at[key] = now
    reloaded = await sync_docs(engine)
    if reloaded:
        log.info("ai_kb_loaded", files=reloaded)


async def claim(engine: AsyncEngine, lease_seconds: float) -> tuple[uuid.UUID, Claimed | None]:
    token = uuid.uuid4()
    async with engine.begin() as conn:
        row = (await conn.execute(_CLAIM, {"token": token, "lease": lease_seconds})).first()
    return token, Claimed(row.id, row.ticket_id, row.attempts) if row is not None else None


async def ticket_text(session: AsyncSession, ticket_id: uuid.UUID) -> TicketText | None:
    row = (
        await session.execute(
            select(Ticket.id, Ticket.number, Ticket.title, Ticket.description).where(
                Ticket.id == ticket_id
            )
        )
    ).first()
    if row is None:
        return None
    comments = (
        await session.execute(
            select(TicketComment.body)
            .where(TicketComment.ticket_id == ticket_id, TicketComment.is_internal.is_(False))
            .order_by(TicketComment.created_at, TicketComment.id)
        )
    ).scalars()
    return TicketText(row.id, row.number, row.title, row.description, tuple(comments))


def _shown(vote: Vote | None) -> Vote | None:
    return vote if vote is not None and vote.shown else None


def _shown_score(hit: TicketHit, analysis: Analysis) -> float | None:
    if analysis.model is None:  # full-text only
        return round(hit.score, 4)
    return None if hit.similarity is None else round(hit.similarity, 4)


async def store(session: AsyncSession, ticket_id: uuid.UUID, analysis: Analysis) -> None:
    """The ticket's latest suggestion; a value below its threshold is not stored at all."""
    category, priority = _shown(analysis.category), _shown(analysis.priority)
    values = {
        "engine": analysis.engine,
        "model": analysis.model,
        "summary": analysis.summary,
        "category": category.value if category else None,
        "category_confidence": category.confidence if category else None,
        "category_method": category.method if category else None,
        "category_model": category.version if category else None,
        "priority": priority.value if priority else None,
        "priority_confidence": priority.confidence if priority else None,
        "priority_method": priority.method if priority else None,
        "priority_model": priority.version if priority else None,
        # The score shown: the cosine similarity when the engine has embeddings (the fused rank
        # only orders the list; None for a ticket without an embedding yet), else the full-text
        # rank.
        "similar": [
            {"ticket_id": str(h.id), "score": _shown_score(h, analysis)} for h in analysis.similar
        ],
        "kb": [h.as_json() for h in analysis.kb],
        "reply": analysis.reply,
        "generated_at": utcnow(),
    }
    await session.execute(
        pg_insert(AiSuggestion)
        .values(ticket_id=ticket_id, **values)
        .on_conflict_do_update(index_elements=[AiSuggestion.ticket_id], set_=values)
    )


async def run_job(engine: AsyncEngine, triage: Engine, token: uuid.UUID, job: Claimed) -> bool:
    """Analyse the job's ticket and store the result with the job's "done" mark, in one
    transaction (nothing is stored if the lease was lost meanwhile)."""
    async with AsyncSession(engine, expire_on_commit=False) as session:
        found = await ticket_text(session, job.ticket_id)
        if found is not None:
            await store(session, job.ticket_id, await triage.analyse(session, found))
        done = await session.execute(_DONE, {"id": job.id, "token": token})
        if done.rowcount != 1:  # type: ignore[attr-defined]
            await session.rollback()
            log.warning("ai_job_lease_lost", job_id=str(job.id))
            return False
        await session.commit()
    return True


async def process_due(
    engine: AsyncEngine,
    settings: Settings,
    *,
    stopping: asyncio.Event | None = None,
    budget_seconds: float = DEFAULT_BUDGET_SECONDS,
    triage: Engine | None = None,
) -> int:
    """Run due triage jobs for at most *budget_seconds* (one job always gets its turn);
    returns how many were completed. Database outages propagate (the worker retries its cycle);
    any other failure of a job is recorded on the job and retried later."""
    await _ensure_docs(engine, settings)
    triage = triage or engine_for(settings)
    lease = max(120.0, 4 * settings.ollama_timeout_seconds)
    deadline = time.monotonic() + budget_seconds
    completed = 0
    while stopping is None or not stopping.is_set():
        token, job = await claim(engine, lease)
        if job is None:
            break
        try:
            completed += await run_job(engine, triage, token, job)
        except Exception as exc:
            if _is_outage(exc):
                raise
            log.warning("ai_job_failed", job_id=str(job.id), error_type=type(exc).__name__)
            async with engine.begin() as conn:
                await conn.execute(
                    _RETRY,
                    {
                        "id": job.id,
                        "token": token,
                        "max_attempts": MAX_ATTEMPTS,
                        "error": f"{type(exc).__name__}: {exc}"[:2000],
                    },
                )
        if time.monotonic() >= deadline:
            break
    return completed


RETRAIN_CHECK_SECONDS = 600.0


class AiRunner:
    """The worker's AI task: triage jobs and retraining, beside (never inside) the mail loop."""

    def __init__(self, engine: AsyncEngine, settings: Settings, stopping: asyncio.Event) -> None:
        self.engine = engine
        self.settings = settings
        self.stopping = stopping
        self.wakeup = asyncio.Event()
        self.models = training.ModelSource()
        self.triage = engine_for(settings, self.models)
        self.completed = 0

    def embed_model(self) -> str | None:
        embedder = embedder_of(self.triage)
        return embedder.name if embedder is not None else None

    async def cycle(self, last_check: float) -> tuple[int, float]:
        done = await process_due(
            self.engine, self.settings, stopping=self.stopping, triage=self.triage
        )
        model = self.embed_model()
        now = time.monotonic()
        if model is not None and now - last_check >= RETRAIN_CHECK_SECONDS:
            last_check = now
            await training.retrain_if_due(self.engine, self.settings, model)
        return done, last_check

    async def run(self) -> None:
        last_check = float("-inf")
        while not self.stopping.is_set():
            self.wakeup.clear()
            done = 0
            try:
                done, last_check = await self.cycle(last_check)
                self.completed += done
            except Exception as exc:
                if not _is_outage(exc):
                    log.exception("ai_cycle_failed")
                else:
                    log.warning("ai_cycle_failed", error_type=type(exc).__name__)
            if done:
                continue  # more may be due
            stop = asyncio.ensure_future(self.stopping.wait())
            wake = asyncio.ensure_future(self.wakeup.wait())
            await asyncio.wait(
                {stop, wake},
                timeout=self.settings.worker_poll_seconds,
                return_when=asyncio.FIRST_COMPLETED,
            )
            for f in (stop, wake):
                f.cancel()
