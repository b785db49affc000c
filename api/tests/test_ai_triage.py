"""AI triage with the lexical engine, on real PostgreSQL: the vote over similar resolved tickets
(confidence, threshold), the extractive summary, the knowledge base from Markdown, the job queue
run by the worker's entry point (pending before, ready after), the staff-only endpoint, tenant
scoping of similar tickets, and that no job ever changes a ticket (Apply is the staff member's
own audited PATCH).

Tests that run the worker need committed data (the worker has its own connections): they create
it with their own sessions and a client on the app without the test-session override, with
unique names; corpus words carry a per-test random suffix so no other test's ticket can match.
"""

from __future__ import annotations

import ast
import json
import random
import string
import uuid
from collections.abc import AsyncIterator
from datetime import timedelta
from http.cookiejar import CookieJar, DefaultCookiePolicy
from pathlib import Path
from typing import Any

import pytest
from httpx import ASGITransport, AsyncClient
from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from app.ai import apply as ai_apply
from app.ai import jobs as ai_jobs
from app.ai import queue as ai_queue
from app.ai import suggestions
from app.ai.choice import configured_engine_name
from app.ai.engines import LexicalEngine, TicketText
from app.ai.kb import load_docs, split_markdown
from app.ai.retrieval import kb_passages
from app.ai.text import extractive_summary, or_query
from app.auth.deps import CurrentUser
from app.config import Settings, get_settings
from app.db.session import get_engine
from app.errors import NotFound
from app.models import AiJob, AiSuggestion, AuditLog, Organization, Ticket, User
from app.models.enums import Role
from app.models.enums import TicketStatus as S
from app.utils.clock import utcnow
from tests.factories import Actor, login, make_org, make_user

APP_AI = Path(__file__).resolve().parents[1] / "app" / "ai"
SUGGESTION_FIELDS = {"summary", "similar", "kb", "suggestions", "confidence"}
AI_SCHEMAS = ("Suggestion", "SimilarTicket", "KbPassage")


def imports_of(path: Path) -> set[str]:
    """Every module (and ``module.name``) *path* imports, at any depth."""
    imported: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            imported |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            imported |= {node.module, *(f"{node.module}.{a.name}" for a in node.names)}
        elif isinstance(node, ast.ImportFrom) and node.level and path.parent.name == "ai":
            imported |= {f"app.ai.{a.name}" for a in node.names}
    return imported


def tagger() -> Any:
    """Words with a random letters-only suffix: "vpn" -> "vpnqwhxkz" (one search token)."""
    tag = "".join(random.choices(string.ascii_lowercase, k=8))

    def words(phrase: str) -> str:
        return " ".join(f"{w}{tag}" for w in phrase.split())

    return words


def add_ticket(
    session: AsyncSession,
    org: Organization,
    creator: User,
    *,
    title: str,
    description: str = "",
    status: S = S.RESOLVED,
    category: str | None = None,
    priority: str = "P3",
    resolution: str | None = None,
) -> Ticket:
    now = utcnow()
    ticket = Ticket(
        id=uuid.uuid4(),
        org_id=org.id,
        created_by=creator.id,
        status=status.value,
        priority=priority,
        category=category,
        title=title,
        description=description or title,
        resolution=resolution,
        created_at=now,
        updated_at=now,
    )
    if status not in (S.NEW, S.CANCELLED):
        ticket.accepted_at = now - timedelta(hours=2)
        ticket.sla_first_response_due_at = now + timedelta(hours=4)
        ticket.sla_resolution_due_at = now + timedelta(days=2)
    if status in (S.RESOLVED, S.CLOSED):
        ticket.resolved_at = now
        ticket.resolution = resolution or "Fixed."
        ticket.root_cause = "Known cause."
    session.add(ticket)
    return ticket


async def analyse(db: AsyncSession, title: str, description: str) -> Any:
    text_ = TicketText(uuid.uuid4(), 0, title, description)
    return await LexicalEngine(get_settings()).analyse(db, text_)


