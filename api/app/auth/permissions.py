"""The permission table: which role may perform which action. The only place roles are mapped to
rights; routers declare the action they need, services check again where the rule depends on data.
"""

from __future__ import annotations

from enum import StrEnum

from app.models.enums import Role


class Action(StrEnum):
    ORG_READ = "org.read"
    ORG_WRITE = "org.write"
    USER_READ = "user.read"
    USER_WRITE = "user.write"
    SLA_READ = "sla.read"
    SLA_WRITE = "sla.write"
    SERVICE_READ = "service.read"
    SERVICE_WRITE = "service.write"
    TEAM_READ = "team.read"
    TEAM_WRITE = "team.write"
    AUDIT_READ = "audit.read"
    # The customer portal's ticket endpoints (organization-scoped views).
    PORTAL_TICKETS = "portal.tickets"
    # The internal desk: read every ticket, comment, assign, change status.
    DESK_TICKETS = "desk.tickets"
    TICKET_ACCEPT = "ticket.accept"
    NOTIFICATION_ADMIN = "notification.admin"
    # Advisory AI triage suggestions on a ticket (summary, category/priority, similar, KB).
    AI_SUGGESTIONS = "ai.suggestions"
    # Knowledge-base articles: every staff member reads and writes them, managers and admins
    # delete them; customers find the public ones from the portal (deflection).
    KB_READ = "kb.read"
    KB_WRITE = "kb.write"
    KB_DELETE = "kb.delete"
    KB_PORTAL = "kb.portal"
    # The e-mail channel: held mail (managers decide), mailboxes and bounces (admins), the
    # original .eml of a mail on a ticket (staff).
    MAIL_HELD = "mail.held"
    MAIL_ADMIN = "mail.admin"
    # Accounts: remove a user's second factors (admins), the two-factor policy (admins).
    USER_MFA_RESET = "user.mfa_reset"
    SECURITY_ADMIN = "security.admin"
    # Ticket tags: staff read them (suggestions) and set them on tickets (through the desk's
    # PATCH); admins rename and merge them.
    TAG_READ = "tag.read"
    TAG_ADMIN = "tag.admin"
    # The agent's workspace: every staff member uses canned replies and macros, keeps personal
    # ones and team ones of the teams they belong to, and applies actions to many tickets at once
    # (each ticket's action checked as itself); managers and admins share them with everyone and
    # edit or delete the team and shared ones of others.
    CANNED_REPLIES = "canned_reply.use"
    MACROS = "macro.use"
    TICKETS_BULK = "ticket.bulk"
    WORKSPACE_SHARE = "workspace.share"
    # Merging a duplicate into another ticket closes it: managers and admins (like closing).
    # Linking related tickets is part of DESK_TICKETS.
    TICKET_MERGE = "ticket.merge"
    # Saved views: every staff member keeps personal ones and their teams' ones; managers and
    # admins also edit and delete any team's views.
    TEAM_VIEWS_MANAGE = "view.team_manage"
    # Reports (durations, SLA compliance, CSAT, breakdowns per agent and CSV exports): managers
    # and admins. The dashboard's counts are part of DESK_TICKETS.
    REPORTS_READ = "reports.read"
    # Business-hours calendars of the SLA clocks: managers read them (reports, deadlines), admins
    # write them and import holidays.
    CALENDAR_READ = "calendar.read"
    CALENDAR_WRITE = "calendar.write"


_STAFF = {Role.AGENT, Role.MANAGER, Role.ADMIN}
_EVERYONE = set(Role)

PERMISSIONS: dict[Action, frozenset[Role]] = {
    Action.ORG_READ: frozenset(_STAFF),
    Action.ORG_WRITE: frozenset({Role.ADMIN}),
    # customer_admin: its own organization's users only (scoped by services/visibility.py).
    Action.USER_READ: frozenset(_STAFF | {Role.CUSTOMER_ADMIN}),
    Action.USER_WRITE: frozenset({Role.ADMIN, Role.CUSTOMER_ADMIN}),
    Action.SLA_READ: frozenset(_STAFF),
    Action.SLA_WRITE: frozenset({Role.ADMIN}),
    Action.SERVICE_READ: frozenset(_EVERYONE),
    Action.SERVICE_WRITE: frozenset({Role.ADMIN}),
    Action.TEAM_READ: frozenset(_STAFF),
    Action.TEAM_WRITE: frozenset({Role.ADMIN}),
    Action.AUDIT_READ: frozenset({Role.MANAGER, Role.ADMIN}),
    Action.PORTAL_TICKETS: frozenset({Role.CUSTOMER_USER, Role.CUSTOMER_ADMIN}),
    Action.DESK_TICKETS: frozenset(_STAFF),
    Action.TICKET_ACCEPT: frozenset({Role.MANAGER, Role.ADMIN}),
    Action.NOTIFICATION_ADMIN: frozenset({Role.ADMIN}),
    Action.AI_SUGGESTIONS: frozenset(_STAFF),
    Action.KB_READ: frozenset(_STAFF),
    Action.KB_WRITE: frozenset(_STAFF),
    Action.KB_DELETE: frozenset({Role.MANAGER, Role.ADMIN}),
    Action.KB_PORTAL: frozenset({Role.CUSTOMER_USER, Role.CUSTOMER_ADMIN}),
    Action.MAIL_HELD: frozenset({Role.MANAGER, Role.ADMIN}),
    Action.MAIL_ADMIN: frozenset({Role.ADMIN}),
    Action.USER_MFA_RESET: frozenset({Role.ADMIN}),
    Action.SECURITY_ADMIN: frozenset({Role.ADMIN}),
    Action.TAG_READ: frozenset(_STAFF),
    Action.TAG_ADMIN: frozenset({Role.ADMIN}),
    Action.CANNED_REPLIES: frozenset(_STAFF),
    Action.MACROS: frozenset(_STAFF),
    Action.TICKETS_BULK: frozenset(_STAFF),
    Action.WORKSPACE_SHARE: frozenset({Role.MANAGER, Role.ADMIN}),
    Action.TICKET_MERGE: frozenset({Role.MANAGER, Role.ADMIN}),
    Action.TEAM_VIEWS_MANAGE: frozenset({Role.MANAGER, Role.ADMIN}),
    Action.REPORTS_READ: frozenset({Role.MANAGER, Role.ADMIN}),
    Action.CALENDAR_READ: frozenset({Role.MANAGER, Role.ADMIN}),
    Action.CALENDAR_WRITE: frozenset({Role.ADMIN}),
}

# Roles a customer_admin may hand out (never a staff role).
CUSTOMER_ADMIN_GRANTABLE = frozenset({Role.CUSTOMER_USER, Role.CUSTOMER_ADMIN})


def allowed(role: Role, action: Action) -> bool:
    return role in PERMISSIONS[action]
