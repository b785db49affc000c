"""Accounts in a real browser (Debian's chromium, the built web/dist served by uvicorn at
http://localhost:<port> — WebAuthn's relying party cannot be an IP address), with the worker
delivering account mail to the dev mail sink: an admin invites a customer who chooses a password
from the mail's link; a forgotten password is reset from its mail and the session opened before
dies; an authenticator app, a security key (Chromium's virtual authenticator) and a recovery code
each sign someone in as the second step; a session is ended from another one's profile. axe-core
runs on every new page, and the profile's two-factor section and the second sign-in step are
saved as screenshots for the docs."""

from __future__ import annotations

import re
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pyotp
import pytest
from playwright.async_api import BrowserContext, Page, expect

from tests.browser_support import (
    EXTRA_CUSTOMER,
    PASSWORDS,
    Live,
    axe_violations,
    chromium,
    demo_database,
    link_in,
    live_server,
    mail_worker,
    require_built_ui,
    screenshot,
    serious,
    sign_in,
    wait_for_mail,
)

expect.set_options(timeout=10_000)

ADMIN = "admin@atum.test"
MANAGER = "manager@atum.test"  # (d) a security key
AGENT = "agent@atum.test"  # (e) a recovery code
INES = "agent2@atum.test"  # (c) an authenticator app
# Agents land on their "My open" view; managers and admins on the acceptance inbox.
AGENT_HOME = re.compile(r"/desk/views/[0-9a-f-]{36}$")
CODY = "user@acme.test"  # (f) sessions, then the end of a grace period (the last test)
GINA = "user@globex.test"  # (b) forgotten password
TOM = EXTRA_CUSTOMER[0]  # (g) a new e-mail address
CUSTOMER_ADMIN = "admin@acme.test"  # invites from the portal

INVITED = ("Nora Novak", "nora.novak@acme.test")
# Passwords zxcvbn rates "safely unguessable" (score 3+), as the server requires.
NORA_PASSWORD = "copper lantern drifts over the harbour"
GINA_PASSWORD = "violet quarry hums beneath seven pines"
TOM_NEW_EMAIL = "tom.becker@initech-mail.example"


@dataclass
class Stack:
    live: Live
    mail: Path


@pytest.fixture(scope="module")
async def stack(server_url: str, tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Stack]:
    require_built_ui()
    data_dir = tmp_path_factory.mktemp("browser-accounts-data")
    # The server first (its URL names the links in mails), then the worker with that URL.
    async with (
        demo_database(server_url) as database_url,
        live_server(database_url, data_dir, host_name="localhost") as base_url,
        mail_worker(database_url, data_dir, base_url) as mail_dir,
        chromium() as browser,
    ):
        yield Stack(Live(base_url=base_url, browser=browser), mail_dir)


async def assert_accessible(page: Page, where: str) -> None:
    found = await axe_violations(page)
    for v in found:
        print(f"axe [{where}] {v['impact']}: {v['id']} - {v['help']} at {v['targets']}")
    assert serious(found) == [], f"axe found serious/critical violations on {where}"


async def sign_in_with(page: Page, email: str, password: str) -> None:
    await page.goto("/login")
    await page.get_by_label("E-mail").fill(email)
    await page.get_by_label("Password").fill(password)
    await page.get_by_role("button", name="Sign in").click()


async def sign_out(page: Page) -> None:
    await page.get_by_role("button", name="Sign out", exact=True).click()
    await expect(page).to_have_url(re.compile(r"/$"))


async def open_profile(page: Page) -> None:
    await page.get_by_role("link", name="Your profile and security").click()
    await expect(page.get_by_role("heading", level=1, name="Your profile")).to_be_visible()


def later_code(secret: str) -> str:
    """The app's code for the next 30 s step: the one just used to confirm is refused (each
    code works once) and the server accepts one step of drift."""
    return pyotp.TOTP(secret).at(time.time() + 30)


