"""From stored mail to tickets: the worker's step after the LMTP listener and the IMAP poller
stored a message (app/mail/store.py).

Each stored message is claimed with a lease (``FOR UPDATE SKIP LOCKED``, as the outbox), parsed
and routed in ONE transaction together with its new status, so a message becomes exactly one
ticket, comment, note or held entry, or nothing at all (and is tried again). A message that keeps
failing is quarantined with its error after ``ATUM_INBOUND_MAX_ATTEMPTS`` tries and never holds
back the messages behind it.

Routing (docs/EMAIL.md "Matching a reply"): a valid reply token in a recipient address, else one
of our signed Message-IDs in In-Reply-To/References, else a ``[#number]`` subject tag when the
sender is staff or belongs to that ticket's organization. A token is never permission: the sender
must be a user allowed to comment on the ticket (services/visibility.py via ``tickets.lock``, the
workflow rules via ``tickets.add_comment``), or the message is held for a manager. Every change
goes through the ticket services, so the portal's rules, audit, SLA and notifications apply
unchanged. Automatic mail (auto-replies, lists, bounces, our own mail) never opens a ticket,
changes a status or sends a notification.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import structlog
from sqlalchemy import select, text, update
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from app.auth.deps import CurrentUser
from app.config import Settings
from app.errors import DomainError
from app.mail import tokens
from app.mail.parse import Attachment, ParsedMail, parse
from app.models import InboundMessage, InboundRaw, Organization, Ticket, TicketComment, User
from app.models.enums import Role
from app.models.enums import TicketStatus as S
from app.schemas.ticket import TicketCreate
from app.services import attachments, audit, tickets, users, workflow
from app.services.tickets import MailOrigin
from app.services.visibility import visible_tickets
from app.utils.clock import utcnow

log = structlog.get_logger("atum.mail")

LEASE_SECONDS = 300
BATCH = 16
_NO_SESSION = uuid.UUID(int=0)
_PREFIXES = ("re:", "aw:", "fw:", "fwd:", "wg:", "antw:", "sv:", "vs:")

_CLAIM = text(
    """
    UPDATE inbound_messages AS m
    SET attempts = m.attempts + 1, lease_token = :token,
        lease_until = now() + make_interval(secs => :lease)
    WHERE m.id IN (
        SELECT id FROM inbound_messages
        WHERE status = 'pending' AND next_attempt_at <= now()
          AND (lease_until IS NULL OR lease_until < now())
        ORDER BY received_at, id
        LIMIT :batch
        FOR UPDATE SKIP LOCKED
    )
    RETURNING m.id
    """
)
_DUE_NOW = text(
    "SELECT 1 FROM inbound_messages WHERE status = 'pending' AND next_attempt_at <= now() LIMIT 1"
)
_FAILED = text(
    """
    UPDATE inbound_messages
    SET status = CASE WHEN attempts >= :max THEN 'quarantined' ELSE 'pending' END,
        next_attempt_at = now() + make_interval(secs => least(3600, 30 * power(2, attempts - 1))),
        error = :error, lease_token = NULL, lease_until = NULL
    WHERE id = :id AND lease_token = :token
    RETURNING status
    """
)


@dataclass(slots=True)
class Outcome:
    status: str  # done, held, dropped
    reason: str | None = None
    ticket_id: uuid.UUID | None = None
    comment_id: uuid.UUID | None = None


class Hold(Exception):
    """The message waits for a manager (reason given)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


# ---------------------------------------------------------------- the worker loop


