"""The benchmark data set: a helpdesk with years of history, loaded with COPY.

    cd api && BENCH_SCALE=0.01 uv run python ../bench/generate.py

Default (BENCH_SCALE=1): 100 organizations, 50 staff (2 admins, 6 managers, 42 agents in 5
teams), 2,000 customer users, 1,000,000 tickets across every status and priority, 5,000,000
comments (a tenth internal), 200,000 attachment rows and an audit row for every creation and
every transition. BENCH_SCALE scales the ticket-related rows; organizations and people stay.

Tickets arrive at the same daily rate at every scale (a million is three years), so a smaller
set is a shorter history with the same open backlog: the newest tickets are spread over the open
states, older ones are resolved, closed or cancelled, with SLA clocks and breaches that follow
from the timestamps, and the business-hours figures reports read (consumed seconds, created ->
accepted seconds, reopens, a third of the resolved tickets rated). The schema is the migrated
production schema: the rows stream into five COPYs at once (tickets, comments, attachments,
audit, ratings) while they are generated, with the keys, indexes and foreign keys of those five
tables built afterwards in one pass each, as pg_restore does, and the result checked against
the migrated schema; check constraints, the generated search column and the audit_log triggers
stay in place throughout (COPY into audit_log is an INSERT to the append-only trigger). Every
audit row is linked into the audit hash chains the way the app links them
(app/services/audit_chain.py: same key derivation, same canonical encoding, HMAC in this
process), round robin over the chains in COPY order, and the chain heads are set afterwards.
"""

from __future__ import annotations

import asyncio
import bisect
import io
import json
import random
import re
import sys
import time
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import asyncpg
from common import (
    DATABASE,
    TICKETS_PER_DAY,
    Sizes,
    env_float,
    recreate_database,
)
from textgen import CATEGORIES, RESOLUTIONS, ROOT_CAUSES, Text

from app.services.audit_chain import (
    FIELDS,
    GENESIS,
    canonical,
    chain_key,
    derive_key,
    dumps,
    link,
    parse_json,
    row_hash,
)

SEED = 20261126
PASSWORD = "bench-password-not-secret"  # noqa: S105  (bench users only, in a throwaway database)
SLA_MINUTES = {"P1": (30, 240), "P2": (120, 1440), "P3": (480, 4320), "P4": (1440, 7200)}
PRIORITIES = ["P1", "P2", "P3", "P4"]
PRIORITY_WEIGHTS = [0.05, 0.2, 0.55, 0.2]
DAY = 86_400.0
ORG_WORDS = (
    [
        "Acme",
        "Globex",
        "Initech",
        "Umbrella",
        "Hooli",
        "Vandelay",
        "Stark",
        "Wayne",
        "Wonka",
        "Tyrell",
    ],
    [
        "Logistics",
        "Foods",
        "Energy",
        "Health",
        "Retail",
        "Media",
        "Bank",
        "Motors",
        "Labs",
        "Travel",
    ],
)
TEAMS = ["Service Desk", "Network", "Workplace", "Identity", "Business Apps"]
SERVICES = ["Email", "VPN", "Printing", "ERP", "CRM", "Telephony", "Identity", "Web shop"]

# Status of a ticket by its age in days: (upper age bound, [(status, weight)]).
AGE_BANDS: list[tuple[float, list[tuple[str, float]]]] = [
    (
        1,
        [
            ("NEW", 30),
            ("ACCEPTED", 10),
            ("ASSIGNED", 20),
            ("IN_PROGRESS", 25),
            ("WAITING_CUSTOMER", 10),
            ("RESOLVED", 5),
        ],
    ),
    (
        7,
        [
            ("NEW", 3),
            ("ACCEPTED", 2),
            ("ASSIGNED", 10),
            ("IN_PROGRESS", 30),
            ("WAITING_CUSTOMER", 20),
            ("RESOLVED", 20),
            ("CLOSED", 12),
            ("CANCELLED", 3),
        ],
    ),
    (
        30,
        [
            ("IN_PROGRESS", 4),
            ("WAITING_CUSTOMER", 4),
            ("RESOLVED", 7),
            ("CLOSED", 80),
            ("CANCELLED", 5),
        ],
    ),
    (float("inf"), [("CLOSED", 93), ("CANCELLED", 7)]),
]
WORK_PATH = ["ACCEPTED", "ASSIGNED", "IN_PROGRESS", "WAITING_CUSTOMER", "RESOLVED", "CLOSED"]

