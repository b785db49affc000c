"""Request id, client address, body-size limit and one access-log line per request.

- ``X-Request-ID``: a well-formed incoming id is kept (so nginx and the app log the same id),
  anything else is replaced; the id is echoed on every answer.
- The client address is the socket peer, or ``X-Real-IP`` / the last ``X-Forwarded-For`` hop when
  the peer is a trusted proxy (nginx on a unix socket has no peer address and is trusted).
- JSON bodies larger than ``ATUM_MAX_JSON_BODY_KB`` are refused with 413 before they are read
  whole; multipart uploads are limited by the upload service instead.
"""

from __future__ import annotations

import re
import time
import uuid
from typing import Any

import structlog
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.context import client_ip_var, request_id_var, statement_count_var
from app.errors import BodyTooLarge

_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{8,64}$")
log = structlog.get_logger("atum.access")


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", ()):
        if key == name:
            return str(value.decode("latin-1"))
    return None


class RequestContextMiddleware:
    def __init__(
        self, app: ASGIApp, *, trusted_proxies: list[str], max_json_body: int, upload_body: int
    ) -> None:
        self.app = app
        self.trusted = set(trusted_proxies)
        self.max_json_body = max_json_body
        self.upload_body = upload_body

    def client_ip(self, scope: Scope) -> str | None:
        client = scope.get("client")
        peer = client[0] if client else None
        if peer is None or peer in self.trusted:
            real = _header(scope, b"x-real-ip")
            if real:
                return real.strip()[:64]
            forwarded = _header(scope, b"x-forwarded-for")
            if forwarded:
                return forwarded.split(",")[-1].strip()[:64]
        return peer

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        incoming = _header(scope, b"x-request-id")
        request_id = incoming if incoming and _REQUEST_ID.match(incoming) else uuid.uuid4().hex
        rid_token = request_id_var.set(request_id)
        ip_token = client_ip_var.set(self.client_ip(scope))
        statements = [0]
        count_token = statement_count_var.set(statements)
        started = time.perf_counter()
        status: dict[str, int] = {"code": 500}

        content_type = _header(scope, b"content-type") or ""
        limit = self.upload_body if content_type.startswith("multipart/") else self.max_json_body

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                status["code"] = message["status"]
                headers = list(message.get("headers", []))
                headers.append((b"x-request-id", request_id.encode()))
                message["headers"] = headers
            await send(message)

        try:
            declared = _header(scope, b"content-length")
            if declared is not None and declared.isdigit() and int(declared) > limit:
                await _too_large(send_with_id)
                return
            await self.app(scope, _limited(receive, limit), send_with_id)
        except BodyTooLarge:
            await _too_large(send_with_id)
        finally:
            log.info(
                "request",
                method=scope.get("method"),
                path=logged_path(scope.get("path") or ""),
                status=status["code"],
                ms=round((time.perf_counter() - started) * 1000, 1),
                ip=client_ip_var.get(),
                db_statements=statements[0],
            )
            request_id_var.reset(rid_token)
            client_ip_var.reset(ip_token)
            statement_count_var.reset(count_token)


# Paths that carry a secret (a rating link's token: services/csat_tokens.py), logged without it.
_SECRET_PATH = re.compile(r"^(/(?:api/)?csat/)[^/]+")


def logged_path(path: str) -> str:
    return _SECRET_PATH.sub(r"\1[redacted]", path)


def _limited(receive: Receive, limit: int) -> Receive:
    seen = 0

    async def wrapped() -> Message:
        nonlocal seen
        message = await receive()
        if message["type"] == "http.request":
            seen += len(message.get("body", b""))
            if seen > limit:
                raise BodyTooLarge
        return message

    return wrapped


async def _too_large(send: Any) -> None:
    body = b'{"detail":"Request body too large","code":"payload_too_large"}'
    await send(
        {
            "type": "http.response.start",
            "status": 413,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                (b"connection", b"close"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
