"""`make run` from a fresh clone of the committed tree: it installs, migrates, loads the demo data,
prints the demo logins and serves; Ctrl-C stops the server and its embedded PostgreSQL."""

from __future__ import annotations

import asyncio
import os
import re
import shutil
import signal
import socket
import tempfile
from collections.abc import Callable
from pathlib import Path

import httpx
import psutil

REPO = Path(__file__).resolve().parents[2]
ADMIN_LOGIN = re.compile(r"^\s*admin\s+(\S+@\S+)\s+(\S+)\s*$", re.MULTILINE)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def processes_of(clone: Path) -> list[psutil.Process]:
    """Live processes started from *clone* (its python, its PostgreSQL)."""
    found = []
    for proc in psutil.process_iter(["cmdline", "cwd", "status"]):
        if proc.info["status"] == psutil.STATUS_ZOMBIE:
            continue
        command = " ".join(proc.info["cmdline"] or [])
        if str(clone) in command or str(clone) in (proc.info["cwd"] or ""):
            found.append(proc)
    return found


def postgres_of(clone: Path) -> list[psutil.Process]:
    return [p for p in processes_of(clone) if "postgres" in " ".join(p.info["cmdline"] or [])]


async def poll_ready(url: str, proc: asyncio.subprocess.Process, deadline_s: float) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + deadline_s
    async with httpx.AsyncClient(timeout=5) as client:
        while True:
            assert proc.returncode is None, "make run exited before the server was ready"
            try:
                if (await client.get(url)).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            assert loop.time() < deadline, "make run did not reach /api/health/ready"
            await asyncio.sleep(0.5)


async def wait_until(condition: Callable[[], bool], deadline_s: float) -> bool:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + deadline_s
    while not condition():
        if loop.time() > deadline:
            return False
        await asyncio.sleep(0.2)
    return True


async def test_make_run_from_a_fresh_clone() -> None:
    workdir = Path(tempfile.mkdtemp(prefix="atum-make-run-"))
    clone = workdir / "src"
    proc: asyncio.subprocess.Process | None = None
    try:
        git = await asyncio.create_subprocess_exec("git", "clone", "-q", str(REPO), str(clone))
        assert await asyncio.wait_for(git.wait(), timeout=120) == 0
        port = free_port()
        env = {k: v for k, v in os.environ.items() if not k.startswith("ATUM_")}
        env.pop("VIRTUAL_ENV", None)
        env["ATUM_PORT"] = str(port)
        output = workdir / "make-run.out"
        with output.open("wb") as out:
            proc = await asyncio.create_subprocess_exec(
                "make",
                "run",
                cwd=clone,
                env=env,
                stdout=out,
                stderr=asyncio.subprocess.STDOUT,
                start_new_session=True,
            )
        base = f"http://127.0.0.1:{port}"
        await poll_ready(f"{base}/api/health/ready", proc, deadline_s=240)

        printed = output.read_text()
        assert "Demo logins" in printed
        admin = ADMIN_LOGIN.search(printed)
        assert admin is not None, printed
        email, password = admin.groups()
        async with httpx.AsyncClient(base_url=base, timeout=10) as client:
            login = await client.post(
                "/api/auth/login", json={"email": email, "password": password}
            )
            assert login.status_code == 200, login.text
            token = login.json()["access_token"]
            me = await client.get("/api/me", headers={"Authorization": f"Bearer {token}"})
            assert me.json()["role"] == "admin"
        assert postgres_of(clone), "the embedded PostgreSQL should run from the clone's var/"

        os.killpg(proc.pid, signal.SIGINT)
        await asyncio.wait_for(proc.wait(), timeout=30)
        assert await wait_until(lambda: not postgres_of(clone), 30), postgres_of(clone)
        assert processes_of(clone) == []
    finally:
        if proc is not None and proc.returncode is None:
            os.killpg(proc.pid, signal.SIGKILL)
            await proc.wait()
        for leftover in processes_of(clone):
            leftover.kill()
        shutil.rmtree(workdir, ignore_errors=True)
