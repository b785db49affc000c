"""The audit trail's hash chains (app/services/audit_chain.py, docs/AUDIT_CHAIN.md): rows written
through the app are linked and hashed; ``atum-desk audit verify`` passes on an intact database and
names the first edited, deleted or reordered row; concurrent writers keep every chain intact; the
migration chains the rows that existed before it; the worker exports the heads.

Whatever tampers with rows (or commits many) does so in scratch databases of its own, copied from
a migrated template, so the shared test database stays a valid chain."""

from __future__ import annotations

import asyncio
import json
import os
import random
import sys
import uuid
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import asyncpg
import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, create_async_engine

from app import worker as worker_module
from app.config import get_settings
from app.db import migrations
from app.db.embedded import to_async_url
from app.services import audit, audit_chain, ratelimit
from app.services.audit_chain import GENESIS, canonical, chain_key, parse_json, row_hash
from app.worker import Worker

API = Path(__file__).resolve().parents[1]


# ---------------------------------------------------------------- helpers


async def connect(url: str) -> asyncpg.Connection:
    return await audit_chain.connect(url)


async def admin(server_url: str, statement: str) -> None:
    conn = await connect(server_url)
    try:
        await conn.execute(statement)
    finally:
        await conn.close()


def url_for(server_url: str, name: str) -> str:
    return make_url(server_url).set(database=name).render_as_string(hide_password=False)


async def create_database(server_url: str, template: str | None = None) -> str:
    name = f"atum_chain_{uuid.uuid4().hex[:12]}"
    suffix = f' TEMPLATE "{template}"' if template else ""
    await admin(server_url, f'CREATE DATABASE "{name}"{suffix}')
    return url_for(server_url, name)


async def drop_database(server_url: str, url: str) -> None:
    await admin(server_url, f'DROP DATABASE IF EXISTS "{make_url(url).database}" WITH (FORCE)')


def engine_for(url: str, pool_size: int = 5) -> AsyncEngine:
    return create_async_engine(to_async_url(url), pool_size=pool_size, max_overflow=0)


@dataclass(frozen=True)
class Result:
    code: int
    stdout: str
    stderr: str

    @property
    def last_line(self) -> str:
        lines = self.stdout.strip().splitlines()
        return lines[-1] if lines else ""


async def verify_cli(url: str, *args: str) -> Result:
    """``atum-desk audit verify`` (the CLI module the ./atum-desk wrapper execs) against *url*."""
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "app.cli",
        "audit",
        "verify",
        *args,
        cwd=API,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env={**os.environ, "ATUM_DATABASE_URL": url, "COLUMNS": "200"},
    )
    out, err = await asyncio.wait_for(proc.communicate(), timeout=120)
    assert proc.returncode is not None
    return Result(proc.returncode, out.decode(), err.decode())


async def verify_service(url: str) -> audit_chain.Verification:
    conn = await connect(url)
    try:
        return await audit_chain.verify(conn, chain_key(), fetch=7)  # small batches: many fetches
    finally:
        await conn.close()


def some_entry(i: int, **values: Any) -> dict[str, Any]:
    return audit.entry(
        actor=None,
        action=f"test.chain.{i}",
        entity_type="test",
        entity_id=uuid.uuid4(),
        old_value={"status": "NEW", "i": i} if i % 3 else None,
        new_value={"status": "OPEN", "i": i, **values},
    )


async def write_transactions(engine: AsyncEngine, count: int, per_transaction: int = 1) -> None:
    maker = AsyncSession(engine, expire_on_commit=False)
    async with maker as session:
        for t in range(count):
            async with session.begin():
                await audit.write(
                    session, *(some_entry(t * 10 + k) for k in range(per_transaction))
                )


async def tamper(url: str, *statements: str) -> None:
    """Superuser SQL around the append-only trigger, committed (the scratch database only)."""
    conn = await connect(url)
    try:
        async with conn.transaction():
            await conn.execute("ALTER TABLE audit_log DISABLE TRIGGER audit_log_no_update_delete")
            for statement in statements:
                await conn.execute(statement)
            await conn.execute("ALTER TABLE audit_log ENABLE TRIGGER audit_log_no_update_delete")
    finally:
        await conn.close()


async def rows_of(url: str) -> list[asyncpg.Record]:
    conn = await connect(url)
    try:
        return await conn.fetch("SELECT seq, id, chain, hash FROM audit_log ORDER BY seq")
    finally:
        await conn.close()


