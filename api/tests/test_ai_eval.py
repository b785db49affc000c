"""The AI triage evaluation (``make eval``) as a regression guard: the same code
(``eval/triage_eval.py``) on the same labelled sets (``eval/tickets.jsonl``, part A, and
``eval/tickets-styles.jsonl``, part B), on a throwaway database of the test server,
leave-one-out.

The floors sit just under the figures measured when they were set. Lexical engine, part A:
category top-1 0.733 against a majority baseline of 0.147, recall@5 0.872, coverage 0.320 with
0.944 accuracy on the covered tickets. Local engine, both parts: category top-1 0.914 (coverage
1.0), priority 0.609 (baseline 0.458), recall@5 0.809, 0.834 category top-1 with 10 labels per
category. An engine change that loses ground fails here.
"""

from __future__ import annotations

import sys
from collections import Counter
from pathlib import Path

import pytest

from app.ai import retrieval
from app.config import get_settings

EVAL = Path(__file__).resolve().parents[2] / "eval"
sys.path.insert(0, str(EVAL))

import triage_eval  # noqa: E402

CATEGORY_FLOOR = 0.70
RECALL_FLOOR = 0.85
COVERED_ACCURACY_FLOOR = 0.90
COVERAGE_FLOOR = 0.25

LOCAL_CATEGORY_FLOOR = 0.88
LOCAL_COVERAGE_FLOOR = 0.80
LOCAL_PRIORITY_FLOOR = 0.56
LOCAL_RECALL_FLOOR = 0.78
LOCAL_TEN_LABELS_FLOOR = 0.78


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


def test_the_second_part_is_in_other_styles_and_shares_groups_with_the_first() -> None:
    first, second = triage_eval.load_set(), triage_eval.load_set(triage_eval.STYLES, "B")
    assert len(second) >= 100
    assert {r.category for r in second} == {r.category for r in first}
    shared = {r.duplicate_group for r in first} & {r.duplicate_group for r in second} - {None}
    assert len(shared) >= 5, "some duplicates cross the parts (and the styles)"
    german = [r for r in second if any(w in r.document for w in (" ich ", " nicht ", " bitte "))]
    assert len(german) >= 20
    assert sum(len(r.description) > 800 for r in second) >= 20, "long forwarded threads"
    assert sum(len(r.description) < 120 for r in second) >= 20, "short mobile messages"


@pytest.fixture(scope="module")
async def report(server_url: str) -> triage_eval.Report:
    rows = triage_eval.load_set()
    async with triage_eval.throwaway_database(server_url) as url:
        return await triage_eval.run_engine(url, rows, get_settings(), "lexical")


@pytest.fixture(scope="module")
async def local(server_url: str) -> triage_eval.Report:
    rows = triage_eval.load_all()
    async with triage_eval.throwaway_database(server_url) as url:
        return await triage_eval.run_engine(url, rows, get_settings(), "local")


async def test_local_engine_meets_its_floors(local: triage_eval.Report) -> None:
    lines = triage_eval.summary_lines(local)
    assert local.tickets >= 325
    assert set(local.parts) == {"A", "B"}
    assert local.category.accuracy >= LOCAL_CATEGORY_FLOOR, lines
    assert local.category.coverage >= LOCAL_COVERAGE_FLOOR, lines
    assert local.category.covered_accuracy >= local.category.accuracy, lines
    assert local.priority.accuracy >= LOCAL_PRIORITY_FLOOR, lines
    assert local.priority.accuracy > local.priority.baseline + 0.1, lines
    assert local.recall_at_k >= LOCAL_RECALL_FLOOR, lines
    assert all(p.category.accuracy >= LOCAL_CATEGORY_FLOOR - 0.05 for p in local.parts.values())
    assert local.methods["classifier"] == local.tickets, "every prediction by a trained model"
    ten = next(p for p in local.curve if p["per_category"] == 10)
    assert ten["top1_accuracy"] >= LOCAL_TEN_LABELS_FLOOR, local.curve
    accuracies = [p["top1_accuracy"] for p in local.curve]
    assert accuracies == sorted(accuracies), "more labels, better suggestions"


async def test_the_relevance_floors_are_backed_by_the_set(local: triage_eval.Report) -> None:
    floors = local.floors
    assert floors["duplicate_pairs_at_or_above"] > 0.8
    assert floors["unrelated_pairs_at_or_above"] < 0.05
    chosen = next(row for row in local.kb_floors if row["floor"] == retrieval.KB_FLOOR)
    assert chosen["precision"] >= 0.75, local.kb_floors
    shown, total = (int(x) for x in chosen["unanswerable_shown"].split("/"))
    assert shown / total < 0.05, local.kb_floors


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
    for needle in (
        "| lexical | all | category |",
        "| lexical | part A | priority |",
        "recall@5",
        "Skipped:",
    ):
        assert needle in text
