"""Organizations (tenants)."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import delete, func, insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.deps import CurrentUser
from app.errors import Conflict, NotFound
from app.models import Organization, OrgEmailDomain
from app.schemas.org import OrgCreate, OrgUpdate
from app.services import audit, calendars, sla_sweep
from app.services.visibility import visible_orgs
from app.utils.clock import utcnow
from app.utils.pagination import keyset_page


async def get(session: AsyncSession, actor: CurrentUser, org_id: uuid.UUID) -> Organization:
    org = (
        await session.execute(visible_orgs(actor).where(Organization.id == org_id))
    ).scalar_one_or_none()
    if org is None:
        raise NotFound("Organization not found")
    return org


async def list_orgs(
    session: AsyncSession, actor: CurrentUser, *, q: str | None, cursor: str | None, limit: int
) -> tuple[list[Organization], str | None]:
    stmt = visible_orgs(actor)
    if q:
        stmt = stmt.where(Organization.name.icontains(q, autoescape=True))
    return await keyset_page(
        session,
        stmt,
        keys=[Organization.name, Organization.id],
        kinds=[str, uuid.UUID],
        key_of=lambda o: (o.name, o.id),
        cursor=cursor,
        limit=limit,
    )


async def _name_taken(session: AsyncSession, name: str, exclude: uuid.UUID | None = None) -> bool:
    stmt = select(Organization.id).where(func.lower(Organization.name) == name.lower())
    if exclude is not None:
        stmt = stmt.where(Organization.id != exclude)
    return (await session.execute(stmt)).first() is not None


async def create(session: AsyncSession, actor: CurrentUser | None, body: OrgCreate) -> Organization:
    if await _name_taken(session, body.name):
        raise Conflict("An organization with this name already exists")
    await calendars.require_exists(session, body.sla_calendar_id, "sla_calendar_id")
    org = Organization(
        id=uuid.uuid4(),
        name=body.name,
        status="active",
        portal_visibility=body.portal_visibility,
        sla_calendar_id=body.sla_calendar_id,
    )
    session.add(org)
    await session.flush()
    domains = await _set_domains(session, org.id, body.email_domains)
    created: dict[str, object] = {"name": org.name, "status": org.status}
    if org.portal_visibility != "organization":
        created["portal_visibility"] = org.portal_visibility
    if domains:
        created["email_domains"] = domains
    if org.sla_calendar_id is not None:
        created["sla_calendar_id"] = org.sla_calendar_id
    await audit.record(
        session,
        actor=actor,
        action="org.created",
        entity_type="organization",
        entity_id=org.id,
        org_id=org.id,
        new_value=created,
    )
    return org


async def domains_of(session: AsyncSession, org_ids: list[uuid.UUID]) -> dict[uuid.UUID, list[str]]:
    """The e-mail domains of each organization (one statement)."""
    found: dict[uuid.UUID, list[str]] = {org_id: [] for org_id in org_ids}
    if org_ids:
        rows = await session.execute(
            select(OrgEmailDomain.org_id, OrgEmailDomain.domain)
            .where(OrgEmailDomain.org_id.in_(org_ids))
            .order_by(OrgEmailDomain.domain)
        )
        for org_id, domain in rows.all():
            found[org_id].append(domain)
    return found


async def _set_domains(session: AsyncSession, org_id: uuid.UUID, domains: list[str]) -> list[str]:
    """Replace the organization's e-mail domains; a domain of another organization is a 409
    (one domain, one organization: an unknown sender can only ever join one)."""
    wanted = sorted(set(domains))
    if wanted:
        taken = (
            (
                await session.execute(
                    select(OrgEmailDomain.domain).where(
                        OrgEmailDomain.domain.in_(wanted), OrgEmailDomain.org_id != org_id
                    )
                )
            )
            .scalars()
            .all()
        )
        if taken:
            raise Conflict(f"Already the e-mail domain of another organization: {', '.join(taken)}")
    await session.execute(delete(OrgEmailDomain).where(OrgEmailDomain.org_id == org_id))
    if wanted:
        await session.execute(
            insert(OrgEmailDomain), [{"domain": d, "org_id": org_id} for d in wanted]
        )
    return wanted


async def update(
    session: AsyncSession,
    actor: CurrentUser,
    org_id: uuid.UUID,
    body: OrgUpdate,
    now: datetime | None = None,
) -> Organization:
    org = await get(session, actor, org_id)
    before: dict[str, object] = {
        "name": org.name,
        "status": org.status,
        "portal_visibility": org.portal_visibility,
        "sla_calendar_id": org.sla_calendar_id,
    }
    if "sla_calendar_id" in body.model_fields_set:
        await calendars.require_exists(session, body.sla_calendar_id, "sla_calendar_id")
    after: dict[str, object] = {}
    if body.email_domains is not None:
        before["email_domains"] = (await domains_of(session, [org.id]))[org.id]
        after["email_domains"] = await _set_domains(session, org.id, body.email_domains)
    if body.name is not None and body.name != org.name:
        if await _name_taken(session, body.name, exclude=org.id):
            raise Conflict("An organization with this name already exists")
        org.name = body.name
    if body.status is not None:
        org.status = body.status.value
    if body.portal_visibility is not None:
        org.portal_visibility = body.portal_visibility
    if "sla_calendar_id" in body.model_fields_set:
        org.sla_calendar_id = body.sla_calendar_id
    current = {
        "name": org.name,
        "status": org.status,
        "portal_visibility": org.portal_visibility,
        "sla_calendar_id": org.sla_calendar_id,
    }
    old, new = audit.changes(before, {**current, **after})
    if new:
        await session.flush()
        await audit.record(
            session,
            actor=actor,
            action="org.updated",
            entity_type="organization",
            entity_id=org.id,
            org_id=org.id,
            old_value=old,
            new_value=new,
        )
        if "sla_calendar_id" in new:
            # R8: the organization's running clocks get their deadlines on the new calendar.
            await sla_sweep.recompute_running(session, now or utcnow(), org_id=org.id)
    return org
