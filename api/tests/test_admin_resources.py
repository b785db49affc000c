"""Organizations, SLA policies, services, teams and the audit query: validation, conflicts,
tenant scoping of the catalog, and the audit entries each change leaves behind."""

from __future__ import annotations

import base64
import uuid
from typing import Any

import pytest
from httpx import AsyncClient, Response
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.models import AuditLog, Organization, Service, SlaPolicy, Team, TeamMember
from app.models.enums import Role
from tests.factories import Actor, login, make_actor, make_org, make_user

CLIENT_IP = "127.0.0.1"
SEEDED_SLA = {"P1": (30, 240), "P2": (120, 1440), "P3": (480, 4320), "P4": (1440, 7200)}
AUDIT_KEYS = {
    "id",
    "seq",
    "actor_id",
    "actor_name",
    "action",
    "entity_type",
    "entity_id",
    "org_id",
    "ticket_id",
    "old_value",
    "new_value",
    "ip",
    "request_id",
    "created_at",
}


def tag() -> str:
    return uuid.uuid4().hex[:8]


def traced(actor: Actor) -> tuple[dict[str, str], str]:
    """The actor's headers plus a request id the audit entry must carry."""
    rid = f"test-{uuid.uuid4().hex}"
    return {**actor.headers, "X-Request-ID": rid}, rid


def error_fields(response: Response) -> list[tuple[Any, ...]]:
    return [tuple(error["loc"]) for error in response.json()["detail"]]


def b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode()


async def audit_of(db: AsyncSession, entity_id: uuid.UUID | str, action: str) -> list[AuditLog]:
    stmt = (
        select(AuditLog)
        .where(AuditLog.entity_id == uuid.UUID(str(entity_id)), AuditLog.action == action)
        .order_by(AuditLog.seq)
    )
    return list((await db.execute(stmt)).scalars())


async def count(db: AsyncSession, model: type[Any], *conditions: Any) -> int:
    stmt = select(func.count()).select_from(model).where(*conditions)
    return (await db.execute(stmt)).scalar_one()


async def walk(
    client: AsyncClient, path: str, headers: dict[str, str], **params: str
) -> list[list[dict[str, Any]]]:
    """Every page of a list endpoint, following next_cursor until it is null."""
    pages: list[list[dict[str, Any]]] = []
    cursor: str | None = None
    while len(pages) < 50:
        query = {**params, **({"cursor": cursor} if cursor else {})}
        response = await client.get(path, params=query, headers=headers)
        assert response.status_code == 200, response.text
        pages.append(response.json()["items"])
        cursor = response.json()["next_cursor"]
        if cursor is None:
            return pages
    raise AssertionError(f"{path} never ended")


def ids(items: list[dict[str, Any]]) -> set[str]:
    return {item["id"] for item in items}


