"""Login, logout and the current user: answers, session revocation, audit and the login limits."""

from __future__ import annotations

import ipaddress
import secrets
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import pytest
from fastapi import FastAPI
from httpx import ASGITransport, AsyncClient, Response
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.config import get_settings
from app.models import AuditLog, User
from app.models.enums import Role
from tests.factories import PASSWORD, login, make_actor, make_org, make_user

ME_KEYS = {"id", "email", "name", "role", "org_id", "org_name", "is_active", "language"} | {
    "portal_visibility"
}
WRONG = "not the password at all"


def unique_ip() -> str:
    """A client address no other test uses, so per-IP counters never leak between tests."""
    return str(ipaddress.IPv4Address(0x0A000000 | secrets.randbits(24)))


@asynccontextmanager
async def client_at(app: FastAPI, ip: str) -> AsyncIterator[AsyncClient]:
    """A client whose requests come from *ip* (same app and test session as ``client``)."""
    transport = ASGITransport(app=app, client=(ip, 40000))
    async with AsyncClient(transport=transport, base_url="http://testserver") as c:
        yield c


async def post_login(
    client: AsyncClient, email: str, password: str, *, request_id: str | None = None
) -> Response:
    headers = {"X-Request-ID": request_id} if request_id else {}
    return await client.post(
        "/api/auth/login", json={"email": email, "password": password}, headers=headers
    )


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def assert_retry_after(response: Response) -> None:
    assert response.status_code == 429, response.text
    assert response.json()["code"] == "rate_limited"
    assert 0 < int(response.headers["Retry-After"]) <= get_settings().login_window_seconds


class TestLogin:
    async def test_success_answers_token_and_user(
        self, client: AsyncClient, db: AsyncSession
    ) -> None:
        org = await make_org(db)
        user = await make_user(db, role=Role.CUSTOMER_USER, org=org)

        r = await post_login(client, user.email, PASSWORD)

        assert r.status_code == 200, r.text
        body = r.json()
        assert body["access_token"]
        assert body["token_type"] == "bearer"
        assert isinstance(body["expires_in"], int) and body["expires_in"] > 0
        assert set(body["user"]) == ME_KEYS
        assert body["user"] == {
            "id": str(user.id),
            "email": user.email,
            "name": user.name,
            "role": "customer_user",
            "org_id": str(org.id),
            "org_name": org.name,
            "is_active": True,
            "language": "en",
            "portal_visibility": "organization",
        }
        me = await client.get("/api/me", headers=bearer(body["access_token"]))
        assert me.status_code == 200, me.text
        assert me.json() == body["user"]

    async def test_staff_user_has_no_organization(
        self, client: AsyncClient, db: AsyncSession
    ) -> None:
        user = await make_user(db, role=Role.AGENT)
        r = await post_login(client, user.email, PASSWORD)
        assert r.status_code == 200, r.text
        assert r.json()["user"]["org_id"] is None
        assert r.json()["user"]["org_name"] is None

    async def test_email_is_case_insensitive(self, client: AsyncClient, db: AsyncSession) -> None:
        user = await make_user(db, role=Role.AGENT)
        r = await post_login(client, f"  {user.email.upper()} ", PASSWORD)
        assert r.status_code == 200, r.text
        assert r.json()["user"]["email"] == user.email

    async def test_wrong_password_and_unknown_email_look_the_same(
        self, client: AsyncClient, db: AsyncSession
    ) -> None:
        user = await make_user(db, role=Role.AGENT)

        wrong = await post_login(client, user.email, WRONG)
        unknown = await post_login(client, f"nobody-{uuid.uuid4().hex}@example.test", WRONG)

        assert wrong.status_code == unknown.status_code == 401
        assert wrong.content == unknown.content
        assert wrong.json()["code"] == "invalid_credentials"
        assert "access_token" not in wrong.text

    async def test_deactivated_user_and_suspended_organization_cannot_log_in(
        self, client: AsyncClient, db: AsyncSession
    ) -> None:
        reference = await post_login(client, f"nobody-{uuid.uuid4().hex}@example.test", WRONG)
        inactive = await make_user(db, role=Role.AGENT, is_active=False)
        suspended = await make_org(db, status="suspended")
        customer = await make_user(db, role=Role.CUSTOMER_USER, org=suspended)

        for user in (inactive, customer):
            r = await post_login(client, user.email, PASSWORD)
            assert r.status_code == 401, (user.email, r.text)
            assert r.content == reference.content


