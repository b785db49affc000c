"""The private PostgreSQL used when no ``ATUM_DATABASE_URL`` is configured.

It comes from the ``pgserver`` wheel (PostgreSQL 16 + pgvector) and keeps its data under
``<data_dir>/pg``. Every process of the project (server, worker, CLI, tests) that needs it calls
:func:`embedded_database_url`; the server is started by the first and stopped when the last exits.
It runs with the settings app/pgconf.py computes for this machine, with the development caps
(``<data_dir>/pg/atum-desk.conf``).
"""

from __future__ import annotations

import contextlib
import os
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

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


CONF_FILE = "atum-desk.conf"
_INCLUDE = f"include_if_exists = '{CONF_FILE}'"


def write_server_conf(pgdata: Path) -> bool:
    """Size the embedded server for this machine (app/pgconf.py, with the development caps):
    ``<pgdata>/atum-desk.conf``, included at the end of postgresql.conf (so ``ALTER SYSTEM``,
    read after it, still overrides). Returns whether anything changed; the new values apply
    when the server (re)starts or reloads."""
    from app import pgconf
    from app.config import Settings

    # The default pools (every process that joins computes the same file).
    text = pgconf.render(
        pgconf.detect_host(pgdata),
        embedded=True,
        pool_size=Settings.model_fields["db_pool_size"].default,
    )
    changed = False
    conf = pgdata / CONF_FILE
    if not conf.exists() or conf.read_text() != text:
        staged = conf.with_suffix(".new")
        staged.write_text(text)
        staged.chmod(0o644)
        os.replace(staged, conf)
        changed = True
    main = pgdata / "postgresql.conf"
    if _INCLUDE not in main.read_text().splitlines():
        with main.open("a") as f:
            f.write(f"\n# ATUM DESK: settings sized for this machine (app/pgconf.py)\n{_INCLUDE}\n")
        changed = True
    return changed


# Memory blocks of 128 KB and more are mapped on their own and handed back to the system when
# freed. Without it glibc raises that threshold after the first large free, and a connection that
# once sorted or hashed for a report keeps those megabytes for the rest of its life (measured:
# 23 MB kept after three report-sized queries, 0-3 MB with it). The server inherits it from the
# process that starts it; glibc reads it when each of its processes starts.
SERVER_ENVIRONMENT = {"MALLOC_MMAP_THRESHOLD_": "131072"}


@contextlib.contextmanager
def _server_environment() -> Iterator[None]:
    saved = {name: os.environ.get(name) for name in SERVER_ENVIRONMENT}
    os.environ.update(SERVER_ENVIRONMENT)
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def _start_or_join(pgdata: Path) -> Any:
    """pgserver's ``get_server``, with the sized configuration written between initdb and the
    server's start (so a new server starts with it too)."""
    from pgserver.postgres_server import PostgresServer

    if pgdata in PostgresServer._instances:
        return PostgresServer._instances[pgdata]
    changed = False

    class Sized(PostgresServer):
        def ensure_pgdata_inited(self) -> None:
            nonlocal changed
            super().ensure_pgdata_inited()
            changed = write_server_conf(self.pgdata)

    pgdata.mkdir(exist_ok=True)
    with _server_environment():
        server = Sized(pgdata, cleanup_mode="stop")
    if changed:  # a server that was already running takes what a reload can change
        server.psql("SELECT pg_reload_conf();")
    return server


def embedded_server_uri(data_dir: Path, database: str = DATABASE_NAME) -> str:
    """Start (or join) the embedded server and return a ``postgresql://`` URI for *database*,
    creating the database when it does not exist yet."""
    from pgserver.postgres_server import PostgresServer

    data_dir.mkdir(parents=True, exist_ok=True)
    pgdata = (data_dir / "pg").resolve()
    if pgdata.exists():
        with PostgresServer._lock:
            _prune_dead_handles(pgdata)
    server = _start_or_join(pgdata)
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
