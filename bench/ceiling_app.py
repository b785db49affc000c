"""Ceiling (b): every benchmark scenario's own SQL through the raw driver, in the same server stack.

A bare ASGI callable (no framework, no ORM, no authentication, no Pydantic) served by the same
gunicorn + uvicorn worker command line as the API. Each endpoint runs the statements the API runs
for its scenario (without the authentication statement, which the ceiling has no use for), with
asyncpg on a pool of the API's size, in a transaction exactly where the API has one, and answers
the rows as JSON (stdlib ``json``). The ratio API / ceiling is then the cost of everything the API
adds: routing, authentication, validation, the ORM or Core layer, the workflow rules, mail
rendering and the access log.

    gunicorn ... 'ceiling_app:app'     (ATUM_DATABASE_URL names the bench database)

Inputs come in the query string (and a JSON body for writes), since nothing is derived from a
token here. The search endpoint is the one exception to hand-written SQL: it runs the statement the
API's own code compiles for the query (``tickets.compiled_list``, called once per query at
start-up, see SEARCHES below), so that the search SQL cannot drift between the two sides.
"""

from __future__ import annotations

import json
import os
import sys
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

import asyncpg

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "api"))
from app.services.audit_chain import derive_key, dumps, link, normalize

DSN = os.environ["ATUM_DATABASE_URL"].replace("postgresql+asyncpg://", "postgresql://", 1)
POOL_SIZE = int(os.environ.get("ATUM_DB_POOL_SIZE", "20"))

# ---------------------------------------------------------------- the scenarios' statements

TICKET_COLUMNS = """
    tickets.id, tickets.number, tickets.org_id, tickets.service_id, tickets.created_by,
    tickets.accepted_by, tickets.assigned_to, tickets.assigned_team_id, tickets.status,
    tickets.priority, tickets.category, tickets.title, tickets.description, tickets.resolution,
    tickets.root_cause, tickets.accepted_at, tickets.resolved_at, tickets.closed_at,
    tickets.sla_first_response_due_at, tickets.sla_resolution_due_at, tickets.first_responded_at,
    tickets.sla_paused_at, tickets.sla_paused_seconds, tickets.sla_first_response_breached_at,
    tickets.sla_resolution_breached_at, tickets.created_at, tickets.updated_at,
    organizations.name AS org_name, creator.name AS creator_name,
    acceptor.name AS acceptor_name, assignee.name AS assignee_name, teams.name AS team_name"""
REFS = """
    FROM tickets
    JOIN organizations ON organizations.id = tickets.org_id
    LEFT OUTER JOIN users AS creator ON creator.id = tickets.created_by
    LEFT OUTER JOIN users AS acceptor ON acceptor.id = tickets.accepted_by
    LEFT OUTER JOIN users AS assignee ON assignee.id = tickets.assigned_to
    LEFT OUTER JOIN teams ON teams.id = tickets.assigned_team_id"""

CUSTOMER_LIST = f"""SELECT {TICKET_COLUMNS} {REFS}
    WHERE tickets.org_id = $1 ORDER BY tickets.created_at DESC, tickets.id DESC LIMIT $2"""
NEW_QUEUE = f"""SELECT {TICKET_COLUMNS} {REFS}
    WHERE tickets.status = 'NEW' ORDER BY tickets.created_at, tickets.id LIMIT $1"""
DESK_LIST = f"""SELECT {TICKET_COLUMNS} {REFS}
    WHERE tickets.status = ANY($1::varchar[]) AND tickets.assigned_to = $2
      AND (tickets.sla_first_response_breached_at IS NOT NULL
           OR tickets.sla_resolution_breached_at IS NOT NULL)
    ORDER BY tickets.created_at DESC, tickets.id DESC LIMIT $3"""
# The customer's detail: the ticket, its public comments and public attachments, one statement.
CUSTOMER_DETAIL = f"""SELECT {TICKET_COLUMNS},
    ARRAY(SELECT ROW(c.id, c.author_id, u.name, u.role, c.body, c.is_internal, c.created_at)
          FROM ticket_comments AS c JOIN users AS u ON u.id = c.author_id
          WHERE c.ticket_id = tickets.id AND c.org_id = $1 AND c.is_internal IS false
          ORDER BY c.created_at, c.id) AS comments,
    ARRAY(SELECT ROW(a.id, a.file_name, a.mime_type, a.size_bytes, a.sha256, a.created_at,
                     a.is_internal, a.uploaded_by, u.name, a.comment_id)
          FROM ticket_attachments AS a LEFT OUTER JOIN users AS u ON u.id = a.uploaded_by
          WHERE a.ticket_id = tickets.id AND a.org_id = $1 AND a.is_internal IS false
          ORDER BY a.created_at, a.id) AS attachments
    {REFS}
    WHERE tickets.org_id = $1 AND tickets.id = $2"""
