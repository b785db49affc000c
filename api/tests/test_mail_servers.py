"""The e-mail channel against real mail servers on loopback (tests/mailservers.py): Debian's
Postfix delivering to the LMTP listener, Dovecot serving the mailbox the IMAP poller reads, an
aiosmtpd server as the customer's mailbox, and a PostgreSQL cluster of its own that is stopped
while Postfix delivers.

- SMTP → Postfix → LMTP → ticket, and the blueprint's flow with the customer working only by mail
  (replies to the notifications they received; the internal note never reaches their mailbox);
- the IMAP poller: new messages only, never ``\\Seen``; a changed UIDVALIDITY resyncs without
  repeats; a 30 MB message does not hold back the three small ones behind it; a poll broken off
  mid-batch loses and repeats nothing; processed mail moved to a folder;
- one message by LMTP twice and by IMAP once is one ticket;
- LMTP answers 451 while PostgreSQL is stopped, and Postfix's retry delivers exactly once.
"""

from __future__ import annotations

import asyncio
import contextlib
import email
import uuid
from collections.abc import AsyncIterator, Iterator
from email import policy
from email.message import EmailMessage
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from app.config import get_settings
from app.mail import imap, secretbox
from app.models.enums import TicketStatus as S
from app.worker import Worker
from tests import test_faults
from tests.mail_support import (
    DOMAIN,
    SUPPORT,
    accept_and_assign,
    comments_of,
    lmtp_listener,
    mail,
    make_people,
    process,
    set_status,
    staff_comment,
    ticket,
    tickets_of,
)
from tests.mailservers import Dovecot, Postfix, dovecot, mail_root, postfix
from tests.test_faults import Cluster
from tests.test_worker import Sink, outbox_engine, to_async_url, worker_database, worker_settings

# PostgreSQL of this module's own, stopped and started by the 451 test (test_faults' cluster).
cluster = test_faults.cluster


@pytest.fixture(scope="module")
async def servers_db(server_url: str) -> AsyncIterator[str]:
    async with worker_database(server_url) as url:
        yield url


@pytest.fixture
async def engine(servers_db: str) -> AsyncIterator[AsyncEngine]:
    async with outbox_engine(servers_db) as engine:
        async with engine.begin() as conn:
            await conn.execute(
                text("UPDATE inbound_messages SET status = 'dropped' WHERE status = 'pending'")
            )
            await conn.execute(text("UPDATE mailboxes SET active = false WHERE kind = 'imap'"))
        yield engine


@pytest.fixture(scope="module")
def mail_dir() -> Iterator[Path]:
    with mail_root() as root:
        yield root


async def until(check: object, what: str, deadline_s: float = 20) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + deadline_s
    while not await check():  # type: ignore[operator]
        assert loop.time() < deadline, f"timed out waiting for {what}"
        await asyncio.sleep(0.05)


async def rows_since(engine: AsyncEngine, since: object) -> list[tuple[object, ...]]:
    async with engine.connect() as conn:
        found = await conn.execute(
            text(
                "SELECT id, status, via, ticket_id, imap_uid, reason FROM inbound_messages "
                "WHERE received_at >= :since ORDER BY received_at, id"
            ),
            {"since": since},
        )
        return [tuple(r) for r in found]


async def now_db(engine: AsyncEngine) -> object:
    async with engine.connect() as conn:
        return (await conn.execute(text("SELECT clock_timestamp()"))).scalar_one()


@contextlib.contextmanager
def postfix_to(root: Path, lmtp_port: int) -> Iterator[Postfix]:
    box = root / f"postfix-{uuid.uuid4().hex[:6]}"
    box.mkdir()
    with postfix(box, domain=DOMAIN, lmtp_port=lmtp_port) as server:
        yield server


