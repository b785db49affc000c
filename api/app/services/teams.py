"""Teams of staff members (tickets can be assigned to a team)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy import delete, func, insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.deps import CurrentUser
from app.errors import Conflict, Invalid, NotFound
from app.models import Team, TeamMember, User
from app.models.enums import STAFF_ROLES
from app.services.visibility import visible_teams
from app.utils.pagination import keyset_page


async def get(session: AsyncSession, actor: CurrentUser, team_id: uuid.UUID) -> Team:
    team = (
        await session.execute(visible_teams(actor).where(Team.id == team_id))
    ).scalar_one_or_none()
    if team is None:
        raise NotFound("Team not found")
    return team


async def members_of(
    session: AsyncSession, team_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, list[uuid.UUID]]:
    """Member ids of several teams in one statement."""
    out: dict[uuid.UUID, list[uuid.UUID]] = {t: [] for t in team_ids}
    if team_ids:
        rows = await session.execute(
            select(TeamMember.team_id, TeamMember.user_id)
            .where(TeamMember.team_id.in_(team_ids))
            .order_by(TeamMember.created_at)
        )
        for team_id, user_id in rows:
            out[team_id].append(user_id)
    return out


async def list_teams(
    session: AsyncSession, actor: CurrentUser, *, cursor: str | None, limit: int
) -> tuple[list[Team], str | None]:
    return await keyset_page(
        session,
        visible_teams(actor),
        keys=[Team.name, Team.id],
        kinds=[str, uuid.UUID],
        key_of=lambda t: (t.name, t.id),
        cursor=cursor,
        limit=limit,
    )


async def _set_members(
    session: AsyncSession, team_id: uuid.UUID, member_ids: list[uuid.UUID]
) -> None:
    unique = list(dict.fromkeys(member_ids))
    if unique:
        found = set(
            (
                await session.execute(
                    select(User.id).where(
                        User.id.in_(unique),
                        User.role.in_([r.value for r in STAFF_ROLES]),
                        User.is_active.is_(True),
                    )
                )
            ).scalars()
        )
        missing = [str(m) for m in unique if m not in found]
        if missing:
            raise Invalid("member_ids", f"Not active staff users: {', '.join(missing)}")
    await session.execute(delete(TeamMember).where(TeamMember.team_id == team_id))
    if unique:
        await session.execute(
            insert(TeamMember), [{"team_id": team_id, "user_id": m} for m in unique]
        )


async def _taken(session: AsyncSession, name: str, exclude: uuid.UUID | None = None) -> bool:
    stmt = select(Team.id).where(func.lower(Team.name) == name.lower())
    if exclude is not None:
        stmt = stmt.where(Team.id != exclude)
    return (await session.execute(stmt)).first() is not None


async def create(session: AsyncSession, name: str, member_ids: list[uuid.UUID]) -> Team:
    if await _taken(session, name):
        raise Conflict("A team with this name already exists")
    team = Team(id=uuid.uuid4(), name=name)
    session.add(team)
    await session.flush()
    await _set_members(session, team.id, member_ids)
    return team


async def update(
    session: AsyncSession,
    actor: CurrentUser,
    team_id: uuid.UUID,
    *,
    name: str | None,
    member_ids: list[uuid.UUID] | None,
) -> Team:
    team = await get(session, actor, team_id)
    if name is not None and name != team.name:
        if await _taken(session, name, exclude=team.id):
            raise Conflict("A team with this name already exists")
        team.name = name
        await session.flush()
    if member_ids is not None:
        await _set_members(session, team.id, member_ids)
    return team
