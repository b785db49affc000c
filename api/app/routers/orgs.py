"""Organizations (admin writes; staff read)."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, status

from app.auth.deps import DbSession, OrgReader, OrgWriter
from app.routers.common import DEFAULT, Cursor, Limit, Search
from app.schemas.common import Page
from app.schemas.org import OrgCreate, OrgOut, OrgUpdate
from app.services import orgs

router = APIRouter(prefix="/orgs", tags=["admin"])


@router.get("", response_model=Page[OrgOut])
async def list_orgs(
    actor: OrgReader,
    session: DbSession,
    q: Search = None,
    cursor: Cursor = None,
    limit: Limit = DEFAULT,
) -> Page[OrgOut]:
    items, next_cursor = await orgs.list_orgs(session, actor, q=q, cursor=cursor, limit=limit)
    return Page[OrgOut](items=[OrgOut.model_validate(o) for o in items], next_cursor=next_cursor)


@router.post("", response_model=OrgOut, status_code=status.HTTP_201_CREATED)
async def create_org(body: OrgCreate, actor: OrgWriter, session: DbSession) -> OrgOut:
    return OrgOut.model_validate(await orgs.create(session, actor, body))


@router.get("/{org_id}", response_model=OrgOut)
async def get_org(org_id: uuid.UUID, actor: OrgReader, session: DbSession) -> OrgOut:
    return OrgOut.model_validate(await orgs.get(session, actor, org_id))


@router.patch("/{org_id}", response_model=OrgOut)
async def update_org(
    org_id: uuid.UUID, body: OrgUpdate, actor: OrgWriter, session: DbSession
) -> OrgOut:
    return OrgOut.model_validate(await orgs.update(session, actor, org_id, body))