def by_chain(rows: list[asyncpg.Record]) -> dict[int, list[asyncpg.Record]]:
    chains: dict[int, list[asyncpg.Record]] = {}
    for r in rows:
        chains.setdefault(r["chain"], []).append(r)
    return chains


def longest_chain(rows: list[asyncpg.Record]) -> list[asyncpg.Record]:
    return max(by_chain(rows).values(), key=len)


def assert_broken(result: Result, row: Mapping[str, Any], reason: str) -> None:
    assert result.code == 1, result
    assert "Traceback" not in result.stderr, result.stderr
    line = result.stderr.strip().splitlines()[-1]
    assert f"seq {row['seq']} (id {row['id']})" in line, line
    assert reason in line, line
    assert not result.stdout.strip().endswith("rows"), result.stdout


# ---------------------------------------------------------------- scratch databases


@pytest.fixture(scope="module")
async def template(server_url: str) -> AsyncIterator[str]:
    """A migrated database with 40 chained rows written through the app (transactions of one,
    two and five entries, so chains hold several rows), used as a template."""
    url = await create_database(server_url)
    try:
        await asyncio.to_thread(migrations.upgrade, to_async_url(url))
        engine = engine_for(url)
        try:
            await write_transactions(engine, 10, 1)
            await write_transactions(engine, 5, 2)
            await write_transactions(engine, 4, 5)
        finally:
            await engine.dispose()
        yield make_url(url).database or ""
    finally:
        await drop_database(server_url, url)


@pytest.fixture
async def scratch(server_url: str, template: str) -> AsyncIterator[str]:
    url = await create_database(server_url, template)
    try:
        yield url
    finally:
        await drop_database(server_url, url)


# ---------------------------------------------------------------- canonical encoding


TRICKY = {
    "big": 1e20,
    "integral": 1.0,
    "negative zero": -0.0,
    "huge": 1.5e300,
    "tenth": 0.1,
    "tiny": 1.5e-7,
    "long int": 12345678901234567890123,
    "text": 'é ü \u2028 \U0001f600 "quoted" back\\slash',
    "nested": {"z": [1, 2.5, {"b": True, "a": None}], "a": (1, 2)},
    "when": datetime(2026, 12, 2, 9, 10, tzinfo=UTC),
    7: "integer key",
}


async def test_canonical_encoding_survives_a_jsonb_round_trip(database_url: str) -> None:
    conn = await connect(database_url)
    try:
        value = audit_chain.normalize(TRICKY)
        stored = audit_chain.dumps(value)
        back = await conn.fetchval("SELECT CAST($1 AS jsonb)::text", stored)
    finally:
        await conn.close()
    assert back != stored  # JSONB prints its own way (spaces, key order, 1.0, ...)
    assert audit_chain.dumps(parse_json(back)) == stored
    assert value["big"] == 10**20 and type(value["big"]) is int
    assert value["integral"] == 1 and type(value["integral"]) is int
    assert value["huge"] == 15 * 10**299  # the decimal JSONB keeps, not the binary float


def test_every_column_but_seq_and_hash_is_hashed() -> None:
    row: dict[str, Any] = {
        "id": uuid.uuid4(),
        "chain": 3,
        "actor_id": uuid.uuid4(),
        "org_id": uuid.uuid4(),
        "ticket_id": uuid.uuid4(),
        "action": "ticket.accepted",
        "entity_type": "ticket",
        "entity_id": uuid.uuid4(),
        "old_value": {"status": "NEW"},
        "new_value": {"status": "ACCEPTED"},
        "ip": "10.0.0.1",
        "request_id": "req-1",
        "created_at": datetime(2026, 12, 2, 9, 10, 0, 1, tzinfo=UTC),
        "prev_hash": bytes(range(32)),
    }
    assert set(row) == set(audit_chain.FIELDS)
    key = chain_key()
    base = row_hash(key, canonical(**row))
    changed = {
        "id": uuid.uuid4(),
        "chain": 4,
        "actor_id": None,
        "org_id": None,
        "ticket_id": None,
        "action": "ticket.closed",
        "entity_type": "comment",
        "entity_id": None,
        "old_value": None,
        "new_value": {"status": "CLOSED"},
        "ip": "10.0.0.2",
        "request_id": None,
        "created_at": row["created_at"] + timedelta(microseconds=1),
        "prev_hash": GENESIS,
    }
    for name, other in changed.items():
        assert row_hash(key, canonical(**{**row, name: other})) != base, name
    # The same instant in another time zone is the same row.
    moved = row["created_at"].astimezone(ZoneInfo("Europe/Berlin"))
    assert row_hash(key, canonical(**{**row, "created_at": moved})) == base
    assert row_hash(audit_chain.derive_key("another secret key"), canonical(**row)) != base


