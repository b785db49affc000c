"""`make bench`: build the data set, load the API the production way, measure the ceilings in the
same run, and write bench/results/latest.md (+ .json, and the scale curve as PNG and SVG).

    cd api && uv run python ../bench/run.py

Settings (environment):
  BENCH_SCALES            comma-separated scales, default "0.01,0.1,1" (10,000 / 100,000 /
                          1,000,000 tickets); BENCH_SCALE=x alone runs just that scale
  BENCH_DURATION          seconds under load per scenario and side (default 10), split into
  BENCH_ROUNDS            alternating API / ceiling runs (default 3)
  BENCH_WARMUP            seconds of warm-up before each (default 3; 0: none)
  BENCH_LATENCY_DURATION  seconds with one connection per scenario and side (default 6), split
                          into the same alternating rounds
  BENCH_CONNECTIONS       connections under load (default 64)
  ATUM_API_WORKERS        worker processes (default: the production unit's, 2)
  ATUM_DATABASE_URL       server for the bench database (default: the embedded PostgreSQL)
  BENCH_DRAIN             seconds the worker may take for the mail backlog at the end (default 60)
  BENCH_KEEP=1            keep the bench database of the last scale afterwards
  BENCH_STRICT=1          exit 1 when a target FAILs, naming them (NOT RUN does not fail;
                          default: report PASS/FAIL, exit 0); also for `run.py --report`
  BENCH_DATABASE          the bench database's name (default atum_bench)
  BENCH_RESULTS           where the report goes (default bench/results)
  BENCH_SMOKE=1           a smoke run (the harness test in `make test`): every measurement on a
                          few samples (5 suggestions, 2 agents' view counts, 20-ticket bulk
                          actions, 2 report requests); its figures check the harness only

For every scale: generate.py rebuilds the bench database; the API is started with the
unit's gunicorn command line (uvicorn workers, the unit's worker count) on loopback TCP, next to
the ceiling app (ceiling_app.py, same command line), the mail sink, the worker and the LMTP
listener; wrk replays each scenario after a warm-up, against the API and against the ceiling,
under load and with one connection. Before the servers start, the lexical engine computes (in this
process, as the worker does, timed per ticket) the stored suggestion of every ticket the
suggestions scenario reads. Everything started here is stopped before the run ends, whatever
happens.
"""

from __future__ import annotations

import asyncio
import json
import math
import os
import platform
import secrets
import shutil
import statistics
import sys
import tempfile
import time
from collections import Counter, defaultdict
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import asyncpg
import generate
import reports_bench
from common import (
    API,
    BENCH,
    DATABASE,
    RESULTS,
    Sizes,
    drop_database,
    env_float,
    env_int,
    server_uri,
)
from scenarios import READ, SEARCHES, Stage
from servers import (
    Memory,
    Proc,
    ensure_wrk,
    free_port,
    gunicorn_argv,
    production_workers,
    stack_memory,
    start,
    tree_pids,
    wait_http,
    wait_port,
    wrk,
)

READ_TARGET, WRITE_TARGET = 0.40, 0.35
P95_TARGET_MS, GROWTH_TARGET = 20.0, 1.5
# The search scenarios (scenarios.SEARCHES): p95 with one connection at 1,000,000 tickets, and its
# growth from 10,000.
SEARCH_P95_TARGET_MS, SEARCH_GROWTH_TARGET = 30.0, 2.0
SUGGESTION_TARGET_MS = 90.0
# The local model's budgets (docs/AI.md): median per ticket, peak memory, cold load, and the
# backfill's rate against a bare loop of the model.
MODEL_TICKET_MS = 60.0
MODEL_PEAK_MB = 350
MODEL_LOAD_S = 5.0
BACKFILL_RATIO = 0.70
VIEW_COUNT_TARGET_MS = 50.0
MAX_READ_STATEMENTS, RSS_TARGET_MB = 3, 200
MB = 1024 * 1024


