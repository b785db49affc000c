"""SLA policies."""

from __future__ import annotations

import uuid
from datetime import datetime

from pydantic import Field

from app.models.enums import Priority
from app.schemas.common import RequestModel, ResponseModel

Minutes = Field(gt=0, le=365 * 24 * 60)
MAX_MINUTES = 365 * 24 * 60


class SlaPolicyCreate(RequestModel):
    org_id: uuid.UUID | None = None
    priority: Priority
    first_response_minutes: int = Minutes
    resolution_minutes: int = Minutes
    # The business-hours calendar of the clocks (null = around the clock); an organization's own
    # calendar takes precedence.
    calendar_id: uuid.UUID | None = None
    # Warn when this share of a target is used up, or warn_minutes business minutes before it is
    # due, whichever comes first.
    warn_pct: int = Field(default=80, ge=1, le=100)
    warn_minutes: int | None = Field(default=None, gt=0, le=MAX_MINUTES)
    # A second escalation this many business minutes after a breach, to a staff user and/or a
    # team (at least one of them).
    escalate_after_minutes: int | None = Field(default=None, gt=0, le=MAX_MINUTES)
    escalate_to_user_id: uuid.UUID | None = None
    escalate_to_team_id: uuid.UUID | None = None


class SlaPolicyUpdate(RequestModel):
    """Fields left out stay; ``null`` clears the nullable ones (calendar, warn_minutes,
    escalation)."""

    first_response_minutes: int | None = Field(default=None, gt=0, le=MAX_MINUTES)
    resolution_minutes: int | None = Field(default=None, gt=0, le=MAX_MINUTES)
    calendar_id: uuid.UUID | None = None
    warn_pct: int | None = Field(default=None, ge=1, le=100)
    warn_minutes: int | None = Field(default=None, gt=0, le=MAX_MINUTES)
    escalate_after_minutes: int | None = Field(default=None, gt=0, le=MAX_MINUTES)
    escalate_to_user_id: uuid.UUID | None = None
    escalate_to_team_id: uuid.UUID | None = None


class SlaPolicyOut(ResponseModel):
    id: uuid.UUID
    org_id: uuid.UUID | None
    priority: Priority
    first_response_minutes: int
    resolution_minutes: int
    calendar_id: uuid.UUID | None = None
    warn_pct: int = 80
    warn_minutes: int | None = None
    escalate_after_minutes: int | None = None
    escalate_to_user_id: uuid.UUID | None = None
    escalate_to_team_id: uuid.UUID | None = None
    created_at: datetime
    updated_at: datetime
