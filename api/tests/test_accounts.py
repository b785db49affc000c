"""Accounts: invitations, forgotten passwords, the password policy, password and e-mail changes
and the profile (API-2.md "Accounts"). Mails are read from the outbox; their links are sealed
there and opened like the worker does (``account_mail.open_link``)."""

from __future__ import annotations

import base64
import email
import hashlib
import statistics
import time
import uuid
from datetime import timedelta
from email.message import Message
from typing import Any

import pytest
from fastapi import FastAPI
from httpx import AsyncClient, Response
from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from app.config import get_settings
from app.models import AccountToken, User
from app.models.enums import Role
from app.utils.clock import utcnow
from app.worker import Claimed, build_message
from tests.factories import (
    PASSWORD,
    Actor,
    audit_rows,
    client_at,
    enable_totp,
    login,
    mail_link,
    mailed_tokens,
    make_actor,
    make_org,
    make_user,
    only_token,
    outbox_mails,
    unique_ip,
)

GOOD = "violet tractor sings under 42 moons"
GOOD2 = "amber lantern drifts past 17 harbors"
NEUTRAL = {"detail": "This link is invalid or has expired", "code": "invalid_token"}
INVITE = "account_invitation"
RESET = "account_password_reset"
CHANGED = "account_password_changed"


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def post_login(client: AsyncClient, email_: str, password: str) -> Response:
    return await client.post("/api/auth/login", json={"email": email_, "password": password})


async def expire_tokens(db: AsyncSession, user_id: uuid.UUID, purpose: str) -> None:
    """Move the live tokens of *user_id* just past their expiry (the database clock decides)."""
    await db.execute(
        update(AccountToken)
        .where(AccountToken.user_id == user_id, AccountToken.purpose == purpose)
        .values(expires_at=func.now() - timedelta(seconds=1))
    )
    await db.flush()


async def live_tokens(db: AsyncSession, user_id: uuid.UUID, purpose: str) -> list[AccountToken]:
    rows = await db.execute(
        select(AccountToken).where(
            AccountToken.user_id == user_id,
            AccountToken.purpose == purpose,
            AccountToken.used_at.is_(None),
        )
    )
    return list(rows.scalars())


async def user_row(db: AsyncSession, user_id: uuid.UUID) -> User:
    user = await db.get(User, user_id)
    assert user is not None
    await db.refresh(user)
    return user


# --- invitations -------------------------------------------------------------------------------


async def invite(
    client: AsyncClient, actor: Actor, *, role: str = "customer_user", **body: Any
) -> Response:
    payload = {
        "email": f"invitee-{uuid.uuid4().hex[:10]}@example.test",
        "name": "Invited Person",
        "role": role,
        **body,
    }
    return await client.post("/api/users", json=payload, headers=actor.headers)


