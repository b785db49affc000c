"""One permission table for every route of the application (SECURITY.md "Access control").

Each (method, path) of the app has an entry naming the status every caller gets: anonymous, a
customer_user and a customer_admin of organization A, an agent, a manager and an admin. Routes that
address an object are exercised twice: with A's object (the caller's own organization, for
customers) and with B's. A route without an entry fails ``test_every_route_has_an_entry``, so a new
endpoint cannot ship without a decision about who may call it; undeclared methods must be 405.

Every request is real (ASGI app, PostgreSQL, the test's rolled-back transaction); tokens are minted
against real session rows, so no password hashing is paid for except on the login route.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.routing import APIRoute
from httpx import AsyncClient, Response
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.routing import Mount, Route

from app.models import (
    AuditLog,
    CannedReply,
    IdentityProvider,
    KbArticle,
    Macro,
    MailBounce,
    Mailbox,
    Organization,
    OutboxMessage,
    SavedView,
    Service,
    SlaCalendar,
    SlaPolicy,
    Tag,
    Team,
    Ticket,
    TicketAttachment,
    TicketComment,
    TicketLink,
    User,
    UserIdentity,
)
from app.models.enums import Role
from app.services.attachments import file_store
from app.services.storage import StoredFile
from app.utils.clock import utcnow
from tests.factories import PASSWORD, make_org, make_user
from tests.factories import bearer_headers as token_for
from tests.mail_support import stored_mail

ANONYMOUS = "anonymous"
NEW_PASSWORD = "a fresh and sturdy passphrase"
CALLERS: tuple[str, ...] = (ANONYMOUS, *(role.value for role in Role))
HTTP_METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")
OWN, OTHER = "own", "other"
Statuses = tuple[int, int, int, int, int, int]

PUBLIC: Statuses = (200, 200, 200, 200, 200, 200)
SIGNED_IN: Statuses = (401, 200, 200, 200, 200, 200)
PORTAL: Statuses = (401, 200, 200, 403, 403, 403)
PORTAL_HIDDEN: Statuses = (401, 404, 404, 403, 403, 403)
PORTAL_CREATE: Statuses = (401, 201, 201, 403, 403, 403)
DESK: Statuses = (401, 403, 403, 200, 200, 200)
DESK_CREATE: Statuses = (401, 403, 403, 201, 201, 201)
DESK_NO_SUGGESTION: Statuses = (401, 403, 403, 409, 409, 409)
MANAGERS: Statuses = (401, 403, 403, 403, 200, 200)
MANAGERS_DELETE: Statuses = (401, 403, 403, 403, 204, 204)
ADMIN_ONLY: Statuses = (401, 403, 403, 403, 403, 200)
ADMIN_CREATE: Statuses = (401, 403, 403, 403, 403, 201)
ADMIN_DELETE: Statuses = (401, 403, 403, 403, 403, 204)
MANAGERS_CREATE: Statuses = (401, 403, 403, 403, 201, 201)


@dataclass(frozen=True)
class Entry:
    """One route: what its path parameters point at, and the status per caller (CALLERS order)
    for the caller's own organization's objects and, where the route addresses objects, for the
    other organization's."""

    method: str
    path: str
    own: Statuses
    other: Statuses | None = None
    targets: dict[str, str] = field(default_factory=dict)

    @property
    def route(self) -> tuple[str, str]:
        return self.method, self.path


T = "/api/tickets/{ticket_id}"
I = "/api/internal/tickets/{ticket_id}"  # noqa: E741
NEW_TICKET = {"ticket_id": "ticket_new"}
ASSIGNED_TICKET = {"ticket_id": "ticket_assigned"}
FILE = {"ticket_id": "ticket_new", "attachment_id": "attachment"}
KB = "/api/internal/kb/articles"
ARTICLE = {"article_id": "article"}

