"""SLA policies: global defaults (seeded by the first migration) and per-organization overrides."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.deps import CurrentUser
from app.errors import Conflict, Invalid, NotFound
from app.models import Organization, SlaPolicy, Team, User
from app.models.enums import STAFF_ROLES
from app.schemas.sla import SlaPolicyCreate, SlaPolicyUpdate
from app.services import audit, calendars, sla_sweep
from app.services.visibility import visible_sla_policies
from app.utils.clock import utcnow
from app.utils.pagination import keyset_page

# The calendar, warning and escalation terms with their defaults (a policy that keeps a default is
# audited without it on creation and deletion).
_TERM_DEFAULTS: dict[str, object] = {
    "calendar_id": None,
    "warn_pct": 80,
    "warn_minutes": None,
    "escalate_after_minutes": None,
    "escalate_to_user_id": None,
    "escalate_to_team_id": None,
}


def _snapshot(p: SlaPolicy, *, every_term: bool = False) -> dict[str, object]:
    terms = {name: getattr(p, name) for name in _TERM_DEFAULTS}
    return {
        "org_id": p.org_id,
        "priority": p.priority,
        "first_response_minutes": p.first_response_minutes,
        "resolution_minutes": p.resolution_minutes,
        **{k: v for k, v in terms.items() if every_term or v != _TERM_DEFAULTS[k]},
    }


# A change of these moves the deadlines of the clocks running under the policy.
_CLOCK_FIELDS = ("calendar_id", "warn_pct", "warn_minutes", "escalate_after_minutes")
_NULLABLE = (
    "calendar_id",
    "warn_minutes",
    "escalate_after_minutes",
    "escalate_to_user_id",
    "escalate_to_team_id",
)


async def _check_terms(session: AsyncSession, p: SlaPolicy) -> None:
    """The calendar exists, the escalation targets are an active staff member and a team, and an
    escalation delay has a target (422 on the field at fault). Runs before *p* is flushed: the
    database's own checks would answer a bare conflict."""
    with session.no_autoflush:
        await _check_references(session, p)
    if (
        p.escalate_after_minutes is not None
        and p.escalate_to_user_id is None
        and p.escalate_to_team_id is None
    ):
        raise Invalid(
            "escalate_after_minutes",
            "An escalation needs escalate_to_user_id or escalate_to_team_id",
        )


async def _check_references(session: AsyncSession, p: SlaPolicy) -> None:
    await calendars.require_exists(session, p.calendar_id, "calendar_id")
    if p.escalate_to_user_id is not None:
        staff = await session.execute(
            select(User.id).where(
                User.id == p.escalate_to_user_id,
                User.role.in_([r.value for r in STAFF_ROLES]),
                User.is_active.is_(True),
            )
        )
        if staff.first() is None:
            raise Invalid("escalate_to_user_id", "Not an active staff user")
    if p.escalate_to_team_id is not None:
        team = await session.execute(select(Team.id).where(Team.id == p.escalate_to_team_id))
        if team.first() is None:
            raise Invalid("escalate_to_team_id", "No such team")


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
        calendar_id=body.calendar_id,
        warn_pct=body.warn_pct,
        warn_minutes=body.warn_minutes,
        escalate_after_minutes=body.escalate_after_minutes,
        escalate_to_user_id=body.escalate_to_user_id,
        escalate_to_team_id=body.escalate_to_team_id,
    )
    await _check_terms(session, policy)
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
    session: AsyncSession,
    actor: CurrentUser,
    policy_id: uuid.UUID,
    body: SlaPolicyUpdate,
    now: datetime | None = None,
) -> SlaPolicy:
    policy = await get(session, actor, policy_id)
    before = _snapshot(policy, every_term=True)
    if body.first_response_minutes is not None:
        policy.first_response_minutes = body.first_response_minutes
    if body.resolution_minutes is not None:
        policy.resolution_minutes = body.resolution_minutes
    if body.warn_pct is not None:
        policy.warn_pct = body.warn_pct
    for name in _NULLABLE:
        if name in body.model_fields_set:
            setattr(policy, name, getattr(body, name))
    old, new = audit.changes(before, _snapshot(policy, every_term=True))
    if new:
        await _check_terms(session, policy)
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
        if any(name in new for name in _CLOCK_FIELDS):
            # R8: the clocks running under this policy get their new deadlines.
            await sla_sweep.recompute_running(session, now or utcnow(), policy_id=policy.id)
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
