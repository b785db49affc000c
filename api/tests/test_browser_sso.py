"""Single sign-on in a real browser (Debian's chromium, the built web/dist served by uvicorn at
http://localhost:<port>) against a real OpenID Provider (panva's oidc-provider at
http://127.0.0.1:<port>, tests/ssoservers.py): another site, so the redirect chain back from it is
cross-site, as with a real provider, and the session cookie is SameSite=Strict.

The provider is created through the admin API with a mapping helpdesk-agents → agent. A person in
that group signs in from the sign-in page's button, through the provider's form, and lands on the
desk signed in; a person in no mapped group comes back to the sign-in page with the reason; a
person whose address already has an account here links it on /login/link with its password.
axe-core runs on the new pages; the sign-in page with the button and the administration page
with the provider are saved as screenshots for the docs."""

from __future__ import annotations

import re
import secrets
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import pytest
from playwright.async_api import Page, expect

from tests.browser_support import (
    PASSWORDS,
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
from tests.ssoservers import Idp, oidc_provider

expect.set_options(timeout=10_000)

ADMIN = "admin@atum.test"
SLUG = "example-idp"
IDP_NAME = "Example IdP"
CLIENT_ID = "atum-desk"
CLIENT_SECRET = secrets.token_urlsafe(24)
# Agents land on their "My open" view.
AGENT_HOME = re.compile(r"/desk/views/[0-9a-f-]{36}$")
# An existing demo agent: the provider's account with this address must be linked first.
INES = "agent2@atum.test"

USERS: dict[str, dict[str, Any]] = {
    # In the mapped group, unknown here: provisioned as an agent at the first sign-in.
    "sam": {
        "password": "sam-idp-pass-1",
        "sub": "sub-sam-0001",
        "email": "sam.single@example.test",
        "email_verified": True,
        "name": "Sam Single",
        "groups": ["helpdesk-agents"],
    },
    # In no mapped group.
    "dave": {
        "password": "dave-idp-pass-1",
        "sub": "sub-dave-0002",
        "email": "dave.nobody@example.test",
        "email_verified": True,
        "name": "Dave Nobody",
        "groups": ["sales"],
    },
    # The address of a local account here.
    "ines": {
        "password": "ines-idp-pass-1",
        "sub": "sub-ines-0003",
        "email": INES,
        "email_verified": True,
        "name": "Ines Agent",
        "groups": ["helpdesk-agents"],
    },
}


@dataclass
class Stack:
    live: Live
    idp: Idp
    redirect_uri: str


@pytest.fixture(scope="module")
async def stack(server_url: str, tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Stack]:
    require_built_ui()
    data_dir = tmp_path_factory.mktemp("browser-sso-data")
    # The app at http://localhost:<port> (its ATUM_PUBLIC_URL, which names the redirect URI), the
    # provider at http://127.0.0.1:<port>: two sites.
    async with (
        demo_database(server_url) as database_url,
        live_server(database_url, data_dir, host_name="localhost") as base_url,
        chromium() as browser,
    ):
        redirect_uri = f"{base_url}/api/auth/sso/{SLUG}/callback"
        client = {
            "client_id": CLIENT_ID,
            "client_secret": CLIENT_SECRET,
            "redirect_uris": [redirect_uri],
        }
        with oidc_provider(data_dir / "idp", users=USERS, clients=[client]) as idp:
            live = Live(base_url=base_url, browser=browser)
            async with await live.api(ADMIN) as api:
                r = await api.post(
                    "/api/admin/sso/providers",
                    json={
                        "kind": "oidc",
                        "slug": SLUG,
                        "name": IDP_NAME,
                        "settings": {
                            "issuer": idp.issuer,
                            "client_id": CLIENT_ID,
                            "scopes": ["openid", "email", "profile", "groups"],
                        },
                        "secret": CLIENT_SECRET,
                        "mappings": [{"group": "helpdesk-agents", "role": "agent"}],
                    },
                )
                assert r.status_code == 201, r.text
                assert r.json()["redirect_uri"] == redirect_uri
            yield Stack(live, idp, redirect_uri)


async def assert_accessible(page: Page, where: str) -> None:
    found = await axe_violations(page)
    for v in found:
        print(f"axe [{where}] {v['impact']}: {v['id']} - {v['help']} at {v['targets']}")
    assert serious(found) == [], f"axe found serious/critical violations on {where}"


async def through_the_provider(page: Page, stack: Stack, login: str) -> None:
    """From the sign-in page: the provider's button, then its own form."""
    await page.goto("/login")
    await page.get_by_role("link", name=f"Sign in with {IDP_NAME}").click()
    await expect(page).to_have_url(re.compile(rf"^{re.escape(stack.idp.issuer)}/interaction/"))
    await page.locator("input[name=login]").fill(login)
    await page.locator("input[name=password]").fill(USERS[login]["password"])
    await page.get_by_role("button", name="Sign in").click()


async def session_status(page: Page) -> int:
    """GET /api/me from the page, as the app does (cookies, same origin)."""
    status: int = await page.evaluate(
        "() => fetch('/api/me', { credentials: 'same-origin' }).then((r) => r.status)"
    )
    return status


async def test_the_sign_in_page_offers_the_provider_and_the_admin_page_lists_it(
    stack: Stack,
) -> None:
    context = await stack.live.context()
    try:
        page = await context.new_page()
        await page.goto("/login")
        button = page.get_by_role("link", name=f"Sign in with {IDP_NAME}")
        await expect(button).to_be_visible()
        assert await button.get_attribute("href") == (f"/api/auth/sso/{SLUG}/start?next=%2Flogin")
        # The password sign-in is still there.
        await expect(page.get_by_label("E-mail")).to_be_visible()
        await expect(page.get_by_role("button", name="Sign in")).to_be_visible()
        await assert_accessible(page, "sign-in with a provider")
        await screenshot(page, "login-sso.png")

        await sign_in(page, ADMIN)
        await expect(page).to_have_url(re.compile(r"/desk/inbox$"))
        await page.goto("/desk/admin")
        await (
            page.get_by_role("navigation", name="Administration")
            .get_by_role("link", name="Sign-in & SSO")
            .click()
        )
        await expect(page).to_have_url(re.compile(r"/desk/admin/sso$"))
        row = page.get_by_role("row").filter(has=page.get_by_role("rowheader", name=IDP_NAME))
        await expect(row.get_by_text(stack.redirect_uri, exact=True)).to_be_visible()
        await expect(row.get_by_text("helpdesk-agents → Agent")).to_be_visible()
        await expect(
            page.get_by_role("checkbox", name="Password allowed for Administrator")
        ).to_be_checked()
        await row.get_by_role("button", name=f"Check connection of {IDP_NAME}").click()
        await expect(page.get_by_text(f"{IDP_NAME}: the connection works.")).to_be_visible()
        await assert_accessible(page, "admin sign-in & SSO")
        await screenshot(page, "admin-sso.png")

        await row.get_by_role("button", name=f"Edit {IDP_NAME}").click()
        dialog = page.get_by_role("dialog", name=f"Edit {IDP_NAME}")
        await expect(dialog.get_by_label("New client secret")).to_have_value("")
        await expect(dialog.get_by_label("Issuer")).to_have_value(stack.idp.issuer)
        await assert_accessible(page, "provider dialog")
    finally:
        await context.close()


async def test_a_person_in_a_mapped_group_signs_in_through_the_provider(stack: Stack) -> None:
    context = await stack.live.context()
    try:
        page = await context.new_page()
        await through_the_provider(page, stack, "sam")
        # Back through the callback and the sign-in page to the agent's home, signed in.
        await expect(page).to_have_url(AGENT_HOME)
        await expect(page.get_by_text("Sam Single", exact=True)).to_be_visible()
        assert await session_status(page) == 200
        # The SameSite=Strict session survives a reload (a same-site navigation).
        await page.reload()
        await expect(page.get_by_text("Sam Single", exact=True)).to_be_visible()
        names = {c["name"]: c for c in await context.cookies(stack.live.base_url)}
        assert names["atum_session"]["sameSite"] == "Strict"
    finally:
        await context.close()


async def test_a_person_in_no_mapped_group_is_told_why(stack: Stack) -> None:
    context = await stack.live.context()
    try:
        page = await context.new_page()
        await through_the_provider(page, stack, "dave")
        await expect(page).to_have_url(re.compile(r"/login\?sso_error=no_mapped_group$"))
        await expect(page.get_by_role("alert")).to_have_text(
            "Your account is not in a group that may use this helpdesk. "
            "Ask your administrator for access."
        )
        assert await session_status(page) == 401
        await assert_accessible(page, "sign-in with a refusal")
    finally:
        await context.close()


async def test_an_existing_account_is_linked_with_its_password(stack: Stack) -> None:
    context = await stack.live.context()
    try:
        page = await context.new_page()
        await through_the_provider(page, stack, "ines")
        # The token travels in the fragment and is taken off the address bar.
        await expect(page).to_have_url(re.compile(r"/login/link$"))
        await expect(page.get_by_role("heading", level=1, name="Link your account")).to_be_visible()
        await expect(
            page.get_by_text(f"to link it to your {IDP_NAME} sign-in.", exact=False)
        ).to_be_visible()
        await assert_accessible(page, "link an account")
        await page.get_by_label("Password").fill(PASSWORDS[INES])
        await page.get_by_role("button", name="Link and sign in").click()
        await expect(page).to_have_url(AGENT_HOME)
        assert await session_status(page) == 200

        # Linked: the next sign-in through the provider needs no password here.
        await page.get_by_role("button", name="Sign out", exact=True).click()
        await expect(page).to_have_url(re.compile(r"/$"))
        await page.goto("/login")
        await page.get_by_role("link", name=f"Sign in with {IDP_NAME}").click()
        # The provider's own session is still open: straight back, signed in.
        await expect(page).to_have_url(AGENT_HOME)
        assert await session_status(page) == 200
    finally:
        await context.close()
