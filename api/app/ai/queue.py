"""Enqueueing a triage job: called by the ticket service in the transaction that creates a
ticket or a public comment, so the job exists exactly when the change commits. The worker does
the work (``app/ai/jobs.py``); nothing runs inside the request."""

from __future__ import annotations

import uuid
from typing import Literal, cast

from sqlalchemy import Table, bindparam, text
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession

from app.models import AiJob

_JOBS = cast(Table, AiJob.__table__)
# A Core statement built once (compiled once), with bound values.
_ENQUEUE = (
    pg_insert(_JOBS)
    .values(id=bindparam("id"), ticket_id=bindparam("ticket_id"), reason=bindparam("reason"))
    .on_conflict_do_nothing(
        index_elements=[_JOBS.c.ticket_id], index_where=text("status = 'pending'")
    )
)


async def enqueue(
    session: AsyncSession, ticket_id: uuid.UUID, reason: Literal["created", "comment"]
) -> None:
    """One pending job per ticket: a trigger while one is already waiting adds nothing."""
    await session.execute(_ENQUEUE, {"id": uuid.uuid4(), "ticket_id": ticket_id, "reason": reason})