TABLE: tuple[Entry, ...] = (
    Entry("GET", "/api/health", PUBLIC),
    Entry("GET", "/api/health/ready", PUBLIC),
    Entry("GET", "/api/openapi.json", PUBLIC),
    Entry("GET", "/api/docs", PUBLIC),
    Entry("GET", "/{path:web}", PUBLIC),
    Entry("POST", "/api/auth/login", PUBLIC),
    Entry("POST", "/api/auth/logout", (401, 204, 204, 204, 204, 204)),
    Entry("GET", "/api/me", SIGNED_IN),
    Entry("GET", "/api/me/preferences", SIGNED_IN),
    Entry("PUT", "/api/me/preferences", SIGNED_IN),
    # Customer portal: customers only, their own organization's tickets only.
    Entry("POST", "/api/tickets", PORTAL_CREATE),
    Entry("GET", "/api/tickets", PORTAL),
    Entry("GET", T, PORTAL, PORTAL_HIDDEN, NEW_TICKET),
    Entry("POST", T + "/comments", PORTAL_CREATE, PORTAL_HIDDEN, ASSIGNED_TICKET),
    Entry("POST", T + "/withdraw", PORTAL, PORTAL_HIDDEN, NEW_TICKET),
    Entry("POST", T + "/attachments", PORTAL_CREATE, PORTAL_HIDDEN, ASSIGNED_TICKET),
    Entry("GET", T + "/attachments/{attachment_id}", PORTAL, PORTAL_HIDDEN, FILE),
    # Internal desk: staff only, every organization.
    Entry("GET", "/api/internal/tickets/new", DESK),
    Entry("GET", "/api/internal/tickets", DESK),
    Entry("GET", I, DESK, DESK, NEW_TICKET),
    Entry("PATCH", I, DESK, DESK, NEW_TICKET),
    Entry("POST", I + "/accept", MANAGERS, MANAGERS, NEW_TICKET),
    Entry("POST", I + "/assign", DESK, DESK, {"ticket_id": "ticket_accepted"}),
    Entry("POST", I + "/status", DESK, DESK, ASSIGNED_TICKET),
    Entry("POST", I + "/comments", DESK_CREATE, DESK_CREATE, ASSIGNED_TICKET),
    Entry("POST", I + "/attachments", DESK_CREATE, DESK_CREATE, ASSIGNED_TICKET),
    Entry("GET", I + "/attachments/{attachment_id}", DESK, DESK, FILE),
    Entry("GET", I + "/audit", DESK, DESK, NEW_TICKET),
    Entry("GET", I + "/suggestions", DESK, DESK, NEW_TICKET),
    # The world's tickets have no stored suggestion: staff get 409 (tests/test_ai_triage.py
    # applies real ones).
    Entry("POST", I + "/suggestions/apply", DESK_NO_SUGGESTION, DESK_NO_SUGGESTION, NEW_TICKET),
    # Knowledge base: staff articles (managers and admins delete); customers find public ones.
    # The "own" article is public, the "other" one internal.
    Entry("GET", KB, DESK),
    Entry("POST", KB, DESK_CREATE),
    Entry("GET", KB + "/{article_id}", DESK, DESK, ARTICLE),
    Entry("PATCH", KB + "/{article_id}", DESK, DESK, ARTICLE),
    Entry("DELETE", KB + "/{article_id}", MANAGERS_DELETE, MANAGERS_DELETE, ARTICLE),
    Entry("GET", "/api/kb/articles", PORTAL),
    Entry("GET", "/api/kb/library", PORTAL),
    Entry("GET", "/api/kb/articles/{article_id}", PORTAL, PORTAL_HIDDEN, ARTICLE),
    # Administration.
    Entry("GET", "/api/orgs", DESK),
    Entry("POST", "/api/orgs", ADMIN_CREATE),
    Entry("GET", "/api/orgs/{org_id}", DESK, DESK, {"org_id": "org"}),
    Entry("PATCH", "/api/orgs/{org_id}", ADMIN_ONLY, ADMIN_ONLY, {"org_id": "org"}),
    Entry("GET", "/api/users", (401, 403, 200, 200, 200, 200)),
    Entry(
        "POST",
        "/api/users",
        (401, 403, 201, 403, 403, 201),
        (401, 403, 404, 403, 403, 201),
        {"org_id": "org"},
    ),
    Entry(
        "GET",
        "/api/users/{user_id}",
        (401, 403, 200, 200, 200, 200),
        (401, 403, 404, 200, 200, 200),
        {"user_id": "user"},
    ),
    Entry(
        "PATCH",
        "/api/users/{user_id}",
        (401, 403, 200, 403, 403, 200),
        (401, 403, 404, 403, 403, 200),
        {"user_id": "user"},
    ),
    Entry("GET", "/api/sla", DESK),
    Entry("POST", "/api/sla", ADMIN_CREATE, ADMIN_CREATE, {"org_id": "org"}),
    Entry("GET", "/api/sla/{policy_id}", DESK, DESK, {"policy_id": "sla"}),
    Entry("PATCH", "/api/sla/{policy_id}", ADMIN_ONLY, ADMIN_ONLY, {"policy_id": "sla"}),
    Entry(
        "DELETE",
        "/api/sla/{policy_id}",
        (401, 403, 403, 403, 403, 204),
        (401, 403, 403, 403, 403, 204),
        {"policy_id": "sla"},
    ),
    Entry("GET", "/api/services", SIGNED_IN),
    Entry("POST", "/api/services", ADMIN_CREATE),
    Entry(
        "GET",
        "/api/services/{service_id}",
        SIGNED_IN,
        (401, 404, 404, 200, 200, 200),
        {"service_id": "service"},
    ),
    Entry("PATCH", "/api/services/{service_id}", ADMIN_ONLY, ADMIN_ONLY, {"service_id": "service"}),
    Entry("GET", "/api/teams", DESK),
    Entry("POST", "/api/teams", ADMIN_CREATE),
    Entry("GET", "/api/teams/{team_id}", DESK, None, {"team_id": "team"}),
    Entry("PATCH", "/api/teams/{team_id}", ADMIN_ONLY, None, {"team_id": "team"}),
    Entry("GET", "/api/internal/audit", MANAGERS),
    Entry("GET", "/api/internal/audit/export.csv", MANAGERS),
    Entry("GET", "/api/internal/reports/summary", MANAGERS),
    Entry("GET", "/api/internal/reports/series", MANAGERS),
    Entry("GET", "/api/internal/reports/backlog", MANAGERS),
    Entry("GET", "/api/internal/reports/breakdown", MANAGERS),
    Entry("GET", "/api/internal/reports/dashboard", DESK),
    Entry("GET", "/api/internal/reports/{name}.csv", MANAGERS, None, {"name": "report"}),
    Entry("GET", "/api/admin/notifications", ADMIN_ONLY),
    Entry(
        "POST",
        "/api/admin/notifications/{notification_id}/retry",
        ADMIN_ONLY,
        ADMIN_ONLY,
        {"notification_id": "notification"},
    ),
)
# The e-mail channel: held mail is the managers', mailboxes, bounces and quarantine the admins',
# the original .eml of a mail on a ticket every staff member's.
HELD = "/api/internal/mail/held"
TABLE += (
    Entry("GET", HELD, MANAGERS),
    Entry(
        "POST", HELD + "/{held_id}/ticket", MANAGERS_CREATE, MANAGERS_CREATE, {"held_id": "held"}
    ),
    Entry(
        "POST",
        HELD + "/{held_id}/discard",
        MANAGERS_DELETE,
        MANAGERS_DELETE,
        {"held_id": "held"},
    ),
    Entry("GET", "/api/admin/mail/quarantined", ADMIN_ONLY),
    Entry(
        "POST",
        "/api/admin/mail/quarantined/{message_id}/retry",
        ADMIN_DELETE,
        ADMIN_DELETE,
        {"message_id": "quarantined"},
    ),
    Entry("GET", "/api/admin/mail/bounces", ADMIN_ONLY),
    Entry(
        "DELETE",
        "/api/admin/mail/bounces/{address}",
        ADMIN_DELETE,
        ADMIN_DELETE,
        {"address": "bounce"},
    ),
    Entry("GET", "/api/admin/mailboxes", ADMIN_ONLY),
    Entry("POST", "/api/admin/mailboxes", ADMIN_CREATE),
    Entry(
        "PATCH", "/api/admin/mailboxes/{mailbox_id}", ADMIN_ONLY, ADMIN_ONLY, {"mailbox_id": "box"}
    ),
    Entry(
        "DELETE",
        "/api/admin/mailboxes/{mailbox_id}",
        ADMIN_DELETE,
        ADMIN_DELETE,
        {"mailbox_id": "box"},
    ),
    Entry("GET", I + "/original", DESK, DESK, NEW_TICKET),
    Entry(
        "GET",
        I + "/comments/{comment_id}/original",
        DESK,
        DESK,
        {"ticket_id": "ticket_new", "comment_id": "mail_comment"},
    ),
)
# Accounts: the token pages answer every caller alike (a made-up token is a neutral 400), the
# profile, sessions and two-factor routes every signed-in user; the policy is the admins'.
NEUTRAL_400: Statuses = (400, 400, 400, 400, 400, 400)
SIGNED_IN_NO_CONTENT: Statuses = (401, 204, 204, 204, 204, 204)
SIGNED_IN_ACCEPTED: Statuses = (401, 202, 202, 202, 202, 202)
SIGNED_IN_CONFLICT: Statuses = (401, 409, 409, 409, 409, 409)
SIGNED_IN_INVALID: Statuses = (401, 422, 422, 422, 422, 422)
SIGNED_IN_NOT_FOUND: Statuses = (401, 404, 404, 404, 404, 404)
USER = {"user_id": "user"}
IDP = {"provider_id": "idp"}
REDIRECT: Statuses = (303, 303, 303, 303, 303, 303)
UNAVAILABLE: Statuses = (503, 503, 503, 503, 503, 503)
TABLE += (
    Entry("POST", "/api/auth/login/mfa", (401, 401, 401, 401, 401, 401)),
    Entry("POST", "/api/auth/invitation/inspect", NEUTRAL_400),
    Entry("POST", "/api/auth/invitation/accept", NEUTRAL_400),
    Entry("POST", "/api/auth/password/forgot", (202, 202, 202, 202, 202, 202)),
    Entry("POST", "/api/auth/password/reset", NEUTRAL_400),
    Entry("POST", "/api/auth/email/confirm", NEUTRAL_400),
    Entry("PATCH", "/api/me", SIGNED_IN),
    Entry("POST", "/api/me/password", SIGNED_IN_NO_CONTENT),
    Entry("POST", "/api/me/email", SIGNED_IN_ACCEPTED),
    Entry("GET", "/api/me/sessions", SIGNED_IN),
    Entry(
        "DELETE", "/api/me/sessions/{session_id}", SIGNED_IN_NOT_FOUND, None, {"session_id": "user"}
    ),
    Entry("POST", "/api/me/sessions/revoke-others", SIGNED_IN_NO_CONTENT),
    Entry("GET", "/api/me/mfa", SIGNED_IN),
    Entry("POST", "/api/me/mfa/totp", SIGNED_IN),
    Entry("POST", "/api/me/mfa/totp/confirm", SIGNED_IN_CONFLICT),
    Entry("DELETE", "/api/me/mfa/totp", SIGNED_IN_INVALID),
    Entry("POST", "/api/me/mfa/webauthn/register/options", SIGNED_IN),
    Entry("POST", "/api/me/mfa/webauthn/register", SIGNED_IN_CONFLICT),
    Entry(
        "DELETE", "/api/me/mfa/webauthn/keys/{key_id}", SIGNED_IN_INVALID, None, {"key_id": "user"}
    ),
    Entry("POST", "/api/me/mfa/recovery-codes", SIGNED_IN_CONFLICT),
    Entry("GET", "/api/admin/mfa-policy", ADMIN_ONLY),
    Entry("PUT", "/api/admin/mfa-policy", ADMIN_ONLY),
    # Single sign-on: the sign-in page's providers and the sign-in routes answer everyone alike
    # (the redirects go to /login?sso_error=... here: the provider cannot be reached).
    Entry("GET", "/api/auth/providers", PUBLIC),
    Entry("GET", "/api/auth/sso/{slug}/start", REDIRECT, None, {"slug": "idp_slug"}),
    Entry("GET", "/api/auth/sso/{slug}/callback", REDIRECT, None, {"slug": "idp_slug"}),
    Entry("POST", "/api/auth/ldap/{slug}/login", UNAVAILABLE, None, {"slug": "ldap_slug"}),
    Entry("POST", "/api/auth/sso/link", NEUTRAL_400),
    Entry(
        "POST", "/api/auth/sso/{slug}/backchannel-logout", NEUTRAL_400, None, {"slug": "idp_slug"}
    ),
    Entry("GET", "/api/admin/sso/providers", ADMIN_ONLY),
    Entry("POST", "/api/admin/sso/providers", ADMIN_CREATE),
    Entry("GET", "/api/admin/sso/providers/{provider_id}", ADMIN_ONLY, None, IDP),
    Entry("PATCH", "/api/admin/sso/providers/{provider_id}", ADMIN_ONLY, None, IDP),
    Entry("DELETE", "/api/admin/sso/providers/{provider_id}", ADMIN_DELETE, None, IDP),
    Entry("POST", "/api/admin/sso/providers/{provider_id}/check", ADMIN_ONLY, None, IDP),
    Entry(
        "POST",
        "/api/admin/sso/providers/{provider_id}/sync",
        (401, 403, 403, 403, 403, 503),
        None,
        {"provider_id": "ldap_idp"},
    ),
    Entry("GET", "/api/admin/signin-policy", ADMIN_ONLY),
    Entry("PUT", "/api/admin/signin-policy", ADMIN_ONLY),
    Entry("GET", "/api/users/{user_id}/identities", ADMIN_ONLY, ADMIN_ONLY, USER),
    Entry("POST", "/api/users/{user_id}/identities", ADMIN_CREATE, ADMIN_CREATE, USER),
    Entry(
        "DELETE",
        "/api/users/{user_id}/identities/{identity_id}",
        ADMIN_DELETE,
        ADMIN_DELETE,
        {"user_id": "user", "identity_id": "identity"},
    ),
    Entry(
        "POST",
        "/api/users/{user_id}/invitation",
        (401, 403, 409, 403, 403, 409),
        (401, 403, 404, 403, 403, 409),
        USER,
    ),
    Entry(
        "POST",
        "/api/users/{user_id}/mfa/reset",
        (401, 403, 403, 403, 403, 204),
        (401, 403, 403, 403, 403, 204),
        USER,
    ),
    Entry(
        "DELETE",
        "/api/users/{user_id}/sessions",
        (401, 403, 204, 403, 403, 204),
        (401, 403, 404, 403, 403, 204),
        USER,
    ),
)
# Ticket tags: staff read them, admins rename and merge them; category suggestions for staff.
# Business-hours calendars: managers read them, admins write them and import holidays.
CAL = {"calendar_id": "calendar"}
TABLE += (
    Entry("GET", "/api/admin/calendars", MANAGERS),
    Entry("POST", "/api/admin/calendars", ADMIN_CREATE),
    Entry("GET", "/api/admin/calendars/{calendar_id}", MANAGERS, None, CAL),
    Entry("PATCH", "/api/admin/calendars/{calendar_id}", ADMIN_ONLY, None, CAL),
    Entry("DELETE", "/api/admin/calendars/{calendar_id}", ADMIN_DELETE, None, CAL),
    Entry("POST", "/api/admin/calendars/{calendar_id}/holidays", ADMIN_ONLY, None, CAL),
)
TAG = {"tag_id": "tag"}
TABLE += (
    Entry("GET", "/api/internal/tags", DESK),
    Entry("GET", "/api/internal/categories", DESK),
    Entry("PATCH", "/api/admin/tags/{tag_id}", ADMIN_ONLY, None, TAG),
    Entry("POST", "/api/admin/tags/{tag_id}/merge", ADMIN_ONLY, None, TAG),
)
# Colleagues copied on a ticket: customers on their organization's tickets, staff on every one.
TABLE += (
    Entry("PUT", T + "/cc", PORTAL, PORTAL_HIDDEN, NEW_TICKET),
    Entry("GET", T + "/cc/candidates", PORTAL, PORTAL_HIDDEN, NEW_TICKET),
    Entry("PUT", I + "/cc", DESK, DESK, NEW_TICKET),
    Entry("GET", I + "/cc/candidates", DESK, DESK, NEW_TICKET),
)
# Saved views: staff only; "own" is the caller's personal view, "other" a colleague's (hidden).
VIEW = {"view_id": "view"}
V = "/api/internal/views"
DESK_HIDDEN: Statuses = (401, 403, 403, 404, 404, 404)
TABLE += (
    Entry("GET", V, DESK),
    Entry("POST", V, DESK_CREATE),
    Entry("GET", V + "/{view_id}", DESK, DESK_HIDDEN, VIEW),
    Entry("PATCH", V + "/{view_id}", DESK, DESK_HIDDEN, VIEW),
    Entry("DELETE", V + "/{view_id}", (401, 403, 403, 204, 204, 204), DESK_HIDDEN, VIEW),
    Entry("GET", V + "/{view_id}/tickets", DESK, DESK_HIDDEN, VIEW),
)
# Tickets recorded for a customer (staff); merging a duplicate (managers); links between tickets
# (staff, any organization: ticket_new and ticket_assigned are linked in every world).
DESK_NO_CONTENT: Statuses = (401, 403, 403, 204, 204, 204)
TABLE += (
    Entry("POST", "/api/internal/tickets", DESK_CREATE),
    Entry("POST", I + "/merge", MANAGERS, MANAGERS, NEW_TICKET),
    Entry(
        "POST",
        I + "/links/{other_id}",
        DESK_NO_CONTENT,
        DESK_NO_CONTENT,
        {"ticket_id": "ticket_new", "other_id": "ticket_accepted"},
    ),
    Entry(
        "DELETE",
        I + "/links/{other_id}",
        DESK_NO_CONTENT,
        DESK_NO_CONTENT,
        {"ticket_id": "ticket_new", "other_id": "ticket_assigned"},
    ),
)
# Live updates: every signed-in caller has a stream (here it ends within a second: the hub's
# session check, on its own connection, does not see the test transaction's session row);
# presence heartbeats are staff-only.
TABLE += (
    Entry("GET", "/api/events", SIGNED_IN),
    Entry("POST", I + "/presence", DESK_NO_CONTENT, DESK_NO_CONTENT, NEW_TICKET),
)
# Canned replies and macros: staff only; "own" is the caller's personal one, "other" a
# colleague's (hidden); rendering and applying them to a ticket; bulk actions (staff).
REPLY = {"reply_id": "reply"}
MACRO = {"macro_id": "macro"}
CR = "/api/internal/canned-replies"
MC = "/api/internal/macros"
TABLE += (
    Entry("GET", CR, DESK),
    Entry("POST", CR, DESK_CREATE),
    Entry("PATCH", CR + "/{reply_id}", DESK, DESK_HIDDEN, REPLY),
    Entry("DELETE", CR + "/{reply_id}", DESK_NO_CONTENT, DESK_HIDDEN, REPLY),
    Entry(
        "POST",
        I + "/canned-replies/{reply_id}/render",
        DESK,
        DESK_HIDDEN,
        {"ticket_id": "ticket_assigned", "reply_id": "reply"},
    ),
    Entry("GET", MC, DESK),
    Entry("POST", MC, DESK_CREATE),
    Entry("PATCH", MC + "/{macro_id}", DESK, DESK_HIDDEN, MACRO),
    Entry("DELETE", MC + "/{macro_id}", DESK_NO_CONTENT, DESK_HIDDEN, MACRO),
    Entry(
        "POST",
        I + "/macros/{macro_id}",
        DESK,
        DESK_HIDDEN,
        {"ticket_id": "ticket_assigned", "macro_id": "macro"},
    ),
    Entry("POST", "/api/internal/tickets/bulk", DESK),
)
# Customer satisfaction: a rating link answers every caller alike (signed in or not; a made-up
# link is 404), the portal's own rating route is a customer's on a resolved ticket of theirs (the
# world's tickets are not resolved: 409).
NOT_FOUND_ALL: Statuses = (404, 404, 404, 404, 404, 404)
CSAT_LINK = {"token": "csat_token"}
TABLE += (
    Entry("GET", "/api/csat/{token}", NOT_FOUND_ALL, None, CSAT_LINK),
    Entry("POST", "/api/csat/{token}", NOT_FOUND_ALL, None, CSAT_LINK),
    Entry("POST", T + "/csat", (401, 409, 409, 403, 403, 403), PORTAL_HIDDEN, NEW_TICKET),
)
# Routes that are not operations: mounted static files, public.
MOUNTS = {"/api/static/docs", "/assets"}
# PATCH /api/internal/tickets/new is the PATCH of /api/internal/tickets/{ticket_id} with a
# malformed id: it answers like any malformed id (422 after authentication), not 405.
OVERLAPPING = {
    ("PATCH", "/api/internal/tickets/new"),
    ("GET", "/api/internal/tickets/bulk"),
    ("PATCH", "/api/internal/tickets/bulk"),
    ("DELETE", "/api/me/sessions/revoke-others"),
}


