"""The load scenarios: the requests wrk replays against the API and against the ceiling app.

Each scenario writes two request files (see replay.lua): the API's requests, authenticated with
bearer tokens of real sessions, and the ceiling's requests for the same data (organization,
ticket, assignee, search term) in the query string. The request id names the scenario, so the
API's access log tells how many SQL statements each scenario's requests ran.
"""

from __future__ import annotations

import json
import math
import random
import re
import secrets
import statistics
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import quote

import asyncpg
from generate import copy_chained_audit
from textgen import RESOLUTIONS, ROOT_CAUSES, Text

from app.auth.tokens import create_access_token
from app.services.audit_chain import derive_key

READ = ("customer_list", "customer_detail", "new_queue", "desk_list", "search", "suggestions")
# Full-text search one shape at a time (desk, staff), each against a ceiling that runs the API's
# own statement for the same query (app.services.tickets.compiled_list).
SEARCHES = (
    "search_rare",
    "search_common",
    "search_none",
    "search_two_words",
    "search_number",
)
WRITE = ("create", "lifecycle")
TITLES = {
    "health": "health (no database), ceiling (a)",
    "customer_list": "customer ticket list",
    "customer_detail": "customer ticket detail",
    "new_queue": "NEW queue",
    "desk_list": "desk list: status + assignee + breached",
    "search": "full-text search (desk)",
    "search_rare": "search: a rare word (desk)",
    "search_common": "search: a common word (desk)",
    "search_none": "search: a word that matches nothing (desk)",
    "search_two_words": "search: two words (desk)",
    "search_number": "search: a ticket number #N (desk)",
    "suggestions": "AI suggestions (desk, lexical)",
    "create": "ticket create",
    "lifecycle": "lifecycle mix",
}
OPEN_WORK = ["ASSIGNED", "IN_PROGRESS", "WAITING_CUSTOMER"]
# One ticket's way through the desk, as the lifecycle scenario replays it: accept and assign by a
# manager, then the assignee works it: two public replies, one internal note, three status
# changes (comments 3/8, status 3/8, accept 1/8, assign 1/8).
CHAIN = ("accept", "assign", "in_progress", "reply", "note", "waiting", "reply", "resolve")
# Tickets embedded by the backfill measurement (a million would take hours on two cores).
BACKFILL_SAMPLE = 300
# The suggestions scenario: open tickets whose suggestion is computed (and timed) beforehand, and
# the untimed warm-up before them.
SUGGESTED_TICKETS, SUGGESTION_WARMUP = 150, 10
# The search scenarios' words, each kept only when the loaded data bear it out (counted through
# the API's own count, tickets.count_rows): common words in at least COMMON_SHARE of the tickets
# (the first three that are), words in no ticket, two-word queries that match; rare words are the
# host names and error codes (ws-0421, ERR-4242) of sampled tickets, found in at most RARE_SHARE
# of the tickets; ticket numbers are sampled over the whole history.
COMMON_WORDS = ("office", "error", "restart", "printer", "password")
COMMON_SHARE = 0.10
UNKNOWN_WORDS = ("kerberos", "sharepoint", "thunderbolt", "raspberry", "zeppelin")
TWO_WORDS = (
    "printer toner",
    "vpn disconnecting",
    "outlook crashes",
    "password locked",
    "certificate expired",
    "scanner vienna",
)
RARE = re.compile(r"\b(?:ws-\d{4}|ERR-\d{4})\b")
RARE_SHARE = 0.001
SEARCH_TERMS = 40


@dataclass
class Line:
    method: str
    path: str
    body: dict[str, Any] | None = None
    thread: int = 0
    headers: dict[str, str] = field(default_factory=dict)

    def render(self) -> str:
        body = "-" if self.body is None else json.dumps(self.body, separators=(",", ":"))
        return "\t".join(
            [self.method, self.path, body, str(self.thread)]
            + [f"{k}: {v}" for k, v in self.headers.items()]
        )