VIEW = f"SELECT {TICKET_COLUMNS} {REFS} WHERE tickets.id = $1"
LOCK = """SELECT id, org_id, created_by, assigned_to, assigned_team_id, status, priority, category,
    number, title, description, accepted_at, sla_first_response_due_at, sla_resolution_due_at,
    first_responded_at, sla_paused_at, sla_paused_seconds, sla_first_response_breached_at,
    sla_resolution_breached_at, resolved_at
    FROM tickets WHERE id = $1 FOR UPDATE OF tickets"""
RATE_LIMIT = """INSERT INTO rate_limit_counters AS c (key, window_started_at, hits)
    VALUES ($1, now(), 1)
    ON CONFLICT (key) DO UPDATE SET
        hits = CASE WHEN c.window_started_at <= now() - make_interval(secs => $2)
                    THEN 1 ELSE c.hits + 1 END,
        window_started_at = CASE WHEN c.window_started_at <= now() - make_interval(secs => $2)
                    THEN now() ELSE c.window_started_at END
    RETURNING hits, window_started_at"""
INSERT_TICKET = """INSERT INTO tickets (id, org_id, service_id, created_by, status, priority,
    category, title, description, created_at, updated_at)
    VALUES ($1, $2, NULL, $3, 'NEW', $4, $5, $6, $7, $8, $8) RETURNING number"""
# The audit rows as the API writes them (app/services/audit.py): a chain head locked (a free one,
# else wait for any), the hashes computed in Python, the rows inserted and the head moved in one
# statement.
AUDIT_KEY = derive_key(os.environ["ATUM_SECRET_KEY"])
FREE_HEAD = """SELECT chain, seq, hash FROM audit_chain_heads ORDER BY random() LIMIT 1
    FOR UPDATE SKIP LOCKED"""
ANY_HEAD = "SELECT chain, seq, hash FROM audit_chain_heads ORDER BY random() LIMIT 1 FOR UPDATE"
AUDIT = """WITH ins AS (
        INSERT INTO audit_log (id, chain, actor_id, org_id, ticket_id, action, entity_type,
            entity_id, old_value, new_value, ip, request_id, created_at, prev_hash, hash)
        SELECT r.id, $1::smallint, r.actor_id, r.org_id, r.ticket_id, r.action, r.entity_type,
            r.entity_id, r.old_value, r.new_value, r.ip, r.request_id, r.created_at,
            r.prev_hash, r.hash
        FROM unnest($2::uuid[], $3::uuid[], $4::uuid[], $5::uuid[], $6::varchar[],
            $7::varchar[], $8::uuid[], $9::jsonb[], $10::jsonb[], $11::varchar[],
            $12::varchar[], $13::timestamptz[], $14::bytea[], $15::bytea[])
            AS r(id, actor_id, org_id, ticket_id, action, entity_type, entity_id, old_value,
                 new_value, ip, request_id, created_at, prev_hash, hash)
        RETURNING seq
    ), head AS (
        UPDATE audit_chain_heads SET seq = (SELECT max(seq) FROM ins), hash = $16
        WHERE chain = $1::smallint AND hash = $17
        RETURNING chain
    )
    SELECT audit_chain_advanced(count(*)) FROM head"""
PEOPLE = """SELECT id, email, name, role, notify_enabled FROM users
    WHERE id = ANY($1::uuid[]) AND is_active IS true"""
MANAGERS = """SELECT id, email, name, role, notify_enabled FROM users
    WHERE role = 'manager' AND is_active IS true"""
OUTBOX = """INSERT INTO notification_outbox (id, idempotency_key, recipient_id, recipient_email,
    template, ticket_id, org_id, subject, body_text, body_html)
    SELECT * FROM unnest($1::uuid[], $2::varchar[], $3::uuid[], $4::varchar[], $5::varchar[],
                         $6::uuid[], $7::uuid[], $8::varchar[], $9::varchar[], $10::varchar[])"""
NOTIFY = "SELECT pg_notify('atum_outbox', '')"
SLA = """SELECT first_response_minutes, resolution_minutes FROM sla_policies
    WHERE priority = $1 AND (org_id = $2 OR org_id IS NULL)
    ORDER BY org_id IS NULL LIMIT 1"""