def _cases() -> Iterator[Any]:
    for entry in TABLE:
        for side, statuses in ((OWN, entry.own), (OTHER, entry.other)):
            if statuses is None:
                continue
            for caller, expected in zip(CALLERS, statuses, strict=True):
                label = f"{caller}-{entry.method} {entry.path}" + (
                    f"-{side}" if entry.other is not None else ""
                )
                yield pytest.param(entry, side, caller, expected, id=label)


# --- the world every request runs against -------------------------------------------------------


@dataclass
class World:
    caller: User | None
    customer: User
    headers: dict[str, str]
    orgs: dict[str, Organization]
    agent: User
    objects: dict[tuple[str, str], uuid.UUID]

    def target(self, side: str, name: str) -> uuid.UUID:
        return self.objects[(side, name)]


@pytest.fixture(scope="module")
async def stored_file() -> AsyncIterator[StoredFile]:
    """One real file on disk that every world's attachment rows point to."""

    async def chunks() -> AsyncIterator[bytes]:
        yield b"route coverage attachment\n"

    stored = await file_store().save(
        chunks(), max_bytes=1024, file_name="notes.txt", declared_type="text/plain"
    )
    yield stored
    await file_store().delete(stored.key)


async def _mail_objects(db: AsyncSession, ticket: Ticket, customer: User) -> dict[str, Any]:
    """Held and quarantined mail, the mail a ticket came from and a comment that came by mail,
    a mailbox and a bouncing address."""
    held = await stored_mail(db, status="held", sender=f"held-{uuid.uuid4().hex[:8]}@x.test")
    quarantined = await stored_mail(db, status="quarantined", sender=customer.email)
    await stored_mail(db, status="done", sender=customer.email, ticket_id=ticket.id)
    answer = await stored_mail(db, status="done", sender=customer.email, ticket_id=ticket.id)
    comment = TicketComment(
        id=uuid.uuid4(),
        ticket_id=ticket.id,
        org_id=ticket.org_id,
        author_id=customer.id,
        body="By mail.",
        channel="email",
        inbound_id=answer,
        from_address=customer.email,
    )
    db.add(comment)
    await db.flush()
    box = Mailbox(id=uuid.uuid4(), address=f"box-{uuid.uuid4().hex[:8]}@desk.test", kind="lmtp")
    bounce = MailBounce(address=f"gone-{uuid.uuid4().hex[:8]}@example.test", status="5.1.1")
    db.add_all([box, bounce])
    await db.flush()
    return {
        "held": held,
        "quarantined": quarantined,
        "mail_comment": comment.id,
        "box": box.id,
        "bounce": bounce.address,
    }


