"""Audit entries as staff read them."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from app.schemas.common import ResponseModel


class AuditEntry(ResponseModel):
    id: uuid.UUID
    seq: int
    actor_id: uuid.UUID | None
    actor_name: str | None
    action: str
    entity_type: str
    entity_id: uuid.UUID | None
    org_id: uuid.UUID | None
    ticket_id: uuid.UUID | None
    old_value: dict[str, Any] | None
    new_value: dict[str, Any] | None
    ip: str | None
    request_id: str | None
    created_at: datetime
