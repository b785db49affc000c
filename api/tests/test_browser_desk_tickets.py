"""The desk's "New ticket" (a phone call recorded for a customer), the requester card, links and
the merge of a duplicate, in a real browser against the demo data."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from playwright.async_api import expect

from tests.browser_support import (
    Live,
    axe_violations,
    chromium,
    demo_database,
    live_server,
    require_built_ui,
    serious,
    sign_in,
    ticket_url,
)

MANAGER, CUSTOMER = "manager@atum.test", "user@acme.test"


@pytest.fixture(scope="module")
async def live(server_url: str, tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Live]:
    require_built_ui()
    data_dir = tmp_path_factory.mktemp("browser-desk-tickets")
    async with (
        demo_database(server_url) as database_url,
        live_server(database_url, data_dir) as base_url,
        chromium() as browser,
    ):
        yield Live(base_url=base_url, browser=browser)


async def test_record_a_phone_ticket_link_and_merge_it(live: Live) -> None:
    async with await live.api(CUSTOMER) as customer:
        r = await customer.post(
            "/api/tickets",
            json={"title": "Plotter on floor 3 is offline", "description": "Since this morning."},
        )
        assert r.status_code == 201, r.text
        original = r.json()

    context = await live.context()
    try:
        page = await context.new_page()
        await sign_in(page, MANAGER)
        await page.wait_for_url("**/desk/**")
        await page.goto("/desk/tickets")
        await page.get_by_role("link", name="New ticket").click()
        await page.wait_for_url("**/desk/tickets/new")
        await expect(page.get_by_role("heading", level=1, name="New ticket")).to_be_visible()

        await page.get_by_label("Customer", exact=True).fill(CUSTOMER)
        matches = page.get_by_role("list", name="Matching customers")
        await matches.get_by_role("button").first.click()
        await page.get_by_label("Title").fill("Plotter offline (phoned in)")
        await page.get_by_label("Description").fill("Called at 9:10: the plotter on floor 3.")
        await page.get_by_label("Accept now").check()
        assert serious(await axe_violations(page)) == []
        await page.get_by_role("button", name="Create ticket").click()
        await page.wait_for_url(ticket_url("/desk/tickets"))
        await expect(
            page.get_by_role("heading", level=1, name="Plotter offline (phoned in)")
        ).to_be_visible()

        requester = page.get_by_role("region", name="Requester")
        await expect(requester.get_by_role("link", name=CUSTOMER)).to_be_visible()
        others = requester.get_by_role("list", name="Other open tickets of the requester")
        await expect(others.get_by_role("link", name=original["title"])).to_be_visible()

        # Link the customer's own ticket, found by its number.
        related = page.get_by_role("region", name="Related tickets")
        await related.get_by_role("button", name="Link a ticket").click()
        await related.get_by_label("Link to").fill(str(original["number"]))
        await (
            related.get_by_role("list", name="Matching tickets").get_by_role("button").first.click()
        )
        linked = related.get_by_role("list", name="Linked tickets")
        await expect(linked.get_by_role("link", name=original["title"])).to_be_visible()
        assert serious(await axe_violations(page)) == []

        # Merge the phone ticket into the customer's: it opens the one that carries on.
        await related.get_by_role("button", name="Merge into…").click()
        dialog = page.get_by_role("dialog")
        await dialog.get_by_label("Merge into").fill(str(original["number"]))
        await (
            dialog.get_by_role("list", name="Matching tickets").get_by_role("button").first.click()
        )
        await dialog.get_by_role("button", name="Merge", exact=True).click()
        await page.wait_for_url(f"**/desk/tickets/{original['id']}")
        await expect(page.get_by_text("Merged from #", exact=False)).to_be_visible()
    finally:
        await context.close()
