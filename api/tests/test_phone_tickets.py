"""Tickets staff record for a customer (POST /internal/tickets, API-2.md "Agent workspace"): the
customer is the creator and gets the usual mail, the recorder is in the audit entry, accepting at
once needs the acceptance right (nothing is created without it), a new contact can be created on
the way; and the default team of a service (also on the portal path, never in a customer view)."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from httpx import AsyncClient
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.models import AuditLog, Service, Team, Ticket, User
from app.models.enums import Role
from tests.factories import bearer_headers as headers_for
from tests.factories import make_org, make_user, outbox_mails
from tests.test_tickets_api import Desk, error_fields, ok, open_ticket

I = "/api/internal/tickets"  # noqa: E741


@pytest.fixture
async def desk(db: AsyncSession) -> Desk:
    org = await make_org(db)
    desk = Desk(
        org=org,
        customer=await make_user(db, role=Role.CUSTOMER_USER, org=org),
        agent=await make_user(db, role=Role.AGENT),
        manager=await make_user(db, role=Role.MANAGER),
    )
    for name in ("customer", "agent", "manager"):
        desk.h[name] = await headers_for(db, getattr(desk, name))
    return desk


def phone_body(customer_id: uuid.UUID | None, **extra: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "title": "VPN drops every hour",
        "description": "Called in: the VPN disconnects every hour since Monday.",
        "priority": "P2",
        "channel": "phone",
        **extra,
    }
    if customer_id is not None:
        body["customer_id"] = str(customer_id)
    return body


async def ticket_count(db: AsyncSession) -> int:
    return int((await db.execute(select(func.count()).select_from(Ticket))).scalar_one())


async def team(db: AsyncSession) -> Team:
    row = Team(id=uuid.uuid4(), name=f"Network {uuid.uuid4().hex[:8]}")
    db.add(row)
    await db.flush()
    return row


class TestPhoneTickets:
    async def test_agent_records_a_ticket_for_the_customer(
        self, client: AsyncClient, db: AsyncSession, desk: Desk
    ) -> None:
        created = ok(
            await client.post(I, json=phone_body(desk.customer.id), headers=desk.h["agent"]), 201
        )
        assert created["status"] == "NEW"
        assert created["channel"] == "phone"
        assert created["created_by"]["id"] == str(desk.customer.id)
        assert created["org_id"] == str(desk.org.id)
        assert "sla" in created and "tags" in created  # the staff view
        # The customer got the usual "we received your ticket" mail.
        mails = await outbox_mails(db, desk.customer.email, "created")
        assert [m.ticket_id for m in mails] == [uuid.UUID(created["id"])]
        # The customer sees it in the portal like any ticket of theirs.
        mine = ok(await client.get(f"/api/tickets/{created['id']}", headers=desk.h["customer"]))
        assert mine["channel"] == "phone" and "tags" not in mine
        # The audit names the recorder as the actor, and both people.
        entry = (
            await db.execute(
                select(AuditLog).where(
                    AuditLog.entity_id == uuid.UUID(created["id"]),
                    AuditLog.action == "ticket.created",
                )
            )
        ).scalar_one()
        assert entry.actor_id == desk.agent.id
        assert entry.new_value is not None
        assert entry.new_value["recorded_by"] == str(desk.agent.id)
        assert entry.new_value["created_by"] == str(desk.customer.id)
        assert entry.new_value["channel"] == "phone"

    async def test_email_channel(self, client: AsyncClient, desk: Desk) -> None:
        body = phone_body(desk.customer.id, channel="email")
        assert (
            ok(await client.post(I, json=body, headers=desk.h["agent"]), 201)["channel"] == "email"
        )
        bad = await client.post(
            I, json=phone_body(desk.customer.id, channel="portal"), headers=desk.h["agent"]
        )
        assert "channel" in error_fields(bad)

    async def test_manager_accepts_at_once(
        self, client: AsyncClient, db: AsyncSession, desk: Desk
    ) -> None:
        body = phone_body(desk.customer.id, accept=True)
        created = ok(await client.post(I, json=body, headers=desk.h["manager"]), 201)
        assert created["status"] == "ACCEPTED"
        assert created["accepted_by"]["id"] == str(desk.manager.id)
        assert created["sla"]["resolution_due_at"] is not None
        actions = [
            a.action
            for a in (
                await db.execute(
                    select(AuditLog)
                    .where(AuditLog.ticket_id == uuid.UUID(created["id"]))
                    .order_by(AuditLog.seq)
                )
            ).scalars()
        ]
        assert actions == ["ticket.created", "ticket.accepted"]

    async def test_agent_may_not_accept_and_nothing_is_created(
        self, client: AsyncClient, db: AsyncSession, desk: Desk
    ) -> None:
        before = await ticket_count(db)
        refused = await client.post(
            I, json=phone_body(desk.customer.id, accept=True), headers=desk.h["agent"]
        )
        assert refused.status_code == 403, refused.text
        assert await ticket_count(db) == before
        assert await outbox_mails(db, desk.customer.email) == []

    async def test_customers_may_not_record_tickets(self, client: AsyncClient, desk: Desk) -> None:
        refused = await client.post(
            I, json=phone_body(desk.customer.id), headers=desk.h["customer"]
        )
        assert refused.status_code == 403, refused.text

    async def test_the_customer_must_be_an_active_customer(
        self, client: AsyncClient, db: AsyncSession, desk: Desk
    ) -> None:
        missing = await client.post(I, json=phone_body(uuid.uuid4()), headers=desk.h["agent"])
        assert missing.status_code == 404, missing.text
        staff = await client.post(I, json=phone_body(desk.manager.id), headers=desk.h["agent"])
        assert "customer_id" in error_fields(staff)
        gone = await make_user(db, role=Role.CUSTOMER_USER, org=desk.org, is_active=False)
        inactive = await client.post(I, json=phone_body(gone.id), headers=desk.h["agent"])
        assert "customer_id" in error_fields(inactive)

    async def test_exactly_one_of_customer_and_new_contact(
        self, client: AsyncClient, desk: Desk
    ) -> None:
        contact = {"org_id": str(desk.org.id), "email": "x@example.test", "name": "X"}
        both = phone_body(desk.customer.id, new_contact=contact)
        assert (await client.post(I, json=both, headers=desk.h["agent"])).status_code == 422
        neither = phone_body(None)
        assert (await client.post(I, json=neither, headers=desk.h["agent"])).status_code == 422

    async def test_new_contact_is_created_in_the_organization(
        self, client: AsyncClient, db: AsyncSession, desk: Desk
    ) -> None:
        email = f"caller-{uuid.uuid4().hex[:8]}@example.test"
        contact = {"org_id": str(desk.org.id), "email": email.upper(), "name": "Ada Caller"}
        created = ok(
            await client.post(
                I, json=phone_body(None, new_contact=contact), headers=desk.h["agent"]
            ),
            201,
        )
        user = (await db.execute(select(User).where(User.email == email))).scalar_one()
        assert user.org_id == desk.org.id and user.role == Role.CUSTOMER_USER.value
        assert created["created_by"] == {"id": str(user.id), "name": "Ada Caller"}
        assert await outbox_mails(db, email, "created")
        # The same address again: the user exists (409), no second ticket.
        before = await ticket_count(db)
        again = await client.post(
            I, json=phone_body(None, new_contact=contact), headers=desk.h["agent"]
        )
        assert again.status_code == 409, again.text
        assert await ticket_count(db) == before
        unknown = {**contact, "org_id": str(uuid.uuid4()), "email": "other@example.test"}
        missing = await client.post(
            I, json=phone_body(None, new_contact=unknown), headers=desk.h["agent"]
        )
        assert missing.status_code == 404, missing.text

    async def test_a_service_of_another_organization_is_refused(
        self, client: AsyncClient, db: AsyncSession, desk: Desk
    ) -> None:
        other = await make_org(db)
        service = Service(id=uuid.uuid4(), org_id=other.id, name="Theirs", is_active=True)
        db.add(service)
        await db.flush()
        body = phone_body(desk.customer.id, service_id=str(service.id))
        assert (await client.post(I, json=body, headers=desk.h["agent"])).status_code == 404


class TestDefaultTeam:
    async def test_services_api_sets_and_validates_the_default_team(
        self, client: AsyncClient, db: AsyncSession, desk: Desk
    ) -> None:
        admin = await headers_for(db, await make_user(db, role=Role.ADMIN))
        network = await team(db)
        name = f"VPN {uuid.uuid4().hex[:6]}"
        created = ok(
            await client.post(
                "/api/services",
                json={"name": name, "default_team_id": str(network.id)},
                headers=admin,
            ),
            201,
        )
        assert created["default_team_id"] == str(network.id)
        url = f"/api/services/{created['id']}"
        unknown = await client.patch(
            url, json={"default_team_id": str(uuid.uuid4())}, headers=admin
        )
        assert "default_team_id" in error_fields(unknown)
        bad = await client.post(
            "/api/services",
            json={"name": name + "x", "default_team_id": str(uuid.uuid4())},
            headers=admin,
        )
        assert "default_team_id" in error_fields(bad)
        # Staff read it; a customer never does.
        assert ok(await client.get(url, headers=desk.h["agent"]))["default_team_id"] == str(
            network.id
        )
        # Customers get their own schema: the field is not there at all.
        customer_view = ok(await client.get(url, headers=desk.h["customer"]))
        assert set(customer_view) == {"id", "org_id", "name", "is_active"}
        listed = ok(await client.get("/api/services", headers=desk.h["customer"]))["items"]
        assert listed and all("default_team_id" not in s for s in listed)
        cleared = ok(await client.patch(url, json={"default_team_id": None}, headers=admin))
        assert cleared["default_team_id"] is None

    async def test_new_tickets_of_the_service_go_to_its_team(
        self, client: AsyncClient, db: AsyncSession, desk: Desk
    ) -> None:
        network = await team(db)
        service = Service(
            id=uuid.uuid4(),
            org_id=None,
            name=f"VPN {uuid.uuid4().hex[:6]}",
            is_active=True,
            default_team_id=network.id,
        )
        db.add(service)
        await db.flush()
        # The portal path: the team is set, the customer's view has no field for it.
        mine = await open_ticket(client, desk.h["customer"], service_id=str(service.id))
        assert "assigned_team" not in mine
        staff = ok(await client.get(f"{I}/{mine['id']}", headers=desk.h["agent"]))
        assert staff["assigned_team"] == {"id": str(network.id), "name": network.name}
        # The phone path too.
        body = phone_body(desk.customer.id, service_id=str(service.id))
        recorded = ok(await client.post(I, json=body, headers=desk.h["agent"]), 201)
        assert recorded["assigned_team"]["id"] == str(network.id)
        # Without a service (or a service without a team): no team.
        plain = ok(
            await client.post(I, json=phone_body(desk.customer.id), headers=desk.h["agent"]), 201
        )
        assert plain["assigned_team"] is None
