"""Customer satisfaction (services/csat.py, docs/RUNBOOK.md "Customer satisfaction"): the resolved
mail's three sealed links, a page that only reads, a submit that records (and may change until the
link expires), links that die with a reopen, the audit entry, the manager told of a bad rating,
the staff and customer views, the portal's own rating route and the public route's rate limit."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

import pytest
from fastapi import FastAPI
from httpx import AsyncClient, Response
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.config import get_settings
from app.middleware.request_context import logged_path
from app.models import AuditLog, Organization, OutboxMessage, Ticket, TicketCsat
from app.models.enums import Role
from app.services import csat, csat_tokens
from app.services.account_mail import open_link
from app.utils.clock import get_now, utcnow
from tests.factories import Actor, client_at, make_actor, make_org, unique_ip

LINK = re.compile(r"https?://[^\s\"'<>]+/csat/([A-Za-z0-9_-]+)\?rating=(good|okay|bad)")


def ok(response: Response, status: int = 200) -> Any:
    assert response.status_code == status, response.text
    return response.json() if response.content else None


class Flow:
    """A customer's ticket taken to RESOLVED by a manager and an agent, through the API."""

    def __init__(self, client: AsyncClient, customer: Actor, manager: Actor, agent: Actor) -> None:
        self.client, self.customer, self.manager, self.agent = client, customer, manager, agent
        self.id = ""

    @property
    def desk(self) -> str:
        return f"/api/internal/tickets/{self.id}"

    async def open_and_resolve(self) -> None:
        created = ok(
            await self.client.post(
                "/api/tickets",
                json={"title": "VPN drops every hour", "description": "Since Monday."},
                headers=self.customer.headers,
            ),
            201,
        )
        self.id = created["id"]
        ok(await self.client.post(f"{self.desk}/accept", json={}, headers=self.manager.headers))
        ok(
            await self.client.post(
                f"{self.desk}/assign",
                json={"assignee_id": str(self.agent.id)},
                headers=self.manager.headers,
            )
        )
        await self.resolve()

    async def resolve(self) -> None:
        ok(
            await self.client.post(
                f"{self.desk}/status",
                json={"status": "RESOLVED", "resolution": "New lease time.", "root_cause": "DHCP"},
                headers=self.agent.headers,
            )
        )

    async def reopen(self) -> None:
        ok(
            await self.client.post(
                f"{self.desk}/status", json={"status": "IN_PROGRESS"}, headers=self.manager.headers
            )
        )

    async def staff_view(self) -> dict[str, Any]:
        body: dict[str, Any] = ok(await self.client.get(self.desk, headers=self.agent.headers))
        return body

    async def customer_view(self, who: Actor | None = None) -> dict[str, Any]:
        who = who or self.customer
        body: dict[str, Any] = ok(
            await self.client.get(f"/api/tickets/{self.id}", headers=who.headers)
        )
        return body


@pytest.fixture
async def flow(client: AsyncClient, db: AsyncSession) -> Flow:
    org = await make_org(db)
    return Flow(
        client,
        await make_actor(db, client, role=Role.CUSTOMER_USER, org=org),
        await make_actor(db, client, role=Role.MANAGER),
        await make_actor(db, client, role=Role.AGENT),
    )


@pytest.fixture
def at(app: FastAPI) -> Iterator[Any]:
    """Move the API's clock: ``at(moment)``."""

    def move(moment: datetime) -> None:
        async def fixed() -> datetime:
            return moment

        app.dependency_overrides[get_now] = fixed  # type: ignore[attr-defined]

    yield move
    app.dependency_overrides.pop(get_now, None)  # type: ignore[attr-defined]


async def rating_mails(db: AsyncSession, email: str) -> list[OutboxMessage]:
    rows = await db.execute(
        select(OutboxMessage)
        .where(OutboxMessage.recipient_email == email, OutboxMessage.sealed_link.is_not(None))
        .order_by(OutboxMessage.created_at)
        .execution_options(populate_existing=True)
    )
    return list(rows.scalars())


def links(row: OutboxMessage) -> dict[str, str]:
    """rating -> token of the links as the worker sends them (text and HTML alike)."""
    found: dict[str, str] = {}
    for body in (row.body_text, row.body_html):
        for token, rating in LINK.findall(open_link(row.id, body, row.sealed_link)):
            assert found.setdefault(rating, token) == token
    return found


