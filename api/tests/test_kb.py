"""The knowledge base: staff articles (CRUD, validation, who may do what, the audit trail), the
customer deflection (public articles only, ranked, never an internal one: not in the list, and
its detail answers exactly like a random id), and the articles in the AI knowledge base (their
passages are replaced with every write, cited by ticket suggestions after the worker ran, left
alone by the docs sync, embedded by the ollama engine and found by full text before that).
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from httpx import AsyncClient
from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from app.ai import retrieval
from app.ai.engines import OllamaEngine, TicketText
from app.ai.kb import DOCS_DIR, load_docs
from app.models import AuditLog, KbArticle, KbPassage
from app.models.enums import Role
from app.models.enums import TicketStatus as S
from tests.factories import bearer_headers as headers_for
from tests.factories import login, make_org, make_user
from tests.test_ai_ollama import EMBED_MODEL, FakeOllama, embed, ollama, settings_for
from tests.test_ai_triage import (
    LEXICAL_WITH_DOCS,
    add_ticket,
    committed,
    live,
    run_worker_jobs,
    tagger,
)
from tests.test_cli import atum

__all__ = ["committed", "live", "ollama"]

STAFF_URL = "/api/internal/kb/articles"
PORTAL_URL = "/api/kb/articles"
ROLES = (Role.CUSTOMER_USER, Role.CUSTOMER_ADMIN, Role.AGENT, Role.MANAGER, Role.ADMIN)
Headers = dict[str, str]


@pytest.fixture
async def people(db: AsyncSession) -> dict[Role, Headers]:
    org = await make_org(db)
    out: dict[Role, Headers] = {}
    for role in ROLES:
        user = await make_user(db, role=role, org=org if not role.is_staff else None)
        out[role] = await headers_for(db, user)
    return out


async def create(
    client: AsyncClient, headers: Headers, title: str, body: str, visibility: str = "internal"
) -> dict[str, Any]:
    response = await client.post(
        STAFF_URL, json={"title": title, "body": body, "visibility": visibility}, headers=headers
    )
    assert response.status_code == 201, response.text
    return response.json()  # type: ignore[no-any-return]


async def passages_of(db: AsyncSession, article_id: str) -> list[tuple[str, str]]:
    rows = await db.execute(
        select(KbPassage.title, KbPassage.body)
        .where(KbPassage.source == f"kb:{article_id}")
        .order_by(KbPassage.position)
    )
    return [tuple(r) for r in rows.all()]  # type: ignore[misc]


async def audit_of(db: AsyncSession, article_id: str) -> list[AuditLog]:
    rows = await db.execute(
        select(AuditLog)
        .where(AuditLog.entity_type == "kb_article", AuditLog.entity_id == uuid.UUID(article_id))
        .order_by(AuditLog.seq)
    )
    return list(rows.scalars())


# ------------------------------------------------------------------------------ staff articles


class TestStaffArticles:
    async def test_create_read_list_update_delete(
        self, client: AsyncClient, db: AsyncSession, people: dict[Role, Headers]
    ) -> None:
        agent, manager = people[Role.AGENT], people[Role.MANAGER]
        body = "# Ignored heading\n\nRestart the **print spooler** service.\n\n## Then\n\nPrint."
        created = await create(client, agent, "  Printer queue stuck  ", body, "public")
        assert created["title"] == "Printer queue stuck"
        assert created["visibility"] == "public"
        assert created["body"] == body
        assert created["created_by"]["id"] == created["updated_by"]["id"]
        assert created["created_by"]["name"]
        article_id = created["id"]

        detail = await client.get(f"{STAFF_URL}/{article_id}", headers=manager)
        assert detail.status_code == 200
        assert detail.json() == created

        patched = await client.patch(
            f"{STAFF_URL}/{article_id}",
            json={"title": "Print queue stuck", "visibility": "internal"},
            headers=manager,
        )
        assert patched.status_code == 200, patched.text
        after = patched.json()
        assert (after["title"], after["visibility"], after["body"]) == (
            "Print queue stuck",
            "internal",
            body,
        )
        assert after["updated_by"]["id"] != after["created_by"]["id"]
        assert after["updated_at"] >= created["updated_at"]

        listed = await client.get(STAFF_URL, params={"q": "spooler"}, headers=agent)
        assert listed.status_code == 200
        items = listed.json()["items"]
        assert [i["id"] for i in items] == [article_id]
        assert items[0]["excerpt"].startswith("Ignored heading Restart the print spooler")
        assert "**" not in items[0]["excerpt"]
        assert set(items[0]) == {"id", "title", "visibility", "excerpt", "updated_by", "updated_at"}

        assert (
            await client.delete(f"{STAFF_URL}/{article_id}", headers=manager)
        ).status_code == 204
        gone = await client.get(f"{STAFF_URL}/{article_id}", headers=agent)
        assert gone.status_code == 404
        assert (
            await client.delete(f"{STAFF_URL}/{article_id}", headers=manager)
        ).status_code == 404

    async def test_list_pages_newest_change_first_and_search_filters(
        self, client: AsyncClient, db: AsyncSession, people: dict[Role, Headers]
    ) -> None:
        w = tagger()
        agent = people[Role.AGENT]
        ids = [
            (await create(client, agent, f"Note {n}", w(f"shared word{n} pagination")))["id"]
            for n in range(3)
        ]
        await create(client, agent, "Unrelated", w("something else entirely"))
        pages: list[list[dict[str, Any]]] = []
        cursor: str | None = None
        while True:
            params: dict[str, Any] = {"q": w("pagination"), "limit": 2}
            if cursor:
                params["cursor"] = cursor
            page = (await client.get(STAFF_URL, params=params, headers=agent)).json()
            pages.append(page["items"])
            cursor = page["next_cursor"]
            if cursor is None:
                break
        assert [len(p) for p in pages] == [2, 1]
        seen = [(item["updated_at"], item["id"]) for p in pages for item in p]
        assert sorted(i for _, i in seen) == sorted(ids)
        assert seen == sorted(seen, reverse=True)
        bad = await client.get(STAFF_URL, params={"cursor": "not-a-cursor"}, headers=agent)
        assert bad.status_code == 422

    @pytest.mark.parametrize(
        ("payload", "field"),
        [
            ({"title": "T", "body": "B", "visibility": "internal", "pinned": True}, "pinned"),
            ({"title": "x" * 201, "body": "B"}, "title"),
            ({"title": "   ", "body": "B"}, "title"),
            ({"title": "T", "body": "b" * 50_001}, "body"),
            ({"title": "T", "body": ""}, "body"),
            ({"title": "T", "body": "B", "visibility": "secret"}, "visibility"),
            ({"body": "B"}, "title"),
        ],
    )
    async def test_create_validation(
        self,
        client: AsyncClient,
        db: AsyncSession,
        people: dict[Role, Headers],
        payload: dict[str, Any],
        field: str,
    ) -> None:
        before = (await db.execute(select(func.count()).select_from(KbArticle))).scalar_one()
        response = await client.post(STAFF_URL, json=payload, headers=people[Role.AGENT])
        assert response.status_code == 422, response.text
        assert field in [e["loc"][-1] for e in response.json()["detail"]]
        after = (await db.execute(select(func.count()).select_from(KbArticle))).scalar_one()
        assert after == before

    async def test_limits_are_inclusive_and_update_validates_too(
        self, client: AsyncClient, people: dict[Role, Headers]
    ) -> None:
        agent = people[Role.AGENT]
        article = await create(client, agent, "t" * 200, "b" * 50_000)
        url = f"{STAFF_URL}/{article['id']}"
        for payload in ({"owner": "me"}, {"title": "x" * 201}, {"body": "b" * 50_001}):
            response = await client.patch(url, json=payload, headers=agent)
            assert response.status_code == 422, payload
        assert (await client.get(url, headers=agent)).json()["title"] == "t" * 200

    async def test_the_role_matrix(
        self, client: AsyncClient, db: AsyncSession, people: dict[Role, Headers]
    ) -> None:
        article = await create(client, people[Role.ADMIN], "Matrix", "Body of the matrix.")
        url = f"{STAFF_URL}/{article['id']}"
        expected = {
            # role: (list, create, read, update, delete)
            Role.CUSTOMER_USER: (403, 403, 403, 403, 403),
            Role.CUSTOMER_ADMIN: (403, 403, 403, 403, 403),
            Role.AGENT: (200, 201, 200, 200, 403),
            Role.MANAGER: (200, 201, 200, 200, 204),
        }
        for role, statuses in expected.items():
            h = people[role]
            got = (
                (await client.get(STAFF_URL, headers=h)).status_code,
                (
                    await client.post(STAFF_URL, json={"title": "N", "body": "B"}, headers=h)
                ).status_code,
                (await client.get(url, headers=h)).status_code,
                (await client.patch(url, json={"body": f"By {role}"}, headers=h)).status_code,
                (await client.delete(url, headers=h)).status_code,
            )
            assert got == statuses, role
        assert (await client.get(STAFF_URL)).status_code == 401
        for role in (Role.AGENT, Role.MANAGER, Role.ADMIN):
            assert (
                await client.get(PORTAL_URL, params={"q": "matrix"}, headers=people[role])
            ).status_code == 403
            assert (
                await client.get(f"{PORTAL_URL}/{uuid.uuid4()}", headers=people[role])
            ).status_code == 403

    async def test_every_write_is_audited_with_its_actor(
        self, client: AsyncClient, db: AsyncSession, people: dict[Role, Headers]
    ) -> None:
        agent, manager = people[Role.AGENT], people[Role.MANAGER]
        article = await create(client, agent, "Audited", "First text.", "internal")
        url = f"{STAFF_URL}/{article['id']}"
        assert (await client.patch(url, json={"visibility": "public"}, headers=agent)).is_success
        # Nothing changed: nothing to audit.
        same = await client.patch(url, json={"visibility": "public"}, headers=agent)
        assert same.status_code == 200
        assert (await client.patch(url, json={"body": "Second text."}, headers=agent)).is_success
        assert (await client.delete(url, headers=manager)).status_code == 204

        rows = await audit_of(db, article["id"])
        assert [r.action for r in rows] == [
            "kb_article.created",
            "kb_article.updated",
            "kb_article.updated",
            "kb_article.deleted",
        ]
        agent_id = uuid.UUID(article["created_by"]["id"])
        assert [r.actor_id for r in rows[:3]] == [agent_id] * 3
        assert rows[3].actor_id != agent_id and rows[3].actor_id is not None
        assert rows[0].new_value is not None
        assert (rows[0].new_value["title"], rows[0].new_value["visibility"]) == (
            "Audited",
            "internal",
        )
        assert (rows[1].old_value, rows[1].new_value) == (
            {"visibility": "internal"},
            {"visibility": "public"},
        )
        assert rows[2].new_value is not None and set(rows[2].new_value) == {"body_sha256"}
        assert rows[3].old_value is not None and rows[3].old_value["title"] == "Audited"

    async def test_a_refused_write_changes_and_audits_nothing(
        self, client: AsyncClient, db: AsyncSession, people: dict[Role, Headers]
    ) -> None:
        article = await create(client, people[Role.AGENT], "Kept", "Kept text.")
        url = f"{STAFF_URL}/{article['id']}"
        assert (await client.delete(url, headers=people[Role.AGENT])).status_code == 403
        customer = people[Role.CUSTOMER_ADMIN]
        assert (await client.patch(url, json={"title": "X"}, headers=customer)).status_code == 403
        assert [r.action for r in await audit_of(db, article["id"])] == ["kb_article.created"]
        assert (await client.get(url, headers=people[Role.AGENT])).json()["title"] == "Kept"
        assert await passages_of(db, article["id"])


# ---------------------------------------------------------------------- customer deflection


class TestDeflection:
    async def test_a_paraphrased_problem_finds_the_right_public_article_first(
        self, client: AsyncClient, people: dict[Role, Headers]
    ) -> None:
        agent = people[Role.AGENT]
        password = await create(
            client,
            agent,
            "Resetting a forgotten password",
            "If you forgot your password, open the sign-in page and choose **Forgot password**. "
            "We e-mail you a reset link that works for one hour.",
            "public",
        )
        vpn = await create(
            client,
            agent,
            "VPN disconnects every few minutes",
            "When the VPN tunnel keeps dropping, lower the MTU of the client to 1400.",
            "public",
        )
        printer = await create(
            client,
            agent,
            "Printer shows paper jam",
            "Open tray 2, remove the jammed paper and close the tray again.",
            "public",
        )
        mine = {password["id"], vpn["id"], printer["id"]}

        async def ask(question: str) -> list[dict[str, Any]]:
            response = await client.get(
                PORTAL_URL, params={"q": question}, headers=people[Role.CUSTOMER_USER]
            )
            assert response.status_code == 200, response.text
            assert len(response.json()["items"]) <= 5
            return [i for i in response.json()["items"] if i["id"] in mine]

        found = await ask("I can't log in because I forgot the password for my account")
        assert found[0]["id"] == password["id"]
        assert found[0]["title"] == "Resetting a forgotten password"
        assert set(found[0]) == {"id", "title", "excerpt"}
        assert "reset link" in found[0]["excerpt"] and "**" not in found[0]["excerpt"]
        assert (await ask("our vpn connection keeps disconnecting"))[0]["id"] == vpn["id"]
        assert (await ask("paper stuck inside the printer tray"))[0]["id"] == printer["id"]
        assert await ask("the coffee machine is broken") == []

    async def test_at_most_five_results(
        self, client: AsyncClient, people: dict[Role, Headers]
    ) -> None:
        w = tagger()
        for n in range(7):
            await create(client, people[Role.AGENT], f"Article {n}", w("toner refill"), "public")
        response = await client.get(
            PORTAL_URL, params={"q": w("toner refill")}, headers=people[Role.CUSTOMER_USER]
        )
        assert len(response.json()["items"]) == 5

    async def test_customers_never_see_an_internal_article(
        self, client: AsyncClient, people: dict[Role, Headers]
    ) -> None:
        w = tagger()
        agent = people[Role.AGENT]
        internal = await create(client, agent, w("gateway secret"), w("gateway secret runbook"))
        public = await create(client, agent, w("gateway public"), w("gateway help"), "public")
        for role in (Role.CUSTOMER_USER, Role.CUSTOMER_ADMIN):
            headers = people[role]
            listed = await client.get(
                PORTAL_URL, params={"q": w("gateway secret")}, headers=headers
            )
            assert [i["id"] for i in listed.json()["items"]] == [public["id"]]

            shown = await client.get(f"{PORTAL_URL}/{public['id']}", headers=headers)
            assert shown.status_code == 200
            assert shown.json() == {
                "id": public["id"],
                "title": public["title"],
                "body": public["body"],
                "updated_at": public["updated_at"],
            }

            hidden = await client.get(f"{PORTAL_URL}/{internal['id']}", headers=headers)
            random = await client.get(f"{PORTAL_URL}/{uuid.uuid4()}", headers=headers)
            assert hidden.status_code == random.status_code == 404
            assert hidden.json() == random.json()
            assert w("gateway secret") not in hidden.text

        # Made internal later: gone for customers at once.
        await client.patch(
            f"{STAFF_URL}/{public['id']}", json={"visibility": "internal"}, headers=agent
        )
        headers = people[Role.CUSTOMER_USER]
        assert (
            await client.get(f"{PORTAL_URL}/{public['id']}", headers=headers)
        ).status_code == 404
        listed = await client.get(PORTAL_URL, params={"q": w("gateway")}, headers=headers)
        assert listed.json()["items"] == []

    async def test_the_library_lists_every_public_article_and_no_internal_one(
        self, client: AsyncClient, people: dict[Role, Headers]
    ) -> None:
        w = tagger()
        agent = people[Role.AGENT]
        internal = await create(client, agent, w("vault secret"), w("vault runbook"))
        public = [
            await create(client, agent, w(f"library {n}"), w("library help"), "public")
            for n in range(3)
        ]
        headers = people[Role.CUSTOMER_USER]
        seen: list[str] = []
        cursor = None
        while True:
            params = {"limit": "2", **({"cursor": cursor} if cursor else {})}
            page = await client.get("/api/kb/library", params=params, headers=headers)
            assert page.status_code == 200, page.text
            body = page.json()
            assert all(set(i) == {"id", "title", "excerpt"} for i in body["items"])
            seen += [i["id"] for i in body["items"]]
            cursor = body["next_cursor"]
            if cursor is None:
                break
        assert internal["id"] not in seen
        # Every page's articles once (other tests' public articles may be listed too).
        assert len(seen) == len(set(seen))
        assert {a["id"] for a in public} <= set(seen)
        staff = await client.get("/api/kb/library", headers=agent)
        assert staff.status_code == 403

    async def test_question_is_bounded_and_nothing_matches_without_one(
        self, client: AsyncClient, people: dict[Role, Headers]
    ) -> None:
        headers = people[Role.CUSTOMER_USER]
        assert (await client.get(PORTAL_URL, headers=headers)).json() == {"items": []}
        long = await client.get(PORTAL_URL, params={"q": "a" * 2001}, headers=headers)
        assert long.status_code == 422
        only_stopwords = await client.get(PORTAL_URL, params={"q": "it is the"}, headers=headers)
        assert only_stopwords.json() == {"items": []}

    async def test_customer_schemas_carry_no_internal_fields(self, client: AsyncClient) -> None:
        schemas = (await client.get("/api/openapi.json")).json()["components"]["schemas"]
        internal = {"created_by", "updated_by", "visibility", "created_at"}
        for name in ("CustomerKbArticle", "CustomerKbMatch"):
            assert not internal & set(schemas[name]["properties"]), name


# ------------------------------------------------------------------ the AI knowledge base


class TestPassages:
    async def test_passages_follow_every_write(
        self, client: AsyncClient, db: AsyncSession, people: dict[Role, Headers]
    ) -> None:
        w = tagger()
        agent = people[Role.AGENT]
        article = await create(
            client,
            agent,
            "Mail relay",
            f"Intro {w('relay')}.\n\n## Restart\n\nRun {w('restart relay')}.",
        )
        assert await passages_of(db, article["id"]) == [
            ("Mail relay", f"Intro {w('relay')}."),
            ("Mail relay / Restart", f"Run {w('restart relay')}."),
        ]
        hits = await retrieval.kb_passages(db, w("restart"))
        assert [(h.source, h.title) for h in hits] == [
            (f"kb:{article['id']}", "Mail relay / Restart")
        ]

        url = f"{STAFF_URL}/{article['id']}"
        await client.patch(url, json={"body": f"Now {w('flush queue')}."}, headers=agent)
        assert await passages_of(db, article["id"]) == [("Mail relay", f"Now {w('flush queue')}.")]
        assert await retrieval.kb_passages(db, w("restart")) == []

        await client.patch(url, json={"title": "Relay queue"}, headers=agent)
        assert [t for t, _ in await passages_of(db, article["id"])] == ["Relay queue"]

        await client.delete(url, headers=people[Role.MANAGER])
        assert await passages_of(db, article["id"]) == []
        assert await retrieval.kb_passages(db, w("flush queue")) == []

    async def test_the_docs_sync_leaves_article_passages_alone(
        self, client: AsyncClient, db: AsyncSession, people: dict[Role, Headers], tmp_path: Path
    ) -> None:
        article = await create(client, people[Role.AGENT], "Kept article", "Kept body.")
        (tmp_path / "ONLY.md").write_text("# Only\n\nThe one document left.\n")
        await load_docs(db, tmp_path)  # every other document "disappeared"
        sources = set((await db.execute(text("SELECT DISTINCT source FROM kb_passages"))).scalars())
        assert sources == {"docs/ONLY.md", f"kb:{article['id']}"}
        await load_docs(db, DOCS_DIR)
        assert await passages_of(db, article["id"]) == [("Kept article", "Kept body.")]
        sources = set((await db.execute(text("SELECT DISTINCT source FROM kb_passages"))).scalars())
        assert "docs/ONLY.md" not in sources and "docs/RUNBOOK.md" in sources

    async def test_the_ollama_engine_embeds_article_passages_and_full_text_finds_new_ones(
        self,
        client: AsyncClient,
        db: AsyncSession,
        people: dict[Role, Headers],
        ollama: FakeOllama,
        tmp_path: Path,
    ) -> None:
        await load_docs(db, tmp_path)  # no documents: only the article's passages
        w = tagger()
        agent = people[Role.AGENT]
        article = await create(client, agent, "Toner", f"Refill the toner {w('cartridge')}.")
        org = await make_org(db)
        customer = await make_user(db, role=Role.CUSTOMER_USER, org=org)
        ticket = add_ticket(db, org, customer, title=w("printer empty"), status=S.NEW)
        await db.flush()
        await OllamaEngine(settings_for(ollama)).analyse(
            db, TicketText(ticket.id, ticket.number, ticket.title, ticket.description)
        )
        rows = (
            await db.execute(
                select(KbPassage.embed_model, KbPassage.embedding).where(
                    KbPassage.source == f"kb:{article['id']}"
                )
            )
        ).all()
        assert [(m, list(e)) for m, e in rows] == [
            (EMBED_MODEL, pytest.approx(embed(f"Toner\n\nRefill the toner {w('cartridge')}.")))
        ]

        # Rewritten: new passages, no embedding yet, still found by full text.
        url = f"{STAFF_URL}/{article['id']}"
        await client.patch(url, json={"body": f"Swap the {w('drum')}."}, headers=agent)
        rows = (
            await db.execute(
                select(KbPassage.embed_model).where(KbPassage.source == f"kb:{article['id']}")
            )
        ).all()
        assert rows == [(None,)]
        hits = await retrieval.kb_passages(
            db, w("drum"), embedding=embed("vpn tunnel"), embed_model=EMBED_MODEL
        )
        assert [h.source for h in hits] == [f"kb:{article['id']}"]


# ------------------------------------------------- suggestions through the worker (committed)


@pytest.fixture
async def cleanup(committed: AsyncSession) -> AsyncIterator[list[uuid.UUID]]:
    """Article ids to remove (with their passages) after a test that committed them."""
    ids: list[uuid.UUID] = []
    yield ids
    await committed.rollback()
    await committed.execute(
        text("DELETE FROM kb_passages WHERE source = ANY(:s)"), {"s": [f"kb:{i}" for i in ids]}
    )
    await committed.execute(text("DELETE FROM kb_articles WHERE id = ANY(:ids)"), {"ids": ids})
    await committed.commit()


async def test_ticket_suggestions_cite_staff_articles_after_the_worker_ran(
    live: AsyncClient, committed: AsyncSession, cleanup: list[uuid.UUID]
) -> None:
    w = tagger()
    org = await make_org(committed)
    customer_user = await make_user(committed, role=Role.CUSTOMER_USER, org=org)
    agent_user = await make_user(committed, role=Role.AGENT)
    await committed.commit()
    agent, customer = await login(live, agent_user), await login(live, customer_user)

    internal = await create(
        live,
        agent.headers,
        "Badge reader offline",
        f"## Fix\n\nPower-cycle the {w('badge reader')} at the door controller.",
    )
    cleanup.append(uuid.UUID(internal["id"]))
    opened = await live.post(
        "/api/tickets",
        headers=customer.headers,
        json={"title": w("badge reader offline"), "description": w("badge reader dead door")},
    )
    assert opened.status_code == 201, opened.text

    assert await run_worker_jobs(LEXICAL_WITH_DOCS) >= 1

    response = await live.get(
        f"/api/internal/tickets/{opened.json()['id']}/suggestions", headers=agent.headers
    )
    assert response.status_code == 200
    kb = response.json()["kb"]
    assert kb[0]["source"] == f"kb:{internal['id']}"
    assert kb[0]["title"] == "Badge reader offline / Fix"
    assert w("badge reader") in kb[0]["excerpt"]
    # The passage's Markdown for the desk to render, and the article it comes from.
    assert kb[0]["article_id"] == internal["id"]
    assert kb[0]["body"].startswith("Power-cycle the ")
    # The worker's docs sync ran too and left the article alone.
    docs = await committed.execute(
        select(func.count()).select_from(KbPassage).where(KbPassage.source.like("docs/%"))
    )
    assert docs.scalar_one() > 0
    assert await passages_of(committed, internal["id"])


async def test_the_index_docs_command_leaves_article_passages_alone(
    live: AsyncClient, committed: AsyncSession, cleanup: list[uuid.UUID]
) -> None:
    agent_user = await make_user(committed, role=Role.AGENT)
    await committed.commit()
    agent = await login(live, agent_user)
    article = await create(live, agent.headers, "Kept by the command", "## Part\n\nKept text.")
    cleanup.append(uuid.UUID(article["id"]))

    result = await atum("ai-index-docs")

    assert result.code == 0, result.stderr
    assert result.last_line.endswith("passages indexed")
    committed.expire_all()
    assert await passages_of(committed, article["id"]) == [
        ("Kept by the command / Part", "Kept text.")
    ]
