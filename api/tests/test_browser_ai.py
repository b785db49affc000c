"""The desk's AI suggestions in a real browser (Debian's chromium, the built web/dist served by
uvicorn), with the local engine (all-MiniLM-L6-v2 in-process, the default when the model package
is installed): VPN tickets resolved through the API are the history, a knowledge-base article
written through the API is the knowledge; the AI jobs run in this process against the server's
database, as the worker runs them; the agent then sees, on the new ticket's page, a category
chosen by the nearest resolved tickets and saying so, why (those tickets, the closest article),
and the article's passage rendered from Markdown with its title linking to the article."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import pytest
from playwright.async_api import expect
from sqlalchemy.ext.asyncio import create_async_engine

from app.ai import jobs as ai_jobs
from app.ai.choice import configured_engine_name
from app.config import get_settings
from app.db.embedded import to_async_url
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
from tests.test_browser import AGENT, MANAGER, assert_accessible

expect.set_options(timeout=10_000)

CUSTOMER = "user@acme.test"  # Cody Customer, Acme Corp
CATEGORY = "Network"

ARTICLE_TITLE = "VPN disconnects after about an hour"
BOLD = "renew the VPN certificate"
CODE = "atum-vpn --renew"
ARTICLE_BODY = (
    "When the VPN connection drops after about an hour, the client usually failed to "
    f"**{BOLD}** in the background.\n\n"
    "1. Open the VPN client and sign out.\n"
    f"2. Run `{CODE}` in a terminal, or choose *Renew certificate* in the client.\n"
    "3. Sign in again and keep the client open for a minute.\n\n"
    "If it still drops every hour, note the time of the last disconnect in the ticket."
)

# (customer, title, description, resolution): earlier tickets about the same problem, resolved.
HISTORY = [
    (
        "user@globex.test",
        "VPN drops after an hour when working from home",
        "Every day the VPN connection drops after about an hour and I have to reconnect. "
        "Video calls freeze each time it happens.",
        "The VPN certificate had not been renewed; after renewing it the tunnel stays up.",
    ),
    (
        "tom.becker@initech.example",
        "VPN tunnel disconnects every 60 minutes",
        "Our laptops lose the VPN tunnel once an hour, always about sixty minutes after "
        "connecting. Reconnecting works until the next hour.",
        "Renewed the client certificates of the affected laptops; no more hourly drops.",
    ),
    (
        "user@acme.test",
        "Remote access VPN keeps disconnecting hourly",
        "The remote access VPN disconnects roughly every hour since last week, on Wi-Fi and "
        "on cable alike.",
        "Certificate renewal in the VPN client fixed it; the connection is stable since.",
    ),
]
ROOT_CAUSE = "Expired VPN client certificate: the gateway dropped the session at re-keying."

TITLE = "VPN keeps dropping every hour"
DESCRIPTION = (
    "Since Monday my VPN connection keeps dropping every hour while I work from home. I can "
    "reconnect, but it drops again about an hour later and my calls are cut off."
)


@dataclass
class Stack:
    live: Live
    database_url: str


@pytest.fixture(scope="module")
async def stack(server_url: str, tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Stack]:
    require_built_ui()
    data_dir = tmp_path_factory.mktemp("browser-ai-data")
    async with (
        demo_database(server_url) as database_url,
        live_server(database_url, data_dir) as base_url,
        chromium() as browser,
    ):
        yield Stack(Live(base_url=base_url, browser=browser), database_url)


async def run_ai_jobs(database_url: str) -> int:
    """What the worker's AI task does (app/ai/jobs.py ``AiRunner``), with this host's default
    engine, against the live server's database."""
    settings = get_settings()
    assert configured_engine_name(settings) == "local", "the model package is not installed"
    engine = create_async_engine(to_async_url(database_url))
    try:
        return await ai_jobs.process_due(engine, settings, budget_seconds=120)
    finally:
        await engine.dispose()


async def user_id(live: Live, email: str) -> str:
    async with await live.api(email) as api:
        return str((await api.get("/api/me")).json()["id"])


async def open_ticket(live: Live, email: str, title: str, description: str) -> dict[str, Any]:
    async with await live.api(email) as api:
        services = (await api.get("/api/services")).json()["items"]
        vpn = next(s["id"] for s in services if s["name"] == "VPN")
        r = await api.post(
            "/api/tickets",
            json={"title": title, "description": description, "service_id": vpn},
        )
        assert r.status_code == 201, r.text
        return r.json()  # type: ignore[no-any-return]


async def accept_and_take(live: Live, ticket_id: str, agent_id: str, **accept: str) -> None:
    """The manager accepts the ticket (with *accept*'s priority/category); the agent takes it."""
    async with await live.api(MANAGER) as api:
        r = await api.post(f"/api/internal/tickets/{ticket_id}/accept", json=accept)
        assert r.status_code == 200, r.text
    async with await live.api(AGENT) as api:
        r = await api.post(
            f"/api/internal/tickets/{ticket_id}/assign", json={"assignee_id": agent_id}
        )
        assert r.status_code == 200, r.text