async def contexts(live: Live, count: int) -> list[BrowserContext]:
    return [await live.context() for _ in range(count)]


# ---------------------------------------------------------------- (a) invitation


async def test_an_invited_customer_chooses_a_password_and_is_signed_in(stack: Stack) -> None:
    name, email = INVITED
    admin_ctx, guest_ctx = await contexts(stack.live, 2)
    try:
        admin = await admin_ctx.new_page()
        await sign_in(admin, ADMIN)
        await expect(admin).to_have_url(re.compile(r"/desk/inbox$"))
        await admin.goto("/desk/admin/users")
        await admin.get_by_role("button", name="New user").click()
        dialog = admin.get_by_role("dialog", name="New user")
        await dialog.get_by_label("Name").fill(name)
        await dialog.get_by_label("E-mail").fill(email)
        await dialog.get_by_label("Role").select_option("customer_user")
        await dialog.get_by_label("Organization").select_option(label="Acme Corp")
        await expect(dialog.get_by_label("Password (optional)")).to_be_empty()
        await dialog.get_by_role("button", name="Create and invite").click()
        await expect(dialog).to_be_hidden()
        await expect(admin.get_by_text(f"Invitation sent to {email}")).to_be_visible()
        row = admin.get_by_role("row").filter(has=admin.get_by_role("rowheader", name=name))
        await expect(row.get_by_text("Invited")).to_be_visible()
        await expect(row.get_by_role("button", name=f"Resend invitation to {name}")).to_be_visible()

        mail = await wait_for_mail(stack.mail, email, "you are invited")
        link = link_in(mail, "/welcome/")
        assert link.startswith(stack.live.base_url), link

        guest = await guest_ctx.new_page()
        await guest.goto(link)
        await expect(guest.get_by_role("heading", level=1, name=f"Welcome, {name}")).to_be_visible()
        await expect(guest.get_by_label("E-mail")).to_have_value(email)
        await guest.get_by_label("Password", exact=True).fill(NORA_PASSWORD)
        await expect(guest.get_by_role("meter", name="Password strength")).to_have_attribute(
            "aria-valuetext", re.compile("strong", re.IGNORECASE)
        )
        await guest.get_by_label("Repeat the password").fill(NORA_PASSWORD)
        await assert_accessible(guest, "welcome")
        await guest.get_by_role("button", name="Set password and sign in").click()
        await expect(guest).to_have_url(re.compile(r"/portal$"))
        await expect(guest.get_by_text(name)).to_be_visible()

        # The link worked once.
        await guest_ctx.clear_cookies()
        await guest.goto(link)
        await expect(
            guest.get_by_text(re.compile("This link is invalid or has expired"))
        ).to_be_visible()

        await admin.reload()
        row = admin.get_by_role("row").filter(has=admin.get_by_role("rowheader", name=name))
        await expect(row.get_by_text("Active")).to_be_visible()
    finally:
        for context in (admin_ctx, guest_ctx):
            await context.close()


# ---------------------------------------------------------------- (b) forgotten password