ASSIGNEE = """SELECT id, role FROM users
    WHERE id = $1 AND is_active IS true AND role IN ('agent', 'manager')"""
AI_JOB = """INSERT INTO ai_jobs (id, ticket_id, reason) VALUES ($1, $2, $3)
    ON CONFLICT (ticket_id) WHERE status = 'pending' DO NOTHING"""
INSERT_COMMENT = """INSERT INTO ticket_comments (id, ticket_id, org_id, author_id, body,
    is_internal, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7)"""
# A ticket's AI suggestions (staff see every ticket): the ticket with its stored suggestion and
# whether a job is still waiting, then the similar tickets the suggestion ranks.
SUGGESTION = """SELECT tickets.id, EXISTS (SELECT 1 FROM ai_jobs
        WHERE ai_jobs.ticket_id = tickets.id AND ai_jobs.status IN ('pending', 'running'))
        AS waiting,
    ai_suggestions.ticket_id AS suggested, ai_suggestions.engine, ai_suggestions.summary,
    ai_suggestions.category, ai_suggestions.category_confidence, ai_suggestions.category_method,
    ai_suggestions.category_model, ai_suggestions.priority, ai_suggestions.priority_confidence,
    ai_suggestions.priority_method, ai_suggestions.priority_model, ai_suggestions.similar,
    ai_suggestions.kb, ai_suggestions.reply
    FROM tickets LEFT OUTER JOIN ai_suggestions ON ai_suggestions.ticket_id = tickets.id
    WHERE tickets.id = $1"""
SIMILAR = """SELECT tickets.id, tickets.number, tickets.title, tickets.resolution,
    tickets.status, tickets.category, tickets.priority, organizations.name
    FROM tickets JOIN organizations ON organizations.id = tickets.org_id
    WHERE tickets.id = ANY($1::uuid[])"""
ENGINE = "ollama" if os.environ.get("ATUM_OLLAMA_URL") else "local"

# A rendered mail of the size the API renders (the API renders its templates; the ceiling does
# not, it stores text of the same length).
MAIL_TEXT = "x" * 700
MAIL_HTML = "<p>" + "x" * 2400 + "</p>"

# ---------------------------------------------------------------- plumbing

pool: asyncpg.Pool | None = None


def _default(value: Any) -> Any:
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, asyncpg.Record):
        return list(value)
    raise TypeError(type(value))


def _dump(value: Any) -> bytes:
    return json.dumps(value, default=_default, separators=(",", ":")).encode()


def _rows(records: list[asyncpg.Record]) -> list[dict[str, Any]]:
    return [dict(r) for r in records]


Handler = Callable[[dict[str, str], dict[str, Any]], Awaitable[Any]]


async def customer_list(q: dict[str, str], _: dict[str, Any]) -> Any:
    async with pool.acquire() as c:  # type: ignore[union-attr]
        rows = await c.fetch(CUSTOMER_LIST, uuid.UUID(q["org"]), 51)
    return {"items": _rows(rows[:50])}


async def customer_detail(q: dict[str, str], _: dict[str, Any]) -> Any:
    async with pool.acquire() as c:  # type: ignore[union-attr]
        row = await c.fetchrow(CUSTOMER_DETAIL, uuid.UUID(q["org"]), uuid.UUID(q["id"]))
    return dict(row) if row is not None else {}


async def new_queue(_: dict[str, str], __: dict[str, Any]) -> Any:
    async with pool.acquire() as c:  # type: ignore[union-attr]
        return {"items": _rows((await c.fetch(NEW_QUEUE, 51))[:50])}


async def desk_list(q: dict[str, str], _: dict[str, Any]) -> Any:
    async with pool.acquire() as c:  # type: ignore[union-attr]
        rows = await c.fetch(DESK_LIST, q["status"].split(","), uuid.UUID(q["assignee"]), 51)
    return {"items": _rows(rows[:50])}


# The search scenarios' statements: entry k of the stage's table (BENCH_CEILING_SEARCHES, a JSON
# list of {"role", "user", "q"}) as (SQL, arguments), exactly what the API's list runs for that
# query, page and caller: app.services.tickets.compiled_list, called once per entry at startup.
# The requests then run them through asyncpg like every other endpoint here.
SEARCHES: list[tuple[str, list[Any]]] = []
PAGE = 50


