"""The application factory: routers under /api, middleware, error mapping, self-hosted API docs
and (in development) the built web UI."""

from __future__ import annotations

import gc
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import structlog
from fastapi import APIRouter, FastAPI
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import FileResponse, HTMLResponse
from fastapi.staticfiles import StaticFiles
from sqlalchemy import text
from starlette.convertors import Convertor, register_url_convertor
from swagger_ui_bundle import swagger_ui_path

from app import errors
from app.auth import session_cache
from app.config import REPO_ROOT, Settings, get_settings
from app.db.session import get_engine
from app.logging import configure_logging
from app.middleware.request_context import RequestContextMiddleware
from app.middleware.security_headers import SecurityHeadersMiddleware
from app.routers import (
    account,
    audit,
    auth,
    calendars,
    csat,
    events,
    health,
    internal_tickets,
    kb,
    mail,
    notifications,
    orgs,
    reports,
    services,
    sla,
    sso,
    suggestions,
    tags,
    teams,
    ticket_ccs,
    ticket_merge,
    tickets,
    users,
    views,
    workspace,
)
from app.services import live

log = structlog.get_logger("atum.app")
WEB_DIST = REPO_ROOT / "web" / "dist"

_DURABILITY = {"fsync": "on", "synchronous_commit": "on", "full_page_writes": "on"}


async def check_durability() -> dict[str, str]:
    """Warn loudly when PostgreSQL is configured to lose acknowledged writes."""
    found: dict[str, str] = {}
    async with get_engine().connect() as conn:
        for name in _DURABILITY:
            found[name] = str((await conn.execute(text(f"SHOW {name}"))).scalar_one())
    unsafe = {k: v for k, v in found.items() if v != _DURABILITY[k]}
    if unsafe:
        log.warning("postgresql_not_durable", settings=unsafe, expected="on")
    return found


@asynccontextmanager
async def lifespan(_: FastAPI) -> AsyncIterator[None]:
    try:
        await check_durability()
    except Exception as exc:  # the API still starts; /api/health/ready reports the database
        log.error("database_unreachable_at_startup", error_type=type(exc).__name__)
    # Everything loaded so far (the framework, the models, the compiled schemas: ~175,000
    # objects) lives as long as the process. Frozen, the garbage collector no longer walks it on
    # every full collection: those walks stalled one request in a few hundred by ~100 ms and
    # cost ~15 % of a list request's CPU when measured.
    gc.collect()
    gc.freeze()
    # Cached authentication, kept current by the database's notifications (auth/session_cache.py).
    session_cache.cache.start()
    yield
    await session_cache.cache.stop()
    await live.hub.stop()
    await get_engine().dispose()


# The errors each area answers besides success and 422, documented in the OpenAPI schema (API
# clients and the schemathesis suite hold the API to it). Every /api request may also be too large
# (413); everything that reads a body may find it malformed (400) and everything that touches the
# database may meet an outage (503).
_ANY_REQUEST = (413,)
_ROUTERS = (
    (health, ()),
    (auth, (400, 401, 403, 429, 503)),
    (account, (400, 401, 403, 404, 409, 429, 503)),
    (tickets, (400, 401, 403, 404, 409, 415, 429, 503, 507)),
    (internal_tickets, (400, 401, 403, 404, 409, 415, 503, 507)),
    (ticket_merge, (400, 401, 403, 404, 409, 503)),
    (ticket_ccs, (400, 401, 403, 404, 503)),
    (suggestions, (401, 403, 404, 503)),
    (notifications, (400, 401, 403, 404, 409, 503)),
    (orgs, (400, 401, 403, 404, 409, 503)),
    (users, (400, 401, 403, 404, 409, 503)),
    (sla, (400, 401, 403, 404, 409, 503)),
    (calendars, (400, 401, 403, 404, 409, 503)),
    (services, (400, 401, 403, 404, 409, 503)),
    (teams, (400, 401, 403, 404, 409, 503)),
    (tags, (400, 401, 403, 404, 409, 503)),
    (kb, (400, 401, 403, 404, 503)),
    (audit, (401, 403, 503)),
    (reports, (401, 403, 404, 503)),
    (mail, (400, 401, 403, 404, 409, 503)),
    (workspace, (400, 401, 403, 404, 409, 503)),
    (events, (400, 401, 403, 404, 503)),
    (views, (400, 401, 403, 404, 503)),
    (csat, (400, 404, 429, 503)),
    (sso, (400, 401, 403, 404, 409, 429, 503)),
)


