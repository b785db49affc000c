"""Tenant isolation of the ticket endpoints (SECURITY.md "Access control").

Organization A (customers cA1, cA2) and organization B (customer cB), staff agent, manager and
admin; ticket tA (accepted, assigned, with a public staff reply) and tB (NEW). Both carry a public
attachment, an internal note and an internal attachment. Everything is created through the API.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.routing import APIRoute
from httpx import AsyncClient, Response
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.models import (
    AuditLog,
    Organization,
    Service,
    Team,
    Ticket,
    TicketAttachment,
    TicketComment,
    User,
)
from app.models.enums import Role
from tests.factories import bearer_headers as headers_for
from tests.factories import make_org, make_user

Headers = dict[str, str]

TICKET_KEYS = frozenset(
    {
        "id",
        "number",
        "org_id",
        "org_name",
        "service_id",
        "title",
        "description",
        "status",
        "priority",
        "category",
        "created_by",
        "accepted_by",
        "assigned_to",
        "accepted_at",
        "resolved_at",
        "closed_at",
        "created_at",
        "updated_at",
        "resolution",
        "channel",
        "follow_up_of",
        # A merged duplicate names the ticket it went into (always of the same organization).
        "merged_into",
    }
)
# ``csat``: the viewer's own rating of a resolved ticket, or null (never a colleague's).
DETAIL_KEYS = TICKET_KEYS | {"comments", "attachments", "actions", "cc", "csat"}
CSAT_KEYS = frozenset({"rating", "comment", "submitted_at", "expires_at", "can_rate"})
ACTION_KEYS = frozenset({"reply", "attach", "withdraw"})
COMMENT_KEYS = frozenset(
    {"id", "ticket_id", "author", "body", "is_internal", "created_at", "channel", "quoted"}
    | {"refused_files"}
)
ATTACHMENT_KEYS = frozenset({"id", "file_name", "mime_type", "size_bytes", "sha256", "created_at"})
PERSON_KEYS = frozenset({"id", "name"})
AUTHOR_KEYS = frozenset({"id", "name", "is_staff"})


def upload_file(name: str, content: bytes) -> dict[str, tuple[str, bytes, str]]:
    return {"file": (name, content, "text/plain")}


def ok(response: Response, status: int = 200) -> Any:
    assert response.status_code == status, response.text
    return response.json()


@dataclass
class Side:
    """One organization's ticket and what hangs off it."""

    org: Organization
    ticket: uuid.UUID
    title_word: str
    public_attachment: uuid.UUID
    internal_note: str
    internal_attachment: uuid.UUID
    internal_file_name: str
    internal_sha256: str


@dataclass
class World:
    cA1: Headers
    cA2: Headers
    cB: Headers
    agent: Headers
    manager: Headers
    admin: Headers
    users: dict[str, User]
    a: Side
    b: Side
    team: Team
    service_b: uuid.UUID

    def staff(self) -> dict[str, Headers]:
        return {"agent": self.agent, "manager": self.manager, "admin": self.admin}

    def customers_of_a(self) -> dict[str, Headers]:
        return {"customer_user": self.cA1, "customer_admin": self.cA2}


async def _side(
    client: AsyncClient, *, org: Organization, customer: Headers, staff: Headers, tag: str
) -> Side:
    word = f"zq{uuid.uuid4().hex[:12]}"
    ticket = ok(
        await client.post(
            "/api/tickets",
            json={"title": f"Printer {word} broken", "description": f"{tag} floor printer"},
            headers=customer,
        ),
        201,
    )
    ticket_id = uuid.UUID(ticket["id"])
    base = f"/api/tickets/{ticket_id}"
    public = ok(
        await client.post(
            f"{base}/attachments",
            files=upload_file(f"public-{tag}.txt", f"public {tag} {uuid.uuid4()}".encode()),
            headers=customer,
        ),
        201,
    )
    note = f"internal-note-{tag}-{uuid.uuid4().hex}"
    ok(
        await client.post(
            f"/api/internal/tickets/{ticket_id}/comments",
            json={"body": note, "is_internal": True},
            headers=staff,
        ),
        201,
    )
    internal_name = f"internal-{tag}-{uuid.uuid4().hex[:8]}.txt"
    internal = ok(
        await client.post(
            f"/api/internal/tickets/{ticket_id}/attachments",
            params={"is_internal": "true"},
            files=upload_file(internal_name, f"secret {tag} {uuid.uuid4()}".encode()),
            headers=staff,
        ),
        201,
    )
    assert internal["is_internal"] is True
    return Side(
        org=org,
        ticket=ticket_id,
        title_word=word,
        public_attachment=uuid.UUID(public["id"]),
        internal_note=note,
        internal_attachment=uuid.UUID(internal["id"]),
        internal_file_name=internal["file_name"],
        internal_sha256=internal["sha256"],
    )


