"""SLA policies."""

from __future__ import annotations

import uuid
from datetime import datetime

from pydantic import Field

from app.models.enums import Priority
from app.schemas.common import RequestModel, ResponseModel

Minutes = Field(gt=0, le=365 * 24 * 60)


class SlaPolicyCreate(RequestModel):
    org_id: uuid.UUID | None = None
    priority: Priority
    first_response_minutes: int = Minutes
    resolution_minutes: int = Minutes


class SlaPolicyUpdate(RequestModel):
    first_response_minutes: int | None = Field(default=None, gt=0, le=365 * 24 * 60)
    resolution_minutes: int | None = Field(default=None, gt=0, le=365 * 24 * 60)


class SlaPolicyOut(ResponseModel):
    id: uuid.UUID
    org_id: uuid.UUID | None
    priority: Priority
    first_response_minutes: int
    resolution_minutes: int
    created_at: datetime
    updated_at: datetime