async def the_token(db: AsyncSession, flow: Flow, index: int = -1) -> str:
    rows = await rating_mails(db, flow.customer.user.email)
    assert rows, "no rating links mailed"
    tokens = set(links(rows[index]).values())
    assert len(tokens) == 1, tokens
    return tokens.pop()


async def csat_rows(db: AsyncSession) -> int:
    return int((await db.execute(select(func.count()).select_from(TicketCsat))).scalar_one())


async def csat_audit(db: AsyncSession, ticket_id: str) -> list[AuditLog]:
    rows = await db.execute(
        select(AuditLog)
        .where(AuditLog.ticket_id == uuid.UUID(ticket_id), AuditLog.action == "csat.submitted")
        .order_by(AuditLog.seq)
    )
    return list(rows.scalars())


async def resolved_at(db: AsyncSession, flow: Flow) -> datetime:
    value = (
        await db.execute(
            select(Ticket.resolved_at)
            .where(Ticket.id == uuid.UUID(flow.id))
            .execution_options(populate_existing=True)
        )
    ).scalar_one()
    assert value is not None
    return value


class TestTheResolvedMail:
    async def test_carries_three_sealed_links_never_readable_in_the_outbox(
        self, flow: Flow, db: AsyncSession
    ) -> None:
        await flow.open_and_resolve()
        rows = await rating_mails(db, flow.customer.user.email)
        assert len(rows) == 1
        row = rows[0]
        assert "How did we do?" in row.body_text and "How did we do?" in row.body_html
        found = links(row)
        assert set(found) == {"good", "okay", "bad"}
        token = found["good"]
        assert len(token) == csat_tokens.TOKEN_LENGTH
        # Stored: a marker where the link goes, the link sealed; the token appears nowhere.
        for stored in (row.body_text, row.body_html, row.sealed_link or "", row.subject):
            assert token not in stored
            assert "/csat/" not in stored
        assert row.reply_token is not None and token != row.reply_token
        # Staff mails about the resolution carry no rating links.
        staff = await rating_mails(db, flow.agent.user.email)
        assert staff == []

    async def test_a_colleague_copied_on_the_ticket_gets_links_of_their_own(
        self, flow: Flow, client: AsyncClient, db: AsyncSession
    ) -> None:
        colleague = await make_actor(
            db, client, role=Role.CUSTOMER_USER, org=await org_of(db, flow.customer)
        )
        created = ok(
            await client.post(
                "/api/tickets",
                json={"title": "Printer", "description": "Offline."},
                headers=flow.customer.headers,
            ),
            201,
        )
        flow.id = created["id"]
        ok(
            await client.put(
                f"/api/tickets/{flow.id}/cc",
                json={"user_ids": [str(colleague.id)]},
                headers=flow.customer.headers,
            )
        )
        ok(await client.post(f"{flow.desk}/accept", json={}, headers=flow.manager.headers))
        ok(
            await client.post(
                f"{flow.desk}/assign",
                json={"assignee_id": str(flow.agent.id)},
                headers=flow.manager.headers,
            )
        )
        await flow.resolve()
        mine = await the_token(db, flow)
        theirs = {
            t for r in await rating_mails(db, colleague.user.email) for t in links(r).values()
        }
        assert len(theirs) == 1 and mine not in theirs
        ok(await client.post(f"/api/csat/{theirs.pop()}", json={"rating": "okay"}), 204)
        audit = await csat_audit(db, flow.id)
        assert [a.actor_id for a in audit] == [colleague.id]
        # The requester does not see their colleague's rating; the desk does.
        assert ok(await client.get(f"/api/csat/{mine}"))["rating"] is None
        assert (await flow.customer_view())["csat"]["rating"] is None
        assert (await flow.customer_view(colleague))["csat"]["rating"] == "okay"
        assert (await flow.staff_view())["csat"]["rated_by"]["id"] == str(colleague.id)


async def org_of(db: AsyncSession, actor: Actor) -> Any:
    return await db.get(Organization, actor.user.org_id)


