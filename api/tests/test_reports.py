"""Reports (services/reports.py, docs/RUNBOOK.md "Reports and CSV export") over a fixture whose
figures are computed by hand: tickets inserted with known stored business seconds, breaches,
reopens and ratings across two organizations, two agents and two teams, inside and outside the
range March 2026 (UTC)."""

from __future__ import annotations

import csv
import io
import tracemalloc
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from httpx import ASGITransport, AsyncClient, Response
from sqlalchemy import event, func, select, text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from app.models import AuditLog, Organization, Team, Ticket, TicketCsat, User
from app.models.enums import Role
from app.utils.clock import utcnow
from tests.factories import bearer_headers, make_org, make_user
from tests.test_query_plans import Recorder, explain

SUMMARY = "/api/internal/reports/summary"
MARCH = {"from": "2026-03-01", "to": "2026-03-31"}


def ok(response: Response, status: int = 200) -> Any:
    assert response.status_code == status, response.text
    return (
        response.json()
        if response.headers.get("content-type", "").startswith("application/json")
        else response.text
    )


def at(day: int, hour: int = 10, month: int = 3) -> datetime:
    return datetime(2026, month, day, hour, tzinfo=UTC)


@dataclass
class World:
    a: Organization
    b: Organization
    x: User
    y: User
    t1: Team
    t2: Team
    manager: dict[str, str]
    agent: dict[str, str]
    customer: dict[str, str]
    tickets: dict[int, Ticket]


async def _ticket(
    db: AsyncSession,
    creator: User,
    *,
    org: Organization,
    created: datetime,
    status: str,
    priority: str = "P3",
    assignee: User | None = None,
    team: Team | None = None,
    channel: str = "portal",
    category: str | None = "network",
    title: str = "Printer offline",
    accepted: tuple[datetime, float] | None = None,
    first: tuple[datetime, float] | None = None,
    resolved: tuple[datetime, float] | None = None,
    fr_breached: bool = False,
    res_breached: bool = False,
    reopens: int = 0,
) -> Ticket:
    ticket = Ticket(
        id=uuid.uuid4(),
        org_id=org.id,
        created_by=creator.id,
        assigned_to=assignee.id if assignee else None,
        assigned_team_id=team.id if team else None,
        status=status,
        priority=priority,
        category=category,
        channel=channel,
        title=title,
        description="Fixture.",
        created_at=created,
        updated_at=created,
        accepted_at=accepted[0] if accepted else None,
        accept_business_s=accepted[1] if accepted else None,
        first_responded_at=first[0] if first else None,
        sla_first_response_consumed_s=first[1] if first else 0,
        resolved_at=resolved[0] if resolved else None,
        sla_resolution_consumed_s=resolved[1] if resolved else 0,
        sla_first_response_breached_at=created + timedelta(hours=1) if fr_breached else None,
        sla_resolution_breached_at=created + timedelta(hours=2) if res_breached else None,
        reopen_count=reopens,
    )
    db.add(ticket)
    await db.flush()
    return ticket


async def _rate(db: AsyncSession, ticket: Ticket, rating: str, submitted: datetime) -> None:
    db.add(
        TicketCsat(
            ticket_id=ticket.id,
            org_id=ticket.org_id,
            rating=rating,
            resolved_at=ticket.resolved_at or submitted,
            submitted_at=submitted,
        )
    )
    await db.flush()


