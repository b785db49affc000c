"""Users. Passwords and hashes are never part of an answer."""

from __future__ import annotations

import uuid
from datetime import datetime

from pydantic import StrictBool

from app.models.enums import Role
from app.schemas.common import Email, Name, Password, RequestModel, ResponseModel


class UserCreate(RequestModel):
    email: Email
    name: Name
    role: Role
    org_id: uuid.UUID | None = None
    password: Password


class UserUpdate(RequestModel):
    name: Name | None = None
    role: Role | None = None
    is_active: StrictBool | None = None
    password: Password | None = None


class UserOut(ResponseModel):
    id: uuid.UUID
    email: str
    name: str
    role: Role
    org_id: uuid.UUID | None
    is_active: bool
    created_at: datetime
    updated_at: datetime
