"""The global audit browser: filters (dates included), the CSV export (content, escaping,
batches, audited) and the plans of date-bounded queries. Who may call which route is in the
route-coverage and admin-permission tables."""

from __future__ import annotations

import csv
import io
import json
import re
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from httpx import AsyncClient
from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from app.models import AuditLog, Organization, User
from app.models.enums import Role
from app.services import audit_query
from app.services.audit import write
from app.services.audit_query import AuditFilter
from tests.factories import bearer_headers, make_org, make_user

URL = "/api/internal/audit"
# Later than every entry already there: created_at stays in seq order (as in production).
BASE = datetime.now(UTC).replace(microsecond=0) + timedelta(days=1)


def at(minutes: int) -> datetime:
    return BASE + timedelta(minutes=minutes)


def entry(action: str, minutes: int, **extra: Any) -> dict[str, Any]:
    return {
        "action": action,
        "id": uuid.uuid4(),
        "entity_type": "test",
        "entity_id": uuid.uuid4(),
        "created_at": at(minutes),
        **extra,
    }


@pytest.fixture
async def manager(db: AsyncSession) -> User:
    return await make_user(db, role=Role.MANAGER)


@pytest.fixture
async def org(db: AsyncSession) -> Organization:
    return await make_org(db)


async def actions(client: AsyncClient, headers: dict[str, str], **query: Any) -> list[str]:
    found: list[str] = []
    cursor = None
    while True:
        params = {**query, "limit": 2, **({"cursor": cursor} if cursor else {})}
        response = await client.get(URL, params=params, headers=headers)
        assert response.status_code == 200, response.text
        body = response.json()
        found += [item["action"] for item in body["items"]]
        cursor = body["next_cursor"]
        if cursor is None:
            return found


async def test_filters_by_action_actor_org_and_dates(
    client: AsyncClient, db: AsyncSession, manager: User, org: Organization
) -> None:
    tag = uuid.uuid4().hex[:8]
    other = await make_user(db, role=Role.AGENT)
    await write(
        db,
        entry(f"t{tag}.a", 0, org_id=org.id, actor_id=manager.id),
        entry(f"t{tag}.b", 10, org_id=org.id, actor_id=other.id),
        entry(f"t{tag}.a", 20, actor_id=other.id),
        entry(f"t{tag}.c", 30, org_id=org.id, actor_id=manager.id),
        entry(f"t{tag}.a", 40, org_id=org.id, actor_id=manager.id),
    )
    headers = await bearer_headers(db, manager)

    by_org = await actions(client, headers, org_id=str(org.id))
    assert by_org == [f"t{tag}.a", f"t{tag}.c", f"t{tag}.b", f"t{tag}.a"]
    by_actor = await actions(client, headers, org_id=str(org.id), actor_id=str(other.id))
    assert by_actor == [f"t{tag}.b"]
    assert len(await actions(client, headers, action=f"t{tag}.a")) == 3

    # since inclusive, until exclusive; with and without other filters, across pages.
    dated = {"since": at(10).isoformat(), "until": at(40).isoformat()}
    assert await actions(client, headers, org_id=str(org.id), **dated) == [
        f"t{tag}.c",
        f"t{tag}.b",
    ]
    assert await actions(client, headers, action=f"t{tag}.a", **dated) == [f"t{tag}.a"]
    assert await actions(client, headers, since=at(30).isoformat()) == [f"t{tag}.a", f"t{tag}.c"]
    later = await actions(client, headers, until=at(10).isoformat(), action=f"t{tag}.a")
    assert later == [f"t{tag}.a"]
    # A time without an offset is UTC.
    naive = at(30).replace(tzinfo=None).isoformat()
    assert await actions(client, headers, since=naive) == [f"t{tag}.a", f"t{tag}.c"]
    assert await actions(client, headers, since=at(50).isoformat()) == []


async def test_since_after_until_is_422(
    client: AsyncClient, db: AsyncSession, manager: User
) -> None:
    headers = await bearer_headers(db, manager)
    query = {"since": at(10).isoformat(), "until": at(0).isoformat()}
    for path in (URL, URL + "/export.csv"):
        response = await client.get(path, params=query, headers=headers)
        assert response.status_code == 422, response.text
    for bad in ("yesterday", "0.5", "1700000000"):
        response = await client.get(URL, params={"since": bad}, headers=headers)
        assert response.status_code == 422, bad


def parse(body: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(body)))


async def test_export_csv_content_and_escaping(
    client: AsyncClient, db: AsyncSession, manager: User, org: Organization
) -> None:
    tag = uuid.uuid4().hex[:8]
    await write(
        db,
        entry(
            f"t{tag}.plain",
            0,
            org_id=org.id,
            actor_id=manager.id,
            old_value={"status": "NEW"},
            new_value={"status": "ACCEPTED", "note": "=1+1"},
            ip="192.0.2.1",
            request_id="req-1",
        ),
        entry(f"t{tag}.formula", 1, org_id=org.id, ip="-2+3", request_id="=HYPERLINK(1)"),
        entry(f"t{tag}.more", 2, org_id=org.id, ip="@SUM(A1)", request_id="+1"),
        entry(f"t{tag}.space", 3, org_id=org.id, ip="\tx", request_id="\rx"),
        entry(f"t{tag}.outside", 4, org_id=org.id),
    )
    headers = await bearer_headers(db, manager)
    response = await client.get(
        URL + "/export.csv",
        params={"org_id": str(org.id), "until": at(4).isoformat()},
        headers=headers,
    )
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/csv")
    today = datetime.now(UTC).date().isoformat()
    assert response.headers["content-disposition"] == f'attachment; filename="audit-{today}.csv"'
    assert response.text.splitlines()[0] == ",".join(audit_query.CSV_COLUMNS)
    rows = parse(response.text)
    assert [r["action"] for r in rows] == [
        f"t{tag}.plain",
        f"t{tag}.formula",
        f"t{tag}.more",
        f"t{tag}.space",
    ]
    first = rows[0]
    assert first["actor_id"] == str(manager.id)
    assert first["actor_email"] == manager.email
    assert first["org_id"] == str(org.id)
    assert first["ticket_id"] == ""
    assert first["ip"] == "192.0.2.1" and first["request_id"] == "req-1"
    assert datetime.fromisoformat(first["created_at"]) == at(0)
    assert json.loads(first["old_value"]) == {"status": "NEW"}
    assert json.loads(first["new_value"]) == {"note": "=1+1", "status": "ACCEPTED"}
    assert int(rows[1]["seq"]) > int(first["seq"])
    assert (rows[1]["ip"], rows[1]["request_id"]) == ("'-2+3", "'=HYPERLINK(1)")
    assert (rows[2]["ip"], rows[2]["request_id"]) == ("'@SUM(A1)", "'+1")
    assert (rows[3]["ip"], rows[3]["request_id"]) == ("'\tx", "'\rx")