async def process_due(
    engine: AsyncEngine,
    settings: Settings,
    *,
    stopping: asyncio.Event | None = None,
    budget_seconds: float = 5.0,
) -> int:
    """Process the stored messages that are due, for at most *budget_seconds* (at least one
    batch). Returns the number processed."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + budget_seconds
    done = 0
    while stopping is None or not stopping.is_set():
        token = uuid.uuid4()
        async with engine.begin() as conn:
            ids = [
                r[0]
                for r in await conn.execute(
                    _CLAIM, {"token": token, "lease": LEASE_SECONDS, "batch": BATCH}
                )
            ]
        if not ids:
            break
        # Several messages at once: each waits on the database most of its time, so they
        # overlap. Each is its own transaction (rows of one ticket serialise on its lock).
        gate = asyncio.Semaphore(settings.inbound_concurrency)
        await asyncio.gather(*(_gated(gate, engine, settings, i, token) for i in ids))
        done += len(ids)
        if loop.time() >= deadline:
            break
    return done


async def _gated(
    gate: asyncio.Semaphore,
    engine: AsyncEngine,
    settings: Settings,
    inbound_id: uuid.UUID,
    token: uuid.UUID,
) -> None:
    async with gate:
        await process_one(engine, settings, inbound_id, token)


async def backlog(engine: AsyncEngine) -> bool:
    """Whether stored mail is waiting to be processed (the partial index answers)."""
    async with engine.connect() as conn:
        found = await conn.execute(_DUE_NOW)
        return found.first() is not None


async def process_one(
    engine: AsyncEngine, settings: Settings, inbound_id: uuid.UUID, token: uuid.UUID
) -> None:
    stored_files: list[str] = []
    try:
        async with AsyncSession(engine, expire_on_commit=False) as session, session.begin():
            row = (
                await session.execute(
                    select(InboundMessage)
                    .where(InboundMessage.id == inbound_id, InboundMessage.lease_token == token)
                    .with_for_update()
                )
            ).scalar_one_or_none()
            if row is None:
                return  # the lease was lost: another worker has it
            raw = (
                await session.execute(
                    select(InboundRaw.raw).where(InboundRaw.inbound_id == inbound_id)
                )
            ).scalar_one()
            parsed = parse(
                raw, envelope_from=row.envelope_from, our_domain=settings.resolved_mail_domain
            )
            row.from_address = (parsed.from_address or "")[:254] or None
            row.subject = parsed.subject[:998] or None
            row.excerpt = parsed.excerpt or None
            row.automatic = parsed.automatic
            now = utcnow()
            try:
                async with session.begin_nested():
                    outcome = await route(session, settings, row, parsed, now, stored_files)
            except Hold as held:
                outcome = Outcome("held", held.reason)
            except DomainError as exc:
                outcome = Outcome("held", f"refused by the desk: {exc.detail}")
            row.status = outcome.status
            row.reason = outcome.reason
            row.ticket_id = outcome.ticket_id
            row.comment_id = outcome.comment_id
            row.processed_at = now
            row.error = None
            row.lease_token = None
            row.lease_until = None
            if outcome.status == "held":
                await audit.record(
                    session,
                    actor=None,
                    action="mail.held",
                    entity_type="inbound_message",
                    entity_id=row.id,
                    new_value={"from": row.from_address, "reason": outcome.reason},
                )
        log.info(
            "mail_processed",
            inbound_id=str(inbound_id),
            status=outcome.status,
            reason=outcome.reason,
            ticket_id=str(outcome.ticket_id) if outcome.ticket_id else None,
        )
    except Exception as exc:
        for key in stored_files:  # the transaction is gone: so are the files it stored
            await attachments.file_store().delete(key)
        log.warning("mail_failed", inbound_id=str(inbound_id), error_type=type(exc).__name__)
        async with engine.begin() as conn:
            await conn.execute(
                _FAILED,
                {
                    "id": inbound_id,
                    "token": token,
                    "max": settings.inbound_max_attempts,
                    "error": f"{type(exc).__name__}: {exc}"[:2000],
                },
            )


# ---------------------------------------------------------------- routing


def actor_for(
    user: User, org_name: str | None, portal_visibility: str = "organization"
) -> CurrentUser:
    """The sender as the user the services act for (mail has no session), with their
    organization's portal visibility (which tickets a reply may reach: services/visibility.py)."""
    return CurrentUser(
        id=user.id,
        email=user.email,
        name=user.name,
        role=Role(user.role),
        org_id=user.org_id,
        org_name=org_name,
        session_id=_NO_SESSION,
        portal_visibility=portal_visibility,
    )


async def _sender(session: AsyncSession, address: str | None) -> CurrentUser | None:
    """The active user with this address (customers of an active organization only)."""
    if address is None:
        return None
    found = (
        await session.execute(
            select(User, Organization.name, Organization.status, Organization.portal_visibility)
            .outerjoin(Organization, Organization.id == User.org_id)
            .where(User.email == address.lower())
        )
    ).one_or_none()
    if found is None:
        return None
    user, org_name, org_status, portal_visibility = found
    if not user.is_active or (user.org_id is not None and org_status != "active"):
        raise Hold(f"{address} is a deactivated account")
    return actor_for(user, org_name, portal_visibility or "organization")


