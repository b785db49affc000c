"""/api/users: tenant scoping for customer admins, the admin's rules for creating and changing
users, what the audit trail records about them, and the listing's filters and keyset pagination."""

from __future__ import annotations

import base64
import json
import uuid
from typing import Any

import pytest
from httpx import AsyncClient, Response
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.models import AuditLog, Organization, User
from app.models.enums import STAFF_ROLES, Role
from tests.factories import PASSWORD, login, make_actor, make_org, make_user

NEW_PASSWORD = "a brand new passphrase"
CLIENT_IP = "127.0.0.1"
TAMPERED_CURSORS = (
    "abc",
    "!!!!",
    base64.urlsafe_b64encode(b"{not json").decode(),
    base64.urlsafe_b64encode(b'{"email": "a"}').decode(),
    base64.urlsafe_b64encode(b"[1]").decode(),
    base64.urlsafe_b64encode(b'["a", "b"]').decode(),
    base64.urlsafe_b64encode(b'["a\\u0000b"]').decode(),
    base64.urlsafe_b64encode(b"\xff\xfe\x00").decode(),
    "A" * 600,
)
USER_KEYS = {
    "id",
    "email",
    "name",
    "role",
    "org_id",
    "is_active",
    "status",
    "language",
    "mfa_enabled",
    "created_at",
    "updated_at",
}


def new_user(role: Role, org_id: uuid.UUID | None = None, **overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "email": f"person-{uuid.uuid4().hex[:10]}@example.test",
        "name": "Pat Example",
        "role": role.value,
        "password": PASSWORD,
    }
    if org_id is not None:
        body["org_id"] = str(org_id)
    return {**body, **overrides}


def request_id() -> str:
    return f"test-{uuid.uuid4().hex}"


def error_fields(response: Response) -> list[Any]:
    return [tuple(error["loc"]) for error in response.json()["detail"]]


async def stored(db: AsyncSession, user_id: uuid.UUID) -> dict[str, Any]:
    row = (await db.execute(select(User.__table__).where(User.id == user_id))).mappings().one()
    return dict(row)


async def count_users(db: AsyncSession, email: str) -> int:
    stmt = select(func.count()).select_from(User).where(func.lower(User.email) == email.lower())
    return (await db.execute(stmt)).scalar_one()


async def audit_of(db: AsyncSession, entity_id: uuid.UUID, action: str) -> list[AuditLog]:
    stmt = (
        select(AuditLog)
        .where(AuditLog.entity_id == entity_id, AuditLog.action == action)
        .order_by(AuditLog.seq)
    )
    return list((await db.execute(stmt)).scalars())


def assert_no_secret(text: str) -> None:
    lowered = text.lower()
    assert "password" not in lowered
    assert "hash" not in lowered
    assert "$argon2" not in lowered
    assert PASSWORD not in text
    assert NEW_PASSWORD not in text


