"""The production stack, for real, on loopback.

PostgreSQL (the system server on 127.0.0.1:5432 when there is one, else the embedded one) gets a
fresh database and its two roles from infra/scripts/provision-db.sh; the schema is migrated as
the owner and the app role granted its privileges with `./atum-desk`. gunicorn runs with the
exact command line of infra/systemd/atum-desk-api.service and Debian's nginx with the project's
site config, both with only ports and paths substituted (nginx's workers run as `nobody` in the
app's group, as www-data does in production). The tests talk HTTPS to nginx and trust only the
certificate made for it; one check goes straight to gunicorn's socket to see what the app sent.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import os
import re
import secrets
import shlex
import shutil
import signal
import socket
import ssl
import struct
import subprocess
import tempfile
import time
import uuid
import zlib
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from http.cookiejar import CookieJar, DefaultCookiePolicy
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest
from sqlalchemy.engine import make_url

from app.middleware.security_headers import API_CSP, PAGE_CSP
from app.utils.filenames import content_disposition

REPO = Path(__file__).resolve().parents[2]
INFRA = REPO / "infra"
API_UNIT = INFRA / "systemd" / "atum-desk-api.service"
CUSTOMER = ("user@acme.test", "acme-user-demo")
MANAGER = ("manager@atum.test", "atum-manager-demo")
AGENT = ("agent@atum.test", "atum-agent-demo")
HSTS = "max-age=31536000"
DEADLINE = 60.0


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def png(size: int = 0) -> bytes:
    """A real PNG, padded with a text chunk to about *size* bytes."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        crc = zlib.crc32(kind + data) & 0xFFFFFFFF
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)

    padding = b"Comment\x00" + secrets.token_hex(max(size // 2, 8)).encode()
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0))
        + chunk(b"tEXt", padding[: max(size - 70, 16)])
        + chunk(b"IDAT", zlib.compress(b"\x00\xff\x80\x00"))
        + chunk(b"IEND", b"")
    )


def unit_service(unit: Path) -> list[tuple[str, str]]:
    entries, section = [], ""
    for line in unit.read_text().splitlines():
        line = line.strip()
        if line.startswith("["):
            section = line
        elif section == "[Service]" and "=" in line and not line.startswith("#"):
            key, _, value = line.partition("=")
            entries.append((key, value))
    return entries


def systemd_expand(text: str, env: dict[str, str]) -> str:
    return re.sub(r"\$\{(\w+)\}", lambda m: env.get(m.group(1), ""), text)


@dataclass
class Database:
    admin_env: dict[str, str]  # PG* variables of a superuser
    host: str
    port: int | None
    name: str = field(default_factory=lambda: f"atum_deploy_{uuid.uuid4().hex[:10]}")
    owner_password: str = field(default_factory=lambda: secrets.token_hex(16))
    app_password: str = field(default_factory=lambda: secrets.token_hex(16))

    @property
    def owner(self) -> str:
        return f"{self.name}_owner"

    @property
    def app(self) -> str:
        return f"{self.name}_app"

    def url(self, role: str, password: str) -> str:
        if self.host.startswith("/"):
            return f"postgresql://{role}:{password}@/{self.name}?host={self.host}"
        return f"postgresql://{role}:{password}@{self.host}:{self.port}/{self.name}"

    async def connect(self, database: str | None = None) -> asyncpg.Connection:
        return await asyncpg.connect(
            host=self.admin_env["PGHOST"],
            port=int(self.admin_env.get("PGPORT") or 5432),
            user=self.admin_env["PGUSER"],
            password=self.admin_env.get("PGPASSWORD"),
            database=database or self.name,
            timeout=5,
        )


async def pick_server(server_url: str) -> Database:
    """The system PostgreSQL on 127.0.0.1:5432 if it answers, else the tests' embedded server."""
    with contextlib.suppress(OSError, asyncpg.PostgresError, asyncio.TimeoutError):
        conn = await asyncpg.connect(
            host="127.0.0.1", port=5432, user="postgres", database="postgres", timeout=2
        )
        await conn.close()
        return Database(
            {"PGHOST": "127.0.0.1", "PGPORT": "5432", "PGUSER": "postgres"}, "127.0.0.1", 5432
        )
    url = make_url(server_url)
    host = str(url.query.get("host") or url.host)
    env = {"PGHOST": host, "PGUSER": url.username or "postgres"}
    if url.port:
        env["PGPORT"] = str(url.port)
    if url.password:
        env["PGPASSWORD"] = url.password
    return Database(env, host, url.port)


