"""The live app for the browser tests: a database of its own holding the demo data set, the API
(serving web/dist) in a uvicorn subprocess, Debian's chromium driven by Playwright, axe-core."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import os
import re
import socket
import sys
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import asyncpg
import httpx
from playwright.async_api import (
    Browser,
    BrowserContext,
    Page,
    Route,
    ViewportSize,
    async_playwright,
)
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncSession, create_async_engine

from app.db import migrations
from app.db.embedded import to_async_url
from app.demo import DEMO_LOGINS, seed
from app.models.enums import Role
from app.schemas.org import OrgCreate
from app.schemas.user import UserCreate
from app.services import orgs, users

REPO = Path(__file__).resolve().parents[2]
API_DIR = REPO / "api"
WEB_DIST = REPO / "web" / "dist"
AXE_JS = REPO / "web" / "node_modules" / "axe-core" / "axe.min.js"
SCREENSHOTS = REPO / "docs" / "screenshots"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]
DESKTOP: ViewportSize = {"width": 1280, "height": 800}
PHONE: ViewportSize = {"width": 375, "height": 812}
LOOPBACK = "127.0.0.1"
UUID_PATH = r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"
# One more customer organization next to the demo's Acme Corp and Globex.
EXTRA_ORG = "Initech"
EXTRA_CUSTOMER = ("tom.becker@initech.example", "Tom Becker", "initech-tom-demo")
PASSWORDS = {email: password for _, email, password in DEMO_LOGINS}
PASSWORDS[EXTRA_CUSTOMER[0]] = EXTRA_CUSTOMER[2]

# Recorded in every page before the app runs: CSP violations and every value an upload progress
# bar showed (the bars come and go faster than a locator can catch them).
_PAGE_PROBES = """
window.__atum = { csp: [], uploads: {} };
document.addEventListener("securitypolicyviolation", (e) => {
  window.__atum.csp.push(`${e.violatedDirective} ${e.blockedURI}`);
});
new MutationObserver(() => {
  for (const bar of document.querySelectorAll('[role="progressbar"][aria-label^="Upload of"]')) {
    const seen = window.__atum.uploads[bar.getAttribute("aria-label")] ?? [];
    const now = Number(bar.getAttribute("aria-valuenow"));
    if (seen[seen.length - 1] !== now) seen.push(now);
    window.__atum.uploads[bar.getAttribute("aria-label")] = seen;
  }
}).observe(document, { subtree: true, childList: true, attributes: true });
"""


def require_built_ui() -> None:
    if not (WEB_DIST / "index.html").is_file():
        raise AssertionError(
            f"{WEB_DIST / 'index.html'} is missing: the browser tests need the built web UI. "
            "Run `make web` (or `npm --prefix web ci && npm --prefix web run build`) first."
        )
    if not AXE_JS.is_file():
        raise AssertionError(f"{AXE_JS} is missing: run `npm --prefix web ci`.")
    if not Path(CHROMIUM).is_file():
        raise AssertionError(f"{CHROMIUM} is missing: run `infra/scripts/test-packages.sh`.")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((LOOPBACK, 0))
        port: int = sock.getsockname()[1]
        return port


async def _connect(database_url: str) -> asyncpg.Connection:
    url = make_url(database_url)
    return await asyncpg.connect(
        user=url.username,
        password=url.password,
        database=url.database,
        host=url.query.get("host") or url.host,
        port=url.port,
    )


@contextlib.asynccontextmanager
async def demo_database(server_url: str) -> AsyncIterator[str]:
    """A database of its own (migrated, demo data and one more customer loaded), so the
    screenshots and ticket numbers never depend on what other tests committed. Named like the
    per-run test database, so the next run's conftest drops it should this process die first."""
    name = f"atum_test_browser_{uuid.uuid4().hex[:8]}_{os.getpid()}"
    admin = await _connect(server_url)
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
        url = make_url(server_url).set(database=name).render_as_string(hide_password=False)
        await asyncio.to_thread(migrations.upgrade, to_async_url(url))
        engine = create_async_engine(to_async_url(url))
        try:
            async with AsyncSession(engine) as session, session.begin():
                assert await seed(session) is not None
                org = await orgs.create(session, None, OrgCreate(name=EXTRA_ORG))
                email, person, password = EXTRA_CUSTOMER
                await users.create(
                    session,
                    None,
                    UserCreate(
                        email=email,
                        name=person,
                        role=Role.CUSTOMER_USER,
                        org_id=org.id,
                        password=password,
                    ),
                )
        finally:
            await engine.dispose()
        yield url
    finally:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()