async def test_export_is_audited_with_its_filters(
    client: AsyncClient, db: AsyncSession, org: Organization
) -> None:
    admin = await make_user(db, role=Role.ADMIN)
    headers = await bearer_headers(db, admin)
    since = at(0).isoformat()
    response = await client.get(
        URL + "/export.csv",
        params={"org_id": str(org.id), "action": "user.created", "since": since},
        headers=headers,
    )
    assert response.status_code == 200
    assert parse(response.text) == []
    row = (
        await db.execute(
            select(AuditLog).where(
                AuditLog.actor_id == admin.id, AuditLog.action == "audit.exported"
            )
        )
    ).scalar_one()
    assert row.entity_type == "audit_log"
    assert row.new_value == {
        "filters": {"action": "user.created", "org_id": str(org.id), "since": since}
    }


async def test_export_reads_in_batches(
    client: AsyncClient,
    db: AsyncSession,
    manager: User,
    org: Organization,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    total, batch = 3000, 500
    await write(db, *(entry("test.bulk", i // 100, org_id=org.id) for i in range(total)))
    monkeypatch.setattr(audit_query, "EXPORT_BATCH", batch)
    chunks: list[int] = []
    original = audit_query._csv_text

    def counting(rows: list[list[str]]) -> str:
        chunks.append(len(rows))
        return original(rows)

    monkeypatch.setattr(audit_query, "_csv_text", counting)
    headers = await bearer_headers(db, manager)
    response = await client.get(
        URL + "/export.csv", params={"org_id": str(org.id)}, headers=headers
    )
    assert response.status_code == 200
    rows = parse(response.text)
    assert len(rows) == total
    seqs = [int(r["seq"]) for r in rows]
    assert seqs == sorted(seqs) and len(set(seqs)) == total
    assert chunks == [1] + [batch] * (total // batch)


def audit_log_reads(node: dict[str, Any]) -> list[str]:
    """How each scan in the plan reads audit_log: the index name, or the scan type."""
    found = []
    if node.get("Node Type") == "Bitmap Index Scan" or (
        node.get("Relation Name") == "audit_log" and node["Node Type"] != "Bitmap Heap Scan"
    ):
        found.append(node.get("Index Name") or node["Node Type"])
    for child in node.get("Plans", []):
        found += audit_log_reads(child)
    return found


async def test_date_bounded_queries_use_a_seq_index(
    db: AsyncSession, connection: AsyncConnection, org: Organization
) -> None:
    await write(
        db,
        *(
            entry(f"test.plan{i % 7}", i // 10, org_id=org.id if i % 3 else None)
            for i in range(4000)
        ),
    )
    await connection.exec_driver_sql("ANALYZE audit_log")
    dialect = connection.dialect
    dated = {"since": at(100), "until": at(200)}
    for flt in (
        AuditFilter(**dated),
        AuditFilter(since=at(300)),
        AuditFilter(until=at(10)),
        AuditFilter(action="test.plan3", **dated),
        AuditFilter(org_id=org.id, **dated),
    ):
        stmt = (await audit_query._filtered(db, flt)).order_by(AuditLog.seq.desc()).limit(51)
        compiled = stmt.compile(dialect=dialect)
        params = tuple(compiled.params[name] for name in compiled.positiontup or ())
        plan = (
            await connection.exec_driver_sql("EXPLAIN (FORMAT JSON) " + str(compiled), params)
        ).scalar_one()
        reads = audit_log_reads(plan[0]["Plan"])
        assert reads and all(r.startswith(("ix_audit_log_", "uq_audit_log_seq")) for r in reads), (
            flt,
            reads,
        )
    bound = await db.execute(
        text("EXPLAIN (FORMAT JSON) " + audit_query._FIRST_SEQ_AT.text), {"at": at(100)}
    )
    reads = audit_log_reads(bound.scalar_one()[0]["Plan"])
    assert reads and all(r == "uq_audit_log_seq" for r in reads), reads


def test_the_audit_page_offers_every_action_the_api_writes() -> None:
    """The action filter of the audit page lists what the code records (a new audited action
    that is missing there could not be filtered for)."""
    root = Path(__file__).resolve().parents[2]
    written = {
        match
        for source in (root / "api" / "app").rglob("*.py")
        for match in re.findall(r'action="([a-z_]+\.[a-z_]+)"', source.read_text())
    }
    page = (root / "web" / "src" / "pages" / "desk" / "AuditPage.tsx").read_text()
    offered = set(re.findall(r'^  "([a-z_]+\.[a-z_]+)",$', page, re.MULTILINE))
    assert written, "no audited action found"
    assert sorted(written - offered) == []