async def _domain_org(session: AsyncSession, address: str) -> tuple[uuid.UUID, str, str] | None:
    domain = address.rpartition("@")[2].lower()
    row = (
        await session.execute(
            text(
                "SELECT o.id, o.name, o.portal_visibility FROM organization_email_domains d "
                "JOIN organizations o ON o.id = d.org_id "
                "WHERE d.domain = :domain AND o.status = 'active'"
            ),
            {"domain": domain},
        )
    ).one_or_none()
    return (row[0], row[1], row[2]) if row is not None else None


@dataclass(slots=True)
class Match:
    ticket: Ticket
    how: str  # token, message-id, subject
    token: tokens.ReplyToken | None


async def _ticket_by_number(session: AsyncSession, number: int) -> Ticket | None:
    return (
        await session.execute(select(Ticket).where(Ticket.number == number))
    ).scalar_one_or_none()


async def match(
    session: AsyncSession,
    settings: Settings,
    parsed: ParsedMail,
    envelope_to: list[str],
    sender: CurrentUser | None,
) -> Match | None:
    """Which ticket a mail answers (first hit wins), or None."""
    for address in [*envelope_to, *parsed.recipient_addresses]:
        found = tokens.in_address(address)
        if found is not None:
            ticket = await _ticket_by_number(session, found.ticket_number)
            if ticket is not None:
                return Match(ticket, "token", found)
    domain = settings.resolved_mail_domain
    for message_id in [*reversed(parsed.in_reply_to), *reversed(parsed.references)]:
        found = tokens.in_message_id(message_id, domain)
        if found is not None:
            ticket = await _ticket_by_number(session, found.ticket_number)
            if ticket is not None:
                return Match(ticket, "message-id", found)
    number = parsed.subject_ticket_number
    if number is not None and sender is not None:
        ticket = await _ticket_by_number(session, number)
        if ticket is not None and (sender.is_staff or sender.org_id == ticket.org_id):
            return Match(ticket, "subject", None)
    return None


def _title(subject: str) -> str:
    title = subject.strip()
    changed = True
    while changed:
        changed = False
        for prefix in _PREFIXES:
            if title.lower().startswith(prefix):
                title = title[len(prefix) :].strip()
                changed = True
    title = " ".join(title.split())[:300]
    if not title:
        return "(no subject)"
    # A ticket title has three characters at least.
    return title if len(title) >= 3 else f"E-mail: {title}"


def _refused_note(refused: list[dict[str, str]]) -> str:
    return "\n".join(f"[Not attached: {r['file_name']} — {r['reason']}]" for r in refused)


async def _chunks(data: bytes) -> AsyncIterator[bytes]:
    for start in range(0, len(data), 1 << 16):
        yield data[start : start + (1 << 16)]


async def _attach(
    session: AsyncSession,
    actor: CurrentUser,
    ticket_id: uuid.UUID,
    files: list[Attachment],
    *,
    comment_id: uuid.UUID | None,
    internal: bool,
    now: datetime,
    stored_files: list[str],
) -> list[dict[str, str]]:
    """Store the mail's files through the upload rules (size, type by content, names); the ones
    refused are returned with the reason, never stored."""
    refused: list[dict[str, str]] = []
    for number, file in enumerate(files, start=1):
        name = file.file_name or f"attachment-{number}"
        try:
            async with session.begin_nested():
                stored = await attachments.upload(
                    session,
                    actor,
                    ticket_id,
                    chunks=_chunks(file.data),
                    file_name=name,
                    declared_type=file.content_type,
                    is_internal=internal,
                    comment_id=comment_id,
                    now=now,
                )
            stored_files.append(stored.file_path)
        except DomainError as exc:
            refused.append({"file_name": name[:255], "reason": str(exc.detail)[:300]})
    return refused


