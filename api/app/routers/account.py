"""Accounts: invitations, forgotten passwords, e-mail confirmation, the second step of sign-in,
the profile, sessions and two-factor enrolment (docs/RUNBOOK.md "Accounts")."""

from __future__ import annotations

import uuid
from typing import Any

from fastapi import APIRouter, Request, Response, status

from app.auth.cookies import csrf_token, set_session_cookies
from app.auth.deps import Authenticated, DbSession, SecurityAdmin, portal_visibility_of
from app.config import get_settings
from app.context import client_ip_var
from app.models.enums import Role
from app.schemas.account import (
    CurrentPassword,
    EmailChange,
    EmailConfirm,
    InvitationAccept,
    InvitationInfo,
    InvitationInspect,
    LoginMfaRequest,
    MfaChallengeOut,
    MfaPolicyItem,
    MfaPolicyOut,
    MfaPolicyUpdate,
    MfaStatus,
    PasswordChange,
    PasswordForgot,
    PasswordReset,
    ProfileUpdate,
    RecoveryCodesOut,
    SessionList,
    SessionOut,
    TotpConfirm,
    TotpDisable,
    TotpSetupOut,
    WebAuthnKeyOut,
    WebAuthnRegister,
    WebAuthnRegistered,
)
from app.schemas.auth import LoginResponse, Me
from app.services import accounts, mfa, sessions
from app.services import auth as auth_service

router = APIRouter(tags=["account"])
_204 = status.HTTP_204_NO_CONTENT


def _user_agent(request: Request) -> str | None:
    return request.headers.get("user-agent")


def sign_in_answer(
    result: auth_service.LoginResult | auth_service.MfaChallenge, response: Response
) -> LoginResponse | MfaChallengeOut:
    """The answer of a first sign-in step (local, directory, account link): a session, or the
    second step a user with a second factor still owes."""
    if isinstance(result, auth_service.MfaChallenge):
        return MfaChallengeOut(
            mfa_token=result.mfa_token,
            methods=result.methods,
            webauthn_options=result.webauthn_options,
        )
    return login_answer(result, response)


def login_answer(result: auth_service.LoginResult, response: Response) -> LoginResponse:
    """The answer of a completed sign-in (either step): the token for API clients, the httpOnly
    cookie and CSRF token for browsers."""
    settings = get_settings()
    set_session_cookies(
        response,
        settings,
        token=result.token,
        session_id=result.user.session_id,
        max_age=result.expires_in,
    )
    user = result.user
    return LoginResponse(
        access_token=result.token,
        expires_in=result.expires_in,
        csrf_token=csrf_token(settings.resolved_secret_key() or "", user.session_id),
        user=Me(
            id=user.id,
            email=user.email,
            name=user.name,
            role=user.role,
            org_id=user.org_id,
            org_name=user.org_name,
            language=user.language,
            portal_visibility=portal_visibility_of(user),
        ),
        mfa_setup_required=result.mfa_setup_required,
        mfa_grace_until=result.mfa_grace_until,
        restricted=result.restricted,
    )


# --- without a session -----------------------------------------------------------------------


@router.post("/auth/login/mfa", response_model=LoginResponse)
async def login_mfa(
    body: LoginMfaRequest, session: DbSession, request: Request, response: Response
) -> LoginResponse:
    """The second step of a sign-in: the ``mfa_token`` of the first step and one factor."""
    result = await auth_service.login_mfa(
        session,
        get_settings(),
        mfa_token=body.mfa_token,
        code=body.code,
        recovery_code=body.recovery_code,
        webauthn=body.webauthn,
        ip=client_ip_var.get(),
        user_agent=_user_agent(request),
    )
    return login_answer(result, response)


@router.post("/auth/invitation/inspect", response_model=InvitationInfo)
async def inspect_invitation(body: InvitationInspect, session: DbSession) -> InvitationInfo:
    """Whom a live invitation is for (the welcome page greets them)."""
    user, required = await accounts.inspect_invitation(session, body.token, client_ip_var.get())
    return InvitationInfo(email=user.email, name=user.name, mfa_required=required)


@router.post("/auth/invitation/accept", status_code=_204, response_class=Response)
async def accept_invitation(body: InvitationAccept, session: DbSession) -> Response:
    await accounts.accept_invitation(session, body.token, body.password, client_ip_var.get())
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post("/auth/password/forgot", status_code=status.HTTP_202_ACCEPTED)
async def forgot_password(body: PasswordForgot, session: DbSession) -> dict[str, str]:
    """Always 202 with the same body: whether the address is known is not told."""
    await accounts.forgot_password(session, get_settings(), body.email, client_ip_var.get())
    return {
        "detail": "If this address belongs to an account, a link to reset its password is on "
        "its way."
    }


@router.post("/auth/password/reset", status_code=_204, response_class=Response)
async def reset_password(body: PasswordReset, session: DbSession) -> Response:
    """Every session of the user ends; a second factor is still asked for at the next sign-in."""
    await accounts.reset_password(session, body.token, body.password, client_ip_var.get())
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post("/auth/email/confirm", status_code=_204, response_class=Response)
async def confirm_email(body: EmailConfirm, session: DbSession) -> Response:
    await accounts.confirm_email_change(session, body.token, client_ip_var.get())
    return Response(status_code=status.HTTP_204_NO_CONTENT)


# --- the profile -----------------------------------------------------------------------------


