"""The e-mail channel for people: mailboxes (admins), held mail (managers decide: a ticket for a
chosen organization, or discard), quarantined mail (admins retry), bouncing addresses (admins
clear), and the original .eml of a mail on a ticket (staff). Every change is audited."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Select, delete, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.deps import CurrentUser
from app.errors import Conflict, Invalid, NotFound
from app.mail import secretbox
from app.mail.inbound import actor_for, new_ticket
from app.mail.parse import parse
from app.models import (
    InboundMessage,
    InboundRaw,
    MailBounce,
    Mailbox,
    Organization,
    Ticket,
    TicketComment,
    User,
)
from app.models.enums import CUSTOMER_ROLES, Role
from app.schemas.mail import MailboxCreate, MailboxUpdate
from app.services import audit, users
from app.services.notifications import CHANNEL
from app.services.tickets import MailOrigin
from app.services.visibility import visible_comments, visible_tickets
from app.utils.clock import utcnow
from app.utils.pagination import decode_cursor, encode_cursor

# ---------------------------------------------------------------- mailboxes (admin)


def mailbox_view(box: Mailbox) -> dict[str, Any]:
    return {
        "id": box.id,
        "address": box.address,
        "kind": box.kind,
        "imap_host": box.imap_host,
        "imap_port": box.imap_port,
        "imap_tls": box.imap_tls,
        "imap_user": box.imap_user,
        "imap_folder": box.imap_folder,
        "processed_folder": box.processed_folder,
        "active": box.active,
        "last_checked_at": box.last_checked_at,
        "last_error": box.last_error,
        "has_password": box.imap_password_enc is not None,
    }


def _audit_view(box: Mailbox) -> dict[str, Any]:
    view = mailbox_view(box)
    for key in ("last_checked_at", "last_error", "id"):
        view.pop(key)
    return view


async def list_mailboxes(session: AsyncSession) -> list[Mailbox]:
    return list((await session.execute(select(Mailbox).order_by(Mailbox.address))).scalars())


async def _mailbox(session: AsyncSession, mailbox_id: uuid.UUID) -> Mailbox:
    box = await session.get(Mailbox, mailbox_id, with_for_update=True)
    if box is None:
        raise NotFound("Mailbox not found")
    return box


async def create_mailbox(
    session: AsyncSession, actor: CurrentUser | None, body: MailboxCreate
) -> Mailbox:
    address = body.address.lower()
    if "+" in address.partition("@")[0]:
        raise Invalid("address", "A mailbox address cannot contain '+' (used for reply tokens)")
    taken = await session.execute(select(Mailbox.id).where(Mailbox.address == address))
    if taken.first() is not None:
        raise Conflict("A mailbox with this address already exists")
    box = Mailbox(
        id=uuid.uuid4(),
        address=address,
        kind=body.kind,
        imap_host=body.imap_host,
        imap_port=body.imap_port or (993 if body.imap_tls else 143)
        if body.kind == "imap"
        else None,
        imap_tls=body.imap_tls,
        imap_user=body.imap_user,
        imap_password_enc=secretbox.seal(body.imap_password) if body.imap_password else None,
        imap_folder=body.imap_folder,
        processed_folder=body.processed_folder,
        active=body.active,
    )
    session.add(box)
    await session.flush()
    await audit.record(
        session,
        actor=actor,
        action="mailbox.created",
        entity_type="mailbox",
        entity_id=box.id,
        new_value=_audit_view(box),
    )
    return box


async def update_mailbox(
    session: AsyncSession, actor: CurrentUser, mailbox_id: uuid.UUID, body: MailboxUpdate
) -> Mailbox:
    box = await _mailbox(session, mailbox_id)
    before = _audit_view(box)
    fields = body.model_dump(exclude_unset=True)
    password = fields.pop("imap_password", None)
    for key in ("imap_tls", "active", "imap_folder"):
        if key in fields and fields[key] is None:
            raise Invalid(key, f"{key} cannot be empty")
    for key, value in fields.items():
        setattr(box, key, value)
    if box.kind == "imap" and not (box.imap_host and box.imap_user):
        raise Invalid("imap_host", "An IMAP mailbox needs imap_host and imap_user")
    if password is not None:
        box.imap_password_enc = secretbox.seal(password)
    old, new = audit.changes(before, _audit_view(box))
    if password is not None:
        new["imap_password"] = "changed"  # noqa: S105  (a marker; never the password)
    if "imap_host" in new or "imap_user" in new or "imap_folder" in new:
        # Another mailbox behind the same row: its UIDs mean nothing here.
        box.imap_uidvalidity = None
        box.imap_last_uid = 0
    if new:
        box.last_error = None
        await session.flush()
        await audit.record(
            session,
            actor=actor,
            action="mailbox.updated",
            entity_type="mailbox",
            entity_id=box.id,
            old_value=old,
            new_value=new,
        )
    return box


async def delete_mailbox(session: AsyncSession, actor: CurrentUser, mailbox_id: uuid.UUID) -> None:
    box = await _mailbox(session, mailbox_id)
    await audit.record(
        session,
        actor=actor,
        action="mailbox.deleted",
        entity_type="mailbox",
        entity_id=box.id,
        old_value=_audit_view(box),
    )
    await session.delete(box)
    await session.flush()


async def ensure_default_mailbox(session: AsyncSession, address: str) -> bool:
    """The default LMTP mailbox (``ATUM_INBOUND_ADDRESS``), created when missing (make run, the
    demo data). Returns whether it was created."""
    found = await session.execute(select(Mailbox.id).where(Mailbox.address == address.lower()))
    if found.first() is not None:
        return False
    await create_mailbox(session, None, MailboxCreate(address=address, kind="lmtp"))
    return True


# ---------------------------------------------------------------- held and quarantined mail


def _inbound_page(status: str, after: str | None) -> Select[InboundMessage, str]:
    stmt = (
        select(InboundMessage, Mailbox.address)
        .outerjoin(Mailbox, Mailbox.id == InboundMessage.mailbox_id)
        .where(InboundMessage.status == status)
    )
    if after:
        received, id_ = decode_cursor(after, [datetime, uuid.UUID])
        stmt = stmt.where(
            (InboundMessage.received_at < received)
            | ((InboundMessage.received_at == received) & (InboundMessage.id < id_))
        )
    return stmt.order_by(InboundMessage.received_at.desc(), InboundMessage.id.desc())


def inbound_view(row: InboundMessage, mailbox: str | None) -> dict[str, Any]:
    return {
        "id": row.id,
        "mailbox": mailbox,
        "from_address": row.from_address,
        "subject": row.subject,
        "received_at": row.received_at,
        "reason": row.reason,
        "excerpt": row.excerpt,
        "error": row.error,
        "attempts": row.attempts,
    }


async def list_inbound(
    session: AsyncSession, *, status: str, cursor: str | None, limit: int
) -> tuple[list[dict[str, Any]], str | None]:
    """Held or quarantined mail, newest first (keyset on received_at, id)."""
    stmt = _inbound_page(status, cursor)
    rows = list((await session.execute(stmt.limit(limit + 1))).all())
    items = [inbound_view(r, mailbox) for r, mailbox in rows[:limit]]
    if len(rows) > limit:
        last = rows[limit - 1][0]
        return items, encode_cursor([last.received_at, last.id])
    return items, None


async def _inbound(session: AsyncSession, inbound_id: uuid.UUID, status: str) -> InboundMessage:
    row = (
        await session.execute(
            select(InboundMessage)
            .where(InboundMessage.id == inbound_id, InboundMessage.status == status)
            .with_for_update()
        )
    ).scalar_one_or_none()
    if row is None:
        raise NotFound(f"No {status} mail with this id")
    return row


async def held_to_ticket(
    session: AsyncSession,
    actor: CurrentUser,
    inbound_id: uuid.UUID,
    org_id: uuid.UUID,
    *,
    mail_domain: str,
    now: datetime,
) -> uuid.UUID:
    """A manager turns a held mail into a ticket of *org_id*: the sender becomes (or already
    is) a customer user of that organization and the ticket is theirs, as if they had written
    from a known address. Returns the new ticket's id."""
    row = await _inbound(session, inbound_id, "held")
    org = (
        await session.execute(select(Organization).where(Organization.id == org_id))
    ).scalar_one_or_none()
    if org is None:
        raise NotFound("Organization not found")
    if org.status != "active":
        raise Conflict("The organization is suspended")
    raw = (
        await session.execute(select(InboundRaw.raw).where(InboundRaw.inbound_id == row.id))
    ).scalar_one()
    parsed = parse(raw, envelope_from=row.envelope_from, our_domain=mail_domain)
    if parsed.from_address is None:
        raise Conflict("The mail has no readable sender address to make a contact of")
    user = (
        await session.execute(select(User).where(User.email == parsed.from_address))
    ).scalar_one_or_none()
    if user is None:
        user = await users.create_contact(
            session,
            actor,
            org_id=org.id,
            email=parsed.from_address,
            name=parsed.from_name or parsed.from_address.partition("@")[0],
            via="held mail",
        )
    elif Role(user.role) not in CUSTOMER_ROLES or user.org_id != org.id:
        raise Conflict(f"{user.email} is already a user of another organization or of the staff")
    elif not user.is_active:
        raise Conflict(f"{user.email} is deactivated")
    origin = MailOrigin(
        inbound_id=row.id,
        message_id=parsed.message_id,
        from_address=parsed.from_address,
        quoted=parsed.quoted,
    )
    stored: list[str] = []
    actor = actor_for(user, org.name, org.portal_visibility)
    outcome = await new_ticket(session, actor, parsed, origin, now, stored)
    assert outcome.ticket_id is not None
    row.status = "done"
    row.ticket_id = outcome.ticket_id
    row.processed_at = now
    await audit.record(
        session,
        actor=actor,
        action="mail.held_ticket",
        entity_type="inbound_message",
        entity_id=row.id,
        org_id=org.id,
        ticket_id=outcome.ticket_id,
        new_value={"org_id": org.id, "from": parsed.from_address},
    )
    return outcome.ticket_id