class TestTheLinkPage:
    async def test_opening_every_link_records_nothing(
        self, flow: Flow, client: AsyncClient, db: AsyncSession
    ) -> None:
        await flow.open_and_resolve()
        row = (await rating_mails(db, flow.customer.user.email))[0]
        before_audit = len(await csat_audit(db, flow.id))
        # A mail scanner follows every link of the mail, as GET (and HEAD).
        for rating, token in links(row).items():
            page = ok(await client.get(f"/api/csat/{token}", params={"rating": rating}))
            assert page["rating"] is None and page["comment"] is None
            assert page["title"] == "VPN drops every hour"
            assert isinstance(page["ticket_number"], int)
            expires = datetime.fromisoformat(page["expires_at"])
            assert expires == await resolved_at(db, flow) + timedelta(days=14)
            await client.head(f"/api/csat/{token}")
        assert await csat_rows(db) == 0
        assert len(await csat_audit(db, flow.id)) == before_audit
        assert (await flow.staff_view())["csat"] is None
        assert await rating_mails(db, flow.manager.user.email) == []

    async def test_submit_records_and_can_change_until_expiry(
        self, flow: Flow, client: AsyncClient, db: AsyncSession, at: Any
    ) -> None:
        await flow.open_and_resolve()
        token = await the_token(db, flow)
        ok(await client.post(f"/api/csat/{token}", json={"rating": "good"}), 204)
        page = ok(await client.get(f"/api/csat/{token}"))
        assert (page["rating"], page["comment"]) == ("good", None)
        staff = (await flow.staff_view())["csat"]
        assert staff["rating"] == "good" and staff["current"] is True
        assert staff["rated_by"]["id"] == str(flow.customer.id)
        first_submitted = staff["submitted_at"]

        ok(
            await client.post(
                f"/api/csat/{token}", json={"rating": "okay", "comment": "  Took a while.  "}
            ),
            204,
        )
        staff = (await flow.staff_view())["csat"]
        assert (staff["rating"], staff["comment"]) == ("okay", "Took a while.")
        assert staff["submitted_at"] == first_submitted
        assert staff["updated_at"] >= first_submitted
        assert await csat_rows(db) == 1
        mine = (await flow.customer_view())["csat"]
        assert (mine["rating"], mine["comment"], mine["can_rate"]) == (
            "okay",
            "Took a while.",
            True,
        )

        audit = await csat_audit(db, flow.id)
        assert [a.new_value["rating"] for a in audit if a.new_value] == ["good", "okay"]
        assert all(a.actor_id == flow.customer.id for a in audit)
        assert audit[0].old_value is None
        assert audit[1].old_value is not None and audit[1].old_value["rating"] == "good"
        assert audit[1].new_value is not None and audit[1].new_value["via"] == "link"

        # The last moment it can be changed, then never again.
        expires = await resolved_at(db, flow) + timedelta(days=14)
        at(expires - timedelta(seconds=1))
        ok(await client.post(f"/api/csat/{token}", json={"rating": "good"}), 204)
        at(expires)
        assert (await client.get(f"/api/csat/{token}")).status_code == 404
        assert (await client.post(f"/api/csat/{token}", json={"rating": "bad"})).status_code == 404
        assert (await flow.staff_view())["csat"]["rating"] == "good"
        mine = (await flow.customer_view())["csat"]
        assert (mine["rating"], mine["can_rate"]) == ("good", False)

    async def test_tampered_foreign_and_malformed_links_are_404(
        self, flow: Flow, client: AsyncClient, db: AsyncSession
    ) -> None:
        await flow.open_and_resolve()
        token = await the_token(db, flow)
        when = await resolved_at(db, flow)
        stranger_org = await make_org(db)
        stranger = await make_actor(db, client, role=Role.CUSTOMER_USER, org=stranger_org)
        flipped = token[:10] + ("A" if token[10] != "A" else "B") + token[11:]
        bad = [
            flipped,
            token[:-1],
            token + "A",
            "x" * 75,
            # Correctly signed but naming another resolution, another ticket, or a customer who
            # cannot see the ticket.
            csat_tokens.make(
                uuid.UUID(flow.id), when + timedelta(microseconds=1), flow.customer.id
            ),
            csat_tokens.make(uuid.uuid4(), when, flow.customer.id),
            csat_tokens.make(uuid.UUID(flow.id), when, stranger.id),
            csat_tokens.make(uuid.UUID(flow.id), when, flow.agent.id),
        ]
        for candidate in bad:
            got = await client.get(f"/api/csat/{candidate}")
            assert got.status_code == 404, (candidate, got.text)
            posted = await client.post(f"/api/csat/{candidate}", json={"rating": "bad"})
            assert posted.status_code == 404, (candidate, posted.text)
            assert posted.json()["code"] == "not_found"
        assert await csat_rows(db) == 0
        assert (await client.post(f"/api/csat/{token}", json={"rating": "meh"})).status_code == 422
        too_long = {"rating": "good", "comment": "x" * 2001}
        assert (await client.post(f"/api/csat/{token}", json=too_long)).status_code == 422
        extra = {"rating": "good", "ticket_id": flow.id}
        assert (await client.post(f"/api/csat/{token}", json=extra)).status_code == 422
        assert await csat_rows(db) == 0

    async def test_a_deactivated_customer_link_is_dead(
        self, flow: Flow, client: AsyncClient, db: AsyncSession
    ) -> None:
        await flow.open_and_resolve()
        token = await the_token(db, flow)
        flow.customer.user.is_active = False
        await db.flush()
        assert (await client.get(f"/api/csat/{token}")).status_code == 404