class TestMalformedLogin:
    SECRET = "Sup3r-Secret-Passw0rd-Do-Not-Echo"

    async def test_missing_password_names_the_field(self, client: AsyncClient) -> None:
        r = await client.post("/api/auth/login", json={"email": "someone@example.test"})
        assert r.status_code == 422, r.text
        assert ["body", "password"] in [e["loc"] for e in r.json()["detail"]]

    async def test_extra_field_is_refused_without_echoing_the_password(
        self, client: AsyncClient
    ) -> None:
        r = await client.post(
            "/api/auth/login",
            json={"email": "someone@example.test", "password": "x", "password2": self.SECRET},
        )
        assert r.status_code == 422, r.text
        assert ["body", "password2"] in [e["loc"] for e in r.json()["detail"]]
        assert self.SECRET not in r.text

    @pytest.mark.parametrize(
        "content_type",
        ["application/json", "application/x-www-form-urlencoded", "text/plain"],
    )
    async def test_non_json_body_is_refused_without_echoing_the_password(
        self, client: AsyncClient, content_type: str
    ) -> None:
        r = await client.post(
            "/api/auth/login",
            content=f"email=someone@example.test&password={self.SECRET}",
            headers={"Content-Type": content_type},
        )
        assert r.status_code == 422, r.text
        assert self.SECRET not in r.text

    async def test_malformed_body_is_not_counted_as_a_failure(
        self, client: AsyncClient, db: AsyncSession, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.setattr(get_settings(), "login_max_failures_per_account", 1)
        user = await make_user(db, role=Role.AGENT)
        email = user.email
        await db.commit()  # a failing request rolls the test session back to its last commit
        for _ in range(3):
            r = await client.post("/api/auth/login", json={"email": email})
            assert r.status_code == 422
        assert (await post_login(client, email, PASSWORD)).status_code == 200


class TestSessions:
    async def test_logout_ends_only_that_session(
        self, client: AsyncClient, db: AsyncSession
    ) -> None:
        user = await make_user(db, role=Role.AGENT)
        user_id = str(user.id)
        first = await login(client, user)
        second = await login(client, user)

        r = await client.post("/api/auth/logout", headers=first.headers)
        assert r.status_code == 204
        assert r.content == b""

        assert (await client.get("/api/me", headers=first.headers)).status_code == 401
        assert (await client.post("/api/auth/logout", headers=first.headers)).status_code == 401
        again = await client.get("/api/me", headers=second.headers)
        assert again.status_code == 200, again.text
        assert again.json()["id"] == user_id

    async def test_deactivation_revokes_tokens_at_once(
        self, client: AsyncClient, db: AsyncSession
    ) -> None:
        admin = await make_actor(db, client, role=Role.ADMIN)
        target = await make_actor(db, client, role=Role.AGENT)
        email = target.user.email
        assert (await client.get("/api/me", headers=target.headers)).status_code == 200

        r = await client.patch(
            f"/api/users/{target.id}", json={"is_active": False}, headers=admin.headers
        )
        assert r.status_code == 200, r.text
        assert r.json()["is_active"] is False

        assert (await client.get("/api/me", headers=target.headers)).status_code == 401
        assert (await post_login(client, email, PASSWORD)).status_code == 401
        assert (await client.get("/api/me", headers=admin.headers)).status_code == 200

    async def test_password_change_revokes_tokens_and_replaces_password(
        self, client: AsyncClient, db: AsyncSession
    ) -> None:
        admin = await make_actor(db, client, role=Role.ADMIN)
        user = await make_user(db, role=Role.AGENT)
        email = user.email
        sessions = [await login(client, user), await login(client, user)]
        new_password = "a brand new passphrase"

        r = await client.patch(
            f"/api/users/{user.id}", json={"password": new_password}, headers=admin.headers
        )
        assert r.status_code == 200, r.text
        assert "password" not in r.json()

        for actor in sessions:
            assert (await client.get("/api/me", headers=actor.headers)).status_code == 401
        assert (await post_login(client, email, PASSWORD)).status_code == 401
        fresh = await post_login(client, email, new_password)
        assert fresh.status_code == 200, fresh.text
        me = await client.get("/api/me", headers=bearer(fresh.json()["access_token"]))
        assert me.status_code == 200
        assert (await client.get("/api/me", headers=admin.headers)).status_code == 200

    async def test_role_change_applies_to_existing_token(
        self, client: AsyncClient, db: AsyncSession
    ) -> None:
        admin = await make_actor(db, client, role=Role.ADMIN)
        org = await make_org(db)
        manager = await make_actor(db, client, role=Role.CUSTOMER_ADMIN, org=org)
        assert (await client.get("/api/users", headers=manager.headers)).status_code == 200

        r = await client.patch(
            f"/api/users/{manager.id}", json={"role": "customer_user"}, headers=admin.headers
        )
        assert r.status_code == 200, r.text

        assert (await client.get("/api/users", headers=manager.headers)).status_code == 403
        me = await client.get("/api/me", headers=manager.headers)
        assert me.status_code == 200
        assert me.json()["role"] == "customer_user"


class TestAudit:
    @staticmethod
    async def rows(db: AsyncSession, request_id: str) -> list[AuditLog]:
        return list(
            (await db.execute(select(AuditLog).where(AuditLog.request_id == request_id)))
            .scalars()
            .all()
        )

    async def test_login_failures_and_logout_are_audited(
        self, client: AsyncClient, app: FastAPI, db: AsyncSession
    ) -> None:
        user = await make_user(db, role=Role.AGENT)
        ip = unique_ip()
        ids = {name: f"test-{name}-{uuid.uuid4().hex}" for name in ("ok", "bad", "unknown", "out")}
        async with client_at(app, ip) as c:
            ok = await post_login(c, user.email, PASSWORD, request_id=ids["ok"])
            assert ok.status_code == 200
            await post_login(c, user.email, WRONG, request_id=ids["bad"])
            await post_login(
                c, f"ghost-{uuid.uuid4().hex}@example.test", WRONG, request_id=ids["unknown"]
            )
            out = await c.post(
                "/api/auth/logout",
                headers={**bearer(ok.json()["access_token"]), "X-Request-ID": ids["out"]},
            )
            assert out.status_code == 204

        expected: dict[str, tuple[str, uuid.UUID | None]] = {
            "ok": ("auth.login", user.id),
            "bad": ("auth.login_failed", user.id),
            "unknown": ("auth.login_failed", None),
            "out": ("auth.logout", user.id),
        }
        for name, (action, actor_id) in expected.items():
            rows = await self.rows(db, ids[name])
            assert [(r.action, r.actor_id) for r in rows] == [(action, actor_id)], name
            assert rows[0].ip == ip
        failed = (await self.rows(db, ids["bad"]))[0]
        assert failed.entity_id == user.id
        assert WRONG not in str(failed.new_value)

    async def test_incoming_request_id_is_kept(self, client: AsyncClient, db: AsyncSession) -> None:
        user = await make_user(db, role=Role.AGENT)
        r = await post_login(client, user.email, PASSWORD, request_id="test-req-12345678")
        assert r.status_code == 200
        assert r.headers["X-Request-ID"] == "test-req-12345678"
        rows = await self.rows(db, "test-req-12345678")
        assert [(row.action, row.actor_id) for row in rows] == [("auth.login", user.id)]
        assert rows[0].ip

    async def test_malformed_request_id_is_replaced(
        self, client: AsyncClient, db: AsyncSession
    ) -> None:
        user = await make_user(db, role=Role.AGENT)
        r = await post_login(client, user.email, PASSWORD, request_id="bad id\twith spaces")
        assert r.status_code == 200
        generated = r.headers["X-Request-ID"]
        assert generated != "bad id\twith spaces"
        assert [row.action for row in await self.rows(db, generated)] == ["auth.login"]


class TestAccountLimit:
    async def test_eleventh_attempt_is_refused_even_with_the_right_password(
        self, client: AsyncClient, app: FastAPI, db: AsyncSession
    ) -> None:
        user = await make_user(db, role=Role.AGENT)
        other = await make_user(db, role=Role.AGENT)
        async with client_at(app, unique_ip()) as c:
            for attempt in range(10):
                r = await post_login(c, user.email, WRONG)
                assert r.status_code == 401, attempt

            assert_retry_after(await post_login(c, user.email, PASSWORD))
            assert_retry_after(await post_login(c, user.email.upper(), PASSWORD))
            assert (await post_login(c, other.email, PASSWORD)).status_code == 200
        async with client_at(app, unique_ip()) as elsewhere:
            assert_retry_after(await post_login(elsewhere, user.email, PASSWORD))

    async def test_unknown_account_is_limited_like_a_real_one(
        self, client: AsyncClient, app: FastAPI, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.setattr(get_settings(), "login_max_failures_per_account", 2)
        ghost = f"ghost-{uuid.uuid4().hex}@example.test"
        async with client_at(app, unique_ip()) as c:
            for _ in range(2):
                assert (await post_login(c, ghost, WRONG)).status_code == 401
            assert_retry_after(await post_login(c, ghost, WRONG))

    async def test_success_resets_the_failure_count(
        self,
        client: AsyncClient,
        app: FastAPI,
        db: AsyncSession,
        monkeypatch: pytest.MonkeyPatch,
    ) -> None:
        monkeypatch.setattr(get_settings(), "login_max_failures_per_account", 4)
        email = (await make_user(db, role=Role.AGENT)).email
        async with client_at(app, unique_ip()) as c:
            for _ in range(3):
                assert (await post_login(c, email, WRONG)).status_code == 401
            assert (await post_login(c, email, PASSWORD)).status_code == 200

            for attempt in range(4):
                r = await post_login(c, email, WRONG)
                assert r.status_code == 401, attempt
            assert_retry_after(await post_login(c, email, PASSWORD))


class TestAddressLimit:
    async def test_failures_across_accounts_block_the_address(
        self,
        client: AsyncClient,
        app: FastAPI,
        db: AsyncSession,
        monkeypatch: pytest.MonkeyPatch,
    ) -> None:
        monkeypatch.setattr(get_settings(), "login_max_failures_per_ip", 3)
        users = [await make_user(db, role=Role.AGENT) for _ in range(3)]
        fresh = await make_user(db, role=Role.AGENT)
        async with client_at(app, unique_ip()) as c:
            assert (await post_login(c, users[0].email, WRONG)).status_code == 401
            assert (await post_login(c, users[1].email, WRONG)).status_code == 401
            assert (
                await post_login(c, f"ghost-{uuid.uuid4().hex}@example.test", WRONG)
            ).status_code == 401

            assert_retry_after(await post_login(c, fresh.email, PASSWORD))
            assert_retry_after(await post_login(c, users[2].email, PASSWORD))
        async with client_at(app, unique_ip()) as elsewhere:
            assert (await post_login(elsewhere, fresh.email, PASSWORD)).status_code == 200

    async def test_successes_from_one_address_are_not_counted(
        self,
        client: AsyncClient,
        app: FastAPI,
        db: AsyncSession,
        monkeypatch: pytest.MonkeyPatch,
    ) -> None:
        monkeypatch.setattr(get_settings(), "login_max_failures_per_ip", 3)
        users: list[User] = [await make_user(db, role=Role.AGENT) for _ in range(8)]
        async with client_at(app, unique_ip()) as office:
            answers = [(await post_login(office, u.email, PASSWORD)).status_code for u in users]
        assert answers == [200] * len(users)