@pytest.fixture
async def world(db: AsyncSession) -> World:
    a = await make_org(db, name="Acme reports")
    b = await make_org(db, name="Globex reports")
    x = await make_user(db, role=Role.AGENT, name="Xena Agent")
    y = await make_user(db, role=Role.AGENT, name="Yuri Agent")
    manager = await make_user(db, role=Role.MANAGER)
    customer = await make_user(db, role=Role.CUSTOMER_ADMIN, org=a)
    t1, t2 = Team(id=uuid.uuid4(), name="Network team"), Team(id=uuid.uuid4(), name="Print team")
    db.add_all([t1, t2])
    await db.flush()
    now = utcnow()
    mk = _ticket
    t: dict[int, Ticket] = {}
    t[1] = await mk(db, customer, org=a, created=at(2, 3), status="CLOSED", priority="P1",
                    assignee=x, team=t1, accepted=(at(2, 11), 3600), first=(at(2, 12), 600),
                    resolved=(at(3), 7200))  # fmt: skip
    t[2] = await mk(db, customer, org=a, created=at(5), status="RESOLVED", priority="P2",
                    assignee=x, team=t1, channel="email", accepted=(at(5, 11), 1800),
                    first=(at(5, 12), 1200), resolved=(at(10), 36000), fr_breached=True,
                    reopens=1)  # fmt: skip
    t[3] = await mk(db, customer, org=b, created=at(10), status="RESOLVED", priority="P3",
                    assignee=y, team=t2, channel="phone", category="printing",
                    accepted=(at(10, 11), 7200), first=(at(10, 12), 3000),
                    resolved=(at(20), 18000))  # fmt: skip
    t[4] = await mk(db, customer, org=b, created=at(15), status="IN_PROGRESS", priority="P1",
                    assignee=y, team=t2, title="=HYPERLINK(\"http://evil.test\")",
                    accepted=(at(15, 11), 600), first=(at(15, 12), 900),
                    res_breached=True)  # fmt: skip
    t[5] = await mk(db, customer, org=a, created=at(25), status="NEW", priority="P4")
    t[6] = await mk(db, customer, org=a, created=at(10, month=2), status="CLOSED", priority="P2",
                    assignee=x, team=t1, accepted=(at(10, 11, month=2), 100),
                    first=(at(10, 12, month=2), 50), resolved=(at(5, 9), 90000),
                    res_breached=True)  # fmt: skip
    t[7] = await mk(db, customer, org=b, created=at(5, month=1), status="CLOSED",
                    assignee=y, team=t2, resolved=(at(1, month=2), 1))  # fmt: skip
    t[8] = await mk(db, customer, org=a, created=at(28), status="RESOLVED", priority="P3",
                    assignee=x, team=t1, accepted=(at(28, 11), 5000), first=(at(28, 12), 2400),
                    resolved=(at(5, month=4), 4000))  # fmt: skip
    t[9] = await mk(db, customer, org=b, created=at(10, month=4), status="NEW", priority="P2")
    t[10] = await mk(db, customer, org=a, created=at(12), status="CANCELLED", priority="P2")
    # Open now, for the backlog's age buckets.
    t[11] = await mk(db, customer, org=b, created=now - timedelta(hours=2), status="NEW",
                     priority="P1")  # fmt: skip
    t[12] = await mk(db, customer, org=b, created=now - timedelta(days=2),
                     status="WAITING_CUSTOMER", priority="P2")  # fmt: skip
    t[13] = await mk(db, customer, org=a, created=now - timedelta(days=5), status="ACCEPTED",
                     priority="P3")  # fmt: skip
    t[14] = await mk(db, customer, org=a, created=now - timedelta(days=10), status="ASSIGNED",
                     priority="P2", assignee=x)  # fmt: skip
    await _rate(db, t[1], "good", at(4))
    await _rate(db, t[2], "bad", at(11))
    await _rate(db, t[3], "okay", at(21))
    await _rate(db, t[6], "good", at(6))
    await _rate(db, t[7], "bad", at(2, month=2))
    return World(
        a, b, x, y, t1, t2,
        manager=await bearer_headers(db, manager),
        agent=await bearer_headers(db, x),
        customer=await bearer_headers(db, customer),
        tickets=t,
    )  # fmt: skip


