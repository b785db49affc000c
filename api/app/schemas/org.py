"""Organizations."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Literal

from pydantic import Field

from app.models.enums import OrgStatus
from app.schemas.common import Name, RequestModel, ResponseModel
from app.schemas.mail import EmailDomain

# What a customer_user of the organization sees in the portal: the tickets they opened or are
# copied on ("own"), or every ticket of the organization. A customer_admin always sees them all.
PortalVisibility = Literal["own", "organization"]


class OrgCreate(RequestModel):
    name: Name
    # Unknown senders from these domains become customer users of the organization (mail).
    email_domains: list[EmailDomain] = Field(default_factory=list, max_length=100)
    portal_visibility: PortalVisibility = "organization"
    # Business hours of the organization's SLA clocks, overriding the policies' calendar.
    sla_calendar_id: uuid.UUID | None = None


class OrgUpdate(RequestModel):
    name: Name | None = None
    status: OrgStatus | None = None
    email_domains: list[EmailDomain] | None = Field(default=None, max_length=100)
    portal_visibility: PortalVisibility | None = None
    # null: back to the policies' calendar.
    sla_calendar_id: uuid.UUID | None = None


class OrgOut(ResponseModel):
    id: uuid.UUID
    name: str
    status: OrgStatus
    portal_visibility: PortalVisibility = "organization"
    sla_calendar_id: uuid.UUID | None = None
    created_at: datetime
    updated_at: datetime
    email_domains: list[str] = Field(default_factory=list)
