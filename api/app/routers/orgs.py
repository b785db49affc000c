"""Organizations (admin writes; staff read)."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, status

from app.auth.deps import DbSession, OrgReader, OrgWriter
from app.models import Organization
from app.routers.common import DEFAULT, Cursor, Limit, Search
from app.schemas.common import Page
from app.schemas.org import OrgCreate, OrgOut, OrgUpdate
from app.services import orgs
from app.utils.clock import Now

router = APIRouter(prefix="/orgs", tags=["admin"])


async def _out(session: DbSession, items: list[Organization]) -> list[OrgOut]:
    domains = await orgs.domains_of(session, [o.id for o in items])
    return [
        OrgOut.model_validate(o).model_copy(update={"email_domains": domains[o.id]}) for o in items
    ]


@router.get("", response_model=Page[OrgOut])
async def list_orgs(
    actor: OrgReader,
    session: DbSession,
    q: Search = None,
    cursor: Cursor = None,
    limit: Limit = DEFAULT,
) -> Page[OrgOut]:
    items, next_cursor = await orgs.list_orgs(session, actor, q=q, cursor=cursor, limit=limit)
    return Page[OrgOut](items=await _out(session, items), next_cursor=next_cursor)


@router.post("", response_model=OrgOut, status_code=status.HTTP_201_CREATED)
async def create_org(body: OrgCreate, actor: OrgWriter, session: DbSession) -> OrgOut:
    return (await _out(session, [await orgs.create(session, actor, body)]))[0]


@router.get("/{org_id}", response_model=OrgOut)
async def get_org(org_id: uuid.UUID, actor: OrgReader, session: DbSession) -> OrgOut:
    return (await _out(session, [await orgs.get(session, actor, org_id)]))[0]


@router.patch("/{org_id}", response_model=OrgOut)
async def update_org(
    org_id: uuid.UUID, body: OrgUpdate, actor: OrgWriter, session: DbSession, now: Now
) -> OrgOut:
    """``sla_calendar_id`` overrides the SLA policies' calendar for this organization's clocks
    (null: back to the policies'); a change moves the deadlines of its running clocks."""
    return (await _out(session, [await orgs.update(session, actor, org_id, body, now)]))[0]
