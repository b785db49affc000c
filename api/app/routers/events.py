"""Live updates: the Server-Sent Events stream and the desk's presence heartbeat
(app/services/live.py, app/services/presence.py)."""

from __future__ import annotations

import uuid
from typing import Literal

from fastapi import APIRouter, Header, Response, status
from fastapi.responses import StreamingResponse

from app.auth.deps import Authenticated, DbSession, DeskUser
from app.schemas.common import RequestModel
from app.services import live, presence

router = APIRouter(tags=["live"])

_STREAM_DOC = """Server-Sent Events for the caller (session cookie or bearer token).

- `event: ticket`, `data: {"id": …, "kind": "created" | "updated" | "comment"}` with an `id:`
  — a ticket the caller may see changed; fetch it through the ordinary endpoints.
- `event: presence`, `data: {"ticket_id": …, "viewers": [{"id", "name", "state"}]}` — staff only.
- `event: ready` (first, with the newest event id) or, on a reconnect with `Last-Event-ID`, the
  events missed since; `event: reset` when some may have been pruned (refetch everything).
- A comment line every ~15 s. The stream ends when the session is revoked.
"""


@router.get(
    "/events",
    response_class=StreamingResponse,
    description=_STREAM_DOC,
    responses={200: {"content": {"text/event-stream": {"schema": {"type": "string"}}}}},
)
async def events(
    actor: Authenticated,
    last_event_id: str | None = Header(default=None, include_in_schema=False),
) -> StreamingResponse:
    # The database session of the authentication closes when this function returns (the
    # dependency's scope is the function): the stream holds no pooled connection.
    return StreamingResponse(
        live.stream(actor, live.parse_last_event_id(last_event_id)),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
    )


class PresenceBeat(RequestModel):
    state: Literal["viewing", "replying"]


@router.post(
    "/internal/tickets/{ticket_id}/presence",
    status_code=status.HTTP_204_NO_CONTENT,
    response_class=Response,
    tags=["desk"],
)
async def heartbeat(
    ticket_id: uuid.UUID, body: PresenceBeat, actor: DeskUser, session: DbSession
) -> Response:
    """Heartbeat (every ~10 s) of the caller viewing or replying to the ticket; it expires ~30 s
    after the last one. Staff see each other on the ticket page (the `presence` event)."""
    await presence.beat(session, actor, ticket_id, body.state)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
