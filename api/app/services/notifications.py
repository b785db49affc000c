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
from sqlalchemy import or_, select, text
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.elements import ColumnElement

from app.config import get_settings
from app.models import Ticket, User
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


_RECIPIENT_COLUMNS = (User.id, User.email, User.name, User.role, User.notify_enabled)


_OUTBOX_COLUMNS = (
    "id",
    "idempotency_key",
    "recipient_id",
    "recipient_email",
    "template",
    "ticket_id",
    "org_id",
    "subject",
    "body_text",
    "body_html",
)
# Every row of a command and the workers' wake-up in one statement, the same statement whatever
# the number of rows (one array per column): prepared once per connection, never recompiled.
_QUEUE = text(
    """
    WITH queued AS (
        INSERT INTO notification_outbox (id, idempotency_key, recipient_id, recipient_email,
            template, ticket_id, org_id, subject, body_text, body_html)
        SELECT * FROM unnest(CAST(:id AS uuid[]), CAST(:idempotency_key AS text[]),
            CAST(:recipient_id AS uuid[]), CAST(:recipient_email AS text[]),
            CAST(:template AS text[]), CAST(:ticket_id AS uuid[]), CAST(:org_id AS uuid[]),
            CAST(:subject AS text[]), CAST(:body_text AS text[]), CAST(:body_html AS text[]))
    )
    SELECT pg_notify('atum_outbox', '')
    """
)


@dataclass(frozen=True, slots=True)
class Mail:
    """One mail event of a command: its template and words, and who should get it (users by id,
    and/or every active manager). ``send`` turns a command's mails into outbox rows."""

    template: str
    ticket: Ticket
    subject: str
    lines: tuple[str, ...]
    to: tuple[uuid.UUID | None, ...] = ()
    managers: bool = False
    actor_id: uuid.UUID | None = None
    quote: str | None = None
    staff_recipients_only: bool = False


async def _recipients(
    session: AsyncSession, ids: set[uuid.UUID], managers: bool
) -> dict[uuid.UUID, Recipient]:
    """Every active user a command's mails name, and every active manager if one of them goes to
    the managers: one statement whatever the number of mails."""
    conditions: list[ColumnElement[bool]] = []
    if ids:
        conditions.append(User.id.in_(ids))
    if managers:
        conditions.append(User.role == Role.MANAGER.value)
    if not conditions:
        return {}
    wanted = or_(*conditions)
    rows = await session.execute(
        select(*_RECIPIENT_COLUMNS).where(wanted, User.is_active.is_(True)).order_by(User.email)
    )
    return {r.id: Recipient(r.id, r.email, r.name, Role(r.role), r.notify_enabled) for r in rows}


def _rows(mail: Mail, recipients: Iterable[Recipient]) -> list[dict[str, object]]:
    event = uuid.uuid4()
    rows: list[dict[str, object]] = []
    seen: set[uuid.UUID] = set()
    for r in recipients:
        if r.id == mail.actor_id or r.id in seen:
            continue
        if mail.staff_recipients_only and not r.is_staff:
            continue
        if mail.template in STAFF_ONLY and not r.is_staff:
            raise AssertionError(f"{mail.template} mails are for staff only")
        if not r.notify_enabled and mail.template not in ESSENTIAL:
            continue
        seen.add(r.id)
        mail_subject, body_text, body_html = render(
            mail.template,
            mail.ticket,
            r,
            subject=mail.subject,
            lines=mail.lines,
            quote=mail.quote,
        )
        rows.append(
            {
                "id": uuid.uuid4(),
                "idempotency_key": f"{mail.template}:{event}:{r.id}",
                "recipient_id": r.id,
                "recipient_email": r.email,
                "template": mail.template,
                "ticket_id": mail.ticket.id,
                "org_id": mail.ticket.org_id,
                "subject": mail_subject,
                "body_text": body_text,
                "body_html": body_html,
            }
        )
    return rows


