"""Sign in, sign out, who am I."""

from __future__ import annotations

from fastapi import APIRouter, Response, status

from app.auth.deps import Authenticated, CurrentUser, DbSession
from app.config import get_settings
from app.context import client_ip_var
from app.schemas.auth import LoginRequest, LoginResponse, Me
from app.services import auth as auth_service

router = APIRouter(tags=["auth"])


def _me(user: CurrentUser) -> Me:
    return Me(
        id=user.id,
        email=user.email,
        name=user.name,
        role=user.role,
        org_id=user.org_id,
        org_name=user.org_name,
        is_active=True,
    )


@router.post("/auth/login", response_model=LoginResponse)
async def login(body: LoginRequest, session: DbSession) -> LoginResponse:
    result = await auth_service.login(
        session, get_settings(), email=body.email, password=body.password, ip=client_ip_var.get()
    )
    return LoginResponse(
        access_token=result.token, expires_in=result.expires_in, user=_me(result.user)
    )


@router.post("/auth/logout", status_code=status.HTTP_204_NO_CONTENT, response_class=Response)
async def logout(user: Authenticated, session: DbSession) -> Response:
    await auth_service.logout(session, user)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/me", response_model=Me)
async def me(user: Authenticated) -> Me:
    return _me(user)
