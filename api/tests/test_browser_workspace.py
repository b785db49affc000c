"""Canned replies and macros in a real browser (Debian's chromium, the built web/dist served by
uvicorn): an agent saves a reply with placeholders on "Replies & macros", inserts it with "/" in a
ticket's composer (filled in by the server for that ticket), sends it, then applies a macro from
the ticket page; a macro that is refused changes nothing and says which action was refused."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from typing import Any

import pytest
from playwright.async_api import Page, expect

from tests.browser_support import (
    Live,
    axe_violations,
    chromium,
    demo_database,
    live_server,
    require_built_ui,
    serious,
    sign_in,
)

expect.set_options(timeout=10_000)

AGENT = "agent@atum.test"
WORKABLE = ("ACCEPTED", "ASSIGNED", "IN_PROGRESS", "WAITING_CUSTOMER")


@pytest.fixture(scope="module")
async def live(server_url: str, tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Live]:
    require_built_ui()
    data_dir = tmp_path_factory.mktemp("browser-workspace-data")
    async with (
        demo_database(server_url) as database_url,
        live_server(database_url, data_dir) as base_url,
        chromium() as browser,
    ):
        yield Live(base_url=base_url, browser=browser)


async def workable_ticket(page: Page) -> dict[str, Any]:
    """An accepted, open ticket of the demo data (the desk may reply to it)."""
    query = "&".join(f"status={s}" for s in WORKABLE)
    answer = await page.request.get(f"/api/internal/tickets?{query}")
    assert answer.ok, await answer.text()
    items: list[dict[str, Any]] = (await answer.json())["items"]
    assert items, "the demo data has no accepted open ticket"
    return items[0]


async def test_a_canned_reply_is_filled_in_for_the_ticket_and_a_macro_applied(
    live: Live,
) -> None:
    context = await live.context()
    try:
        page = await context.new_page()
        await sign_in(page, AGENT)
        await expect(page).to_have_url(re.compile(r"/desk"))
        await page.get_by_role("link", name="Replies & macros").click()
        await expect(page.get_by_role("heading", level=1, name="Replies & macros")).to_be_visible()

        await page.get_by_role("button", name="New canned reply").click()
        dialog = page.get_by_role("dialog", name="New canned reply")
        await dialog.get_by_label("Title").fill("Looking into it")
        await dialog.get_by_label("Text (Markdown)").fill(
            "Hello {{ customer.first_name }}, ticket #{{ ticket.number }} is with me. "
            "{{ agent.name }}"
        )
        await dialog.get_by_role("button", name="Save").click()
        await expect(dialog).to_be_hidden()
        replies = page.get_by_role("list", name="Canned replies")
        await expect(replies.get_by_text("Looking into it")).to_be_visible()
        assert serious(await axe_violations(page)) == []

        # A bad placeholder is refused with the server's message, nothing is saved.
        await page.get_by_role("button", name="New canned reply").click()
        dialog = page.get_by_role("dialog", name="New canned reply")
        await dialog.get_by_label("Title").fill("Broken")
        await dialog.get_by_label("Text (Markdown)").fill("{{ ''.__class__ }}")
        await dialog.get_by_role("button", name="Save").click()
        await expect(dialog.get_by_text(re.compile("placeholder"))).to_be_visible()
        await dialog.get_by_role("button", name="Cancel").click()

        ticket = await workable_ticket(page)
        creator = (ticket.get("created_by") or {}).get("name", "")
        await page.goto(f"/desk/tickets/{ticket['id']}")
        box = page.get_by_label("Public reply")
        await expect(box).to_be_visible()
        await box.click()
        await page.keyboard.type("/")
        search = page.get_by_role("combobox", name="Search canned replies")
        await expect(search).to_be_focused()
        await search.fill("Looking")
        await expect(page.get_by_role("option", name=re.compile("Looking into it"))).to_be_visible()
        await page.keyboard.press("Enter")
        filled = f"Hello {creator.split(' ')[0]}, ticket #{ticket['number']} is with me. Arun Agent"
        await expect(box).to_have_value(filled)
        await page.get_by_role("button", name="Send public reply").click()
        await expect(page.get_by_text(filled).first).to_be_visible()

        # A macro that cannot be applied (CLOSED is not reachable from here) changes nothing.
        made = await page.request.post(
            "/api/internal/macros",
            data={
                "name": "Note and close",
                "actions": [
                    {"type": "comment", "body": "Closing now.", "is_internal": True},
                    {"type": "status", "status": "CLOSED"},
                ],
            },
            headers={"X-CSRF-Token": await csrf(page)},
        )
        assert made.status == 201, await made.text()
        await page.get_by_role("button", name="Macros").click()
        await page.get_by_role("menuitem", name=re.compile("Note and close")).click()
        await expect(
            page.get_by_text(re.compile(r"nothing was changed.*Action 2 \(status\)"))
        ).to_be_visible()
        await expect(page.get_by_text("Closing now.")).to_have_count(0)
    finally:
        await context.close()


async def csrf(page: Page) -> str:
    cookies = await page.context.cookies()
    return next(c["value"] for c in cookies if c["name"].endswith("atum_csrf"))