async def send(session: AsyncSession, mails: Iterable[Mail]) -> int:
    """Write the mails of one command to the outbox: one statement for the recipients and one
    that inserts every row and wakes the workers (``pg_notify`` is delivered when, and only if,
    the transaction commits). Returns the number of mails queued."""
    mails = list(mails)
    ids = {i for m in mails for i in m.to if i is not None}
    people = await _recipients(session, ids, any(m.managers for m in mails))
    managers = [p for p in people.values() if p.role is Role.MANAGER]
    rows: list[dict[str, object]] = []
    for mail in mails:
        named = [people[i] for i in mail.to if i is not None and i in people]
        rows += _rows(mail, named + (managers if mail.managers else []))
    if rows:
        await session.execute(
            _QUEUE, {column: [row[column] for row in rows] for column in _OUTBOX_COLUMNS}
        )
    return len(rows)


# ---------------------------------------------------------------- the mails of each event


def created(ticket: Ticket) -> list[Mail]:
    return [
        Mail(
            "new_in_queue",
            ticket,
            "new ticket waiting for acceptance",
            (f"A new {ticket.priority} ticket is waiting in the queue for acceptance.",),
            managers=True,
            actor_id=ticket.created_by,
            quote=ticket.description,
        ),
        Mail(
            "created",
            ticket,
            "we received your ticket",
            (
                f"Thank you. We received your ticket and gave it the number #{ticket.number}.",
                "A support manager will review it shortly.",
            ),
            to=(ticket.created_by,),
        ),
    ]


def accepted(ticket: Ticket, actor_id: uuid.UUID) -> list[Mail]:
    return [
        Mail(
            "accepted",
            ticket,
            "accepted",
            ("Your ticket was accepted by our support team and is now being planned.",),
            to=(ticket.created_by,),
            actor_id=actor_id,
        )
    ]


def assigned(ticket: Ticket, actor_id: uuid.UUID) -> list[Mail]:
    return [
        Mail(
            "assigned",
            ticket,
            "assigned to you",
            (f"This {ticket.priority} ticket was assigned to you.",),
            to=(ticket.assigned_to,),
            actor_id=actor_id,
        )
    ]


def status(ticket: Ticket, actor_id: uuid.UUID | None, new: S) -> list[Mail]:
    wording = CUSTOMER_STATUS[new]
    lines = [f"Your ticket is now {wording}."]
    quote = None
    if new is S.RESOLVED and ticket.resolution:
        lines.append("Our resolution:")
        quote = ticket.resolution
        lines.append("If this does not solve it, simply reply on the ticket to reopen it.")
    return [
        Mail(
            "waiting_for_you" if new is S.WAITING_CUSTOMER else "status",
            ticket,
            wording,
            tuple(lines),
            to=(ticket.created_by,),
            actor_id=actor_id,
            quote=quote,
        ),
        Mail(
            "staff_status",
            ticket,
            f"status {new.value}",
            (f"The ticket moved to {new.value}.",),
            to=(ticket.assigned_to,),
            actor_id=actor_id,
        ),
    ]


def comment(
    ticket: Ticket,
    *,
    author_id: uuid.UUID,
    author_is_staff: bool,
    body: str,
    is_internal: bool,
) -> list[Mail]:
    if is_internal:
        return [
            Mail(
                "internal_note",
                ticket,
                "internal note",
                ("An internal note was added.",),
                to=(ticket.assigned_to,),
                actor_id=author_id,
                quote=body,
                staff_recipients_only=True,
            )
        ]
    if author_is_staff:
        return [
            Mail(
                "reply",
                ticket,
                "new reply from support",
                ("Our support team replied to your ticket:",),
                to=(ticket.created_by,),
                actor_id=author_id,
                quote=body,
            )
        ]
    return [
        Mail(
            "customer_reply",
            ticket,
            "the customer replied",
            ("The customer replied:",),
            to=(ticket.assigned_to,),
            managers=ticket.assigned_to is None,
            actor_id=author_id,
            quote=body,
        )
    ]


def breached(ticket: Ticket, kind: str) -> list[Mail]:
    what = "first response" if kind == "first_response" else "resolution"
    return [
        Mail(
            "sla_breached",
            ticket,
            f"SLA breached ({what})",
            (f"The {what} target of this {ticket.priority} ticket has passed.",),
            to=(ticket.assigned_to,),
            managers=True,
        )
    ]
