"""SLA policies: global defaults (seeded by the first migration) and per-organization overrides."""

from __future__ import annotations

import uuid

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.deps import CurrentUser
from app.errors import Conflict, NotFound
from app.models import Organization, SlaPolicy
from app.schemas.sla import SlaPolicyCreate, SlaPolicyUpdate
from app.services import audit
from app.services.visibility import visible_sla_policies
from app.utils.pagination import keyset_page


def _snapshot(p: SlaPolicy) -> dict[str, object]:
    return {
        "org_id": p.org_id,
        "priority": p.priority,
        "first_response_minutes": p.first_response_minutes,
        "resolution_minutes": p.resolution_minutes,
    }


async def get(session: AsyncSession, actor: CurrentUser, policy_id: uuid.UUID) -> SlaPolicy:
    policy = (
        await session.execute(visible_sla_policies(actor).where(SlaPolicy.id == policy_id))
    ).scalar_one_or_none()
    if policy is None:
        raise NotFound("SLA policy not found")
    return policy


async def list_policies(
    session: AsyncSession,
    actor: CurrentUser,
    *,
    org_id: uuid.UUID | None,
    cursor: str | None,
    limit: int,
) -> tuple[list[SlaPolicy], str | None]:
    stmt = visible_sla_policies(actor)
    if org_id is not None:
        stmt = stmt.where(SlaPolicy.org_id == org_id)
    return await keyset_page(
        session,
        stmt,
        keys=[SlaPolicy.priority, SlaPolicy.id],
        kinds=[str, uuid.UUID],
        key_of=lambda p: (p.priority, p.id),
        cursor=cursor,
        limit=limit,
    )


async def create(session: AsyncSession, actor: CurrentUser, body: SlaPolicyCreate) -> SlaPolicy:
    if (
        body.org_id is not None
        and (
            await session.execute(select(Organization.id).where(Organization.id == body.org_id))
        ).first()
        is None
    ):
        raise NotFound("Organization not found")
    exists = select(SlaPolicy.id).where(
        SlaPolicy.priority == body.priority.value,
        SlaPolicy.org_id.is_(None) if body.org_id is None else SlaPolicy.org_id == body.org_id,
    )
    if (await session.execute(exists)).first() is not None:
        raise Conflict("A policy for this organization and priority already exists")
    policy = SlaPolicy(
        id=uuid.uuid4(),
        org_id=body.org_id,
        priority=body.priority.value,
        first_response_minutes=body.first_response_minutes,
        resolution_minutes=body.resolution_minutes,
    )
    session.add(policy)
    await session.flush()
    await audit.record(
        session,
        actor=actor,
        action="sla_policy.created",
        entity_type="sla_policy",
        entity_id=policy.id,
        org_id=policy.org_id,
        new_value=_snapshot(policy),
    )
    return policy


async def update(
    session: AsyncSession, actor: CurrentUser, policy_id: uuid.UUID, body: SlaPolicyUpdate
) -> SlaPolicy:
    policy = await get(session, actor, policy_id)
    before = _snapshot(policy)
    if body.first_response_minutes is not None:
        policy.first_response_minutes = body.first_response_minutes
    if body.resolution_minutes is not None:
        policy.resolution_minutes = body.resolution_minutes
    old, new = audit.changes(before, _snapshot(policy))
    if new:
        await session.flush()
        await audit.record(
            session,
            actor=actor,
            action="sla_policy.updated",
            entity_type="sla_policy",
            entity_id=policy.id,
            org_id=policy.org_id,
            old_value=old,
            new_value=new,
        )
    return policy


async def remove(session: AsyncSession, actor: CurrentUser, policy_id: uuid.UUID) -> None:
    policy = await get(session, actor, policy_id)
    if policy.org_id is None:
        raise Conflict("Global default policies can be changed but not deleted")
    snapshot = _snapshot(policy)
    await session.execute(delete(SlaPolicy).where(SlaPolicy.id == policy.id))
    await audit.record(
        session,
        actor=actor,
        action="sla_policy.deleted",
        entity_type="sla_policy",
        entity_id=policy.id,
        org_id=policy.org_id,
        old_value=snapshot,
    )
