"""What the benchmark scripts share: paths, the bench database on the configured or embedded
PostgreSQL server, and the sizes a BENCH_SCALE stands for."""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
API = REPO / "api"
# Where the report goes (BENCH_RESULTS to write a trial run elsewhere).
RESULTS = Path(os.environ.get("BENCH_RESULTS") or BENCH / "results").resolve()
sys.path.insert(0, str(API))

# BENCH_DATABASE: another name, so that a run (the smoke test of `make test`) leaves others alone.
DATABASE = os.environ.get("BENCH_DATABASE", "").strip() or "atum_bench"
FULL_TICKETS = 1_000_000
# One million tickets is three years of a busy desk: the same daily volume at every scale, so a
# smaller data set is a shorter history with the same open backlog, not a quieter desk.
TICKETS_PER_DAY = FULL_TICKETS / (3 * 365)


@dataclass(frozen=True)
class Sizes:
    scale: float
    orgs: int = 100
    staff: int = 50
    customers: int = 2_000

    @property
    def tickets(self) -> int:
        return max(100, round(FULL_TICKETS * self.scale))

    @property
    def comments(self) -> int:
        return self.tickets * 5

    @property
    def attachments(self) -> int:
        return self.tickets // 5


def server_uri(database: str = DATABASE) -> str:
    """A ``postgresql://`` URI for *database* on ATUM_DATABASE_URL's server, else on the embedded
    server under the data dir (started or joined here; it stops when its last user exits)."""
    base = os.environ.get("ATUM_DATABASE_URL")
    if not base:
        os.environ.setdefault("PGSERVER_QUIET", "1")
        from app.config import get_settings
        from app.db.embedded import embedded_server_uri

        base = embedded_server_uri(get_settings().data_dir, database="postgres")
    parts = urlsplit(base.replace("postgresql+asyncpg://", "postgresql://", 1))
    return urlunsplit(parts._replace(path="/" + database))


def maintenance_uri() -> str:
    return server_uri("postgres")


async def recreate_database(name: str = DATABASE) -> str:
    """Drop and create the bench database (audit_log refuses TRUNCATE and DELETE, so a rebuild
    starts from an empty database); returns its URI."""
    import asyncpg

    conn = await asyncpg.connect(maintenance_uri())
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()
    return server_uri(name)


async def drop_database(name: str = DATABASE) -> None:
    import asyncpg

    conn = await asyncpg.connect(maintenance_uri())
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await conn.close()


def env_float(name: str, default: float) -> float:
    raw = os.environ.get(name, "").strip()
    return float(raw) if raw else default


def env_int(name: str, default: int) -> int:
    raw = os.environ.get(name, "").strip()
    return int(raw) if raw else default
