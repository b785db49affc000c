"""Who is mailed what (WORKFLOW.md "Notifications"), on the outbox rows the API writes in the same
transaction as each change: the blueprint flow step by step, exact recipients per step; ticket
number, title and the right link in every mail; no remote content; never an internal note or a root
cause in anything a customer receives; muted users still get the mails that ask them to act. The
flow's mails are then delivered by a real Worker to a real SMTP server (aiosmtpd on loopback)."""

from __future__ import annotations

import re
import uuid
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest
from httpx import AsyncClient, Response
from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from app.config import get_settings
from app.models import OutboxMessage, Ticket, User
from app.models.enums import Role
from app.models.enums import TicketStatus as S
from app.services import notifications
from app.services.notifications import CUSTOMER_STATUS
from app.worker import Worker
from tests.factories import Actor, make_actor, make_org, make_user
from tests.test_worker import (
    Received,
    Sink,
    body_of,
    outbox_engine,
    worker_database,
    worker_settings,
)

Expected = set[tuple[str, uuid.UUID]]
URL = re.compile(r"[a-z][a-z0-9+.-]*://[^\s\"'<>)]+", re.IGNORECASE)
REMOTE = re.compile(r"<img|<link|<script|<iframe|\bsrc\s*=|url\(|@import", re.IGNORECASE)
STATUS_WORDS = re.compile(r"\b(" + "|".join(s.value for s in S) + r")\b")


@pytest.fixture(scope="module")
async def mail_db(server_url: str) -> AsyncIterator[str]:
    async with worker_database(server_url) as url:
        yield url


@pytest.fixture
async def engine(mail_db: str) -> AsyncIterator[AsyncEngine]:
    async with outbox_engine(mail_db) as engine:
        yield engine


@pytest.fixture
def sink() -> Iterator[Sink]:
    server = Sink().start()
    try:
        yield server
    finally:
        server.stop()


class Outbox:
    """One ticket's outbox rows, handed out step by step (rows of one test transaction share its
    created_at, so new rows are told apart by id)."""

    def __init__(self, db: AsyncSession) -> None:
        self.db = db
        self.ticket_id: uuid.UUID | None = None
        self.rows: list[OutboxMessage] = []

    async def new(self) -> Expected:
        assert self.ticket_id is not None
        seen = {row.id for row in self.rows}
        found = await self.db.scalars(
            select(OutboxMessage).where(OutboxMessage.ticket_id == self.ticket_id)
        )
        fresh = [row for row in found if row.id not in seen]
        self.rows += fresh
        assert all(row.recipient_id is not None for row in fresh)
        return {(row.template, row.recipient_id) for row in fresh if row.recipient_id}


async def managers_mailed(db: AsyncSession, *, essential: bool = False) -> set[uuid.UUID]:
    """Every active manager (a new ticket or a breach goes to all of them), minus the muted ones
    for non-essential mail."""
    stmt = select(User.id).where(User.role == Role.MANAGER.value, User.is_active.is_(True))
    if not essential:
        stmt = stmt.where(User.notify_enabled.is_(True))
    return set(await db.scalars(stmt))


def ok(response: Response, status: int = 200) -> dict[str, Any]:
    assert response.status_code == status, response.text
    body: dict[str, Any] = response.json()
    return body


class Desk:
    """The people of one flow and the API calls they make."""

    def __init__(self, client: AsyncClient, customer: Actor, manager: Actor, agent: Actor) -> None:
        self.client, self.customer, self.manager, self.agent = client, customer, manager, agent
        self.ticket: dict[str, Any] = {}

    @property
    def url(self) -> str:
        return f"/api/internal/tickets/{self.ticket['id']}"

    async def open(self, title: str, outbox: Outbox) -> None:
        self.ticket = ok(
            await self.client.post(
                "/api/tickets",
                json={"title": title, "description": "Smoke everywhere.", "priority": "P2"},
                headers=self.customer.headers,
            ),
            201,
        )
        outbox.ticket_id = uuid.UUID(self.ticket["id"])

    async def accept(self) -> None:
        ok(await self.client.post(f"{self.url}/accept", json={}, headers=self.manager.headers))

    async def assign(self) -> None:
        ok(
            await self.client.post(
                f"{self.url}/assign",
                json={"assignee_id": str(self.agent.id)},
                headers=self.manager.headers,
            )
        )

    async def status(self, who: Actor, status: S, **extra: str) -> None:
        ok(
            await self.client.post(
                f"{self.url}/status", json={"status": status.value, **extra}, headers=who.headers
            )
        )

    async def staff_comment(self, who: Actor, body: str, *, internal: bool) -> None:
        ok(
            await self.client.post(
                f"{self.url}/comments",
                json={"body": body, "is_internal": internal},
                headers=who.headers,
            ),
            201,
        )

    async def customer_comment(self, body: str) -> None:
        ok(
            await self.client.post(
                f"/api/tickets/{self.ticket['id']}/comments",
                json={"body": body},
                headers=self.customer.headers,
            ),
            201,
        )

    async def mute(self, who: Actor) -> None:
        body = ok(
            await self.client.put(
                "/api/me/preferences", json={"notify_enabled": False}, headers=who.headers
            )
        )
        assert body == {"notify_enabled": False}


