"""Training and serving the classifiers (``app/ai/classifier.py``) from the database.

The labels are the final category and priority of resolved and closed tickets that have an
embedding of the engine's model (the newest ``MAX_LABELS``). ``retrain`` fits both fields and
stores each as a new version in ``ai_models`` (arrays, no pickle); the newest version of a field
for the embedding model is the one used. The worker calls ``retrain_if_due`` from its AI task:
it trains once ``ATUM_AI_RETRAIN_NEW_LABELS`` tickets were resolved since the last version (and
the first time, once ``classifier.MIN_LABELS`` exist); ``./atum-desk ai-train`` does it on
demand. Fitting runs on the AI thread, never on the event loop.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import numpy as np
import structlog
from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from app.ai import classifier, vectors
from app.ai.classifier import Classifier
from app.config import Settings
from app.models import AiModel

log = structlog.get_logger("atum.ai")

MAX_LABELS = 20_000

_LABELLED = text(
    """
    SELECT t.category, t.priority, e.embedding
    FROM tickets AS t JOIN ticket_embeddings AS e ON e.ticket_id = t.id
    WHERE e.model = :model AND t.status IN ('RESOLVED', 'CLOSED')
    ORDER BY t.resolved_at DESC NULLS LAST, t.id
    LIMIT :limit
    """
)
_NEW_LABELS = text(
    """
    SELECT count(*) FROM tickets AS t JOIN ticket_embeddings AS e ON e.ticket_id = t.id
    WHERE e.model = :model AND t.status IN ('RESOLVED', 'CLOSED')
      AND (CAST(:since AS timestamptz) IS NULL OR t.resolved_at > :since)
    """
)


class ModelSource:
    """The newest stored classifier per (field, embedding model), cached in the process and
    reloaded when a newer version appears (one indexed lookup per analysis)."""

    def __init__(self) -> None:
        self._cache: dict[tuple[str, str], Classifier] = {}

    async def get(self, session: AsyncSession, field: str, embed_model: str) -> Classifier | None:
        newest = (
            await session.execute(
                select(func.max(AiModel.version)).where(
                    AiModel.field == field, AiModel.embed_model == embed_model
                )
            )
        ).scalar()
        if newest is None:
            return None
        cached = self._cache.get((field, embed_model))
        if cached is not None and cached.version == newest:
            return cached
        row = (
            await session.execute(
                select(AiModel).where(AiModel.field == field, AiModel.version == newest)
            )
        ).scalar_one()
        loaded = Classifier.loads(
            row.params,
            field=row.field,
            classes=list(row.classes),
            embed_model=row.embed_model,
            labels=row.labels,
            version=row.version,
            metrics=dict(row.metrics),
        )
        self._cache[(field, embed_model)] = loaded
        return loaded


class FixedModels(ModelSource):
    """Given classifiers instead of the stored ones (the evaluation trains its own)."""

    def __init__(self, models: dict[str, Classifier | None]) -> None:
        super().__init__()
        self.models = models

    async def get(self, session: AsyncSession, field: str, embed_model: str) -> Classifier | None:
        return self.models.get(field)


@dataclass(frozen=True, slots=True)
class Trained:
    field: str
    version: int | None  # None: too few labels, nothing stored
    labels: int
    metrics: dict[str, Any]


async def labelled(
    session: AsyncSession, embed_model: str, limit: int = MAX_LABELS
) -> tuple[np.ndarray, list[str | None], list[str]]:
    rows = (await session.execute(_LABELLED, {"model": embed_model, "limit": limit})).all()
    dims = {len(r.embedding) for r in rows}
    if len(dims) > 1:  # a model's dimension is fixed; a mix means rows of an older model name
        common = max(dims, key=lambda d: sum(len(r.embedding) == d for r in rows))
        rows = [r for r in rows if len(r.embedding) == common]
    matrix = vectors.as_matrix([list(r.embedding) for r in rows])
    return matrix, [r.category for r in rows], [r.priority for r in rows]


async def save(session: AsyncSession, model: Classifier) -> int:
    newest = (
        await session.execute(select(func.max(AiModel.version)).where(AiModel.field == model.field))
    ).scalar()
    version = (newest or 0) + 1
    session.add(
        AiModel(
            id=uuid.uuid4(),
            field=model.field,
            version=version,
            embed_model=model.embed_model,
            labels=model.labels,
            classes=model.classes,
            params=model.dumps(),
            metrics=model.metrics,
        )
    )
    await session.flush()
    model.version = version
    return version


async def retrain(engine: AsyncEngine, embed_model: str) -> list[Trained]:
    """Fit and store both classifiers from the current labels."""
    async with AsyncSession(engine, expire_on_commit=False) as session:
        matrix, categories, priorities = await labelled(session, embed_model)
    results: list[Trained] = []
    for field, values in (("category", categories), ("priority", priorities)):
        keep = [i for i, v in enumerate(values) if v]
        labels = [str(values[i]) for i in keep]
        model = await vectors.in_ai_thread(
            classifier.train, field, matrix[keep], labels, embed_model
        )
        if model is None:
            results.append(Trained(field, None, len(labels), {}))
            continue
        async with AsyncSession(engine, expire_on_commit=False) as session, session.begin():
            version = await save(session, model)
        log.info(
            "ai_model_trained",
            field=field,
            version=version,
            labels=model.labels,
            **{k: v for k, v in model.metrics.items() if k.startswith("held_out")},
        )
        results.append(Trained(field, version, model.labels, model.metrics))
    return results


async def last_trained(session: AsyncSession, embed_model: str) -> datetime | None:
    found = await session.execute(
        select(func.max(AiModel.created_at)).where(AiModel.embed_model == embed_model)
    )
    return found.scalar()


async def retrain_if_due(engine: AsyncEngine, settings: Settings, embed_model: str) -> bool:
    async with AsyncSession(engine) as session:
        since = await last_trained(session, embed_model)
        new = (
            await session.execute(_NEW_LABELS, {"model": embed_model, "since": since})
        ).scalar_one()
    wanted = settings.ai_retrain_new_labels if since is not None else classifier.MIN_LABELS
    if new < wanted:
        return False
    await retrain(engine, embed_model)
    return True