class TestOrganizations:
    async def test_create_is_audited(self, client: AsyncClient, db: AsyncSession) -> None:
        admin = await make_actor(db, client, role=Role.ADMIN)
        headers, rid = traced(admin)
        name = f"Acme {tag()}"

        response = await client.post("/api/orgs", json={"name": f"  {name} "}, headers=headers)
        assert response.status_code == 201, response.text
        org = response.json()
        assert (org["name"], org["status"]) == (name, "active")

        [entry] = await audit_of(db, org["id"], "org.created")
        assert (entry.actor_id, str(entry.org_id), entry.entity_type) == (
            admin.id,
            org["id"],
            "organization",
        )
        assert entry.new_value == {"name": name, "status": "active"}
        assert (entry.ip, entry.request_id) == (CLIENT_IP, rid)

    async def test_duplicate_name_ignoring_case_is_409(
        self, client: AsyncClient, db: AsyncSession
    ) -> None:
        name = f"Globex {tag()}"
        await make_org(db, name=name)
        other_id = (await make_org(db)).id
        admin = await make_actor(db, client, role=Role.ADMIN)

        for candidate in (name, name.upper(), f"  {name.lower()}  "):
            response = await client.post(
                "/api/orgs", json={"name": candidate}, headers=admin.headers
            )
            assert response.status_code == 409, (candidate, response.text)
        renamed = await client.patch(
            f"/api/orgs/{other_id}", json={"name": name.swapcase()}, headers=admin.headers
        )
        assert renamed.status_code == 409, renamed.text
        assert await count(db, Organization, func.lower(Organization.name) == name.lower()) == 1

    async def test_patch_name_and_status_is_audited_with_changed_fields(
        self, client: AsyncClient, db: AsyncSession
    ) -> None:
        old_name, new_name = f"Initech {tag()}", f"Initrode {tag()}"
        org_id = (await make_org(db, name=old_name)).id
        admin = await make_actor(db, client, role=Role.ADMIN)
        headers, rid = traced(admin)

        renamed = await client.patch(
            f"/api/orgs/{org_id}", json={"name": new_name, "status": "active"}, headers=headers
        )
        assert renamed.status_code == 200, renamed.text
        assert renamed.json()["name"] == new_name
        suspended = await client.patch(
            f"/api/orgs/{org_id}", json={"status": "suspended"}, headers=admin.headers
        )
        assert suspended.status_code == 200, suspended.text
        assert suspended.json()["status"] == "suspended"

        first, second = await audit_of(db, org_id, "org.updated")
        assert (first.old_value, first.new_value) == ({"name": old_name}, {"name": new_name})
        assert (first.actor_id, first.org_id) == (admin.id, org_id)
        assert (first.ip, first.request_id) == (CLIENT_IP, rid)
        assert (second.old_value, second.new_value) == (
            {"status": "active"},
            {"status": "suspended"},
        )

        again = await client.patch(
            f"/api/orgs/{org_id}", json={"status": "suspended"}, headers=admin.headers
        )
        assert again.status_code == 200
        assert len(await audit_of(db, org_id, "org.updated")) == 2

    async def test_suspension_locks_out_its_customers_on_their_next_request(
        self, client: AsyncClient, db: AsyncSession
    ) -> None:
        org = await make_org(db)
        org_id = org.id
        customer_user = await make_user(db, role=Role.CUSTOMER_ADMIN, org=org)
        customer = await login(client, customer_user)
        outsider = await make_actor(db, client, role=Role.CUSTOMER_USER)
        admin = await make_actor(db, client, role=Role.ADMIN)
        assert (await client.get("/api/me", headers=customer.headers)).status_code == 200

        response = await client.patch(
            f"/api/orgs/{org_id}", json={"status": "suspended"}, headers=admin.headers
        )
        assert response.status_code == 200, response.text

        for path in ("/api/me", "/api/users", "/api/services"):
            refused = await client.get(path, headers=customer.headers)
            assert refused.status_code == 401, (path, refused.text)
        assert (await client.get("/api/me", headers=outsider.headers)).status_code == 200
        assert (await client.get("/api/me", headers=admin.headers)).status_code == 200

    @pytest.mark.parametrize(
        "name", ["", "   ", "x" * 201, "Null\x00Byte"], ids=["empty", "blank", "201", "nul"]
    )
    async def test_invalid_name_is_422(
        self, client: AsyncClient, db: AsyncSession, name: str
    ) -> None:
        org_id = (await make_org(db)).id
        admin = await make_actor(db, client, role=Role.ADMIN)
        before = await count(db, Organization)

        created = await client.post("/api/orgs", json={"name": name}, headers=admin.headers)
        patched = await client.patch(
            f"/api/orgs/{org_id}", json={"name": name}, headers=admin.headers
        )
        for response in (created, patched):
            assert response.status_code == 422, response.text
            assert error_fields(response) == [("body", "name")]
        assert await count(db, Organization) == before

    async def test_longest_name_and_unknown_fields(
        self, client: AsyncClient, db: AsyncSession
    ) -> None:
        admin = await make_actor(db, client, role=Role.ADMIN)
        longest = tag() + "x" * 192
        created = await client.post("/api/orgs", json={"name": longest}, headers=admin.headers)
        assert created.status_code == 201, created.text

        for body in ({"name": f"Org {tag()}", "status": "suspended"}, {"id": str(uuid.uuid4())}):
            refused = await client.post("/api/orgs", json=body, headers=admin.headers)
            assert refused.status_code == 422, (body, refused.text)
        bad_status = await client.patch(
            f"/api/orgs/{created.json()['id']}", json={"status": "deleted"}, headers=admin.headers
        )
        assert bad_status.status_code == 422

    async def test_unknown_org_is_404(self, client: AsyncClient, db: AsyncSession) -> None:
        admin = await make_actor(db, client, role=Role.ADMIN)
        missing = uuid.uuid4()
        assert (await client.get(f"/api/orgs/{missing}", headers=admin.headers)).status_code == 404
        patched = await client.patch(
            f"/api/orgs/{missing}", json={"name": "Ghost"}, headers=admin.headers
        )
        assert patched.status_code == 404

    async def test_list_search_and_pages(self, client: AsyncClient, db: AsyncSession) -> None:
        marker = tag()
        created = {str((await make_org(db, name=f"{n} {marker}")).id) for n in "EDCBA"}
        await make_org(db)
        admin = await make_actor(db, client, role=Role.ADMIN)

        pages = await walk(client, "/api/orgs", admin.headers, q=marker.upper(), limit="2")
        assert [len(page) for page in pages] == [2, 2, 1]
        names = [org["name"] for page in pages for org in page]
        assert names == sorted(names)
        assert {org["id"] for page in pages for org in page} == created


