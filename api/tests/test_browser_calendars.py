"""Business-hours calendars in a real browser (the built web/dist served by uvicorn): an admin
creates a calendar on /desk/admin/calendars from the office-hours preset, imports Germany's
2026 holidays, and the week preview of Christmas week shades Monday 09:00-17:00 and shows
Friday 25 December closed with its label; the stored calendar holds what the page showed. A
calendar an SLA policy uses cannot be deleted, and the page says why. The page passes axe-core."""

from __future__ import annotations

import re
import uuid
from collections.abc import AsyncIterator

import pytest
from playwright.async_api import Locator, Page, expect

from tests.browser_support import (
    Live,
    axe_violations,
    chromium,
    csp_violations,
    demo_database,
    live_server,
    require_built_ui,
    serious,
    sign_in,
)

expect.set_options(timeout=10_000)

ADMIN = "admin@atum.test"
DASH = "\N{EN DASH}"
CHRISTMAS_WEEK = "2026-12-21"


@pytest.fixture(scope="module")
async def live(server_url: str, tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Live]:
    require_built_ui()
    data_dir = tmp_path_factory.mktemp("browser-calendars-data")
    async with (
        demo_database(server_url) as database_url,
        live_server(database_url, data_dir) as base_url,
        chromium() as browser,
    ):
        yield Live(base_url=base_url, browser=browser)


def day(page: Page, date: str) -> Locator:
    return page.locator(f'.calendar-preview__day[data-date="{date}"]')


async def test_an_admin_builds_a_calendar_imports_holidays_and_previews_a_week(
    live: Live,
) -> None:
    name = f"Berlin office {uuid.uuid4().hex[:6]}"
    context = await live.context()
    try:
        page = await context.new_page()
        await sign_in(page, ADMIN)
        await page.wait_for_url(re.compile(r"/desk/"))
        await page.goto("/desk/admin/sla")
        await (
            page.get_by_role("navigation", name="Administration")
            .get_by_role("link", name="Business hours")
            .click()
        )
        await page.wait_for_url(re.compile(r"/desk/admin/calendars$"))

        await page.get_by_role("button", name="New calendar").click()
        await page.get_by_label("Name").fill(name)
        await page.get_by_label("Time zone").select_option("Europe/Berlin")
        await page.get_by_role("button", name="24/7").click()
        await page.get_by_role("button", name=f"Mon{DASH}Fri 09{DASH}17").click()
        await expect(page.get_by_label("Saturday window 1 start")).to_have_count(0)
        await page.get_by_role("button", name="Create calendar").click()
        await expect(page.get_by_role("heading", name=f"Edit {name}")).to_be_visible()

        await page.get_by_label("Country").fill("DE")
        await page.get_by_label("Years").fill("2026")
        await page.get_by_role("button", name="Import holidays").click()
        result = page.get_by_role("status").filter(has_text="already listed")
        await expect(result).to_be_visible()
        status = await result.inner_text()
        assert re.search(r"Added \d+ closed days; 0 already listed\.", status), status

        await page.get_by_label("Week of", exact=True).fill(CHRISTMAS_WEEK)
        preview = page.get_by_role("list", name=f"Open hours in the week of {CHRISTMAS_WEEK}")
        await expect(preview).to_be_visible()
        monday = day(page, CHRISTMAS_WEEK).locator(".calendar-preview__open")
        await expect(monday).to_have_count(1)
        await expect(monday).to_have_attribute("data-start", "540")
        await expect(monday).to_have_attribute("data-end", "1020")
        top, height = await monday.evaluate("e => [e.style.top, e.style.height]")
        assert (top, round(float(height.rstrip("%")), 2)) == ("37.5%", 33.33)
        shaded = await monday.bounding_box()
        bar = await day(page, CHRISTMAS_WEEK).locator(".calendar-preview__bar").bounding_box()
        assert shaded is not None and bar is not None
        assert abs((shaded["y"] - bar["y"]) / bar["height"] - 0.375) < 0.02
        assert abs(shaded["height"] / bar["height"] - 1 / 3) < 0.02
        await expect(day(page, CHRISTMAS_WEEK)).to_contain_text(f"09:00{DASH}17:00")

        christmas = day(page, "2026-12-25")
        await expect(christmas).to_contain_text("Christmas Day")
        await expect(christmas).to_contain_text("Closed")
        await expect(christmas.locator(".calendar-preview__open")).to_have_count(0)
        await expect(day(page, "2026-12-24").locator(".calendar-preview__open")).to_have_count(1)
        await expect(day(page, "2026-12-26")).to_contain_text("Second Day of Christmas")

        found = await axe_violations(page)
        assert serious(found) == [], found
        assert await csp_violations(page) == []

        async with await live.api(ADMIN) as api:
            listed = (await api.get("/api/admin/calendars", params={"q": name})).json()["items"]
            assert len(listed) == 1
            stored = listed[0]
            assert stored["timezone"] == "Europe/Berlin"
            assert len(stored["windows"]) == 5
            by_date = {e["date"]: e for e in stored["exceptions"]}
            assert by_date["2026-12-25"]["closed"] is True
            assert by_date["2026-12-25"]["name"] == "Christmas Day"
            assert "2026-12-26" in by_date

            # In use by a policy: the delete dialog shows the refusal.
            policies = (await api.get("/api/sla")).json()["items"]
            policy = next(p for p in policies if p["org_id"] is None and p["priority"] == "P4")
            used = await api.patch(f"/api/sla/{policy['id']}", json={"calendar_id": stored["id"]})
            assert used.status_code == 200, used.text
        try:
            await page.get_by_role("button", name="Back to calendars").click()
            await page.get_by_role("button", name=f"Delete {name}").click()
            dialog = page.get_by_role("dialog", name=f"Delete {name}?")
            await dialog.get_by_role("button", name="Delete calendar").click()
            # The policy's running clocks (demo tickets) moved onto the calendar too (R8).
            await expect(dialog.get_by_role("alert")).to_have_text(
                re.compile(
                    r"^The calendar is in use by SLA policies P4 \(default\)"
                    r"(; \d+ tickets? with a running SLA clock)?$"
                )
            )
        finally:
            async with await live.api(ADMIN) as api:
                await api.patch(f"/api/sla/{policy['id']}", json={"calendar_id": None})
    finally:
        await context.close()
