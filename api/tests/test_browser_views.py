"""The agent's workspace in a real browser: agents land on "My open", the sidebar shows the saved
views with their counts, the ticket table fits a 1024 x 768 screen without a hidden horizontal
scroll, and "?" lists the keyboard shortcuts."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from playwright.async_api import ViewportSize, expect

from app.services.views import MY_OPEN
from tests.browser_support import (
    Live,
    axe_violations,
    chromium,
    demo_database,
    live_server,
    require_built_ui,
    screenshot,
    serious,
    sign_in,
)

SMALL_LAPTOP: ViewportSize = {"width": 1024, "height": 768}
AGENT, MANAGER, CUSTOMER = "agent@atum.test", "manager@atum.test", "user@acme.test"
TITLES = [
    "Shared drive mapping lost after the password change (finance laptops)",
    "Badge reader at the loading dock rejects every card since Monday",
    "Label printer in the warehouse prints blank labels",
]


@pytest.fixture(scope="module")
async def live(server_url: str, tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Live]:
    require_built_ui()
    data_dir = tmp_path_factory.mktemp("browser-views")
    async with (
        demo_database(server_url) as database_url,
        live_server(database_url, data_dir) as base_url,
        chromium() as browser,
    ):
        live = Live(base_url=base_url, browser=browser)
        await _tickets_for_the_agent(live)
        yield live


async def _tickets_for_the_agent(live: Live) -> None:
    """Three tickets opened by a customer, accepted by the manager and assigned to the agent."""
    async with (
        await live.api(CUSTOMER) as customer,
        await live.api(MANAGER) as manager,
        await live.api(AGENT) as agent,
    ):
        me = (await agent.get("/api/me")).json()["id"]
        for title in TITLES:
            r = await customer.post(
                "/api/tickets", json={"title": title, "description": "Details inside."}
            )
            assert r.status_code == 201, r.text
            ticket = r.json()["id"]
            r = await manager.post(f"/api/internal/tickets/{ticket}/accept", json={})
            assert r.status_code == 200, r.text
            r = await manager.post(
                f"/api/internal/tickets/{ticket}/assign", json={"assignee_id": me}
            )
            assert r.status_code == 200, r.text


async def test_agent_lands_on_my_open_and_the_table_fits_1024(live: Live) -> None:
    context = await live.context(viewport=SMALL_LAPTOP)
    try:
        page = await context.new_page()
        await sign_in(page, AGENT)
        await page.wait_for_url(f"**/desk/views/{MY_OPEN}")
        await expect(page.get_by_role("heading", level=1, name="My open")).to_be_visible()
        for title in TITLES:
            await expect(page.get_by_role("link", name=title)).to_be_visible()

        views = page.get_by_role("navigation", name="Views")
        async with await live.api(AGENT) as agent:
            listed = (await agent.get("/api/internal/views")).json()["items"]
        count = next(v["count"] for v in listed if v["id"] == str(MY_OPEN))
        assert count >= len(TITLES)
        my_open = views.get_by_role("link", name="My open")
        await expect(my_open).to_be_visible()
        await expect(my_open.get_by_label(f"{count} tickets")).to_be_visible()
        await expect(views.get_by_role("link", name="Breaching soon")).to_be_visible()

        await screenshot(page, "desk-my-open-1024.png")
        # Every column, SLA and Updated included, inside the table's box and the viewport.
        overflow = await page.evaluate(
            """() => {
                const wrap = document.querySelector(".atum-table-wrap");
                return wrap.scrollWidth - wrap.clientWidth;
            }"""
        )
        widths = await page.evaluate(
            """() => [...document.querySelectorAll(".atum-table thead th")].map(
                (th) => `${th.textContent}:${Math.round(th.getBoundingClientRect().width)}`)"""
        )
        assert overflow <= 0, f"the table scrolls sideways by {overflow}px at 1024: {widths}"
        for header in ("SLA", "Assignee Updated"):
            box = await page.get_by_role("columnheader", name=header).bounding_box()
            assert box is not None and box["x"] + box["width"] <= SMALL_LAPTOP["width"], header
        assert serious(await axe_violations(page)) == []

        # Bulk: two tickets selected, one action, a result per ticket.
        for title in TITLES[:2]:
            row = page.get_by_role("row").filter(has=page.get_by_role("link", name=title))
            await row.get_by_role("checkbox").check()
        bar = page.get_by_role("region", name="Bulk actions")
        await expect(bar.get_by_text("2 selected")).to_be_visible()
        await bar.get_by_label("Action").select_option("priority")
        await bar.get_by_label("Priority").select_option("P2")
        await bar.get_by_role("button", name="Apply").click()
        await expect(bar.get_by_text("2 done.")).to_be_visible()
        await bar.get_by_role("button", name="Clear selection").click()
        await expect(bar).to_be_hidden()

        # The keyboard: j moves the cursor, ? lists the shortcuts, Escape closes the list.
        await page.keyboard.press("j")
        await expect(page.locator("tr.desk-row--active")).to_have_count(1)
        await page.keyboard.press("?")
        dialog = page.get_by_role("dialog", name="Keyboard shortcuts")
        await expect(dialog).to_be_visible()
        await expect(dialog.get_by_role("rowheader", name="j")).to_be_visible()
        await page.keyboard.press("Escape")
        await expect(dialog).to_be_hidden()
        await page.keyboard.press("Enter")
        await page.wait_for_url("**/desk/tickets/*")
    finally:
        await context.close()


async def test_managers_keep_the_inbox(live: Live) -> None:
    context = await live.context(viewport=SMALL_LAPTOP)
    try:
        page = await context.new_page()
        await sign_in(page, MANAGER)
        await page.wait_for_url("**/desk/inbox")
    finally:
        await context.close()
