"""Browser sessions: the token travels in an httpOnly SameSite=Strict cookie, and every unsafe
request authenticated by that cookie must carry the session's CSRF token."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from httpx import ASGITransport, AsyncClient
from sqlalchemy.ext.asyncio import AsyncSession

from app.models.enums import Role
from tests.factories import PASSWORD, make_org, make_user


@pytest.fixture
async def browser(app: object, client: AsyncClient) -> AsyncIterator[AsyncClient]:
    """A second client on the same app and test transaction, with a cookie jar like a browser."""
    transport = ASGITransport(app=app)  # type: ignore[arg-type]
    async with AsyncClient(transport=transport, base_url="http://testserver") as c:
        yield c


async def _sign_in(browser: AsyncClient, email: str) -> str:
    r = await browser.post("/api/auth/login", json={"email": email, "password": PASSWORD})
    assert r.status_code == 200, r.text
    return str(r.json()["csrf_token"])


async def test_login_sets_httponly_strict_cookie_and_csrf_cookie(
    browser: AsyncClient, db: AsyncSession
) -> None:
    user = await make_user(db, role=Role.AGENT)
    r = await browser.post("/api/auth/login", json={"email": user.email, "password": PASSWORD})
    cookies = r.headers.get_list("set-cookie")
    session = next(c for c in cookies if c.startswith("atum_session="))
    csrf = next(c for c in cookies if c.startswith("atum_csrf="))
    assert "HttpOnly" in session and "SameSite=strict" in session and "Path=/" in session
    assert "HttpOnly" not in csrf and "SameSite=strict" in csrf
    assert csrf.split(";")[0].split("=", 1)[1] == r.json()["csrf_token"]
    me = await browser.get("/api/me")
    assert me.status_code == 200 and me.json()["id"] == str(user.id)


async def test_unsafe_cookie_request_needs_the_session_csrf_token(
    browser: AsyncClient, db: AsyncSession
) -> None:
    org = await make_org(db)
    user = await make_user(db, role=Role.CUSTOMER_USER, org=org)
    csrf = await _sign_in(browser, user.email)
    body = {"title": "Printer jam", "description": "Tray 2", "priority": "P3"}

    missing = await browser.post("/api/tickets", json=body)
    assert missing.status_code == 403 and "CSRF" in missing.json()["detail"]
    wrong = await browser.post("/api/tickets", json=body, headers={"X-CSRF-Token": "0" * 64})
    assert wrong.status_code == 403

    other = await make_user(db, role=Role.CUSTOMER_USER, org=org)
    async with AsyncClient(transport=browser._transport, base_url="http://testserver") as second:
        foreign_csrf = await _sign_in(second, other.email)
    stolen = await browser.post("/api/tickets", json=body, headers={"X-CSRF-Token": foreign_csrf})
    assert stolen.status_code == 403, "a CSRF token of another session must not work"

    ok = await browser.post("/api/tickets", json=body, headers={"X-CSRF-Token": csrf})
    assert ok.status_code == 201, ok.text


async def test_logout_clears_cookies_and_ends_the_session(
    browser: AsyncClient, db: AsyncSession
) -> None:
    user = await make_user(db, role=Role.MANAGER)
    csrf = await _sign_in(browser, user.email)
    token = browser.cookies.get("atum_session")
    r = await browser.post("/api/auth/logout", headers={"X-CSRF-Token": csrf})
    assert r.status_code == 204
    assert any(
        c.startswith("atum_session=") and "Max-Age=0" in c for c in r.headers.get_list("set-cookie")
    )
    assert (await browser.get("/api/me")).status_code == 401
    replay = await browser.get("/api/me", headers={"Authorization": f"Bearer {token}"})
    assert replay.status_code == 401


async def test_bearer_requests_need_no_csrf_token(client: AsyncClient, db: AsyncSession) -> None:
    org = await make_org(db)
    user = await make_user(db, role=Role.CUSTOMER_USER, org=org)
    login = await client.post("/api/auth/login", json={"email": user.email, "password": PASSWORD})
    headers = {"Authorization": f"Bearer {login.json()['access_token']}"}
    r = await client.post(
        "/api/tickets",
        json={"title": "Laptop", "description": "Slow", "priority": "P4"},
        headers=headers,
    )
    assert r.status_code == 201, r.text