def _ticket(org: Organization, creator: User, status: str, assignee: User | None) -> Ticket:
    now = utcnow()
    ticket = Ticket(
        id=uuid.uuid4(),
        org_id=org.id,
        created_by=creator.id,
        status=status,
        priority="P3",
        title=f"Coverage {status} {uuid.uuid4().hex[:6]}",
        description="Route coverage.",
        created_at=now,
        updated_at=now,
    )
    if status != "NEW":
        ticket.accepted_by = assignee.id if assignee else None
        ticket.accepted_at = now - timedelta(hours=1)
        ticket.sla_first_response_due_at = now + timedelta(hours=4)
        ticket.sla_resolution_due_at = now + timedelta(days=2)
    if status == "ASSIGNED":
        ticket.assigned_to = assignee.id if assignee else None
    return ticket


async def build_world(db: AsyncSession, caller_role: str, stored: StoredFile) -> World:
    """Organizations A (the caller's, for customers) and B, each with a NEW, an ACCEPTED and an
    ASSIGNED ticket, a public attachment, a customer, an SLA policy, a service and a failed mail.
    A customer caller opened its organization's tickets; a staff caller is the assignee."""
    orgs = {OWN: await make_org(db), OTHER: await make_org(db)}
    caller: User | None = None
    if caller_role != ANONYMOUS:
        role = Role(caller_role)
        caller = await make_user(db, role=role, org=orgs[OWN] if not role.is_staff else None)
    agent = await make_user(db, role=Role.AGENT)
    assignee = (
        caller if caller is not None and caller.role in {"agent", "manager", "admin"} else agent
    )
    objects: dict[tuple[str, str], uuid.UUID] = {}
    customers: dict[str, User] = {}
    team = Team(id=uuid.uuid4(), name=f"Team {uuid.uuid4().hex[:8]}")
    db.add(team)
    for side, org in orgs.items():
        customer = customers[side] = await make_user(db, role=Role.CUSTOMER_USER, org=org)
        creator = caller if side == OWN and caller is not None and caller.org_id else customer
        tickets = {
            "ticket_new": _ticket(org, creator, "NEW", None),
            "ticket_accepted": _ticket(org, creator, "ACCEPTED", assignee),
            "ticket_assigned": _ticket(org, creator, "ASSIGNED", assignee),
        }
        attachment = TicketAttachment(
            id=uuid.uuid4(),
            ticket_id=tickets["ticket_new"].id,
            org_id=org.id,
            uploaded_by=creator.id,
            file_path=stored.key,
            file_name="notes.txt",
            mime_type=stored.mime_type,
            size_bytes=stored.size_bytes,
            sha256=stored.sha256,
            is_internal=False,
            created_at=utcnow(),
        )
        sla = SlaPolicy(
            id=uuid.uuid4(),
            org_id=org.id,
            priority="P1",
            first_response_minutes=30,
            resolution_minutes=240,
        )
        service = Service(id=uuid.uuid4(), org_id=org.id, name=f"Mail {uuid.uuid4().hex[:8]}")
        db.add_all([*tickets.values(), sla, service])
        await db.flush()
        linked = sorted([tickets["ticket_new"].id, tickets["ticket_assigned"].id])
        db.add(TicketLink(ticket_a=linked[0], ticket_b=linked[1], created_by=agent.id))
        db.add(attachment)
        mail = OutboxMessage(
            id=uuid.uuid4(),
            idempotency_key=f"coverage-{uuid.uuid4().hex}",
            recipient_id=customer.id,
            recipient_email=customer.email,
            template="ticket_created",
            ticket_id=tickets["ticket_new"].id,
            org_id=org.id,
            subject="Coverage",
            body_text="Coverage",
            body_html="<p>Coverage</p>",
            status="failed",
            attempts=8,
            last_error="mailbox unavailable",
        )
        db.add(mail)
        await db.flush()
        mail_objects = await _mail_objects(db, tickets["ticket_new"], customer)
        objects.update({(side, name): value for name, value in mail_objects.items()})
        # A well-formed rating link with a wrong tag (tests/test_csat.py covers the real ones).
        objects[(side, "csat_token")] = "A" * 75  # type: ignore[assignment]
        objects.update({(side, name): t.id for name, t in tickets.items()})
        objects.update(
            {
                (side, "attachment"): attachment.id,
                (side, "org"): org.id,
                (side, "user"): customer.id,
                (side, "sla"): sla.id,
                (side, "service"): service.id,
                (side, "notification"): mail.id,
                (side, "team"): team.id,
            }
        )
    articles = {
        side: KbArticle(
            id=uuid.uuid4(),
            title=f"Coverage article {side}",
            body="Route coverage.",
            visibility="public" if side == OWN else "internal",
            created_by=agent.id,
            updated_by=agent.id,
        )
        for side in (OWN, OTHER)
    }
    db.add_all(articles.values())
    tags = [Tag(id=uuid.uuid4(), name=f"coverage-{uuid.uuid4().hex[:8]}") for _ in range(2)]
    db.add_all(tags)
    await db.flush()
    objects.update({(side, "article"): article.id for side, article in articles.items()})
    objects.update({(OWN, "tag"): tags[0].id, (OWN, "tag_target"): tags[1].id})
    calendar = SlaCalendar(
        id=uuid.uuid4(),
        name=f"Coverage {uuid.uuid4().hex[:8]}",
        timezone="UTC",
        windows=[],
        exceptions=[],
    )
    db.add(calendar)
    await db.flush()
    objects[(OWN, "calendar")] = calendar.id
    view_owners = {
        OWN: caller
        if caller is not None and caller.role in {"agent", "manager", "admin"}
        else agent,
        OTHER: agent,
    }
    saved = {
        side: SavedView(
            id=uuid.uuid4(), name=f"View {side}", scope="personal", owner_id=owner.id, filters={}
        )
        for side, owner in view_owners.items()
    }
    db.add_all(saved.values())
    await db.flush()
    objects.update({(side, "view"): view.id for side, view in saved.items()})
    replies = {
        side: CannedReply(
            id=uuid.uuid4(),
            title=f"Reply {side}",
            body="Hello {{ customer.first_name }}",
            scope="personal",
            owner_id=owner.id,
        )
        for side, owner in view_owners.items()
    }
    macros = {
        side: Macro(
            id=uuid.uuid4(),
            name=f"Macro {side}",
            actions=[{"type": "comment", "body": "Noted.", "is_internal": True}],
            scope="personal",
            owner_id=owner.id,
        )
        for side, owner in view_owners.items()
    }
    db.add_all([*replies.values(), *macros.values()])
    await db.flush()
    objects.update({(side, "reply"): reply.id for side, reply in replies.items()})
    objects.update({(side, "macro"): macro.id for side, macro in macros.items()})
    # Single sign-on: providers that cannot be reached (a closed loopback port), and a link of
    # each side's customer an administrator approved.
    providers = {
        "idp": IdentityProvider(
            id=uuid.uuid4(),
            kind="oidc",
            slug="coverage-oidc",
            name="Coverage SSO",
            settings={"issuer": "http://127.0.0.1:9", "client_id": "atum-desk"},
            mappings=[],
        ),
        "ldap_idp": IdentityProvider(
            id=uuid.uuid4(),
            kind="ldap",
            slug="coverage-ldap",
            name="Coverage directory",
            settings={
                "url": "ldap://127.0.0.1:9",
                "starttls": False,
                "allow_plain": True,
                "bind_dn": "cn=svc,dc=example,dc=test",
                "user_base": "dc=example,dc=test",
                "timeout_seconds": 2,
            },
            mappings=[],
        ),
    }
    db.add_all(providers.values())
    await db.flush()
    objects.update({(OWN, name): p.id for name, p in providers.items()})
    objects[(OWN, "idp_slug")] = "coverage-oidc"  # type: ignore[assignment]
    objects[(OWN, "ldap_slug")] = "coverage-ldap"  # type: ignore[assignment]
    for side, customer in customers.items():
        link = UserIdentity(
            id=uuid.uuid4(),
            user_id=customer.id,
            provider_id=providers["idp"].id,
            issuer="http://127.0.0.1:9",
            subject=None,
        )
        db.add(link)
        objects[(side, "identity")] = link.id
    await db.flush()
    headers = await token_for(db, caller) if caller is not None else {}
    return World(
        caller=caller,
        customer=customers[OWN],
        headers=headers,
        orgs=orgs,
        agent=agent,
        objects=objects,
    )


