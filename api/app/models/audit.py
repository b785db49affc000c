"""The append-only audit trail. The database itself refuses UPDATE, DELETE and TRUNCATE
(trigger in the initial migration); the app's production role holds INSERT and SELECT only.
Every row is linked into one of a few HMAC hash chains (app/services/audit_chain.py), so that an
edit made around the trigger (by a superuser) is detected by ``atum-desk audit verify``."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    DateTime,
    ForeignKey,
    Identity,
    Index,
    LargeBinary,
    SmallInteger,
    String,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB, UUID
from sqlalchemy.orm import Mapped, mapped_column

from app.db.base import Base, UUIDPrimaryKey


class AuditLog(UUIDPrimaryKey, Base):
    __tablename__ = "audit_log"
    __table_args__ = (
        Index("ix_audit_log_entity", "entity_type", "entity_id", "seq"),
        Index(
            "ix_audit_log_ticket",
            "ticket_id",
            "seq",
            postgresql_where=text("ticket_id IS NOT NULL"),
        ),
        Index("ix_audit_log_org_seq", "org_id", "seq"),
        Index("ix_audit_log_actor_seq", "actor_id", "seq"),
        Index("ix_audit_log_action_seq", "action", "seq"),
        Index("ix_audit_log_chain_seq", "chain", "seq"),
    )

    # Total order of entries (created_at ties within one transaction).
    seq: Mapped[int] = mapped_column(BigInteger, Identity(always=True), nullable=False, unique=True)
    actor_id: Mapped[uuid.UUID | None] = mapped_column(
        UUID(as_uuid=True), ForeignKey("users.id"), nullable=True
    )
    org_id: Mapped[uuid.UUID | None] = mapped_column(
        UUID(as_uuid=True), ForeignKey("organizations.id"), nullable=True
    )
    ticket_id: Mapped[uuid.UUID | None] = mapped_column(
        UUID(as_uuid=True), ForeignKey("tickets.id"), nullable=True
    )
    action: Mapped[str] = mapped_column(String(64), nullable=False)
    entity_type: Mapped[str] = mapped_column(String(32), nullable=False)
    entity_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True), nullable=True)
    old_value: Mapped[dict[str, Any] | None] = mapped_column(JSONB, nullable=True)
    new_value: Mapped[dict[str, Any] | None] = mapped_column(JSONB, nullable=True)
    ip: Mapped[str | None] = mapped_column(String(64), nullable=True)
    request_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    # Set by app/services/audit.py (it is hashed); the default is for rows from elsewhere.
    created_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), nullable=False, server_default=text("clock_timestamp()")
    )
    # The hash chain: which chain, the hash of the row before on it (32 zero bytes for the first),
    # and HMAC-SHA256 of this row's canonical encoding (app/services/audit_chain.py).
    chain: Mapped[int] = mapped_column(SmallInteger, nullable=False)
    # (Deferred: the audit views never show them; verification reads them with its own SQL.)
    prev_hash: Mapped[bytes] = mapped_column(LargeBinary, nullable=False, deferred=True)
    hash: Mapped[bytes] = mapped_column(LargeBinary, nullable=False, deferred=True)


class AuditChainHead(Base):
    """The last row of each audit chain (one row per chain, seeded by migration 0009; seq 0 and
    32 zero bytes while the chain is empty). A transaction that writes audit rows holds one of
    these rows locked until it commits, which serialises each chain."""

    __tablename__ = "audit_chain_heads"

    chain: Mapped[int] = mapped_column(SmallInteger, primary_key=True, autoincrement=False)
    seq: Mapped[int] = mapped_column(BigInteger, nullable=False)
    hash: Mapped[bytes] = mapped_column(LargeBinary, nullable=False)