async def test_a_forgotten_password_is_reset_and_the_older_session_dies(stack: Stack) -> None:
    before_ctx, after_ctx = await contexts(stack.live, 2)
    try:
        before = await before_ctx.new_page()
        await sign_in(before, GINA)
        await expect(before).to_have_url(re.compile(r"/portal$"))

        page = await after_ctx.new_page()
        await page.goto("/login")
        await page.get_by_role("link", name="Forgot password?").click()
        await expect(page).to_have_url(re.compile(r"/forgot-password$"))
        await assert_accessible(page, "forgot password")
        await page.get_by_label("E-mail").fill(GINA)
        await page.get_by_role("button", name="Send the link").click()
        confirmation = page.get_by_text(re.compile("If this address belongs to an account"))
        await expect(confirmation).to_be_visible()
        await assert_accessible(page, "forgot password, sent")

        # An unknown address gets the very same answer.
        await page.goto("/forgot-password")
        await page.get_by_label("E-mail").fill("nobody@globex.test")
        await page.get_by_role("button", name="Send the link").click()
        await expect(confirmation).to_be_visible()

        mail = await wait_for_mail(stack.mail, GINA, "reset your password")
        await page.goto(link_in(mail, "/reset-password/"))
        await expect(
            page.get_by_role("heading", level=1, name="Choose a new password")
        ).to_be_visible()
        await page.get_by_label("New password", exact=True).fill("password1234")
        await expect(page.get_by_role("meter", name="Password strength")).to_have_attribute(
            "aria-valuetext", re.compile("weak", re.IGNORECASE)
        )
        await page.get_by_label("Repeat the new password").fill("password1234")
        await page.get_by_role("button", name="Save the new password").click()
        # The server refuses a guessable password with its reason, at the field.
        await expect(page.get_by_text(re.compile("too easy to guess"))).to_be_visible()
        await page.get_by_label("New password", exact=True).fill(GINA_PASSWORD)
        await page.get_by_label("Repeat the new password").fill(GINA_PASSWORD)
        await assert_accessible(page, "reset password")
        await page.get_by_role("button", name="Save the new password").click()
        await expect(
            page.get_by_role("heading", level=1, name="Your password was changed")
        ).to_be_visible()
        await page.get_by_role("link", name="Sign in").click()
        await expect(page).to_have_url(re.compile(r"/login$"))
        await sign_in_with(page, GINA, GINA_PASSWORD)
        await expect(page).to_have_url(re.compile(r"/portal$"))

        # The session opened before the reset is over: its next call is 401, its next page the
        # sign-in page.
        me = await before.request.get("/api/me")
        assert me.status == 401, await me.text()
        await before.goto("/portal/tickets/new")
        await expect(before).to_have_url(re.compile(r"/login\?next="))
        await sign_in_with(before, GINA, PASSWORDS[GINA])
        await expect(before.get_by_text("The e-mail or password is not correct.")).to_be_visible()
    finally:
        for context in (before_ctx, after_ctx):
            await context.close()


# ---------------------------------------------------------------- (c) authenticator app


async def test_an_authenticator_app_is_set_up_and_signs_in(stack: Stack) -> None:
    (context,) = await contexts(stack.live, 1)
    try:
        page = await context.new_page()
        await sign_in(page, INES)
        await expect(page).to_have_url(AGENT_HOME)
        await open_profile(page)
        await expect(page.get_by_role("table", name="Your sessions")).to_be_visible()
        await assert_accessible(page, "profile")

        section = page.get_by_role("region", name="Two-factor sign-in")
        await expect(section.get_by_text("Off", exact=True)).to_be_visible()
        await section.get_by_role("button", name="Set up authenticator app").click()
        dialog = page.get_by_role("dialog", name="Set up an authenticator app")
        await dialog.get_by_label("Current password").fill("not my password")
        await dialog.get_by_role("button", name="Continue").click()
        await expect(dialog.get_by_text("The current password is not correct.")).to_be_visible()
        await dialog.get_by_label("Current password").fill(PASSWORDS[INES])
        await dialog.get_by_role("button", name="Continue").click()

        qr = dialog.get_by_role("img", name=re.compile("QR code"))
        await expect(qr).to_be_visible()
        assert await qr.evaluate("(img) => img.complete && img.naturalWidth > 0"), "QR not drawn"
        secret = re.sub(
            r"\s+", "", await dialog.get_by_label("Setup key (if you cannot scan)").inner_text()
        )
        assert re.fullmatch(r"[A-Z2-7]{32}", secret), secret
        await assert_accessible(page, "authenticator set-up")
        await dialog.get_by_label("Code from the app").fill(pyotp.TOTP(secret).now())
        await dialog.get_by_role("button", name="Turn on").click()

        codes = dialog.get_by_role("list", name="Recovery codes").get_by_role("listitem")
        await expect(codes).to_have_count(10)
        await expect(dialog.get_by_role("link", name="Download")).to_have_attribute(
            "download", "atum-desk-recovery-codes.txt"
        )
        await dialog.get_by_role("button", name="I saved my recovery codes").click()
        await expect(dialog).to_be_hidden()
        await expect(section.get_by_text("On", exact=True)).to_be_visible()
        await expect(section.get_by_role("button", name="Sign out everywhere else")).to_be_visible()
        await expect(section.get_by_text("10 of 10 unused", exact=False)).to_be_visible()
        await page.evaluate("() => document.getElementById('two-factor').scrollIntoView()")
        await screenshot(page, "profile-security.png")

        await sign_out(page)
        await sign_in(page, INES)
        step = page.get_by_role("heading", level=1, name="Two-factor sign-in")
        await expect(step).to_be_visible()
        code = page.get_by_label("Code from your authenticator app")
        await expect(code).to_be_focused()
        await expect(code).to_have_attribute("autocomplete", "one-time-code")
        await assert_accessible(page, "sign-in, second step")
        await screenshot(page, "login-second-factor.png")

        # A wrong code keeps the step and says so; the right one signs in.
        await code.fill("000000")
        await page.get_by_role("button", name="Verify").click()
        await expect(page.get_by_role("alert")).to_contain_text("not accepted")
        await assert_accessible(page, "sign-in, wrong code")
        await code.fill(later_code(secret))
        await page.get_by_role("button", name="Verify").click()
        await expect(page).to_have_url(AGENT_HOME)
    finally:
        await context.close()