def log(message: str) -> None:
    print(f"[{datetime.now(UTC):%H:%M:%S}] {message}", flush=True)


class Config:
    def __init__(self) -> None:
        raw = os.environ.get("BENCH_SCALES", "").strip()
        if raw:
            self.scales = [float(x) for x in raw.split(",") if x.strip()]
        elif os.environ.get("BENCH_SCALE", "").strip():
            self.scales = [env_float("BENCH_SCALE", 1.0)]
        else:
            self.scales = [0.01, 0.1, 1.0]
        self.scales.sort()
        self.duration = env_float("BENCH_DURATION", 10)
        self.warmup = env_float("BENCH_WARMUP", 3)
        self.latency = env_float("BENCH_LATENCY_DURATION", 6)
        self.connections = env_int("BENCH_CONNECTIONS", 64)
        self.drain = env_float("BENCH_DRAIN", 60)
        self.rounds = max(1, env_int("BENCH_ROUNDS", 3))
        self.workers = production_workers()
        self.keep = os.environ.get("BENCH_KEEP") == "1"
        self.strict = os.environ.get("BENCH_STRICT") == "1"
        # A smoke run (the harness test of `make test`): every measurement, on a few samples.
        self.smoke = os.environ.get("BENCH_SMOKE") == "1"
        # Development aid: BENCH_ONLY=create,lifecycle runs just those scenarios.
        only = os.environ.get("BENCH_ONLY", "").strip()
        self.only = {x.strip() for x in only.split(",")} if only else None

    def wants(self, scenario: str) -> bool:
        return self.only is None or scenario in self.only


