"""Sign in, sign out, who am I."""

from __future__ import annotations

from fastapi import APIRouter, Response, status

from app.auth.cookies import clear_session_cookies, csrf_token, set_session_cookies
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
async def login(body: LoginRequest, session: DbSession, response: Response) -> LoginResponse:
    """Returns the token for API clients and sets it as an httpOnly cookie for browsers (with
    a CSRF token the page must echo in ``X-CSRF-Token`` on unsafe requests)."""
    settings = get_settings()
    result = await auth_service.login(
        session, settings, email=body.email, password=body.password, ip=client_ip_var.get()
    )
    set_session_cookies(
        response,
        settings,
        token=result.token,
        session_id=result.user.session_id,
        max_age=result.expires_in,
    )
    return LoginResponse(
        access_token=result.token,
        expires_in=result.expires_in,
        csrf_token=csrf_token(settings.resolved_secret_key() or "", result.user.session_id),
        user=_me(result.user),
    )


@router.post("/auth/logout", status_code=status.HTTP_204_NO_CONTENT, response_class=Response)
async def logout(user: Authenticated, session: DbSession) -> Response:
    await auth_service.logout(session, user)
    response = Response(status_code=status.HTTP_204_NO_CONTENT)
    clear_session_cookies(response, get_settings())
    return response


@router.get("/me", response_model=Me)
async def me(user: Authenticated) -> Me:
    return _me(user)
