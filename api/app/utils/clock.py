"""The one source of "now" for request handlers, so tests can move time instead of sleeping."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import Depends


def utcnow() -> datetime:
    return datetime.now(UTC)


async def get_now() -> datetime:
    # async: FastAPI runs a plain function dependency in a worker thread, a hop per request.
    return utcnow()


Now = Annotated[datetime, Depends(get_now)]