class ScaleRun:
    """One scale: data set, servers, scenarios, resources."""

    def __init__(self, cfg: Config, scale: float, logs: Path, data: Path) -> None:
        self.bulk: list[dict[str, Any]] = []
        """*logs*: request files and every process's output (kept after the run, see
        bench/results/logs); *data*: the API's data dir (mail sink output), thrown away."""
        self.cfg = cfg
        self.scale = scale
        self.tmp = logs
        self.data = data
        self.procs: list[Proc] = []
        self.memory = Memory()
        self.results: dict[str, dict[str, Any]] = {}
        self.reports: dict[str, Any] = {}
        self.stack: dict[str, dict[str, int]] = {}

    def env(self, uri: str, secret: str, sink_port: int) -> dict[str, str]:
        keep = {k: v for k, v in os.environ.items() if not k.startswith(("ATUM_", "BENCH_"))}
        return {
            **keep,
            "ATUM_ENV": "production",
            "ATUM_SECRET_KEY": secret,
            "ATUM_DATABASE_URL": uri,
            "ATUM_DATA_DIR": str(self.data),
            "ATUM_PUBLIC_URL": "https://desk.bench.example",
            "ATUM_LOG_LEVEL": "INFO",
            "ATUM_LOG_FORMAT": "json",
            "ATUM_DOCS_ENABLED": "false",
            # The per-customer hourly limit would refuse a load test's creates after 60 each;
            # its counter statement still runs on every create.
            "ATUM_TICKET_CREATE_PER_HOUR": "1000000000",
            "ATUM_SMTP_HOST": "127.0.0.1",
            "ATUM_SMTP_PORT": str(sink_port),
            "PYTHONDONTWRITEBYTECODE": "1",
            "PYTHONUNBUFFERED": "1",
        }

    def run(self) -> dict[str, Any]:
        cfg = self.cfg
        log(f"scale {self.scale}: generating {Sizes(self.scale).tickets:,} tickets")
        # One secret for the API and the data set: the audit chains are hashed with its key.
        secret = secrets.token_urlsafe(48)
        data = asyncio.run(generate.build(self.scale, log=lambda m: log(m), secret=secret))
        uri = self.uri = data["uri"]
        stage = Stage(uri, self.tmp, secret=secret)
        if cfg.smoke:
            stage.suggested, stage.suggestion_warmup = 5, 1
            stage.backfill_sample, stage.model_texts = 5, 10
        asyncio.run(
            stage.prepare(
                suggestions=cfg.wants("suggestions"),
                searches=any(cfg.wants(n) for n in SEARCHES),
            )
        )
        for name, found in stage.searches.items():
            matches = [q["matches"] for q in found["queries"]]
            log(
                f"  {name}: {len(matches)} queries, matching {min(matches):,} to "
                f"{max(matches):,} of {found['tickets']:,} tickets"
            )
        if stage.computation:
            c = stage.computation
            log(
                f"  {c['engine']} suggestion computation: {c['tickets']} tickets, p50 "
                f"{c['p50_ms']:.1f} ms, p95 {c['p95_ms']:.1f} ms, max {c['max_ms']:.1f} ms"
            )
        if cfg.wants("views"):
            asyncio.run(stage.view_counts(*((2, 1) if cfg.smoke else ())))
            if stage.counts:
                c = stage.counts
                log(
                    f"  saved view counts: {c['counts']} counts over {c['views']} views, p50 "
                    f"{c['p50_ms']:.1f} ms, p95 {c['p95_ms']:.1f} ms, max {c['max_ms']:.1f} ms "
                    f"(worst view {c['worst_view']})"
                )
        stage.creates()
        api_port, ceiling_port, sink_port = free_port(), free_port(), free_port()
        env = self.env(uri, stage.secret, sink_port)
        api_log, ceiling_log = self.tmp / "api.log", self.tmp / "ceiling.log"
        api_url = f"http://127.0.0.1:{api_port}"
        ceiling_url = f"http://127.0.0.1:{ceiling_port}"
        py = sys.executable
        try:
            sink = start(
                "mail sink",
                [py, "-m", "app.cli", "mailsink", "--port", str(sink_port)],
                env,
                self.tmp / "mailsink.log",
            )
            self.procs.append(sink)
            # The servers boot while the sink does (the worker, which sends to it, once it is up).
            api = start(
                "API", gunicorn_argv(api_port, cfg.workers, self.tmp / "api.ctl"), env, api_log
            )
            self.procs.append(api)
            ceiling = start(
                "ceiling",
                gunicorn_argv(
                    ceiling_port,
                    cfg.workers,
                    self.tmp / "ceiling.ctl",
                    app="ceiling_app:app",
                    chdir=BENCH,
                ),
                {**env, "BENCH_CEILING_SEARCHES": str(stage.search_file)},
                ceiling_log,
                cwd=BENCH,
            )
            self.procs.append(ceiling)
            wait_port(sink_port, sink)
            worker = self.worker = start(
                "worker", [py, "-m", "app.cli", "worker"], env, self.tmp / "worker.log"
            )
            self.procs.append(worker)
            lmtp_port = free_port()
            lmtp = start(
                "LMTP",
                [py, "-m", "app.cli", "lmtp"],
                {**env, "ATUM_LMTP_PORT": str(lmtp_port)},
                self.tmp / "lmtp.log",
            )
            self.procs.append(lmtp)
            wait_http(f"{api_url}/api/health", api)
            wait_http(f"{ceiling_url}/ceiling/new_queue", ceiling)
            self.memory.watch("api", api)
            self.memory.watch("worker", worker)
            self.memory.watch("ceiling", ceiling)
            self.memory.start()

            if cfg.wants("health"):
                self.results["health"] = self.measure(
                    "health", api_url, stage.files[("health", "api")], None, None, latency=True
                )
            for name in (*READ, *SEARCHES, "create"):
                if cfg.wants(name):
                    self.results[name] = self.measure(
                        name,
                        api_url,
                        stage.files[(name, "api")],
                        ceiling_url,
                        stage.files[(name, "ceiling")],
                        latency=name != "create",
                    )
            if cfg.wants("lifecycle"):
                self.results["lifecycle"] = self.lifecycle(stage, api_url, ceiling_url)
            if cfg.wants("bulk"):
                self.bulk = asyncio.run(
                    bulk_actions(uri, api_url, stage, 20 if cfg.smoke else BULK_TICKETS)
                )
            if any(cfg.wants(n) for n in reports_bench.SCENARIOS):
                self.reports = self.report_scenarios(stage, api_url)
            self.memory.sample()
            rss_end = {label: dict(v) for label, v in self.memory.last.items()}
            self.backlog = asyncio.run(drain(uri, cfg.drain))
            log(f"  worker: {self.backlog}")
            wait_port(lmtp_port, lmtp)
            self.stack = whole_stack(
                uri, ceiling, {"API": api, "worker": worker, "LMTP": lmtp, "mail sink": sink}
            )
        finally:
            self.memory.stop()
            for proc in reversed(self.procs):
                proc.stop()
        statements = parse_access_log(api_log)
        database = asyncio.run(database_facts(uri))
        if not (cfg.keep and self.scale == cfg.scales[-1]):
            asyncio.run(drop_database(DATABASE))
        return {
            "scale": self.scale,
            "tickets": Sizes(self.scale).tickets,
            "worker": self.backlog,
            "generate": {k: v for k, v in data.items() if k != "uri"},
            "scenarios": self.results,
            "suggestion_computation": stage.computation,
            "view_counts": stage.counts,
            "searches": stage.searches,
            "bulk": self.bulk,
            "reports": self.reports,
            "statements": statements,
            "rss": {
                "peak": {k: dict(v) for k, v in self.memory.peak.items()},
                "end": rss_end,
                "masters": {p.name: p.popen.pid for p in self.procs},
            },
            "database": database,
            "stack": self.stack,
        }

    def report_scenarios(self, stage: Stage, api_url: str) -> dict[str, Any]:
        """Reports, the CSV export and the idle SLA sweep (bench/reports_bench.py), with the
        worker paused so that nothing else runs."""
        cfg, token = self.cfg, stage.managers[0].token
        out: dict[str, Any] = {}
        self.worker.pause()
        try:
            samples = 2 if cfg.smoke else 20
            out.update(
                asyncio.run(reports_bench.report_latencies(api_url, token, cfg.wants, samples))
            )
            if cfg.wants("csv_export"):
                out["csv_export"] = asyncio.run(reports_bench.csv_export(api_url, token, self.uri))
            if cfg.wants("sla_sweep_idle"):
                out["sla_sweep_idle"] = asyncio.run(reports_bench.sla_sweep_idle(self.uri, samples))
        finally:
            self.worker.resume()
        log(f"  reports: {reports_bench.summary(out)}")
        return out

    def wrk(self, url: str, file: Path, **kwargs: Any) -> dict[str, Any]:
        """wrk, then wait until the servers have finished what wrk left in flight (a
        disconnected client's request still runs to the end), so that no run measures the
        tail of the previous one. The worker is paused while wrk runs: the mail and triage
        backlog a write run leaves would otherwise take its CPU from whichever run comes next
        (it catches up in between and at the end, see drain())."""
        self.worker.pause()
        try:
            result = wrk(url, file, **kwargs)
        finally:
            self.worker.resume()
        # A smoke run's figures are not read: one quiet look is enough there.
        asyncio.run(settle(self.uri, polls=1 if self.cfg.smoke else 3))
        return result

    def measure(
        self,
        name: str,
        api_url: str,
        api_file: Path,
        ceiling_url: str | None,
        ceiling_file: Path | None,
        *,
        latency: bool,
    ) -> dict[str, Any]:
        """Warm-up, then BENCH_ROUNDS alternating runs under load, API then ceiling (a change in
        the machine's load hits both sides alike; the ratio is the median of the rounds'), then
        the one-connection runs."""
        cfg = self.cfg
        sides = [
            (side, url, file)
            for side, url, file in (
                ("api", api_url, api_file),
                ("ceiling", ceiling_url, ceiling_file),
            )
            if url is not None and file is not None
        ]
        for _, url, file in sides if cfg.warmup > 0 else ():
            self.wrk(url, file, connections=cfg.connections, seconds=cfg.warmup)
        rounds: dict[str, list[dict[str, Any]]] = {side: [] for side, _, _ in sides}
        for _ in range(cfg.rounds):
            for side, url, file in sides:
                rounds[side].append(
                    self.wrk(
                        url, file, connections=cfg.connections, seconds=cfg.duration / cfg.rounds
                    )
                )
        out = self._combine(rounds)
        if latency:
            # One connection: the same alternation, so that a page cache warmed (or a machine
            # loaded) by one side's run is met by the other side's run too.
            single: dict[str, list[dict[str, Any]]] = {f"{side}_1": [] for side, _, _ in sides}
            for _ in range(cfg.rounds):
                for side, url, file in sides:
                    single[f"{side}_1"].append(
                        self.wrk(
                            url, file, connections=1, seconds=cfg.latency / cfg.rounds, threads=1
                        )
                    )
            out.update(self._combine(single))
        self._log(name, out)
        return out

    def lifecycle(self, stage: Stage, api_url: str, ceiling_url: str) -> dict[str, Any]:
        """Each of the C threads of wrk owns one connection and its own NEW tickets, and walks
        each through the chain in order; fresh tickets are staged before every run."""
        cfg = self.cfg
        c = cfg.connections
        urls = {"api": api_url, "ceiling": ceiling_url}

        def run(side: str, phase: str, seconds: float) -> dict[str, Any]:
            # Generous: a thread that runs out starts over and its repeated commands fail. A few
            # connections each run faster than many (the smoke run's 4 against the ceiling).
            per_thread = max(8, math.ceil(seconds * 10), math.ceil(seconds * 600 / c))
            file = asyncio.run(stage.lifecycle(f"{side}-{phase}", c, per_thread))
            return self.wrk(urls[side], file, connections=c, seconds=seconds, chain=True)

        for side in urls if cfg.warmup > 0 else ():
            run(side, "warmup", cfg.warmup)
        rounds: dict[str, list[dict[str, Any]]] = {side: [] for side in urls}
        for k in range(cfg.rounds):
            for side in urls:
                rounds[side].append(run(side, f"run{k + 1}", cfg.duration / cfg.rounds))
        out = self._combine(rounds)
        self._log("lifecycle", out)
        return out

    @staticmethod
    def _combine(rounds: dict[str, list[dict[str, Any]]]) -> dict[str, Any]:
        """Per side: requests and errors added up, requests/s over the total time, latency
        percentiles the median of the rounds'; the ratio is the median of the rounds' ratios."""
        out: dict[str, Any] = {}
        for side, results in rounds.items():
            total = dict(results[0])
            for key in (
                "requests",
                "duration_us",
                "bytes",
                "errors",
                "wrapped",
                "connect_errors",
                "read_errors",
                "write_errors",
                "status_errors",
                "timeouts",
            ):
                total[key] = sum(r[key] for r in results)
            for key in ("p50_us", "p95_us", "p99_us", "mean_us"):
                total[key] = statistics.median(r[key] for r in results)
            total["max_us"] = max(r["max_us"] for r in results)
            total["rps"] = total["requests"] / (total["duration_us"] / 1e6)
            total["rounds"] = [round(r["rps"], 1) for r in results]
            total["p95_rounds"] = [r["p95_us"] for r in results]
            out[side] = total
        if "api" in rounds and "ceiling" in rounds:
            ratios = [
                a["rps"] / c["rps"]
                for a, c in zip(rounds["api"], rounds["ceiling"], strict=True)
                if c["rps"]
            ]
            out["ratios"] = [round(q, 3) for q in ratios]
            out["ratio"] = statistics.median(ratios) if ratios else None
        return out

    def _log(self, name: str, out: dict[str, Any]) -> None:
        parts = []
        for side in ("api", "ceiling", "api_1"):
            if side in out:
                r = out[side]
                parts.append(
                    f"{side} {r['rps']:.0f}/s p95 {r['p95_us'] / 1000:.1f} ms"
                    + (f" ERRORS {r['errors']}" if r["errors"] else "")
                )
        if out.get("ratio") is not None:
            parts.append(
                f"ratio {out['ratio']:.0%} (rounds "
                + ", ".join(f"{q:.0%}" for q in out["ratios"])
                + ")"
            )
        log(f"  {name:16} " + " | ".join(parts))


