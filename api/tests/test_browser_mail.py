"""The e-mail channel in a real browser (Debian's chromium, the built web/dist served by uvicorn),
with mail delivered the way Postfix delivers it: over LMTP to the real listener (`atum-desk lmtp`),
processed by the real worker (`atum-desk worker`), whose notifications go to an SMTP sink on
loopback. A customer's forwarded Outlook mail becomes a ticket (one file stored, an executable
refused); mail from an unknown sender is held until a manager makes it a ticket for an
organization; the agent reads the thread, downloads the original .eml and answers; the customer
answers that notification by mail, and the reply lands on the ticket with its quoted text folded.
An admin adds an IMAP mailbox whose password is never shown again. Along the way: axe-core on
the three pages, and the screenshots docs/EMAIL.md shows."""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import socket
import struct
import sys
import uuid
import zlib
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import timedelta
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from pathlib import Path
from typing import Any

import pytest
from playwright.async_api import Locator, Page, Response, expect
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, create_async_engine

from app.config import get_settings
from app.db.embedded import to_async_url
from app.mail.devtools import reply_to
from app.mail.tokens import reply_address
from app.services.mail_admin import ensure_default_mailbox
from app.utils.clock import utcnow
from tests.browser_support import (
    API_DIR,
    DESKTOP,
    LOOPBACK,
    UUID_PATH,
    Live,
    chromium,
    csp_violations,
    demo_database,
    free_port,
    live_server,
    require_built_ui,
    screenshot,
    scroll_width,
    sign_in,
)
from tests.mail_support import lmtp_send, mail
from tests.test_browser import (
    AGENT,
    AGENT_NAME,
    MANAGER,
    Person,
    assert_accessible,
    people,
    ticket_status,
)
from tests.test_worker import Sink

# `people` (a browser context each for the customer, the manager and the agent) is the fixture of
# tests/test_browser.py; it runs on this module's `live`.
__all__ = ["people"]

expect.set_options(timeout=10_000)

ADMIN = "admin@atum.test"
SETTINGS = get_settings()
SUPPORT = SETTINGS.resolved_inbound_address  # the LMTP mailbox, support@<ATUM_MAIL_DOMAIN>

# (a) Tom Becker (Initech, a known customer) forwards a colleague's mail from Outlook.
TOM = "Tom Becker"
TOM_EMAIL = "tom.becker@initech.example"
FORWARD_ID = "<DB9PR04MB8120A1B2C3D4E5F6@DB9PR04MB8120.eurprd04.prod.outlook.example>"
FORWARD_SUBJECT = "FW: Scan to e-mail fails on the 2nd floor copier"
TITLE = "Scan to e-mail fails on the 2nd floor copier"
NEW_TEXT = (
    "Hi,\n\n"
    "Priya in Finance cannot scan to e-mail from the copier on the 2nd floor since yesterday; her "
    "mail is below and a photo of the copier's error screen is attached. Could you have a look "
    "today? The month-end invoices have to go out by Friday.\n\n"
    "Thanks,\nTom"
)
OLDER_TEXT = (
    'since this morning the copier on the 2nd floor shows "SMTP authentication failed (535 5.7.3)" '
    "every time I scan to e-mail. Printing and copying work fine."
)
_YESTERDAY = utcnow() - timedelta(days=1)
FORWARD_BODY = (
    f"{NEW_TEXT}\n\n"
    "From: Priya Raman <priya.raman@initech.example>\n"
    f"Sent: {_YESTERDAY:%A}, {_YESTERDAY:%B} {_YESTERDAY.day}, {_YESTERDAY:%Y} 9:14 AM\n"
    f"To: {TOM} <{TOM_EMAIL}>\n"
    "Subject: Scanner on the 2nd floor\n\n"
    f"Hi Tom,\n\n{OLDER_TEXT} Could you ask IT?\n\nPriya\n"
)
PHOTO = "copier-error.png"
EXECUTABLE = "invoice.pdf.exe"

