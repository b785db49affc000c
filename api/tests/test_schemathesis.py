"""Schemathesis against the application's own OpenAPI schema, over HTTP, as every role.

A real API process (uvicorn on loopback) runs against a database of its own on the test server,
so the fuzzer's writes (new organizations, renamed SLA policies, revoked sessions) never reach
other tests. Three campaigns:

- every role (anonymous, customer_user, customer_admin, agent, manager, admin): the examples,
  coverage, fuzzing and stateful phases with every check (no 5xx, status codes, content types,
  headers and bodies as documented, invalid data refused, 405 for undeclared methods with a
  correct Allow, auth not ignored, use-after-free, resource availability);
- two customers of different organizations as schemathesis "peers": its stateful
  object-level-authorization check replays one customer's reads as the other;
- explicitly: generated requests for every operation that addresses an object, filled with the ids
  of objects customer A created through the API, sent as customer B: never a 2xx, 404 where the
  route is a customer's, nothing of A's in the answer, and A's ticket unchanged.

The run is bounded and reproducible (fixed seed, deterministic generation): ATUM_FUZZ_EXAMPLES
(default 3) examples per operation in ``make test``; ``make fuzz`` raises it.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncSession, create_async_engine
from sqlalchemy.pool import NullPool

from app.auth.tokens import create_access_token
from app.db import migrations
from app.db.embedded import to_async_url
from app.models import AuthSession, Organization, User
from app.models.enums import Role
from app.utils.clock import utcnow
from tests.factories import make_org, make_user

API_DIR = Path(__file__).resolve().parents[1]
SCHEMATHESIS = Path(sys.executable).with_name("schemathesis")
DEFAULT_EXAMPLES = 3
EXAMPLES = int(os.environ.get("ATUM_FUZZ_EXAMPLES", str(DEFAULT_EXAMPLES)))
SEED = int(os.environ.get("ATUM_FUZZ_SEED", "20261126"))
STARTUP_SECONDS = 60
CALLERS = ("anonymous", *(role.value for role in Role))
# Signing out revokes the fuzzer's own token; it is exercised by the route-coverage test.
# Routes that end the fuzzer's own session (it would spend the rest of the run on 401s); the
# account tests cover them.
EXCLUDED_PATHS = (
    "/api/auth/logout",
    "/api/me/sessions/{session_id}",
    "/api/users/{user_id}/sessions",
    # A Server-Sent Events stream never ends while its session stands (tests/test_live_events.py).
    "/api/events",
)
# The coverage phase (boundary values, undeclared methods) costs ~15 s per role whatever the
# example budget: in `make test` it runs for the role with the widest surface, in
# `make fuzz` (a larger ATUM_FUZZ_EXAMPLES) for every role.
ALL_PHASES = "coverage,fuzzing,stateful"
QUICK_PHASES = "fuzzing,stateful"
FULL_PHASE_CALLERS = CALLERS if EXAMPLES > DEFAULT_EXAMPLES else ("admin",)
# PATCH /api/internal/tickets/new is the PATCH of /api/internal/tickets/{ticket_id} with a
# malformed id (422), so that path serves PATCH although its own operation is GET only; the
# route-coverage test pins the other methods of the path to 405.
CONFIG = """
[auth]
# Anonymous runs: no guessing of a sign-up flow (POST /api/users is not one).
auto-signup = false

[checks]
enabled = true
# Valid data may still be refused here: a caller's role, a ticket's state, a unique name.
positive_data_acceptance.enabled = false

[[operations]]
include-path = "/api/internal/tickets/new"
checks.unsupported_method.enabled = false
checks.allow_header_conformance.enabled = false

# Likewise POST /api/internal/tickets/bulk beside GET and PATCH /api/internal/tickets/{ticket_id}.
[[operations]]
include-path = "/api/internal/tickets/bulk"
checks.unsupported_method.enabled = false
checks.allow_header_conformance.enabled = false