@pytest.fixture
async def world(client: AsyncClient, db: AsyncSession) -> World:
    org_a = await make_org(db, name=f"Org A {uuid.uuid4().hex[:6]}")
    org_b = await make_org(db, name=f"Org B {uuid.uuid4().hex[:6]}")
    users = {
        "cA1": await make_user(db, role=Role.CUSTOMER_USER, org=org_a),
        "cA2": await make_user(db, role=Role.CUSTOMER_ADMIN, org=org_a),
        "cB": await make_user(db, role=Role.CUSTOMER_USER, org=org_b),
        "agent": await make_user(db, role=Role.AGENT),
        "manager": await make_user(db, role=Role.MANAGER),
        "admin": await make_user(db, role=Role.ADMIN),
    }
    team = Team(id=uuid.uuid4(), name=f"Team {uuid.uuid4().hex[:8]}")
    service_b = Service(id=uuid.uuid4(), org_id=org_b.id, name=f"B only {uuid.uuid4().hex[:6]}")
    db.add_all([team, service_b])
    await db.flush()
    h = {name: await headers_for(db, user) for name, user in users.items()}

    a = await _side(client, org=org_a, customer=h["cA1"], staff=h["agent"], tag="a")
    b = await _side(client, org=org_b, customer=h["cB"], staff=h["agent"], tag="b")

    internal = f"/api/internal/tickets/{a.ticket}"
    ok(await client.post(f"{internal}/accept", json={}, headers=h["manager"]))
    ok(
        await client.post(
            f"{internal}/assign",
            json={"assignee_id": str(users["agent"].id), "team_id": str(team.id)},
            headers=h["manager"],
        )
    )
    ok(
        await client.post(
            f"{internal}/comments",
            json={"body": "We are looking into it.", "is_internal": False},
            headers=h["agent"],
        ),
        201,
    )
    return World(
        cA1=h["cA1"],
        cA2=h["cA2"],
        cB=h["cB"],
        agent=h["agent"],
        manager=h["manager"],
        admin=h["admin"],
        users=users,
        a=a,
        b=b,
        team=team,
        service_b=service_b.id,
    )


@dataclass(frozen=True)
class Snapshot:
    status: str
    updated_at: object
    comments: int
    attachments: int
    audit_entries: int


async def snapshot(db: AsyncSession, ticket_id: uuid.UUID) -> Snapshot:
    status, updated_at = (
        await db.execute(select(Ticket.status, Ticket.updated_at).where(Ticket.id == ticket_id))
    ).one()

    async def count(column: Any) -> int:
        stmt = select(func.count()).where(column == ticket_id)
        return int((await db.execute(stmt)).scalar_one())

    return Snapshot(
        status=status,
        updated_at=updated_at,
        comments=await count(TicketComment.ticket_id),
        attachments=await count(TicketAttachment.ticket_id),
        audit_entries=await count(AuditLog.ticket_id),
    )


async def customer_call(
    client: AsyncClient, headers: Headers, action: str, ticket: uuid.UUID, attachment: uuid.UUID
) -> Response:
    base = f"/api/tickets/{ticket}"
    if action == "detail":
        return await client.get(base, headers=headers)
    if action == "comment":
        return await client.post(f"{base}/comments", json={"body": "hello"}, headers=headers)
    if action == "withdraw":
        return await client.post(f"{base}/withdraw", json={"reason": "oops"}, headers=headers)
    if action == "upload":
        files = upload_file("probe.txt", b"probe upload")
        return await client.post(f"{base}/attachments", files=files, headers=headers)
    assert action == "download"
    return await client.get(f"{base}/attachments/{attachment}", headers=headers)


