"""Every role against every admin endpoint and method, from one expectation table.

The table is written from the design documents (WORKFLOW.md roles, API.md "Admin"): admin manages
organizations, users, SLA policies, services and teams; a customer_admin manages the users of its
own organization; staff read organizations, users, SLA policies and teams; everyone reads the
services it can see; the audit trail is for managers and admins; the mail outbox and its retry
are for admins (issue 5). Objects outside the caller's
scope are 404 with the same body as a random id. Nothing is mocked: each cell is a real request.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.routing import APIRoute
from httpx import AsyncClient, Response
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.models import (
    AuthSession,
    InboundMessage,
    MailBounce,
    Mailbox,
    MfaPolicy,
    Organization,
    OutboxMessage,
    Service,
    SlaCalendar,
    SlaPolicy,
    Tag,
    Team,
    TeamMember,
    TicketTag,
    User,
)
from app.models.enums import Role
from tests.factories import PASSWORD, make_org, make_user
from tests.factories import bearer_headers as bearer

ANONYMOUS = "anonymous"
COLUMNS = (
    ANONYMOUS,
    Role.CUSTOMER_USER,
    Role.CUSTOMER_ADMIN,
    Role.AGENT,
    Role.MANAGER,
    Role.ADMIN,
)
ADMIN_AREAS = ("/api/orgs", "/api/users", "/api/sla", "/api/services", "/api/teams")
ADMIN_AREAS += ("/api/internal/audit", "/api/admin")
ADMIN_TAGS = frozenset({"admin", "audit"})
HTTP_METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")


@dataclass(frozen=True)
class Cell:
    """One endpoint with one target, and the status each column (role) must get."""

    method: str
    path: str
    target: str | None
    statuses: tuple[int, int, int, int, int, int]

    @property
    def route(self) -> tuple[str, str]:
        return self.method, self.path


#        method    path                              target             anon cu   ca   agt  mgr  adm
TABLE: tuple[Cell, ...] = (
    Cell("GET", "/api/orgs", None, (401, 403, 403, 200, 200, 200)),
    Cell("POST", "/api/orgs", None, (401, 403, 403, 403, 403, 201)),
    Cell("GET", "/api/orgs/{org_id}", "org_a", (401, 403, 403, 200, 200, 200)),
    Cell("PATCH", "/api/orgs/{org_id}", "org_b", (401, 403, 403, 403, 403, 200)),
    Cell("GET", "/api/users", None, (401, 403, 200, 200, 200, 200)),
    Cell("POST", "/api/users", None, (401, 403, 201, 403, 403, 201)),
    Cell("GET", "/api/users/{user_id}", "user_a", (401, 403, 200, 200, 200, 200)),
    Cell("GET", "/api/users/{user_id}", "user_b", (401, 403, 404, 200, 200, 200)),
    Cell("GET", "/api/users/{user_id}", "staff", (401, 403, 404, 200, 200, 200)),
    Cell("PATCH", "/api/users/{user_id}", "user_a", (401, 403, 200, 403, 403, 200)),
    Cell("PATCH", "/api/users/{user_id}", "user_b", (401, 403, 404, 403, 403, 200)),
    Cell("PATCH", "/api/users/{user_id}", "staff", (401, 403, 404, 403, 403, 200)),
    # Accounts: resend an invitation (only users without a password: the targets have one),
    # remove a user's second factors (admins), sign a user out everywhere.
    Cell("POST", "/api/users/{user_id}/invitation", "user_a", (401, 403, 409, 403, 403, 409)),
    Cell("POST", "/api/users/{user_id}/invitation", "user_b", (401, 403, 404, 403, 403, 409)),
    Cell("POST", "/api/users/{user_id}/mfa/reset", "user_a", (401, 403, 403, 403, 403, 204)),
    Cell("POST", "/api/users/{user_id}/mfa/reset", "staff", (401, 403, 403, 403, 403, 204)),
    Cell("DELETE", "/api/users/{user_id}/sessions", "user_a", (401, 403, 204, 403, 403, 204)),
    Cell("DELETE", "/api/users/{user_id}/sessions", "user_b", (401, 403, 404, 403, 403, 204)),
    Cell("DELETE", "/api/users/{user_id}/sessions", "staff", (401, 403, 404, 403, 403, 204)),
    Cell("GET", "/api/admin/mfa-policy", None, (401, 403, 403, 403, 403, 200)),
    Cell("PUT", "/api/admin/mfa-policy", None, (401, 403, 403, 403, 403, 200)),
    Cell("GET", "/api/sla", None, (401, 403, 403, 200, 200, 200)),
    Cell("POST", "/api/sla", None, (401, 403, 403, 403, 403, 201)),
    Cell("GET", "/api/sla/{policy_id}", "sla_global", (401, 403, 403, 200, 200, 200)),
    Cell("GET", "/api/sla/{policy_id}", "sla_a", (401, 403, 403, 200, 200, 200)),
    Cell("PATCH", "/api/sla/{policy_id}", "sla_a", (401, 403, 403, 403, 403, 200)),
    Cell("DELETE", "/api/sla/{policy_id}", "sla_a", (401, 403, 403, 403, 403, 204)),
    Cell("GET", "/api/services", None, (401, 200, 200, 200, 200, 200)),
    Cell("POST", "/api/services", None, (401, 403, 403, 403, 403, 201)),
    Cell("GET", "/api/services/{service_id}", "svc_global", (401, 200, 200, 200, 200, 200)),
    Cell("GET", "/api/services/{service_id}", "svc_a", (401, 200, 200, 200, 200, 200)),
    Cell("GET", "/api/services/{service_id}", "svc_b", (401, 404, 404, 200, 200, 200)),
    Cell("GET", "/api/services/{service_id}", "svc_off", (401, 404, 404, 200, 200, 200)),
    Cell("PATCH", "/api/services/{service_id}", "svc_a", (401, 403, 403, 403, 403, 200)),
    Cell("GET", "/api/teams", None, (401, 403, 403, 200, 200, 200)),
    Cell("POST", "/api/teams", None, (401, 403, 403, 403, 403, 201)),
    Cell("GET", "/api/teams/{team_id}", "team", (401, 403, 403, 200, 200, 200)),
    Cell("PATCH", "/api/teams/{team_id}", "team", (401, 403, 403, 403, 403, 200)),
    Cell("GET", "/api/internal/audit", None, (401, 403, 403, 403, 200, 200)),
    Cell("GET", "/api/internal/audit/export.csv", None, (401, 403, 403, 403, 200, 200)),
    Cell("GET", "/api/admin/notifications", None, (401, 403, 403, 403, 403, 200)),
    Cell(
        "POST",
        "/api/admin/notifications/{notification_id}/retry",
        "mail_failed",
        (401, 403, 403, 403, 403, 200),
    ),
    # The e-mail channel (docs/EMAIL.md): mailboxes, bounces and quarantine are the admins'.
    Cell("GET", "/api/admin/mailboxes", None, (401, 403, 403, 403, 403, 200)),
    Cell("POST", "/api/admin/mailboxes", None, (401, 403, 403, 403, 403, 201)),
    Cell("PATCH", "/api/admin/mailboxes/{mailbox_id}", "box", (401, 403, 403, 403, 403, 200)),
    Cell("DELETE", "/api/admin/mailboxes/{mailbox_id}", "box", (401, 403, 403, 403, 403, 204)),
    Cell("GET", "/api/admin/mail/bounces", None, (401, 403, 403, 403, 403, 200)),
    Cell("DELETE", "/api/admin/mail/bounces/{address}", "bounce", (401, 403, 403, 403, 403, 204)),
    Cell("GET", "/api/admin/mail/quarantined", None, (401, 403, 403, 403, 403, 200)),
    Cell(
        "POST",
        "/api/admin/mail/quarantined/{message_id}/retry",
        "quarantined",
        (401, 403, 403, 403, 403, 204),
    ),
    # Ticket tags: admins rename and merge them (staff read them at /api/internal/tags).
    Cell("PATCH", "/api/admin/tags/{tag_id}", "tag", (401, 403, 403, 403, 403, 200)),
    Cell("POST", "/api/admin/tags/{tag_id}/merge", "tag", (401, 403, 403, 403, 403, 200)),
    # Business-hours calendars: managers read them, admins write them and import holidays.
    Cell("GET", "/api/admin/calendars", None, (401, 403, 403, 403, 200, 200)),
    Cell("POST", "/api/admin/calendars", None, (401, 403, 403, 403, 403, 201)),
    Cell("GET", "/api/admin/calendars/{calendar_id}", "calendar", (401, 403, 403, 403, 200, 200)),
    Cell("PATCH", "/api/admin/calendars/{calendar_id}", "calendar", (401, 403, 403, 403, 403, 200)),
    Cell(
        "DELETE", "/api/admin/calendars/{calendar_id}", "calendar", (401, 403, 403, 403, 403, 204)
    ),
    Cell(
        "POST",
        "/api/admin/calendars/{calendar_id}/holidays",
        "calendar",
        (401, 403, 403, 403, 403, 200),
    ),
)


def _cases() -> Iterator[Any]:
    for cell in TABLE:
        for column, role in enumerate(COLUMNS):
            label = f"{role}-{cell.method} {cell.path}" + (
                f" [{cell.target}]" if cell.target else ""
            )
            yield pytest.param(cell, role, cell.statuses[column], id=label)


@dataclass
class World:
    org_a: Organization
    org_b: Organization
    staff: User
    ids: dict[str, uuid.UUID]


async def _world(db: AsyncSession) -> World:
    org_a, org_b = await make_org(db), await make_org(db)
    staff = await make_user(db, role=Role.AGENT)
    user_a = await make_user(db, role=Role.CUSTOMER_USER, org=org_a)
    user_b = await make_user(db, role=Role.CUSTOMER_USER, org=org_b)
    for signed_in in (staff, user_a, user_b):  # a session each, for "sign out everywhere"
        await bearer(db, signed_in)
    sla_global = (
        await db.execute(
            select(SlaPolicy.id).where(SlaPolicy.org_id.is_(None), SlaPolicy.priority == "P1")
        )
    ).scalar_one()
    tag = uuid.uuid4().hex[:8]
    sla_a = SlaPolicy(
        id=uuid.uuid4(),
        org_id=org_a.id,
        priority="P1",
        first_response_minutes=15,
        resolution_minutes=120,
    )
    services = {
        "svc_global": Service(id=uuid.uuid4(), org_id=None, name=f"Global {tag}", is_active=True),
        "svc_a": Service(id=uuid.uuid4(), org_id=org_a.id, name=f"Mail {tag}", is_active=True),
        "svc_b": Service(id=uuid.uuid4(), org_id=org_b.id, name=f"Mail {tag}", is_active=True),
        "svc_off": Service(id=uuid.uuid4(), org_id=None, name=f"Retired {tag}", is_active=False),
    }
    team = Team(id=uuid.uuid4(), name=f"Team {tag}")
    mail_failed = OutboxMessage(
        id=uuid.uuid4(),
        idempotency_key=f"test:{tag}",
        recipient_email=f"mail-{tag}@example.test",
        template="status",
        subject=f"Mail {tag}",
        body_text="Text",
        body_html="<p>HTML</p>",
        status="failed",
        attempts=8,
    )
    box = Mailbox(id=uuid.uuid4(), address=f"box-{tag}@desk.test", kind="lmtp")
    bounce = MailBounce(address=f"gone-{tag}@example.test", status="5.1.1")
    quarantined = InboundMessage(
        id=uuid.uuid4(),
        via="lmtp",
        size_bytes=10,
        sha256=tag * 8,
        content_hash=tag * 8,
        status="quarantined",
        error="ValueError: test",
    )
    tags = [Tag(id=uuid.uuid4(), name=f"tag-{tag}"), Tag(id=uuid.uuid4(), name=f"into-{tag}")]
    calendar = SlaCalendar(
        id=uuid.uuid4(), name=f"Calendar {tag}", timezone="UTC", windows=[], exceptions=[]
    )
    db.add_all([sla_a, *services.values(), team, mail_failed, box, bounce, quarantined, *tags])
    db.add(calendar)
    await db.flush()
    db.add(TeamMember(team_id=team.id, user_id=staff.id))
    await db.flush()
    ids = {
        "org_a": org_a.id,
        "org_b": org_b.id,
        "user_a": user_a.id,
        "user_b": user_b.id,
        "staff": staff.id,
        "sla_global": sla_global,
        "sla_a": sla_a.id,
        "team": team.id,
        "mail_failed": mail_failed.id,
        "box": box.id,
        "bounce": bounce.address,  # type: ignore[dict-item]  # an address, not an id
        "quarantined": quarantined.id,
        "tag": tags[0].id,
        "tag_target": tags[1].id,
        "calendar": calendar.id,
        **{key: service.id for key, service in services.items()},
    }
    return World(org_a=org_a, org_b=org_b, staff=staff, ids=ids)


def _body(cell: Cell, world: World) -> dict[str, Any] | None:
    tag = uuid.uuid4().hex[:8]
    if cell.path.endswith("/retry"):
        return None
    if cell.route == ("PUT", "/api/admin/mfa-policy"):
        return {"items": [{"role": "agent", "required": True, "grace_hours": 24}]}
    if cell.method == "POST" and cell.path.startswith("/api/users/"):
        return None
    if cell.method == "POST":
        return {
            "/api/orgs": {"name": f"New org {tag}"},
            "/api/users": {
                "email": f"new-{tag}@example.test",
                "name": "New person",
                "role": Role.CUSTOMER_USER.value,
                "org_id": str(world.org_a.id),
                "password": PASSWORD,
            },
            "/api/sla": {
                "org_id": str(world.org_b.id),
                "priority": "P2",
                "first_response_minutes": 60,
                "resolution_minutes": 600,
            },
            "/api/services": {"name": f"New service {tag}"},
            "/api/teams": {"name": f"New team {tag}", "member_ids": [str(world.staff.id)]},
            "/api/admin/mailboxes": {"address": f"box-{tag}@desk.test", "kind": "lmtp"},
            "/api/admin/tags/{tag_id}/merge": {"into_id": str(world.ids["tag_target"])},
            "/api/admin/calendars": {"name": f"Calendar {tag}", "timezone": "UTC"},
            "/api/admin/calendars/{calendar_id}/holidays": {"country": "DE", "years": [2026]},
        }[cell.path]
    if cell.method == "PATCH":
        if cell.path.startswith("/api/admin/mailboxes/"):
            return {"active": False}
        if cell.path.startswith("/api/sla/"):
            return {"resolution_minutes": 999}
        return {"name": f"Renamed {tag}"}
    return None


async def _admin_state(db: AsyncSession) -> list[Sequence[Any]]:
    """Every row of the tables the admin API writes, to prove a refused request changed nothing."""
    state: list[Sequence[Any]] = []
    models = (Organization, User, SlaPolicy, Service, Team, TeamMember, OutboxMessage, Mailbox)
    models += (MfaPolicy, AuthSession)
    for model in (*models, MailBounce, InboundMessage, Tag, TicketTag, SlaCalendar):
        table = model.__table__
        rows = (await db.execute(select(table).order_by(*table.primary_key.columns))).all()
        state.append([tuple(row) for row in rows])
    return state


def _concrete(path: str, target: uuid.UUID) -> str:
    return re.sub(r"\{[^}]+\}", str(target), path)


async def _send(
    client: AsyncClient, cell: Cell, target: uuid.UUID | None, body: Any, headers: dict[str, str]
) -> Response:
    path = _concrete(cell.path, target) if target is not None else cell.path
    return await client.request(cell.method, path, json=body, headers=headers)


@pytest.mark.parametrize(("cell", "role", "expected"), list(_cases()))
async def test_role_access(
    client: AsyncClient, db: AsyncSession, cell: Cell, role: Role | str, expected: int
) -> None:
    world = await _world(db)
    headers: dict[str, str] = {}
    if isinstance(role, Role):
        org = world.org_a if not role.is_staff else None
        headers = await bearer(db, await make_user(db, role=role, org=org))
    target = world.ids[cell.target] if cell.target else None
    body = _body(cell, world)
    await db.commit()
    before = await _admin_state(db)

    response = await _send(client, cell, target, body, headers)

    assert response.status_code == expected, response.text
    after = await _admin_state(db)
    if expected >= 300 or cell.method == "GET":
        assert after == before, "a refused or read-only request changed the database"
    else:
        assert after != before, "an allowed write changed nothing"
    if expected == 404:
        random_id = await _send(client, cell, uuid.uuid4(), body, headers)
        assert random_id.status_code == 404
        assert response.json() == random_id.json()
    if expected == 200 and cell.method == "GET" and target is not None:
        assert response.json()["id"] == str(target)
    if expected == 200 and target is None and cell.path.endswith(".csv"):
        assert response.headers["content-type"].startswith("text/csv")
    elif expected == 200 and target is None:
        assert set(response.json()) == {"items", "next_cursor"}


# Single sign-on's administration (providers, the sign-in policy, users' identities) answers
# lists and objects of its own shape: its every-role table is test_route_coverage.py's, which
# this test checks covers each of these routes.
SSO_ADMIN = ("/api/admin/sso", "/api/admin/signin-policy")


def _sso_admin(path: str) -> bool:
    return path.startswith(SSO_ADMIN) or (path.startswith("/api/users/{user_id}/identities"))


def _in_admin_area(path: str) -> bool:
    if _sso_admin(path):
        return False
    return any(path == area or path.startswith(area + "/") for area in ADMIN_AREAS)


def _openapi_admin_routes(app: FastAPI) -> set[tuple[str, str]]:
    routes: set[tuple[str, str]] = set()
    for path, operations in app.openapi()["paths"].items():
        for method, operation in operations.items():
            tagged = ADMIN_TAGS & set(operation.get("tags", [])) and not _sso_admin(path)
            if _in_admin_area(path) or tagged:
                routes.add((method.upper(), path))
    return routes


def _walk(routes: Sequence[Any], prefix: str = "") -> Iterator[tuple[str, str]]:
    """(method, path) of every APIRoute, descending into included routers (FastAPI nests them)."""
    for route in routes:
        included = getattr(route, "original_router", None)
        if included is not None:
            yield from _walk(included.routes, prefix + route.include_context.prefix)
        elif isinstance(route, APIRoute):
            for method in route.methods:
                yield method, prefix + route.path


def test_table_covers_every_admin_route(app: FastAPI) -> None:
    table = {cell.route for cell in TABLE}
    assert _openapi_admin_routes(app) == table
    walked = {(m, p) for m, p in _walk(app.routes) if _in_admin_area(p)}
    assert walked == table, "an admin route is hidden from the schema or missing from the table"


def test_sso_administration_is_in_the_route_coverage_table(app: FastAPI) -> None:
    from tests.test_route_coverage import TABLE as COVERAGE

    sso = {(m, p) for m, p in _walk(app.routes) if _sso_admin(p)}
    assert len(sso) >= 12
    assert sso <= {entry.route for entry in COVERAGE}


def test_table_has_one_column_per_role() -> None:
    assert set(COLUMNS) == {ANONYMOUS, *Role}
    assert all(len(cell.statuses) == len(COLUMNS) for cell in TABLE)


@pytest.mark.parametrize("path", sorted({cell.path for cell in TABLE}))
async def test_undeclared_methods_are_refused(client: AsyncClient, path: str) -> None:
    declared = {cell.method for cell in TABLE if cell.path == path}
    concrete = _concrete(path, uuid.uuid4())
    for method in set(HTTP_METHODS) - declared:
        response = await client.request(method, concrete, json={})
        assert response.status_code == 405, (method, path, response.status_code)
