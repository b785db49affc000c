"""Customer satisfaction in a real browser (the built web/dist served by uvicorn, the worker
delivering to the dev mail sink): a ticket is resolved, the customer's mail carries the three
rating links, the "bad" link opens the page with "Bad" pre-selected (opening it records nothing),
the customer adds a comment and sends it, the page thanks until the expiry date, the desk shows
the rating on the ticket and the manager who accepted it is mailed."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from playwright.async_api import expect

from tests.browser_support import (
    Live,
    axe_violations,
    chromium,
    demo_database,
    live_server,
    mail_worker,
    plain_body,
    require_built_ui,
    serious,
    sign_in,
    wait_for_mail,
)

expect.set_options(timeout=10_000)

CUSTOMER = "user@acme.test"
MANAGER = "manager@atum.test"
AGENT = "agent@atum.test"


@dataclass
class Stack:
    live: Live
    mail: Path


@pytest.fixture(scope="module")
async def stack(server_url: str, tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Stack]:
    require_built_ui()
    data_dir = tmp_path_factory.mktemp("browser-csat-data")
    async with (
        demo_database(server_url) as database_url,
        live_server(database_url, data_dir) as base_url,
        mail_worker(database_url, data_dir, base_url) as mail_dir,
        chromium() as browser,
    ):
        yield Stack(Live(base_url=base_url, browser=browser), mail_dir)


async def resolved_ticket(live: Live, title: str) -> tuple[str, int]:
    """A ticket of the customer's, accepted by the manager, assigned and resolved by the agent
    (through the API); its id and number."""
    customer, manager, agent = [await live.api(e) for e in (CUSTOMER, MANAGER, AGENT)]
    async with customer as c, manager as m, agent as a:
        created = await c.post("/api/tickets", json={"title": title, "description": "Again."})
        assert created.status_code == 201, created.text
        ticket = created.json()
        url = f"/api/internal/tickets/{ticket['id']}"
        assert (await m.post(f"{url}/accept", json={})).status_code == 200
        me = (await a.get("/api/me")).json()
        assigned = await m.post(f"{url}/assign", json={"assignee_id": me["id"]})
        assert assigned.status_code == 200, assigned.text
        resolved = await a.post(
            f"{url}/status",
            json={"status": "RESOLVED", "resolution": "New VPN profile.", "root_cause": "Cert"},
        )
        assert resolved.status_code == 200, resolved.text
        return str(ticket["id"]), int(ticket["number"])


async def test_the_mailed_bad_link_is_sent_from_its_page_and_the_desk_shows_it(
    stack: Stack,
) -> None:
    title = "VPN drops after lunch"
    ticket_id, number = await resolved_ticket(stack.live, title)
    mail = await wait_for_mail(stack.mail, CUSTOMER, f"#{number}] {title} — resolved")
    text = plain_body(mail)
    assert "How did we do?" in text
    links = re.findall(r"(https?://\S+/csat/[A-Za-z0-9_-]+\?rating=(\w+))", text)
    found = {rating: url for url, rating in links}
    assert set(found) == {"good", "okay", "bad"}, text
    assert found["bad"].startswith(stack.live.base_url)

    guest_ctx, desk_ctx = await stack.live.context(), await stack.live.context()
    try:
        guest = await guest_ctx.new_page()
        # A scanner (or the customer) opening the other links records nothing.
        for rating in ("good", "okay"):
            await guest.goto(found[rating])
            await expect(guest.get_by_role("radio", name=rating.title())).to_be_checked()
        await guest.goto(found["bad"])
        await expect(guest.get_by_text(f"Ticket #{number}: {title}")).to_be_visible()
        await expect(guest.get_by_role("radio", name="Bad")).to_be_checked()
        await expect(guest.get_by_role("radio", name="Good")).not_to_be_checked()
        found_axe = await axe_violations(guest)
        assert serious(found_axe) == [], found_axe

        desk = await desk_ctx.new_page()
        await sign_in(desk, AGENT)
        await desk.wait_for_url(re.compile(r"/desk/"))
        await desk.goto(f"/desk/tickets/{ticket_id}")
        await expect(desk.get_by_role("heading", name=title)).to_be_visible()
        await expect(desk.get_by_role("heading", name="Customer rating")).to_have_count(0)

        await guest.get_by_label("Comment (optional)").fill("Took three days.")
        await guest.get_by_role("button", name="Send rating").click()
        await expect(guest.get_by_role("heading", level=1, name="Thank you")).to_be_visible()
        await expect(guest.get_by_role("status")).to_contain_text("You can change it until")

        await desk.reload()
        card = desk.get_by_role("region", name="Customer rating")
        await expect(card).to_be_visible()
        await expect(card.get_by_text("Bad", exact=True)).to_be_visible()
        await expect(card.get_by_text("Took three days.")).to_be_visible()

        alarm = await wait_for_mail(stack.mail, MANAGER, "rated it bad")
        assert "Took three days." in plain_body(alarm)
    finally:
        for context in (guest_ctx, desk_ctx):
            await context.close()
