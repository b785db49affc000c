"""The AI triage evaluation (``make eval``) as a regression guard: the same code
(``eval/triage_eval.py``) on the same labelled set (``eval/tickets.jsonl``), on a throwaway
database of the test server, leave-one-out with the lexical engine.

The floors sit just under the figures measured when they were set (category top-1 0.733 against
a majority baseline of 0.147, recall@5 of duplicates 0.872 over 78 ordered pairs, coverage 0.320
with 0.944 accuracy on the covered tickets): an engine change that loses ground fails here.
"""

from __future__ import annotations

import sys
from collections import Counter
from pathlib import Path

import pytest

from app.config import get_settings

EVAL = Path(__file__).resolve().parents[2] / "eval"
sys.path.insert(0, str(EVAL))

import triage_eval  # noqa: E402

CATEGORY_FLOOR = 0.70
RECALL_FLOOR = 0.85
COVERED_ACCURACY_FLOOR = 0.90
COVERAGE_FLOOR = 0.25


def test_the_set_is_large_labelled_and_has_enough_duplicate_pairs() -> None:
    rows = triage_eval.load_set()
    assert len(rows) >= 200
    assert {r.priority for r in rows} == {"P1", "P2", "P3", "P4"}
    priorities = Counter(r.priority for r in rows)
    assert priorities["P1"] < priorities["P2"] < priorities["P3"], "a realistic, skewed mix"
    groups = Counter(r.duplicate_group for r in rows if r.duplicate_group)
    assert all(n >= 2 for n in groups.values())
    assert sum(n * (n - 1) // 2 for n in groups.values()) >= 30
    assert len({r.title.lower() for r in rows}) == len(rows), "no repeated titles"


@pytest.fixture(scope="module")
async def report(server_url: str) -> triage_eval.Report:
    rows = triage_eval.load_set()
    async with triage_eval.throwaway_database(server_url) as url:
        return await triage_eval.run_engine(url, rows, get_settings(), "lexical")


async def test_lexical_engine_meets_its_floors(report: triage_eval.Report) -> None:
    category, priority = report.category, report.priority
    assert report.tickets >= 200
    assert category.accuracy >= CATEGORY_FLOOR, triage_eval.summary_lines(report)
    assert category.accuracy >= category.baseline + 0.4, triage_eval.summary_lines(report)
    assert priority.accuracy > priority.baseline, triage_eval.summary_lines(report)
    assert category.coverage >= COVERAGE_FLOOR, triage_eval.summary_lines(report)
    assert category.covered_accuracy >= COVERED_ACCURACY_FLOOR, triage_eval.summary_lines(report)
    assert category.covered_accuracy > category.accuracy, "the threshold must mean something"
    assert report.duplicate_pairs >= 60
    assert report.recall_at_k >= RECALL_FLOOR, triage_eval.summary_lines(report)


async def test_the_report_names_every_figure(report: triage_eval.Report) -> None:
    text = triage_eval.markdown([report], ["ollama engine: ATUM_OLLAMA_URL is not set"], {})
    for needle in ("| lexical | category |", "| lexical | priority |", "recall@5", "Skipped:"):
        assert needle in text