class TestReopened:
    async def test_a_reopen_kills_the_link_and_the_next_resolution_mails_a_new_one(
        self, flow: Flow, client: AsyncClient, db: AsyncSession
    ) -> None:
        await flow.open_and_resolve()
        first = await the_token(db, flow)
        ok(await client.post(f"/api/csat/{first}", json={"rating": "bad", "comment": "No."}), 204)
        await flow.reopen()
        assert (await client.get(f"/api/csat/{first}")).status_code == 404
        assert (await client.post(f"/api/csat/{first}", json={"rating": "good"})).status_code == 404
        staff = (await flow.staff_view())["csat"]
        assert staff["rating"] == "bad" and staff["current"] is False
        assert (await flow.customer_view())["csat"] is None

        await flow.resolve()
        second = await the_token(db, flow)
        assert second != first
        assert (await client.get(f"/api/csat/{first}")).status_code == 404
        page = ok(await client.get(f"/api/csat/{second}"))
        assert page["rating"] is None  # this resolution is not rated yet
        assert (await flow.customer_view())["csat"]["rating"] is None
        ok(await client.post(f"/api/csat/{second}", json={"rating": "good"}), 204)
        staff = (await flow.staff_view())["csat"]
        assert (staff["rating"], staff["comment"], staff["current"]) == ("good", None, True)
        assert await csat_rows(db) == 1
        audit = await csat_audit(db, flow.id)
        assert [a.new_value["rating"] for a in audit if a.new_value] == ["bad", "good"]


class TestBadRating:
    async def test_mails_the_manager_who_accepted_it_once(
        self, flow: Flow, client: AsyncClient, db: AsyncSession
    ) -> None:
        other_manager = await make_actor(db, client, role=Role.MANAGER)
        await flow.open_and_resolve()
        token = await the_token(db, flow)
        ok(await client.post(f"/api/csat/{token}", json={"rating": "okay"}), 204)
        assert await bad_mails(db) == []
        ok(
            await client.post(f"/api/csat/{token}", json={"rating": "bad", "comment": "Rude."}),
            204,
        )
        mails = await bad_mails(db)
        assert [m.recipient_email for m in mails] == [flow.manager.user.email]
        assert "Rude." in mails[0].body_text and mails[0].ticket_id == uuid.UUID(flow.id)
        assert other_manager.user.email not in {m.recipient_email for m in mails}
        # A comment changed on a bad rating is no second alarm.
        ok(await client.post(f"/api/csat/{token}", json={"rating": "bad", "comment": "!"}), 204)
        assert len(await bad_mails(db)) == 1

    async def test_without_an_accepting_manager_every_manager_hears(
        self, flow: Flow, client: AsyncClient, db: AsyncSession
    ) -> None:
        await flow.open_and_resolve()
        ticket = await db.get(Ticket, uuid.UUID(flow.id))
        assert ticket is not None
        ticket.accepted_by = None
        await db.flush()
        ok(await client.post(f"/api/csat/{await the_token(db, flow)}", json={"rating": "bad"}), 204)
        assert flow.manager.user.email in {m.recipient_email for m in await bad_mails(db)}


async def bad_mails(db: AsyncSession) -> list[OutboxMessage]:
    rows = await db.execute(
        select(OutboxMessage)
        .where(OutboxMessage.template == "csat_bad")
        .order_by(OutboxMessage.created_at)
    )
    return list(rows.scalars())


