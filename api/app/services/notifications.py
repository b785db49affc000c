"""Who is told what by e-mail (WORKFLOW.md "Notifications"), written to the outbox in the caller's
transaction: a change, its audit entry and its mails commit together or not at all.

Mails are rendered when enqueued (the worker only delivers). A customer never receives anything
about an internal note: internal events are addressed to staff only, and ``_enqueue`` refuses a
customer recipient for a staff-only template.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, select_autoescape
from sqlalchemy import ARRAY, and_, any_, bindparam, func, or_, select, text
from sqlalchemy.dialects.postgresql import UUID as PgUUID
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.elements import ColumnElement

from app.config import get_settings
from app.mail import secretbox
from app.mail import tokens as mail_tokens
from app.models import MailBounce, Ticket, TicketCc, User
from app.models.enums import STAFF_ROLES, Role
from app.models.enums import TicketStatus as S
from app.services import csat_tokens
from app.utils.clock import utcnow

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
    {
        "internal_note",
        "assigned",
        "sla_breached",
        "sla_warning",
        "sla_escalated",
        "new_in_queue",
        "staff_status",
        "customer_reply",
        "csat_bad",
    }
)
# Threads whose replies become internal notes (the token says so): a staff member answering an
# internal-note mail never writes to the customer by accident.
INTERNAL_THREAD = frozenset({"internal_note"})
# Mails that ask the recipient to act are sent even to users who turned notifications off.
ESSENTIAL = frozenset(
    {"assigned", "sla_breached", "sla_warning", "sla_escalated", "waiting_for_you"}
)


@lru_cache
def _env() -> Environment:
    return Environment(
        loader=FileSystemLoader(str(_TEMPLATES)),
        autoescape=select_autoescape(["html", "html.j2"]),
        keep_trailing_newline=True,
        # The templates ship with the code: no stat() of each file on every mail.
        auto_reload=False,
    )


@dataclass(frozen=True, slots=True)
class Recipient:
    id: uuid.UUID
    email: str
    name: str
    role: Role
    notify_enabled: bool
    bouncing: bool = False

    @property
    def is_staff(self) -> bool:
        return self.role in STAFF_ROLES


def link_mark(row_id: uuid.UUID) -> str:
    """Stands where a sealed link goes in an outbox row's bodies (``sealed_link``; the worker puts
    the link in at delivery). Names the row: nobody can type it into their own text in advance."""
    return f"[[atum-link {row_id}]]"


def _csat_link(
    ticket: Ticket, recipient: Recipient, events: Sequence[dict[str, Any]], row_id: uuid.UUID
) -> tuple[str | None, str | None]:
    """(the marker the bodies hold, the sealed link) of the "How did we do?" links when this mail
    tells a customer of the ticket's resolution, else (None, None). The link carries a signed
    token (services/csat.py) and is never stored readable."""
    if recipient.is_staff or not any(e.get("csat") for e in events):
        return None, None
    token = csat_tokens.token_for(ticket, recipient.id)
    if token is None:  # reopened since: nothing to rate
        return None, None
    base = get_settings().public_url.rstrip("/")
    return link_mark(row_id), secretbox.seal(f"{base}/csat/{token}", secretbox.LINK)


def _link(ticket: Ticket, recipient: Recipient) -> str:
    base = get_settings().public_url.rstrip("/")
    area = "desk" if recipient.is_staff else "portal"
    return f"{base}/{area}/tickets/{ticket.id}"


def _event(mail: Mail) -> dict[str, object]:
    return {
        "template": mail.template,
        "subject": mail.subject,
        "lines": list(mail.lines),
        "quote": mail.quote,
        "after": list(mail.after),
        **({"csat": True} if mail.csat else {}),
    }


def render_events(
    ticket: Ticket,
    recipient: Recipient,
    events: Sequence[dict[str, Any]],
    csat_link: str | None = None,
) -> tuple[str, str, str]:
    """(subject, text, HTML) of one mail telling of one or several events (oldest first);
    *csat_link*: where the "How did we do?" links of a resolution event point (a marker)."""
    templates = {str(e["template"]) for e in events}
    context = {
        "ticket": ticket,
        "subject": events[0]["subject"],
        "events": events,
        "link": _link(ticket, recipient),
        "essential": bool(templates & ESSENTIAL),
        "internal": templates <= INTERNAL_THREAD,
        "csat_link": csat_link,
    }
    # The first event names the mail (a reply, then the status it caused: "new reply (+1 more)").
    first = str(events[0]["subject"])
    more = f" (+{len(events) - 1} more)" if len(events) > 1 else ""
    # One line: a title may hold line breaks, which have no place in a mail header.
    full_subject = " ".join(f"[ATUM DESK #{ticket.number}] {ticket.title} — {first}{more}".split())
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
    "status",
    "next_attempt_at",
    "last_error",
    "message_id",
    "reply_token",
    "events",
    "sealed_link",
)
# Every row of a command, the mails held back that its events join (``_join_held_back``: their
# events and bodies replaced) and the workers' wake-up in one statement, the same statement
# whatever the number of rows (one array per column): prepared once per connection, never
# recompiled.
_QUEUE = text(
    """
    WITH grown AS (
        UPDATE notification_outbox AS o SET events = g.events, subject = g.subject,
            body_text = g.body_text, body_html = g.body_html, sealed_link = g.sealed_link
        FROM unnest(CAST(:grow_id AS uuid[]), CAST(:grow_events AS jsonb[]),
            CAST(:grow_subject AS text[]), CAST(:grow_body_text AS text[]),
            CAST(:grow_body_html AS text[]), CAST(:grow_sealed_link AS text[]))
            AS g(id, events, subject, body_text, body_html, sealed_link)
        WHERE o.id = g.id AND o.status = 'pending'
    ), queued AS (
        INSERT INTO notification_outbox (id, idempotency_key, recipient_id, recipient_email,
            template, ticket_id, org_id, subject, body_text, body_html, status, next_attempt_at,
            last_error, message_id, reply_token, events, sealed_link)
        SELECT * FROM unnest(CAST(:id AS uuid[]), CAST(:idempotency_key AS text[]),
            CAST(:recipient_id AS uuid[]), CAST(:recipient_email AS text[]),
            CAST(:template AS text[]), CAST(:ticket_id AS uuid[]), CAST(:org_id AS uuid[]),
            CAST(:subject AS text[]), CAST(:body_text AS text[]), CAST(:body_html AS text[]),
            CAST(:status AS text[]), CAST(:next_attempt_at AS timestamptz[]),
            CAST(:last_error AS text[]), CAST(:message_id AS text[]),
            CAST(:reply_token AS text[]), CAST(:events AS jsonb[]),
            CAST(:sealed_link AS text[]))
    )
    SELECT pg_notify('atum_outbox', '')
    """
)
_GROWN_COLUMNS = ("id", "events", "subject", "body_text", "body_html", "sealed_link")
# Mails of earlier commands still held back (not yet due, not claimed) for the same recipients of
# the same ticket: a new event joins them instead of making another mail. Locked, so a worker
# cannot claim one while it grows (a claimed one is no longer 'pending' and is left alone).
_HELD_BACK = text(
    """
    SELECT id, recipient_id, template, events FROM notification_outbox
    WHERE ticket_id = :ticket_id AND recipient_id = ANY(CAST(:recipients AS uuid[]))
      AND status = 'pending' AND next_attempt_at > clock_timestamp() AND events IS NOT NULL
    ORDER BY created_at
    FOR UPDATE SKIP LOCKED
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
    # Lines after the quote (the resolution mail: the resolution first, then how to reopen).
    after: tuple[str, ...] = ()
    # The resolution mail: customers are asked "How did we do?" (services/csat.py).
    csat: bool = False
    # A mail to the customer: the colleagues copied on the ticket (ticket_ccs) receive it too.
    copy_ccs: bool = False


