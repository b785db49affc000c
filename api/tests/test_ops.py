"""Operations: health, request ids, security headers on every kind of answer, body limits, the
generic 500, production settings, log injection on a real server, durability settings."""

from __future__ import annotations

import asyncio
import json
import os
import re
import secrets
import signal
import socket
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI
from httpx import ASGITransport, AsyncClient
from pydantic import ValidationError

from app.config import Settings, get_settings
from app.db.migrations import head_revision
from app.main import check_durability, create_app

API_DIR = Path(__file__).resolve().parents[1]
REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{8,64}$")


def assert_security_headers(response: httpx.Response) -> None:
    csp = response.headers.get("content-security-policy", "")
    for directive in ("object-src 'none'", "base-uri 'none'", "frame-ancestors 'none'"):
        assert directive in csp, (response.request.url, csp)
    assert response.headers.get("x-content-type-options") == "nosniff"
    assert response.headers.get("referrer-policy")
    assert REQUEST_ID.match(response.headers.get("x-request-id", "")), response.headers
    if response.request.url.path.startswith("/api/"):
        assert response.headers.get("cache-control") == "no-store", response.request.url


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def max_json_body() -> int:
    return get_settings().max_json_body_kb * 1024


def login_body_of_size(size: int) -> bytes:
    body = b'{"email": "nobody@example.test", "password": "not the password"}'
    return body + b" " * (size - len(body))


class TestHealth:
    async def test_liveness(self, client: AsyncClient) -> None:
        response = await client.get("/api/health")
        assert response.status_code == 200
        assert response.json() == {"status": "ok"}

    async def test_readiness_reports_the_head_revision(self, client: AsyncClient) -> None:
        response = await client.get("/api/health/ready")
        assert response.status_code == 200, response.text
        assert response.json()["revision"] == head_revision()
        assert response.json()["status"] == "ok"


class TestRequestId:
    @pytest.mark.parametrize("incoming", ["abcd1234", "req-2026.11_26-" + "x" * 49])
    async def test_well_formed_id_is_echoed(self, client: AsyncClient, incoming: str) -> None:
        response = await client.get("/api/health", headers={"X-Request-ID": incoming})
        assert response.headers["x-request-id"] == incoming

    @pytest.mark.parametrize("incoming", ["bad id\r\nx", "x" * 300, "short", "semi;colon-id"])
    async def test_malformed_id_is_replaced(self, client: AsyncClient, incoming: str) -> None:
        response = await client.get("/api/health", headers={"X-Request-ID": incoming})
        echoed = response.headers["x-request-id"]
        assert echoed != incoming
        assert REQUEST_ID.match(echoed)

    async def test_each_answer_gets_its_own_id(self, client: AsyncClient) -> None:
        ids = {(await client.get("/api/health")).headers["x-request-id"] for _ in range(3)}
        assert len(ids) == 3


class TestSecurityHeaders:
    async def test_json_answers(self, client: AsyncClient) -> None:
        answers = {
            200: await client.get("/api/health"),
            401: await client.get("/api/me"),
            404: await client.get(f"/api/no-such-thing-{uuid.uuid4().hex}"),
            405: await client.delete("/api/health"),
            422: await client.post("/api/auth/login", json={}),
            413: await client.post(
                "/api/auth/login",
                content=login_body_of_size(max_json_body() + 1),
                headers={"Content-Type": "application/json"},
            ),
        }
        for status, response in answers.items():
            assert response.status_code == status, (status, response.text)
            assert response.headers["content-type"].startswith("application/json")
            assert_security_headers(response)

    async def test_web_page(self, client: AsyncClient) -> None:
        response = await client.get("/")
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/html")
        assert_security_headers(response)

    async def test_docs_page_uses_only_local_assets(self, client: AsyncClient) -> None:
        response = await client.get("/api/docs")
        assert response.status_code == 200
        assert_security_headers(response)
        assets = re.findall(r'(?:src|href)="([^"]*)"', response.text)
        assert "/api/static/docs/swagger-ui-bundle.js" in assets
        assert [a for a in assets if not a.startswith("/api/static/docs/")] == []
        foreign = re.findall(r"(?:https?:)?//([^/\s\"'<>]+)", response.text)
        assert [host for host in foreign if host != "testserver"] == []

        bundle = await client.get("/api/static/docs/swagger-ui-bundle.js")
        assert bundle.status_code == 200
        assert "javascript" in bundle.headers["content-type"]
        assert "SwaggerUIBundle" in bundle.text
        assert_security_headers(bundle)

    async def test_openapi_schema(self, client: AsyncClient) -> None:
        response = await client.get("/api/openapi.json")
        assert response.status_code == 200
        schema = json.loads(response.text)
        assert "/api/health" in schema["paths"]
        assert "/api/auth/login" in schema["paths"]
        assert_security_headers(response)


class TestBodyLimits:
    async def test_body_at_the_limit_is_read(self, client: AsyncClient) -> None:
        response = await client.post(
            "/api/auth/login",
            content=login_body_of_size(max_json_body()),
            headers={"Content-Type": "application/json"},
        )
        assert response.status_code == 401, response.text

    async def test_declared_oversized_body_is_refused(self, client: AsyncClient) -> None:
        response = await client.post(
            "/api/auth/login",
            content=login_body_of_size(max_json_body() + 1),
            headers={"Content-Type": "application/json"},
        )
        assert response.status_code == 413
        assert response.json()["code"] == "payload_too_large"

    async def test_chunked_oversized_body_is_refused(self, client: AsyncClient) -> None:
        body = login_body_of_size(max_json_body() + 1)

        async def chunks() -> AsyncIterator[bytes]:
            for start in range(0, len(body), 64 * 1024):
                yield body[start : start + 64 * 1024]

        response = await client.post(
            "/api/auth/login", content=chunks(), headers={"Content-Type": "application/json"}
        )
        assert "content-length" not in response.request.headers
        assert response.status_code == 413, response.text
        assert response.json()["code"] == "payload_too_large"
        assert_security_headers(response)

    async def test_malformed_json_is_422(self, client: AsyncClient) -> None:
        response = await client.post(
            "/api/auth/login",
            content=b'{"email": "a@b.test", "password": ',
            headers={"Content-Type": "application/json"},
        )
        assert response.status_code == 422
        assert response.json()["code"] == "validation_error"
        assert_security_headers(response)