async def route(
    session: AsyncSession,
    settings: Settings,
    row: InboundMessage,
    parsed: ParsedMail,
    now: datetime,
    stored_files: list[str],
) -> Outcome:
    if parsed.dsn or parsed.automatic_reason == "multipart/report":
        return await _bounce(session, row, parsed, now)
    sender = await _sender(session, parsed.from_address)
    found = await match(session, settings, parsed, list(row.envelope_to), sender)
    origin = MailOrigin(
        inbound_id=row.id,
        message_id=parsed.message_id,
        from_address=parsed.from_address or (row.envelope_from or "unknown"),
        quoted=parsed.quoted,
        automatic=parsed.automatic,
    )
    if parsed.automatic:
        if found is None:
            return Outcome("dropped", f"automatic mail ({parsed.automatic_reason}) for no ticket")
        note = await tickets.add_mail_note(
            session,
            found.ticket.id,
            author=sender,
            body=parsed.text or parsed.subject or "(empty automatic mail)",
            mail=origin,
            now=now,
        )
        return Outcome("done", f"automatic ({parsed.automatic_reason})", found.ticket.id, note.id)
    if parsed.from_address is None:
        raise Hold("the mail has no readable sender address")

    if found is not None:
        return await _reply(session, found, sender, parsed, origin, now, stored_files)
    if sender is None:
        sender = await _contact_from_domain(session, parsed)
    if sender is None:
        raise Hold(f"unknown sender {parsed.from_address}")
    if sender.is_staff:
        raise Hold("mail from a staff member that answers no ticket")
    return await new_ticket(session, sender, parsed, origin, now, stored_files)


async def _contact_from_domain(session: AsyncSession, parsed: ParsedMail) -> CurrentUser | None:
    """An unknown sender from an organization's e-mail domain becomes a customer user of it (no
    password: an invitation gives one later)."""
    assert parsed.from_address is not None
    org = await _domain_org(session, parsed.from_address)
    if org is None:
        return None
    user = await users.create_contact(
        session,
        None,
        org_id=org[0],
        email=parsed.from_address,
        name=parsed.from_name or parsed.from_address.partition("@")[0],
        via="email",
    )
    return actor_for(user, org[1], org[2])


async def new_ticket(
    session: AsyncSession,
    actor: CurrentUser,
    parsed: ParsedMail,
    origin: MailOrigin,
    now: datetime,
    stored_files: list[str],
    *,
    follow_up_of: Ticket | None = None,
) -> Outcome:
    # A new mail keeps everything it says (a forwarded message is often the point of it).
    text_parts = [parsed.text, parsed.quoted or ""]
    if follow_up_of is not None:
        text_parts.insert(0, f"(Follow-up to the closed ticket #{follow_up_of.number}.)")
    description = "\n\n".join(p for p in text_parts if p.strip()).strip() or "(empty message)"
    body = TicketCreate.model_validate(
        {"title": _title(parsed.subject), "description": description[:50_000]}
    )
    ticket = await tickets.create(
        session,
        actor,
        body,
        now,
        channel="email",
        follow_up_of=follow_up_of.id if follow_up_of is not None else None,
        mail=origin,
    )
    refused = await _attach(
        session,
        actor,
        ticket.id,
        parsed.attachments,
        comment_id=None,
        internal=False,
        now=now,
        stored_files=stored_files,
    )
    if refused:
        ticket.description = f"{ticket.description}\n\n{_refused_note(refused)}"[:50_000]
        await session.flush()
    return Outcome("done", None, ticket.id, None)


async def _merge_target(session: AsyncSession, ticket: Ticket) -> Ticket:
    """A reply to a duplicate belongs to the ticket it was merged into (followed a few steps,
    should that one have been merged in turn)."""
    for _ in range(5):
        if ticket.merged_into is None:
            break
        target = await session.get(Ticket, ticket.merged_into)
        if target is None:
            break
        ticket = target
    return ticket


