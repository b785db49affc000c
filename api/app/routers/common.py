"""Query parameters shared by list endpoints, and the one-pass JSON answer of the hot reads."""

from __future__ import annotations

from typing import Annotated

from fastapi import Query, Response
from pydantic import AfterValidator, BaseModel

from app.utils.pagination import DEFAULT_LIMIT, MAX_LIMIT
from app.utils.text import require_storable

Limit = Annotated[int, Query(ge=1, le=MAX_LIMIT)]
Cursor = Annotated[str | None, Query(max_length=512)]
StorableText = Annotated[str, AfterValidator(require_storable)]
Search = Annotated[StorableText | None, Query(max_length=200)]
DEFAULT = DEFAULT_LIMIT


def serialized(model: type[BaseModel], content: object) -> Response:
    """*content* validated against the route's response schema once and written as JSON once.
    The route keeps ``response_model`` (the OpenAPI schema documents it); FastAPI neither
    validates nor encodes a returned ``Response`` again."""
    return Response(model.model_validate(content).model_dump_json(), media_type="application/json")