@contextlib.asynccontextmanager
async def live_server(
    database_url: str,
    data_dir: Path,
    *,
    host_name: str = LOOPBACK,
    env_extra: dict[str, str] | None = None,
) -> AsyncIterator[str]:
    """`python -m app.cli serve` on a free loopback port; yields its base URL once ready.

    The server always listens on 127.0.0.1; *host_name* is the name its URL (and
    ATUM_PUBLIC_URL) uses — ``"localhost"`` for WebAuthn, whose relying party cannot be an IP
    address. *env_extra* adds settings (e.g. the SMTP server of a mail sink)."""
    port = free_port()
    base = f"http://{host_name}:{port}"
    env = {
        **os.environ,
        "ATUM_DATABASE_URL": database_url,
        "ATUM_DATA_DIR": str(data_dir),
        "ATUM_PUBLIC_URL": base,
        **(env_extra or {}),
    }
    log_path = data_dir / "server.log"
    with log_path.open("wb") as log:
        proc = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "app.cli",
            "serve",
            "--host",
            LOOPBACK,
            "--port",
            str(port),
            cwd=API_DIR,
            env=env,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=log,
            stderr=asyncio.subprocess.STDOUT,
        )
    try:
        await _wait_ready(f"{base}/api/health/ready", proc, log_path)
        yield base
    finally:
        if proc.returncode is None:
            proc.terminate()
            try:
                await asyncio.wait_for(proc.wait(), timeout=10)
            except TimeoutError:
                proc.kill()
                await proc.wait()


async def _wait_ready(url: str, proc: asyncio.subprocess.Process, log: Path) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + 30
    async with httpx.AsyncClient(timeout=2) as client:
        while True:
            if proc.returncode is not None:
                raise AssertionError(f"the server exited early:\n{_tail(log)}")
            with contextlib.suppress(httpx.TransportError):
                if (await client.get(url)).status_code == 200:
                    return
            if loop.time() > deadline:
                raise AssertionError(f"the server never became ready:\n{_tail(log)}")
            await asyncio.sleep(0.1)


def _tail(log: Path) -> str:
    return log.read_text(errors="replace")[-3000:]


@functools.cache
def _axe_source() -> str:
    return AXE_JS.read_text()


@contextlib.asynccontextmanager
async def chromium() -> AsyncIterator[Browser]:
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
        )
        try:
            yield browser
        finally:
            await browser.close()


@dataclass
class Offsite:
    """Requests to any host but the loopback server: recorded, and never let through."""

    attempted: list[str] = field(default_factory=list)

    async def guard(self, route: Route) -> None:
        url = route.request.url
        parts = urlsplit(url)
        if parts.scheme in ("http", "https", "ws", "wss") and parts.hostname != LOOPBACK:
            self.attempted.append(url)
            await route.abort("blockedbyclient")
        else:
            await route.continue_()


@dataclass
class Live:
    base_url: str
    browser: Browser

    async def context(self, *, viewport: ViewportSize | None = None) -> BrowserContext:
        context = await self.browser.new_context(
            base_url=self.base_url,
            viewport=viewport or DESKTOP,
            locale="en-GB",
            timezone_id="Europe/Berlin",
            color_scheme="dark",
            reduced_motion="reduce",
        )
        context.set_default_timeout(10_000)
        await context.add_init_script(_PAGE_PROBES)
        return context

    async def api_token(self, email: str) -> str:
        async with httpx.AsyncClient(base_url=self.base_url, timeout=10) as client:
            r = await client.post(
                "/api/auth/login", json={"email": email, "password": PASSWORDS[email]}
            )
            assert r.status_code == 200, r.text
            return str(r.json()["access_token"])

    async def api(self, email: str) -> httpx.AsyncClient:
        token = await self.api_token(email)
        return httpx.AsyncClient(
            base_url=self.base_url, timeout=10, headers={"Authorization": f"Bearer {token}"}
        )


async def sign_in(page: Page, email: str) -> None:
    """Through the real sign-in page, like a person."""
    await page.goto("/login")
    await page.get_by_label("E-mail").fill(email)
    await page.get_by_label("Password").fill(PASSWORDS[email])
    await page.get_by_role("button", name="Sign in").click()


async def csp_violations(page: Page) -> list[str]:
    found: list[str] = await page.evaluate("() => window.__atum.csp")
    return found


async def upload_progress(page: Page) -> dict[str, list[int]]:
    found: dict[str, list[int]] = await page.evaluate("() => window.__atum.uploads")
    return found


async def axe_violations(page: Page) -> list[dict[str, Any]]:
    """axe-core over the whole page: the violations (id, impact, help, first few targets)."""
    await page.evaluate(_axe_source())
    found: list[dict[str, Any]] = await page.evaluate(
        """async () => {
            const result = await axe.run(document, { resultTypes: ["violations"] });
            return result.violations.map((v) => ({
                id: v.id,
                impact: v.impact,
                help: v.help,
                targets: v.nodes.slice(0, 5).map((n) => n.target.join(" ")),
            }));
        }"""
    )
    return found


