"""The e-mail channel (docs/EMAIL.md): mailboxes, every message received (stored before it is
parsed), the raw bytes, addresses that bounce, and the e-mail domains of organizations."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY, UUID
from sqlalchemy.orm import Mapped, mapped_column

from app.db.base import Base, CreatedAt, Timestamps, UUIDPrimaryKey

MAILBOX_KINDS = ("lmtp", "imap")
# pending: stored, waiting for the worker; done: became a ticket, a comment or a note; held:
# waits for a manager (unknown sender, not allowed to comment); quarantined: processing failed
# (the error is kept, a retry is possible); dropped: automatic mail with nothing to attach to,
# or a bounce recorded; refused: too large (IMAP; LMTP refuses at the door); discarded: by staff.
INBOUND_STATUSES = ("pending", "done", "held", "quarantined", "dropped", "refused", "discarded")


class Mailbox(UUIDPrimaryKey, Timestamps, Base):
    __tablename__ = "mailboxes"
    __table_args__ = (
        CheckConstraint("kind IN ('lmtp', 'imap')", name="kind"),
        CheckConstraint("address = lower(address)", name="address_lowercase"),
        CheckConstraint(
            "kind = 'lmtp' OR (imap_host IS NOT NULL AND imap_user IS NOT NULL)", name="imap_fields"
        ),
    )

    address: Mapped[str] = mapped_column(String(254), nullable=False, unique=True)
    kind: Mapped[str] = mapped_column(String(10), nullable=False)
    imap_host: Mapped[str | None] = mapped_column(String(253))
    imap_port: Mapped[int | None] = mapped_column(Integer)
    imap_tls: Mapped[bool] = mapped_column(Boolean, nullable=False, server_default=text("true"))
    imap_user: Mapped[str | None] = mapped_column(String(254))
    # Fernet token (key derived from the secret key); never returned by the API.
    imap_password_enc: Mapped[str | None] = mapped_column(Text)
    imap_folder: Mapped[str] = mapped_column(String(200), nullable=False, server_default="INBOX")
    processed_folder: Mapped[str | None] = mapped_column(String(200))
    active: Mapped[bool] = mapped_column(Boolean, nullable=False, server_default=text("true"))
    # The IMAP checkpoint: written in the same transaction as each stored message.
    imap_uidvalidity: Mapped[int | None] = mapped_column(BigInteger)
    imap_last_uid: Mapped[int] = mapped_column(BigInteger, nullable=False, server_default="0")
    last_checked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    last_error: Mapped[str | None] = mapped_column(Text)


class InboundMessage(UUIDPrimaryKey, Base):
    __tablename__ = "inbound_messages"
    __table_args__ = (
        CheckConstraint(
            "status IN ('pending', 'done', 'held', 'quarantined', 'dropped', 'refused', "
            "'discarded')",
            name="status",
        ),
        CheckConstraint("via IN ('lmtp', 'imap')", name="via"),
        # The same mailbox message (IMAP) is stored once.
        Index(
            "uq_inbound_messages_imap_uid",
            "mailbox_id",
            "imap_uidvalidity",
            "imap_uid",
            unique=True,
            postgresql_where=text("imap_uid IS NOT NULL"),
        ),
        # The same message (Message-ID and content) is stored once, whichever way it came in.
        Index(
            "uq_inbound_messages_identity",
            text("coalesce(message_id, '')"),
            "content_hash",
            unique=True,
        ),
        Index(
            "ix_inbound_messages_due",
            "next_attempt_at",
            postgresql_where=text("status = 'pending'"),
        ),
        Index(
            "ix_inbound_messages_status_received",
            "status",
            text("received_at DESC"),
            text("id DESC"),
        ),
    )

    mailbox_id: Mapped[uuid.UUID | None] = mapped_column(
        UUID(as_uuid=True), ForeignKey("mailboxes.id", ondelete="SET NULL")
    )
    via: Mapped[str] = mapped_column(String(10), nullable=False)
    received_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), nullable=False, server_default=text("now()")
    )
    envelope_from: Mapped[str | None] = mapped_column(String(998))
    envelope_to: Mapped[list[str]] = mapped_column(
        ARRAY(String(998)), nullable=False, server_default="{}"
    )
    imap_uidvalidity: Mapped[int | None] = mapped_column(BigInteger)
    imap_uid: Mapped[int | None] = mapped_column(BigInteger)
    size_bytes: Mapped[int] = mapped_column(BigInteger, nullable=False)
    sha256: Mapped[str] = mapped_column(String(64), nullable=False)
    content_hash: Mapped[str] = mapped_column(String(64), nullable=False)
    message_id: Mapped[str | None] = mapped_column(String(998))
    status: Mapped[str] = mapped_column(String(12), nullable=False, server_default="pending")
    attempts: Mapped[int] = mapped_column(Integer, nullable=False, server_default="0")
    next_attempt_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), nullable=False, server_default=text("now()")
    )
    lease_token: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))
    lease_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    error: Mapped[str | None] = mapped_column(Text)
    reason: Mapped[str | None] = mapped_column(Text)
    from_address: Mapped[str | None] = mapped_column(String(254))
    subject: Mapped[str | None] = mapped_column(String(998))
    excerpt: Mapped[str | None] = mapped_column(Text)
    automatic: Mapped[bool] = mapped_column(Boolean, nullable=False, server_default=text("false"))
    ticket_id: Mapped[uuid.UUID | None] = mapped_column(
        UUID(as_uuid=True), ForeignKey("tickets.id")
    )
    comment_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))
    processed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class InboundRaw(Base):
    """The bytes as received, in their own table (the list and the worker never read them)."""

    __tablename__ = "inbound_raw"

    inbound_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("inbound_messages.id", ondelete="CASCADE"), primary_key=True
    )
    raw: Mapped[bytes] = mapped_column(LargeBinary, nullable=False)


class MailBounce(CreatedAt, Base):
    """An address that answered with a permanent failure (5.x.x): the outbox stops sending to
    it until staff clear it."""

    __tablename__ = "mail_bounces"
    __table_args__ = (CheckConstraint("address = lower(address)", name="address_lowercase"),)

    address: Mapped[str] = mapped_column(String(254), primary_key=True)
    status: Mapped[str] = mapped_column(String(20), nullable=False)
    diagnostic: Mapped[str | None] = mapped_column(Text)
    outbox_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))
    inbound_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))


class OrgEmailDomain(CreatedAt, Base):
    """A domain whose unknown senders become customer users of the organization."""

    __tablename__ = "organization_email_domains"
    __table_args__ = (
        CheckConstraint("domain = lower(domain)", name="domain_lowercase"),
        Index("ix_organization_email_domains_org", "org_id"),
    )

    domain: Mapped[str] = mapped_column(String(253), primary_key=True)
    org_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("organizations.id", ondelete="CASCADE"), nullable=False
    )