class TestLexicalEngine:
    async def test_majority_of_similar_resolved_tickets_wins_with_its_confidence(
        self, db: AsyncSession
    ) -> None:
        w = tagger()
        org = await make_org(db)
        customer = await make_user(db, role=Role.CUSTOMER_USER, org=org)
        for _ in range(3):
            add_ticket(
                db,
                org,
                customer,
                title=w("vpn tunnel drops hourly"),
                category="network",
                priority="P2",
            )
        add_ticket(db, org, customer, title=w("vpn tunnel slow"), category="hardware")
        for _ in range(5):  # open tickets are shown but never vote
            add_ticket(
                db,
                org,
                customer,
                title=w("vpn tunnel drops hourly"),
                status=S.IN_PROGRESS,
                category="printing",
                priority="P1",
            )
        add_ticket(db, org, customer, title=w("printer toner empty"), category="printing")
        await db.flush()

        result = await analyse(db, w("vpn tunnel drops hourly"), w("vpn tunnel drops hourly"))

        assert result.engine == "lexical"
        assert result.category is not None and result.category.value == "network"
        assert 0.6 <= result.category.confidence < 1.0
        assert result.priority is not None and result.priority.value == "P2"
        assert result.priority.confidence == result.category.confidence
        assert len(result.similar) == 5
        scores = [h.score for h in result.similar]
        assert scores == sorted(scores, reverse=True)

    async def test_no_suggestion_below_the_confidence_threshold(self, db: AsyncSession) -> None:
        w = tagger()
        org = await make_org(db)
        customer = await make_user(db, role=Role.CUSTOMER_USER, org=org)
        add_ticket(
            db, org, customer, title=w("disk quota exceeded"), category="storage", priority="P2"
        )
        add_ticket(
            db, org, customer, title=w("disk quota exceeded"), category="accounts", priority="P2"
        )
        await db.flush()

        result = await analyse(db, w("disk quota exceeded"), w("disk quota exceeded"))

        # A 50/50 vote is named (the evaluation reads it) but not shown, so not stored.
        assert result.category is not None and not result.category.shown
        assert result.category.confidence == 0.5
        assert result.priority is not None and result.priority.shown
        assert (result.priority.value, result.priority.confidence) == ("P2", 1.0)
        assert result.priority.method == "neighbours"

    async def test_nothing_similar_means_no_suggestion_at_all(self, db: AsyncSession) -> None:
        w = tagger()
        result = await analyse(db, w("completely unheard words"), w("nothing matches these"))
        assert (result.category, result.priority, result.similar) == (None, None, [])

    def test_extractive_summary_keeps_the_title_and_the_representative_sentences(self) -> None:
        summary = extractive_summary(
            "VPN drops every hour",
            "Good morning. The VPN tunnel drops every hour since Monday. "
            "We use the VPN client 5.2 on Windows. My cat likes boxes.",
        )
        assert summary.startswith("VPN drops every hour: ")
        assert "The VPN tunnel drops every hour since Monday." in summary
        assert "cat" not in summary

    def test_query_terms_are_quoted_words_without_stopwords(self) -> None:
        assert or_query("The printer's toner & (paper) | !jam") == (
            "'printer' | 'toner' | 'paper' | 'jam'"
        )
        assert or_query("it is the a") is None


class TestKnowledgeBase:
    def test_sections_become_passages_and_code_fences_are_not_headings(self) -> None:
        passages = split_markdown(
            "# Guide\n\nIntro.\n\n## Mail is stuck\n\nCheck the outbox.\n\n```\n# not a heading\n"
            "```\n\n### Details\n\nMore.",
            "GUIDE",
        )
        assert [p.title for p in passages] == [
            "Guide",
            "Guide / Mail is stuck",
            "Guide / Details",
        ]
        assert "# not a heading" in passages[1].body

    async def test_docs_are_loaded_ranked_and_reloaded_only_when_changed(
        self, db: AsyncSession, tmp_path: Path
    ) -> None:
        w = tagger()
        (tmp_path / "GUIDE.md").write_text(
            f"# Guide\n\n## Mail is stuck\n\n{w('smtp outbox retry')} explained.\n\n"
            f"## Backups\n\n{w('nightly dump restore')}.\n"
        )
        (tmp_path / "OTHER.md").write_text("# Other\n\nNothing relevant.\n")
        assert await load_docs(db, tmp_path) == 2
        assert await load_docs(db, tmp_path) == 0

        # Operator documentation is no agent knowledge unless an admin opted in.
        assert await kb_passages(db, w("outbox smtp stuck")) == []
        hits = await kb_passages(db, w("outbox smtp stuck"), include_docs=True)
        assert [(h.title, h.source) for h in hits] == [("Guide / Mail is stuck", "docs/GUIDE.md")]

        (tmp_path / "OTHER.md").unlink()
        (tmp_path / "GUIDE.md").write_text(f"# Guide\n\n## Restore\n\n{w('outbox smtp')}\n")
        assert await load_docs(db, tmp_path) == 1
        hits = await kb_passages(db, w("outbox smtp stuck"), include_docs=True)
        assert [h.title for h in hits] == ["Guide / Restore"]
        sources = (await db.execute(text("SELECT DISTINCT source FROM kb_passages"))).scalars()
        assert set(sources) == {"docs/GUIDE.md"}


