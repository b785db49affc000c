"""A morning at the desk in a real browser: sixty kiosk tickets came in overnight; the agent saves
the filter as a view (its count in the sidebar), selects every matching ticket, resolves them in
one bulk action with a result per ticket, and the view's count drops to zero; then one ticket's
priority is changed in place. (Canned replies and macros: test_browser_workspace.py; phone
tickets and merges: test_browser_desk_tickets.py; live updates: test_browser_live.py.)"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from playwright.async_api import expect

from tests.browser_support import (
    Live,
    chromium,
    demo_database,
    live_server,
    require_built_ui,
    screenshot,
    sign_in,
)

AGENT, MANAGER, CUSTOMER = "agent@atum.test", "manager@atum.test", "user@acme.test"
KIOSKS = 60


@pytest.fixture(scope="module")
async def live(server_url: str, tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Live]:
    require_built_ui()
    data_dir = tmp_path_factory.mktemp("browser-day")
    async with (
        demo_database(server_url) as database_url,
        live_server(
            database_url, data_dir, env_extra={"ATUM_TICKET_CREATE_PER_HOUR": "1000"}
        ) as base_url,
        chromium() as browser,
    ):
        live = Live(base_url=base_url, browser=browser)
        await _overnight(live)
        yield live


async def _overnight(live: Live) -> None:
    """KIOSKS tickets from a customer, accepted, assigned to the agent and started."""
    async with (
        await live.api(CUSTOMER) as customer,
        await live.api(MANAGER) as manager,
        await live.api(AGENT) as agent,
    ):
        me = (await agent.get("/api/me")).json()["id"]
        for n in range(1, KIOSKS + 1):
            r = await customer.post(
                "/api/tickets",
                json={"title": f"Kiosk {n} in the lobby shows a frozen screen", "description": "."},
            )
            assert r.status_code == 201, r.text
            ticket = r.json()["id"]
            for client, path, body in (
                (manager, "accept", {}),
                (manager, "assign", {"assignee_id": me}),
                (agent, "status", {"status": "IN_PROGRESS"}),
            ):
                r = await client.post(f"/api/internal/tickets/{ticket}/{path}", json=body)
                assert r.status_code == 200, r.text


async def test_a_saved_view_bulk_resolve_and_an_edit_in_place(live: Live) -> None:
    context = await live.context()
    try:
        page = await context.new_page()
        await sign_in(page, AGENT)
        await page.wait_for_url("**/desk/views/**")
        await page.goto("/desk/tickets")
        filters = page.get_by_role("search", name="Filter tickets")
        # The search box applies what was typed after a short pause: save once the list has
        # been read with both filters.
        async with page.expect_response(
            lambda r: (
                "/api/internal/tickets?" in r.url
                and "q=kiosk" in r.url
                and "status=IN_PROGRESS" in r.url
            )
        ):
            await filters.get_by_label("Search").fill("kiosk")
            await filters.get_by_label("Status").select_option("IN_PROGRESS")
        await expect(
            page.get_by_role("link", name="Kiosk 60 in the lobby shows a frozen screen")
        ).to_be_visible()

        await page.get_by_role("button", name="Save view").click()
        dialog = page.get_by_role("dialog", name="Save these filters as a view")
        await dialog.get_by_label("Name").fill("Lobby kiosks")
        await dialog.get_by_role("button", name="Save view").click()
        await page.wait_for_url("**/desk/views/**")
        await expect(page.get_by_role("heading", level=1, name="Lobby kiosks")).to_be_visible()
        in_sidebar = page.get_by_role("navigation", name="Views").get_by_role(
            "link", name="Lobby kiosks"
        )
        await expect(in_sidebar.get_by_label(f"{KIOSKS} tickets")).to_be_visible()
        await screenshot(page, "desk-saved-view.png")

        # Every matching ticket (more than a page), one action, a result per ticket.
        await page.get_by_label("Select every ticket shown").check()
        await page.get_by_role("button", name=f"Select all {KIOSKS} matching").click()
        bar = page.get_by_role("region", name="Bulk actions")
        await expect(bar.get_by_text(f"All {KIOSKS} matching")).to_be_visible()
        await bar.get_by_label("Action").select_option("status")
        await bar.get_by_label("New status").select_option("RESOLVED")
        apply = bar.get_by_role("button", name="Apply")
        await expect(apply).to_be_disabled()
        await bar.get_by_label("Resolution").fill("The kiosk software was updated overnight.")
        await bar.get_by_label("Root cause").fill("A display driver leak in the kiosk image.")
        await apply.click()
        await expect(bar.get_by_text(f"{KIOSKS} done.")).to_be_visible(timeout=30_000)
        # Nothing left in the view: no count beside its name.
        await expect(in_sidebar).to_have_accessible_name("Lobby kiosks")

        async with await live.api(AGENT) as agent:
            listed = await agent.get(
                "/api/internal/tickets", params={"q": "kiosk", "status": "RESOLVED", "limit": 100}
            )
        resolved = listed.json()["items"]
        assert len(resolved) == KIOSKS
        assert {t["status"] for t in resolved} == {"RESOLVED"}

        # Edit in place: the priority of one ticket, from its page.
        await page.goto(f"/desk/tickets/{resolved[0]['id']}")
        fields = page.get_by_role("region", name="Classification")
        await fields.get_by_label("Priority").select_option("P1")
        await expect(page.get_by_text("Ticket updated")).to_be_visible()
        async with await live.api(AGENT) as agent:
            ticket = (await agent.get(f"/api/internal/tickets/{resolved[0]['id']}")).json()
            audit = (await agent.get(f"/api/internal/tickets/{resolved[0]['id']}/audit")).json()
        assert ticket["priority"] == "P1"
        assert "ticket.updated" in [e["action"] for e in audit["items"]]
    finally:
        await context.close()
