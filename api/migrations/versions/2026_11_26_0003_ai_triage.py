"""Local AI triage (advisory): job queue, latest suggestion per ticket, ticket embeddings and the
knowledge-base passages. Embeddings are portable ``real[]``; the pgvector extension is created
only where the server offers it (and the migrating role may create it), and is then used for the
distance computations.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-26 09:40:00.000000+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

KB_SEARCH_DOCUMENT = (
    "setweight(to_tsvector('english', coalesce(title, '')), 'A') || "
    "setweight(to_tsvector('english', coalesce(body, '')), 'B')"
)

CREATE_VECTOR = """
DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM pg_available_extensions WHERE name = 'vector') THEN
        BEGIN
            CREATE EXTENSION IF NOT EXISTS vector;
        EXCEPTION WHEN insufficient_privilege THEN
            RAISE NOTICE 'pgvector is available but may not be created by this role';
        END;
    END IF;
END
$$
"""


def _created_at() -> sa.Column[object]:
    return sa.Column(
        "created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False
    )


def upgrade() -> None:
    op.execute(CREATE_VECTOR)
    op.create_table(
        "ai_jobs",
        sa.Column("ticket_id", sa.UUID(), nullable=False),
        sa.Column("reason", sa.String(length=10), nullable=False),
        sa.Column("status", sa.String(length=10), server_default="pending", nullable=False),
        sa.Column("attempts", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column(
            "run_after", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False
        ),
        sa.Column("lease_token", sa.UUID(), nullable=True),
        sa.Column("lease_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("id", sa.UUID(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        _created_at(),
        sa.CheckConstraint(
            "status IN ('pending', 'running', 'done', 'failed')", name=op.f("ck_ai_jobs_status")
        ),
        sa.CheckConstraint("reason IN ('created', 'comment')", name=op.f("ck_ai_jobs_reason")),
        sa.ForeignKeyConstraint(
            ["ticket_id"],
            ["tickets.id"],
            name=op.f("fk_ai_jobs_ticket_id_tickets"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ai_jobs")),
    )
    op.create_index(
        "ix_ai_jobs_due",
        "ai_jobs",
        ["run_after"],
        postgresql_where=sa.text("status IN ('pending', 'running')"),
    )
    op.create_index(
        "uq_ai_jobs_pending_ticket",
        "ai_jobs",
        ["ticket_id"],
        unique=True,
        postgresql_where=sa.text("status = 'pending'"),
    )
    op.create_index("ix_ai_jobs_ticket_created", "ai_jobs", ["ticket_id", "created_at"])

    op.create_table(
        "ai_suggestions",
        sa.Column("ticket_id", sa.UUID(), nullable=False),
        sa.Column("engine", sa.String(length=10), nullable=False),
        sa.Column("model", sa.String(length=200), nullable=True),
        sa.Column("summary", sa.Text(), nullable=False),
        sa.Column("category", sa.String(length=100), nullable=True),
        sa.Column("category_confidence", sa.Float(), nullable=True),
        sa.Column("priority", sa.String(length=2), nullable=True),
        sa.Column("priority_confidence", sa.Float(), nullable=True),
        sa.Column(
            "similar",
            postgresql.JSONB(astext_type=sa.Text()),
            server_default=sa.text("'[]'::jsonb"),
            nullable=False,
        ),
        sa.Column(
            "kb",
            postgresql.JSONB(astext_type=sa.Text()),
            server_default=sa.text("'[]'::jsonb"),
            nullable=False,
        ),
        sa.Column("reply", sa.Text(), nullable=True),
        sa.Column("generated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "engine IN ('lexical', 'ollama')", name=op.f("ck_ai_suggestions_engine")
        ),
        sa.ForeignKeyConstraint(
            ["ticket_id"],
            ["tickets.id"],
            name=op.f("fk_ai_suggestions_ticket_id_tickets"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("ticket_id", name=op.f("pk_ai_suggestions")),
    )

    op.create_table(
        "ticket_embeddings",
        sa.Column("ticket_id", sa.UUID(), nullable=False),
        sa.Column("model", sa.String(length=200), nullable=False),
        sa.Column("content_hash", sa.String(length=64), nullable=False),
        sa.Column("embedding", postgresql.ARRAY(sa.REAL()), nullable=False),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["ticket_id"],
            ["tickets.id"],
            name=op.f("fk_ticket_embeddings_ticket_id_tickets"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("ticket_id", name=op.f("pk_ticket_embeddings")),
    )

    op.create_table(
        "kb_passages",
        sa.Column("source", sa.String(length=300), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=300), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("file_hash", sa.String(length=64), nullable=False),
        sa.Column("embed_model", sa.String(length=200), nullable=True),
        sa.Column("embedding", postgresql.ARRAY(sa.REAL()), nullable=True),
        sa.Column(
            "search",
            postgresql.TSVECTOR(),
            sa.Computed(KB_SEARCH_DOCUMENT, persisted=True),
            nullable=False,
        ),
        sa.Column("id", sa.UUID(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        _created_at(),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_kb_passages")),
        sa.UniqueConstraint("source", "position", name="uq_kb_passages_source_position"),
    )
    op.create_index("ix_kb_passages_search", "kb_passages", ["search"], postgresql_using="gin")


def downgrade() -> None:
    op.drop_index("ix_kb_passages_search", table_name="kb_passages", postgresql_using="gin")
    op.drop_table("kb_passages")
    op.drop_table("ticket_embeddings")
    op.drop_table("ai_suggestions")
    op.drop_index("ix_ai_jobs_ticket_created", table_name="ai_jobs")
    op.drop_index(
        "uq_ai_jobs_pending_ticket",
        table_name="ai_jobs",
        postgresql_where=sa.text("status = 'pending'"),
    )
    op.drop_index(
        "ix_ai_jobs_due",
        table_name="ai_jobs",
        postgresql_where=sa.text("status IN ('pending', 'running')"),
    )
    op.drop_table("ai_jobs")
    op.execute("DROP EXTENSION IF EXISTS vector")