CUSTOMER_ACTIONS = ("detail", "comment", "withdraw", "upload", "download")


class TestOtherOrganizationsTicket:
    @pytest.mark.parametrize("action", CUSTOMER_ACTIONS)
    async def test_is_indistinguishable_from_a_random_id_and_left_unchanged(
        self, client: AsyncClient, db: AsyncSession, world: World, action: str
    ) -> None:
        before = await snapshot(db, world.b.ticket)
        random_answer = await customer_call(client, world.cA1, action, uuid.uuid4(), uuid.uuid4())
        for headers in (world.cA1, world.cA2):
            answer = await customer_call(
                client, headers, action, world.b.ticket, world.b.public_attachment
            )
            assert answer.status_code == 404, answer.text
            assert random_answer.status_code == 404
            assert answer.json() == random_answer.json()
        assert await snapshot(db, world.b.ticket) == before

    async def test_the_owner_can_do_what_the_other_organization_cannot(
        self, client: AsyncClient, world: World
    ) -> None:
        base = f"/api/tickets/{world.b.ticket}"
        assert (await client.get(base, headers=world.cB)).status_code == 200
        download = await client.get(
            f"{base}/attachments/{world.b.public_attachment}", headers=world.cB
        )
        assert download.status_code == 200

    async def test_mismatched_parent_is_not_found(self, client: AsyncClient, world: World) -> None:
        crossed = f"/api/tickets/{world.a.ticket}/attachments/{world.b.public_attachment}"
        for headers in (world.cA1, world.cB):
            assert (await client.get(crossed, headers=headers)).status_code == 404
        internal = f"/api/internal/tickets/{world.a.ticket}/attachments/{world.b.public_attachment}"
        assert (await client.get(internal, headers=world.agent)).status_code == 404


class TestListsNeverLeak:
    async def test_search_status_and_default_list_show_only_the_callers_organization(
        self, client: AsyncClient, db: AsyncSession, world: World
    ) -> None:
        queries: list[dict[str, str]] = [
            {},
            {"q": world.b.title_word},
            {"q": f"{world.a.title_word} or {world.b.title_word}"},
            {"status": "NEW"},
            {"status": "ASSIGNED"},
            {"org_id": str(world.b.org.id)},
            {"org_id": str(world.b.org.id), "q": world.b.title_word},
            {"assigned_to": str(world.users["agent"].id)},
            {"assigned_to": str(world.users["agent"].id), "status": "NEW"},
        ]
        b_number = (
            await db.execute(select(Ticket.number).where(Ticket.id == world.b.ticket))
        ).scalar_one()
        queries.append({"q": str(b_number)})
        for params in queries:
            page = ok(await client.get("/api/tickets", params=params, headers=world.cA1))
            assert {item["org_id"] for item in page["items"]} <= {str(world.a.org.id)}, params
            assert str(world.b.ticket) not in json.dumps(page), params
        page = ok(await client.get("/api/tickets", headers=world.cA1))
        assert [item["id"] for item in page["items"]] == [str(world.a.ticket)]

    async def test_search_for_another_organizations_title_finds_nothing(
        self, client: AsyncClient, world: World
    ) -> None:
        mine = ok(
            await client.get("/api/tickets", params={"q": world.a.title_word}, headers=world.cA1)
        )
        theirs = ok(
            await client.get("/api/tickets", params={"q": world.b.title_word}, headers=world.cA1)
        )
        assert [item["id"] for item in mine["items"]] == [str(world.a.ticket)]
        assert theirs["items"] == []


SOME_COMMENT = uuid.UUID(int=7)
# Any id: the other ticket of a merge or a link (a customer is refused before it is looked up).
SOME_OTHER_TICKET = uuid.UUID(int=0xC0FFEE)
SOME_REPLY = uuid.UUID(int=0xCA11ED)
SOME_MACRO = uuid.UUID(int=0x3AC20)


