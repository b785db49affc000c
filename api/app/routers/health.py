"""Liveness and readiness."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from sqlalchemy import text

from app.db.migrations import head_revision
from app.db.session import get_engine

router = APIRouter(prefix="/health", tags=["health"])


@router.get("")
async def health() -> dict[str, str]:
    return {"status": "ok"}


@router.get(
    "/ready",
    response_model=None,
    responses={503: {"description": "Database unreachable or migrations pending"}},
)
async def ready() -> dict[str, str] | JSONResponse:
    try:
        async with get_engine().connect() as conn:
            current = (
                await conn.execute(text("SELECT version_num FROM alembic_version"))
            ).scalar_one_or_none()
    except Exception:
        return JSONResponse({"status": "unavailable", "database": "unreachable"}, status_code=503)
    expected = head_revision()
    if current != expected:
        return JSONResponse(
            {"status": "unavailable", "database": "migrations pending", "revision": str(current)},
            status_code=503,
        )
    return {"status": "ok", "database": "ok", "revision": expected}