async def _reply(
    session: AsyncSession,
    found: Match,
    sender: CurrentUser | None,
    parsed: ParsedMail,
    origin: MailOrigin,
    now: datetime,
    stored_files: list[str],
) -> Outcome:
    ticket = await _merge_target(session, found.ticket)
    number = ticket.number
    if sender is None:
        raise Hold(f"{parsed.from_address} is not a user of this desk; the mail answers #{number}")
    # A token is never permission: the ticket must exist for the sender (services/visibility.py).
    visible = await session.execute(
        visible_tickets(sender).with_only_columns(Ticket.id).where(Ticket.id == ticket.id)
    )
    if visible.first() is None:
        raise Hold(f"{sender.email} may not comment on #{number} (matched by {found.how})")
    status = S(ticket.status)
    if status in workflow.FINAL:
        if sender.is_staff:
            raise Hold(f"a staff reply to the {status.value} ticket #{number}")
        return await new_ticket(
            session, sender, parsed, origin, now, stored_files, follow_up_of=ticket
        )
    internal = found.token is not None and found.token.kind == tokens.INTERNAL
    body = parsed.text
    if sender.is_staff and not internal and status is S.NEW:
        # The acceptance gate: no public reply before acceptance. Kept as an internal note.
        internal = True
        body = (
            f"(Sent by e-mail before the ticket was accepted; kept as an internal note.)\n\n{body}"
        )
    if internal and not sender.is_staff:
        internal = False
    if not body.strip():
        body = "(empty reply)" if not parsed.attachments else "(files attached)"
    comment = await tickets.add_comment(
        session,
        sender,
        ticket.id,
        body=body[:50_000],
        is_internal=internal,
        now=now,
        channel="email",
        mail=origin,
    )
    refused = await _attach(
        session,
        sender,
        ticket.id,
        parsed.attachments,
        comment_id=comment.id,
        internal=internal,
        now=now,
        stored_files=stored_files,
    )
    if refused:
        # The comment was written by a Core INSERT (tickets.add_comment): not a session object.
        comment.refused_files = refused
        await session.execute(
            update(TicketComment)
            .where(TicketComment.id == comment.id)
            .values(refused_files=refused)
            .execution_options(synchronize_session=False)
        )
    return Outcome("done", f"matched by {found.how}", ticket.id, comment.id)


async def _bounce(
    session: AsyncSession, row: InboundMessage, parsed: ParsedMail, now: datetime
) -> Outcome:
    """A delivery status notification: matched to the outbox row it answers (our Message-ID in
    the returned headers); a permanent failure (5.x.x) marks that address as bouncing."""
    outbox: Any = None
    for message_id in parsed.dsn_message_ids:
        outbox = (
            await session.execute(
                text(
                    "SELECT id, recipient_email, ticket_id FROM notification_outbox "
                    "WHERE message_id = :mid"
                ),
                {"mid": message_id},
            )
        ).one_or_none()
        if outbox is not None:
            break
    permanent = [r for r in parsed.dsn if r.status.startswith("5") and r.action == "failed"]
    if outbox is None or not permanent:
        return Outcome("dropped", "delivery report that answers none of our mails")
    for failed in permanent:
        if failed.address != str(outbox.recipient_email).lower():
            continue
        await session.execute(
            text(
                "INSERT INTO mail_bounces (address, status, diagnostic, outbox_id, inbound_id) "
                "VALUES (:a, :s, :d, :o, :i) ON CONFLICT (address) DO UPDATE SET "
                "status = excluded.status, diagnostic = excluded.diagnostic, "
                "outbox_id = excluded.outbox_id, inbound_id = excluded.inbound_id"
            ),
            {
                "a": failed.address,
                "s": failed.status[:20],
                "d": failed.diagnostic or None,
                "o": outbox.id,
                "i": row.id,
            },
        )
        await audit.record(
            session,
            actor=None,
            action="mail.bounced",
            entity_type="mail_bounce",
            entity_id=None,
            ticket_id=outbox.ticket_id,
            new_value={
                "address": failed.address,
                "status": failed.status,
                "outbox_id": outbox.id,
            },
        )
        if outbox.ticket_id is not None:
            await tickets.add_mail_note(
                session,
                outbox.ticket_id,
                author=None,
                body=(
                    f"Mail to {failed.address} bounced ({failed.status}): "
                    f"{failed.diagnostic or 'no diagnostic'}. No more mail goes to this "
                    "address until it is cleared on the Mail page."
                ),
                mail=MailOrigin(
                    inbound_id=row.id,
                    message_id=parsed.message_id,
                    from_address=parsed.from_address or "mailer-daemon",
                    automatic=True,
                ),
                now=now,
            )
        return Outcome("dropped", f"bounce: {failed.address} {failed.status}", outbox.ticket_id)
    return Outcome("dropped", "delivery report for another address")