async def desk(client: AsyncClient, db: AsyncSession) -> Desk:
    org = await make_org(db)
    return Desk(
        client,
        await make_actor(db, client, role=Role.CUSTOMER_USER, org=org),
        await make_actor(db, client, role=Role.MANAGER),
        await make_actor(db, client, role=Role.AGENT),
    )


def urls(row: OutboxMessage) -> set[str]:
    return set(URL.findall(row.body_text)) | set(URL.findall(row.body_html))


async def copy_to_worker_db(engine: AsyncEngine, rows: list[OutboxMessage]) -> None:
    """The rows exactly as the API wrote them, committed where a Worker can claim them (people
    and tickets live in the test transaction only, so their references stay behind)."""
    columns = ("id", "idempotency_key", "recipient_email", "template", "subject")
    columns += ("body_text", "body_html", "message_id", "reply_token")
    async with engine.begin() as conn:
        await conn.execute(
            insert(OutboxMessage),
            [{c: getattr(row, c) for c in columns} for row in rows],
        )


async def deliver(engine: AsyncEngine, sink: Sink, rows: list[OutboxMessage]) -> list[Received]:
    await copy_to_worker_db(engine, rows)
    assert await Worker(worker_settings(sink.port), engine).drain() == len(rows)
    return sink.received


class TestTheBlueprintFlow:
    async def test_each_step_mails_exactly_the_right_people_and_they_receive_it(
        self, client: AsyncClient, db: AsyncSession, engine: AsyncEngine, sink: Sink
    ) -> None:
        d = await desk(client, db)
        customer, manager, agent = d.customer.id, d.manager.id, d.agent.id
        await make_user(db, role=Role.MANAGER)
        note, root_cause = f"Note {uuid.uuid4().hex}", f"Cause {uuid.uuid4().hex}"
        reply, answer = f"Reply {uuid.uuid4().hex}", f"Answer {uuid.uuid4().hex}"
        resolution = f"Resolution {uuid.uuid4().hex}"
        title = f"Printer <b>on fire</b> & more {uuid.uuid4().hex[:6]}"
        outbox = Outbox(db)

        await d.open(title, outbox)
        managers = await managers_mailed(db)
        assert {manager} < managers
        assert await outbox.new() == {("new_in_queue", m) for m in managers} | {
            ("created", customer)
        }
        await d.accept()
        assert await outbox.new() == {("accepted", customer)}
        await d.assign()
        # The assignee gets one mail ("assigned to you"), not a second one for the status.
        assert await outbox.new() == {("assigned", agent), ("status", customer)}
        await d.status(d.agent, S.IN_PROGRESS)
        assert await outbox.new() == {("status", customer)}
        await d.staff_comment(d.manager, note, internal=True)
        assert await outbox.new() == {("internal_note", agent)}
        await d.staff_comment(d.agent, reply, internal=False)
        assert await outbox.new() == {("reply", customer)}
        await d.status(d.agent, S.WAITING_CUSTOMER)
        assert await outbox.new() == {("waiting_for_you", customer)}
        await d.customer_comment(answer)
        # The reply and the status change it caused: one mail to the assignee.
        assert await outbox.new() == {("customer_reply", agent)}
        await d.status(d.agent, S.RESOLVED, resolution=resolution, root_cause=root_cause)
        assert await outbox.new() == {("status", customer)}
        await d.status(d.manager, S.CLOSED)
        assert await outbox.new() == {("status", customer), ("staff_status", agent)}

        number, ticket_id = d.ticket["number"], d.ticket["id"]
        public = get_settings().public_url.rstrip("/")
        by_template = {(r.template, r.recipient_id): r for r in outbox.rows}
        for row in outbox.rows:
            is_customer = row.recipient_id == customer
            assert row.subject.startswith(f"[ATUM DESK #{number}] {title} — ")
            area = "portal" if is_customer else "desk"
            assert urls(row) == {f"{public}/{area}/tickets/{ticket_id}"}, row.template
            assert not REMOTE.search(row.body_html), row.template
            assert "&lt;b&gt;on fire&lt;/b&gt; &amp; more" in row.body_html
            assert "<b>on fire</b>" not in row.body_html
            if is_customer:
                for secret in (note, root_cause):
                    assert secret not in row.subject + row.body_text + row.body_html
                assert not STATUS_WORDS.search(row.subject + row.body_text), row.subject
        assert note in by_template["internal_note", agent].body_text
        assert reply in by_template["reply", customer].body_text
        assert answer in by_template["customer_reply", agent].body_html
        assert "now being worked on" in by_template["customer_reply", agent].body_text
        statuses = [r for r in outbox.rows if r.template == "status"]
        assert [r.subject.rsplit(" — ", 1)[1] for r in statuses] == [
            CUSTOMER_STATUS[S.ASSIGNED],
            CUSTOMER_STATUS[S.IN_PROGRESS],
            CUSTOMER_STATUS[S.RESOLVED],
            CUSTOMER_STATUS[S.CLOSED],
        ]
        assert resolution in statuses[2].body_text
        # The resolution first, then how to reopen it (by answering the mail: no page to find).
        resolved_text = statuses[2].body_text
        reopen = resolved_text.index("reply to this e-mail and the ticket reopens")
        assert resolved_text.index(resolution) < reopen
        for row in outbox.rows:
            assert not STATUS_WORDS.search(row.subject), row.subject

        received = await deliver(engine, sink, outbox.rows)

        assert sorted(mail.message_id for mail in received) == sorted(
            str(row.message_id) for row in outbox.rows
        )
        for mail in received:
            [row] = [r for r in outbox.rows if r.message_id == mail.message_id]
            assert mail.message["Auto-Submitted"] == "auto-generated"
            assert mail.message["Reply-To"] == (
                f"support+{row.reply_token}@{get_settings().resolved_mail_domain}"
            )
            assert mail.envelope_to == (row.recipient_email,)
            assert mail.message["To"] == row.recipient_email
            assert mail.message["Subject"] == row.subject
            assert mail.message.get_content_type() == "multipart/alternative"
            assert body_of(mail, "plain") == row.body_text
            assert body_of(mail, "html") == row.body_html

    async def test_a_customer_reply_before_assignment_goes_to_the_managers(
        self, client: AsyncClient, db: AsyncSession
    ) -> None:
        d = await desk(client, db)
        outbox = Outbox(db)
        await d.open(f"Scanner {uuid.uuid4().hex[:6]}", outbox)
        await d.accept()
        await outbox.new()

        await d.customer_comment("Any news?")

        assert await outbox.new() == {("customer_reply", m) for m in await managers_mailed(db)}

    async def test_a_rejected_ticket_tells_the_customer_a_withdrawn_one_nobody(
        self, client: AsyncClient, db: AsyncSession
    ) -> None:
        d = await desk(client, db)
        outbox = Outbox(db)
        await d.open(f"Rejected {uuid.uuid4().hex[:6]}", outbox)
        await outbox.new()
        await d.status(d.manager, S.CANCELLED, reason="Not ours to fix")
        assert await outbox.new() == {("status", d.customer.id)}
        assert CUSTOMER_STATUS[S.CANCELLED] in outbox.rows[-1].subject

        await d.open(f"Withdrawn {uuid.uuid4().hex[:6]}", outbox)
        await outbox.new()
        ok(
            await client.post(
                f"/api/tickets/{d.ticket['id']}/withdraw", json={}, headers=d.customer.headers
            )
        )
        assert await outbox.new() == set()