class TestSlaPolicies:
    async def test_migration_seeds_the_global_defaults(
        self, client: AsyncClient, db: AsyncSession
    ) -> None:
        agent = await make_actor(db, client, role=Role.AGENT)
        pages = await walk(client, "/api/sla", agent.headers, limit="200")
        globals_ = {
            p["priority"]: (p["first_response_minutes"], p["resolution_minutes"])
            for page in pages
            for p in page
            if p["org_id"] is None
        }
        assert globals_ == SEEDED_SLA

    async def test_override_lifecycle_is_audited(
        self, client: AsyncClient, db: AsyncSession
    ) -> None:
        org_id = (await make_org(db)).id
        admin = await make_actor(db, client, role=Role.ADMIN)
        admin_id = admin.id
        body = {
            "org_id": str(org_id),
            "priority": "P1",
            "first_response_minutes": 15,
            "resolution_minutes": 60,
        }

        headers, rid = traced(admin)
        created = await client.post("/api/sla", json=body, headers=headers)
        assert created.status_code == 201, created.text
        policy_id = created.json()["id"]
        [entry] = await audit_of(db, policy_id, "sla_policy.created")
        assert entry.new_value == body
        assert (entry.actor_id, entry.org_id, entry.entity_type) == (admin_id, org_id, "sla_policy")
        assert (entry.ip, entry.request_id) == (CLIENT_IP, rid)

        duplicate = await client.post(
            "/api/sla", json={**body, "resolution_minutes": 90}, headers=admin.headers
        )
        assert duplicate.status_code == 409, duplicate.text

        headers, rid = traced(admin)
        patched = await client.patch(
            f"/api/sla/{policy_id}",
            json={"first_response_minutes": 15, "resolution_minutes": 90},
            headers=headers,
        )
        assert patched.status_code == 200, patched.text
        assert patched.json()["resolution_minutes"] == 90
        [entry] = await audit_of(db, policy_id, "sla_policy.updated")
        assert (entry.old_value, entry.new_value) == (
            {"resolution_minutes": 60},
            {"resolution_minutes": 90},
        )
        assert (entry.ip, entry.request_id) == (CLIENT_IP, rid)

        headers, rid = traced(admin)
        deleted = await client.delete(f"/api/sla/{policy_id}", headers=headers)
        assert deleted.status_code == 204, deleted.text
        assert deleted.content == b""
        [entry] = await audit_of(db, policy_id, "sla_policy.deleted")
        assert entry.old_value == {**body, "resolution_minutes": 90}
        assert (entry.actor_id, entry.org_id) == (admin_id, org_id)
        assert (entry.ip, entry.request_id) == (CLIENT_IP, rid)
        assert (await client.get(f"/api/sla/{policy_id}", headers=admin.headers)).status_code == 404
        assert await count(db, SlaPolicy, SlaPolicy.org_id == org_id) == 0

    async def test_global_default_can_change_but_not_go(
        self, client: AsyncClient, db: AsyncSession
    ) -> None:
        admin = await make_actor(db, client, role=Role.ADMIN)
        global_p2 = (
            await db.execute(
                select(SlaPolicy.id).where(SlaPolicy.org_id.is_(None), SlaPolicy.priority == "P2")
            )
        ).scalar_one()

        deleted = await client.delete(f"/api/sla/{global_p2}", headers=admin.headers)
        assert deleted.status_code == 409, deleted.text
        assert await count(db, SlaPolicy, SlaPolicy.id == global_p2) == 1
        assert await audit_of(db, global_p2, "sla_policy.deleted") == []

        second_global = await client.post(
            "/api/sla",
            json={"priority": "P2", "first_response_minutes": 1, "resolution_minutes": 2},
            headers=admin.headers,
        )
        assert second_global.status_code == 409, second_global.text

        patched = await client.patch(
            f"/api/sla/{global_p2}", json={"first_response_minutes": 90}, headers=admin.headers
        )
        assert patched.status_code == 200, patched.text
        assert (patched.json()["org_id"], patched.json()["first_response_minutes"]) == (None, 90)

    @pytest.mark.parametrize("minutes", [0, -5])
    async def test_minutes_must_be_positive(
        self, client: AsyncClient, db: AsyncSession, minutes: int
    ) -> None:
        org_id = (await make_org(db)).id
        admin = await make_actor(db, client, role=Role.ADMIN)
        base = {
            "org_id": str(org_id),
            "priority": "P3",
            "first_response_minutes": 10,
            "resolution_minutes": 100,
        }
        global_p3 = (
            await db.execute(
                select(SlaPolicy.id).where(SlaPolicy.org_id.is_(None), SlaPolicy.priority == "P3")
            )
        ).scalar_one()

        for field in ("first_response_minutes", "resolution_minutes"):
            created = await client.post(
                "/api/sla", json={**base, field: minutes}, headers=admin.headers
            )
            patched = await client.patch(
                f"/api/sla/{global_p3}", json={field: minutes}, headers=admin.headers
            )
            for response in (created, patched):
                assert response.status_code == 422, (field, response.text)
                assert error_fields(response) == [("body", field)]
        assert await count(db, SlaPolicy, SlaPolicy.org_id == org_id) == 0
        stored = await db.execute(select(SlaPolicy.__table__).where(SlaPolicy.id == global_p3))
        assert stored.mappings().one()["first_response_minutes"] == SEEDED_SLA["P3"][0]

    async def test_unknown_org_or_priority(self, client: AsyncClient, db: AsyncSession) -> None:
        admin = await make_actor(db, client, role=Role.ADMIN)
        body = {"priority": "P1", "first_response_minutes": 10, "resolution_minutes": 20}

        unknown = await client.post(
            "/api/sla", json={**body, "org_id": str(uuid.uuid4())}, headers=admin.headers
        )
        assert unknown.status_code == 404, unknown.text
        bad_priority = await client.post(
            "/api/sla", json={**body, "priority": "P5"}, headers=admin.headers
        )
        assert bad_priority.status_code == 422
        assert error_fields(bad_priority) == [("body", "priority")]