async def imap_mailbox(engine: AsyncEngine, server: Dovecot, **fields: object) -> uuid.UUID:
    mailbox_id = uuid.uuid4()
    async with engine.begin() as conn:
        await conn.execute(
            text(
                "INSERT INTO mailboxes (id, address, kind, imap_host, imap_port, imap_tls, "
                "imap_user, imap_password_enc, processed_folder) VALUES (:id, :address, 'imap', "
                ":host, :port, false, :user, :password, :processed)"
            ),
            {
                "id": mailbox_id,
                "address": f"hosted-{uuid.uuid4().hex[:6]}@{DOMAIN}",
                "host": server.host,
                "port": server.port,
                "user": server.user,
                "password": secretbox.seal(server.password),
                "processed": fields.get("processed_folder"),
            },
        )
    return mailbox_id


async def poll(engine: AsyncEngine, mailbox_id: uuid.UUID, **settings: object) -> imap.PollResult:
    """One poll of one mailbox now (as the worker does when it is due)."""
    box = await imap.mailbox(engine, mailbox_id)
    budget = float(settings.pop("budget_seconds", 30))  # type: ignore[arg-type]
    config = get_settings().model_copy(update=settings)
    return await imap.poll(engine, config, box, budget_seconds=budget)


# ---------------------------------------------------------------- Postfix → LMTP


async def test_smtp_through_postfix_to_lmtp_becomes_a_ticket(
    engine: AsyncEngine, mail_dir: Path
) -> None:
    people = await make_people(engine)
    async with lmtp_listener(engine) as (port, handler):
        with postfix_to(mail_dir, port) as mta:
            raw = mail(sender=people.alice.email, subject="Scanner jammed")
            await asyncio.to_thread(mta.send, raw, people.alice.email, [SUPPORT])
            await until(lambda: _stored(handler, 1), "Postfix to deliver over LMTP")
    await process(engine)
    [created] = await tickets_of(engine, people.alice)
    assert (created.title, created.channel) == ("Scanner jammed", "email")


async def _stored(handler: object, count: int) -> bool:
    return int(handler.stored) >= count  # type: ignore[attr-defined]


async def test_the_blueprint_flow_with_the_customer_working_only_by_mail(
    engine: AsyncEngine, mail_dir: Path
) -> None:
    """The first ticket by mail, then every answer by replying to the mails received: the
    customer's mailbox is an SMTP server (aiosmtpd) the worker delivers to; their replies go
    through Postfix to the LMTP listener."""
    people = await make_people(engine)
    alice = people.alice
    inbox = Sink()
    inbox.start()
    worker = Worker(worker_settings(inbox.port), engine)
    try:
        async with lmtp_listener(engine) as (port, handler):
            with postfix_to(mail_dir, port) as mta:

                async def send_and_process(raw: bytes, rcpt: str) -> None:
                    before = handler.stored
                    await asyncio.to_thread(mta.send, raw, alice.email, [rcpt])
                    await until(lambda: _stored(handler, before + 1), "delivery over LMTP")
                    await process(engine)
                    await worker.drain()

                await send_and_process(
                    mail(sender=alice.email, subject="Label printer prints stripes"), SUPPORT
                )
                [t] = await tickets_of(engine, alice)
                await accept_and_assign(engine, people, t)
                note = f"internal-{uuid.uuid4().hex}"
                await staff_comment(engine, people.agent, t, note, internal=True)
                await staff_comment(engine, people.agent, t, "Which label size?", internal=False)
                await set_status(engine, people, t, S.WAITING_CUSTOMER)
                await worker.drain()

                received = [m for m in inbox.received if alice.email in m.envelope_to]
                assert received, "the customer received the desk's mails"
                for message in received:
                    assert note not in message.message.as_string()
                asked = [m for m in received if "Which label size?" in _text(m.message)][-1]
                reply_address = str(asked.message["Reply-To"])
                assert reply_address.startswith("support+") and reply_address.endswith(DOMAIN)
                answer = _reply(asked.message, alice.email, "62 mm, the wide ones.")
                await send_and_process(answer, reply_address)
                assert (await ticket(engine, t.id)).status == "IN_PROGRESS"
                last = (await comments_of(engine, t.id))[-1]
                assert (last.author_id, last.body, last.channel) == (
                    alice.id,
                    "62 mm, the wide ones.",
                    "email",
                )
                assert last.quoted and "Which label size?" in last.quoted
    finally:
        inbox.stop()


