"""bench/results/latest.md (+ latest.json, scale-curve.png/.svg) from a bench run, with the
targets evaluated as PASS / FAIL / NOT RUN."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import plot
import reports_bench
from run import (
    BACKFILL_RATIO,
    GROWTH_TARGET,
    MAX_READ_STATEMENTS,
    MB,
    MODEL_LOAD_S,
    MODEL_PEAK_MB,
    MODEL_TICKET_MS,
    P95_TARGET_MS,
    READ_TARGET,
    RSS_TARGET_MB,
    SEARCH_GROWTH_TARGET,
    SEARCH_P95_TARGET_MS,
    SUGGESTION_TARGET_MS,
    VIEW_COUNT_TARGET_MS,
    WRITE_TARGET,
    Config,
)
from scenarios import READ, SEARCHES, TITLES, WRITE

FULL = 1_000_000
SMALL = 10_000
LIFECYCLE_OPS = ("accept", "assign", "status", "comment")


def ms(us: float) -> str:
    return f"{us / 1000:.1f}"


def ratio(s: dict[str, Any]) -> float | None:
    """The median of the rounds' API / ceiling ratios (older results: of the totals)."""
    if s.get("ratio") is not None:
        return float(s["ratio"])
    if "api" in s and "ceiling" in s and s["ceiling"]["rps"]:
        return float(s["api"]["rps"] / s["ceiling"]["rps"])
    return None


def with_rounds(median: str, rounds: list[str] | None) -> str:
    """A median with the rounds it is the median of: "62% (58%/62%/65%)"."""
    return f"{median} ({'/'.join(rounds)})" if rounds and len(rounds) > 1 else median


def ratio_cell(s: dict[str, Any]) -> str:
    q = ratio(s)
    if q is None:
        return "-"
    return with_rounds(f"{q:.0%}", [f"{x:.0%}" for x in s.get("ratios") or []])


def p95_cell(side: dict[str, Any] | None) -> str:
    """p95 (ms) with one connection: the median of the rounds' p95, and the rounds'."""
    if side is None:
        return "-"
    return with_rounds(ms(side["p95_us"]), [ms(x) for x in side.get("p95_rounds") or []])


def search_queries(run: dict[str, Any], name: str) -> str:
    """What a search scenario asked and how many tickets each query matches."""
    found = (run.get("searches") or {}).get(name)
    if not found:
        return ""
    total, queries = found["tickets"], found["queries"]
    matches = sorted(q["matches"] for q in queries)
    if name in ("search_rare", "search_number") or len(queries) > 6:
        return (
            f"{len(queries)} queries (e.g. {', '.join(repr(q['q']) for q in queries[:3])}), "
            f"matching {matches[0]:,} to {matches[-1]:,} of {total:,} tickets "
            f"(median {matches[len(matches) // 2]:,})"
        )
    return ", ".join(
        f"{q['q']!r} {q['matches']:,} of {total:,} tickets ({q['matches'] / total:.1%})"
        for q in queries
    )


def statements(run: dict[str, Any], name: str) -> str:
    st = run["statements"]
    if name == "lifecycle":
        parts = []
        for op in LIFECYCLE_OPS:
            e = st.get(f"lifecycle.{op}")
            if e:
                parts.append(f"{op} {e['median']:g}")
        return ", ".join(parts) or "-"
    e = st.get(name)
    if not e:
        return "-"
    return (
        f"{e['median']:g}" if e["min"] == e["max"] else f"{e['median']:g} ({e['min']}-{e['max']})"
    )


def computation(c: dict[str, Any]) -> str:
    return (
        f"{c['tickets']} tickets: p50 {c['p50_ms']:.1f} ms, p95 {c['p95_ms']:.1f} ms, "
        f"max {c['max_ms']:.1f} ms"
    )


