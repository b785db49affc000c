"""Organizations (tenants)."""

from __future__ import annotations

import uuid

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.deps import CurrentUser
from app.errors import Conflict, NotFound
from app.models import Organization
from app.schemas.org import OrgCreate, OrgUpdate
from app.services import audit
from app.services.visibility import visible_orgs
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
    org = Organization(id=uuid.uuid4(), name=body.name, status="active")
    session.add(org)
    await session.flush()
    await audit.record(
        session,
        actor=actor,
        action="org.created",
        entity_type="organization",
        entity_id=org.id,
        org_id=org.id,
        new_value={"name": org.name, "status": org.status},
    )
    return org


async def update(
    session: AsyncSession, actor: CurrentUser, org_id: uuid.UUID, body: OrgUpdate
) -> Organization:
    org = await get(session, actor, org_id)
    before = {"name": org.name, "status": org.status}
    if body.name is not None and body.name != org.name:
        if await _name_taken(session, body.name, exclude=org.id):
            raise Conflict("An organization with this name already exists")
        org.name = body.name
    if body.status is not None:
        org.status = body.status.value
    old, new = audit.changes(before, {"name": org.name, "status": org.status})
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
    return org