# ---------------------------------------------------------------- (d) security key


async def test_a_security_key_is_added_and_signs_in(stack: Stack) -> None:
    (context,) = await contexts(stack.live, 1)
    try:
        page = await context.new_page()
        cdp = await context.new_cdp_session(page)
        await cdp.send("WebAuthn.enable")
        await cdp.send(
            "WebAuthn.addVirtualAuthenticator",
            {
                "options": {
                    "protocol": "ctap2",
                    "transport": "usb",
                    "hasResidentKey": True,
                    "hasUserVerification": True,
                    "isUserVerified": True,
                    "automaticPresenceSimulation": True,
                }
            },
        )
        await sign_in(page, MANAGER)
        await expect(page).to_have_url(re.compile(r"/desk/inbox$"))
        # Managers must set up a second factor (within a grace period): the shell says so.
        await expect(page.get_by_text("Your role requires two-factor sign-in.")).to_be_visible()
        await page.get_by_role("link", name="Set up two-factor sign-in").click()
        await expect(page).to_have_url(re.compile(r"/desk/profile#two-factor$"))
        await expect(page.get_by_role("heading", name="Two-factor sign-in")).to_be_focused()

        section = page.get_by_role("region", name="Two-factor sign-in")
        await section.get_by_role("button", name="Add a security key").click()
        dialog = page.get_by_role("dialog", name="Add a security key")
        await dialog.get_by_label("Name of the key").fill("Desk drawer key")
        await dialog.get_by_label("Current password").fill(PASSWORDS[MANAGER])
        await dialog.get_by_role("button", name="Add key").click()
        # The first factor of an account comes with its recovery codes.
        await expect(
            dialog.get_by_role("list", name="Recovery codes").get_by_role("listitem")
        ).to_have_count(10)
        await dialog.get_by_role("button", name="I saved my recovery codes").click()
        await expect(section.get_by_role("list", name="Your security keys")).to_contain_text(
            "Desk drawer key"
        )
        await expect(page.get_by_text("Your role requires two-factor sign-in.")).to_have_count(0)

        await sign_out(page)
        await sign_in(page, MANAGER)
        await expect(
            page.get_by_role("heading", level=1, name="Two-factor sign-in")
        ).to_be_visible()
        # No app is set up: the key is the way, and no code field is offered.
        await expect(page.get_by_label("Code from your authenticator app")).to_have_count(0)
        await assert_accessible(page, "sign-in, security key")
        await page.get_by_role("button", name="Use a security key").click()
        await expect(page).to_have_url(re.compile(r"/desk/inbox$"))

        await open_profile(page)
        await expect(
            section.get_by_text(re.compile(r"last used (just now|\d+ min ago)"))
        ).to_be_visible()
    finally:
        await context.close()


