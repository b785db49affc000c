"""`make eval`: AI triage on the labelled set eval/tickets.jsonl, leave-one-out, on a throwaway
database; prints the figures and writes eval/results/latest.md (and latest.json).

Run as ``cd api && uv run python ../eval/run.py``. The database server is the one of
ATUM_DATABASE_URL when set, else the embedded PostgreSQL under ATUM_DATA_DIR (started or joined).
The lexical engine always runs; the Ollama engine too when ATUM_OLLAMA_URL is set, answers and
has ATUM_OLLAMA_MODEL, otherwise the report says why it was skipped.

Exit status 1 when the lexical engine's category top-1 is below TARGET.
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

from app.config import Settings, get_settings  # noqa: E402

RESULTS = Path(os.environ.get("EVAL_RESULTS") or EVAL / "results").resolve()
TARGET = 0.80


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
    rows = triage_eval.load_set()
    groups = {r.duplicate_group for r in rows if r.duplicate_group}
    print(f"{len(rows)} labelled tickets, {len(groups)} duplicate groups", flush=True)
    reports: list[Report] = []
    skipped: list[str] = []
    async with triage_eval.throwaway_database(server_url(settings)) as url:
        print("lexical engine ...", file=sys.stderr, flush=True)
        reports.append(await triage_eval.run_engine(url, rows, settings, "lexical", progress))
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

    lexical = reports[0]
    met = lexical.category.accuracy >= TARGET
    facts = {
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "set": f"eval/tickets.jsonl: {len(rows)} tickets, {len(groups)} duplicate groups",
        "method": "leave-one-out (each ticket predicted from all the others as resolved history)",
        "confidence threshold (ATUM_AI_MIN_CONFIDENCE)": f"{settings.ai_min_confidence:g}",
        "target": f"lexical category top-1 >= {TARGET:.2f}: {'met' if met else 'NOT met'}",
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
    return 0 if met else 1


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
