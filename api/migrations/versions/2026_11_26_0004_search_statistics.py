"""Finer statistics for the ticket search document.

Full-text search asks for the newest matches first. PostgreSQL picks between walking the tickets
newest first (right for a frequent word) and the GIN index (right for a rare one: a host name, an
error code, a ticket number) from its estimate of how many tickets match; with the default
statistics a word it has not sampled counts as fairly common, so at 1,000,000 tickets a search
for one ticket number walked the whole table (0.9 s). A larger sample of the document's words
keeps the estimate of rare words rare (the same search: 0.1 ms); ANALYZE of tickets takes a few
seconds longer.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-26 10:55:00.000000+00:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.execute("ALTER TABLE tickets ALTER COLUMN search SET STATISTICS 1000")


def downgrade() -> None:
    op.execute("ALTER TABLE tickets ALTER COLUMN search SET STATISTICS -1")
