"""Query parameters shared by list endpoints, the one-pass JSON answer of the hot reads, and the
streamed answer that always closes its body."""

from __future__ import annotations

from typing import Annotated

import anyio
from fastapi import Query, Response
from fastapi.responses import StreamingResponse
from pydantic import AfterValidator, BaseModel
from starlette.types import Receive, Scope, Send

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


class ClosingStream(StreamingResponse):
    """A streamed answer whose body is closed however the stream ends. A client that goes away
    cancels the stream wherever it is, and Starlette then drops the body unclosed: its database
    session (an export reads through one of its own) kept its connection until the garbage
    collector found it, and enough cut-off downloads emptied the pool."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            await super().__call__(scope, receive, send)
        finally:
            close = getattr(self.body_iterator, "aclose", None)
            if close is not None:
                with anyio.CancelScope(shield=True):
                    await close()
