"""Recent ticket changes for the live-update streams (Server-Sent Events, Last-Event-ID replay).

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-02 12:50:00.000000+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "live_events",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=True), nullable=False),
        sa.Column("ticket_id", sa.UUID(), nullable=False),
        sa.Column("org_id", sa.UUID(), nullable=True),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("staff_only", sa.Boolean(), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_live_events")),
    )
    op.create_index("ix_live_events_created_at", "live_events", ["created_at"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_live_events_created_at", table_name="live_events")
    op.drop_table("live_events")
