"""Search that finds what people type: the comments' words (a generated document and its GIN
index), the requester's name and e-mail (the same on users), and a requester's tickets
newest first (services/search.py).

Adding the generated column rewrites ticket_comments once (minutes at millions of comments).

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-03 08:00:00.000000+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0016"
down_revision: str | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column(
        "ticket_comments",
        sa.Column(
            "search",
            postgresql.TSVECTOR(),
            sa.Computed("to_tsvector('simple', body)", persisted=True),
            nullable=True,
        ),
    )
    op.create_index(
        "ix_ticket_comments_search", "ticket_comments", ["search"], postgresql_using="gin"
    )
    # As the tickets' document (0004): rare words stay rare in the planner's estimate.
    op.execute("ALTER TABLE ticket_comments ALTER COLUMN search SET STATISTICS 1000")
    op.add_column(
        "users",
        sa.Column(
            "search",
            postgresql.TSVECTOR(),
            sa.Computed(
                "to_tsvector('simple', coalesce(name, '') || ' ' || coalesce(email, ''))",
                persisted=True,
            ),
            nullable=True,
        ),
    )
    op.create_index("ix_users_search", "users", ["search"], postgresql_using="gin")
    op.create_index(
        "ix_tickets_created_by_created",
        "tickets",
        ["created_by", sa.text("created_at DESC"), sa.text("id DESC")],
    )


def downgrade() -> None:
    op.drop_index("ix_tickets_created_by_created", table_name="tickets")
    op.drop_index("ix_users_search", table_name="users")
    op.drop_column("users", "search")
    op.drop_index("ix_ticket_comments_search", table_name="ticket_comments")
    op.drop_column("ticket_comments", "search")
