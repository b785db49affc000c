"""Canned replies (API-2.md "Agent workspace"): scopes and who may keep, see and change them,
placeholders filled on the server for one ticket, the template sandbox, usage counts, audit."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any

import pytest
from httpx import AsyncClient
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.errors import Invalid
from app.models import AuditLog, CannedReply, Organization, Team, TeamMember, User
from app.models.enums import Role
from app.services import canned_replies
from tests.factories import bearer_headers, make_org, make_user
from tests.test_tickets_api import ok, open_ticket

R = "/api/internal/canned-replies"
I = "/api/internal/tickets"  # noqa: E741


@dataclass
class Staff:
    org: Organization
    customer: User
    agent: User
    other_agent: User
    manager: User
    admin: User
    team: Team
    h: dict[str, dict[str, str]] = field(default_factory=dict)


@pytest.fixture
async def staff(db: AsyncSession) -> Staff:
    return await build_staff(db)


async def build_staff(db: AsyncSession) -> Staff:
    """A customer of an organization, two agents (the first in a team), a manager, an admin."""
    org = await make_org(db, name=f"Acme {uuid.uuid4().hex[:6]}")
    team = Team(id=uuid.uuid4(), name=f"Network {uuid.uuid4().hex[:6]}")
    db.add(team)
    s = Staff(
        org=org,
        customer=await make_user(db, role=Role.CUSTOMER_USER, org=org, name="Ada Lovelace"),
        agent=await make_user(db, role=Role.AGENT, name="Grace Hopper"),
        other_agent=await make_user(db, role=Role.AGENT),
        manager=await make_user(db, role=Role.MANAGER),
        admin=await make_user(db, role=Role.ADMIN),
        team=team,
    )
    await db.flush()
    db.add(TeamMember(team_id=team.id, user_id=s.agent.id))
    await db.flush()
    for name in ("customer", "agent", "other_agent", "manager", "admin"):
        s.h[name] = await bearer_headers(db, getattr(s, name))
    return s


async def create(
    client: AsyncClient, headers: dict[str, str], expected: int = 201, **body: Any
) -> Any:
    payload = {"title": "Thanks", "body": "Thank you!", **body}
    answer = await client.post(R, json=payload, headers=headers)
    assert answer.status_code == expected, answer.text
    return answer.json()


async def titles(client: AsyncClient, headers: dict[str, str], **params: str) -> set[str]:
    return {r["title"] for r in ok(await client.get(R, params=params, headers=headers))["items"]}


class TestScopes:
    async def test_personal_replies_exist_for_their_owner_only(
        self, client: AsyncClient, staff: Staff
    ) -> None:
        mine = await create(client, staff.h["agent"], title="Mine only")
        assert mine["scope"] == "personal" and mine["can_edit"] is True
        assert mine["owner"] == {"id": str(staff.agent.id), "name": staff.agent.name}
        assert "Mine only" in await titles(client, staff.h["agent"])
        ticket = await open_ticket(client, staff.h["customer"])
        for who in ("other_agent", "manager", "admin"):
            assert "Mine only" not in await titles(client, staff.h[who])
            h = staff.h[who]
            answers = [
                await client.patch(f"{R}/{mine['id']}", json={"title": "x"}, headers=h),
                await client.delete(f"{R}/{mine['id']}", headers=h),
                await client.post(
                    f"{I}/{ticket['id']}/canned-replies/{mine['id']}/render", headers=h
                ),
            ]
            assert [a.status_code for a in answers] == [404, 404, 404], who

    async def test_team_replies_for_members_and_managers_shared_for_everyone(
        self, client: AsyncClient, staff: Staff
    ) -> None:
        team = await create(
            client, staff.h["agent"], title="Team text", scope="team", team_id=str(staff.team.id)
        )
        assert team["team_name"] == staff.team.name
        shared = await create(client, staff.h["manager"], title="Shared text", scope="shared")
        assert {"Team text", "Shared text"} <= await titles(client, staff.h["agent"])
        assert await titles(client, staff.h["other_agent"]) >= {"Shared text"}
        assert "Team text" not in await titles(client, staff.h["other_agent"])
        # Managers and admins see (and may edit) every team's and shared replies.
        listed = ok(await client.get(R, headers=staff.h["admin"]))["items"]
        edits = {r["title"]: r["can_edit"] for r in listed}
        assert edits["Team text"] is True and edits["Shared text"] is True
        other = {
            r["title"]: r["can_edit"]
            for r in ok(await client.get(R, headers=staff.h["other_agent"]))["items"]
        }
        assert other["Shared text"] is False
        h = staff.h["other_agent"]
        answer = await client.patch(f"{R}/{shared['id']}", json={"title": "mine now"}, headers=h)
        assert answer.status_code == 403, answer.text
        assert (await client.delete(f"{R}/{shared['id']}", headers=h)).status_code == 403
        renamed = ok(
            await client.patch(
                f"{R}/{team['id']}", json={"title": "Renamed"}, headers=staff.h["manager"]
            )
        )
        assert renamed["title"] == "Renamed"
        assert (
            await client.delete(f"{R}/{team['id']}", headers=staff.h["admin"])
        ).status_code == 204

    async def test_who_may_create_which_scope(self, client: AsyncClient, staff: Staff) -> None:
        team_id = str(staff.team.id)
        await create(client, staff.h["agent"], 403, scope="shared")
        await create(client, staff.h["other_agent"], 403, scope="team", team_id=team_id)
        await create(client, staff.h["manager"], 201, scope="team", team_id=team_id)
        await create(client, staff.h["admin"], 201, scope="shared")
        await create(client, staff.h["agent"], 201, scope="team", team_id=team_id)
        await create(client, staff.h["agent"], 422, scope="team")
        await create(client, staff.h["agent"], 422, scope="personal", team_id=team_id)
        await create(client, staff.h["manager"], 422, scope="team", team_id=str(uuid.uuid4()))
        await create(client, staff.h["agent"], 422, color="red")
        # Moving one's own personal reply to shared needs the sharing right too.
        mine = await create(client, staff.h["agent"])
        answer = await client.patch(
            f"{R}/{mine['id']}", json={"scope": "shared"}, headers=staff.h["agent"]
        )
        assert answer.status_code == 403, answer.text

    async def test_customers_get_403_everywhere(self, client: AsyncClient, staff: Staff) -> None:
        reply = await create(client, staff.h["manager"], scope="shared")
        ticket = await open_ticket(client, staff.h["customer"])
        h = staff.h["customer"]
        answers = [
            await client.get(R, headers=h),
            await client.post(R, json={"title": "x", "body": "y"}, headers=h),
            await client.patch(f"{R}/{reply['id']}", json={"title": "x"}, headers=h),
            await client.delete(f"{R}/{reply['id']}", headers=h),
            await client.post(f"{I}/{ticket['id']}/canned-replies/{reply['id']}/render", headers=h),
        ]
        assert [a.status_code for a in answers] == [403] * 5

    async def test_search_matches_title_and_body(self, client: AsyncClient, staff: Staff) -> None:
        word = uuid.uuid4().hex[:8]
        await create(client, staff.h["agent"], title=f"Printer {word}")
        await create(client, staff.h["agent"], title="Other", body=f"About {word}.")
        await create(client, staff.h["agent"], title="Unrelated")
        assert await titles(client, staff.h["agent"], q=word) == {f"Printer {word}", "Other"}
        assert await titles(client, staff.h["agent"], q="%") == set()


class TestRendering:
    async def test_placeholders_are_filled_from_the_ticket_and_uses_counted(
        self, client: AsyncClient, db: AsyncSession, staff: Staff
    ) -> None:
        ticket = await open_ticket(client, staff.h["customer"], title="Printer on fire")
        body = (
            "Hello {{ customer.first_name }} ({{ customer.name }}),\n\n"
            'ticket #{{ ticket.number }} "{{ ticket.title }}" of {{ org.name }} '
            "is {{ ticket.status | lower }}."
            "{% if ticket.category %} Category {{ ticket.category }}.{% endif %}\n"
            "{{ assignee.name | default('nobody') }}{{ team.name }}\n"
            "-- {{ agent.name }} <{{ agent.email }}>"
        )
        reply = await create(client, staff.h["agent"], body=body)
        url = f"{I}/{ticket['id']}/canned-replies/{reply['id']}/render"
        rendered = ok(await client.post(url, headers=staff.h["agent"]))["body"]
        assert rendered == (
            "Hello Ada (Ada Lovelace),\n\n"
            f'ticket #{ticket["number"]} "Printer on fire" of {staff.org.name} is new.\n'
            "\n"
            f"-- Grace Hopper <{staff.agent.email}>"
        )
        ok(await client.post(url, headers=staff.h["agent"]))
        stored = await db.get(CannedReply, uuid.UUID(reply["id"]))
        assert stored is not None
        await db.refresh(stored)
        assert stored.usage_count == 2
        listed = ok(await client.get(R, headers=staff.h["agent"]))["items"]
        assert [r["usage_count"] for r in listed if r["id"] == reply["id"]] == [2]
        # Rendering for a ticket that does not exist: 404, and not counted.
        missing = await client.post(
            f"{I}/{uuid.uuid4()}/canned-replies/{reply['id']}/render", headers=staff.h["agent"]
        )
        assert missing.status_code == 404

    @pytest.mark.parametrize(
        "body",
        [
            "{{ ''.__class__ }}",
            "{{ ''.__class__.__mro__[1].__subclasses__() }}",
            "{{ customer.__class__ }}",
            "{{ customer.items() }}",
            "{{ customer.items }}",
            "{{ customer['name'] }}",
            "{{ customer }}",
            "{{ unknown.name }}",
            "{{ customer.password }}",
            "{% for i in range(100000000) %}x{% endfor %}",
            "{% for a in range(99999) %}{% for b in range(99999) %}x{% endfor %}{% endfor %}",
            "{{ 'x' * 100000000 }}",
            "{{ 9 ** 9 ** 9 }}",
            "{% set x = 1 %}",
            "{% include 'base.txt' %}",
            "{% macro m() %}{% endmacro %}",
            "{{ lipsum() }}",
            "{{ customer.name | attr('__class__') }}",
            "{{ customer.name | center(100000000) }}",
            "{{ customer.name.upper() }}",
            "{{ self }}",
            "{% if %}",
            "{{ customer.name",
        ],
    )
    async def test_the_sandbox_refuses_before_running(
        self, client: AsyncClient, staff: Staff, body: str
    ) -> None:
        answer = await client.post(
            R, json={"title": "Evil", "body": body}, headers=staff.h["agent"]
        )
        assert answer.status_code == 422, answer.text
        assert answer.json()["detail"][0]["loc"] == ["body", "body"], answer.text

    async def test_a_stored_bad_template_is_refused_at_render_not_run(
        self, client: AsyncClient, db: AsyncSession, staff: Staff
    ) -> None:
        ticket = await open_ticket(client, staff.h["customer"])
        evil = CannedReply(
            id=uuid.uuid4(),
            title="Evil",
            body="{% for i in range(100000000) %}{{ ''.__class__ }}{% endfor %}",
            scope="personal",
            owner_id=staff.agent.id,
        )
        db.add(evil)
        await db.flush()
        url = f"{I}/{ticket['id']}/canned-replies/{evil.id}/render"
        answer = await client.post(url, headers=staff.h["agent"])
        assert answer.status_code == 422, answer.text

    def test_output_is_capped(self) -> None:
        context = {
            k: dict.fromkeys(fields, "x" * 200) for k, fields in canned_replies.PLACEHOLDERS.items()
        }
        canned_replies.render("{{ customer.name }}" * 200, context)  # 40,000: fine
        with pytest.raises(Invalid):
            canned_replies.render("{{ customer.name }}" * 300, context)

    def test_autoescape_is_off_for_markdown(self) -> None:
        context = {
            k: dict.fromkeys(fields, "<b>&</b>")
            for k, fields in canned_replies.PLACEHOLDERS.items()
        }
        assert canned_replies.render("**{{ customer.name }}**", context) == "**<b>&</b>**"


class TestAudit:
    async def test_create_update_delete_are_audited(
        self, client: AsyncClient, db: AsyncSession, staff: Staff
    ) -> None:
        reply = await create(client, staff.h["agent"], title="Audited", body="Old text")
        ok(
            await client.patch(
                f"{R}/{reply['id']}",
                json={"title": "Audited 2", "body": "New"},
                headers=staff.h["agent"],
            )
        )
        ok(
            await client.patch(
                f"{R}/{reply['id']}", json={"title": "Audited 2"}, headers=staff.h["agent"]
            )
        )
        assert (
            await client.delete(f"{R}/{reply['id']}", headers=staff.h["agent"])
        ).status_code == 204
        rows = (
            (
                await db.execute(
                    select(AuditLog)
                    .where(AuditLog.entity_id == uuid.UUID(reply["id"]))
                    .order_by(AuditLog.seq)
                )
            )
            .scalars()
            .all()
        )
        assert [r.action for r in rows] == [
            "canned_reply.created",
            "canned_reply.updated",
            "canned_reply.deleted",
        ]
        assert all(r.actor_id == staff.agent.id for r in rows)
        assert rows[0].new_value == {"title": "Audited", "scope": "personal", "team_id": None}
        assert rows[1].old_value == {"title": "Audited", "body": "(changed)"}
        assert rows[1].new_value == {"title": "Audited 2", "body": "(changed)"}
        assert await db.get(CannedReply, uuid.UUID(reply["id"])) is None