# ---------------------------------------------------------------- (e) recovery code


async def test_a_recovery_code_signs_in_once(stack: Stack) -> None:
    # The app is set up through the API (what the browser does is test (c)).
    async with await stack.live.api(AGENT) as api:
        setup = await api.post("/api/me/mfa/totp", json={"current_password": PASSWORDS[AGENT]})
        assert setup.status_code == 200, setup.text
        secret = setup.json()["secret"]
        confirm = await api.post(
            "/api/me/mfa/totp/confirm", json={"code": pyotp.TOTP(secret).now()}
        )
        assert confirm.status_code == 200, confirm.text
        codes: list[str] = confirm.json()["recovery_codes"]
    assert len(codes) == 10

    (context,) = await contexts(stack.live, 1)
    try:
        page = await context.new_page()
        await sign_in(page, AGENT)
        await expect(
            page.get_by_role("heading", level=1, name="Two-factor sign-in")
        ).to_be_visible()
        await page.get_by_role("button", name="Use a recovery code").click()
        field = page.get_by_label("Recovery code")
        await expect(field).to_be_focused()
        await assert_accessible(page, "sign-in, recovery code")
        await field.fill(codes[3].upper())
        await page.get_by_role("button", name="Verify").click()
        await expect(page).to_have_url(AGENT_HOME)

        await open_profile(page)
        await expect(page.get_by_text(re.compile("9 of 10 unused"))).to_be_visible()

        # Used once, never again.
        await sign_out(page)
        await sign_in(page, AGENT)
        await page.get_by_role("button", name="Use a recovery code").click()
        await page.get_by_label("Recovery code").fill(codes[3])
        await page.get_by_role("button", name="Verify").click()
        await expect(page.get_by_role("alert")).to_contain_text("not accepted")
        await expect(page).to_have_url(re.compile(r"/login$"))
    finally:
        await context.close()


# ---------------------------------------------------------------- (f) sessions


async def test_a_session_is_ended_from_another_one(stack: Stack) -> None:
    here_ctx, there_ctx = await contexts(stack.live, 2)
    try:
        there = await there_ctx.new_page()
        await sign_in(there, CODY)
        await expect(there).to_have_url(re.compile(r"/portal$"))
        here = await here_ctx.new_page()
        await sign_in(here, CODY)
        await expect(here).to_have_url(re.compile(r"/portal$"))

        await open_profile(here)
        table = here.get_by_role("table", name="Your sessions")
        await expect(table.get_by_role("row")).to_have_count(3)  # header + two sessions
        current = table.get_by_role("row").filter(has_text="This device")
        await expect(current).to_have_count(1)
        await expect(current.get_by_role("button")).to_have_count(0)
        other = table.get_by_role("button", name=re.compile(r"^Sign out "))
        await expect(other).to_have_count(1)
        await other.click()
        await expect(table.get_by_role("row")).to_have_count(2)

        me = await there.request.get("/api/me")
        assert me.status == 401, await me.text()
        await there.goto("/portal/tickets/new")
        await expect(there).to_have_url(re.compile(r"/login\?next="))
        # This session is untouched.
        await here.reload()
        await expect(here.get_by_role("heading", level=1, name="Your profile")).to_be_visible()
    finally:
        for context in (here_ctx, there_ctx):
            await context.close()


# ---------------------------------------------------------------- (g) the remaining pages


