"""Colleagues copied on a ticket (CC).

A ticket's CC list holds active customer users of the ticket's organization. They see the
ticket in the portal even when the organization's portal visibility is "own"
(services/visibility.py) and receive the mails the requester receives
(services/notifications.py ``copy_ccs``). Customers who see the ticket and staff set the whole
list at once; every change is audited as ``ticket.cc_changed``.
"""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import delete, func, insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.deps import CurrentUser
from app.errors import Invalid, NotFound
from app.models import Ticket, TicketCc, User
from app.models.enums import CUSTOMER_ROLES
from app.services import audit
from app.services.visibility import visible_tickets

# More than this many colleagues on one ticket is a mailing list, not a CC.
MAX_CCS = 50
_CUSTOMER = [r.value for r in CUSTOMER_ROLES]


def names_column() -> Any:
    """The ticket's CC list as an array of (id, name) rows, sorted by name: a column for the
    detail's one statement (correlated with its ``tickets``)."""
    names = (
        select(func.row(User.id, User.name))
        .select_from(TicketCc)
        .join(User, User.id == TicketCc.user_id)
        .where(TicketCc.ticket_id == Ticket.id)
        .order_by(User.name, User.id)
        .correlate(Ticket)
    )
    return func.array(names.scalar_subquery()).label("cc")


async def of_ticket(session: AsyncSession, ticket_id: uuid.UUID) -> list[dict[str, Any]]:
    """The users copied on the ticket, by name (the caller has already read the ticket through
    its visibility)."""
    rows = await session.execute(
        select(User.id, User.name)
        .join(TicketCc, TicketCc.user_id == User.id)
        .where(TicketCc.ticket_id == ticket_id)
        .order_by(User.name, User.id)
    )
    return [{"id": id_, "name": name} for id_, name in rows.all()]


async def _ticket(
    session: AsyncSession, actor: CurrentUser, ticket_id: uuid.UUID, *, lock: bool
) -> Ticket:
    """The ticket as *actor* sees it (404 otherwise), row-locked for a change."""
    stmt = visible_tickets(actor).where(Ticket.id == ticket_id)
    if lock:
        stmt = stmt.with_for_update(of=Ticket)
    ticket = (await session.execute(stmt)).scalar_one_or_none()
    if ticket is None:
        raise NotFound("Ticket not found")
    return ticket


async def candidates(
    session: AsyncSession, actor: CurrentUser, ticket_id: uuid.UUID
) -> list[dict[str, Any]]:
    """Who may be copied on the ticket: the active customer users of its organization, but its
    requester (404 when the caller does not see the ticket)."""
    row = await _ticket(session, actor, ticket_id, lock=False)
    rows = await session.execute(
        select(User.id, User.name)
        .where(
            User.org_id == row.org_id,
            User.is_active.is_(True),
            User.role.in_(_CUSTOMER),
            User.id != row.created_by,
        )
        .order_by(User.name, User.id)
        .limit(500)
    )
    return [{"id": id_, "name": name} for id_, name in rows.all()]


async def replace(
    session: AsyncSession, actor: CurrentUser, ticket_id: uuid.UUID, user_ids: list[uuid.UUID]
) -> list[dict[str, Any]]:
    """Set the ticket's whole CC list. Only active customer users of the ticket's organization
    may be on it (422 otherwise); the requester is left out (they get everything anyway)."""
    ticket = await _ticket(session, actor, ticket_id, lock=True)
    wanted = sorted(set(user_ids) - {ticket.created_by})
    if len(wanted) > MAX_CCS:
        raise Invalid("user_ids", f"At most {MAX_CCS} colleagues can be copied on a ticket")
    if wanted:
        allowed = set(
            (
                await session.execute(
                    select(User.id).where(
                        User.id.in_(wanted),
                        User.org_id == ticket.org_id,
                        User.is_active.is_(True),
                        User.role.in_(_CUSTOMER),
                    )
                )
            ).scalars()
        )
        if len(allowed) != len(wanted):
            raise Invalid(
                "user_ids", "Only active users of the ticket's organization can be copied"
            )
    current = set(
        (
            await session.execute(select(TicketCc.user_id).where(TicketCc.ticket_id == ticket.id))
        ).scalars()
    )
    removed, added = current - set(wanted), set(wanted) - current
    if removed:
        await session.execute(
            delete(TicketCc).where(TicketCc.ticket_id == ticket.id, TicketCc.user_id.in_(removed))
        )
    if added:
        await session.execute(
            insert(TicketCc),
            [
                {
                    "ticket_id": ticket.id,
                    "user_id": u,
                    "org_id": ticket.org_id,
                    "added_by": actor.id,
                }
                for u in sorted(added)
            ],
        )
    if removed or added:
        await audit.record(
            session,
            actor=actor,
            action="ticket.cc_changed",
            entity_type="ticket",
            entity_id=ticket.id,
            org_id=ticket.org_id,
            ticket_id=ticket.id,
            old_value={"cc": [str(u) for u in sorted(current)]},
            new_value={"cc": [str(u) for u in wanted]},
        )
    return await of_ticket(session, ticket.id)