def _api_router() -> APIRouter:
    api = APIRouter(prefix="/api", responses=errors.error_responses(*_ANY_REQUEST))
    for module, statuses in _ROUTERS:
        api.include_router(module.router, responses=errors.error_responses(*statuses))
    return api


def _mount_docs(app: FastAPI) -> None:
    app.mount("/api/static/docs", StaticFiles(directory=str(swagger_ui_path)), name="docs-static")

    @app.get("/api/docs", include_in_schema=False)
    async def docs() -> HTMLResponse:
        return get_swagger_ui_html(
            openapi_url="/api/openapi.json",
            title="ATUM DESK API",
            swagger_js_url="/api/static/docs/swagger-ui-bundle.js",
            swagger_css_url="/api/static/docs/swagger-ui.css",
            swagger_favicon_url="/api/static/docs/favicon-32x32.png",
        )


_PLACEHOLDER = """<!doctype html><html lang="en"><head><meta charset="utf-8">
<title>ATUM DESK</title><meta name="viewport" content="width=device-width,initial-scale=1"></head>
<body style="background:#070B1A;color:#EEF1FA;font-family:system-ui,sans-serif;padding:3rem">
<h1>ATUM DESK</h1><p>The API is running. The web interface has not been built yet.</p>
<p><a style="color:#5CC8FF" href="/api/docs">API documentation</a></p></body></html>"""


class WebPath(Convertor[str]):
    """Any path outside /api: the SPA fallback must not answer for API paths, or a GET on a
    POST-only endpoint would be the SPA's 404 instead of a 405 naming the allowed methods."""

    regex = r"(?!api(?:/|$)).*"

    def convert(self, value: str) -> str:
        return value

    def to_string(self, value: str) -> str:
        return value


register_url_convertor("web", WebPath())


def _mount_web(app: FastAPI, dist: Path) -> None:
    """Serve the built web UI with an SPA fallback (nginx does this in production)."""
    if (dist / "assets").is_dir():
        app.mount("/assets", StaticFiles(directory=str(dist / "assets")), name="assets")
    index = dist / "index.html"

    @app.get("/{path:web}", include_in_schema=False, response_model=None)
    def spa(path: str) -> FileResponse | HTMLResponse:
        candidate = (dist / path).resolve()
        if path and candidate.is_file() and candidate.is_relative_to(dist.resolve()):
            return FileResponse(candidate)
        if index.is_file():
            return FileResponse(index, headers={"Cache-Control": "no-cache"})
        return HTMLResponse(_PLACEHOLDER)


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()
    configure_logging(settings.log_level, settings.log_format)
    settings.resolved_secret_key()  # fail fast (and create the development key) at startup
    app = FastAPI(
        title="ATUM DESK",
        version="0.1.0",
        openapi_url="/api/openapi.json" if settings.docs_enabled else None,
        docs_url=None,
        redoc_url=None,
        lifespan=lifespan,
    )
    errors.install(app)
    app.include_router(_api_router())
    if settings.docs_enabled:
        _mount_docs(app)
    _mount_web(app, WEB_DIST)
    # Added innermost first. Outermost are the security headers, then the request context (id,
    # client address, body limit), then the generic 500: every answer, 413 and 500 included,
    # carries the headers and the request id.
    app.add_middleware(errors.UnexpectedErrorMiddleware)
    app.add_middleware(
        RequestContextMiddleware,
        trusted_proxies=settings.trusted_proxies,
        max_json_body=settings.max_json_body_kb * 1024,
        upload_body=settings.max_upload_mb * 1024 * 1024 + 64 * 1024,
    )
    app.add_middleware(SecurityHeadersMiddleware)
    return app


def production_app() -> FastAPI:
    """The application as the API unit serves it: gunicorn loads it once in its master process
    (``--preload``) and forks the workers from there, so the code, the compiled schemas and the
    routes (~100 MB per process) are pages the workers share instead of copies. Frozen before the
    fork: a full collection in a worker would otherwise write to every object's header and copy
    those pages one by one."""
    app = create_app()
    gc.collect()
    gc.freeze()
    return app