def internal_calls(world: World) -> list[tuple[str, str, dict[str, Any]]]:
    t = world.a.ticket
    base = f"/api/internal/tickets/{t}"
    upload = {"files": upload_file("probe.txt", b"probe")}
    return [
        ("GET", "/api/internal/tickets/new", {}),
        ("GET", "/api/internal/tickets", {}),
        ("GET", base, {}),
        ("PATCH", base, {"json": {"priority": "P1"}}),
        ("POST", f"{base}/accept", {"json": {}}),
        ("POST", f"{base}/assign", {"json": {"assignee_id": str(world.users["agent"].id)}}),
        ("POST", f"{base}/status", {"json": {"status": "IN_PROGRESS"}}),
        ("POST", f"{base}/comments", {"json": {"body": "hi", "is_internal": False}}),
        ("POST", f"{base}/attachments", upload),
        ("GET", f"{base}/attachments/{world.a.public_attachment}", {}),
        ("GET", f"{base}/audit", {}),
        ("GET", f"{base}/suggestions", {}),
        ("POST", f"{base}/suggestions/apply", {"json": {"field": "category"}}),
        ("GET", f"{base}/original", {}),
        ("GET", f"{base}/comments/{SOME_COMMENT}/original", {}),
        ("PUT", f"{base}/cc", {"json": {"user_ids": []}}),
        ("GET", f"{base}/cc/candidates", {}),
        ("POST", "/api/internal/tickets", {"json": {"customer_id": str(t), "channel": "phone"}}),
        ("POST", f"{base}/merge", {"json": {"into_id": str(SOME_OTHER_TICKET)}}),
        ("POST", f"{base}/links/{SOME_OTHER_TICKET}", {}),
        ("DELETE", f"{base}/links/{SOME_OTHER_TICKET}", {}),
        ("POST", f"{base}/canned-replies/{SOME_REPLY}/render", {}),
        ("POST", f"{base}/macros/{SOME_MACRO}", {}),
        ("POST", f"{base}/presence", {"json": {"state": "viewing"}}),
        (
            "POST",
            "/api/internal/tickets/bulk",
            {"json": {"ticket_ids": [str(t)], "action": {"type": "priority", "priority": "P1"}}},
        ),
    ]


def customer_calls(world: World) -> list[tuple[str, str, dict[str, Any]]]:
    base = f"/api/tickets/{world.a.ticket}"
    return [
        ("GET", "/api/tickets", {}),
        ("POST", "/api/tickets", {"json": {"title": "Staff ticket", "description": "x"}}),
        ("GET", base, {}),
        ("POST", f"{base}/comments", {"json": {"body": "hi"}}),
        ("POST", f"{base}/withdraw", {"json": {}}),
        ("POST", f"{base}/attachments", {"files": upload_file("probe.txt", b"probe")}),
        ("GET", f"{base}/attachments/{world.a.public_attachment}", {}),
        ("PUT", f"{base}/cc", {"json": {"user_ids": []}}),
        ("GET", f"{base}/cc/candidates", {}),
        ("POST", f"{base}/csat", {"json": {"rating": "good"}}),
    ]


def walk_routes(routes: Sequence[Any], prefix: str = "") -> Iterator[tuple[str, str]]:
    """(method, path) of every APIRoute, descending into included routers."""
    for route in routes:
        included = getattr(route, "original_router", None)
        if included is not None:
            yield from walk_routes(included.routes, prefix + route.include_context.prefix)
        elif isinstance(route, APIRoute):
            for method in route.methods:
                yield method, prefix + route.path


def route_templates(app: FastAPI, prefix: str) -> set[tuple[str, str]]:
    walked = {
        (method, path)
        for method, path in walk_routes(app.routes)
        if path == prefix or path.startswith(prefix + "/")
    }
    documented = {
        (method.upper(), path)
        for path, operations in app.openapi()["paths"].items()
        if path == prefix or path.startswith(prefix + "/")
        for method in operations
    }
    assert walked == documented
    return walked


def as_template(path: str, world: World) -> str:
    return (
        path.replace(str(world.a.ticket), "{ticket_id}")
        .replace(str(world.a.public_attachment), "{attachment_id}")
        .replace(str(SOME_COMMENT), "{comment_id}")
        .replace(str(SOME_OTHER_TICKET), "{other_id}")
        .replace(str(SOME_REPLY), "{reply_id}")
        .replace(str(SOME_MACRO), "{macro_id}")
        .split("?")[0]
    )


