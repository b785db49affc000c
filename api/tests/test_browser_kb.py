"""The knowledge base in a real browser (Debian's chromium, the built web/dist served by
uvicorn): an agent writes articles on the desk, a customer typing a new ticket in the portal is
offered the matching public article (never the internal one, which says the same things), opens
it, and reads it rendered from Markdown without any of its HTML taking effect; the portal's help
articles page finds it the same way."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator

import pytest
from playwright.async_api import Page, expect

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

CUSTOMER = "user@acme.test"
AGENT = "agent@atum.test"
MANAGER = "manager@atum.test"

PUBLIC_TITLE = "Resetting a forgotten password"
PUBLIC_BODY = (
    "If you forgot your password, open the sign-in page and choose **Forgot password**.\n\n"
    "## What happens next\n\n"
    "- We e-mail you a reset link.\n"
    "- The link works for one hour.\n\n"
    '<img src="x" onerror="document.title=\'pwned\'"> is shown as text, never run.'
)
INTERNAL_TITLE = "Password resets: checking the directory sync"
INTERNAL_BODY = (
    "When a customer forgot the password and the reset link never arrives, check the "
    "directory sync on the identity server before resetting the account by hand."
)


@pytest.fixture(scope="module")
async def live(server_url: str, tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Live]:
    require_built_ui()
    data_dir = tmp_path_factory.mktemp("browser-kb-data")
    async with (
        demo_database(server_url) as database_url,
        live_server(database_url, data_dir) as base_url,
        chromium() as browser,
    ):
        yield Live(base_url=base_url, browser=browser)


async def write_article(page: Page, title: str, body: str, visibility: str) -> None:
    await page.get_by_role("button", name="New article").click()
    dialog = page.get_by_role("dialog", name="New article")
    await dialog.get_by_label("Title").fill(title)
    await dialog.get_by_label("Visibility").select_option(visibility)
    await dialog.get_by_label("Text (Markdown)").fill(body)
    await dialog.get_by_role("button", name="Create article").click()
    await expect(dialog).to_be_hidden()
    await expect(page.get_by_role("button", name=title)).to_be_visible()


async def test_a_customer_is_offered_the_public_article_and_never_the_internal_one(
    live: Live,
) -> None:
    desk = await live.context()
    portal = await live.context()
    try:
        # The agent writes both articles on the desk's knowledge-base page.
        agent = await desk.new_page()
        await sign_in(agent, AGENT)
        await expect(agent).to_have_url(re.compile(r"/desk"))
        await agent.get_by_role("link", name="Knowledge base").click()
        await expect(agent.get_by_role("heading", level=1, name="Knowledge base")).to_be_visible()
        await write_article(agent, PUBLIC_TITLE, PUBLIC_BODY, "public")
        await write_article(agent, INTERNAL_TITLE, INTERNAL_BODY, "internal")
        assert serious(await axe_violations(agent)) == []
        # Agents may edit but not delete.
        await agent.get_by_role("button", name=INTERNAL_TITLE).click()
        editor = agent.get_by_role("dialog", name=re.compile("Edit"))
        await expect(editor.get_by_label("Title")).to_have_value(INTERNAL_TITLE)
        await expect(editor.get_by_role("button", name="Delete")).to_have_count(0)
        await editor.get_by_role("button", name="Cancel").click()

        # The customer describes the problem in their own words.
        customer = await portal.new_page()
        await sign_in(customer, CUSTOMER)
        await expect(customer).to_have_url(re.compile(r"/portal$"))
        await customer.goto("/portal/tickets/new")
        await customer.get_by_label("Title").fill("Cannot sign in")
        await customer.get_by_label("Description").fill(
            "I forgot my password this morning and need a new one."
        )
        panel = customer.get_by_role(
            "complementary", name="These articles may answer your question"
        )
        await expect(panel).to_be_visible()
        link = panel.get_by_role("link", name=re.compile(PUBLIC_TITLE))
        await expect(link).to_be_visible()
        await expect(panel).not_to_contain_text(INTERNAL_TITLE)
        await expect(customer.get_by_text(INTERNAL_TITLE)).to_have_count(0)
        assert serious(await axe_violations(customer)) == []

        # The article opens in a tab of its own; the ticket being written stays.
        async with portal.expect_page() as opened:
            await link.click()
        article = await opened.value
        await expect(article.get_by_role("heading", level=1, name=PUBLIC_TITLE)).to_be_visible()
        await expect(article.locator("strong")).to_have_text("Forgot password")
        await expect(
            article.get_by_role("heading", level=3, name="What happens next")
        ).to_be_visible()
        text = article.locator(".kb-md")
        await expect(text.get_by_role("listitem")).to_have_count(2)
        await expect(text.get_by_text('<img src="x"', exact=False)).to_be_visible()
        assert await text.locator("img").count() == 0
        assert await article.title() != "pwned"
        assert await csp_violations(article) == []
        await expect(customer.get_by_label("Title")).to_have_value("Cannot sign in")

        # The internal article's address answers like any unknown one.
        async with await live.api(AGENT) as api:
            listed = (await api.get("/api/internal/kb/articles")).json()["items"]
        internal_id = next(a["id"] for a in listed if a["title"] == INTERNAL_TITLE)
        await article.goto(f"/portal/kb/{internal_id}")
        await expect(article.get_by_role("heading", name="Article not found")).to_be_visible()
        await expect(article.get_by_text(INTERNAL_BODY[:40])).to_have_count(0)

        # Too little to go on: no panel.
        await customer.get_by_label("Title").fill("Help")
        await customer.get_by_label("Description").fill("")
        await expect(panel).to_be_hidden()

        # Help articles: the same search on a page of its own, public articles only.
        await article.get_by_role("link", name="Help articles").click()
        await expect(article.get_by_role("heading", level=1, name="Help articles")).to_be_visible()
        # Before any search: every public article, never the internal one.
        library = article.get_by_role("list", name="All help articles")
        await expect(library.get_by_role("link", name=PUBLIC_TITLE)).to_be_visible()
        await expect(library).not_to_contain_text(INTERNAL_TITLE)
        await article.get_by_role("searchbox", name="Search help articles").fill(
            "forgot password reset link"
        )
        results = article.get_by_role("list", name="Matching articles")
        await expect(results.get_by_role("link", name=PUBLIC_TITLE)).to_be_visible()
        await expect(results).not_to_contain_text(INTERNAL_TITLE)
        await expect(article).to_have_url(re.compile(r"/portal/kb\?q=forgot"))
        assert serious(await axe_violations(article)) == []
        await results.get_by_role("link", name=PUBLIC_TITLE).click()
        await expect(article.get_by_role("heading", level=1, name=PUBLIC_TITLE)).to_be_visible()
        still_stuck = article.get_by_role("region", name="Still stuck?")
        await expect(still_stuck.get_by_role("link", name="Open a ticket")).to_have_attribute(
            "href", "/portal/tickets/new"
        )
    finally:
        await desk.close()
        await portal.close()


async def test_managers_delete_and_customers_lose_the_article_at_once(live: Live) -> None:
    async with await live.api(MANAGER) as api:
        created = await api.post(
            "/api/internal/kb/articles",
            json={
                "title": "Printer shows a paper jam",
                "body": "Open tray 2 and remove the jammed paper.",
                "visibility": "public",
            },
        )
        assert created.status_code == 201, created.text
    context = await live.context()
    try:
        page = await context.new_page()
        await sign_in(page, MANAGER)
        await expect(page).to_have_url(re.compile(r"/desk"))
        await page.goto("/desk/kb")
        await page.get_by_role("button", name="Printer shows a paper jam").click()
        dialog = page.get_by_role("dialog", name=re.compile("Edit"))
        await dialog.get_by_role("button", name="Delete", exact=True).click()
        await dialog.get_by_role("button", name="Delete article").click()
        await expect(dialog).to_be_hidden()
        await expect(page.get_by_role("button", name="Printer shows a paper jam")).to_have_count(0)
    finally:
        await context.close()
    async with await live.api(CUSTOMER) as api:
        found = await api.get("/api/kb/articles", params={"q": "printer paper jam tray"})
        assert found.json() == {"items": []}
        gone = await api.get(f"/api/kb/articles/{created.json()['id']}")
        assert gone.status_code == 404
