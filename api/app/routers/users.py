"""Users (admin: everyone; customer_admin: its own organization's customers)."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query, status

from app.auth.deps import DbSession, UserReader, UserWriter
from app.models.enums import Role
from app.routers.common import DEFAULT, Cursor, Limit, Search
from app.schemas.common import Page
from app.schemas.user import UserCreate, UserOut, UserUpdate
from app.services import users

router = APIRouter(prefix="/users", tags=["admin"])


@router.get("", response_model=Page[UserOut])
async def list_users(
    actor: UserReader,
    session: DbSession,
    org_id: Annotated[uuid.UUID | None, Query()] = None,
    role: Annotated[Role | None, Query()] = None,
    q: Search = None,
    cursor: Cursor = None,
    limit: Limit = DEFAULT,
) -> Page[UserOut]:
    items, next_cursor = await users.list_users(
        session, actor, org_id=org_id, role=role, q=q, cursor=cursor, limit=limit
    )
    return Page[UserOut](items=[UserOut.model_validate(u) for u in items], next_cursor=next_cursor)


@router.post("", response_model=UserOut, status_code=status.HTTP_201_CREATED)
async def create_user(body: UserCreate, actor: UserWriter, session: DbSession) -> UserOut:
    return UserOut.model_validate(await users.create(session, actor, body))


@router.get("/{user_id}", response_model=UserOut)
async def get_user(user_id: uuid.UUID, actor: UserReader, session: DbSession) -> UserOut:
    return UserOut.model_validate(await users.get(session, actor, user_id))


@router.patch("/{user_id}", response_model=UserOut)
async def update_user(
    user_id: uuid.UUID, body: UserUpdate, actor: UserWriter, session: DbSession
) -> UserOut:
    return UserOut.model_validate(await users.update(session, actor, user_id, body))
