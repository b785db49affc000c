"""Who may see what: the one place tenant scoping is written.

Every read and write path starts from one of these statements. Customers see their own
organization; staff see everything their permissions allow. An object outside the returned
statement does not exist for the caller (404, never 403).

Tickets of a customer organization: its customer_admin sees all of them. A customer_user sees all
of them when the organization's portal visibility is "organization" (the default), and in "own"
only the tickets they opened or are copied on (``ticket_ccs``); the comments and attachments
follow their ticket. Everything that reaches tickets for a customer (portal list and detail,
comments, files, mail replies, notifications) goes through these statements.
"""

from __future__ import annotations

import uuid
from functools import lru_cache
from typing import Any

from sqlalchemy import ColumnElement, Select, String, and_, bindparam, false, or_, select
from sqlalchemy.dialects.postgresql import UUID as PgUUID
from sqlalchemy.orm import aliased

from app.auth.deps import CurrentUser
from app.auth.permissions import Action, allowed
from app.models import (
    CannedReply,
    KbArticle,
    Macro,
    Organization,
    SavedView,
    Service,
    SlaPolicy,
    Tag,
    Team,
    TeamMember,
    Ticket,
    TicketAttachment,
    TicketCc,
    TicketComment,
    User,
)
from app.models.enums import Role

# The tickets a customer_user opened, read under another name so that the subquery never
# correlates with a ``tickets`` of the statement around it.
_Opened = aliased(Ticket)


# Statements built once per role and kept (building and hashing a SQLAlchemy statement costs
# more than PostgreSQL needs to run a one-row read) apply these rules to a stand-in for every
# caller of the role: its id, organization and portal visibility are bound parameters, and each
# execution binds the caller's own (``actor_values``).
_ACTOR_ID = bindparam("actor_id", type_=PgUUID(as_uuid=True))
_ACTOR_ORG = bindparam("actor_org_id", type_=PgUUID(as_uuid=True))
_ACTOR_PORTAL_VISIBILITY = bindparam("actor_portal_visibility", type_=String)


@lru_cache(maxsize=16)
def stand_in(role: Role) -> CurrentUser:
    """Every caller of *role*, for a statement built once (see ``actor_values``)."""
    unbound: Any = (_ACTOR_ID, _ACTOR_ORG, _ACTOR_PORTAL_VISIBILITY)
    return CurrentUser(
        id=unbound[0],
        email="",
        name="",
        role=role,
        org_id=unbound[1],
        org_name=None,
        session_id=uuid.UUID(int=0),
        portal_visibility=unbound[2],
    )


def actor_values(actor: CurrentUser, **values: Any) -> dict[str, Any]:
    """The parameters that make a ``stand_in`` statement *actor*'s, with *values*."""
    return {
        "actor_id": actor.id,
        "actor_org_id": actor.org_id,
        "actor_portal_visibility": actor.portal_visibility,
        **values,
    }


def visible_orgs(actor: CurrentUser) -> Select[Organization]:
    stmt = select(Organization)
    if actor.is_staff:
        return stmt
    return stmt.where(Organization.id == actor.org_id)


def visible_users(actor: CurrentUser) -> Select[User]:
    stmt = select(User)
    if actor.is_staff:
        return stmt
    if actor.role is Role.CUSTOMER_ADMIN:
        return stmt.where(User.org_id == actor.org_id)
    return stmt.where(User.id == actor.id)


def visible_services(actor: CurrentUser) -> Select[Service]:
    stmt = select(Service)
    if actor.is_staff:
        return stmt
    return stmt.where(
        or_(Service.org_id.is_(None), Service.org_id == actor.org_id), Service.is_active.is_(True)
    )


def visible_sla_policies(actor: CurrentUser) -> Select[SlaPolicy]:
    stmt = select(SlaPolicy)
    return stmt if actor.is_staff else stmt.where(false())


def visible_teams(actor: CurrentUser) -> Select[Team]:
    stmt = select(Team)
    return stmt if actor.is_staff else stmt.where(false())


def visible_tags(actor: CurrentUser) -> Select[Tag]:
    """Tags are the desk's own labels: staff see every one, customers none (no customer view has
    a field for them either)."""
    stmt = select(Tag)
    return stmt if actor.is_staff else stmt.where(false())


def sees_whole_organization(actor: CurrentUser) -> bool | ColumnElement[bool]:
    """Whether a customer sees every ticket of their organization. ``portal_visibility`` is a
    string, or a bound parameter in the statements services/tickets.py builds once per role (then
    the answer is a SQL condition, decided by the value bound at execution)."""
    if actor.is_staff or actor.role is Role.CUSTOMER_ADMIN:
        return True
    visibility: Any = actor.portal_visibility
    whole: bool | ColumnElement[bool] = visibility == "organization"
    return whole


def _copied_on(actor: CurrentUser) -> Select[Any]:
    """The ids of the tickets *actor* is copied on (index: ix_ticket_ccs_user)."""
    return select(TicketCc.ticket_id).where(
        TicketCc.user_id == actor.id, TicketCc.org_id == actor.org_id
    )


