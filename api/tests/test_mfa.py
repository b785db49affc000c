"""Two-factor sign-in: TOTP enrolment and removal, the two-step login (replay, drift, attempt
limits), recovery codes, the per-role policy with its grace period and restricted sessions, the
administrator's reset, and what of WebAuthn can be checked without an authenticator (the real
round trip is a browser test).

TOTP codes are computed with pyotp against a clock the tests move (``app.services.mfa.utcnow``),
so no test depends on where in a 30-second window it happens to run."""

from __future__ import annotations

import base64
import os
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

import pyotp
import pytest
from fastapi import FastAPI
from httpx import AsyncClient, Response
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.config import get_settings
from app.models import AuditLog, AuthSession, RecoveryCode, User, WebAuthnCredential
from app.models.enums import Role
from app.services import mfa
from tests.factories import (
    PASSWORD,
    Actor,
    audit_rows,
    client_at,
    enable_totp,
    login,
    make_actor,
    make_org,
    make_user,
    outbox_mails,
    unique_ip,
)

STEP = 30
CHALLENGE_KEYS = {"mfa_required", "mfa_token", "methods", "webauthn_options"}


class Clock:
    """The time the TOTP checks see: the middle of a 30-second step, moved by whole steps."""

    def __init__(self) -> None:
        self.now = datetime.fromtimestamp(int(time.time()) // STEP * STEP + STEP // 2, UTC)

    def advance(self, steps: int = 1) -> None:
        self.now += timedelta(seconds=STEP * steps)

    def code(self, secret: str, offset: int = 0) -> str:
        return pyotp.TOTP(secret).at(self.now + timedelta(seconds=STEP * offset))

    def wrong(self, secret: str) -> str:
        """A six-digit code valid at none of the accepted steps."""
        valid = {self.code(secret, k) for k in (-1, 0, 1)}
        return next(c for c in (f"{n:06d}" for n in range(1, 10)) if c not in valid)


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Iterator[Clock]:
    c = Clock()
    monkeypatch.setattr(mfa, "utcnow", lambda: c.now)
    yield c


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def post_login(client: AsyncClient, user: User, password: str = PASSWORD) -> Response:
    return await client.post("/api/auth/login", json={"email": user.email, "password": password})


async def half_login(client: AsyncClient, user: User) -> str:
    r = await post_login(client, user)
    assert r.status_code == 200, r.text
    assert r.json()["mfa_required"] is True, r.text
    return str(r.json()["mfa_token"])


async def second_step(client: AsyncClient, mfa_token: str, **factor: Any) -> Response:
    return await client.post("/api/auth/login/mfa", json={"mfa_token": mfa_token, **factor})


async def sign_in(client: AsyncClient, user: User, secret: str, clock: Clock) -> Actor:
    """Both steps with the current code; the clock then moves on (a code works once)."""
    r = await second_step(client, await half_login(client, user), code=clock.code(secret))
    assert r.status_code == 200, r.text
    clock.advance()
    return Actor(user=user, token=r.json()["access_token"])


async def enrol(client: AsyncClient, actor: Actor, clock: Clock) -> tuple[str, list[str]]:
    """Set up TOTP through the API: the secret and the recovery codes."""
    begun = await client.post(
        "/api/me/mfa/totp", json={"current_password": PASSWORD}, headers=actor.headers
    )
    assert begun.status_code == 200, begun.text
    secret = str(begun.json()["secret"])
    done = await client.post(
        "/api/me/mfa/totp/confirm", json={"code": clock.code(secret)}, headers=actor.headers
    )
    assert done.status_code == 200, done.text
    clock.advance()
    return secret, list(done.json()["recovery_codes"])


async def session_count(db: AsyncSession, user_id: uuid.UUID) -> int:
    count = await db.scalar(
        select(func.count()).select_from(AuthSession).where(AuthSession.user_id == user_id)
    )
    return int(count or 0)


async def fresh(db: AsyncSession, user: User) -> User:
    await db.refresh(user)
    return user


# --- TOTP enrolment ----------------------------------------------------------------------------


class TestTotpEnrolment:
    async def test_enrolment_needs_the_current_password(
        self, client: AsyncClient, db: AsyncSession
    ) -> None:
        me = await make_actor(db, client, role=Role.AGENT)
        r = await client.post(
            "/api/me/mfa/totp", json={"current_password": "not my password"}, headers=me.headers
        )
        assert r.status_code == 400, r.text
        assert r.json()["code"] == "wrong_password"
        assert "secret" not in r.text
        assert (await fresh(db, me.user)).totp_pending_secret is None
        missing = await client.post("/api/me/mfa/totp", json={}, headers=me.headers)
        assert missing.status_code == 422

    async def test_secret_is_active_only_once_a_code_confirms_it(
        self, client: AsyncClient, db: AsyncSession, clock: Clock
    ) -> None:
        me = await make_actor(db, client, role=Role.AGENT)
        begun = await client.post(
            "/api/me/mfa/totp", json={"current_password": PASSWORD}, headers=me.headers
        )
        assert begun.status_code == 200, begun.text
        secret = begun.json()["secret"]
        assert len(base64.b32decode(secret)) >= 20
        uri = urlsplit(begun.json()["otpauth_uri"])
        assert (uri.scheme, uri.netloc) == ("otpauth", "totp")
        assert me.user.email in unquote(uri.path)
        assert parse_qs(uri.query)["secret"] == [secret]
        assert parse_qs(uri.query)["issuer"] == ["ATUM DESK"]
        assert begun.json()["qr_svg"].lstrip().startswith("<svg")
        stored = (await fresh(db, me.user)).totp_pending_secret
        assert stored is not None and secret not in stored

        # Pending: no second factor yet.
        status = (await client.get("/api/me/mfa", headers=me.headers)).json()
        assert status["totp"] is False and status["recovery_codes_left"] == 0
        plain = await post_login(client, me.user)
        assert plain.status_code == 200 and "access_token" in plain.json()

        wrong = await client.post(
            "/api/me/mfa/totp/confirm", json={"code": clock.wrong(secret)}, headers=me.headers
        )
        assert wrong.status_code == 422, wrong.text
        assert (await client.get("/api/me/mfa", headers=me.headers)).json()["totp"] is False

        done = await client.post(
            "/api/me/mfa/totp/confirm", json={"code": clock.code(secret)}, headers=me.headers
        )

        assert done.status_code == 200, done.text
        codes = done.json()["recovery_codes"]
        assert len(codes) == 10 and len(set(codes)) == 10
        assert all(len(c.replace("-", "")) >= 10 for c in codes)
        user = await fresh(db, me.user)
        assert user.mfa_enabled is True and user.totp_pending_secret is None
        assert user.totp_secret is not None and secret not in user.totp_secret
        hashes = (
            await db.execute(select(RecoveryCode.code_hash).where(RecoveryCode.user_id == me.id))
        ).scalars()
        assert all(not any(c in h for c in codes) for h in hashes)
        status = (await client.get("/api/me/mfa", headers=me.headers)).json()
        assert status == {
            "totp": True,
            "webauthn": [],
            "recovery_codes_left": 10,
            "required": False,
            "grace_until": None,
        }
        [enrolled] = await audit_rows(db, me.id, "auth.mfa_enrolled")
        assert enrolled.new_value == {"method": "totp"}
        again = await client.post(
            "/api/me/mfa/totp", json={"current_password": PASSWORD}, headers=me.headers
        )
        assert again.status_code == 409
        assert (await post_login(client, me.user)).json()["mfa_required"] is True

    async def test_new_recovery_codes_replace_the_old_ones(
        self, client: AsyncClient, db: AsyncSession, clock: Clock
    ) -> None:
        me = await make_actor(db, client, role=Role.AGENT)
        secret, old = await enrol(client, me, clock)
        wrong = await client.post(
            "/api/me/mfa/recovery-codes",
            json={"current_password": "not my password"},
            headers=me.headers,
        )
        assert wrong.status_code == 400
        r = await client.post(
            "/api/me/mfa/recovery-codes", json={"current_password": PASSWORD}, headers=me.headers
        )
        assert r.status_code == 200, r.text
        new = r.json()["recovery_codes"]
        assert len(new) == 10 and not set(new) & set(old)
        refused = await second_step(client, await half_login(client, me.user), recovery_code=old[0])
        assert refused.status_code == 401
        ok = await second_step(client, await half_login(client, me.user), recovery_code=new[0])
        assert ok.status_code == 200, ok.text
        del secret


# --- the two-step sign-in ----------------------------------------------------------------------


class TestTwoStepLogin:
    async def test_password_alone_gives_a_half_login_and_no_session(
        self, client: AsyncClient, db: AsyncSession, clock: Clock
    ) -> None:
        user = await make_user(db, role=Role.AGENT)
        secret = await enable_totp(db, user)
        before = await session_count(db, user.id)

        r = await post_login(client, user)

        assert r.status_code == 200, r.text
        body = r.json()
        assert set(body) <= CHALLENGE_KEYS
        assert body["mfa_required"] is True
        assert body["methods"] == ["totp", "recovery_code"]
        assert "access_token" not in body and "csrf_token" not in body
        assert "set-cookie" not in r.headers
        assert await session_count(db, user.id) == before
        token = body["mfa_token"]
        # The half-login opens nothing: not as a bearer token, not as the session cookie.
        assert (await client.get("/api/me", headers=bearer(token))).status_code == 401
        as_cookie = await client.get("/api/me", headers={"Cookie": f"atum_session={token}"})
        assert as_cookie.status_code == 401
        assert (await client.get("/api/me/mfa", headers=bearer(token))).status_code == 401

        done = await second_step(client, token, code=clock.code(secret))

        assert done.status_code == 200, done.text
        assert done.json()["mfa_required"] is False
        assert "atum_session=" in done.headers.get("set-cookie", "")
        me = await client.get("/api/me", headers=bearer(done.json()["access_token"]))
        assert me.status_code == 200 and me.json()["id"] == str(user.id)
        assert await session_count(db, user.id) == before + 1
        signed = await audit_rows(db, user.id, "auth.login")
        assert [e.new_value for e in signed] == [{"mfa": "totp"}]
        # The half-login was used up.
        again = await second_step(client, token, code=clock.code(secret, 1))
        assert again.status_code == 401

    async def test_a_code_works_once(
        self, client: AsyncClient, db: AsyncSession, clock: Clock
    ) -> None:
        user = await make_user(db, role=Role.AGENT)
        secret = await enable_totp(db, user)
        code = clock.code(secret)
        first = await second_step(client, await half_login(client, user), code=code)
        assert first.status_code == 200, first.text

        replay = await second_step(client, await half_login(client, user), code=code)

        assert replay.status_code == 401, replay.text
        assert replay.json()["code"] == "invalid_second_factor"
        assert "access_token" not in replay.text
        [failed] = await audit_rows(db, user.id, "auth.mfa_failed")
        assert failed.new_value == {"method": "totp"}
        clock.advance()
        later = await second_step(client, await half_login(client, user), code=clock.code(secret))
        assert later.status_code == 200, later.text

    async def test_one_step_of_drift_is_accepted_two_are_not(
        self, client: AsyncClient, db: AsyncSession, clock: Clock
    ) -> None:
        user = await make_user(db, role=Role.AGENT)
        secret = await enable_totp(db, user)
        token = await half_login(client, user)
        for offset in (-2, 2):
            r = await second_step(client, token, code=clock.code(secret, offset))
            assert r.status_code == 401, offset
        ahead = await second_step(client, token, code=clock.code(secret, 1))
        assert ahead.status_code == 200, ahead.text

        clock.advance(3)
        behind = await second_step(
            client, await half_login(client, user), code=clock.code(secret, -1)
        )
        assert behind.status_code == 200, behind.text

    async def test_half_login_dies_after_five_wrong_codes_and_the_account_is_limited(
        self, client: AsyncClient, app: FastAPI, db: AsyncSession, clock: Clock
    ) -> None:
        user = await make_user(db, role=Role.AGENT)
        secret = await enable_totp(db, user)
        async with client_at(app, unique_ip()) as c:
            token = await half_login(c, user)
            for attempt in range(5):
                r = await second_step(c, token, code=clock.wrong(secret))
                assert r.status_code == 401, attempt
            dead = await second_step(c, token, code=clock.code(secret))
            assert dead.status_code == 401, dead.text

            token = await half_login(c, user)
            for attempt in range(5):
                r = await second_step(c, token, code=clock.wrong(secret))
                assert r.status_code == 401, attempt
        # Ten failures on the account: even the right code from elsewhere waits.
        async with client_at(app, unique_ip()) as elsewhere:
            limited = await second_step(
                elsewhere, await half_login(elsewhere, user), code=clock.code(secret)
            )
        assert limited.status_code == 429, limited.text
        assert 0 < int(limited.headers["Retry-After"]) <= get_settings().login_window_seconds
        assert len(await audit_rows(db, user.id, "auth.mfa_failed")) == 10

    async def test_second_step_is_limited_per_client_address(
        self,
        client: AsyncClient,
        app: FastAPI,
        db: AsyncSession,
        clock: Clock,
        monkeypatch: pytest.MonkeyPatch,
    ) -> None:
        monkeypatch.setattr(get_settings(), "login_max_failures_per_ip", 3)
        first, second = await make_user(db, role=Role.AGENT), await make_user(db, role=Role.AGENT)
        secrets = {u.id: await enable_totp(db, u) for u in (first, second)}
        async with client_at(app, unique_ip()) as office:
            token = await half_login(office, first)
            for _ in range(2):
                wrong = await second_step(office, token, code=clock.wrong(secrets[first.id]))
                assert wrong.status_code == 401
            token = await half_login(office, second)
            wrong = await second_step(office, token, code=clock.wrong(secrets[second.id]))
            assert wrong.status_code == 401
            token = await half_login(office, second)
            limited = await second_step(office, token, code=clock.code(secrets[second.id]))
            assert limited.status_code == 429, limited.text
        async with client_at(app, unique_ip()) as elsewhere:
            ok = await second_step(elsewhere, token, code=clock.code(secrets[second.id]))
            assert ok.status_code == 200, ok.text

    async def test_recovery_code_works_once(
        self, client: AsyncClient, db: AsyncSession, clock: Clock
    ) -> None:
        me = await make_actor(db, client, role=Role.AGENT)
        _, codes = await enrol(client, me, clock)

        r = await second_step(client, await half_login(client, me.user), recovery_code=codes[0])

        assert r.status_code == 200, r.text
        token = r.json()["access_token"]
        status = (await client.get("/api/me/mfa", headers=bearer(token))).json()
        assert status["recovery_codes_left"] == 9
        [used] = await audit_rows(db, me.id, "auth.recovery_code_used")
        assert used.actor_id == me.id
        again = await second_step(client, await half_login(client, me.user), recovery_code=codes[0])
        assert again.status_code == 401, again.text
        # Typed differently (capitals, no dashes), another code still works.
        typed = codes[1].replace("-", "").upper()
        other = await second_step(client, await half_login(client, me.user), recovery_code=typed)
        assert other.status_code == 200, other.text

    @pytest.mark.parametrize(
        "factor",
        [{}, {"code": "123456", "recovery_code": "abcd-efgh-jkmn"}, {"code": "1" * 21}],
    )
    async def test_second_step_needs_exactly_one_factor(
        self, client: AsyncClient, db: AsyncSession, factor: dict[str, str]
    ) -> None:
        user = await make_user(db, role=Role.AGENT)
        await enable_totp(db, user)
        r = await second_step(client, await half_login(client, user), **factor)
        assert r.status_code == 422, r.text

    async def test_unknown_half_login_is_refused(self, client: AsyncClient) -> None:
        r = await second_step(client, "x" * 43, code="123456")
        assert r.status_code == 401 and "access_token" not in r.text


# --- removing TOTP -----------------------------------------------------------------------------


class TestTotpRemoval:
    async def test_removal_needs_the_password_and_a_code(
        self, client: AsyncClient, db: AsyncSession, clock: Clock
    ) -> None:
        me = await make_actor(db, client, role=Role.AGENT)
        secret, _ = await enrol(client, me, clock)

        async def remove(password: str, code: str) -> Response:
            return await client.request(
                "DELETE",
                "/api/me/mfa/totp",
                json={"current_password": password, "code": code},
                headers=me.headers,
            )

        no_password = await remove("not my password", clock.code(secret))
        assert no_password.status_code == 400 and no_password.json()["code"] == "wrong_password"
        no_code = await remove(PASSWORD, clock.wrong(secret))
        assert no_code.status_code == 422, no_code.text
        assert (await client.get("/api/me/mfa", headers=me.headers)).json()["totp"] is True

        ok = await remove(PASSWORD, clock.code(secret))

        assert ok.status_code == 204, ok.text
        assert (await client.get("/api/me/mfa", headers=me.headers)).json()["totp"] is False
        assert (await fresh(db, me.user)).mfa_enabled is False
        assert "access_token" in (await post_login(client, me.user)).json()
        [removed] = await audit_rows(db, me.id, "auth.mfa_removed")
        assert removed.new_value == {"method": "totp"}

    async def test_last_factor_of_a_role_that_requires_one_stays(
        self, client: AsyncClient, db: AsyncSession, clock: Clock
    ) -> None:
        me = await make_actor(db, client, role=Role.ADMIN)
        secret, _ = await enrol(client, me, clock)
        r = await client.request(
            "DELETE",
            "/api/me/mfa/totp",
            json={"current_password": PASSWORD, "code": clock.code(secret)},
            headers=me.headers,
        )
        assert r.status_code == 409, r.text
        assert (await fresh(db, me.user)).mfa_enabled is True
        assert await audit_rows(db, me.id, "auth.mfa_removed") == []


# --- the policy --------------------------------------------------------------------------------


class TestPolicy:
    async def test_admins_and_managers_need_a_second_factor_by_default(
        self, client: AsyncClient, db: AsyncSession
    ) -> None:
        admin = await make_actor(db, client, role=Role.ADMIN)
        r = await client.get("/api/admin/mfa-policy", headers=admin.headers)
        assert r.status_code == 200, r.text
        policy = {i["role"]: (i["required"], i["grace_hours"]) for i in r.json()["items"]}
        assert policy == {
            "admin": (True, 72),
            "manager": (True, 72),
            "agent": (False, 72),
            "customer_admin": (False, 72),
            "customer_user": (False, 72),
        }
        for role in (Role.MANAGER, Role.AGENT, Role.CUSTOMER_ADMIN):
            other = await make_actor(db, client, role=role)
            assert (
                await client.get("/api/admin/mfa-policy", headers=other.headers)
            ).status_code == 403
        agent = await post_login(client, await make_user(db, role=Role.AGENT))
        assert agent.json()["mfa_setup_required"] is False
        assert agent.json()["mfa_grace_until"] is None

    async def test_grace_period_then_a_session_that_can_only_enrol(
        self, client: AsyncClient, db: AsyncSession, clock: Clock
    ) -> None:
        user = await make_user(db, role=Role.ADMIN)

        first = await post_login(client, user)

        assert first.status_code == 200, first.text
        body = first.json()
        assert body["mfa_setup_required"] is True and body["restricted"] is False
        until = datetime.fromisoformat(body["mfa_grace_until"])
        assert until == clock.now + timedelta(hours=72)
        token = body["access_token"]
        assert (await client.get("/api/internal/tickets", headers=bearer(token))).status_code == 200
        # The grace period started at the first sign-in, not at every one.
        clock.advance(10)
        second = await post_login(client, user)
        assert datetime.fromisoformat(second.json()["mfa_grace_until"]) == until

        user.mfa_grace_started_at = clock.now - timedelta(hours=72, seconds=1)
        await db.flush()
        late = await post_login(client, user)

        assert late.status_code == 200, late.text
        assert late.json()["restricted"] is True and late.json()["mfa_setup_required"] is True
        limited = Actor(user=user, token=late.json()["access_token"])
        assert (await client.get("/api/me", headers=limited.headers)).status_code == 200
        for path in ("/api/internal/tickets", "/api/users", "/api/me/sessions"):
            refused = await client.get(path, headers=limited.headers)
            assert refused.status_code == 403, path
            assert refused.json()["code"] == "mfa_enrolment_required"
        status = (await client.get("/api/me/mfa", headers=limited.headers)).json()
        assert status["required"] is True and status["totp"] is False
        # Sessions from before the grace period ended are not restricted.
        assert (await client.get("/api/internal/tickets", headers=bearer(token))).status_code == 200
        [restricted] = [
            e for e in await audit_rows(db, user.id, "auth.login") if e.new_value is not None
        ]
        assert restricted.new_value == {"restricted": "mfa_enrolment"}

        secret, codes = await enrol(client, limited, clock)

        assert len(codes) == 10
        full = await sign_in(client, user, secret, clock)
        assert (await client.get("/api/internal/tickets", headers=full.headers)).status_code == 200

    async def test_admin_changes_the_policy(
        self, client: AsyncClient, db: AsyncSession, clock: Clock
    ) -> None:
        admin = await make_actor(db, client, role=Role.ADMIN)
        manager = await make_actor(db, client, role=Role.MANAGER)
        change = {"items": [{"role": "agent", "required": True, "grace_hours": 0}]}

        refused = await client.put("/api/admin/mfa-policy", json=change, headers=manager.headers)
        assert refused.status_code == 403
        r = await client.put("/api/admin/mfa-policy", json=change, headers=admin.headers)

        assert r.status_code == 200, r.text
        items = {i["role"]: i for i in r.json()["items"]}
        assert items["agent"] == {"role": "agent", "required": True, "grace_hours": 0}
        assert items["admin"]["required"] is True
        entries = (
            await db.execute(select(AuditLog).where(AuditLog.action == "mfa.policy_updated"))
        ).scalars()
        [entry] = [e for e in entries if e.actor_id == admin.id]
        assert entry.new_value == {"agent": {"required": True, "grace_hours": 0}}
        agent = await post_login(client, await make_user(db, role=Role.AGENT))
        assert agent.json()["restricted"] is True
        # An unchanged policy writes no entry.
        same = await client.put("/api/admin/mfa-policy", json=change, headers=admin.headers)
        assert same.status_code == 200
        count = await db.scalar(
            select(func.count())
            .select_from(AuditLog)
            .where(AuditLog.action == "mfa.policy_updated", AuditLog.actor_id == admin.id)
        )
        assert count == 1

    @pytest.mark.parametrize(
        "item",
        [
            {"role": "agent", "required": True, "grace_hours": -1},
            {"role": "root", "required": True, "grace_hours": 1},
            {"role": "agent", "required": "yes", "grace_hours": 1},
            {"role": "agent", "required": True},
        ],
    )
    async def test_bad_policy_is_refused(
        self, client: AsyncClient, db: AsyncSession, item: dict[str, Any]
    ) -> None:
        admin = await make_actor(db, client, role=Role.ADMIN)
        r = await client.put("/api/admin/mfa-policy", json={"items": [item]}, headers=admin.headers)
        assert r.status_code == 422, r.text


# --- the administrator's reset -----------------------------------------------------------------


class TestAdminReset:
    async def test_reset_removes_every_factor_ends_sessions_and_mails_the_user(
        self, client: AsyncClient, db: AsyncSession, clock: Clock
    ) -> None:
        admin = await make_actor(db, client, role=Role.ADMIN)
        target = await make_actor(db, client, role=Role.AGENT)
        secret, _ = await enrol(client, target, clock)
        current = await sign_in(client, target.user, secret, clock)

        r = await client.post(f"/api/users/{target.id}/mfa/reset", headers=admin.headers)

        assert r.status_code == 204, r.text
        for actor in (target, current):
            assert (await client.get("/api/me", headers=actor.headers)).status_code == 401
        user = await fresh(db, target.user)
        assert (user.mfa_enabled, user.totp_secret, user.totp_pending_secret) == (False, None, None)
        left = await db.scalar(
            select(func.count()).select_from(RecoveryCode).where(RecoveryCode.user_id == user.id)
        )
        assert left == 0
        again = await post_login(client, user)
        assert "access_token" in again.json(), again.text
        [mail] = await outbox_mails(db, user.email, "account_mfa_reset")
        assert admin.user.name in mail.body_text
        [entry] = await audit_rows(db, user.id, "auth.mfa_removed")
        assert entry.actor_id == admin.id
        assert entry.new_value == {"method": "all", "by_admin": True}

    async def test_only_admins_reset_and_not_their_own(
        self, client: AsyncClient, db: AsyncSession
    ) -> None:
        admin = await make_actor(db, client, role=Role.ADMIN)
        org = await make_org(db)
        target = await make_user(db, role=Role.CUSTOMER_USER, org=org)
        secret = await enable_totp(db, target)
        for role in (Role.MANAGER, Role.AGENT, Role.CUSTOMER_ADMIN):
            other = await make_actor(db, client, role=role, org=None if role.is_staff else org)
            r = await client.post(f"/api/users/{target.id}/mfa/reset", headers=other.headers)
            assert r.status_code == 403, role
        own = await client.post(f"/api/users/{admin.id}/mfa/reset", headers=admin.headers)
        assert own.status_code == 409
        unknown = await client.post(f"/api/users/{uuid.uuid4()}/mfa/reset", headers=admin.headers)
        assert unknown.status_code == 404
        user = await fresh(db, target)
        assert user.mfa_enabled is True and user.totp_secret is not None
        del secret


# --- WebAuthn (without an authenticator) -------------------------------------------------------


def b64url(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def unb64url(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


GARBAGE_CREDENTIAL = {
    "id": b64url(b"not a real key"),
    "rawId": b64url(b"not a real key"),
    "type": "public-key",
    "response": {
        "clientDataJSON": b64url(b'{"type":"webauthn.create","challenge":"AAAA"}'),
        "attestationObject": b64url(b"\xa0garbage"),
    },
}


class TestWebAuthn:
    async def test_registration_options_name_the_relying_party_of_the_public_url(
        self, client: AsyncClient, db: AsyncSession, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.setattr(get_settings(), "public_url", "https://desk.example.com:8443/")
        me = await make_actor(db, client, role=Role.AGENT)
        wrong = await client.post(
            "/api/me/mfa/webauthn/register/options",
            json={"current_password": "not my password"},
            headers=me.headers,
        )
        assert wrong.status_code == 400 and wrong.json()["code"] == "wrong_password"

        r = await client.post(
            "/api/me/mfa/webauthn/register/options",
            json={"current_password": PASSWORD},
            headers=me.headers,
        )

        assert r.status_code == 200, r.text
        options = r.json()
        assert options["rp"] == {"id": "desk.example.com", "name": "ATUM DESK"}
        assert options["user"]["name"] == me.user.email
        assert options["user"]["displayName"] == me.user.name
        assert unb64url(options["user"]["id"]) == me.id.bytes
        assert len(unb64url(options["challenge"])) >= 16
        assert -7 in [p["alg"] for p in options["pubKeyCredParams"]]
        assert options["excludeCredentials"] == []
        again = await client.post(
            "/api/me/mfa/webauthn/register/options",
            json={"current_password": PASSWORD},
            headers=me.headers,
        )
        assert again.json()["challenge"] != options["challenge"]

        monkeypatch.setattr(get_settings(), "webauthn_rp_id", "example.com")
        explicit = await client.post(
            "/api/me/mfa/webauthn/register/options",
            json={"current_password": PASSWORD},
            headers=me.headers,
        )
        assert explicit.json()["rp"]["id"] == "example.com"

    async def test_garbage_credential_is_refused_and_nothing_is_stored(
        self, client: AsyncClient, db: AsyncSession
    ) -> None:
        me = await make_actor(db, client, role=Role.AGENT)
        unasked = await client.post(
            "/api/me/mfa/webauthn/register",
            json={"credential": GARBAGE_CREDENTIAL, "name": "Key"},
            headers=me.headers,
        )
        assert unasked.status_code == 409, unasked.text
        options = await client.post(
            "/api/me/mfa/webauthn/register/options",
            json={"current_password": PASSWORD},
            headers=me.headers,
        )
        assert options.status_code == 200

        for credential in (GARBAGE_CREDENTIAL, {}, {"rawId": 5}):
            r = await client.post(
                "/api/me/mfa/webauthn/register",
                json={"credential": credential, "name": "Key"},
                headers=me.headers,
            )
            assert r.status_code == 422, r.text
            assert r.json()["code"] == "invalid"

        stored = await db.scalar(
            select(func.count())
            .select_from(WebAuthnCredential)
            .where(WebAuthnCredential.user_id == me.id)
        )
        assert stored == 0
        assert (await fresh(db, me.user)).mfa_enabled is False
        status = (await client.get("/api/me/mfa", headers=me.headers)).json()
        assert status["webauthn"] == [] and status["recovery_codes_left"] == 0
        assert await audit_rows(db, me.id, "auth.mfa_enrolled") == []

    async def test_a_registered_key_is_offered_at_sign_in_and_a_bad_assertion_refused(
        self, client: AsyncClient, db: AsyncSession, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.setattr(get_settings(), "public_url", "https://desk.example.com")
        user = await make_user(db, role=Role.AGENT)
        credential_id = os.urandom(16)
        key = WebAuthnCredential(
            user_id=user.id, credential_id=credential_id, public_key=b"\x00" * 77, name="Blue key"
        )
        db.add(key)
        user.mfa_enabled = True
        await db.flush()

        r = await post_login(client, user)

        assert r.status_code == 200, r.text
        body = r.json()
        assert body["methods"] == ["webauthn", "recovery_code"]
        options = body["webauthn_options"]
        assert options["rpId"] == "desk.example.com"
        assert [c["id"] for c in options["allowCredentials"]] == [b64url(credential_id)]
        assert len(unb64url(options["challenge"])) >= 16
        assertion = {
            "id": b64url(credential_id),
            "rawId": b64url(credential_id),
            "type": "public-key",
            "response": {
                "clientDataJSON": b64url(b"{}"),
                "authenticatorData": b64url(b"\x00" * 37),
                "signature": b64url(b"\x00" * 64),
            },
        }
        malformed = [
            assertion,
            {"rawId": b64url(credential_id)},
            {**assertion, "response": {}},
            {**assertion, "type": "password"},
            {"rawId": 7},
        ]
        for bad in malformed:
            refused = await second_step(client, body["mfa_token"], webauthn=bad)
            assert refused.status_code == 401, refused.text
        failed = await audit_rows(db, user.id, "auth.mfa_failed")
        assert [e.new_value for e in failed] == [{"method": "webauthn"}] * len(malformed)

        me = await login_without_factor(client, db, user)
        keys = (await client.get("/api/me/mfa", headers=me.headers)).json()["webauthn"]
        assert [k["name"] for k in keys] == ["Blue key"]
        removed = await client.request(
            "DELETE",
            f"/api/me/mfa/webauthn/keys/{keys[0]['id']}",
            json={"current_password": PASSWORD},
            headers=me.headers,
        )
        assert removed.status_code == 204, removed.text
        assert (await fresh(db, user)).mfa_enabled is False
        assert "access_token" in (await post_login(client, user)).json()


async def login_without_factor(client: AsyncClient, db: AsyncSession, user: User) -> Actor:
    """A session for a user with a key we cannot use here (flag off for one sign-in)."""
    user.mfa_enabled = False
    await db.flush()
    actor = await login(client, user)
    user.mfa_enabled = True
    await db.flush()
    return actor