async def test_the_security_policy_and_the_email_confirmation_pages(stack: Stack) -> None:
    admin_ctx, tom_ctx = await contexts(stack.live, 2)
    try:
        admin = await admin_ctx.new_page()
        await sign_in(admin, ADMIN)
        await expect(admin).to_have_url(re.compile(r"/desk/inbox$"))
        await admin.goto("/desk/admin")
        await (
            admin.get_by_role("navigation", name="Administration")
            .get_by_role("link", name="Security")
            .click()
        )
        await expect(admin).to_have_url(re.compile(r"/desk/admin/security$"))
        for role, required in (("Administrator", True), ("Manager", True), ("Agent", False)):
            box = admin.get_by_role("checkbox", name=f"Required for {role}")
            await (expect(box).to_be_checked() if required else expect(box).not_to_be_checked())
        await expect(admin.get_by_label("Grace period in hours for Manager")).to_have_value("72")
        await assert_accessible(admin, "admin security")

        # Tom asks for a new address; the link in the mail to it confirms on a button press.
        tom = await tom_ctx.new_page()
        await sign_in(tom, TOM)
        await expect(tom).to_have_url(re.compile(r"/portal$"))
        await open_profile(tom)
        card = tom.get_by_role("region", name="E-mail address")
        await card.get_by_label("New e-mail address").fill(TOM_NEW_EMAIL)
        await card.get_by_label("Current password").fill(PASSWORDS[TOM])
        await card.get_by_role("button", name="Change e-mail address").click()
        await expect(
            card.get_by_text(re.compile(f"We sent a link to {re.escape(TOM_NEW_EMAIL)}"))
        ).to_be_visible()

        mail = await wait_for_mail(stack.mail, TOM_NEW_EMAIL, "confirm your new e-mail address")
        await tom.goto(link_in(mail, "/confirm-email/"))
        button = tom.get_by_role("button", name="Confirm this address")
        await expect(button).to_be_visible()
        await assert_accessible(tom, "confirm e-mail")
        # Opening the link changed nothing (mail scanners open links too).
        me = await tom.request.get("/api/me")
        assert (await me.json())["email"] == TOM
        await button.click()
        await expect(
            tom.get_by_role("heading", level=1, name="Your e-mail address was changed")
        ).to_be_visible()
        await assert_accessible(tom, "confirm e-mail, done")
        me = await tom.request.get("/api/me")
        assert (await me.json())["email"] == TOM_NEW_EMAIL
    finally:
        for context in (admin_ctx, tom_ctx):
            await context.close()


# ---------------------------------------------------------------- customer admins, the policy


async def test_a_customer_admin_invites_a_colleague_from_the_portal(stack: Stack) -> None:
    name, email = "Paula Portal", "paula.portal@acme.test"
    (context,) = await contexts(stack.live, 1)
    try:
        page = await context.new_page()
        await sign_in(page, CUSTOMER_ADMIN)
        await expect(page).to_have_url(re.compile(r"/portal$"))
        await (
            page.get_by_role("navigation", name="Portal").get_by_role("link", name="Users").click()
        )
        await page.get_by_role("button", name="Add user").click()
        dialog = page.get_by_role("dialog", name="Add a user")
        await dialog.get_by_label("Name").fill(name)
        await dialog.get_by_label("E-mail").fill(email)
        await dialog.get_by_role("button", name="Create and invite").click()
        await expect(dialog).to_be_hidden()
        row = page.get_by_role("row").filter(has=page.get_by_role("rowheader", name=name))
        await expect(row.get_by_text("Invited")).to_be_visible()
        await assert_accessible(page, "portal users")
        first = await wait_for_mail(stack.mail, email, "you are invited")

        # A new invitation replaces the first: its link stops working.
        await row.get_by_role("button", name=f"Resend invitation to {name}").click()
        await expect(page.get_by_text("Invitation sent again")).to_be_visible()
        loop_deadline = time.monotonic() + 20
        while True:
            second = await wait_for_mail(stack.mail, email, "you are invited")
            if link_in(second, "/welcome/") != link_in(first, "/welcome/"):
                break
            assert time.monotonic() < loop_deadline, "no second invitation"
            await page.wait_for_timeout(100)
        guest = await context.new_page()
        await guest.goto(link_in(first, "/welcome/"))
        await expect(
            guest.get_by_text(re.compile("This link is invalid or has expired"))
        ).to_be_visible()
        await guest.goto(link_in(second, "/welcome/"))
        await expect(guest.get_by_role("heading", name=f"Welcome, {name}")).to_be_visible()
    finally:
        await context.close()


