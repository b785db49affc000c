"""Audit hash chains: every audit_log row gets its chain, the hash of the row before it on that
chain and its own HMAC-SHA256 (app/services/audit_chain.py, docs/AUDIT_CHAIN.md); the chains'
heads live in audit_chain_heads (16 chains, seq 0 and 32 zero bytes while empty);
audit_chain_advanced() refuses a write whose head moved underneath it. The rows that exist already
are chained here, in seq order, on chain 0, with the key derived from the application secret key
(computed in Python: the key never reaches the database). audit_log refuses UPDATE, so its row
trigger is disabled for this migration only (transactional DDL: a failed migration leaves it on).

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-02 12:00:00+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from app.services.audit_chain import GENESIS, canonical, chain_key, parse_json, row_hash

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

CHAINS = 16
BATCH = 5_000
EXISTING_CHAIN = 0

_ROWS = sa.text(
    """
    SELECT seq, id, actor_id, org_id, ticket_id, action, entity_type, entity_id,
        old_value::text AS old_value, new_value::text AS new_value, ip, request_id, created_at
    FROM audit_log WHERE seq > :after ORDER BY seq LIMIT :batch
    """
)
_SET = sa.text(
    """
    UPDATE audit_log AS a SET chain = :chain, prev_hash = v.prev_hash, hash = v.hash
    FROM unnest(CAST(:ids AS uuid[]), CAST(:prev AS bytea[]), CAST(:hashes AS bytea[]))
        AS v(id, prev_hash, hash)
    WHERE a.id = v.id
    """
)


def upgrade() -> None:
    op.add_column("audit_log", sa.Column("chain", sa.SmallInteger(), nullable=True))
    op.add_column("audit_log", sa.Column("prev_hash", sa.LargeBinary(), nullable=True))
    op.add_column("audit_log", sa.Column("hash", sa.LargeBinary(), nullable=True))
    op.create_table(
        "audit_chain_heads",
        sa.Column("chain", sa.SmallInteger(), autoincrement=False, nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.Column("hash", sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint("chain", name=op.f("pk_audit_chain_heads")),
    )
    op.execute(
        """
        CREATE FUNCTION audit_chain_advanced(moved bigint) RETURNS bigint LANGUAGE plpgsql AS $$
        BEGIN
            IF moved <> 1 THEN
                RAISE EXCEPTION 'audit chain head moved underneath the write'
                    USING ERRCODE = 'serialization_failure';
            END IF;
            RETURN moved;
        END;
        $$
        """
    )
    bind = op.get_bind()
    heads = dict.fromkeys(range(CHAINS), (0, GENESIS))
    if bind.execute(sa.text("SELECT EXISTS (SELECT 1 FROM audit_log)")).scalar():
        heads[EXISTING_CHAIN] = _chain_existing(bind)
    op.bulk_insert(
        sa.table(
            "audit_chain_heads",
            sa.column("chain", sa.SmallInteger),
            sa.column("seq", sa.BigInteger),
            sa.column("hash", sa.LargeBinary),
        ),
        [{"chain": c, "seq": seq, "hash": digest} for c, (seq, digest) in heads.items()],
    )
    op.alter_column("audit_log", "chain", nullable=False)
    op.alter_column("audit_log", "prev_hash", nullable=False)
    op.alter_column("audit_log", "hash", nullable=False)
    op.create_index("ix_audit_log_chain_seq", "audit_log", ["chain", "seq"], unique=False)


def _chain_existing(bind: sa.Connection) -> tuple[int, bytes]:
    """Chain every existing row, in seq order, on EXISTING_CHAIN; returns the chain's head."""
    key = chain_key()
    op.execute("ALTER TABLE audit_log DISABLE TRIGGER audit_log_no_update_delete")
    after, prev = 0, GENESIS
    while True:
        rows = bind.execute(_ROWS, {"after": after, "batch": BATCH}).mappings().all()
        if not rows:
            break
        ids, prevs, hashes = [], [], []
        for r in rows:
            digest = row_hash(
                key,
                canonical(
                    id=r["id"],
                    chain=EXISTING_CHAIN,
                    actor_id=r["actor_id"],
                    org_id=r["org_id"],
                    ticket_id=r["ticket_id"],
                    action=r["action"],
                    entity_type=r["entity_type"],
                    entity_id=r["entity_id"],
                    old_value=parse_json(r["old_value"]),
                    new_value=parse_json(r["new_value"]),
                    ip=r["ip"],
                    request_id=r["request_id"],
                    created_at=r["created_at"],
                    prev_hash=prev,
                ),
            )
            ids.append(r["id"])
            prevs.append(prev)
            hashes.append(digest)
            prev = digest
        bind.execute(_SET, {"chain": EXISTING_CHAIN, "ids": ids, "prev": prevs, "hashes": hashes})
        after = rows[-1]["seq"]
    op.execute("ALTER TABLE audit_log ENABLE TRIGGER audit_log_no_update_delete")
    return after, prev


def downgrade() -> None:
    op.drop_index("ix_audit_log_chain_seq", table_name="audit_log")
    op.execute("DROP FUNCTION audit_chain_advanced(bigint)")
    op.drop_table("audit_chain_heads")
    # Dropping columns is no UPDATE: the append-only trigger does not fire.
    op.drop_column("audit_log", "hash")
    op.drop_column("audit_log", "prev_hash")
    op.drop_column("audit_log", "chain")