# ---------------------------------------------------------------- writes through the app


async def test_rows_written_through_the_app_are_linked_and_hashed(db: AsyncSession) -> None:
    heads_before = {
        r.chain: (r.seq, bytes(r.hash))
        for r in await db.execute(text("SELECT chain, seq, hash FROM audit_chain_heads"))
    }
    await audit.record(
        db,
        actor=None,
        action="test.chain.one",
        entity_type="test",
        entity_id=uuid.uuid4(),
        new_value=TRICKY,
    )
    await audit.write(db, some_entry(1), some_entry(2, note="two"))
    rows = (
        await db.execute(
            text(
                "SELECT seq, id, chain, actor_id, org_id, ticket_id, action, entity_type, "
                "entity_id, old_value::text AS old, new_value::text AS new, ip, request_id, "
                "created_at, prev_hash, hash FROM audit_log "
                "WHERE action IN ('test.chain.one', 'test.chain.1', 'test.chain.2') ORDER BY seq"
            )
        )
    ).all()
    assert [r.action for r in rows] == ["test.chain.one", "test.chain.1", "test.chain.2"]
    # One transaction, one chain: each row follows the one before it.
    assert len({r.chain for r in rows}) == 1
    chain = rows[0].chain
    assert bytes(rows[0].prev_hash) == heads_before[chain][1]
    assert rows[0].seq > heads_before[chain][0]
    key = chain_key()
    prev = heads_before[chain][1]
    for r in rows:
        assert bytes(r.prev_hash) == prev
        expected = row_hash(
            key,
            canonical(
                id=r.id,
                chain=r.chain,
                actor_id=r.actor_id,
                org_id=r.org_id,
                ticket_id=r.ticket_id,
                action=r.action,
                entity_type=r.entity_type,
                entity_id=r.entity_id,
                old_value=parse_json(r.old),
                new_value=parse_json(r.new),
                ip=r.ip,
                request_id=r.request_id,
                created_at=r.created_at,
                prev_hash=bytes(r.prev_hash),
            ),
        )
        assert bytes(r.hash) == expected
        prev = expected
    head = (
        await db.execute(
            text("SELECT seq, hash FROM audit_chain_heads WHERE chain = :c"), {"c": chain}
        )
    ).one()
    assert (head.seq, bytes(head.hash)) == (rows[-1].seq, prev)
    # created_at is set in Python (it is hashed), to the microsecond, in UTC.
    assert abs(rows[0].created_at - datetime.now(UTC)) < timedelta(minutes=1)
    # Later writes of the transaction stay on its chain (a second chain could deadlock).
    for _ in range(4):
        await audit.record(
            db, actor=None, action="test.chain.again", entity_type="test", entity_id=None
        )
    chains = await db.execute(
        text("SELECT DISTINCT chain FROM audit_log WHERE action = 'test.chain.again'")
    )
    assert chains.scalars().all() == [chain]


async def test_a_rolled_back_savepoint_gives_the_chain_back(db: AsyncSession) -> None:
    async with db.begin_nested() as nested:
        await audit.record(db, actor=None, action="test.undone", entity_type="test", entity_id=None)
        await nested.rollback()
    await audit.record(db, actor=None, action="test.kept", entity_type="test", entity_id=None)
    row = (
        await db.execute(
            text(
                "SELECT a.prev_hash, a.hash, h.hash AS head FROM audit_log a "
                "JOIN audit_chain_heads h USING (chain) WHERE a.action = 'test.kept'"
            )
        )
    ).one()
    assert bytes(row.head) == bytes(row.hash)
    assert (
        await db.execute(text("SELECT count(*) FROM audit_log WHERE action = 'test.undone'"))
    ).scalar_one() == 0


# ---------------------------------------------------------------- verify


async def test_verify_passes_on_an_intact_database(scratch: str) -> None:
    result = await verify_cli(scratch)
    assert result.code == 0, result
    assert result.last_line == "ok 40 rows", result.stdout
    service = await verify_service(scratch)
    assert service.ok and service.rows == 40, service.broken
    assert sum(service.chains.values()) == 40


