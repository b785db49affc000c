"""Two agents on one ticket, in two browsers: each sees the other (viewing, replying), a reply by
one appears on the other's page without a reload, and sending after someone else's newer reply
asks for confirmation first."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator

import pytest
from playwright.async_api import BrowserContext, Page, expect

from tests.browser_support import (
    Live,
    chromium,
    csp_violations,
    demo_database,
    live_server,
    require_built_ui,
    screenshot,
    sign_in,
)

ARUN = "agent@atum.test"  # Arun Agent
INES = "agent2@atum.test"  # Ines Agent
CUSTOMER = "user@acme.test"
MANAGER = "manager@atum.test"


@pytest.fixture(scope="module")
async def live(server_url: str, tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Live]:
    require_built_ui()
    data_dir = tmp_path_factory.mktemp("browser-live-data")
    async with (
        demo_database(server_url) as database_url,
        live_server(database_url, data_dir) as base_url,
        chromium() as browser,
    ):
        yield Live(base_url=base_url, browser=browser)


async def accepted_ticket(live: Live) -> str:
    async with await live.api(CUSTOMER) as customer:
        r = await customer.post(
            "/api/tickets",
            json={
                "title": "Scanner offline",
                "description": "Since this morning.",
                "priority": "P3",
            },
        )
        assert r.status_code == 201, r.text
        ticket_id = str(r.json()["id"])
    async with await live.api(MANAGER) as manager:
        r = await manager.post(f"/api/internal/tickets/{ticket_id}/accept", json={})
        assert r.status_code == 200, r.text
    return ticket_id


async def open_desk_ticket(live: Live, email: str, ticket_id: str) -> tuple[BrowserContext, Page]:
    context = await live.context()
    page = await context.new_page()
    await sign_in(page, email)
    await expect(page).to_have_url(re.compile(r"/desk"))
    await page.goto(f"/desk/tickets/{ticket_id}")
    await expect(page.get_by_role("heading", name="Scanner offline")).to_be_visible()
    return context, page


async def test_two_agents_see_each_other_and_each_others_replies(live: Live) -> None:
    ticket_id = await accepted_ticket(live)
    arun_context, arun = await open_desk_ticket(live, ARUN, ticket_id)
    ines_context, ines = await open_desk_ticket(live, INES, ticket_id)
    try:
        presence_a = arun.get_by_role("status").filter(has_text="Ines Agent is")
        await expect(presence_a).to_contain_text("Ines Agent is viewing", timeout=15_000)
        presence_b = ines.get_by_role("status").filter(has_text="Arun Agent is")
        await expect(presence_b).to_contain_text("Arun Agent is viewing", timeout=15_000)

        # Ines starts a reply before Arun's arrives.
        await ines.get_by_label("Public reply").fill("I can take this one.")
        # Arun writes: Ines sees him replying.
        await arun.get_by_label("Public reply").fill("Could you restart the scanner?")
        await expect(presence_b).to_contain_text("Arun Agent is replying…", timeout=5_000)
        await expect(presence_a).to_contain_text("Ines Agent is replying…", timeout=5_000)

        await arun.get_by_role("button", name="Send public reply").click()
        await expect(arun.get_by_text("Public reply sent")).to_be_visible()
        # On Ines's page, without a reload.
        thread = ines.get_by_role("list", name="Conversation")
        await expect(thread.get_by_text("Could you restart the scanner?")).to_be_visible(
            timeout=3_000
        )
        await expect(presence_b).to_contain_text("Arun Agent is viewing", timeout=5_000)

        # Ines sends her draft, written before Arun's reply: asked first.
        await ines.get_by_role("button", name="Send public reply").click()
        dialog = ines.get_by_role("dialog")
        await expect(dialog).to_contain_text("Arun Agent replied just now — send anyway?")
        await screenshot(ines, "desk-collision.png")
        await dialog.get_by_role("button", name="Go back").click()
        await expect(dialog).to_be_hidden()
        await expect(ines.get_by_label("Public reply")).to_have_value("I can take this one.")
        await ines.get_by_role("button", name="Send public reply").click()
        await ines.get_by_role("dialog").get_by_role("button", name="Send anyway").click()
        await expect(ines.get_by_text("Public reply sent")).to_be_visible()
        # Arun's page shows Ines's reply, again without a reload.
        await expect(
            arun.get_by_role("list", name="Conversation").get_by_text("I can take this one.")
        ).to_be_visible(timeout=3_000)
        assert await csp_violations(arun) == [] and await csp_violations(ines) == []
    finally:
        await arun_context.close()
        await ines_context.close()


async def test_the_portal_refreshes_and_never_shows_presence(live: Live) -> None:
    ticket_id = await accepted_ticket(live)
    context = await live.context()
    try:
        page = await context.new_page()
        await sign_in(page, CUSTOMER)
        await expect(page).to_have_url(re.compile(r"/portal"))
        await page.goto(f"/portal/tickets/{ticket_id}")
        await expect(page.get_by_role("heading", name="Scanner offline")).to_be_visible()
        async with await live.api(ARUN) as agent:
            r = await agent.post(
                f"/api/internal/tickets/{ticket_id}/presence", json={"state": "replying"}
            )
            assert r.status_code == 204
            r = await agent.post(
                f"/api/internal/tickets/{ticket_id}/comments",
                json={"body": "Secret internal remark", "is_internal": True},
            )
            assert r.status_code == 201
            r = await agent.post(
                f"/api/internal/tickets/{ticket_id}/comments",
                json={"body": "We are looking into it.", "is_internal": False},
            )
            assert r.status_code == 201
        await expect(page.get_by_text("We are looking into it.")).to_be_visible(timeout=3_000)
        await expect(page.get_by_text("Secret internal remark")).to_have_count(0)
        await expect(page.get_by_text("is replying")).to_have_count(0)
    finally:
        await context.close()
