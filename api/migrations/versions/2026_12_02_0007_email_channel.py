"""The e-mail channel: mailboxes (LMTP or IMAP with its checkpoint), every message received stored
before it is parsed (raw bytes in their own table, deduplicated by mailbox UID and by Message-ID
with content hash), addresses that bounce, the e-mail domains of organizations, the channel of
tickets and comments (comments from mail keep their sender, Message-ID, quoted history and refused
files; only automatic mail may lack an author), follow-up tickets, and per outbox row its signed
Message-ID, reply token and the events it tells of (coalescing).

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-02 05:22:50.549017+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "mail_bounces",
        sa.Column("address", sa.String(length=254), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("diagnostic", sa.Text(), nullable=True),
        sa.Column("outbox_id", sa.UUID(), nullable=True),
        sa.Column("inbound_id", sa.UUID(), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "address = lower(address)", name=op.f("ck_mail_bounces_address_lowercase")
        ),
        sa.PrimaryKeyConstraint("address", name=op.f("pk_mail_bounces")),
    )
    op.create_table(
        "mailboxes",
        sa.Column("address", sa.String(length=254), nullable=False),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("imap_host", sa.String(length=253), nullable=True),
        sa.Column("imap_port", sa.Integer(), nullable=True),
        sa.Column("imap_tls", sa.Boolean(), server_default=sa.text("true"), nullable=False),
        sa.Column("imap_user", sa.String(length=254), nullable=True),
        sa.Column("imap_password_enc", sa.Text(), nullable=True),
        sa.Column("imap_folder", sa.String(length=200), server_default="INBOX", nullable=False),
        sa.Column("processed_folder", sa.String(length=200), nullable=True),
        sa.Column("active", sa.Boolean(), server_default=sa.text("true"), nullable=False),
        sa.Column("imap_uidvalidity", sa.BigInteger(), nullable=True),
        sa.Column("imap_last_uid", sa.BigInteger(), server_default="0", nullable=False),
        sa.Column("last_checked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("id", sa.UUID(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "kind = 'lmtp' OR (imap_host IS NOT NULL AND imap_user IS NOT NULL)",
            name=op.f("ck_mailboxes_imap_fields"),
        ),
        sa.CheckConstraint("kind IN ('lmtp', 'imap')", name=op.f("ck_mailboxes_kind")),
        sa.CheckConstraint("address = lower(address)", name=op.f("ck_mailboxes_address_lowercase")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_mailboxes")),
        sa.UniqueConstraint("address", name=op.f("uq_mailboxes_address")),
    )
    op.create_table(
        "organization_email_domains",
        sa.Column("domain", sa.String(length=253), nullable=False),
        sa.Column("org_id", sa.UUID(), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "domain = lower(domain)", name=op.f("ck_organization_email_domains_domain_lowercase")
        ),
        sa.ForeignKeyConstraint(
            ["org_id"],
            ["organizations.id"],
            name=op.f("fk_organization_email_domains_org_id_organizations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("domain", name=op.f("pk_organization_email_domains")),
    )
    op.create_index(
        "ix_organization_email_domains_org", "organization_email_domains", ["org_id"], unique=False
    )
    op.create_table(
        "inbound_messages",
        sa.Column("mailbox_id", sa.UUID(), nullable=True),
        sa.Column("via", sa.String(length=10), nullable=False),
        sa.Column(
            "received_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("envelope_from", sa.String(length=998), nullable=True),
        sa.Column(
            "envelope_to",
            postgresql.ARRAY(sa.String(length=998)),
            server_default="{}",
            nullable=False,
        ),
        sa.Column("imap_uidvalidity", sa.BigInteger(), nullable=True),
        sa.Column("imap_uid", sa.BigInteger(), nullable=True),
        sa.Column("size_bytes", sa.BigInteger(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("content_hash", sa.String(length=64), nullable=False),
        sa.Column("message_id", sa.String(length=998), nullable=True),
        sa.Column("status", sa.String(length=12), server_default="pending", nullable=False),
        sa.Column("attempts", sa.Integer(), server_default="0", nullable=False),
        sa.Column(
            "next_attempt_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("lease_token", sa.UUID(), nullable=True),
        sa.Column("lease_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("from_address", sa.String(length=254), nullable=True),
        sa.Column("subject", sa.String(length=998), nullable=True),
        sa.Column("excerpt", sa.Text(), nullable=True),
        sa.Column("automatic", sa.Boolean(), server_default=sa.text("false"), nullable=False),
        sa.Column("ticket_id", sa.UUID(), nullable=True),
        sa.Column("comment_id", sa.UUID(), nullable=True),
        sa.Column("processed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("id", sa.UUID(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.CheckConstraint(
            "status IN ('pending', 'done', 'held', 'quarantined', 'dropped', 'refused', 'discarded')",
            name=op.f("ck_inbound_messages_status"),
        ),
        sa.CheckConstraint("via IN ('lmtp', 'imap')", name=op.f("ck_inbound_messages_via")),
        sa.ForeignKeyConstraint(
            ["mailbox_id"],
            ["mailboxes.id"],
            name=op.f("fk_inbound_messages_mailbox_id_mailboxes"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["ticket_id"], ["tickets.id"], name=op.f("fk_inbound_messages_ticket_id_tickets")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_inbound_messages")),
    )
    op.create_index(
        "ix_inbound_messages_due",
        "inbound_messages",
        ["next_attempt_at"],
        unique=False,
        postgresql_where=sa.text("status = 'pending'"),
    )
    op.create_index(
        "ix_inbound_messages_status_received",
        "inbound_messages",
        ["status", sa.literal_column("received_at DESC"), sa.literal_column("id DESC")],
        unique=False,
    )
    op.create_index(
        "uq_inbound_messages_identity",
        "inbound_messages",
        [sa.literal_column("coalesce(message_id, '')"), "content_hash"],
        unique=True,
    )
    op.create_index(
        "uq_inbound_messages_imap_uid",
        "inbound_messages",
        ["mailbox_id", "imap_uidvalidity", "imap_uid"],
        unique=True,
        postgresql_where=sa.text("imap_uid IS NOT NULL"),
    )
    op.create_table(
        "inbound_raw",
        sa.Column("inbound_id", sa.UUID(), nullable=False),
        sa.Column("raw", sa.LargeBinary(), nullable=False),
        sa.ForeignKeyConstraint(
            ["inbound_id"],
            ["inbound_messages.id"],
            name=op.f("fk_inbound_raw_inbound_id_inbound_messages"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("inbound_id", name=op.f("pk_inbound_raw")),
    )
    op.add_column(
        "notification_outbox", sa.Column("message_id", sa.String(length=998), nullable=True)
    )
    op.add_column(
        "notification_outbox", sa.Column("reply_token", sa.String(length=100), nullable=True)
    )
    op.add_column(
        "notification_outbox",
        sa.Column("events", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
    )
    op.create_index(
        "ix_notification_outbox_thread",
        "notification_outbox",
        ["ticket_id", "recipient_id", "created_at"],
        unique=False,
    )
    op.add_column(
        "ticket_comments",
        sa.Column("channel", sa.String(length=10), server_default="portal", nullable=False),
    )
    op.add_column(
        "ticket_comments",
        sa.Column("automatic", sa.Boolean(), server_default=sa.text("false"), nullable=False),
    )
    op.add_column(
        "ticket_comments", sa.Column("from_address", sa.String(length=254), nullable=True)
    )
    op.add_column("ticket_comments", sa.Column("message_id", sa.String(length=998), nullable=True))
    op.add_column("ticket_comments", sa.Column("quoted", sa.Text(), nullable=True))
    op.add_column(
        "ticket_comments",
        sa.Column("refused_files", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
    )
    op.add_column("ticket_comments", sa.Column("inbound_id", sa.UUID(), nullable=True))
    op.alter_column("ticket_comments", "author_id", existing_type=sa.UUID(), nullable=True)
    op.create_foreign_key(
        op.f("fk_ticket_comments_inbound_id_inbound_messages"),
        "ticket_comments",
        "inbound_messages",
        ["inbound_id"],
        ["id"],
    )
    op.add_column(
        "tickets",
        sa.Column("channel", sa.String(length=10), server_default="portal", nullable=False),
    )
    op.add_column("tickets", sa.Column("follow_up_of", sa.UUID(), nullable=True))
    op.create_foreign_key(
        op.f("fk_tickets_follow_up_of_tickets"), "tickets", "tickets", ["follow_up_of"], ["id"]
    )
    op.create_check_constraint(
        "channel", "tickets", "channel IN ('portal', 'email', 'phone', 'api')"
    )
    op.create_check_constraint(
        "channel", "ticket_comments", "channel IN ('portal', 'email', 'phone', 'api')"
    )
    op.create_check_constraint(
        "author_or_automatic",
        "ticket_comments",
        "author_id IS NOT NULL OR (automatic AND is_internal AND from_address IS NOT NULL)",
    )


def downgrade() -> None:
    op.execute("DELETE FROM ticket_comments WHERE author_id IS NULL")
    op.drop_constraint("author_or_automatic", "ticket_comments", type_="check")
    op.drop_constraint("channel", "ticket_comments", type_="check")
    op.drop_constraint("channel", "tickets", type_="check")
    op.drop_constraint(op.f("fk_tickets_follow_up_of_tickets"), "tickets", type_="foreignkey")
    op.drop_column("tickets", "follow_up_of")
    op.drop_column("tickets", "channel")
    op.drop_constraint(
        op.f("fk_ticket_comments_inbound_id_inbound_messages"),
        "ticket_comments",
        type_="foreignkey",
    )
    op.alter_column("ticket_comments", "author_id", existing_type=sa.UUID(), nullable=False)
    op.drop_column("ticket_comments", "inbound_id")
    op.drop_column("ticket_comments", "refused_files")
    op.drop_column("ticket_comments", "quoted")
    op.drop_column("ticket_comments", "message_id")
    op.drop_column("ticket_comments", "from_address")
    op.drop_column("ticket_comments", "automatic")
    op.drop_column("ticket_comments", "channel")
    op.drop_index("ix_notification_outbox_thread", table_name="notification_outbox")
    op.drop_column("notification_outbox", "events")
    op.drop_column("notification_outbox", "reply_token")
    op.drop_column("notification_outbox", "message_id")
    op.drop_table("inbound_raw")
    op.drop_index(
        "uq_inbound_messages_imap_uid",
        table_name="inbound_messages",
        postgresql_where=sa.text("imap_uid IS NOT NULL"),
    )
    op.drop_index("uq_inbound_messages_identity", table_name="inbound_messages")
    op.drop_index("ix_inbound_messages_status_received", table_name="inbound_messages")
    op.drop_index(
        "ix_inbound_messages_due",
        table_name="inbound_messages",
        postgresql_where=sa.text("status = 'pending'"),
    )
    op.drop_table("inbound_messages")
    op.drop_index("ix_organization_email_domains_org", table_name="organization_email_domains")
    op.drop_table("organization_email_domains")
    op.drop_table("mailboxes")
    op.drop_table("mail_bounces")
