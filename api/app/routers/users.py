"""Users (admin: everyone; customer_admin: its own organization's customers)."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query, Response, status

from app.auth.deps import DbSession, MfaResetter, UserReader, UserWriter
from app.models.enums import Role
from app.routers.common import DEFAULT, Cursor, Limit, Search
from app.schemas.common import Page
from app.schemas.user import UserCreate, UserOut, UserUpdate
from app.services import accounts, mfa, sessions, users

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


@router.post("/{user_id}/invitation", status_code=status.HTTP_202_ACCEPTED)
async def resend_invitation(
    user_id: uuid.UUID, actor: UserWriter, session: DbSession
) -> dict[str, str]:
    """A new invitation link (the earlier one stops working)."""
    await accounts.resend_invitation(session, actor, user_id)
    return {"detail": "Invitation sent"}


@router.post(
    "/{user_id}/mfa/reset", status_code=status.HTTP_204_NO_CONTENT, response_class=Response
)
async def reset_mfa(user_id: uuid.UUID, actor: MfaResetter, session: DbSession) -> Response:
    """Remove every second factor of the user, end their sessions and tell them by mail."""
    await mfa.admin_reset(session, actor, user_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.delete(
    "/{user_id}/sessions", status_code=status.HTTP_204_NO_CONTENT, response_class=Response
)
async def end_sessions(user_id: uuid.UUID, actor: UserWriter, session: DbSession) -> Response:
    """Sign the user out everywhere."""
    await sessions.end_all_of(session, actor, user_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
