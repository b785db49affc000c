"""Reports: the tickets first answered and accepted in a date range are read through partial
indexes on those instants (the resolved ones already are, ix_tickets_resolved_at), so a report
over a recent range reads that range instead of the whole table.

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-02 18:40:00.000000+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index(
        "ix_tickets_first_responded_at",
        "tickets",
        ["first_responded_at"],
        postgresql_where=sa.text("first_responded_at IS NOT NULL"),
    )
    op.create_index(
        "ix_tickets_accepted_at",
        "tickets",
        ["accepted_at"],
        postgresql_where=sa.text("accepted_at IS NOT NULL"),
    )


def downgrade() -> None:
    op.drop_index("ix_tickets_accepted_at", table_name="tickets")
    op.drop_index("ix_tickets_first_responded_at", table_name="tickets")
