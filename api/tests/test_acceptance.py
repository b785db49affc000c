"""The blueprint's acceptance test, "first ticket end-to-end" (steps 2-11), through the real API.

Step 1 (postgres + api + nginx as services) is proved for the development stack by
test_make_run.py; the browser steps run here at the API level, which is what the web UI will call.
Time is a fixed, injected clock, so the SLA arithmetic is checked to the second.
"""

from __future__ import annotations

import hashlib
import json
import struct
import uuid
import zlib
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi import FastAPI
from httpx import AsyncClient, Response
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.models import TicketAttachment
from app.models.enums import Role
from app.services.attachments import file_store
from app.utils.clock import get_now
from tests.factories import PASSWORD, login, make_user

START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
CLIENT_IP = "127.0.0.1"
INTERNAL_NOTE = "Internal: customer runs the legacy VPN build, check with networking"
PUBLIC_REPLY = "Thanks for the report, we are looking at the VPN gateway now."
CUSTOMER_REPLY = "Here is the log you asked for: handshake fails after 30 s."


def tiny_png() -> bytes:
    """A real 1x1 RGB PNG (signature, IHDR, IDAT, IEND)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        crc = zlib.crc32(kind + data) & 0xFFFFFFFF
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)

    header = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)
    pixels = zlib.compress(b"\x00\xff\x80\x00")
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")
    )


@dataclass
class Clock:
    now: datetime

    def advance(self, **delta: float) -> datetime:
        self.now += timedelta(**delta)
        return self.now


@pytest.fixture
def clock(app: FastAPI, client: AsyncClient) -> Iterator[Clock]:
    fixed = Clock(START)
    app.dependency_overrides[get_now] = lambda: fixed.now
    try:
        yield fixed
    finally:
        app.dependency_overrides.pop(get_now, None)


@pytest.fixture
async def stored_files(db: AsyncSession) -> AsyncIterator[list[uuid.UUID]]:
    """Attachment ids whose files are removed from the shared upload directory afterwards (the
    rows roll back with the test transaction, the files would stay)."""
    ids: list[uuid.UUID] = []
    yield ids
    if ids:
        keys = await db.scalars(
            select(TicketAttachment.file_path).where(TicketAttachment.id.in_(ids))
        )
        for key in keys:
            await file_store().delete(key)


@dataclass
class Participant:
    """A logged-in user of the walkthrough; every request carries its own request id so the
    audit trail can be matched to the request that caused each entry."""

    client: AsyncClient
    user_id: uuid.UUID
    token: str
    request_ids: list[str] = field(default_factory=list)

    async def call(self, method: str, url: str, **kwargs: Any) -> Response:
        request_id = f"acceptance-{uuid.uuid4().hex}"
        self.request_ids.append(request_id)
        headers = {"Authorization": f"Bearer {self.token}", "X-Request-ID": request_id}
        return await self.client.request(method, url, headers=headers, **kwargs)

    @property
    def last_request_id(self) -> str:
        return self.request_ids[-1]


async def sign_in(client: AsyncClient, email: str) -> Participant:
    response = await client.post("/api/auth/login", json={"email": email, "password": PASSWORD})
    assert response.status_code == 200, response.text
    body = response.json()
    return Participant(client, uuid.UUID(body["user"]["id"]), body["access_token"])


def at(value: str | None) -> datetime | None:
    return None if value is None else datetime.fromisoformat(value)


async def find_in_new_queue(staff: Participant, ticket_id: str) -> dict[str, Any]:
    """Walk the NEW queue (oldest first) until *ticket_id* turns up."""
    cursor: str | None = None
    while True:
        params: dict[str, Any] = {"limit": 200, **({"cursor": cursor} if cursor else {})}
        page = await staff.call("GET", "/api/internal/tickets/new", params=params)
        assert page.status_code == 200, page.text
        for item in page.json()["items"]:
            if item["id"] == ticket_id:
                return dict(item)
        cursor = page.json()["next_cursor"]
        assert cursor is not None, "the ticket is not in the NEW queue"


async def test_first_ticket_end_to_end(
    db: AsyncSession, client: AsyncClient, clock: Clock, stored_files: list[uuid.UUID]
) -> None:
    png = tiny_png()
    # (action, actor, request id, part of new_value) of every audit entry expected, in order.
    expected_trail: list[tuple[str, uuid.UUID | None, str, dict[str, Any]]] = []

    # 2) Seed: an admin creates the organization, its customer_admin, a manager and an agent.
    admin = await login(client, await make_user(db, role=Role.ADMIN))
    org = await client.post("/api/orgs", json={"name": "Acme Harbour"}, headers=admin.headers)
    assert org.status_code == 201, org.text
    org_id = org.json()["id"]
    emails: dict[Role, str] = {}
    for role in (Role.CUSTOMER_ADMIN, Role.MANAGER, Role.AGENT):
        emails[role] = f"{role.value}-{uuid.uuid4().hex[:8]}@acme.example"
        created = await client.post(
            "/api/users",
            json={
                "email": emails[role],
                "name": f"Acme {role.value}",
                "role": role.value,
                "password": PASSWORD,
                **({"org_id": org_id} if role is Role.CUSTOMER_ADMIN else {}),
            },
            headers=admin.headers,
        )
        assert created.status_code == 201, created.text
        assert created.json()["org_id"] == (org_id if role is Role.CUSTOMER_ADMIN else None)

    # 3) The customer logs in and opens a P2 ticket with a screenshot attached.
    customer = await sign_in(client, emails[Role.CUSTOMER_ADMIN])
    manager = await sign_in(client, emails[Role.MANAGER])
    agent = await sign_in(client, emails[Role.AGENT])
    opened = await customer.call(
        "POST",
        "/api/tickets",
        json={"title": "VPN drops every hour", "description": "Since Monday.", "priority": "P2"},
    )
    assert opened.status_code == 201, opened.text
    ticket = opened.json()
    assert (ticket["status"], ticket["priority"], ticket["org_id"]) == ("NEW", "P2", org_id)
    assert ticket["created_by"]["id"] == str(customer.user_id)
    expected_trail.append(("ticket.created", customer.user_id, customer.last_request_id, {}))
    tid = ticket["id"]

    uploaded = await customer.call(
        "POST",
        f"/api/tickets/{tid}/attachments",
        files={"file": ("vpn-error.png", png, "image/png")},
    )
    assert uploaded.status_code == 201, uploaded.text
    attachment = uploaded.json()
    stored_files.append(uuid.UUID(attachment["id"]))
    assert attachment["file_name"] == "vpn-error.png"
    assert attachment["mime_type"] == "image/png"
    assert attachment["size_bytes"] == len(png)
    assert attachment["sha256"] == hashlib.sha256(png).hexdigest()
    expected_trail.append(("attachment.uploaded", customer.user_id, customer.last_request_id, {}))

    # 4) The ticket is in the desk's NEW queue.
    queued = await find_in_new_queue(manager, tid)
    assert queued["status"] == "NEW"
    assert queued["sla"]["first_response_due_at"] is None

    # 5) The manager accepts: SLA clocks start from the P2 defaults (2 h / 1 day).
    accepted_at = clock.advance(minutes=10)
    accepted = await manager.call("POST", f"/api/internal/tickets/{tid}/accept", json={})
    assert accepted.status_code == 200, accepted.text
    view = accepted.json()
    assert view["status"] == "ACCEPTED"
    assert view["accepted_by"]["id"] == str(manager.user_id)
    assert at(view["accepted_at"]) == accepted_at
    assert at(view["sla"]["first_response_due_at"]) == accepted_at + timedelta(hours=2)
    assert at(view["sla"]["resolution_due_at"]) == accepted_at + timedelta(days=1)
    expected_trail.append(
        ("ticket.accepted", manager.user_id, manager.last_request_id, {"status": "ACCEPTED"})
    )

    # 6) The manager assigns the ticket to the agent.
    clock.advance(minutes=5)
    assigned = await manager.call(
        "POST", f"/api/internal/tickets/{tid}/assign", json={"assignee_id": str(agent.user_id)}
    )
    assert assigned.status_code == 200, assigned.text
    assert assigned.json()["status"] == "ASSIGNED"
    assert assigned.json()["assigned_to"]["id"] == str(agent.user_id)
    expected_trail.append(("ticket.assigned", manager.user_id, manager.last_request_id, {}))
    expected_trail.append(
        ("ticket.status_changed", manager.user_id, manager.last_request_id, {"status": "ASSIGNED"})
    )

    # 7) The agent writes an internal note and a public reply; the customer sees only the reply.
    clock.advance(minutes=5)
    note = await agent.call(
        "POST",
        f"/api/internal/tickets/{tid}/comments",
        json={"body": INTERNAL_NOTE, "is_internal": True},
    )
    assert note.status_code == 201, note.text
    expected_trail.append(
        ("comment.created", agent.user_id, agent.last_request_id, {"is_internal": True})
    )
    replied_at = clock.advance(minutes=5)
    reply = await agent.call(
        "POST",
        f"/api/internal/tickets/{tid}/comments",
        json={"body": PUBLIC_REPLY, "is_internal": False},
    )
    assert reply.status_code == 201, reply.text
    expected_trail.append(
        ("comment.created", agent.user_id, agent.last_request_id, {"is_internal": False})
    )

    seen = await customer.call("GET", f"/api/tickets/{tid}")
    assert seen.status_code == 200, seen.text
    assert [c["body"] for c in seen.json()["comments"]] == [PUBLIC_REPLY]
    assert INTERNAL_NOTE not in seen.text
    assert note.json()["id"] not in seen.text
    staff = (await agent.call("GET", f"/api/internal/tickets/{tid}")).json()
    assert at(staff["sla"]["first_responded_at"]) == replied_at
    assert [c["body"] for c in staff["comments"]] == [INTERNAL_NOTE, PUBLIC_REPLY]

    # 8) The agent asks the customer for information: the SLA pauses. Three hours pass.
    paused_at = clock.advance(minutes=5)
    waiting = await agent.call(
        "POST", f"/api/internal/tickets/{tid}/status", json={"status": "WAITING_CUSTOMER"}
    )
    assert waiting.status_code == 200, waiting.text
    assert waiting.json()["status"] == "WAITING_CUSTOMER"
    assert waiting.json()["sla"]["paused"] is True
    assert at(waiting.json()["sla"]["paused_since"]) == paused_at
    expected_trail.append(
        (
            "ticket.status_changed",
            agent.user_id,
            agent.last_request_id,
            {"status": "WAITING_CUSTOMER"},
        )
    )
    clock.advance(hours=3)

    # 9) The customer replies: the ticket goes back to IN_PROGRESS (a system transition) and
    #    every unmet due time moves by the 3 paused hours. First response was already met, so
    #    its due time stays where it was (WORKFLOW.md: "added to every unmet due time").
    answered = await customer.call(
        "POST", f"/api/tickets/{tid}/comments", json={"body": CUSTOMER_REPLY}
    )
    assert answered.status_code == 201, answered.text
    expected_trail.append(
        ("comment.created", customer.user_id, customer.last_request_id, {"is_internal": False})
    )
    expected_trail.append(
        ("ticket.status_changed", None, customer.last_request_id, {"status": "IN_PROGRESS"})
    )
    assert (await customer.call("GET", f"/api/tickets/{tid}")).json()["status"] == "IN_PROGRESS"
    sla = (await agent.call("GET", f"/api/internal/tickets/{tid}")).json()["sla"]
    assert sla["paused"] is False
    assert sla["paused_since"] is None
    assert sla["paused_seconds"] == 3 * 3600
    assert at(sla["resolution_due_at"]) == accepted_at + timedelta(days=1, hours=3)
    assert at(sla["first_response_due_at"]) == accepted_at + timedelta(hours=2)
    assert at(sla["first_responded_at"]) == replied_at

    # 10) The agent resolves (resolution + root cause), the manager closes; nothing more is taken.
    resolved_at = clock.advance(minutes=30)
    resolved = await agent.call(
        "POST",
        f"/api/internal/tickets/{tid}/status",
        json={
            "status": "RESOLVED",
            "resolution": "Rolled the VPN gateway back to 4.2.1.",
            "root_cause": "Gateway 4.3.0 leaks sessions after 60 minutes.",
        },
    )
    assert resolved.status_code == 200, resolved.text
    assert resolved.json()["status"] == "RESOLVED"
    assert at(resolved.json()["resolved_at"]) == resolved_at
    expected_trail.append(
        ("ticket.status_changed", agent.user_id, agent.last_request_id, {"status": "RESOLVED"})
    )
    customer_view = (await customer.call("GET", f"/api/tickets/{tid}")).json()
    assert customer_view["status"] == "RESOLVED"
    assert customer_view["resolution"] == "Rolled the VPN gateway back to 4.2.1."
    assert "root_cause" not in customer_view
    assert "sla" not in customer_view
    assert "leaks sessions" not in json.dumps(customer_view)

    closed_at = clock.advance(hours=1)
    closed = await manager.call(
        "POST", f"/api/internal/tickets/{tid}/status", json={"status": "CLOSED"}
    )
    assert closed.status_code == 200, closed.text
    assert closed.json()["status"] == "CLOSED"
    assert at(closed.json()["closed_at"]) == closed_at
    expected_trail.append(
        ("ticket.status_changed", manager.user_id, manager.last_request_id, {"status": "CLOSED"})
    )
    late_customer = await customer.call(
        "POST", f"/api/tickets/{tid}/comments", json={"body": "One more thing"}
    )
    late_agent = await agent.call(
        "POST",
        f"/api/internal/tickets/{tid}/comments",
        json={"body": "Follow-up", "is_internal": False},
    )
    assert (late_customer.status_code, late_agent.status_code) == (409, 409)
    assert (await customer.call("GET", f"/api/tickets/{tid}")).json()["status"] == "CLOSED"

    # 11) The customer downloads the screenshot; the audit trail holds every step, in order,
    #     each with its actor, client address and request id.
    downloaded = await customer.call("GET", f"/api/tickets/{tid}/attachments/{attachment['id']}")
    assert downloaded.status_code == 200
    assert downloaded.content == png
    assert downloaded.headers["content-disposition"].startswith("attachment")
    assert downloaded.headers["x-content-type-options"] == "nosniff"
    expected_trail.append(("attachment.downloaded", customer.user_id, customer.last_request_id, {}))

    trail = await manager.call("GET", f"/api/internal/tickets/{tid}/audit")
    assert trail.status_code == 200, trail.text
    entries = trail.json()["items"]
    assert [e["action"] for e in entries] == [step[0] for step in expected_trail]
    for entry, (action, actor_id, request_id, expected_new) in zip(
        entries, expected_trail, strict=True
    ):
        assert entry["actor_id"] == (str(actor_id) if actor_id else None), action
        assert entry["ip"] == CLIENT_IP, action
        assert entry["request_id"] == request_id, action
        assert entry["org_id"] == org_id, action
        for key, value in expected_new.items():
            assert entry["new_value"][key] == value, (action, entry["new_value"])

    status_changes = [
        (e["old_value"]["status"], e["new_value"]["status"])
        for e in entries
        if e["action"] == "ticket.status_changed"
    ]
    assert status_changes == [
        ("ACCEPTED", "ASSIGNED"),
        ("ASSIGNED", "WAITING_CUSTOMER"),
        ("WAITING_CUSTOMER", "IN_PROGRESS"),
        ("IN_PROGRESS", "RESOLVED"),
        ("RESOLVED", "CLOSED"),
    ]
    accepted_entry = next(e for e in entries if e["action"] == "ticket.accepted")
    assert accepted_entry["old_value"]["status"] == "NEW"
    assigned_entry = next(e for e in entries if e["action"] == "ticket.assigned")
    assert assigned_entry["new_value"]["assigned_to"] == str(agent.user_id)
    attachment_entries = [e for e in entries if e["entity_type"] == "attachment"]
    assert {e["entity_id"] for e in attachment_entries} == {attachment["id"]}
