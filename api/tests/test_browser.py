"""The web UI in a real browser (Debian's chromium): the blueprint's acceptance test, steps 3-10,
clicked through the portal and the desk by a customer, a manager and an agent, each in a browser
of their own, against the app served by uvicorn with the built web/dist. Along the way: the SPA
fallback for deep links, axe-core, the 375 px / 1280 px layouts, the landing page with the network
cut off, and the screenshots in docs/screenshots/ that the README and docs/FIRST_TICKET.md show."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import pytest
from playwright.async_api import BrowserContext, Locator, Page, expect

from tests.browser_support import (
    DESKTOP,
    PHONE,
    UUID_PATH,
    Live,
    Offsite,
    axe_violations,
    chromium,
    csp_violations,
    demo_database,
    live_server,
    require_built_ui,
    screenshot,
    scroll_width,
    serious,
    sign_in,
    upload_progress,
)

expect.set_options(timeout=10_000)

CUSTOMER = "user@acme.test"  # Cody Customer, Acme Corp
MANAGER = "manager@atum.test"  # Maya Manager
AGENT = "agent@atum.test"  # Arun Agent
AGENT_NAME = "Arun Agent"

# Other customers' tickets waiting in the inbox, so the desk looks like a working day.
BACKGROUND = [
    (
        "user@globex.test",
        "Invoice PDF shows last year's VAT number",
        "The invoices for October still carry our old VAT number, so accounts payable cannot "
        "book them. Could you reissue them with DE 811 907 265?",
        "P3",
        "Billing",
    ),
    (
        "tom.becker@initech.example",
        "Mailbox and VPN access for a new starter on Monday",
        "Priya Raman joins our finance team on Monday. She needs a mailbox, access to the "
        "Finance shared folder and a VPN profile for her laptop.",
        "P4",
        "E-mail",
    ),
    (
        "user@globex.test",
        "Shared calendar no longer syncs on phones",
        "Since Tuesday the Sales team calendar shows no new events on iPhones; desktops are "
        "fine. Removing and re-adding the account did not help.",
        "P2",
        "E-mail",
    ),
]

TITLE = "VPN drops every 10 minutes since the router swap"
DESCRIPTION = (
    "Since this morning the VPN connection drops roughly every ten minutes for everyone in the "
    "Leeds office. Reconnecting works, but calls and file transfers are cut off each time.\n\n"
    "Our internet provider replaced the router yesterday evening. Client log attached."
)
LOG_FILE = "vpn-client.log"
LOG = (
    b"2025-11-26 08:02:11 INFO  tunnel up (gw vpn.atum.test, cipher AES-256-GCM)\n"
    b"2025-11-26 08:12:40 WARN  keepalive timeout, 3 packets lost\n"
    b"2025-11-26 08:12:41 ERROR tunnel reset by peer\n"
    b"2025-11-26 08:12:44 INFO  reconnecting\n"
)
NOTE = (
    "Leeds moved to a PPPoE line yesterday, so an MTU mismatch is my first suspect. "
    "Checking the tunnel logs on our gateway before we ask them for more."
)
REPLY = (
    "Thanks for the log, Cody. It shows the tunnel being reset by the far end. Could you tell "
    "us the model of the new router and whether your provider set it up with PPPoE?"
)
CUSTOMER_REPLY = "It is a FRITZ!Box 7590, and yes, the provider set it up with PPPoE."
RESOLUTION = (
    "We lowered the tunnel MTU to 1400 for the Leeds office. The connection has been stable "
    "since; nothing needs to change on your side."
)
ROOT_CAUSE = "PPPoE overhead on the new line pushed tunnel packets over the path MTU."


@pytest.fixture(scope="module")
async def live(server_url: str, tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Live]:
    require_built_ui()
    data_dir = tmp_path_factory.mktemp("browser-data")
    async with (
        demo_database(server_url) as database_url,
        live_server(database_url, data_dir) as base_url,
        chromium() as browser,
    ):
        live = Live(base_url=base_url, browser=browser)
        await _open_background_tickets(live)
        yield live


async def _open_background_tickets(live: Live) -> None:
    for email, title, description, priority, service in BACKGROUND:
        async with await live.api(email) as api:
            services = (await api.get("/api/services")).json()["items"]
            service_id = next(s["id"] for s in services if s["name"] == service)
            r = await api.post(
                "/api/tickets",
                json={
                    "title": title,
                    "description": description,
                    "priority": priority,
                    "service_id": service_id,
                },
            )
            assert r.status_code == 201, r.text


@dataclass
class Person:
    context: BrowserContext
    page: Page


@pytest.fixture
async def people(live: Live) -> AsyncIterator[dict[str, Person]]:
    """A browser context (cookies, storage) of its own for each person, closed afterwards."""
    opened: dict[str, Person] = {}
    try:
        for who in (CUSTOMER, MANAGER, AGENT):
            context = await live.context()
            opened[who] = Person(context, await context.new_page())
        yield opened
    finally:
        for person in opened.values():
            await person.context.close()


def ticket_status(page: Page) -> Locator:
    """The status pill in the ticket's own header (portal and desk)."""
    return page.locator("header:has(h1) [data-status]")


