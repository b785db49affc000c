"""Domain errors, raised by services and mapped to HTTP answers in one place (``install``).

Routers never catch these and never build ``HTTPException`` copies of them.
"""

from __future__ import annotations

from typing import Any

import structlog
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict
from sqlalchemy.exc import DBAPIError, IntegrityError, InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match
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


class ErrorBody(BaseModel):
    """The body of every refusal except validation errors (422 carries a list in ``detail``).
    Some errors add fields, e.g. a refused transition names the ``allowed`` targets."""

    model_config = ConfigDict(extra="allow")

    detail: str
    code: str


_ERROR_DESCRIPTIONS = {
    400: "Malformed request body",
    401: "Missing, invalid or expired credentials",
    403: "The caller's role may not do this",
    404: "Not found, or not visible to the caller",
    405: "Method not allowed (see Allow)",
    409: "Conflicts with the current state",
    413: "Request body too large",
    415: "This type of file is not accepted",
    429: "Too many requests (see Retry-After)",
    503: "Database temporarily unavailable (see Retry-After)",
    507: "No space left to store the file",
}


def error_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI ``responses`` entries for the errors *statuses* (see ``install`` for the bodies)."""
    return {
        status: {"model": ErrorBody, "description": _ERROR_DESCRIPTIONS[status]}
        for status in statuses
    }


_METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")


def _allowed_methods(request: Request) -> list[str]:
    """Every method some route serves at the request's path (Starlette names only the first
    route that matched the path, so a path served by two routes would under-report)."""
    allowed: list[str] = []
    for method in _METHODS:
        probe: Scope = {**request.scope, "method": method}
        probe.pop("fastapi", None)
        for route in request.app.router.routes:
            if route.matches(probe)[0] is Match.FULL:
                allowed.append(method)
                break
    return allowed


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


# SQLSTATEs of a server that is going away or not there yet: connection exceptions (class 08),
# administrator/crash shutdown and "cannot connect now" (57P01-57P03, PostgreSQL stopping or
# starting), too many connections. The driver reports some of them as a plain DBAPI Error.
_UNAVAILABLE_SQLSTATES = ("08", "57P01", "57P02", "57P03", "53300")


def _server_unavailable(exc: DBAPIError) -> bool:
    sqlstate = getattr(exc.orig, "sqlstate", None)
    return isinstance(sqlstate, str) and sqlstate.startswith(_UNAVAILABLE_SQLSTATES)


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
    async def http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        headers = dict(getattr(exc, "headers", None) or {})
        if exc.status_code == 405 and "Allow" in headers:
            headers["Allow"] = ", ".join(_allowed_methods(request))
        code = {404: "not_found", 405: "method_not_allowed"}.get(exc.status_code, "http_error")
        return JSONResponse(
            {"detail": exc.detail, "code": code}, status_code=exc.status_code, headers=headers
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
        if exc.connection_invalidated or _server_unavailable(exc):
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
