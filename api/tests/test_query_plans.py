"""The list queries the app really runs use their indexes at a realistic size.

About 30,000 tickets across 20 organizations (three years of history: old tickets closed or
cancelled, recent ones spread over the open states) are inserted with one INSERT ... SELECT and
analyzed, inside the test's rolled-back transaction. Each request's SQL is recorded while it runs
and EXPLAINed with the same parameters; every plan must reach ``tickets`` through the index the
model declares for it, never through a sequential scan.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import pytest
from httpx import AsyncClient
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from app.ai import retrieval
from app.models import Organization, User
from app.models.enums import Role
from app.services import search, sla_sweep, tickets
from app.services.tickets import TicketFilter
from tests.factories import bearer_headers as headers_for
from tests.factories import make_org, make_user, staff

TICKETS = 30_000
ORGS = 20
AGENTS = 30
RARE_WORD = "kerberos"
STATUSES = ["NEW", "ACCEPTED", "ASSIGNED", "IN_PROGRESS", "WAITING_CUSTOMER", "RESOLVED"]

# Ticket i (1..TICKETS) is opened at START + i * 53 minutes (about three years). The newest 1,200
# are still open, cycling through the open states; older ones are closed, one in twenty cancelled.
# Everything past NEW/ACCEPTED/CANCELLED is assigned to one of the agents.
POPULATE = """
WITH source AS (
    SELECT i,
           CASE
               WHEN i > $5 - 1200 THEN ($4::text[])[1 + i % 6]
               WHEN i % 20 = 0 THEN 'CANCELLED'
               ELSE 'CLOSED'
           END AS status
    FROM generate_series(1, $5) AS i
)
INSERT INTO tickets (id, org_id, created_by, accepted_by, assigned_to, status, priority, category,
                     title, description, created_at, updated_at, sla_resolution_breached_at)
SELECT gen_random_uuid(),
       ($1::uuid[])[1 + i % $6],
       ($2::uuid[])[1 + i % $6],
       CASE WHEN status <> 'NEW' AND status <> 'CANCELLED' THEN ($3::uuid[])[1] END,
       CASE WHEN status NOT IN ('NEW', 'ACCEPTED', 'CANCELLED')
            THEN ($3::uuid[])[1 + (i * 7) % $7] END,
       status,
       'P' || (1 + i % 4),
       (ARRAY['network', 'printing', 'access', 'email', 'hardware'])[1 + i % 5],
       (ARRAY['Printer', 'VPN', 'Mailbox', 'Laptop', 'Password', 'Wifi', 'Badge', 'Monitor'])
           [1 + i % 8] || ' ' ||
       (ARRAY['broken', 'slow', 'missing', 'locked', 'offline', 'noisy', 'failing'])[1 + i % 7] ||
       ' on floor ' || (i % 12),
       'Reported by the front desk. Reference ' || md5(i::text) ||
       CASE WHEN i % 1000 = 7 THEN ' ' || $8 || ' ticket renewal fails' ELSE '' END,
       $9::timestamptz + i * interval '53 minutes',
       $9::timestamptz + i * interval '53 minutes' + interval '2 hours',
       CASE WHEN i % 17 = 0 AND status NOT IN ('NEW', 'ACCEPTED', 'CANCELLED')
            THEN $9::timestamptz + i * interval '53 minutes' + interval '3 days' END
