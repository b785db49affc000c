"""The ollama engine against a loopback HTTP server written here that speaks Ollama's API
(``/api/chat`` and ``/api/embed``) with canned answers: valid JSON that is used, invalid JSON,
answers outside the offered vocabulary, 500s and answers slower than the timeout, all of which
fall back to the lexical result (status ready, engine "lexical"), never to an error. Embeddings
are stored in PostgreSQL and ranked by pgvector where the extension exists (the embedded test
server has it; Debian's PostgreSQL 15 does not) and in Python otherwise; both give the same
numbers.
"""

from __future__ import annotations

import contextlib
import json
import re
import threading
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from httpx import AsyncClient
from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession

from app.ai import retrieval, vectors
from app.ai.engines import OllamaEngine, TicketText
from app.ai.kb import load_docs
from app.ai.ollama import LlmTriage
from app.config import Settings
from app.models import TicketEmbedding
from app.models.enums import Role
from app.models.enums import TicketStatus as S
from tests import test_ai_triage as triage
from tests.factories import make_org, make_user
from tests.test_ai_triage import (
    World,
    add_ticket,
    open_ticket,
    run_worker_jobs,
    suggestions_of,
    tagger,
    ticket_state,
)

# The committed-data fixtures of the lexical tests, shared.
committed, live, world = triage.committed, triage.live, triage.world

EMBED_MODEL = "fake-embed"
CHAT_MODEL = "fake-chat"
# The fake embedder's concepts: a text's vector counts the words of each group it contains.
CONCEPTS = (("printer", "toner", "paper", "cartridge"), ("vpn", "tunnel"), ("outbox", "smtp"))


def embed(text_: str) -> list[float]:
    lowered = text_.lower()
    vector = [float(sum(lowered.count(word) for word in group)) for group in CONCEPTS]
    return [*vector, 0.1]


@dataclass
class FakeOllama:
    """What the server answers on /api/chat: "ok", "invalid", "unoffered", "error", "slow"."""

    chat: str = "ok"
    requests: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    release: threading.Event = field(default_factory=threading.Event)
    url: str = ""

    def answer(self, payload: dict[str, Any]) -> str:
        schema = payload["format"]
        categories = [
            option["enum"]
            for option in schema["properties"]["category"].get("anyOf", [])
            if "enum" in option
        ]
        sources = [s for s in schema["properties"]["sources"]["items"]["enum"] if s]
        prompt = payload["messages"][-1]["content"]
        offered = categories[0] if categories else []
        # Like a model reading its context: the category of the most similar past ticket.
        seen = re.findall(r"\(category (\S+), priority", prompt)
        category = next((c for c in seen if c in offered), None)
        if self.chat == "unoffered":
            category = "astrology"
        if self.chat == "invalid":
            return '{"summary": "half an answer", "category": '
        return json.dumps(
            {
                "summary": "The LLM summary.",
                "category": category,
                "category_confidence": 0.9,
                "priority": "P1",
                "priority_confidence": 0.8,
                "reply": f"Hello, we restarted the relay as before [{sources[0]}].",
                "sources": sources[:1],
            }
        )


@pytest.fixture
def ollama() -> Iterator[FakeOllama]:
    fake = FakeOllama()

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: Any) -> None:
            pass

        def reply(self, status: int, body: Any) -> None:
            data = body.encode() if isinstance(body, str) else json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            with contextlib.suppress(OSError):
                self.wfile.write(data)

        def do_POST(self) -> None:
            payload = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            fake.requests.append((self.path, payload))
            if self.path == "/api/embed":
                inputs = payload["input"]
                self.reply(
                    200, {"model": payload["model"], "embeddings": [embed(t) for t in inputs]}
                )
            elif self.path == "/api/chat":
                if fake.chat == "error":
                    self.reply(500, {"error": "model crashed"})
                    return
                if fake.chat == "slow":
                    fake.release.wait(30)
                content = fake.answer(payload)
                self.reply(
                    200,
                    {
                        "model": payload["model"],
                        "message": {"role": "assistant", "content": content},
                        "done": True,
                    },
                )
            else:
                self.reply(404, {"error": "not found"})

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    fake.url = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        yield fake
    finally:
        fake.release.set()
        server.shutdown()
        server.server_close()


