"""Reports, the CSV export and the idle SLA sweep, measured against the running API.

- reports_summary_90d, reports_summary_all, reports_series, reports_breakdown_agent: one
  manager's requests, one at a time (a manager opens the page; reports are not a load path),
  after two untimed ones; p50/p95/max per scenario; target p95 < 500 ms.
- csv_export: the whole history's tickets.csv streamed through the API (rows per second) next to
  the ceiling measured in the same run: the same SELECT (services/reports.tickets_csv_query,
  same filters) through a raw asyncpg ``COPY (...) TO STDOUT (FORMAT csv)`` read to the end;
  target API >= 50 % of the ceiling.
- sla_sweep_idle: ``app.services.sla_sweep.sweep(session, now)`` in this process against the
  bench database when nothing is due (each cycle in a transaction rolled back afterwards);
  target p95 < 100 ms.
"""

from __future__ import annotations

import math
import statistics
import time
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import httpx

REPORT_TARGET_MS = 500.0
CSV_TARGET_RATIO = 0.5
SWEEP_TARGET_MS = 100.0
REPORTS = (
    "reports_summary_90d",
    "reports_summary_all",
    "reports_series",
    "reports_breakdown_agent",
)
SCENARIOS = (*REPORTS, "csv_export", "sla_sweep_idle")
# The API refuses ranges over ten years; the bench history is three years at full scale.
ALL_DAYS = 3650


def _p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, math.ceil(0.95 * len(ordered)) - 1)]


def _stats(values: list[float]) -> dict[str, float]:
    return {
        "requests": len(values),
        "p50_ms": round(statistics.median(values), 1),
        "p95_ms": round(_p95(values), 1),
        "max_ms": round(max(values), 1),
    }


def _ranges() -> dict[str, dict[str, str]]:
    today = datetime.now(UTC).date()
    return {
        "90d": {"from": (today - timedelta(days=89)).isoformat(), "to": today.isoformat()},
        "all": {
            "from": (today - timedelta(days=ALL_DAYS - 1)).isoformat(),
            "to": today.isoformat(),
        },
    }


async def report_latencies(
    api_url: str, token: str, wants: Any, requests: int = 20
) -> dict[str, dict[str, Any]]:
    ranges = _ranges()
    plan = {
        "reports_summary_90d": ("/api/internal/reports/summary", ranges["90d"]),
        "reports_summary_all": ("/api/internal/reports/summary", ranges["all"]),
        "reports_series": ("/api/internal/reports/series", {**ranges["90d"], "interval": "day"}),
        "reports_breakdown_agent": (
            "/api/internal/reports/breakdown",
            {**ranges["90d"], "by": "agent"},
        ),
    }
    out: dict[str, dict[str, Any]] = {}
    headers = {"Authorization": f"Bearer {token}"}
    async with httpx.AsyncClient(base_url=api_url, headers=headers, timeout=120) as client:
        for name, (path, params) in plan.items():
            if not wants(name):
                continue
            times: list[float] = []
            for k in range(requests + 2):
                started = time.perf_counter()
                response = await client.get(
                    path, params=params, headers={"X-Request-ID": f"bench.{name}"}
                )
                took = (time.perf_counter() - started) * 1000
                response.raise_for_status()
                if k >= 2:
                    times.append(took)
            out[name] = {**_stats(times), "target_ms": REPORT_TARGET_MS}
            out[name]["pass"] = out[name]["p95_ms"] < REPORT_TARGET_MS
    return out