# --- one request per cell ----------------------------------------------------------------------


def concrete_path(entry: Entry, world: World, side: str) -> str:
    if entry.path == "/{path:web}":
        return "/tickets/new"
    if entry.path == "/api/internal/reports/{name}.csv":
        return "/api/internal/reports/tickets.csv"
    values = {param: world.target(side, name) for param, name in entry.targets.items()}
    return entry.path.format(**values)


def request_kwargs(entry: Entry, world: World, side: str) -> dict[str, Any]:
    tag = uuid.uuid4().hex[:8]
    path, method = entry.path, entry.method
    if method == "GET" or method == "DELETE":
        return {}
    if path.endswith("/backchannel-logout"):
        return {"data": {"logout_token": "not.a.token"}}
    if path.endswith("/attachments"):
        return {"files": {"file": (f"probe-{tag}.txt", f"probe {tag}\n".encode(), "text/plain")}}
    org = str(world.orgs[side].id)
    bodies: dict[tuple[str, str], Any] = {
        ("POST", "/api/auth/login"): {
            "email": (world.caller or world.customer).email,
            "password": PASSWORD,
        },
        ("PUT", "/api/me/preferences"): {"notify_enabled": False},
        ("POST", "/api/tickets"): {"title": f"Printer {tag}", "description": "Jammed."},
        ("POST", T + "/comments"): {"body": "Any news?"},
        ("POST", T + "/withdraw"): {"reason": "Solved it myself"},
        ("POST", T + "/csat"): {"rating": "good"},
        ("POST", "/api/csat/{token}"): {"rating": "bad", "comment": "Slow."},
        ("PUT", T + "/cc"): {"user_ids": []},
        ("PUT", I + "/cc"): {"user_ids": []},
        ("PATCH", I): {"priority": "P1"},
        ("POST", I + "/suggestions/apply"): {"field": "category"},
        ("POST", I + "/accept"): {},
        ("POST", I + "/presence"): {"state": "viewing"},
        ("POST", I + "/assign"): {"assignee_id": str(world.agent.id)},
        ("POST", I + "/status"): {"status": "IN_PROGRESS"},
        ("POST", I + "/comments"): {"body": "Checked the logs.", "is_internal": True},
        ("POST", "/api/internal/tickets"): {
            "customer_id": str(world.customer.id),
            "title": f"Phoned in {tag}",
            "description": "The printer is offline.",
            "channel": "phone",
        },
        ("POST", I + "/merge"): {"into_id": str(world.target(side, "ticket_accepted"))},
        ("POST", "/api/orgs"): {"name": f"New org {tag}"},
        ("PATCH", "/api/orgs/{org_id}"): {"name": f"Renamed {tag}"},
        ("POST", "/api/users"): {
            "email": f"new-{tag}@example.test",
            "name": "New person",
            "role": Role.CUSTOMER_USER.value,
            "org_id": org,
            "password": PASSWORD,
        },
        ("PATCH", "/api/users/{user_id}"): {"name": f"Renamed {tag}"},
        ("POST", "/api/sla"): {
            "org_id": org,
            "priority": "P2",
            "first_response_minutes": 60,
            "resolution_minutes": 600,
        },
        ("PATCH", "/api/sla/{policy_id}"): {"resolution_minutes": 999},
        ("POST", "/api/services"): {"name": f"New service {tag}"},
        ("PATCH", "/api/services/{service_id}"): {"name": f"Renamed {tag}"},
        ("POST", "/api/teams"): {"name": f"New team {tag}", "member_ids": [str(world.agent.id)]},
        ("PATCH", "/api/teams/{team_id}"): {"name": f"Renamed {tag}"},
        ("PATCH", "/api/admin/tags/{tag_id}"): {"name": f"renamed {tag}"},
        ("POST", V): {"name": f"View {tag}", "filters": {"assigned_to": "me"}},
        ("POST", CR): {"title": f"Reply {tag}", "body": "Hi {{ customer.name }}"},
        ("PATCH", CR + "/{reply_id}"): {"title": f"Renamed {tag}"},
        ("POST", MC): {"name": f"Macro {tag}", "actions": [{"type": "priority", "priority": "P2"}]},
        ("PATCH", MC + "/{macro_id}"): {"name": f"Renamed {tag}"},
        ("POST", "/api/internal/tickets/bulk"): {
            "ticket_ids": [str(world.target(side, "ticket_assigned"))],
            "action": {"type": "comment", "body": "Bulk note.", "is_internal": True},
        },
        ("PATCH", V + "/{view_id}"): {"name": f"Renamed {tag}"},
        ("POST", "/api/admin/calendars"): {"name": f"Calendar {tag}", "timezone": "UTC"},
        ("PATCH", "/api/admin/calendars/{calendar_id}"): {"name": f"Renamed {tag}"},
        ("POST", "/api/admin/calendars/{calendar_id}/holidays"): {
            "country": "DE",
            "years": [2026],
        },
        ("POST", "/api/admin/tags/{tag_id}/merge"): {
            "into_id": str(world.target(OWN, "tag_target"))
        },
        ("POST", KB): {"title": f"Article {tag}", "body": "Restart the relay."},
        ("PATCH", KB + "/{article_id}"): {"body": f"Restart the relay {tag}."},
        ("POST", HELD + "/{held_id}/ticket"): {"org_id": org},
        ("POST", "/api/admin/mailboxes"): {"address": f"box-{tag}@desk.test", "kind": "lmtp"},
        ("PATCH", "/api/admin/mailboxes/{mailbox_id}"): {"active": False},
        ("POST", "/api/auth/login/mfa"): {"mfa_token": "x" * 43, "code": "123456"},
        ("POST", "/api/auth/ldap/{slug}/login"): {"username": "someone", "password": "whatever-1"},
        ("POST", "/api/auth/sso/link"): {"link_token": "x" * 43, "password": "whatever-1"},
        ("POST", "/api/admin/sso/providers"): {
            "kind": "oidc",
            "slug": f"cov-{tag}",
            "name": f"Coverage {tag}",
            "settings": {"issuer": "https://idp.example.com", "client_id": "atum-desk"},
        },
        ("PATCH", "/api/admin/sso/providers/{provider_id}"): {"name": f"Renamed {tag}"},
        ("PUT", "/api/admin/signin-policy"): {
            "roles": [{"role": "agent", "password_allowed": True, "idp_mfa_required": True}],
            "break_glass_user_id": None,
        },
        ("POST", "/api/users/{user_id}/identities"): {
            "provider_id": str(world.target(OWN, "ldap_idp"))
        },
        ("POST", "/api/auth/invitation/inspect"): {"token": "x" * 43},
        ("POST", "/api/auth/invitation/accept"): {"token": "x" * 43, "password": NEW_PASSWORD},
        ("POST", "/api/auth/password/forgot"): {"email": f"nobody-{tag}@example.test"},
        ("POST", "/api/auth/password/reset"): {"token": "x" * 43, "password": NEW_PASSWORD},
        ("POST", "/api/auth/email/confirm"): {"token": "x" * 43},
        ("PATCH", "/api/me"): {"name": f"Renamed {tag}"},
        ("POST", "/api/me/password"): {"current_password": PASSWORD, "new_password": NEW_PASSWORD},
        ("POST", "/api/me/email"): {
            "current_password": PASSWORD,
            "new_email": f"moved-{tag}@example.test",
        },
        ("POST", "/api/me/mfa/totp"): {"current_password": PASSWORD},
        ("POST", "/api/me/mfa/totp/confirm"): {"code": "123456"},
        ("POST", "/api/me/mfa/webauthn/register/options"): {"current_password": PASSWORD},
        ("POST", "/api/me/mfa/webauthn/register"): {"credential": {}},
        ("POST", "/api/me/mfa/recovery-codes"): {"current_password": PASSWORD},
        ("PUT", "/api/admin/mfa-policy"): {
            "items": [{"role": "agent", "required": True, "grace_hours": 24}]
        },
    }
    if entry.route in bodies:
        return {"json": bodies[entry.route]}
    return {"json": {}} if method == "POST" else {}