def model_targets(runs: list[dict[str, Any]]) -> list[tuple[str, str, str]]:
    """The local model's budgets and the backfill ratio, from the last run that measured them
    (they do not depend on the number of tickets)."""
    comp = next(
        (
            r["suggestion_computation"]
            for r in reversed(runs)
            if (r.get("suggestion_computation") or {}).get("model")
        ),
        None,
    )
    names = (
        f"local model per ticket (fp32, median over eval part A) <= {MODEL_TICKET_MS:g} ms",
        f"local model peak memory (fresh process) <= {MODEL_PEAK_MB} MB",
        f"local model cold load <= {MODEL_LOAD_S:g} s",
        f"embedding backfill >= {BACKFILL_RATIO:.0%} of a bare model loop's rate",
    )
    if comp is None:
        return [(name, "NOT RUN", "the local engine did not run") for name in names]
    m, b = comp["model"], comp.get("backfill") or {}
    ratio = b.get("ratio")
    return [
        (
            names[0],
            "PASS" if m["p50_ms"] <= MODEL_TICKET_MS else "FAIL",
            f"p50 {m['p50_ms']} ms, p95 {m['p95_ms']} ms over {m['texts']} texts "
            f"(median {m['median_tokens']} tokens)",
        ),
        (names[1], "PASS" if m["peak_mb"] <= MODEL_PEAK_MB else "FAIL", f"{m['peak_mb']} MB"),
        (names[2], "PASS" if m["load_s"] <= MODEL_LOAD_S else "FAIL", f"{m['load_s']} s"),
        (
            names[3],
            "NOT RUN" if ratio is None else "PASS" if ratio >= BACKFILL_RATIO else "FAIL",
            f"{b.get('per_s')} tickets/s against {b.get('bare_per_s')} bare over "
            f"{b.get('tickets')} tickets (ratio {ratio}); 1,000,000 tickets at this rate: "
            + (f"{1_000_000 / b['per_s'] / 3600:.1f} h" if b.get("per_s") else "-"),
        ),
    ]


def view_counts(c: dict[str, Any]) -> str:
    return (
        f"{c['counts']} counts ({c['views']} views x {c['agents']} agents): p50 "
        f"{c['p50_ms']:.1f} ms, p95 {c['p95_ms']:.1f} ms, max {c['max_ms']:.1f} ms, "
        f"worst view {c['worst_view']} (p95 {c['per_view_p95_ms'][c['worst_view']]:.1f} ms)"
    )


BULK_TARGET_S = 10.0


def bulk_summary(results: list[dict[str, Any]]) -> str:
    return ", ".join(
        f"{b['action']}: {b['tickets']} tickets in {b['seconds']:.1f} s ({b['done']} done)"
        for b in results
    )


def report_targets(
    runs: list[dict[str, Any]], full: dict[str, Any] | None
) -> list[tuple[str, str, str]]:
    """Reports p95 < 500 ms, the CSV export >= 50 % of a raw COPY, the idle sweep < 100 ms, at
    1,000,000 tickets (bench/reports_bench.py)."""
    out: list[tuple[str, str, str]] = []
    targets = {
        **{
            n: f"{n} p95 < {reports_bench.REPORT_TARGET_MS:g} ms at 1,000,000 tickets"
            for n in reports_bench.REPORTS
        },
        "csv_export": f"csv_export rows/s >= {reports_bench.CSV_TARGET_RATIO:.0%} of a raw COPY "
        "of the same SELECT at 1,000,000 tickets",
        "sla_sweep_idle": f"sla_sweep_idle p95 < {reports_bench.SWEEP_TARGET_MS:g} ms at "
        "1,000,000 tickets",
    }
    for name, target in targets.items():
        got = ((full or {}).get("reports") or {}).get(name)
        if got:
            out.append(
                (target, "PASS" if got["pass"] else "FAIL", reports_bench.summary({name: got}))
            )
            continue
        measured = [r for r in runs if (r.get("reports") or {}).get(name)]
        detail = (
            "not measured in this run"
            if not measured
            else f"1,000,000 not run; at {measured[-1]['tickets']:,}: "
            + reports_bench.summary({name: measured[-1]["reports"][name]})
        )
        out.append((target, "NOT RUN", detail))
    return out


# The whole stack `make run` runs (PostgreSQL, API, worker, LMTP listener, mail sink), PSS after
# the run, at the largest scale.
STACK_TARGET_MB = 1024


def stack_total(run: dict[str, Any]) -> int | None:
    stack = run.get("stack") or {}
    return sum(v["pss"] for v in stack.values()) if stack else None