def _compile_searches() -> None:
    path = os.environ.get("BENCH_CEILING_SEARCHES")
    if not path:
        return
    from app.models.enums import Role
    from app.services.tickets import TicketFilter, compiled_list

    for entry in json.loads(Path(path).read_text()):
        sql, args = compiled_list(
            Role(entry["role"]), TicketFilter(q=entry["q"]), PAGE, uuid.UUID(entry["user"]), None
        )
        SEARCHES.append((sql, list(args)))


async def search(q: dict[str, str], _: dict[str, Any]) -> Any:
    sql, args = SEARCHES[int(q["k"])]
    async with pool.acquire() as c:  # type: ignore[union-attr]
        return {"items": _rows((await c.fetch(sql, *args))[:PAGE])}


def _vote(row: Any, field: str) -> dict[str, Any] | None:
    value, confidence = row[field], row[f"{field}_confidence"]
    if value is None or confidence is None:
        return None
    return {
        "value": value,
        "confidence": confidence,
        "method": row[f"{field}_method"] or "neighbours",
        "model_version": row[f"{field}_model"],
    }


def _passage(item: dict[str, Any]) -> dict[str, Any]:
    source = str(item.get("source", ""))
    return {
        "title": item.get("title", ""),
        "source": source,
        "article_id": item.get("article_id"),
        "excerpt": item.get("excerpt", ""),
        "body": item.get("body") or item.get("excerpt", ""),
        "score": item.get("score", 0.0),
    }


async def suggestions(q: dict[str, str], _: dict[str, Any]) -> Any:
    async with pool.acquire() as c:  # type: ignore[union-attr]
        row = await c.fetchrow(SUGGESTION, uuid.UUID(q["id"]))
        if row is None:
            return {}
        if row["suggested"] is None:
            return {
                "status": "pending" if row["waiting"] else "unavailable",
                "engine": ENGINE,
                "summary": None,
                "category": None,
                "priority": None,
                "similar": [],
                "kb": [],
                "reply": None,
            }
        # jsonb arrives as text (asyncpg has no codec for it unless one is set).
        scores: dict[uuid.UUID, float | None] = {}
        for item in json.loads(row["similar"]) if row["similar"] else []:
            score = item.get("score")
            scores[uuid.UUID(item["ticket_id"])] = None if score is None else float(score)
        similar: list[dict[str, Any]] = []
        if scores:
            found = {r["id"]: r for r in await c.fetch(SIMILAR, list(scores))}
            similar = [
                {
                    "id": key,
                    "number": found[key]["number"],
                    "title": found[key]["title"],
                    "org_name": found[key]["name"],
                    "score": score,
                    "resolution": found[key]["resolution"],
                    "resolved": found[key]["status"] in ("RESOLVED", "CLOSED"),
                    "category": found[key]["category"],
                    "priority": found[key]["priority"],
                }
                for key, score in scores.items()
                if key in found
            ]
    return {
        "status": "pending" if row["waiting"] else "ready",
        "engine": row["engine"],
        "summary": row["summary"],
        "category": _vote(row, "category"),
        "priority": _vote(row, "priority"),
        "similar": similar,
        "kb": [_passage(item) for item in json.loads(row["kb"])] if row["kb"] else [],
        "reply": row["reply"],
    }


def _mail(
    template: str,
    ticket: asyncpg.Record | dict[str, Any],
    people: list[Any],
    actor: uuid.UUID | None,
) -> tuple[list[Any], ...]:
    event = uuid.uuid4()
    rows = [p for p in people if p["id"] != actor]
    return (
        [uuid.uuid4() for _ in rows],
        [f"{template}:{event}:{p['id']}" for p in rows],
        [p["id"] for p in rows],
        [p["email"] for p in rows],
        [template] * len(rows),
        [ticket["id"]] * len(rows),
        [ticket["org_id"]] * len(rows),
        [f"[ATUM DESK #{ticket['number']}] {ticket['title']}"[:300]] * len(rows),
        [MAIL_TEXT] * len(rows),
        [MAIL_HTML] * len(rows),
    )


async def _enqueue(
    c: asyncpg.Connection, template: str, ticket: Any, people: list[Any], actor: uuid.UUID | None
) -> None:
    columns = _mail(template, ticket, people, actor)
    if columns[0]:
        await c.execute(OUTBOX, *columns)
        await c.execute(NOTIFY)