async def test_after_the_grace_period_a_session_may_only_set_up_a_factor(stack: Stack) -> None:
    """Customers must use two factors, with no grace period: Cody's next sign-in reaches only the
    two-factor set-up; once an app is set up, the portal is back, and sign-ins ask for it."""

    async def policy(required: bool, grace_hours: int) -> None:
        async with await stack.live.api(ADMIN) as api:
            items = (await api.get("/api/admin/mfa-policy")).json()["items"]
            for item in items:
                if item["role"] == "customer_user":
                    item.update(required=required, grace_hours=grace_hours)
            r = await api.put("/api/admin/mfa-policy", json={"items": items})
            assert r.status_code == 200, r.text

    await policy(True, 0)
    (context,) = await contexts(stack.live, 1)
    try:
        page = await context.new_page()
        await sign_in(page, CODY)
        await expect(page).to_have_url(re.compile(r"/portal/profile#two-factor$"))
        section = page.get_by_role("region", name="Two-factor sign-in")
        await expect(section.get_by_role("alert")).to_contain_text("the time to set it up is over")
        await expect(page.get_by_role("region", name="Password")).to_have_count(0)
        await expect(page.get_by_role("link", name="Tickets", exact=True)).to_have_count(0)
        await assert_accessible(page, "profile, set-up required")
        # Any other page leads back here; the API refuses everything else.
        await page.goto("/portal/tickets/new")
        await expect(page).to_have_url(re.compile(r"/portal/profile#two-factor$"))
        refused = await page.request.get("/api/tickets")
        assert refused.status == 403, await refused.text()
        assert (await refused.json())["code"] == "mfa_enrolment_required"

        await section.get_by_role("button", name="Set up authenticator app").click()
        dialog = page.get_by_role("dialog", name="Set up an authenticator app")
        await dialog.get_by_label("Current password").fill(PASSWORDS[CODY])
        await dialog.get_by_role("button", name="Continue").click()
        key = dialog.get_by_label("Setup key (if you cannot scan)")
        secret = re.sub(r"\s+", "", await key.inner_text())
        await dialog.get_by_label("Code from the app").fill(pyotp.TOTP(secret).now())
        await dialog.get_by_role("button", name="Turn on").click()
        await dialog.get_by_role("button", name="I saved my recovery codes").click()
        # The enrolment lifts the limit at once: the portal is back in this very session.
        await expect(section.get_by_text(re.compile("You can use ATUM DESK again"))).to_be_visible()
        await expect(page.get_by_role("link", name="Tickets", exact=True)).to_be_visible()
        await expect(page.get_by_role("region", name="Password")).to_be_visible()
        ok = await page.request.get("/api/tickets")
        assert ok.status == 200, await ok.text()

        # And the next sign-in asks for the new factor.
        await sign_out(page)
        await sign_in(page, CODY)
        await page.get_by_label("Code from your authenticator app").fill(later_code(secret))
        await page.get_by_role("button", name="Verify").click()
        await expect(page).to_have_url(re.compile(r"/portal$"))
        await expect(page.get_by_role("link", name="Tickets", exact=True)).to_be_visible()
    finally:
        await context.close()
        await policy(False, 72)