class TestRoleSeparation:
    async def test_customers_get_403_on_every_internal_endpoint(
        self, client: AsyncClient, db: AsyncSession, app: FastAPI, world: World
    ) -> None:
        calls = internal_calls(world)
        covered = {(m, as_template(p, world)) for m, p, _ in calls}
        assert covered == route_templates(app, "/api/internal/tickets")
        before = await snapshot(db, world.a.ticket)
        for role, headers in world.customers_of_a().items():
            for method, path, kwargs in calls:
                answer = await client.request(method, path, headers=headers, **kwargs)
                assert answer.status_code == 403, (role, method, path, answer.text)
        assert await snapshot(db, world.a.ticket) == before

    async def test_staff_get_403_on_every_customer_endpoint(
        self, client: AsyncClient, db: AsyncSession, app: FastAPI, world: World
    ) -> None:
        calls = customer_calls(world)
        covered = {(m, as_template(p, world)) for m, p, _ in calls}
        assert covered == route_templates(app, "/api/tickets")
        before = await snapshot(db, world.a.ticket)
        for role, headers in world.staff().items():
            for method, path, kwargs in calls:
                answer = await client.request(method, path, headers=headers, **kwargs)
                assert answer.status_code == 403, (role, method, path, answer.text)
        assert await snapshot(db, world.a.ticket) == before


def assert_customer_ticket(item: dict[str, Any], *, detail: bool) -> None:
    assert set(item) == (DETAIL_KEYS if detail else TICKET_KEYS), set(item) ^ TICKET_KEYS
    for ref in ("created_by", "accepted_by", "assigned_to"):
        assert item[ref] is None or set(item[ref]) == PERSON_KEYS, item[ref]
    if detail:
        assert set(item["actions"]) == ACTION_KEYS
        assert item["csat"] is None or set(item["csat"]) == CSAT_KEYS, item["csat"]
        for comment in item["comments"]:
            assert set(comment) == COMMENT_KEYS
            assert set(comment["author"]) == AUTHOR_KEYS
            assert comment["is_internal"] is False
        for attachment in item["attachments"]:
            assert set(attachment) == ATTACHMENT_KEYS