# The bulk bar's actions on 1,000 tickets each (POST /internal/tickets/bulk, one request, a
# result per ticket), every one on tickets of its own: add a tag, resolve, and a two-action macro
# (an internal note with a placeholder + a tag). Target: each under 10 s.
BULK_TICKETS = 1000
BULK_ACTIONS: list[tuple[str, dict[str, Any] | None]] = [
    ("add a tag", {"type": "tags", "add": ["bench-bulk"]}),
    (
        "resolve",
        {
            "type": "status",
            "status": "RESOLVED",
            "resolution": "Fixed in bulk.",
            "root_cause": "Bench.",
        },
    ),
    ("macro: note + tag", None),
]


async def bulk_actions(
    uri: str, api_url: str, stage: Stage, tickets: int = BULK_TICKETS
) -> list[dict[str, Any]]:
    import httpx

    manager = stage.managers[0]
    headers = {"Authorization": f"Bearer {manager.token}"}
    conn = await asyncpg.connect(uri)
    try:
        # Open work that may be resolved (ASSIGNED must be started first), newest first.
        rows = await conn.fetch(
            "SELECT id FROM tickets WHERE status IN ('IN_PROGRESS', 'WAITING_CUSTOMER') "
            "ORDER BY created_at DESC LIMIT $1",
            tickets * len(BULK_ACTIONS),
        )
    finally:
        await conn.close()
    ids = [str(r["id"]) for r in rows]
    out: list[dict[str, Any]] = []
    async with httpx.AsyncClient(base_url=api_url, headers=headers, timeout=300) as client:
        macro = await client.post(
            "/api/internal/macros",
            json={
                "name": "Bench: note and tag",
                "scope": "personal",
                "actions": [
                    {
                        "type": "comment",
                        "body": "Checked in bulk for {{ customer.name }} (#{{ ticket.number }}).",
                        "is_internal": True,
                    },
                    {"type": "tags", "add": ["bench-macro"]},
                ],
            },
        )
        macro.raise_for_status()
        for k, (name, action) in enumerate(BULK_ACTIONS):
            chunk = ids[k * tickets : (k + 1) * tickets]
            if len(chunk) < tickets:
                log(f"  bulk {name}: only {len(chunk)} open tickets left")
            if not chunk:
                continue
            body = {
                "ticket_ids": chunk,
                "action": action or {"type": "macro", "macro_id": macro.json()["id"]},
            }
            started = time.perf_counter()
            answer = await client.post("/api/internal/tickets/bulk", json=body)
            seconds = time.perf_counter() - started
            answer.raise_for_status()
            results = answer.json()["results"]
            done = sum(1 for r in results if r["ok"])
            refused = Counter(r.get("detail") for r in results if not r["ok"])
            if refused:
                log(f"  bulk {name}: refused {dict(refused.most_common(3))}")
            out.append({"action": name, "tickets": len(chunk), "done": done, "seconds": seconds})
            log(f"  bulk {name:18} {len(chunk)} tickets in {seconds:.2f} s ({done} done)")
    return out


