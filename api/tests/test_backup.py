"""`atum-desk backup DIR` and `atum-desk restore DIR` as an operator runs them: the test database
and its uploads (with a ticket and an attachment committed for real) are backed up, restored into
a new, empty database and upload directory, and compared table by table, sequence by sequence and
file by file. A backup that was damaged or edited, or a target that is not empty, is refused
before anything is changed."""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import shutil
import struct
import uuid
import zlib
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import asyncpg
import pytest
from httpx import ASGITransport, AsyncClient
from sqlalchemy.engine import make_url

from app.config import get_settings
from app.db.session import get_sessionmaker
from app.main import create_app
from app.models.enums import Role
from app.schemas.org import OrgCreate
from app.schemas.user import UserCreate
from app.services import backup, orgs, users

REPO = Path(__file__).resolve().parents[2]
ATUM_DESK = REPO / "atum-desk"
PASSWORD = "backup test password"


def png(seed: bytes) -> bytes:
    """A real 1x1 PNG that differs per seed (a text chunk), so every upload is a new file."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        crc = zlib.crc32(kind + data) & 0xFFFFFFFF
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)

    header = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"tEXt", b"Comment\x00" + seed.hex().encode())
        + chunk(b"IDAT", zlib.compress(b"\x00\xff\x80\x00"))
        + chunk(b"IEND", b"")
    )


@dataclass(frozen=True)
class Result:
    code: int
    stdout: str
    stderr: str


async def atum(*args: str, env: dict[str, str] | None = None) -> Result:
    proc = await asyncio.create_subprocess_exec(
        str(ATUM_DESK),
        *args,
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env={**os.environ, "COLUMNS": "200", **(env or {})},
    )
    out, err = await asyncio.wait_for(proc.communicate(), timeout=120)
    assert proc.returncode is not None
    return Result(proc.returncode, out.decode(), err.decode())


async def connect(database_url: str) -> asyncpg.Connection:
    url = make_url(database_url)
    return await asyncpg.connect(
        user=url.username,
        password=url.password,
        database=url.database,
        host=url.query.get("host") or url.host,
        port=url.port,
    )


async def fingerprint(database_url: str) -> dict[str, tuple[int, str]]:
    """Row count and an MD5 over the sorted rows of every table, and every sequence's state."""
    conn = await connect(database_url)
    try:
        found: dict[str, tuple[int, str]] = {}
        for (table,) in await conn.fetch(
            "SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY 1"
        ):
            row = await conn.fetchrow(
                f"SELECT count(*), md5(coalesce(string_agg(t::text, E'\\n' ORDER BY t::text), '')) FROM \"{table}\" t"  # noqa: E501
            )
            assert row is not None
            found[table] = (int(row[0]), str(row[1]))
        for (sequence,) in await conn.fetch(
            "SELECT sequencename FROM pg_sequences WHERE schemaname = 'public' ORDER BY 1"
        ):
            row = await conn.fetchrow(f'SELECT last_value, is_called FROM "{sequence}"')
            assert row is not None
            found[f"sequence {sequence}"] = (int(row[0]), str(row[1]))
        return found
    finally:
        await conn.close()


def files_of(upload_dir: Path) -> dict[str, str]:
    return {
        p.relative_to(upload_dir).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in upload_dir.glob("*/*")
        if p.is_file() and p.parent.name != "tmp"
    }


def files_in(directory: Path) -> set[str]:
    return {p.relative_to(directory).as_posix() for p in directory.rglob("*") if p.is_file()}


def mode_of(path: Path) -> int:
    return path.stat().st_mode & 0o777


async def table_count(database_url: str) -> int:
    conn = await connect(database_url)
    try:
        return int(
            await conn.fetchval("SELECT count(*) FROM pg_tables WHERE schemaname = 'public'")
        )
    finally:
        await conn.close()


async def new_database(server_url: str) -> AsyncIterator[str]:
    name = f"atum_restore_{uuid.uuid4().hex[:12]}"
    admin = await connect(server_url)
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
        yield make_url(server_url).set(database=name).render_as_string(hide_password=False)
    finally:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()


@pytest.fixture
async def empty_database(server_url: str) -> AsyncIterator[str]:
    async for url in new_database(server_url):
        yield url


@pytest.fixture(scope="module")
async def untouched_database(server_url: str) -> AsyncIterator[str]:
    """An empty database that every refused restore of this module aims at."""
    async for url in new_database(server_url):
        yield url


