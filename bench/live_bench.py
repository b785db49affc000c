"""Live updates (Server-Sent Events): N open desk streams while tickets change at a steady rate.

    cd api && uv run python ../bench/live_bench.py                       # 1,000 streams
    cd api && BENCH_STREAMS=100 BENCH_LIVE_SECONDS=10 uv run python ../bench/live_bench.py

Settings (environment):
  BENCH_STREAMS         open desk streams (default 1000), spread over BENCH_READERS client
                        processes (default 4)
  BENCH_CHANGE_RATE     ticket changes per second (default 20): internal notes by staff through
                        the API, round robin over BENCH_TICKETS tickets (default 200)
  BENCH_LIVE_SECONDS    seconds of changes (default 30)
  BENCH_READ_SECONDS    seconds of wrk per read measurement (default 10)
  BENCH_GRACE           seconds the streams keep reading after the last change (default 5);
                        what has not arrived by then counts as missing
  ATUM_API_WORKERS      API worker processes (default: the production unit's, 2)
  ATUM_DATABASE_URL     server for the bench database (default: the embedded PostgreSQL)

What it does: a database of its own (`atum_livebench`), migrated and seeded with the demo data
set; the API the production way (`servers.gunicorn_argv`: gunicorn, uvicorn workers); tickets
opened by the demo customers through the API. Then:

1. **Reads without streams**: wrk on the desk list (`GET /api/internal/tickets`, an agent, 16
   connections) for BENCH_READ_SECONDS; RSS of every API worker.
2. **N streams open** (`GET /api/events` as the demo staff, raw HTTP/1.1 clients in
   BENCH_READERS processes, each stream counted once it got its `ready` event); RSS again.
3. **Reads with the streams open** (idle: heartbeats only): the same wrk run; the ratio to the
   mean of 1 and the same run again after the streams have closed (step 5).
4. **Changes**: BENCH_CHANGE_RATE internal notes a second for BENCH_LIVE_SECONDS, open loop; every
   stream records when each ticket event arrives. Latency = arrival at the stream - the moment
   the change's request was sent (so it includes the write itself); p50/p95/max over every
   (change, stream) pair, and how many deliveries are missing. RSS once more.
5. The streams close; reads without streams once more.

Writes `results/live-latest.json` and `.md`, prints the table, stops everything and drops its
database. Targets: p95 < 1 s with 1,000 streams at 20 changes/s; reads with streams open >= 90 %
of reads without. Not part of `make test`.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import secrets
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from common import RESULTS, drop_database, env_float, env_int, recreate_database

DATABASE = "atum_livebench"
AGENT = ("agent@atum.test", "atum-agent-demo")


def log(message: str) -> None:
    print(f"[{datetime.now(UTC):%H:%M:%S}] {message}", flush=True)


# ---------------------------------------------------------------- the stream readers (processes)


async def _stream(
    host: str, port: int, token: str
) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    reader, writer = await asyncio.open_connection(host, port, limit=1 << 20)
    writer.write(
        (
            f"GET /api/events HTTP/1.1\r\nHost: {host}\r\nAuthorization: Bearer {token}\r\n"
            "Accept: text/event-stream\r\n\r\n"
        ).encode()
    )
    await writer.drain()
    status = await reader.readline()
    if b" 200 " not in status:
        raise RuntimeError(f"stream refused: {status!r}")
    while (await reader.readline()) not in (b"\r\n", b""):
        pass
    # The writer is kept: a collected StreamWriter closes its connection.
    return reader, writer


async def _consume(
    reader: asyncio.StreamReader,
    tickets: dict[bytes, int],
    seen: list[tuple[int, float]],
    ready: asyncio.Event,
) -> None:
    """Chunked transfer encoding, SSE messages inside; records (ticket index, arrival)."""
    buffer = b""
    while True:
        size_line = await reader.readline()
        if not size_line:
            return
        size = int(size_line.strip() or b"0", 16)
        chunk = await reader.readexactly(size + 2)
        if size == 0:
            return
        buffer += chunk[:-2]
        while b"\n\n" in buffer:
            message, buffer = buffer.split(b"\n\n", 1)
            if b"event: ticket" in message:
                at = message.find(b'"id":"')
                index = tickets.get(message[at + 6 : at + 42])
                if index is not None:
                    seen.append((index, time.time()))
            elif b"event: ready" in message:
                ready.set()


async def _reader_main(config: dict[str, Any]) -> None:
    tickets = {t.encode(): i for i, t in enumerate(config["tickets"])}
    seen: list[tuple[int, float]] = []
    tasks = []
    readies = []
    writers = []
    for k in range(config["streams"]):
        token = config["tokens"][k % len(config["tokens"])]
        reader, writer = await _stream(config["host"], config["port"], token)
        writers.append(writer)
        ready = asyncio.Event()
        readies.append(ready)
        tasks.append(asyncio.create_task(_consume(reader, tickets, seen, ready)))
    await asyncio.wait_for(asyncio.gather(*(r.wait() for r in readies)), timeout=120)
    print("ready", flush=True)
    loop = asyncio.get_running_loop()
    await loop.run_in_executor(None, sys.stdin.readline)  # "stop"
    alive = sum(1 for t in tasks if not t.done())
    data = json.dumps({"seen": seen, "alive": alive})
    await asyncio.to_thread(Path(config["out"]).write_text, data)
    print("done", flush=True)
    os._exit(0)


class Readers:
    def __init__(self, config: dict[str, Any], processes: int, work: Path) -> None:
        self.procs: list[subprocess.Popen[str]] = []
        self.outs: list[Path] = []
        per = [config["streams"] // processes] * processes
        for k in range(config["streams"] % processes):
            per[k] += 1
        for k, n in enumerate(per):
            if n == 0:
                continue
            out = work / f"reader-{k}.json"
            cfg = {**config, "streams": n, "out": str(out)}
            path = work / f"reader-{k}.cfg.json"
            path.write_text(json.dumps(cfg))
            self.outs.append(out)
            self.procs.append(
                subprocess.Popen(  # noqa: S603 (this interpreter, this file)
                    [sys.executable, __file__, "--reader", str(path)],
                    stdin=subprocess.PIPE,
                    stdout=subprocess.PIPE,
                    text=True,
                )
            )

    def wait_ready(self) -> None:
        for p in self.procs:
            assert p.stdout is not None
            line = p.stdout.readline().strip()
            if line != "ready":
                raise RuntimeError(f"a stream reader failed (said {line!r})")

    def stop(self) -> tuple[list[tuple[int, float]], int]:
        seen: list[tuple[int, float]] = []
        alive = 0
        for p, out in zip(self.procs, self.outs, strict=True):
            assert p.stdin is not None and p.stdout is not None
            p.stdin.write("stop\n")
            p.stdin.flush()
            p.stdout.readline()
            p.wait(timeout=60)
            data = json.loads(out.read_text())
            seen += [(int(i), float(t)) for i, t in data["seen"]]
            alive += int(data["alive"])
        return seen, alive

    def kill(self) -> None:
        for p in self.procs:
            if p.poll() is None:
                p.kill()
                p.wait(timeout=10)


# ---------------------------------------------------------------- the run


def _rss(api: Any) -> dict[int, int]:
    import psutil

    root = psutil.Process(api.popen.pid)
    return {c.pid: c.memory_info().rss for c in root.children(recursive=True)}


def _wrk(url: str, token: str, seconds: float) -> float:
    from servers import ensure_wrk

    out = subprocess.run(  # noqa: S603 (wrk, loopback)
        [
            ensure_wrk(),
            "-t2",
            "-c16",
            f"-d{max(1, round(seconds))}s",
            "-H",
            f"Authorization: Bearer {token}",
            url,
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    found = re.search(r"Requests/sec:\s+([\d.]+)", out.stdout)
    non2xx = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out.stdout)
    if found is None or non2xx is not None:
        raise RuntimeError(f"wrk: {out.stdout}{out.stderr}")
    return float(found.group(1))


async def _login(client: Any, email: str, password: str) -> str:
    r = await client.post("/api/auth/login", json={"email": email, "password": password})
    r.raise_for_status()
    return str(r.json()["access_token"])


async def _prepare(base: str, n_tickets: int) -> tuple[list[str], list[str], list[str]]:
    """Tokens of every demo staff member, tickets opened by the demo customers."""
    import httpx

    from app.demo import DEMO_LOGINS

    async with httpx.AsyncClient(base_url=base, timeout=30) as client:
        staff = [(e, p) for role, e, p in DEMO_LOGINS if not role.startswith("customer")]
        customers = [(e, p) for role, e, p in DEMO_LOGINS if role.startswith("customer")]
        staff_tokens = [await _login(client, e, p) for e, p in staff]
        customer_tokens = [await _login(client, e, p) for e, p in customers]
        tickets = []
        for k in range(n_tickets):
            token = customer_tokens[k % len(customer_tokens)]
            r = await client.post(
                "/api/tickets",
                json={"title": f"Live bench {k}", "description": "Bench ticket", "priority": "P3"},
                headers={"Authorization": f"Bearer {token}"},
            )
            r.raise_for_status()
            tickets.append(str(r.json()["id"]))
    return staff_tokens, customer_tokens, tickets


async def _changes(
    base: str, tokens: list[str], tickets: list[str], rate: float, seconds: float
) -> list[tuple[int, float]]:
    """Open loop: one internal note every 1/rate s; (ticket index, send time) of each that
    succeeded."""
    import httpx

    sent: list[tuple[int, float]] = []
    failures = 0
    limits = httpx.Limits(max_connections=64, max_keepalive_connections=64)
    async with httpx.AsyncClient(base_url=base, timeout=30, limits=limits) as client:

        async def one(k: int) -> None:
            nonlocal failures
            index = k % len(tickets)
            at = time.time()
            r = await client.post(
                f"/api/internal/tickets/{tickets[index]}/comments",
                json={"body": f"Bench note {k}", "is_internal": True},
                headers={"Authorization": f"Bearer {tokens[k % len(tokens)]}"},
            )
            if r.status_code == 201:
                sent.append((index, at))
            else:
                failures += 1

        start = time.monotonic()
        tasks = []
        total = int(rate * seconds)
        for k in range(total):
            delay = start + k / rate - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)
            tasks.append(asyncio.create_task(one(k)))
        await asyncio.gather(*tasks)
    if failures:
        log(f"  {failures} changes failed")
    return sent


def _latencies(
    sent: list[tuple[int, float]], seen: list[tuple[int, float]], streams: int
) -> dict[str, Any]:
    by_ticket: dict[int, list[float]] = {}
    for index, at in sent:
        by_ticket.setdefault(index, []).append(at)
    for times in by_ticket.values():
        times.sort()
    latencies = []
    for index, arrived in seen:
        times = by_ticket.get(index)
        if not times:
            continue
        # The newest change of that ticket sent before the event arrived.
        prior = [t for t in times if t <= arrived]
        if prior:
            latencies.append(arrived - prior[-1])
    latencies.sort()
    expected = len(sent) * streams

    def pct(p: float) -> float:
        return latencies[min(len(latencies) - 1, int(p * len(latencies)))] * 1000

    return {
        "deliveries": len(latencies),
        "expected": expected,
        "missing": max(0, expected - len(latencies)),
        "p50_ms": pct(0.50) if latencies else None,
        "p95_ms": pct(0.95) if latencies else None,
        "p99_ms": pct(0.99) if latencies else None,
        "max_ms": latencies[-1] * 1000 if latencies else None,
    }


def run() -> dict[str, Any]:
    streams = env_int("BENCH_STREAMS", 1000)
    processes = env_int("BENCH_READERS", 4)
    rate = env_float("BENCH_CHANGE_RATE", 20)
    seconds = env_float("BENCH_LIVE_SECONDS", 30)
    read_seconds = env_float("BENCH_READ_SECONDS", 10)
    n_tickets = env_int("BENCH_TICKETS", 200)
    secret = secrets.token_urlsafe(48)
    os.environ["ATUM_SECRET_KEY"] = secret
    from servers import free_port, gunicorn_argv, production_workers, start, wait_http

    workers = production_workers()
    uri = asyncio.run(recreate_database(DATABASE))
    work = Path(tempfile.mkdtemp(prefix="atum-livebench-"))
    api = None
    readers: Readers | None = None
    try:
        asyncio.run(_seed(uri))
        port = free_port()
        keep = {k: v for k, v in os.environ.items() if not k.startswith(("ATUM_", "BENCH_"))}
        env = {
            **keep,
            "ATUM_ENV": "production",
            "ATUM_SECRET_KEY": secret,
            "ATUM_DATABASE_URL": uri,
            "ATUM_DATA_DIR": str(work),
            "ATUM_PUBLIC_URL": "https://desk.bench.example",
            "ATUM_LOG_LEVEL": "INFO",
            "ATUM_LOG_FORMAT": "json",
            "ATUM_DOCS_ENABLED": "false",
            "ATUM_TICKET_CREATE_PER_HOUR": "1000000000",
            "PYTHONDONTWRITEBYTECODE": "1",
        }
        api = start("API", gunicorn_argv(port, workers, work / "api.ctl"), env, work / "api.log")
        base = f"http://127.0.0.1:{port}"
        wait_http(f"{base}/api/health", api)
        log(f"API on {base} ({workers} workers); logs in {work}")
        staff, _, tickets = asyncio.run(_prepare(base, n_tickets))
        list_url = f"{base}/api/internal/tickets?limit=50"
        _wrk(list_url, staff[0], 2)  # warm-up
        reads_without = _wrk(list_url, staff[0], read_seconds)
        rss_before = _rss(api)
        log(f"reads without streams: {reads_without:.0f}/s")

        readers = Readers(
            {
                "host": "127.0.0.1",
                "port": port,
                "tokens": staff,
                "tickets": tickets,
                "streams": streams,
            },
            processes,
            work,
        )
        opened = time.monotonic()
        readers.wait_ready()
        log(f"{streams} streams open in {time.monotonic() - opened:.1f} s")
        time.sleep(2)
        rss_streams = _rss(api)
        reads_with = _wrk(list_url, staff[0], read_seconds)
        log(f"reads with {streams} streams open: {reads_with:.0f}/s")

        sent = asyncio.run(_changes(base, staff, tickets, rate, seconds))
        time.sleep(env_float("BENCH_GRACE", 5))  # the last events' way to the streams
        rss_after = _rss(api)
        seen, alive = readers.stop()
        readers = None
        # Reads without streams once more: the machine may be busier or quieter than at first.
        reads_without_after = _wrk(list_url, staff[0], read_seconds)
        log(f"reads without streams again: {reads_without_after:.0f}/s")
        reads_without = (reads_without + reads_without_after) / 2
        latency = _latencies(sent, seen, streams)
        listening = asyncio.run(_listening(uri))
        result = {
            "when": datetime.now(UTC).isoformat(timespec="seconds"),
            "streams": streams,
            "streams_alive_at_end": alive,
            "change_rate": rate,
            "seconds": seconds,
            "changes": len(sent),
            "api_workers": workers,
            "listening_connections": listening,
            "latency": latency,
            "reads_without_streams_rps": reads_without,
            "reads_with_streams_rps": reads_with,
            "reads_ratio": reads_with / reads_without if reads_without else None,
            "rss_mb": {
                str(pid): {
                    "before": rss_before.get(pid, 0) / 2**20,
                    "streams_open": rss_streams.get(pid, 0) / 2**20,
                    "after_changes": rss_after.get(pid, 0) / 2**20,
                }
                for pid in rss_before
            },
        }
        return result
    finally:
        if readers is not None:
            readers.kill()
        if api is not None:
            api.stop()
        asyncio.run(drop_database(DATABASE))


async def _seed(uri: str) -> None:
    from sqlalchemy.ext.asyncio import AsyncSession, create_async_engine

    from app.db import migrations
    from app.db.embedded import to_async_url
    from app.demo import seed

    await asyncio.to_thread(migrations.upgrade, to_async_url(uri))
    engine = create_async_engine(to_async_url(uri))
    try:
        async with AsyncSession(engine) as session, session.begin():
            await seed(session)
    finally:
        await engine.dispose()


async def _listening(uri: str) -> int:
    import asyncpg

    conn = await asyncpg.connect(uri)
    try:
        return int(
            await conn.fetchval(
                "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'atum-desk-live'"
                " AND datname = current_database()"
            )
        )
    finally:
        await conn.close()


def report(r: dict[str, Any]) -> str:
    lat = r["latency"]
    p95 = lat["p95_ms"]
    lines = [
        "# Live updates (SSE) benchmark",
        "",
        f"{r['when']} · {r['streams']} desk streams · {r['change_rate']:g} changes/s for "
        f"{r['seconds']:g} s ({r['changes']} changes) · {r['api_workers']} API workers · "
        f"{r['listening_connections']} listening connection(s)",
        "",
        "| measure | value | target |",
        "|---|---|---|",
        f"| change → event delivered, p50 | {lat['p50_ms']:.0f} ms | |" if lat["p50_ms"] else "",
        f"| change → event delivered, p95 | {p95:.0f} ms | < 1000 ms "
        f"{'PASS' if p95 < 1000 else 'FAIL'} |"
        if p95
        else "| change → event delivered, p95 | none delivered | FAIL |",
        f"| change → event delivered, max | {lat['max_ms']:.0f} ms | |" if lat["max_ms"] else "",
        f"| deliveries | {lat['deliveries']:,} of {lat['expected']:,} (missing "
        f"{lat['missing']:,}) | all |",
        f"| streams still open at the end | {r['streams_alive_at_end']} of {r['streams']} | all |",
        f"| desk list reads/s without streams | {r['reads_without_streams_rps']:.0f} | |",
        f"| desk list reads/s with the streams open | {r['reads_with_streams_rps']:.0f} | |",
        f"| ratio | {r['reads_ratio']:.0%} | >= 90 % "
        f"{'PASS' if (r['reads_ratio'] or 0) >= 0.9 else 'FAIL'} |",
    ]
    for pid, m in r["rss_mb"].items():
        growth = m["streams_open"] - m["before"]
        per = growth * 1024 / max(1, r["streams"] / max(1, r["api_workers"]))
        lines.append(
            f"| RSS of API worker {pid} | {m['before']:.0f} → {m['streams_open']:.0f} MB with "
            f"streams (≈{per:.0f} KB per stream) → {m['after_changes']:.0f} MB after the "
            "changes | |"
        )
    return "\n".join(line for line in lines if line) + "\n"


def main() -> None:
    if len(sys.argv) == 3 and sys.argv[1] == "--reader":
        asyncio.run(_reader_main(json.loads(Path(sys.argv[2]).read_text())))
        return
    result = run()
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "live-latest.json").write_text(json.dumps(result, indent=2) + "\n")
    text = report(result)
    (RESULTS / "live-latest.md").write_text(text)
    print(text)


if __name__ == "__main__":
    main()
