"""Sign in, sign out, who am I."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response, status

from app.auth.cookies import clear_session_cookies
from app.auth.deps import Authenticated, CurrentUser, DbSession, portal_visibility_of
from app.config import get_settings
from app.context import client_ip_var
from app.routers.account import sign_in_answer
from app.schemas.account import MfaChallengeOut
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
        language=user.language,
        portal_visibility=portal_visibility_of(user),
    )


@router.post("/auth/login", response_model=LoginResponse | MfaChallengeOut)
async def login(
    body: LoginRequest, session: DbSession, request: Request, response: Response
) -> LoginResponse | MfaChallengeOut:
    """Returns the token for API clients and sets it as an httpOnly cookie for browsers (with
    a CSRF token the page must echo in ``X-CSRF-Token`` on unsafe requests). A user with a
    second factor gets no session yet: ``mfa_required`` and an ``mfa_token`` for
    ``POST /api/auth/login/mfa``."""
    result = await auth_service.login(
        session,
        get_settings(),
        email=body.email,
        password=body.password,
        ip=client_ip_var.get(),
        user_agent=request.headers.get("user-agent"),
    )
    return sign_in_answer(result, response)


@router.post("/auth/logout", status_code=status.HTTP_204_NO_CONTENT, response_class=Response)
async def logout(user: Authenticated, session: DbSession) -> Response:
    await auth_service.logout(session, user)
    response = Response(status_code=status.HTTP_204_NO_CONTENT)
    clear_session_cookies(response, get_settings())
    return response


@router.get("/me", response_model=Me)
async def me(user: Authenticated) -> Me:
    return _me(user)