async def csv_export(api_url: str, token: str, uri: str) -> dict[str, Any]:
    """Rows per second through the API and through a raw COPY of the same SELECT, alternating
    (API, ceiling) twice; the best of each side."""
    from app.auth.deps import CurrentUser
    from app.models.enums import Role
    from app.services import reports

    params = _ranges()["all"]
    api_runs: list[tuple[int, float, int]] = []
    ceiling_runs: list[tuple[int, float]] = []
    actor = CurrentUser(
        id=uuid.uuid4(),
        email="",
        name="",
        role=Role.MANAGER,
        org_id=None,
        org_name=None,
        session_id=uuid.uuid4(),
    )
    today = datetime.now(UTC).date()
    start = datetime.combine(today - timedelta(days=ALL_DAYS - 1), datetime.min.time(), UTC)
    end = datetime.combine(today + timedelta(days=1), datetime.min.time(), UTC)
    sql, args = reports.copy_statement(
        reports.tickets_csv_query(actor, reports.ReportFilter(start, end))
    )
    headers = {"Authorization": f"Bearer {token}", "X-Request-ID": "bench.csv_export"}
    for _ in range(2):
        async with httpx.AsyncClient(base_url=api_url, headers=headers, timeout=600) as client:
            started = time.perf_counter()
            lines = chunks = 0
            async with client.stream(
                "GET", "/api/internal/reports/tickets.csv", params=params
            ) as response:
                response.raise_for_status()
                async for chunk in response.aiter_raw():
                    lines += chunk.count(b"\n")
                    chunks += 1
            api_runs.append((lines - 1, time.perf_counter() - started, chunks))
        conn = await asyncpg.connect(uri)
        try:
            started = time.perf_counter()
            counted = await _copy_lines(conn, sql, args)
            ceiling_runs.append((counted, time.perf_counter() - started))
        finally:
            await conn.close()
    rows, seconds, chunks = min(api_runs, key=lambda r: r[1])
    c_rows, c_seconds = min(ceiling_runs, key=lambda r: r[1])
    api_rate = rows / seconds if seconds else 0.0
    ceiling_rate = c_rows / c_seconds if c_seconds else 0.0
    ratio = api_rate / ceiling_rate if ceiling_rate else 0.0
    return {
        "rows": rows,
        "api_seconds": round(seconds, 2),
        "api_rows_per_s": round(api_rate),
        "chunks": chunks,
        "ceiling_rows": c_rows,
        "ceiling_seconds": round(c_seconds, 2),
        "ceiling_rows_per_s": round(ceiling_rate),
        "ratio": round(ratio, 3),
        "target_ratio": CSV_TARGET_RATIO,
        "pass": ratio >= CSV_TARGET_RATIO and rows == c_rows,
    }


async def _copy_lines(conn: asyncpg.Connection, sql: str, args: list[Any]) -> int:
    counted = [0]

    async def sink(data: bytes) -> None:
        counted[0] += data.count(b"\n")

    await conn.copy_from_query(sql, *args, output=sink, format="csv")
    return counted[0]


async def sla_sweep_idle(uri: str, cycles: int = 20) -> dict[str, Any]:
    """One sweep cycle when nothing is due: the bench data's clocks are breached already or not
    running, so the sweep's partial-index probes find nothing."""
    from sqlalchemy.ext.asyncio import AsyncSession, create_async_engine

    from app.db.embedded import to_async_url
    from app.services import sla_sweep

    engine = create_async_engine(to_async_url(uri))
    times: list[float] = []
    found: list[str] = []
    try:
        for k in range(cycles + 2):
            async with AsyncSession(engine, expire_on_commit=False) as session:
                started = time.perf_counter()
                swept = await sla_sweep.sweep(session, datetime.now(UTC))
                took = (time.perf_counter() - started) * 1000
                await session.rollback()
            if k >= 2:
                times.append(took)
            found.append(repr(swept))
    finally:
        await engine.dispose()
    out: dict[str, Any] = {**_stats(times), "target_ms": SWEEP_TARGET_MS, "last": found[-1]}
    out["pass"] = out["p95_ms"] < SWEEP_TARGET_MS
    return out


def summary(results: dict[str, Any]) -> str:
    parts = []
    for name in REPORTS:
        r = results.get(name)
        if r:
            parts.append(
                f"{name}: p50 {r['p50_ms']:.0f} ms, p95 {r['p95_ms']:.0f} ms, "
                f"max {r['max_ms']:.0f} ms"
            )
    c = results.get("csv_export")
    if c:
        parts.append(
            f"csv_export: {c['rows']:,} rows, API {c['api_rows_per_s']:,} rows/s vs COPY "
            f"{c['ceiling_rows_per_s']:,} rows/s = {c['ratio']:.0%} ({c['chunks']} chunks)"
        )
    s = results.get("sla_sweep_idle")
    if s:
        parts.append(f"sla_sweep_idle: p50 {s['p50_ms']:.1f} ms, p95 {s['p95_ms']:.1f} ms")
    return "; ".join(parts)