def _entry(
    actor: uuid.UUID,
    ticket: Any,
    action: str,
    old: Any,
    new: Any,
    entity_type: str = "ticket",
    entity: uuid.UUID | None = None,
) -> dict[str, Any]:
    return {
        "id": uuid.uuid4(),
        "actor_id": actor,
        "org_id": ticket["org_id"],
        "ticket_id": ticket["id"],
        "action": action,
        "entity_type": entity_type,
        "entity_id": entity or ticket["id"],
        "old_value": normalize(old),
        "new_value": normalize(new),
        "ip": "127.0.0.1",
        "request_id": uuid.uuid4().hex,
    }


async def _audit(c: asyncpg.Connection, *entries: dict[str, Any]) -> None:
    """The entries of one command, in one write (each transaction here writes once)."""
    now = datetime.now(UTC)
    rows = [{**e, "created_at": now} for e in entries]
    head = await c.fetchrow(FREE_HEAD) or await c.fetchrow(ANY_HEAD)
    chain, prev = head["chain"], bytes(head["hash"])
    last = link(AUDIT_KEY, chain, prev, rows)
    column = {k: [r[k] for r in rows] for k in rows[0]}
    await c.fetchval(
        AUDIT,
        chain,
        column["id"],
        column["actor_id"],
        column["org_id"],
        column["ticket_id"],
        column["action"],
        column["entity_type"],
        column["entity_id"],
        [None if v is None else dumps(v) for v in column["old_value"]],
        [None if v is None else dumps(v) for v in column["new_value"]],
        column["ip"],
        column["request_id"],
        column["created_at"],
        column["prev_hash"],
        column["hash"],
        last,
        prev,
    )


async def create(q: dict[str, str], body: dict[str, Any]) -> Any:
    user, org = uuid.UUID(q["user"]), uuid.UUID(q["org"])
    now = datetime.now(UTC)
    async with pool.acquire() as c, c.transaction():  # type: ignore[union-attr]
        await c.fetchrow(RATE_LIMIT, f"ticket:create:{user}", 3600)
        tid = uuid.uuid4()
        priority = body.get("priority", "P3")
        number = await c.fetchval(
            INSERT_TICKET,
            tid,
            org,
            user,
            priority,
            body.get("category"),
            body["title"],
            body["description"],
            now,
        )
        ticket = {"id": tid, "org_id": org, "number": number, "title": body["title"]}
        await _audit(
            c,
            _entry(
                user,
                ticket,
                "ticket.created",
                None,
                {"number": number, "priority": priority, "title": body["title"]},
            ),
        )
        creator = await c.fetch(PEOPLE, [user])
        await _enqueue(c, "new_in_queue", ticket, await c.fetch(MANAGERS), user)
        await _enqueue(c, "created", ticket, creator, None)
        await c.execute(AI_JOB, uuid.uuid4(), tid, "created")
        row = await c.fetchrow(VIEW, tid)
    return dict(row)


async def _people(c: asyncpg.Connection, *ids: uuid.UUID | None) -> list[asyncpg.Record]:
    return await c.fetch(PEOPLE, [i for i in ids if i is not None])