def current_step(page: Page) -> Locator:
    return page.get_by_role("list", name="Ticket progress").locator('[aria-current="step"]')


async def assert_accessible(page: Page, where: str) -> None:
    found = await axe_violations(page)
    print(f"axe [{where}]: {len(found)} violation(s)")
    for v in found:
        print(f"  {v['impact']}: {v['id']} - {v['help']} at {v['targets']}")
    assert serious(found) == [], f"axe found serious/critical violations on {where}"


class TestLanding:
    async def test_loads_with_the_network_cut_off(self, live: Live) -> None:
        context = await live.context()
        try:
            offsite = Offsite()
            await context.route("**/*", offsite.guard)
            page = await context.new_page()
            served: list[str] = []
            page.on("requestfinished", lambda request: served.append(request.url))
            response = await page.goto("/", wait_until="networkidle")
            assert response is not None and response.ok

            await expect(page.get_by_role("heading", level=1)).to_be_visible()
            await expect(
                page.get_by_role("banner").get_by_role("link", name="Sign in")
            ).to_be_visible()
            await expect(
                page.get_by_role("main").get_by_role("link", name="Sign in")
            ).to_be_visible()
            fonts: list[str] = await page.evaluate(
                """() => document.fonts.ready.then(() => [...document.fonts]
                    .filter((f) => f.status === "loaded").map((f) => f.family))"""
            )
            assert {"Inter", "Space Grotesk"} <= {f.strip("\"'") for f in fonts}, fonts
            assert any(url.endswith(".woff2") for url in served), served
            assert any("/assets/" in url and url.endswith(".js") for url in served), served
            assert offsite.attempted == [], f"requests to other hosts: {offsite.attempted}"
            assert await csp_violations(page) == []
        finally:
            await context.close()

    async def test_is_accessible_and_photogenic(self, live: Live) -> None:
        context = await live.context()
        try:
            page = await context.new_page()
            await page.goto("/", wait_until="networkidle")
            await expect(page.get_by_role("heading", level=1)).to_be_visible()
            await screenshot(page, "landing.png")
            await assert_accessible(page, "landing")
            assert await scroll_width(page) <= DESKTOP["width"]
        finally:
            await context.close()


