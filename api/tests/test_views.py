"""Saved views: CRUD, who sees which view, filter validation, live counts, and the list query's
``assigned_to=me|unassigned`` and ``due_within_hours``."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from httpx import AsyncClient
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from app.models import AuditLog, Team, TeamMember, Ticket, User
from app.models.enums import Role
from app.services import views
from tests.factories import bearer_headers, make_org, make_user
from tests.test_query_plans import INDEX_NODES, Recorder, explain, populate, recorder  # noqa: F401

BASE = "/api/internal/views"
MY_OPEN, UNASSIGNED, BREACHING, WAITING = (str(b.id) for b in views.BUILTIN)


async def _ticket(
    db: AsyncSession,
    org_id: uuid.UUID,
    creator: uuid.UUID,
    *,
    status: str = "IN_PROGRESS",
    assignee: uuid.UUID | None = None,
    due_in: timedelta | None = None,
    paused: bool = False,
    priority: str = "P3",
) -> uuid.UUID:
    now = datetime.now(UTC)
    ticket = Ticket(
        id=uuid.uuid4(),
        org_id=org_id,
        created_by=creator,
        assigned_to=assignee,
        status=status,
        priority=priority,
        title="View fixture",
        description="A ticket for the saved views",
        sla_resolution_due_at=None if due_in is None else now + due_in,
        sla_paused_at=now - timedelta(hours=1) if paused else None,
    )
    db.add(ticket)
    await db.flush()
    return ticket.id


class World:
    """Tickets of an organization of their own: lists and views that are not about a fresh
    agent ("unassigned", "due within") are narrowed to it, since other tests' committed tickets
    share the database."""

    def __init__(
        self,
        a: User,
        b: User,
        manager: User,
        team: Team,
        tickets: dict[str, uuid.UUID],
        org_id: uuid.UUID,
    ):
        self.a, self.b, self.manager, self.team, self.tickets = a, b, manager, team, tickets
        self.org_id = org_id

    def mine(self, listed: set[uuid.UUID]) -> set[uuid.UUID]:
        return listed & set(self.tickets.values())


@pytest.fixture
async def world(db: AsyncSession) -> World:
    org = await make_org(db)
    customer = await make_user(db, role=Role.CUSTOMER_USER, org=org)
    a = await make_user(db, role=Role.AGENT)
    b = await make_user(db, role=Role.AGENT)
    manager = await make_user(db, role=Role.MANAGER)
    team = Team(id=uuid.uuid4(), name=f"Team {uuid.uuid4().hex[:8]}")
    db.add(team)
    await db.flush()
    db.add(TeamMember(team_id=team.id, user_id=a.id))
    t: dict[str, uuid.UUID] = {}
    mk = _ticket
    t["a_open"] = await mk(db, org.id, customer.id, assignee=a.id)
    t["a_waiting"] = await mk(db, org.id, customer.id, status="WAITING_CUSTOMER", assignee=a.id)
    t["a_resolved"] = await mk(db, org.id, customer.id, status="RESOLVED", assignee=a.id)
    t["b_open"] = await mk(db, org.id, customer.id, assignee=b.id, priority="P1")
    t["unassigned"] = await mk(db, org.id, customer.id, status="ACCEPTED")
    t["unassigned_closed"] = await mk(db, org.id, customer.id, status="CLOSED")
    # Resolution clocks: due in 2 h, overdue, due in 10 h, paused, already resolved.
    t["due_2h"] = await mk(db, org.id, customer.id, assignee=b.id, due_in=timedelta(hours=2))
    t["overdue"] = await mk(db, org.id, customer.id, assignee=b.id, due_in=timedelta(hours=-3))
    t["due_10h"] = await mk(db, org.id, customer.id, assignee=b.id, due_in=timedelta(hours=10))
    t["due_paused"] = await mk(
        db, org.id, customer.id, assignee=b.id, due_in=timedelta(hours=1), paused=True
    )
    t["due_resolved"] = await mk(
        db, org.id, customer.id, status="RESOLVED", assignee=b.id, due_in=timedelta(hours=1)
    )
    return World(a, b, manager, team, t, org.id)


def ids(answer: Any) -> set[uuid.UUID]:
    assert answer.status_code == 200, answer.text
    return {uuid.UUID(item["id"]) for item in answer.json()["items"]}


async def all_ids(client: AsyncClient, url: str, headers: dict[str, str]) -> set[uuid.UUID]:
    """Every id of a keyset-paged list."""
    found: set[uuid.UUID] = set()
    cursor: str | None = None
    while True:
        params = {"limit": 100, **({"cursor": cursor} if cursor else {})}
        answer = await client.get(url, params=params, headers=headers)
        found |= ids(answer)
        cursor = answer.json()["next_cursor"]
        if not cursor:
            return found


def subset(w: World, *names: str) -> set[uuid.UUID]:
    return {w.tickets[n] for n in names}


# ----------------------------------------------------------------- the list query's new filters


async def test_assigned_to_me_unassigned_and_uuid(
    client: AsyncClient, db: AsyncSession, world: World
) -> None:
    a = await bearer_headers(db, world.a)
    url = "/api/internal/tickets"
    mine = ids(await client.get(url, params={"assigned_to": "me"}, headers=a))
    assert mine == subset(world, "a_open", "a_waiting", "a_resolved")
    by_id = ids(await client.get(url, params={"assigned_to": str(world.a.id)}, headers=a))
    assert by_id == mine
    nobody = ids(
        await client.get(
            url, params={"assigned_to": "unassigned", "org_id": str(world.org_id)}, headers=a
        )
    )
    assert nobody == subset(world, "unassigned", "unassigned_closed")
    for bad in ("someone", "12345", ""):
        answer = await client.get(url, params={"assigned_to": bad}, headers=a)
        assert answer.status_code == 422, (bad, answer.text)


async def test_due_within_hours_is_open_unpaused_and_includes_overdue(
    client: AsyncClient, db: AsyncSession, world: World
) -> None:
    a = await bearer_headers(db, world.a)
    url = "/api/internal/tickets"
    org = {"org_id": str(world.org_id)}
    soon = ids(await client.get(url, params={"due_within_hours": 4, **org}, headers=a))
    assert soon == subset(world, "due_2h", "overdue")
    later = ids(await client.get(url, params={"due_within_hours": 12, **org}, headers=a))
    assert later == subset(world, "due_2h", "overdue", "due_10h")
    for bad in (0, -1, 721, "soon"):
        answer = await client.get(url, params={"due_within_hours": bad}, headers=a)
        assert answer.status_code == 422, bad


# ----------------------------------------------------------------- views and counts


async def test_builtin_views_and_their_counts(
    client: AsyncClient, db: AsyncSession, world: World
) -> None:
    a = await bearer_headers(db, world.a)
    answer = await client.get(BASE, headers=a)
    assert answer.status_code == 200, answer.text
    items = answer.json()["items"]
    assert [v["name"] for v in items[:4]] == [
        "My open",
        "Unassigned",
        "Breaching soon",
        "Waiting on customer",
    ]
    assert all(v["builtin"] and v["scope"] == "shared" and not v["editable"] for v in items[:4])
    counts = {v["id"]: v["count"] for v in items}
    assert counts[MY_OPEN] == 2  # a_open, a_waiting (not the resolved one)
    # Each count is the length of the view's own list; of this world's tickets, the list has
    # exactly the expected ones.
    listed = {view_id: await all_ids(client, f"{BASE}/{view_id}/tickets", a) for view_id in counts}
    for view_id, count in counts.items():
        assert len(listed[view_id]) == count, view_id
    assert world.mine(listed[UNASSIGNED]) == subset(world, "unassigned")  # not the closed one
    assert world.mine(listed[BREACHING]) == subset(world, "due_2h", "overdue")
    assert world.mine(listed[WAITING]) == subset(world, "a_waiting")
    assert ids(await client.get(f"{BASE}/{MY_OPEN}/tickets", headers=a)) == subset(
        world, "a_open", "a_waiting"
    )
    # "me" is whoever looks.
    b = await bearer_headers(db, world.b)
    b_counts = {v["id"]: v["count"] for v in (await client.get(BASE, headers=b)).json()["items"]}
    assert b_counts[MY_OPEN] == 5  # b_open, due_2h, overdue, due_10h, due_paused (open)


async def test_personal_view_crud_and_privacy(
    client: AsyncClient, db: AsyncSession, world: World
) -> None:
    a = await bearer_headers(db, world.a)
    b = await bearer_headers(db, world.b)
    created = await client.post(
        BASE,
        json={
            "name": "My P1s",
            "filters": {
                "priority": ["P1"],
                "status": ["IN_PROGRESS"],
                "org_id": str(world.org_id),
            },
        },
        headers=a,
    )
    assert created.status_code == 201, created.text
    view = created.json()
    assert view["scope"] == "personal" and view["editable"] and view["owner_id"] == str(world.a.id)
    listed = {v["id"]: v for v in (await client.get(BASE, headers=a)).json()["items"]}
    assert listed[view["id"]]["count"] == 1
    assert ids(await client.get(f"{BASE}/{view['id']}/tickets", headers=a)) == subset(
        world, "b_open"
    )

    # Agent B never sees A's personal view.
    assert view["id"] not in {v["id"] for v in (await client.get(BASE, headers=b)).json()["items"]}
    for method, path, body in (
        ("GET", f"{BASE}/{view['id']}", None),
        ("GET", f"{BASE}/{view['id']}/tickets", None),
        ("PATCH", f"{BASE}/{view['id']}", {"name": "Mine now"}),
        ("DELETE", f"{BASE}/{view['id']}", None),
    ):
        answer = await client.request(method, path, json=body, headers=b)
        assert answer.status_code == 404, (method, path, answer.text)
    # Nor does a manager: personal is personal.
    m = await bearer_headers(db, world.manager)
    assert (await client.get(f"{BASE}/{view['id']}", headers=m)).status_code == 404

    renamed = await client.patch(
        f"{BASE}/{view['id']}", json={"name": "P1 work", "filters": {"priority": ["P1"]}}, headers=a
    )
    assert renamed.status_code == 200, renamed.text
    assert renamed.json()["name"] == "P1 work"
    filters = {k: v for k, v in renamed.json()["filters"].items() if v is not None}
    assert filters == {"priority": ["P1"]}
    assert (await client.delete(f"{BASE}/{view['id']}", headers=a)).status_code == 204
    assert (await client.get(f"{BASE}/{view['id']}", headers=a)).status_code == 404


async def test_team_view_visible_to_members_only(
    client: AsyncClient, db: AsyncSession, world: World
) -> None:
    a = await bearer_headers(db, world.a)
    b = await bearer_headers(db, world.b)
    m = await bearer_headers(db, world.manager)
    body = {
        "name": "Team queue",
        "scope": "team",
        "team_id": str(world.team.id),
        "filters": {"assigned_to": "unassigned", "org_id": str(world.org_id)},
    }
    # B is not a member: may not save a view for the team.
    assert (await client.post(BASE, json=body, headers=b)).status_code == 403
    created = await client.post(BASE, json=body, headers=a)
    assert created.status_code == 201, created.text
    view_id = created.json()["id"]
    assert view_id not in {v["id"] for v in (await client.get(BASE, headers=b)).json()["items"]}
    assert (await client.get(f"{BASE}/{view_id}/tickets", headers=b)).status_code == 404
    assert (
        await client.patch(f"{BASE}/{view_id}", json={"name": "x"}, headers=b)
    ).status_code == 404

    # B joins the team: sees it and may edit it.
    db.add(TeamMember(team_id=world.team.id, user_id=world.b.id))
    await db.flush()
    listed = {v["id"]: v for v in (await client.get(BASE, headers=b)).json()["items"]}
    assert listed[view_id]["count"] == 2 and listed[view_id]["editable"]
    assert (
        await client.patch(f"{BASE}/{view_id}", json={"name": "Ours"}, headers=b)
    ).status_code == 200

    # A manager outside the team edits and deletes it, without it cluttering their list.
    assert view_id not in {v["id"] for v in (await client.get(BASE, headers=m)).json()["items"]}
    assert (
        await client.patch(f"{BASE}/{view_id}", json={"position": 3}, headers=m)
    ).status_code == 200
    assert (await client.delete(f"{BASE}/{view_id}", headers=m)).status_code == 204


async def test_builtin_views_are_read_only(
    client: AsyncClient, db: AsyncSession, world: World
) -> None:
    m = await bearer_headers(db, world.manager)
    answer = await client.patch(f"{BASE}/{MY_OPEN}", json={"name": "Mine"}, headers=m)
    assert answer.status_code == 403
    assert (await client.delete(f"{BASE}/{MY_OPEN}", headers=m)).status_code == 403
    assert (await client.get(f"{BASE}/{MY_OPEN}", headers=m)).json()["name"] == "My open"


@pytest.mark.parametrize(
    "body",
    [
        {"name": "x", "filters": {"assignee": "me"}},  # not a list query name
        {"name": "x", "filters": {"status": ["OPENISH"]}},
        {"name": "x", "filters": {"assigned_to": "everyone"}},
        {"name": "x", "filters": {"due_within_hours": 0}},
        {"name": "x", "filters": {"channel": "fax"}},
        {"name": "", "filters": {}},
        {"name": "x", "scope": "team", "filters": {}},  # team scope without a team
        {"name": "x", "scope": "personal", "team_id": str(uuid.uuid4()), "filters": {}},
        {"name": "x", "scope": "shared", "filters": {}},  # built-ins are code, not rows
        {"name": "x", "filters": {}, "owner_id": str(uuid.uuid4())},
    ],
)
async def test_filters_and_bodies_are_validated_on_write(
    client: AsyncClient, db: AsyncSession, body: dict[str, Any]
) -> None:
    agent = await make_user(db, role=Role.AGENT)
    answer = await client.post(BASE, json=body, headers=await bearer_headers(db, agent))
    assert answer.status_code == 422, answer.text


async def test_team_view_for_an_unknown_team_is_422(client: AsyncClient, db: AsyncSession) -> None:
    agent = await make_user(db, role=Role.AGENT)
    body = {"name": "x", "scope": "team", "team_id": str(uuid.uuid4()), "filters": {}}
    answer = await client.post(BASE, json=body, headers=await bearer_headers(db, agent))
    assert answer.status_code == 422, answer.text


async def test_customers_have_no_views(client: AsyncClient, db: AsyncSession) -> None:
    customer = await make_user(db, role=Role.CUSTOMER_ADMIN)
    headers = await bearer_headers(db, customer)
    assert (await client.get(BASE, headers=headers)).status_code == 403
    assert (await client.get(f"{BASE}/{MY_OPEN}/tickets", headers=headers)).status_code == 403


# ----------------------------------------------------------------- counts stay cheap


async def test_view_counts_are_one_indexed_count_each(
    connection: AsyncConnection,
    client: AsyncClient,
    db: AsyncSession,
    recorder: Recorder,  # noqa: F811
) -> None:
    """GET /internal/views runs one COUNT per view (no per-row work, no N+1), and each of the
    built-in views' counts reads tickets through an index, never a sequential scan."""
    corpus = await populate(db, connection)
    agent = corpus.agents[3]
    headers = await bearer_headers(db, agent)
    # Some resolution clocks, so "Breaching soon" has rows to find.
    await connection.exec_driver_sql(
        "UPDATE tickets SET sla_resolution_due_at = now() + (number % 48) * interval '1 hour' "
        "WHERE status NOT IN ('RESOLVED', 'CLOSED', 'CANCELLED')"
    )
    await connection.exec_driver_sql("ANALYZE tickets")
    for name in ("Mine A", "Mine B"):
        created = await client.post(
            BASE,
            json={"name": name, "filters": {"priority": ["P1"], "assigned_to": "me"}},
            headers=headers,
        )
        assert created.status_code == 201, created.text

    recorder.statements.clear()
    answer = await client.get(BASE, headers=headers)
    assert answer.status_code == 200, answer.text
    items = answer.json()["items"]
    assert len(items) == 6
    counts = [(s, p) for s, p in recorder.ticket_queries() if "count(*)" in s]
    assert len(counts) == len(items), [s for s, _ in recorder.ticket_queries()]
    assert len(recorder.ticket_queries()) == len(items)  # nothing else reads tickets
    assert all(v["count"] > 0 for v in items[:3]), items

    failures = []
    for (sql, bound), item in zip(counts[:4], items[:4], strict=True):
        reads = [
            (node, index) for node, index in (await explain(connection, sql, bound)).on_tickets()
        ]
        if ("Seq Scan", None) in reads or not any(kind in INDEX_NODES for kind, _ in reads):
            failures.append(f"{item['name']}: {reads}\n{sql}")
    assert not failures, "\n\n".join(failures)