async def audit_rows(db: AsyncSession) -> int:
    return int((await db.execute(select(func.count()).select_from(AuditLog))).scalar_one())


async def ticket_states(db: AsyncSession, world: World) -> list[tuple[Any, ...]]:
    ids = [i for (_, name), i in world.objects.items() if name.startswith("ticket_")]
    rows = await db.execute(
        select(Ticket.id, Ticket.status, Ticket.priority, Ticket.updated_at)
        .where(Ticket.id.in_(ids))
        .order_by(Ticket.id)
        .execution_options(populate_existing=True)
    )
    return [tuple(row) for row in rows]


async def forget_upload(db: AsyncSession, response: Response) -> None:
    """Remove the file a successful upload stored (its row goes with the test's rollback)."""
    key = (
        await db.execute(
            select(TicketAttachment.file_path).where(
                TicketAttachment.id == uuid.UUID(response.json()["id"])
            )
        )
    ).scalar_one()
    await file_store().delete(key)


def with_random_ids(
    entry: Entry, world: World, side: str, path: str, kwargs: dict[str, Any]
) -> tuple[str, dict[str, Any]]:
    """The same request with every targeted object replaced by an id that does not exist."""
    for name in entry.targets.values():
        real, fake = str(world.target(side, name)), str(uuid.uuid4())
        path = path.replace(real, fake)
        if "json" in kwargs:
            kwargs = {"json": {k: fake if v == real else v for k, v in kwargs["json"].items()}}
    return path, kwargs


