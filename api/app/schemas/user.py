"""Users. Passwords and hashes are never part of an answer."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Literal

from pydantic import StrictBool

from app.models.enums import Role
from app.schemas.common import Email, Name, Password, RequestModel, ResponseModel


class UserCreate(RequestModel):
    email: Email
    name: Name
    role: Role
    org_id: uuid.UUID | None = None
    # Without a password the user is invited: a mail with a link to choose one.
    password: Password | None = None


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
    status: Literal["invited", "active", "deactivated"]
    language: str
    mfa_enabled: bool
    created_at: datetime
    updated_at: datetime