class TestCustomerAdmin:
    async def test_lists_only_its_own_organization(
        self, client: AsyncClient, db: AsyncSession
    ) -> None:
        org_a, org_b = await make_org(db), await make_org(db)
        own = {(await make_user(db, role=Role.CUSTOMER_USER, org=org_a)).id for _ in range(2)}
        foreign = {(await make_user(db, role=Role.CUSTOMER_USER, org=org_b)).id for _ in range(2)}
        staff = (await make_user(db, role=Role.AGENT)).id
        actor = await make_actor(db, client, role=Role.CUSTOMER_ADMIN, org=org_a)

        listed = await client.get("/api/users", params={"limit": 200}, headers=actor.headers)
        assert listed.status_code == 200, listed.text
        ids = {uuid.UUID(u["id"]) for u in listed.json()["items"]}
        assert ids == {*own, actor.id}
        assert {u["org_id"] for u in listed.json()["items"]} == {str(org_a.id)}
        assert not ids & {*foreign, staff}

        for params in ({"org_id": str(org_b.id)}, {"role": "agent"}, {"q": "agent"}):
            leaked = await client.get("/api/users", params=params, headers=actor.headers)
            assert leaked.status_code == 200
            assert leaked.json()["items"] == [], params

    async def test_other_organizations_user_is_indistinguishable_from_a_missing_one(
        self, client: AsyncClient, db: AsyncSession
    ) -> None:
        org_a = await make_org(db)
        other = await make_user(db, role=Role.CUSTOMER_USER)
        other_id = other.id
        actor = await make_actor(db, client, role=Role.CUSTOMER_ADMIN, org=org_a)
        before = await stored(db, other_id)

        for method, body in (("GET", None), ("PATCH", {"name": "Taken over"})):
            foreign = await client.request(
                method, f"/api/users/{other_id}", json=body, headers=actor.headers
            )
            missing = await client.request(
                method, f"/api/users/{uuid.uuid4()}", json=body, headers=actor.headers
            )
            assert foreign.status_code == missing.status_code == 404, method
            assert foreign.json() == missing.json()
        assert await stored(db, other_id) == before

    async def test_creating_in_another_organization_is_404(
        self, client: AsyncClient, db: AsyncSession
    ) -> None:
        org_a, org_b = await make_org(db), await make_org(db)
        org_b_id = org_b.id
        actor = await make_actor(db, client, role=Role.CUSTOMER_ADMIN, org=org_a)
        body = new_user(Role.CUSTOMER_USER, org_b_id)

        response = await client.post("/api/users", json=body, headers=actor.headers)
        assert response.status_code == 404, response.text
        assert await count_users(db, body["email"]) == 0

    async def test_creating_without_org_id_lands_in_its_own_organization(
        self, client: AsyncClient, db: AsyncSession
    ) -> None:
        org_a = await make_org(db)
        org_a_id = org_a.id
        actor = await make_actor(db, client, role=Role.CUSTOMER_ADMIN, org=org_a)

        response = await client.post(
            "/api/users", json=new_user(Role.CUSTOMER_USER), headers=actor.headers
        )
        assert response.status_code == 201, response.text
        assert response.json()["org_id"] == str(org_a_id)
        assert (await stored(db, uuid.UUID(response.json()["id"])))["org_id"] == org_a_id

    async def test_may_not_create_staff(self, client: AsyncClient, db: AsyncSession) -> None:
        actor = await make_actor(db, client, role=Role.CUSTOMER_ADMIN)
        org_id = actor.user.org_id
        for role in sorted(STAFF_ROLES):
            for body in (new_user(role), new_user(role, org_id)):
                response = await client.post("/api/users", json=body, headers=actor.headers)
                assert response.status_code == 403, (role, response.text)
                assert await count_users(db, body["email"]) == 0

    async def test_may_not_promote_to_staff(self, client: AsyncClient, db: AsyncSession) -> None:
        org = await make_org(db)
        member_id = (await make_user(db, role=Role.CUSTOMER_USER, org=org)).id
        actor = await make_actor(db, client, role=Role.CUSTOMER_ADMIN, org=org)

        for role in sorted(STAFF_ROLES):
            response = await client.patch(
                f"/api/users/{member_id}", json={"role": role.value}, headers=actor.headers
            )
            assert response.status_code == 403, (role, response.text)
            assert (await stored(db, member_id))["role"] == Role.CUSTOMER_USER.value

        granted = await client.patch(
            f"/api/users/{member_id}",
            json={"role": Role.CUSTOMER_ADMIN.value},
            headers=actor.headers,
        )
        assert granted.status_code == 200, granted.text
        assert granted.json()["role"] == Role.CUSTOMER_ADMIN.value

    async def test_cannot_deactivate_itself(self, client: AsyncClient, db: AsyncSession) -> None:
        actor = await make_actor(db, client, role=Role.CUSTOMER_ADMIN)
        actor_id = actor.id

        response = await client.patch(
            f"/api/users/{actor_id}", json={"is_active": False}, headers=actor.headers
        )
        assert response.status_code == 409, response.text
        assert (await stored(db, actor_id))["is_active"] is True
        assert (await client.get("/api/me", headers=actor.headers)).status_code == 200


