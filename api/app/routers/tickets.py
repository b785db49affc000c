"""The customer portal's ticket endpoints (organization-scoped, customer views only)."""

from __future__ import annotations

import uuid
from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request, Response, status
from fastapi.responses import FileResponse

from app.auth.deps import DbSession, PortalUser
from app.models.enums import Priority, TicketStatus
from app.routers.common import DEFAULT, Cursor, Limit, Search, serialized
from app.routers.files import attachment_response
from app.schemas.common import Page
from app.schemas.csat import CsatSubmit
from app.schemas.ticket import (
    CcUpdate,
    CustomerAttachment,
    CustomerComment,
    CustomerCommentCreate,
    CustomerTicket,
    CustomerTicketDetail,
    TicketCcs,
    TicketCreate,
    Withdraw,
)
from app.services import attachments, ccs, csat, tickets
from app.utils.clock import Now
from app.utils.multipart import FILE_UPLOAD_OPENAPI, file_part

router = APIRouter(prefix="/tickets", tags=["portal"])


async def _customer_view(
    session: DbSession, actor: PortalUser, ticket_id: uuid.UUID, now: Now
) -> CustomerTicket:
    row = await tickets.get_row(session, actor, ticket_id)
    return CustomerTicket.model_validate(tickets.view(row, now, with_sla=False))


@router.post("", response_model=CustomerTicket, status_code=status.HTTP_201_CREATED)
async def create_ticket(
    body: TicketCreate, actor: PortalUser, session: DbSession, now: Now
) -> CustomerTicket:
    ticket = await tickets.create(session, actor, body, now)
    return await _customer_view(session, actor, ticket.id, now)


@router.get("", response_model=Page[CustomerTicket])
async def list_tickets(
    actor: PortalUser,
    session: DbSession,
    now: Now,
    status_: Annotated[list[TicketStatus] | None, Query(alias="status")] = None,
    priority: Annotated[list[Priority] | None, Query()] = None,
    q: Search = None,
    cursor: Cursor = None,
    limit: Limit = DEFAULT,
    scope: Annotated[
        Literal["mine", "organization"] | None,
        Query(
            description="mine: the tickets the caller opened or is copied on; organization "
            "(the default): every ticket the caller may see"
        ),
    ] = None,
) -> Response:
    flt = tickets.TicketFilter(
        status=status_ or [], priority=priority or [], q=q, mine=scope == "mine"
    )
    rows, next_cursor = await tickets.list_rows(session, actor, flt, cursor=cursor, limit=limit)
    return serialized(
        Page[CustomerTicket],
        {"items": [tickets.view(r, now, with_sla=False) for r in rows], "next_cursor": next_cursor},
    )


@router.get("/{ticket_id}", response_model=CustomerTicketDetail)
async def get_ticket(
    ticket_id: uuid.UUID, actor: PortalUser, session: DbSession, now: Now
) -> Response:
    return serialized(CustomerTicketDetail, await tickets.detail(session, actor, ticket_id, now))


@router.put("/{ticket_id}/cc", response_model=TicketCcs)
async def set_cc(
    ticket_id: uuid.UUID, body: CcUpdate, actor: PortalUser, session: DbSession
) -> TicketCcs:
    """Copy colleagues of the organization on the ticket (the whole list): they see it in the
    portal and receive its mails."""
    return TicketCcs.model_validate(
        {"items": await ccs.replace(session, actor, ticket_id, body.user_ids)}
    )


@router.get("/{ticket_id}/cc/candidates", response_model=TicketCcs)
async def cc_candidates(ticket_id: uuid.UUID, actor: PortalUser, session: DbSession) -> TicketCcs:
    """The colleagues who may be copied on the ticket (active users of its organization)."""
    return TicketCcs.model_validate({"items": await ccs.candidates(session, actor, ticket_id)})


@router.post(
    "/{ticket_id}/comments", response_model=CustomerComment, status_code=status.HTTP_201_CREATED
)
async def comment(
    ticket_id: uuid.UUID,
    body: CustomerCommentCreate,
    actor: PortalUser,
    session: DbSession,
    now: Now,
) -> CustomerComment:
    created = await tickets.add_comment(
        session, actor, ticket_id, body=body.body, is_internal=False, now=now
    )
    return CustomerComment(
        id=created.id,
        ticket_id=created.ticket_id,
        author={"id": actor.id, "name": actor.name, "is_staff": False},
        body=created.body,
        created_at=created.created_at,
    )


@router.post("/{ticket_id}/withdraw", response_model=CustomerTicket)
async def withdraw(
    ticket_id: uuid.UUID, body: Withdraw, actor: PortalUser, session: DbSession, now: Now
) -> CustomerTicket:
    await tickets.withdraw(session, actor, ticket_id, body.reason, now)
    return await _customer_view(session, actor, ticket_id, now)


@router.post("/{ticket_id}/csat", status_code=status.HTTP_204_NO_CONTENT, response_class=Response)
async def rate(
    ticket_id: uuid.UUID, body: CsatSubmit, actor: PortalUser, session: DbSession, now: Now
) -> Response:
    """Rate the ticket's resolution (good / okay / bad, optional comment) or change the rating,
    within 14 days of it; 409 when the ticket is not resolved or the time is over."""
    await csat.submit_signed_in(
        session, actor, ticket_id, csat.Rating(body.rating, body.comment or None), now
    )
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post(
    "/{ticket_id}/attachments",
    response_model=CustomerAttachment,
    status_code=status.HTTP_201_CREATED,
    openapi_extra=FILE_UPLOAD_OPENAPI,
)
async def upload_attachment(
    ticket_id: uuid.UUID, request: Request, actor: PortalUser, session: DbSession, now: Now
) -> CustomerAttachment:
    part = await file_part(request)
    created = await attachments.upload(
        session,
        actor,
        ticket_id,
        chunks=part.chunks,
        file_name=part.file_name,
        declared_type=part.content_type,
        is_internal=False,
        comment_id=None,
        now=now,
    )
    return CustomerAttachment.model_validate(created)


@router.get("/{ticket_id}/attachments/{attachment_id}", response_class=FileResponse)
async def download_attachment(
    ticket_id: uuid.UUID, attachment_id: uuid.UUID, actor: PortalUser, session: DbSession
) -> Response:
    return attachment_response(await attachments.download(session, actor, ticket_id, attachment_id))