async def test_summary_figures_by_hand(client: AsyncClient, world: World) -> None:
    body = ok(await client.get(SUMMARY, params=MARCH, headers=world.manager))
    assert body == {
        # created in March: 1, 2, 3, 4, 5, 8, 10
        "created": 7,
        # resolved in March: 1, 2, 3, 6
        "resolved": 4,
        # open on April 1: 4 and 5 (open now), 8 (resolved after); 9 came later, 10 cancelled
        "backlog": 3,
        # first responses in March: 600, 900, 1200, 2400, 3000 -> p90 at 3.6: 2400 + 0.6 * 600
        "first_response_p50_s": 1200.0,
        "first_response_p90_s": 2760.0,
        # resolutions: 7200, 18000, 36000, 90000 -> p50 at 1.5, p90 at 2.7
        "resolution_p50_s": 27000.0,
        "resolution_p90_s": 73800.0,
        # accepted in March: 600, 1800, 3600, 5000, 7200
        "accept_p50_s": 3600.0,
        # 2 breached (first response of 2, resolution of 6) of 4
        "sla_compliance_pct": 50.0,
        "reopen_rate": 0.25,
        # submitted in March: 1 good, 6 good, 2 bad, 3 okay (7's is February)
        "csat": {"good": 2, "okay": 1, "bad": 1, "score_pct": 50.0},
        "from": "2026-03-01T00:00:00Z",
        "to": "2026-04-01T00:00:00Z",
    }


async def test_summary_filters(client: AsyncClient, world: World) -> None:
    async def get(**extra: str) -> dict[str, Any]:
        result: dict[str, Any] = ok(
            await client.get(SUMMARY, params={**MARCH, **extra}, headers=world.manager)
        )
        return result

    only_a = await get(org_id=str(world.a.id))
    assert (only_a["created"], only_a["resolved"], only_a["backlog"]) == (5, 3, 2)
    assert only_a["resolution_p50_s"] == 36000.0
    assert only_a["sla_compliance_pct"] == 33.33
    assert only_a["csat"] == {"good": 2, "okay": 0, "bad": 1, "score_pct": 66.67}
    yuri = await get(assignee_id=str(world.y.id))
    assert (yuri["created"], yuri["resolved"], yuri["first_response_p50_s"]) == (2, 1, 1950.0)
    assert (await get(team_id=str(world.t2.id)))["created"] == 2
    p1 = await get(priority="P1")
    assert (p1["created"], p1["resolved"], p1["accept_p50_s"]) == (2, 1, 2100.0)
    email = await get(channel="email")
    assert (email["created"], email["reopen_rate"], email["sla_compliance_pct"]) == (1, 1.0, 0.0)
    printing = await get(category="printing")
    assert (printing["created"], printing["csat"]["score_pct"]) == (1, 0.0)
    # A datetime range: 5 March 00:00 up to (not including) 10 March 10:00.
    narrow = await get(**{"from": "2026-03-05T00:00:00Z", "to": "2026-03-10T10:00:00Z"})
    assert (narrow["created"], narrow["resolved"]) == (1, 1)
    empty = await get(**{"from": "2025-01-01", "to": "2025-01-31"})
    assert empty["created"] == 0 and empty["resolution_p50_s"] is None
    assert empty["sla_compliance_pct"] is None and empty["csat"]["score_pct"] is None


async def test_default_range_is_the_last_30_days(client: AsyncClient, world: World) -> None:
    body = ok(await client.get(SUMMARY, params={"org_id": str(world.b.id)}, headers=world.manager))
    start = datetime.fromisoformat(body["from"])
    end = datetime.fromisoformat(body["to"])
    assert end - start == timedelta(days=30)
    assert abs((end - utcnow()).total_seconds()) < 60
    assert body["created"] == 2  # 11 and 12 of B


async def test_who_may_read_reports(client: AsyncClient, world: World) -> None:
    paths = [
        SUMMARY,
        "/api/internal/reports/series",
        "/api/internal/reports/backlog",
        "/api/internal/reports/breakdown",
        "/api/internal/reports/tickets.csv",
    ]
    for path in paths:
        assert (await client.get(path, headers=world.agent)).status_code == 403, path
        assert (await client.get(path, headers=world.customer)).status_code == 403, path
        assert (await client.get(path)).status_code == 401, path
    # The dashboard's counts are for every staff member.
    dashboard = "/api/internal/reports/dashboard"
    assert (await client.get(dashboard, headers=world.agent)).status_code == 200
    assert (await client.get(dashboard, headers=world.customer)).status_code == 403
    assert (await client.get(dashboard)).status_code == 401


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"from": "2026-03-10", "to": "2026-03-01"}, "to"),
        ({"from": "2010-01-01", "to": "2026-03-01"}, "from"),
        ({"from": "yesterday"}, "from"),
        ({"to": "2026-02-30"}, "to"),
        ({"from": "1700000000"}, "from"),
        ({"priority": "P9"}, "priority"),
        ({"channel": "fax"}, "channel"),
        ({"category": "no such category"}, "category"),
        ({"org_id": str(uuid.UUID(int=1))}, "org_id"),
        ({"team_id": str(uuid.UUID(int=2))}, "team_id"),
        ({"assignee_id": str(uuid.UUID(int=3))}, "assignee_id"),
        ({"tz": "Mars/Olympus"}, "tz"),
    ],
)
async def test_bad_input_is_a_422(
    client: AsyncClient, world: World, params: dict[str, str], field: str
) -> None:
    response = await client.get(SUMMARY, params=params, headers=world.manager)
    assert response.status_code == 422, response.text
    assert field in response.text


