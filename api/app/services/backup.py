"""Backups: ``atum-desk backup DIR`` and ``atum-desk restore DIR``.

A backup is a directory:

- ``database.dump``: ``pg_dump`` in custom format (compressed; ``pg_restore`` reads it),
- ``uploads/<2 hex>/<32 hex>``: the attachment files,
- ``manifest.json``: the size and SHA-256 of every other file, the row count of every table and
  the schema revision, all taken from the same database snapshot as the dump.

The dump is taken first and the files copied afterwards: attachment files are written before their
row commits, so every row in the dump finds its file in the backup.

Restore checks every file against the manifest before it changes anything, and only restores into
an empty database and an empty upload directory: a damaged or edited backup, or a target that
already holds data, is refused and nothing is touched. The files are copied first and the database
restored in one transaction; if either fails, the copied files are removed again.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import re
import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import asyncpg
from sqlalchemy.engine import make_url

FORMAT = 1
MANIFEST = "manifest.json"
DUMP = "database.dump"
UPLOADS = "uploads"
_UPLOAD_FILE = re.compile(r"^[0-9a-f]{2}/[0-9a-f]{32}$")
_CHUNK = 1024 * 1024


class BackupError(Exception):
    """A backup or restore that cannot go ahead; the message is meant for the operator."""


@dataclass(frozen=True)
class PgTools:
    pg_dump: Path
    pg_restore: Path
    major: int


@dataclass(frozen=True)
class Summary:
    directory: Path
    tables: dict[str, int]
    files: int
    bytes: int
    schema_revision: str | None


# Connection -------------------------------------------------------------------------------------


def libpq_env(database_url: str) -> dict[str, str]:
    """PG* variables for pg_dump/pg_restore (the password never appears on a command line)."""
    url = make_url(database_url)
    host = url.query.get("host")
    values = {
        "PGHOST": str(host if isinstance(host, str) else url.host or ""),
        "PGPORT": str(url.port or ""),
        "PGUSER": url.username or "",
        "PGPASSWORD": url.password or "",
        "PGDATABASE": url.database or "",
        "PGAPPNAME": "atum-desk-backup",
    }
    return {k: v for k, v in values.items() if v}


async def _connect(database_url: str) -> asyncpg.Connection:
    url = make_url(database_url)
    host = url.query.get("host")
    try:
        return await asyncpg.connect(
            user=url.username,
            password=url.password,
            database=url.database,
            host=host if isinstance(host, str) else url.host,
            port=url.port,
            timeout=10,
        )
    except (OSError, asyncpg.PostgresError) as exc:
        raise BackupError(f"cannot connect to the database: {exc}") from exc


# pg_dump / pg_restore ---------------------------------------------------------------------------


def _tool_major(binary: Path) -> int | None:
    try:
        out = subprocess.run(  # noqa: S603  (fixed argv: the pg_dump/pg_restore binary found)
            [str(binary), "--version"], capture_output=True, text=True, timeout=30, check=True
        ).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    found = re.search(r"\(PostgreSQL\)\s+(\d+)", out)
    return int(found.group(1)) if found else None


def _candidate_dirs(major: int, configured: Path | None) -> Iterator[Path]:
    if configured is not None:
        yield configured
        return
    yield Path(f"/usr/lib/postgresql/{major}/bin")
    try:
        import pgserver

        yield Path(pgserver.__file__).parent / "pginstall" / "bin"
    except ImportError:  # pragma: no cover - pgserver is a dependency
        pass
    newer = sorted(Path("/usr/lib/postgresql").glob("*/bin"), reverse=True)
    yield from newer
    on_path = shutil.which("pg_dump")
    if on_path:
        yield Path(on_path).parent


def find_pg_tools(major: int, configured: Path | None = None) -> PgTools:
    """pg_dump and pg_restore of PostgreSQL ``major`` or newer (older ones refuse newer servers)."""
    for directory in _candidate_dirs(major, configured):
        dump, restore = directory / "pg_dump", directory / "pg_restore"
        if not (dump.is_file() and restore.is_file()):
            continue
        found = _tool_major(dump)
        if found is not None and found >= major:
            return PgTools(dump, restore, found)
    where = f"in {configured}" if configured else "(set ATUM_PG_BIN_DIR)"
    raise BackupError(f"no pg_dump/pg_restore of PostgreSQL {major} or newer found {where}")


async def _run_tool(argv: list[str], env: dict[str, str]) -> None:
    proc = await asyncio.create_subprocess_exec(
        *argv,
        env={**os.environ, **env},
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    _, err = await proc.communicate()
    if proc.returncode != 0:
        message = err.decode(errors="replace").strip().splitlines()
        raise BackupError(f"{Path(argv[0]).name} failed: {' / '.join(message[-3:])}")


# Files ------------------------------------------------------------------------------------------


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        while chunk := f.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def _copy(source: Path, target: Path, mode: int) -> str:
    """Copy ``source`` to ``target`` (a new file, fsynced) and return the SHA-256 of what was
    written. A missing source raises FileNotFoundError before ``target`` is created."""
    digest = hashlib.sha256()
    with source.open("rb") as src:
        fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, mode)
        try:
            os.fchmod(fd, mode)
            with os.fdopen(fd, "wb", closefd=False) as out:
                while chunk := src.read(_CHUNK):
                    digest.update(chunk)
                    out.write(chunk)
                out.flush()
                os.fsync(out.fileno())
        finally:
            os.close(fd)
    return digest.hexdigest()


def _upload_files(upload_dir: Path) -> list[str]:
    """Relative paths of the stored attachment files (``tmp/`` holds uploads in progress)."""
    if not upload_dir.is_dir():
        return []
    found = []
    for path in upload_dir.glob("*/*"):
        relative = path.relative_to(upload_dir).as_posix()
        if _UPLOAD_FILE.fullmatch(relative) and path.is_file() and not path.is_symlink():
            found.append(relative)
    return sorted(found)


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _prepare_target(target: Path) -> None:
    if target.exists() and (not target.is_dir() or any(target.iterdir())):
        raise BackupError(f"{target} already exists and is not an empty directory")
    target.mkdir(mode=0o700, parents=True, exist_ok=True)


def _is_empty(upload_dir: Path) -> bool:
    return not upload_dir.exists() or not any(p.is_file() for p in upload_dir.rglob("*"))


# Backup -----------------------------------------------------------------------------------------


async def _tables(conn: asyncpg.Connection) -> dict[str, int]:
    names = await conn.fetch(
        "SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY tablename"
    )
    counts = {}
    for (name,) in names:
        quoted = '"' + name.replace('"', '""') + '"'
        counts[name] = int(await conn.fetchval(f"SELECT count(*) FROM public.{quoted}"))  # noqa: S608  (quoted identifier)
    return counts


async def _schema_revision(conn: asyncpg.Connection, tables: dict[str, int]) -> str | None:
    if "alembic_version" not in tables:
        return None
    value = await conn.fetchval("SELECT version_num FROM alembic_version")
    return None if value is None else str(value)


async def backup(
    database_url: str, upload_dir: Path, target: Path, *, pg_bin_dir: Path | None = None
) -> Summary:
    """Write a backup of the database and the uploads into ``target`` (new or empty)."""
    await asyncio.to_thread(_prepare_target, target)
    conn = await _connect(database_url)
    try:
        major = int(await conn.fetchval("SHOW server_version_num")) // 10000
        tools = find_pg_tools(major, pg_bin_dir)
        dump = target / DUMP
        # One snapshot for the row counts and the dump, so the manifest describes the dump exactly.
        async with conn.transaction(isolation="repeatable_read", readonly=True):
            snapshot = await conn.fetchval("SELECT pg_export_snapshot()")
            tables = await _tables(conn)
            revision = await _schema_revision(conn, tables)
            await _run_tool(
                [
                    str(tools.pg_dump),
                    "--format=custom",
                    "--no-password",
                    f"--snapshot={snapshot}",
                    f"--file={dump}",
                ],
                libpq_env(database_url),
            )
    finally:
        await conn.close()
    dump.chmod(0o600)

    files: dict[str, dict[str, Any]] = {
        DUMP: {"size": dump.stat().st_size, "sha256": await asyncio.to_thread(_sha256, dump)}
    }
    for relative in _upload_files(upload_dir):
        copy = target / UPLOADS / relative
        copy.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        try:
            digest = await asyncio.to_thread(_copy, upload_dir / relative, copy, 0o600)
        except FileNotFoundError:
            continue  # removed since the listing: a failed upload being cleaned up, no row
        files[f"{UPLOADS}/{relative}"] = {"size": copy.stat().st_size, "sha256": digest}

    manifest = {
        "format": FORMAT,
        "created_at": datetime.now(UTC).isoformat(),
        "schema_revision": revision,
        "postgresql_major": major,
        "pg_dump_major": tools.major,
        "tables": tables,
        "files": files,
    }
    path = target / MANIFEST
    path.write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n")
    path.chmod(0o600)
    _fsync_dir(target)
    return Summary(
        target,
        tables,
        len(files) - 1,
        sum(int(f["size"]) for f in files.values()),
        revision,
    )


# Restore ----------------------------------------------------------------------------------------


def verify(directory: Path) -> dict[str, Any]:
    """The backup's manifest, after checking every file against it; raises :class:`BackupError`
    naming the first damaged, missing or unexpected file."""
    try:
        manifest = json.loads((directory / MANIFEST).read_text())
    except FileNotFoundError as exc:
        raise BackupError(f"{directory} is not a backup: {MANIFEST} is missing") from exc
    except (OSError, ValueError) as exc:
        raise BackupError(f"{MANIFEST} cannot be read: {exc}") from exc
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise BackupError(f"{MANIFEST} is not a backup manifest of format {FORMAT}")
    files = manifest.get("files")
    if not isinstance(files, dict) or DUMP not in files:
        raise BackupError(f"{MANIFEST} lists no database dump")

    damaged = "the backup is damaged or was modified"
    root = directory.resolve()
    for name, meta in sorted(files.items()):
        if not isinstance(meta, dict) or (
            name != DUMP
            and not (
                name.startswith(UPLOADS + "/") and _UPLOAD_FILE.fullmatch(name[len(UPLOADS) + 1 :])
            )
        ):
            raise BackupError(f"{damaged}: unexpected entry {name!r} in {MANIFEST}")
        path = directory / name
        if not path.is_file() or path.is_symlink() or not path.resolve().is_relative_to(root):
            raise BackupError(f"{damaged}: {name} is missing")
        if path.stat().st_size != meta.get("size") or _sha256(path) != meta.get("sha256"):
            raise BackupError(f"{damaged}: {name} does not match its checksum")
    for path in sorted(directory.rglob("*")):
        relative = path.relative_to(directory).as_posix()
        if relative in (MANIFEST, UPLOADS) or relative in files:
            continue
        if path.is_dir() and not path.is_symlink() and relative.startswith(UPLOADS + "/"):
            continue
        raise BackupError(f"{damaged}: {relative} is not in {MANIFEST}")
    return dict(manifest)


def _copy_uploads(directory: Path, manifest: dict[str, Any], upload_dir: Path, shared: bool) -> int:
    dir_mode, file_mode = (0o750, 0o640) if shared else (0o700, 0o600)
    upload_dir.mkdir(mode=dir_mode, parents=True, exist_ok=True)
    copied = 0
    for name, meta in sorted(manifest["files"].items()):
        if name == DUMP:
            continue
        relative = name[len(UPLOADS) + 1 :]
        target = upload_dir / relative
        target.parent.mkdir(mode=dir_mode, exist_ok=True)
        if _copy(directory / name, target, file_mode) != meta["sha256"]:
            raise BackupError(f"{name} changed while it was being restored")
        copied += 1
    for sub in {p.parent for p in upload_dir.glob("*/*")}:
        _fsync_dir(sub)
    return copied


def _remove_uploads(manifest: dict[str, Any], upload_dir: Path) -> None:
    for name in manifest["files"]:
        if name != DUMP:
            (upload_dir / name[len(UPLOADS) + 1 :]).unlink(missing_ok=True)


async def restore(
    directory: Path,
    database_url: str,
    upload_dir: Path,
    *,
    app_role: str | None = None,
    shared_uploads: bool = False,
    pg_bin_dir: Path | None = None,
) -> Summary:
    """Restore the backup in ``directory`` into an empty database and an empty upload directory."""
    from app.db.roles import grant_statements

    try:
        grants = grant_statements(app_role) if app_role is not None else []
    except ValueError as exc:
        raise BackupError(str(exc)) from exc
    manifest = await asyncio.to_thread(verify, directory)
    if not await asyncio.to_thread(_is_empty, upload_dir):
        raise BackupError(f"the upload directory {upload_dir} is not empty")
    conn = await _connect(database_url)
    try:
        existing = await conn.fetchval(
            "SELECT count(*) FROM pg_tables WHERE schemaname NOT IN ('pg_catalog', "
            "'information_schema')"
        )
        if existing:
            raise BackupError(
                f"the database {make_url(database_url).database} is not empty: restore only "
                "into a new, empty database"
            )
        major = int(await conn.fetchval("SHOW server_version_num")) // 10000
        tools = find_pg_tools(max(major, int(manifest.get("pg_dump_major", major))), pg_bin_dir)

        try:
            copied = await asyncio.to_thread(
                _copy_uploads, directory, manifest, upload_dir, shared_uploads
            )
            await _run_tool(
                [
                    str(tools.pg_restore),
                    "--no-owner",
                    "--no-acl",
                    "--exit-on-error",
                    "--single-transaction",
                    "--no-password",
                    f"--dbname={make_url(database_url).database}",
                    str(directory / DUMP),
                ],
                libpq_env(database_url),
            )
        except BaseException:
            await asyncio.to_thread(_remove_uploads, manifest, upload_dir)
            raise
        tables = await _tables(conn)
        if tables != manifest["tables"]:
            raise BackupError("the restored row counts differ from the manifest")
        for statement in grants:
            await conn.execute(statement)
        revision = await _schema_revision(conn, tables)
    finally:
        await conn.close()
    total = sum(int(f["size"]) for f in manifest["files"].values())
    return Summary(directory, tables, copied, total, revision)