def settings_for(fake: FakeOllama) -> Settings:
    return Settings(
        ollama_url=fake.url,
        ollama_model=CHAT_MODEL,
        ollama_embed_model=EMBED_MODEL,
        ollama_timeout_seconds=0.5,
    )


async def corpus(db: AsyncSession) -> tuple[Any, TicketText]:
    """Two resolved "printing" tickets and a new one like them (the one analysed)."""
    w = tagger()
    org = await make_org(db)
    customer = await make_user(db, role=Role.CUSTOMER_USER, org=org)
    for _ in range(2):
        add_ticket(
            db,
            org,
            customer,
            title=w("printer jammed"),
            category="printing",
            priority="P3",
            resolution="Cleared the tray.",
        )
    new = add_ticket(
        db,
        org,
        customer,
        title=w("printer jammed"),
        description=w("printer jammed again"),
        status=S.NEW,
    )
    await db.flush()
    return w, TicketText(new.id, new.number, new.title, new.description)


class TestOllamaEngine:
    async def test_a_valid_answer_is_used_and_the_request_follows_the_protocol(
        self, db: AsyncSession, ollama: FakeOllama
    ) -> None:
        _, ticket = await corpus(db)
        result = await OllamaEngine(settings_for(ollama)).analyse(db, ticket)

        assert result.engine == "ollama"
        assert result.model == CHAT_MODEL
        assert result.summary == "The LLM summary."
        assert result.category is not None
        assert (result.category.value, result.category.confidence) == ("printing", 0.9)
        assert result.priority is not None and result.priority.value == "P1"
        assert result.reply is not None
        cited = {f"T{h.number}" for h in result.similar}
        assert any(f"[{tag}]" in result.reply for tag in cited)
        chats = [p for path, p in ollama.requests if path == "/api/chat"]
        assert len(chats) == 1
        assert chats[0]["model"] == CHAT_MODEL and chats[0]["stream"] is False
        assert chats[0]["format"]["additionalProperties"] is False
        assert set(chats[0]["format"]["required"]) == set(LlmTriage.model_fields)

    @pytest.mark.parametrize("behaviour", ["invalid", "unoffered", "error", "slow"])
    async def test_any_failure_falls_back_to_the_lexical_result(
        self, db: AsyncSession, ollama: FakeOllama, behaviour: str
    ) -> None:
        ollama.chat = behaviour
        _, ticket = await corpus(db)
        result = await OllamaEngine(settings_for(ollama)).analyse(db, ticket)

        assert result.engine == "lexical"
        assert result.reply is None
        assert result.summary.startswith(ticket.title)
        assert result.category is not None and result.category.value == "printing"
        assert result.notes, "the reason of the fallback is kept for the log"

    async def test_without_ollama_at_all_the_lexical_result_is_given(
        self, db: AsyncSession
    ) -> None:
        _, ticket = await corpus(db)
        closed = Settings(
            ollama_url="http://127.0.0.1:9",
            ollama_embed_model=EMBED_MODEL,
            ollama_timeout_seconds=0.5,
        )
        result = await OllamaEngine(closed).analyse(db, ticket)
        assert (result.engine, result.reply) == ("lexical", None)
        assert result.category is not None

    async def test_embeddings_are_stored_and_find_a_paraphrase_without_shared_words(
        self, db: AsyncSession, ollama: FakeOllama, tmp_path: Path
    ) -> None:
        (tmp_path / "GUIDE.md").write_text("# Guide\n\n## Printers\n\nRefill the toner.\n")
        await load_docs(db, tmp_path)
        w, ticket = await corpus(db)
        org = await make_org(db)
        customer = await make_user(db, role=Role.CUSTOMER_USER, org=org)
        paraphrase = add_ticket(
            db, org, customer, title=f"toner cartridge {w('empty')}", category="supplies"
        )
        unrelated = add_ticket(
            db, org, customer, title=f"vpn tunnel {w('down')}", category="network"
        )
        await db.flush()
        for other in (paraphrase, unrelated):
            db.add(
                TicketEmbedding(
                    ticket_id=other.id,
                    model=EMBED_MODEL,
                    content_hash="x",
                    embedding=embed(other.title),
                )
            )
        document = f"printer paper {w('jammed')}"
        await db.flush()

        lexical = await retrieval.similar_tickets(db, ticket.id, document)
        assert paraphrase.id not in {h.id for h in lexical}
        hybrid = await retrieval.similar_tickets(
            db, ticket.id, document, embedding=embed(document), embed_model=EMBED_MODEL
        )
        ranked = [h.id for h in hybrid]
        assert paraphrase.id in ranked
        assert unrelated.id not in ranked[: ranked.index(paraphrase.id)]

        opted_in = settings_for(ollama).model_copy(update={"ai_operator_docs": True})
        await OllamaEngine(opted_in).analyse(db, ticket)  # docs passages may be cited
        stored = (
            await db.execute(select(TicketEmbedding).where(TicketEmbedding.ticket_id == ticket.id))
        ).scalar_one()
        assert stored.model == EMBED_MODEL
        assert stored.embedding == pytest.approx(embed(ticket.document))
        passages = await db.execute(
            text("SELECT embed_model, cardinality(embedding) FROM kb_passages")
        )
        assert [tuple(r) for r in passages.all()] == [(EMBED_MODEL, len(CONCEPTS) + 1)]

    async def test_embeddings_of_another_model_are_compared_exactly(self, db: AsyncSession) -> None:
        """An Ollama model's vectors (any dimension) are searched exactly, in NumPy; the HNSW
        index serves only the local model (tests/test_ai_local.py)."""
        w, analysed = await corpus(db)
        org = await make_org(db)
        customer = await make_user(db, role=Role.CUSTOMER_USER, org=org)
        others = [add_ticket(db, org, customer, title=w(t)) for t in ("a b", "c d", "e f")]
        await db.flush()
        for i, other in enumerate(others):
            db.add(
                TicketEmbedding(
                    ticket_id=other.id,
                    model=EMBED_MODEL,
                    content_hash="x",
                    embedding=[1.0, float(i), -0.5 * i, 0.25],
                )
            )
        await db.flush()
        query = [0.5, 1.0, 0.0, 2.0]
        ids = [o.id for o in others]
        found = await vectors.nearest_tickets(
            db, EMBED_MODEL, query, analysed.id, also=ids, limit=len(ids)
        )
        assert set(ids) <= set(found)
        # [1, 0, 0, .25] . [.5, 1, 0, 2] / (|a| |q|) = 1 / (1.0308 * 2.2913)
        assert found[ids[0]] == pytest.approx(0.42339, abs=1e-4)
        assert found[ids[1]] > found[ids[0]]