# Likewise POST /api/me/sessions/revoke-others sits where DELETE /api/me/sessions/{session_id}
# would match a malformed id.
[[operations]]
include-path = "/api/me/sessions/revoke-others"
checks.unsupported_method.enabled = false
checks.allow_header_conformance.enabled = false
"""


# --- a live API on a database of its own ---------------------------------------------------------


def _connect_kwargs(url: str) -> dict[str, Any]:
    parsed = make_url(url)
    return {
        "user": parsed.username,
        "password": parsed.password,
        "host": parsed.query.get("host") or parsed.host,
        "port": parsed.port,
    }


async def create_database(server_url: str, prefix: str = "atum_live") -> str:
    """A new, migrated database on the server of *server_url*; its postgresql:// URL."""
    name = f"{prefix}_{os.getpid()}_{uuid.uuid4().hex[:8]}"
    conn = await asyncpg.connect(database="postgres", **_connect_kwargs(server_url))
    try:
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()
    url = make_url(server_url).set(database=name).render_as_string(hide_password=False)
    await asyncio.to_thread(migrations.upgrade, to_async_url(url))
    return url


async def drop_database(database_url: str) -> None:
    name = make_url(database_url).database
    conn = await asyncpg.connect(database="postgres", **_connect_kwargs(database_url))
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await conn.close()


@dataclass
class Identity:
    user: User
    token: str

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


@dataclass
class Seeded:
    org_a: Organization
    org_b: Organization
    identities: dict[str, Identity]


async def _identity(session: AsyncSession, secret: str, user: User) -> Identity:
    now, lifetime = utcnow(), timedelta(hours=2)
    auth = AuthSession(id=uuid.uuid4(), user_id=user.id, expires_at=now + lifetime)
    session.add(auth)
    await session.flush()
    token = create_access_token(
        secret=secret, user_id=user.id, session_id=auth.id, now=now, lifetime=lifetime
    )
    return Identity(user, token)


async def seed(database_url: str, secret: str) -> Seeded:
    """Organizations A and B; a user of every role (customers of A), customer_b of B, and more
    customers of A and B kept for the explicit cross-tenant test; a bearer token for each."""
    engine = create_async_engine(to_async_url(database_url), poolclass=NullPool)
    try:
        async with AsyncSession(engine, expire_on_commit=False) as session:
            org_a = await make_org(session, name=f"Org A {uuid.uuid4().hex[:6]}")
            org_b = await make_org(session, name=f"Org B {uuid.uuid4().hex[:6]}")
            users = {role.value: await make_user(session, role=role, org=org_a) for role in Role}
            users["customer_b"] = await make_user(session, role=Role.CUSTOMER_USER, org=org_b)
            users["tenant_a"] = await make_user(session, role=Role.CUSTOMER_USER, org=org_a)
            users["tenant_b"] = await make_user(session, role=Role.CUSTOMER_ADMIN, org=org_b)
            identities = {name: await _identity(session, secret, u) for name, u in users.items()}
            await session.commit()
    finally:
        await engine.dispose()
    return Seeded(org_a, org_b, identities)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Server:
    process: subprocess.Popen[bytes]
    url: str
    log: Path

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=15)


def start_server(database_url: str, data_dir: Path, log: Path, **env: str) -> Server:
    """``uvicorn app.main:create_app`` on a free loopback port against *database_url*."""
    port = free_port()
    environment = {
        **os.environ,
        "ATUM_DATABASE_URL": database_url,
        "ATUM_DATA_DIR": str(data_dir),
        "ATUM_LOG_FORMAT": "json",
        "ATUM_LOG_LEVEL": "WARNING",
        **env,
    }
    with log.open("ab") as out:
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
            env=environment,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    return Server(process, f"http://127.0.0.1:{port}", log)


