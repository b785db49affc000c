"""Who may see what: the one place tenant scoping is written.

Every read and write path starts from one of these statements. Customers see their own
organization; staff see everything their permissions allow. An object outside the returned
statement does not exist for the caller (404, never 403).
"""

from __future__ import annotations

from sqlalchemy import Select, false, or_, select

from app.auth.deps import CurrentUser
from app.models import (
    KbArticle,
    Organization,
    Service,
    SlaPolicy,
    Tag,
    Team,
    Ticket,
    TicketAttachment,
    TicketComment,
    User,
)
from app.models.enums import Role


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


def visible_tickets(actor: CurrentUser) -> Select[Ticket]:
    stmt = select(Ticket)
    if actor.is_staff:
        return stmt
    return stmt.where(Ticket.org_id == actor.org_id)


def visible_comments(actor: CurrentUser) -> Select[TicketComment]:
    """Comments on visible tickets; customers never see internal notes."""
    stmt = select(TicketComment)
    if actor.is_staff:
        return stmt
    return stmt.where(TicketComment.org_id == actor.org_id, TicketComment.is_internal.is_(False))


def visible_attachments(actor: CurrentUser) -> Select[TicketAttachment]:
    """Attachments of visible tickets; customers never see internal ones."""
    stmt = select(TicketAttachment)
    if actor.is_staff:
        return stmt
    return stmt.where(
        TicketAttachment.org_id == actor.org_id, TicketAttachment.is_internal.is_(False)
    )


def visible_kb_articles(actor: CurrentUser) -> Select[KbArticle]:
    """Staff see every knowledge-base article; customers (of any organization) the public ones."""
    stmt = select(KbArticle)
    return stmt if actor.is_staff else stmt.where(KbArticle.visibility == "public")
