"""The agent's workspace: canned replies, macros, saved views, ticket links and CCs, presence;
portal visibility per organization, a default team per service, merged tickets.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-02 12:33:54.086327+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "canned_replies",
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("scope", sa.String(length=10), nullable=False),
        sa.Column("owner_id", sa.UUID(), nullable=False),
        sa.Column("team_id", sa.UUID(), nullable=True),
        sa.Column("usage_count", sa.Integer(), server_default=sa.text("0"), nullable=False),
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
            "(scope = 'personal' AND team_id IS NULL) OR (scope = 'team' AND team_id IS NOT NULL) OR (scope = 'shared' AND team_id IS NULL)",
            name=op.f("ck_canned_replies_scope"),
        ),
        sa.ForeignKeyConstraint(
            ["owner_id"], ["users.id"], name=op.f("fk_canned_replies_owner_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["team_id"],
            ["teams.id"],
            name=op.f("fk_canned_replies_team_id_teams"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_canned_replies")),
    )
    op.create_index("ix_canned_replies_owner", "canned_replies", ["owner_id"], unique=False)
    op.create_table(
        "macros",
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("actions", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("scope", sa.String(length=10), nullable=False),
        sa.Column("owner_id", sa.UUID(), nullable=False),
        sa.Column("team_id", sa.UUID(), nullable=True),
        sa.Column("usage_count", sa.Integer(), server_default=sa.text("0"), nullable=False),
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
            "(scope = 'personal' AND team_id IS NULL) OR (scope = 'team' AND team_id IS NOT NULL) OR (scope = 'shared' AND team_id IS NULL)",
            name=op.f("ck_macros_scope"),
        ),
        sa.ForeignKeyConstraint(["owner_id"], ["users.id"], name=op.f("fk_macros_owner_id_users")),
        sa.ForeignKeyConstraint(
            ["team_id"], ["teams.id"], name=op.f("fk_macros_team_id_teams"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_macros")),
    )
    op.create_index("ix_macros_owner", "macros", ["owner_id"], unique=False)
    op.create_table(
        "saved_views",
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("filters", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("scope", sa.String(length=10), nullable=False),
        sa.Column("owner_id", sa.UUID(), nullable=True),
        sa.Column("team_id", sa.UUID(), nullable=True),
        sa.Column("position", sa.Integer(), server_default=sa.text("0"), nullable=False),
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
            "(scope = 'personal' AND team_id IS NULL) OR (scope = 'team' AND team_id IS NOT NULL) OR (scope = 'shared' AND team_id IS NULL)",
            name=op.f("ck_saved_views_scope"),
        ),
        sa.ForeignKeyConstraint(
            ["owner_id"], ["users.id"], name=op.f("fk_saved_views_owner_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["team_id"], ["teams.id"], name=op.f("fk_saved_views_team_id_teams"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_saved_views")),
    )
    op.create_index("ix_saved_views_owner", "saved_views", ["owner_id"], unique=False)
    op.create_table(
        "ticket_ccs",
        sa.Column("ticket_id", sa.UUID(), nullable=False),
        sa.Column("user_id", sa.UUID(), nullable=False),
        sa.Column("org_id", sa.UUID(), nullable=False),
        sa.Column("added_by", sa.UUID(), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["added_by"], ["users.id"], name=op.f("fk_ticket_ccs_added_by_users")
        ),
        sa.ForeignKeyConstraint(
            ["org_id"], ["organizations.id"], name=op.f("fk_ticket_ccs_org_id_organizations")
        ),
        sa.ForeignKeyConstraint(
            ["ticket_id", "org_id"],
            ["tickets.id", "tickets.org_id"],
            name="fk_ticket_ccs_ticket_org",
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_ticket_ccs_user_id_users")
        ),
        sa.PrimaryKeyConstraint("ticket_id", "user_id", name=op.f("pk_ticket_ccs")),
    )
    op.create_index("ix_ticket_ccs_user", "ticket_ccs", ["user_id"], unique=False)
    op.create_table(
        "ticket_links",
        sa.Column("ticket_a", sa.UUID(), nullable=False),
        sa.Column("ticket_b", sa.UUID(), nullable=False),
        sa.Column("created_by", sa.UUID(), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint("ticket_a < ticket_b", name=op.f("ck_ticket_links_ordered")),
        sa.ForeignKeyConstraint(
            ["created_by"], ["users.id"], name=op.f("fk_ticket_links_created_by_users")
        ),
        sa.ForeignKeyConstraint(
            ["ticket_a"],
            ["tickets.id"],
            name=op.f("fk_ticket_links_ticket_a_tickets"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["ticket_b"],
            ["tickets.id"],
            name=op.f("fk_ticket_links_ticket_b_tickets"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("ticket_a", "ticket_b", name=op.f("pk_ticket_links")),
    )
    op.create_index("ix_ticket_links_b", "ticket_links", ["ticket_b"], unique=False)
    op.create_table(
        "ticket_presence",
        sa.Column("ticket_id", sa.UUID(), nullable=False),
        sa.Column("user_id", sa.UUID(), nullable=False),
        sa.Column("state", sa.String(length=10), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "state IN ('viewing', 'replying')", name=op.f("ck_ticket_presence_state")
        ),
        sa.ForeignKeyConstraint(
            ["ticket_id"],
            ["tickets.id"],
            name=op.f("fk_ticket_presence_ticket_id_tickets"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_ticket_presence_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("ticket_id", "user_id", name=op.f("pk_ticket_presence")),
        prefixes=["UNLOGGED"],
    )
    op.create_index("ix_ticket_presence_expires", "ticket_presence", ["expires_at"], unique=False)
    op.add_column(
        "organizations",
        sa.Column(
            "portal_visibility", sa.String(length=12), server_default="organization", nullable=False
        ),
    )
    op.create_check_constraint(
        op.f("ck_organizations_portal_visibility"),
        "organizations",
        "portal_visibility IN ('own', 'organization')",
    )
    op.add_column("services", sa.Column("default_team_id", sa.UUID(), nullable=True))
    op.create_foreign_key(
        op.f("fk_services_default_team_id_teams"),
        "services",
        "teams",
        ["default_team_id"],
        ["id"],
        ondelete="SET NULL",
    )
    op.add_column("tickets", sa.Column("merged_into", sa.UUID(), nullable=True))
    op.create_foreign_key(
        op.f("fk_tickets_merged_into_tickets"), "tickets", "tickets", ["merged_into"], ["id"]
    )


def downgrade() -> None:
    op.drop_constraint(op.f("fk_tickets_merged_into_tickets"), "tickets", type_="foreignkey")
    op.drop_column("tickets", "merged_into")
    op.drop_constraint(op.f("fk_services_default_team_id_teams"), "services", type_="foreignkey")
    op.drop_column("services", "default_team_id")
    op.drop_constraint(op.f("ck_organizations_portal_visibility"), "organizations", type_="check")
    op.drop_column("organizations", "portal_visibility")
    op.drop_index("ix_ticket_presence_expires", table_name="ticket_presence")
    op.drop_table("ticket_presence")
    op.drop_index("ix_ticket_links_b", table_name="ticket_links")
    op.drop_table("ticket_links")
    op.drop_index("ix_ticket_ccs_user", table_name="ticket_ccs")
    op.drop_table("ticket_ccs")
    op.drop_index("ix_saved_views_owner", table_name="saved_views")
    op.drop_table("saved_views")
    op.drop_index("ix_macros_owner", table_name="macros")
    op.drop_table("macros")
    op.drop_index("ix_canned_replies_owner", table_name="canned_replies")
    op.drop_table("canned_replies")
