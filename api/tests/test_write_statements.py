"""The lifecycle commands' structure: how many SQL statements each request runs (the access log's
``db_statements``, which make bench reports), and that the answer built from the locked row as
the command wrote it (no second read) is the ticket as a fresh read shows it.

The commands lock the row with the names the views show, change it through the workflow and
write it with one Core UPDATE (services/tickets.py ``lock_row`` / ``save``); a comment's INSERT
rides in the same statement; the audit rows and their live events are one statement
(services/audit.py); the recipients and the users copied on the ticket are one statement, the new
mails and the held-back mails they join another (services/notifications.py)."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

import pytest
from httpx import AsyncClient
from sqlalchemy.ext.asyncio import AsyncSession

import app.middleware.request_context as request_context
from app.models.enums import Role
from tests.factories import bearer_headers, make_org, make_user

# Per request, as the access log counts them, in the test set-up: each request runs in a savepoint
# (SAVEPOINT and RELEASE count). accept: those 2, authentication 1, lock 1, SLA terms 1, update 1,
# audit 2, recipients 1, outbox 1; no read after the command.
MOST = {"create": 11, "accept": 10, "assign": 10, "status": 10, "comments": 11}
RESOLVE = {"status": "RESOLVED", "resolution": "Replaced the toner.", "root_cause": "Empty toner."}


@pytest.fixture
def statements(monkeypatch: pytest.MonkeyPatch) -> dict[str, list[int]]:
    """The ``db_statements`` of every POST, by the path's last part."""
    seen: dict[str, list[int]] = defaultdict(list)
    real = request_context.log.info

    def capture(event: str, **fields: Any) -> None:
        if fields.get("method") == "POST":
            path = str(fields.get("path") or "")
            seen["create" if path.endswith("/tickets") else path.rsplit("/", 1)[-1]].append(
                fields["db_statements"]
            )
        real(event, **fields)

    monkeypatch.setattr(request_context.log, "info", capture)
    return seen


def _same(answer: dict[str, Any], fresh: dict[str, Any]) -> None:
    skip = {"sla"}  # the clock's "left" seconds move between the two reads
    assert {k: v for k, v in answer.items() if k not in skip} == {
        k: fresh[k] for k in answer if k not in skip
    }
    assert {k: v for k, v in answer["sla"].items() if not k.endswith("_left_s")} == {
        k: v for k, v in fresh["sla"].items() if not k.endswith("_left_s")
    }


async def test_lifecycle_statements_and_answers(
    client: AsyncClient, db: AsyncSession, statements: dict[str, list[int]]
) -> None:
    org = await make_org(db)
    customer = await make_user(db, role=Role.CUSTOMER_USER, org=org)
    manager = await make_user(db, role=Role.MANAGER)
    agent = await make_user(db, role=Role.AGENT, name="Agent Smith")
    customer_h = await bearer_headers(db, customer)
    manager_h = await bearer_headers(db, manager)
    agent_h = await bearer_headers(db, agent)

    created = await client.post(
        "/api/tickets",
        json={"title": "Printer", "description": "It does not print.", "priority": "P2"},
        headers=customer_h,
    )
    assert created.status_code == 201, created.text
    url = f"/api/internal/tickets/{created.json()['id']}"
    for path, body, headers in (
        ("accept", {}, manager_h),
        ("assign", {"assignee_id": str(agent.id)}, manager_h),
        ("status", {"status": "IN_PROGRESS"}, agent_h),
        ("comments", {"body": "Looking at it.", "is_internal": False}, agent_h),
        ("comments", {"body": "Check the toner.", "is_internal": True}, agent_h),
        ("status", {"status": "WAITING_CUSTOMER"}, agent_h),
        ("status", RESOLVE, agent_h),
    ):
        answer = await client.post(f"{url}/{path}", json=body, headers=headers)
        assert answer.status_code in (200, 201), (path, answer.text)
        if path != "comments":
            fresh = await client.get(url, headers=manager_h)
            _same(answer.json(), fresh.json())

    final = (await client.get(url, headers=manager_h)).json()
    assert final["status"] == "RESOLVED"
    assert final["accepted_by"]["id"] == str(manager.id)
    assert final["assigned_to"] == {"id": str(agent.id), "name": "Agent Smith"}
    assert final["sla"]["first_responded_at"] is not None
    for name, most in MOST.items():
        assert statements[name], name
        assert max(statements[name]) <= most, (name, statements[name])
