"""The internal desk's ticket endpoints (staff views)."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query, Request, Response, status
from fastapi.responses import FileResponse

from app.auth.deps import Acceptor, DbSession, DeskUser
from app.models.enums import Priority, TicketStatus
from app.routers.common import DEFAULT, Cursor, Limit, Search, serialized
from app.routers.files import attachment_response
from app.schemas.audit import AuditEntry
from app.schemas.common import Page, ResponseModel
from app.schemas.ticket import (
    Accept,
    Assign,
    Channel,
    StaffAttachment,
    StaffComment,
    StaffCommentCreate,
    StaffTicket,
    StaffTicketCreate,
    StaffTicketDetail,
    StatusChange,
    TicketUpdate,
)
from app.schemas.views import AssigneeFilter, DueWithinHours, TicketSort
from app.services import attachments, on_behalf, tickets
from app.utils.clock import Now
from app.utils.multipart import FILE_UPLOAD_OPENAPI, file_part

router = APIRouter(prefix="/internal/tickets", tags=["desk"])


class AuditTrail(ResponseModel):
    items: list[AuditEntry]


async def _staff_view(
    session: DbSession, actor: DeskUser, ticket_id: uuid.UUID, now: Now
) -> StaffTicket:
    return StaffTicket.model_validate(
        tickets.view(await tickets.get_row(session, actor, ticket_id), now)
    )


def _page(rows: list[object], next_cursor: str | None, now: Now) -> Response:
    return serialized(
        Page[StaffTicket],
        {"items": [tickets.view(r, now) for r in rows], "next_cursor": next_cursor},  # type: ignore[arg-type]
    )


@router.get("/new", response_model=Page[StaffTicket])
async def new_queue(
    actor: DeskUser, session: DbSession, now: Now, cursor: Cursor = None, limit: Limit = DEFAULT
) -> Response:
    rows, next_cursor = await tickets.new_queue(session, actor, cursor=cursor, limit=limit)
    return _page(list(rows), next_cursor, now)


@router.get("", response_model=Page[StaffTicket])
async def list_tickets(
    actor: DeskUser,
    session: DbSession,
    now: Now,
    status_: Annotated[list[TicketStatus] | None, Query(alias="status")] = None,
    priority: Annotated[list[Priority] | None, Query()] = None,
    org_id: Annotated[uuid.UUID | None, Query()] = None,
    assigned_to: Annotated[AssigneeFilter | None, Query()] = None,
    breached: Annotated[bool | None, Query()] = None,
    tag: Annotated[str | None, Query(min_length=1, max_length=40)] = None,
    team_id: Annotated[uuid.UUID | None, Query()] = None,
    channel: Annotated[Channel | None, Query()] = None,
    due_within_hours: Annotated[DueWithinHours | None, Query()] = None,
    sort: Annotated[TicketSort, Query()] = "created",
    q: Search = None,
    cursor: Cursor = None,
    limit: Limit = DEFAULT,
) -> Response:
    """``assigned_to``: a user's id, ``me`` or ``unassigned``. ``due_within_hours``: open,
    unpaused tickets whose resolution is due within that many hours or overdue. ``sort``:
    ``created`` (newest first) or ``sla_due`` (the soonest SLA due first; tickets whose clocks
    do not run — paused, done, not accepted — last)."""
    flt = tickets.TicketFilter(
        status=status_ or [],
        priority=priority or [],
        q=q,
        org_id=org_id,
        breached=breached,
        tag=tag,
        team_id=team_id,
        channel=channel,
        due_within_hours=due_within_hours,
        sort=sort,
        **tickets.assignee_filter(assigned_to, actor),
    )
    rows, next_cursor = await tickets.list_rows(
        session, actor, flt, cursor=cursor, limit=limit, now=now
    )
    return _page(list(rows), next_cursor, now)


@router.post("", response_model=StaffTicket, status_code=status.HTTP_201_CREATED)
async def create_for_customer(
    body: StaffTicketCreate, actor: DeskUser, session: DbSession, now: Now
) -> StaffTicket:
    """A ticket recorded for a customer who phoned or wrote (``channel``): the customer is its
    creator and gets the usual mails; ``accept`` needs the acceptance right (403, nothing
    created, without it)."""
    ticket = await on_behalf.create(session, actor, body, now)
    return await _staff_view(session, actor, ticket.id, now)


@router.get("/{ticket_id}", response_model=StaffTicketDetail)
async def get_ticket(
    ticket_id: uuid.UUID, actor: DeskUser, session: DbSession, now: Now
) -> Response:
    return serialized(StaffTicketDetail, await tickets.detail(session, actor, ticket_id, now))


@router.patch("/{ticket_id}", response_model=StaffTicket)
async def update_ticket(
    ticket_id: uuid.UUID, body: TicketUpdate, actor: DeskUser, session: DbSession, now: Now
) -> StaffTicket:
    await tickets.update_fields(session, actor, ticket_id, body, now)
    return await _staff_view(session, actor, ticket_id, now)


@router.post("/{ticket_id}/accept", response_model=StaffTicket)
async def accept(
    ticket_id: uuid.UUID, body: Accept, actor: Acceptor, session: DbSession, now: Now
) -> StaffTicket:
    changed = await tickets.accept(session, actor, ticket_id, body, now)
    return StaffTicket.model_validate(await tickets.locked_view(session, changed, now))


@router.post("/{ticket_id}/assign", response_model=StaffTicket)
async def assign(
    ticket_id: uuid.UUID, body: Assign, actor: DeskUser, session: DbSession, now: Now
) -> StaffTicket:
    changed = await tickets.assign(session, actor, ticket_id, body, now)
    return StaffTicket.model_validate(await tickets.locked_view(session, changed, now))


@router.post("/{ticket_id}/status", response_model=StaffTicket)
async def change_status(
    ticket_id: uuid.UUID, body: StatusChange, actor: DeskUser, session: DbSession, now: Now
) -> StaffTicket:
    changed = await tickets.change_status(session, actor, ticket_id, body, now)
    return StaffTicket.model_validate(await tickets.locked_view(session, changed, now))


@router.post(
    "/{ticket_id}/comments", response_model=StaffComment, status_code=status.HTTP_201_CREATED
)
async def comment(
    ticket_id: uuid.UUID, body: StaffCommentCreate, actor: DeskUser, session: DbSession, now: Now
) -> StaffComment:
    created = await tickets.add_comment(
        session, actor, ticket_id, body=body.body, is_internal=body.is_internal, now=now
    )
    return StaffComment(
        id=created.id,
        ticket_id=created.ticket_id,
        author={"id": actor.id, "name": actor.name, "is_staff": True},
        body=created.body,
        is_internal=created.is_internal,
        created_at=created.created_at,
    )


@router.post(
    "/{ticket_id}/attachments",
    response_model=StaffAttachment,
    status_code=status.HTTP_201_CREATED,
    openapi_extra=FILE_UPLOAD_OPENAPI,
)
async def upload_attachment(
    ticket_id: uuid.UUID,
    request: Request,
    actor: DeskUser,
    session: DbSession,
    now: Now,
    is_internal: Annotated[bool, Query()] = False,
    comment_id: Annotated[uuid.UUID | None, Query()] = None,
) -> StaffAttachment:
    part = await file_part(request)
    created = await attachments.upload(
        session,
        actor,
        ticket_id,
        chunks=part.chunks,
        file_name=part.file_name,
        declared_type=part.content_type,
        is_internal=is_internal,
        comment_id=comment_id,
        now=now,
    )
    return StaffAttachment.model_validate(
        {
            **{k: getattr(created, k) for k in ("id", "file_name", "mime_type", "size_bytes")},
            "sha256": created.sha256,
            "created_at": created.created_at,
            "is_internal": created.is_internal,
            "uploaded_by": {"id": actor.id, "name": actor.name},
            "comment_id": created.comment_id,
        }
    )


@router.get("/{ticket_id}/attachments/{attachment_id}", response_class=FileResponse)
async def download_attachment(
    ticket_id: uuid.UUID, attachment_id: uuid.UUID, actor: DeskUser, session: DbSession
) -> Response:
    return attachment_response(await attachments.download(session, actor, ticket_id, attachment_id))


@router.get("/{ticket_id}/audit", response_model=AuditTrail)
async def audit_trail(ticket_id: uuid.UUID, actor: DeskUser, session: DbSession) -> AuditTrail:
    await tickets.get_row(session, actor, ticket_id)
    return AuditTrail.model_validate({"items": await tickets.audit_trail(session, ticket_id)})