TICKET_COLUMNS = [
    "id",
    "number",
    "org_id",
    "service_id",
    "created_by",
    "accepted_by",
    "assigned_to",
    "assigned_team_id",
    "status",
    "priority",
    "category",
    "title",
    "description",
    "resolution",
    "root_cause",
    "accepted_at",
    "resolved_at",
    "closed_at",
    "sla_first_response_due_at",
    "sla_resolution_due_at",
    "first_responded_at",
    "sla_paused_at",
    "sla_paused_seconds",
    "sla_first_response_breached_at",
    "sla_resolution_breached_at",
    "created_at",
    "updated_at",
    "accept_business_s",
    "sla_first_response_consumed_s",
    "sla_resolution_consumed_s",
    "reopen_count",
    "channel",
]
CSAT_COLUMNS = [
    "ticket_id",
    "org_id",
    "rating",
    "rated_by",
    "resolved_at",
    "submitted_at",
    "updated_at",
]
COMMENT_COLUMNS = ["id", "ticket_id", "org_id", "author_id", "body", "is_internal", "created_at"]
ATTACHMENT_COLUMNS = [
    "id",
    "ticket_id",
    "org_id",
    "comment_id",
    "uploaded_by",
    "file_path",
    "file_name",
    "mime_type",
    "size_bytes",
    "sha256",
    "is_internal",
    "created_at",
]
AUDIT_COLUMNS = [
    "id",
    "actor_id",
    "org_id",
    "ticket_id",
    "action",
    "entity_type",
    "entity_id",
    "old_value",
    "new_value",
    "ip",
    "request_id",
    "created_at",
    "chain",
    "prev_hash",
    "hash",
]
FILES = [
    ("screenshot.png", "image/png"),
    ("error.log", "text/plain"),
    ("invoice.pdf", "application/pdf"),
    ("photo.jpg", "image/jpeg"),
    ("export.csv", "text/csv"),
    ("config.txt", "text/plain"),
]
N = r"\N"


_DAYS: dict[int, str] = {}


