"""Merging a duplicate into another ticket, and links between related tickets.

A merge moves the duplicate's comments and attachments (authors and timestamps untouched) to the
target, keeps its description there as an internal note, closes it through the workflow's merge
rule (``workflow.merge_close``) with ``merged_into`` set, audits ``ticket.merged`` on both and
tells the customer. Both tickets belong to one organization: comments and attachments reference
(ticket_id, org_id), so they can only move within it.

Links are staff-only data: stored once per pair (smaller id first), shown on both tickets, allowed
across organizations; no customer view has a field for them.
"""

from __future__ import annotations

import dataclasses
import uuid
from datetime import datetime

from sqlalchemy import delete, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.deps import CurrentUser
from app.auth.permissions import Action, allowed
from app.errors import Conflict, Forbidden, NotFound
from app.models import Organization, Ticket, TicketAttachment, TicketComment, TicketLink, User
from app.models.enums import Role
from app.models.enums import TicketStatus as S
from app.services import audit, notifications, sla_sweep, tickets, workflow
from app.services.visibility import visible_tickets


class MergeCrossOrg(Conflict):
    code = "merge_cross_org"
    default_detail = "Tickets of different organizations cannot be merged"


class MergeRefused(Conflict):
    code = "merge_refused"
    default_detail = "These tickets cannot be merged"


class LinkRefused(Conflict):
    code = "link_refused"
    default_detail = "A ticket cannot be linked to itself"


async def _customer_sees(session: AsyncSession, user_id: uuid.UUID, ticket_id: uuid.UUID) -> bool:
    """Whether the user *user_id* (a source ticket's creator) may see ticket *ticket_id* in the
    portal: asked of the visibility rules themselves, as that user."""
    found = (
        await session.execute(
            select(User, Organization.name, Organization.portal_visibility)
            .outerjoin(Organization, Organization.id == User.org_id)
            .where(User.id == user_id, User.is_active.is_(True))
        )
    ).one_or_none()
    if found is None:
        return False
    user, org_name, portal_visibility = found
    as_user = CurrentUser(
        id=user.id,
        email=user.email,
        name=user.name,
        role=Role(user.role),
        org_id=user.org_id,
        org_name=org_name,
        session_id=uuid.UUID(int=0),
        portal_visibility=portal_visibility or "organization",
    )
    stmt = visible_tickets(as_user).with_only_columns(Ticket.id).where(Ticket.id == ticket_id)
    return (await session.execute(stmt)).first() is not None


