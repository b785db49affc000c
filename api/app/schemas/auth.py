"""Login and the current user's profile."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Literal

from pydantic import Field

from app.models.enums import Role
from app.schemas.common import RequestModel, ResponseModel


class LoginRequest(RequestModel):
    email: str = Field(min_length=1, max_length=254)
    password: str = Field(min_length=1, max_length=256)


class Me(ResponseModel):
    id: uuid.UUID
    email: str
    name: str
    role: Role
    org_id: uuid.UUID | None
    org_name: str | None
    is_active: bool = True
    language: str = "en"
    # Customers: which tickets of the organization the portal shows a customer_user ("own": the
    # ones they opened or are copied on); None for staff.
    portal_visibility: Literal["own", "organization"] | None = None


class LoginResponse(ResponseModel):
    mfa_required: Literal[False] = False
    access_token: str
    token_type: str = "bearer"  # noqa: S105  (the OAuth2 token type, not a secret)
    expires_in: int
    csrf_token: str
    user: Me
    # The role requires a second factor and none is set up: sign-in works without one until
    # ``mfa_grace_until``; after that the session can only set one up (``restricted``).
    mfa_setup_required: bool = False
    mfa_grace_until: datetime | None = None
    restricted: bool = False