# (b) Mail from people the desk does not know: held for a manager.
DANA = "Dana Fischer <dana.fischer@fastmail.example>"
DANA_SUBJECT = "Laptop and accounts for my first day"
DANA_BODY = (
    "Hello,\n\n"
    "I start as office manager at Acme Corp on Monday and my company address is not set up yet, "
    "so I am writing from my own. Could my laptop, a mailbox and access to the shared drive be "
    "ready by then?\n\n"
    "Kind regards,\nDana Fischer"
)
SUPPLIER = "Northwind Supplies <orders@northwind-supplies.example>"
SUPPLIER_SUBJECT = "Your toner order 4471 has been dispatched"
SUPPLIER_BODY = (
    "Good news: your order 4471 (4 x HP 508X toner) left our warehouse today and will be "
    "delivered within two working days."
)
STAFF = "Ines Agent <agent2@atum.test>"
STAFF_SUBJECT = "Fwd: Quote for the Globex meeting-room screens"
STAFF_BODY = "Forwarding the vendor's quote for the Globex screens; which ticket was this again?"

# The desk's side of the e-mail ticket, and the customer's answer by mail.
CATEGORY = "Printing"
REPLY = (
    "Thanks, Tom. The copier still signs in to the mail server with the old scanner account, "
    "whose password expired yesterday. We have set a new one on the copier; could Priya try "
    "scanning to e-mail again and tell us whether it works?"
)
CUSTOMER_REPLY = "Priya just scanned three invoices to her mailbox without an error. Thank you!"
WINMAIL = "winmail.dat"

# (4) The IMAP mailbox an admin adds.
IMAP_ADDRESS = "it-support@initech.example"
IMAP_HOST = "outlook.office365.com"
IMAP_PASSWORD = "kq7W-rtx2-Lm9p-Vd4e"  # an app password: shown nowhere after it was typed


@dataclass
class Stack:
    live: Live
    database_url: str
    data_dir: Path
    engine: AsyncEngine


@pytest.fixture(scope="module")
async def stack(server_url: str, tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Stack]:
    """The app as tests/test_browser.py runs it (its own database with the demo data, uvicorn,
    chromium) with the default LMTP mailbox, and an engine for looking into the database."""
    require_built_ui()
    data_dir = tmp_path_factory.mktemp("browser-mail-data")
    async with (
        demo_database(server_url) as database_url,
        live_server(database_url, data_dir) as base_url,
        chromium() as browser,
    ):
        engine = create_async_engine(to_async_url(database_url))
        try:
            async with AsyncSession(engine) as session, session.begin():
                await ensure_default_mailbox(session, SUPPORT)
            yield Stack(Live(base_url=base_url, browser=browser), database_url, data_dir, engine)
        finally:
            await engine.dispose()


@pytest.fixture(scope="module")
def live(stack: Stack) -> Live:
    return stack.live


# ---------------------------------------------------------------- mail in and out


@dataclass
class MailServices:
    lmtp_port: int
    sink: Sink


@contextlib.asynccontextmanager
async def mail_services(stack: Stack) -> AsyncIterator[MailServices]:
    """`atum-desk lmtp` and `atum-desk worker` with the live server's settings (database, data
    directory, secret key, mail domain); the worker's mail goes to an SMTP sink on loopback."""
    sink = Sink().start()
    lmtp_port = free_port()
    env = {
        **os.environ,
        "ATUM_DATABASE_URL": stack.database_url,
        "ATUM_DATA_DIR": str(stack.data_dir),
        "ATUM_PUBLIC_URL": stack.live.base_url,
        "ATUM_LMTP_HOST": LOOPBACK,
        "ATUM_LMTP_PORT": str(lmtp_port),
        "ATUM_SMTP_HOST": LOOPBACK,
        "ATUM_SMTP_PORT": str(sink.port),
    }
    # Nothing leaves the machine: no SMTP login or TLS, no model server for the triage.
    for name in (
        "ATUM_SMTP_USERNAME",
        "ATUM_SMTP_PASSWORD",
        "ATUM_SMTP_STARTTLS",
        "ATUM_SMTP_SSL",
        "ATUM_OLLAMA_URL",
    ):
        env.pop(name, None)
    procs: list[asyncio.subprocess.Process] = []
    try:
        for command in ("lmtp", "worker"):
            log = (stack.data_dir / f"{command}.log").open("wb")
            with log:
                procs.append(
                    await asyncio.create_subprocess_exec(
                        sys.executable,
                        "-m",
                        "app.cli",
                        command,
                        cwd=API_DIR,
                        env=env,
                        stdin=asyncio.subprocess.DEVNULL,
                        stdout=log,
                        stderr=asyncio.subprocess.STDOUT,
                    )
                )
        await _wait_listening(lmtp_port, procs[0], stack)
        yield MailServices(lmtp_port, sink)
        for proc, command in zip(procs, ("lmtp", "worker"), strict=True):
            assert proc.returncode is None, f"{command} exited:\n{_tail(stack, command)}"
            assert "Traceback" not in _log(stack, command), _tail(stack, command)
    finally:
        for proc in procs:
            if proc.returncode is None:
                proc.terminate()
                try:
                    await asyncio.wait_for(proc.wait(), timeout=10)
                except TimeoutError:
                    proc.kill()
                    await proc.wait()
        sink.stop()


