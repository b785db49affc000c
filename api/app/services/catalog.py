"""Services: what customers file tickets against (global or one organization's)."""

from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.deps import CurrentUser
from app.errors import Conflict, Invalid, NotFound
from app.models import Organization, Service, Team
from app.schemas.service import ServiceCreate, ServiceUpdate
from app.services.visibility import visible_services
from app.utils.pagination import keyset_page


async def get(session: AsyncSession, actor: CurrentUser, service_id: uuid.UUID) -> Service:
    service = (
        await session.execute(visible_services(actor).where(Service.id == service_id))
    ).scalar_one_or_none()
    if service is None:
        raise NotFound("Service not found")
    return service


async def list_services(
    session: AsyncSession,
    actor: CurrentUser,
    *,
    org_id: uuid.UUID | None,
    cursor: str | None,
    limit: int,
) -> tuple[list[Service], str | None]:
    stmt = visible_services(actor)
    if org_id is not None:
        stmt = stmt.where(Service.org_id == org_id)
    return await keyset_page(
        session,
        stmt,
        keys=[Service.name, Service.id],
        kinds=[str, uuid.UUID],
        key_of=lambda s: (s.name, s.id),
        cursor=cursor,
        limit=limit,
    )


async def _taken(
    session: AsyncSession, org_id: uuid.UUID | None, name: str, exclude: uuid.UUID | None = None
) -> bool:
    stmt = select(Service.id).where(
        Service.name == name,
        Service.org_id.is_(None) if org_id is None else Service.org_id == org_id,
    )
    if exclude is not None:
        stmt = stmt.where(Service.id != exclude)
    return (await session.execute(stmt)).first() is not None


async def _check_team(session: AsyncSession, team_id: uuid.UUID | None) -> None:
    if (
        team_id is not None
        and (await session.execute(select(Team.id).where(Team.id == team_id))).first() is None
    ):
        raise Invalid("default_team_id", "Unknown team")


async def create(session: AsyncSession, actor: CurrentUser | None, body: ServiceCreate) -> Service:
    if (
        body.org_id is not None
        and (
            await session.execute(select(Organization.id).where(Organization.id == body.org_id))
        ).first()
        is None
    ):
        raise NotFound("Organization not found")
    if await _taken(session, body.org_id, body.name):
        raise Conflict("A service with this name already exists")
    await _check_team(session, body.default_team_id)
    service = Service(
        id=uuid.uuid4(),
        org_id=body.org_id,
        name=body.name,
        is_active=True,
        default_team_id=body.default_team_id,
    )
    session.add(service)
    await session.flush()
    return service


async def update(
    session: AsyncSession, actor: CurrentUser, service_id: uuid.UUID, body: ServiceUpdate
) -> Service:
    service = await get(session, actor, service_id)
    if body.name is not None and body.name != service.name:
        if await _taken(session, service.org_id, body.name, exclude=service.id):
            raise Conflict("A service with this name already exists")
        service.name = body.name
    if body.is_active is not None:
        service.is_active = body.is_active
    if "default_team_id" in body.model_fields_set:
        await _check_team(session, body.default_team_id)
        service.default_team_id = body.default_team_id
    await session.flush()
    return service