def wait_until_ready(server: Server, deadline_s: float = STARTUP_SECONDS) -> None:
    deadline = time.monotonic() + deadline_s
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            pytest.fail(f"API process exited early:\n{server.log.read_text()[-4000:]}")
        try:
            if httpx.get(f"{server.url}/api/health/ready", timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    pytest.fail(f"API not ready after {deadline_s}s:\n{server.log.read_text()[-4000:]}")


@dataclass
class LiveApi:
    server: Server
    database_url: str
    seeded: Seeded
    workdir: Path

    @property
    def url(self) -> str:
        return self.server.url

    @property
    def schema_url(self) -> str:
        return f"{self.server.url}/api/openapi.json"

    def headers(self, caller: str) -> dict[str, str]:
        return {} if caller == "anonymous" else self.seeded.identities[caller].headers


@pytest.fixture(scope="module")
async def live_api(
    server_url: str, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[LiveApi]:
    workdir = tmp_path_factory.mktemp("schemathesis")
    database_url = await create_database(server_url, "atum_fuzz")
    server: Server | None = None
    try:
        seeded = await seed(database_url, os.environ["ATUM_SECRET_KEY"])
        server = start_server(database_url, workdir / "data", workdir / "api.log")
        await asyncio.to_thread(wait_until_ready, server)
        yield LiveApi(server, database_url, seeded, workdir)
    finally:
        if server is not None:
            server.stop()
        await drop_database(database_url)


# --- the schemathesis command line -------------------------------------------------------------


def run_schemathesis(
    api: LiveApi, *options: str, extra_config: str = ""
) -> subprocess.CompletedProcess[str]:
    config = api.workdir / f"schemathesis-{uuid.uuid4().hex[:8]}.toml"
    config.write_text(extra_config + CONFIG)
    command = [
        str(SCHEMATHESIS),
        "--config-file",
        str(config),
        "run",
        api.schema_url,
        "--seed",
        str(SEED),
        "--generation-deterministic",
        "--request-timeout",
        "30",
        "--workers",
        "1",
        "--no-color",
        *[arg for path in EXCLUDED_PATHS for arg in ("--exclude-path", path)],
        *options,
    ]
    return subprocess.run(
        command, cwd=api.workdir, capture_output=True, text=True, timeout=1800, check=False
    )


def assert_clean(result: subprocess.CompletedProcess[str]) -> None:
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-12000:]
    assert "Tested:" in output, output[-4000:]


def test_stateful_object_level_authorization_between_two_organizations(
    live_api: LiveApi,
) -> None:
    peers = {"customer_a": "tenant_a", "customer_b": "tenant_b"}
    wfc = live_api.workdir / "peers.wfc.json"
    wfc.write_text(
        json.dumps(
            {
                "auth": [
                    {
                        "name": name,
                        "fixedHeaders": [
                            {
                                "name": "Authorization",
                                "value": live_api.headers(identity)["Authorization"],
                            }
                        ],
                    }
                    for name, identity in peers.items()
                ]
            }
        )
    )
    peers_config = f'[auth.wfc]\npath = "{wfc}"\npeers = ["customer_a", "customer_b"]\n'
    result = run_schemathesis(
        live_api,
        "--phases",
        "fuzzing,stateful",
        "--include-path-regex",
        "^/api/tickets",
        "--max-examples",
        str(EXAMPLES * 2),
        extra_config=peers_config,
    )
    assert_clean(result)


# --- explicit cross-tenant requests -------------------------------------------------------------


@dataclass
class Created:
    """What customer A created through the API: ids by path parameter name."""

    ids: dict[str, str]
    ticket_title: str


def _ok(response: httpx.Response, status: int = 201) -> Any:
    assert response.status_code == status, response.text
    return response.json()


@pytest.fixture(scope="module")
def created_by_a(live_api: LiveApi) -> Created:
    headers = live_api.headers("tenant_a")
    title = f"Tenant A secret {uuid.uuid4().hex}"
    with httpx.Client(base_url=live_api.url, headers=headers, timeout=30) as http:
        ticket = _ok(http.post("/api/tickets", json={"title": title, "description": "A only"}))
        _ok(http.post(f"/api/tickets/{ticket['id']}/comments", json={"body": "A's comment"}))
        attachment = _ok(
            http.post(
                f"/api/tickets/{ticket['id']}/attachments",
                files={"file": ("a-only.txt", b"tenant A's file\n", "text/plain")},
            )
        )
    seeded = live_api.seeded
    return Created(
        ids={
            "ticket_id": ticket["id"],
            "attachment_id": attachment["id"],
            "org_id": str(seeded.org_a.id),
            "user_id": str(seeded.identities["tenant_a"].user.id),
            "notification_id": str(uuid.uuid4()),
            "policy_id": str(uuid.uuid4()),
            "service_id": str(uuid.uuid4()),
            "team_id": str(uuid.uuid4()),
            "view_id": str(uuid.uuid4()),
            "reply_id": str(uuid.uuid4()),
            "macro_id": str(uuid.uuid4()),
        },
        ticket_title=title,
    )


def _operations_with_objects(api: LiveApi) -> list[Any]:
    import schemathesis

    schema = schemathesis.openapi.from_url(api.schema_url)
    operations = []
    for result in schema.get_all_operations():
        operation = result.ok()
        if "{" in operation.path and operation.path not in EXCLUDED_PATHS:
            operations.append(operation)
    return operations


def probe_as_b(
    api: LiveApi,
    operation: Any,
    fixed: dict[str, str],
    headers: dict[str, str],
    created: Created,
    seen: dict[str, set[int]],
) -> None:
    """Generated requests for *operation* addressing A's objects, sent with B's credentials."""
    portal = operation.path.startswith("/api/tickets/")

    @settings(
        max_examples=max(EXAMPLES, 3),
        derandomize=True,
        database=None,
        deadline=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(case=operation.as_strategy(path_parameters=fixed))
    def probe(case: Any) -> None:
        response = case.call(base_url=api.url, headers=headers, timeout=30)
        seen.setdefault(operation.label, set()).add(response.status_code)
        assert response.status_code < 500, (operation.label, response.text)
        assert not 200 <= response.status_code < 300, (operation.label, response.text)
        if portal and response.status_code not in (405, 413, 422):
            assert response.status_code == 404, (operation.label, response.text)
        assert created.ticket_title not in response.text
        assert created.ids["ticket_id"] not in response.text

    probe()


def test_customer_b_never_reaches_customer_a_objects(
    live_api: LiveApi, created_by_a: Created
) -> None:
    operations = _operations_with_objects(live_api)
    assert {op.path for op in operations} >= {
        "/api/tickets/{ticket_id}",
        "/api/tickets/{ticket_id}/attachments/{attachment_id}",
        "/api/internal/tickets/{ticket_id}",
    }
    a_headers, b_headers = live_api.headers("tenant_a"), live_api.headers("tenant_b")
    detail = f"{live_api.url}/api/tickets/{created_by_a.ids['ticket_id']}"
    before = httpx.get(detail, headers=a_headers, timeout=30).json()
    seen: dict[str, set[int]] = {}

    for operation in operations:
        fixed = {
            name: value
            for name, value in created_by_a.ids.items()
            if f"{{{name}}}" in operation.path
        }
        probe_as_b(live_api, operation, fixed, b_headers, created_by_a, seen)

    portal_labels = [label for label in seen if " /api/tickets/" in label]
    assert portal_labels and all(404 in seen[label] for label in portal_labels), seen
    after = httpx.get(detail, headers=a_headers, timeout=30).json()
    assert after == before


@pytest.mark.parametrize("caller", CALLERS)
def test_every_operation_as_every_role(live_api: LiveApi, caller: str) -> None:
    headers = [
        arg
        for name, value in live_api.headers(caller).items()
        for arg in ("--header", f"{name}: {value}")
    ]
    assert_clean(
        run_schemathesis(
            live_api,
            "--phases",
            ALL_PHASES if caller in FULL_PHASE_CALLERS else QUICK_PHASES,
            "--max-examples",
            str(EXAMPLES),
            *headers,
        )
    )


def test_the_fuzzed_api_never_answered_500_nor_logged_a_traceback(live_api: LiveApi) -> None:
    log = live_api.server.log.read_text()
    entries = [json.loads(line) for line in log.splitlines() if line.startswith("{")]
    assert not [e for e in entries if e.get("event") == "unhandled_error"], log[-4000:]
    assert "Traceback" not in log, log[-4000:]
