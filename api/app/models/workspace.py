"""The agent's workspace: canned replies, macros, saved views, links between tickets, CC'd
colleagues and who is looking at a ticket right now."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import (
    CheckConstraint,
    DateTime,
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    Integer,
    String,
    Text,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB, UUID
from sqlalchemy.orm import Mapped, mapped_column

from app.db.base import Base, CreatedAt, Timestamps, UUIDPrimaryKey

# personal: the owner only; team: the team's members; shared: every staff member.
_SCOPE_CHECK = (
    "(scope = 'personal' AND team_id IS NULL) OR (scope = 'team' AND team_id IS NOT NULL) "
    "OR (scope = 'shared' AND team_id IS NULL)"
)


class CannedReply(UUIDPrimaryKey, Timestamps, Base):
    __tablename__ = "canned_replies"
    __table_args__ = (
        CheckConstraint(_SCOPE_CHECK, name="scope"),
        Index("ix_canned_replies_owner", "owner_id"),
    )

    title: Mapped[str] = mapped_column(String(200), nullable=False)
    body: Mapped[str] = mapped_column(Text, nullable=False)
    scope: Mapped[str] = mapped_column(String(10), nullable=False)
    owner_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("users.id"), nullable=False
    )
    team_id: Mapped[uuid.UUID | None] = mapped_column(
        UUID(as_uuid=True), ForeignKey("teams.id", ondelete="CASCADE"), nullable=True
    )
    usage_count: Mapped[int] = mapped_column(Integer, nullable=False, server_default=text("0"))


class Macro(UUIDPrimaryKey, Timestamps, Base):
    __tablename__ = "macros"
    __table_args__ = (
        CheckConstraint(_SCOPE_CHECK, name="scope"),
        Index("ix_macros_owner", "owner_id"),
    )

    name: Mapped[str] = mapped_column(String(200), nullable=False)
    # [{type: comment|status|priority|tags|assign, ...}] as in schemas; validated on write.
    actions: Mapped[list[dict[str, Any]]] = mapped_column(JSONB, nullable=False)
    scope: Mapped[str] = mapped_column(String(10), nullable=False)
    owner_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("users.id"), nullable=False
    )
    team_id: Mapped[uuid.UUID | None] = mapped_column(
        UUID(as_uuid=True), ForeignKey("teams.id", ondelete="CASCADE"), nullable=True
    )
    usage_count: Mapped[int] = mapped_column(Integer, nullable=False, server_default=text("0"))


class SavedView(UUIDPrimaryKey, Timestamps, Base):
    __tablename__ = "saved_views"
    __table_args__ = (
        CheckConstraint(_SCOPE_CHECK, name="scope"),
        Index("ix_saved_views_owner", "owner_id"),
    )

    name: Mapped[str] = mapped_column(String(100), nullable=False)
    # The list query's names (status, priority, assigned_to incl. "me"/"unassigned", team_id,
    # org_id, tag, channel, breached, due_within_hours, q); validated on write.
    filters: Mapped[dict[str, Any]] = mapped_column(JSONB, nullable=False)
    scope: Mapped[str] = mapped_column(String(10), nullable=False)
    # NULL for the built-in views every staff member has.
    owner_id: Mapped[uuid.UUID | None] = mapped_column(
        UUID(as_uuid=True), ForeignKey("users.id"), nullable=True
    )
    team_id: Mapped[uuid.UUID | None] = mapped_column(
        UUID(as_uuid=True), ForeignKey("teams.id", ondelete="CASCADE"), nullable=True
    )
    position: Mapped[int] = mapped_column(Integer, nullable=False, server_default=text("0"))


class TicketLink(CreatedAt, Base):
    """Two related tickets, stored once with the smaller id first."""

    __tablename__ = "ticket_links"
    __table_args__ = (
        CheckConstraint("ticket_a < ticket_b", name="ordered"),
        Index("ix_ticket_links_b", "ticket_b"),
    )

    ticket_a: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("tickets.id", ondelete="CASCADE"), primary_key=True
    )
    ticket_b: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("tickets.id", ondelete="CASCADE"), primary_key=True
    )
    created_by: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("users.id"), nullable=False
    )


class TicketCc(CreatedAt, Base):
    """A colleague of the requester's organization copied on a ticket: sees it in the portal and
    receives its mails."""

    __tablename__ = "ticket_ccs"
    __table_args__ = (
        ForeignKeyConstraint(
            ["ticket_id", "org_id"],
            ["tickets.id", "tickets.org_id"],
            name="fk_ticket_ccs_ticket_org",
            ondelete="CASCADE",
        ),
        Index("ix_ticket_ccs_user", "user_id"),
    )

    ticket_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True)
    user_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("users.id"), primary_key=True
    )
    org_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("organizations.id"), nullable=False
    )
    added_by: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("users.id"), nullable=False
    )


class TicketPresence(Base):
    """Who is viewing or replying to a ticket, kept alive by heartbeats (UNLOGGED: losing it in a
    crash costs a few seconds of presence, nothing else)."""

    __tablename__ = "ticket_presence"
    __table_args__ = (
        CheckConstraint("state IN ('viewing', 'replying')", name="state"),
        Index("ix_ticket_presence_expires", "expires_at"),
        {"prefixes": ["UNLOGGED"]},
    )

    ticket_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("tickets.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    state: Mapped[str] = mapped_column(String(10), nullable=False)
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
