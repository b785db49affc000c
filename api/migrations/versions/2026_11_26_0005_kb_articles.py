"""Knowledge-base articles written by staff (internal or public), searchable by full text; their
passages join the AI triage knowledge base (``kb_passages``, source ``kb:<id>``).

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-26 12:00:00.000000+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

KB_ARTICLE_SEARCH_DOCUMENT = (
    "setweight(to_tsvector('english', coalesce(title, '')), 'A') || "
    "setweight(to_tsvector('english', coalesce(body, '')), 'B')"
)


def upgrade() -> None:
    op.create_table(
        "kb_articles",
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("visibility", sa.String(length=10), nullable=False),
        sa.Column("created_by", sa.UUID(), nullable=False),
        sa.Column("updated_by", sa.UUID(), nullable=False),
        sa.Column(
            "search",
            postgresql.TSVECTOR(),
            sa.Computed(KB_ARTICLE_SEARCH_DOCUMENT, persisted=True),
            nullable=False,
        ),
        sa.Column("id", sa.UUID(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column(
            "created_at",
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
        sa.CheckConstraint(
            "visibility IN ('internal', 'public')", name=op.f("ck_kb_articles_visibility")
        ),
        sa.ForeignKeyConstraint(
            ["created_by"], ["users.id"], name=op.f("fk_kb_articles_created_by_users")
        ),
        sa.ForeignKeyConstraint(
            ["updated_by"], ["users.id"], name=op.f("fk_kb_articles_updated_by_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_kb_articles")),
    )
    op.create_index("ix_kb_articles_search", "kb_articles", ["search"], postgresql_using="gin")
    op.create_index(
        "ix_kb_articles_updated",
        "kb_articles",
        [sa.text("updated_at DESC"), sa.text("id DESC")],
    )


def downgrade() -> None:
    # The articles' passages in the AI knowledge base go with them.
    op.execute("DELETE FROM kb_passages WHERE source LIKE 'kb:%'")
    op.drop_index("ix_kb_articles_updated", table_name="kb_articles")
    op.drop_index("ix_kb_articles_search", table_name="kb_articles", postgresql_using="gin")
    op.drop_table("kb_articles")