# ---------------------------------------------------------------- the worker, committed data


@pytest.fixture
async def committed() -> AsyncIterator[AsyncSession]:
    async with AsyncSession(get_engine(), expire_on_commit=False) as session:
        yield session


@pytest.fixture
async def live(app: Any) -> AsyncIterator[AsyncClient]:
    """The app with its real sessions: every request commits."""
    assert not app.dependency_overrides
    no_cookies = CookieJar(policy=DefaultCookiePolicy(allowed_domains=[]))
    async with AsyncClient(
        transport=ASGITransport(app=app), base_url="http://testserver", cookies=no_cookies
    ) as client:
        yield client


def lexical(**changes: Any) -> Settings:
    """The test settings with the lexical engine: these tests are about the job and visibility
    rules, which every engine shares (the local model's own tests: tests/test_ai_local.py)."""
    return get_settings().model_copy(update={"ai_engine": "lexical", **changes})


# The lexical engine with the operator documentation as knowledge (an admin's opt-in).
LEXICAL_WITH_DOCS = lexical(ai_operator_docs=True)


async def run_worker_jobs(settings: Settings | None = None) -> int:
    return await ai_jobs.process_due(get_engine(), settings or lexical(), budget_seconds=120)


async def ticket_state(session: AsyncSession, ids: list[uuid.UUID]) -> dict[str, Any]:
    rows = await session.execute(
        text("SELECT id::text, row_to_json(t)::text FROM tickets t WHERE id = ANY(:ids)"),
        {"ids": ids},
    )
    audits = await session.execute(
        select(func.count()).select_from(AuditLog).where(AuditLog.ticket_id.in_(ids))
    )
    return {"rows": dict(rows.all()), "audit": audits.scalar_one()}


class World:
    def __init__(self, w: Any, org: Organization, other: Organization) -> None:
        self.w, self.org, self.other = w, org, other
        self.customer: Actor
        self.agent: Actor
        self.duplicate: Ticket


@pytest.fixture
async def world(committed: AsyncSession, live: AsyncClient) -> World:
    """Organization A with a customer; organization B with a resolved near-duplicate; an agent;
    one more resolved ticket of A in the same category."""
    w = tagger()
    org, other = await make_org(committed), await make_org(committed)
    customer = await make_user(committed, role=Role.CUSTOMER_USER, org=org)
    other_customer = await make_user(committed, role=Role.CUSTOMER_USER, org=other)
    agent = await make_user(committed, role=Role.AGENT)
    result = World(w, org, other)
    result.duplicate = add_ticket(
        committed,
        other,
        other_customer,
        title=w("outbox mails stuck queue"),
        category="mail",
        priority="P2",
        resolution="Restarted the worker.",
    )
    add_ticket(
        committed,
        org,
        customer,
        title=w("outbox mails stuck"),
        category="mail",
        priority="P2",
        resolution="Fixed the relay.",
    )
    await committed.commit()
    result.customer = await login(live, customer)
    result.agent = await login(live, agent)
    return result


async def open_ticket(live: AsyncClient, world: World) -> dict[str, Any]:
    response = await live.post(
        "/api/tickets",
        headers=world.customer.headers,
        json={
            "title": world.w("outbox mails stuck"),
            "description": f"{world.w('outbox mails stuck queue')}. The SMTP outbox is stuck.",
            "priority": "P4",
        },
    )
    assert response.status_code == 201, response.text
    return response.json()  # type: ignore[no-any-return]