async def _catalog(db: AsyncSession) -> tuple[Organization, Organization, dict[str, uuid.UUID]]:
    org_a, org_b = await make_org(db), await make_org(db)
    marker = tag()
    services = {
        "global": Service(id=uuid.uuid4(), org_id=None, name=f"Mail {marker}", is_active=True),
        "own": Service(id=uuid.uuid4(), org_id=org_a.id, name=f"Mail {marker}", is_active=True),
        "foreign": Service(id=uuid.uuid4(), org_id=org_b.id, name=f"Mail {marker}", is_active=True),
        "retired": Service(id=uuid.uuid4(), org_id=None, name=f"Fax {marker}", is_active=False),
        "own_retired": Service(
            id=uuid.uuid4(), org_id=org_a.id, name=f"Fax {marker}", is_active=False
        ),
    }
    db.add_all(services.values())
    await db.flush()
    return org_a, org_b, {key: s.id for key, s in services.items()}


class TestServices:
    async def test_customers_see_global_and_their_own_active_services(
        self, client: AsyncClient, db: AsyncSession
    ) -> None:
        org_a, org_b, catalog = await _catalog(db)
        org_b_id = org_b.id
        customer = await make_actor(db, client, role=Role.CUSTOMER_USER, org=org_a)
        mine = {str(catalog["global"]), str(catalog["own"])}
        everything = {str(i) for i in catalog.values()}

        listed = ids(
            [s for page in await walk(client, "/api/services", customer.headers) for s in page]
        )
        assert listed & everything == mine
        scoped = await walk(client, "/api/services", customer.headers, org_id=str(org_b_id))
        assert scoped == [[]]

        for hidden in ("foreign", "retired", "own_retired"):
            response = await client.get(
                f"/api/services/{catalog[hidden]}", headers=customer.headers
            )
            missing = await client.get(f"/api/services/{uuid.uuid4()}", headers=customer.headers)
            assert response.status_code == 404, hidden
            assert response.json() == missing.json()
        for visible in ("global", "own"):
            response = await client.get(
                f"/api/services/{catalog[visible]}", headers=customer.headers
            )
            assert response.status_code == 200, visible
            assert response.json()["id"] == str(catalog[visible])

    async def test_staff_see_every_service(self, client: AsyncClient, db: AsyncSession) -> None:
        _, _, catalog = await _catalog(db)
        agent = await make_actor(db, client, role=Role.AGENT)
        listed = ids(
            [s for page in await walk(client, "/api/services", agent.headers) for s in page]
        )
        assert {str(i) for i in catalog.values()} <= listed

    async def test_duplicate_name_in_the_same_scope_is_409(
        self, client: AsyncClient, db: AsyncSession
    ) -> None:
        org_id = (await make_org(db)).id
        admin = await make_actor(db, client, role=Role.ADMIN)
        name = f"VPN {tag()}"

        async def create(body: dict[str, Any]) -> Response:
            return await client.post("/api/services", json=body, headers=admin.headers)

        assert (await create({"name": name})).status_code == 201
        assert (await create({"name": name})).status_code == 409
        own = await create({"name": name, "org_id": str(org_id)})
        assert own.status_code == 201, own.text
        assert (await create({"name": name, "org_id": str(org_id)})).status_code == 409
        assert await count(db, Service, Service.name == name) == 2

        other = await create({"name": f"Other {tag()}", "org_id": str(org_id)})
        renamed = await client.patch(
            f"/api/services/{other.json()['id']}", json={"name": name}, headers=admin.headers
        )
        assert renamed.status_code == 409, renamed.text

        unknown = await create({"name": name, "org_id": str(uuid.uuid4())})
        assert unknown.status_code == 404

    async def test_deactivated_service_disappears_for_customers(
        self, client: AsyncClient, db: AsyncSession
    ) -> None:
        org_a, _, catalog = await _catalog(db)
        customer = await make_actor(db, client, role=Role.CUSTOMER_ADMIN, org=org_a)
        admin = await make_actor(db, client, role=Role.ADMIN)
        own = catalog["own"]

        response = await client.patch(
            f"/api/services/{own}", json={"is_active": False}, headers=admin.headers
        )
        assert response.status_code == 200, response.text
        assert response.json()["is_active"] is False
        hidden = await client.get(f"/api/services/{own}", headers=customer.headers)
        assert hidden.status_code == 404
        assert (await client.get(f"/api/services/{own}", headers=admin.headers)).status_code == 200