class TestThroughTheWorker:
    async def test_ollama_suggestion_with_reply_is_ready_after_the_worker_ran(
        self, live: AsyncClient, world: World, committed: AsyncSession, ollama: FakeOllama
    ) -> None:
        ticket = await open_ticket(live, world)
        assert (await suggestions_of(live, world.agent, ticket["id"]))["status"] == "pending"
        before = await ticket_state(committed, [uuid.UUID(ticket["id"])])
        await committed.commit()

        await run_worker_jobs(settings_for(ollama))

        body = await suggestions_of(live, world.agent, ticket["id"])
        assert (body["status"], body["engine"]) == ("ready", "ollama")
        assert body["summary"] == "The LLM summary."
        assert body["category"] == {
            "value": "mail",
            "confidence": 0.9,
            "method": "llm",
            "model_version": None,
        }
        assert body["priority"] == {
            "value": "P1",
            "confidence": 0.8,
            "method": "llm",
            "model_version": None,
        }
        assert body["reply"].startswith("Hello, we restarted the relay")
        assert await ticket_state(committed, [uuid.UUID(ticket["id"])]) == before

    @pytest.mark.parametrize("behaviour", ["slow", "invalid"])
    async def test_a_failing_ollama_gives_a_ready_lexical_suggestion(
        self,
        live: AsyncClient,
        world: World,
        committed: AsyncSession,
        ollama: FakeOllama,
        behaviour: str,
    ) -> None:
        ollama.chat = behaviour
        ticket = await open_ticket(live, world)

        await run_worker_jobs(settings_for(ollama))

        body = await suggestions_of(live, world.agent, ticket["id"])
        assert (body["status"], body["engine"], body["reply"]) == ("ready", "lexical", None)
        assert body["summary"].startswith(ticket["title"])
        assert body["category"]["value"] == "mail"