def _read(path: Path) -> bytes:
    return path.read_bytes()


def _log(stack: Stack, command: str) -> str:
    return (stack.data_dir / f"{command}.log").read_text(errors="replace")


def _tail(stack: Stack, command: str) -> str:
    return _log(stack, command)[-3000:]


async def _wait_listening(port: int, proc: asyncio.subprocess.Process, stack: Stack) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + 30
    while True:
        if proc.returncode is not None:
            raise AssertionError(f"the LMTP listener exited early:\n{_tail(stack, 'lmtp')}")
        with contextlib.suppress(OSError), socket.create_connection((LOOPBACK, port), timeout=1):
            return
        if loop.time() > deadline:
            raise AssertionError(f"the LMTP listener never listened:\n{_tail(stack, 'lmtp')}")
        await asyncio.sleep(0.1)


async def deliver(services: MailServices, raw: bytes, *, rcpt: str = SUPPORT) -> None:
    """One message handed over as Postfix hands it over: stored (250) or the test fails."""
    sender = BytesParser(policy=policy.default).parsebytes(raw, headersonly=True)["From"]
    replies = await lmtp_send(
        services.lmtp_port, raw, rcpts=[rcpt], mail_from=sender.addresses[0].addr_spec
    )
    assert [r.code for r in replies] == [250], replies


async def processed(stack: Stack, message_id: str) -> Any:
    """The inbound row of a delivered message once the worker has dealt with it."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + 20
    while True:
        async with stack.engine.connect() as conn:
            row = (
                await conn.execute(
                    text(
                        "SELECT status, reason, ticket_id, comment_id FROM inbound_messages "
                        "WHERE message_id = :mid"
                    ),
                    {"mid": message_id},
                )
            ).one_or_none()
        if row is not None and row.status != "pending":
            return row
        assert loop.time() < deadline, f"{message_id} was not processed:\n{_tail(stack, 'worker')}"
        await asyncio.sleep(0.1)


async def mail_to(services: MailServices, stack: Stack, address: str, says: str) -> EmailMessage:
    """The notification the worker delivered to *address* that contains *says*."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + 20
    while True:
        for received in services.sink.received:
            body = received.message.get_body(preferencelist=("plain",))
            if address in received.envelope_to and body and says in body.get_content():
                return received.message
        assert loop.time() < deadline, f"no mail to {address}:\n{_tail(stack, 'worker')}"
        await asyncio.sleep(0.1)


def header(message: EmailMessage, name: str) -> str:
    """A header's value unfolded (a long Message-ID is folded onto its own line)."""
    return " ".join(str(message[name]).split())


def png(width: int, height: int) -> bytes:
    """A small real PNG: a dark error panel with a red bar, as a phone photo of the copier."""

    def pixel(x: int, y: int) -> bytes:
        if 8 <= y < 18 and 8 <= x < width - 8:
            return b"\xd0\x30\x30"
        return b"\x22\x26\x30" if (x // 8 + y // 8) % 2 else b"\x2a\x2f\x3a"

    rows = b"".join(b"\x00" + b"".join(pixel(x, y) for x in range(width)) for y in range(height))

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
        )

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", ihdr)
        + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )


# ---------------------------------------------------------------- the page


def thread(page: Page) -> Locator:
    return page.get_by_role("list", name="Conversation")


def message_from(page: Page, author: str, says: str) -> Locator:
    return thread(page).get_by_role("article", name=f"Message from {author}").filter(has_text=says)