def stack_line(run: dict[str, Any]) -> str:
    stack = run.get("stack") or {}
    if not stack:
        return "Whole stack (PSS): not measured."
    return (
        "Whole stack after the run (PSS: shared pages split between the processes that map "
        "them, so PostgreSQL's shared buffers count once; the ceiling stopped first): "
        + ", ".join(
            f"{label} {v['pss'] / MB:.0f} MB ({v['processes']} "
            + ("process" if v["processes"] == 1 else "processes")
            + (f", {v['shmem'] / MB:.0f} MB of it shared memory" if v.get("shmem") else "")
            + ")"
            for label, v in stack.items()
        )
        + f"; {(stack_total(run) or 0) / MB:.0f} MB in all."
    )


def stack_target(runs: list[dict[str, Any]]) -> tuple[str, str, str]:
    target = "Whole stack < 1 GB (PSS: PostgreSQL, API, worker, LMTP, mail sink) after the run"
    total = stack_total(runs[-1]) if runs else None
    if total is None:
        return (target, "NOT RUN", "not measured")
    verdict = "PASS" if total < STACK_TARGET_MB * MB else "FAIL"
    return (target, verdict, f"{total / MB:.0f} MB at {runs[-1]['tickets']:,} tickets")


def settings_line(runs: list[dict[str, Any]]) -> str | None:
    values = runs[0]["database"].get("settings") if runs else None
    if not values:
        return None
    return (
        'PostgreSQL ran with (sized by app/pgconf.py, docs/RUNBOOK.md "PostgreSQL settings"): '
        + ", ".join(f"{name} {value}" for name, value in values.items())
        + "."
    )


def api_workers(run: dict[str, Any], which: str) -> dict[int, int]:
    master = run["rss"]["masters"].get("API")
    return {pid: rss for pid, rss in run["rss"][which].get("api", {}).items() if pid != master}


def reads_run(runs: list[dict[str, Any]]) -> list[str]:
    return [
        n for n in (*READ, *SEARCHES) if all("api_1" in r["scenarios"].get(n, {}) for r in runs)
    ]


def search_targets(
    runs: list[dict[str, Any]], full: dict[str, Any] | None, small: dict[str, Any] | None
) -> list[tuple[str, str, str]]:
    """Each search scenario: p95 with one connection (the median of the rounds') under
    SEARCH_P95_TARGET_MS at 1,000,000 tickets; and their growth from 10,000."""
    out: list[tuple[str, str, str]] = []

    def single(run: dict[str, Any] | None, name: str) -> dict[str, Any] | None:
        return None if run is None else run["scenarios"].get(name, {}).get("api_1")

    def evidence(run: dict[str, Any], name: str) -> str:
        side = single(run, name) or {}
        return f"{p95_cell(side)} ms; " + search_queries(run, name)

    for name in SEARCHES:
        target = (
            f"{TITLES[name]}: p95 with one connection < {SEARCH_P95_TARGET_MS:g} ms at "
            "1,000,000 tickets"
        )
        got = single(full, name)
        if full is not None and got is not None:
            slow = got["p95_us"] / 1000 >= SEARCH_P95_TARGET_MS
            out.append((target, "FAIL" if slow else "PASS", evidence(full, name)))
            continue
        measured = [r for r in runs if single(r, name) is not None]
        out.append(
            (
                target,
                "NOT RUN",
                "not measured in this run"
                if not measured
                else ("1,000,000 not run" if full is None else "not measured at 1,000,000")
                + f"; at {measured[-1]['tickets']:,}: "
                + evidence(measured[-1], name),
            )
        )
    target = f"search scenarios: p95 growth 10,000 -> 1,000,000 tickets < {SEARCH_GROWTH_TARGET:g}x"
    both = [n for n in SEARCHES if single(full, n) and single(small, n)]
    if not both:
        out.append((target, "NOT RUN", "needs both the 10,000 and the 1,000,000 runs"))
        return out
    growth = {
        n: (single(full, n) or {})["p95_us"] / max(1.0, (single(small, n) or {})["p95_us"])
        for n in both
    }
    over = [n for n, g in growth.items() if g >= SEARCH_GROWTH_TARGET]
    out.append(
        (
            target,
            "FAIL" if over else "PASS",
            ", ".join(
                f"{n} {g:.2f}x" + (" (over)" if n in over else "") for n, g in growth.items()
            ),
        )
    )
    return out