class TestPreferences:
    async def test_a_muted_user_still_gets_the_mails_that_ask_them_to_act(
        self, client: AsyncClient, db: AsyncSession
    ) -> None:
        d = await desk(client, db)
        muted_manager = await make_user(db, role=Role.MANAGER)
        muted_manager.notify_enabled = False
        await db.flush()
        await d.mute(d.customer)
        await d.mute(d.agent)
        outbox = Outbox(db)

        await d.open(f"Muted {uuid.uuid4().hex[:6]}", outbox)
        assert await outbox.new() == {("new_in_queue", m) for m in await managers_mailed(db)}
        assert muted_manager.id not in {r.recipient_id for r in outbox.rows}
        await d.accept()
        assert await outbox.new() == set()
        await d.assign()
        assert await outbox.new() == {("assigned", d.agent.id)}
        await d.status(d.agent, S.IN_PROGRESS)
        assert await outbox.new() == set()
        await d.status(d.agent, S.WAITING_CUSTOMER)
        assert await outbox.new() == {("waiting_for_you", d.customer.id)}
        await d.customer_comment("Here you are.")
        assert await outbox.new() == set()
        ticket = await db.get(Ticket, uuid.UUID(d.ticket["id"]))
        assert ticket is not None
        await notifications.send(db, notifications.breached(ticket, "resolution"))
        breach = await outbox.new()

        everyone = await managers_mailed(db, essential=True)
        assert muted_manager.id in everyone
        assert breach == {("sla_breached", m) for m in everyone | {d.agent.id}}
        essential = [r for r in outbox.rows if r.template != "new_in_queue"]
        assert all("turn these e-mails off" not in r.body_text for r in essential)


class TestHeaders:
    async def test_a_line_break_in_a_title_cannot_reach_a_mail_header(
        self, client: AsyncClient, db: AsyncSession, engine: AsyncEngine, sink: Sink
    ) -> None:
        d = await desk(client, db)
        outbox = Outbox(db)
        await d.open("Printer\r\nBcc: victim@example.test\n\nInjected body", outbox)
        await outbox.new()

        assert outbox.rows
        for row in outbox.rows:
            assert "\n" not in row.subject and "\r" not in row.subject
            assert row.subject.startswith(f"[ATUM DESK #{d.ticket['number']}] Printer Bcc: ")

        received = await deliver(engine, sink, outbox.rows)

        assert len(received) == len(outbox.rows)
        for mail in received:
            assert mail.message["Bcc"] is None
            assert len(mail.envelope_to) == 1
            assert "Injected body" in mail.message["Subject"]