@lru_cache(maxsize=8)
def _people_statement(copied: bool, managers: bool) -> Any:
    """The statement of ``_people`` for its shape (built once: building and hashing it cost more
    than running it), with ``ids`` and ``copied_on`` bound at each execution."""
    wanted: ColumnElement[Any] = bindparam("ids", type_=ARRAY(PgUUID(as_uuid=True)))
    cc_of = TicketCc.ticket_id == any_(bindparam("copied_on", type_=ARRAY(PgUUID(as_uuid=True))))
    if copied:
        cc_users = select(TicketCc.user_id).where(cc_of).scalar_subquery()
        wanted = func.array(cc_users).op("||")(wanted)
    named: ColumnElement[bool] = User.id == any_(wanted)
    stmt = select(*_RECIPIENT_COLUMNS, MailBounce.address.is_not(None)).outerjoin(
        MailBounce, MailBounce.address == User.email
    )
    if copied:
        stmt = stmt.add_columns(TicketCc.ticket_id, TicketCc.created_at).outerjoin(
            TicketCc, and_(TicketCc.user_id == User.id, cc_of)
        )
    if managers:
        named = or_(named, User.role == Role.MANAGER.value)
    return stmt.where(named, User.is_active.is_(True)).order_by(User.email)


async def _people(
    session: AsyncSession, ids: set[uuid.UUID], managers: bool, copied_on: set[uuid.UUID]
) -> tuple[dict[uuid.UUID, Recipient], dict[uuid.UUID, tuple[uuid.UUID, ...]]]:
    """Every active user a command's mails name, every active manager if one of them goes to the
    managers, and the active users copied on each ticket of *copied_on* (those of a mail to the
    customer, in the order they were copied), each with whether their address bounces: one
    statement whatever the number."""
    if not copied_on and not ids and not managers:
        return {}, {}
    stmt = _people_statement(bool(copied_on), managers)
    values = {"ids": list(ids), "copied_on": list(copied_on)} if copied_on else {"ids": list(ids)}
    rows: Sequence[Any] = (await session.execute(stmt, values)).all()
    people = {r[0]: Recipient(r[0], r[1], r[2], Role(r[3]), r[4], bool(r[5])) for r in rows}
    copied: dict[uuid.UUID, tuple[uuid.UUID, ...]] = {}
    if copied_on:
        for r in sorted((r for r in rows if r[6] is not None), key=lambda r: (r[7], r[0])):
            copied[r[6]] = (*copied.get(r[6], ()), r[0])
    return people, copied