async def test_an_edited_row_is_named(scratch: str) -> None:
    chain = longest_chain(await rows_of(scratch))
    victim = chain[len(chain) // 2]
    await tamper(
        scratch,
        """UPDATE audit_log SET new_value = '{"status": "CLOSED"}' """
        f"WHERE seq = {victim['seq']}",
    )
    assert_broken(await verify_cli(scratch), victim, "edited")


async def test_an_edited_hash_is_named(scratch: str) -> None:
    rows = await rows_of(scratch)
    victim = rows[5]
    await tamper(scratch, f"UPDATE audit_log SET hash = sha256(hash) WHERE seq = {victim['seq']}")
    assert_broken(await verify_cli(scratch), victim, "edited")


async def test_a_deleted_row_is_detected_at_its_successor(scratch: str) -> None:
    chain = longest_chain(await rows_of(scratch))
    gone, successor = chain[1], chain[2]
    await tamper(scratch, f"DELETE FROM audit_log WHERE seq = {gone['seq']}")
    result = await verify_cli(scratch)
    assert_broken(result, successor, "missing predecessor (deleted)")


async def test_a_deleted_first_row_is_detected(scratch: str) -> None:
    chain = longest_chain(await rows_of(scratch))
    await tamper(scratch, f"DELETE FROM audit_log WHERE seq = {chain[0]['seq']}")
    assert_broken(await verify_cli(scratch), chain[1], "missing predecessor (deleted)")


async def test_a_reordered_pair_is_detected(scratch: str) -> None:
    chain = longest_chain(await rows_of(scratch))
    first, second = chain[1], chain[2]
    a, b = first["seq"], second["seq"]
    await tamper(
        scratch,
        "ALTER TABLE audit_log ALTER COLUMN seq SET GENERATED BY DEFAULT",
        f"UPDATE audit_log SET seq = -1 WHERE seq = {a}",
        f"UPDATE audit_log SET seq = {a} WHERE seq = {b}",
        f"UPDATE audit_log SET seq = {b} WHERE seq = -1",
        "ALTER TABLE audit_log ALTER COLUMN seq SET GENERATED ALWAYS",
    )
    # The row now at the earlier position is the first that does not follow its predecessor.
    moved = {"seq": a, "id": second["id"]}
    assert_broken(await verify_cli(scratch), moved, "reordered")


async def test_a_truncated_tail_is_a_head_mismatch(scratch: str) -> None:
    chain = longest_chain(await rows_of(scratch))
    await tamper(scratch, f"DELETE FROM audit_log WHERE seq = {chain[-1]['seq']}")
    result = await verify_cli(scratch)
    assert result.code == 1, result
    line = result.stderr.strip().splitlines()[-1]
    assert "head mismatch" in line and f"seq {chain[-2]['seq']} (id {chain[-2]['id']})" in line


async def test_an_exported_heads_file_catches_a_tail_cut_with_its_head(
    scratch: str, tmp_path: Path
) -> None:
    """Deleting a chain's last row and setting its head back to the row before leaves a
    consistent database: only heads kept elsewhere (the worker's export) show it."""
    engine = engine_for(scratch)
    try:
        settings = get_settings().model_copy(update={"data_dir": tmp_path})
        await Worker(settings, engine).export_heads()
    finally:
        await engine.dispose()
    heads_file = tmp_path / "audit-heads"
    assert (await verify_cli(scratch, "--heads", str(heads_file))).code == 0

    chain = longest_chain(await rows_of(scratch))
    last, before = chain[-1], chain[-2]
    await tamper(
        scratch,
        f"DELETE FROM audit_log WHERE seq = {last['seq']}",
        f"UPDATE audit_chain_heads SET seq = {before['seq']}, "
        f"hash = '\\x{bytes(before['hash']).hex()}' WHERE chain = {last['chain']}",
    )
    assert (await verify_cli(scratch)).code == 0  # consistent on its own
    result = await verify_cli(scratch, "--heads", str(heads_file))
    assert result.code == 1, result
    assert "missing exported head" in result.stderr and f"seq {last['seq']}" in result.stderr


async def test_a_wrong_key_fails_at_the_first_row(scratch: str) -> None:
    result = await verify_cli(scratch)
    assert result.code == 0
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "app.cli",
        "audit",
        "verify",
        cwd=API,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env={**os.environ, "ATUM_DATABASE_URL": scratch, "ATUM_SECRET_KEY": "x" * 48},
    )
    _, err = await proc.communicate()
    assert proc.returncode == 1
    assert "edited" in err.decode() and "secret key" in err.decode()


# ---------------------------------------------------------------- concurrency


