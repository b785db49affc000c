"""The login limit lives in PostgreSQL, so it holds across API processes: two real uvicorn servers
share one failure count for an account."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from sqlalchemy import insert
from sqlalchemy.ext.asyncio import create_async_engine

from app.auth.passwords import hash_password
from app.db.embedded import to_async_url
from app.models import User
from app.models.enums import Role

API_DIR = Path(__file__).resolve().parents[1]
STARTUP_SECONDS = 120  # a deadline: a slow machine needs ~20 s to start one
STOP_SECONDS = 10
PASSWORD = "process test passphrase"
# The servers trust the loopback peer as a proxy, so each test run can name its own client
# address and never spends the per-address budget of other tests.
CLIENT_IP = f"198.51.100.{uuid.uuid4().int % 250 + 1}"


@dataclass
class Server:
    process: subprocess.Popen[bytes]
    url: str
    log: Path


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_server(log: Path) -> Server:
    port = free_port()
    env = {**os.environ, "ATUM_TRUSTED_PROXIES": '["127.0.0.1"]'}
    with log.open("wb") as out:
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "uvicorn",
                "app.main:create_app",
                "--factory",
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
                "--log-level",
                "warning",
            ],
            cwd=API_DIR,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=out,
        )
    return Server(process, f"http://127.0.0.1:{port}", log)


def stop_server(server: Server) -> None:
    if server.process.poll() is not None:
        return
    server.process.send_signal(signal.SIGTERM)
    try:
        server.process.wait(timeout=STOP_SECONDS)
    except subprocess.TimeoutExpired:
        server.process.kill()
        server.process.wait(timeout=STOP_SECONDS)


async def wait_until_healthy(http: httpx.AsyncClient, server: Server) -> None:
    deadline = time.monotonic() + STARTUP_SECONDS
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            pytest.fail(f"API process exited early:\n{server.log.read_text()}")
        try:
            if (await http.get(f"{server.url}/api/health")).status_code == 200:
                return
        except httpx.TransportError:
            pass
        await asyncio.sleep(0.1)
    pytest.fail(f"API process not healthy after {STARTUP_SECONDS}s:\n{server.log.read_text()}")


@pytest.fixture
def servers(tmp_path: Path) -> Iterator[list[Server]]:
    started: list[Server] = []
    try:
        for name in ("a", "b"):
            started.append(start_server(tmp_path / f"api-{name}.log"))
        yield started
    finally:
        for server in started:
            stop_server(server)


@pytest.fixture
async def http() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(timeout=10, headers={"X-Real-IP": CLIENT_IP}) as c:
        yield c


async def create_committed_user(database_url: str) -> str:
    email = f"proc-{uuid.uuid4().hex}@example.test"
    engine = create_async_engine(to_async_url(database_url))
    try:
        async with engine.begin() as conn:
            await conn.execute(
                insert(User).values(
                    id=uuid.uuid4(),
                    email=email,
                    name="Process Test",
                    role=Role.AGENT.value,
                    password_hash=hash_password(PASSWORD),
                )
            )
    finally:
        await engine.dispose()
    return email


async def test_account_limit_is_shared_by_all_processes(
    servers: list[Server], http: httpx.AsyncClient, database_url: str
) -> None:
    email = await create_committed_user(database_url)
    for server in servers:
        await wait_until_healthy(http, server)

    async def attempt(server: Server, password: str) -> httpx.Response:
        return await http.post(
            f"{server.url}/api/auth/login", json={"email": email, "password": password}
        )

    for server in servers:
        r = await attempt(server, PASSWORD)
        assert r.status_code == 200, (server.url, r.text)

    for n in range(10):
        r = await attempt(servers[n % 2], "wrong password")
        assert r.status_code == 401, (n, r.text)

    for server in servers:
        r = await attempt(server, PASSWORD)
        assert r.status_code == 429, (server.url, r.text)
        assert int(r.headers["Retry-After"]) > 0
