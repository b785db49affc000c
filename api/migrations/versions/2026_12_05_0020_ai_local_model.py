"""AI triage round 2: the local engine's name, how each suggested value was chosen, the
trained classifiers (versioned per field), and the index of the exact search's pool.

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-05 00:00:00.000000+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0020"
down_revision: str | None = "0019"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_METHODS = "('classifier', 'neighbours', 'llm')"


def upgrade() -> None:
    op.drop_constraint(op.f("ck_ai_suggestions_engine"), "ai_suggestions", type_="check")
    op.create_check_constraint(
        op.f("ck_ai_suggestions_engine"),
        "ai_suggestions",
        "engine IN ('local', 'lexical', 'ollama')",
    )
    for name in ("category", "priority"):
        op.add_column("ai_suggestions", sa.Column(f"{name}_method", sa.String(12), nullable=True))
        op.add_column("ai_suggestions", sa.Column(f"{name}_model", sa.Integer(), nullable=True))
        op.create_check_constraint(
            op.f(f"ck_ai_suggestions_{name}_method"),
            "ai_suggestions",
            f"{name}_method IN {_METHODS}",
        )
    op.create_table(
        "ai_models",
        sa.Column("id", sa.UUID(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column("field", sa.String(10), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("embed_model", sa.String(200), nullable=False),
        sa.Column("labels", sa.Integer(), nullable=False),
        sa.Column("classes", postgresql.JSONB(), nullable=False),
        sa.Column("params", sa.LargeBinary(), nullable=False),
        sa.Column("metrics", postgresql.JSONB(), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint("field IN ('category', 'priority')", name=op.f("ck_ai_models_field")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ai_models")),
        sa.UniqueConstraint("field", "version", name="uq_ai_models_field_version"),
    )
    op.create_index(
        "ix_ticket_embeddings_model_updated", "ticket_embeddings", ["model", "updated_at"]
    )


def downgrade() -> None:
    op.drop_index("ix_ticket_embeddings_model_updated", table_name="ticket_embeddings")
    op.drop_table("ai_models")
    op.execute("DELETE FROM ai_suggestions WHERE engine = 'local'")
    for name in ("category", "priority"):
        op.drop_constraint(
            op.f(f"ck_ai_suggestions_{name}_method"), "ai_suggestions", type_="check"
        )
        op.drop_column("ai_suggestions", f"{name}_model")
        op.drop_column("ai_suggestions", f"{name}_method")
    op.drop_constraint(op.f("ck_ai_suggestions_engine"), "ai_suggestions", type_="check")
    op.create_check_constraint(
        op.f("ck_ai_suggestions_engine"), "ai_suggestions", "engine IN ('lexical', 'ollama')"
    )
