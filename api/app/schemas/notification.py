"""The outbox as admins see it, and a user's notification preferences."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Literal

from pydantic import StrictBool

from app.schemas.common import RequestModel, ResponseModel

OutboxStatus = Literal["pending", "sending", "sent", "failed"]


class OutboxOut(ResponseModel):
    id: uuid.UUID
    recipient_email: str
    template: str
    subject: str
    ticket_id: uuid.UUID | None
    status: OutboxStatus
    attempts: int
    next_attempt_at: datetime
    last_error: str | None
    sent_at: datetime | None
    created_at: datetime


class Preferences(ResponseModel):
    notify_enabled: bool


class PreferencesUpdate(RequestModel):
    notify_enabled: StrictBool
