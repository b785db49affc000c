"""Domain errors, raised by services and mapped to HTTP answers in one place (``install``).

Routers never catch these and never build ``HTTPException`` copies of them.
"""

from __future__ import annotations

from typing import Any

import structlog
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DBAPIError, IntegrityError, InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.db.session import KeepChanges

log = structlog.get_logger("atum.errors")


class DomainError(Exception):
    status_code = 400
    code = "bad_request"
    default_detail = "Bad request"

    def __init__(self, detail: str | None = None, **extra: Any) -> None:
        self.detail = detail or self.default_detail
        self.extra = extra
        super().__init__(self.detail)


class Unauthorized(DomainError):
    status_code = 401
    code = "unauthorized"
    default_detail = "Not authenticated"


class LoginFailed(KeepChanges, Unauthorized):
    """Wrong credentials. Its side effects (failure counters, audit) are committed."""

    code = "invalid_credentials"
    default_detail = "Incorrect email or password"


class Forbidden(DomainError):
    status_code = 403
    code = "forbidden"
    default_detail = "You are not allowed to do this"


class NotFound(DomainError):
    status_code = 404
    code = "not_found"
    default_detail = "Not found"


class Conflict(DomainError):
    status_code = 409
    code = "conflict"
    default_detail = "Conflict"


class Invalid(DomainError):
    """A well-formed body that breaks a business rule about one field."""

    status_code = 422
    code = "invalid"

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


class RateLimited(KeepChanges, DomainError):
    status_code = 429
    code = "rate_limited"
    default_detail = "Too many attempts; try again later"

    def __init__(self, retry_after: int, detail: str | None = None) -> None:
        super().__init__(detail)
        self.retry_after = max(1, retry_after)


class PayloadTooLarge(DomainError):
    status_code = 413
    code = "payload_too_large"
    default_detail = "Request body too large"


class BodyTooLarge(StarletteHTTPException):
    """Raised by the body-size limit (middleware/request_context.py) while the body is being read.
    An ``HTTPException``, so FastAPI's body parsing passes it on instead of answering 400; it is
    answered like ``PayloadTooLarge``."""

    def __init__(self) -> None:
        super().__init__(PayloadTooLarge.status_code, PayloadTooLarge.default_detail)


class UnsupportedMediaType(DomainError):
    status_code = 415
    code = "unsupported_media_type"
    default_detail = "This type of file is not accepted"


class InsufficientStorage(DomainError):
    status_code = 507
    code = "insufficient_storage"
    default_detail = "The server cannot store this file right now"


def _domain_response(exc: DomainError) -> JSONResponse:
    if isinstance(exc, Invalid):
        body: dict[str, Any] = {
            "detail": [{"loc": ["body", exc.field], "msg": exc.detail, "type": exc.code}],
            "code": exc.code,
        }
    else:
        body = {"detail": exc.detail, "code": exc.code, **exc.extra}
    headers: dict[str, str] = {}
    if isinstance(exc, RateLimited):
        headers["Retry-After"] = str(exc.retry_after)
    if isinstance(exc, Unauthorized):
        headers["WWW-Authenticate"] = "Bearer"
    return JSONResponse(body, status_code=exc.status_code, headers=headers)


def _clean_validation_errors(errors: Any) -> list[dict[str, Any]]:
    """Pydantic's errors without ``input``/``ctx``: never echo what was sent (passwords)."""
    return [
        {"loc": list(e.get("loc", ())), "msg": e.get("msg", ""), "type": e.get("type", "")}
        for e in errors
    ]


def install(app: FastAPI) -> None:
    @app.exception_handler(DomainError)
    async def domain_error(_: Request, exc: DomainError) -> JSONResponse:
        return _domain_response(exc)

    @app.exception_handler(RequestValidationError)
    async def validation_error(_: Request, exc: RequestValidationError) -> JSONResponse:
        return JSONResponse(
            {"detail": _clean_validation_errors(exc.errors()), "code": "validation_error"},
            status_code=422,
        )

    @app.exception_handler(BodyTooLarge)
    async def body_too_large(_: Request, __: BodyTooLarge) -> JSONResponse:
        return _domain_response(PayloadTooLarge())

    @app.exception_handler(StarletteHTTPException)
    async def http_error(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        return JSONResponse(
            {"detail": exc.detail, "code": "http_error"},
            status_code=exc.status_code,
            headers=getattr(exc, "headers", None),
        )

    @app.exception_handler(OperationalError)
    @app.exception_handler(InterfaceError)
    @app.exception_handler(ConnectionError)
    @app.exception_handler(PoolTimeout)
    async def database_unavailable(_: Request, exc: Exception) -> JSONResponse:
        log.error("database_unavailable", error_type=type(exc).__name__, error=str(exc)[:500])
        return JSONResponse(
            {"detail": "Service temporarily unavailable", "code": "unavailable"},
            status_code=503,
            headers={"Retry-After": "5"},
        )

    @app.exception_handler(IntegrityError)
    async def integrity_error(_: Request, exc: IntegrityError) -> JSONResponse:
        """A constraint caught what the service's own check missed (two concurrent creates of
        the same name): a conflict, not a server error."""
        log.info("integrity_conflict", error_type=type(exc.orig).__name__)
        return JSONResponse(
            {"detail": "This conflicts with existing data", "code": "conflict"}, status_code=409
        )

    @app.exception_handler(DBAPIError)
    async def database_error(_: Request, exc: DBAPIError) -> JSONResponse:
        if exc.connection_invalidated:
            return await database_unavailable(_, exc)
        log.error("database_error", error_type=type(exc.orig).__name__)
        return JSONResponse(
            {"detail": "Internal server error", "code": "internal_error"}, status_code=500
        )

    @app.exception_handler(Exception)
    async def unexpected(_: Request, exc: Exception) -> JSONResponse:
        return _unexpected(exc)


def _unexpected(exc: Exception) -> JSONResponse:
    log.exception("unhandled_error", error_type=type(exc).__name__)
    return JSONResponse(
        {"detail": "Internal server error", "code": "internal_error"}, status_code=500
    )


class UnexpectedErrorMiddleware:
    """Answers an exception no handler took with the generic 500 *inside* the middleware stack, so
    the answer still carries the request id and the security headers, and the log line the request
    id. (Starlette's last-resort handler, ``unexpected`` above, sits outside every middleware and
    only sees errors of the middleware themselves.)"""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def watch(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, receive, watch)
        except Exception as exc:
            if started:
                raise
            await _unexpected(exc)(scope, receive, send)
