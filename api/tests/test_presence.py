"""Collision warnings: presence heartbeats (POST /api/internal/tickets/{id}/presence) reach the
other staff streams as `event: presence`, expire without heartbeats and never reach customers."""

from __future__ import annotations

import asyncio
import time
import uuid

from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from app.auth.deps import CurrentUser
from app.db.embedded import to_async_url
from app.models.enums import Role
from app.services import live
from tests.test_live_events import (  # noqa: F401  (the module's server fixture)
    ACME,
    AGENT,
    Server,
    api,
    open_ticket,
    server,
    stream,
    token,
)

AGENT2 = "agent2@atum.test"


async def test_presence_reaches_other_staff_only(server: Server) -> None:  # noqa: F811
    agent, agent2, acme = [await token(server, e) for e in (AGENT, AGENT2, ACME)]
    async with api(server, acme) as c:
        ticket_id = await open_ticket(c, "Presence subject")
    async with (
        stream(server, agent2) as watcher,
        stream(server, acme) as customer,
        api(server, agent) as a,
        api(server, agent2) as b,
        api(server, acme) as c,
    ):
        r = await a.post(f"/api/internal/tickets/{ticket_id}/presence", json={"state": "viewing"})
        assert r.status_code == 204, r.text
        data, _ = await watcher.next("presence")
        assert data["ticket_id"] == ticket_id
        assert [(v["name"], v["state"]) for v in data["viewers"]] == [("Arun Agent", "viewing")]

        r = await b.post(f"/api/internal/tickets/{ticket_id}/presence", json={"state": "replying"})
        assert r.status_code == 204
        data, _ = await watcher.next("presence")
        assert {(v["name"], v["state"]) for v in data["viewers"]} == {
            ("Arun Agent", "viewing"),
            ("Ines Agent", "replying"),
        }
        # A heartbeat that changes nothing is not broadcast again.
        r = await a.post(f"/api/internal/tickets/{ticket_id}/presence", json={"state": "viewing"})
        assert r.status_code == 204
        r = await a.post(f"/api/internal/tickets/{ticket_id}/presence", json={"state": "replying"})
        data, _ = await watcher.next("presence")
        assert ("Arun Agent", "replying") in {(v["name"], v["state"]) for v in data["viewers"]}

        # Customers: no presence endpoint, no presence events.
        r = await c.post(f"/api/internal/tickets/{ticket_id}/presence", json={"state": "viewing"})
        assert r.status_code == 403
        await asyncio.sleep(0.5)
        seen = []
        while not customer.events.empty():
            seen.append(customer.events.get_nowait()[0])
        assert "presence" not in seen

        missing = await a.post(
            f"/api/internal/tickets/{uuid.uuid4()}/presence", json={"state": "viewing"}
        )
        assert missing.status_code == 404
        bad = await a.post(f"/api/internal/tickets/{ticket_id}/presence", json={"state": "typing"})
        assert bad.status_code == 422


async def test_expired_presence_is_not_announced(server: Server) -> None:  # noqa: F811
    agent, agent2, acme = [await token(server, e) for e in (AGENT, AGENT2, ACME)]
    async with api(server, acme) as c:
        ticket_id = await open_ticket(c, "Expiry subject")
    async with api(server, agent) as a, api(server, agent2) as b:
        r = await a.post(f"/api/internal/tickets/{ticket_id}/presence", json={"state": "viewing"})
        assert r.status_code == 204
        engine = create_async_engine(to_async_url(server.database_url))
        try:
            async with engine.begin() as conn:
                await conn.execute(
                    text(
                        "UPDATE ticket_presence SET expires_at = now() - interval '1 second' "
                        "WHERE ticket_id = :t"
                    ),
                    {"t": ticket_id},
                )
        finally:
            await engine.dispose()
        async with stream(server, agent) as watcher:
            r = await b.post(
                f"/api/internal/tickets/{ticket_id}/presence", json={"state": "viewing"}
            )
            assert r.status_code == 204
            # (A new stream first gets the hub's current presence: skip to the heartbeat's.)
            names: list[str] = []
            while "Ines Agent" not in names:
                data, _ = await watcher.next("presence")
                names = [v["name"] for v in data["viewers"] if data["ticket_id"] == ticket_id]
            assert names == ["Ines Agent"]


def _actor(role: Role) -> CurrentUser:
    return CurrentUser(
        id=uuid.uuid4(),
        email="x@example.test",
        name="X",
        role=role,
        org_id=None if role.is_staff else uuid.uuid4(),
        org_name=None,
        session_id=uuid.uuid4(),
    )


async def test_hub_expires_viewers_without_heartbeats() -> None:
    """The hub drops a viewer once their last heartbeat's expiry passes and tells staff streams
    (customers never)."""
    hub = live.Hub()
    staff = live.Subscriber(_actor(Role.AGENT))
    customer = live.Subscriber(_actor(Role.CUSTOMER_USER))
    hub.subscribers |= {staff, customer}
    ticket = str(uuid.uuid4())
    viewer = str(uuid.uuid4())
    hub._presence(ticket, [[viewer, "Dana", "viewing", time.time() + 0.3]])
    first = staff.queue.get_nowait()
    assert first is not None and b"event: presence" in first and b"Dana" in first
    hub._expire_presence()
    assert staff.queue.empty(), "not expired yet"
    await asyncio.sleep(0.4)
    hub._expire_presence()
    gone = staff.queue.get_nowait()
    assert gone is not None and b'"viewers":[]' in gone
    assert customer.queue.empty()
    assert ticket not in hub.presence