async def open_ticket(page: Page, number: int, title: str) -> None:
    """From the desk's ticket list, where mail tickets carry the "Via e-mail" glyph."""
    await page.goto("/desk/tickets")
    link = page.get_by_role("link", name=f"#{number} {title}")
    row = page.get_by_role("row").filter(has=link)
    await expect(row.get_by_role("img", name="Via e-mail")).to_be_visible()
    await link.click()
    await expect(page.get_by_role("heading", level=1, name=title)).to_be_visible()


# ---------------------------------------------------------------- the test


async def test_mail_in_held_mail_thread_and_mailboxes(
    stack: Stack, people: dict[str, Person]
) -> None:
    manager, agent = people[MANAGER].page, people[AGENT].page
    loop = asyncio.get_running_loop()
    started = loop.time()

    async with mail_services(stack) as services:
        # 1. Mail in, through the LMTP listener: a forwarded mail from a known customer with a
        #    photo and an executable, and three mails the desk cannot place on its own.
        forward = mail(
            sender=f"{TOM} <{TOM_EMAIL}>",
            to=SUPPORT,
            subject=FORWARD_SUBJECT,
            body=FORWARD_BODY,
            message_id=FORWARD_ID,
            headers={"X-Mailer": "Microsoft Outlook 16.0", "Thread-Topic": TITLE},
            attachments=[
                (PHOTO, "image/png", png(96, 64)),
                (EXECUTABLE, "application/octet-stream", b"MZ\x90\x00" + bytes(200)),
            ],
        )
        await deliver(services, forward)
        held_ids = []
        for sender, subject, body in (
            (SUPPLIER, SUPPLIER_SUBJECT, SUPPLIER_BODY),
            (STAFF, STAFF_SUBJECT, STAFF_BODY),
            (DANA, DANA_SUBJECT, DANA_BODY),
        ):
            message_id = f"<{uuid.uuid4().hex}@mail.client.example>"
            await deliver(
                services,
                mail(sender=sender, to=SUPPORT, subject=subject, body=body, message_id=message_id),
            )
            held_ids.append(message_id)

        ticket_row = await processed(stack, FORWARD_ID)
        assert (ticket_row.status, ticket_row.comment_id) == ("done", None), ticket_row
        ticket_id = ticket_row.ticket_id
        for message_id in held_ids:
            assert (await processed(stack, message_id)).status == "held"
        async with await stack.live.api(MANAGER) as api:
            detail = (await api.get(f"/api/internal/tickets/{ticket_id}")).json()
        number = detail["number"]
        assert (detail["title"], detail["channel"], detail["status"]) == (TITLE, "email", "NEW")
        assert [a["file_name"] for a in detail["attachments"]] == [PHOTO]

        # 2. The manager finds the held mail, each with the reason it waits.
        await sign_in(manager, MANAGER)
        await expect(manager).to_have_url(re.compile(r"/desk(/inbox)?$"))
        await manager.get_by_role("link", name="Held mail").click()
        await expect(manager).to_have_url(re.compile(r"/desk/mail/held$"))
        held = manager.get_by_role("table", name="Held mail")
        dana_row = held.get_by_role("row").filter(has_text=DANA_SUBJECT)
        await expect(dana_row).to_contain_text("dana.fischer@fastmail.example")
        await expect(dana_row).to_contain_text("unknown sender dana.fischer@fastmail.example")
        await expect(held.get_by_role("row").filter(has_text=STAFF_SUBJECT)).to_contain_text(
            "mail from a staff member that answers no ticket"
        )
        await expect(held.get_by_role("row").filter(has_text=SUPPLIER_SUBJECT)).to_be_visible()
        assert await scroll_width(manager) <= DESKTOP["width"]
        # The actions are in view at 1280 px (the table does not push them off the page).
        for button in await held.get_by_role(
            "button", name=re.compile("^Create ticket from")
        ).all():
            box = await button.bounding_box()
            assert box is not None and box["x"] + box["width"] <= DESKTOP["width"], box
        await screenshot(manager, "held-mail.png")
        await assert_accessible(manager, "held mail page")

        # The supplier's dispatch note is nobody's ticket: discarded (confirmed in a dialog).
        supplier_label = f'"{SUPPLIER_SUBJECT}" from orders@northwind-supplies.example'
        await manager.get_by_role("button", name=f"Discard {supplier_label}").click()
        confirm = manager.get_by_role("dialog", name="Discard this mail?")
        await confirm.get_by_role("button", name="Discard mail").click()
        await expect(confirm).to_have_count(0)
        await expect(held.get_by_role("row").filter(has_text=SUPPLIER_SUBJECT)).to_have_count(0)

        # Dana's mail becomes a ticket of Acme Corp, and the manager lands on it.
        dana_label = f'"{DANA_SUBJECT}" from dana.fischer@fastmail.example'
        await manager.get_by_role("button", name=f"Create ticket from {dana_label}").click()
        dialog = manager.get_by_role("dialog", name="Create ticket for organization…")
        await dialog.get_by_role("searchbox", name="Find organization").fill("Acme")
        await dialog.get_by_role("combobox", name="Organization").select_option(label="Acme Corp")
        await dialog.get_by_role("button", name="Create ticket").click()
        await expect(manager).to_have_url(re.compile(rf"/desk/tickets/{UUID_PATH}$"))
        await expect(manager.get_by_role("heading", level=1, name=DANA_SUBJECT)).to_be_visible()
        await expect(manager.locator("header:has(h1)")).to_contain_text("Acme Corp")
        await expect(manager.locator("header:has(h1)")).to_contain_text("Via e-mail")
        await expect(ticket_status(manager)).to_have_attribute("data-status", "NEW")
        await expect(message_from(manager, "Dana Fischer", "office manager")).to_be_visible()
        await manager.get_by_role("link", name="Held mail").click()
        await expect(held.get_by_role("row").filter(has_text=DANA_SUBJECT)).to_have_count(0)
        await expect(held.get_by_role("row").filter(has_text=STAFF_SUBJECT)).to_be_visible()

        # 3. The forwarded mail's ticket: the manager accepts it and assigns it to the agent.
        await open_ticket(manager, number, TITLE)
        await expect(ticket_status(manager)).to_have_attribute("data-status", "NEW")
        # The acceptance form (the Classification card edits the same fields after acceptance).
        acceptance = manager.get_by_role("region", name="Ticket actions")
        await acceptance.get_by_label("Priority").select_option("P2")
        await acceptance.get_by_role("textbox", name="Category").fill(CATEGORY)
        await manager.get_by_role("button", name="Accept", exact=True).click()
        await expect(ticket_status(manager)).to_have_attribute("data-status", "ACCEPTED")
        await manager.get_by_label("Assignee").select_option(label=AGENT_NAME)
        await manager.get_by_role("button", name="Assign").click()
        await expect(ticket_status(manager)).to_have_attribute("data-status", "ASSIGNED")

        # The agent reads the mail: "Via e-mail", the forwarded history kept in the description
        # (a new mail keeps everything it says), the photo stored, the executable refused.
        await sign_in(agent, AGENT)
        await expect(agent).to_have_url(re.compile(r"/desk/views/[0-9a-f-]{36}$"))
        await open_ticket(agent, number, TITLE)
        await expect(agent.locator("header:has(h1)").get_by_text("Via e-mail")).to_be_visible()
        description = message_from(agent, TOM, "Priya in Finance")
        await expect(description).to_contain_text("Description")
        await expect(description).to_contain_text("Via e-mail")
        await expect(description).to_contain_text(OLDER_TEXT)
        await expect(description).to_contain_text(
            re.compile(rf"Not attached: {re.escape(EXECUTABLE)} — \S")
        )
        attachments = agent.get_by_role("complementary", name="Ticket details")
        await expect(
            attachments.get_by_role("link", name=re.compile(re.escape(PHOTO)))
        ).to_be_visible()
        await expect(attachments.get_by_text(EXECUTABLE)).to_have_count(0)

        # The original as received: a download that starts with the mail's own headers.
        original = description.get_by_role("link", name="Download original (.eml)")
        async with agent.expect_download() as downloading:
            await original.click()
        download = await downloading.value
        assert download.suggested_filename.endswith(".eml"), download.suggested_filename
        raw = _read(await download.path())
        assert raw.startswith(f"From: {TOM} <{TOM_EMAIL}>\r\n".encode()), raw[:200]
        assert raw.replace(b"\r\n", b"\n") == forward.replace(b"\r\n", b"\n")
        headers = BytesParser(policy=policy.default).parsebytes(raw, headersonly=True)
        assert (header(headers, "Message-ID"), header(headers, "Subject")) == (
            FORWARD_ID,
            FORWARD_SUBJECT,
        )

        # A public reply, then waiting for the customer.
        await agent.get_by_role("tab", name="Public reply").click()
        await agent.get_by_role("textbox", name="Public reply").fill(REPLY)
        await agent.get_by_role("button", name="Send public reply").click()
        await expect(message_from(agent, AGENT_NAME, "scanner account")).to_be_visible()
        await (
            agent.get_by_role("group", name="Change status")
            .get_by_role("button", name="Wait for customer")
            .click()
        )
        await expect(ticket_status(agent)).to_have_attribute("data-status", "WAITING_CUSTOMER")

        # The customer answers the notification in the mail client: to its signed Reply-To,
        # In-Reply-To its Message-ID, the notification quoted below (and Outlook's winmail.dat).
        notification = await mail_to(services, stack, TOM_EMAIL, "scanner account")
        async with stack.engine.connect() as conn:
            outbox = (
                await conn.execute(
                    text(
                        "SELECT message_id, reply_token FROM notification_outbox "
                        "WHERE ticket_id = :t AND recipient_email = :r AND message_id = :m"
                    ),
                    {"t": ticket_id, "r": TOM_EMAIL, "m": header(notification, "Message-ID")},
                )
            ).one()
        assert header(notification, "Reply-To") == reply_address(SUPPORT, outbox.reply_token)
        answer_raw, author, recipient = reply_to(
            notification.as_bytes(policy=policy.SMTP), CUSTOMER_REPLY
        )
        answer = BytesParser(policy=policy.default).parsebytes(answer_raw)
        assert (author, header(answer, "In-Reply-To")) == (TOM_EMAIL, outbox.message_id)
        answer.add_attachment(
            b"\x78\x9f\x3e\x22" + bytes(64),
            maintype="application",
            subtype="ms-tnef",
            filename=WINMAIL,
        )
        await deliver(services, answer.as_bytes(policy=policy.SMTP), rcpt=recipient)
        reply_row = await processed(stack, header(answer, "Message-ID"))
        assert (reply_row.status, reply_row.ticket_id) == ("done", ticket_id), reply_row
        assert reply_row.comment_id is not None

        # The reply is on the ticket, the work resumes, the quoted notification is folded.
        await agent.reload()
        await expect(ticket_status(agent)).to_have_attribute("data-status", "IN_PROGRESS")
        customer_mail = message_from(agent, TOM, CUSTOMER_REPLY)
        await expect(customer_mail).to_contain_text("Via e-mail")
        await expect(customer_mail).to_contain_text("Customer")
        await expect(customer_mail.get_by_role("list", name="Files not attached")).to_contain_text(
            re.compile(rf"Not attached: {re.escape(WINMAIL)} — \S")
        )
        await expect(
            customer_mail.get_by_role("link", name="Download original (.eml)")
        ).to_be_visible()
        toggle = customer_mail.get_by_role("button", name="Show quoted text")
        quoted = customer_mail.locator("blockquote")
        await expect(toggle).to_have_attribute("aria-expanded", "false")
        await expect(quoted).to_be_hidden()
        assert "scanner account" not in await customer_mail.inner_text()
        await toggle.click()
        hide = customer_mail.get_by_role("button", name="Hide quoted text")
        await expect(hide).to_have_attribute("aria-expanded", "true")
        await expect(quoted).to_be_visible()
        await expect(quoted).to_contain_text("wrote:")
        await expect(quoted).to_contain_text("scanner account")
        await hide.click()
        await expect(quoted).to_be_hidden()
        await expect(toggle).to_have_attribute("aria-expanded", "false")

        assert await scroll_width(agent) <= DESKTOP["width"]
        await customer_mail.evaluate("(el) => el.scrollIntoView({ block: 'end' })")
        await screenshot(agent, "desk-email-ticket.png")
        await assert_accessible(agent, "e-mail ticket page")
        mail_done = loop.time()

    # 4. An admin adds a hosted mailbox (the worker is stopped: nothing polls a real server).
    admin_context = await stack.live.context()
    try:
        admin = await admin_context.new_page()
        mailbox_answers: list[Response] = []
        admin.on(
            "response",
            lambda r: mailbox_answers.append(r) if "/api/admin/mailboxes" in r.url else None,
        )
        await sign_in(admin, ADMIN)
        await expect(admin).to_have_url(re.compile(r"/desk"))
        await admin.get_by_role("link", name="Admin").click()
        await (
            admin.get_by_role("navigation", name="Administration")
            .get_by_role("link", name="Mail")
            .click()
        )
        await expect(admin).to_have_url(re.compile(r"/desk/admin/mail$"))
        mailboxes = admin.get_by_role("table", name="Mailboxes")
        await expect(mailboxes.get_by_role("row").filter(has_text=SUPPORT)).to_contain_text("LMTP")

        await admin.get_by_role("button", name="New mailbox").click()
        form = admin.get_by_role("dialog", name="New mailbox")
        await form.get_by_role("textbox", name="Address").fill(IMAP_ADDRESS)
        await expect(form.get_by_role("combobox", name="Kind")).to_have_value("imap")
        await form.get_by_role("textbox", name="IMAP server").fill(IMAP_HOST)
        await form.get_by_role("spinbutton", name="IMAP port").fill("993")
        await expect(form.get_by_role("checkbox", name="Use TLS")).to_be_checked()
        await form.get_by_role("textbox", name="IMAP user").fill(IMAP_ADDRESS)
        await form.get_by_label("IMAP password").fill(IMAP_PASSWORD)
        await form.get_by_role("textbox", name="Processed folder").fill("Processed")
        await form.get_by_role("button", name="Create mailbox").click()
        await expect(form).to_have_count(0)
        row = mailboxes.get_by_role("row").filter(has_text=IMAP_ADDRESS)
        await expect(row).to_contain_text("IMAP")
        await expect(row).to_contain_text(f"{IMAP_HOST}:993 · TLS")
        await expect(row).to_contain_text("password stored")
        await expect(row).to_contain_text("INBOX → Processed")

        # Write-only: the edit form starts empty, and nothing the page holds has the password.
        await admin.get_by_role("button", name=f"Edit {IMAP_ADDRESS}").click()
        edit = admin.get_by_role("dialog", name=f"Edit {IMAP_ADDRESS}")
        new_password = edit.get_by_label("New IMAP password")
        await expect(new_password).to_have_value("")
        await expect(edit).to_contain_text("A password is stored. Leave empty to keep it.")
        await expect(edit.get_by_role("textbox", name="IMAP server")).to_have_value(IMAP_HOST)
        assert IMAP_PASSWORD not in await admin.content()
        await edit.get_by_role("button", name="Cancel").click()
        await expect(edit).to_have_count(0)
        assert IMAP_PASSWORD not in await admin.content()
        async with await stack.live.api(ADMIN) as api:
            listed = await api.get("/api/admin/mailboxes")
        assert listed.status_code == 200 and IMAP_PASSWORD not in listed.text
        assert await _password_nowhere_in_storage(admin)
        assert len(mailbox_answers) >= 2  # the create and the lists around it
        for response in mailbox_answers:
            assert IMAP_PASSWORD not in await response.text(), response.url

        assert await scroll_width(admin) <= DESKTOP["width"]
        for toast in await admin.get_by_role("button", name="Dismiss notification").all():
            await toast.click()
        await expect(admin.get_by_role("button", name="Dismiss notification")).to_have_count(0)
        await screenshot(admin, "admin-mail.png")
        await assert_accessible(admin, "admin mail page")
        for page in (manager, agent, admin):
            assert await csp_violations(page) == []
    finally:
        await admin_context.close()

    print(
        f"mail part {mail_done - started:.1f} s, admin part {loop.time() - mail_done:.1f} s, "
        f"notifications delivered to the sink: {len(services.sink.received)}"
    )


async def _password_nowhere_in_storage(page: Page) -> bool:
    stored: str = await page.evaluate(
        "() => JSON.stringify([document.cookie, {...localStorage}, {...sessionStorage}])"
    )
    return IMAP_PASSWORD not in stored
