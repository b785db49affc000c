"""Ticket search finds what people type (services/search.py): words as prefixes, comments the
caller may see, the requester and the organization for staff, ticket numbers; and the two ways
of finding the newest matches (walking the newest tickets, collecting through the indexes) give
the same answer, page by page."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from httpx import AsyncClient
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from app.models import Organization, User
from app.models.enums import Role
from app.services import search
from tests.factories import bearer_headers, make_org, make_user

T0 = datetime(2031, 1, 1, tzinfo=UTC)


async def add_ticket(
    connection: AsyncConnection,
    org: Organization,
    requester: User,
    title: str,
    description: str = "",
    *,
    at: datetime,
) -> dict[str, Any]:
    row = (
        await connection.exec_driver_sql(
            "INSERT INTO tickets (id, org_id, created_by, status, priority, category, title, "
            "description, created_at, updated_at) VALUES ($1, $2, $3, 'NEW', 'P3', 'network', "
            "$4, $5, $6, $6) RETURNING id, number",
            (uuid.uuid4(), org.id, requester.id, title, description, at),
        )
    ).one()
    return {"id": str(row.id), "number": row.number}


async def add_comment(
    connection: AsyncConnection,
    ticket: dict[str, Any],
    org: Organization,
    author: User,
    body: str,
    *,
    internal: bool,
) -> None:
    await connection.exec_driver_sql(
        "INSERT INTO ticket_comments (id, ticket_id, org_id, author_id, body, is_internal) "
        "VALUES ($1, $2, $3, $4, $5, $6)",
        (uuid.uuid4(), uuid.UUID(ticket["id"]), org.id, author.id, body, internal),
    )


async def found(client: AsyncClient, path: str, headers: dict[str, str], q: str) -> set[str]:
    answer = await client.get(path, params={"q": q, "limit": "100"}, headers=headers)
    assert answer.status_code == 200, answer.text
    return {item["id"] for item in answer.json()["items"]}


async def test_search_finds_what_people_type(
    client: AsyncClient, db: AsyncSession, connection: AsyncConnection
) -> None:
    tag = uuid.uuid4().hex[:6]
    org = await make_org(db, name=f"Fjordline{tag} Shipping")
    other_org = await make_org(db)
    ingrid = await make_user(
        db,
        role=Role.CUSTOMER_USER,
        org=org,
        name=f"Ingrid Holm{tag}",
        email=f"ingrid.holm{tag}@fjordline.example",
    )
    colleague = await make_user(db, role=Role.CUSTOMER_USER, org=org)
    stranger = await make_user(db, role=Role.CUSTOMER_USER, org=other_org)
    agent = await make_user(db, role=Role.AGENT)
    at = iter(T0 + timedelta(minutes=i) for i in range(100))
    vpn = await add_ticket(
        connection, org, colleague, f"VPN{tag} disconnects every hour", at=next(at)
    )
    printer = await add_ticket(connection, org, colleague, f"Printer{tag} jammed", at=next(at))
    elsewhere = await add_ticket(
        connection, other_org, stranger, f"Printer{tag} on fire", at=next(at)
    )
    replied = await add_ticket(connection, org, colleague, "Mail", at=next(at))
    await add_comment(
        connection, replied, org, agent, f"The scanner{tag} shows E42 now", internal=False
    )
    noted = await add_ticket(connection, org, colleague, "Laptop", at=next(at))
    await add_comment(
        connection, noted, org, agent, f"Suspect a zebrafish{tag} regression", internal=True
    )
    hers = await add_ticket(connection, org, ingrid, "Badge reader", at=next(at))
    staff = await bearer_headers(db, agent)
    customer = await bearer_headers(db, colleague)
    desk, portal = "/api/internal/tickets", "/api/tickets"

    # The last word as a beginning: "disconnect" finds "disconnects", "print" "Printer".
    assert await found(client, desk, staff, f"vpn{tag} disconnect") == {vpn["id"]}
    assert await found(client, desk, staff, f"disconnects vpn{tag}") == {vpn["id"]}
    # Only the last word is a prefix (the one still being typed).
    assert await found(client, desk, staff, f"disconnect vpn{tag}") == set()
    assert await found(client, desk, staff, f"vpn{tag} disc") == {vpn["id"]}
    assert await found(client, desk, staff, f"print{tag}"[:-1]) == set()  # not a prefix of it
    assert await found(client, desk, staff, f"printer{tag}") == {printer["id"], elsewhere["id"]}
    assert await found(client, portal, customer, f"printer{tag}") == {printer["id"]}
    assert await found(client, desk, staff, f"printer{tag} -fire") == {printer["id"]}
    assert await found(client, desk, staff, f'"printer{tag} jammed"') == {printer["id"]}
    # Comments: public replies for everyone who sees the ticket, internal notes for staff only.
    assert await found(client, desk, staff, f"scanner{tag}") == {replied["id"]}
    assert await found(client, portal, customer, f"scanner{tag}") == {replied["id"]}
    assert await found(client, desk, staff, f"zebrafish{tag}") == {noted["id"]}
    assert await found(client, portal, customer, f"zebrafish{tag}") == set()
    # Staff find a requester by name or e-mail, and an organization by its name.
    assert await found(client, desk, staff, f"holm{tag}") == {hers["id"]}
    assert await found(client, desk, staff, f"ingrid.holm{tag}@fjordline.example") == {hers["id"]}
    org_tickets = {vpn["id"], printer["id"], replied["id"], noted["id"], hers["id"]}
    assert await found(client, desk, staff, f"fjordline{tag}") == org_tickets
    assert await found(client, portal, customer, f"fjordline{tag}") == set()
    # Ticket numbers: "#N" is that ticket alone; "N" the number as a word.
    assert await found(client, desk, staff, f"#{printer['number']}") == {printer["id"]}
    assert await found(client, desk, staff, str(printer["number"])) == {printer["id"]}
    assert await found(client, portal, customer, f"#{elsewhere['number']}") == set()
    # A number is not a prefix: 1042 does not find 10427.
    longer = await add_ticket(
        connection, org, colleague, f"Follow-up of {printer['number']}7", at=next(at)
    )
    assert longer["id"] not in await found(client, desk, staff, str(printer["number"]))


def expected_matches(n: int, word: str) -> bool:
    """Which of the generated tickets (1..n) hold *word* (POPULATE below)."""
    step = {
        "common": 3,
        "medium": 40,
        "rare": 500,
        "pubnote": 9,
        "internote": 7,
        "seldomnote": 300,
    }[word]
    return n % step == 0


POPULATE = """
INSERT INTO tickets (id, org_id, created_by, status, priority, category, title, description,
                     created_at, updated_at)