def ts(epoch: float) -> str:
    """COPY text for a timestamptz (UTC, microseconds), without datetime objects: this runs
    tens of millions of times."""
    day, rest = divmod(epoch, DAY)
    prefix = _DAYS.get(int(day))
    if prefix is None:
        prefix = _DAYS[int(day)] = datetime.fromtimestamp(day * DAY, UTC).strftime("%Y-%m-%d ")
    seconds = int(rest)
    h, m = divmod(seconds // 60, 60)
    return f"{prefix}{h:02d}:{m:02d}:{seconds % 60:02d}.{int((rest - seconds) * 1e6):06d}+00"


def opt(epoch: float | None) -> str:
    return N if epoch is None else ts(epoch)


def esc(value: str) -> str:
    """COPY text format: backslash, tab and newline escaped."""
    if "\\" in value or "\t" in value or "\n" in value:
        return value.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n")
    return value


def js(value: dict[str, Any]) -> str:
    return esc(json.dumps(value, separators=(",", ":")))


STATUS_JS = {s: js({"status": s}) for s in ["NEW", "CANCELLED", *WORK_PATH]}


class People:
    """Organizations, staff and customers (few rows; inserted with COPY records)."""

    def __init__(self, rng: random.Random, sizes: Sizes, now: float) -> None:
        self.rng = rng
        text = Text(rng)
        start = now - sizes.tickets / TICKETS_PER_DAY * DAY - 30 * DAY
        self.since = datetime.fromtimestamp(start, UTC)
        self.orgs = [uuid.UUID(int=rng.getrandbits(128), version=4) for _ in range(sizes.orgs)]
        self.org_names = [
            f"{ORG_WORDS[0][i % 10]} {ORG_WORDS[1][(i // 10) % 10]}"
            + ("" if i < 100 else f" {i // 100}")
            for i in range(sizes.orgs)
        ]
        # A few large customers and a long tail, as on any desk.
        weights = [1 / (k + 1) ** 0.8 for k in range(sizes.orgs)]
        total = sum(weights)
        self.org_cum: list[float] = []
        acc = 0.0
        for w in weights:
            acc += w / total
            self.org_cum.append(acc)
        self.teams = [uuid.uuid4() for _ in TEAMS]
        self.services = [uuid.uuid4() for _ in SERVICES]
        self.users: list[tuple[Any, ...]] = []
        self.admins: list[uuid.UUID] = []
        self.managers: list[uuid.UUID] = []
        self.agents: list[uuid.UUID] = []
        self.members: list[tuple[uuid.UUID, uuid.UUID]] = []
        from app.auth.passwords import hash_password

        password_hash = hash_password(PASSWORD)
        n_admins, n_managers = 2, 6
        for i in range(sizes.staff):
            role = "admin" if i < n_admins else "manager" if i < n_admins + n_managers else "agent"
            uid = uuid.uuid4()
            {"admin": self.admins, "manager": self.managers, "agent": self.agents}[role].append(uid)
            name = text.person()
            email = f"{name.replace(' ', '.').lower()}.{i}@desk.bench.example"
            self.users.append((uid, None, email, name, role, password_hash))
            if role != "admin":
                self.members.append((self.teams[i % len(self.teams)], uid))
        per_org = max(1, sizes.customers // sizes.orgs)
        self.customers: list[list[uuid.UUID]] = [[] for _ in self.orgs]
        for k, org in enumerate(self.orgs):
            for j in range(per_org):
                uid = uuid.uuid4()
                self.customers[k].append(uid)
                name = text.person()
                email = f"{name.replace(' ', '.').lower()}.{k}.{j}@org{k}.bench.example"
                role = "customer_admin" if j < 2 else "customer_user"
                self.users.append((uid, org, email, name, role, password_hash))

    def org_index(self) -> int:
        return min(bisect.bisect_left(self.org_cum, self.rng.random()), len(self.orgs) - 1)

    async def insert(self, conn: asyncpg.Connection) -> None:
        since = self.since
        await conn.copy_records_to_table(
            "organizations",
            records=[
                (o, n, "active", since, since)
                for o, n in zip(self.orgs, self.org_names, strict=True)
            ],
            columns=["id", "name", "status", "created_at", "updated_at"],
        )
        await conn.copy_records_to_table(
            "teams",
            records=[(t, n, since, since) for t, n in zip(self.teams, TEAMS, strict=True)],
            columns=["id", "name", "created_at", "updated_at"],
        )
        await conn.copy_records_to_table(
            "services",
            records=[
                (s, None, n, True, since, since)
                for s, n in zip(self.services, SERVICES, strict=True)
            ],
            columns=["id", "org_id", "name", "is_active", "created_at", "updated_at"],
        )
        await conn.copy_records_to_table(
            "users",
            records=[(*u, True, True, since, since) for u in self.users],
            columns=[
                "id",
                "org_id",
                "email",
                "name",
                "role",
                "password_hash",
                "is_active",
                "notify_enabled",
                "created_at",
                "updated_at",
            ],
        )
        await conn.copy_records_to_table(
            "team_members",
            records=[(t, u, since) for t, u in self.members],
            columns=["team_id", "user_id", "created_at"],
        )


class Tickets:
    """Generates ticket rows (yielded as COPY text) and writes their children to files."""

    def __init__(
        self,
        rng: random.Random,
        people: People,
        sizes: Sizes,
        now: float,
        out: dict[str, io.StringIO],
        key: bytes = b"",
        chains: int = 1,
    ) -> None:
        self.key = key
        # The last hash of every audit chain (rows go round robin over them, in COPY order).
        self.heads = [GENESIS] * chains
        self.rng = rng
        self.text = Text(rng)
        self.p = people
        self.sizes = sizes
        self.now = now
        self.out = out
        self.counts = {
            "tickets": 0,
            "comments": 0,
            "internal_comments": 0,
            "attachments": 0,
            "audit": 0,
            "csat": 0,
        }
        self.status_counts: dict[str, int] = {}
        # Comments per worked ticket, tuned so the total comes out at five per ticket.
        self.comment_mean = 5.35

    def uid(self) -> str:
        h = f"{self.rng.getrandbits(128):032x}"
        return f"{h[:8]}-{h[8:12]}-4{h[13:16]}-a{h[17:20]}-{h[20:]}"

    def request_id(self) -> str:
        return f"{self.rng.getrandbits(128):032x}"

    def status_for(self, age_days: float) -> str:
        for bound, choices in AGE_BANDS:
            if age_days < bound:
                total = sum(w for _, w in choices)
                pick = self.rng.random() * total
                for status, w in choices:
                    pick -= w
                    if pick <= 0:
                        return status
                return choices[-1][0]
        raise AssertionError

    def audit(
        self, actor: str, org: str, ticket: str, action: str, old: str, new: str, at: float, ip: str
    ) -> None:
        """One audit row; *old* and *new* are JSON already (the text vocabulary has no quotes
        or backslashes, so f-strings build it far faster than json.dumps), linked into its chain
        with the app's canonical encoding and key."""
        chain = self.counts["audit"] % len(self.heads)
        self.counts["audit"] += 1
        uid, request_id, stamp = self.uid(), f"{self.rng.getrandbits(128):032x}", ts(at)
        prev = self.heads[chain]
        digest = self.heads[chain] = row_hash(
            self.key,
            canonical(
                id=uid,
                chain=chain,
                actor_id=actor,
                org_id=org,
                ticket_id=ticket,
                action=action,
                entity_type="ticket",
                entity_id=ticket,
                old_value=None if old == N else parse_json(old),
                new_value=None if new == N else parse_json(new),
                ip=ip,
                request_id=request_id,
                created_at=datetime.fromisoformat(stamp),
                prev_hash=prev,
            ),
        )
        self.out["audit"].write(
            f"{uid}\t{actor}\t{org}\t{ticket}\t{action}\tticket\t{ticket}\t{old}\t{new}\t"
            f"{ip}\t{request_id}\t{stamp}\t{chain}\t\\\\x{prev.hex()}\t\\\\x{digest.hex()}\n"
        )

    def comment(
        self, ticket: str, org: str, author: str, body: str, internal: bool, at: float
    ) -> None:
        self.counts["comments"] += 1
        self.counts["internal_comments"] += internal
        self.out["comments"].write(
            f"{self.uid()}\t{ticket}\t{org}\t{author}\t{esc(body)}\t{'t' if internal else 'f'}\t"
            f"{ts(at)}\n"
        )

    def attachment(self, ticket: str, org: str, uploader: str, internal: bool, at: float) -> None:
        r = self.rng
        self.counts["attachments"] += 1
        name, mime = r.choice(FILES)
        stem, ext = name.rsplit(".", 1)
        key = f"{r.getrandbits(128):032x}"
        self.out["attachments"].write(
            f"{self.uid()}\t{ticket}\t{org}\t{N}\t{uploader}\t{key[:2]}/{key}\t"
            f"{stem}-{r.randrange(10_000)}.{ext}\t{mime}\t{r.randint(2_000, 5_000_000)}\t"
            f"{r.getrandbits(256):064x}\t{'t' if internal else 'f'}\t{ts(at)}\n"
        )

    def ticket(self, i: int) -> str:
        r, p, now = self.rng, self.p, self.now
        n = self.sizes.tickets
        step = DAY / TICKETS_PER_DAY
        created = now - (n - i) * step + r.random() * step * 0.9 - 120
        status = self.status_for((now - created) / DAY)
        self.status_counts[status] = self.status_counts.get(status, 0) + 1
        k = p.org_index()
        org = str(p.orgs[k])
        creator = str(r.choice(p.customers[k]))
        priority = r.choices(PRIORITIES, PRIORITY_WEIGHTS)[0]
        tid = self.uid()
        number = 1000 + i
        title = self.text.title()
        description = self.text.description()
        category = r.choice(CATEGORIES) if r.random() < 0.8 else None
        service = str(r.choice(p.services)) if r.random() < 0.6 else None
        cust_ip = f"10.{k % 250}.{r.randrange(256)}.{r.randrange(1, 255)}"
        staff_ip = f"10.250.{r.randrange(256)}.{r.randrange(1, 255)}"
        self.audit(
            creator,
            org,
            tid,
            "ticket.created",
            N,
            f'{{"number":{number},"priority":"{priority}","title":"{title}"}}',
            created,
            cust_ip,
        )

        f: dict[str, Any] = dict.fromkeys(
            (
                "accepted_by",
                "assigned_to",
                "team",
                "resolution",
                "root_cause",
                "accepted_at",
                "resolved_at",
                "closed_at",
                "fr_due",
                "res_due",
                "responded",
                "paused_at",
                "fr_breach",
                "res_breach",
            )
        )
        paused_seconds = 0
        updated = created
        comments: list[tuple[str, str, bool, float]] = []  # author, body, internal, at

        if status == "CANCELLED":
            at = min(now - 30, created + r.uniform(600, 2 * DAY))
            withdrawn = r.random() < 0.6
            actor = creator if withdrawn else str(r.choice(p.managers))
            extra = '"withdrawn":true' if withdrawn else '"reason":"Duplicate request"'
            self.audit(
                actor,
                org,
                tid,
                "ticket.status_changed",
                STATUS_JS["NEW"],
                f'{{"status":"CANCELLED",{extra}}}',
                at,
                cust_ip if withdrawn else staff_ip,
            )
            updated = at
        elif status != "NEW":
            steps = WORK_PATH[: WORK_PATH.index(status) + 1]
            if status in ("RESOLVED", "CLOSED"):
                if r.random() < 0.6:  # never waited for the customer
                    steps = [s for s in steps if s != "WAITING_CUSTOMER"]
                else:
                    steps.insert(steps.index("RESOLVED"), "IN_PROGRESS")
            fr_min, res_min = SLA_MINUTES[priority]
            done = status in ("RESOLVED", "CLOSED")
            span = res_min * 60 * r.uniform(0.25, 1.35)
            end = created + span * (1.6 if status == "CLOSED" else 1.0)
            if not done or end > now - 60:
                end = now - 60
            marks = sorted(r.uniform(created, end) for _ in steps)
            manager = str(r.choice(p.managers + p.admins))
            assignee = str(r.choice(p.agents if r.random() < 0.9 else p.managers))
            team = str(r.choice(p.teams)) if r.random() < 0.7 else None
            prev = "NEW"
            for s, at in zip(steps, marks, strict=True):
                if s == "ACCEPTED":
                    f["accepted_by"], f["accepted_at"] = manager, at
                    f["fr_due"], f["res_due"] = at + fr_min * 60, at + res_min * 60
                    self.audit(
                        manager,
                        org,
                        tid,
                        "ticket.accepted",
                        STATUS_JS["NEW"],
                        f'{{"status":"ACCEPTED","sla_first_response_due_at":'
                        f'"{ts(f["fr_due"])}","sla_resolution_due_at":"{ts(f["res_due"])}"}}',
                        at,
                        staff_ip,
                    )
                elif s == "ASSIGNED":
                    f["assigned_to"], f["team"] = assignee, team
                    if team:
                        old = '{"assigned_to":null,"assigned_team_id":null}'
                        new = f'{{"assigned_to":"{assignee}","assigned_team_id":"{team}"}}'
                    else:
                        old, new = '{"assigned_to":null}', f'{{"assigned_to":"{assignee}"}}'
                    self.audit(manager, org, tid, "ticket.assigned", old, new, at, staff_ip)
                    self.audit(
                        manager,
                        org,
                        tid,
                        "ticket.status_changed",
                        STATUS_JS["ACCEPTED"],
                        STATUS_JS["ASSIGNED"],
                        at,
                        staff_ip,
                    )
                else:
                    actor = manager if s == "CLOSED" else assignee
                    extra = ""
                    if s == "IN_PROGRESS" and f["responded"] is None:
                        f["responded"] = at
                        comments.append(
                            (assignee, self.text.reply(staff=True, internal=False), False, at)
                        )
                    if s == "WAITING_CUSTOMER":
                        f["paused_at"] = at
                    elif s == "IN_PROGRESS" and f["paused_at"] is not None:
                        paused_seconds += int(at - f["paused_at"])
                        f["res_due"] += at - f["paused_at"]
                        f["paused_at"] = None
                    elif s == "RESOLVED":
                        f["resolved_at"] = at
                        f["resolution"] = r.choice(RESOLUTIONS)
                        f["root_cause"] = r.choice(ROOT_CAUSES)
                        extra = (
                            f',"resolution":"{f["resolution"]}","root_cause":"{f["root_cause"]}"'
                        )
                    elif s == "CLOSED":
                        f["closed_at"] = at
                    self.audit(
                        actor,
                        org,
                        tid,
                        "ticket.status_changed",
                        STATUS_JS[prev],
                        f'{{"status":"{s}"{extra}}}',
                        at,
                        staff_ip,
                    )
                prev = s
                updated = at
            # Breaches as the SLA sweep would have marked them (each once, shortly after due).
            met = f["responded"]
            if (met is not None and met > f["fr_due"]) or (met is None and now > f["fr_due"]):
                f["fr_breach"] = f["fr_due"] + r.uniform(1, 30)
            if f["resolved_at"] is not None:
                if f["resolved_at"] > f["res_due"]:
                    f["res_breach"] = f["res_due"] + r.uniform(1, 30)
            elif f["paused_at"] is None and now > f["res_due"]:
                f["res_breach"] = f["res_due"] + r.uniform(1, 30)
            # The conversation: replies both ways and a tenth internal notes.
            if status != "ACCEPTED":
                count = max(1, round(r.gauss(self.comment_mean, 2.0))) - len(comments)
                lo = f["responded"] or marks[0]
                hi = f["resolved_at"] or end
                for _ in range(max(0, count)):
                    at = r.uniform(lo, hi)
                    roll = r.random()
                    if roll < 0.1:
                        comments.append(
                            (assignee, self.text.reply(staff=True, internal=True), True, at)
                        )
                    elif roll < 0.55:
                        comments.append(
                            (creator, self.text.reply(staff=False, internal=False), False, at)
                        )
                    elif f["responded"] is not None:
                        comments.append(
                            (assignee, self.text.reply(staff=True, internal=False), False, at)
                        )
        if status in ("NEW", "ACCEPTED", "CANCELLED") and r.random() < 0.3:
            comments.append(
                (
                    creator,
                    self.text.reply(staff=False, internal=False),
                    False,
                    min(now - 10, created + r.uniform(60, 3600)),
                )
            )
        for author, body, internal, at in comments:
            self.comment(tid, org, author, body, internal, at)
            updated = max(updated, at)
        if r.random() < self.sizes.attachments / self.sizes.tickets:
            internal = f["assigned_to"] is not None and r.random() < 0.1
            uploader = f["assigned_to"] if internal else creator
            self.attachment(tid, org, uploader, internal, created + 5 if not internal else updated)
        # The business-hours figures the SLA engine stores (reports read them): business time is
        # about a third of the wall-clock time (office hours, weekends); a completed clock's
        # consumed seconds are its duration, a running one's what was consumed until the last
        # event. A few resolved tickets were reopened once; a third of them were rated.
        share = r.uniform(0.22, 0.42)
        accepted = f["accepted_at"]
        accept_s = fr_s = res_s = 0.0
        if accepted is not None:
            accept_s = (accepted - created) * share
            fr_s = ((f["responded"] or updated) - accepted) * share
            res_s = max(0.0, ((f["resolved_at"] or updated) - accepted - paused_seconds) * share)
        reopens = 0
        if f["resolved_at"] is not None:
            roll = r.random()
            reopens = 2 if roll < 0.01 else 1 if roll < 0.06 else 0
            if roll < 0.3:
                rating = "good" if roll < 0.21 else "okay" if roll < 0.27 else "bad"
                submitted = min(now - 5, f["resolved_at"] + r.uniform(600, 2 * DAY))
                self.counts["csat"] += 1
                self.out["csat"].write(
                    f"{tid}\t{org}\t{rating}\t{creator}\t{ts(f['resolved_at'])}\t"
                    f"{ts(submitted)}\t{ts(submitted)}\n"
                )
        channel = "portal" if r.random() < 0.7 else "email" if r.random() < 0.8 else "phone"
        self.counts["tickets"] += 1
        return (
            "\t".join(
                (
                    tid,
                    str(number),
                    org,
                    service or N,
                    creator,
                    f["accepted_by"] or N,
                    f["assigned_to"] or N,
                    f["team"] or N,
                    status,
                    priority,
                    category or N,
                    esc(title),
                    esc(description),
                    f["resolution"] or N,
                    f["root_cause"] or N,
                    opt(f["accepted_at"]),
                    opt(f["resolved_at"]),
                    opt(f["closed_at"]),
                    opt(f["fr_due"]),
                    # A paused clock has no due time (SLA_CALENDARS.md R5).
                    opt(None if f["paused_at"] is not None else f["res_due"]),
                    opt(f["responded"]),
                    opt(f["paused_at"]),
                    str(paused_seconds),
                    opt(f["fr_breach"]),
                    opt(f["res_breach"]),
                    ts(created),
                    ts(updated),
                    f"{accept_s:.1f}" if accepted is not None else N,
                    f"{fr_s:.1f}",
                    f"{res_s:.1f}",
                    str(reopens),
                    channel,
                )
            )
            + "\n"
        )

    def chunk(self, start: int, stop: int) -> dict[str, bytes]:
        """COPY text of tickets start..stop and of all their children, per table."""
        for buffer in self.out.values():
            buffer.seek(0)
            buffer.truncate()
        tickets = "".join([self.ticket(i) for i in range(start, stop)])
        return {
            "tickets": tickets.encode(),
            **{TABLE_OF[name]: buffer.getvalue().encode() for name, buffer in self.out.items()},
        }


TABLE_OF = {
    "comments": "ticket_comments",
    "attachments": "ticket_attachments",
    "audit": "audit_log",
    "csat": "ticket_csat",
}
COLUMNS = {
    "tickets": TICKET_COLUMNS,
    "ticket_comments": COMMENT_COLUMNS,
    "ticket_attachments": ATTACHMENT_COLUMNS,
    "audit_log": AUDIT_COLUMNS,
    "ticket_csat": CSAT_COLUMNS,
}
LOADED = tuple(COLUMNS)


async def build(
    scale: float, database: str = DATABASE, log: Any = print, secret: str | None = None
) -> dict[str, Any]:
    """Rebuild *database* at *scale*; returns the row counts and timings. The audit chains are
    hashed with the key of *secret* (the API's ATUM_SECRET_KEY), else of this process's
    settings."""
    from app.db.embedded import to_async_url
    from app.db.migrations import upgrade

    sizes = Sizes(scale)
    started = time.perf_counter()
    uri = await recreate_database(database)
    await asyncio.to_thread(upgrade, to_async_url(uri))
    log(f"generate: migrated {database} ({time.perf_counter() - started:.1f} s)")
    rng = random.Random(SEED)
    now = time.time()
    people = People(rng, sizes, now)
    key = derive_key(secret) if secret else chain_key()
    conns = [await asyncpg.connect(uri) for _ in LOADED]
    conn = conns[0]
    chains = await conn.fetchval("SELECT count(*) FROM audit_chain_heads")
    gen = Tickets(rng, people, sizes, now, {name: io.StringIO() for name in TABLE_OF}, key, chains)
    timings: dict[str, float] = {}
    try:
        await people.insert(conn)
        schema = await _schema(conn)
        deferred = await _strip(conn)
        t0 = time.perf_counter()
        queues: dict[str, asyncio.Queue[bytes | None]] = {
            t: asyncio.Queue(maxsize=4) for t in LOADED
        }

        async def source(table: str) -> AsyncIterator[bytes]:
            while (data := await queues[table].get()) is not None:
                yield data

        async def produce() -> None:
            step = 500
            for first in range(0, sizes.tickets, step):
                for table, data in gen.chunk(first, min(sizes.tickets, first + step)).items():
                    await queues[table].put(data)
            for q in queues.values():
                await q.put(None)

        await asyncio.gather(
            produce(),
            *(
                c.copy_to_table(t, source=source(t), columns=COLUMNS[t], format="text")
                for c, t in zip(conns, LOADED, strict=True)
            ),
        )
        await conn.execute(f"SELECT setval('ticket_number_seq', {1000 + sizes.tickets})")
        timings["copy"] = time.perf_counter() - t0
        log(
            f"generate: COPY of {gen.counts['tickets']:,} tickets and their rows "
            f"({timings['copy']:.1f} s)"
        )
        t0 = time.perf_counter()
        await _restore(conns, deferred)
        timings["indexes_and_keys"] = time.perf_counter() - t0
        log(
            f"generate: {len(deferred)} keys, indexes and foreign keys built and validated "
            f"({timings['indexes_and_keys']:.1f} s)"
        )
        await _set_heads(conn, gen.heads)
        after = await _schema(conn)
        if after != schema:
            diff = sorted(set(schema) ^ set(after))
            raise RuntimeError(f"the schema after the load differs from the migrated one: {diff}")
        t0 = time.perf_counter()
        await conn.execute("VACUUM (ANALYZE)")
        timings["vacuum_analyze"] = time.perf_counter() - t0
        log(f"generate: vacuum analyze ({timings['vacuum_analyze']:.1f} s)")
        # Write the loaded gigabytes out now, not while the first scenario is being measured.
        t0 = time.perf_counter()
        try:
            await conn.execute("CHECKPOINT")
        except asyncpg.InsufficientPrivilegeError:
            log("generate: no CHECKPOINT (needs superuser or pg_checkpoint)")
        timings["checkpoint"] = time.perf_counter() - t0
        await conn.execute(
            f'COMMENT ON DATABASE "{database}" IS \'atum bench scale={scale} '
            f"tickets={sizes.tickets}'"
        )
    finally:
        for c in conns:
            await c.close()
    total = time.perf_counter() - started
    counts = {
        "organizations": len(people.orgs),
        "staff": len(people.admins) + len(people.managers) + len(people.agents),
        "customers": sum(len(c) for c in people.customers),
        **gen.counts,
    }
    log(f"generate: done in {total:.1f} s: " + ", ".join(f"{k} {v:,}" for k, v in counts.items()))
    return {
        "counts": counts,
        "statuses": gen.status_counts,
        "seconds": total,
        "timings": timings,
        "uri": uri,
    }


async def _set_heads(conn: asyncpg.Connection, heads: list[bytes]) -> None:
    """Each chain's head: its last row (checked against the hashes generated)."""
    await conn.execute(
        """
        UPDATE audit_chain_heads AS h SET seq = l.seq, hash = l.hash
        FROM (SELECT DISTINCT ON (chain) chain, seq, hash FROM audit_log
              ORDER BY chain, seq DESC) AS l
        WHERE h.chain = l.chain
        """
    )
    rows = await conn.fetch("SELECT hash FROM audit_chain_heads ORDER BY chain")
    stored = [bytes(r[0]) for r in rows]
    if stored != heads:
        raise RuntimeError("the audit chain heads differ from the hashes generated")


async def copy_chained_audit(
    conn: asyncpg.Connection, key: bytes, rows: list[dict[str, Any]]
) -> None:
    """COPY audit rows (entry columns, ``created_at`` set, JSON values normalized) in order onto
    one chain, as the app's write does: the head locked, hashes computed here, the head moved."""
    async with conn.transaction():
        chain, _, prev = await conn.fetchrow(
            "SELECT chain, seq, hash FROM audit_chain_heads ORDER BY chain LIMIT 1 FOR UPDATE"
        )
        head = link(key, chain, bytes(prev), rows)
        columns = [*FIELDS, "hash"]
        records = [
            tuple(
                dumps(r[c]) if c in ("old_value", "new_value") and r[c] is not None else r[c]
                for c in columns
            )
            for r in rows
        ]
        await conn.copy_records_to_table("audit_log", records=records, columns=columns)
        await conn.execute(
            "UPDATE audit_chain_heads SET hash = $2, "
            "seq = (SELECT max(seq) FROM audit_log WHERE chain = $1) WHERE chain = $1",
            chain,
            head,
        )


_SCHEMA = """
SELECT 'c ' || conrelid::regclass::text || ' ' || conname || ' ' || pg_get_constraintdef(oid)
FROM pg_constraint WHERE connamespace = 'public'::regnamespace
UNION ALL
SELECT 'i ' || indexrelid::regclass::text || ' ' || pg_get_indexdef(indexrelid)
FROM pg_index WHERE indrelid::regclass::text IN (
    SELECT tablename FROM pg_tables WHERE schemaname = 'public')
UNION ALL
SELECT 't ' || tgrelid::regclass::text || ' ' || pg_get_triggerdef(oid)
FROM pg_trigger WHERE NOT tgisinternal
ORDER BY 1
"""


async def _schema(conn: asyncpg.Connection) -> list[str]:
    """Every constraint, index and trigger of the schema, as text (compared before and after;
    casts and parentheses are left out, PostgreSQL prints a re-parsed predicate differently)."""
    return sorted(re.sub(r"::[a-z ]+(\[\])?|[()]", "", r[0]) for r in await conn.fetch(_SCHEMA))


async def _strip(conn: asyncpg.Connection) -> list[tuple[int, str, str]]:
    """Drop the keys, indexes and foreign keys of the bulk-loaded tables, the way pg_restore loads
    a dump: data first, then each index built in one pass and each foreign key validated in one
    pass, instead of one index insertion and one lookup per copied row. Returns the statements
    that rebuild them exactly (checked against the migrated schema afterwards); check
    constraints, the generated search column and the audit_log triggers stay in place during
    the load."""
    loaded = list(LOADED)
    fks = await conn.fetch(
        "SELECT conrelid::regclass::text AS tbl, conname, pg_get_constraintdef(oid) AS def "
        "FROM pg_constraint WHERE contype = 'f' "
        "AND (conrelid::regclass::text = ANY($1) OR confrelid::regclass::text = ANY($1))",
        loaded,
    )
    keys = await conn.fetch(
        "SELECT conrelid::regclass::text AS tbl, conname, pg_get_constraintdef(oid) AS def "
        "FROM pg_constraint WHERE contype IN ('p', 'u') AND conrelid::regclass::text = ANY($1)",
        loaded,
    )
    indexes = await conn.fetch(
        "SELECT indexrelid::regclass::text AS name, pg_get_indexdef(indexrelid) AS def "
        "FROM pg_index i WHERE indrelid::regclass::text = ANY($1) "
        "AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid)",
        loaded,
    )
    for r in fks:
        await conn.execute(f'ALTER TABLE {r["tbl"]} DROP CONSTRAINT "{r["conname"]}"')
    for r in keys:
        await conn.execute(f'ALTER TABLE {r["tbl"]} DROP CONSTRAINT "{r["conname"]}"')
    for r in indexes:
        await conn.execute(f'DROP INDEX "{r["name"]}"')
    return (
        [
            (0, r["tbl"], f'ALTER TABLE {r["tbl"]} ADD CONSTRAINT "{r["conname"]}" {r["def"]}')
            for r in keys
        ]
        + [(1, "", r["def"]) for r in indexes]
        + [
            (2, r["tbl"], f'ALTER TABLE {r["tbl"]} ADD CONSTRAINT "{r["conname"]}" {r["def"]}')
            for r in fks
        ]
    )


async def _restore(conns: list[asyncpg.Connection], deferred: list[tuple[int, str, str]]) -> None:
    """Primary and unique keys (one table per connection at a time), then the other indexes
    (concurrently, they only share a lock), then the foreign keys (one at a time: adding one
    locks the referenced table too)."""
    for c in conns:
        await c.execute("SET maintenance_work_mem = '256MB'")

    async def worker(c: asyncpg.Connection, statements: list[str]) -> None:
        for statement in statements:
            await c.execute(statement)

    by_table: dict[str, list[str]] = {}
    for phase, table, statement in deferred:
        if phase == 0:
            by_table.setdefault(table, []).append(statement)
    await asyncio.gather(*(worker(c, st) for c, st in zip(conns, by_table.values(), strict=False)))
    indexes = [statement for phase, _, statement in deferred if phase == 1]
    lanes = 2
    await asyncio.gather(*(worker(conns[k], indexes[k::lanes]) for k in range(lanes)))
    await worker(conns[0], [statement for phase, _, statement in deferred if phase == 2])


if __name__ == "__main__":
    result = asyncio.run(build(env_float("BENCH_SCALE", 1.0)))
    json.dump({k: v for k, v in result.items() if k != "uri"}, sys.stdout, indent=2)
    print()