FROM source
"""


@dataclass
class Recorder:
    """Statements run on the test connection: (SQL, parameters)."""

    statements: list[tuple[str, tuple[Any, ...]]] = field(default_factory=list)

    def __call__(self, _conn: Any, _cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
        self.statements.append((statement, tuple(parameters or ())))

    def ticket_queries(self) -> list[tuple[str, tuple[Any, ...]]]:
        return [(s, p) for s, p in self.statements if "FROM tickets" in s]


@pytest.fixture
def recorder(connection: AsyncConnection) -> Iterator[Recorder]:
    recorder = Recorder()
    sync = connection.sync_connection
    assert sync is not None
    event.listen(sync, "before_cursor_execute", recorder)
    try:
        yield recorder
    finally:
        event.remove(sync, "before_cursor_execute", recorder)


@dataclass
class Corpus:
    orgs: list[Organization]
    customers: list[User]
    agents: list[User]


async def populate(db: AsyncSession, connection: AsyncConnection) -> Corpus:
    orgs = [await make_org(db) for _ in range(ORGS)]
    customers = [await make_user(db, role=Role.CUSTOMER_USER, org=org) for org in orgs]
    agents = [await make_user(db, role=Role.AGENT) for _ in range(AGENTS)]
    await connection.exec_driver_sql(
        POPULATE,
        (
            [o.id for o in orgs],
            [c.id for c in customers],
            [a.id for a in agents],
            STATUSES,
            TICKETS,
            ORGS,
            AGENTS,
            RARE_WORD,
            datetime(2027, 1, 1, tzinfo=UTC),
        ),
    )
    await connection.exec_driver_sql("ANALYZE tickets")
    return Corpus(orgs, customers, agents)


def nodes(plan: dict[str, Any]) -> Iterator[dict[str, Any]]:
    yield plan
    for child in plan.get("Plans", []):
        yield from nodes(child)


@dataclass
class Plan:
    sql: str
    tree: dict[str, Any]

    def on_tickets(self) -> list[tuple[str, str | None]]:
        """(node type, index name) of every node that reads ``tickets`` or its indexes."""
        found = []
        for node in nodes(self.tree):
            index = node.get("Index Name")
            if node.get("Relation Name") == "tickets" or (index or "").startswith("ix_tickets"):
                found.append((node["Node Type"], index))
        return found

    def describe(self) -> str:
        return json.dumps(self.tree, indent=1)[:6000] + "\n" + self.sql


async def explain(connection: AsyncConnection, sql: str, params: tuple[Any, ...]) -> Plan:
    result = await connection.exec_driver_sql(f"EXPLAIN (FORMAT JSON) {sql}", params)
    raw = result.scalar_one()
    document = json.loads(raw) if isinstance(raw, str) else raw
    return Plan(sql, document[0]["Plan"])


INDEX_NODES = {"Index Scan", "Index Only Scan", "Bitmap Index Scan"}


@dataclass(frozen=True)
class Case:
    name: str
    path: str
    caller: str
    params: list[tuple[str, str]]
    indexes: frozenset[str]


def case(name: str, path: str, caller: str, params: list[tuple[str, str]], *index: str) -> Case:
    return Case(name, path, caller, params, frozenset(index))


async def test_list_queries_use_their_indexes(
    connection: AsyncConnection, client: AsyncClient, db: AsyncSession, recorder: Recorder
) -> None:
    corpus = await populate(db, connection)
    # The organization the rare word's tickets belong to (i % 1000 = 7, so i % 20 = 7).
    org = 7
    # Agent a gets ticket i when 7i = a (mod 30), that is i = a (mod 6): agent 3's recent tickets
    # are IN_PROGRESS.
    agent = corpus.agents[3]
    headers = {
        "customer": await headers_for(db, corpus.customers[org]),
        "staff": await headers_for(db, agent),
    }
    me = str(agent.id)
    cases = [
        case("(a) customer list", "/api/tickets", "customer", [], "ix_tickets_org_created"),
        case(
            "(b) customer list, a rare status",
            "/api/tickets",
            "customer",
            [("status", "IN_PROGRESS")],
            "ix_tickets_org_status_created",
        ),
        case(
            "(b) customer list, a common status",
            "/api/tickets",
            "customer",
            [("status", "CLOSED")],
            "ix_tickets_org_status_created",
        ),
        case("(c) NEW queue", "/api/internal/tickets/new", "staff", [], "ix_tickets_new_queue"),
        case(
            "(d) staff list by assignee",
            "/api/internal/tickets",
            "staff",
            [("assigned_to", me)],
            "ix_tickets_assignee_created",
        ),
        case(
            "(d) staff list by assignee, open statuses",
            "/api/internal/tickets",
            "staff",
            [
                ("assigned_to", me),
                *(("status", s) for s in ("ASSIGNED", "IN_PROGRESS", "WAITING_CUSTOMER")),
            ],
            "ix_tickets_assignee_status_created",
        ),
        case(
            "(e) staff search",
            "/api/internal/tickets",
            "staff",
            [("q", RARE_WORD)],
            "ix_tickets_search",
        ),
        case(
            "(e) customer search",
            "/api/tickets",
            "customer",
            [("q", RARE_WORD)],
            "ix_tickets_search",
        ),
        case(
            "staff list, next SLA due first",
            "/api/internal/tickets",
            "staff",
            [("sort", "sla_due")],
            "ix_tickets_sla_next_due",
        ),
        case(
            "staff list of breached tickets",
            "/api/internal/tickets",
            "staff",
            [("breached", "true")],
            "ix_tickets_breached",
        ),
    ]
    failures: list[str] = []
    for c in cases:
        recorder.statements.clear()
        answer = await client.get(c.path, params=c.params, headers=headers[c.caller])
        assert answer.status_code == 200, answer.text
        assert answer.json()["items"], f"{c.name}: the corpus has no match"
        (sql, bound), *more = recorder.ticket_queries()
        assert not more, more
        # A page of 50 and one more (a text search writes it into its statement).
        assert 51 in bound or "LIMIT 51" in sql, (sql, bound)
        plan = await explain(connection, sql, bound)
        reads = plan.on_tickets()
        if ("Seq Scan", None) in reads or not any(
            kind in INDEX_NODES and name in c.indexes for kind, name in reads
        ):
            failures.append(
                f"{c.name}: expected {sorted(c.indexes)}, got {reads}\n{plan.describe()}"
            )
    assert not failures, "\n\n".join(failures)

    staff_search = await client.get(
        "/api/internal/tickets", params={"q": RARE_WORD}, headers=headers["staff"]
    )
    assert len(staff_search.json()["items"]) == TICKETS // 1000


async def analyze(connection: AsyncConnection, sql: str, params: tuple[Any, ...]) -> Plan:
    result = await connection.exec_driver_sql(f"EXPLAIN (ANALYZE, FORMAT JSON) {sql}", params)
    raw = result.scalar_one()
    document = json.loads(raw) if isinstance(raw, str) else raw
    return Plan(sql, document[0]["Plan"])


def ran(plan: Plan, index: str) -> bool:
    """Whether the statement read *index* (a node on it that was executed at least once)."""
    return any(
        node.get("Index Name") == index and node.get("Actual Loops", 0) > 0
        for node in nodes(plan.tree)
    )


async def test_search_chooses_its_plan_from_the_data(
    connection: AsyncConnection, client: AsyncClient, db: AsyncSession, recorder: Recorder
) -> None:
    """services/search.py decides with the data, not with the planner's guess: a common word
    ("printer", one ticket in eight) is settled by walking the newest tickets through
    ix_tickets_created and never touches a GIN index; a rare word and a word that matches
    nothing walk one window and are then collected through the GIN indexes of the tickets and
    the comments, the commented tickets read by key. Both steps are in the one statement,
    whichever ran."""
    corpus = await populate(db, connection)
    # Two comments on every ticket: a reply and an internal note.
    await connection.exec_driver_sql(
        "INSERT INTO ticket_comments (id, ticket_id, org_id, author_id, body, is_internal) "
        "SELECT gen_random_uuid(), t.id, t.org_id, $1, c.body, c.internal FROM tickets t "
        "CROSS JOIN (VALUES ('Thanks, we are looking into it', false), "
        "('Checked the logs, nothing yet', true)) AS c(body, internal)",
        (corpus.agents[0].id,),
    )
    await connection.exec_driver_sql("ANALYZE ticket_comments")
    staff = await headers_for(db, corpus.agents[1])
    for word, walk_settles in (("printer", True), (RARE_WORD, False), ("qqzzunmatched", False)):
        recorder.statements.clear()
        answer = await client.get("/api/internal/tickets", params={"q": word}, headers=staff)
        assert answer.status_code == 200, answer.text
        (sql, bound), *more = recorder.ticket_queries()
        assert not more, more
        plan = await analyze(connection, sql, bound)
        walked = [
            node
            for node in nodes(plan.tree)
            if node.get("Index Name") == "ix_tickets_created" and node.get("Actual Loops", 0) > 0
        ]
        assert walked, plan.describe()
        # The walk stops at the window, whatever the table holds.
        assert all(n["Actual Rows"] <= search.WINDOW for n in walked), plan.describe()
        assert ("Seq Scan", None) not in plan.on_tickets(), plan.describe()
        gin = ran(plan, "ix_tickets_search"), ran(plan, "ix_ticket_comments_search")
        if walk_settles:
            assert gin == (False, False), (word, plan.describe())
            assert len(answer.json()["items"]) == 50
        else:
            assert gin == (True, True), (word, plan.describe())
            # The comments' matches are handed over as an array and their tickets read by key;
            # a join would let PostgreSQL hash them against every ticket of the list (its guess
            # of a query it cannot see: 0.5 % of the comments).
            by_key = [
                node
                for node in nodes(plan.tree)
                if node.get("Actual Loops", 0) > 0
                and (node.get("Index Name") or "") in ("pk_tickets", "uq_tickets_id_org_id")
                and "ANY" in (node.get("Index Cond") or "")
            ]
            assert by_key, (word, plan.describe())


async def test_the_breached_count_of_an_agent_reads_an_index_alone(
    connection: AsyncConnection, db: AsyncSession, recorder: Recorder
) -> None:
    """The saved view "mine, breached" counts an agent's breached tickets through
    ix_tickets_assignee_breached (index-only once vacuum has marked the pages all-visible, which
    the test's open transaction cannot show), not through all of the agent's tickets."""
    corpus = await populate(db, connection)
    agent = corpus.agents[3]
    recorder.statements.clear()
    flt = TicketFilter(assigned_to=agent.id, breached=True)
    found = await tickets.count_rows(db, staff(agent), flt)
    assert found > 0
    (sql, bound), *more = recorder.ticket_queries()
    assert not more, more
    plan = await explain(connection, sql, bound)
    scans = [n for n in nodes(plan.tree) if n.get("Index Name") == "ix_tickets_assignee_breached"]
    assert scans, plan.describe()


SWEEP_INDEXES = {
    "ix_tickets_sla_fr_due",
    "ix_tickets_sla_res_due",
    "ix_tickets_sla_fr_warn",
    "ix_tickets_sla_res_warn",
    "ix_tickets_sla_escalate",
}


async def test_the_sla_sweep_reads_only_due_rows_through_partial_indexes(
    connection: AsyncConnection, db: AsyncSession, recorder: Recorder
) -> None:
    """R9: each of the sweep's claims (breaches and warnings of both clocks, escalations) is an
    UPDATE that finds its rows through its own partial index, so a cycle with nothing due reads
    no ticket at all, whatever the history."""
    await populate(db, connection)
    recorder.statements.clear()
    # Nothing is due at this instant (before any ticket of any test).
    swept = await sla_sweep.sweep(db, datetime(2001, 1, 1, tzinfo=UTC))
    assert swept.counts() == {"breached": 0, "warned": 0, "escalated": 0}
    updates = [(sql, p) for sql, p in recorder.statements if sql.startswith("UPDATE tickets")]
    assert len(updates) == 5, [sql for sql, _ in recorder.statements]
    used: set[str] = set()
    for sql, bound in updates:
        plan = await explain(connection, sql, bound)
        reads = plan.on_tickets()
        assert ("Seq Scan", None) not in reads, plan.describe()
        names = {name for kind, name in reads if kind in INDEX_NODES and name in SWEEP_INDEXES}
        assert len(names) == 1, plan.describe()
        used |= names
    assert used == SWEEP_INDEXES


async def test_similar_ticket_candidates_are_bounded_whatever_the_history(
    connection: AsyncConnection, db: AsyncSession, recorder: Recorder
) -> None:
    """The AI's similar-ticket search ranks at most ``retrieval.POOL`` candidates even for a
    document whose words are in every ticket (ranking all 30,000 would read every search
    document, and a million at full size)."""
    await populate(db, connection)
    document = "Printer broken on floor 3, reported by the front desk: printer slow and offline"
    hits = await retrieval.similar_tickets(db, uuid.uuid4(), document)
    assert 0 < len(hits) <= retrieval.CANDIDATES
    [(sql, params)] = [(s, p) for s, p in recorder.ticket_queries() if "ts_rank" in s]
    result = await connection.exec_driver_sql(f"EXPLAIN (ANALYZE, FORMAT JSON) {sql}", params)
    raw = result.scalar_one()
    tree = (json.loads(raw) if isinstance(raw, str) else raw)[0]["Plan"]
    reads = [
        node
        for node in nodes(tree)
        if node.get("Relation Name") == "tickets"
        or (node.get("Index Name") or "").startswith("ix_tickets")
    ]
    assert reads, json.dumps(tree)[:4000]
    assert all(node["Node Type"] != "Seq Scan" for node in reads), json.dumps(tree)[:4000]
    assert max(node["Actual Rows"] for node in reads) <= retrieval.POOL, json.dumps(tree)[:4000]