async def commit_a_ticket_with_an_attachment() -> bytes:
    """A customer opens a ticket and attaches a file through the API, committed for real."""
    email = f"backup-{uuid.uuid4().hex[:10]}@example.test"
    async with get_sessionmaker()() as session, session.begin():
        org = await orgs.create(session, None, OrgCreate(name=f"Backup {uuid.uuid4().hex[:8]}"))
        body = UserCreate(
            email=email, name="Backup", role=Role.CUSTOMER_USER, org_id=org.id, password=PASSWORD
        )
        await users.create(session, None, body)
    image = png(uuid.uuid4().bytes)
    async with AsyncClient(transport=ASGITransport(app=create_app()), base_url="http://t") as c:
        signed_in = await c.post("/api/auth/login", json={"email": email, "password": PASSWORD})
        assert signed_in.status_code == 200, signed_in.text
        headers = {"Authorization": f"Bearer {signed_in.json()['access_token']}"}
        ticket = await c.post(
            "/api/tickets",
            json={"title": "Backed up", "description": "with a file", "priority": "P3"},
            headers=headers,
        )
        assert ticket.status_code == 201, ticket.text
        uploaded = await c.post(
            f"/api/tickets/{ticket.json()['id']}/attachments",
            files={"file": ("screen.png", image, "image/png")},
            headers=headers,
        )
        assert uploaded.status_code == 201, uploaded.text
    return image


@pytest.fixture(scope="module")
async def made_backup(tmp_path_factory: pytest.TempPathFactory) -> Path:
    await commit_a_ticket_with_an_attachment()
    target = tmp_path_factory.mktemp("backups") / "nightly"
    result = await atum("backup", str(target))
    assert result.code == 0, result.stderr
    assert f"backup written to {target}" in result.stdout
    return target


class TestBackup:
    async def test_manifest_checksums_every_file(self, made_backup: Path) -> None:
        manifest = json.loads((made_backup / "manifest.json").read_text())
        assert manifest["format"] == 1
        listed = set(manifest["files"])
        assert listed == files_in(made_backup) - {"manifest.json"}
        assert "database.dump" in listed
        assert any(name.startswith("uploads/") for name in listed)
        for name, meta in manifest["files"].items():
            data = (made_backup / name).read_bytes()
            assert meta == {"size": len(data), "sha256": hashlib.sha256(data).hexdigest()}
        assert (made_backup / "database.dump").read_bytes()[:5] == b"PGDMP"
        assert mode_of(made_backup) == 0o700

    async def test_manifest_counts_match_the_database(
        self, made_backup: Path, database_url: str
    ) -> None:
        manifest = json.loads((made_backup / "manifest.json").read_text())
        source = await fingerprint(database_url)
        tables = {k: v[0] for k, v in source.items() if not k.startswith("sequence ")}
        assert manifest["tables"] == tables
        assert manifest["tables"]["ticket_attachments"] >= 1

    async def test_every_attachment_file_is_in_the_backup(
        self, made_backup: Path, database_url: str
    ) -> None:
        copied = files_of(made_backup / "uploads")
        conn = await connect(database_url)
        try:
            rows = await conn.fetch("SELECT file_path, sha256 FROM ticket_attachments")
        finally:
            await conn.close()
        assert rows
        for key, digest in rows:
            assert copied[f"{key[:2]}/{key}"] == digest

    async def test_refuses_a_directory_that_holds_files(
        self, made_backup: Path, database_url: str
    ) -> None:
        before = files_in(made_backup)
        with pytest.raises(backup.BackupError, match="already exists and is not an empty"):
            await backup.backup(database_url, get_settings().upload_dir, made_backup)
        assert files_in(made_backup) == before


