"""The e-mail channel end to end on a real database, through the real LMTP listener (the standard
library's LMTP client talking to it on loopback): store first, then the worker's step turns each
stored message into exactly one ticket, comment, note or held entry.

Covers: new tickets by mail with the portal's rules; replies by token, by Message-ID and by subject
tag; forgery (a token is never permission); the acceptance gate and internal-note threads; loops
with an auto-responder; duplicates; follow-ups of closed tickets; bounces; unknown senders (held)
and the organizations' e-mail domains; LMTP's 550/552/451; quarantine without blocking.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime

import pytest
from sqlalchemy import select, text, update
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, create_async_engine

from app.auth.passwords import verify_password
from app.config import get_settings
from app.mail import inbound, tokens
from app.models import InboundMessage, OutboxMessage, Ticket, User
from app.models.enums import TicketStatus as S
from app.services import merge, notifications
from app.utils.clock import utcnow
from tests.mail_support import (
    DOMAIN,
    SUPPORT,
    People,
    audit_actions,
    comments_of,
    lmtp_listener,
    lmtp_send,
    mail,
    make_people,
    outbox,
    process,
    staff,
    staff_comment,
    ticket,
    tickets_of,
)
from tests.mail_support import accept_and_assign as support_accept_and_assign
from tests.mail_support import set_status as support_set_status
from tests.test_worker import outbox_engine, to_async_url, worker_database


@pytest.fixture(scope="module")
async def inbound_db(server_url: str) -> AsyncIterator[str]:
    async with worker_database(server_url) as url:
        yield url


@dataclass
class World:
    engine: AsyncEngine
    people: People
    port: int
    since: datetime

    async def rows(self) -> list[InboundMessage]:
        async with AsyncSession(self.engine) as session:
            found = await session.execute(
                select(InboundMessage)
                .where(InboundMessage.received_at >= self.since)
                .order_by(InboundMessage.received_at, InboundMessage.id)
            )
            return list(found.scalars())

    async def deliver(self, raw: bytes, *, rcpts: list[str] | None = None) -> None:
        replies = await lmtp_send(self.port, raw, rcpts=rcpts)
        assert [r.code for r in replies] == [250] * len(replies), replies

    async def deliver_and_process(self, raw: bytes, *, rcpts: list[str] | None = None) -> None:
        await self.deliver(raw, rcpts=rcpts)
        await process(self.engine)

    async def last(self) -> InboundMessage:
        rows = await self.rows()
        assert rows
        return rows[-1]


@pytest.fixture
async def world(inbound_db: str) -> AsyncIterator[World]:
    async with outbox_engine(inbound_db) as engine:
        async with engine.begin() as conn:
            # Nothing an earlier test left pending is processed by this one.
            await conn.execute(
                text("UPDATE inbound_messages SET status = 'dropped' WHERE status = 'pending'")
            )
            since = (await conn.execute(text("SELECT clock_timestamp()"))).scalar_one()
        people = await make_people(engine)
        async with lmtp_listener(engine) as (port, _handler):
            yield World(engine, people, port, since)


async def new_ticket_by_mail(w: World, sender: User, **fields: str) -> Ticket:
    await w.deliver_and_process(mail(sender=sender.email, **fields))
    row = await w.last()
    assert row.status == "done", row.reason
    assert row.ticket_id is not None
    return await ticket(w.engine, row.ticket_id)


async def accept_and_assign(w: World, t: Ticket) -> None:
    await support_accept_and_assign(w.engine, w.people, t)


async def set_status(w: World, t: Ticket, status: S, **extra: str) -> None:
    await support_set_status(w.engine, w.people, t, status, **extra)


async def notification_to(w: World, t: Ticket, user: User) -> OutboxMessage:
    rows = [r for r in await outbox(w.engine, t.id) if r.recipient_id == user.id]
    assert rows, f"no mail to {user.email} about #{t.number}"
    return rows[-1]


def reply_to(row: OutboxMessage) -> str:
    assert row.reply_token
    return tokens.reply_address(SUPPORT, row.reply_token)


# ---------------------------------------------------------------- new tickets


class TestNewTickets:
    async def test_a_customers_mail_opens_a_ticket_in_their_organization_like_the_portal(
        self, world: World
    ) -> None:
        alice = world.people.alice
        t = await new_ticket_by_mail(
            world, alice, subject="Re: Printer offline", body="Floor 3 printer is offline."
        )
        assert (t.org_id, t.created_by, t.channel, t.status) == (
            world.people.org_a.id,
            alice.id,
            "email",
            "NEW",
        )
        assert t.title == "Printer offline"  # the reply prefix is not part of a title
        assert "Floor 3 printer is offline." in t.description
        actions = await audit_actions(world.engine, t.id)
        assert actions[:2] == ["ticket.created", "mail.received"]
        mails = {(r.template, r.recipient_id) for r in await outbox(world.engine, t.id)}
        assert ("created", alice.id) in mails
        assert ("new_in_queue", world.people.manager.id) in mails
        async with world.engine.connect() as conn:
            jobs = await conn.execute(
                text("SELECT count(*) FROM ai_jobs WHERE ticket_id = :t"), {"t": t.id}
            )
            assert jobs.scalar_one() == 1

    async def test_an_unknown_sender_from_an_organizations_domain_becomes_its_contact(
        self, world: World
    ) -> None:
        address = f"carol@{world.people.domain_a}"
        await world.deliver_and_process(mail(sender=f"Carol Example <{address}>"))
        row = await world.last()
        assert row.status == "done"
        async with AsyncSession(world.engine) as session:
            carol = (await session.execute(select(User).where(User.email == address))).scalar_one()
        assert (carol.org_id, carol.role, carol.name) == (
            world.people.org_a.id,
            "customer_user",
            "Carol Example",
        )
        assert not verify_password(carol.password_hash, "!")  # no password signs in
        assert (await ticket(world.engine, row.ticket_id)).created_by == carol.id  # type: ignore[arg-type]

    async def test_an_unknown_sender_is_held_and_cc_addresses_never_become_users(
        self, world: World
    ) -> None:
        cc = f"dave@{world.people.domain_a}"
        raw = mail(sender="stranger@elsewhere.test", headers={"Cc": cc, "X-ATUM-Ticket": "1000"})
        await world.deliver_and_process(raw)
        row = await world.last()
        assert (row.status, row.ticket_id) == ("held", None)
        assert "unknown sender" in (row.reason or "")
        async with world.engine.connect() as conn:
            users = await conn.execute(
                text("SELECT count(*) FROM users WHERE email IN (:a, :b)"),
                {"a": cc, "b": "stranger@elsewhere.test"},
            )
            assert users.scalar_one() == 0
            held = await conn.execute(
                text(
                    "SELECT count(*) FROM audit_log WHERE action = 'mail.held' AND entity_id = :i"
                ),
                {"i": row.id},
            )
            assert held.scalar_one() == 1

    async def test_a_staff_mail_that_answers_no_ticket_is_held(self, world: World) -> None:
        await world.deliver_and_process(mail(sender=world.people.agent.email))
        row = await world.last()
        assert row.status == "held" and "staff" in (row.reason or "")


# ---------------------------------------------------------------- replies


class TestReplies:
    async def test_the_blueprint_flow_with_the_customer_working_only_by_mail(
        self, world: World
    ) -> None:
        p = world.people
        t = await new_ticket_by_mail(world, p.alice)
        await accept_and_assign(world, t)
        # The desk adds an internal note and asks for information.
        note = f"secret-note-{uuid.uuid4().hex}"
        await staff_comment(world.engine, p.agent, t, note, internal=True)
        await staff_comment(world.engine, p.agent, t, "Which model is it?", internal=False)
        await set_status(world, t, S.WAITING_CUSTOMER)
        assert (await ticket(world.engine, t.id)).status == "WAITING_CUSTOMER"

        for row in await outbox(world.engine, t.id):
            if row.recipient_id == p.alice.id:
                assert note not in row.body_text + row.body_html + row.subject
        asked = await notification_to(world, t, p.alice)
        answer = mail(
            sender=p.alice.email,
            to=reply_to(asked),
            subject=f"Re: {asked.subject}",
            body="It is an HP LaserJet 4000.\n\nOn Tue, Support wrote:\n> Which model is it?",
            in_reply_to=asked.message_id,
        )
        await world.deliver_and_process(answer, rcpts=[reply_to(asked)])
        row = await world.last()
        assert (row.status, row.reason) == ("done", "matched by token")
        after = await ticket(world.engine, t.id)
        assert after.status == "IN_PROGRESS"
        comment = (await comments_of(world.engine, t.id))[-1]
        assert (comment.author_id, comment.is_internal, comment.channel) == (
            p.alice.id,
            False,
            "email",
        )
        assert comment.body == "It is an HP LaserJet 4000."
        assert comment.quoted and "Which model is it?" in comment.quoted
        assert comment.message_id == mail_message_id(answer)
        actions = await audit_actions(world.engine, t.id)
        assert "ticket.status_changed" in actions and actions.count("mail.received") == 2

    async def test_a_reply_is_found_by_message_id_when_the_address_lost_its_token(
        self, world: World
    ) -> None:
        p = world.people
        t = await new_ticket_by_mail(world, p.alice)
        created = await notification_to(world, t, p.alice)
        await world.deliver_and_process(
            mail(sender=p.alice.email, references=f"<x@client.test> {created.message_id}")
        )
        row = await world.last()
        assert (row.status, row.reason, row.ticket_id) == ("done", "matched by message-id", t.id)

    async def test_a_subject_tag_counts_only_for_the_tickets_organization_or_staff(
        self, world: World
    ) -> None:
        p = world.people
        t = await new_ticket_by_mail(world, p.alice)
        tag = f"Re: [ATUM DESK #{t.number}] Printer offline"
        await world.deliver_and_process(mail(sender=p.alex.email, subject=tag))
        assert (await world.last()).reason == "matched by subject"
        # Bob (another organization) names the same number: a new ticket of his own.
        await world.deliver_and_process(mail(sender=p.bob.email, subject=tag))
        row = await world.last()
        assert row.status == "done" and row.ticket_id != t.id
        assert (await ticket(world.engine, row.ticket_id)).org_id == p.org_b.id  # type: ignore[arg-type]
        assert [c.author_id for c in await comments_of(world.engine, t.id)] == [p.alex.id]

    async def test_a_reply_to_a_closed_ticket_opens_a_follow_up(self, world: World) -> None:
        p = world.people
        t = await new_ticket_by_mail(world, p.alice)
        created = await notification_to(world, t, p.alice)
        await set_status(world, t, S.CANCELLED, reason="Duplicate")
        await world.deliver_and_process(
            mail(sender=p.alice.email, to=reply_to(created), body="Still broken!"),
            rcpts=[reply_to(created)],
        )
        row = await world.last()
        follow_up = await ticket(world.engine, row.ticket_id)  # type: ignore[arg-type]
        assert follow_up.id != t.id and follow_up.follow_up_of == t.id
        assert f"#{t.number}" in follow_up.description and "Still broken!" in follow_up.description
        assert (await ticket(world.engine, t.id)).status == "CANCELLED"

    async def test_a_reply_to_a_merged_duplicate_goes_to_the_ticket_it_was_merged_into(
        self, world: World
    ) -> None:
        p = world.people
        duplicate = await new_ticket_by_mail(world, p.alice, subject="Printer offline again")
        created = await notification_to(world, duplicate, p.alice)
        target = await new_ticket_by_mail(world, p.alice)
        await accept_and_assign(world, target)
        async with AsyncSession(world.engine, expire_on_commit=False) as session, session.begin():
            await merge.merge(session, staff(p.manager), duplicate.id, target.id, utcnow())
        await world.deliver_and_process(
            mail(sender=p.alice.email, to=reply_to(created), body="Any news?"),
            rcpts=[reply_to(created)],
        )
        row = await world.last()
        assert (row.status, row.ticket_id) == ("done", target.id), row.reason
        assert [c.body for c in await comments_of(world.engine, target.id)][-1] == "Any news?"
        assert (await ticket(world.engine, duplicate.id)).status == "CLOSED"

    async def test_a_staff_reply_by_mail_is_a_public_reply_after_acceptance_only(
        self, world: World
    ) -> None:
        p = world.people
        t = await new_ticket_by_mail(world, p.alice)
        new_in_queue = await notification_to(world, t, p.manager)
        await world.deliver_and_process(
            mail(sender=p.manager.email, to=reply_to(new_in_queue), body="Looking at it."),
            rcpts=[reply_to(new_in_queue)],
        )
        first = (await comments_of(world.engine, t.id))[-1]
        assert first.is_internal, "no public reply before acceptance: kept as an internal note"
        await accept_and_assign(world, t)
        assigned = await notification_to(world, t, p.agent)
        await world.deliver_and_process(
            mail(sender=p.agent.email, to=reply_to(assigned), body="Please restart it."),
            rcpts=[reply_to(assigned)],
        )
        reply = (await comments_of(world.engine, t.id))[-1]
        assert (reply.author_id, reply.is_internal, reply.body) == (
            p.agent.id,
            False,
            "Please restart it.",
        )
        assert (await ticket(world.engine, t.id)).first_responded_at is not None
        to_alice = await notification_to(world, t, p.alice)
        assert to_alice.template == "reply" and "Please restart it." in to_alice.body_text

    async def test_a_reply_to_an_internal_note_mail_stays_internal(self, world: World) -> None:
        p = world.people
        t = await new_ticket_by_mail(world, p.alice)
        await accept_and_assign(world, t)
        await staff_comment(world.engine, p.manager, t, "Check the toner", internal=True)
        note_mail = await notification_to(world, t, p.agent)
        assert note_mail.template == "internal_note"
        assert "internal note" in note_mail.body_text.lower()
        await world.deliver_and_process(
            mail(sender=p.agent.email, to=reply_to(note_mail), body="Toner is full."),
            rcpts=[reply_to(note_mail)],
        )
        reply = (await comments_of(world.engine, t.id))[-1]
        assert (reply.body, reply.is_internal) == ("Toner is full.", True)
        assert all(
            "Toner is full." not in r.body_text
            for r in await outbox(world.engine, t.id)
            if r.recipient_id == p.alice.id
        )


def mail_message_id(raw: bytes) -> str:
    for line in raw.decode().splitlines():
        if line.lower().startswith("message-id:"):
            return line.split(":", 1)[1].strip().lower()
    raise AssertionError("no Message-ID")


# ---------------------------------------------------------------- forgery


class TestForgery:
    async def test_a_token_is_never_permission(self, world: World) -> None:
        p = world.people
        t = await new_ticket_by_mail(world, p.alice)
        token_mail = await notification_to(world, t, p.alice)
        address = reply_to(token_mail)
        attempts = [
            mail(sender=p.bob.email, to=address, body="B replays A's token"),
            mail(sender="mallory@elsewhere.test", to=address, body="unknown sender"),
            # The right sender's address forged by someone else is the MTA's business (SPF,
            # DKIM); a tampered token is ours: it matches nothing.
        ]
        for raw in attempts:
            await world.deliver_and_process(raw, rcpts=[address])
            row = await world.last()
            assert row.status == "held", row.reason
        good = token_mail.reply_token
        assert good is not None
        flipped = ("a" if good[10] != "a" else "b").join((good[:10], good[11:]))
        assert tokens.verify(flipped) is None
        tampered = tokens.reply_address(SUPPORT, flipped)
        await world.deliver_and_process(
            mail(sender=p.bob.email, to=tampered, body="tampered"), rcpts=[tampered]
        )
        await world.deliver_and_process(
            mail(
                sender=p.bob.email,
                subject=f"Re: [ATUM DESK #{t.number}] forged",
                in_reply_to=f"<{uuid.uuid4().hex}.{flipped}@{DOMAIN}>",
                body="subject tag",
            )
        )
        assert await comments_of(world.engine, t.id) == []
        assert (await ticket(world.engine, t.id)).status == "NEW"

    async def test_a_deactivated_user_is_held(self, world: World) -> None:
        p = world.people
        t = await new_ticket_by_mail(world, p.alice)
        created = await notification_to(world, t, p.alice)
        async with world.engine.begin() as conn:
            await conn.execute(update(User).where(User.id == p.alice.id).values(is_active=False))
        await world.deliver_and_process(
            mail(sender=p.alice.email, to=reply_to(created)), rcpts=[reply_to(created)]
        )
        assert (await world.last()).status == "held"
        assert await comments_of(world.engine, t.id) == []


# ---------------------------------------------------------------- loops, duplicates, bounces


class TestLoopsAndDuplicates:
    async def test_an_auto_responder_answering_every_notification_for_100_rounds(
        self, world: World
    ) -> None:
        p = world.people
        t = await new_ticket_by_mail(world, p.alice)
        await accept_and_assign(world, t)
        tickets_before = len(await tickets_of(world.engine, p.alice))
        mails_before = len(await outbox(world.engine))
        last = await notification_to(world, t, p.alice)
        for round_ in range(100):
            auto = mail(
                sender=p.alice.email,
                to=reply_to(last),
                subject=f"Automatic reply: {last.subject}",
                body=f"I am out of office until Monday ({round_}).",
                in_reply_to=last.message_id,
                headers={"Auto-Submitted": "auto-replied", "X-Autoreply": "yes"},
            )
            await world.deliver(auto, rcpts=[reply_to(last)])
        await process(world.engine)
        rows = (await world.rows())[-100:]
        assert {r.status for r in rows} == {"done"}
        assert len(await tickets_of(world.engine, p.alice)) == tickets_before
        assert len(await outbox(world.engine)) == mails_before, "no mail answers a robot"
        notes = [c for c in await comments_of(world.engine, t.id) if c.automatic]
        assert len(notes) == 100 and all(c.is_internal for c in notes)
        assert (await ticket(world.engine, t.id)).status == "ASSIGNED"

    async def test_automatic_mail_never_opens_a_ticket(self, world: World) -> None:
        p = world.people
        for headers in (
            {"Precedence": "bulk"},
            {"List-Id": "<news.acme.test>"},
            {"Auto-Submitted": "auto-generated"},
            {"X-Auto-Response-Suppress": "All"},
        ):
            await world.deliver_and_process(mail(sender=p.alice.email, headers=headers))
            row = await world.last()
            assert (row.status, row.ticket_id) == ("dropped", None), headers
        our_own = mail(sender=p.alice.email, message_id=f"<{uuid.uuid4().hex}@{DOMAIN}>")
        await world.deliver_and_process(our_own)
        assert (await world.last()).status == "dropped"
        assert await tickets_of(world.engine, p.alice) == []

    async def test_the_same_message_twice_is_one_ticket_and_a_reused_id_is_another(
        self, world: World
    ) -> None:
        p = world.people
        raw = mail(sender=p.alice.email, message_id="<same-id@client.test>")
        # Through another MTA hop the trace headers differ; the message is the same.
        await world.deliver(raw)
        await world.deliver(b"Received: from relay.test by mx.test; Tue, 1 Dec 2026\r\n" + raw)
        other = mail(sender=p.alice.email, message_id="<same-id@client.test>", body="Different")
        await world.deliver(other)
        await process(world.engine)
        assert len(await world.rows()) == 2
        assert len(await tickets_of(world.engine, p.alice)) == 2

    async def test_a_bounce_marks_the_address_and_the_outbox_stops_sending_to_it(
        self, world: World
    ) -> None:
        p = world.people
        t = await new_ticket_by_mail(world, p.alice)
        created = await notification_to(world, t, p.alice)
        dsn = (
            "From: MAILER-DAEMON@mx.acme.test\r\n"
            "To: support@desk.test\r\n"
            "Subject: Undelivered Mail Returned to Sender\r\n"
            f"Message-ID: <{uuid.uuid4().hex}@mx.acme.test>\r\n"
            "Auto-Submitted: auto-replied\r\n"
            "MIME-Version: 1.0\r\n"
            'Content-Type: multipart/report; report-type=delivery-status; boundary="B"\r\n\r\n'
            "--B\r\nContent-Type: text/plain\r\n\r\nI'm sorry to have to inform you...\r\n"
            "--B\r\nContent-Type: message/delivery-status\r\n\r\n"
            "Reporting-MTA: dns; mx.acme.test\r\n\r\n"
            f"Final-Recipient: rfc822; {p.alice.email}\r\nAction: failed\r\nStatus: 5.1.1\r\n"
            "Diagnostic-Code: smtp; 550 5.1.1 user unknown\r\n\r\n"
            "--B\r\nContent-Type: text/rfc822-headers\r\n\r\n"
            f"Message-ID: {created.message_id}\r\nSubject: {created.subject}\r\n\r\n"
            "--B--\r\n"
        ).encode()
        await world.deliver_and_process(dsn)
        row = await world.last()
        assert row.status == "dropped" and "bounce" in (row.reason or "")
        async with world.engine.connect() as conn:
            bounce = (
                await conn.execute(
                    text("SELECT status, outbox_id FROM mail_bounces WHERE address = :a"),
                    {"a": p.alice.email},
                )
            ).one()
        assert bounce == ("5.1.1", created.id)
        note = (await comments_of(world.engine, t.id))[-1]
        assert note.automatic and note.is_internal and "bounced" in note.body
        await set_status(world, t, S.CANCELLED, reason="test")
        to_alice = await notification_to(world, t, p.alice)
        assert (to_alice.status, to_alice.last_error) == (
            "failed",
            f"{p.alice.email} bounces: not sent",
        )


# ---------------------------------------------------------------- the listener


class TestLmtp:
    async def test_unknown_mailboxes_are_refused_at_rcpt_and_tokens_are_accepted(
        self, world: World
    ) -> None:
        raw = mail(sender=world.people.alice.email)
        replies = await lmtp_send(
            world.port, raw, rcpts=["nobody@desk.test", f"support+anything@{DOMAIN}"]
        )
        assert [r.code for r in replies] == [550, 250]

    async def test_an_oversized_message_gets_552_and_nothing_is_stored(
        self, inbound_db: str
    ) -> None:
        async with outbox_engine(inbound_db) as engine:
            await make_people(engine)
            async with lmtp_listener(engine, mail_max_mb=1) as (port, handler):
                big = mail(sender="x@client.test", body="A" * 70 + "\n" * 1 + "B" * (1_200_000))
                replies = await lmtp_send(port, big)
                assert [r.code for r in replies] == [552]
                assert handler.stored == 0

    async def test_451_while_the_database_is_unreachable_then_250(self, inbound_db: str) -> None:
        async with outbox_engine(inbound_db) as engine:
            await make_people(engine)
            # A database that is not there: a real connection attempt that fails.
            gone = create_async_engine(
                to_async_url("postgresql://nobody@127.0.0.1:9/none"),
                connect_args={"timeout": 2},
            )
            raw = mail(sender="x@client.test", message_id=f"<{uuid.uuid4().hex}@client.test>")
            try:
                async with lmtp_listener(gone) as (port, _):
                    replies = await lmtp_send(port, raw)
                assert [r.code for r in replies] == [451]
            finally:
                await gone.dispose()
            async with lmtp_listener(engine) as (port, handler):
                replies = await lmtp_send(port, raw)
                assert [r.code for r in replies] == [250] and handler.stored == 1


# ---------------------------------------------------------------- quarantine


class TestQuarantine:
    async def test_a_message_that_keeps_failing_is_quarantined_and_blocks_nothing(
        self, world: World, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        p = world.people
        poison = mail(sender=p.alice.email, subject="poison", body="makes the parser fail")
        real_parse = inbound.parse

        def failing(raw: bytes, **kwargs: object) -> object:
            if b"makes the parser fail" in raw:
                raise ValueError("a parser bug")
            return real_parse(raw, **kwargs)  # type: ignore[arg-type]

        monkeypatch.setattr(inbound, "parse", failing)
        await world.deliver(poison)
        for n in range(3):
            await world.deliver(mail(sender=p.alice.email, subject=f"fine {n}"))
        settings = get_settings().model_copy(update={"inbound_max_attempts": 2})
        await inbound.process_due(world.engine, settings, budget_seconds=10)
        rows = await world.rows()
        assert [r.status for r in rows] == ["pending", "done", "done", "done"]
        assert rows[0].error == "ValueError: a parser bug"
        async with world.engine.begin() as conn:  # the backoff has passed
            await conn.execute(
                text("UPDATE inbound_messages SET next_attempt_at = now() WHERE id = :i"),
                {"i": rows[0].id},
            )
        await inbound.process_due(world.engine, settings, budget_seconds=10)
        assert (await world.rows())[0].status == "quarantined"
        monkeypatch.setattr(inbound, "parse", real_parse)


# ---------------------------------------------------------------- coalescing


async def test_several_events_for_one_recipient_within_the_window_are_one_mail(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    p = world.people
    t = await new_ticket_by_mail(world, p.alice)
    await accept_and_assign(world, t)
    monkeypatch.setenv("ATUM_MAIL_COALESCE_SECONDS", "60")
    get_settings.cache_clear()
    try:
        before = len(await outbox(world.engine, t.id))
        await staff_comment(world.engine, p.agent, t, "Please send a photo.", internal=False)
        await asyncio.sleep(0.05)
        await set_status(world, t, S.WAITING_CUSTOMER)
        rows = (await outbox(world.engine, t.id))[before:]
        to_alice = [r for r in rows if r.recipient_id == p.alice.id]
        assert len(to_alice) == 1
        assert to_alice[0].subject.endswith("new reply from support (+1 more)")
        assert "Please send a photo." in to_alice[0].body_text
        assert "waiting for your reply" in to_alice[0].body_text
        assert to_alice[0].next_attempt_at > utcnow()
    finally:
        get_settings.cache_clear()


async def test_a_reply_token_names_its_ticket_recipient_and_thread() -> None:
    recipient = uuid.uuid4()
    token = tokens.make(123456, recipient, tokens.INTERNAL)
    assert len(token) == tokens.TOKEN_LENGTH and token == token.lower()
    assert len(f"support+{token}") <= 64
    assert tokens.verify(token) == tokens.ReplyToken(tokens.INTERNAL, 123456, recipient)
    assert tokens.verify(token.upper()) == tokens.verify(token)
    other = tokens.make(123457, recipient)
    assert tokens.verify(other[:20] + token[20:]) is None
    assert tokens.in_message_id(f"<abc.{token}@{DOMAIN}>", DOMAIN) is not None
    assert tokens.in_message_id(f"<abc.{token}@evil.test>", DOMAIN) is None
    assert {"internal_note"} == notifications.INTERNAL_THREAD
