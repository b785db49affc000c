"""A user's sessions: listed with device and address, ended one at a time or all but the current
one, or all of them by an administrator (a customer_admin for its own organization); and the CSRF
check of every unsafe account endpoint when the browser's session cookie authenticates it."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from typing import Any

import pytest
from fastapi import FastAPI
from httpx import AsyncClient, Response
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from app.models import AuthSession, User
from app.models.enums import Role
from app.services.sessions import device_label
from tests.factories import (
    PASSWORD,
    Actor,
    audit_rows,
    client_at,
    make_actor,
    make_org,
    make_user,
    unique_ip,
)

FIREFOX = "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:133.0) Gecko/20100101 Firefox/133.0"
SAFARI_IPHONE = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1"
)


async def sign_in_from(app: FastAPI, user: User, ip: str, agent: str) -> Actor:
    async with client_at(app, ip, headers={"User-Agent": agent}) as c:
        r = await c.post("/api/auth/login", json={"email": user.email, "password": PASSWORD})
    assert r.status_code == 200, r.text
    return Actor(user=user, token=r.json()["access_token"])


async def me_status(client: AsyncClient, actor: Actor) -> int:
    return (await client.get("/api/me", headers=actor.headers)).status_code


async def sessions_of(client: AsyncClient, actor: Actor) -> list[dict[str, Any]]:
    r = await client.get("/api/me/sessions", headers=actor.headers)
    assert r.status_code == 200, r.text
    assert set(r.json()) == {"items"}
    return list(r.json()["items"])


class TestMySessions:
    async def test_list_names_device_address_and_the_current_one(
        self, client: AsyncClient, app: FastAPI, db: AsyncSession
    ) -> None:
        user = await make_user(db, role=Role.AGENT)
        office, phone_ip = unique_ip(), unique_ip()
        laptop = await sign_in_from(app, user, office, FIREFOX)
        phone = await sign_in_from(app, user, phone_ip, SAFARI_IPHONE)
        await make_actor(db, client, role=Role.AGENT)  # someone else's session

        items = await sessions_of(client, laptop)

        assert len(items) == 2
        assert all(
            set(i) == {"id", "current", "device", "ip", "created_at", "last_seen_at"} for i in items
        )
        by_ip = {i["ip"]: i for i in items}
        assert by_ip[office]["device"] == "Firefox 133 on Windows"
        assert by_ip[office]["current"] is True
        assert by_ip[phone_ip]["current"] is False
        assert "Safari" in by_ip[phone_ip]["device"] and "iOS" in by_ip[phone_ip]["device"]
        from_phone = await sessions_of(client, phone)
        assert [i["ip"] for i in from_phone if i["current"]] == [phone_ip]

    def test_device_labels(self) -> None:
        assert device_label(None) == "Unknown device"
        assert device_label("") == "Unknown device"
        assert device_label("curl/8.5.0").startswith("curl")
        assert device_label(FIREFOX) == "Firefox 133 on Windows"

    async def test_ending_one_session_kills_its_token_at_once(
        self, client: AsyncClient, app: FastAPI, db: AsyncSession
    ) -> None:
        user = await make_user(db, role=Role.AGENT)
        keep = await sign_in_from(app, user, unique_ip(), FIREFOX)
        lost = await sign_in_from(app, user, unique_ip(), SAFARI_IPHONE)
        [target] = [i for i in await sessions_of(client, keep) if not i["current"]]

        r = await client.delete(f"/api/me/sessions/{target['id']}", headers=keep.headers)

        assert r.status_code == 204, r.text
        assert await me_status(client, lost) == 401
        assert await me_status(client, keep) == 200
        assert target["id"] not in [i["id"] for i in await sessions_of(client, keep)]
        again = await client.delete(f"/api/me/sessions/{target['id']}", headers=keep.headers)
        assert again.status_code == 404
        [entry] = await audit_rows(db, user.id, "auth.session_revoked")
        assert entry.actor_id == user.id
        assert entry.new_value == {"session_id": target["id"], "current": False}

    async def test_ending_the_current_session_signs_out(
        self, client: AsyncClient, db: AsyncSession
    ) -> None:
        me = await make_actor(db, client, role=Role.AGENT)
        [mine] = await sessions_of(client, me)
        r = await client.delete(f"/api/me/sessions/{mine['id']}", headers=me.headers)
        assert r.status_code == 204
        assert await me_status(client, me) == 401

    async def test_another_users_session_is_not_found(
        self, client: AsyncClient, db: AsyncSession
    ) -> None:
        me = await make_actor(db, client, role=Role.ADMIN)
        other = await make_actor(db, client, role=Role.AGENT)
        [theirs] = await sessions_of(client, other)

        r = await client.delete(f"/api/me/sessions/{theirs['id']}", headers=me.headers)

        assert r.status_code == 404, r.text
        assert await me_status(client, other) == 200
        unknown = await client.delete(f"/api/me/sessions/{uuid.uuid4()}", headers=me.headers)
        assert unknown.status_code == 404
        bad = await client.delete("/api/me/sessions/not-a-uuid", headers=me.headers)
        assert bad.status_code == 422

    async def test_revoke_others_keeps_the_current_one(
        self, client: AsyncClient, app: FastAPI, db: AsyncSession
    ) -> None:
        user = await make_user(db, role=Role.AGENT)
        bystander = await make_actor(db, client, role=Role.AGENT)
        me = await sign_in_from(app, user, unique_ip(), FIREFOX)
        others = [await sign_in_from(app, user, unique_ip(), SAFARI_IPHONE) for _ in range(2)]

        r = await client.post("/api/me/sessions/revoke-others", headers=me.headers)

        assert r.status_code == 204, r.text
        assert await me_status(client, me) == 200
        for other in others:
            assert await me_status(client, other) == 401
        assert await me_status(client, bystander) == 200
        items = await sessions_of(client, me)
        assert [i["current"] for i in items] == [True]
        [entry] = await audit_rows(db, user.id, "auth.session_revoked")
        assert entry.new_value == {"others": True, "count": 2}

    async def test_last_seen_is_kept_up_to_date(
        self, client: AsyncClient, db: AsyncSession
    ) -> None:
        me = await make_actor(db, client, role=Role.AGENT)
        [mine] = await sessions_of(client, me)
        sid = uuid.UUID(mine["id"])

        async def last_seen() -> datetime:
            seen = await db.scalar(
                select(AuthSession.last_seen_at)
                .where(AuthSession.id == sid)
                .execution_options(populate_existing=True)
            )
            assert seen is not None
            return seen

        await db.execute(
            update(AuthSession)
            .where(AuthSession.id == sid)
            .values(last_seen_at=AuthSession.last_seen_at - timedelta(hours=2))
        )
        await db.flush()
        stale = await last_seen()

        assert await me_status(client, me) == 200

        assert await last_seen() > stale + timedelta(hours=1)
        listed = await sessions_of(client, me)
        assert datetime.fromisoformat(listed[0]["last_seen_at"]) > stale + timedelta(hours=1)

    async def test_sessions_need_a_session(self, client: AsyncClient) -> None:
        assert (await client.get("/api/me/sessions")).status_code == 401
        assert (await client.post("/api/me/sessions/revoke-others")).status_code == 401


class TestAdminEndsSessions:
    async def test_admin_ends_every_session_of_a_user(
        self, client: AsyncClient, db: AsyncSession
    ) -> None:
        admin = await make_actor(db, client, role=Role.ADMIN)
        target = await make_user(db, role=Role.AGENT)
        sessions = [await make_actor_for(client, target) for _ in range(2)]

        r = await client.delete(f"/api/users/{target.id}/sessions", headers=admin.headers)

        assert r.status_code == 204, r.text
        for actor in sessions:
            assert await me_status(client, actor) == 401
        assert await me_status(client, admin) == 200
        [entry] = await audit_rows(db, target.id, "auth.session_revoked")
        assert entry.actor_id == admin.id
        assert entry.new_value == {"all": True, "count": 2}

    async def test_customer_admin_ends_sessions_in_its_own_organization_only(
        self, client: AsyncClient, db: AsyncSession
    ) -> None:
        org, other_org = await make_org(db), await make_org(db)
        boss = await make_actor(db, client, role=Role.CUSTOMER_ADMIN, org=org)
        mine = await make_actor_for(client, await make_user(db, role=Role.CUSTOMER_USER, org=org))
        foreign = await make_actor_for(
            client, await make_user(db, role=Role.CUSTOMER_USER, org=other_org)
        )
        staff = await make_actor(db, client, role=Role.AGENT)

        for actor in (foreign, staff):
            r = await client.delete(f"/api/users/{actor.id}/sessions", headers=boss.headers)
            assert r.status_code == 404, r.text
            assert await me_status(client, actor) == 200
        r = await client.delete(f"/api/users/{mine.id}/sessions", headers=boss.headers)
        assert r.status_code == 204, r.text
        assert await me_status(client, mine) == 401

    @pytest.mark.parametrize("role", [Role.AGENT, Role.MANAGER, Role.CUSTOMER_USER])
    async def test_other_roles_may_not(
        self, client: AsyncClient, db: AsyncSession, role: Role
    ) -> None:
        org = await make_org(db)
        caller = await make_actor(db, client, role=role, org=None if role.is_staff else org)
        target = await make_actor_for(client, await make_user(db, role=Role.CUSTOMER_USER, org=org))
        r = await client.delete(f"/api/users/{target.id}/sessions", headers=caller.headers)
        assert r.status_code == 403, r.text
        assert await me_status(client, target) == 200


async def make_actor_for(client: AsyncClient, user: User) -> Actor:
    r = await client.post("/api/auth/login", json={"email": user.email, "password": PASSWORD})
    assert r.status_code == 200, r.text
    return Actor(user=user, token=r.json()["access_token"])


# --- CSRF for cookie-authenticated requests ----------------------------------------------------


def _unsafe(admin: User, target: User) -> list[tuple[str, str, dict[str, Any] | None]]:
    """Every unsafe endpoint of the account features that a session authenticates."""
    wrong = {"current_password": "not my password"}
    return [
        ("PATCH", "/api/me", {"name": "Forged Name"}),
        ("POST", "/api/me/password", {**wrong, "new_password": "violet tractor sings 42"}),
        ("POST", "/api/me/email", {**wrong, "new_email": "forged@example.test"}),
        ("DELETE", f"/api/me/sessions/{uuid.uuid4()}", None),
        ("POST", "/api/me/sessions/revoke-others", None),
        ("POST", "/api/me/mfa/totp", wrong),
        ("POST", "/api/me/mfa/totp/confirm", {"code": "123456"}),
        ("DELETE", "/api/me/mfa/totp", {**wrong, "code": "123456"}),
        ("POST", "/api/me/mfa/webauthn/register/options", wrong),
        ("POST", "/api/me/mfa/webauthn/register", {"credential": {}, "name": "Key"}),
        ("DELETE", f"/api/me/mfa/webauthn/keys/{uuid.uuid4()}", wrong),
        ("POST", "/api/me/mfa/recovery-codes", wrong),
        (
            "PUT",
            "/api/admin/mfa-policy",
            {"items": [{"role": "agent", "required": True, "grace_hours": 1}]},
        ),
        ("POST", f"/api/users/{target.id}/invitation", None),
        ("POST", f"/api/users/{target.id}/mfa/reset", None),
        ("DELETE", f"/api/users/{target.id}/sessions", None),
    ]


ENDPOINTS = 16


@pytest.fixture
async def browser(app: object, client: AsyncClient) -> AsyncIterator[AsyncClient]:
    """A client with a cookie jar, like a browser (same app and test transaction)."""
    async with client_at(app, unique_ip(), cookies=True) as c:
        yield c


async def send(
    browser: AsyncClient, call: tuple[str, str, dict[str, Any] | None], csrf: str | None
) -> Response:
    method, path, body = call
    headers = {"X-CSRF-Token": csrf} if csrf is not None else {}
    return await browser.request(method, path, json=body, headers=headers)


@pytest.mark.parametrize("index", range(ENDPOINTS))
async def test_cookie_requests_need_the_csrf_token(
    browser: AsyncClient, client: AsyncClient, db: AsyncSession, index: int
) -> None:
    admin = await make_user(db, role=Role.ADMIN, name="Original Name")
    target = await make_user(db, role=Role.AGENT)
    calls = _unsafe(admin, target)
    assert len(calls) == ENDPOINTS
    call = calls[index]
    signed = await browser.post(
        "/api/auth/login", json={"email": admin.email, "password": PASSWORD}
    )
    assert signed.status_code == 200, signed.text
    csrf = signed.json()["csrf_token"]
    helper = await make_actor_for(client, target)

    for presented in (None, "0" * 64):
        refused = await send(browser, call, presented)
        assert refused.status_code == 403, (call, refused.text)
        assert "CSRF" in refused.json()["detail"]
    # Nothing happened: the session, the profile and the other user's session are as they were.
    me = await browser.get("/api/me")
    assert me.status_code == 200 and me.json()["name"] == "Original Name"
    assert await me_status(client, helper) == 200

    accepted = await send(browser, call, csrf)
    assert accepted.status_code != 403, (call, accepted.text)
    assert accepted.status_code < 500, (call, accepted.text)
