"""Teams of staff."""

from __future__ import annotations

import uuid
from datetime import datetime

from pydantic import Field

from app.schemas.common import Name, RequestModel, ResponseModel


class TeamCreate(RequestModel):
    name: Name
    member_ids: list[uuid.UUID] = Field(default_factory=list, max_length=500)


class TeamUpdate(RequestModel):
    name: Name | None = None
    member_ids: list[uuid.UUID] | None = Field(default=None, max_length=500)


class TeamOut(ResponseModel):
    id: uuid.UUID
    name: str
    member_ids: list[uuid.UUID]
    created_at: datetime
