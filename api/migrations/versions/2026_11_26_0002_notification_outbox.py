"""Notification outbox (mails committed with the change that caused them), and ticket list indexes
for assignee and breached lists.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-26 08:38:33.793601+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Assignee lists are newest first: the key must end in (created_at, id), not status.
    op.drop_index("ix_tickets_assignee_status", table_name="tickets")
    op.create_index(
        "ix_tickets_assignee_created",
        "tickets",
        ["assigned_to", sa.text("created_at DESC"), sa.text("id DESC")],
    )
    op.create_index(
        "ix_tickets_breached",
        "tickets",
        [sa.text("created_at DESC"), sa.text("id DESC")],
        postgresql_where=sa.text(
            "sla_first_response_breached_at IS NOT NULL OR sla_resolution_breached_at IS NOT NULL"
        ),
    )
    op.create_table(
        "notification_outbox",
        sa.Column("idempotency_key", sa.String(length=200), nullable=False),
        sa.Column("recipient_id", sa.UUID(), nullable=True),
        sa.Column("recipient_email", sa.String(length=254), nullable=False),
        sa.Column("template", sa.String(length=64), nullable=False),
        sa.Column("ticket_id", sa.UUID(), nullable=True),
        sa.Column("org_id", sa.UUID(), nullable=True),
        sa.Column("subject", sa.String(length=300), nullable=False),
        sa.Column("body_text", sa.Text(), nullable=False),
        sa.Column("body_html", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=10), server_default="pending", nullable=False),
        sa.Column("attempts", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column(
            "next_attempt_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("lease_token", sa.UUID(), nullable=True),
        sa.Column("lease_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("id", sa.UUID(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "status IN ('pending', 'sending', 'sent', 'failed')",
            name=op.f("ck_notification_outbox_status"),
        ),
        sa.ForeignKeyConstraint(
            ["org_id"],
            ["organizations.id"],
            name=op.f("fk_notification_outbox_org_id_organizations"),
        ),
        sa.ForeignKeyConstraint(
            ["recipient_id"], ["users.id"], name=op.f("fk_notification_outbox_recipient_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["ticket_id"], ["tickets.id"], name=op.f("fk_notification_outbox_ticket_id_tickets")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notification_outbox")),
        sa.UniqueConstraint("idempotency_key", name=op.f("uq_notification_outbox_idempotency_key")),
    )
    op.create_index(
        "ix_notification_outbox_due",
        "notification_outbox",
        ["next_attempt_at"],
        unique=False,
        postgresql_where=sa.text("status IN ('pending', 'sending')"),
    )
    op.create_index(
        "ix_notification_outbox_status_created",
        "notification_outbox",
        ["status", "created_at"],
        unique=False,
    )
    op.create_index(
        "ix_notification_outbox_ticket", "notification_outbox", ["ticket_id"], unique=False
    )


def downgrade() -> None:
    op.drop_index("ix_tickets_breached", table_name="tickets")
    op.drop_index("ix_tickets_assignee_created", table_name="tickets")
    op.create_index(
        "ix_tickets_assignee_status",
        "tickets",
        ["assigned_to", "status", sa.text("created_at DESC")],
    )
    op.drop_index("ix_notification_outbox_ticket", table_name="notification_outbox")
    op.drop_index("ix_notification_outbox_status_created", table_name="notification_outbox")
    op.drop_index(
        "ix_notification_outbox_due",
        table_name="notification_outbox",
        postgresql_where=sa.text("status IN ('pending', 'sending')"),
    )
    op.drop_table("notification_outbox")
