"""Services (what a ticket is about)."""

from __future__ import annotations

import uuid

from pydantic import StrictBool

from app.schemas.common import Name, RequestModel, ResponseModel


class ServiceCreate(RequestModel):
    name: Name
    org_id: uuid.UUID | None = None


class ServiceUpdate(RequestModel):
    name: Name | None = None
    is_active: StrictBool | None = None


class ServiceOut(ResponseModel):
    id: uuid.UUID
    org_id: uuid.UUID | None
    name: str
    is_active: bool