def serious(violations: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [v for v in violations if v["impact"] in ("serious", "critical")]


async def scroll_width(page: Page) -> int:
    """The document's full width: above the viewport's width means a horizontal scroll."""
    width: int = await page.evaluate("() => document.documentElement.scrollWidth")
    return width


async def screenshot(page: Page, name: str) -> Path:
    """A still of the viewport for the docs: no hover, caret or animation in the picture."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    await page.mouse.move(0, 0)
    await page.evaluate(
        "() => document.activeElement instanceof HTMLElement && document.activeElement.blur()"
    )
    await page.evaluate("() => document.fonts.ready.then(() => true)")
    path = SCREENSHOTS / name
    await page.screenshot(path=path, animations="disabled", caret="hide")
    return path


def ticket_url(pattern: str) -> re.Pattern[str]:
    return re.compile(rf"{pattern}/({UUID_PATH})$")


# ---------------------------------------------------------------- outgoing mail


@contextlib.asynccontextmanager
async def mail_worker(database_url: str, data_dir: Path, public_url: str) -> AsyncIterator[Path]:
    """The dev mail sink (app.mailsink: every message an .eml file) on a free loopback port, and
    `python -m app.cli worker` delivering the outbox to it with the live server's settings.
    Yields the directory the mails land in."""
    from app.mailsink import start

    directory = data_dir / "mail"
    port = free_port()
    sink = start(directory, LOOPBACK, port)
    env = {
        **os.environ,
        "ATUM_DATABASE_URL": database_url,
        "ATUM_DATA_DIR": str(data_dir),
        "ATUM_PUBLIC_URL": public_url,
        "ATUM_SMTP_HOST": LOOPBACK,
        "ATUM_SMTP_PORT": str(port),
        # A queued mail is announced (LISTEN/NOTIFY); the poll only catches what came before.
        "ATUM_WORKER_POLL_SECONDS": "1",
    }
    # Nothing leaves the machine: no SMTP login or TLS, no model server.
    for name in (
        "ATUM_SMTP_USERNAME",
        "ATUM_SMTP_PASSWORD",
        "ATUM_SMTP_STARTTLS",
        "ATUM_SMTP_SSL",
        "ATUM_OLLAMA_URL",
    ):
        env.pop(name, None)
    log_path = data_dir / "worker.log"
    with log_path.open("wb") as log:
        proc = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "app.cli",
            "worker",
            cwd=API_DIR,
            env=env,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=log,
            stderr=asyncio.subprocess.STDOUT,
        )
    try:
        yield directory
        assert proc.returncode is None, f"the worker exited:\n{_tail(log_path)}"
    finally:
        if proc.returncode is None:
            proc.terminate()
            try:
                await asyncio.wait_for(proc.wait(), timeout=10)
            except TimeoutError:
                proc.kill()
                await proc.wait()
        sink.stop()


def sunk_mails(directory: Path) -> list[EmailMessage]:
    """Every message the dev mail sink stored so far, oldest first."""
    parser = BytesParser(policy=policy.default)
    found: list[EmailMessage] = []
    paths = list(directory.glob("*.eml")) if directory.is_dir() else []
    # Named by the second they arrived (and a random suffix): the write time orders within one.
    for path in sorted(paths, key=lambda p: (p.stat().st_mtime_ns, p.name)):
        message = parser.parsebytes(path.read_bytes())
        assert isinstance(message, EmailMessage)
        found.append(message)
    return found


def plain_body(message: EmailMessage) -> str:
    part = message.get_body(preferencelist=("plain",))
    return str(part.get_content()) if part is not None else ""


async def wait_for_mail(
    directory: Path, to: str, subject: str, *, within_s: float = 20
) -> EmailMessage:
    """The newest stored mail to *to* whose subject contains *subject*, once it has arrived."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within_s
    while True:
        matches = [
            m
            for m in sunk_mails(directory)
            if to.lower() in str(m["To"]).lower() and subject in str(m["Subject"])
        ]
        if matches:
            return matches[-1]
        if loop.time() > deadline:
            seen = [(str(m["To"]), str(m["Subject"])) for m in sunk_mails(directory)]
            raise AssertionError(f"no mail to {to} about {subject!r}; the sink holds {seen}")
        await asyncio.sleep(0.1)


def link_in(message: EmailMessage, path: str) -> str:
    """The first link in the mail's text whose path starts with *path* (e.g. "/welcome/")."""
    found = re.search(rf"https?://[^\s/]+{re.escape(path)}[A-Za-z0-9_\-]+", plain_body(message))
    assert found, f"no {path} link in:\n{plain_body(message)}"
    return found.group(0)