async def test_concurrent_writers_keep_every_chain_intact(scratch: str) -> None:
    """20 tasks x 20 transactions at once (some with two writes, some in autocommit like GET
    requests); the pool is as large as the number of tasks, so every chain is contended."""
    engine = engine_for(scratch, pool_size=20)
    autocommit = engine.execution_options(isolation_level="AUTOCOMMIT")
    rng = random.Random(5)

    async def task(t: int) -> None:
        for i in range(20):
            if t % 5 == 4:  # autocommit: the head lock ends with its statement
                async with AsyncSession(autocommit) as session:
                    await audit.write(session, some_entry(i))
                continue
            async with AsyncSession(engine) as session, session.begin():
                await audit.write(session, some_entry(i))
                await asyncio.sleep(rng.random() / 200)
                if i % 3 == 0:
                    await audit.write(session, some_entry(i, second=True), some_entry(i))

    try:
        await asyncio.gather(*(task(t) for t in range(20)))
    finally:
        await engine.dispose()
    result = await verify_service(scratch)
    assert result.ok, result.broken
    # 4 autocommit tasks x 20 rows; 16 transactional tasks x (20 + two more for i = 0, 3, .., 18)
    assert result.rows == 40 + 4 * 20 + 16 * (20 + 7 * 2)
    assert len(result.chains) > 4  # spread over the chains
    cli = await verify_cli(scratch)
    assert cli.code == 0 and cli.last_line == f"ok {result.rows} rows"