class TestAdminCreates:
    async def test_staff_without_organization(self, client: AsyncClient, db: AsyncSession) -> None:
        admin = await make_actor(db, client, role=Role.ADMIN)
        org_id = (await make_org(db)).id
        await db.commit()

        created = await client.post("/api/users", json=new_user(Role.AGENT), headers=admin.headers)
        assert created.status_code == 201, created.text
        assert created.json()["org_id"] is None
        assert set(created.json()) == USER_KEYS

        body = new_user(Role.MANAGER, org_id)
        refused = await client.post("/api/users", json=body, headers=admin.headers)
        assert refused.status_code == 422, refused.text
        assert error_fields(refused) == [("body", "org_id")]
        assert await count_users(db, body["email"]) == 0

    async def test_customer_needs_an_existing_organization(
        self, client: AsyncClient, db: AsyncSession
    ) -> None:
        admin = await make_actor(db, client, role=Role.ADMIN)
        org_id = (await make_org(db)).id
        await db.commit()

        missing = await client.post(
            "/api/users", json=new_user(Role.CUSTOMER_USER), headers=admin.headers
        )
        assert missing.status_code == 422, missing.text
        assert error_fields(missing) == [("body", "org_id")]

        unknown = await client.post(
            "/api/users", json=new_user(Role.CUSTOMER_ADMIN, uuid.uuid4()), headers=admin.headers
        )
        assert unknown.status_code == 404, unknown.text

        created = await client.post(
            "/api/users", json=new_user(Role.CUSTOMER_ADMIN, org_id), headers=admin.headers
        )
        assert created.status_code == 201, created.text
        assert created.json()["org_id"] == str(org_id)

    async def test_email_is_stored_lower_case_and_unique_ignoring_case(
        self, client: AsyncClient, db: AsyncSession
    ) -> None:
        admin = await make_actor(db, client, role=Role.ADMIN)
        local = uuid.uuid4().hex[:10]

        created = await client.post(
            "/api/users",
            json=new_user(Role.AGENT, email=f"  Mixed.{local}@Example.TEST "),
            headers=admin.headers,
        )
        assert created.status_code == 201, created.text
        lower = f"mixed.{local}@example.test"
        assert created.json()["email"] == lower
        assert (await stored(db, uuid.UUID(created.json()["id"])))["email"] == lower

        for email in (lower, lower.upper(), f"MIXED.{local}@example.test"):
            duplicate = await client.post(
                "/api/users", json=new_user(Role.AGENT, email=email), headers=admin.headers
            )
            assert duplicate.status_code == 409, (email, duplicate.text)
        assert await count_users(db, lower) == 1

    async def test_password_and_hash_never_appear_in_an_answer(
        self, client: AsyncClient, db: AsyncSession
    ) -> None:
        admin = await make_actor(db, client, role=Role.ADMIN)
        org_id = (await make_org(db)).id
        await db.commit()

        created = await client.post(
            "/api/users", json=new_user(Role.CUSTOMER_USER, org_id), headers=admin.headers
        )
        assert created.status_code == 201, created.text
        user_id = created.json()["id"]
        answers = [
            await client.get(f"/api/users/{user_id}", headers=admin.headers),
            await client.get("/api/users", params={"org_id": str(org_id)}, headers=admin.headers),
            await client.patch(
                f"/api/users/{user_id}", json={"password": NEW_PASSWORD}, headers=admin.headers
            ),
        ]
        assert_no_secret(created.text)
        for answer in answers:
            assert answer.status_code == 200, answer.text
            assert_no_secret(answer.text)
        assert set(answers[0].json()) == USER_KEYS

    async def test_unknown_fields_are_refused(self, client: AsyncClient, db: AsyncSession) -> None:
        admin = await make_actor(db, client, role=Role.ADMIN)
        target_id = (await make_user(db, role=Role.AGENT)).id
        await db.commit()

        body = new_user(Role.AGENT, is_superuser=True)
        created = await client.post("/api/users", json=body, headers=admin.headers)
        assert created.status_code == 422, created.text
        assert ("body", "is_superuser") in error_fields(created)
        assert await count_users(db, body["email"]) == 0

        before = await stored(db, target_id)
        for extra in ({"is_superuser": True}, {"email": "x@example.test"}, {"org_id": None}):
            patched = await client.patch(
                f"/api/users/{target_id}", json={"name": "Renamed", **extra}, headers=admin.headers
            )
            assert patched.status_code == 422, (extra, patched.text)
        assert await stored(db, target_id) == before

    async def test_text_the_database_cannot_store_is_refused(
        self, client: AsyncClient, db: AsyncSession
    ) -> None:
        admin = await make_actor(db, client, role=Role.ADMIN)
        target_id = (await make_user(db, role=Role.AGENT)).id
        await db.commit()
        before = await stored(db, target_id)

        body = new_user(Role.AGENT, name="Null\x00Byte")
        created = await client.post("/api/users", json=body, headers=admin.headers)
        patched = await client.patch(
            f"/api/users/{target_id}", json={"name": "Null\x00Byte"}, headers=admin.headers
        )
        for response in (created, patched):
            assert response.status_code == 422, response.text
            assert error_fields(response) == [("body", "name")]
        searched = await client.get("/api/users", params={"q": "a\x00"}, headers=admin.headers)
        assert searched.status_code == 422, searched.text
        assert error_fields(searched) == [("query", "q")]
        assert await count_users(db, body["email"]) == 0
        assert await stored(db, target_id) == before

    async def test_short_password_is_refused_naming_the_field(
        self, client: AsyncClient, db: AsyncSession
    ) -> None:
        admin = await make_actor(db, client, role=Role.ADMIN)
        target_id = (await make_user(db, role=Role.AGENT)).id
        await db.commit()
        short = "Sh0rt!x"

        created = await client.post(
            "/api/users", json=new_user(Role.AGENT, password=short), headers=admin.headers
        )
        patched = await client.patch(
            f"/api/users/{target_id}", json={"password": short}, headers=admin.headers
        )
        for response in (created, patched):
            assert response.status_code == 422, response.text
            assert error_fields(response) == [("body", "password")]
            assert short not in response.text

    @pytest.mark.parametrize(
        ("current", "wanted"),
        [
            (Role.CUSTOMER_USER, Role.AGENT),
            (Role.CUSTOMER_ADMIN, Role.ADMIN),
            (Role.MANAGER, Role.CUSTOMER_USER),
        ],
    )
    async def test_role_cannot_cross_between_customer_and_staff(
        self, client: AsyncClient, db: AsyncSession, current: Role, wanted: Role
    ) -> None:
        admin = await make_actor(db, client, role=Role.ADMIN)
        target_id = (await make_user(db, role=current)).id
        await db.commit()

        response = await client.patch(
            f"/api/users/{target_id}", json={"role": wanted.value}, headers=admin.headers
        )
        assert response.status_code == 422, response.text
        assert error_fields(response) == [("body", "role")]
        assert (await stored(db, target_id))["role"] == current.value