def run(
    argv: list[str], env: dict[str, str], timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(
        argv, env=env, capture_output=True, text=True, timeout=timeout, check=False
    )
    assert done.returncode == 0, f"{argv}: {done.stdout}{done.stderr}"
    return done


def clean_env() -> dict[str, str]:
    """This process's environment without the test suite's ATUM_* settings."""
    return {k: v for k, v in os.environ.items() if not k.startswith("ATUM_")}


@dataclass
class Stack:
    root: Path
    https: str
    http: str
    cert: Path
    env: dict[str, str]
    database: Database
    web_root: Path
    gunicorn: subprocess.Popen[bytes]
    nginx: subprocess.Popen[bytes]

    @property
    def socket(self) -> Path:
        return Path(self.env["ATUM_API_SOCKET"])

    @property
    def uploads(self) -> Path:
        return Path(self.env["ATUM_DATA_DIR"]) / "uploads"

    def client(self) -> httpx.AsyncClient:
        context = ssl.create_default_context(cafile=str(self.cert))
        no_cookies = CookieJar(policy=DefaultCookiePolicy(allowed_domains=[]))
        return httpx.AsyncClient(
            base_url=self.https, verify=context, cookies=no_cookies, timeout=30
        )

    def app_direct(self) -> httpx.AsyncClient:
        """Straight to gunicorn's socket, bypassing nginx."""
        transport = httpx.AsyncHTTPTransport(uds=str(self.socket))
        return httpx.AsyncClient(transport=transport, base_url="http://localhost", timeout=30)

    def app_log_request_ids(self) -> set[str]:
        found = set()
        for line in (self.root / "app.log").read_text(errors="replace").splitlines():
            if line.startswith("{"):
                with contextlib.suppress(ValueError):
                    rid = json.loads(line).get("request_id")
                    if rid:
                        found.add(str(rid))
        return found

    def nginx_log(self) -> str:
        return (self.root / "nginx" / "atum-desk.access.log").read_text(errors="replace")


async def eventually(check: Callable[[], Awaitable[bool]], what: str, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while not await check():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        await asyncio.sleep(0.1)


def stop(proc: subprocess.Popen[bytes] | None) -> None:
    if proc is None or proc.poll() is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)


def web_root_for(root: Path) -> Path:
    """The built web UI when there is one; otherwise a stand-in with the same shape."""
    dist = REPO / "web" / "dist"
    if (dist / "index.html").is_file() and any((dist / "assets").glob("*.js")):
        return dist
    web = root / "web"
    (web / "assets").mkdir(parents=True)
    (web / "index.html").write_text(
        '<!doctype html><html><head><script type="module" src="/assets/index-4f2a9c1b.js">'
        "</script></head><body><div id=root>ATUM DESK stand-in</div></body></html>\n"
    )
    (web / "assets" / "index-4f2a9c1b.js").write_text("console.log('atum');\n")
    return web


def start_gunicorn(root: Path, env: dict[str, str]) -> subprocess.Popen[bytes]:
    """atum-desk-api.service's ExecStart, WorkingDirectory and Environment, paths substituted."""
    paths = {
        "/opt/atum-desk/venv": str(REPO / "api" / ".venv"),
        "/opt/atum-desk/app": str(REPO),
        "/run/atum-desk": str(root / "run"),
    }
    service = unit_service(API_UNIT)

    def substituted(value: str) -> str:
        for installed, here in paths.items():
            value = value.replace(installed, here)
        return value

    unit_env: dict[str, str] = {}
    for key, value in service:
        if key == "Environment":
            unit_env.update(item.split("=", 1) for item in shlex.split(value))
    process_env = {**clean_env(), **unit_env, **env}
    (exec_start,) = [v for k, v in service if k == "ExecStart"]
    (workdir,) = [v for k, v in service if k == "WorkingDirectory"]
    argv = shlex.split(systemd_expand(substituted(exec_start), process_env))
    log = (root / "app.log").open("ab")
    return subprocess.Popen(
        argv,
        cwd=substituted(workdir),
        env=process_env,
        stdout=log,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
        start_new_session=True,
    )


def start_nginx(root: Path, env_file: Path) -> subprocess.Popen[bytes]:
    prefix = root / "nginx"
    site = prefix / "atum-desk.conf"
    site.write_text(
        run([str(INFRA / "scripts" / "render-nginx.sh"), str(env_file)], clean_env()).stdout
    )
    main = prefix / "nginx.conf"
    main.write_text(
        f"""user nobody root;
worker_processes 1;
pid {prefix}/nginx.pid;
error_log {prefix}/error.log;
events {{ worker_connections 256; }}
http {{
    include /etc/nginx/mime.types;
    default_type application/octet-stream;
    sendfile on;
    access_log {prefix}/access.log;
    client_body_temp_path {prefix}/body;
    proxy_temp_path {prefix}/proxy;
    fastcgi_temp_path {prefix}/fastcgi;
    uwsgi_temp_path {prefix}/uwsgi;
    scgi_temp_path {prefix}/scgi;
    include {site};
}}
"""
    )
    return subprocess.Popen(
        ["nginx", "-p", str(prefix), "-c", str(main), "-g", "daemon off;"],
        stdout=(prefix / "nginx.out").open("ab"),
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
        start_new_session=True,
    )


def make_root() -> Path:
    """A private directory the nginx workers (group root here, like www-data in the atum-desk
    group in production) can traverse."""
    root = Path(tempfile.mkdtemp(prefix="atum-deploy-"))
    root.chmod(0o750)
    for sub in ("run", "data", "data/uploads", "nginx", "tls"):
        (root / sub).mkdir(mode=0o750)
    return root


@pytest.fixture(scope="module")
async def stack(server_url: str) -> AsyncIterator[Stack]:
    root = make_root()
    database = await pick_server(server_url)
    gunicorn = nginx = None
    provisioned = False
    try:
        https_port, http_port = free_port(), free_port()
        cert, key = root / "tls" / "cert.pem", root / "tls" / "key.pem"
        run(
            ["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
             "-nodes", "-days", "2", "-subj", "/CN=127.0.0.1",
             "-addext", "subjectAltName=IP:127.0.0.1",
             "-keyout", str(key), "-out", str(cert)],
            clean_env(),
        )  # fmt: skip
        web_root = web_root_for(root)
        env = {
            "ATUM_ENV": "production",
            "ATUM_SECRET_KEY": secrets.token_urlsafe(48),
            "ATUM_DATABASE_URL": database.url(database.app, database.app_password),
            "ATUM_DATA_DIR": str(root / "data"),
            "ATUM_PUBLIC_URL": f"https://127.0.0.1:{https_port}",
            "ATUM_MAX_UPLOAD_MB": "1",
            "ATUM_ACCEL_REDIRECT_PREFIX": "/_atum_uploads",
            "ATUM_API_WORKERS": "2",
            "ATUM_LOG_LEVEL": "INFO",
            "ATUM_LOG_FORMAT": "json",
            "ATUM_NGINX_HTTP_LISTEN": f"127.0.0.1:{http_port}",
            "ATUM_NGINX_HTTPS_LISTEN": f"127.0.0.1:{https_port}",
            "ATUM_NGINX_LOG_DIR": str(root / "nginx"),
            "ATUM_TLS_CERT": str(cert),
            "ATUM_TLS_KEY": str(key),
            "ATUM_WEB_ROOT": str(web_root),
            "ATUM_API_SOCKET": str(root / "run" / "api.sock"),
        }
        env_file = root / "atum-desk.env"
        env_file.write_text("".join(f"{k}={v}\n" for k, v in env.items()))

        provision = {
            **clean_env(),
            **database.admin_env,
            "ATUM_DB_NAME": database.name,
            "ATUM_DB_OWNER": database.owner,
            "ATUM_DB_OWNER_PASSWORD": database.owner_password,
            "ATUM_DB_APP_ROLE": database.app,
            "ATUM_DB_APP_PASSWORD": database.app_password,
        }
        provisioned = True
        created = run([str(INFRA / "scripts" / "provision-db.sh")], provision)
        assert f"created database {database.name}" in created.stdout
        as_owner = {
            **clean_env(),
            **env,
            "ATUM_DATABASE_URL": database.url(database.owner, database.owner_password),
        }
        atum_desk = str(REPO / "atum-desk")

        def migrate_grant_and_seed() -> None:
            run([atum_desk, "migrate"], as_owner)
            run([atum_desk, "grant-app-role", database.app], as_owner)
            run([atum_desk, "seed-demo"], {**clean_env(), **env})

        # The servers boot while the schema is built: readiness below waits for both.
        schema = asyncio.create_task(asyncio.to_thread(migrate_grant_and_seed))
        gunicorn = start_gunicorn(root, env)
        nginx = start_nginx(root, env_file)
        built = Stack(
            root,
            f"https://127.0.0.1:{https_port}",
            f"http://127.0.0.1:{http_port}",
            cert,
            env,
            database,
            web_root,
            gunicorn,
            nginx,
        )

        async def ready() -> bool:
            assert gunicorn.poll() is None, (root / "app.log").read_text()
            assert nginx.poll() is None, (root / "nginx" / "nginx.out").read_text()
            try:
                async with built.client() as c:
                    return (await c.get("/api/health/ready")).status_code == 200
            except httpx.TransportError:
                return False

        await schema
        await eventually(ready, "gunicorn behind nginx", DEADLINE)
        yield built
    finally:
        stop(nginx)
        stop(gunicorn)
        if provisioned:
            admin = await database.connect("postgres")
            try:
                await admin.execute(f'DROP DATABASE IF EXISTS "{database.name}" WITH (FORCE)')
                await admin.execute(f'DROP ROLE IF EXISTS "{database.app}"')
                await admin.execute(f'DROP ROLE IF EXISTS "{database.owner}"')
            finally:
                await admin.close()
        shutil.rmtree(root, ignore_errors=True)


@dataclass
class User:
    client: httpx.AsyncClient
    token: str
    id: str

    async def call(self, method: str, url: str, **kwargs: Any) -> httpx.Response:
        headers = {"Authorization": f"Bearer {self.token}", **kwargs.pop("headers", {})}
        return await self.client.request(method, url, headers=headers, **kwargs)


async def sign_in(
    client: httpx.AsyncClient, login: tuple[str, str], headers: dict[str, str] | None = None
) -> User:
    email, password = login
    answer = await client.post(
        "/api/auth/login", json={"email": email, "password": password}, headers=headers or {}
    )
    assert answer.status_code == 200, answer.text
    body = answer.json()
    return User(client, body["access_token"], body["user"]["id"])


def request_id() -> str:
    return f"deploy-{uuid.uuid4().hex}"


@pytest.fixture(scope="module")
async def people(stack: Stack) -> AsyncIterator[dict[str, User]]:
    async with stack.client() as client:
        yield {
            "customer": await sign_in(client, CUSTOMER),
            "manager": await sign_in(client, MANAGER),
            "agent": await sign_in(client, AGENT),
        }


def nginx_etag(path: Path) -> str:
    st = path.stat()
    return f'"{int(st.st_mtime):x}-{st.st_size:x}"'


class TestFirstTicketThroughNginx:
    async def test_open_accept_assign_reply_and_download(
        self, stack: Stack, people: dict[str, User]
    ) -> None:
        customer, manager, agent = people["customer"], people["manager"], people["agent"]
        opened = await customer.call(
            "POST",
            "/api/tickets",
            json={
                "title": "VPN drops every hour",
                "description": "Since Monday.",
                "priority": "P2",
            },
        )
        assert opened.status_code == 201, opened.text
        assert opened.json()["status"] == "NEW"
        tid = opened.json()["id"]

        image = png(5000)
        uploaded = await customer.call(
            "POST",
            f"/api/tickets/{tid}/attachments",
            files={"file": ("vpn.png", image, "image/png")},
        )
        assert uploaded.status_code == 201, uploaded.text
        attachment = uploaded.json()
        assert attachment["sha256"] == hashlib.sha256(image).hexdigest()

        accepted = await manager.call("POST", f"/api/internal/tickets/{tid}/accept", json={})
        assert (accepted.status_code, accepted.json()["status"]) == (200, "ACCEPTED"), accepted.text
        assigned = await manager.call(
            "POST", f"/api/internal/tickets/{tid}/assign", json={"assignee_id": agent.id}
        )
        assert (assigned.status_code, assigned.json()["status"]) == (200, "ASSIGNED"), assigned.text
        reply = await agent.call(
            "POST",
            f"/api/internal/tickets/{tid}/comments",
            json={"body": "Looking at the gateway now.", "is_internal": False},
        )
        assert reply.status_code == 201, reply.text
        seen = await customer.call("GET", f"/api/tickets/{tid}")
        assert [c["body"] for c in seen.json()["comments"]] == ["Looking at the gateway now."]

        rid = request_id()
        url = f"/api/tickets/{tid}/attachments/{attachment['id']}"
        download = await customer.call("GET", url, headers={"X-Request-ID": rid})
        assert download.status_code == 200, download.text
        assert download.content == image
        assert download.headers["content-type"] == "image/png"
        assert download.headers["content-disposition"] == content_disposition("vpn.png")
        assert download.headers["x-content-type-options"] == "nosniff"
        assert download.headers["content-security-policy"] == "default-src 'none'; sandbox"
        assert download.headers["cache-control"] == "private, no-store"
        assert download.headers["strict-transport-security"] == HSTS
        assert download.headers["x-request-id"] == rid

        # nginx sent the bytes: its ETag is built from the stored file's mtime and size, and the
        # app's own answer to the same request is an empty body with X-Accel-Redirect.
        conn = await stack.database.connect()
        try:
            key = await conn.fetchval(
                "SELECT file_path FROM ticket_attachments WHERE id = $1",
                uuid.UUID(attachment["id"]),
            )
            audited = await conn.fetchval(
                "SELECT count(*) FROM audit_log WHERE action = 'attachment.downloaded'"
                " AND request_id = $1",
                rid,
            )
        finally:
            await conn.close()
        assert audited == 1
        stored = stack.uploads / key[:2] / key
        assert download.headers["etag"] == nginx_etag(stored)
        assert (stored.stat().st_mode & 0o777, stored.parent.stat().st_mode & 0o777) == (
            0o640,
            0o750,
        )
        async with stack.app_direct() as app:
            direct = await app.get(url, headers={"Authorization": f"Bearer {customer.token}"})
        assert direct.status_code == 200
        assert direct.content == b""
        assert direct.headers["x-accel-redirect"] == f"/_atum_uploads/{key[:2]}/{key}"
        assert direct.headers["content-disposition"] == download.headers["content-disposition"]

        hidden = await customer.call("GET", f"/_atum_uploads/{key[:2]}/{key}")
        assert hidden.status_code == 404
        assert image not in hidden.content

    async def test_client_address_comes_from_nginx_not_from_the_client(self, stack: Stack) -> None:
        rid = request_id()
        spoofed = {
            "X-Real-IP": "203.0.113.9",
            "X-Forwarded-For": "198.51.100.7",
            "X-Request-ID": rid,
        }
        async with stack.client() as client:
            await sign_in(client, MANAGER, headers=spoofed)
        conn = await stack.database.connect()
        try:
            ip = await conn.fetchval(
                "SELECT ip FROM audit_log WHERE action = 'auth.login' AND request_id = $1",
                rid,
            )
        finally:
            await conn.close()
        assert ip == "127.0.0.1"

    async def test_sockets_are_private(self, stack: Stack) -> None:
        assert stack.socket.is_socket()
        assert stack.socket.stat().st_mode & 0o777 == 0o770
        control = stack.socket.parent / "gunicorn.ctl"
        assert control.is_socket()
        assert control.stat().st_mode & 0o777 == 0o600

    async def test_workers_share_the_loaded_application(self, stack: Stack) -> None:
        """The unit loads the application once (--preload) and forks the workers from it: the
        code, schemas and routes are pages the workers share with the master, not copies each
        worker makes (without --preload a worker shares ~4 MB of written pages; with it ~90)."""
        async with stack.client() as client:  # every worker has served a request
            for _ in range(8):
                assert (await client.get("/api/health")).status_code == 200
        for pid in _children(stack.gunicorn.pid):
            rollup = _smaps_rollup(pid)
            assert rollup["Shared_Dirty"] > 40 * 1024, rollup  # kB


def _children(pid: int) -> list[int]:
    found = [int(p) for p in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    assert found, "gunicorn has no workers"
    return found


def _smaps_rollup(pid: int) -> dict[str, int]:
    """A process's memory totals in kB (/proc/<pid>/smaps_rollup)."""
    lines = Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines()[1:]
    return {line.split()[0].rstrip(":"): int(line.split()[1]) for line in lines}


class TestUploadLimit:
    async def test_nginx_refuses_a_body_over_the_limit_before_the_app_sees_it(
        self, stack: Stack, people: dict[str, User]
    ) -> None:
        customer = people["customer"]
        opened = await customer.call(
            "POST", "/api/tickets", json={"title": "Big files", "description": "two of them"}
        )
        tid = opened.json()["id"]
        files_before = stored_files(stack.uploads)

        fits = await customer.call(
            "POST",
            f"/api/tickets/{tid}/attachments",
            files={"file": ("fits.png", png(1_000_000), "image/png")},
        )
        assert fits.status_code == 201, fits.text

        rid = request_id()
        too_big = await customer.call(
            "POST",
            f"/api/tickets/{tid}/attachments",
            files={"file": ("big.png", png(2 * 1024 * 1024), "image/png")},
            headers={"X-Request-ID": rid},
        )
        assert too_big.status_code == 413
        assert too_big.json() == {
            "detail": "The file is larger than 1 MB",
            "code": "payload_too_large",
        }
        assert too_big.headers["x-request-id"] == rid
        assert too_big.headers["strict-transport-security"] == HSTS
        await eventually(lambda: _logged(stack, rid), "nginx's access log line")
        assert re.search(rf'" 413 .* rid={rid} .* urt=-$', stack.nginx_log(), re.M)
        assert rid not in stack.app_log_request_ids()
        assert len(stored_files(stack.uploads) - files_before) == 1


def stored_files(uploads: Path) -> set[Path]:
    return {p for p in uploads.rglob("*") if p.is_file()}


async def _logged(stack: Stack, rid: str) -> bool:
    return f"rid={rid} " in stack.nginx_log()


class TestPagesAndHeaders:
    async def test_spa_deep_links_get_index_html(self, stack: Stack) -> None:
        index = (stack.web_root / "index.html").read_bytes()
        async with stack.client() as client:
            for path in ("/", f"/desk/tickets/{uuid.uuid4()}", "/portal/tickets/new?x=1"):
                page = await client.get(path)
                assert page.status_code == 200, path
                assert page.content == index, path
                assert page.headers["cache-control"] == "no-cache"
                self.assert_page_headers(page)

    async def test_hashed_assets_are_cached_for_a_year(self, stack: Stack) -> None:
        asset = sorted((stack.web_root / "assets").glob("*.js"))[0]
        async with stack.client() as client:
            served = await client.get(f"/assets/{asset.name}")
            missing = await client.get("/assets/index-00000000.js")
        assert served.status_code == 200
        assert served.content == asset.read_bytes()
        assert served.headers["cache-control"] == "public, max-age=31536000, immutable"
        self.assert_page_headers(served)
        assert missing.status_code == 404

    async def test_api_answers_carry_the_apps_headers_and_nginxs_hsts(self, stack: Stack) -> None:
        async with stack.client() as client:
            health = await client.get("/api/health")
        assert health.json() == {"status": "ok"}
        assert health.headers["content-security-policy"] == API_CSP.decode()
        assert health.headers["cache-control"] == "no-store"
        assert health.headers["strict-transport-security"] == HSTS
        assert health.headers.get_list("content-security-policy") == [API_CSP.decode()]
        assert health.headers["server"] == "nginx"

    async def test_plain_http_redirects_to_https(self, stack: Stack) -> None:
        async with httpx.AsyncClient(timeout=10) as client:
            answer = await client.get(f"{stack.http}/desk/tickets?status=NEW")
        assert answer.status_code == 301
        assert answer.headers["location"] == f"{stack.https}/desk/tickets?status=NEW"

    @staticmethod
    def assert_page_headers(page: httpx.Response) -> None:
        assert page.headers["strict-transport-security"] == HSTS
        assert page.headers["content-security-policy"] == PAGE_CSP.decode()
        assert page.headers["x-content-type-options"] == "nosniff"
        assert page.headers["x-frame-options"] == "DENY"
        assert page.headers["referrer-policy"] == "no-referrer"
        assert page.headers["cross-origin-opener-policy"] == "same-origin"


class TestRateLimits:
    async def test_ticket_creation_is_limited_per_address_reads_are_not(
        self, stack: Stack, people: dict[str, User]
    ) -> None:
        customer = people["customer"]
        for _ in range(40):
            listed = await customer.call("GET", "/api/tickets")
            assert listed.status_code == 200
        statuses: list[int] = []
        started = time.monotonic()
        while statuses[-2:] != [429, 429] and len(statuses) < 80:
            created = await customer.call("POST", "/api/tickets", json={"title": ""})
            statuses.append(created.status_code)
        refilled = (time.monotonic() - started) / 2  # the zone's rate: 30 a minute
        assert set(statuses) == {422, 429}, statuses
        assert 20 <= statuses.index(429) <= 31 + refilled + 1, statuses
        assert created.json()["code"] == "rate_limited"

    async def test_login_flood_is_answered_by_nginx(self, stack: Stack) -> None:
        answers: list[tuple[str, httpx.Response]] = []
        started = time.monotonic()
        async with stack.client() as client:
            for _ in range(60):
                rid = request_id()
                answer = await client.post(
                    "/api/auth/login",
                    json={
                        "email": f"nobody-{uuid.uuid4().hex[:8]}@example.test",
                        "password": "x" * 12,
                    },
                    headers={"X-Request-ID": rid},
                )
                answers.append((rid, answer))
                if (
                    answer.status_code == 429
                    and len(answers) > 1
                    and answers[-2][1].status_code == 429
                ):
                    break
        refilled = (time.monotonic() - started) / 3  # the zone's rate: 20 a minute
        statuses = [a.status_code for _, a in answers]
        assert set(statuses) == {401, 429}, statuses
        assert 8 <= statuses.index(429) <= 21 + refilled + 1, statuses
        limited = [(rid, a) for rid, a in answers if a.status_code == 429]
        passed = [rid for rid, a in answers if a.status_code == 401]
        for rid, answer in limited:
            assert answer.json() == {
                "detail": "Too many requests, try again in a minute",
                "code": "rate_limited",
            }
            assert answer.headers["retry-after"] == "60"
            assert answer.headers["x-request-id"] == rid
            await eventually(lambda rid=rid: _logged(stack, rid), "nginx's access log line")
            assert re.search(rf'" 429 .* rid={rid} .* urt=-$', stack.nginx_log(), re.M)

        async def app_saw_the_rest() -> bool:
            return set(passed) <= stack.app_log_request_ids()

        await eventually(app_saw_the_rest, "the app's log lines of the answered logins")
        assert not {rid for rid, _ in limited} & stack.app_log_request_ids()


class TestApiDown:
    async def test_nginx_answers_json_when_the_api_is_gone(self, stack: Stack) -> None:
        stop(stack.gunicorn)
        async with stack.client() as client:
            answer = await client.get("/api/health")
        assert answer.status_code == 502
        assert answer.json()["code"] == "unavailable"
        assert answer.headers["retry-after"] == "10"
        assert answer.headers["strict-transport-security"] == HSTS