class TestInternalContentNeverReachesCustomers:
    async def test_every_customer_answer_is_allow_listed_and_free_of_internal_data(
        self, client: AsyncClient, world: World
    ) -> None:
        base = f"/api/tickets/{world.a.ticket}"
        lists: list[Any] = []
        details: list[Any] = []
        others: list[Any] = []
        for headers in world.customers_of_a().values():
            for params in ({}, {"q": world.a.title_word}, {"status": "ASSIGNED"}):
                lists.append(ok(await client.get("/api/tickets", params=params, headers=headers)))
            details.append(ok(await client.get(base, headers=headers)))
            others.append(
                ok(
                    await client.post(
                        f"{base}/comments", json={"body": "Any news?"}, headers=headers
                    ),
                    201,
                )
            )
            others.append(
                ok(
                    await client.post(
                        f"{base}/attachments",
                        files=upload_file("more.txt", f"more {uuid.uuid4()}".encode()),
                        headers=headers,
                    ),
                    201,
                )
            )
        details.append(ok(await client.get(base, headers=world.cA1)))

        for page in lists:
            assert set(page) == {"items", "next_cursor"}
            assert [item["id"] for item in page["items"]] == [str(world.a.ticket)]
            for item in page["items"]:
                assert_customer_ticket(item, detail=False)
        for detail in details:
            assert_customer_ticket(detail, detail=True)
            assert detail["assigned_to"]["id"] == str(world.users["agent"].id)
        assert len(details[-1]["attachments"]) == 3
        assert {c["author"]["is_staff"] for c in details[-1]["comments"]} == {True, False}
        for answer in others:
            assert set(answer) in (COMMENT_KEYS, ATTACHMENT_KEYS)

        text = json.dumps([lists, details, others])
        forbidden = [
            world.a.internal_note,
            world.a.internal_file_name,
            str(world.a.internal_attachment),
            world.a.internal_sha256,
            str(world.team.id),
            world.team.name,
            '"root_cause"',
            '"assigned_team"',
            '"sla"',
            'is_internal": true',
            *(user.email for user in world.users.values()),
        ]
        for secret in forbidden:
            assert secret not in text, secret

    async def test_staff_see_what_customers_do_not(self, client: AsyncClient, world: World) -> None:
        detail = ok(
            await client.get(f"/api/internal/tickets/{world.a.ticket}", headers=world.agent)
        )
        assert world.a.internal_note in {c["body"] for c in detail["comments"]}
        assert str(world.a.internal_attachment) in {a["id"] for a in detail["attachments"]}
        assert detail["assigned_team"]["id"] == str(world.team.id)

    async def test_internal_attachment_of_own_ticket_is_not_found(
        self, client: AsyncClient, world: World
    ) -> None:
        path = f"/api/tickets/{world.a.ticket}/attachments/{world.a.internal_attachment}"
        random = f"/api/tickets/{world.a.ticket}/attachments/{uuid.uuid4()}"
        for headers in world.customers_of_a().values():
            answer = await client.get(path, headers=headers)
            assert answer.status_code == 404
            assert answer.json() == (await client.get(random, headers=headers)).json()
        staff = f"/api/internal/tickets/{world.a.ticket}/attachments/{world.a.internal_attachment}"
        assert (await client.get(staff, headers=world.agent)).status_code == 200

    async def test_customers_cannot_create_internal_content(
        self, client: AsyncClient, db: AsyncSession, world: World
    ) -> None:
        base = f"/api/tickets/{world.a.ticket}"
        answer = await client.post(
            f"{base}/comments", json={"body": "x", "is_internal": True}, headers=world.cA1
        )
        assert answer.status_code == 422
        assert ["body", "is_internal"] in [e["loc"] for e in answer.json()["detail"]]
        before = await snapshot(db, world.a.ticket)
        upload = await client.post(
            f"{base}/attachments",
            params={"is_internal": "true"},
            files=upload_file("x.txt", f"x {uuid.uuid4()}".encode()),
            headers=world.cA1,
        )
        assert upload.status_code == 201
        created = (
            await db.execute(
                select(TicketAttachment.is_internal).where(
                    TicketAttachment.id == uuid.UUID(upload.json()["id"])
                )
            )
        ).scalar_one()
        assert created is False
        assert (await snapshot(db, world.a.ticket)).attachments == before.attachments + 1


class TestReferencedObjectsAreAuthorized:
    async def test_customer_cannot_file_against_another_organizations_service(
        self, client: AsyncClient, db: AsyncSession, world: World
    ) -> None:
        body = {
            "title": "Needs B's service",
            "description": "x",
            "service_id": str(world.service_b),
        }
        answer = await client.post("/api/tickets", json=body, headers=world.cA1)
        assert answer.status_code == 404, answer.text
        random = await client.post(
            "/api/tickets", json={**body, "service_id": str(uuid.uuid4())}, headers=world.cA1
        )
        assert answer.json() == random.json()
        count = select(func.count()).where(Ticket.service_id == world.service_b)
        assert (await db.execute(count)).scalar_one() == 0
        own = await client.post("/api/tickets", json=body, headers=world.cB)
        assert own.status_code == 201, own.text

    async def test_assignment_refuses_unknown_users_customers_and_unknown_teams(
        self, client: AsyncClient, db: AsyncSession, world: World
    ) -> None:
        path = f"/api/internal/tickets/{world.b.ticket}"
        ok(await client.post(f"{path}/accept", json={}, headers=world.manager))
        before = await snapshot(db, world.b.ticket)
        cases = [
            ({"assignee_id": str(uuid.uuid4())}, "assignee_id"),
            ({"assignee_id": str(world.users["cB"].id)}, "assignee_id"),
            ({"team_id": str(uuid.uuid4())}, "team_id"),
            (
                {"assignee_id": str(world.users["agent"].id), "team_id": str(uuid.uuid4())},
                "team_id",
            ),
        ]
        for body, field in cases:
            answer = await client.post(f"{path}/assign", json=body, headers=world.manager)
            assert answer.status_code == 422, (body, answer.text)
            assert ["body", field] in [e["loc"] for e in answer.json()["detail"]], answer.text
        after = await snapshot(db, world.b.ticket)
        assert after == before
        assert after.status == "ACCEPTED"