def _ticket_narrowed(actor: CurrentUser, ticket_id: Any) -> ColumnElement[bool] | None:
    """The condition a customer_user in an "own" organization adds on a ticket id column (None:
    nothing to add)."""
    whole = sees_whole_organization(actor)
    if whole is True:
        return None
    opened = select(_Opened.id).where(
        _Opened.org_id == actor.org_id, _Opened.created_by == actor.id
    )
    mine = or_(ticket_id.in_(opened), ticket_id.in_(_copied_on(actor)))
    return mine if whole is False else or_(whole, mine)


def opened_or_copied(actor: CurrentUser) -> ColumnElement[bool]:
    """The tickets *actor* opened or is copied on (the portal's "Opened by me")."""
    return or_(Ticket.created_by == actor.id, Ticket.id.in_(_copied_on(actor)))


def visible_tickets(actor: CurrentUser) -> Select[Ticket]:
    stmt = select(Ticket)
    if actor.is_staff:
        return stmt
    stmt = stmt.where(Ticket.org_id == actor.org_id)
    whole = sees_whole_organization(actor)
    if whole is True:
        return stmt
    mine = opened_or_copied(actor)
    return stmt.where(mine if whole is False else or_(whole, mine))


def visible_comments(actor: CurrentUser) -> Select[TicketComment]:
    """Comments on visible tickets; customers never see internal notes."""
    stmt = select(TicketComment)
    if actor.is_staff:
        return stmt
    stmt = stmt.where(TicketComment.org_id == actor.org_id, TicketComment.is_internal.is_(False))
    narrowed = _ticket_narrowed(actor, TicketComment.ticket_id)
    return stmt if narrowed is None else stmt.where(narrowed)


def visible_attachments(actor: CurrentUser) -> Select[TicketAttachment]:
    """Attachments of visible tickets; customers never see internal ones."""
    stmt = select(TicketAttachment)
    if actor.is_staff:
        return stmt
    stmt = stmt.where(
        TicketAttachment.org_id == actor.org_id, TicketAttachment.is_internal.is_(False)
    )
    narrowed = _ticket_narrowed(actor, TicketAttachment.ticket_id)
    return stmt if narrowed is None else stmt.where(narrowed)


def visible_kb_articles(actor: CurrentUser) -> Select[KbArticle]:
    """Staff see every knowledge-base article; customers (of any organization) the public ones."""
    stmt = select(KbArticle)
    return stmt if actor.is_staff else stmt.where(KbArticle.visibility == "public")


def visible_saved_views(actor: CurrentUser) -> Select[SavedView]:
    """Saved views: the built-in shared ones, the caller's personal ones and their teams' ones
    (a team view exists only for the team's members)."""
    stmt = select(SavedView)
    if not actor.is_staff:
        return stmt.where(false())
    teams = select(TeamMember.team_id).where(TeamMember.user_id == actor.id)
    return stmt.where(
        or_(
            SavedView.scope == "shared",
            and_(SavedView.scope == "personal", SavedView.owner_id == actor.id),
            and_(SavedView.scope == "team", SavedView.team_id.in_(teams)),
        )
    )


def _workspace_scoped(model: Any, actor: CurrentUser) -> Any:
    """Canned replies and macros: the caller's personal ones, the shared ones, and the team ones
    of the caller's teams (managers and admins, who edit any team's, see every team's)."""
    stmt = select(model)
    if not actor.is_staff:
        return stmt.where(false())
    team_scoped = model.scope == "team"
    if not allowed(actor.role, Action.WORKSPACE_SHARE):
        teams = select(TeamMember.team_id).where(TeamMember.user_id == actor.id)
        team_scoped = and_(team_scoped, or_(model.team_id.in_(teams), model.owner_id == actor.id))
    return stmt.where(
        or_(
            model.scope == "shared",
            and_(model.scope == "personal", model.owner_id == actor.id),
            team_scoped,
        )
    )


def visible_canned_replies(actor: CurrentUser) -> Select[CannedReply]:
    stmt: Select[CannedReply] = _workspace_scoped(CannedReply, actor)
    return stmt


def visible_macros(actor: CurrentUser) -> Select[Macro]:
    stmt: Select[Macro] = _workspace_scoped(Macro, actor)
    return stmt


def sees_live_event(actor: CurrentUser, *, org_id: object, staff_only: bool) -> bool:
    """Whether a live-update event (GET /api/events: a ticket's id and the kind of change) goes to
    *actor*'s stream. The same rule as ``visible_tickets``/``visible_comments``, in memory: staff
    receive every event; a customer those of their organization's tickets, never a staff-only
    one (an internal note, tags, mail handling). The event names a ticket only; what changed is
    fetched through the endpoints above."""
    if actor.is_staff:
        return True
    return not staff_only and org_id is not None and org_id == actor.org_id


def sees_presence(actor: CurrentUser) -> bool:
    """Who is viewing or replying to a ticket (presence) is the desk's own: staff only."""
    return actor.is_staff


def live_event_needs_ticket_check(actor: CurrentUser) -> bool:
    """A customer_user of an organization whose portal shows its people their own tickets only:
    an event that passed ``sees_live_event`` reaches them only if its ticket is in
    ``visible_tickets(actor)`` (the live hub asks, one indexed statement per such event)."""
    return not actor.is_staff and sees_whole_organization(actor) is not True
