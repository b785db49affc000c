"""Colleagues copied on a ticket (services/ccs.py): who may be copied (active customer users of
the ticket's organization only), who may copy (customers who see the ticket, staff), the audit
entry, the views, and the mails a copied colleague receives (services/notifications.py)."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from httpx import AsyncClient, Response
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.models import AuditLog, Organization, OutboxMessage, TicketCc, User
from app.models.enums import Role
from tests.factories import bearer_headers as headers_for
from tests.factories import make_org, make_user

Headers = dict[str, str]


def ok(response: Response, status: int = 200) -> Any:
    assert response.status_code == status, response.text
    return response.json()


class World:
    org: Organization
    users: dict[str, User]
    h: dict[str, Headers]
    ticket: str

    def id(self, name: str) -> str:
        return str(self.users[name].id)


@pytest.fixture
async def w(client: AsyncClient, db: AsyncSession) -> World:
    world = World()
    world.org = await make_org(db)
    other = await make_org(db)
    world.users = {
        "req": await make_user(db, role=Role.CUSTOMER_USER, org=world.org, name="Rita Requester"),
        "col": await make_user(db, role=Role.CUSTOMER_USER, org=world.org, name="Carl Colleague"),
        "boss": await make_user(db, role=Role.CUSTOMER_ADMIN, org=world.org, name="Bea Boss"),
        "gone": await make_user(db, role=Role.CUSTOMER_USER, org=world.org, name="Gil Gone"),
        "stranger": await make_user(db, role=Role.CUSTOMER_USER, org=other, name="Sam Stranger"),
        "agent": await make_user(db, role=Role.AGENT, name="Ada Agent"),
        "manager": await make_user(db, role=Role.MANAGER),
    }
    world.users["gone"].is_active = False
    await db.flush()
    world.h = {n: await headers_for(db, u) for n, u in world.users.items() if n != "gone"}
    world.ticket = ok(
        await client.post(
            "/api/tickets",
            json={"title": "VPN drops", "description": "Every hour."},
            headers=world.h["req"],
        ),
        201,
    )["id"]
    return world


async def put_cc(client: AsyncClient, w: World, caller: str, *names: str) -> Response:
    ids = [w.id(n) if n in w.users else n for n in names]
    return await client.put(
        f"/api/tickets/{w.ticket}/cc", json={"user_ids": ids}, headers=w.h[caller]
    )


async def cc_rows(db: AsyncSession, ticket: str) -> list[uuid.UUID]:
    rows = await db.execute(select(TicketCc.user_id).where(TicketCc.ticket_id == uuid.UUID(ticket)))
    return sorted(rows.scalars())


class TestSettingTheList:
    async def test_the_requester_copies_a_colleague_and_the_views_show_it(
        self, client: AsyncClient, db: AsyncSession, w: World
    ) -> None:
        answer = ok(await put_cc(client, w, "req", "col", "boss"))
        expected = [
            {"id": w.id("boss"), "name": "Bea Boss"},
            {"id": w.id("col"), "name": "Carl Colleague"},
        ]
        assert answer == {"items": expected}
        portal = ok(await client.get(f"/api/tickets/{w.ticket}", headers=w.h["req"]))
        assert portal["cc"] == expected
        desk = ok(await client.get(f"/api/internal/tickets/{w.ticket}", headers=w.h["agent"]))
        assert desk["cc"] == expected

    async def test_the_change_is_audited_once_and_a_repeat_is_not(
        self, client: AsyncClient, db: AsyncSession, w: World
    ) -> None:
        ok(await put_cc(client, w, "req", "col"))
        ok(await put_cc(client, w, "req", "col"))
        ok(await put_cc(client, w, "boss", "boss"))
        entries = (
            await db.execute(
                select(AuditLog.actor_id, AuditLog.old_value, AuditLog.new_value, AuditLog.org_id)
                .where(
                    AuditLog.ticket_id == uuid.UUID(w.ticket),
                    AuditLog.action == "ticket.cc_changed",
                )
                .order_by(AuditLog.seq)
            )
        ).all()
        assert [tuple(e) for e in entries] == [
            (w.users["req"].id, {"cc": []}, {"cc": [w.id("col")]}, w.org.id),
            (w.users["boss"].id, {"cc": [w.id("col")]}, {"cc": [w.id("boss")]}, w.org.id),
        ]

    async def test_the_requester_is_left_out(
        self, client: AsyncClient, db: AsyncSession, w: World
    ) -> None:
        assert ok(await put_cc(client, w, "req", "req"))["items"] == []
        assert await cc_rows(db, w.ticket) == []

    @pytest.mark.parametrize("who", ["stranger", "agent", "gone", str(uuid.UUID(int=5))])
    async def test_only_active_users_of_the_organization_can_be_copied(
        self, client: AsyncClient, db: AsyncSession, w: World, who: str
    ) -> None:
        answer = await put_cc(client, w, "req", "col", who)
        assert answer.status_code == 422, answer.text
        assert answer.json()["code"] == "invalid"
        assert await cc_rows(db, w.ticket) == []

    async def test_another_organization_cannot_touch_the_list(
        self, client: AsyncClient, db: AsyncSession, w: World
    ) -> None:
        answer = await put_cc(client, w, "stranger", "stranger")
        assert answer.status_code == 404
        candidates = await client.get(
            f"/api/tickets/{w.ticket}/cc/candidates", headers=w.h["stranger"]
        )
        assert candidates.status_code == 404
        assert await cc_rows(db, w.ticket) == []

    async def test_staff_set_it_from_the_desk(
        self, client: AsyncClient, db: AsyncSession, w: World
    ) -> None:
        path = f"/api/internal/tickets/{w.ticket}/cc"
        ok(await client.put(path, json={"user_ids": [w.id("col")]}, headers=w.h["agent"]))
        assert await cc_rows(db, w.ticket) == [w.users["col"].id]
        refused = await client.put(
            path, json={"user_ids": [w.id("stranger")]}, headers=w.h["agent"]
        )
        assert refused.status_code == 422
        customers = await client.put(path, json={"user_ids": []}, headers=w.h["req"])
        assert customers.status_code == 403

    async def test_candidates_are_the_active_colleagues_but_the_requester(
        self, client: AsyncClient, w: World
    ) -> None:
        found = ok(await client.get(f"/api/tickets/{w.ticket}/cc/candidates", headers=w.h["req"]))
        assert [p["name"] for p in found["items"]] == ["Bea Boss", "Carl Colleague"]
        desk = ok(
            await client.get(
                f"/api/internal/tickets/{w.ticket}/cc/candidates", headers=w.h["agent"]
            )
        )
        assert desk == found

    async def test_the_body_is_strict(self, client: AsyncClient, w: World) -> None:
        path = f"/api/tickets/{w.ticket}/cc"
        for body in ({}, {"user_ids": ["nope"]}, {"user_ids": [], "extra": 1}):
            answer = await client.put(path, json=body, headers=w.h["req"])
            assert answer.status_code == 422, body
        many = {"user_ids": [str(uuid.uuid4()) for _ in range(51)]}
        assert (await client.put(path, json=many, headers=w.h["req"])).status_code == 422


class TestMails:
    async def test_a_copied_colleague_gets_the_customers_mails_never_the_internal_ones(
        self, client: AsyncClient, db: AsyncSession, w: World
    ) -> None:
        ok(await put_cc(client, w, "req", "col"))
        internal = f"/api/internal/tickets/{w.ticket}"
        ok(await client.post(f"{internal}/accept", json={}, headers=w.h["manager"]))
        ok(
            await client.post(
                f"{internal}/assign", json={"assignee_id": w.id("agent")}, headers=w.h["manager"]
            )
        )
        ok(
            await client.post(
                f"{internal}/comments",
                json={"body": "Secret staff note.", "is_internal": True},
                headers=w.h["agent"],
            ),
            201,
        )
        ok(
            await client.post(
                f"{internal}/comments",
                json={"body": "Please restart the client.", "is_internal": False},
                headers=w.h["agent"],
            ),
            201,
        )
        rows = (
            await db.execute(
                select(OutboxMessage).where(OutboxMessage.ticket_id == uuid.UUID(w.ticket))
            )
        ).scalars()
        by_person: dict[uuid.UUID, set[str]] = {}
        bodies: dict[uuid.UUID, str] = {}
        for row in rows:
            by_person.setdefault(row.recipient_id, set()).add(row.template)
            for event in row.events or []:
                by_person[row.recipient_id].add(str(event["template"]))
            bodies[row.recipient_id] = bodies.get(row.recipient_id, "") + row.body_text
        col, req = w.users["col"].id, w.users["req"].id
        assert {"accepted", "reply"} <= by_person[col], by_person[col]
        assert by_person[col] <= by_person[req]
        assert "Please restart the client." in bodies[col]
        assert "Secret staff note." not in bodies[col]
        assert w.users["boss"].id not in by_person