class TestUnexpectedError:
    @pytest.fixture
    def failing_app(self) -> FastAPI:
        app = create_app()

        async def explode() -> None:
            raise RuntimeError("secret-trace-marker")

        app.add_api_route("/api/test-explode", explode)
        app.router.routes.insert(0, app.router.routes.pop())  # ahead of the web UI catch-all
        return app

    async def test_generic_500_without_internals(self, failing_app: FastAPI) -> None:
        async with AsyncClient(
            transport=ASGITransport(app=failing_app), base_url="http://testserver"
        ) as client:
            response = await client.get(
                "/api/test-explode", headers={"X-Request-ID": "explode-request-1"}
            )
        assert response.status_code == 500
        assert response.json()["detail"] == "Internal server error"
        assert "Traceback" not in response.text
        assert "secret-trace-marker" not in response.text
        assert "RuntimeError" not in response.text
        assert response.headers["x-request-id"] == "explode-request-1"
        assert_security_headers(response)


class TestProductionSecrets:
    @pytest.mark.parametrize("key", [None, "change-me", secrets.token_urlsafe(15)[:20]])
    def test_unsafe_keys_are_refused(self, key: str | None) -> None:
        with pytest.raises(ValidationError, match="ATUM_SECRET_KEY"):
            Settings(env="production", secret_key=key, secret_key_file=None)

    def test_random_key_is_accepted(self) -> None:
        key = secrets.token_urlsafe(36)
        assert len(key) == 48
        settings = Settings(env="production", secret_key=key)
        assert settings.resolved_secret_key() == key

    def test_serve_refuses_to_start_without_a_key(self) -> None:
        env = {**os.environ, "ATUM_ENV": "production", "ATUM_SECRET_KEY": ""}
        env.pop("ATUM_SECRET_KEY_FILE", None)
        result = subprocess.run(
            [sys.executable, "-m", "app.cli", "serve", "--port", str(free_port())],
            cwd=API_DIR,
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert result.returncode != 0
        assert "ATUM_SECRET_KEY" in result.stderr
        assert "Traceback" not in result.stderr + result.stdout
        assert len(result.stderr.strip().splitlines()) == 1, result.stderr


@contextmanager
def running_server(tmp_path: Path, **env: str) -> Iterator[tuple[str, Callable[[], str]]]:
    """A real server (``atum-desk serve``) on a free port; yields its base URL and a function that
    stops it and returns what it wrote to stderr."""
    port = free_port()
    stderr_path = tmp_path / "server.stderr"
    with stderr_path.open("wb") as stderr:
        proc = subprocess.Popen(
            [sys.executable, "-m", "app.cli", "serve", "--host", "127.0.0.1", "--port", str(port)],
            cwd=API_DIR,
            env={**os.environ, **env},
            stdout=subprocess.DEVNULL,
            stderr=stderr,
        )

    def stop() -> str:
        if proc.poll() is None:
            proc.send_signal(signal.SIGINT)
            proc.wait(timeout=30)
        return stderr_path.read_text()

    try:
        yield f"http://127.0.0.1:{port}", stop
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


async def wait_until_ready(base_url: str, deadline_s: float = 60) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + deadline_s
    async with AsyncClient(base_url=base_url, timeout=2) as client:
        while True:
            try:
                if (await client.get("/api/health")).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            assert loop.time() < deadline, "server did not start"
            await asyncio.sleep(0.1)


async def test_user_input_cannot_forge_log_lines(tmp_path: Path) -> None:
    forged = '{"event": "forged-admin-login", "level": "info"}'
    password = f"pw-{uuid.uuid4().hex}"
    with running_server(tmp_path, ATUM_LOG_FORMAT="json", ATUM_LOG_LEVEL="INFO") as (url, stop):
        await wait_until_ready(url)
        async with AsyncClient(base_url=url, timeout=10) as client:
            login = await client.post(
                "/api/auth/login",
                json={"email": f"victim@example.test\r\n{forged}", "password": password},
            )
            assert login.status_code == 401
            injected_path = await client.get("/api/nothing%0D%0A" + forged.replace('"', "%22"))
            assert injected_path.status_code == 404
        logs = stop()

    lines = logs.splitlines()
    entries = [json.loads(line) for line in lines]
    assert not [line for line in lines if line.startswith(forged)]
    assert not [e for e in entries if e.get("event") == "forged-admin-login"]
    requests = {e["path"]: e for e in entries if e.get("event") == "request"}
    assert requests["/api/auth/login"]["status"] == 401
    (escaped,) = [p for p in requests if p.startswith("/api/nothing")]
    assert "\r" not in escaped and "\n" not in escaped
    assert "\\r\\n" in escaped
    assert password not in logs


async def test_durability_settings_are_on() -> None:
    assert await check_durability() == {
        "fsync": "on",
        "synchronous_commit": "on",
        "full_page_writes": "on",
    }