async def test_first_ticket_end_to_end(live: Live, people: dict[str, Person]) -> None:
    customer, manager, agent = people[CUSTOMER].page, people[MANAGER].page, people[AGENT].page

    # 3. The customer signs in and lands in the portal.
    await sign_in(customer, CUSTOMER)
    await expect(customer).to_have_url(re.compile(r"/portal$"))

    # 4. A P2 ticket with an attachment; the file is uploaded with a progress bar.
    await customer.get_by_role("main").get_by_role("link", name="New ticket").click()
    await customer.get_by_label("Title").fill(TITLE)
    await customer.get_by_label("Description").fill(DESCRIPTION)
    await customer.get_by_label("Priority").select_option("P2")
    await customer.get_by_label("Service").select_option(label="VPN")
    await customer.get_by_label("Category").fill("Network")
    await customer.get_by_label("Attachments", exact=True).set_input_files(
        files=[{"name": LOG_FILE, "mimeType": "text/plain", "buffer": LOG}]
    )
    await expect(customer.get_by_role("list", name="Selected files")).to_contain_text(LOG_FILE)
    await customer.get_by_role("button", name="Create ticket").click()
    await expect(customer).to_have_url(re.compile(rf"/portal/tickets/{UUID_PATH}$"))
    ticket_id = customer.url.rsplit("/", 1)[1]
    shown = (await upload_progress(customer)).get(f"Upload of {LOG_FILE}")
    assert shown and all(0 <= pct <= 100 for pct in shown), shown

    # 5. ... and sees it: received, P2, with the attachment.
    await expect(customer.get_by_role("heading", level=1, name=TITLE)).to_be_visible()
    await expect(ticket_status(customer)).to_have_attribute("data-status", "NEW")
    await expect(current_step(customer)).to_contain_text("Received")
    await expect(customer.get_by_role("link", name=re.compile(LOG_FILE))).to_be_visible()
    async with await live.api(CUSTOMER) as api:
        created = (await api.get(f"/api/tickets/{ticket_id}")).json()
    assert created["priority"] == "P2" and created["category"] == "Network"
    assert [(a["file_name"], a["size_bytes"]) for a in created["attachments"]] == [
        (LOG_FILE, len(LOG))
    ]
    number = created["number"]
    link_name = f"#{number} {TITLE}"
    await customer.get_by_role("link", name="All tickets").click()
    await expect(customer.get_by_role("link", name=link_name)).to_be_visible()

    # 6. The manager signs in to the desk, finds it in the inbox and accepts it.
    await sign_in(manager, MANAGER)
    await expect(manager).to_have_url(re.compile(r"/desk(/inbox)?$"))
    await manager.goto("/desk/inbox")
    await expect(manager.get_by_role("link", name=link_name)).to_be_visible()
    for _, title, *_ in BACKGROUND:
        await expect(manager.get_by_role("link", name=re.compile(re.escape(title)))).to_be_visible()
    assert await scroll_width(manager) <= DESKTOP["width"]
    await screenshot(manager, "desk-inbox.png")
    await manager.get_by_role("link", name=link_name).click()
    await expect(ticket_status(manager)).to_have_attribute("data-status", "NEW")
    await manager.go_back()
    await manager.get_by_role("button", name=f"Accept #{number}").click()
    await expect(manager.get_by_role("link", name=link_name)).to_have_count(0)

    # 7. ... and assigns it to the agent.
    await manager.goto("/desk/tickets")
    await manager.get_by_role("link", name=link_name).click()
    await expect(ticket_status(manager)).to_have_attribute("data-status", "ACCEPTED")
    await manager.get_by_label("Assignee").select_option(label=AGENT_NAME)
    await manager.get_by_role("button", name="Assign").click()
    await expect(ticket_status(manager)).to_have_attribute("data-status", "ASSIGNED")

    # 8. The agent opens the ticket by its address (the SPA fallback answers the deep link),
    #    writes an internal note and a public reply.
    await sign_in(agent, AGENT)
    # Agents land on their "My open" view (managers on the acceptance inbox).
    await expect(agent).to_have_url(re.compile(r"/desk/views/[0-9a-f-]{36}$"))
    deep_link = await agent.goto(f"/desk/tickets/{ticket_id}")
    assert deep_link is not None and deep_link.status == 200
    assert deep_link.headers["content-type"].startswith("text/html")
    await expect(agent.get_by_role("heading", level=1, name=TITLE)).to_be_visible()
    await expect(ticket_status(agent)).to_have_attribute("data-status", "ASSIGNED")
    await agent.get_by_role("tab", name="Internal note").click()
    await agent.get_by_role("textbox", name="Internal note").fill(NOTE)
    await agent.get_by_role("button", name="Add internal note").click()
    await expect(
        agent.get_by_role("article", name=f"Internal note from {AGENT_NAME}")
    ).to_contain_text(NOTE)
    await agent.get_by_role("tab", name="Public reply").click()
    await agent.get_by_role("textbox", name="Public reply").fill(REPLY)
    await agent.get_by_role("button", name="Send public reply").click()
    await expect(agent.get_by_role("article", name=f"Message from {AGENT_NAME}")).to_contain_text(
        REPLY
    )

    # The customer sees the reply, never the note.
    await customer.goto(f"/portal/tickets/{ticket_id}")
    await expect(
        customer.get_by_role("article", name=f"Message from {AGENT_NAME}")
    ).to_contain_text(REPLY)
    assert NOTE not in await customer.locator("body").inner_text()
    assert "MTU mismatch" not in await customer.content()

    # 9. Waiting for the customer pauses the SLA; the customer's answer resumes the work.
    await (
        agent.get_by_role("group", name="Change status")
        .get_by_role("button", name="Wait for customer")
        .click()
    )
    await expect(ticket_status(agent)).to_have_attribute("data-status", "WAITING_CUSTOMER")
    await expect(agent.locator('[data-sla="paused"]')).to_contain_text("Resolution: Paused")
    await expect(agent.locator('[data-sla="met"]')).to_contain_text("First response: Met")

    await customer.reload()
    await expect(current_step(customer)).to_contain_text("Waiting for you")
    await customer.get_by_role("textbox", name="Your reply").fill(CUSTOMER_REPLY)
    await customer.get_by_role("button", name="Send reply").click()
    await expect(current_step(customer)).to_contain_text("Being worked on")
    await expect(
        customer.get_by_role("article", name="Message from Cody Customer").filter(
            has_text=CUSTOMER_REPLY
        )
    ).to_be_visible()

    await agent.reload()
    await expect(ticket_status(agent)).to_have_attribute("data-status", "IN_PROGRESS")
    await expect(agent.locator('[data-sla="running"]')).to_contain_text("Resolution:")
    await expect(
        agent.get_by_role("article", name="Message from Cody Customer").filter(
            has_text=CUSTOMER_REPLY
        )
    ).to_be_visible()
    assert await scroll_width(agent) <= DESKTOP["width"]
    await screenshot(agent, "desk-ticket.png")
    await assert_accessible(agent, "desk ticket page")

    # 10. The agent resolves with a resolution and a root cause; the manager closes.
    await (
        agent.get_by_role("group", name="Change status")
        .get_by_role("button", name="Resolve")
        .click()
    )
    dialog = agent.get_by_role("dialog")
    await dialog.get_by_role("textbox", name="Resolution").fill(RESOLUTION)
    await dialog.get_by_role("textbox", name="Root cause").fill(ROOT_CAUSE)
    await dialog.get_by_role("button", name="Resolve ticket").click()
    await expect(ticket_status(agent)).to_have_attribute("data-status", "RESOLVED")
    await expect(dialog).to_have_count(0)

    await customer.reload()
    await expect(current_step(customer)).to_contain_text("Resolved")
    await expect(customer.get_by_text(RESOLUTION)).to_be_visible()
    assert ROOT_CAUSE not in await customer.content()
    await screenshot(customer, "portal-ticket.png")
    await assert_accessible(customer, "portal ticket page")

    await manager.goto(f"/desk/tickets/{ticket_id}")
    await (
        manager.get_by_role("group", name="Change status")
        .get_by_role("button", name="Close ticket")
        .click()
    )
    await expect(ticket_status(manager)).to_have_attribute("data-status", "CLOSED")

    await customer.reload()
    await expect(ticket_status(customer)).to_have_attribute("data-status", "CLOSED")
    await expect(current_step(customer)).to_contain_text("Closed")

    await manager.goto("/desk/tickets")
    row = manager.get_by_role("row").filter(has=manager.get_by_role("link", name=link_name))
    await expect(row.locator("[data-status]")).to_have_attribute("data-status", "CLOSED")
    await expect(row).to_contain_text(AGENT_NAME)
    assert await scroll_width(manager) <= DESKTOP["width"]

    # The portal at phone width: no horizontal scroll, on the list and on the ticket.
    await customer.set_viewport_size(PHONE)
    assert await scroll_width(customer) <= PHONE["width"]
    await customer.goto("/portal")
    await expect(customer.get_by_role("link", name=link_name)).to_be_visible()
    assert await scroll_width(customer) <= PHONE["width"]

    for person in (customer, manager, agent):
        assert await csp_violations(person) == []

    # The audit trail has every step, by the right people, in order.
    async with await live.api(MANAGER) as api:
        trail = (await api.get(f"/api/internal/tickets/{ticket_id}/audit")).json()["items"]
    steps = [_step(entry) for entry in trail]
    expected = [
        ("ticket.created", "Cody Customer", None),
        ("attachment.uploaded", "Cody Customer", None),
        ("ticket.accepted", "Maya Manager", None),
        ("ticket.assigned", "Maya Manager", None),
        ("ticket.status_changed", "Maya Manager", "ACCEPTED -> ASSIGNED"),
        ("comment.created", AGENT_NAME, "internal"),
        ("comment.created", AGENT_NAME, "public"),
        ("ticket.status_changed", AGENT_NAME, "ASSIGNED -> WAITING_CUSTOMER"),
        ("comment.created", "Cody Customer", "public"),
        ("ticket.status_changed", None, "WAITING_CUSTOMER -> IN_PROGRESS"),
        ("ticket.status_changed", AGENT_NAME, "IN_PROGRESS -> RESOLVED"),
        ("ticket.status_changed", "Maya Manager", "RESOLVED -> CLOSED"),
    ]
    assert [step for step in steps if step in expected] == expected, steps


Step = tuple[str, str | None, str | None]


def _step(entry: dict[str, Any]) -> Step:
    """An audit entry as (action, actor, what changed) for the steps this test took."""
    old, new = entry["old_value"] or {}, entry["new_value"] or {}
    detail = None
    if entry["action"] == "ticket.status_changed":
        detail = f"{old.get('status')} -> {new.get('status')}"
    elif entry["action"] == "comment.created":
        detail = "internal" if new.get("is_internal") else "public"
    return entry["action"], entry["actor_name"], detail
