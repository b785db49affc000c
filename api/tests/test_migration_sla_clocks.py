"""Migration 0014 on existing data: clocks that ran around the clock keep their meaning — the
consumed seconds follow from the stored due times, paused and completed clocks lose their due
time, clocks already past their warning point are marked warned (no mail storm after an
upgrade), and the reports' stored seconds are filled."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import asyncpg
import pytest

from tests.test_migrations import (
    connect,
    create_database,
    drop_database,
    insert_org,
    insert_user,
    upgrade,
)

NOW = datetime.now(UTC)


@pytest.fixture
async def at_0013(server_url: str) -> AsyncIterator[str]:
    url = await create_database(server_url)
    try:
        await upgrade(url, "0013")
        yield url
    finally:
        await drop_database(server_url, url)


async def ticket(
    conn: asyncpg.Connection, org: uuid.UUID, user: uuid.UUID, **cols: object
) -> uuid.UUID:
    base: dict[str, object] = {
        "org_id": org,
        "created_by": user,
        "priority": "P3",  # default policy 480 min / 4320 min
        "title": "Old ticket",
        "description": "From before business hours.",
        "created_at": NOW - timedelta(hours=3),
        "accepted_at": NOW - timedelta(hours=2),
        "status": "IN_PROGRESS",
    }
    base.update(cols)
    names = ", ".join(base)
    marks = ", ".join(f"${i}" for i in range(1, len(base) + 1))
    ticket_id: uuid.UUID = await conn.fetchval(
        f"INSERT INTO tickets ({names}) VALUES ({marks}) RETURNING id", *base.values()
    )
    return ticket_id


async def test_existing_clocks_are_carried_over(at_0013: str) -> None:
    conn = await connect(at_0013)
    try:
        org = await insert_org(conn)
        user = await insert_user(conn, role="customer_user", org_id=org)
        accepted = NOW - timedelta(hours=2)
        running = await ticket(
            conn,
            org,
            user,
            sla_first_response_due_at=accepted + timedelta(minutes=480),
            sla_resolution_due_at=accepted + timedelta(minutes=4320),
        )
        late = await ticket(
            conn,
            org,
            user,
            accepted_at=NOW - timedelta(hours=7, minutes=30),
            sla_first_response_due_at=NOW + timedelta(minutes=30),
            sla_resolution_due_at=NOW + timedelta(days=2),
        )
        paused = await ticket(
            conn,
            org,
            user,
            status="WAITING_CUSTOMER",
            sla_paused_at=accepted + timedelta(minutes=60),
            sla_first_response_due_at=accepted + timedelta(minutes=480),
            sla_resolution_due_at=accepted + timedelta(minutes=4320),
            first_responded_at=accepted + timedelta(minutes=10),
        )
        resolved = await ticket(
            conn,
            org,
            user,
            status="RESOLVED",
            resolved_at=accepted + timedelta(minutes=90),
            sla_first_response_due_at=accepted + timedelta(minutes=480),
            sla_resolution_due_at=accepted + timedelta(minutes=4320),
        )
        await conn.close()
        await upgrade(at_0013, "0014")
        conn = await connect(at_0013)
        rows = {
            r["id"]: r
            for r in await conn.fetch(
                "SELECT * FROM tickets WHERE id = ANY($1::uuid[])",
                [running, late, paused, resolved],
            )
        }
    finally:
        await conn.close()

    r = rows[running]
    assert (r["sla_first_response_target_s"], r["sla_resolution_target_s"]) == (480 * 60, 4320 * 60)
    # Consumed up to the migration's own instant (when the clocks start running again).
    ran = (r["sla_running_since"] - accepted).total_seconds()
    assert r["sla_first_response_consumed_s"] == pytest.approx(ran, abs=1)
    assert r["sla_running_since"] is not None
    assert r["sla_first_response_due_at"] == NOW - timedelta(hours=2) + timedelta(minutes=480)
    assert r["sla_first_response_warn_at"] == r["sla_first_response_due_at"] - timedelta(minutes=96)
    assert r["sla_first_response_warned_at"] is None
    assert r["sla_next_due_at"] == r["sla_first_response_due_at"]
    assert r["accept_business_s"] == pytest.approx(3600)

    # 7.5 h of 8 used: past the 80 % point already, so no warning mail after the upgrade.
    assert rows[late]["sla_first_response_warned_at"] is not None

    p = rows[paused]
    assert p["sla_resolution_due_at"] is None
    # Its first response was met before the pause: that clock keeps its due time.
    assert p["sla_first_response_due_at"] == accepted + timedelta(minutes=480)
    assert p["sla_running_since"] is None and p["sla_next_due_at"] is None
    assert p["sla_resolution_consumed_s"] == pytest.approx(3600)
    assert p["sla_first_response_consumed_s"] == pytest.approx(600)

    d = rows[resolved]
    # A completed clock keeps its due time; nothing runs.
    assert d["sla_resolution_due_at"] == accepted + timedelta(minutes=4320)
    assert d["sla_running_since"] is None and d["sla_next_due_at"] is None
    assert d["sla_resolution_consumed_s"] == pytest.approx(90 * 60)
    # Resolved without a reply: the resolution answered the customer.
    assert d["first_responded_at"] == d["resolved_at"]
    assert d["sla_first_response_consumed_s"] == pytest.approx(90 * 60)