async def test_a_customer_is_no_assignee(
    client: AsyncClient, db: AsyncSession, world: World
) -> None:
    customer_id = (
        await db.execute(select(Ticket.created_by).where(Ticket.id == world.tickets[1].id))
    ).scalar_one()
    response = await client.get(
        SUMMARY, params={"assignee_id": str(customer_id)}, headers=world.manager
    )
    assert response.status_code == 422


async def test_series_per_day_week_and_time_zone(client: AsyncClient, world: World) -> None:
    url = "/api/internal/reports/series"
    days = ok(await client.get(url, params=MARCH, headers=world.manager))["items"]
    assert len(days) == 31 and days[0]["bucket"] == "2026-03-01"
    per_day = {d["bucket"]: (d["created"], d["resolved"]) for d in days}
    assert per_day["2026-03-02"] == (1, 0)
    assert per_day["2026-03-03"] == (0, 1)
    assert per_day["2026-03-05"] == (1, 1)
    assert per_day["2026-03-10"] == (1, 1)
    assert sum(c for c, _ in per_day.values()) == 7
    assert sum(r for _, r in per_day.values()) == 4

    weeks = ok(await client.get(url, params={**MARCH, "interval": "week"}, headers=world.manager))
    assert [w["bucket"] for w in weeks["items"]] == [
        "2026-02-23", "2026-03-02", "2026-03-09", "2026-03-16", "2026-03-23", "2026-03-30",
    ]  # fmt: skip
    assert [(w["created"], w["resolved"]) for w in weeks["items"]] == [
        (0, 0), (2, 2), (3, 1), (0, 1), (2, 0), (0, 0),
    ]  # fmt: skip

    # Ticket 1 was created at 03:00 UTC on 2 March: 22:00 on 1 March in New York.
    ny = ok(
        await client.get(url, params={**MARCH, "tz": "America/New_York"}, headers=world.manager)
    )["items"]
    assert {d["bucket"]: d["created"] for d in ny}["2026-03-01"] == 1
    assert {d["bucket"]: d["created"] for d in ny}["2026-03-02"] == 0
    bad = await client.get(url, params={"interval": "month"}, headers=world.manager)
    assert bad.status_code == 422


async def test_backlog_by_age_and_priority(client: AsyncClient, world: World) -> None:
    url = "/api/internal/reports/backlog"
    totals: dict[str, int] = {}
    by_priority: dict[str, int] = {}
    for org in (world.a, world.b):
        body = ok(await client.get(url, params={"org_id": str(org.id)}, headers=world.manager))
        for bucket in body["by_age"]:
            totals[bucket["bucket"]] = totals.get(bucket["bucket"], 0) + bucket["count"]
        for row in body["by_priority"]:
            by_priority[row["priority"]] = by_priority.get(row["priority"], 0) + row["count"]
    # 11 (2 h), 12 (2 d), 13 (5 d), 14 (10 d); 4, 5 and 9 are months old.
    assert totals == {"lt_1d": 1, "1_3d": 1, "3_7d": 1, "7_30d": 1, "gt_30d": 3}
    assert by_priority == {"P1": 2, "P2": 3, "P3": 1, "P4": 1}
    only_b = ok(await client.get(url, params={"org_id": str(world.b.id)}, headers=world.manager))
    assert only_b["total"] == 4
    assert only_b["by_age"][4]["by_priority"] == {"P1": 1, "P2": 1, "P3": 0, "P4": 0}