def write(path: Path, lines: list[Line]) -> Path:
    path.write_text("".join(line.render() + "\n" for line in lines))
    return path


def rid(scenario: str) -> dict[str, str]:
    return {"X-Request-ID": f"bench.{scenario}"}


@dataclass
class Actor:
    id: uuid.UUID
    org_id: uuid.UUID | None
    role: str
    token: str

    def auth(self, scenario: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}", **rid(scenario)}


@dataclass
class Stage:
    """Sessions, tokens and the sampled data the scenarios use, for one bench database."""

    uri: str
    directory: Path
    secret: str = field(default_factory=lambda: secrets.token_urlsafe(48))
    rng: random.Random = field(default_factory=lambda: random.Random(7))
    customers: list[Actor] = field(default_factory=list)
    managers: list[Actor] = field(default_factory=list)
    agents: list[Actor] = field(default_factory=list)
    files: dict[tuple[str, str], Path] = field(default_factory=dict)
    # The configured engine's time per ticket (count, p50/p95/max ms), measured by suggest(),
    # and with the local model its budget figures and the backfill rate.
    computation: dict[str, Any] | None = None
    engine_name: str = "lexical"
    model: dict[str, Any] | None = None
    backfill: dict[str, Any] | None = None
    backfill_sample: int = BACKFILL_SAMPLE
    model_texts: int = 1000
    # The saved views' live counts: time per view's COUNT (p50/p95/max ms), by view_counts().
    counts: dict[str, Any] | None = None
    # The search scenarios: per scenario its queries and how many tickets each matches.
    searches: dict[str, Any] = field(default_factory=dict)
    # The ceiling's search statements (ceiling line k runs entry k, see ceiling_app.py).
    search_requests: list[dict[str, str]] = field(default_factory=list)
    search_file: Path | None = None
    # How many tickets the suggestions scenario reads, and warms up with (fewer in a smoke run).
    suggested: int = SUGGESTED_TICKETS
    suggestion_warmup: int = SUGGESTION_WARMUP

    async def prepare(
        self, customers: int = 200, *, suggestions: bool = True, searches: bool = True
    ) -> None:
        """Sessions and the read scenarios' request files; with *searches*, the search
        scenarios' (their words chosen and counted, see _searches()); with *suggestions*, also
        the stored suggestion of every ticket the suggestions scenario reads (see suggest())."""
        suggested: list[uuid.UUID] = []
        warmup: list[uuid.UUID] = []
        conn = await asyncpg.connect(self.uri)
        try:
            rows = await conn.fetch(
                "SELECT id, org_id, role FROM users WHERE is_active ORDER BY email"
            )
            staff = [r for r in rows if r["org_id"] is None]
            cust = [r for r in rows if r["org_id"] is not None]
            chosen = self.rng.sample(cust, min(customers, len(cust)))
            now = datetime.now(UTC)
            actors: list[Actor] = []
            sessions = []
            for r in [*chosen, *staff]:
                sid = uuid.uuid4()
                sessions.append((sid, r["id"], now + timedelta(days=2), now))
                token = create_access_token(
                    secret=self.secret,
                    user_id=r["id"],
                    session_id=sid,
                    now=now,
                    lifetime=timedelta(days=2),
                )
                actors.append(Actor(r["id"], r["org_id"], r["role"], token))
            await conn.copy_records_to_table(
                "auth_sessions",
                records=sessions,
                columns=["id", "user_id", "expires_at", "created_at"],
            )
            self.customers = [a for a in actors if a.org_id is not None]
            self.managers = [a for a in actors if a.role == "manager"]
            self.agents = [a for a in actors if a.role == "agent"]
            await self._reads(conn)
            if searches:
                await self._searches(conn)
            self.search_file = self.directory / "searches.json"
            self.search_file.write_text(json.dumps(self.search_requests))
            if suggestions:
                suggested, warmup = await self._suggestions(conn)
        finally:
            await conn.close()
        if suggested:
            await self.suggest(suggested, warmup)

    def _files(self, scenario: str, api: list[Line], ceiling: list[Line]) -> None:
        self.files[(scenario, "api")] = write(self.directory / f"{scenario}.api.tsv", api)
        self.files[(scenario, "ceiling")] = write(
            self.directory / f"{scenario}.ceiling.tsv", ceiling
        )

    async def _reads(self, conn: asyncpg.Connection) -> None:
        r = self.rng
        self.files[("health", "api")] = write(
            self.directory / "health.api.tsv", [Line("GET", "/api/health", headers=rid("health"))]
        )
        api: list[Line] = []
        ceiling: list[Line] = []
        for c in self.customers:
            api.append(Line("GET", "/api/tickets", headers=c.auth("customer_list")))
            ceiling.append(Line("GET", f"/ceiling/customer_list?org={c.org_id}"))
        self._files("customer_list", api, ceiling)

        # Half the detail views open one of the organization's recent tickets, half any of them.
        api, ceiling = [], []
        total = await conn.fetchval("SELECT count(*) FROM tickets")
        sample: dict[uuid.UUID, list[uuid.UUID]] = {}
        for row in await conn.fetch(
            f"SELECT id, org_id FROM tickets TABLESAMPLE BERNOULLI "
            f"({min(100.0, 50_000 * 100 / max(total, 1)):.4f}) REPEATABLE (7)"
        ):
            sample.setdefault(row["org_id"], []).append(row["id"])
        for c in self.customers:
            recent = await conn.fetch(
                "SELECT id FROM tickets WHERE org_id = $1 ORDER BY created_at DESC LIMIT 100",
                c.org_id,
            )
            older = sample.get(c.org_id, [])  # type: ignore[arg-type]
            for tid in [x["id"] for x in r.sample(recent, min(5, len(recent)))] + r.sample(
                older, min(5, len(older))
            ):
                api.append(Line("GET", f"/api/tickets/{tid}", headers=c.auth("customer_detail")))
                ceiling.append(Line("GET", f"/ceiling/customer_detail?org={c.org_id}&id={tid}"))
        self._files("customer_detail", api, ceiling)

        staff = self.managers + self.agents
        self._files(
            "new_queue",
            [Line("GET", "/api/internal/tickets/new", headers=a.auth("new_queue")) for a in staff],
            [Line("GET", "/ceiling/new_queue")],
        )

        statuses = "&".join(f"status={s}" for s in OPEN_WORK)
        self._files(
            "desk_list",
            [
                Line(
                    "GET",
                    f"/api/internal/tickets?{statuses}&assigned_to={a.id}&breached=true",
                    headers=a.auth("desk_list"),
                )
                for a in self.agents
            ],
            [
                Line("GET", f"/ceiling/desk_list?status={','.join(OPEN_WORK)}&assignee={a.id}")
                for a in self.agents
            ],
        )

        self._search_files("search", await self._search_terms(conn))

    def _search_files(self, scenario: str, terms: list[str]) -> None:
        """Staff searching for *terms* (round robin over managers and agents); the ceiling's line
        names the entry of the statement table (role, user, query) it runs."""
        staff = self.managers + self.agents
        api, ceiling = [], []
        for k, term in enumerate(terms):
            a = staff[k % len(staff)]
            api.append(
                Line("GET", f"/api/internal/tickets?q={quote(term)}", headers=a.auth(scenario))
            )
            ceiling.append(Line("GET", f"/ceiling/search?k={len(self.search_requests)}"))
            self.search_requests.append({"role": a.role, "user": str(a.id), "q": term})
        self._files(scenario, api, ceiling)

    async def _searches(self, conn: asyncpg.Connection) -> None:
        """The five search scenarios' queries, chosen from the loaded data with a generator of
        their own (the other scenarios' data stay the same), and how many tickets each matches
        (tickets.count_rows as a manager: the API's own search)."""
        r = random.Random(13)
        total = int(await conn.fetchval("SELECT count(*) FROM tickets"))
        first, last = await conn.fetchrow("SELECT min(number), max(number) FROM tickets")
        sampled = r.sample(range(first, last + 1), min(SEARCH_TERMS * 5, last - first + 1))
        rows = await conn.fetch(
            "SELECT title, description FROM tickets WHERE number = ANY($1::bigint[]) "
            "ORDER BY number",
            sampled,
        )
        rare: list[str] = []
        for row in rows:
            found = RARE.findall(f"{row['title']} {row['description']}")
            if found and (term := r.choice(found)) not in rare:
                rare.append(term)
        numbers = [f"#{n}" for n in sampled[:SEARCH_TERMS]]
        counts = await self._count([*COMMON_WORDS, *UNKNOWN_WORDS, *TWO_WORDS, *rare, *numbers])
        chosen = {
            "search_rare": [t for t in rare if 1 <= counts[t] <= max(1, total * RARE_SHARE)][
                :SEARCH_TERMS
            ],
            "search_common": [t for t in COMMON_WORDS if counts[t] >= total * COMMON_SHARE][:3],
            "search_none": [t for t in UNKNOWN_WORDS if counts[t] == 0],
            "search_two_words": [t for t in TWO_WORDS if counts[t] >= 1],
            "search_number": [t for t in numbers if counts[t] >= 1],
        }
        for scenario, terms in chosen.items():
            if not terms:
                raise RuntimeError(f"{scenario}: no query fits the data ({counts})")
            # Every query several times over, so that each connection meets them all.
            self._search_files(scenario, terms * max(1, math.ceil(SEARCH_TERMS / len(terms))))
            self.searches[scenario] = {
                "tickets": total,
                "queries": [{"q": t, "matches": counts[t]} for t in terms],
            }

    async def _count(self, terms: list[str]) -> dict[str, int]:
        """How many tickets each of *terms* finds, as a manager's search counts them."""
        from sqlalchemy.ext.asyncio import AsyncSession, create_async_engine

        from app.auth.deps import CurrentUser
        from app.db.embedded import to_async_url
        from app.models.enums import Role
        from app.services import tickets

        manager = self.managers[0]
        actor = CurrentUser(
            id=manager.id,
            email="",
            name="",
            role=Role(manager.role),
            org_id=None,
            org_name=None,
            session_id=uuid.uuid4(),
        )
        engine = create_async_engine(to_async_url(self.uri))
        out: dict[str, int] = {}
        try:
            async with AsyncSession(engine) as session:
                for term in dict.fromkeys(terms):
                    flt = tickets.TicketFilter(q=term)
                    out[term] = await tickets.count_rows(session, actor, flt)
        finally:
            await engine.dispose()
        return out

    async def _suggestions(
        self, conn: asyncpg.Connection
    ) -> tuple[list[uuid.UUID], list[uuid.UUID]]:
        """Managers and agents reading the suggestions of open tickets (assigned, in progress,
        waiting for the customer); returns those tickets and others for the warm-up."""
        open_work = [
            row["id"]
            for row in await conn.fetch(
                "SELECT id FROM tickets WHERE status = ANY($1::varchar[]) ORDER BY id", OPEN_WORK
            )
        ]
        # A generator of its own: the other scenarios' data stay the same with or without this.
        chosen = random.Random(11).sample(
            open_work, min(self.suggested + self.suggestion_warmup, len(open_work))
        )
        warmup = chosen[: self.suggestion_warmup]
        tickets = chosen[self.suggestion_warmup :] or chosen
        staff = self.managers + self.agents
        self._files(
            "suggestions",
            [
                Line(
                    "GET",
                    f"/api/internal/tickets/{tid}/suggestions",
                    headers=staff[k % len(staff)].auth("suggestions"),
                )
                for k, tid in enumerate(tickets)
            ],
            [Line("GET", f"/ceiling/suggestions?id={tid}") for tid in tickets],
        )
        return tickets, warmup

    async def suggest(self, tickets: list[uuid.UUID], warmup: list[uuid.UUID]) -> None:
        """Store each ticket's suggestion as the worker does (``app.ai.jobs``: the ticket's text,
        the configured engine's ``analyse()``, store, commit) and time ticket text + analyse per
        ticket, the local model's embedding of the ticket included (the sampled tickets'
        embeddings are removed first). The warm-up tickets are analysed first, untimed.

        With the local engine, before that: the model's cold load and peak memory in a fresh
        process, and the backfill (``./atum-desk ai-reindex``'s code) of BACKFILL_SAMPLE tickets
        against a bare loop of the same model over the same texts (self.backfill). The vector
        index then holds those tickets' embeddings only (embedding a million tickets takes hours
        on two cores): the nearest-neighbour step runs on a small index here."""
        from sqlalchemy import text as sql
        from sqlalchemy.ext.asyncio import AsyncSession, create_async_engine

        from app.ai import jobs, vectors
        from app.ai.engines import embedder_of, engine_for
        from app.config import get_settings
        from app.db.embedded import to_async_url

        engine = create_async_engine(to_async_url(self.uri))
        triage = engine_for(get_settings())
        self.engine_name = triage.name
        try:
            if embedder_of(triage) is not None:
                self.model = model_budget(self.model_texts)
                async with engine.begin() as conn:
                    await vectors.ensure_vector_index(conn)
                self.backfill = await backfill_rate(engine, self.backfill_sample)
                async with engine.begin() as conn:
                    await conn.execute(
                        sql("DELETE FROM ticket_embeddings WHERE ticket_id = ANY(:ids)"),
                        {"ids": tickets},
                    )
            for tid in warmup:
                async with AsyncSession(engine, expire_on_commit=False) as session:
                    found = await jobs.ticket_text(session, tid)
                    if found is not None:
                        await triage.analyse(session, found)
            times: list[float] = []
            for tid in tickets:
                async with AsyncSession(engine, expire_on_commit=False) as session:
                    started = time.perf_counter()
                    found = await jobs.ticket_text(session, tid)
                    if found is None:
                        continue
                    analysis = await triage.analyse(session, found)
                    times.append((time.perf_counter() - started) * 1000)
                    await jobs.store(session, tid, analysis)
                    await session.commit()
        finally:
            await engine.dispose()
        if not times:
            return
        ordered = sorted(times)
        self.computation = {
            "engine": self.engine_name,
            "tickets": len(times),
            "warmup": len(warmup),
            "p50_ms": round(statistics.median(ordered), 2),
            "p95_ms": round(ordered[min(len(ordered) - 1, math.ceil(0.95 * len(ordered)) - 1)], 2),
            "max_ms": round(ordered[-1], 2),
            "mean_ms": round(statistics.fmean(ordered), 2),
            **({"model": self.model} if self.model else {}),
            **({"backfill": self.backfill} if self.backfill else {}),
        }

    async def view_counts(self, agents: int = 20, rounds: int = 3) -> None:
        """The desk sidebar's live counts: *agents* agents each get six personal views (priority,
        breached and mine, a team's open work, new e-mail, an organization's open work, a search)
        next to the four built-in ones, and each view's count is computed in-process exactly as
        GET /internal/views does (services/views.py -> tickets.count_rows), timed per view over
        *rounds* rounds after an untimed one."""
        from sqlalchemy import select
        from sqlalchemy.ext.asyncio import AsyncSession, create_async_engine

        from app.auth.deps import CurrentUser
        from app.db.embedded import to_async_url
        from app.models import Organization, Team
        from app.models.enums import Role
        from app.schemas.views import ViewCreate
        from app.services import views

        engine = create_async_engine(to_async_url(self.uri))
        chosen = self.agents[:agents]
        times: list[float] = []
        per_view: dict[str, list[float]] = {}
        try:
            async with AsyncSession(engine, expire_on_commit=False) as session:
                team = await session.scalar(select(Team.id).order_by(Team.name).limit(1))
                org = await session.scalar(
                    select(Organization.id).order_by(Organization.id).limit(1)
                )
                open_ = ["NEW", "ACCEPTED", *OPEN_WORK]
                filters: list[tuple[str, dict[str, Any]]] = [
                    ("P1 open", {"priority": ["P1"], "status": open_}),
                    ("Mine, breached", {"assigned_to": "me", "breached": True}),
                    ("Team open", {"team_id": str(team), "status": open_}),
                    ("New by mail", {"channel": "email", "status": ["NEW"]}),
                    ("Org open", {"org_id": str(org), "status": open_}),
                    ("VPN", {"q": "vpn", "status": open_}),
                ]
                actors = []
                for a in chosen:
                    actor = CurrentUser(
                        id=a.id,
                        email="",
                        name="",
                        role=Role(a.role),
                        org_id=None,
                        org_name=None,
                        session_id=uuid.uuid4(),
                    )
                    actors.append(actor)
                    for name, f in filters:
                        await views.create_view(
                            session, actor, ViewCreate.model_validate({"name": name, "filters": f})
                        )
                await session.commit()
            now = datetime.now(UTC)
            for round_ in range(rounds + 1):
                for actor in actors:
                    async with AsyncSession(engine, expire_on_commit=False) as session:
                        listed = await views.list_views(session, actor, now)  # warms the plans
                        for item in listed:
                            flt = views.ticket_filter(item["filters"], actor)
                            started = time.perf_counter()
                            await views.tickets.count_rows(session, actor, flt, now=now)
                            took = (time.perf_counter() - started) * 1000
                            if round_:
                                times.append(took)
                                per_view.setdefault(item["name"], []).append(took)
        finally:
            await engine.dispose()
        if not times:
            return

        def p95(values: list[float]) -> float:
            ordered = sorted(values)
            return round(ordered[min(len(ordered) - 1, math.ceil(0.95 * len(ordered)) - 1)], 2)

        self.counts = {
            "agents": len(chosen),
            "views": len(per_view),
            "counts": len(times),
            "p50_ms": round(statistics.median(times), 2),
            "p95_ms": p95(times),
            "max_ms": round(max(times), 2),
            "worst_view": max(per_view, key=lambda n: p95(per_view[n])),
            "per_view_p95_ms": {n: p95(v) for n, v in per_view.items()},
        }

    async def _search_terms(self, conn: asyncpg.Connection) -> list[str]:
        """What agents type: a host name or an error code from a ticket, a ticket number, a
        person, a site, a product and a symptom (selective and broad terms alike)."""
        r = self.rng
        text = Text(r)
        numbers = await conn.fetch("SELECT number FROM tickets ORDER BY created_at DESC LIMIT 500")
        terms: list[str] = []
        for _ in range(10):
            terms += [
                text.host(),
                text.error(),
                f"#{r.choice(numbers)['number']}",
                text.person(),
                r.choice(["Lisbon", "Vienna", "Oslo lab", "Dublin", "Zurich office"]),
                r.choice(["vpn", "printer", "outlook", "certificate", "mailbox"]),
                r.choice(
                    ["printer offline", "vpn times out", "password locked", "license expired"]
                ),
            ]
        r.shuffle(terms)
        return terms

    def creates(self, count: int = 2000) -> None:
        r = self.rng
        text = Text(r)
        api, ceiling = [], []
        for _ in range(count):
            c = r.choice(self.customers)
            body = {
                "title": text.title(),
                "description": text.description(),
                "priority": r.choices(["P1", "P2", "P3", "P4"], [1, 4, 11, 4])[0],
                "category": r.choice(["hardware", "software", "network", "access"]),
            }
            api.append(Line("POST", "/api/tickets", body, headers=c.auth("create")))
            ceiling.append(Line("POST", f"/ceiling/create?user={c.id}&org={c.org_id}", body))
        self._files("create", api, ceiling)

    async def lifecycle(self, phase: str, threads: int, per_thread: int) -> Path:
        """Stage threads x per_thread NEW tickets (rows and their creation audit, as a customer's
        POST would leave them) and write each thread's chain of commands on its own tickets."""
        r = self.rng
        text = Text(r)
        target = "ceiling" if phase.startswith("ceiling") else "api"
        conn = await asyncpg.connect(self.uri)
        try:
            numbers = [
                r[0]
                for r in await conn.fetch(
                    "SELECT nextval('ticket_number_seq') FROM generate_series(1, $1)",
                    threads * per_thread,
                )
            ]
            now = datetime.now(UTC)
            tickets, audits, lines = [], [], []
            for t in range(1, threads + 1):
                manager = self.managers[t % len(self.managers)]
                agent = self.agents[t % len(self.agents)]
                for k in range(per_thread):
                    c = r.choice(self.customers)
                    tid = uuid.uuid4()
                    number = numbers[(t - 1) * per_thread + k]
                    title = text.title()
                    tickets.append(
                        (
                            tid,
                            number,
                            c.org_id,
                            c.id,
                            "NEW",
                            r.choice(["P2", "P3"]),
                            title,
                            text.description(),
                            now,
                            now,
                        )
                    )
                    audits.append(
                        {
                            "id": uuid.uuid4(),
                            "actor_id": c.id,
                            "org_id": c.org_id,
                            "ticket_id": tid,
                            "action": "ticket.created",
                            "entity_type": "ticket",
                            "entity_id": tid,
                            "old_value": None,
                            "new_value": {"number": number, "priority": "P3", "title": title},
                            "ip": None,
                            "request_id": None,
                            "created_at": now,
                        }
                    )
                    lines += self._chain(target, t, tid, manager, agent, text)
            await conn.copy_records_to_table(
                "tickets",
                records=tickets,
                columns=[
                    "id",
                    "number",
                    "org_id",
                    "created_by",
                    "status",
                    "priority",
                    "title",
                    "description",
                    "created_at",
                    "updated_at",
                ],
            )
            # Linked into an audit chain like the app's rows (bench/generate.py).
            await copy_chained_audit(conn, derive_key(self.secret), audits)
        finally:
            await conn.close()
        return write(self.directory / f"lifecycle.{phase}.tsv", lines)

    def _chain(
        self, target: str, thread: int, tid: uuid.UUID, manager: Actor, agent: Actor, text: Text
    ) -> list[Line]:
        lines = []
        for step in CHAIN:
            op, body = {
                "accept": ("accept", {}),
                "assign": ("assign", {"assignee_id": str(agent.id)}),
                "in_progress": ("status", {"status": "IN_PROGRESS"}),
                "waiting": ("status", {"status": "WAITING_CUSTOMER"}),
                "resolve": (
                    "status",
                    {
                        "status": "RESOLVED",
                        "resolution": self.rng.choice(RESOLUTIONS),
                        "root_cause": self.rng.choice(ROOT_CAUSES),
                    },
                ),
                "reply": (
                    "comments",
                    {"body": text.reply(staff=True, internal=False), "is_internal": False},
                ),
                "note": (
                    "comments",
                    {"body": text.reply(staff=True, internal=True), "is_internal": True},
                ),
            }[step]
            actor = manager if step in ("accept", "assign") else agent
            name = "comment" if op == "comments" else op
            if target == "api":
                lines.append(
                    Line(
                        "POST",
                        f"/api/internal/tickets/{tid}/{op}",
                        body,
                        thread,
                        actor.auth(f"lifecycle.{name}"),
                    )
                )
            else:
                lines.append(
                    Line(
                        "POST",
                        f"/ceiling/lifecycle?op={name}&actor={actor.id}&ticket={tid}",
                        body,
                        thread,
                    )
                )
        return lines


