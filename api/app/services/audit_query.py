"""Reading the audit trail (staff only; newest first, keyset on ``seq``)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.models import AuditLog, User
from app.schemas.audit import AuditEntry
from app.utils.pagination import decode_cursor, encode_cursor


@dataclass(frozen=True, slots=True)
class AuditFilter:
    action: str | None = None
    entity_type: str | None = None
    entity_id: uuid.UUID | None = None
    actor_id: uuid.UUID | None = None
    org_id: uuid.UUID | None = None
    ticket_id: uuid.UUID | None = None


_COLUMNS = select(AuditLog, User.name.label("actor_name")).outerjoin(
    User, User.id == AuditLog.actor_id
)


def _entry(row: AuditLog, actor_name: str | None) -> AuditEntry:
    return AuditEntry(
        id=row.id,
        seq=row.seq,
        actor_id=row.actor_id,
        actor_name=actor_name,
        action=row.action,
        entity_type=row.entity_type,
        entity_id=row.entity_id,
        org_id=row.org_id,
        ticket_id=row.ticket_id,
        old_value=row.old_value,
        new_value=row.new_value,
        ip=row.ip,
        request_id=row.request_id,
        created_at=row.created_at,
    )


async def list_entries(
    session: AsyncSession, flt: AuditFilter, *, cursor: str | None, limit: int
) -> tuple[list[AuditEntry], str | None]:
    stmt = _COLUMNS
    for column, value in (
        (AuditLog.action, flt.action),
        (AuditLog.entity_type, flt.entity_type),
        (AuditLog.entity_id, flt.entity_id),
        (AuditLog.actor_id, flt.actor_id),
        (AuditLog.org_id, flt.org_id),
        (AuditLog.ticket_id, flt.ticket_id),
    ):
        if value is not None:
            stmt = stmt.where(column == value)
    if cursor:
        (seq,) = decode_cursor(cursor, [int])
        stmt = stmt.where(AuditLog.seq < seq)
    rows = (await session.execute(stmt.order_by(AuditLog.seq.desc()).limit(limit + 1))).all()
    entries = [_entry(r[0], r[1]) for r in rows[:limit]]
    return entries, encode_cursor([entries[-1].seq]) if len(rows) > limit else None