def test_the_web_lands_agents_on_the_builtin_my_open_view() -> None:
    """The web app's landing page for agents names the built-in view by its fixed id."""
    source = (Path(__file__).resolve().parents[2] / "web/src/api/views.ts").read_text()
    assert f'MY_OPEN_VIEW = "{views.MY_OPEN}"' in source
    assert len({b.id for b in views.BUILTIN}) == len(views.BUILTIN)


async def test_saving_changing_and_deleting_a_view_is_audited(
    client: AsyncClient, db: AsyncSession, world: World
) -> None:
    a = await bearer_headers(db, world.a)
    created = await client.post(
        BASE, json={"name": "Mine", "filters": {"assigned_to": "me"}}, headers=a
    )
    assert created.status_code == 201, created.text
    view_id = created.json()["id"]
    renamed = await client.patch(f"{BASE}/{view_id}", json={"name": "All mine"}, headers=a)
    assert renamed.status_code == 200, renamed.text
    # Nothing changed: nothing to record.
    same = await client.patch(f"{BASE}/{view_id}", json={"name": "All mine"}, headers=a)
    assert same.status_code == 200, same.text
    assert (await client.delete(f"{BASE}/{view_id}", headers=a)).status_code == 204
    rows = (
        await db.execute(
            select(AuditLog.action, AuditLog.actor_id, AuditLog.old_value, AuditLog.new_value)
            .where(AuditLog.entity_id == uuid.UUID(view_id))
            .order_by(AuditLog.seq)
        )
    ).all()
    assert [r.action for r in rows] == ["view.created", "view.updated", "view.deleted"]
    assert {r.actor_id for r in rows} == {world.a.id}
    assert rows[0].new_value["filters"] == {"assigned_to": "me"}
    assert (rows[1].old_value["name"], rows[1].new_value["name"]) == ("Mine", "All mine")
    assert rows[2].old_value["name"] == "All mine"