def evaluate(cfg: Config, runs: list[dict[str, Any]]) -> list[tuple[str, str, str]]:
    """(target, verdict, evidence) for every target of the issue."""
    out: list[tuple[str, str, str]] = []
    by_tickets = {r["tickets"]: r for r in runs}

    bad, seen = [], []
    for r in runs:
        for name in (*READ, *SEARCHES, *WRITE):
            q = ratio(r["scenarios"].get(name, {}))
            if q is None:
                continue
            need = WRITE_TARGET if name in WRITE else READ_TARGET
            seen.append(f"{name}@{r['tickets']:,} {q:.0%}")
            if q < need:
                bad.append(f"{name} at {r['tickets']:,}: {q:.0%} < {need:.0%}")
    out.append(
        (
            f"throughput: reads (searches included) >= {READ_TARGET:.0%}, create and lifecycle >= "
            f"{WRITE_TARGET:.0%} of the raw-driver ceiling (b), the median of the rounds' ratios",
            "FAIL" if bad else "PASS" if seen else "NOT RUN",
            "; ".join(bad)
            if bad
            else f"{len(seen)} ratios, lowest "
            + (min(seen, key=lambda x: float(x.rsplit(" ", 1)[1].rstrip("%"))) if seen else "-"),
        )
    )

    def p95(run: dict[str, Any], name: str) -> float | None:
        s = run["scenarios"].get(name, {}).get("api_1")
        return None if s is None else float(s["p95_us"])

    full = by_tickets.get(FULL)
    target = f"p95 with one connection < {P95_TARGET_MS:g} ms for every read at 1,000,000 tickets"
    reads = [n for n in READ if all(p95(r, n) is not None for r in runs)]
    if not reads:
        out.append((target, "NOT RUN", "no read scenario ran"))
    elif full is None:
        largest = runs[-1]
        worst = max(reads, key=lambda n: p95(largest, n) or 0)
        out.append(
            (
                target,
                "NOT RUN",
                f"1,000,000 not run; at {largest['tickets']:,}: worst {worst} "
                f"{ms(p95(largest, worst) or 0)} ms",
            )
        )
    else:
        slow = [
            f"{n} {ms(p95(full, n) or 0)} ms"
            for n in reads
            if (p95(full, n) or 0) / 1000 >= P95_TARGET_MS
        ]
        worst = max(reads, key=lambda n: p95(full, n) or 0)
        out.append(
            (
                target,
                "FAIL" if slow else "PASS",
                "; ".join(slow) if slow else f"worst {worst} {ms(p95(full, worst) or 0)} ms",
            )
        )
    small = by_tickets.get(SMALL)
    if not reads or full is None or small is None:
        out.append(
            (
                f"p95 growth 10,000 -> 1,000,000 tickets < {GROWTH_TARGET:g}x",
                "NOT RUN",
                "needs both the 10,000 and the 1,000,000 runs",
            )
        )
    else:
        growth = {n: (p95(full, n) or 0) / max(1.0, p95(small, n) or 0) for n in reads}
        over = [f"{n} {g:.2f}x" for n, g in growth.items() if g >= GROWTH_TARGET]
        out.append(
            (
                f"p95 growth 10,000 -> 1,000,000 tickets < {GROWTH_TARGET:g}x",
                "FAIL" if over else "PASS",
                "; ".join(over)
                if over
                else "max "
                + max(
                    (f"{n} {g:.2f}x" for n, g in growth.items()),
                    key=lambda x: float(x.rsplit(" ", 1)[1].rstrip("x")),
                ),
            )
        )

    out.extend(search_targets(runs, full, small))

    out.extend(model_targets(runs))

    target = (
        f"suggestion computation per ticket (ticket text + analyse, the embedding included, "
        f"p95) < {SUGGESTION_TARGET_MS:g} ms at 1,000,000 tickets"
    )
    done = [r for r in runs if r.get("suggestion_computation")]
    comp = (full or {}).get("suggestion_computation")
    if comp:
        out.append(
            (
                target,
                "FAIL" if comp["p95_ms"] >= SUGGESTION_TARGET_MS else "PASS",
                computation(comp),
            )
        )
    elif not done:
        out.append((target, "NOT RUN", "not measured in this run"))
    else:
        out.append(
            (
                target,
                "NOT RUN",
                ("1,000,000 not run" if full is None else "not measured at 1,000,000")
                + f"; at {done[-1]['tickets']:,}: "
                + computation(done[-1]["suggestion_computation"]),
            )
        )

    target = (
        f"saved view count per view (desk sidebar, p95) < {VIEW_COUNT_TARGET_MS:g} ms at "
        "1,000,000 tickets"
    )
    measured = [r for r in runs if r.get("view_counts")]
    counts = (full or {}).get("view_counts")
    if counts:
        out.append(
            (
                target,
                "FAIL" if counts["p95_ms"] >= VIEW_COUNT_TARGET_MS else "PASS",
                view_counts(counts),
            )
        )
    else:
        out.append(
            (
                target,
                "NOT RUN",
                "not measured in this run"
                if not measured
                else f"1,000,000 not run; at {measured[-1]['tickets']:,}: "
                + view_counts(measured[-1]["view_counts"]),
            )
        )

    bulk_target = f"bulk action on 1,000 tickets < {BULK_TARGET_S:g} s at 1,000,000 tickets"
    bulk = (full or {}).get("bulk")
    bulk_measured = [r for r in runs if r.get("bulk")]
    if bulk:
        out.append(
            (
                bulk_target,
                "FAIL" if any(b["seconds"] >= BULK_TARGET_S for b in bulk) else "PASS",
                bulk_summary(bulk),
            )
        )
    else:
        out.append(
            (
                bulk_target,
                "NOT RUN",
                "not measured in this run"
                if not bulk_measured
                else f"1,000,000 not run; at {bulk_measured[-1]['tickets']:,}: "
                + bulk_summary(bulk_measured[-1]["bulk"]),
            )
        )

    out.extend(report_targets(runs, full))

    errors = [
        f"{name}@{r['tickets']:,}: {s['api']['errors']}"
        for r in runs
        for name, s in r["scenarios"].items()
        if "api" in s and s["api"]["errors"]
    ]
    wraps = [
        f"lifecycle@{r['tickets']:,} ran out of staged tickets"
        for r in runs
        if any(
            r["scenarios"].get("lifecycle", {}).get(side, {}).get("wrapped")
            for side in ("api", "ceiling")
        )
    ]
    out.append(
        (
            f"under load ({cfg.connections} connections): no errors, p99 reported",
            "FAIL" if errors or wraps else "PASS",
            "; ".join(errors + wraps) if errors or wraps else "0 errors in every API run",
        )
    )

    over_st = []
    for r in runs:
        for name in (*READ, *SEARCHES):
            if name not in r["scenarios"]:
                continue
            e = r["statements"].get(name)
            if e is None or e["max"] > MAX_READ_STATEMENTS:
                over_st.append(
                    f"{name}@{r['tickets']:,}: "
                    + ("not logged" if e is None else f"max {e['max']}")
                )
    out.append(
        (
            f"<= {MAX_READ_STATEMENTS} SQL statements per read request, authentication included",
            "FAIL" if over_st else "PASS",
            "; ".join(over_st)
            if over_st
            else ", ".join(
                f"{n} {statements(runs[-1], n)}"
                for n in (*READ, *SEARCHES)
                if n in runs[-1]["scenarios"]
            ),
        )
    )

    ends = [(r["tickets"], rss) for r in runs for rss in api_workers(r, "end").values()]
    big = [f"{t:,}: {rss / MB:.0f} MB" for t, rss in ends if rss / MB >= RSS_TARGET_MB]
    out.append(
        (
            f"API worker RSS < {RSS_TARGET_MB} MB at the end of the run",
            "FAIL" if big or not ends else "PASS",
            "; ".join(big)
            if big
            else (
                "max " + f"{max(rss for _, rss in ends) / MB:.0f} MB" if ends else "not measured"
            ),
        )
    )
    out.append(stack_target(runs))
    return out