class TestTeams:
    async def test_create_with_active_staff(self, client: AsyncClient, db: AsyncSession) -> None:
        members = {str((await make_user(db, role=role)).id) for role in (Role.AGENT, Role.MANAGER)}
        admin = await make_actor(db, client, role=Role.ADMIN)

        response = await client.post(
            "/api/teams",
            json={"name": f"Network {tag()}", "member_ids": [*members, *members]},
            headers=admin.headers,
        )
        assert response.status_code == 201, response.text
        assert sorted(response.json()["member_ids"]) == sorted(members)
        fetched = await client.get(f"/api/teams/{response.json()['id']}", headers=admin.headers)
        assert set(fetched.json()["member_ids"]) == members

    @pytest.mark.parametrize("kind", ["customer", "unknown", "inactive"])
    async def test_members_must_be_active_staff(
        self, client: AsyncClient, db: AsyncSession, kind: str
    ) -> None:
        staff = (await make_user(db, role=Role.AGENT)).id
        wrong = uuid.uuid4()
        if kind == "customer":
            wrong = (await make_user(db, role=Role.CUSTOMER_USER)).id
        elif kind == "inactive":
            wrong = (await make_user(db, role=Role.AGENT, is_active=False)).id
        team_id = (await _team(db, [staff])).id
        admin = await make_actor(db, client, role=Role.ADMIN)
        name = f"Storage {tag()}"

        created = await client.post(
            "/api/teams",
            json={"name": name, "member_ids": [str(staff), str(wrong)]},
            headers=admin.headers,
        )
        patched = await client.patch(
            f"/api/teams/{team_id}", json={"member_ids": [str(wrong)]}, headers=admin.headers
        )
        for response in (created, patched):
            assert response.status_code == 422, response.text
            assert error_fields(response) == [("body", "member_ids")]
            assert str(wrong) in response.text
        assert await count(db, Team, Team.name == name) == 0
        kept = await client.get(f"/api/teams/{team_id}", headers=admin.headers)
        assert kept.json()["member_ids"] == [str(staff)]

    async def test_patch_replaces_members(self, client: AsyncClient, db: AsyncSession) -> None:
        first, second, third = [(await make_user(db, role=Role.AGENT)).id for _ in range(3)]
        team_id = (await _team(db, [first, second])).id
        admin = await make_actor(db, client, role=Role.ADMIN)

        async def patch(body: dict[str, Any]) -> set[str]:
            response = await client.patch(f"/api/teams/{team_id}", json=body, headers=admin.headers)
            assert response.status_code == 200, response.text
            return set(response.json()["member_ids"])

        assert await patch({"member_ids": [str(second), str(third)]}) == {str(second), str(third)}
        assert await patch({"name": f"Renamed {tag()}"}) == {str(second), str(third)}
        assert await patch({"member_ids": []}) == set()

    async def test_duplicate_name_ignoring_case_is_409(
        self, client: AsyncClient, db: AsyncSession
    ) -> None:
        name = f"Desk {tag()}"
        await _team(db, [], name=name)
        admin = await make_actor(db, client, role=Role.ADMIN)
        response = await client.post(
            "/api/teams", json={"name": name.upper()}, headers=admin.headers
        )
        assert response.status_code == 409, response.text


