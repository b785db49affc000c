"""Reading the audit trail (staff only; newest first, keyset on ``seq``).

Date bounds are translated to ``seq`` bounds: ``seq`` is the insertion order, and entries are
timestamped as they are written, so the first entry at or after a moment is found by a binary
search over the unique ``seq`` index (one statement, about log2(rows) index probes). Every
filtered list then reads one of the ``(column, seq)`` indexes (or ``seq`` itself) as a range; the
exact ``created_at`` comparison is kept as well, so a bound never lets a row outside the dates
through. (Entries of transactions that overlap may be up to that overlap out of time order.)
"""

from __future__ import annotations

import csv
import io
import json
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Select, select, text
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
    since: datetime | None = None
    until: datetime | None = None

    def as_json(self) -> dict[str, str]:
        """The filters that are set, as JSON-ready text (the export's audit entry)."""
        out: dict[str, str] = {}
        for name in self.__slots__:
            value = getattr(self, name)
            if value is not None:
                out[name] = value.isoformat() if isinstance(value, datetime) else str(value)
        return out


_COLUMNS = select(
    AuditLog, User.name.label("actor_name"), User.email.label("actor_email")
).outerjoin(User, User.id == AuditLog.actor_id)

# The smallest seq from which on every entry is at or after :at (max(seq) + 1 when none is).
_FIRST_SEQ_AT = text(
    """
WITH RECURSIVE search(lo, hi) AS (
    SELECT min(seq), max(seq) + 1 FROM audit_log
  UNION ALL
    SELECT CASE WHEN probe.ok THEN s.lo ELSE probe.mid + 1 END,
           CASE WHEN probe.ok THEN probe.mid ELSE s.hi END
    FROM search AS s
    CROSS JOIN LATERAL (
        SELECT m.mid,
               COALESCE((SELECT a.created_at >= :at FROM audit_log AS a
                         WHERE a.seq >= m.mid ORDER BY a.seq LIMIT 1), true) AS ok
        FROM (SELECT (s.lo + s.hi) / 2 AS mid) AS m
    ) AS probe
    WHERE s.lo < s.hi
)
SELECT max(lo) FROM search
"""
)


async def _first_seq_at(session: AsyncSession, at: datetime) -> int | None:
    value = (await session.execute(_FIRST_SEQ_AT, {"at": at})).scalar_one()
    return None if value is None else int(value)


async def _filtered(session: AsyncSession, flt: AuditFilter) -> Select[AuditLog, str, str]:
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
    if flt.since is not None:
        first = await _first_seq_at(session, flt.since)
        if first is not None:
            stmt = stmt.where(AuditLog.seq >= first)
        stmt = stmt.where(AuditLog.created_at >= flt.since)
    if flt.until is not None:
        end = await _first_seq_at(session, flt.until)
        if end is not None:
            stmt = stmt.where(AuditLog.seq < end)
        stmt = stmt.where(AuditLog.created_at < flt.until)
    return stmt


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
    stmt = await _filtered(session, flt)
    if cursor:
        (seq,) = decode_cursor(cursor, [int])
        stmt = stmt.where(AuditLog.seq < seq)
    rows = (await session.execute(stmt.order_by(AuditLog.seq.desc()).limit(limit + 1))).all()
    entries = [_entry(r[0], r[1]) for r in rows[:limit]]
    return entries, encode_cursor([entries[-1].seq]) if len(rows) > limit else None


# The export: oldest first, this many rows per statement (keyset on seq, never the whole table).
EXPORT_BATCH = 1000
CSV_COLUMNS = (
    "seq",
    "created_at",
    "actor_id",
    "actor_email",
    "action",
    "entity_type",
    "entity_id",
    "org_id",
    "ticket_id",
    "ip",
    "request_id",
    "old_value",
    "new_value",
)
# A spreadsheet runs a cell that starts with one of these as a formula (CSV injection).
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        text_value = value.isoformat()
    elif isinstance(value, dict | list):
        text_value = json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    else:
        text_value = str(value)
    return "'" + text_value if text_value.startswith(_FORMULA_START) else text_value


def _csv_text(rows: list[list[str]]) -> str:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\r\n").writerows(rows)
    return buffer.getvalue()


async def export_csv(session: AsyncSession, flt: AuditFilter) -> AsyncIterator[str]:
    """The filtered entries as CSV text, a header and then one chunk per batch."""
    yield _csv_text([list(CSV_COLUMNS)])
    stmt = await _filtered(session, flt)
    after: int | None = None
    while True:
        page = stmt if after is None else stmt.where(AuditLog.seq > after)
        rows = (await session.execute(page.order_by(AuditLog.seq).limit(EXPORT_BATCH))).all()
        if not rows:
            return
        out = []
        for entry, _name, email in rows:
            values = {c: getattr(entry, c) for c in CSV_COLUMNS if c != "actor_email"}
            values["actor_email"] = email
            out.append([_cell(values[c]) for c in CSV_COLUMNS])
        yield _csv_text(out)
        if len(rows) < EXPORT_BATCH:
            return
        after = rows[-1][0].seq