async def test_an_autocommit_write_holds_its_chain_until_the_insert(
    scratch: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """GET requests run in autocommit, where a lock ends with its statement: the write gives
    its two statements a transaction, so nobody can move the head between them."""
    seen: list[str] = []
    original = audit._head

    async def head(*args: Any) -> tuple[int, bytes]:
        chain, prev = await original(*args)
        other = await connect(scratch)
        try:
            with pytest.raises(asyncpg.LockNotAvailableError):
                await other.execute(
                    "SELECT 1 FROM audit_chain_heads WHERE chain = $1 FOR UPDATE NOWAIT", chain
                )
            seen.append("locked")
        finally:
            await other.close()
        return chain, prev

    monkeypatch.setattr(audit, "_head", head)
    engine = engine_for(scratch)
    try:
        autocommit = engine.execution_options(isolation_level="AUTOCOMMIT")
        async with AsyncSession(autocommit) as session:
            await audit.write(session, some_entry(1))
            await audit.write(session, some_entry(2), some_entry(3))
    finally:
        await engine.dispose()
    assert seen == ["locked", "locked"]
    assert (await verify_service(scratch)).rows == 43


# ---------------------------------------------------------------- migration


async def test_the_migration_chains_existing_rows(server_url: str) -> None:
    url = await create_database(server_url)
    try:
        await asyncio.to_thread(migrations.upgrade, to_async_url(url), "0008")
        conn = await connect(url)
        try:
            org = await conn.fetchval(
                "INSERT INTO organizations (name) VALUES ('Old') RETURNING id"
            )
            values = [None, '{"a": 1.0, "b": 1e20, "c": "é", "d": [0.1, {"z": 1, "y": 2}]}']
            for i in range(25):
                await conn.execute(
                    "INSERT INTO audit_log (action, entity_type, entity_id, org_id, old_value, "
                    "new_value, ip, request_id) VALUES ($1, 'test', $2, $3, $4::jsonb, "
                    "$5::jsonb, $6, $7)",
                    f"old.{i}",
                    uuid.uuid4() if i % 2 else None,
                    org if i % 3 else None,
                    values[i % 2],
                    json.dumps({"i": i, "half": i / 2}),
                    "10.1.2.3" if i % 4 else None,
                    f"req-{i}",
                )
        finally:
            await conn.close()
        await asyncio.to_thread(migrations.upgrade, to_async_url(url), "0009")

        result = await verify_service(url)
        assert result.ok, result.broken
        assert result.rows == 25 and result.chains == {0: 25}
        rows = await rows_of(url)
        heads = {h.chain: h for h in result.heads}
        assert len(heads) == 16
        assert (heads[0].seq, heads[0].hash) == (rows[-1]["seq"], bytes(rows[-1]["hash"]))
        assert all((h.seq, h.hash) == (0, GENESIS) for c, h in heads.items() if c)
        conn = await connect(url)
        try:  # the trigger is back on
            with pytest.raises(asyncpg.InsufficientPrivilegeError, match="append-only"):
                await conn.execute("UPDATE audit_log SET action = 'x'")
        finally:
            await conn.close()

        # The app continues the chains.
        engine = engine_for(url)
        try:
            await write_transactions(engine, 5, 2)
        finally:
            await engine.dispose()
        cli = await verify_cli(url)
        assert cli.code == 0 and cli.last_line == "ok 35 rows", cli

        await asyncio.to_thread(migrations.downgrade, to_async_url(url), "0008")
        conn = await connect(url)
        try:
            columns = await conn.fetch(
                "SELECT column_name FROM information_schema.columns "
                "WHERE table_name = 'audit_log' AND column_name IN ('chain', 'prev_hash', 'hash')"
            )
            assert columns == []
            assert await conn.fetchval("SELECT count(*) FROM audit_log") == 35
        finally:
            await conn.close()
    finally:
        await drop_database(server_url, url)


async def test_the_migration_on_an_empty_table(server_url: str, template: str) -> None:
    url = url_for(server_url, template)
    conn = await connect(url)
    try:
        nullable = await conn.fetch(
            "SELECT column_name, is_nullable FROM information_schema.columns "
            "WHERE table_name = 'audit_log' AND column_name IN ('chain', 'prev_hash', 'hash')"
        )
    finally:
        await conn.close()
    assert {r["column_name"]: r["is_nullable"] for r in nullable} == {
        "chain": "NO",
        "prev_hash": "NO",
        "hash": "NO",
    }


# ---------------------------------------------------------------- worker


class Recorder:
    def __init__(self) -> None:
        self.events: list[dict[str, Any]] = []

    def info(self, event: str, **fields: Any) -> None:
        self.events.append({"event": event, **fields})


async def test_the_worker_exports_the_heads(
    database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = get_settings().model_copy(update={"data_dir": tmp_path / "data"})
    worker = Worker(settings)
    recorder = Recorder()
    monkeypatch.setattr(worker_module, "log", recorder)
    first = await worker.export_heads(datetime(2026, 12, 2, 10, 0, tzinfo=UTC))
    await worker.export_heads(datetime(2026, 12, 2, 10, 15, tzinfo=UTC))
    logs = recorder.events
    conn = await connect(database_url)
    try:
        stored = await audit_chain.read_heads(conn)
    finally:
        await conn.close()
    assert len(first) == 16
    exported = [h.as_json() for h in stored]
    events = [e for e in logs if e["event"] == "audit.chain_head"]
    assert len(events) == 2 and events[0]["chains"] == [h.as_json() for h in first]
    lines = (tmp_path / "data" / "audit-heads").read_text().splitlines()
    assert len(lines) == 2
    assert json.loads(lines[0]) == {"time": "2026-12-02T10:00:00.000000Z", "chains": exported}
    assert json.loads(lines[1])["time"] == "2026-12-02T10:15:00.000000Z"
    assert {h["chain"]: h for h in exported}[0]["hash"] == stored[0].hash.hex()


async def test_the_worker_prunes_expired_rate_limit_counters(database_url: str) -> None:
    prefix = f"test:prune:{uuid.uuid4().hex[:8]}"
    age = ratelimit.prune_age(get_settings().login_window_seconds)
    conn = await connect(database_url)
    try:
        await conn.executemany(
            "INSERT INTO rate_limit_counters (key, window_started_at, hits) "
            "VALUES ($1, now() - make_interval(secs => $2), 1)",
            [
                (f"{prefix}:old:1", age + 60.0),
                (f"{prefix}:old:2", 3 * 86400.0),
                (f"{prefix}:old:3", age + 1.0),
                (f"{prefix}:recent", 3600.0),
                (f"{prefix}:now", 0.0),
            ],
        )
        assert age >= 86400 and age >= get_settings().login_window_seconds
        # Bounded: at most `limit` rows per statement.
        engine = engine_for(database_url)
        try:
            async with engine.begin() as c:
                assert await ratelimit.prune(c, age, limit=1) == 1
        finally:
            await engine.dispose()
        await Worker(get_settings()).prune_rate_limits()
        left = await conn.fetch(
            "SELECT key FROM rate_limit_counters WHERE key LIKE $1 ORDER BY key", f"{prefix}:%"
        )
        assert [r["key"] for r in left] == [f"{prefix}:now", f"{prefix}:recent"]
    finally:
        await conn.execute("DELETE FROM rate_limit_counters WHERE key LIKE $1", f"{prefix}:%")
        await conn.close()