def model_budget(texts: int = 1000) -> dict[str, Any]:
    """The local model's cold load (seconds), per-ticket time over part A of the evaluation set
    (p50/p95 ms, median tokens) and peak memory (MB, VmHWM) in a fresh process."""
    import subprocess
    import sys

    script = (
        "import json, statistics, sys, time\n"
        "started = time.perf_counter()\n"
        "from app.ai import local_model\n"
        "model = local_model.load()\n"
        "load_s = time.perf_counter() - started\n"
        "rows = [json.loads(line) for line in open(sys.argv[1])][: int(sys.argv[2])]\n"
        "texts = [r['title'] + '\\n\\n' + r['description'] for r in rows]\n"
        "model.embed_one(texts[0])\n"
        "times, tokens = [], []\n"
        "for t in texts:\n"
        "    s = time.perf_counter()\n"
        "    model.embed_one(t)\n"
        "    times.append((time.perf_counter() - s) * 1000)\n"
        "    tokens.append(len(model.tokens(t)))\n"
        "times.sort()\n"
        "peak = [l for l in open('/proc/self/status') if l.startswith('VmHWM:')][0]\n"
        "print(json.dumps({'load_s': round(load_s, 2),\n"
        "    'p50_ms': round(statistics.median(times), 1),\n"
        "    'p95_ms': round(times[max(0, int(0.95 * len(times)) - 1)], 1),\n"
        "    'median_tokens': statistics.median(tokens), 'texts': len(texts),\n"
        "    'peak_mb': int(peak.split()[1]) // 1024}))\n"
    )
    api = Path(__file__).resolve().parents[1] / "api"
    done = subprocess.run(  # noqa: S603  (this interpreter, a fixed script)
        [sys.executable, "-c", script, str(api.parent / "eval" / "tickets.jsonl"), str(texts)],
        cwd=api,
        capture_output=True,
        text=True,
        timeout=600,
        check=True,
    )
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


