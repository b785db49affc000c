"""Shared parts of the e-mail channel tests: a database of their own (the inbound worker commits),
the people and organizations of a test, the real LMTP listener on a loopback port, an LMTP
client (the standard library's), and messages built like the ones mail clients send."""

from __future__ import annotations

import asyncio
import smtplib
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from typing import Any

from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from app.config import Settings, get_settings
from app.mail import inbound, lmtp
from app.models import (
    InboundMessage,
    InboundRaw,
    Organization,
    OutboxMessage,
    Ticket,
    TicketComment,
    User,
)
from app.models.enums import Role
from app.models.enums import TicketStatus as S
from app.schemas.ticket import Accept, Assign, StatusChange
from app.services import tickets
from app.services.mail_admin import ensure_default_mailbox
from app.utils.clock import utcnow
from tests.factories import make_org, make_user, staff
from tests.test_worker import free_port

DOMAIN = "desk.test"
SUPPORT = f"support@{DOMAIN}"


@dataclass
class People:
    org_a: Organization
    org_b: Organization
    domain_a: str
    alice: User  # customer of A
    alex: User  # another customer of A
    bob: User  # customer of B
    agent: User
    manager: User


async def make_people(engine: AsyncEngine) -> People:
    tag = uuid.uuid4().hex[:8]
    async with AsyncSession(engine, expire_on_commit=False) as session:
        org_a = await make_org(session, name=f"Acme {tag}")
        org_b = await make_org(session, name=f"Globex {tag}")
        domain_a = f"acme-{tag}.test"
        await session.execute(
            text("INSERT INTO organization_email_domains (domain, org_id) VALUES (:d, :o)"),
            {"d": domain_a, "o": org_a.id},
        )
        alice = await make_user(
            session, role=Role.CUSTOMER_USER, org=org_a, email=f"alice@{domain_a}", name="Alice"
        )
        alex = await make_user(
            session, role=Role.CUSTOMER_USER, org=org_a, email=f"alex@{domain_a}", name="Alex"
        )
        bob = await make_user(
            session, role=Role.CUSTOMER_USER, org=org_b, email=f"bob@globex-{tag}.test"
        )
        agent = await make_user(session, role=Role.AGENT, email=f"agent-{tag}@{DOMAIN}")
        manager = await make_user(session, role=Role.MANAGER, email=f"manager-{tag}@{DOMAIN}")
        await ensure_default_mailbox(session, SUPPORT)
        await session.commit()
    return People(org_a, org_b, domain_a, alice, alex, bob, agent, manager)


async def stored_mail(
    session: AsyncSession,
    *,
    status: str,
    sender: str,
    body: str = "Please help.",
    **fields: Any,
) -> uuid.UUID:
    """A received message as the LMTP listener stores it (row and raw bytes), in a given state."""
    tag = uuid.uuid4().hex
    raw = (
        f"From: Erin Example <{sender}>\r\nTo: {SUPPORT}\r\nSubject: VPN down {tag[:6]}\r\n"
        f"Message-ID: <{tag}@client.test>\r\n\r\n{body}\r\n"
    ).encode()
    row = InboundMessage(
        id=uuid.uuid4(),
        via="lmtp",
        size_bytes=len(raw),
        sha256=tag + tag,
        content_hash=tag + tag,
        message_id=f"<{tag}@client.test>",
        status=status,
        from_address=sender,
        subject=f"VPN down {tag[:6]}",
        reason=f"unknown sender {sender}" if status == "held" else None,
        error="ValueError: a parser bug" if status == "quarantined" else None,
        excerpt=body,
        **fields,
    )
    session.add(row)
    await session.flush()
    session.add(InboundRaw(inbound_id=row.id, raw=raw))
    await session.flush()
    return row.id


def mail(
    *,
    sender: str,
    subject: str = "Printer offline",
    body: str = "The printer on floor 3 is offline since this morning.",
    to: str = SUPPORT,
    message_id: str | None = None,
    in_reply_to: str | None = None,
    references: str | None = None,
    headers: dict[str, str] | None = None,
    attachments: list[tuple[str, str, bytes]] = (),  # type: ignore[assignment]
) -> bytes:
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = to
    msg["Subject"] = subject
    msg["Date"] = format_datetime(utcnow())
    msg["Message-ID"] = message_id or make_msgid(domain="client.test")
    if in_reply_to:
        msg["In-Reply-To"] = in_reply_to
    if references:
        msg["References"] = references
    for name, value in (headers or {}).items():
        msg[name] = value
    msg.set_content(body)
    for file_name, mime, data in attachments:
        maintype, subtype = mime.split("/")
        msg.add_attachment(data, maintype=maintype, subtype=subtype, filename=file_name)
    return msg.as_bytes()


@dataclass
class LmtpReply:
    code: int
    text: str


