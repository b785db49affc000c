"""Customer satisfaction (docs/RUNBOOK.md "Customer satisfaction").

When a ticket is resolved, the mail telling the customer (and the colleagues copied on it) asks
"How did we do?" with three links to ``/csat/<token>?rating=…`` (services/csat_tokens.py: signed,
one ticket, one resolution, one customer, 14 days). A link only opens a page with the choice made:
reading (``GET /api/csat/{token}``) records nothing, so a mail scanner that opens every link changes
nothing; only the page's submit (``POST``) records the rating, and it can be changed until the link
expires. A signed-in customer who sees the ticket rates it on its portal page instead.

One rating per ticket: the latest one, for the resolution it rates. A reopened ticket's links die;
its next resolution mails new ones, whose rating replaces the earlier one (the audit trail keeps
every ``csat.submitted``). A "bad" rating mails the ticket's manager (who accepted it, else every
manager). Customers only ever see their own rating.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.deps import USABLE_ACCOUNT, CurrentUser
from app.db.session import KeepChanges
from app.errors import Conflict, NotFound, RateLimited
from app.models import Organization, Ticket, TicketCsat, User
from app.models.enums import Role
from app.services import audit, csat_tokens, notifications, ratelimit
from app.services.csat_tokens import LIFETIME, RATEABLE
from app.services.visibility import visible_tickets

# Submissions through a link, per client address and hour (the rate limit of the public POST).
POSTS_PER_IP_PER_HOUR = 60
_HOUR = 3600


class LinkNotFound(KeepChanges, NotFound):
    """A bad, tampered, expired or superseded link: one answer for all (the rate limit's count of
    the attempt is kept)."""

    default_detail = "This rating link is invalid or has expired"


@dataclass(frozen=True, slots=True)
class Rating:
    rating: str
    comment: str | None


@dataclass(frozen=True, slots=True)
class Linked:
    ticket: Ticket
    customer: CurrentUser
    token: csat_tokens.CsatToken


def rateable(ticket: Any, now: datetime) -> bool:
    """Whether the ticket's current resolution can be rated now."""
    return (
        ticket.status in RATEABLE
        and ticket.resolved_at is not None
        and now < ticket.resolved_at + LIFETIME
    )


async def _customer(session: AsyncSession, user_id: uuid.UUID) -> CurrentUser | None:
    row = (
        await session.execute(
            select(User, Organization)
            .join(Organization, Organization.id == User.org_id)
            .where(User.id == user_id, USABLE_ACCOUNT)
        )
    ).one_or_none()
    if row is None:
        return None
    user, org = row
    role = Role(user.role)
    if role.is_staff:
        return None
    return CurrentUser(
        id=user.id,
        email=user.email,
        name=user.name,
        role=role,
        org_id=user.org_id,
        org_name=org.name,
        session_id=uuid.UUID(int=0),
        language=user.language,
        portal_visibility=org.portal_visibility,
    )


async def _linked(session: AsyncSession, token: str, now: datetime, *, lock: bool) -> Linked:
    """The ticket and customer of a live link, else ``LinkNotFound``: the tag must be right, the
    link unexpired, the ticket still at the resolution it names and visible to the customer (an
    active account of an active organization)."""
    found = csat_tokens.verify(token)
    if found is None or now >= found.expires_at:
        raise LinkNotFound()
    customer = await _customer(session, found.user_id)
    if customer is None:
        raise LinkNotFound()
    stmt = visible_tickets(customer).where(Ticket.id == found.ticket_id)
    if lock:
        stmt = stmt.with_for_update(of=Ticket)
    ticket = (await session.execute(stmt)).scalar_one_or_none()
    if ticket is None or ticket.resolved_at != found.resolved_at or not rateable(ticket, now):
        raise LinkNotFound()
    return Linked(ticket, customer, found)


async def _current(session: AsyncSession, ticket_id: uuid.UUID) -> TicketCsat | None:
    return (
        await session.execute(select(TicketCsat).where(TicketCsat.ticket_id == ticket_id))
    ).scalar_one_or_none()


def _own(row: TicketCsat | None, user_id: uuid.UUID, resolved_at: datetime) -> TicketCsat | None:
    """The rating if *user_id* gave it for this resolution (customers see only their own)."""
    if row is None or row.rated_by != user_id or row.resolved_at != resolved_at:
        return None
    return row


async def inspect(session: AsyncSession, token: str, now: datetime) -> dict[str, Any]:
    """What the public page shows: reads only (a scanner opening the link records nothing)."""
    linked = await _linked(session, token, now, lock=False)
    current = await _current(session, linked.ticket.id)
    own = _own(current, linked.customer.id, linked.token.resolved_at)
    return {
        "ticket_number": linked.ticket.number,
        "title": linked.ticket.title,
        "rating": own.rating if own else None,
        "comment": own.comment if own else None,
        "expires_at": linked.token.expires_at,
    }