async def drain(uri: str, seconds: float) -> dict[str, Any]:
    """Let the worker deliver the mail the write scenarios queued (at most *seconds*;
    it runs triage jobs meanwhile, and what it has not reached is reported): its memory peak is
    taken while it works through them."""
    conn = await asyncpg.connect(uri)
    try:
        count = (
            "SELECT (SELECT count(*) FROM notification_outbox WHERE status IN ('pending', "
            "'sending')), (SELECT count(*) FROM ai_jobs WHERE status IN ('pending', 'running'))"
        )
        start = time.monotonic()
        mails, jobs = await conn.fetchrow(count)
        left = (mails, jobs)
        while time.monotonic() - start < seconds and left[0]:
            await asyncio.sleep(1)
            left = tuple(await conn.fetchrow(count))
        return {
            "mails_queued": mails,
            "ai_jobs_queued": jobs,
            "mails_left": left[0],
            "ai_jobs_left": left[1],
            "seconds": round(time.monotonic() - start, 1),
        }
    finally:
        await conn.close()


async def settle(uri: str, seconds: float = 60, polls: int = 3) -> None:
    conn = await asyncpg.connect(uri)
    try:
        deadline = time.monotonic() + seconds
        quiet = 0
        while time.monotonic() < deadline and quiet < polls:
            # The worker shares the API's application name; its own statements (outbox claims
            # and updates, LISTEN) do not count.
            busy = await conn.fetchval(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                "AND application_name IN ('atum-desk', 'atum-bench-ceiling') "
                "AND state <> 'idle' AND query NOT LIKE '%UPDATE notification_outbox%' "
                "AND query NOT LIKE 'LISTEN%'"
            )
            quiet = 0 if busy else quiet + 1
            await asyncio.sleep(0.1)
    finally:
        await conn.close()


