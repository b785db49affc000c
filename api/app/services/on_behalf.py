"""Tickets staff record for a customer who phoned or wrote to a person (the desk's "New ticket").

The ticket is the customer's: ``tickets.create`` runs as that customer (their organization, their
services, the "we received your ticket" mail to them, the acceptance gate, SLA, triage job), with
the staff member who recorded it as the actor of the ``ticket.created`` entry (``recorded_by``).
A new contact is created first when the caller is not yet a user (``users.create_contact``).
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.deps import USABLE_ACCOUNT, CurrentUser
from app.auth.permissions import Action, allowed
from app.errors import Forbidden, Invalid, NotFound
from app.models import Organization, Ticket, User
from app.models.enums import CUSTOMER_ROLES, Role
from app.schemas.ticket import Accept, StaffTicketCreate
from app.services import tickets, users
from app.services.visibility import visible_orgs, visible_users


async def _customer(session: AsyncSession, actor: CurrentUser, user_id: uuid.UUID) -> CurrentUser:
    """The customer user *user_id* as the actor ``tickets.create`` runs for: an active customer
    of an active organization (422 otherwise; 404 when there is no such user)."""
    found = (
        await session.execute(
            visible_users(actor)
            .with_only_columns(
                User.id,
                User.email,
                User.name,
                User.role,
                User.org_id,
                User.language,
                Organization.name,
                Organization.portal_visibility,
                USABLE_ACCOUNT,
            )
            .outerjoin(Organization, Organization.id == User.org_id)
            .where(User.id == user_id)
        )
    ).one_or_none()
    if found is None:
        raise NotFound("Customer not found")
    id_, email, name, role, org_id, language, org_name, portal_visibility, usable = found
    if Role(role) not in CUSTOMER_ROLES or org_id is None:
        raise Invalid("customer_id", "Tickets are recorded for customer users only")
    if not usable:
        raise Invalid("customer_id", "This customer's account or organization is not active")
    return CurrentUser(
        id=id_,
        email=email,
        name=name,
        role=Role(role),
        org_id=org_id,
        org_name=org_name,
        session_id=uuid.UUID(int=0),
        language=language,
        portal_visibility=portal_visibility or "organization",
    )


async def create(
    session: AsyncSession, actor: CurrentUser, body: StaffTicketCreate, now: datetime
) -> Ticket:
    # Checked before anything is written: without the right, nothing is created.
    if body.accept and not allowed(actor.role, Action.TICKET_ACCEPT):
        raise Forbidden("Only managers may accept a ticket")
    if body.new_contact is not None:
        contact = body.new_contact
        org = (
            await session.execute(
                visible_orgs(actor)
                .with_only_columns(Organization.id, Organization.status)
                .where(Organization.id == contact.org_id)
            )
        ).one_or_none()
        if org is None:
            raise NotFound("Organization not found")
        if org.status != "active":
            raise Invalid("new_contact", "This organization is not active")
        user = await users.create_contact(
            session,
            actor,
            org_id=contact.org_id,
            email=contact.email,
            name=contact.name,
            via=body.channel,
        )
        customer_id = user.id
    else:
        assert body.customer_id is not None  # exactly one of them (the schema)
        customer_id = body.customer_id
    customer = await _customer(session, actor, customer_id)
    ticket = await tickets.create(
        session, customer, body, now, channel=body.channel, recorded_by=actor
    )
    if body.accept:
        await tickets.accept(session, actor, ticket.id, Accept(), now)
    return ticket