def _wanted(mail: Mail, recipients: Iterable[Recipient]) -> list[Recipient]:
    chosen: list[Recipient] = []
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
        chosen.append(r)
    return chosen


def _thread_kind(templates: Iterable[str]) -> str:
    """A reply to a staff member's internal-note mail becomes an internal note, never a public
    reply; every other thread is public."""
    return mail_tokens.INTERNAL if set(templates) <= INTERNAL_THREAD else mail_tokens.PUBLIC


def _row(
    ticket: Ticket, r: Recipient, events: list[dict[str, object]], event: uuid.UUID
) -> dict[str, object]:
    settings = get_settings()
    row_id = uuid.uuid4()
    mark, sealed = _csat_link(ticket, r, events, row_id)
    subject, body_text, body_html = render_events(ticket, r, events, mark)
    templates = [str(e["template"]) for e in events]
    token = mail_tokens.make(ticket.number, r.id, _thread_kind(templates))
    hold = timedelta(seconds=settings.mail_coalesce_seconds)
    return {
        "id": row_id,
        "idempotency_key": f"{templates[0]}:{event}:{r.id}",
        "recipient_id": r.id,
        "recipient_email": r.email,
        "template": templates[0],
        "ticket_id": ticket.id,
        "org_id": ticket.org_id,
        "subject": subject,
        "body_text": body_text,
        "body_html": body_html,
        # An address that bounced gets nothing until staff clear it: the row is kept, failed.
        "status": "failed" if r.bouncing else "pending",
        "next_attempt_at": utcnow() + hold,
        "last_error": f"{r.email} bounces: not sent" if r.bouncing else None,
        "message_id": mail_tokens.message_id(row_id, token, settings.resolved_mail_domain),
        "reply_token": token,
        "events": json.dumps(events),
        "sealed_link": sealed,
    }


async def send(session: AsyncSession, mails: Iterable[Mail], *, new_tickets: bool = False) -> int:
    """Write the mails of one command to the outbox: one statement for the recipients (and the
    users copied on the tickets) and one that inserts every row and wakes the workers
    (``pg_notify`` is delivered when, and only if, the transaction commits). The events of a
    command for one recipient on one ticket make one mail, and join a mail of an earlier command
    still held back for them (``ATUM_MAIL_COALESCE_SECONDS``: one more statement per ticket
    finds those; the insert statement rewrites them; *new_tickets*: the tickets were created by
    this command, nothing of theirs can be held back). Returns the number of new mails queued."""
    mails = list(mails)
    people, copied = await _people(
        session,
        {i for m in mails for i in m.to if i is not None},
        any(m.managers for m in mails),
        {m.ticket.id for m in mails if m.copy_ccs},
    )
    managers = [p for p in people.values() if p.role is Role.MANAGER]
    grouped: dict[tuple[uuid.UUID, uuid.UUID], tuple[Ticket, Recipient, list[dict[str, object]]]]
    grouped = {}
    for mail in mails:
        to = (*mail.to, *copied.get(mail.ticket.id, ())) if mail.copy_ccs else mail.to
        named = [people[i] for i in to if i is not None and i in people]
        for r in _wanted(mail, named + (managers if mail.managers else [])):
            key = (mail.ticket.id, r.id)
            if key not in grouped:
                grouped[key] = (mail.ticket, r, [])
            grouped[key][2].append(_event(mail))
    if not grouped:
        return 0
    grown: list[dict[str, Any]] = []
    if get_settings().mail_coalesce_seconds > 0 and not new_tickets:
        grown = await _join_held_back(session, grouped)
    event = uuid.uuid4()
    rows = [_row(ticket, r, events, event) for ticket, r, events in grouped.values() if events]
    if rows or grown:
        values = {column: [row[column] for row in rows] for column in _OUTBOX_COLUMNS}
        values |= {f"grow_{column}": [g[column] for g in grown] for column in _GROWN_COLUMNS}
        await session.execute(_QUEUE, values)
    return len(rows)


