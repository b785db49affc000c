"""Business-hours calendars (SLA_CALENDARS.md R1): an IANA time zone, weekly local windows and
dated exceptions (holidays closed, special hours). Stored as the admin wrote them — local wall
times, never UTC offsets — and turned into instants by services/business_time.py."""

from __future__ import annotations

from typing import Any

from sqlalchemy import CheckConstraint, Index, String, text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from app.db.base import Base, Timestamps, UUIDPrimaryKey


class SlaCalendar(UUIDPrimaryKey, Timestamps, Base):
    __tablename__ = "sla_calendars"
    __table_args__ = (
        CheckConstraint("jsonb_typeof(windows) = 'array'", name="windows_array"),
        CheckConstraint("jsonb_typeof(exceptions) = 'array'", name="exceptions_array"),
        Index("uq_sla_calendars_lower_name", text("lower(name)"), unique=True),
    )

    name: Mapped[str] = mapped_column(String(120), nullable=False)
    timezone: Mapped[str] = mapped_column(String(64), nullable=False)
    # [{"weekday": 0..6 (Monday = 0), "start": "HH:MM", "end": "HH:MM"}]
    windows: Mapped[list[dict[str, Any]]] = mapped_column(
        JSONB, nullable=False, server_default=text("'[]'::jsonb")
    )
    # [{"date": "YYYY-MM-DD", "closed": bool, "windows": [{"start", "end"}], "name": str?}]
    exceptions: Mapped[list[dict[str, Any]]] = mapped_column(
        JSONB, nullable=False, server_default=text("'[]'::jsonb")
    )
