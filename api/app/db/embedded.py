"""The private PostgreSQL used when no ``ATUM_DATABASE_URL`` is configured.

It comes from the ``pgserver`` wheel (PostgreSQL 16 + pgvector) and keeps its data under
``<data_dir>/pg``. Every process of the project (server, worker, CLI, tests) that needs it calls
:func:`embedded_database_url`; the server is started by the first and stopped when the last exits.
"""

from __future__ import annotations

import os
import warnings
from pathlib import Path

import psutil

DATABASE_NAME = "atum_desk"

# pgserver asks platformdirs for a runtime dir; without XDG_RUNTIME_DIR it warns and uses /tmp.
warnings.filterwarnings("ignore", module="platformdirs")


def _prune_dead_handles(pgdata: Path) -> None:
    """pgserver counts the processes using the server in a file; a process that was killed
    (SIGKILL, OOM) stays in it forever and the server would then never stop. Drop those."""
    handles = pgdata / ".handle_pids.json"
    if not handles.exists():
        return
    import json

    pids = [p for p in json.loads(handles.read_text() or "[]") if psutil.pid_exists(p)]
    handles.write_text(json.dumps(pids))


def embedded_server_uri(data_dir: Path, database: str = DATABASE_NAME) -> str:
    """Start (or join) the embedded server and return a ``postgresql://`` URI for *database*,
    creating the database when it does not exist yet."""
    from pgserver.postgres_server import PostgresServer, get_server

    data_dir.mkdir(parents=True, exist_ok=True)
    pgdata = (data_dir / "pg").resolve()
    if pgdata.exists():
        with PostgresServer._lock:
            _prune_dead_handles(pgdata)
    server = get_server(pgdata, cleanup_mode="stop")
    if not database.replace("_", "").isalnum():
        raise ValueError(f"unsupported database name: {database!r}")
    exists = server.psql(f"SELECT 1 FROM pg_database WHERE datname = '{database}';")  # noqa: S608  (name checked above)
    if "(1 row)" not in exists:
        server.psql(f'CREATE DATABASE "{database}";')
    return str(server.get_uri(database))


def to_async_url(uri: str) -> str:
    """``postgresql://`` → ``postgresql+asyncpg://``, keeping unix-socket ``host=`` parameters."""
    for prefix in (
        "postgresql+asyncpg://",
        "postgresql+psycopg://",
        "postgresql://",
        "postgres://",
    ):
        if uri.startswith(prefix):
            return "postgresql+asyncpg://" + uri[len(prefix) :]
    raise ValueError("ATUM_DATABASE_URL must be a postgresql:// URL")


def database_url(explicit: str | None, data_dir: Path) -> str:
    """The async SQLAlchemy URL the app uses: the configured server, else the embedded one."""
    if explicit:
        return to_async_url(explicit)
    os.environ.setdefault("PGSERVER_QUIET", "1")
    return to_async_url(embedded_server_uri(data_dir))
