"""Who is told what by e-mail (WORKFLOW.md "Notifications"), written to the outbox in the caller's
transaction: a change, its audit entry and its mails commit together or not at all.

Mails are rendered when enqueued (the worker only delivers). A customer never receives anything
about an internal note: internal events are addressed to staff only, and ``_enqueue`` refuses a
customer recipient for a staff-only template.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, select_autoescape
from sqlalchemy import insert, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from app.config import get_settings
from app.models import OutboxMessage, Ticket, User
from app.models.enums import STAFF_ROLES, Role
from app.models.enums import TicketStatus as S

CHANNEL = "atum_outbox"
_TEMPLATES = Path(__file__).resolve().parents[1] / "templates" / "mail"

# Words a customer reads for each status.
CUSTOMER_STATUS = {
    S.NEW: "received",
    S.ACCEPTED: "accepted by our support team",
    S.ASSIGNED: "assigned to a support engineer",
    S.IN_PROGRESS: "being worked on",
    S.WAITING_CUSTOMER: "waiting for your reply",
    S.RESOLVED: "resolved",
    S.CLOSED: "closed",
    S.CANCELLED: "cancelled",
}
STAFF_ONLY = frozenset(
    {"internal_note", "assigned", "sla_breached", "new_in_queue", "staff_status", "customer_reply"}
)
# Mails that ask the recipient to act are sent even to users who turned notifications off.
ESSENTIAL = frozenset({"assigned", "sla_breached", "waiting_for_you"})


@lru_cache
def _env() -> Environment:
    return Environment(
        loader=FileSystemLoader(str(_TEMPLATES)),
        autoescape=select_autoescape(["html", "html.j2"]),
        keep_trailing_newline=True,
    )


@dataclass(frozen=True, slots=True)
class Recipient:
    id: uuid.UUID
    email: str
    name: str
    role: Role
    notify_enabled: bool

    @property
    def is_staff(self) -> bool:
        return self.role in STAFF_ROLES


def _link(ticket: Ticket, recipient: Recipient) -> str:
    base = get_settings().public_url.rstrip("/")
    area = "desk" if recipient.is_staff else "portal"
    return f"{base}/{area}/tickets/{ticket.id}"


def render(
    template: str,
    ticket: Ticket,
    recipient: Recipient,
    *,
    subject: str,
    lines: Sequence[str],
    quote: str | None = None,
) -> tuple[str, str, str]:
    context = {
        "ticket": ticket,
        "subject": subject,
        "lines": lines,
        "quote": quote,
        "link": _link(ticket, recipient),
        "essential": template in ESSENTIAL,
    }
    # One line: a title may hold line breaks, which have no place in a mail header.
    full_subject = " ".join(f"[ATUM DESK #{ticket.number}] {ticket.title} — {subject}".split())
    return (
        full_subject[:300],
        _env().get_template("message.txt.j2").render(context),
        _env().get_template("message.html.j2").render(context),
    )


async def _people(session: AsyncSession, ids: Iterable[uuid.UUID | None]) -> list[Recipient]:
    wanted = {i for i in ids if i is not None}
    if not wanted:
        return []
    rows = await session.execute(
        select(User.id, User.email, User.name, User.role, User.notify_enabled).where(
            User.id.in_(wanted), User.is_active.is_(True)
        )
    )
    return [Recipient(r.id, r.email, r.name, Role(r.role), r.notify_enabled) for r in rows]


async def _managers(session: AsyncSession) -> list[Recipient]:
    rows = await session.execute(
        select(User.id, User.email, User.name, User.role, User.notify_enabled).where(
            User.role == Role.MANAGER.value, User.is_active.is_(True)
        )
    )
    return [Recipient(r.id, r.email, r.name, Role(r.role), r.notify_enabled) for r in rows]


async def _enqueue(
    session: AsyncSession,
    template: str,
    ticket: Ticket,
    recipients: Iterable[Recipient],
    *,
    actor_id: uuid.UUID | None,
    subject: str,
    lines: Sequence[str],
    quote: str | None = None,
) -> int:
    event = uuid.uuid4()
    rows = []
    seen: set[uuid.UUID] = set()
    for r in recipients:
        if r.id == actor_id or r.id in seen:
            continue
        if template in STAFF_ONLY and not r.is_staff:
            raise AssertionError(f"{template} mails are for staff only")
        if not r.notify_enabled and template not in ESSENTIAL:
            continue
        seen.add(r.id)
        mail_subject, body_text, body_html = render(
            template, ticket, r, subject=subject, lines=lines, quote=quote
        )
        rows.append(
            {
                "id": uuid.uuid4(),
                "idempotency_key": f"{template}:{event}:{r.id}",
                "recipient_id": r.id,
                "recipient_email": r.email,
                "template": template,
                "ticket_id": ticket.id,
                "org_id": ticket.org_id,
                "subject": mail_subject,
                "body_text": body_text,
                "body_html": body_html,
            }
        )
    if rows:
        await session.execute(insert(OutboxMessage), rows)
        # Delivered to listening workers when (and only if) the transaction commits.
        await session.execute(text("SELECT pg_notify(:channel, '')"), {"channel": CHANNEL})
    return len(rows)


async def ticket_created(session: AsyncSession, ticket: Ticket) -> None:
    creator = await _people(session, [ticket.created_by])
    await _enqueue(
        session,
        "new_in_queue",
        ticket,
        await _managers(session),
        actor_id=ticket.created_by,
        subject="new ticket waiting for acceptance",
        lines=[f"A new {ticket.priority} ticket is waiting in the queue for acceptance."],
        quote=ticket.description,
    )
    await _enqueue(
        session,
        "created",
        ticket,
        creator,
        actor_id=None,
        subject="we received your ticket",
        lines=[
            f"Thank you. We received your ticket and gave it the number #{ticket.number}.",
            "A support manager will review it shortly.",
        ],
    )


async def ticket_accepted(session: AsyncSession, ticket: Ticket, actor_id: uuid.UUID) -> None:
    await _enqueue(
        session,
        "accepted",
        ticket,
        await _people(session, [ticket.created_by]),
        actor_id=actor_id,
        subject="accepted",
        lines=["Your ticket was accepted by our support team and is now being planned."],
    )


async def ticket_assigned(session: AsyncSession, ticket: Ticket, actor_id: uuid.UUID) -> None:
    await _enqueue(
        session,
        "assigned",
        ticket,
        await _people(session, [ticket.assigned_to]),
        actor_id=actor_id,
        subject="assigned to you",
        lines=[f"This {ticket.priority} ticket was assigned to you."],
    )


async def status_changed(
    session: AsyncSession, ticket: Ticket, actor_id: uuid.UUID | None, new: S
) -> None:
    customer = await _people(session, [ticket.created_by])
    wording = CUSTOMER_STATUS[new]
    lines = [f"Your ticket is now {wording}."]
    quote = None
    if new is S.RESOLVED and ticket.resolution:
        lines.append("Our resolution:")
        quote = ticket.resolution
        lines.append("If this does not solve it, simply reply on the ticket to reopen it.")
    template = "waiting_for_you" if new is S.WAITING_CUSTOMER else "status"
    await _enqueue(
        session,
        template,
        ticket,
        customer,
        actor_id=actor_id,
        subject=wording,
        lines=lines,
        quote=quote,
    )
    await _enqueue(
        session,
        "staff_status",
        ticket,
        await _people(session, [ticket.assigned_to]),
        actor_id=actor_id,
        subject=f"status {new.value}",
        lines=[f"The ticket moved to {new.value}."],
    )


async def comment_added(
    session: AsyncSession,
    ticket: Ticket,
    *,
    author_id: uuid.UUID,
    author_is_staff: bool,
    body: str,
    is_internal: bool,
) -> None:
    if is_internal:
        staff = await _people(session, [ticket.assigned_to])
        await _enqueue(
            session,
            "internal_note",
            ticket,
            [r for r in staff if r.is_staff],
            actor_id=author_id,
            subject="internal note",
            lines=["An internal note was added."],
            quote=body,
        )
    elif author_is_staff:
        await _enqueue(
            session,
            "reply",
            ticket,
            await _people(session, [ticket.created_by]),
            actor_id=author_id,
            subject="new reply from support",
            lines=["Our support team replied to your ticket:"],
            quote=body,
        )
    else:
        staff = (
            await _people(session, [ticket.assigned_to])
            if ticket.assigned_to is not None
            else await _managers(session)
        )
        await _enqueue(
            session,
            "customer_reply",
            ticket,
            staff,
            actor_id=author_id,
            subject="the customer replied",
            lines=["The customer replied:"],
            quote=body,
        )


async def sla_breached(session: AsyncSession, ticket: Ticket, kind: str) -> None:
    people = await _people(session, [ticket.assigned_to]) + await _managers(session)
    what = "first response" if kind == "first_response" else "resolution"
    await _enqueue(
        session,
        "sla_breached",
        ticket,
        people,
        actor_id=None,
        subject=f"SLA breached ({what})",
        lines=[f"The {what} target of this {ticket.priority} ticket has passed."],
    )
