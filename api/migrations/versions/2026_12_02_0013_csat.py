"""Customer satisfaction: one rating per ticket (good / okay / bad, an optional comment of at
most 2000 characters) for the resolution it rates.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-02 14:00:00.000000+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "ticket_csat",
        sa.Column("ticket_id", sa.UUID(), nullable=False),
        sa.Column("org_id", sa.UUID(), nullable=False),
        sa.Column("rating", sa.String(length=4), nullable=False),
        sa.Column("comment", sa.Text(), nullable=True),
        sa.Column("rated_by", sa.UUID(), nullable=True),
        sa.Column("resolved_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column(
            "submitted_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint("rating IN ('good', 'okay', 'bad')", name=op.f("ck_ticket_csat_rating")),
        sa.CheckConstraint(
            "char_length(comment) <= 2000", name=op.f("ck_ticket_csat_comment_length")
        ),
        sa.ForeignKeyConstraint(
            ["org_id"], ["organizations.id"], name=op.f("fk_ticket_csat_org_id_organizations")
        ),
        sa.ForeignKeyConstraint(
            ["rated_by"], ["users.id"], name=op.f("fk_ticket_csat_rated_by_users")
        ),
        sa.ForeignKeyConstraint(
            ["ticket_id", "org_id"],
            ["tickets.id", "tickets.org_id"],
            name="fk_ticket_csat_ticket_org",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("ticket_id", name=op.f("pk_ticket_csat")),
    )
    op.create_index(
        "ix_ticket_csat_org_submitted", "ticket_csat", ["org_id", "submitted_at"], unique=False
    )
    op.create_index("ix_ticket_csat_submitted", "ticket_csat", ["submitted_at"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_ticket_csat_submitted", table_name="ticket_csat")
    op.drop_index("ix_ticket_csat_org_submitted", table_name="ticket_csat")
    op.drop_table("ticket_csat")
