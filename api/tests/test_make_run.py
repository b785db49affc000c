"""`make run` from a fresh clone of the committed tree: it installs, migrates, loads the demo data,
prints the demo logins and serves; Ctrl-C stops the server and its embedded PostgreSQL."""

from __future__ import annotations

import asyncio
import email
import email.message
import os
import re
import shutil
import signal
import smtplib
import socket
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable
from email import policy
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


async def mail_round_trip(
    client: httpx.AsyncClient,
    clone: Path,
    env: dict[str, str],
    lmtp_port: int,
    port: int,
    token: str,
) -> None:
    """The walkthrough's mail steps (docs/FIRST_TICKET.md): a demo customer writes to
    support@localhost over LMTP, the "received" mail lands in var/mail/ from that address with
    links to the port actually served, and `./atum-desk mail reply` answers it by mail."""
    subject = f"Mail from the demo customer {uuid.uuid4().hex[:6]}"
    raw = (
        f"From: user@acme.test\r\nTo: support@localhost\r\nSubject: {subject}\r\n"
        f"Message-ID: <{uuid.uuid4().hex}@acme.test>\r\n\r\nThe VPN drops every hour.\r\n"
    ).encode()
    await asyncio.to_thread(lmtp_deliver, lmtp_port, raw)
    headers = {"Authorization": f"Bearer {token}"}
    found: list[dict[str, object]] = []

    async def ticket_listed() -> bool:
        listed = await client.get("/api/internal/tickets", params={"q": subject}, headers=headers)
        found[:] = listed.json()["items"]
        return bool(found)

    assert await wait_async(ticket_listed, 30), "the mail became no ticket"
    ticket = found[0]
    assert ticket["channel"] == "email"
    mail_dir = clone / "var" / "mail"
    received: list[Path] = []

    def arrived() -> bool:
        for path in mail_dir.glob("*.eml"):
            message = email.message_from_bytes(path.read_bytes(), policy=policy.default)
            body = message.get_body(preferencelist=("plain",))  # type: ignore[attr-defined]
            text = str(body.get_content()) if body is not None else ""
            if message["To"] == "user@acme.test" and str(ticket["id"]) in text:
                received[:] = [path]
                found_mail[:] = [message]
                return True
        return False

    found_mail: list[email.message.EmailMessage] = []
    assert await wait_until(arrived, 30), "no mail to the customer in var/mail"
    message = found_mail[0]
    assert message["From"] == "ATUM DESK <support@localhost>"
    assert str(message["Reply-To"]).startswith("support+")
    assert str(message["Reply-To"]).endswith("@localhost")
    assert f"[ATUM DESK #{ticket['number']}]" in str(message["Subject"])
    body = message.get_body(preferencelist=("plain",))  # type: ignore[attr-defined]
    assert f"http://127.0.0.1:{port}/portal/tickets/{ticket['id']}" in str(body.get_content())
    answered = await asyncio.create_subprocess_exec(
        "./atum-desk",
        "mail",
        "reply",
        str(received[0]),
        "--text",
        "It works again, thanks.",
        cwd=clone,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    out, _ = await asyncio.wait_for(answered.communicate(), timeout=60)
    assert answered.returncode == 0, out.decode()

    async def answered_on_ticket() -> bool:
        detail = await client.get(f"/api/internal/tickets/{ticket['id']}", headers=headers)
        return any(c["body"] == "It works again, thanks." for c in detail.json()["comments"])

    assert await wait_async(answered_on_ticket, 30), "the reply by mail reached no ticket"


def lmtp_deliver(port: int, raw: bytes) -> None:
    deadline = time.monotonic() + 30
    while True:
        try:
            with smtplib.LMTP("127.0.0.1", port, timeout=10) as lmtp:
                lmtp.sendmail("user@acme.test", ["support@localhost"], raw)
                return
        except ConnectionRefusedError:
            assert time.monotonic() < deadline, "the LMTP listener did not start"
            time.sleep(0.2)


async def wait_async(condition: Callable[[], Awaitable[bool]], deadline_s: float) -> bool:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + deadline_s
    while not await condition():
        if loop.time() > deadline:
            return False
        await asyncio.sleep(0.3)
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
        lmtp_port, sink_port = free_port(), free_port()
        env["ATUM_LMTP_PORT"] = str(lmtp_port)
        env["ATUM_MAIL_SINK_PORT"] = str(sink_port)
        env["ATUM_MAIL_COALESCE_SECONDS"] = "1"  # the default minute, shortened for the test
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
            await mail_round_trip(client, clone, env, lmtp_port, port, token)
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