class TestRestore:
    async def test_into_an_empty_database_gives_the_same_data_and_files(
        self, made_backup: Path, database_url: str, empty_database: str, tmp_path: Path
    ) -> None:
        data_dir = tmp_path / "data"
        result = await atum(
            "restore",
            str(made_backup),
            env={"ATUM_DATABASE_URL": empty_database, "ATUM_DATA_DIR": str(data_dir)},
        )
        assert result.code == 0, result.stderr
        assert result.stdout.startswith("restored ")

        assert await fingerprint(empty_database) == await fingerprint(database_url)
        assert files_of(data_dir / "uploads") == files_of(made_backup / "uploads")
        assert {
            mode_of(data_dir / "uploads" / name) for name in files_of(data_dir / "uploads")
        } == {0o600}
        conn = await connect(empty_database)
        try:
            with pytest.raises(asyncpg.InsufficientPrivilegeError, match="append-only"):
                await conn.execute("UPDATE audit_log SET action = 'edited'")
        finally:
            await conn.close()

    async def test_grants_the_app_role(
        self, made_backup: Path, empty_database: str, server_url: str, tmp_path: Path
    ) -> None:
        role = f"atum_restore_app_{uuid.uuid4().hex[:8]}"
        admin = await connect(server_url)
        await admin.execute(f'CREATE ROLE "{role}"')
        try:
            await backup.restore(made_backup, empty_database, tmp_path / "uploads", app_role=role)
            conn = await connect(empty_database)
            try:
                privileges = await conn.fetchrow(
                    "SELECT has_table_privilege($1, 'audit_log', 'INSERT'),"
                    " has_table_privilege($1, 'audit_log', 'UPDATE'),"
                    " has_table_privilege($1, 'tickets', 'UPDATE')",
                    role,
                )
            finally:
                await conn.execute(f'DROP OWNED BY "{role}"')
                await conn.close()
            assert tuple(privileges or ()) == (True, False, True)
        finally:
            await admin.execute(f'DROP ROLE IF EXISTS "{role}"')
            await admin.close()

    async def test_refuses_a_database_that_is_not_empty(
        self, made_backup: Path, database_url: str, tmp_path: Path
    ) -> None:
        with pytest.raises(backup.BackupError, match="is not empty"):
            await backup.restore(made_backup, database_url, tmp_path / "uploads")
        assert not (tmp_path / "uploads").exists()

    async def test_refuses_an_upload_directory_that_is_not_empty(
        self, made_backup: Path, untouched_database: str
    ) -> None:
        with pytest.raises(backup.BackupError, match=r"upload directory .* is not empty"):
            await backup.restore(made_backup, untouched_database, get_settings().upload_dir)
        assert await table_count(untouched_database) == 0


def flip_a_byte_of_an_upload(copy: Path) -> str:
    victim = sorted((copy / "uploads").glob("*/*"))[0]
    data = bytearray(victim.read_bytes())
    data[len(data) // 2] ^= 0x01
    victim.write_bytes(bytes(data))
    return f"{victim.relative_to(copy).as_posix()} does not match its checksum"


def truncate_the_dump(copy: Path) -> str:
    dump = copy / "database.dump"
    dump.write_bytes(dump.read_bytes()[:-100])
    return "database.dump does not match its checksum"


def delete_an_upload(copy: Path) -> str:
    victim = sorted((copy / "uploads").glob("*/*"))[0]
    victim.unlink()
    return f"{victim.relative_to(copy).as_posix()} is missing"


def add_a_file(copy: Path) -> str:
    (copy / "uploads" / "extra.sh").write_text("#!/bin/sh\n")
    return "uploads/extra.sh is not in manifest.json"


def point_the_manifest_outside(copy: Path) -> str:
    path = copy / "manifest.json"
    manifest = json.loads(path.read_text())
    manifest["files"]["uploads/../../../etc/passwd"] = {"size": 1, "sha256": "0" * 64}
    path.write_text(json.dumps(manifest))
    return "unexpected entry 'uploads/../../../etc/passwd'"


def lose_the_manifest(copy: Path) -> str:
    (copy / "manifest.json").unlink()
    return "manifest.json is missing"


class TestTamperedBackups:
    async def test_the_command_refuses_and_changes_nothing(
        self, made_backup: Path, untouched_database: str, tmp_path: Path
    ) -> None:
        copy = tmp_path / "copy"
        shutil.copytree(made_backup, copy)
        expected = flip_a_byte_of_an_upload(copy)
        data_dir = tmp_path / "data"
        result = await atum(
            "restore",
            str(copy),
            env={"ATUM_DATABASE_URL": untouched_database, "ATUM_DATA_DIR": str(data_dir)},
        )
        assert result.code == 2
        assert result.stderr.strip() == (
            f"error: the backup is damaged or was modified: {expected}"
        )
        assert result.stdout == ""
        assert await table_count(untouched_database) == 0
        assert not (data_dir / "uploads").exists()

    @pytest.mark.parametrize(
        "tamper",
        [
            truncate_the_dump,
            delete_an_upload,
            add_a_file,
            point_the_manifest_outside,
            lose_the_manifest,
        ],
    )
    async def test_every_kind_of_damage_is_named(
        self, tamper: object, made_backup: Path, untouched_database: str, tmp_path: Path
    ) -> None:
        copy = tmp_path / "copy"
        shutil.copytree(made_backup, copy)
        assert callable(tamper)
        expected = tamper(copy)
        with pytest.raises(backup.BackupError) as refused:
            await backup.restore(copy, untouched_database, tmp_path / "uploads")
        assert expected in str(refused.value)
        assert await table_count(untouched_database) == 0
        assert not (tmp_path / "uploads").exists()
