"""The e-mail channel: held and quarantined mail, bouncing addresses, mailboxes, and the original
.eml of a mail on a ticket (docs/EMAIL.md)."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Response, status

from app.auth.deps import DbSession, DeskUser, MailAdmin, MailManager
from app.config import get_settings
from app.routers.common import DEFAULT, Cursor, Limit
from app.routers.files import ATTACHMENT_CSP
from app.schemas.common import Page
from app.schemas.mail import (
    BounceOut,
    HeldOut,
    HeldTicket,
    MailboxCreate,
    MailboxOut,
    MailboxUpdate,
    QuarantinedOut,
)
from app.schemas.ticket import StaffTicket
from app.services import mail_admin, tickets
from app.utils.clock import Now
from app.utils.filenames import content_disposition

router = APIRouter(tags=["mail"])


@router.get("/internal/mail/held", response_model=Page[HeldOut])
async def list_held(
    actor: MailManager, session: DbSession, cursor: Cursor = None, limit: Limit = DEFAULT
) -> Page[HeldOut]:
    items, next_cursor = await mail_admin.list_inbound(
        session, status="held", cursor=cursor, limit=limit
    )
    return Page[HeldOut](items=[HeldOut.model_validate(i) for i in items], next_cursor=next_cursor)


@router.post(
    "/internal/mail/held/{held_id}/ticket",
    response_model=StaffTicket,
    status_code=status.HTTP_201_CREATED,
)
async def held_to_ticket(
    held_id: uuid.UUID, body: HeldTicket, actor: MailManager, session: DbSession, now: Now
) -> StaffTicket:
    ticket_id = await mail_admin.held_to_ticket(
        session,
        actor,
        held_id,
        body.org_id,
        mail_domain=get_settings().resolved_mail_domain,
        now=now,
    )
    row = await tickets.get_row(session, actor, ticket_id)
    return StaffTicket.model_validate(tickets.view(row, now))


@router.post("/internal/mail/held/{held_id}/discard", status_code=status.HTTP_204_NO_CONTENT)
async def discard_held(held_id: uuid.UUID, actor: MailManager, session: DbSession) -> Response:
    await mail_admin.discard_held(session, actor, held_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/admin/mail/quarantined", response_model=Page[QuarantinedOut])
async def list_quarantined(
    actor: MailAdmin, session: DbSession, cursor: Cursor = None, limit: Limit = DEFAULT
) -> Page[QuarantinedOut]:
    items, next_cursor = await mail_admin.list_inbound(
        session, status="quarantined", cursor=cursor, limit=limit
    )
    return Page[QuarantinedOut](
        items=[QuarantinedOut.model_validate(i) for i in items], next_cursor=next_cursor
    )


@router.post("/admin/mail/quarantined/{message_id}/retry", status_code=status.HTTP_204_NO_CONTENT)
async def retry_quarantined(
    message_id: uuid.UUID, actor: MailAdmin, session: DbSession
) -> Response:
    await mail_admin.retry_quarantined(session, actor, message_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/admin/mail/bounces", response_model=Page[BounceOut])
async def list_bounces(actor: MailAdmin, session: DbSession) -> Page[BounceOut]:
    """The addresses that bounce (newest first, at most 500: a list an admin works through)."""
    bounces = await mail_admin.list_bounces(session)
    return Page[BounceOut](items=[BounceOut.model_validate(b) for b in bounces], next_cursor=None)


@router.delete("/admin/mail/bounces/{address}", status_code=status.HTTP_204_NO_CONTENT)
async def clear_bounce(address: str, actor: MailAdmin, session: DbSession) -> Response:
    await mail_admin.clear_bounce(session, actor, address)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/admin/mailboxes", response_model=Page[MailboxOut])
async def list_mailboxes(actor: MailAdmin, session: DbSession) -> Page[MailboxOut]:
    boxes = await mail_admin.list_mailboxes(session)
    return Page[MailboxOut](
        items=[MailboxOut.model_validate(mail_admin.mailbox_view(b)) for b in boxes],
        next_cursor=None,
    )


@router.post("/admin/mailboxes", response_model=MailboxOut, status_code=status.HTTP_201_CREATED)
async def create_mailbox(body: MailboxCreate, actor: MailAdmin, session: DbSession) -> MailboxOut:
    box = await mail_admin.create_mailbox(session, actor, body)
    return MailboxOut.model_validate(mail_admin.mailbox_view(box))


@router.patch("/admin/mailboxes/{mailbox_id}", response_model=MailboxOut)
async def update_mailbox(
    mailbox_id: uuid.UUID, body: MailboxUpdate, actor: MailAdmin, session: DbSession
) -> MailboxOut:
    box = await mail_admin.update_mailbox(session, actor, mailbox_id, body)
    return MailboxOut.model_validate(mail_admin.mailbox_view(box))


@router.delete("/admin/mailboxes/{mailbox_id}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_mailbox(mailbox_id: uuid.UUID, actor: MailAdmin, session: DbSession) -> Response:
    await mail_admin.delete_mailbox(session, actor, mailbox_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


def _eml(found: mail_admin.Original) -> Response:
    return Response(
        content=found.raw,
        media_type="message/rfc822",
        headers={
            "Content-Disposition": content_disposition(found.file_name),
            "X-Content-Type-Options": "nosniff",
            "Content-Security-Policy": ATTACHMENT_CSP,
            "Cache-Control": "private, no-store",
        },
    )


@router.get(
    "/internal/tickets/{ticket_id}/comments/{comment_id}/original",
    response_class=Response,
    responses={200: {"content": {"message/rfc822": {}}}},
)
async def comment_original(
    ticket_id: uuid.UUID, comment_id: uuid.UUID, actor: DeskUser, session: DbSession
) -> Response:
    return _eml(await mail_admin.original(session, actor, ticket_id, comment_id))


@router.get(
    "/internal/tickets/{ticket_id}/original",
    response_class=Response,
    responses={200: {"content": {"message/rfc822": {}}}},
)
async def ticket_original(ticket_id: uuid.UUID, actor: DeskUser, session: DbSession) -> Response:
    return _eml(await mail_admin.original(session, actor, ticket_id, None))