class TestAuditTrail:
    async def test_created(self, client: AsyncClient, db: AsyncSession) -> None:
        admin = await make_actor(db, client, role=Role.ADMIN)
        org_id = (await make_org(db)).id
        await db.commit()
        rid = request_id()

        body = new_user(Role.CUSTOMER_USER, org_id)
        created = await client.post(
            "/api/users", json=body, headers={**admin.headers, "X-Request-ID": rid}
        )
        assert created.status_code == 201, created.text
        user_id = uuid.UUID(created.json()["id"])

        [entry] = await audit_of(db, user_id, "user.created")
        assert (entry.actor_id, entry.org_id, entry.entity_type) == (admin.id, org_id, "user")
        assert (entry.ip, entry.request_id) == (CLIENT_IP, rid)
        assert entry.new_value == {
            "email": body["email"],
            "name": body["name"],
            "role": Role.CUSTOMER_USER.value,
            "is_active": True,
        }
        assert_no_secret(json.dumps([entry.old_value, entry.new_value]))

    async def test_updated_records_only_changed_fields(
        self, client: AsyncClient, db: AsyncSession
    ) -> None:
        org = await make_org(db)
        org_id = org.id
        target = await make_user(db, role=Role.CUSTOMER_USER, org=org, name="Old Name")
        target_id = target.id
        actor = await make_actor(db, client, role=Role.CUSTOMER_ADMIN, org=org)
        rid = request_id()

        renamed = await client.patch(
            f"/api/users/{target_id}",
            json={"name": "New Name", "role": Role.CUSTOMER_USER.value, "is_active": True},
            headers={**actor.headers, "X-Request-ID": rid},
        )
        assert renamed.status_code == 200, renamed.text

        [entry] = await audit_of(db, target_id, "user.updated")
        assert (entry.old_value, entry.new_value) == ({"name": "Old Name"}, {"name": "New Name"})
        assert (entry.actor_id, entry.org_id) == (actor.id, org_id)
        assert (entry.ip, entry.request_id) == (CLIENT_IP, rid)

        unchanged = await client.patch(
            f"/api/users/{target_id}", json={"name": "New Name"}, headers=actor.headers
        )
        assert unchanged.status_code == 200
        assert len(await audit_of(db, target_id, "user.updated")) == 1

    async def test_password_change_is_recorded_without_the_value(
        self, client: AsyncClient, db: AsyncSession
    ) -> None:
        admin = await make_actor(db, client, role=Role.ADMIN)
        target = await make_user(db, role=Role.AGENT)
        await db.commit()
        target_id = target.id
        old_hash = (await stored(db, target_id))["password_hash"]

        changed = await client.patch(
            f"/api/users/{target_id}", json={"password": NEW_PASSWORD}, headers=admin.headers
        )
        assert changed.status_code == 200, changed.text

        [entry] = await audit_of(db, target_id, "user.updated")
        assert entry.new_value == {"password": "changed"}
        assert not entry.old_value
        dumped = json.dumps([entry.old_value, entry.new_value])
        assert NEW_PASSWORD not in dumped
        assert old_hash not in dumped
        assert "$argon2" not in dumped
        assert (entry.actor_id, entry.ip) == (admin.id, CLIENT_IP)
        assert entry.request_id
        await login(client, target, NEW_PASSWORD)

    async def test_deactivated(self, client: AsyncClient, db: AsyncSession) -> None:
        org = await make_org(db)
        org_id = org.id
        target_id = (await make_user(db, role=Role.CUSTOMER_USER, org=org)).id
        actor = await make_actor(db, client, role=Role.CUSTOMER_ADMIN, org=org)
        rid = request_id()

        response = await client.patch(
            f"/api/users/{target_id}",
            json={"is_active": False},
            headers={**actor.headers, "X-Request-ID": rid},
        )
        assert response.status_code == 200, response.text
        assert response.json()["is_active"] is False

        [updated] = await audit_of(db, target_id, "user.updated")
        assert (updated.old_value, updated.new_value) == ({"is_active": True}, {"is_active": False})
        [entry] = await audit_of(db, target_id, "user.deactivated")
        assert (entry.actor_id, entry.org_id, entry.entity_type) == (actor.id, org_id, "user")
        assert (entry.ip, entry.request_id) == (CLIENT_IP, rid)