class TestInvitation:
    async def test_user_without_password_is_invited_with_a_sealed_single_use_link(
        self, client: AsyncClient, db: AsyncSession
    ) -> None:
        admin = await make_actor(db, client, role=Role.ADMIN)
        org = await make_org(db)

        r = await invite(client, admin, org_id=str(org.id))

        assert r.status_code == 201, r.text
        created = r.json()
        assert created["status"] == "invited"
        assert created["is_active"] is True
        user_id = uuid.UUID(created["id"])
        mails = await outbox_mails(db, created["email"])
        assert [m.template for m in mails] == [INVITE]
        mail = mails[0]
        link = mail_link(mail)
        prefix = get_settings().public_url.rstrip("/") + "/welcome/"
        assert link.startswith(prefix), link
        token = link.removeprefix(prefix)
        # 256 bits from secrets (at least 128), URL-safe base64.
        assert len(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))) >= 16
        # Neither the token nor its link is stored readable.
        for stored in (mail.body_text, mail.body_html, mail.subject):
            assert token not in stored
        assert mail.sealed_link and token not in mail.sealed_link and link != mail.sealed_link
        rows = await live_tokens(db, user_id, "invitation")
        assert len(rows) == 1
        assert rows[0].token_hash == hashlib.sha256(token.encode()).digest()
        assert rows[0].new_email is None and rows[0].data is None
        # The worker puts the link back in both parts of the mail it sends.
        sent = email.message_from_bytes(
            build_message(
                Claimed(
                    id=mail.id,
                    recipient=mail.recipient_email,
                    subject=mail.subject,
                    body_text=mail.body_text,
                    body_html=mail.body_html,
                    attempts=0,
                    sealed_link=mail.sealed_link,
                ),
                get_settings(),
            )
        )
        parts = [p for p in sent.walk() if isinstance(p, Message) and not p.is_multipart()]
        assert len(parts) == 2
        for part in parts:
            payload = part.get_payload(decode=True)
            assert isinstance(payload, bytes)
            assert link in payload.decode(), part.get_content_type()
        # Nobody can sign in before the invitation is accepted.
        assert (await post_login(client, created["email"], "!")).status_code == 401
        [invited] = await audit_rows(db, user_id, "user.invited")
        assert invited.actor_id == admin.id

    async def test_accept_sets_the_password_once(
        self, client: AsyncClient, db: AsyncSession
    ) -> None:
        admin = await make_actor(db, client, role=Role.ADMIN)
        r = await invite(client, admin, role="agent")
        assert r.status_code == 201, r.text
        address, user_id = r.json()["email"], uuid.UUID(r.json()["id"])
        token = await only_token(db, address, INVITE)

        info = await client.post("/api/auth/invitation/inspect", json={"token": token})
        assert info.status_code == 200, info.text
        assert info.json() == {"email": address, "name": "Invited Person", "mfa_required": False}

        weak = await client.post(
            "/api/auth/invitation/accept", json={"token": token, "password": "password1234"}
        )
        assert weak.status_code == 422, weak.text
        # A refused password does not use the invitation up.
        ok = await client.post(
            "/api/auth/invitation/accept", json={"token": token, "password": GOOD}
        )
        assert ok.status_code == 204, ok.text
        assert ok.content == b""

        user = await user_row(db, user_id)
        assert user.status == "active"
        assert (await post_login(client, address, GOOD)).status_code == 200
        again = await client.post(
            "/api/auth/invitation/accept", json={"token": token, "password": GOOD2}
        )
        garbage = await client.post(
            "/api/auth/invitation/accept", json={"token": "x" * 43, "password": GOOD2}
        )
        assert again.status_code == garbage.status_code == 400
        assert again.content == garbage.content
        assert again.json() == NEUTRAL
        assert (await post_login(client, address, GOOD2)).status_code == 401
        got = await client.get(f"/api/users/{user_id}", headers=admin.headers)
        assert got.json()["status"] == "active"
        [accepted] = await audit_rows(db, user_id, "user.invitation_accepted")
        assert accepted.actor_id == user_id
        assert GOOD not in str(accepted.new_value)

    async def test_resend_kills_the_previous_link(
        self, client: AsyncClient, db: AsyncSession
    ) -> None:
        admin = await make_actor(db, client, role=Role.ADMIN)
        r = await invite(client, admin, role="agent")
        address, user_id = r.json()["email"], r.json()["id"]
        first = await only_token(db, address, INVITE)

        again = await client.post(f"/api/users/{user_id}/invitation", headers=admin.headers)
        assert again.status_code == 202, again.text
        tokens = await mailed_tokens(db, address, INVITE)
        assert len(tokens) == 2
        [second] = tokens - {first}

        old = await client.post(
            "/api/auth/invitation/accept", json={"token": first, "password": GOOD}
        )
        assert old.status_code == 400 and old.json() == NEUTRAL
        new = await client.post(
            "/api/auth/invitation/accept", json={"token": second, "password": GOOD}
        )
        assert new.status_code == 204, new.text
        # An account with a password gets no invitation any more.
        active = await client.post(f"/api/users/{user_id}/invitation", headers=admin.headers)
        assert active.status_code == 409, active.text

    async def test_expired_invitation_is_refused(
        self, client: AsyncClient, db: AsyncSession
    ) -> None:
        admin = await make_actor(db, client, role=Role.ADMIN)
        r = await invite(client, admin, role="agent")
        address, user_id = r.json()["email"], uuid.UUID(r.json()["id"])
        token = await only_token(db, address, INVITE)
        [row] = await live_tokens(db, user_id, "invitation")
        lifetime = row.expires_at - utcnow()
        hours = get_settings().invitation_hours
        assert timedelta(hours=hours) - timedelta(minutes=5) < lifetime <= timedelta(hours=hours)

        await expire_tokens(db, user_id, "invitation")

        r = await client.post(
            "/api/auth/invitation/accept", json={"token": token, "password": GOOD}
        )
        assert r.status_code == 400 and r.json() == NEUTRAL
        inspect = await client.post("/api/auth/invitation/inspect", json={"token": token})
        assert inspect.status_code == 400

    async def test_deactivated_users_invitation_is_refused(
        self, client: AsyncClient, db: AsyncSession
    ) -> None:
        admin = await make_actor(db, client, role=Role.ADMIN)
        r = await invite(client, admin, role="agent")
        address, user_id = r.json()["email"], r.json()["id"]
        token = await only_token(db, address, INVITE)
        off = await client.patch(
            f"/api/users/{user_id}", json={"is_active": False}, headers=admin.headers
        )
        assert off.status_code == 200 and off.json()["status"] == "deactivated"

        r = await client.post(
            "/api/auth/invitation/accept", json={"token": token, "password": GOOD}
        )
        assert r.status_code == 400 and r.json() == NEUTRAL
        resend = await client.post(f"/api/users/{user_id}/invitation", headers=admin.headers)
        assert resend.status_code == 409
        assert await mailed_tokens(db, address, INVITE) == {token}

    async def test_customer_admin_invites_into_its_own_organization_only(
        self, client: AsyncClient, db: AsyncSession
    ) -> None:
        org, other = await make_org(db), await make_org(db)
        boss = await make_actor(db, client, role=Role.CUSTOMER_ADMIN, org=org)
        stranger = await make_user(db, role=Role.CUSTOMER_USER, org=other)

        mine = await invite(client, boss)
        assert mine.status_code == 201, mine.text
        assert mine.json()["org_id"] == str(org.id)
        assert mine.json()["status"] == "invited"
        assert len(await outbox_mails(db, mine.json()["email"], INVITE)) == 1

        elsewhere = await invite(client, boss, org_id=str(other.id))
        assert elsewhere.status_code == 404, elsewhere.text
        for role in ("agent", "manager", "admin"):
            staff = await invite(client, boss, role=role)
            assert staff.status_code == 403, (role, staff.text)
        foreign = await client.post(f"/api/users/{stranger.id}/invitation", headers=boss.headers)
        assert foreign.status_code == 404
        resend = await client.post(
            f"/api/users/{mine.json()['id']}/invitation", headers=boss.headers
        )
        assert resend.status_code == 202

    async def test_invitation_dies_once_the_account_has_a_password(
        self, client: AsyncClient, db: AsyncSession
    ) -> None:
        """An invited person who chose a password through "forgot password" instead: the
        invitation mail must not set (overwrite) the password later."""
        admin = await make_actor(db, client, role=Role.ADMIN)
        r = await invite(client, admin, role="agent")
        address = r.json()["email"]
        invitation = await only_token(db, address, INVITE)
        assert (await forgot(client, address)).status_code == 202
        assert (await reset(client, await only_token(db, address, RESET))).status_code == 204
        signed_in = await post_login(client, address, GOOD)
        assert signed_in.status_code == 200

        late = await client.post(
            "/api/auth/invitation/accept", json={"token": invitation, "password": GOOD2}
        )

        assert late.status_code == 400 and late.json() == NEUTRAL
        assert (await post_login(client, address, GOOD)).status_code == 200
        me = await client.get("/api/me", headers=bearer(signed_in.json()["access_token"]))
        assert me.status_code == 200

    async def test_invitation_of_a_suspended_organization_is_refused(
        self, client: AsyncClient, db: AsyncSession
    ) -> None:
        admin = await make_actor(db, client, role=Role.ADMIN)
        org = await make_org(db)
        r = await invite(client, admin, org_id=str(org.id))
        token = await only_token(db, r.json()["email"], INVITE)
        org.status = "suspended"
        await db.flush()
        r = await client.post(
            "/api/auth/invitation/accept", json={"token": token, "password": GOOD}
        )
        assert r.status_code == 400 and r.json() == NEUTRAL