async def merge(
    session: AsyncSession,
    actor: CurrentUser,
    ticket_id: uuid.UUID,
    into_id: uuid.UUID,
    now: datetime,
) -> Ticket:
    """Merge ticket *ticket_id* into *into_id*; returns the target."""
    if not allowed(actor.role, Action.TICKET_MERGE):
        raise Forbidden("You may not merge tickets")
    if ticket_id == into_id:
        raise MergeRefused("A ticket cannot be merged into itself")
    # Both rows locked, always in the same order (two opposite merges cannot deadlock).
    locked = {t: await tickets.lock(session, actor, t) for t in sorted([ticket_id, into_id])}
    source, target = locked[ticket_id], locked[into_id]
    if source.org_id != target.org_id:
        raise MergeCrossOrg()
    if target.merged_into is not None or S(target.status) in workflow.FINAL:
        raise MergeRefused(f"Ticket #{target.number} is {target.status}: merge into an open one")
    if source.merged_into is not None or S(source.status) not in workflow.MERGEABLE:
        raise MergeRefused(f"Ticket #{source.number} is {source.status} and cannot be merged")

    moved_comments = (
        await session.execute(
            update(TicketComment)
            .where(TicketComment.ticket_id == source.id)
            .values(ticket_id=target.id)
            .returning(TicketComment.id)
            .execution_options(synchronize_session=False)
        )
    ).all()
    moved_files = (
        await session.execute(
            update(TicketAttachment)
            .where(TicketAttachment.ticket_id == source.id)
            .values(ticket_id=target.id)
            .returning(TicketAttachment.id)
            .execution_options(synchronize_session=False)
        )
    ).all()

    # The duplicate's own words stay with the target, for the staff working it.
    await tickets.add_comment(
        session,
        actor,
        target.id,
        body=f"Merged from #{source.number} “{source.title}”:\n\n{source.description}",
        is_internal=True,
        now=now,
    )

    change = workflow.merge_close(
        source,
        now,
        into_number=target.number,
        terms=await sla_sweep.terms_of(session, source) if source.accepted_at else None,
    )
    source.merged_into = target.id
    target.updated_at = now
    await session.flush()
    await audit.write(
        session,
        audit.entry(
            actor=actor,
            action="ticket.status_changed",
            entity_type="ticket",
            entity_id=source.id,
            org_id=source.org_id,
            ticket_id=source.id,
            old_value={"status": change.old.value},
            new_value={"status": change.new.value, "merged_into": target.id},
        ),
        audit.entry(
            actor=actor,
            action="ticket.merged",
            entity_type="ticket",
            entity_id=source.id,
            org_id=source.org_id,
            ticket_id=source.id,
            new_value={"into_id": target.id, "into_number": target.number},
        ),
        audit.entry(
            actor=actor,
            action="ticket.merged",
            entity_type="ticket",
            entity_id=target.id,
            org_id=target.org_id,
            ticket_id=target.id,
            new_value={
                "from_id": source.id,
                "from_number": source.number,
                "comments_moved": len(moved_comments),
                "attachments_moved": len(moved_files),
            },
        ),
    )

    # The customer is told on the ticket that carries on, when they can see it and the target
    # has passed the acceptance gate (before it, staff say nothing to the customer).
    sees_target = await _customer_sees(session, source.created_by, target.id)
    told_on_target = sees_target and workflow.can_comment(target, actor, internal=False)
    if told_on_target:
        await tickets.add_comment(
            session,
            actor,
            target.id,
            body=(
                f"Ticket #{source.number} “{source.title}” was a duplicate of this one and was "
                "merged into it; we carry on here."
            ),
            is_internal=False,
            now=now,
        )
    lines = [f"Your ticket was merged into ticket #{target.number}, where we carry on."]
    if not sees_target:
        lines = ["Your ticket was closed as a duplicate of another request; we carry on there."]
    # The usual "closed" mails (the customer's, the assignee's), the customer's in other words.
    mails = notifications.status(source, actor.id, S.CLOSED)
    mails[0] = dataclasses.replace(
        mails[0],
        subject=f"merged into #{target.number}" if sees_target else "closed as a duplicate",
        lines=tuple(lines),
        quote=None,
        after=(),
    )
    await notifications.send(session, mails)
    return target


async def _visible(session: AsyncSession, actor: CurrentUser, ticket_id: uuid.UUID) -> Ticket:
    found = (
        await session.execute(visible_tickets(actor).where(Ticket.id == ticket_id))
    ).scalar_one_or_none()
    if found is None:
        raise NotFound("Ticket not found")
    return found


async def link(
    session: AsyncSession, actor: CurrentUser, ticket_id: uuid.UUID, other_id: uuid.UUID
) -> None:
    """Link two related tickets (idempotent: an existing link is left as it is)."""
    if ticket_id == other_id:
        raise LinkRefused()
    one, other = await _visible(session, actor, ticket_id), await _visible(session, actor, other_id)
    a, b = sorted([one.id, other.id])
    created = (
        await session.execute(
            insert(TicketLink)
            .values(ticket_a=a, ticket_b=b, created_by=actor.id)
            .on_conflict_do_nothing()
            .returning(TicketLink.ticket_a)
        )
    ).first()
    if created is not None:
        await audit.write(session, *_link_entries(actor, "ticket.linked", one, other))


async def unlink(
    session: AsyncSession, actor: CurrentUser, ticket_id: uuid.UUID, other_id: uuid.UUID
) -> None:
    one, other = await _visible(session, actor, ticket_id), await _visible(session, actor, other_id)
    a, b = sorted([one.id, other.id])
    gone = (
        await session.execute(
            delete(TicketLink)
            .where(TicketLink.ticket_a == a, TicketLink.ticket_b == b)
            .returning(TicketLink.ticket_a)
        )
    ).first()
    if gone is None:
        raise NotFound("These tickets are not linked")
    await audit.write(session, *_link_entries(actor, "ticket.unlinked", one, other))


def _link_entries(
    actor: CurrentUser, action: str, one: Ticket, other: Ticket
) -> list[dict[str, object]]:
    """One entry on each ticket's trail, naming the other."""
    return [
        audit.entry(
            actor=actor,
            action=action,
            entity_type="ticket",
            entity_id=t.id,
            org_id=t.org_id,
            ticket_id=t.id,
            new_value={"other_id": o.id, "other_number": o.number},
        )
        for t, o in ((one, other), (other, one))
    ]