async def suggestions_of(live: AsyncClient, actor: Actor, ticket_id: str) -> Any:
    response = await live.get(
        f"/api/internal/tickets/{ticket_id}/suggestions", headers=actor.headers
    )
    assert response.status_code == 200, response.text
    return response.json()


class TestJobs:
    async def test_pending_before_the_worker_runs_and_ready_after(
        self, live: AsyncClient, world: World, committed: AsyncSession
    ) -> None:
        ticket = await open_ticket(live, world)
        before = await suggestions_of(live, world.agent, ticket["id"])
        assert before == {
            "status": "pending",
            "engine": configured_engine_name(get_settings()),
            "summary": None,
            "category": None,
            "priority": None,
            "similar": [],
            "kb": [],
            "reply": None,
        }

        assert await run_worker_jobs(LEXICAL_WITH_DOCS) >= 1

        ready = await suggestions_of(live, world.agent, ticket["id"])
        assert ready["status"] == "ready"
        assert ready["engine"] == "lexical"
        assert ready["summary"].startswith(ticket["title"])
        assert ready["category"]["value"] == "mail"
        assert ready["category"]["confidence"] == 1.0
        assert ready["priority"] == {
            "value": "P2",
            "confidence": 1.0,
            "method": "neighbours",
            "model_version": None,
        }
        assert ready["reply"] is None
        duplicate = next(s for s in ready["similar"] if s["id"] == str(world.duplicate.id))
        assert duplicate["org_name"] == world.other.name
        assert duplicate["resolution"] == "Restarted the worker."
        assert duplicate["number"] == world.duplicate.number
        assert ready["kb"], "the SMTP outbox text should find a passage of docs/*.md"
        assert all(k["source"].startswith("docs/") and k["excerpt"] for k in ready["kb"])

    async def test_public_comments_queue_a_new_run_and_internal_notes_do_not(
        self, live: AsyncClient, world: World, committed: AsyncSession
    ) -> None:
        ticket = await open_ticket(live, world)
        await run_worker_jobs()

        async def jobs() -> int:
            found = await committed.execute(
                select(func.count())
                .select_from(AiJob)
                .where(AiJob.ticket_id == uuid.UUID(ticket["id"]))
            )
            await committed.commit()
            return int(found.scalar_one())

        assert await jobs() == 1
        note = await live.post(
            f"/api/internal/tickets/{ticket['id']}/comments",
            headers=world.agent.headers,
            json={"body": "internal only", "is_internal": True},
        )
        assert note.status_code == 201
        assert await jobs() == 1
        assert (await suggestions_of(live, world.agent, ticket["id"]))["status"] == "ready"

        comment = await live.post(
            f"/api/tickets/{ticket['id']}/comments",
            headers=world.customer.headers,
            json={"body": "Still stuck, the queue keeps growing."},
        )
        assert comment.status_code == 201
        assert await jobs() == 2
        pending = await suggestions_of(live, world.agent, ticket["id"])
        assert pending["status"] == "pending"
        assert pending["category"]["value"] == "mail"  # the previous result stays visible

        await run_worker_jobs()
        assert (await suggestions_of(live, world.agent, ticket["id"]))["status"] == "ready"

    async def test_a_second_trigger_while_one_is_pending_adds_no_job(
        self, db: AsyncSession
    ) -> None:
        org = await make_org(db)
        customer = await make_user(db, role=Role.CUSTOMER_USER, org=org)
        ticket = add_ticket(db, org, customer, title="Anything at all", status=S.NEW)
        await db.flush()
        await ai_queue.enqueue(db, ticket.id, "created")
        await ai_queue.enqueue(db, ticket.id, "comment")
        count = await db.execute(
            select(func.count()).select_from(AiJob).where(AiJob.ticket_id == ticket.id)
        )
        assert count.scalar_one() == 1

    async def test_no_job_changes_a_ticket_in_any_state(self, committed: AsyncSession) -> None:
        w = tagger()
        org = await make_org(committed)
        customer = await make_user(committed, role=Role.CUSTOMER_USER, org=org)
        for _ in range(6):
            add_ticket(
                committed,
                org,
                customer,
                title=w("badge reader broken"),
                category="facilities",
                priority="P1",
            )
        tickets = [
            add_ticket(
                committed,
                org,
                customer,
                title=w("badge reader broken"),
                status=state,
                priority="P4",
            )
            for state in S
        ]
        await committed.flush()
        for ticket in tickets:
            await ai_queue.enqueue(committed, ticket.id, "created")
        await committed.commit()
        ids = [t.id for t in tickets]
        before = await ticket_state(committed, ids)
        await committed.commit()

        await run_worker_jobs()

        assert await ticket_state(committed, ids) == before
        statuses = await committed.execute(select(AiJob.status).where(AiJob.ticket_id.in_(ids)))
        assert set(statuses.scalars()) == {"done"}
        agent = await make_user(committed, role=Role.AGENT)
        await committed.commit()
        actor = CurrentUser(agent.id, agent.email, agent.name, Role.AGENT, None, None, uuid.uuid4())
        for ticket in tickets:
            view = await suggestions.view(committed, actor, ticket.id)
            assert view["status"] == "ready"

    def test_the_triage_code_has_no_path_to_the_ticket_or_workflow_services(self) -> None:
        """Only ``app/ai/apply.py`` (a staff request's own update) calls the ticket service;
        neither the triage modules nor the worker import it."""
        forbidden = {"app.services.tickets", "app.services.workflow", "app.services.audit"}
        apply_module = {"app.ai.apply"}
        checked = 0
        for path in APP_AI.glob("*.py"):
            imported = imports_of(path)
            if path.name == "apply.py":
                assert "app.services.tickets" in imported
                continue
            assert not imported & forbidden, path.name
            assert not imported & apply_module, path.name
            checked += 1
        assert checked >= 10
        assert not imports_of(APP_AI.parent / "worker.py") & apply_module


