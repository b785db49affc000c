"""Faults a real deployment meets, against real processes (SECURITY.md "Durability and faults").

A PostgreSQL cluster of this module's own (the pgserver binaries, run as the unprivileged
``pgserver`` user, on a loopback port) and real ``uvicorn`` API processes:

- PostgreSQL stopped and started again under a running load of ticket creations: while it is down
  the API answers 503 (promptly, with the generic body), afterwards it recovers by itself, and
  every ticket whose creation was acknowledged exists with its ``ticket.created`` audit entry and
  its outbox mail;
- the upload directory on a tiny tmpfs: a full disk is a clean 507 that keeps nothing, and
  uploads work again once space is freed;
- the startup durability check warns when fsync, synchronous_commit or full_page_writes are off.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import shutil
import socket
import subprocess
import tempfile
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import asyncpg
import httpx
import pgserver
import pytest

from tests.test_schemathesis import (
    Identity,
    Server,
    create_database,
    drop_database,
    seed,
    start_server,
    wait_until_ready,
)

PG_BIN = Path(pgserver.__file__).parent / "pginstall" / "bin"
PG_USER = "pgserver"
CLIENT_TIMEOUT = 5.0
RECOVERY_SECONDS = 30.0
OUTAGE_SECONDS = 3.0
GENERIC_503 = {"detail": "Service temporarily unavailable", "code": "unavailable"}
GENERIC_507 = {
    "detail": "The server cannot store this file right now",
    "code": "insufficient_storage",
}


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Cluster:
    """A PostgreSQL cluster in a temporary directory, owned by the pgserver system user."""

    root: Path
    port: int = field(default_factory=free_port)

    @property
    def pgdata(self) -> Path:
        return self.root / "pg"

    @property
    def server_url(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def _run(self, *args: str) -> None:
        subprocess.run(
            [str(PG_BIN / args[0]), *args[1:]],
            user=PG_USER,
            check=True,
            capture_output=True,
            timeout=60,
        )

    def init(self) -> None:
        shutil.chown(self.root, PG_USER, PG_USER)
        self._run("initdb", "-D", str(self.pgdata), "--auth=trust", "-U", "postgres", "-E", "UTF8")

    def start(self, *settings: str) -> None:
        options = f"-h 127.0.0.1 -p {self.port} -k {self.root}"
        options += "".join(f" -c {setting}" for setting in settings)
        log = str(self.root / "postgres.log")
        self._run("pg_ctl", "-D", str(self.pgdata), "-l", log, "-o", options, "-w", "start")

    def stop(self) -> None:
        self._run("pg_ctl", "-D", str(self.pgdata), "-m", "fast", "-w", "stop")

    def running(self) -> bool:
        status = subprocess.run(
            [str(PG_BIN / "pg_ctl"), "-D", str(self.pgdata), "status"],
            user=PG_USER,
            capture_output=True,
            timeout=30,
            check=False,
        )
        return status.returncode == 0


@pytest.fixture(scope="module")
def cluster() -> Iterator[Cluster]:
    root = Path(tempfile.mkdtemp(prefix="atum-faults-"))
    root.chmod(0o755)
    own = Cluster(root)
    try:
        own.init()
        own.start()
        yield own
    finally:
        if own.pgdata.exists() and own.running():
            own.stop()
        shutil.rmtree(root, ignore_errors=True)


@dataclass
class Deployment:
    server: Server
    database_url: str
    customer: Identity
    workdir: Path


@contextlib.asynccontextmanager
async def deployment(cluster: Cluster, workdir: Path, **env: str) -> AsyncIterator[Deployment]:
    database_url = await create_database(cluster.server_url, "atum_faults")
    server: Server | None = None
    try:
        seeded = await seed(database_url, os.environ["ATUM_SECRET_KEY"])
        server = start_server(
            database_url,
            Path(env.pop("data_dir", str(workdir / "data"))),
            workdir / f"api-{uuid.uuid4().hex[:6]}.log",
            ATUM_TICKET_CREATE_PER_HOUR="100000",
            ATUM_LOG_LEVEL="INFO",
            **env,
        )
        await asyncio.to_thread(wait_until_ready, server)
        yield Deployment(server, database_url, seeded.identities["customer_user"], workdir)
    finally:
        if server is not None:
            server.stop()
        if cluster.running():
            await drop_database(database_url)


async def fetch(database_url: str, query: str, *args: object) -> list[asyncpg.Record]:
    conn = await asyncpg.connect(database_url)
    try:
        return list(await conn.fetch(query, *args))
    finally:
        await conn.close()


# --- PostgreSQL stopped and started under load --------------------------------------------------


@dataclass
class Load:
    acknowledged: list[str] = field(default_factory=list)
    answers: list[tuple[float, int, object]] = field(default_factory=list)
    hung: list[str] = field(default_factory=list)


async def create_tickets(http: httpx.AsyncClient, load: Load, until: asyncio.Event) -> None:
    """One client opening tickets back to back until *until* is set; records every answer."""
    loop = asyncio.get_running_loop()
    while not until.is_set():
        started = loop.time()
        try:
            response = await http.post(
                "/api/tickets", json={"title": f"Load {uuid.uuid4().hex[:8]}", "description": "x"}
            )
        except httpx.TimeoutException as exc:
            load.hung.append(type(exc).__name__)
            continue
        body: object = response.json() if response.content else None
        load.answers.append((started, response.status_code, body))
        if response.status_code == 201:
            assert isinstance(body, dict)
            load.acknowledged.append(body["id"])
        else:
            await asyncio.sleep(0.05)


async def wait_for(predicate: Callable[[], bool], deadline_s: float, what: str) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + deadline_s
    while not predicate():
        assert loop.time() < deadline, f"timed out waiting for {what}"
        await asyncio.sleep(0.05)


async def test_postgres_restart_under_load_loses_no_acknowledged_ticket(
    cluster: Cluster, tmp_path: Path
) -> None:
    async with deployment(cluster, tmp_path) as live:
        load = Load()
        stop = asyncio.Event()
        async with httpx.AsyncClient(
            base_url=live.server.url, headers=live.customer.headers, timeout=CLIENT_TIMEOUT
        ) as http:
            workers = [asyncio.create_task(create_tickets(http, load, stop)) for _ in range(3)]
            try:
                await wait_for(lambda: len(load.acknowledged) >= 10, 30, "tickets before the stop")
                await asyncio.to_thread(cluster.stop)
                loop = asyncio.get_running_loop()
                down_at = loop.time()
                await wait_for(
                    lambda: sum(1 for t, s, _ in load.answers if t > down_at and s == 503) >= 5,
                    OUTAGE_SECONDS + 10,
                    "503 answers during the outage",
                )
                await asyncio.sleep(OUTAGE_SECONDS)
                await asyncio.to_thread(cluster.start)
                up_at = loop.time()
                await wait_for(
                    lambda: any(t > up_at and s == 201 for t, s, _ in load.answers),
                    RECOVERY_SECONDS,
                    "the first ticket after PostgreSQL came back",
                )
                recovered = len(load.acknowledged)
                await wait_for(
                    lambda: len(load.acknowledged) >= recovered + 10, 30, "tickets after recovery"
                )
            finally:
                stop.set()
                await asyncio.gather(*workers)

        assert load.hung == [], "the API hung instead of answering while PostgreSQL was down"
        statuses = {status for _, status, _ in load.answers}
        assert statuses <= {201, 503}, statuses
        for _, status, body in load.answers:
            if status == 503:
                assert body == GENERIC_503
        async with httpx.AsyncClient(timeout=CLIENT_TIMEOUT) as probe:
            ready = await probe.get(f"{live.server.url}/api/health/ready")
        assert ready.status_code == 200

        ids = [uuid.UUID(i) for i in load.acknowledged]
        assert len(set(ids)) == len(ids)
        stored = await fetch(live.database_url, "SELECT id FROM tickets WHERE id = ANY($1)", ids)
        assert {r["id"] for r in stored} == set(ids), "an acknowledged ticket was lost"
        audited = await fetch(
            live.database_url,
            "SELECT ticket_id FROM audit_log"
            " WHERE action = 'ticket.created' AND ticket_id = ANY($1)",
            ids,
        )
        assert sorted(r["ticket_id"] for r in audited) == sorted(ids)
        mailed = await fetch(
            live.database_url,
            "SELECT ticket_id FROM notification_outbox"
            " WHERE template = 'created' AND ticket_id = ANY($1)",
            ids,
        )
        assert sorted(r["ticket_id"] for r in mailed) == sorted(ids)
        orphans = await fetch(
            live.database_url,
            "SELECT count(*) AS n FROM tickets t WHERE NOT EXISTS (SELECT 1 FROM audit_log a"
            " WHERE a.ticket_id = t.id AND a.action = 'ticket.created')",
        )
        assert orphans[0]["n"] == 0, "a ticket without its audit entry"

        log = live.server.log.read_text()
        assert "Traceback" not in log
        events = [json.loads(line) for line in log.splitlines() if line.startswith("{")]
        assert not [e for e in events if e.get("event") == "unhandled_error"]
        assert any(e.get("event") == "database_unavailable" for e in events)


# --- a full upload disk -------------------------------------------------------------------------


@pytest.fixture
def tiny_disk() -> Iterator[Path]:
    mountpoint = Path(tempfile.mkdtemp(prefix="atum-tmpfs-"))
    subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=256k,mode=0700", "tmpfs", str(mountpoint)],
        check=True,
        timeout=30,
    )
    try:
        yield mountpoint
    finally:
        subprocess.run(["umount", str(mountpoint)], check=True, timeout=30)
        mountpoint.rmdir()


def files_in(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*") if p.is_file() and p.name != "secret.key")


async def test_a_full_upload_disk_is_a_clean_507_and_recovers(
    cluster: Cluster, tmp_path: Path, tiny_disk: Path
) -> None:
    async with deployment(cluster, tmp_path, data_dir=str(tiny_disk)) as live:
        async with httpx.AsyncClient(
            base_url=live.server.url, headers=live.customer.headers, timeout=30
        ) as http:
            ticket = (
                await http.post("/api/tickets", json={"title": "Logs", "description": "Attached."})
            ).json()
            url = f"/api/tickets/{ticket['id']}/attachments"

            def upload(size: int) -> dict[str, tuple[str, bytes, str]]:
                return {"file": ("log.txt", b"log line\n" * (size // 9), "text/plain")}

            too_big = await http.post(url, files=upload(400 * 1024))
            assert too_big.status_code == 507, too_big.text
            assert too_big.json() == GENERIC_507
            assert files_in(tiny_disk) == []

            filler = tiny_disk / "filler.bin"
            with filler.open("wb") as out, contextlib.suppress(OSError):
                out.write(b"\0" * 512 * 1024)
            small = await http.post(url, files=upload(16 * 1024))
            assert small.status_code == 507, small.text
            assert files_in(tiny_disk) == [filler]

            filler.unlink()
            again = await http.post(url, files=upload(16 * 1024))
            assert again.status_code == 201, again.text
            [stored] = files_in(tiny_disk)
            assert (
                stored.name
                == (
                    await fetch(
                        live.database_url,
                        "SELECT file_path FROM ticket_attachments WHERE ticket_id = $1",
                        uuid.UUID(ticket["id"]),
                    )
                )[0]["file_path"]
            )
            detail = (await http.get(f"/api/tickets/{ticket['id']}")).json()
            assert [a["id"] for a in detail["attachments"]] == [again.json()["id"]]
        assert "Traceback" not in live.server.log.read_text()


# --- the startup durability check ---------------------------------------------------------------


def durability_warnings(log: Path) -> list[dict[str, object]]:
    events = [json.loads(line) for line in log.read_text().splitlines() if line.startswith("{")]
    return [e for e in events if e.get("event") == "postgresql_not_durable"]


async def test_startup_warns_when_postgres_may_lose_acknowledged_writes(
    cluster: Cluster, tmp_path: Path
) -> None:
    async with deployment(cluster, tmp_path) as durable:
        pass
    assert durability_warnings(durable.server.log) == []

    await asyncio.to_thread(cluster.stop)
    await asyncio.to_thread(
        cluster.start, "synchronous_commit=off", "full_page_writes=off", "fsync=off"
    )
    try:
        async with deployment(cluster, tmp_path) as unsafe:
            pass
    finally:
        await asyncio.to_thread(cluster.stop)
        await asyncio.to_thread(cluster.start)
    [warning] = durability_warnings(unsafe.server.log)
    assert warning["settings"] == {
        "fsync": "off",
        "synchronous_commit": "off",
        "full_page_writes": "off",
    }
    assert warning["level"] == "warning"