class TestThePortalRoute:
    async def test_a_signed_in_customer_rates_a_ticket_they_see(
        self, flow: Flow, client: AsyncClient, db: AsyncSession
    ) -> None:
        await flow.open_and_resolve()
        url = f"/api/tickets/{flow.id}/csat"
        mine = (await flow.customer_view())["csat"]
        assert mine["rating"] is None and mine["can_rate"] is True
        ok(await client.post(url, json={"rating": "good"}, headers=flow.customer.headers), 204)
        assert (await flow.customer_view())["csat"]["rating"] == "good"
        audit = await csat_audit(db, flow.id)
        assert audit[-1].new_value is not None and audit[-1].new_value["via"] == "portal"

        stranger = await make_actor(db, client, role=Role.CUSTOMER_ADMIN, org=await make_org(db))
        got = await client.post(url, json={"rating": "bad"}, headers=stranger.headers)
        assert got.status_code == 404
        got = await client.post(url, json={"rating": "bad"}, headers=flow.agent.headers)
        assert got.status_code == 403
        assert (await client.post(url, json={"rating": "bad"})).status_code == 401
        assert (await flow.staff_view())["csat"]["rating"] == "good"

    async def test_an_open_ticket_cannot_be_rated(
        self, flow: Flow, client: AsyncClient, db: AsyncSession
    ) -> None:
        await flow.open_and_resolve()
        await flow.reopen()
        got = await client.post(
            f"/api/tickets/{flow.id}/csat", json={"rating": "good"}, headers=flow.customer.headers
        )
        assert got.status_code == 409
        assert await csat_rows(db) == 0


class TestRateLimit:
    async def test_the_public_submit_is_limited_per_address(
        self, flow: Flow, app: FastAPI, db: AsyncSession, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.setattr(csat, "POSTS_PER_IP_PER_HOUR", 3)
        await flow.open_and_resolve()
        token = await the_token(db, flow)
        async with client_at(app, unique_ip()) as one, client_at(app, unique_ip()) as other:
            for _ in range(2):
                assert (
                    await one.post(f"/api/csat/{'x' * 75}", json={"rating": "bad"})
                ).status_code == 404
            ok(await one.post(f"/api/csat/{token}", json={"rating": "good"}), 204)
            limited = await one.post(f"/api/csat/{token}", json={"rating": "okay"})
            assert limited.status_code == 429
            assert int(limited.headers["retry-after"]) > 0
            # Reading is not limited; another address is not affected.
            assert (await one.get(f"/api/csat/{token}")).status_code == 200
            ok(await other.post(f"/api/csat/{token}", json={"rating": "okay"}), 204)
        assert (await flow.staff_view())["csat"]["rating"] == "okay"


def test_the_token_never_reaches_the_access_log() -> None:
    token = "A" * 75
    assert token not in logged_path(f"/api/csat/{token}")
    assert token not in logged_path(f"/csat/{token}")
    assert logged_path("/api/tickets/1") == "/api/tickets/1"


def test_a_token_names_its_ticket_resolution_and_customer_and_nothing_verifies_it_but_the_key() -> (
    None
):
    ticket, user = uuid.uuid4(), uuid.uuid4()
    when = utcnow()
    token = csat_tokens.make(ticket, when, user)
    found = csat_tokens.verify(token)
    assert found is not None
    assert (found.ticket_id, found.resolved_at, found.user_id) == (ticket, when, user)
    assert found.expires_at == when + timedelta(days=14)
    assert get_settings().resolved_secret_key() is not None
    assert all(csat_tokens.verify(token.replace(c, "-")) is None for c in set(token) - {"-"})


async def test_a_resolution_joining_a_mail_held_back_brings_its_links(
    flow: Flow, client: AsyncClient, db: AsyncSession, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With ATUM_MAIL_COALESCE_SECONDS, a reply and the resolution right after it make one mail:
    the held-back row is rendered again and gains the sealed link."""
    await flow.open_and_resolve()
    await flow.reopen()
    monkeypatch.setattr(get_settings(), "mail_coalesce_seconds", 60)
    ok(
        await client.post(
            f"{flow.desk}/comments",
            json={"body": "Fixed the lease time.", "is_internal": False},
            headers=flow.agent.headers,
        ),
        201,
    )
    await flow.resolve()
    rows = await rating_mails(db, flow.customer.user.email)
    assert len(rows) == 2  # the first resolution's, and the reply joined by the second one
    joined = rows[-1]
    assert joined.template == "reply" and joined.events is not None and len(joined.events) == 2
    assert "Fixed the lease time." in joined.body_text
    token = set(links(joined).values()).pop()
    assert token not in joined.body_text
    page = ok(await client.get(f"/api/csat/{token}"))
    assert page["rating"] is None
    first = set(links(rows[0]).values()).pop()
    assert (await client.get(f"/api/csat/{first}")).status_code == 404