class TestEndpoint:
    async def test_customers_get_403_even_for_their_own_ticket(
        self, live: AsyncClient, world: World
    ) -> None:
        ticket = await open_ticket(live, world)
        url = f"/api/internal/tickets/{ticket['id']}/suggestions"
        assert (await live.get(url, headers=world.customer.headers)).status_code == 403
        assert (await live.get(url)).status_code == 401
        portal = await live.get(f"/api/tickets/{ticket['id']}", headers=world.customer.headers)
        assert portal.status_code == 200
        assert not SUGGESTION_FIELDS & set(portal.json())

    async def test_no_customer_schema_has_a_suggestion_field(self, live: AsyncClient) -> None:
        schemas = (await live.get("/api/openapi.json")).json()["components"]["schemas"]
        for name, schema in schemas.items():
            if name.startswith("Customer"):
                assert not SUGGESTION_FIELDS & set(schema.get("properties", {})), name
                assert not any(ai in json.dumps(schema) for ai in AI_SCHEMAS), name

    async def test_unknown_ticket_is_404_and_a_ticket_without_jobs_is_unavailable(
        self, live: AsyncClient, world: World, committed: AsyncSession
    ) -> None:
        missing = await live.get(
            f"/api/internal/tickets/{uuid.uuid4()}/suggestions", headers=world.agent.headers
        )
        assert missing.status_code == 404
        body = await suggestions_of(live, world.agent, str(world.duplicate.id))
        assert (body["status"], body["summary"], body["similar"]) == ("unavailable", None, [])

    async def test_similar_tickets_are_refiltered_through_the_viewers_visibility(
        self, live: AsyncClient, world: World, committed: AsyncSession
    ) -> None:
        ticket = await open_ticket(live, world)
        await run_worker_jobs()
        staff_view = await suggestions_of(live, world.agent, ticket["id"])
        assert str(world.duplicate.id) in {s["id"] for s in staff_view["similar"]}

        customer = world.customer.user
        as_customer = CurrentUser(
            customer.id,
            customer.email,
            customer.name,
            Role.CUSTOMER_USER,
            world.org.id,
            world.org.name,
            uuid.uuid4(),
        )
        seen = await suggestions.view(committed, as_customer, uuid.UUID(ticket["id"]))
        assert seen["similar"], "the own organization's resolved ticket stays"
        assert {s["org_name"] for s in seen["similar"]} == {world.org.name}
        assert str(world.duplicate.id) not in {str(s["id"]) for s in seen["similar"]}

    async def test_apply_is_the_staff_members_audited_update(
        self, live: AsyncClient, world: World, committed: AsyncSession
    ) -> None:
        ticket = await open_ticket(live, world)
        await run_worker_jobs()
        suggestion = await suggestions_of(live, world.agent, ticket["id"])
        assert suggestion["category"]["value"] == "mail"
        ticket_id = uuid.UUID(ticket["id"])
        trail = await committed.execute(
            select(AuditLog.action, AuditLog.actor_id).where(AuditLog.ticket_id == ticket_id)
        )
        assert [tuple(r) for r in trail.all()] == [("ticket.created", world.customer.id)]
        await committed.commit()

        applied = await live.post(
            f"/api/internal/tickets/{ticket['id']}/suggestions/apply",
            headers=world.agent.headers,
            json={"field": "category"},
        )
        assert applied.status_code == 200, applied.text
        assert applied.json()["category"] == "mail"
        assert applied.json()["priority"] == "P4", "only the applied field changes"
        entry = (
            await committed.execute(
                select(AuditLog).where(
                    AuditLog.ticket_id == ticket_id, AuditLog.action == "ticket.updated"
                )
            )
        ).scalar_one()
        assert entry.actor_id == world.agent.id
        assert (entry.old_value, entry.new_value) == ({"category": None}, {"category": "mail"})


