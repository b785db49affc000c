"""Services (what a ticket is about)."""

from __future__ import annotations

import uuid

from pydantic import StrictBool

from app.schemas.common import Name, RequestModel, ResponseModel


class ServiceCreate(RequestModel):
    name: Name
    org_id: uuid.UUID | None = None
    # New tickets for this service go to this team unless one is given (staff-only data).
    default_team_id: uuid.UUID | None = None


class ServiceUpdate(RequestModel):
    name: Name | None = None
    is_active: StrictBool | None = None
    # null clears it.
    default_team_id: uuid.UUID | None = None


class CustomerService(ResponseModel):
    """A service as a customer sees it (the portal's new-ticket form)."""

    id: uuid.UUID
    org_id: uuid.UUID | None
    name: str
    is_active: bool


class ServiceOut(CustomerService):
    """A service as staff see it: also the team its new tickets go to (desk-only data)."""

    default_team_id: uuid.UUID | None
