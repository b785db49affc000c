"""Single sign-on (docs/SSO.md): the sign-in page's providers, the OpenID Connect redirect and
callback, directory (LDAP) sign-in, linking a local account, and the administration of providers,
the sign-in policy and users' identities."""

from __future__ import annotations

import uuid
from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Form, Query, Request, Response, status
from fastapi.responses import JSONResponse, RedirectResponse

from app.auth import oidc
from app.auth.cookies import set_session_cookies
from app.auth.deps import DbSession, SecurityAdmin
from app.config import get_settings
from app.context import client_ip_var
from app.models import IdentityProvider
from app.models.enums import Role
from app.routers.account import sign_in_answer
from app.schemas.account import MfaChallengeOut
from app.schemas.auth import LoginResponse
from app.schemas.sso import (
    BreakGlassOut,
    IdentityApprove,
    IdentityOut,
    LdapLoginRequest,
    LinkRequest,
    MappingOut,
    ProviderCheckOut,
    ProviderCreate,
    ProviderOut,
    ProviderUpdate,
    PublicProvider,
    RolePolicyOut,
    SigninPolicyOut,
    SigninPolicyUpdate,
    SyncOut,
)
from app.services import signin_policy, sso, sso_admin

router = APIRouter(tags=["sso"])
_204 = status.HTTP_204_NO_CONTENT


def _secure() -> bool:
    return get_settings().public_url.startswith("https://")


# --- without a session -----------------------------------------------------------------------


@router.get("/auth/providers", response_model=list[PublicProvider])
async def public_providers(session: DbSession) -> list[PublicProvider]:
    """The enabled providers, for the sign-in page's buttons."""
    return [
        PublicProvider(slug=p.slug, name=p.name, kind=p.kind)
        for p in await sso.enabled_providers(session)
    ]


def _to_login(code: str) -> RedirectResponse:
    return RedirectResponse(
        f"/login?sso_error={quote(code)}", status_code=status.HTTP_303_SEE_OTHER
    )


@router.get(
    "/auth/sso/{slug}/start",
    status_code=status.HTTP_303_SEE_OTHER,
    response_class=RedirectResponse,
    responses={303: {"description": "To the provider (or back to /login?sso_error=...)"}},
)
async def sso_start(
    slug: str,
    session: DbSession,
    next: str | None = Query(default=None, max_length=500),
) -> RedirectResponse:
    """Sends the browser to the provider (authorization code with PKCE, state and nonce), bound
    to this browser by a short-lived cookie."""
    outcome = await sso.oidc_start(session, get_settings(), slug[:40], next, ip=client_ip_var.get())
    if isinstance(outcome, sso.Refusal):
        return _to_login(outcome.code)
    response = RedirectResponse(outcome.url, status_code=status.HTTP_303_SEE_OTHER)
    response.set_cookie(
        sso.BROWSER_COOKIE,
        outcome.browser,
        max_age=sso.SSO_LOGIN_MINUTES * 60,
        path="/api/auth/sso",
        secure=_secure(),
        httponly=True,
        # The provider sends the browser back with a top-level GET from its own site.
        samesite="lax",
    )
    return response


@router.get(
    "/auth/sso/{slug}/callback",
    status_code=status.HTTP_303_SEE_OTHER,
    response_class=RedirectResponse,
    responses={303: {"description": "Signed in (to the page asked for) or to /login"}},
)
async def sso_callback(
    slug: str,
    request: Request,
    session: DbSession,
    state: str | None = Query(default=None, max_length=200),
    code: str | None = Query(default=None, max_length=2000),
    error: str | None = Query(default=None, max_length=200),
) -> RedirectResponse:
    """Where the provider sends the browser back: the code is exchanged, the ID token checked,
    the user signed in (session cookies set) or sent to the sign-in page with the reason."""
    outcome, return_to = await sso.oidc_callback(
        session,
        get_settings(),
        slug[:40],
        state=state,
        code=code,
        error=error,
        browser=request.cookies.get(sso.BROWSER_COOKIE),
        ip=client_ip_var.get(),
        user_agent=request.headers.get("user-agent"),
    )
    if isinstance(outcome, sso.Refusal):
        response = _to_login(outcome.code)
    elif isinstance(outcome, sso.LinkOffer):
        # In the fragment: never sent to a server, never in an access log.
        response = RedirectResponse(
            f"/login/link#{outcome.token}", status_code=status.HTTP_303_SEE_OTHER
        )
    else:
        response = RedirectResponse(return_to, status_code=status.HTTP_303_SEE_OTHER)
        set_session_cookies(
            response,
            get_settings(),
            token=outcome.token,
            session_id=outcome.user.session_id,
            max_age=outcome.expires_in,
        )
    response.delete_cookie(sso.BROWSER_COOKIE, path="/api/auth/sso", secure=_secure())
    return response