async def _populate(db: AsyncSession, names: list[str]) -> tuple[Organization, list[User]]:
    org = await make_org(db)
    users = [await make_user(db, role=Role.CUSTOMER_USER, org=org, name=name) for name in names]
    return org, users


class TestListing:
    async def test_filters(self, client: AsyncClient, db: AsyncSession) -> None:
        tag = uuid.uuid4().hex[:8]
        org, (ann, bob) = await _populate(db, [f"Ann {tag}", f"Bob {tag}"])
        boss = await make_user(
            db, role=Role.CUSTOMER_ADMIN, org=org, email=f"boss-{tag}@example.test"
        )
        other_org, (carl,) = await _populate(db, [f"Carl {tag}"])
        agent = await make_user(db, role=Role.AGENT, name=f"Agent {tag}")
        ids = {u.name: u.id for u in (ann, bob, boss, carl, agent)}
        org_id = org.id
        admin = await make_actor(db, client, role=Role.ADMIN)

        async def listed(**params: str) -> set[uuid.UUID]:
            response = await client.get(
                "/api/users", params={"limit": "200", **params}, headers=admin.headers
            )
            assert response.status_code == 200, response.text
            return {uuid.UUID(u["id"]) for u in response.json()["items"]}

        assert await listed(org_id=str(org_id)) == {ids[ann.name], ids[bob.name], ids[boss.name]}
        assert await listed(org_id=str(org_id), role="customer_admin") == {ids[boss.name]}
        assert await listed(q=tag) == set(ids.values())
        assert await listed(q=f"ann {tag.upper()}") == {ids[ann.name]}
        assert await listed(q=f"BOSS-{tag}") == {ids[boss.name]}
        assert await listed(q=tag, role="agent") == {ids[agent.name]}
        assert await listed(q=tag, org_id=str(other_org.id)) == {ids[carl.name]}
        assert await listed(q="%") == set()
        assert await listed(org_id=str(uuid.uuid4())) == set()

        bad_role = await client.get("/api/users", params={"role": "root"}, headers=admin.headers)
        assert bad_role.status_code == 422

    @pytest.mark.parametrize(("count", "pages_expected"), [(6, 3), (7, 4)])
    async def test_keyset_pages_walk_every_user_once(
        self, client: AsyncClient, db: AsyncSession, count: int, pages_expected: int
    ) -> None:
        org, users = await _populate(db, [f"User {i}" for i in range(count)])
        params = {"org_id": str(org.id), "limit": "2"}
        expected = sorted(u.email for u in users)
        admin = await make_actor(db, client, role=Role.ADMIN)

        seen: list[str] = []
        pages = 0
        cursor: str | None = None
        while True:
            page_params = {**params, **({"cursor": cursor} if cursor else {})}
            response = await client.get("/api/users", params=page_params, headers=admin.headers)
            assert response.status_code == 200, response.text
            page = response.json()
            pages += 1
            assert len(page["items"]) <= 2
            seen += [u["email"] for u in page["items"]]
            cursor = page["next_cursor"]
            if cursor is None:
                break
            assert pages < 10
        assert seen == expected
        assert pages == pages_expected

    async def test_tampered_cursor_is_422(self, client: AsyncClient, db: AsyncSession) -> None:
        admin = await make_actor(db, client, role=Role.ADMIN)
        for cursor in TAMPERED_CURSORS:
            response = await client.get(
                "/api/users", params={"cursor": cursor}, headers=admin.headers
            )
            assert response.status_code == 422, (cursor, response.text)
            assert [loc[-1] for loc in error_fields(response)] == ["cursor"]