async def discard_held(session: AsyncSession, actor: CurrentUser, inbound_id: uuid.UUID) -> None:
    row = await _inbound(session, inbound_id, "held")
    row.status = "discarded"
    row.processed_at = utcnow()
    await audit.record(
        session,
        actor=actor,
        action="mail.held_discarded",
        entity_type="inbound_message",
        entity_id=row.id,
        new_value={"from": row.from_address, "reason": row.reason},
    )


async def retry_quarantined(
    session: AsyncSession, actor: CurrentUser, inbound_id: uuid.UUID
) -> None:
    """A quarantined mail goes back to the worker with a fresh attempt budget."""
    row = await _inbound(session, inbound_id, "quarantined")
    row.status = "pending"
    row.attempts = 0
    row.next_attempt_at = utcnow()
    await session.execute(text("SELECT pg_notify(:channel, '')"), {"channel": CHANNEL})
    await audit.record(
        session,
        actor=actor,
        action="mail.retried",
        entity_type="inbound_message",
        entity_id=row.id,
        old_value={"error": row.error},
    )


# ---------------------------------------------------------------- bounces


async def list_bounces(session: AsyncSession) -> list[MailBounce]:
    stmt = select(MailBounce).order_by(MailBounce.created_at.desc()).limit(500)
    return list((await session.execute(stmt)).scalars())