async def submit_by_link(
    session: AsyncSession, token: str, rating: Rating, ip: str | None, now: datetime
) -> None:
    """The public page's submit. Limited per client address (every attempt counts)."""
    key = f"csat:ip:{ip or 'unknown'}"
    hits, _ = await ratelimit.hit(session, key, _HOUR)
    if hits > POSTS_PER_IP_PER_HOUR:
        usage = await ratelimit.peek(session, [key], _HOUR)
        raise RateLimited(usage[key].retry_after if key in usage else _HOUR)
    linked = await _linked(session, token, now, lock=True)
    await _record(session, linked.ticket, linked.customer, rating, now, via="link")


async def submit_signed_in(
    session: AsyncSession, actor: CurrentUser, ticket_id: uuid.UUID, rating: Rating, now: datetime
) -> None:
    """A signed-in customer rates a ticket they see (404 otherwise) on its portal page."""
    ticket = (
        await session.execute(
            visible_tickets(actor).where(Ticket.id == ticket_id).with_for_update(of=Ticket)
        )
    ).scalar_one_or_none()
    if ticket is None:
        raise NotFound("Ticket not found")
    if not rateable(ticket, now):
        raise Conflict("Only a resolved ticket can be rated, within 14 days of its resolution")
    await _record(session, ticket, actor, rating, now, via="portal")


async def _record(
    session: AsyncSession,
    ticket: Ticket,
    customer: CurrentUser,
    rating: Rating,
    now: datetime,
    *,
    via: str,
) -> None:
    """Write the ticket's rating (insert, or replace the earlier one), audit it, and mail the
    manager when it turned "bad" (not again for a comment changed on a bad rating)."""
    assert ticket.resolved_at is not None
    row = await _current(session, ticket.id)
    old: dict[str, Any] | None = None
    was_bad = False
    if row is None:
        row = TicketCsat(ticket_id=ticket.id, org_id=ticket.org_id, submitted_at=now)
        session.add(row)
    else:
        old = {"rating": row.rating, "comment": row.comment, "resolved_at": row.resolved_at}
        if row.resolved_at == ticket.resolved_at:
            was_bad = row.rating == "bad"
        else:  # a rating of an earlier resolution: this one replaces it
            row.submitted_at = now
    row.rating = rating.rating
    row.comment = rating.comment
    row.rated_by = customer.id
    row.resolved_at = ticket.resolved_at
    row.updated_at = now
    await session.flush()
    await audit.record(
        session,
        actor=customer.id,
        action="csat.submitted",
        entity_type="csat",
        entity_id=ticket.id,
        org_id=ticket.org_id,
        ticket_id=ticket.id,
        old_value=old,
        new_value={
            "rating": rating.rating,
            "comment": rating.comment,
            "resolved_at": ticket.resolved_at,
            "via": via,
        },
    )
    if rating.rating == "bad" and not was_bad:
        await notifications.send(
            session, notifications.csat_bad(ticket, customer.id, rating.comment)
        )


# ---------------------------------------------------------------- the ticket views' part


def staff_view(values: Any, ticket_resolved_at: datetime | None) -> dict[str, Any] | None:
    """The staff detail's ``csat`` from the row the detail statement read (or None)."""
    if values is None:
        return None
    rating, comment, submitted_at, updated_at, rated_by, rater_name, resolved_at = values
    return {
        "rating": rating,
        "comment": comment,
        "submitted_at": submitted_at,
        "updated_at": updated_at,
        "rated_by": {"id": rated_by, "name": rater_name} if rated_by and rater_name else None,
        "resolved_at": resolved_at,
        "current": resolved_at == ticket_resolved_at,
    }


def customer_view(
    values: Any, ticket: Any, actor: CurrentUser, now: datetime
) -> dict[str, Any] | None:
    """The portal detail's ``csat``: the viewer's own rating of the current resolution, whether
    they may rate (change) it now and until when; None when there is nothing to show."""
    own = None
    if values is not None:
        rating, comment, submitted_at, _, rated_by, _, resolved_at = values
        if rated_by == actor.id and resolved_at == ticket.resolved_at:
            own = {"rating": rating, "comment": comment, "submitted_at": submitted_at}
    can_rate = rateable(ticket, now)
    if not can_rate and own is None:
        return None
    return {
        "rating": own["rating"] if own else None,
        "comment": own["comment"] if own else None,
        "submitted_at": own["submitted_at"] if own else None,
        "expires_at": ticket.resolved_at + LIFETIME,
        "can_rate": can_rate,
    }