# ---------------------------------------------------------------- applying a stored suggestion


def apply_url(ticket: Ticket) -> str:
    return f"/api/internal/tickets/{ticket.id}/suggestions/apply"


async def suggest(
    db: AsyncSession, ticket: Ticket, *, category: str | None, priority: str | None
) -> None:
    db.add(
        AiSuggestion(
            ticket_id=ticket.id,
            engine="lexical",
            summary=ticket.title,
            category=category,
            category_confidence=0.9 if category else None,
            priority=priority,
            priority_confidence=0.8 if priority else None,
            generated_at=utcnow(),
        )
    )
    await db.flush()


async def audit_of(db: AsyncSession, ticket: Ticket) -> list[tuple[Any, ...]]:
    rows = await db.execute(
        select(AuditLog.action, AuditLog.actor_id, AuditLog.old_value, AuditLog.new_value)
        .where(AuditLog.ticket_id == ticket.id)
        .order_by(AuditLog.seq)
    )
    return [tuple(r) for r in rows.all()]


class Desk:
    org: Organization
    customer: Actor
    agent: Actor
    ticket: Ticket


@pytest.fixture
async def desk(db: AsyncSession, client: AsyncClient) -> Desk:
    """An organization's in-progress P4 ticket without a category, an agent and the customer."""
    found = Desk()
    found.org = await make_org(db)
    customer = await make_user(db, role=Role.CUSTOMER_USER, org=found.org)
    found.ticket = add_ticket(
        db,
        found.org,
        customer,
        title="Printer on floor 3 jams",
        status=S.IN_PROGRESS,
        priority="P4",
    )
    await db.flush()
    found.customer = await login(client, customer)
    found.agent = await login(client, await make_user(db, role=Role.AGENT))
    return found


