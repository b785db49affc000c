"""Services catalog (admin writes; everyone reads what it may see)."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query, status

from app.auth.deps import CurrentUser, DbSession, ServiceReader, ServiceWriter
from app.routers.common import DEFAULT, Cursor, Limit
from app.schemas.common import Page
from app.schemas.service import CustomerService, ServiceCreate, ServiceOut, ServiceUpdate
from app.services import catalog

router = APIRouter(prefix="/services", tags=["admin"])


def _out(service: object, actor: CurrentUser) -> ServiceOut | CustomerService:
    # Staff and customers get different schemas: a service's default team is the desk's own.
    if actor.is_staff:
        return ServiceOut.model_validate(service)
    return CustomerService.model_validate(service)


@router.get("", response_model=Page[ServiceOut] | Page[CustomerService])
async def list_services(
    actor: ServiceReader,
    session: DbSession,
    org_id: Annotated[uuid.UUID | None, Query()] = None,
    cursor: Cursor = None,
    limit: Limit = DEFAULT,
) -> Page[ServiceOut] | Page[CustomerService]:
    items, next_cursor = await catalog.list_services(
        session, actor, org_id=org_id, cursor=cursor, limit=limit
    )
    if actor.is_staff:
        return Page[ServiceOut](
            items=[ServiceOut.model_validate(s) for s in items], next_cursor=next_cursor
        )
    return Page[CustomerService](
        items=[CustomerService.model_validate(s) for s in items], next_cursor=next_cursor
    )


@router.post("", response_model=ServiceOut, status_code=status.HTTP_201_CREATED)
async def create_service(
    body: ServiceCreate, actor: ServiceWriter, session: DbSession
) -> ServiceOut:
    return ServiceOut.model_validate(await catalog.create(session, actor, body))


@router.get("/{service_id}", response_model=ServiceOut | CustomerService)
async def get_service(
    service_id: uuid.UUID, actor: ServiceReader, session: DbSession
) -> ServiceOut | CustomerService:
    return _out(await catalog.get(session, actor, service_id), actor)


@router.patch("/{service_id}", response_model=ServiceOut)
async def update_service(
    service_id: uuid.UUID, body: ServiceUpdate, actor: ServiceWriter, session: DbSession
) -> ServiceOut:
    return ServiceOut.model_validate(await catalog.update(session, actor, service_id, body))
