"""Accounts: invitations, password resets, the profile, sessions and two-factor sign-in."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import Field, StrictBool, StrictInt, StringConstraints, model_validator

from app.models.enums import Role
from app.schemas.common import Email, Name, RequestModel, ResponseModel

# A token from a link (256 bits, URL-safe base64: 43 characters).
Token = Annotated[str, StringConstraints(min_length=1, max_length=100)]
# A password as typed: the rules (length 12-256, not guessable) are checked by the service with
# the person's name and address in mind (auth/password_policy.py).
AnyPassword = Annotated[str, StringConstraints(min_length=1, max_length=256)]
Code = Annotated[str, StringConstraints(min_length=1, max_length=20)]
Language = Annotated[str, StringConstraints(pattern=r"^[a-z]{2}(-[A-Z]{2})?$")]


class InvitationInspect(RequestModel):
    token: Token


class InvitationInfo(ResponseModel):
    email: str
    name: str
    mfa_required: bool


class InvitationAccept(RequestModel):
    token: Token
    password: AnyPassword


class PasswordForgot(RequestModel):
    email: str = Field(min_length=1, max_length=254)


class PasswordReset(RequestModel):
    token: Token
    password: AnyPassword


class EmailConfirm(RequestModel):
    token: Token


class PasswordChange(RequestModel):
    current_password: AnyPassword
    new_password: AnyPassword


class EmailChange(RequestModel):
    current_password: AnyPassword
    new_email: Email


class ProfileUpdate(RequestModel):
    name: Name | None = None
    language: Language | None = None


class SessionOut(ResponseModel):
    id: uuid.UUID
    current: bool
    device: str
    ip: str | None
    created_at: datetime
    last_seen_at: datetime


class SessionList(ResponseModel):
    items: list[SessionOut]


class CurrentPassword(RequestModel):
    current_password: AnyPassword


class TotpSetupOut(ResponseModel):
    secret: str
    otpauth_uri: str
    # The otpauth URI as a QR code (inline SVG, drawn by the server: no script needed).
    qr_svg: str


class TotpConfirm(RequestModel):
    code: Code


class TotpDisable(RequestModel):
    current_password: AnyPassword
    code: Code


class RecoveryCodesOut(ResponseModel):
    recovery_codes: list[str]


class WebAuthnRegister(RequestModel):
    # The PublicKeyCredential as JSON (navigator.credentials.create, base64url fields).
    credential: dict[str, Any]
    name: Annotated[str, StringConstraints(min_length=1, max_length=100)] = "Security key"


class WebAuthnKeyOut(ResponseModel):
    id: uuid.UUID
    name: str
    created_at: datetime
    last_used_at: datetime | None


class WebAuthnRegistered(ResponseModel):
    key: WebAuthnKeyOut
    # The first factor of an account comes with its recovery codes (shown once).
    recovery_codes: list[str] | None


class MfaStatus(ResponseModel):
    totp: bool
    webauthn: list[WebAuthnKeyOut]
    recovery_codes_left: int
    required: bool
    # Required and not enrolled: sign-in works without a second factor until then.
    grace_until: datetime | None


class MfaPolicyItem(ResponseModel):
    role: Role
    required: bool
    grace_hours: int


class MfaPolicyOut(ResponseModel):
    items: list[MfaPolicyItem]
    # A list like every other (one row per role: never a next page).
    next_cursor: None = None


class MfaPolicyItemIn(RequestModel):
    role: Role
    required: StrictBool
    grace_hours: StrictInt = Field(ge=0, le=24 * 90)


class MfaPolicyUpdate(RequestModel):
    items: list[MfaPolicyItemIn] = Field(min_length=1, max_length=len(Role))


class LoginMfaRequest(RequestModel):
    mfa_token: Token
    code: Code | None = None
    recovery_code: Code | None = None
    # The PublicKeyCredential of navigator.credentials.get, as JSON.
    webauthn: dict[str, Any] | None = None

    @model_validator(mode="after")
    def _one_factor(self) -> LoginMfaRequest:
        given = [x for x in (self.code, self.recovery_code, self.webauthn) if x is not None]
        if len(given) != 1:
            raise ValueError("Give exactly one of code, recovery_code or webauthn")
        return self


class MfaChallengeOut(ResponseModel):
    """The password was right; a second factor is needed. No session exists yet."""

    mfa_required: Literal[True] = True
    mfa_token: str
    methods: list[Literal["totp", "webauthn", "recovery_code"]]
    # Request options for navigator.credentials.get when the user has a security key.
    webauthn_options: dict[str, Any] | None = None
