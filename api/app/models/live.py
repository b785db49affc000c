"""Recent changes for the live-update streams (GET /api/events): one row per ticket change, its
id the stream's event id. Rows carry ids only and are pruned after a few minutes; a client that
reconnects with ``Last-Event-ID`` is replayed what it missed from here."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import BigInteger, Boolean, DateTime, Identity, Index, String, func
from sqlalchemy.dialects.postgresql import UUID
from sqlalchemy.orm import Mapped, mapped_column

from app.db.base import Base


class LiveEvent(Base):
    __tablename__ = "live_events"
    __table_args__ = (Index("ix_live_events_created_at", "created_at"),)

    id: Mapped[int] = mapped_column(BigInteger, Identity(always=True), primary_key=True)
    ticket_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), nullable=False)
    # The ticket's organization: customers receive the events of their own organization only.
    org_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True), nullable=True)
    # created | updated | comment
    kind: Mapped[str] = mapped_column(String(10), nullable=False)
    # Staff only: an internal note, tags, mail handling — never sent to a customer's stream.
    staff_only: Mapped[bool] = mapped_column(Boolean, nullable=False)
    created_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), nullable=False, server_default=func.now()
    )