def _lmtp_send(port: int, raw: bytes, mail_from: str, rcpts: list[str]) -> list[LmtpReply]:
    """One LMTP transaction, every answer kept (RCPT refusals, then one DATA answer per accepted
    recipient)."""
    client = smtplib.LMTP("127.0.0.1", port, timeout=30)
    try:
        client.ehlo_or_helo_if_needed()
        code, answer = client.mail(mail_from)
        assert code == 250, answer
        accepted: list[str] = []
        refused: list[LmtpReply] = []
        for rcpt in rcpts:
            code, answer = client.rcpt(rcpt)
            if code == 250:
                accepted.append(rcpt)
            else:
                refused.append(LmtpReply(code, answer.decode()))
        if not accepted:
            return refused
        code, answer = client.docmd("DATA")
        assert code == 354, answer
        data = raw.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")
        data = b"\r\n".join(
            b"." + line if line.startswith(b".") else line for line in data.split(b"\r\n")
        )
        if not data.endswith(b"\r\n"):
            data += b"\r\n"
        client.send(data + b".\r\n")
        replies = []
        for _ in accepted:
            code, answer = client.getreply()
            replies.append(LmtpReply(code, answer.decode()))
        return refused + replies
    finally:
        try:
            client.quit()
        except (smtplib.SMTPException, OSError):
            client.close()


async def lmtp_send(
    port: int, raw: bytes, *, rcpts: list[str] | None = None, mail_from: str = "sender@client.test"
) -> list[LmtpReply]:
    return await asyncio.to_thread(_lmtp_send, port, raw, mail_from, rcpts or [SUPPORT])


def inbound_settings(**overrides: Any) -> Settings:
    return get_settings().model_copy(update={"lmtp_port": free_port(), **overrides})


@asynccontextmanager
async def lmtp_listener(
    engine: AsyncEngine, **overrides: Any
) -> AsyncIterator[tuple[int, lmtp.Handler]]:
    settings = inbound_settings(**overrides)
    server, handler = await lmtp.start(settings, engine)
    try:
        yield settings.lmtp_port, handler
    finally:
        server.close()
        await server.wait_closed()


async def process(engine: AsyncEngine) -> int:
    return await inbound.process_due(engine, get_settings(), budget_seconds=30)


async def inbound_rows(engine: AsyncEngine) -> list[Any]:
    async with engine.connect() as conn:
        return list(
            (
                await conn.execute(
                    text(
                        "SELECT id, status, reason, ticket_id, comment_id, from_address, error, "
                        "attempts FROM inbound_messages ORDER BY received_at, id"
                    )
                )
            ).all()
        )


async def tickets_of(engine: AsyncEngine, user: User) -> list[Ticket]:
    async with AsyncSession(engine) as session:
        rows = await session.execute(
            select(Ticket).where(Ticket.created_by == user.id).order_by(Ticket.created_at)
        )
        return list(rows.scalars())


async def comments_of(engine: AsyncEngine, ticket_id: uuid.UUID) -> list[TicketComment]:
    async with AsyncSession(engine) as session:
        rows = await session.execute(
            select(TicketComment)
            .where(TicketComment.ticket_id == ticket_id)
            .order_by(TicketComment.created_at, TicketComment.id)
        )
        return list(rows.scalars())


async def ticket(engine: AsyncEngine, ticket_id: uuid.UUID) -> Ticket:
    async with AsyncSession(engine) as session:
        found = await session.get(Ticket, ticket_id)
        assert found is not None
        return found


async def outbox(engine: AsyncEngine, ticket_id: uuid.UUID | None = None) -> list[OutboxMessage]:
    async with AsyncSession(engine) as session:
        stmt = select(OutboxMessage).order_by(OutboxMessage.created_at, OutboxMessage.id)
        if ticket_id is not None:
            stmt = stmt.where(OutboxMessage.ticket_id == ticket_id)
        return list((await session.execute(stmt)).scalars())


async def accept_and_assign(engine: AsyncEngine, people: People, t: Ticket) -> None:
    """The desk's side, straight through the services (the API tests cover the endpoints)."""
    actor = staff(people.manager)
    async with AsyncSession(engine, expire_on_commit=False) as session, session.begin():
        await tickets.accept(session, actor, t.id, Accept(), utcnow())
        await tickets.assign(session, actor, t.id, Assign(assignee_id=people.agent.id), utcnow())


async def set_status(
    engine: AsyncEngine, people: People, t: Ticket, status: S, **extra: str
) -> None:
    async with AsyncSession(engine, expire_on_commit=False) as session, session.begin():
        await tickets.change_status(
            session, staff(people.manager), t.id, StatusChange(status=status, **extra), utcnow()
        )


async def staff_comment(
    engine: AsyncEngine, user: User, t: Ticket, body: str, *, internal: bool
) -> None:
    async with AsyncSession(engine, expire_on_commit=False) as session, session.begin():
        await tickets.add_comment(
            session, staff(user), t.id, body=body, is_internal=internal, now=utcnow()
        )


async def audit_actions(engine: AsyncEngine, ticket_id: uuid.UUID) -> list[str]:
    async with engine.connect() as conn:
        rows = await conn.execute(
            text("SELECT action FROM audit_log WHERE ticket_id = :t ORDER BY seq"),
            {"t": ticket_id},
        )
        return [r[0] for r in rows]
