"""Sign-in through OpenID Connect against a real OpenID Provider (panva's oidc-provider on
loopback, tests/ssoservers.py): the code flow with PKCE end to end through the API; refusals of a
tampered or replayed state, a replayed code, a wrong nonce, audience or issuer, an expired token,
an unknown key and an unsigned token; key rotation; group changes at the provider changing the
role at the next sign-in; no mapped group; the provider's second factor required by the policy;
linking a local account only after its password is proven; a provider that is down."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urljoin, urlsplit

import httpx
import pytest
from httpx import AsyncClient
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth import oidc
from app.config import get_settings
from app.models import AuditLog, AuthSession, SsoLogin, User, UserIdentity
from app.models.enums import Role
from app.services import sso
from tests.factories import (
    PASSWORD,
    audit_rows,
    bearer_headers,
    client_at,
    make_org,
    make_user,
    unique_ip,
)
from tests.ssoservers import Idp, generate_rsa_jwk, oidc_provider

SLUG = "company"
CLIENT_ID = "atum-desk"
CLIENT_SECRET = "desk-client-secret-0123456789"
CALLBACK = f"{get_settings().public_url.rstrip('/')}/api/auth/sso/{SLUG}/callback"


def _user(sub: str, email: str, name: str, groups: list[str], **extra: Any) -> dict[str, Any]:
    return {
        "password": f"{sub}-pass",
        "sub": sub,
        "email": email,
        "email_verified": True,
        "name": name,
        "groups": groups,
        **extra,
    }


def _users() -> dict[str, dict[str, Any]]:
    run = uuid.uuid4().hex[:8]
    return {
        "alice": _user(f"alice-{run}", f"alice-{run}@example.test", "Alice Agent", ["agents"]),
        "bob": _user(f"bob-{run}", f"bob-{run}@example.test", "Bob Boss", ["admins", "agents"]),
        "dave": _user(f"dave-{run}", f"dave-{run}@example.test", "Dave Nobody", ["marketing"]),
        "mia": _user(
            f"mia-{run}", f"mia-{run}@example.test", "Mia Mfa", ["agents"], amr=["pwd", "otp"]
        ),
        "una": _user(f"una-{run}", f"una-{run}@example.test", "Una Unverified", ["agents"])
        | {"email_verified": False},
    }


@pytest.fixture(scope="module")
def idp(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Idp]:
    root: Path = tmp_path_factory.mktemp("idp")
    client = {
        "client_id": CLIENT_ID,
        "client_secret": CLIENT_SECRET,
        "redirect_uris": [CALLBACK],
    }
    with oidc_provider(root, users=_users(), clients=[client]) as server:
        yield server


async def _provider(client: AsyncClient, admin: dict[str, str], idp: Idp, **extra: Any) -> str:
    body = {
        "kind": "oidc",
        "slug": SLUG,
        "name": "Company SSO",
        "settings": {
            "issuer": idp.issuer,
            "client_id": CLIENT_ID,
            "scopes": ["openid", "email", "profile", "groups"],
            **extra.pop("settings", {}),
        },
        "secret": CLIENT_SECRET,
        "mappings": extra.pop(
            "mappings",
            [{"group": "agents", "role": "agent"}, {"group": "admins", "role": "admin"}],
        ),
        **extra,
    }
    created = await client.post("/api/admin/sso/providers", json=body, headers=admin)
    assert created.status_code == 201, created.text
    assert "secret" not in created.json() and created.json()["has_secret"] is True
    assert created.json()["redirect_uri"] == CALLBACK
    return str(created.json()["id"])


@pytest.fixture
async def admin(db: AsyncSession) -> dict[str, str]:
    return await bearer_headers(db, await make_user(db, role=Role.ADMIN))


def _follow(browser: httpx.AsyncClient) -> Any:
    async def follow(response: httpx.Response) -> httpx.Response:
        for _ in range(10):
            location = response.headers.get("location")
            if not response.is_redirect or location is None:
                return response
            target = urljoin(str(response.url), location)
            if target.startswith(CALLBACK):
                return response
            response = await browser.get(target)
        raise AssertionError("redirect loop at the provider")

    return follow


class Flow:
    """One browser signing in: our start (with its binding cookie), the provider's login form,
    and the callback URL the provider sends the browser back to."""

    def __init__(self, client: AsyncClient, idp: Idp) -> None:
        self.client = client
        self.idp = idp
        self.browser_cookie: str | None = None

    async def start(self, next_page: str = "/desk") -> str:
        started = await self.client.get(f"/api/auth/sso/{SLUG}/start", params={"next": next_page})
        assert started.status_code == 303, started.text
        self.browser_cookie = started.cookies.get(sso.BROWSER_COOKIE)
        return started.headers["location"]

    async def at_provider(self, authorize_url: str, login: str) -> str:
        """Sign in at the provider; the callback URL (with code and state) it redirects to."""
        assert authorize_url.startswith(self.idp.issuer + "/"), authorize_url
        query = parse_qs(urlsplit(authorize_url).query)
        assert query["code_challenge_method"] == ["S256"] and query["code_challenge"]
        assert query["nonce"] and query["state"]
        async with httpx.AsyncClient(timeout=10) as browser:
            follow = _follow(browser)
            form = await follow(await browser.get(authorize_url))
            assert form.status_code == 200 and 'name="password"' in form.text, form.text[:300]
            user = self.idp.users[login]
            done = await follow(
                await browser.post(
                    str(form.url), data={"login": login, "password": user["password"]}
                )
            )
            location = done.headers["location"]
            assert location.startswith(CALLBACK), location
            return location

    async def callback(self, url: str, *, cookie: str | None = "same") -> httpx.Response:
        parts = urlsplit(url)
        jar = self.browser_cookie if cookie == "same" else cookie
        headers = {"Cookie": f"{sso.BROWSER_COOKIE}={jar}"} if jar else {}
        return await self.client.get(f"{parts.path}?{parts.query}", headers=headers)

    async def sign_in(self, login: str, next_page: str = "/desk") -> httpx.Response:
        return await self.callback(await self.at_provider(await self.start(next_page), login))


def _refusal(response: httpx.Response) -> str:
    assert response.status_code == 303, response.text
    location = response.headers["location"]
    assert location.startswith("/login?sso_error="), location
    return location.split("=", 1)[1]


def _session_token(response: httpx.Response) -> str:
    assert response.status_code == 303, response.text
    token = response.cookies.get("atum_session")
    assert token, response.headers
    return token


async def test_code_flow_provisions_an_agent_and_records_the_providers_authentication(
    client: AsyncClient, db: AsyncSession, admin: dict[str, str], idp: Idp
) -> None:
    await _provider(client, admin, idp)
    flow = Flow(client, idp)
    done = await flow.sign_in("mia", next_page="/desk/tickets")
    assert done.headers["location"] == "/desk/tickets"
    token = _session_token(done)
    me = await client.get("/api/me", headers={"Authorization": f"Bearer {token}"})
    assert me.status_code == 200, me.text
    assert me.json()["email"] == idp.users["mia"]["email"] and me.json()["role"] == "agent"
    assert me.json()["name"] == "Mia Mfa"

    user = await db.scalar(select(User).where(User.email == idp.users["mia"]["email"]))
    assert user is not None and user.password_hash == "!"  # no local password
    link = await db.scalar(select(UserIdentity).where(UserIdentity.user_id == user.id))
    assert link is not None
    assert (link.issuer, link.subject) == (idp.issuer, idp.users["mia"]["sub"])
    assert [r.new_value["via"] for r in await audit_rows(db, user.id, "user.provisioned")] == [SLUG]
    auth_session = await db.scalar(select(AuthSession).where(AuthSession.user_id == user.id))
    assert auth_session is not None and auth_session.amr == ["pwd", "otp"]
    assert auth_session.provider_id is not None and auth_session.mfa is True
    login = (await audit_rows(db, user.id, "auth.login"))[-1]
    assert login.new_value["provider"] == SLUG and login.new_value["amr"] == ["pwd", "otp"]

    # The second sign-in finds the same user by (issuer, sub): nobody new is provisioned.
    _session_token(await Flow(client, idp).sign_in("mia"))
    assert len(await audit_rows(db, user.id, "user.provisioned")) == 1


async def _state_refusals(db: AsyncSession) -> int:
    count = await db.scalar(
        select(func.count())
        .select_from(AuditLog)
        .where(
            AuditLog.action == "auth.login_failed",
            AuditLog.new_value["reason"].astext == "sso_state_invalid",
        )
    )
    return int(count or 0)


async def test_state_must_be_this_browsers_and_works_once(
    client: AsyncClient, db: AsyncSession, admin: dict[str, str], idp: Idp
) -> None:
    await _provider(client, admin, idp)
    flow = Flow(client, idp)
    url = await flow.at_provider(await flow.start(), "alice")
    parts = urlsplit(url)
    query = parse_qs(parts.query)
    before = await _state_refusals(db)
    tampered = f"{CALLBACK}?code={query['code'][0]}&state={query['state'][0]}x"
    assert _refusal(await flow.callback(tampered)) == "sso_state_invalid"
    # Another browser (login CSRF: the attacker's flow completed in the victim's browser).
    assert _refusal(await flow.callback(url, cookie="someone-elses")) == "sso_state_invalid"
    assert _refusal(await flow.callback(url, cookie=None)) == "sso_state_invalid"
    # The state was not used by those: the right browser completes it, once.
    _session_token(await flow.callback(url))
    assert _refusal(await flow.callback(url)) == "sso_state_invalid"
    assert await _state_refusals(db) == before + 4


async def test_a_replayed_code_is_refused_by_the_provider(
    client: AsyncClient, admin: dict[str, str], idp: Idp
) -> None:
    await _provider(client, admin, idp)
    first = Flow(client, idp)
    used = await first.at_provider(await first.start(), "alice")
    _session_token(await first.callback(used))
    # The same code under a fresh state of the same browser: the provider refuses the code.
    second = Flow(client, idp)
    fresh = parse_qs(urlsplit(await second.start()).query)["state"][0]
    code = parse_qs(urlsplit(used).query)["code"][0]
    replay = f"{CALLBACK}?code={code}&state={fresh}"
    assert _refusal(await second.callback(replay)) == "token_refused"


async def test_a_wrong_nonce_is_refused(
    client: AsyncClient, db: AsyncSession, admin: dict[str, str], idp: Idp
) -> None:
    await _provider(client, admin, idp)
    flow = Flow(client, idp)
    url = await flow.at_provider(await flow.start(), "alice")
    state = parse_qs(urlsplit(url).query)["state"][0]
    row = await db.scalar(select(SsoLogin).where(SsoLogin.state_hash == sso.digest(state)))
    assert row is not None
    row.nonce = "another-sign-in"
    await db.flush()
    assert _refusal(await flow.callback(url)) == "id_token_invalid"


@pytest.mark.parametrize(
    ("change", "why"),
    [
        ({}, None),
        ({"aud": "someone-else"}, "aud"),
        ({"aud": [CLIENT_ID, "other"], "azp": "other"}, "azp"),
        ({"iss": "http://127.0.0.1:1/other"}, "iss"),
        ({"exp": -600}, "expired"),
        ({"nonce": "not-this-one"}, "nonce"),
        ({"sub": None}, "sub"),
    ],
)
async def test_id_token_checks(idp: Idp, change: dict[str, Any], why: str | None) -> None:
    """Tokens signed with the provider's own key, checked against the key set the provider
    serves: only the untouched one passes."""
    meta = await oidc.discover(idp.issuer)
    now = int(time.time())
    claims: dict[str, Any] = {
        "iss": idp.issuer,
        "sub": "someone",
        "aud": CLIENT_ID,
        "iat": now,
        "exp": now + 300,
        "nonce": "the-nonce",
    }
    for key, value in change.items():
        if value is None:
            claims.pop(key)
        elif key == "exp":
            claims["exp"] = now + value
        else:
            claims[key] = value
    token = idp.sign(claims)
    if why is None:
        verified = await oidc.verify_id_token(
            meta, client_id=CLIENT_ID, id_token=token, nonce="the-nonce"
        )
        assert verified["sub"] == "someone"
        return
    with pytest.raises(oidc.OidcError) as refused:
        await oidc.verify_id_token(meta, client_id=CLIENT_ID, id_token=token, nonce="the-nonce")
    assert refused.value.code == "id_token_invalid"


async def test_unknown_keys_and_unsigned_tokens_are_refused(idp: Idp) -> None:
    meta = await oidc.discover(idp.issuer)
    now = int(time.time())
    claims = {
        "iss": idp.issuer,
        "sub": "someone",
        "aud": CLIENT_ID,
        "iat": now,
        "exp": now + 300,
        "nonce": "n",
    }
    stranger = generate_rsa_jwk("not-published")
    forged = idp.sign(claims, key=stranger)
    with pytest.raises(oidc.OidcError, match="unknown key"):
        await oidc.verify_id_token(meta, client_id=CLIENT_ID, id_token=forged, nonce="n")
    # The provider's kid on a token signed by another key: the signature check catches it.
    impostor = idp.sign(claims, key={**stranger, "kid": idp.keys[0]["kid"]})
    with pytest.raises(oidc.OidcError, match="signature"):
        await oidc.verify_id_token(meta, client_id=CLIENT_ID, id_token=impostor, nonce="n")
    # The provider's own claims with the header of an unsigned token ({"alg": "none"}).
    payload = idp.sign(claims).split(".")[1]
    unsigned = "eyJhbGciOiJub25lIn0." + payload + "."
    with pytest.raises(oidc.OidcError, match="signed with none"):
        await oidc.verify_id_token(meta, client_id=CLIENT_ID, id_token=unsigned, nonce="n")


async def test_key_rotation_at_the_provider(
    client: AsyncClient, admin: dict[str, str], idp: Idp
) -> None:
    await _provider(client, admin, idp)
    _session_token(await Flow(client, idp).sign_in("alice"))  # the old key set is cached
    idp.restart(keys=[generate_rsa_jwk("rotated-" + uuid.uuid4().hex[:6])])
    _session_token(await Flow(client, idp).sign_in("alice"))


async def test_groups_at_the_provider_decide_the_role_at_each_sign_in(
    client: AsyncClient, db: AsyncSession, admin: dict[str, str], idp: Idp
) -> None:
    org = await make_org(db, name=f"Acme {uuid.uuid4().hex[:6]}")
    await _provider(
        client,
        admin,
        idp,
        mappings=[
            {"group": "agents", "role": "agent"},
            {"group": "admins", "role": "admin"},
            {"group": "acme", "role": "customer_user", "org_id": str(org.id)},
        ],
    )
    first = _session_token(await Flow(client, idp).sign_in("bob"))
    bob = await db.scalar(select(User).where(User.email == idp.users["bob"]["email"]))
    assert bob is not None and bob.role == "admin"  # admins + agents: the highest wins
    try:
        idp.set_user("bob", groups=["agents"])
        _session_token(await Flow(client, idp).sign_in("bob"))
        await db.refresh(bob)
        assert bob.role == "agent"
        # The change of role ended the sessions opened under the old one.
        old = await client.get("/api/me", headers={"Authorization": f"Bearer {first}"})
        assert old.status_code == 401
        idp.set_user("bob", groups=["acme"])
        _session_token(await Flow(client, idp).sign_in("bob"))
        await db.refresh(bob)
        assert (bob.role, bob.org_id) == ("customer_user", org.id)
    finally:
        idp.set_user("bob", groups=["admins", "agents"])


async def test_no_mapped_group_is_refused_and_locks_out_until_a_group_admits_again(
    client: AsyncClient, db: AsyncSession, admin: dict[str, str], idp: Idp
) -> None:
    await _provider(client, admin, idp)
    assert _refusal(await Flow(client, idp).sign_in("dave")) == "no_mapped_group"
    assert await db.scalar(select(User).where(User.email == idp.users["dave"]["email"])) is None

    token = _session_token(await Flow(client, idp).sign_in("alice"))
    try:
        idp.set_user("alice", groups=["marketing"])
        assert _refusal(await Flow(client, idp).sign_in("alice")) == "no_mapped_group"
        alice = await db.scalar(select(User).where(User.email == idp.users["alice"]["email"]))
        assert alice is not None and alice.is_active is False
        gone = await client.get("/api/me", headers={"Authorization": f"Bearer {token}"})
        assert gone.status_code == 401
        idp.set_user("alice", groups=["agents"])
        _session_token(await Flow(client, idp).sign_in("alice"))
        await db.refresh(alice)
        assert alice.is_active is True
    finally:
        idp.set_user("alice", groups=["agents"])


async def test_an_unverified_address_is_not_trusted(
    client: AsyncClient, admin: dict[str, str], idp: Idp
) -> None:
    await _provider(client, admin, idp)
    assert _refusal(await Flow(client, idp).sign_in("una")) == "email_unverified"


async def test_policy_can_require_a_second_factor_at_the_provider(
    client: AsyncClient, admin: dict[str, str], idp: Idp
) -> None:
    await _provider(client, admin, idp)
    policy = await client.put(
        "/api/admin/signin-policy",
        json={
            "roles": [{"role": "agent", "password_allowed": True, "idp_mfa_required": True}],
            "break_glass_user_id": None,
        },
        headers=admin,
    )
    assert policy.status_code == 200, policy.text
    assert _refusal(await Flow(client, idp).sign_in("alice")) == "idp_mfa_required"  # amr pwd
    _session_token(await Flow(client, idp).sign_in("mia"))  # amr pwd + otp


async def test_a_local_account_is_linked_only_after_its_password(
    client: AsyncClient, db: AsyncSession, admin: dict[str, str], idp: Idp
) -> None:
    await _provider(client, admin, idp)
    local = await make_user(db, role=Role.AGENT, email=idp.users["alice"]["email"])
    offered = await Flow(client, idp).sign_in("alice")
    assert offered.status_code == 303
    location = offered.headers["location"]
    assert location.startswith("/login/link#"), location
    link_token = location.split("#", 1)[1]
    assert not offered.cookies.get("atum_session")
    async with client_at(client._transport.app, unique_ip()) as other:  # type: ignore[attr-defined]
        wrong = await other.post(
            "/api/auth/sso/link", json={"link_token": link_token, "password": "not-the-one-1"}
        )
        assert wrong.status_code == 401
        assert await db.scalar(select(UserIdentity).where(UserIdentity.user_id == local.id)) is None
        right = await other.post(
            "/api/auth/sso/link", json={"link_token": link_token, "password": PASSWORD}
        )
        assert right.status_code == 200, right.text
        assert right.json()["user"]["id"] == str(local.id)
        again = await other.post(
            "/api/auth/sso/link", json={"link_token": link_token, "password": PASSWORD}
        )
        assert again.status_code == 400  # used
    link = await db.scalar(select(UserIdentity).where(UserIdentity.user_id == local.id))
    assert link is not None and link.subject == idp.users["alice"]["sub"]
    assert [r.new_value["by"] for r in await audit_rows(db, local.id, "user.identity_linked")] == [
        "password"
    ]
    # From now on the provider's sign-in is this user's, with no question asked.
    _session_token(await Flow(client, idp).sign_in("alice"))


async def test_an_admin_may_approve_the_link_beforehand(
    client: AsyncClient, db: AsyncSession, admin: dict[str, str], idp: Idp
) -> None:
    provider_id = await _provider(client, admin, idp)
    local = await make_user(db, role=Role.AGENT, email=idp.users["alice"]["email"])
    approved = await client.post(
        f"/api/users/{local.id}/identities", json={"provider_id": provider_id}, headers=admin
    )
    assert approved.status_code == 201, approved.text
    _session_token(await Flow(client, idp).sign_in("alice"))
    listed = await client.get(f"/api/users/{local.id}/identities", headers=admin)
    assert [(i["pending"], i["subject"]) for i in listed.json()] == [
        (False, idp.users["alice"]["sub"])
    ]


async def test_next_stays_on_this_site(
    client: AsyncClient, admin: dict[str, str], idp: Idp
) -> None:
    await _provider(client, admin, idp)
    for evil in ("//evil.example/x", "https://evil.example/", "/\\evil.example"):
        flow = Flow(client, idp)
        done = await flow.callback(await flow.at_provider(await flow.start(evil), "alice"))
        assert done.headers["location"] == "/"


async def test_provider_down_is_a_clear_refusal(
    client: AsyncClient, admin: dict[str, str], tmp_path: Path
) -> None:
    with oidc_provider(
        tmp_path / "idp",
        users=_users(),
        clients=[
            {"client_id": CLIENT_ID, "client_secret": CLIENT_SECRET, "redirect_uris": [CALLBACK]}
        ],
    ) as down:
        issuer = down.issuer
        provider_id = await _provider(client, admin, down)
    oidc.forget()
    started = await client.get(f"/api/auth/sso/{SLUG}/start")
    assert _refusal(started) == "provider_unavailable"
    checked = await client.post(f"/api/admin/sso/providers/{provider_id}/check", headers=admin)
    assert checked.json()["ok"] is False
    listed = await client.get(f"/api/admin/sso/providers/{provider_id}", headers=admin)
    assert listed.json()["last_error"] and issuer


async def test_provider_settings_are_validated_and_the_secret_never_answered(
    client: AsyncClient, admin: dict[str, str], idp: Idp
) -> None:
    bad = await client.post(
        "/api/admin/sso/providers",
        json={
            "kind": "oidc",
            "slug": "x",
            "name": "X",
            "settings": {"issuer": "http://idp.example.com", "client_id": "c"},
        },
        headers=admin,
    )
    assert bad.status_code == 422 and "https" in bad.text
    provider_id = await _provider(client, admin, idp)
    changed = await client.patch(
        f"/api/admin/sso/providers/{provider_id}", json={"secret": "new-secret"}, headers=admin
    )
    assert changed.status_code == 200 and CLIENT_SECRET not in changed.text
    assert "new-secret" not in changed.text
    unknown = await client.patch(
        f"/api/admin/sso/providers/{provider_id}", json={"client_secret": "x"}, headers=admin
    )
    assert unknown.status_code == 422


def _logout_token(idp: Idp, **change: Any) -> str:
    claims: dict[str, Any] = {
        "iss": idp.issuer,
        "aud": CLIENT_ID,
        "iat": int(time.time()),
        "jti": uuid.uuid4().hex,
        "events": {oidc.BACKCHANNEL_EVENT: {}},
        "sub": idp.users["alice"]["sub"],
    }
    for key, value in change.items():
        if value is None:
            claims.pop(key)
        else:
            claims[key] = value
    return idp.sign(claims)


async def test_back_channel_logout_ends_the_users_sessions_here(
    client: AsyncClient, admin: dict[str, str], idp: Idp
) -> None:
    await _provider(client, admin, idp)
    alice = _session_token(await Flow(client, idp).sign_in("alice"))
    mia = _session_token(await Flow(client, idp).sign_in("mia"))
    url = f"/api/auth/sso/{SLUG}/backchannel-logout"
    for refused in (
        _logout_token(idp, nonce="an-id-token"),
        _logout_token(idp, events=None),
        _logout_token(idp, aud="someone-else"),
        _logout_token(idp, iss="http://127.0.0.1:1/other"),
        _logout_token(idp, sub=None),
        _logout_token(idp, jti=None),
        idp.sign(
            {
                "iss": idp.issuer,
                "aud": CLIENT_ID,
                "iat": int(time.time()),
                "jti": "x",
                "events": {oidc.BACKCHANNEL_EVENT: {}},
                "sub": "s",
            },
            key=generate_rsa_jwk("stranger"),
        ),
    ):
        answer = await client.post(url, data={"logout_token": refused})
        assert answer.status_code == 400, answer.text
        assert answer.headers["cache-control"] == "no-store"
    me = await client.get("/api/me", headers={"Authorization": f"Bearer {alice}"})
    assert me.status_code == 200  # nothing ended by the refused ones
    done = await client.post(url, data={"logout_token": _logout_token(idp)})
    assert done.status_code == 200, done.text
    gone = await client.get("/api/me", headers={"Authorization": f"Bearer {alice}"})
    assert gone.status_code == 401
    other = await client.get("/api/me", headers={"Authorization": f"Bearer {mia}"})
    assert other.status_code == 200


async def test_starting_sign_ins_is_rate_limited_per_address(
    client: AsyncClient, admin: dict[str, str], idp: Idp, monkeypatch: pytest.MonkeyPatch
) -> None:
    await _provider(client, admin, idp)
    monkeypatch.setattr(get_settings(), "login_max_failures_per_ip", 3)
    async with client_at(client._transport.app, unique_ip()) as browser:  # type: ignore[attr-defined]
        answers = [(await browser.get(f"/api/auth/sso/{SLUG}/start")).status_code for _ in range(4)]
    assert answers == [303, 303, 303, 429]
    # Another address is not affected.
    assert (await client.get(f"/api/auth/sso/{SLUG}/start")).status_code == 303