@router.patch("/me", response_model=Me)
async def update_profile(body: ProfileUpdate, user: Authenticated, session: DbSession) -> Me:
    row = await accounts.update_profile(session, user, name=body.name, language=body.language)
    return Me(
        id=row.id,
        email=row.email,
        name=row.name,
        role=Role(row.role),
        org_id=row.org_id,
        org_name=user.org_name,
        language=row.language,
        portal_visibility=portal_visibility_of(user),
    )


@router.post("/me/password", status_code=_204, response_class=Response)
async def change_password(
    body: PasswordChange, user: Authenticated, session: DbSession
) -> Response:
    """Every other session of the user ends; this one stays."""
    await accounts.change_password(session, user, body.current_password, body.new_password)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post("/me/email", status_code=status.HTTP_202_ACCEPTED)
async def change_email(
    body: EmailChange, user: Authenticated, session: DbSession
) -> dict[str, str]:
    await accounts.request_email_change(session, user, body.current_password, body.new_email)
    return {"detail": "A confirmation link is on its way to the new address."}


# --- sessions --------------------------------------------------------------------------------


@router.get("/me/sessions", response_model=SessionList)
async def list_sessions(user: Authenticated, session: DbSession) -> SessionList:
    items = await sessions.list_mine(session, user)
    return SessionList(items=[SessionOut.model_validate(i) for i in items])


@router.delete("/me/sessions/{session_id}", status_code=_204, response_class=Response)
async def revoke_session(
    session_id: uuid.UUID, user: Authenticated, session: DbSession
) -> Response:
    await sessions.revoke(session, user, session_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post("/me/sessions/revoke-others", status_code=_204, response_class=Response)
async def revoke_other_sessions(user: Authenticated, session: DbSession) -> Response:
    await sessions.revoke_others(session, user)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


# --- two-factor sign-in ----------------------------------------------------------------------


def _key(key: Any) -> WebAuthnKeyOut:
    return WebAuthnKeyOut.model_validate(key)


@router.get("/me/mfa", response_model=MfaStatus)
async def mfa_status(user: Authenticated, session: DbSession) -> MfaStatus:
    found = await mfa.status(session, user)
    return MfaStatus(
        totp=found.totp,
        webauthn=[_key(k) for k in found.webauthn],
        recovery_codes_left=found.recovery_codes_left,
        required=found.required,
        grace_until=found.grace_until,
    )


@router.post("/me/mfa/totp", response_model=TotpSetupOut)
async def begin_totp(
    body: CurrentPassword, user: Authenticated, session: DbSession
) -> TotpSetupOut:
    """A new secret, not active until a first code confirms it."""
    setup = await mfa.totp_begin(session, user, body.current_password)
    return TotpSetupOut(secret=setup.secret, otpauth_uri=setup.otpauth_uri, qr_svg=setup.qr_svg)


@router.post("/me/mfa/totp/confirm", response_model=RecoveryCodesOut)
async def confirm_totp(
    body: TotpConfirm, user: Authenticated, session: DbSession
) -> RecoveryCodesOut:
    """The first code makes the app a second factor; the answer holds ten new recovery codes
    (shown once)."""
    return RecoveryCodesOut(recovery_codes=await mfa.totp_confirm(session, user, body.code))


@router.delete("/me/mfa/totp", status_code=_204, response_class=Response)
async def remove_totp(body: TotpDisable, user: Authenticated, session: DbSession) -> Response:
    await mfa.totp_disable(session, user, body.current_password, body.code)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post("/me/mfa/webauthn/register/options")
async def webauthn_options(
    body: CurrentPassword, user: Authenticated, session: DbSession
) -> dict[str, Any]:
    """Creation options for ``navigator.credentials.create`` (JSON, base64url fields)."""
    return await mfa.webauthn_register_options(session, user, body.current_password)


@router.post("/me/mfa/webauthn/register", response_model=WebAuthnRegistered)
async def webauthn_register(
    body: WebAuthnRegister, user: Authenticated, session: DbSession
) -> WebAuthnRegistered:
    key, codes = await mfa.webauthn_register(session, user, body.credential, body.name)
    return WebAuthnRegistered(key=_key(key), recovery_codes=codes)


@router.delete("/me/mfa/webauthn/keys/{key_id}", status_code=_204, response_class=Response)
async def webauthn_delete(
    key_id: uuid.UUID, body: CurrentPassword, user: Authenticated, session: DbSession
) -> Response:
    await mfa.webauthn_delete(session, user, key_id, body.current_password)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post("/me/mfa/recovery-codes", response_model=RecoveryCodesOut)
async def new_recovery_codes(
    body: CurrentPassword, user: Authenticated, session: DbSession
) -> RecoveryCodesOut:
    """Ten new codes; the old ones stop working."""
    codes = await mfa.regenerate_recovery_codes(session, user, body.current_password)
    return RecoveryCodesOut(recovery_codes=codes)


# --- the policy ------------------------------------------------------------------------------


def _policy(rows: list[Any]) -> MfaPolicyOut:
    return MfaPolicyOut(items=[MfaPolicyItem.model_validate(r) for r in rows])


@router.get("/admin/mfa-policy", response_model=MfaPolicyOut)
async def get_mfa_policy(actor: SecurityAdmin, session: DbSession) -> MfaPolicyOut:
    return _policy(await mfa.policy(session))


@router.put("/admin/mfa-policy", response_model=MfaPolicyOut)
async def put_mfa_policy(
    body: MfaPolicyUpdate, actor: SecurityAdmin, session: DbSession
) -> MfaPolicyOut:
    items = [(i.role, i.required, i.grace_hours) for i in body.items]
    return _policy(await mfa.set_policy(session, actor, items))