def parse_access_log(path: Path) -> dict[str, dict[str, Any]]:
    """Statements per request and statuses per scenario, from the API's own access log."""
    counts: dict[str, list[int]] = defaultdict(list)
    statuses: dict[str, Counter[int]] = defaultdict(Counter)
    if not path.exists():
        return {}
    with path.open() as f:
        for line in f:
            if not line.startswith("{"):
                continue
            try:
                entry = json.loads(line)
            except json.JSONDecodeError:
                continue
            rid = str(entry.get("request_id", ""))
            if entry.get("event") != "request" or not rid.startswith("bench."):
                continue
            key = rid.removeprefix("bench.")
            counts[key].append(int(entry.get("db_statements", 0)))
            statuses[key][int(entry.get("status", 0))] += 1
    return {
        key: {
            "requests": len(values),
            "median": statistics.median(values),
            "min": min(values),
            "max": max(values),
            "statuses": {str(k): v for k, v in sorted(statuses[key].items())},
        }
        for key, values in counts.items()
    }


async def database_facts(uri: str) -> dict[str, Any]:
    conn = await asyncpg.connect(uri)
    try:
        sizes = {
            r["t"]: r["b"]
            for r in await conn.fetch(
                "SELECT relname AS t, pg_total_relation_size(oid) AS b FROM pg_class "
                "WHERE relname = ANY($1) AND relkind = 'r'",
                [
                    "tickets",
                    "ticket_comments",
                    "ticket_attachments",
                    "audit_log",
                    "notification_outbox",
                ],
            )
        }
        return {
            "bytes": await conn.fetchval("SELECT pg_database_size(current_database())"),
            "tables": sizes,
            "version": await conn.fetchval("SHOW server_version"),
            "shared_buffers": await conn.fetchval("SHOW shared_buffers"),
            "settings": await pg_settings(conn),
        }
    finally:
        await conn.close()