async def test_breakdown_per_agent_team_and_organization(client: AsyncClient, world: World) -> None:
    url = "/api/internal/reports/breakdown"
    agents = ok(await client.get(url, params={**MARCH, "by": "agent"}, headers=world.manager))
    rows = {r["name"]: r for r in agents["items"]}
    assert set(rows) == {"Xena Agent", "Yuri Agent", "Unassigned"}
    assert rows["Xena Agent"] == {
        "id": str(world.x.id),
        "name": "Xena Agent",
        "created": 3,
        "resolved": 3,
        "first_response_p50_s": 1200.0,
        "resolution_p50_s": 36000.0,
        "sla_compliance_pct": 33.33,
        "csat": {"good": 2, "okay": 0, "bad": 1, "score_pct": 66.67},
    }
    assert rows["Yuri Agent"]["first_response_p50_s"] == 1950.0
    assert rows["Yuri Agent"]["csat"] == {"good": 0, "okay": 1, "bad": 0, "score_pct": 0.0}
    unassigned = rows["Unassigned"]
    assert (unassigned["id"], unassigned["created"], unassigned["resolved"]) == (None, 2, 0)
    assert unassigned["csat"]["score_pct"] is None
    assert [r["name"] for r in agents["items"]][-1] == "Unassigned"

    teams = ok(await client.get(url, params={**MARCH, "by": "team"}, headers=world.manager))
    team_rows = {r["name"]: r["created"] for r in teams["items"]}
    assert team_rows == {"Network team": 3, "Print team": 2, "Unassigned": 2}
    orgs = ok(await client.get(url, params={**MARCH, "by": "organization"}, headers=world.manager))
    org_rows = {r["name"]: (r["created"], r["resolved"]) for r in orgs["items"]}
    assert org_rows == {"Acme reports": (5, 3), "Globex reports": (2, 1)}
    bad = await client.get(url, params={"by": "customer"}, headers=world.manager)
    assert bad.status_code == 422


def _rows(body: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(body)))


async def test_tickets_csv(client: AsyncClient, db: AsyncSession, world: World) -> None:
    response = await client.get(
        "/api/internal/reports/tickets.csv", params=MARCH, headers=world.manager
    )
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    assert response.headers["content-disposition"].startswith('attachment; filename="tickets-')
    rows = _rows(response.text)
    header = rows[0]
    assert header[:3] == ["number", "title", "organization"]
    assert len(rows) == 1 + 7
    by_number = {r[0]: dict(zip(header, r, strict=True)) for r in rows[1:]}
    one = by_number[str(world.tickets[1].number)]
    assert one["organization"] == "Acme reports"
    assert one["accept_business_s"] == "3600"
    assert one["first_response_business_s"] == "600"
    assert one["resolution_business_s"] == "7200"
    assert (one["first_response_breached"], one["resolution_breached"]) == ("f", "f")
    assert one["csat"] == "good"
    assert one["created_at"].startswith("2026-03-02 03:00:00")
    evil = by_number[str(world.tickets[4].number)]
    # A formula is written as text: a leading apostrophe.
    assert evil["title"] == '\'=HYPERLINK("http://evil.test")'
    assert evil["resolution_breached"] == "t" and evil["resolution_business_s"] == ""
    entry = (
        await db.execute(select(AuditLog).where(AuditLog.action == "report.exported"))
    ).scalar_one()
    assert entry.new_value is not None and entry.new_value["report"] == "tickets"