async def backfill_rate(engine: Any, sample: int) -> dict[str, Any]:
    """Tickets/s of the backfill (app.ai.backfill.reindex: read, embed, store, commit per batch)
    over *sample* tickets, and of a bare loop of the model over the same texts."""
    from sqlalchemy import text as sql

    from sqlalchemy.ext.asyncio import AsyncSession

    from app.ai import backfill, jobs, local_model, vectors

    embedder = vectors.LocalEmbedder()
    await embedder.embed(["warm-up"])
    started = time.perf_counter()
    done = await backfill.reindex(engine, embedder, limit=sample)
    backfill_s = time.perf_counter() - started
    # The same texts as the backfill embedded (title, description, public comments), read
    # before the clock starts: the bare loop is the model alone.
    async with AsyncSession(engine) as session:
        ids = (
            await session.execute(
                sql("SELECT ticket_id FROM ticket_embeddings ORDER BY updated_at DESC LIMIT :n"),
                {"n": done},
            )
        ).scalars().all()
        texts = [found.document for i in ids if (found := await jobs.ticket_text(session, i))]
    model = local_model.load()
    started = time.perf_counter()
    for document in texts:
        model.embed_one(document)
    bare_s = time.perf_counter() - started
    backfill_rate_ = done / backfill_s if backfill_s else 0.0
    bare_rate = len(texts) / bare_s if bare_s else 0.0
    return {
        "tickets": done,
        "per_s": round(backfill_rate_, 1),
        "bare_per_s": round(bare_rate, 1),
        "ratio": round(backfill_rate_ / bare_rate, 3) if bare_rate else None,
    }