def write(
    cfg: Config, machine: dict[str, Any], runs: list[dict[str, Any]], started: float, results: Path
) -> str:
    results.mkdir(parents=True, exist_ok=True)
    when = datetime.fromtimestamp(started, UTC)
    verdicts = evaluate(cfg, runs)
    version = runs[0]["database"]["version"] if runs else "?"
    lines: list[str] = []
    add = lines.append
    add(f"# ATUM DESK benchmark — {when:%Y-%m-%d %H:%M} UTC")
    add("")
    add(
        f"Machine: {machine['cores']} cores ({machine['cpu']}), "
        f"{machine['memory_bytes'] / 2**30:.0f} GiB RAM, Linux {machine['kernel']}, "
        f"Python {machine['python']}, PostgreSQL {version} "
        f"(shared_buffers {runs[0]['database']['shared_buffers'] if runs else '?'}). "
        f"Load average at start {machine['load_at_start'][0]:.2f}, at end "
        f"{machine['load_at_end'][0]:.2f} (the machine is shared: ratios to the ceiling measured "
        f"minutes apart in the same run are the numbers to compare, absolute ones move with the "
        f"load)."
    )
    add("")
    if settings_line(runs):
        add(str(settings_line(runs)))
        add("")
    add(
        f"Server: gunicorn + `uvicorn_worker.UvicornWorker`, {cfg.workers} workers (the "
        f"production unit's command line, loopback TCP), ATUM_ENV=production, JSON access log "
        f"at INFO; the mail sink, one worker process and the LMTP listener run alongside. "
        f"Load: wrk, "
        f"{cfg.connections} connections, {cfg.duration:g} s per run after a {cfg.warmup:g} s "
        f"warm-up, in {getattr(cfg, 'rounds', 1)} alternating rounds (API, ceiling, API, ...); "
        f"latency runs: one connection, {cfg.latency:g} s, in the same alternating rounds. "
        "Scales run: " + ", ".join(f"{r['tickets']:,}" for r in runs) + " tickets."
    )
    add("")
    add(
        "Command: `make bench` (= `cd api && uv run python ../bench/run.py`); this run: "
        f"`BENCH_SCALES={','.join(f'{s:g}' for s in cfg.scales)} "
        f"BENCH_DURATION={cfg.duration:g} BENCH_WARMUP={cfg.warmup:g} "
        f"BENCH_LATENCY_DURATION={cfg.latency:g} BENCH_ROUNDS={getattr(cfg, 'rounds', 1)} "
        "make bench`."
    )
    add("")
    if getattr(cfg, "smoke", False):
        add(
            "**Smoke run** (`BENCH_SMOKE=1`): every measurement on a few samples, to check that "
            "the harness works; its figures say nothing about the product."
        )
        add("")
    add("## Targets")
    add("")
    add("| target | result | evidence |")
    add("|---|---|---|")
    for target, verdict, evidence in verdicts:
        add(f"| {target} | **{verdict}** | {evidence} |")
    add("")
    for r in reversed(runs):
        add(f"## {r['tickets']:,} tickets")
        add("")
        rounds = getattr(cfg, "rounds", 1)
        add(
            "Under load: requests/s and latency (ms) with "
            f"{cfg.connections} connections; ratio = API / its raw-driver ceiling (b)"
            + (
                f", the median of {rounds} alternating rounds (latency: the median of the "
                "rounds' percentiles). "
                if rounds > 1
                else ". "
            )
            + "p95 @1 = p95 with one connection. In brackets: each round's figure, in order; "
            "the verdicts read the median. Statements = SQL statements per request from "
            "the API's access log (`db_statements`, authentication included; BEGIN/COMMIT are "
            "not cursor statements and are not counted)."
        )
        add("")
        add(
            "| scenario | API req/s | p50 | p95 | p99 | errors | ceiling req/s | ratio | target "
            "| p95 @1 API | p95 @1 ceiling | statements |"
        )
        add("|---|---:|---:|---:|---:|---:|---:|---:|---|---:|---:|---|")
        for name in ("health", *READ, *SEARCHES, *WRITE):
            s = r["scenarios"].get(name)
            if not s:
                continue
            a = s["api"]
            c = s.get("ceiling")
            q = ratio(s)
            goal = WRITE_TARGET if name in WRITE else READ_TARGET
            need = "(a)" if name == "health" else f"{goal:.0%}"
            verdict = "" if q is None else (" PASS" if q >= goal else " FAIL")
            cells = [
                TITLES[name],
                f"{a['rps']:,.0f}",
                ms(a["p50_us"]),
                ms(a["p95_us"]),
                ms(a["p99_us"]),
                str(a["errors"]),
                f"{c['rps']:,.0f}" if c else "-",
                ratio_cell(s),
                need + verdict,
                p95_cell(s.get("api_1")),
                p95_cell(s.get("ceiling_1")),
                statements(r, name),
            ]
            add("| " + " | ".join(cells) + " |")
        add("")
        searched = [n for n in SEARCHES if n in r["scenarios"] and (r.get("searches") or {}).get(n)]
        if searched:
            add(
                "Search queries, chosen from this data set and counted with the API's own search "
                "(`tickets.count_rows` as a manager); each ceiling runs the API's statement for "
                "the same query and caller (`tickets.compiled_list`): "
                + "; ".join(f"{TITLES[n]}: {search_queries(r, n)}" for n in searched)
                + "."
            )
            add("")
        comp = r.get("suggestion_computation")
        if comp:
            add(
                f"Suggestion computation per ticket with the {comp.get('engine', 'lexical')} "
                "engine, before the servers start (in-process, as the worker runs it: the "
                "ticket's text, then `analyse` with the ticket's embedding computed, timed; the "
                "result stored for the suggestions scenario), over the "
                f"{comp['tickets']} sampled open tickets after an untimed warm-up of "
                f"{comp['warmup']}: p50 {comp['p50_ms']:.1f} ms, p95 {comp['p95_ms']:.1f} ms, "
                f"max {comp['max_ms']:.1f} ms (mean {comp['mean_ms']:.1f} ms); target p95 < "
                f"{SUGGESTION_TARGET_MS:g} ms at 1,000,000 tickets. The vector index holds the "
                "backfilled sample only (embedding every ticket takes hours on two cores)."
            )
            add("")
        vc = r.get("view_counts")
        if vc:
            add(
                "Saved views' live counts, before the servers start (in-process, as GET "
                "/internal/views computes them: one COUNT per view through the list's own "
                "filters), the four built-in views and six personal ones per agent: "
                + view_counts(vc)
                + f"; target p95 < {VIEW_COUNT_TARGET_MS:g} ms at 1,000,000 tickets."
            )
            add("")
        if r.get("bulk"):
            add(
                "Bulk actions through the API while nothing else runs (POST "
                "/internal/tickets/bulk, one request each, 1,000 tickets of their own): "
                + bulk_summary(r["bulk"])
                + f"; target < {BULK_TARGET_S:g} s each at 1,000,000 tickets."
            )
            add("")
        g = r["generate"]
        counts = g["counts"]
        add(
            f"Data set: {counts['tickets']:,} tickets in {counts['organizations']} organizations, "
            f"{counts['comments']:,} comments ({counts['internal_comments']:,} internal), "
            f"{counts['attachments']:,} attachment rows, {counts['audit']:,} audit rows, "
            f"{counts['staff']} staff, {counts['customers']:,} customer users; statuses "
            + ", ".join(f"{k} {v:,}" for k, v in sorted(g["statuses"].items()))
            + f". Generated and loaded in {g['seconds']:.0f} s. Database size "
            f"{r['database']['bytes'] / 2**30:.2f} GiB ("
            + ", ".join(
                f"{k} {v / 2**20:,.0f} MiB" for k, v in sorted(r["database"]["tables"].items())
            )
            + ")."
        )
        add("")
        peak, end = api_workers(r, "peak"), api_workers(r, "end")
        master_peak = r["rss"]["peak"].get("api", {}).get(r["rss"]["masters"].get("API"), 0)
        masters = r["rss"]["masters"]
        worker_peak = r["rss"]["peak"].get("worker", {})
        ceiling_end = {
            p: v
            for p, v in r["rss"]["end"].get("ceiling", {}).items()
            if p != masters.get("ceiling")
        }
        add(
            "Memory (RSS): API workers peak "
            + ", ".join(f"{v / MB:.0f} MB" for v in peak.values())
            + "; at the end "
            + ", ".join(f"{v / MB:.0f} MB" for v in end.values())
            + f"; gunicorn master {master_peak / MB:.0f} MB"
            + f"; worker process peak {max(worker_peak.values(), default=0) / MB:.0f} MB"
            + "; ceiling workers at the end "
            + ", ".join(f"{v / MB:.0f} MB" for v in ceiling_end.values())
            + "."
        )
        add("")
        add(stack_line(r))
        add("")
        lc = r["scenarios"].get("lifecycle", {})
        st = r["statements"]
        add(
            "Lifecycle mix, per ticket: accept 1, assign 1, status 3 (IN_PROGRESS, "
            "WAITING_CUSTOMER, RESOLVED), comment 3 (2 public replies, 1 internal note); accept "
            "and assign by a manager, the rest by the assignee; each wrk thread owns one "
            "connection and its own staged NEW tickets, so each ticket's commands run in order. "
            "Statuses in the API's log: "
            + "; ".join(
                f"{op} {st[f'lifecycle.{op}']['statuses']}"
                for op in LIFECYCLE_OPS
                if f"lifecycle.{op}" in st
            )
            + (
                ". Ran out of staged tickets!"
                if any(lc.get(x, {}).get("wrapped") for x in ("api", "ceiling"))
                else "."
            )
        )
        add("")

    if runs:
        add("## Scale curve (read scenarios, p95 with one connection, ms)")
        add("")
        add(
            "| scenario | "
            + " | ".join(f"{r['tickets']:,}" for r in runs)
            + " | growth first → last |"
        )
        add("|---|" + "---:|" * len(runs) + "---:|")
        series: dict[str, list[tuple[int, float]]] = {}
        for name in reads_run(runs):
            values = [r["scenarios"][name]["api_1"]["p95_us"] / 1000 for r in runs]
            if name in READ:  # the plot: the read scenarios (the table has the searches too)
                series[name] = [(r["tickets"], v) for r, v in zip(runs, values, strict=True)]
            growth = values[-1] / values[0] if values[0] else 0
            add(
                f"| {TITLES[name]} | "
                + " | ".join(f"{v:.1f}" for v in values)
                + f" | {growth:.2f}x |"
            )
        add("")
        if len(runs) > 1:
            plot.scale_curve(
                series,
                f"ATUM DESK: p95 with one connection ({when:%Y-%m-%d})",
                results / "scale-curve.png",
                results / "scale-curve.svg",
            )
            add("![scale curve](scale-curve.png)")
            add("")
    missing = [
        f"{t:,}" for t in (10_000, 100_000, 1_000_000) if t not in {r["tickets"] for r in runs}
    ]
    # Scenarios a run did not measure (BENCH_ONLY, or a run from before the scenario existed).
    absent = {
        name: [f"{r['tickets']:,}" for r in runs if name not in r["scenarios"]]
        for name in ("health", *READ, *SEARCHES, *WRITE)
    }
    absent = {name: scales for name, scales in absent.items() if scales}
    if missing or absent:
        add("## Not measured")
        add("")
        for name, scales in absent.items():
            add(f"- {TITLES[name]}: not run at {', '.join(scales)} tickets.")
        if missing:
            add(
                f"- Scales not run this time: {', '.join(missing)} tickets "
                "(`BENCH_SCALES=0.01,0.1,1 make bench` runs all three)."
            )
        add("")
    (results / "latest.md").write_text("\n".join(lines))
    (results / "latest.json").write_text(
        json.dumps(
            {
                "date": when.isoformat(),
                "machine": machine,
                "config": vars(cfg),
                "runs": runs,
                "targets": verdicts,
            },
            indent=1,
            default=str,
        )
    )
    return "\n".join(f"{verdict:8} {target} — {evidence}" for target, verdict, evidence in verdicts)