@pytest.mark.parametrize(("entry", "side", "caller", "expected"), list(_cases()))
async def test_route_answers_its_table_entry(
    client: AsyncClient,
    db: AsyncSession,
    stored_file: StoredFile,
    entry: Entry,
    side: str,
    caller: str,
    expected: int,
) -> None:
    world = await build_world(db, caller, stored_file)
    path = concrete_path(entry, world, side)
    kwargs = request_kwargs(entry, world, side)
    audits, tickets = await audit_rows(db), await ticket_states(db, world)

    response = await client.request(entry.method, path, headers=world.headers, **kwargs)

    assert response.status_code == expected, response.text
    if expected >= 400:
        assert await audit_rows(db) == audits, "a refused request was audited as done"
        assert await ticket_states(db, world) == tickets, "a refused request changed a ticket"
    if expected == 404:
        random_path, random_kwargs = with_random_ids(entry, world, side, path, kwargs)
        random = await client.request(
            entry.method, random_path, headers=world.headers, **random_kwargs
        )
        assert (random.status_code, random.json()) == (404, response.json())
    if expected == 201 and entry.path.endswith("/attachments"):
        await forget_upload(db, response)


# --- the table against the application ----------------------------------------------------------


def walk(routes: Sequence[Any], prefix: str = "") -> Iterator[tuple[str, str]]:
    """(method, path) of every route, descending into included routers; mounts as MOUNT."""
    for route in routes:
        included = getattr(route, "original_router", None)
        if included is not None:
            yield from walk(included.routes, prefix + route.include_context.prefix)
        elif isinstance(route, APIRoute | Route):
            for method in route.methods or ():
                if method != "HEAD":
                    yield method, prefix + route.path
        elif isinstance(route, Mount):
            yield "MOUNT", prefix + route.path
        else:
            pytest.fail(f"a route of an unknown kind: {route!r}")


