"""The one way anything is written to the audit trail.

Entries are inserted in the caller's transaction, so an action and its audit entry commit together
or not at all. The request id and client address come from the request context.

Every entry is linked into a hash chain (app/services/audit_chain.py, docs/AUDIT_CHAIN.md): a
write takes the head of a chain (one row of ``audit_chain_heads``, locked until the transaction
ends: any chain no other transaction holds, the one this transaction already holds if it has one),
computes each entry's ``prev_hash`` and ``hash`` here in Python (the key never reaches the
database), and inserts the entries and moves the head in one statement. Two statements per write.

Entries about a ticket also become live-update events (app/services/live.py ``EVENTS_CTE``, in
the same insert statement), so every ticket change reaches the open streams from here.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Any

import asyncpg
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.deps import CurrentUser
from app.context import client_ip_var, request_id_var, statement_count_var
from app.services import live
from app.services.audit_chain import chain_key, dumps, link, normalize

Jsonable = dict[str, Any]


def _jsonable(value: Any) -> Any:
    return normalize(value)


def entry(
    *,
    actor: CurrentUser | uuid.UUID | None,
    action: str,
    entity_type: str,
    entity_id: uuid.UUID | None,
    org_id: uuid.UUID | None = None,
    ticket_id: uuid.UUID | None = None,
    old_value: Jsonable | None = None,
    new_value: Jsonable | None = None,
) -> dict[str, Any]:
    """One audit row (not yet written): for ``write``, when a command records several."""
    return {
        "id": uuid.uuid4(),
        "actor_id": actor.id if isinstance(actor, CurrentUser) else actor,
        "action": action,
        "entity_type": entity_type,
        "entity_id": entity_id,
        "org_id": org_id,
        "ticket_id": ticket_id,
        "old_value": _jsonable(old_value) if old_value is not None else None,
        "new_value": _jsonable(new_value) if new_value is not None else None,
        "ip": client_ip_var.get(),
        "request_id": request_id_var.get(),
    }


# The statements go to the driver (asyncpg) directly, on the session's connection and within its
# transaction: this runs once per audited command and the ORM layer around two statements cost more
# than the database work (measured). They are counted like the session's own statements.
# Any chain no other transaction holds (READ COMMITTED: FOR UPDATE returns the newest committed
# head); random order, so that concurrent writers do not all try the same row first.
_FREE_HEAD = (
    "SELECT chain, seq, hash FROM audit_chain_heads ORDER BY random() LIMIT 1 "
    "FOR UPDATE SKIP LOCKED"
)
# All chains busy: wait for one of them.
_ANY_HEAD = "SELECT chain, seq, hash FROM audit_chain_heads ORDER BY random() LIMIT 1 FOR UPDATE"
# The chain this transaction already holds (locked again: a rolled-back savepoint releases it).
_HELD_HEAD = "SELECT chain, seq, hash FROM audit_chain_heads WHERE chain = $1 FOR UPDATE"
# The rows and the head's move in one statement. The head only moves from the hash the rows were
# chained to (always so while this transaction holds it); otherwise audit_chain_advanced() raises
# serialization_failure and nothing is written: a chain never forks, whatever the caller did.
_ROWS_AND_HEAD = """
    WITH ins AS (
        INSERT INTO audit_log (id, chain, actor_id, org_id, ticket_id, action, entity_type,
            entity_id, old_value, new_value, ip, request_id, created_at, prev_hash, hash)
        SELECT r.id, $1::smallint, r.actor_id, r.org_id, r.ticket_id, r.action, r.entity_type,
            r.entity_id, r.old_value, r.new_value, r.ip, r.request_id, r.created_at,
            r.prev_hash, r.hash
        FROM unnest($2::uuid[], $3::uuid[], $4::uuid[], $5::uuid[], $6::varchar[],
            $7::varchar[], $8::uuid[], $9::jsonb[], $10::jsonb[], $11::varchar[],
            $12::varchar[], $13::timestamptz[], $14::bytea[], $15::bytea[])
            AS r(id, actor_id, org_id, ticket_id, action, entity_type, entity_id, old_value,
                 new_value, ip, request_id, created_at, prev_hash, hash)
        RETURNING seq
    ), head AS (
        UPDATE audit_chain_heads SET seq = (SELECT max(seq) FROM ins), hash = $16
        WHERE chain = $1::smallint AND hash = $17
        RETURNING chain
    )"""
_SELECT_ADVANCED = "\n    SELECT audit_chain_advanced(count(*)) FROM head\n"
_INSERT = _ROWS_AND_HEAD + _SELECT_ADVANCED
# The same, with the rows' live events (services/live.py ``event_columns``: one ``live_events`` row
# each, announced by the NOTIFYs the selected count makes run, delivered at commit): a ticket
# change's events cost no statement of their own.
_EVENTS = """, events AS (
        INSERT INTO live_events (ticket_id, org_id, kind, staff_only)
        SELECT * FROM unnest($18::uuid[], $19::uuid[], $20::varchar[], $21::boolean[])
        RETURNING id, ticket_id, org_id, kind, staff_only
    )
    SELECT audit_chain_advanced((SELECT count(*) FROM head)),
        (SELECT count(pg_notify('atum_live',
            json_build_array(id, ticket_id, org_id, kind, staff_only)::text)) FROM events)
