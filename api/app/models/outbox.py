"""The notification outbox: mails written in the same transaction as the change that caused
them, delivered by the worker (``FOR UPDATE SKIP LOCKED`` claims with a lease)."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import CheckConstraint, DateTime, ForeignKey, Index, Integer, String, Text, text
from sqlalchemy.dialects.postgresql import JSONB, UUID
from sqlalchemy.orm import Mapped, mapped_column

from app.db.base import Base, CreatedAt, UUIDPrimaryKey

OUTBOX_STATUSES = ("pending", "sending", "sent", "failed")


class OutboxMessage(UUIDPrimaryKey, CreatedAt, Base):
    __tablename__ = "notification_outbox"
    __table_args__ = (
        CheckConstraint("status IN ('pending', 'sending', 'sent', 'failed')", name="status"),
        Index(
            "ix_notification_outbox_due",
            "next_attempt_at",
            postgresql_where=text("status IN ('pending', 'sending')"),
        ),
        Index("ix_notification_outbox_status_created", "status", "created_at"),
        Index("ix_notification_outbox_ticket", "ticket_id"),
        # The thread of one recipient on one ticket (References), and the hold-back window in
        # which a new event joins a mail not yet sent.
        Index("ix_notification_outbox_thread", "ticket_id", "recipient_id", "created_at"),
    )

    idempotency_key: Mapped[str] = mapped_column(String(200), nullable=False, unique=True)
    recipient_id: Mapped[uuid.UUID | None] = mapped_column(
        UUID(as_uuid=True), ForeignKey("users.id"), nullable=True
    )
    recipient_email: Mapped[str] = mapped_column(String(254), nullable=False)
    template: Mapped[str] = mapped_column(String(64), nullable=False)
    ticket_id: Mapped[uuid.UUID | None] = mapped_column(
        UUID(as_uuid=True), ForeignKey("tickets.id"), nullable=True
    )
    org_id: Mapped[uuid.UUID | None] = mapped_column(
        UUID(as_uuid=True), ForeignKey("organizations.id"), nullable=True
    )
    subject: Mapped[str] = mapped_column(String(300), nullable=False)
    body_text: Mapped[str] = mapped_column(Text, nullable=False)
    body_html: Mapped[str] = mapped_column(Text, nullable=False)
    status: Mapped[str] = mapped_column(String(10), nullable=False, server_default="pending")
    attempts: Mapped[int] = mapped_column(Integer, nullable=False, server_default=text("0"))
    next_attempt_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), nullable=False, server_default=text("now()")
    )
    lease_token: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True), nullable=True)
    lease_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    last_error: Mapped[str | None] = mapped_column(Text, nullable=True)
    sent_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    # The mail's own Message-ID (signed, names the ticket and the recipient) and the signed
    # reply token of its Reply-To address (docs/EMAIL.md "Outgoing mail").
    message_id: Mapped[str | None] = mapped_column(String(998), nullable=True)
    reply_token: Mapped[str | None] = mapped_column(String(100), nullable=True)
    # The events this mail tells of ({template, subject, lines, quote, after}): several events
    # for one recipient on one ticket within ATUM_MAIL_COALESCE_SECONDS become one mail.
    events: Mapped[list[dict[str, object]] | None] = mapped_column(
        JSONB(none_as_null=True), nullable=True
    )
    # A link that carries a token (an account mail's, a resolved mail's "How did we do?"), sealed
    # under the secret key: the bodies hold a marker in its place (services/account_mail.py,
    # services/notifications.py).
    sealed_link: Mapped[str | None] = mapped_column(Text, nullable=True)