def _text(message: email.message.Message) -> str:
    parsed = email.message_from_bytes(message.as_bytes(), policy=policy.default)
    part = parsed.get_body(preferencelist=("plain",))  # type: ignore[attr-defined]
    return str(part.get_content()) if part is not None else ""


def _reply(original: email.message.Message, sender: str, answer: str) -> bytes:
    """A reply as a mail client writes it: To the Reply-To, In-Reply-To/References, the quote."""
    reply = EmailMessage()
    reply["From"] = sender
    reply["To"] = original["Reply-To"]
    reply["Subject"] = f"Re: {original['Subject']}"
    reply["Message-ID"] = f"<{uuid.uuid4().hex}@client.test>"
    reply["In-Reply-To"] = original["Message-ID"]
    reply["References"] = original["Message-ID"]
    quoted = "\n".join(f"> {line}" for line in _text(original).splitlines())
    reply.set_content(f"{answer}\n\nOn Tue, ATUM DESK wrote:\n{quoted}\n")
    return reply.as_bytes()


# ---------------------------------------------------------------- the IMAP poller


async def test_the_imap_poller_takes_new_mail_once_whatever_the_server_does(
    engine: AsyncEngine, mail_dir: Path
) -> None:
    people = await make_people(engine)
    root = mail_dir / f"dovecot-{uuid.uuid4().hex[:6]}"
    root.mkdir()
    root.chmod(0o777)
    with dovecot(root) as server:
        mailbox_id = await imap_mailbox(engine, server)
        since = await now_db(engine)
        for n in range(3):
            await asyncio.to_thread(
                server.append, mail(sender=people.alice.email, subject=f"Hosted {n}")
            )
        first = await poll(engine, mailbox_id)
        assert (first.stored, first.duplicates) == (3, 0)
        # Someone reads the mail in Outlook: \\Seen changes nothing for us.
        with server.client() as client:
            client.select("INBOX")
            client.uid("STORE", "1:*", "+FLAGS", "(\\Seen)")
        again = await poll(engine, mailbox_id)
        assert (again.stored, again.duplicates) == (0, 0)

        await asyncio.to_thread(server.append, mail(sender=people.alice.email, subject="Hosted 3"))
        await asyncio.to_thread(server.reset_uidvalidity)
        resync = await poll(engine, mailbox_id)
        assert (resync.stored, resync.duplicates) == (1, 3), "repeats dropped after a resync"
        await process(engine)
        titles = sorted(t.title for t in await tickets_of(engine, people.alice))
        assert titles == ["Hosted 0", "Hosted 1", "Hosted 2", "Hosted 3"]
        assert [r[2] for r in await rows_since(engine, since)] == ["imap"] * 4


async def test_a_30_mb_message_does_not_hold_back_the_small_ones_behind_it(
    engine: AsyncEngine, mail_dir: Path
) -> None:
    people = await make_people(engine)
    root = mail_dir / f"dovecot-{uuid.uuid4().hex[:6]}"
    root.mkdir()
    root.chmod(0o777)
    with dovecot(root) as server:
        mailbox_id = await imap_mailbox(engine, server)
        since = await now_db(engine)
        huge = mail(sender=people.alice.email, subject="Huge", body="x" * 30_000_000)
        await asyncio.to_thread(server.append, huge)
        for n in range(3):
            await asyncio.to_thread(
                server.append, mail(sender=people.alice.email, subject=f"Small {n}")
            )
        result = await poll(engine, mailbox_id, mail_max_mb=25)
        assert (result.refused, result.stored) == (1, 3)
        rows = await rows_since(engine, since)
        assert [r[1] for r in rows] == ["refused", "pending", "pending", "pending"]
        assert "over the limit" in str(rows[0][5])
        await process(engine)
        assert sorted(t.title for t in await tickets_of(engine, people.alice)) == [
            "Small 0",
            "Small 1",
            "Small 2",
        ]