SELECT gen_random_uuid(), $1, $2, 'NEW', 'P3', 'network',
       'Ticket ' || i
       || CASE WHEN i % 3 = 0 THEN ' ' || $4 || 'common' ELSE '' END
       || CASE WHEN i % 40 = 0 THEN ' ' || $4 || 'medium' ELSE '' END,
       CASE WHEN i % 500 = 0 THEN 'Seen ' || $4 || 'rare once' ELSE 'Nothing here' END,
       $3::timestamptz + i * interval '1 minute', $3::timestamptz + i * interval '1 minute'
FROM generate_series(1, $5) AS i
"""
COMMENTS = """
INSERT INTO ticket_comments (id, ticket_id, org_id, author_id, body, is_internal)
SELECT gen_random_uuid(), t.id, t.org_id, $2,
       CASE WHEN internal THEN 'note ' || $3 || 'internote'
            ELSE 'reply'
                 || CASE WHEN t.n % 9 = 0 THEN ' ' || $3 || 'pubnote' ELSE '' END
                 || CASE WHEN t.n % 300 = 0 THEN ' ' || $3 || 'seldomnote' ELSE '' END
       END,
       internal
FROM (SELECT id, org_id, extract(epoch FROM created_at - $4::timestamptz)::int / 60 AS n
      FROM tickets WHERE org_id = $1) t
CROSS JOIN LATERAL (VALUES (t.n % 7 = 0), (false)) AS c(internal)
WHERE (internal AND t.n % 7 = 0) OR (NOT internal AND (t.n % 9 = 0 OR t.n % 300 = 0))
"""


async def test_both_ways_of_finding_matches_give_the_newest_page_by_page(
    client: AsyncClient, db: AsyncSession, connection: AsyncConnection
) -> None:
    """2,500 tickets: a common word (one in three) is settled by the walk over the newest
    tickets, a medium and a rare one (fewer than a page in the window) are collected through
    the indexes (a rare word of comments too). Paged 50 at a time, every search returns exactly
    its matches, newest first, for staff and for a customer, from the tickets' text and from
    comments."""
    total = 2500
    assert total > 2 * search.WINDOW
    tag = f"x{uuid.uuid4().hex[:6]}"
    org = await make_org(db)
    customer = await make_user(db, role=Role.CUSTOMER_ADMIN, org=org)
    agent = await make_user(db, role=Role.AGENT)
    await connection.exec_driver_sql(POPULATE, (org.id, customer.id, T0, tag, total))
    await connection.exec_driver_sql(COMMENTS, (org.id, agent.id, tag, T0))
    await connection.exec_driver_sql("ANALYZE tickets")
    headers = {
        "staff": await bearer_headers(db, agent),
        "customer": await bearer_headers(db, customer),
    }
    numbers = {
        row.id: row.n
        for row in (
            await connection.exec_driver_sql(
                "SELECT id::text AS id, extract(epoch FROM created_at - $2::timestamptz)::int / 60 "
                "AS n FROM tickets WHERE org_id = $1",
                (org.id, T0),
            )
        ).all()
    }
    for caller, path in (("staff", "/api/internal/tickets"), ("customer", "/api/tickets")):
        for word in ("common", "medium", "rare", "pubnote", "internote", "seldomnote"):
            seen: list[str] = []
            cursor: str | None = None
            for _ in range(total // 50 + 2):
                params = {"q": f"{tag}{word}", "limit": "50"}
                if cursor:
                    params["cursor"] = cursor
                answer = await client.get(path, params=params, headers=headers[caller])
                assert answer.status_code == 200, answer.text
                page = answer.json()
                seen += [item["id"] for item in page["items"]]
                cursor = page.get("next_cursor")
                if not cursor:
                    break
            visible = word != "internote" or caller == "staff"
            wanted = sorted(
                (i for i, n in numbers.items() if visible and expected_matches(n, word)),
                key=lambda i: -numbers[i],
            )
            assert seen == wanted, (caller, word, len(seen), len(wanted))