async def test_aggregate_csvs(client: AsyncClient, world: World) -> None:
    agents = _rows(
        ok(
            await client.get(
                "/api/internal/reports/agents.csv", params=MARCH, headers=world.manager
            )
        )
    )
    assert agents[0][:4] == ["id", "name", "created", "resolved"]
    xena = next(r for r in agents if r[1] == "Xena Agent")
    assert xena[2:7] == ["3", "3", "1200", "36000", "33.33"]
    orgs = _rows(
        ok(
            await client.get(
                "/api/internal/reports/organizations.csv", params=MARCH, headers=world.manager
            )
        )
    )
    assert {r[1]: r[2] for r in orgs[1:]} == {"Acme reports": "5", "Globex reports": "2"}
    sla = _rows(
        ok(await client.get("/api/internal/reports/sla.csv", params=MARCH, headers=world.manager))
    )
    assert sla[0][0] == "priority" and [r[0] for r in sla[1:]] == ["P1", "P2", "P3", "P4"]
    p2 = dict(zip(sla[0], sla[2], strict=True))
    # P2 resolved in March: 2 (first response breached), 6 (resolution breached).
    assert (p2["resolved"], p2["first_response_breached"], p2["resolution_breached"]) == (
        "2", "1", "1",
    )  # fmt: skip
    assert p2["sla_compliance_pct"] == "0.0"
    missing = await client.get("/api/internal/reports/people.csv", headers=world.manager)
    assert missing.status_code == 404


async def test_team_and_agent_names_are_neutralised_in_csv(
    client: AsyncClient, db: AsyncSession, world: World
) -> None:
    world.t1.name = "+SUM(A1:A9)"
    world.x.name = "@evil"
    await db.flush()
    agents = _rows(
        ok(
            await client.get(
                "/api/internal/reports/agents.csv", params=MARCH, headers=world.manager
            )
        )
    )
    assert "'@evil" in [r[1] for r in agents]
    tickets = _rows(
        ok(
            await client.get(
                "/api/internal/reports/tickets.csv", params=MARCH, headers=world.manager
            )
        )
    )
    team_column = tickets[0].index("team")
    assert "'+SUM(A1:A9)" in [r[team_column] for r in tickets[1:]]


async def test_dashboard_counts(client: AsyncClient, db: AsyncSession, world: World) -> None:
    body = ok(
        await client.get(
            "/api/internal/reports/dashboard", params={"tz": "UTC"}, headers=world.agent
        )
    )
    # The dashboard counts the whole desk: tickets other tests committed count too, so the
    # fixture's share is what is left once theirs are taken away.
    outside = Ticket.org_id.not_in([world.a.id, world.b.id])
    open_states = ["NEW", "ACCEPTED", "ASSIGNED", "IN_PROGRESS", "WAITING_CUSTOMER"]
    breached = (Ticket.sla_first_response_breached_at.is_not(None)) | (
        Ticket.sla_resolution_breached_at.is_not(None)
    )

    async def others(*where: Any) -> int:
        count = await db.execute(select(func.count()).where(outside, *where))
        return int(count.scalar_one())

    base_open = await others(Ticket.status.in_(open_states))
    base_new = await others(Ticket.status == "NEW")
    base_breached = await others(Ticket.status.in_(open_states), breached)
    base_waiting = await others(Ticket.status == "WAITING_CUSTOMER")
    day_one = datetime.combine(
        utcnow().date() - timedelta(days=13), datetime.min.time(), tzinfo=UTC
    )
    base_created = await others(
        Ticket.created_at >= day_one, Ticket.created_at < day_one + timedelta(days=14)
    )
    # Open now: 4, 5, 9, 11, 12, 13, 14; NEW: 5, 9, 11; breached and open: 4.
    assert (body["open"], body["awaiting_acceptance"], body["breached_open"]) == (
        7 + base_open,
        3 + base_new,
        1 + base_breached,
    )
    by_status = {s["status"]: s["count"] for s in body["by_status"]}
    assert by_status["WAITING_CUSTOMER"] == 1 + base_waiting
    assert len(body["per_day"]) == 14
    assert body["per_day"][-1]["bucket"] == utcnow().date().isoformat()
    assert sum(d["created"] for d in body["per_day"]) == 4 + base_created  # 11, 12, 13, 14