async def _team(db: AsyncSession, members: list[uuid.UUID], name: str | None = None) -> Team:
    team = Team(id=uuid.uuid4(), name=name or f"Team {tag()}")
    db.add(team)
    await db.flush()
    db.add_all(TeamMember(team_id=team.id, user_id=m) for m in members)
    await db.flush()
    return team


class TestAuditQuery:
    async def _history(
        self, client: AsyncClient, db: AsyncSession
    ) -> tuple[Actor, uuid.UUID, list[str]]:
        """An admin's trail: login, org created and renamed, a user and an SLA override in it."""
        admin = await make_actor(db, client, role=Role.ADMIN)
        org = await client.post(
            "/api/orgs", json={"name": f"Audited {tag()}"}, headers=admin.headers
        )
        org_id = org.json()["id"]
        renamed = await client.patch(
            f"/api/orgs/{org_id}", json={"name": f"Audited {tag()}"}, headers=admin.headers
        )
        user = await client.post(
            "/api/users",
            json={
                "email": f"audited-{tag()}@example.test",
                "name": "Audited",
                "role": "customer_user",
                "org_id": org_id,
                "password": "long enough password",
            },
            headers=admin.headers,
        )
        sla = await client.post(
            "/api/sla",
            json={
                "org_id": org_id,
                "priority": "P4",
                "first_response_minutes": 5,
                "resolution_minutes": 50,
            },
            headers=admin.headers,
        )
        for response in (org, renamed, user, sla):
            assert response.status_code in (200, 201), response.text
        actions = ["sla_policy.created", "user.created", "org.updated", "org.created"]
        return admin, uuid.UUID(org_id), actions

    async def test_filters_return_only_matching_rows_newest_first(
        self, client: AsyncClient, db: AsyncSession
    ) -> None:
        admin, org_id, actions = await self._history(client, db)
        manager = await make_actor(db, client, role=Role.MANAGER)

        async def query(**params: str) -> list[dict[str, Any]]:
            pages = await walk(client, "/api/internal/audit", manager.headers, **params)
            entries = [entry for page in pages for entry in page]
            seqs = [entry["seq"] for entry in entries]
            assert seqs == sorted(seqs, reverse=True) and len(set(seqs)) == len(seqs)
            return entries

        by_actor = await query(actor_id=str(admin.id))
        assert [e["action"] for e in by_actor] == [*actions, "auth.login"]
        assert all(set(e) == AUDIT_KEYS for e in by_actor)
        assert {e["actor_name"] for e in by_actor} == {admin.user.name}

        by_org = await query(org_id=str(org_id))
        assert [e["action"] for e in by_org] == actions

        by_entity = await query(entity_type="organization", entity_id=str(org_id))
        assert [e["action"] for e in by_entity] == ["org.updated", "org.created"]

        renamed = await query(action="org.updated", actor_id=str(admin.id))
        assert [(e["entity_id"], e["old_value"] is not None) for e in renamed] == [
            (str(org_id), True)
        ]

        by_action = await query(action="user.created")
        assert by_action and all(e["action"] == "user.created" for e in by_action)
        assert str(org_id) in {e["org_id"] for e in by_action}

        assert await query(entity_type="sla_policy", org_id=str(org_id), action="org.created") == []
        assert await query(actor_id=str(uuid.uuid4())) == []

    async def test_pages_split_the_same_rows(self, client: AsyncClient, db: AsyncSession) -> None:
        admin, _, actions = await self._history(client, db)
        pages = await walk(
            client, "/api/internal/audit", admin.headers, actor_id=str(admin.id), limit="2"
        )
        assert [len(page) for page in pages] == [2, 2, 1]
        assert [e["action"] for page in pages for e in page] == [*actions, "auth.login"]


ADMIN_LISTS = ("/api/orgs", "/api/users", "/api/sla", "/api/services", "/api/teams")
TAMPERED_CURSORS = (
    "abc",
    b64(b"{garbage"),
    b64(b'{"a": 1}'),
    b64(b'["a", 123]'),
    b64(b'["a", "not-a-uuid"]'),
    b64(b'["a\\u0000", "00000000-0000-0000-0000-000000000000"]'),
    b64(b"[99999999999999999999999]"),
    b64(b"[1.5]"),
    b64(b"[true]"),
    b64(b"[null]"),
    b64(b'["\\ud800"]'),
)


async def test_tampered_cursor_is_422_on_every_admin_list(
    client: AsyncClient, db: AsyncSession
) -> None:
    admin = await make_actor(db, client, role=Role.ADMIN)
    for path in (*ADMIN_LISTS, "/api/internal/audit"):
        for cursor in TAMPERED_CURSORS:
            response = await client.get(path, params={"cursor": cursor}, headers=admin.headers)
            assert response.status_code == 422, (path, cursor, response.text)
            assert [loc[-1] for loc in error_fields(response)] == ["cursor"]
