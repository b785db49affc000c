"""Organizations."""

from __future__ import annotations

import uuid
from datetime import datetime

from app.models.enums import OrgStatus
from app.schemas.common import Name, RequestModel, ResponseModel


class OrgCreate(RequestModel):
    name: Name


class OrgUpdate(RequestModel):
    name: Name | None = None
    status: OrgStatus | None = None


class OrgOut(ResponseModel):
    id: uuid.UUID
    name: str
    status: OrgStatus
    created_at: datetime
    updated_at: datetime
