"""Ticket tags (API-2.md "Agent workspace"): created on the fly by the desk's PATCH, normalised
and bounded, shown in the staff views only, a list filter that uses its index, suggestions, the
admins' rename and merge (audited), plus the PATCH's team (the assign command) and the category
suggestions."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from httpx import AsyncClient
from sqlalchemy import delete, event, func, insert, select
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from app.db.session import get_engine
from app.models import AuditLog, OutboxMessage, Tag, Team, Ticket, TicketTag
from app.models.enums import Role
from app.services import tags
from tests.factories import bearer_headers as headers_for
from tests.factories import make_org, make_user
from tests.test_query_plans import INDEX_NODES, Recorder, explain, nodes, populate
from tests.test_tickets_api import (
    LIST_STATEMENTS,
    Desk,
    count_statements,
    error_fields,
    ok,
    open_ticket,
    set_columns,
)

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


@pytest.fixture
def plans(connection: AsyncConnection) -> Iterator[Recorder]:
    recorder = Recorder()
    sync = connection.sync_connection
    assert sync is not None
    event.listen(sync, "before_cursor_execute", recorder)
    try:
        yield recorder
    finally:
        event.remove(sync, "before_cursor_execute", recorder)


def unique(word: str) -> str:
    return f"{word}-{uuid.uuid4().hex[:8]}"


async def tag(client: AsyncClient, desk: Desk, ticket_id: str, names: list[str]) -> Any:
    return await client.patch(f"{I}/{ticket_id}", json={"tags": names}, headers=desk.h["agent"])


async def tag_id(db: AsyncSession, name: str) -> uuid.UUID:
    return (await db.execute(select(Tag.id).where(Tag.name == name))).scalar_one()


class TestTicketTags:
    async def test_new_names_are_created_normalised_and_shown_sorted(
        self, client: AsyncClient, db: AsyncSession, desk: Desk
    ) -> None:
        ticket = await open_ticket(client, desk.h["customer"])
        vpn, net = unique("vpn"), unique("net")
        answer = ok(await tag(client, desk, ticket["id"], [f"  {vpn.upper()} ", net, vpn]))
        assert answer["tags"] == sorted([vpn, net])
        detail = ok(await client.get(f"{I}/{ticket['id']}", headers=desk.h["agent"]))
        assert detail["tags"] == sorted([vpn, net])
        assert await db.scalar(select(func.count()).where(Tag.name.in_([vpn, net]))) == 2
        # An existing name is reused, not created again; removing one keeps the tag itself.
        other = await open_ticket(client, desk.h["customer"])
        assert ok(await tag(client, desk, other["id"], [vpn]))["tags"] == [vpn]
        assert ok(await tag(client, desk, ticket["id"], [net]))["tags"] == [net]
        assert await db.scalar(select(func.count()).where(Tag.name == vpn)) == 1
        assert ok(await tag(client, desk, ticket["id"], []))["tags"] == []

    async def test_a_change_writes_the_ticket_without_reading_its_document_back(
        self, client: AsyncClient, desk: Desk, plans: Recorder
    ) -> None:
        """The ticket's UPDATE returns nothing: the search document the server recomputes is
        never read through the model (Ticket's eager_defaults "auto"); a bulk action would
        otherwise fetch a thousand of them."""
        ticket = await open_ticket(client, desk.h["customer"])
        plans.statements.clear()
        ok(await tag(client, desk, ticket["id"], [unique("doc")]))
        updates = [s for s, _ in plans.statements if s.startswith("UPDATE tickets")]
        assert updates, plans.statements
        assert not [s for s in updates if "RETURNING" in s], updates

    async def test_bad_names_and_too_many_tags_are_422_naming_the_field(
        self, client: AsyncClient, db: AsyncSession, desk: Desk
    ) -> None:
        ticket = await open_ticket(client, desk.h["customer"])
        for bad in (["ok", "no/slash"], ["   "], ["x" * 41], ["ünï"], None):
            answer = await tag(client, desk, ticket["id"], bad)  # type: ignore[arg-type]
            assert answer.status_code == 422, (bad, answer.text)
            assert "tags" in answer.json()["detail"][0]["loc"], answer.text
        many = [f"t{i}-{uuid.uuid4().hex[:6]}" for i in range(21)]
        assert error_fields(await tag(client, desk, ticket["id"], many)) == ["tags"]
        # 20 distinct names (the duplicate does not count) are fine; the 40-character limit too.
        twenty = [*many[:19], "y" * 40, "Y" * 40]
        assert len(ok(await tag(client, desk, ticket["id"], twenty))["tags"]) == 20
        assert not await db.scalar(select(func.count()).where(Tag.name.in_(many[19:])))

    async def test_changes_are_audited_with_old_and_new_tags(
        self, client: AsyncClient, db: AsyncSession, desk: Desk
    ) -> None:
        ticket = await open_ticket(client, desk.h["customer"])
        a, b = sorted([unique("a"), unique("b")])
        ok(await tag(client, desk, ticket["id"], [a]))
        ok(await tag(client, desk, ticket["id"], [b, a]))
        ok(await tag(client, desk, ticket["id"], [a, b]))  # no change: no entry
        trail = ok(await client.get(f"{I}/{ticket['id']}/audit", headers=desk.h["manager"]))
        updates = [e for e in trail["items"] if e["action"] == "ticket.updated"]
        assert [(e["old_value"], e["new_value"]) for e in updates] == [
            ({"tags": []}, {"tags": [a]}),
            ({"tags": [a]}, {"tags": [a, b]}),
        ]

    async def test_customers_never_see_tags(
        self, client: AsyncClient, db: AsyncSession, desk: Desk
    ) -> None:
        ticket = await open_ticket(client, desk.h["customer"])
        secret = unique("vip-escalation")
        ok(await tag(client, desk, ticket["id"], [secret]))
        ok(await client.post(f"{I}/{ticket['id']}/accept", json={}, headers=desk.h["manager"]))
        reply = {"body": "We are on it.", "is_internal": False}
        ok(
            await client.post(f"{I}/{ticket['id']}/comments", json=reply, headers=desk.h["agent"]),
            201,
        )
        answers = [
            await client.get("/api/tickets", headers=desk.h["customer"]),
            await client.get(f"/api/tickets/{ticket['id']}", headers=desk.h["customer"]),
            await client.get("/api/internal/tags", params={"q": "vip"}, headers=desk.h["customer"]),
        ]
        assert [a.status_code for a in answers] == [200, 200, 403]
        listed = answers[0].json()["items"]
        assert [t["id"] for t in listed] == [ticket["id"]]
        for view in (listed[0], answers[1].json()):
            assert "tags" not in view
            assert secret not in answers[1].text and secret not in answers[0].text
        mails = (
            await db.execute(
                select(OutboxMessage).where(OutboxMessage.recipient_id == desk.customer.id)
            )
        ).scalars()
        bodies = [(m.subject, m.body_text, m.body_html) for m in mails]
        assert bodies, "the customer got no mail to check"
        assert not [b for b in bodies if any(secret in part for part in b)]


class TestTagFilter:
    async def test_filter_combines_with_the_others_and_keeps_keyset_pages(
        self, client: AsyncClient, db: AsyncSession, desk: Desk
    ) -> None:
        name = unique("outage")
        made = [await open_ticket(client, desk.h["customer"]) for _ in range(4)]
        for t in made[:3]:
            ok(await tag(client, desk, t["id"], [name, unique("noise")]))
        ok(await tag(client, desk, made[3]["id"], [unique("noise")]))
        await set_columns(db, made[0]["id"], priority="P1")
        params: dict[str, Any] = {"tag": name.upper(), "limit": 2}
        first = ok(await client.get(I, params=params, headers=desk.h["agent"]))
        second = ok(
            await client.get(
                I, params={**params, "cursor": first["next_cursor"]}, headers=desk.h["agent"]
            )
        )
        seen = [t["id"] for t in first["items"] + second["items"]]
        assert seen == [t["id"] for t in reversed(made[:3])]
        assert second["next_cursor"] is None
        assert all(name in t["tags"] for t in first["items"])
        p1 = ok(
            await client.get(I, params={"tag": name, "priority": "P1"}, headers=desk.h["agent"])
        )
        assert [t["id"] for t in p1["items"]] == [made[0]["id"]]
        none = ok(await client.get(I, params={"tag": unique("nothing")}, headers=desk.h["agent"]))
        assert none["items"] == []

    async def test_team_and_channel_filters(
        self, client: AsyncClient, db: AsyncSession, desk: Desk
    ) -> None:
        team = Team(id=uuid.uuid4(), name=unique("Team"))
        db.add(team)
        await db.flush()
        a, b = [await open_ticket(client, desk.h["customer"]) for _ in range(2)]
        await set_columns(db, a["id"], assigned_team_id=team.id, channel="phone")
        by_team = ok(await client.get(I, params={"team_id": str(team.id)}, headers=desk.h["agent"]))
        assert [t["id"] for t in by_team["items"]] == [a["id"]]
        assert by_team["items"][0]["channel"] == "phone"
        params = {"channel": "phone", "org_id": str(desk.org.id)}
        by_channel = ok(await client.get(I, params=params, headers=desk.h["agent"]))
        assert [t["id"] for t in by_channel["items"]] == [a["id"]]
        assert b["id"] not in [t["id"] for t in by_channel["items"]]

    async def test_the_tagged_list_runs_one_statement_whatever_the_page(
        self, connection: AsyncConnection, client: AsyncClient, db: AsyncSession, desk: Desk
    ) -> None:
        name = unique("bulk")
        for _ in range(6):
            t = await open_ticket(client, desk.h["customer"])
            ok(await tag(client, desk, t["id"], [name, unique("x"), unique("y")]))
        counts = []
        for limit in (1, 6):
            count, statements = await count_statements(
                connection, client, f"{I}?tag={name}&limit={limit}", desk.h["agent"]
            )
            assert count <= LIST_STATEMENTS, statements
            counts.append(count)
        assert len(set(counts)) == 1, counts

    async def test_the_tag_filter_reads_tickets_through_indexes(
        self,
        connection: AsyncConnection,
        client: AsyncClient,
        db: AsyncSession,
        plans: Recorder,
    ) -> None:
        corpus = await populate(db, connection)
        # One ticket in 300 carries the rare tag, one in three the common one.
        for name, every in (("rare-tag", 300), ("common-tag", 3)):
            await connection.exec_driver_sql(
                "INSERT INTO tags (name) VALUES ($1) ON CONFLICT DO NOTHING", (name,)
            )
            await connection.exec_driver_sql(
                "INSERT INTO ticket_tags (ticket_id, tag_id) SELECT t.id, g.id FROM "
                "(SELECT id, row_number() OVER (ORDER BY created_at) AS i FROM tickets) t, "
                "tags g WHERE g.name = $1 AND t.i % $2 = 0",
                (name, every),
            )
        await connection.exec_driver_sql("ANALYZE tags")
        await connection.exec_driver_sql("ANALYZE ticket_tags")
        headers = await headers_for(db, corpus.agents[0])
        for name in ("rare-tag", "common-tag"):
            plans.statements.clear()
            answer = ok(await client.get(I, params={"tag": name}, headers=headers))
            assert len(answer["items"]) == 50
            (sql, bound), *more = plans.ticket_queries()
            assert not more, more
            plan = await explain(connection, sql, bound)
            scans = [
                (n["Node Type"], n.get("Relation Name"), n.get("Index Name"))
                for n in nodes(plan.tree)
            ]
            assert not [
                s for s in scans if s[0] == "Seq Scan" and s[1] in ("tickets", "ticket_tags")
            ], plan.describe()
            assert any(
                kind in INDEX_NODES
                and (rel == "tickets" or (idx or "").startswith(("ix_tickets", "pk_tickets")))
                for kind, rel, idx in scans
            ), plan.describe()


class TestSuggestions:
    async def test_tags_by_name_with_counts_and_keyset_pages(
        self, client: AsyncClient, db: AsyncSession, desk: Desk
    ) -> None:
        stem = uuid.uuid4().hex[:8]
        t1, t2 = [await open_ticket(client, desk.h["customer"]) for _ in range(2)]
        ok(await tag(client, desk, t1["id"], [f"{stem}-a", f"{stem}-b"]))
        ok(await tag(client, desk, t2["id"], [f"{stem}-a", "zz-" + stem]))
        first = ok(
            await client.get(
                "/api/internal/tags",
                params={"q": stem.upper(), "limit": 2},
                headers=desk.h["agent"],
            )
        )
        assert [(t["name"], t["count"]) for t in first["items"]] == [
            (f"{stem}-a", 2),
            (f"{stem}-b", 1),
        ]
        rest = ok(
            await client.get(
                "/api/internal/tags",
                params={"q": stem, "cursor": first["next_cursor"]},
                headers=desk.h["agent"],
            )
        )
        assert [(t["name"], t["count"]) for t in rest["items"]] == [("zz-" + stem, 1)]
        assert rest["next_cursor"] is None
        wild = ok(
            await client.get("/api/internal/tags", params={"q": "%"}, headers=desk.h["agent"])
        )
        assert all("%" in t["name"] for t in wild["items"])

    async def test_categories_most_used_first_for_staff_only(
        self, client: AsyncClient, db: AsyncSession, desk: Desk
    ) -> None:
        stem = uuid.uuid4().hex[:8]
        for category, n in ((f"{stem} printing", 1), (f"{stem} network", 3)):
            for _ in range(n):
                await open_ticket(client, desk.h["customer"], category=category)
        path = "/api/internal/categories"
        answer = ok(await client.get(path, params={"q": stem}, headers=desk.h["agent"]))
        assert answer["items"] == [
            {"name": f"{stem} network", "count": 3},
            {"name": f"{stem} printing", "count": 1},
        ]
        everything = ok(await client.get(path, headers=desk.h["agent"]))
        assert len(everything["items"]) <= 50
        assert (await client.get(path, headers=desk.h["customer"])).status_code == 403


class TestTeamThroughPatch:
    async def test_team_is_set_by_the_assign_command(
        self, client: AsyncClient, db: AsyncSession, desk: Desk
    ) -> None:
        team = Team(id=uuid.uuid4(), name=unique("Team"))
        db.add(team)
        await db.flush()
        ticket = await open_ticket(client, desk.h["customer"])
        path = f"{I}/{ticket['id']}"
        # A NEW ticket cannot be assigned: the same refusal as POST /assign.
        refused = await client.patch(path, json={"team_id": str(team.id)}, headers=desk.h["agent"])
        assert refused.status_code == 409, refused.text
        ok(await client.post(f"{path}/accept", json={}, headers=desk.h["manager"]))
        unknown = await client.patch(
            path, json={"team_id": str(uuid.uuid4())}, headers=desk.h["agent"]
        )
        assert error_fields(unknown) == ["team_id"]
        assert error_fields(
            await client.patch(path, json={"team_id": None}, headers=desk.h["agent"])
        ) == ["team_id"]
        changed = ok(
            await client.patch(
                path, json={"team_id": str(team.id), "priority": "P2"}, headers=desk.h["agent"]
            )
        )
        assert changed["assigned_team"] == {"id": str(team.id), "name": team.name}
        assert (changed["status"], changed["priority"]) == ("ASSIGNED", "P2")
        actions = (
            await db.execute(
                select(AuditLog.action, AuditLog.new_value)
                .where(AuditLog.ticket_id == uuid.UUID(ticket["id"]))
                .order_by(AuditLog.seq)
            )
        ).all()
        assigned = [v for a, v in actions if a == "ticket.assigned"]
        assert assigned == [{"assigned_team_id": str(team.id)}]


class TestAdmin:
    async def _world(self, client: AsyncClient, db: AsyncSession, desk: Desk) -> dict[str, Any]:
        admin = await make_user(db, role=Role.ADMIN)
        desk.h["admin"] = await headers_for(db, admin)
        names = {k: unique(k) for k in ("source", "target", "other")}
        t1, t2 = [await open_ticket(client, desk.h["customer"]) for _ in range(2)]
        ok(await tag(client, desk, t1["id"], [names["source"], names["target"]]))
        ok(await tag(client, desk, t2["id"], [names["source"], names["other"]]))
        ids = {k: await tag_id(db, n) for k, n in names.items()}
        return {"admin": admin, "names": names, "ids": ids, "tickets": [t1, t2]}

    async def test_only_admins_rename_and_merge(
        self, client: AsyncClient, db: AsyncSession, desk: Desk
    ) -> None:
        w = await self._world(client, db, desk)
        source, target = w["ids"]["source"], w["ids"]["target"]
        for who in ("customer", "agent", "manager"):
            renamed = await client.patch(
                f"/api/admin/tags/{source}", json={"name": "x"}, headers=desk.h[who]
            )
            merged = await client.post(
                f"/api/admin/tags/{source}/merge",
                json={"into_id": str(target)},
                headers=desk.h[who],
            )
            assert (renamed.status_code, merged.status_code) == (403, 403), who
        assert await db.scalar(select(Tag.name).where(Tag.id == source)) == w["names"]["source"]

    async def test_rename_is_audited_and_a_taken_name_is_409(
        self, client: AsyncClient, db: AsyncSession, desk: Desk
    ) -> None:
        w = await self._world(client, db, desk)
        source = w["ids"]["source"]
        path = f"/api/admin/tags/{source}"
        taken = await client.patch(
            path, json={"name": w["names"]["target"]}, headers=desk.h["admin"]
        )
        assert taken.status_code == 409, taken.text
        assert "merge" in taken.json()["detail"]
        new = unique("Renamed")
        answer = ok(await client.patch(path, json={"name": new}, headers=desk.h["admin"]))
        assert answer == {"id": str(source), "name": new.lower(), "count": 2}
        assert error_fields(
            await client.patch(path, json={"name": "a/b"}, headers=desk.h["admin"])
        ) == ["name"]
        missing = await client.patch(
            f"/api/admin/tags/{uuid.uuid4()}", json={"name": "q"}, headers=desk.h["admin"]
        )
        assert missing.status_code == 404
        entries = (
            (
                await db.execute(
                    select(AuditLog).where(
                        AuditLog.entity_id == source, AuditLog.action == "tag.renamed"
                    )
                )
            )
            .scalars()
            .all()
        )
        assert [(e.actor_id, e.old_value, e.new_value) for e in entries] == [
            (w["admin"].id, {"name": w["names"]["source"]}, {"name": new.lower()})
        ]

    async def test_merge_moves_every_ticket_and_deletes_the_source(
        self, client: AsyncClient, db: AsyncSession, desk: Desk
    ) -> None:
        w = await self._world(client, db, desk)
        source, target = w["ids"]["source"], w["ids"]["target"]
        path = f"/api/admin/tags/{source}/merge"
        assert error_fields(
            await client.post(path, json={"into_id": str(source)}, headers=desk.h["admin"])
        ) == ["into_id"]
        assert error_fields(
            await client.post(path, json={"into_id": str(uuid.uuid4())}, headers=desk.h["admin"])
        ) == ["into_id"]
        answer = ok(await client.post(path, json={"into_id": str(target)}, headers=desk.h["admin"]))
        assert answer == {"id": str(target), "name": w["names"]["target"], "count": 2}
        assert await db.scalar(select(func.count()).where(Tag.id == source)) == 0
        assert await db.scalar(select(func.count()).where(TicketTag.tag_id == source)) == 0
        for t, expected in zip(
            w["tickets"],
            ([w["names"]["target"]], sorted([w["names"]["target"], w["names"]["other"]])),
            strict=True,
        ):
            view = ok(await client.get(f"{I}/{t['id']}", headers=desk.h["agent"]))
            assert view["tags"] == expected
        entry = (
            await db.execute(
                select(AuditLog).where(
                    AuditLog.action == "tag.merged", AuditLog.entity_id == target
                )
            )
        ).scalar_one()
        assert entry.actor_id == w["admin"].id
        assert entry.old_value == {"id": str(source), "name": w["names"]["source"]}
        assert entry.new_value["into_id"] == str(target) and entry.new_value["tickets"] == 2
        gone = await client.post(path, json={"into_id": str(target)}, headers=desk.h["admin"])
        assert gone.status_code == 404


async def test_a_name_another_transaction_creates_meanwhile_is_still_linked() -> None:
    """A ticket's new tags are created and linked in one statement, whose snapshot predates a
    name another transaction commits while the statement waits for it: the link must not be
    lost (tags.set_for_ticket links what the statement missed)."""
    name = unique("race")
    engine = get_engine()
    async with engine.connect() as other:
        await other.begin()
        await other.execute(insert(Tag).values(id=uuid.uuid4(), name=name))  # not committed yet
        async with AsyncSession(engine, expire_on_commit=False) as session:
            org = await make_org(session)
            customer = await make_user(session, role=Role.CUSTOMER_USER, org=org)
            ticket = Ticket(
                org_id=org.id,
                created_by=customer.id,
                priority="P3",
                title="Race",
                description="Race",
            )
            session.add(ticket)
            await session.flush()
            # Waits on the other transaction's uncommitted name (ON CONFLICT), which commits.
            linking = asyncio.create_task(tags.set_for_ticket(session, ticket.id, [], [name]))
            await asyncio.sleep(0.5)
            assert not linking.done()
            await other.commit()
            await asyncio.wait_for(linking, 10)
            linked = await session.execute(
                select(Tag.name)
                .join(TicketTag, TicketTag.tag_id == Tag.id)
                .where(TicketTag.ticket_id == ticket.id)
            )
            assert list(linked.scalars()) == [name]
            await session.rollback()
    async with engine.begin() as cleanup:
        await cleanup.execute(delete(Tag).where(Tag.name == name))