def test_every_route_has_an_entry_and_every_entry_a_route(app: FastAPI) -> None:
    walked = set(walk(app.routes))
    operations = {(m, p) for m, p in walked if m != "MOUNT"}
    assert operations == {entry.route for entry in TABLE}
    mounts = {p for m, p in walked if m == "MOUNT"}
    assert "/api/static/docs" in mounts
    assert mounts <= MOUNTS


def test_the_schema_documents_exactly_the_api_operations(app: FastAPI) -> None:
    documented = {
        (method.upper(), path)
        for path, operations in app.openapi()["paths"].items()
        for method in operations
    }
    hidden = {("GET", "/api/openapi.json"), ("GET", "/api/docs"), ("GET", "/{path:web}")}
    assert documented == {entry.route for entry in TABLE} - hidden


def test_table_has_one_column_per_caller_and_objects_only_where_routes_take_them() -> None:
    assert set(CALLERS) == {ANONYMOUS, *(role.value for role in Role)}
    for entry in TABLE:
        params = {p.split("}")[0] for p in entry.path.split("{")[1:]} - {"path:web"}
        assert params <= set(entry.targets), entry.route
        if entry.other is not None:
            assert entry.targets, entry.route


def _paths() -> dict[str, set[str]]:
    methods: dict[str, set[str]] = {}
    for entry in TABLE:
        methods.setdefault(entry.path, set()).add(entry.method)
    return methods


def _example(path: str) -> str:
    if path == "/{path:web}":
        return "/tickets/new"
    if path == "/api/internal/tickets/{ticket_id}":
        return path.format(ticket_id=uuid.uuid4())
    params = {p.split("}")[0]: uuid.uuid4() for p in path.split("{")[1:]}
    return path.format(**params)


@pytest.mark.parametrize(("path", "declared"), sorted(_paths().items()))
async def test_undeclared_methods_are_405_naming_the_declared_ones(
    client: AsyncClient, path: str, declared: set[str]
) -> None:
    concrete = _example(path)
    for method in sorted(set(HTTP_METHODS) - declared):
        if (method, path) in OVERLAPPING:
            continue
        response = await client.request(method, concrete, json={})
        assert response.status_code == 405, (method, path, response.status_code)
        allowed = {m.strip() for m in response.headers["allow"].split(",")} - {"HEAD"}
        overlapping = {m for m, p in OVERLAPPING if p == path}
        assert allowed == declared | overlapping, (method, path, response.headers["allow"])
        assert response.json()["code"] == "method_not_allowed"


async def test_an_overlapping_literal_path_is_a_malformed_id_not_a_hidden_route(
    client: AsyncClient, db: AsyncSession
) -> None:
    headers = await token_for(db, await make_user(db, role=Role.MANAGER))
    response = await client.patch(
        "/api/internal/tickets/new", json={"priority": "P1"}, headers=headers
    )
    assert response.status_code == 422
    assert ["path", "ticket_id"] in [e["loc"] for e in response.json()["detail"]]


async def test_mounted_files_are_public_and_never_listed(client: AsyncClient, app: FastAPI) -> None:
    bundle = await client.get("/api/static/docs/swagger-ui-bundle.js")
    assert bundle.status_code == 200
    for method, mount in walk(app.routes):
        if method == "MOUNT":
            assert (await client.get(mount + "/")).status_code == 404, mount
            assert (await client.post(mount + "/x.js")).status_code == 405, mount