async def pg_settings(conn: asyncpg.Connection) -> dict[str, str]:
    """The server's values of the settings app/pgconf.py sizes (what this run ran with)."""
    from app.pgconf import GiB, Host, settings

    return {name: await conn.fetchval(f"SHOW {name}") for name in settings(Host(GiB, 1))}


def whole_stack(uri: str, ceiling: Proc, procs: dict[str, Proc]) -> dict[str, dict[str, int]]:
    """The memory of what `make run` runs, after the run (PSS, see servers.pss): PostgreSQL (the
    postmaster, its background processes and the bench database's connections; not other
    databases' on a shared server), the API (gunicorn master and workers), the worker, the LMTP
    listener and the mail sink. The ceiling is stopped first: its connections' server processes
    are not part of the product."""
    ceiling.stop()

    async def postgres_pids() -> list[int]:
        conn = await asyncpg.connect(uri)
        try:
            pids = [
                r[0]
                for r in await conn.fetch(
                    "SELECT pid FROM pg_stat_activity WHERE pid <> pg_backend_pid() "
                    "AND (datname IS NULL OR datname = current_database())"
                )
            ]
            try:
                data = await conn.fetchval("SHOW data_directory")
                pids.append(int((Path(data) / "postmaster.pid").read_text().split()[0]))
            except (asyncpg.PostgresError, OSError, ValueError, IndexError):
                pass  # not a superuser, or the server's files are not readable here
            return pids
        finally:
            await conn.close()

    groups = {"PostgreSQL": asyncio.run(postgres_pids())}
    groups.update({label: tree_pids(p.popen.pid) for label, p in procs.items()})
    return stack_memory(groups)


