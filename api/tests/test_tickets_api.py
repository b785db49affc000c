"""The ticket endpoints' contract (API.md): creation and its validation, lists with their filters,
full-text search and keyset pagination, the staff lists and the NEW queue, PATCH, and a constant
number of SQL statements per request whatever the page holds."""

from __future__ import annotations

import base64
import json
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi import FastAPI
from httpx import AsyncClient, Response
from sqlalchemy import event, select, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from app.config import get_settings
from app.models import (
    AuditLog,
    Organization,
    Team,
    Ticket,
    TicketAttachment,
    TicketComment,
    User,
)
from app.models.enums import Role
from app.utils.clock import get_now
from tests.factories import bearer_headers as headers_for
from tests.factories import make_org, make_user

Headers = dict[str, str]
T0 = datetime(2030, 3, 1, 9, 0, tzinfo=UTC)
# Statements a list request may run: the test's SAVEPOINT and RELEASE around the request, the
# caller's session lookup and the page itself (4 today; one to spare). A detail adds its comments
# and its attachments.
LIST_STATEMENTS = 5
DETAIL_STATEMENTS = 6


def ok(response: Response, status: int = 200) -> Any:
    assert response.status_code == status, response.text
    return response.json()


def error_fields(response: Response) -> list[str]:
    assert response.status_code == 422, response.text
    return [str(e["loc"][-1]) for e in response.json()["detail"]]


def cursor_of(value: Any) -> str:
    return base64.urlsafe_b64encode(json.dumps(value).encode()).decode().rstrip("=")


@dataclass
class Clock:
    """The request clock (``get_now``), moved by the test."""

    now: datetime = T0

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def clock(app: FastAPI, client: AsyncClient) -> Iterator[Clock]:
    clock = Clock()
    app.dependency_overrides[get_now] = clock
    try:
        yield clock
    finally:
        app.dependency_overrides.pop(get_now, None)


@dataclass
class Desk:
    org: Organization
    customer: User
    agent: User
    manager: User
    h: dict[str, Headers] = field(default_factory=dict)


@pytest.fixture
async def desk(db: AsyncSession) -> Desk:
    org = await make_org(db)
    desk = Desk(
        org=org,
        customer=await make_user(db, role=Role.CUSTOMER_USER, org=org),
        agent=await make_user(db, role=Role.AGENT),
        manager=await make_user(db, role=Role.MANAGER),
    )
    for name in ("customer", "agent", "manager"):
        desk.h[name] = await headers_for(db, getattr(desk, name))
    return desk


async def open_ticket(client: AsyncClient, headers: Headers, **body: Any) -> dict[str, Any]:
    payload = {"title": "Cannot print", "description": "The printer is offline.", **body}
    created: dict[str, Any] = ok(
        await client.post("/api/tickets", json=payload, headers=headers), 201
    )
    return created


async def set_columns(db: AsyncSession, ticket_id: str | uuid.UUID, **values: Any) -> None:
    await db.execute(update(Ticket).where(Ticket.id == uuid.UUID(str(ticket_id))).values(**values))


def ids(page: dict[str, Any]) -> list[str]:
    return [item["id"] for item in page["items"]]