"""
_INSERT_WITH_EVENTS = _ROWS_AND_HEAD + _EVENTS
_COLUMNS = (
    "id",
    "actor_id",
    "org_id",
    "ticket_id",
    "action",
    "entity_type",
    "entity_id",
    "old_value",
    "new_value",
    "ip",
    "request_id",
    "created_at",
    "prev_hash",
    "hash",
)
_HELD = "audit_chain_held"


def _counted(statements: int) -> None:
    counter = statement_count_var.get()
    if counter is not None:
        counter[0] += statements


async def _head(
    session: AsyncSession, driver: asyncpg.Connection, transaction: object | None
) -> tuple[int, bytes]:
    """Lock the head of a chain until *transaction* ends: the one it already holds, else a free
    one, else wait for any."""
    held = session.info.get(_HELD)
    if transaction is not None and held is not None and held[0] is transaction:
        row = await driver.fetchrow(_HELD_HEAD, held[1])
    else:
        row = await driver.fetchrow(_FREE_HEAD)
        if row is None:
            _counted(1)
            row = await driver.fetchrow(_ANY_HEAD)
        assert row is not None
        # Remembered per root transaction (the connection's, which outlives savepoints and a
        # session joined to an outer transaction), so one transaction never holds two chains:
        # two transactions each holding one and waiting for the other's would deadlock.
        session.info[_HELD] = (transaction, row["chain"])
    assert row is not None
    return int(row["chain"]), bytes(row["hash"])


async def _link_and_insert(
    session: AsyncSession,
    driver: asyncpg.Connection,
    transaction: object | None,
    rows: list[dict[str, Any]],
) -> None:
    chain, prev = await _head(session, driver, transaction)
    head = link(chain_key(), chain, prev, rows)
    column = {c: [r[c] for r in rows] for c in _COLUMNS}
    column["old_value"] = [None if v is None else dumps(v) for v in column["old_value"]]
    column["new_value"] = [None if v is None else dumps(v) for v in column["new_value"]]
    _counted(2)
    values = [chain, *(column[c] for c in _COLUMNS), head, prev]
    # The live-update events of these rows (ticket changes), in the same statement.
    events = live.event_columns(rows)
    if events:
        await driver.fetchval(_INSERT_WITH_EVENTS, *values, *events)
    else:
        await driver.fetchval(_INSERT, *values)
    _counted(await live.check_sessions(driver, rows))


_HOLDING = "audit_holding"


class Held:
    """The entries written while ``held`` is open: kept in order, in memory, until it closes."""

    def __init__(self) -> None:
        self.rows: list[dict[str, Any]] = []

    def mark(self) -> int:
        """Where the entries stand now (for ``discard``)."""
        return len(self.rows)

    def discard(self, mark: int) -> None:
        """Forget the entries written since *mark*: the caller rolled their changes back."""
        del self.rows[mark:]


@asynccontextmanager
async def held(session: AsyncSession) -> AsyncIterator[Held]:
    """Every entry written on *session* inside the block is held back and written, in order, in
    one chain link and one statement when the block ends without an error (nothing when it
    raises: the transaction is failing anyway). For a command that audits many changes in one
    transaction (a bulk action: two statements per ticket otherwise). Changes the caller undoes
    inside (a rolled-back savepoint) must be dropped with ``Held.discard``."""
    if _HOLDING in session.info:
        raise RuntimeError("audit entries are held already")
    holding = session.info[_HOLDING] = Held()
    try:
        yield holding
    finally:
        del session.info[_HOLDING]
    await _insert(session, holding.rows)


async def write(session: AsyncSession, *entries: dict[str, Any]) -> None:
    """Insert the entries, in the given order, linked into a hash chain: two statements (lock a
    chain head, then insert the rows and move the head); inside ``held``, none until it ends."""
    if not entries:
        return
    now = datetime.now(UTC)
    rows = []
    for given in entries:
        row = dict(given)
        row["old_value"] = normalize(row.get("old_value"))
        row["new_value"] = normalize(row.get("new_value"))
        row.setdefault("created_at", now)
        for column in ("actor_id", "org_id", "ticket_id", "entity_id", "ip", "request_id"):
            row.setdefault(column, None)
        rows.append(row)
    holding = session.info.get(_HOLDING)
    if holding is not None:
        holding.rows.extend(rows)
        return
    await _insert(session, rows)


async def _insert(session: AsyncSession, rows: list[dict[str, Any]]) -> None:
    if not rows:
        return
    if session.autoflush:
        await session.flush()  # as session.execute() would: the rows may refer to new objects
    sync = (await session.connection()).sync_connection
    assert sync is not None
    pooled = sync.connection
    driver = pooled.driver_connection
    assert isinstance(driver, asyncpg.Connection)
    if getattr(pooled.dbapi_connection, "autocommit", False):
        # No transaction (GET requests read in autocommit): the head's lock would end with its
        # own statement and another writer could move the head before the insert. The two
        # statements get a transaction of their own.
        async with driver.transaction():
            await _link_and_insert(session, driver, None, rows)
        return
    if not driver.is_in_transaction():
        # SQLAlchemy sends BEGIN with the transaction's first statement: let it.
        await session.execute(_BEGUN)
    await _link_and_insert(session, driver, sync.get_transaction(), rows)


_BEGUN = text("SELECT 1")


async def record(
    session: AsyncSession,
    *,
    actor: CurrentUser | uuid.UUID | None,
    action: str,
    entity_type: str,
    entity_id: uuid.UUID | None,
    org_id: uuid.UUID | None = None,
    ticket_id: uuid.UUID | None = None,
    old_value: Jsonable | None = None,
    new_value: Jsonable | None = None,
) -> None:
    await write(
        session,
        entry(
            actor=actor,
            action=action,
            entity_type=entity_type,
            entity_id=entity_id,
            org_id=org_id,
            ticket_id=ticket_id,
            old_value=old_value,
            new_value=new_value,
        ),
    )


def changes(before: Jsonable, after: Jsonable) -> tuple[Jsonable, Jsonable]:
    """The (old, new) pair restricted to the keys whose value changed."""
    keys = [k for k in after if before.get(k) != after[k]]
    return {k: before.get(k) for k in keys}, {k: after[k] for k in keys}