async def test_large_export_arrives_in_many_chunks(
    app: Any, client: AsyncClient, db: AsyncSession, world: World
) -> None:
    """100,000 rows through COPY: the body comes in chunks of about 64 KB, never as one."""
    await db.execute(
        text(
            """
            INSERT INTO tickets (id, org_id, created_by, status, priority, title, description,
                                 created_at, updated_at, channel)
            SELECT gen_random_uuid(), :org, :creator, 'CLOSED', 'P3', 'Bulk ' || i, 'x',
                   '2025-06-01'::timestamptz + i * interval '1 minute',
                   '2025-06-01'::timestamptz + i * interval '1 minute', 'api'
            FROM generate_series(1, 100000) AS i
            """
        ),
        {"org": world.a.id, "creator": world.tickets[1].created_by},
    )
    # Counted where the app hands each piece of the body to the server; the pieces are dropped
    # there (the test client would otherwise gather the whole body).
    seen = {"chunks": 0, "bytes": 0, "lines": 0, "largest": 0}

    async def counting(scope: Any, receive: Any, send: Any) -> None:
        async def counted(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.body":
                body = message.get("body", b"")
                seen["chunks"] += 1 if body else 0
                seen["bytes"] += len(body)
                seen["lines"] += body.count(b"\n")
                seen["largest"] = max(seen["largest"], len(body))
                message = {**message, "body": b""}
            await send(message)

        await app(scope, receive, counted)

    url = "/api/internal/reports/tickets.csv"
    params = {"from": "2025-06-01", "to": "2025-09-30", "org_id": str(world.a.id)}
    tracemalloc.start()
    try:
        async with AsyncClient(
            transport=ASGITransport(app=counting), base_url="http://testserver"
        ) as streaming:
            # A first small export fills the caches (compiled statements, prepared queries).
            warm = await streaming.get(
                url, params={**params, "to": "2025-06-02"}, headers=world.manager
            )
            assert warm.status_code == 200
            seen.update(chunks=0, bytes=0, lines=0, largest=0)
            tracemalloc.reset_peak()
            before, _ = tracemalloc.get_traced_memory()
            response = await streaming.get(url, params=params, headers=world.manager)
            _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert response.status_code == 200
    lines = seen["lines"]
    assert seen["bytes"] > 7_000_000
    assert seen["chunks"] > 50 and seen["largest"] < 256 * 1024, seen
    # The Python heap never holds more than a few chunks of the 7+ MB body.
    assert peak - before < 4 * 1024 * 1024, peak - before
    assert lines == 100_001
    count = (
        await db.execute(select(func.count()).select_from(Ticket).where(Ticket.channel == "api"))
    ).scalar_one()
    assert count >= 100_000


# 30,000 tickets over about three years, nearly all answered, accepted and resolved.
POPULATE = """
INSERT INTO tickets (id, org_id, created_by, status, priority, title, description, created_at,
                     updated_at, accepted_at, accept_business_s, first_responded_at,
                     sla_first_response_consumed_s, resolved_at, sla_resolution_consumed_s)
SELECT gen_random_uuid(), $1, $2, 'CLOSED', 'P' || (1 + i % 4), 'Plan ' || i, 'x', c, c,
       c + interval '1 hour', 3600, c + interval '2 hours', 1800 + i % 900,
       c + interval '2 days', 40000 + i % 5000
FROM (SELECT i, now() - i * interval '53 minutes' AS c FROM generate_series(1, 30000) AS i) AS s
"""


async def test_a_90_day_summary_reads_the_date_indexes(
    connection: AsyncConnection, client: AsyncClient, db: AsyncSession, world: World
) -> None:
    await connection.exec_driver_sql(POPULATE, (world.a.id, world.tickets[1].created_by))
    await connection.exec_driver_sql("ANALYZE tickets")
    recorder = Recorder()
    sync = connection.sync_connection
    assert sync is not None
    event.listen(sync, "before_cursor_execute", recorder)
    try:
        ok(await client.get(SUMMARY, params={"from": "2026-08-01", "to": "2026-10-29"},
                            headers=world.manager))  # fmt: skip
    finally:
        event.remove(sync, "before_cursor_execute", recorder)
    (sql, params) = next((s, p) for s, p in recorder.statements if "percentile_cont" in s)
    plan = await explain(connection, sql, params)
    used = plan.on_tickets()
    assert ("Seq Scan", None) not in used, plan.describe()
    indexes = {index for _, index in used}
    for index in ("ix_tickets_resolved_at", "ix_tickets_first_responded_at",
                  "ix_tickets_accepted_at"):  # fmt: skip
        assert index in indexes, plan.describe()
        # Everything the summary reads of those tickets is in the index (migration 0018).
        assert ("Index Only Scan", index) in used, plan.describe()
