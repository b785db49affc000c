"""The audit trail, for managers and admins: a paged list and a CSV export."""

from __future__ import annotations

import re
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Query
from fastapi.responses import StreamingResponse
from pydantic import BeforeValidator
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.deps import AuditReader, DbSession
from app.errors import Invalid
from app.routers.common import DEFAULT, ClosingStream, Cursor, Limit, StorableText
from app.schemas.audit import AuditEntry
from app.schemas.common import Page
from app.services import audit
from app.services.audit_query import AuditFilter, export_csv, list_entries

router = APIRouter(prefix="/internal/audit", tags=["audit"])

OptionalId = Annotated[uuid.UUID | None, Query()]
OptionalText = Annotated[StorableText | None, Query(max_length=64)]


def _iso_only(value: object) -> object:
    """Date-times as ISO 8601 text only (pydantic would also read a number as a Unix time)."""
    if isinstance(value, str) and not _ISO.match(value):
        raise ValueError("expected an ISO 8601 date-time, like 2026-03-01T00:00:00Z")
    return value


_ISO = re.compile(
    r"^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?)?$", re.IGNORECASE
)
_TIME = "ISO 8601 date-time (UTC when no offset is given)."
OptionalTime = Annotated[datetime | None, Query(description=_TIME), BeforeValidator(_iso_only)]
UntilTime = Annotated[
    datetime | None,
    Query(description="Exclusive. " + _TIME),
    BeforeValidator(_iso_only),
]


def _utc(value: datetime | None) -> datetime | None:
    return value.replace(tzinfo=UTC) if value is not None and value.tzinfo is None else value


def _filter(
    action: OptionalText = None,
    entity_type: OptionalText = None,
    entity_id: OptionalId = None,
    actor_id: OptionalId = None,
    org_id: OptionalId = None,
    ticket_id: OptionalId = None,
    since: OptionalTime = None,
    until: UntilTime = None,
) -> AuditFilter:
    since, until = _utc(since), _utc(until)
    if since is not None and until is not None and since > until:
        raise Invalid("since", "since must not be after until")
    return AuditFilter(action, entity_type, entity_id, actor_id, org_id, ticket_id, since, until)


Filter = Annotated[AuditFilter, Depends(_filter)]


@router.get("", response_model=Page[AuditEntry])
async def list_audit(
    actor: AuditReader,
    session: DbSession,
    flt: Filter,
    cursor: Cursor = None,
    limit: Limit = DEFAULT,
) -> Page[AuditEntry]:
    items, next_cursor = await list_entries(session, flt, cursor=cursor, limit=limit)
    return Page[AuditEntry](items=items, next_cursor=next_cursor)


@router.get(
    "/export.csv",
    response_class=StreamingResponse,
    responses={200: {"content": {"text/csv": {}}}},
)
async def export_audit(actor: AuditReader, session: DbSession, flt: Filter) -> StreamingResponse:
    """The filtered entries as CSV, oldest first, streamed in batches. The export is audited."""
    await audit.record(
        session,
        actor=actor,
        action="audit.exported",
        entity_type="audit_log",
        entity_id=None,
        new_value={"filters": flt.as_json()},
    )

    bind = session.bind

    async def body() -> AsyncIterator[bytes]:
        # The request's session is handed back when the endpoint returns: the stream reads
        # through a session of its own on the same bind, closed when done or cut off.
        async with AsyncSession(bind=bind, expire_on_commit=False, autoflush=False) as reader:
            async for chunk in export_csv(reader, flt):
                yield chunk.encode()

    filename = f"audit-{datetime.now(UTC).date().isoformat()}.csv"
    return ClosingStream(
        body(),
        media_type="text/csv; charset=utf-8",
        headers={
            "Content-Disposition": f'attachment; filename="{filename}"',
            "X-Content-Type-Options": "nosniff",
            "Cache-Control": "private, no-store",
        },
    )