def machine_facts() -> dict[str, Any]:
    cpu = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = 0
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal"):
                mem = int(line.split()[1]) * 1024
    except OSError:
        pass
    return {
        "cores": os.cpu_count(),
        "cpu": cpu,
        "memory_bytes": mem,
        "kernel": platform.release(),
        "python": platform.python_version(),
        "load_at_start": os.getloadavg(),
    }


def main() -> int:
    cfg = Config()
    ensure_wrk()
    started = time.time()
    machine = machine_facts()
    server_uri()  # start (or join) the embedded server now, and keep it for the whole run
    runs = []
    logs = RESULTS / "logs"
    shutil.rmtree(logs, ignore_errors=True)
    with tempfile.TemporaryDirectory(prefix="atum-bench-") as tmp:
        for scale in cfg.scales:
            directory = logs / f"{Sizes(scale).tickets}"
            directory.mkdir(parents=True)
            runs.append(ScaleRun(cfg, scale, directory, Path(tmp) / directory.name).run())
    machine["load_at_end"] = os.getloadavg()
    import report

    summary = report.write(cfg, machine, runs, started, RESULTS)
    log(f"report: {RESULTS / 'latest.md'}")
    print(summary, flush=True)
    return strict_status(cfg, report.evaluate(cfg, runs))


def strict_status(cfg: Any, verdicts: list[tuple[str, str, str]]) -> int:
    """BENCH_STRICT=1: exit status 1 when a target FAILs (NOT RUN, at a partial run, does not
    fail), naming them; otherwise 0."""
    failed = [target for target, verdict, _ in verdicts if verdict == "FAIL"]
    if not cfg.strict:
        return 0
    if failed:
        log(f"BENCH_STRICT: {len(failed)} target(s) FAIL: " + "; ".join(failed))
        return 1
    log("BENCH_STRICT: no target FAILs")
    return 0


def rerender() -> int:
    """`run.py --report`: write latest.md and the plot again from latest.json."""
    import types

    import report

    data = json.loads((RESULTS / "latest.json").read_text())
    cfg: Any = types.SimpleNamespace(**data["config"])
    for run in data["runs"]:
        for kind in ("peak", "end"):
            run["rss"][kind] = {
                label: {int(pid): v for pid, v in pids.items()}
                for label, pids in run["rss"][kind].items()
            }
    started = datetime.fromisoformat(data["date"]).timestamp()
    print(report.write(cfg, data["machine"], data["runs"], started, RESULTS))
    # BENCH_STRICT applies to the re-rendered verdicts as to a run's.
    cfg.strict = os.environ.get("BENCH_STRICT") == "1"
    return strict_status(cfg, report.evaluate(cfg, data["runs"]))


if __name__ == "__main__":
    os.chdir(API)
    sys.exit(rerender() if sys.argv[1:] == ["--report"] else main())