async def clear_bounce(session: AsyncSession, actor: CurrentUser, address: str) -> None:
    found = await session.execute(
        delete(MailBounce).where(MailBounce.address == address.lower()).returning(MailBounce.status)
    )
    status = found.scalar_one_or_none()
    if status is None:
        raise NotFound("This address is not marked as bouncing")
    await audit.record(
        session,
        actor=actor,
        action="mail.bounce_cleared",
        entity_type="mail_bounce",
        entity_id=None,
        old_value={"address": address.lower(), "status": status},
    )


# ---------------------------------------------------------------- the original .eml


@dataclass(frozen=True, slots=True)
class Original:
    raw: bytes
    file_name: str


async def original(
    session: AsyncSession,
    actor: CurrentUser,
    ticket_id: uuid.UUID,
    comment_id: uuid.UUID | None,
) -> Original:
    """The raw mail a comment (or, without *comment_id*, the ticket) came from; staff only, on a
    ticket they can see; audited like a file download."""
    if comment_id is not None:
        inbound = (
            await session.execute(
                visible_comments(actor)
                .with_only_columns(TicketComment.inbound_id)
                .where(TicketComment.id == comment_id, TicketComment.ticket_id == ticket_id)
            )
        ).scalar_one_or_none()
    else:
        ticket = (
            await session.execute(
                visible_tickets(actor).with_only_columns(Ticket.id).where(Ticket.id == ticket_id)
            )
        ).scalar_one_or_none()
        inbound = None
        if ticket is not None:
            inbound = (
                await session.execute(
                    select(InboundMessage.id)
                    .where(
                        InboundMessage.ticket_id == ticket_id,
                        InboundMessage.comment_id.is_(None),
                        InboundMessage.status == "done",
                    )
                    .order_by(InboundMessage.received_at)
                    .limit(1)
                )
            ).scalar_one_or_none()
    if inbound is None:
        raise NotFound("No original mail for this")
    raw = (
        await session.execute(select(InboundRaw.raw).where(InboundRaw.inbound_id == inbound))
    ).scalar_one_or_none()
    if raw is None:
        raise NotFound("No original mail for this")
    await audit.record(
        session,
        actor=actor,
        action="mail.original_downloaded",
        entity_type="inbound_message",
        entity_id=inbound,
        ticket_id=ticket_id,
    )
    return Original(raw, f"mail-{inbound.hex[:12]}.eml")
