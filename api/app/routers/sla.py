"""SLA policies (admin writes; staff read)."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query, Response, status

from app.auth.deps import DbSession, SlaReader, SlaWriter
from app.routers.common import DEFAULT, Cursor, Limit
from app.schemas.common import Page
from app.schemas.sla import SlaPolicyCreate, SlaPolicyOut, SlaPolicyUpdate
from app.services import sla_policies
from app.utils.clock import Now

router = APIRouter(prefix="/sla", tags=["admin"])


@router.get("", response_model=Page[SlaPolicyOut])
async def list_policies(
    actor: SlaReader,
    session: DbSession,
    org_id: Annotated[uuid.UUID | None, Query()] = None,
    cursor: Cursor = None,
    limit: Limit = DEFAULT,
) -> Page[SlaPolicyOut]:
    items, next_cursor = await sla_policies.list_policies(
        session, actor, org_id=org_id, cursor=cursor, limit=limit
    )
    return Page[SlaPolicyOut](
        items=[SlaPolicyOut.model_validate(p) for p in items], next_cursor=next_cursor
    )


@router.post("", response_model=SlaPolicyOut, status_code=status.HTTP_201_CREATED)
async def create_policy(
    body: SlaPolicyCreate, actor: SlaWriter, session: DbSession
) -> SlaPolicyOut:
    return SlaPolicyOut.model_validate(await sla_policies.create(session, actor, body))


@router.get("/{policy_id}", response_model=SlaPolicyOut)
async def get_policy(policy_id: uuid.UUID, actor: SlaReader, session: DbSession) -> SlaPolicyOut:
    return SlaPolicyOut.model_validate(await sla_policies.get(session, actor, policy_id))


@router.patch("/{policy_id}", response_model=SlaPolicyOut)
async def update_policy(
    policy_id: uuid.UUID, body: SlaPolicyUpdate, actor: SlaWriter, session: DbSession, now: Now
) -> SlaPolicyOut:
    """Fields left out stay; a change of calendar, warning or escalation moves the deadlines of
    the clocks running under the policy."""
    policy = await sla_policies.update(session, actor, policy_id, body, now)
    return SlaPolicyOut.model_validate(policy)


@router.delete("/{policy_id}", status_code=status.HTTP_204_NO_CONTENT, response_class=Response)
async def delete_policy(policy_id: uuid.UUID, actor: SlaWriter, session: DbSession) -> Response:
    await sla_policies.remove(session, actor, policy_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