@router.post(
    "/auth/sso/{slug}/backchannel-logout",
    status_code=status.HTTP_200_OK,
    response_class=Response,
    responses={200: {"description": "Sessions ended"}, 400: {"description": "Not a valid token"}},
)
async def backchannel_logout(
    slug: str, session: DbSession, logout_token: Annotated[str, Form(max_length=8000)]
) -> Response:
    """OpenID Connect Back-Channel Logout: the provider posts a signed logout token when a user
    signs out there (or is removed); their sessions here end at once."""
    headers = {"Cache-Control": "no-store"}
    try:
        await sso.backchannel_logout(session, slug[:40], logout_token)
    except oidc.OidcError as exc:
        return JSONResponse(
            {"error": "invalid_request", "error_description": exc.detail[:300]},
            status_code=status.HTTP_400_BAD_REQUEST,
            headers=headers,
        )
    return Response(status_code=status.HTTP_200_OK, headers=headers)


@router.post("/auth/ldap/{slug}/login", response_model=LoginResponse | MfaChallengeOut)
async def ldap_login(
    slug: str, body: LdapLoginRequest, session: DbSession, request: Request, response: Response
) -> LoginResponse | MfaChallengeOut:
    """Sign in with a directory account (username and directory password); a user with a second
    factor gets the second step as for a local sign-in."""
    result = await sso.ldap_login(
        session,
        get_settings(),
        slug[:40],
        username=body.username,
        password=body.password,
        ip=client_ip_var.get(),
        user_agent=request.headers.get("user-agent"),
    )
    return sign_in_answer(result, response)


@router.post("/auth/sso/link", response_model=LoginResponse | MfaChallengeOut)
async def link_account(
    body: LinkRequest, session: DbSession, request: Request, response: Response
) -> LoginResponse | MfaChallengeOut:
    """Link the local account with the provider's identity just used: its password proves it is
    the same person (and its second factor, through ``POST /api/auth/login/mfa``)."""
    result = await sso.complete_link(
        session,
        get_settings(),
        link_token=body.link_token,
        password=body.password,
        ip=client_ip_var.get(),
        user_agent=request.headers.get("user-agent"),
    )
    return sign_in_answer(result, response)


# --- administration ----------------------------------------------------------------------------


def _provider_out(provider: IdentityProvider, users: int) -> ProviderOut:
    settings = get_settings()
    return ProviderOut(
        id=provider.id,
        kind=provider.kind,
        slug=provider.slug,
        name=provider.name,
        enabled=provider.enabled,
        settings=provider.settings,
        has_secret=provider.secret_sealed is not None,
        mappings=[MappingOut.model_validate(m) for m in provider.mappings or []],
        sync_minutes=provider.sync_minutes,
        last_sync_at=provider.last_sync_at,
        last_sync_result=provider.last_sync_result,
        last_error=provider.last_error,
        redirect_uri=sso.redirect_uri(settings, provider) if provider.kind == "oidc" else None,
        users=users,
        created_at=provider.created_at,
    )


@router.get("/admin/sso/providers", response_model=list[ProviderOut])
async def list_providers(actor: SecurityAdmin, session: DbSession) -> list[ProviderOut]:
    counts = await sso_admin.users_count(session)
    return [_provider_out(p, counts.get(p.id, 0)) for p in await sso_admin.list_providers(session)]


@router.post(
    "/admin/sso/providers", response_model=ProviderOut, status_code=status.HTTP_201_CREATED
)
async def create_provider(
    body: ProviderCreate, actor: SecurityAdmin, session: DbSession
) -> ProviderOut:
    return _provider_out(await sso_admin.create(session, actor, body), 0)


@router.get("/admin/sso/providers/{provider_id}", response_model=ProviderOut)
async def get_provider(
    provider_id: uuid.UUID, actor: SecurityAdmin, session: DbSession
) -> ProviderOut:
    provider = await sso_admin.get(session, provider_id)
    counts = await sso_admin.users_count(session)
    return _provider_out(provider, counts.get(provider.id, 0))


@router.patch("/admin/sso/providers/{provider_id}", response_model=ProviderOut)
async def update_provider(
    provider_id: uuid.UUID, body: ProviderUpdate, actor: SecurityAdmin, session: DbSession
) -> ProviderOut:
    provider = await sso_admin.update(session, actor, provider_id, body)
    counts = await sso_admin.users_count(session)
    return _provider_out(provider, counts.get(provider.id, 0))