async def _join_held_back(
    session: AsyncSession,
    grouped: dict[tuple[uuid.UUID, uuid.UUID], tuple[Ticket, Recipient, list[dict[str, object]]]],
) -> list[dict[str, Any]]:
    """Append this command's events to the mails still held back for the same recipients of the
    same ticket (same thread kind): the held-back rows' new contents, which ``_QUEUE`` writes;
    the events left over make new mails."""
    grown: list[dict[str, Any]] = []
    by_ticket: dict[uuid.UUID, list[uuid.UUID]] = {}
    for ticket_id, recipient_id in grouped:
        by_ticket.setdefault(ticket_id, []).append(recipient_id)
    for ticket_id, recipients in by_ticket.items():
        held = await session.execute(_HELD_BACK, {"ticket_id": ticket_id, "recipients": recipients})
        for row_id, recipient_id, _template, earlier in held.all():
            ticket, r, events = grouped[(ticket_id, recipient_id)]
            if not events:
                continue
            old_kind = _thread_kind(str(e["template"]) for e in earlier)
            if old_kind != _thread_kind(str(e["template"]) for e in events):
                continue
            combined = [*earlier, *events]
            mark, sealed = _csat_link(ticket, r, combined, row_id)
            subject, body_text, body_html = render_events(ticket, r, combined, mark)
            grown.append(
                {
                    "id": row_id,
                    "events": json.dumps(combined),
                    "subject": subject,
                    "body_text": body_text,
                    "body_html": body_html,
                    "sealed_link": sealed,
                }
            )
            events.clear()
    return grown


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
            copy_ccs=True,
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
            copy_ccs=True,
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
    after: list[str] = []
    if new is S.RESOLVED:
        if ticket.resolution:
            lines.append("Our resolution:")
            quote = ticket.resolution
        after.append("If this does not solve it, reply to this e-mail and the ticket reopens.")
    elif new is S.WAITING_CUSTOMER:
        after.append("Reply to this e-mail with the details, and we carry on.")
    return [
        Mail(
            "waiting_for_you" if new is S.WAITING_CUSTOMER else "status",
            ticket,
            wording,
            tuple(lines),
            to=(ticket.created_by,),
            actor_id=actor_id,
            quote=quote,
            after=tuple(after),
            copy_ccs=True,
            csat=new is S.RESOLVED,
        ),
        Mail(
            "staff_status",
            ticket,
            f"now {wording}",
            (f"The ticket is now {wording}.",),
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
                copy_ccs=True,
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


def sla_warning(ticket: Ticket, kind: str, due_at: datetime | None) -> list[Mail]:
    """The warning before a breach: to the assignee (every manager while nobody is assigned)."""
    what = "first response" if kind == "first_response" else "resolution"
    when = f" It is due at {due_at:%Y-%m-%d %H:%M} UTC." if due_at is not None else ""
    return [
        Mail(
            "sla_warning",
            ticket,
            f"SLA warning ({what})",
            (f"The {what} target of this {ticket.priority} ticket is close.{when}",),
            to=(ticket.assigned_to,),
            managers=ticket.assigned_to is None,
        )
    ]


def sla_escalated(ticket: Ticket, kinds: str, to: tuple[uuid.UUID, ...]) -> list[Mail]:
    """The second escalation, some business time after a breach, to the policy's user/team."""
    return [
        Mail(
            "sla_escalated",
            ticket,
            "SLA escalation",
            (
                f"This {ticket.priority} ticket breached its {kinds} target and is still open.",
                "It has been escalated to you.",
            ),
            to=to,
            managers=not to,
        )
    ]


def csat_bad(ticket: Ticket, actor_id: uuid.UUID | None, comment: str | None) -> list[Mail]:
    """A customer rated the ticket "bad": its manager (the one who accepted it, else every
    manager) hears of it."""
    return [
        Mail(
            "csat_bad",
            ticket,
            "the customer rated it bad",
            ("The customer rated our handling of this ticket as bad.",),
            to=(ticket.accepted_by,),
            managers=ticket.accepted_by is None,
            actor_id=actor_id,
            quote=comment,
            staff_recipients_only=True,
        )
    ]