class TestApplyEndpoint:
    async def test_applies_the_stored_value_as_the_staff_members_audited_update(
        self, client: AsyncClient, db: AsyncSession, desk: Desk
    ) -> None:
        await suggest(db, desk.ticket, category="printing", priority="P2")
        due_before = desk.ticket.sla_resolution_due_at

        category = await client.post(
            apply_url(desk.ticket), headers=desk.agent.headers, json={"field": "category"}
        )
        assert category.status_code == 200, category.text
        assert (category.json()["category"], category.json()["priority"]) == ("printing", "P4")
        assert "sla" in category.json(), "the staff ticket view"

        priority = await client.post(
            apply_url(desk.ticket), headers=desk.agent.headers, json={"field": "priority"}
        )
        assert priority.status_code == 200, priority.text
        assert (priority.json()["category"], priority.json()["priority"]) == ("printing", "P2")

        assert await audit_of(db, desk.ticket) == [
            ("ticket.updated", desk.agent.id, {"category": None}, {"category": "printing"}),
            ("ticket.updated", desk.agent.id, {"priority": "P4"}, {"priority": "P2"}),
        ]
        await db.refresh(desk.ticket)
        assert desk.ticket.sla_resolution_due_at != due_before, "the PATCH's SLA retargeting"

    async def test_no_suggestion_for_the_field_is_409_and_changes_nothing(
        self, client: AsyncClient, db: AsyncSession, desk: Desk
    ) -> None:
        bare = await client.post(
            apply_url(desk.ticket), headers=desk.agent.headers, json={"field": "priority"}
        )
        assert (bare.status_code, bare.json()["code"]) == (409, "conflict")

        await suggest(db, desk.ticket, category=None, priority="P1")  # category below threshold
        refused = await client.post(
            apply_url(desk.ticket), headers=desk.agent.headers, json={"field": "category"}
        )
        assert (refused.status_code, refused.json()["code"]) == (409, "conflict")
        assert "category" in refused.json()["detail"]
        await db.refresh(desk.ticket)
        assert (desk.ticket.category, desk.ticket.priority) == (None, "P4")
        assert await audit_of(db, desk.ticket) == []

    async def test_a_closed_ticket_answers_like_the_patch(
        self, client: AsyncClient, db: AsyncSession, desk: Desk
    ) -> None:
        desk.ticket.status = S.CLOSED.value
        desk.ticket.resolved_at = desk.ticket.closed_at = utcnow()
        await suggest(db, desk.ticket, category="printing", priority="P2")

        for field, value in (("category", "printing"), ("priority", "P2")):
            applied = await client.post(
                apply_url(desk.ticket), headers=desk.agent.headers, json={"field": field}
            )
            patched = await client.patch(
                f"/api/internal/tickets/{desk.ticket.id}",
                headers=desk.agent.headers,
                json={field: value},
            )
            assert patched.status_code == 409
            assert (applied.status_code, applied.json()) == (409, patched.json())
        await db.refresh(desk.ticket)
        assert (desk.ticket.category, desk.ticket.priority) == (None, "P4")
        assert await audit_of(db, desk.ticket) == []

    async def test_customers_get_403_and_strangers_401_even_with_a_suggestion(
        self, client: AsyncClient, db: AsyncSession, desk: Desk
    ) -> None:
        await suggest(db, desk.ticket, category="printing", priority="P2")
        body = {"field": "category"}
        own = await client.post(apply_url(desk.ticket), headers=desk.customer.headers, json=body)
        assert own.status_code == 403
        assert (await client.post(apply_url(desk.ticket), json=body)).status_code == 401
        await db.refresh(desk.ticket)
        assert desk.ticket.category is None
        assert await audit_of(db, desk.ticket) == []

    async def test_a_ticket_outside_the_callers_visibility_is_404(
        self, client: AsyncClient, db: AsyncSession, desk: Desk
    ) -> None:
        missing = await client.post(
            f"/api/internal/tickets/{uuid.uuid4()}/suggestions/apply",
            headers=desk.agent.headers,
            json={"field": "category"},
        )
        assert (missing.status_code, missing.json()["code"]) == (404, "not_found")

        await suggest(db, desk.ticket, category="printing", priority="P2")
        other = await make_org(db)
        stranger = await make_user(db, role=Role.CUSTOMER_USER, org=other)
        as_stranger = CurrentUser(
            stranger.id,
            stranger.email,
            stranger.name,
            Role.CUSTOMER_USER,
            other.id,
            other.name,
            uuid.uuid4(),
        )
        for field in ("category", "priority"):
            with pytest.raises(NotFound):
                await ai_apply.apply(db, as_stranger, desk.ticket.id, field, utcnow())
        await db.refresh(desk.ticket)
        assert (desk.ticket.category, desk.ticket.priority) == (None, "P4")
        assert await audit_of(db, desk.ticket) == []

    @pytest.mark.parametrize(
        "body",
        [
            {},
            {"field": "status"},
            {"field": "assignee"},
            {"field": "category", "value": "network"},
            {"field": ["category"]},
        ],
        ids=["empty", "status", "assignee", "unknown-key", "list"],
    )
    async def test_anything_but_category_or_priority_is_422(
        self, client: AsyncClient, db: AsyncSession, desk: Desk, body: dict[str, Any]
    ) -> None:
        await suggest(db, desk.ticket, category="printing", priority="P2")
        refused = await client.post(apply_url(desk.ticket), headers=desk.agent.headers, json=body)
        assert refused.status_code == 422, refused.text
        assert await audit_of(db, desk.ticket) == []