# --- forgotten password ------------------------------------------------------------------------


async def forgot(client: AsyncClient, address: str) -> Response:
    return await client.post("/api/auth/password/forgot", json={"email": address})


async def reset(client: AsyncClient, token: str, password: str = GOOD) -> Response:
    return await client.post(
        "/api/auth/password/reset", json={"token": token, "password": password}
    )


def ghost() -> str:
    return f"ghost-{uuid.uuid4().hex}@example.test"


class TestForgotPassword:
    async def test_known_and_unknown_addresses_get_the_same_answer(
        self, client: AsyncClient, db: AsyncSession
    ) -> None:
        user = await make_user(db, role=Role.AGENT)
        unknown = ghost()

        known_answer = await forgot(client, user.email.upper())
        unknown_answer = await forgot(client, unknown)

        assert known_answer.status_code == unknown_answer.status_code == 202
        assert known_answer.content == unknown_answer.content
        assert "set-cookie" not in known_answer.headers
        [mail] = await outbox_mails(db, user.email)
        assert mail.template == RESET
        assert await outbox_mails(db, unknown) == []
        link = mail_link(mail)
        token = link.rsplit("/", 1)[1]
        assert link == get_settings().public_url.rstrip("/") + f"/reset-password/{token}"
        assert token not in mail.body_text and token not in mail.body_html
        assert mail.sealed_link is not None and token not in mail.sealed_link
        [row] = await live_tokens(db, user.id, "password_reset")
        assert row.token_hash == hashlib.sha256(token.encode()).digest()
        lifetime = row.expires_at - utcnow()
        assert timedelta(minutes=29) < lifetime <= timedelta(minutes=30)
        [requested] = await audit_rows(db, user.id, "auth.password_reset_requested")
        assert requested.new_value == {"known": True}

    async def test_known_and_unknown_addresses_take_comparable_time(
        self, client: AsyncClient, db: AsyncSession, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        settings = get_settings()
        monkeypatch.setattr(settings, "password_reset_per_address_per_hour", 1000)
        monkeypatch.setattr(settings, "password_reset_per_ip_per_hour", 1000)
        user = await make_user(db, role=Role.AGENT)
        unknown = ghost()
        for address in (user.email, unknown):  # warm-up (compiled statements, templates)
            assert (await forgot(client, address)).status_code == 202
        known_s: list[float] = []
        unknown_s: list[float] = []
        for _ in range(15):
            for address, into in ((user.email, known_s), (unknown, unknown_s)):
                started = time.perf_counter()
                r = await forgot(client, address)
                into.append(time.perf_counter() - started)
                assert r.status_code == 202
        known, other = statistics.median(known_s), statistics.median(unknown_s)
        assert max(known, other) < 2 * min(known, other), (known, other)

    async def test_reset_link_works_once_and_ends_every_session(
        self, client: AsyncClient, db: AsyncSession
    ) -> None:
        user = await make_user(db, role=Role.AGENT)
        sessions = [await login(client, user), await login(client, user)]
        assert (await forgot(client, user.email)).status_code == 202
        token = await only_token(db, user.email, RESET)

        weak = await reset(client, token, "password1234")
        assert weak.status_code == 422
        r = await reset(client, token)
        assert r.status_code == 204, r.text

        for actor in sessions:
            assert (await client.get("/api/me", headers=actor.headers)).status_code == 401
        assert (await post_login(client, user.email, PASSWORD)).status_code == 401
        assert (await post_login(client, user.email, GOOD)).status_code == 200
        again = await reset(client, token, GOOD2)
        assert again.status_code == 400 and again.json() == NEUTRAL
        [notice] = await outbox_mails(db, user.email, CHANGED)
        assert notice.sealed_link is None
        assert "reset" in notice.body_text
        [done] = await audit_rows(db, user.id, "auth.password_reset")
        assert done.actor_id == user.id
        assert GOOD not in str(done.new_value)

    async def test_expired_superseded_tampered_and_foreign_tokens_are_refused(
        self, client: AsyncClient, db: AsyncSession
    ) -> None:
        admin = await make_actor(db, client, role=Role.ADMIN)
        user = await make_user(db, role=Role.AGENT)
        assert (await forgot(client, user.email)).status_code == 202
        first = await only_token(db, user.email, RESET)
        assert (await forgot(client, user.email)).status_code == 202
        [second] = await mailed_tokens(db, user.email, RESET) - {first}

        superseded = await reset(client, first)
        flipped = second[:-1] + ("A" if second[-1] != "A" else "B")
        tampered = await reset(client, flipped)
        invited = await invite(client, admin, role="agent")
        invitation = await only_token(db, invited.json()["email"], INVITE)
        foreign = await reset(client, invitation)
        for refused in (superseded, tampered, foreign):
            assert refused.status_code == 400, refused.text
            assert refused.json() == NEUTRAL
        # The invitation is not used up by being tried as a reset link.
        accepted = await client.post(
            "/api/auth/invitation/accept", json={"token": invitation, "password": GOOD}
        )
        assert accepted.status_code == 204

        await expire_tokens(db, user.id, "password_reset")
        expired = await reset(client, second)
        assert expired.status_code == 400 and expired.json() == NEUTRAL
        assert (await post_login(client, user.email, PASSWORD)).status_code == 200

    async def test_unknown_and_deactivated_accounts_get_no_mail(
        self, client: AsyncClient, db: AsyncSession
    ) -> None:
        off = await make_user(db, role=Role.AGENT, is_active=False)
        suspended = await make_org(db, status="suspended")
        customer = await make_user(db, role=Role.CUSTOMER_USER, org=suspended)
        reference = await forgot(client, ghost())
        for user in (off, customer):
            r = await forgot(client, user.email)
            assert r.status_code == 202 and r.content == reference.content
            assert await outbox_mails(db, user.email) == []

    async def test_requests_are_limited_per_address(
        self, client: AsyncClient, app: FastAPI, db: AsyncSession
    ) -> None:
        user = await make_user(db, role=Role.AGENT)
        limit = get_settings().password_reset_per_address_per_hour
        async with client_at(app, unique_ip()) as c:
            for attempt in range(limit):
                assert (await forgot(c, user.email)).status_code == 202, attempt
            refused = await forgot(c, user.email)
            assert refused.status_code == 429, refused.text
            assert 0 < int(refused.headers["Retry-After"]) <= 3600
            assert (await forgot(c, ghost())).status_code == 202
        async with client_at(app, unique_ip()) as elsewhere:
            assert (await forgot(elsewhere, user.email.upper())).status_code == 429
        assert len(await outbox_mails(db, user.email, RESET)) == limit

    async def test_requests_are_limited_per_client_address(
        self, client: AsyncClient, app: FastAPI, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.setattr(get_settings(), "password_reset_per_ip_per_hour", 3)
        async with client_at(app, unique_ip()) as c:
            for _ in range(3):
                assert (await forgot(c, ghost())).status_code == 202
            refused = await forgot(c, ghost())
            assert refused.status_code == 429 and refused.json()["code"] == "rate_limited"
        async with client_at(app, unique_ip()) as elsewhere:
            assert (await forgot(elsewhere, ghost())).status_code == 202

    async def test_reset_does_not_bypass_the_second_factor(
        self, client: AsyncClient, db: AsyncSession
    ) -> None:
        user = await make_user(db, role=Role.AGENT)
        await enable_totp(db, user)
        assert (await forgot(client, user.email)).status_code == 202
        assert (await reset(client, await only_token(db, user.email, RESET))).status_code == 204

        r = await post_login(client, user.email, GOOD)

        assert r.status_code == 200, r.text
        assert r.json()["mfa_required"] is True
        assert "access_token" not in r.json()


# --- password policy and password change -------------------------------------------------------


class TestPasswordPolicy:
    ADDRESS = "qzarkowski.vendelbo@kestrel-mail.test"

    @pytest.mark.parametrize("password", ["shortpass12", "password1234", ADDRESS])
    async def test_weak_passwords_are_refused_everywhere(
        self, client: AsyncClient, db: AsyncSession, password: str
    ) -> None:
        admin = await make_actor(db, client, role=Role.ADMIN)
        created = await client.post(
            "/api/users",
            json={
                "email": self.ADDRESS,
                "name": "Quentin Z",
                "role": "agent",
                "password": password,
            },
            headers=admin.headers,
        )
        assert created.status_code == 422, created.text
        user = await make_user(db, role=Role.AGENT, email=self.ADDRESS, name="Quentin Z")
        me = await login(client, user)
        changed = await client.post(
            "/api/me/password",
            json={"current_password": PASSWORD, "new_password": password},
            headers=me.headers,
        )
        assert changed.status_code == 422, changed.text
        assert changed.json()["detail"][0]["loc"] == ["body", "new_password"]
        assert (await forgot(client, self.ADDRESS)).status_code == 202
        token = await only_token(db, self.ADDRESS, RESET)
        assert (await reset(client, token, password)).status_code == 422
        # Nothing changed: the old password still works, the link is still alive.
        assert (await post_login(client, self.ADDRESS, PASSWORD)).status_code == 200
        assert (await reset(client, token, GOOD)).status_code == 204

    async def test_a_good_password_is_accepted(self, client: AsyncClient, db: AsyncSession) -> None:
        admin = await make_actor(db, client, role=Role.ADMIN)
        r = await client.post(
            "/api/users",
            json={"email": self.ADDRESS, "name": "Quentin Z", "role": "agent", "password": GOOD},
            headers=admin.headers,
        )
        assert r.status_code == 201, r.text
        assert r.json()["status"] == "active"
        assert await outbox_mails(db, self.ADDRESS) == []
        assert (await post_login(client, self.ADDRESS, GOOD)).status_code == 200


class TestPasswordChange:
    async def test_wrong_current_password_is_refused_and_counted(
        self, client: AsyncClient, app: FastAPI, db: AsyncSession, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.setattr(get_settings(), "login_max_failures_per_account", 3)
        me = await make_actor(db, client, role=Role.AGENT)
        for _ in range(3):
            r = await client.post(
                "/api/me/password",
                json={"current_password": "not my password", "new_password": GOOD},
                headers=me.headers,
            )
            assert r.status_code == 400, r.text
            assert r.json()["code"] == "wrong_password"
        # The session is fine (no 401) but the account's sign-in limit is reached.
        assert (await client.get("/api/me", headers=me.headers)).status_code == 200
        async with client_at(app, unique_ip()) as elsewhere:
            limited = await post_login(elsewhere, me.user.email, PASSWORD)
        assert limited.status_code == 429, limited.text
        right = await client.post(
            "/api/me/password",
            json={"current_password": PASSWORD, "new_password": GOOD},
            headers=me.headers,
        )
        assert right.status_code == 429

    async def test_change_ends_other_sessions_but_not_this_one(
        self, client: AsyncClient, db: AsyncSession
    ) -> None:
        user = await make_user(db, role=Role.AGENT)
        me, other = await login(client, user), await login(client, user)

        same = await client.post(
            "/api/me/password",
            json={"current_password": PASSWORD, "new_password": PASSWORD},
            headers=me.headers,
        )
        assert same.status_code == 422, same.text
        assert (await client.get("/api/me", headers=other.headers)).status_code == 200

        r = await client.post(
            "/api/me/password",
            json={"current_password": PASSWORD, "new_password": GOOD},
            headers=me.headers,
        )
        assert r.status_code == 204, r.text
        assert (await client.get("/api/me", headers=me.headers)).status_code == 200
        assert (await client.get("/api/me", headers=other.headers)).status_code == 401
        assert (await post_login(client, user.email, PASSWORD)).status_code == 401
        assert (await post_login(client, user.email, GOOD)).status_code == 200
        [changed] = await audit_rows(db, user.id, "auth.password_changed")
        assert changed.actor_id == user.id
        assert GOOD not in str(changed.new_value) and PASSWORD not in str(changed.new_value)
        assert len(await outbox_mails(db, user.email, CHANGED)) == 1

    async def test_change_kills_a_pending_reset_link(
        self, client: AsyncClient, db: AsyncSession
    ) -> None:
        me = await make_actor(db, client, role=Role.AGENT)
        assert (await forgot(client, me.user.email)).status_code == 202
        token = await only_token(db, me.user.email, RESET)
        r = await client.post(
            "/api/me/password",
            json={"current_password": PASSWORD, "new_password": GOOD},
            headers=me.headers,
        )
        assert r.status_code == 204
        assert (await reset(client, token, GOOD2)).status_code == 400


# --- e-mail change -----------------------------------------------------------------------------


class TestEmailChange:
    async def test_change_is_confirmed_from_the_new_address(
        self, client: AsyncClient, db: AsyncSession
    ) -> None:
        me = await make_actor(db, client, role=Role.CUSTOMER_USER)
        old = me.user.email
        new = f"new-{uuid.uuid4().hex[:10]}@example.test"

        wrong = await client.post(
            "/api/me/email",
            json={"current_password": "not my password", "new_email": new},
            headers=me.headers,
        )
        assert wrong.status_code == 400 and wrong.json()["code"] == "wrong_password"
        assert await outbox_mails(db, new) == []

        r = await client.post(
            "/api/me/email",
            json={"current_password": PASSWORD, "new_email": new.upper()},
            headers=me.headers,
        )
        assert r.status_code == 202, r.text
        [confirm] = await outbox_mails(db, new)
        assert confirm.template == "account_email_confirm"
        link = mail_link(confirm)
        token = link.rsplit("/", 1)[1]
        assert "/confirm-email/" in link and token not in confirm.body_text
        [notice] = await outbox_mails(db, old)
        assert notice.template == "account_email_change_requested"
        assert notice.sealed_link is None and new in notice.body_text
        # Nothing changes before the confirmation.
        assert (await client.get("/api/me", headers=me.headers)).json()["email"] == old

        done = await client.post("/api/auth/email/confirm", json={"token": token})
        assert done.status_code == 204, done.text

        assert (await client.get("/api/me", headers=me.headers)).json()["email"] == new
        assert (await post_login(client, new, PASSWORD)).status_code == 200
        assert (await post_login(client, old, PASSWORD)).status_code == 401
        changed = await outbox_mails(db, old, "account_email_changed")
        assert len(changed) == 1 and new in changed[0].body_text
        [entry] = await audit_rows(db, me.id, "user.email_changed")
        assert entry.old_value == {"email": old} and entry.new_value == {"email": new}
        again = await client.post("/api/auth/email/confirm", json={"token": token})
        assert again.status_code == 400 and again.json() == NEUTRAL

    async def test_taken_address_is_a_conflict(self, client: AsyncClient, db: AsyncSession) -> None:
        me = await make_actor(db, client, role=Role.AGENT)
        other = await make_user(db, role=Role.AGENT)
        r = await client.post(
            "/api/me/email",
            json={"current_password": PASSWORD, "new_email": other.email},
            headers=me.headers,
        )
        assert r.status_code == 409, r.text
        assert await outbox_mails(db, other.email) == []

    async def test_address_taken_before_the_confirmation_is_a_conflict(
        self, client: AsyncClient, db: AsyncSession
    ) -> None:
        me = await make_actor(db, client, role=Role.AGENT)
        new = f"new-{uuid.uuid4().hex[:10]}@example.test"
        r = await client.post(
            "/api/me/email",
            json={"current_password": PASSWORD, "new_email": new},
            headers=me.headers,
        )
        assert r.status_code == 202
        token = await only_token(db, new, "account_email_confirm")
        await make_user(db, role=Role.AGENT, email=new)

        done = await client.post("/api/auth/email/confirm", json={"token": token})

        assert done.status_code == 409, done.text
        assert (await client.get("/api/me", headers=me.headers)).json()["email"] == me.user.email


# --- profile -----------------------------------------------------------------------------------


class TestProfile:
    async def test_name_and_language_change(self, client: AsyncClient, db: AsyncSession) -> None:
        me = await make_actor(db, client, role=Role.CUSTOMER_USER)

        r = await client.patch(
            "/api/me", json={"name": "Renamed Person", "language": "de"}, headers=me.headers
        )

        assert r.status_code == 200, r.text
        assert r.json()["name"] == "Renamed Person" and r.json()["language"] == "de"
        got = (await client.get("/api/me", headers=me.headers)).json()
        assert got["name"] == "Renamed Person" and got["language"] == "de"
        [entry] = await audit_rows(db, me.id, "user.updated")
        assert entry.new_value == {"name": "Renamed Person", "language": "de"}
        only_name = await client.patch("/api/me", json={"name": "Once More"}, headers=me.headers)
        assert only_name.json()["language"] == "de"

    @pytest.mark.parametrize(
        "body",
        [
            {"role": "admin"},
            {"email": "someone-else@example.test"},
            {"name": "Ok", "is_active": False},
            {"language": "english"},
            {"name": ""},
        ],
    )
    async def test_unknown_or_bad_fields_are_refused(
        self, client: AsyncClient, db: AsyncSession, body: dict[str, Any]
    ) -> None:
        me = await make_actor(db, client, role=Role.CUSTOMER_USER)
        before = (await client.get("/api/me", headers=me.headers)).json()
        r = await client.patch("/api/me", json=body, headers=me.headers)
        assert r.status_code == 422, r.text
        assert (await client.get("/api/me", headers=me.headers)).json() == before

    async def test_profile_needs_a_session(self, client: AsyncClient) -> None:
        assert (await client.patch("/api/me", json={"name": "X"})).status_code == 401


async def test_tokens_expired_over_a_day_ago_are_pruned_and_live_ones_kept(
    db: AsyncSession,
) -> None:
    from app.services import account_tokens

    user = await make_user(db, role=Role.AGENT)
    now = utcnow()
    ages = {"long_dead": timedelta(days=2), "just_expired": timedelta(hours=1)}
    rows = {
        name: AccountToken(
            user_id=user.id,
            purpose="password_reset",
            token_hash=hashlib.sha256(uuid.uuid4().bytes).digest(),
            expires_at=now - age,
        )
        for name, age in ages.items()
    }
    rows["live"] = AccountToken(
        user_id=user.id,
        purpose="invitation",
        token_hash=hashlib.sha256(uuid.uuid4().bytes).digest(),
        expires_at=now + timedelta(hours=1),
    )
    db.add_all(rows.values())
    await db.flush()

    assert await account_tokens.prune(db) >= 1
    left = set(
        (await db.execute(select(AccountToken.id).where(AccountToken.user_id == user.id))).scalars()
    )
    assert left == {rows["just_expired"].id, rows["live"].id}
