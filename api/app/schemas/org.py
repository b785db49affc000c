"""Organizations."""

from __future__ import annotations

import uuid
from datetime import datetime

from pydantic import Field

from app.models.enums import OrgStatus
from app.schemas.common import Name, RequestModel, ResponseModel
from app.schemas.mail import EmailDomain


class OrgCreate(RequestModel):
    name: Name
    # Unknown senders from these domains become customer users of the organization (mail).
    email_domains: list[EmailDomain] = Field(default_factory=list, max_length=100)


class OrgUpdate(RequestModel):
    name: Name | None = None
    status: OrgStatus | None = None
    email_domains: list[EmailDomain] | None = Field(default=None, max_length=100)


class OrgOut(ResponseModel):
    id: uuid.UUID
    name: str
    status: OrgStatus
    created_at: datetime
    updated_at: datetime
    email_domains: list[str] = Field(default_factory=list)
