"""Query parameters shared by list endpoints."""

from __future__ import annotations

from typing import Annotated

from fastapi import Query
from pydantic import AfterValidator

from app.utils.pagination import DEFAULT_LIMIT, MAX_LIMIT
from app.utils.text import require_storable

Limit = Annotated[int, Query(ge=1, le=MAX_LIMIT)]
Cursor = Annotated[str | None, Query(max_length=512)]
StorableText = Annotated[str, AfterValidator(require_storable)]
Search = Annotated[StorableText | None, Query(max_length=200)]
DEFAULT = DEFAULT_LIMIT
