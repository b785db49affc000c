"""The audit trail, for managers and admins."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query

from app.auth.deps import AuditReader, DbSession
from app.routers.common import DEFAULT, Cursor, Limit, StorableText
from app.schemas.audit import AuditEntry
from app.schemas.common import Page
from app.services.audit_query import AuditFilter, list_entries

router = APIRouter(prefix="/internal/audit", tags=["audit"])

OptionalId = Annotated[uuid.UUID | None, Query()]
OptionalText = Annotated[StorableText | None, Query(max_length=64)]


@router.get("", response_model=Page[AuditEntry])
async def list_audit(
    actor: AuditReader,
    session: DbSession,
    action: OptionalText = None,
    entity_type: OptionalText = None,
    entity_id: OptionalId = None,
    actor_id: OptionalId = None,
    org_id: OptionalId = None,
    ticket_id: OptionalId = None,
    cursor: Cursor = None,
    limit: Limit = DEFAULT,
) -> Page[AuditEntry]:
    flt = AuditFilter(action, entity_type, entity_id, actor_id, org_id, ticket_id)
    items, next_cursor = await list_entries(session, flt, cursor=cursor, limit=limit)
    return Page[AuditEntry](items=items, next_cursor=next_cursor)