async def lifecycle(q: dict[str, str], body: dict[str, Any]) -> Any:
    """accept, assign, status and comment: the statements of the API's commands, with the
    workflow's outcome taken from the request (the ceiling does not decide, it writes)."""
    op, actor, tid = q["op"], uuid.UUID(q["actor"]), uuid.UUID(q["ticket"])
    now = datetime.now(UTC)
    async with pool.acquire() as c:  # type: ignore[union-attr]
        async with c.transaction():
            t = await c.fetchrow(LOCK, tid)
            if op == "accept":
                fr, res = await c.fetchrow(SLA, t["priority"], t["org_id"])
                due_fr, due_res = now + timedelta(minutes=fr), now + timedelta(minutes=res)
                await c.execute(
                    "UPDATE tickets SET accepted_by=$1, accepted_at=$2, status='ACCEPTED', "
                    "sla_first_response_due_at=$3, sla_resolution_due_at=$4, updated_at=$2 "
                    "WHERE id = $5",
                    actor,
                    now,
                    due_fr,
                    due_res,
                    tid,
                )
                await _audit(
                    c,
                    _entry(
                        actor,
                        t,
                        "ticket.accepted",
                        {"status": "NEW"},
                        {
                            "status": "ACCEPTED",
                            "sla_first_response_due_at": due_fr,
                            "sla_resolution_due_at": due_res,
                        },
                    ),
                )
                await _enqueue(c, "accepted", t, await _people(c, t["created_by"]), actor)
            elif op == "assign":
                assignee = uuid.UUID(body["assignee_id"])
                await c.fetchrow(ASSIGNEE, assignee)
                await c.execute(
                    "UPDATE tickets SET assigned_to=$1, status='ASSIGNED', updated_at=$2 "
                    "WHERE id = $3",
                    assignee,
                    now,
                    tid,
                )
                await _audit(
                    c,
                    _entry(
                        actor,
                        t,
                        "ticket.assigned",
                        {"assigned_to": None},
                        {"assigned_to": assignee},
                    ),
                    _entry(
                        actor,
                        t,
                        "ticket.status_changed",
                        {"status": "ACCEPTED"},
                        {"status": "ASSIGNED"},
                    ),
                )
                await _enqueue(c, "assigned", t, await _people(c, assignee), actor)
                await _enqueue(c, "status", t, await _people(c, t["created_by"]), actor)
                await _enqueue(c, "staff_status", t, await _people(c, assignee), actor)
            elif op == "status":
                new = body["status"]
                await c.execute(
                    "UPDATE tickets SET status=$1, resolution=$2, root_cause=$3, updated_at=$4 "
                    "WHERE id = $5",
                    new,
                    body.get("resolution"),
                    body.get("root_cause"),
                    now,
                    tid,
                )
                await _audit(
                    c,
                    _entry(
                        actor, t, "ticket.status_changed", {"status": t["status"]}, {"status": new}
                    ),
                )
                await _enqueue(c, "status", t, await _people(c, t["created_by"]), actor)
                await _enqueue(c, "staff_status", t, await _people(c, t["assigned_to"]), actor)
            else:
                internal = bool(body["is_internal"])
                cid = uuid.uuid4()
                await c.execute(
                    INSERT_COMMENT, cid, tid, t["org_id"], actor, body["body"], internal, now
                )
                await c.execute("UPDATE tickets SET updated_at=$1 WHERE id = $2", now, tid)
                await _audit(
                    c,
                    _entry(
                        actor, t, "comment.created", None, {"is_internal": internal}, "comment", cid
                    ),
                )
                who = t["assigned_to"] if internal else t["created_by"]
                await _enqueue(
                    c, "internal_note" if internal else "reply", t, await _people(c, who), actor
                )
                if not internal:
                    await c.execute(AI_JOB, uuid.uuid4(), tid, "comment")
                return {
                    "id": cid,
                    "ticket_id": tid,
                    "body": body["body"],
                    "is_internal": internal,
                    "created_at": now,
                }
        row = await c.fetchrow(VIEW, tid)
    return dict(row)


ROUTES: dict[str, Handler] = {
    "/ceiling/customer_list": customer_list,
    "/ceiling/customer_detail": customer_detail,
    "/ceiling/new_queue": new_queue,
    "/ceiling/desk_list": desk_list,
    "/ceiling/search": search,
    "/ceiling/suggestions": suggestions,
    "/ceiling/create": create,
    "/ceiling/lifecycle": lifecycle,
}


async def _body(receive: Callable[[], Awaitable[dict[str, Any]]]) -> dict[str, Any]:
    chunks = []
    while True:
        message = await receive()
        chunks.append(message.get("body", b""))
        if not message.get("more_body"):
            break
    raw = b"".join(chunks)
    return json.loads(raw) if raw else {}


async def _respond(
    send: Callable[[dict[str, Any]], Awaitable[None]], status: int, body: bytes
) -> None:
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    global pool
    if scope["type"] == "lifespan":
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                _compile_searches()
                # The API's pool: ATUM_DB_POOL_SIZE connections, kept open.
                pool = await asyncpg.create_pool(
                    DSN,
                    min_size=1,
                    max_size=POOL_SIZE,
                    max_inactive_connection_lifetime=5,
                    # The API's session settings (app/db/session.py), JIT off included.
                    server_settings={
                        "application_name": "atum-bench-ceiling",
                        "timezone": "UTC",
                        "jit": "off",
                    },
                )
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                if pool is not None:
                    await pool.close()
                await send({"type": "lifespan.shutdown.complete"})
                return
    handler = ROUTES.get(scope["path"])
    if handler is None:
        await _respond(send, 404, b'{"detail":"Not Found"}')
        return
    query = {k: v[0] for k, v in parse_qs(scope.get("query_string", b"").decode()).items()}
    body = await _body(receive) if scope["method"] == "POST" else {}
    result = await handler(query, body)
    await _respond(send, 201 if scope["path"] == "/ceiling/create" else 200, _dump(result))
