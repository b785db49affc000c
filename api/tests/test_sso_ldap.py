"""Sign-in against a real directory (Debian's slapd on loopback with the memberOf overlay and
StartTLS, tests/ssoservers.py): users provisioned with the role their groups map to (a nested OU
too), wrong passwords, disabled users and users in no mapped group refused, LDAP injection in the
username refused, the certificate checked, our second factor asked, a local account linked only
after its password, the sync deactivating removed users and ending their sessions (and never
acting on an empty answer), and the sign-in policy with its break-glass administrator."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pyotp
import pytest
from httpx import AsyncClient, Response
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, create_async_engine

from app.auth.directory import directory
from app.db.embedded import to_async_url
from app.mail import secretbox
from app.models import AuthSession, IdentityProvider, User, UserIdentity
from app.models.enums import Role
from app.models.user import NO_PASSWORD
from app.schemas.sso import LdapSettings
from app.services import sso
from tests.factories import (
    PASSWORD,
    audit_rows,
    bearer_headers,
    client_at,
    enable_totp,
    make_org,
    make_user,
    unique_ip,
)
from tests.ssoservers import (
    DIRECTORY_DNS,
    DIRECTORY_LDIF,
    DIRECTORY_PASSWORDS,
    SERVICE_DN,
    Ldap,
    slapd,
)
from tests.test_worker import worker_database

SLUG = "corp"


@pytest.fixture
def ldap(tmp_path: Path) -> Iterator[Ldap]:
    with slapd(tmp_path / "ldap", ldif=DIRECTORY_LDIF, tls=True) as server:
        yield server


def _settings(ldap: Ldap, **extra: Any) -> dict[str, Any]:
    return {
        "url": ldap.url,
        "starttls": True,
        "ca_pem": ldap.ca_pem,
        "bind_dn": SERVICE_DN,
        "user_base": "ou=people,dc=example,dc=test",
        "disabled_filter": "(employeeType=disabled)",
        **extra,
    }


@pytest.fixture
async def admin(db: AsyncSession) -> dict[str, str]:
    return await bearer_headers(db, await make_user(db, role=Role.ADMIN))


async def _provider(
    client: AsyncClient, db: AsyncSession, admin: dict[str, str], ldap: Ldap, **extra: Any
) -> str:
    org = await make_org(db, name=f"Acme {uuid.uuid4().hex[:6]}")
    body = {
        "kind": "ldap",
        "slug": SLUG,
        "name": "Corporate directory",
        "settings": _settings(ldap, **extra.pop("settings", {})),
        "secret": DIRECTORY_PASSWORDS["atum-svc"],
        "mappings": [
            {"group": "helpdesk-agents", "role": "agent"},
            {"group": "cn=helpdesk-admins,ou=groups,dc=example,dc=test", "role": "admin"},
            {"group": "acme-customers", "role": "customer_user", "org_id": str(org.id)},
        ],
        **extra,
    }
    created = await client.post("/api/admin/sso/providers", json=body, headers=admin)
    assert created.status_code == 201, created.text
    return str(created.json()["id"])


async def _login(client: AsyncClient, username: str, password: str | None = None) -> Response:
    return await client.post(
        f"/api/auth/ldap/{SLUG}/login",
        json={"username": username, "password": password or DIRECTORY_PASSWORDS[username]},
    )


async def _user(db: AsyncSession, login: str) -> User:
    user = await db.scalar(select(User).where(User.email == f"{login}@example.test"))
    assert user is not None
    await db.refresh(user)
    return user


async def test_directory_users_sign_in_with_the_role_their_groups_map_to(
    client: AsyncClient, db: AsyncSession, admin: dict[str, str], ldap: Ldap
) -> None:
    await _provider(client, db, admin, ldap)
    for login, role in (
        ("alice", "agent"),
        ("bob", "admin"),
        ("carol", "customer_user"),
        ("erin", "agent"),
    ):
        answer = await _login(client, login)
        assert answer.status_code == 200, (login, answer.text)
        assert answer.json()["user"]["role"] == role, login
    alice = await _user(db, "alice")
    assert alice.name == "Alice Agent" and alice.password_hash == "!"
    link = await db.scalar(select(UserIdentity).where(UserIdentity.user_id == alice.id))
    assert link is not None and link.issuer == f"ldap:{SLUG}"
    assert link.subject and link.subject != DIRECTORY_DNS["alice"]  # entryUUID: survives renames
    assert "helpdesk-agents" in (link.groups or [])
    assert len(await audit_rows(db, alice.id, "user.provisioned")) == 1
    sessions = (await db.execute(select(AuthSession).where(AuthSession.user_id == alice.id))).all()
    assert [s[0].amr for s in sessions] == [["pwd"]]


async def test_refusals_wrong_password_disabled_unmapped(
    client: AsyncClient, db: AsyncSession, admin: dict[str, str], ldap: Ldap
) -> None:
    await _provider(client, db, admin, ldap)
    wrong = await _login(client, "alice", "alice-pass-2")
    assert wrong.status_code == 401
    unknown = await _login(client, "nobody", "whatever-1")
    assert unknown.status_code == 401 and unknown.json()["detail"] == wrong.json()["detail"]
    disabled = await _login(client, "frank")
    assert (disabled.status_code, disabled.json()["code"]) == (403, "account_disabled")
    unmapped = await _login(client, "dave")
    assert (unmapped.status_code, unmapped.json()["code"]) == (403, "no_mapped_group")
    empty = await client.post(
        f"/api/auth/ldap/{SLUG}/login", json={"username": "alice", "password": ""}
    )
    assert empty.status_code == 422
    assert await db.scalar(select(User).where(User.email == "dave@example.test")) is None


@pytest.mark.parametrize(
    "username",
    ["al*", "*", "a*e", "alice)(uid=*", "*)(uid=*", "alice)(|(uid=*)", "*)(|(objectClass=*"],
)
async def test_ldap_injection_in_the_username_is_refused(
    client: AsyncClient, db: AsyncSession, admin: dict[str, str], ldap: Ldap, username: str
) -> None:
    await _provider(client, db, admin, ldap)
    async with client_at(client._transport.app, unique_ip()) as other:  # type: ignore[attr-defined]
        answer = await other.post(
            f"/api/auth/ldap/{SLUG}/login",
            json={"username": username, "password": DIRECTORY_PASSWORDS["alice"]},
        )
    assert answer.status_code == 401, answer.text
    assert await db.scalar(select(User).where(User.email == "alice@example.test")) is None


async def test_control_characters_in_the_username_are_refused(
    client: AsyncClient, admin: dict[str, str], db: AsyncSession, ldap: Ldap
) -> None:
    await _provider(client, db, admin, ldap)
    for username in ("alice\x00", "alice\x00)(uid=*", "ali\nce"):
        answer = await client.post(
            f"/api/auth/ldap/{SLUG}/login",
            json={"username": username, "password": DIRECTORY_PASSWORDS["alice"]},
        )
        assert answer.status_code == 422, username


def test_the_adapter_never_binds_with_an_empty_password(ldap: Ldap) -> None:
    settings = LdapSettings.model_validate(_settings(ldap))
    found = directory(settings, DIRECTORY_PASSWORDS["atum-svc"])
    assert found.authenticate("alice", "") is None
    assert found.authenticate("alice", DIRECTORY_PASSWORDS["alice"]) is not None


async def test_the_servers_certificate_is_checked(
    client: AsyncClient, db: AsyncSession, admin: dict[str, str], ldap: Ldap
) -> None:
    await _provider(client, db, admin, ldap, settings={"ca_pem": None})
    answer = await _login(client, "alice")
    assert (answer.status_code, answer.json()["code"]) == (503, "provider_unavailable")


async def test_plain_ldap_only_when_allowed(
    client: AsyncClient, db: AsyncSession, admin: dict[str, str], ldap: Ldap
) -> None:
    body = {
        "kind": "ldap",
        "slug": SLUG,
        "name": "Plain",
        "settings": _settings(ldap, starttls=False, ca_pem=None),
        "secret": DIRECTORY_PASSWORDS["atum-svc"],
        "mappings": [{"group": "helpdesk-agents", "role": "agent"}],
    }
    refused = await client.post("/api/admin/sso/providers", json=body, headers=admin)
    assert refused.status_code == 422 and "allow_plain" in refused.text
    body["settings"]["allow_plain"] = True
    assert (
        await client.post("/api/admin/sso/providers", json=body, headers=admin)
    ).status_code == 201
    assert (await _login(client, "alice")).status_code == 200


async def test_our_second_factor_applies_to_directory_sign_in(
    client: AsyncClient, db: AsyncSession, admin: dict[str, str], ldap: Ldap
) -> None:
    await _provider(client, db, admin, ldap)
    assert (await _login(client, "alice")).status_code == 200
    alice = await _user(db, "alice")
    secret = await enable_totp(db, alice)
    first = await _login(client, "alice")
    assert first.status_code == 200 and first.json()["mfa_required"] is True
    second = await client.post(
        "/api/auth/login/mfa",
        json={"mfa_token": first.json()["mfa_token"], "code": pyotp.TOTP(secret).now()},
    )
    assert second.status_code == 200, second.text
    with_factor = await db.scalar(
        select(AuthSession).where(AuthSession.user_id == alice.id, AuthSession.mfa.is_(True))
    )
    assert with_factor is not None and with_factor.provider_id is not None


async def test_a_local_account_is_linked_only_after_its_password(
    client: AsyncClient, db: AsyncSession, admin: dict[str, str], ldap: Ldap
) -> None:
    await _provider(client, db, admin, ldap)
    local = await make_user(db, role=Role.AGENT, email="alice@example.test")
    offered = await _login(client, "alice")
    assert (offered.status_code, offered.json()["code"]) == (409, "link_required")
    token = offered.json()["link_token"]
    assert "password" not in offered.text.lower().replace("enter its password", "")
    wrong = await client.post(
        "/api/auth/sso/link", json={"link_token": token, "password": "wrong-password-1"}
    )
    assert wrong.status_code == 401
    done = await client.post("/api/auth/sso/link", json={"link_token": token, "password": PASSWORD})
    assert done.status_code == 200 and done.json()["user"]["id"] == str(local.id)
    assert (await _login(client, "alice")).status_code == 200


async def test_group_change_in_the_directory_changes_the_role_at_next_sign_in(
    client: AsyncClient, db: AsyncSession, admin: dict[str, str], ldap: Ldap
) -> None:
    await _provider(client, db, admin, ldap)
    assert (await _login(client, "alice")).json()["user"]["role"] == "agent"
    ldap.modify(
        "dn: cn=helpdesk-admins,ou=groups,dc=example,dc=test\nchangetype: modify\n"
        f"add: member\nmember: {DIRECTORY_DNS['alice']}\n"
    )
    assert (await _login(client, "alice")).json()["user"]["role"] == "admin"


async def test_sync_deactivates_removed_users_and_ends_their_sessions(
    client: AsyncClient, db: AsyncSession, admin: dict[str, str], ldap: Ldap
) -> None:
    provider_id = await _provider(client, db, admin, ldap)
    tokens = {}
    for login in ("alice", "bob", "erin"):
        answer = await _login(client, login)
        assert answer.status_code == 200
        tokens[login] = answer.json()["access_token"]
    ldap.delete(DIRECTORY_DNS["erin"])
    ldap.modify(
        "dn: cn=helpdesk-admins,ou=groups,dc=example,dc=test\nchangetype: modify\n"
        f"add: member\nmember: {DIRECTORY_DNS['dave']}\n"
    )
    ldap.modify(
        "dn: cn=helpdesk-admins,ou=groups,dc=example,dc=test\nchangetype: modify\n"
        f"delete: member\nmember: {DIRECTORY_DNS['bob']}\n"
    )
    ldap.modify(
        f"dn: {DIRECTORY_DNS['alice']}\nchangetype: modify\nreplace: cn\ncn: Alice Renamed\n"
    )
    synced = await client.post(f"/api/admin/sso/providers/{provider_id}/sync", headers=admin)
    assert synced.status_code == 200, synced.text
    assert synced.json() == {"checked": 3, "updated": 1, "deactivated": 2, "reactivated": 0}
    assert (await _user(db, "erin")).is_active is False
    assert (await _user(db, "bob")).is_active is False
    assert (await _user(db, "alice")).name == "Alice Renamed"
    for login, status in (("alice", 200), ("bob", 401), ("erin", 401)):
        me = await client.get("/api/me", headers={"Authorization": f"Bearer {tokens[login]}"})
        assert me.status_code == status, login
    # Back in a mapped group: the next sync lets bob in again.
    ldap.modify(
        "dn: cn=helpdesk-agents,ou=groups,dc=example,dc=test\nchangetype: modify\n"
        f"add: member\nmember: {DIRECTORY_DNS['bob']}\n"
    )
    again = await client.post(f"/api/admin/sso/providers/{provider_id}/sync", headers=admin)
    assert again.json()["reactivated"] == 1
    bob = await _user(db, "bob")
    assert (bob.is_active, bob.role) == (True, "agent")
    assert await audit_rows(db, bob.id, "user.deactivated")


async def test_sync_refuses_to_act_on_an_empty_answer(
    client: AsyncClient, db: AsyncSession, admin: dict[str, str], ldap: Ldap
) -> None:
    provider_id = await _provider(client, db, admin, ldap)
    assert (await _login(client, "alice")).status_code == 200
    broken = await client.patch(
        f"/api/admin/sso/providers/{provider_id}",
        json={"settings": _settings(ldap, user_filter="(objectClass=nothingLikeThis)")},
        headers=admin,
    )
    assert broken.status_code == 200, broken.text
    synced = await client.post(f"/api/admin/sso/providers/{provider_id}/sync", headers=admin)
    assert synced.status_code == 503
    assert (await _user(db, "alice")).is_active is True


async def test_break_glass_admin_signs_in_when_passwords_are_off_and_providers_are_down(
    client: AsyncClient, db: AsyncSession, admin: dict[str, str], tmp_path: Path
) -> None:
    # A directory that is gone.
    with slapd(tmp_path / "gone", ldif=DIRECTORY_LDIF, tls=True) as gone:
        await _provider(client, db, admin, gone)
    down = await _login(client, "alice")
    assert (down.status_code, down.json()["code"]) == (503, "provider_unavailable")

    keeper = await make_user(db, role=Role.ADMIN)
    other = await make_user(db, role=Role.ADMIN)
    policy = {"roles": [{"role": "admin", "password_allowed": False, "idp_mfa_required": False}]}
    refused = await client.put(
        "/api/admin/signin-policy", json={**policy, "break_glass_user_id": None}, headers=admin
    )
    assert refused.status_code == 409  # nobody could sign in if every provider were down
    no_factor = await client.put(
        "/api/admin/signin-policy",
        json={**policy, "break_glass_user_id": str(keeper.id)},
        headers=admin,
    )
    assert no_factor.status_code == 422
    secret = await enable_totp(db, keeper)
    accepted = await client.put(
        "/api/admin/signin-policy",
        json={**policy, "break_glass_user_id": str(keeper.id)},
        headers=admin,
    )
    assert accepted.status_code == 200, accepted.text
    assert accepted.json()["break_glass"]["email"] == keeper.email

    blocked = await client.post(
        "/api/auth/login", json={"email": other.email, "password": PASSWORD}
    )
    assert (blocked.status_code, blocked.json()["code"]) == (403, "password_sign_in_disabled")
    # Customers still sign in with passwords (the policy is per role).
    customer = await make_user(db, role=Role.CUSTOMER_USER)
    assert (
        await client.post("/api/auth/login", json={"email": customer.email, "password": PASSWORD})
    ).status_code == 200

    first = await client.post("/api/auth/login", json={"email": keeper.email, "password": PASSWORD})
    assert first.status_code == 200 and first.json()["mfa_required"] is True
    second = await client.post(
        "/api/auth/login/mfa",
        json={"mfa_token": first.json()["mfa_token"], "code": pyotp.TOTP(secret).now()},
    )
    assert second.status_code == 200, second.text
    assert len(await audit_rows(db, keeper.id, "auth.break_glass")) == 1


async def test_groups_found_by_search_instead_of_member_of(
    client: AsyncClient, db: AsyncSession, admin: dict[str, str], ldap: Ldap
) -> None:
    await _provider(
        client,
        db,
        admin,
        ldap,
        settings={"group_mode": "search", "group_base": "ou=groups,dc=example,dc=test"},
    )
    assert (await _login(client, "bob")).json()["user"]["role"] == "admin"
    assert (await _login(client, "erin")).json()["user"]["role"] == "agent"


async def test_the_worker_syncs_each_due_directory_once(server_url: str, ldap: Ldap) -> None:
    """Two workers at once: the directory is synchronised by one of them, then not again until
    its interval has passed."""
    settings = LdapSettings.model_validate(_settings(ldap))
    erin = directory(settings, DIRECTORY_PASSWORDS["atum-svc"]).authenticate(
        "erin", DIRECTORY_PASSWORDS["erin"]
    )
    assert erin is not None
    async with worker_database(server_url) as url:
        engine = create_async_engine(to_async_url(url))
        try:
            async with AsyncSession(engine, expire_on_commit=False) as session, session.begin():
                provider = IdentityProvider(
                    id=uuid.uuid4(),
                    kind="ldap",
                    slug=SLUG,
                    name="Corporate directory",
                    settings=settings.model_dump(mode="json"),
                    secret_sealed=secretbox.seal(DIRECTORY_PASSWORDS["atum-svc"], secretbox.SSO),
                    mappings=[{"group": "helpdesk-agents", "role": "agent", "org_id": None}],
                )
                user = User(
                    id=uuid.uuid4(),
                    email="erin@example.test",
                    name="Erin",
                    role="agent",
                    password_hash=NO_PASSWORD,
                )
                session.add_all([provider, user])
                await session.flush()
                session.add(
                    UserIdentity(
                        id=uuid.uuid4(),
                        user_id=user.id,
                        provider_id=provider.id,
                        issuer=f"ldap:{SLUG}",
                        subject=erin.subject,
                    )
                )
            ldap.delete(DIRECTORY_DNS["erin"])
            done = await asyncio.gather(sso.sync_due(engine), sso.sync_due(engine))
            assert sorted(done) == [0, 1]
            assert await sso.sync_due(engine) == 0  # not due again for sync_minutes
            async with AsyncSession(engine) as session:
                synced = await session.get(IdentityProvider, provider.id)
                assert synced is not None and synced.last_sync_result == {
                    "checked": 1,
                    "updated": 0,
                    "deactivated": 1,
                    "reactivated": 0,
                }
                assert (await session.get(User, user.id)).is_active is False  # type: ignore[union-attr]
        finally:
            await engine.dispose()


async def test_ldaps_with_the_directorys_ca(
    client: AsyncClient, db: AsyncSession, admin: dict[str, str], ldap: Ldap
) -> None:
    assert ldap.ldaps_url is not None
    await _provider(client, db, admin, ldap, settings={"url": ldap.ldaps_url, "starttls": False})
    assert (await _login(client, "alice")).status_code == 200