async def test_a_poll_broken_off_mid_batch_loses_and_repeats_nothing(
    engine: AsyncEngine, mail_dir: Path
) -> None:
    people = await make_people(engine)
    root = mail_dir / f"dovecot-{uuid.uuid4().hex[:6]}"
    root.mkdir()
    root.chmod(0o777)
    with dovecot(root) as server:
        mailbox_id = await imap_mailbox(engine, server, processed_folder="Processed")
        since = await now_db(engine)
        count = 30
        for n in range(count):
            await asyncio.to_thread(
                server.append, mail(sender=people.alice.email, subject=f"Batch {n}")
            )
        # A worker that dies in the middle of a batch: the poll is cancelled while it runs.
        task = asyncio.create_task(poll(engine, mailbox_id))
        await until(lambda: _rows_at_least(engine, since, 2), "two messages stored")
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        assert 2 <= len(await rows_since(engine, since)) < count, "cancelled mid-batch"
        # Restarts with a budget of one message per poll, until nothing is left.
        for _ in range(count + 2):
            result = await poll(engine, mailbox_id, budget_seconds=0)
            if not result.more and result.stored == 0:
                break
        rows = await rows_since(engine, since)
        assert sorted(int(r[4]) for r in rows) == list(range(1, count + 1))  # type: ignore[call-overload]
        # Moved only after their rows were committed; one stored but not yet moved when the
        # poll was cancelled is moved by the next poll.
        assert await asyncio.to_thread(server.uids) == []
        assert len(await asyncio.to_thread(server.uids, "Processed")) == count
        await process(engine)
        assert len(await tickets_of(engine, people.alice)) == count


async def _rows_at_least(engine: AsyncEngine, since: object, count: int) -> bool:
    return len(await rows_since(engine, since)) >= count


async def test_one_message_by_lmtp_twice_and_by_imap_once_is_one_ticket(
    engine: AsyncEngine, mail_dir: Path
) -> None:
    people = await make_people(engine)
    raw = mail(sender=people.alice.email, subject="Delivered three times")
    root = mail_dir / f"dovecot-{uuid.uuid4().hex[:6]}"
    root.mkdir()
    root.chmod(0o777)
    async with lmtp_listener(engine) as (port, handler):
        with postfix_to(mail_dir, port) as mta:
            for n in (1, 2):
                await asyncio.to_thread(mta.send, raw, people.alice.email, [SUPPORT])
                await until(lambda n=n: _stored(handler, n), f"delivery {n}")
    with dovecot(root) as server:
        mailbox_id = await imap_mailbox(engine, server)
        await asyncio.to_thread(server.append, raw)
        result = await poll(engine, mailbox_id)
        assert (result.stored, result.duplicates) == (0, 1)
    await process(engine)
    assert [t.title for t in await tickets_of(engine, people.alice)] == ["Delivered three times"]


# ---------------------------------------------------------------- PostgreSQL stopped


async def test_lmtp_answers_451_while_postgresql_is_stopped_and_postfix_retries_once(
    cluster: Cluster, mail_dir: Path
) -> None:
    async with worker_database(cluster.server_url) as url:
        engine = create_async_engine(to_async_url(url), pool_pre_ping=True)
        try:
            people = await make_people(engine)
            async with lmtp_listener(engine) as (port, handler):
                with postfix_to(mail_dir, port) as mta:
                    await asyncio.to_thread(cluster.stop)
                    raw = mail(sender=people.alice.email, subject="While the database is down")
                    queue_id = await asyncio.to_thread(mta.send, raw, people.alice.email, [SUPPORT])

                    async def deferred() -> bool:
                        log = await asyncio.to_thread(mta.log)
                        return f"{queue_id}:" in log and "status=deferred" in log

                    await until(deferred, "Postfix to defer the mail")
                    assert "451 4.3.0" in await asyncio.to_thread(mta.log)
                    assert handler.stored == 0
                    await asyncio.to_thread(cluster.start)
                    await asyncio.to_thread(mta.flush)
                    await until(lambda: _stored(handler, 1), "Postfix's retry", 30)
                    await asyncio.sleep(1)  # nothing else arrives
                    assert handler.stored == 1
                    assert await asyncio.to_thread(mta.queue) == []
            await process(engine)
            [created] = await tickets_of(engine, people.alice)
            assert created.title == "While the database is down"
        finally:
            await engine.dispose()
            if not cluster.running():
                cluster.start()