class TestCreate:
    async def test_creates_a_new_ticket_in_the_callers_organization(
        self, client: AsyncClient, db: AsyncSession, desk: Desk, clock: Clock
    ) -> None:
        first = await open_ticket(client, desk.h["customer"], priority="P2", category="printing")
        second = await open_ticket(client, desk.h["customer"])
        assert first["status"] == "NEW"
        assert first["org_id"] == str(desk.org.id)
        assert first["org_name"] == desk.org.name
        assert first["priority"] == "P2"
        assert first["category"] == "printing"
        assert first["created_by"] == {"id": str(desk.customer.id), "name": desk.customer.name}
        assert first["accepted_by"] is first["assigned_to"] is None
        assert datetime.fromisoformat(first["created_at"]) == T0
        assert second["priority"] == "P3"
        assert second["number"] > first["number"] >= 1000
        stored = (
            await db.execute(select(Ticket).where(Ticket.id == uuid.UUID(first["id"])))
        ).scalar_one()
        assert (stored.org_id, stored.created_by, stored.status) == (
            desk.org.id,
            desk.customer.id,
            "NEW",
        )
        audit = (
            await db.execute(select(AuditLog.action).where(AuditLog.ticket_id == stored.id))
        ).scalars()
        assert list(audit) == ["ticket.created"]

    @pytest.mark.parametrize("name", ["status", "org_id", "assigned_to", "created_by", "number"])
    async def test_unknown_fields_are_refused_by_name(
        self, client: AsyncClient, db: AsyncSession, desk: Desk, name: str
    ) -> None:
        values: dict[str, Any] = {
            "status": "CLOSED",
            "org_id": str(uuid.uuid4()),
            "assigned_to": str(desk.agent.id),
            "created_by": str(desk.agent.id),
            "number": 1,
        }
        body = {"title": "Sneaky", "description": "x", name: values[name]}
        answer = await client.post("/api/tickets", json=body, headers=desk.h["customer"])
        assert error_fields(answer) == [name]
        existing = select(Ticket.id).where(Ticket.org_id == desk.org.id)
        assert (await db.execute(existing)).first() is None

    @pytest.mark.parametrize(
        ("body", "field_name"),
        [
            ({"priority": "P5"}, "priority"),
            ({"priority": "p1"}, "priority"),
            ({"title": "ab"}, "title"),
            ({"title": "x" * 301}, "title"),
            ({"title": "   "}, "title"),
            ({"title": "  ab  "}, "title"),
            ({"description": ""}, "description"),
            ({"description": " \n\t "}, "description"),
            ({"description": "x" * 50_001}, "description"),
            ({"category": "  "}, "category"),
            ({"title": "Null\x00byte"}, "title"),
            ({"description": "a\x00b"}, "description"),
            ({"service_id": "not-a-uuid"}, "service_id"),
        ],
    )
    async def test_invalid_bodies_are_422(
        self, client: AsyncClient, desk: Desk, body: dict[str, Any], field_name: str
    ) -> None:
        payload = {"title": "Valid title", "description": "Valid description", **body}
        answer = await client.post("/api/tickets", json=payload, headers=desk.h["customer"])
        assert error_fields(answer) == [field_name]

    async def test_length_limits_are_inclusive(self, client: AsyncClient, desk: Desk) -> None:
        shortest = await open_ticket(client, desk.h["customer"], title="abc")
        longest = await open_ticket(
            client, desk.h["customer"], title="t" * 300, description="d" * 50_000
        )
        assert shortest["title"] == "abc"
        assert (len(longest["title"]), len(longest["description"])) == (300, 50_000)

    async def test_creation_is_rate_limited_per_user(
        self, client: AsyncClient, db: AsyncSession, desk: Desk, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.setattr(get_settings(), "ticket_create_per_hour", 3)
        for _ in range(3):
            await open_ticket(client, desk.h["customer"])
        refused = await client.post(
            "/api/tickets",
            json={"title": "One too many", "description": "x"},
            headers=desk.h["customer"],
        )
        assert refused.status_code == 429, refused.text
        assert 1 <= int(refused.headers["Retry-After"]) <= 3600
        titles = select(Ticket.title).where(Ticket.org_id == desk.org.id)
        assert "One too many" not in set((await db.execute(titles)).scalars())
        colleague = await make_user(db, role=Role.CUSTOMER_USER, org=desk.org)
        await open_ticket(client, await headers_for(db, colleague))


class TestCustomerList:
    async def test_newest_first_with_status_and_priority_filters(
        self, client: AsyncClient, db: AsyncSession, desk: Desk, clock: Clock
    ) -> None:
        made: list[dict[str, Any]] = []
        for i, (status, priority) in enumerate(
            [("NEW", "P1"), ("ACCEPTED", "P2"), ("IN_PROGRESS", "P3"), ("NEW", "P4")]
        ):
            clock.now = T0 + timedelta(minutes=i)
            ticket = await open_ticket(client, desk.h["customer"], priority=priority)
            await set_columns(db, ticket["id"], status=status)
            made.append(ticket)
        newest_first = [t["id"] for t in reversed(made)]
        h = desk.h["customer"]
        assert ids(ok(await client.get("/api/tickets", headers=h))) == newest_first

        async def listed(params: list[tuple[str, str]]) -> list[str]:
            return ids(ok(await client.get("/api/tickets", params=params, headers=h)))

        assert await listed([("status", "NEW")]) == [made[3]["id"], made[0]["id"]]
        assert await listed([("status", "NEW"), ("status", "ACCEPTED")]) == [
            made[3]["id"],
            made[1]["id"],
            made[0]["id"],
        ]
        assert await listed([("status", "CLOSED")]) == []
        assert await listed([("priority", "P2")]) == [made[1]["id"]]
        assert await listed([("priority", "P1"), ("priority", "P3")]) == [
            made[2]["id"],
            made[0]["id"],
        ]
        assert await listed([("status", "NEW"), ("priority", "P1")]) == [made[0]["id"]]
        for bad in ([("status", "OPEN")], [("priority", "P9")], [("status", "new")]):
            answer = await client.get("/api/tickets", params=bad, headers=h)
            assert answer.status_code == 422, bad

    async def test_full_text_search(self, client: AsyncClient, desk: Desk, clock: Clock) -> None:
        word = f"kx{uuid.uuid4().hex[:8]}"
        h = desk.h["customer"]
        in_title = await open_ticket(client, h, title=f"VPN {word} drops")
        in_description = await open_ticket(
            client,
            h,
            title="Network trouble",
            description=f"The {word.upper()} tunnel keeps failing",
        )
        other = await open_ticket(client, h, title="Keyboard missing keys", description="Sticky")

        async def search(q: str) -> set[str]:
            return set(ids(ok(await client.get("/api/tickets", params={"q": q}, headers=h))))

        assert await search(word) == {in_title["id"], in_description["id"]}
        assert await search("keyboard") == {other["id"]}
        assert await search("sticky") == {other["id"]}
        assert await search(f"#{other['number']}") == {other["id"]}
        assert await search(str(other["number"])) == {other["id"]}
        assert await search(f"{word} -vpn") == {in_description["id"]}
        assert await search(f"zz{uuid.uuid4().hex[:8]}") == set()
        for odd in ("a & | ! (", "&|!():*<->", "'", '"unterminated', "\\", "#", " ", "-", "🙂"):
            answer = await client.get("/api/tickets", params={"q": odd}, headers=h)
            assert answer.status_code == 200, (odd, answer.text)
        assert (
            await client.get("/api/tickets", params={"q": "a\x00b"}, headers=h)
        ).status_code == 422
        too_long = await client.get("/api/tickets", params={"q": "x" * 201}, headers=h)
        assert too_long.status_code == 422

    async def test_keyset_walk_has_no_gaps_or_duplicates_even_with_equal_timestamps(
        self, client: AsyncClient, desk: Desk, clock: Clock
    ) -> None:
        made: list[dict[str, Any]] = []
        for minute in (0, 1, 1, 1, 2, 2, 3):
            clock.now = T0 + timedelta(minutes=minute)
            made.append(await open_ticket(client, desk.h["customer"]))
        expected = [
            t["id"]
            for t in sorted(
                made, key=lambda t: (datetime.fromisoformat(t["created_at"]), t["id"]), reverse=True
            )
        ]
        seen: list[str] = []
        cursor: str | None = None
        for _ in range(10):
            params = {"limit": "2", **({"cursor": cursor} if cursor else {})}
            page = ok(await client.get("/api/tickets", params=params, headers=desk.h["customer"]))
            assert len(page["items"]) <= 2
            seen.extend(ids(page))
            cursor = page["next_cursor"]
            if cursor is None:
                break
        assert seen == expected
        walk_again = ok(
            await client.get("/api/tickets", params={"limit": "200"}, headers=desk.h["customer"])
        )
        assert ids(walk_again) == expected
        assert walk_again["next_cursor"] is None

    async def test_exact_page_ends_with_a_null_cursor(
        self, client: AsyncClient, desk: Desk, clock: Clock
    ) -> None:
        for minute in range(4):
            clock.now = T0 + timedelta(minutes=minute)
            await open_ticket(client, desk.h["customer"])
        h = desk.h["customer"]
        first = ok(await client.get("/api/tickets", params={"limit": "2"}, headers=h))
        second = ok(
            await client.get(
                "/api/tickets", params={"limit": "2", "cursor": first["next_cursor"]}, headers=h
            )
        )
        assert len(second["items"]) == 2
        assert second["next_cursor"] is None

    @pytest.mark.parametrize(
        "cursor",
        [
            "x",
            "!!!",
            cursor_of([1, 2]),
            cursor_of(["not-a-date", "x"]),
            cursor_of(["2030-01-01T00:00:00+00:00", "not-a-uuid"]),
            cursor_of(["2030-01-01T00:00:00+00:00"]),
            cursor_of({"a": 1}),
            cursor_of(["2030-01-01T00:00:00+00:00\u0000", str(uuid.UUID(int=1))]),
            base64.urlsafe_b64encode(b"\xff\xfe[").decode(),
            cursor_of(["2030-01-01T00:00:00", str(uuid.UUID(int=1))]),
            cursor_of(["0001-01-01T00:00:00+14:00", str(uuid.UUID(int=1))]),
            cursor_of(["9999-12-31T23:59:59-14:00", str(uuid.UUID(int=1))]),
            "A" * 10_000,
        ],
    )
    async def test_tampered_cursors_are_422(
        self, client: AsyncClient, desk: Desk, cursor: str
    ) -> None:
        answer = await client.get(
            "/api/tickets", params={"cursor": cursor}, headers=desk.h["customer"]
        )
        assert answer.status_code == 422, answer.text

    async def test_extreme_but_valid_cursor_dates_work(
        self, client: AsyncClient, desk: Desk, clock: Clock
    ) -> None:
        ticket = await open_ticket(client, desk.h["customer"])
        top, bottom = str(uuid.UUID(int=2**128 - 1)), str(uuid.UUID(int=0))
        for key, expected in (
            (["0001-01-01T00:00:00+00:00", top], []),
            (["9999-12-31T23:59:59+14:00", top], [ticket["id"]]),
            (["2030-03-01T10:00:00+01:00", bottom], []),
            (["2030-03-01T10:00:00+01:00", top], [ticket["id"]]),
            (["2030-03-01T10:00:00.000001+01:00", bottom], [ticket["id"]]),
        ):
            page = ok(
                await client.get(
                    "/api/tickets", params={"cursor": cursor_of(key)}, headers=desk.h["customer"]
                )
            )
            assert ids(page) == expected, key

    @pytest.mark.parametrize("limit", ["0", "-1", "201", "abc"])
    async def test_limit_out_of_range_is_422(
        self, client: AsyncClient, desk: Desk, limit: str
    ) -> None:
        answer = await client.get(
            "/api/tickets", params={"limit": limit}, headers=desk.h["customer"]
        )
        assert error_fields(answer) == ["limit"]


class TestStaffLists:
    async def test_filters_by_org_assignee_breach_and_status(
        self, client: AsyncClient, db: AsyncSession, desk: Desk, clock: Clock
    ) -> None:
        other_org = await make_org(db)
        outsider = await make_user(db, role=Role.CUSTOMER_USER, org=other_org)
        foreign = await open_ticket(client, await headers_for(db, outsider))
        h = desk.h["customer"]
        plain = await open_ticket(client, h)
        mine = await open_ticket(client, h)
        late = await open_ticket(client, h)
        very_late = await open_ticket(client, h)
        await set_columns(db, mine["id"], status="ASSIGNED", assigned_to=desk.agent.id)
        await set_columns(
            db,
            late["id"],
            status="IN_PROGRESS",
            assigned_to=desk.agent.id,
            sla_first_response_breached_at=T0,
        )
        await set_columns(db, very_late["id"], status="ASSIGNED", sla_resolution_breached_at=T0)
        await set_columns(
            db, foreign["id"], assigned_to=desk.agent.id, sla_resolution_breached_at=T0
        )
        staff = desk.h["agent"]
        org = ("org_id", str(desk.org.id))

        async def listed(*params: tuple[str, str]) -> set[str]:
            page = ok(await client.get("/api/internal/tickets", params=list(params), headers=staff))
            return set(ids(page))

        everything = {plain["id"], mine["id"], late["id"], very_late["id"]}
        assert await listed(org) == everything
        assert await listed(("org_id", str(other_org.id))) == {foreign["id"]}
        assert await listed(("assigned_to", str(desk.agent.id))) == {
            mine["id"],
            late["id"],
            foreign["id"],
        }
        assert await listed(org, ("assigned_to", str(desk.agent.id))) == {mine["id"], late["id"]}
        assert await listed(org, ("assigned_to", str(desk.manager.id))) == set()
        assert await listed(org, ("breached", "true")) == {late["id"], very_late["id"]}
        assert await listed(org, ("breached", "false")) == {plain["id"], mine["id"]}
        assert await listed(org, ("status", "ASSIGNED")) == {mine["id"], very_late["id"]}
        assert await listed(org, ("status", "ASSIGNED"), ("breached", "true")) == {very_late["id"]}
        assert await listed(org, ("status", "NEW"), ("status", "IN_PROGRESS")) == {
            plain["id"],
            late["id"],
        }
        for bad in (("org_id", "x"), ("assigned_to", "1"), ("breached", "maybe")):
            answer = await client.get("/api/internal/tickets", params=[bad], headers=staff)
            assert answer.status_code == 422, bad

    async def test_new_queue_is_oldest_first_and_only_new(
        self, client: AsyncClient, db: AsyncSession, desk: Desk, clock: Clock
    ) -> None:
        made: list[dict[str, Any]] = []
        for minute in (5, 0, 3, 3, 1, 3):
            clock.now = datetime(2000, 1, 1, tzinfo=UTC) + timedelta(minutes=minute)
            made.append(await open_ticket(client, desk.h["customer"]))
        await set_columns(db, made[2]["id"], status="ACCEPTED")
        await set_columns(db, made[4]["id"], status="CANCELLED")
        queue: list[dict[str, Any]] = []
        cursor: str | None = None
        for _ in range(1000):
            params = {"limit": "200", **({"cursor": cursor} if cursor else {})}
            page = ok(
                await client.get(
                    "/api/internal/tickets/new", params=params, headers=desk.h["agent"]
                )
            )
            queue.extend(page["items"])
            cursor = page["next_cursor"]
            if cursor is None:
                break
        assert {item["status"] for item in queue} == {"NEW"}
        keys = [(datetime.fromisoformat(item["created_at"]), item["id"]) for item in queue]
        assert keys == sorted(keys)
        ours = {t["id"] for t in made}
        assert [item["id"] for item in queue if item["id"] in ours] == [
            made[1]["id"],
            *sorted([made[3]["id"], made[5]["id"]]),
            made[0]["id"],
        ]


class TestPatch:
    async def test_changes_are_audited_with_old_and_new_values(
        self, client: AsyncClient, db: AsyncSession, desk: Desk, clock: Clock
    ) -> None:
        ticket = await open_ticket(client, desk.h["customer"], priority="P3")
        path = f"/api/internal/tickets/{ticket['id']}"
        clock.now = T0 + timedelta(hours=1)
        changed = ok(
            await client.patch(
                path, json={"priority": "P1", "category": "network"}, headers=desk.h["agent"]
            )
        )
        assert (changed["priority"], changed["category"]) == ("P1", "network")
        assert datetime.fromisoformat(changed["updated_at"]) == clock.now
        ok(await client.patch(path, json={"priority": "P1"}, headers=desk.h["agent"]))
        trail = ok(await client.get(f"{path}/audit", headers=desk.h["manager"]))["items"]
        updates = [e for e in trail if e["action"] == "ticket.updated"]
        assert len(updates) == 1, trail
        assert updates[0]["old_value"] == {"priority": "P3", "category": None}
        assert updates[0]["new_value"] == {"priority": "P1", "category": "network"}
        assert updates[0]["actor_id"] == str(desk.agent.id)
        assert updates[0]["entity_id"] == ticket["id"]

    async def test_unknown_fields_and_null_priority_are_422(
        self, client: AsyncClient, desk: Desk
    ) -> None:
        ticket = await open_ticket(client, desk.h["customer"])
        path = f"/api/internal/tickets/{ticket['id']}"
        for body, name in (({"status": "CLOSED"}, "status"), ({"priority": None}, "priority")):
            answer = await client.patch(path, json=body, headers=desk.h["agent"])
            assert error_fields(answer) == [name], body

    @pytest.mark.parametrize("final", ["CLOSED", "CANCELLED"])
    async def test_final_tickets_cannot_be_changed(
        self, client: AsyncClient, db: AsyncSession, desk: Desk, final: str
    ) -> None:
        ticket = await open_ticket(client, desk.h["customer"], priority="P3")
        await set_columns(db, ticket["id"], status=final)
        answer = await client.patch(
            f"/api/internal/tickets/{ticket['id']}",
            json={"priority": "P1"},
            headers=desk.h["agent"],
        )
        assert answer.status_code == 409, answer.text
        priority = select(Ticket.priority).where(Ticket.id == uuid.UUID(ticket["id"]))
        assert (await db.execute(priority)).scalar_one() == "P3"


# ---------------------------------------------------------------- statements per request


@dataclass
class StatementCounter:
    statements: list[str] = field(default_factory=list)

    def __call__(self, _conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        self.statements.append(statement)


async def count_statements(
    connection: AsyncConnection, client: AsyncClient, path: str, headers: Headers
) -> tuple[int, list[str]]:
    counter = StatementCounter()
    sync = connection.sync_connection
    assert sync is not None
    event.listen(sync, "before_cursor_execute", counter)
    try:
        answer = await client.get(path, headers=headers)
    finally:
        event.remove(sync, "before_cursor_execute", counter)
    assert answer.status_code == 200, answer.text
    return len(counter.statements), counter.statements


@dataclass
class Populated:
    org: Organization
    customer: User
    agent: User
    tickets: list[uuid.UUID]


async def populate(db: AsyncSession, n: int, *, status: str, base: datetime) -> Populated:
    """An organization with *n* tickets, each with a creator, an acceptor, an assignee and a team
    (all different people), inserted directly."""
    org = await make_org(db)
    customer = await make_user(db, role=Role.CUSTOMER_USER, org=org)
    tickets: list[Ticket] = []
    agent = await make_user(db, role=Role.AGENT)
    for i in range(n):
        creator = await make_user(db, role=Role.CUSTOMER_USER, org=org)
        assignee = await make_user(db, role=Role.AGENT)
        acceptor = await make_user(db, role=Role.MANAGER)
        team = Team(id=uuid.uuid4(), name=f"Team {uuid.uuid4().hex[:8]}")
        db.add(team)
        at = base + timedelta(minutes=i)
        tickets.append(
            Ticket(
                id=uuid.uuid4(),
                org_id=org.id,
                created_by=creator.id,
                accepted_by=None if status == "NEW" else acceptor.id,
                assigned_to=None if status == "NEW" else assignee.id,
                assigned_team_id=team.id,
                status=status,
                priority="P3",
                title=f"Ticket {i}",
                description="Populated for statement counting",
                created_at=at,
                updated_at=at,
            )
        )
    db.add_all(tickets)
    await db.flush()
    return Populated(org, customer, agent, [t.id for t in tickets])


async def add_thread(db: AsyncSession, p: Populated, ticket_id: uuid.UUID, n: int) -> None:
    """*n* public comments, *n* internal notes and as many public and internal attachments, from
    different authors."""
    rows: list[Any] = []
    for i in range(n):
        author = await make_user(db, role=Role.CUSTOMER_USER, org=p.org)
        staff = await make_user(db, role=Role.AGENT)
        at = T0 + timedelta(minutes=i)
        for who, internal in ((author, False), (staff, True)):
            comment = TicketComment(
                id=uuid.uuid4(),
                ticket_id=ticket_id,
                org_id=p.org.id,
                author_id=who.id,
                body=f"comment {i}",
                is_internal=internal,
                created_at=at,
            )
            rows.append(comment)
            rows.append(
                TicketAttachment(
                    id=uuid.uuid4(),
                    ticket_id=ticket_id,
                    org_id=p.org.id,
                    comment_id=comment.id,
                    uploaded_by=who.id,
                    file_path=uuid.uuid4().hex,
                    file_name=f"file-{i}.txt",
                    mime_type="text/plain",
                    size_bytes=10,
                    sha256=f"{i:064x}",
                    is_internal=internal,
                    created_at=at,
                )
            )
    for row in rows:
        db.add(row)
        await db.flush()


class TestStatementsPerRequest:
    async def _compare(
        self,
        connection: AsyncConnection,
        client: AsyncClient,
        calls: list[tuple[str, Headers, int]],
        bound: int,
    ) -> None:
        counts: list[int] = []
        for path, headers, expected_items in calls:
            count, statements = await count_statements(connection, client, path, headers)
            answer = await client.get(path, headers=headers)
            body = answer.json()
            size = len(body["items"]) if "items" in body else len(body["comments"])
            assert size == expected_items, path
            assert count <= bound, f"{path}: {count} statements: {statements}"
            counts.append(count)
        assert len(set(counts)) == 1, f"statement counts differ with the page size: {counts}"

    async def test_customer_list(
        self, connection: AsyncConnection, client: AsyncClient, db: AsyncSession
    ) -> None:
        big = await populate(db, 50, status="ASSIGNED", base=T0)
        small = await populate(db, 5, status="ASSIGNED", base=T0)
        await self._compare(
            connection,
            client,
            [
                ("/api/tickets", await headers_for(db, big.customer), 50),
                ("/api/tickets", await headers_for(db, small.customer), 5),
            ],
            LIST_STATEMENTS,
        )

    async def test_staff_list(
        self, connection: AsyncConnection, client: AsyncClient, db: AsyncSession
    ) -> None:
        big = await populate(db, 50, status="ASSIGNED", base=T0)
        small = await populate(db, 5, status="ASSIGNED", base=T0)
        staff = await headers_for(db, big.agent)
        await self._compare(
            connection,
            client,
            [
                (f"/api/internal/tickets?org_id={big.org.id}", staff, 50),
                (f"/api/internal/tickets?org_id={small.org.id}", staff, 5),
            ],
            LIST_STATEMENTS,
        )

    async def test_new_queue(
        self, connection: AsyncConnection, client: AsyncClient, db: AsyncSession
    ) -> None:
        await populate(db, 50, status="NEW", base=datetime(1990, 1, 1, tzinfo=UTC))
        small = await populate(db, 5, status="NEW", base=datetime(1980, 1, 1, tzinfo=UTC))
        staff = await headers_for(db, small.agent)
        await self._compare(
            connection,
            client,
            [
                ("/api/internal/tickets/new?limit=50", staff, 50),
                ("/api/internal/tickets/new?limit=5", staff, 5),
            ],
            LIST_STATEMENTS,
        )

    async def test_ticket_detail(
        self, connection: AsyncConnection, client: AsyncClient, db: AsyncSession
    ) -> None:
        p = await populate(db, 2, status="IN_PROGRESS", base=T0)
        await add_thread(db, p, p.tickets[0], 1)
        await add_thread(db, p, p.tickets[1], 20)
        customer = await headers_for(db, p.customer)
        staff = await headers_for(db, p.agent)
        await self._compare(
            connection,
            client,
            [
                (f"/api/tickets/{p.tickets[0]}", customer, 1),
                (f"/api/tickets/{p.tickets[1]}", customer, 20),
                (f"/api/internal/tickets/{p.tickets[0]}", staff, 2),
                (f"/api/internal/tickets/{p.tickets[1]}", staff, 40),
            ],
            DETAIL_STATEMENTS,
        )