async def test_the_agent_sees_local_suggestions_with_their_reasons(stack: Stack) -> None:
    live = stack.live
    agent_id = await user_id(live, AGENT)

    # The knowledge: an internal article, in Markdown.
    async with await live.api(MANAGER) as api:
        r = await api.post(
            "/api/internal/kb/articles",
            json={"title": ARTICLE_TITLE, "body": ARTICLE_BODY, "visibility": "internal"},
        )
        assert r.status_code == 201, r.text
        article_id = r.json()["id"]

    # The history: the same problem, three times, accepted as Network P3 and resolved.
    for email, title, description, resolution in HISTORY:
        earlier = await open_ticket(live, email, title, description)
        await accept_and_take(live, earlier["id"], agent_id, category=CATEGORY, priority="P3")
        async with await live.api(AGENT) as api:
            r = await api.post(
                f"/api/internal/tickets/{earlier['id']}/status",
                json={"status": "RESOLVED", "resolution": resolution, "root_cause": ROOT_CAUSE},
            )
            assert r.status_code == 200, r.text
    # The worker analysed the history (and the demo's tickets) long before the new ticket came.
    assert await run_ai_jobs(stack.database_url) >= len(HISTORY)

    # The new ticket: written by the customer, accepted without a category, taken by the agent.
    ticket = await open_ticket(live, CUSTOMER, TITLE, DESCRIPTION)
    ticket_id = ticket["id"]
    await accept_and_take(live, ticket_id, agent_id)
    async with await live.api(AGENT) as api:
        pending = (await api.get(f"/api/internal/tickets/{ticket_id}/suggestions")).json()
        assert pending["status"] == "pending" and pending["engine"] == "local", pending
        assert await run_ai_jobs(stack.database_url) == 1
        ready = (await api.get(f"/api/internal/tickets/{ticket_id}/suggestions")).json()
    assert ready["status"] == "ready" and ready["engine"] == "local", ready
    assert ready["category"] is not None, ready
    assert (ready["category"]["value"], ready["category"]["method"]) == (CATEGORY, "neighbours")
    resolved_titles = [s["title"] for s in ready["similar"] if s["resolved"]]
    assert set(resolved_titles) & {title for _, title, _, _ in HISTORY}, ready["similar"]
    assert article_id in [k["article_id"] for k in ready["kb"]], ready["kb"]
    assert not [k["source"] for k in ready["kb"] if k["source"].startswith("docs/")]

    context = await live.context()
    try:
        page = await context.new_page()
        await sign_in(page, AGENT)
        await expect(page).to_have_url(re.compile(r"/desk"))
        await page.goto(f"/desk/tickets/{ticket_id}")
        await expect(page.get_by_role("heading", level=1, name=TITLE)).to_be_visible()
        card = page.get_by_role("region", name="Suggestions")
        await expect(card.get_by_text("Local model", exact=False)).to_be_visible()

        # The category, with how likely it is and how it was chosen, and Apply.
        category = (
            card.get_by_role("term")
            .filter(has_text="Category")
            .locator("xpath=following-sibling::dd[1]")
        )
        await expect(category).to_contain_text(CATEGORY)
        await expect(category).to_contain_text(
            re.compile(r"\d{1,3}% likely · (nearest resolved tickets|trained classifier v\d+)")
        )
        await expect(card.get_by_role("button", name=f"Apply category {CATEGORY}")).to_be_visible()

        # Why: the resolved VPN tickets it leans on, and the closest article.
        why = card.get_by_role("region", name="Why")
        nearest = why.get_by_role("list", name="Nearest resolved tickets")
        history = "|".join(re.escape(title) for _, title, _, _ in HISTORY)
        await expect(
            nearest.get_by_role("link", name=re.compile(rf"#\S+ ({history})$")).first
        ).to_be_visible()
        # The similarity shown is the embeddings' cosine (not the fused rank): well above 35 %.
        shown = [int(p) for p in re.findall(r"(\d{1,3})% similar", await nearest.inner_text())]
        assert shown and min(shown) >= 35, shown
        await expect(why.get_by_role("link", name=ARTICLE_TITLE, exact=True)).to_have_attribute(
            "href", f"/desk/kb?article={article_id}"
        )

        # The passage: Markdown rendered (bold, numbered list, inline code), its title a link to
        # the article on the desk's knowledge-base page.
        knowledge = card.get_by_role("region", name="Knowledge base")
        article_link = knowledge.get_by_role("link", name=ARTICLE_TITLE, exact=True)
        await expect(article_link).to_have_attribute("href", f"/desk/kb?article={article_id}")
        passage = knowledge.get_by_role("listitem").filter(
            has=page.get_by_role("link", name=ARTICLE_TITLE, exact=True)
        )
        await expect(passage.locator("strong")).to_have_text(BOLD)
        await expect(passage.locator("ol > li")).to_have_count(3)
        await expect(passage.locator("code")).to_have_text(CODE)
        for region in ("Summary", "Why", "Knowledge base"):
            shown = await card.get_by_role("region", name=region, exact=True).inner_text()
            assert "**" not in shown, (region, shown)
        # Agent knowledge only: every passage is an article (no operator docs/*.md file).
        passage_titles = knowledge.locator(".desk-ai__passage-title")
        for href in await passage_titles.evaluate_all("(els) => els.map((e) => e.href || '')"):
            assert "/desk/kb?article=" in href, href
        await expect(card).not_to_contain_text("docs/")

        # The card from its heading down: the engine, the values, why and (below) the passages.
        await card.evaluate("(el) => el.scrollIntoView({ block: 'start' })")
        await screenshot(page, "desk-suggestions.png")
        await assert_accessible(page, "desk ticket suggestions")
        assert await csp_violations(page) == []

        # The title opens the article.
        await article_link.click()
        await expect(page).to_have_url(re.compile(rf"/desk/kb\?article={article_id}$"))
        editor = page.get_by_role("dialog", name=re.compile("Edit"))
        await expect(editor.get_by_label("Title")).to_have_value(ARTICLE_TITLE)
    finally:
        await context.close()