@router.delete("/admin/sso/providers/{provider_id}", status_code=_204, response_class=Response)
async def delete_provider(
    provider_id: uuid.UUID, actor: SecurityAdmin, session: DbSession
) -> Response:
    await sso_admin.remove(session, actor, provider_id)
    return Response(status_code=_204)


@router.post("/admin/sso/providers/{provider_id}/check", response_model=ProviderCheckOut)
async def check_provider(
    provider_id: uuid.UUID, actor: SecurityAdmin, session: DbSession
) -> ProviderCheckOut:
    """Try the provider with its settings: discovery (OpenID Connect), bind and search (LDAP)."""
    ok, detail = await sso_admin.check(session, provider_id)
    return ProviderCheckOut(ok=ok, detail=detail)


@router.post("/admin/sso/providers/{provider_id}/sync", response_model=SyncOut)
async def sync_provider(
    provider_id: uuid.UUID, actor: SecurityAdmin, session: DbSession
) -> SyncOut:
    """Synchronise a directory's users now (the worker does it every ``sync_minutes``)."""
    result = await sso_admin.sync_now(session, actor, provider_id)
    return SyncOut(**result.as_dict())


async def _policy_out(session: DbSession) -> SigninPolicyOut:
    rules = await signin_policy.rules(session)
    chosen = await signin_policy.break_glass(session)
    return SigninPolicyOut(
        roles=[
            RolePolicyOut(
                role=r.role,
                password_allowed=r.password_allowed,
                idp_mfa_required=r.idp_mfa_required,
            )
            for r in rules
        ],
        break_glass=BreakGlassOut(
            user_id=chosen.id, email=chosen.email, name=chosen.name, mfa_enabled=chosen.mfa_enabled
        )
        if chosen
        else None,
    )


@router.get("/admin/signin-policy", response_model=SigninPolicyOut)
async def get_signin_policy(actor: SecurityAdmin, session: DbSession) -> SigninPolicyOut:
    return await _policy_out(session)


@router.put("/admin/signin-policy", response_model=SigninPolicyOut)
async def put_signin_policy(
    body: SigninPolicyUpdate, actor: SecurityAdmin, session: DbSession
) -> SigninPolicyOut:
    """Per role: local passwords allowed, second factor required at the provider; and the
    break-glass administrator (needed before admins lose local passwords)."""
    await signin_policy.set_rules(
        session,
        actor,
        [
            signin_policy.RoleRule(Role(r.role), r.password_allowed, r.idp_mfa_required)
            for r in body.roles
        ],
        body.break_glass_user_id,
    )
    return await _policy_out(session)


@router.get("/users/{user_id}/identities", response_model=list[IdentityOut])
async def list_identities(
    user_id: uuid.UUID, actor: SecurityAdmin, session: DbSession
) -> list[IdentityOut]:
    return [
        IdentityOut(
            id=link.id,
            provider_id=provider.id,
            provider_name=provider.name,
            provider_kind=provider.kind,
            subject=link.subject,
            groups=link.groups,
            last_login_at=link.last_login_at,
            created_at=link.created_at,
            pending=link.subject is None,
        )
        for link, provider in await sso_admin.identities(session, actor, user_id)
    ]


@router.post(
    "/users/{user_id}/identities", status_code=status.HTTP_201_CREATED, response_model=IdentityOut
)
async def approve_identity(
    user_id: uuid.UUID, body: IdentityApprove, actor: SecurityAdmin, session: DbSession
) -> IdentityOut:
    """Approve linking this user to a provider: done at their next sign-in there with the same
    e-mail address (instead of proving the local password)."""
    link = await sso_admin.approve_link(session, actor, user_id, body.provider_id)
    provider = await sso_admin.get(session, body.provider_id)
    return IdentityOut(
        id=link.id,
        provider_id=provider.id,
        provider_name=provider.name,
        provider_kind=provider.kind,
        subject=None,
        groups=None,
        last_login_at=None,
        created_at=link.created_at,
        pending=True,
    )


@router.delete(
    "/users/{user_id}/identities/{identity_id}", status_code=_204, response_class=Response
)
async def remove_identity(
    user_id: uuid.UUID, identity_id: uuid.UUID, actor: SecurityAdmin, session: DbSession
) -> Response:
    await sso_admin.unlink(session, actor, user_id, identity_id)
    return Response(status_code=_204)
