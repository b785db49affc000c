"""Teams (admin writes; staff read)."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, status

from app.auth.deps import DbSession, TeamReader, TeamWriter
from app.models import Team
from app.routers.common import DEFAULT, Cursor, Limit
from app.schemas.common import Page
from app.schemas.team import TeamCreate, TeamOut, TeamUpdate
from app.services import teams

router = APIRouter(prefix="/teams", tags=["admin"])


def _out(team: Team, members: list[uuid.UUID]) -> TeamOut:
    return TeamOut(id=team.id, name=team.name, member_ids=members, created_at=team.created_at)


@router.get("", response_model=Page[TeamOut])
async def list_teams(
    actor: TeamReader, session: DbSession, cursor: Cursor = None, limit: Limit = DEFAULT
) -> Page[TeamOut]:
    items, next_cursor = await teams.list_teams(session, actor, cursor=cursor, limit=limit)
    members = await teams.members_of(session, [t.id for t in items])
    return Page[TeamOut](items=[_out(t, members[t.id]) for t in items], next_cursor=next_cursor)


@router.post("", response_model=TeamOut, status_code=status.HTTP_201_CREATED)
async def create_team(body: TeamCreate, actor: TeamWriter, session: DbSession) -> TeamOut:
    team = await teams.create(session, body.name, body.member_ids)
    return _out(team, (await teams.members_of(session, [team.id]))[team.id])


@router.get("/{team_id}", response_model=TeamOut)
async def get_team(team_id: uuid.UUID, actor: TeamReader, session: DbSession) -> TeamOut:
    team = await teams.get(session, actor, team_id)
    return _out(team, (await teams.members_of(session, [team.id]))[team.id])


@router.patch("/{team_id}", response_model=TeamOut)
async def update_team(
    team_id: uuid.UUID, body: TeamUpdate, actor: TeamWriter, session: DbSession
) -> TeamOut:
    team = await teams.update(session, actor, team_id, name=body.name, member_ids=body.member_ids)
    return _out(team, (await teams.members_of(session, [team.id]))[team.id])
