"""Two-factor sign-in: TOTP (RFC 6238, 30 s steps, ±1 step of drift, each code accepted once),
WebAuthn security keys and passkeys, and ten single-use recovery codes (hashed like passwords).

Enrolment needs the current password (ASVS 7.5.1). The second step of a sign-in is checked here
(``verify``); the half-login it belongs to lives in services/auth.py. The per-role policy says
whose sign-in needs a second factor, and how long after the first sign-in that asked for one a
user may still sign in without.
"""

from __future__ import annotations

import base64
import hmac
import json
import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

import pyotp
import segno
from sqlalchemy import delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from webauthn import (
    generate_authentication_options,
    generate_registration_options,
    options_to_json,
    verify_authentication_response,
    verify_registration_response,
)
from webauthn.helpers import base64url_to_bytes, bytes_to_base64url
from webauthn.helpers.exceptions import WebAuthnException
from webauthn.helpers.structs import (
    AuthenticatorSelectionCriteria,
    AuthenticatorTransport,
    PublicKeyCredentialDescriptor,
    ResidentKeyRequirement,
    UserVerificationRequirement,
)

from app.auth.deps import CurrentUser
from app.auth.passwords import hash_code, verify_code
from app.config import get_settings
from app.errors import Conflict, Invalid, NotFound
from app.mail import secretbox
from app.models import AccountToken, AuthSession, MfaPolicy, RecoveryCode, User, WebAuthnCredential
from app.models.enums import Role
from app.services import account_mail, account_tokens, audit
from app.services.reauth import confirm_password, load_me
from app.services.sessions import revoke_all_sessions
from app.services.users import get as get_user
from app.utils.clock import utcnow

ISSUER = "ATUM DESK"
STEP_SECONDS = 30
RECOVERY_CODES = 10
_CODE_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"  # no 0/o, 1/l/i


# --- policy ----------------------------------------------------------------------------------


async def policy(session: AsyncSession) -> list[MfaPolicy]:
    rows = (await session.execute(select(MfaPolicy))).scalars().all()
    order = {r.value: i for i, r in enumerate(Role)}
    return sorted(rows, key=lambda p: order.get(p.role, 99))


async def policy_for(session: AsyncSession, role: str) -> MfaPolicy | None:
    return await session.get(MfaPolicy, role)


async def required_for(session: AsyncSession, role: str) -> bool:
    row = await policy_for(session, role)
    return bool(row and row.required)


async def set_policy(
    session: AsyncSession, actor: CurrentUser, items: list[tuple[Role, bool, int]]
) -> list[MfaPolicy]:
    changed: dict[str, dict[str, object]] = {}
    for role, required, grace_hours in items:
        row = await session.get(MfaPolicy, role.value, with_for_update=True)
        if row is None:
            row = MfaPolicy(role=role.value, required=required, grace_hours=grace_hours)
            session.add(row)
            changed[role.value] = {"required": required, "grace_hours": grace_hours}
        elif (row.required, row.grace_hours) != (required, grace_hours):
            row.required, row.grace_hours = required, grace_hours
            changed[role.value] = {"required": required, "grace_hours": grace_hours}
    if changed:
        await session.flush()
        await audit.record(
            session,
            actor=actor,
            action="mfa.policy_updated",
            entity_type="mfa_policy",
            entity_id=None,
            new_value=changed,
        )
    return await policy(session)


@dataclass(frozen=True, slots=True)
class Enforcement:
    """What the policy means for one user at sign-in."""

    required: bool
    grace_until: datetime | None
    # The grace period is over and no factor is enrolled: the session may only enrol one.
    restricted: bool


async def enforcement(session: AsyncSession, user: User) -> Enforcement:
    """Starts the grace period at the first sign-in that asks for a factor."""
    rule = await policy_for(session, user.role)
    if rule is None or not rule.required or user.mfa_enabled:
        return Enforcement(bool(rule and rule.required), None, False)
    if user.mfa_grace_started_at is None:
        user.mfa_grace_started_at = utcnow()
    until = _grace_until(rule, user)
    assert until is not None
    return Enforcement(True, until, utcnow() >= until)


def _grace_until(rule: MfaPolicy | None, user: User) -> datetime | None:
    """When a user whose role requires a factor, and who has none, must have one."""
    if rule is None or not rule.required or user.mfa_enabled or user.mfa_grace_started_at is None:
        return None
    return user.mfa_grace_started_at + timedelta(hours=rule.grace_hours)


# --- status ----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Status:
    totp: bool
    webauthn: list[WebAuthnCredential]
    recovery_codes_left: int
    required: bool
    grace_until: datetime | None


async def status(session: AsyncSession, actor: CurrentUser) -> Status:
    user = await session.get(User, actor.id)
    assert user is not None
    keys = await _keys(session, user.id)
    left = await session.scalar(
        select(func.count())
        .select_from(RecoveryCode)
        .where(RecoveryCode.user_id == user.id, RecoveryCode.used_at.is_(None))
    )
    rule = await policy_for(session, user.role)
    grace_until = _grace_until(rule, user)
    return Status(
        totp=user.totp_secret is not None,
        webauthn=keys,
        recovery_codes_left=int(left or 0),
        required=bool(rule and rule.required),
        grace_until=grace_until,
    )


async def _keys(session: AsyncSession, user_id: uuid.UUID) -> list[WebAuthnCredential]:
    rows = await session.execute(
        select(WebAuthnCredential)
        .where(WebAuthnCredential.user_id == user_id)
        .order_by(WebAuthnCredential.created_at)
    )
    return list(rows.scalars())


async def _refresh_enabled(session: AsyncSession, user: User) -> None:
    keys = await session.scalar(
        select(func.count())
        .select_from(WebAuthnCredential)
        .where(WebAuthnCredential.user_id == user.id)
    )
    user.mfa_enabled = user.totp_secret is not None or bool(keys)
    if user.mfa_enabled:
        user.mfa_grace_started_at = None
        # A session limited to enrolling a factor (grace period over) becomes a full one.
        await session.execute(
            update(AuthSession)
            .where(AuthSession.user_id == user.id, AuthSession.restricted.is_(True))
            .values(restricted=False)
        )
    await session.flush()


# --- recovery codes --------------------------------------------------------------------------


def _new_code() -> str:
    raw = "".join(secrets.choice(_CODE_ALPHABET) for _ in range(12))
    return f"{raw[:4]}-{raw[4:8]}-{raw[8:]}"


def _normal(code: str) -> str:
    raw = "".join(ch for ch in code.lower() if ch.isalnum())
    return f"{raw[:4]}-{raw[4:8]}-{raw[8:]}" if len(raw) == 12 else raw


async def _new_recovery_codes(session: AsyncSession, user_id: uuid.UUID) -> list[str]:
    await session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user_id))
    codes = [_new_code() for _ in range(RECOVERY_CODES)]
    session.add_all(RecoveryCode(user_id=user_id, code_hash=hash_code(c)) for c in codes)
    await session.flush()
    return codes


async def regenerate_recovery_codes(
    session: AsyncSession, actor: CurrentUser, current_password: str
) -> list[str]:
    user = await confirm_password(session, actor, current_password)
    if not user.mfa_enabled:
        raise Conflict("Set up an authenticator app or a security key first")
    codes = await _new_recovery_codes(session, user.id)
    await _audit(session, actor, user, "auth.mfa_enrolled", {"method": "recovery_codes"})
    return codes


async def use_recovery_code(session: AsyncSession, user: User, code: str) -> bool:
    wanted = _normal(code)
    rows = (
        await session.execute(
            select(RecoveryCode)
            .where(RecoveryCode.user_id == user.id, RecoveryCode.used_at.is_(None))
            .with_for_update()
        )
    ).scalars()
    for row in rows:
        if verify_code(row.code_hash, wanted):
            row.used_at = utcnow()
            await session.flush()
            return True
    return False


# --- TOTP ------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class TotpSetup:
    secret: str
    otpauth_uri: str
    qr_svg: str


def _totp(secret: str) -> pyotp.TOTP:
    return pyotp.TOTP(secret, interval=STEP_SECONDS, digits=6)


async def totp_begin(session: AsyncSession, actor: CurrentUser, current_password: str) -> TotpSetup:
    user = await confirm_password(session, actor, current_password)
    if user.totp_secret is not None:
        raise Conflict("An authenticator app is already set up; remove it first")
    secret = base64.b32encode(secrets.token_bytes(20)).decode()  # 160 bits (RFC 4226)
    user.totp_pending_secret = secretbox.seal(secret, secretbox.TOTP)
    await session.flush()
    uri = _totp(secret).provisioning_uri(name=user.email, issuer_name=ISSUER)
    qr = segno.make(uri, error="m")
    return TotpSetup(secret, uri, qr.svg_inline(scale=5, dark="#141B3D", light="#FFFFFF"))


def _code_ok(code: str) -> str | None:
    code = "".join(code.split())
    return code if len(code) == 6 and code.isdigit() else None


async def _accept_totp(session: AsyncSession, user: User, secret: str, code: str) -> bool:
    """True when *code* is valid within ±1 step and newer than the last step accepted; that step
    is then recorded, so the same code (or an older one) never works again."""
    clean = _code_ok(code)
    if clean is None:
        return False
    totp = _totp(secret)
    now = totp.timecode(utcnow())
    for step in (now, now - 1, now + 1):
        if step > user.totp_last_step and hmac.compare_digest(totp.generate_otp(step), clean):
            taken = await session.execute(
                update(User)
                .where(User.id == user.id, User.totp_last_step < step)
                .values(totp_last_step=step)
                .returning(User.id)
            )
            if taken.first() is None:
                return False
            user.totp_last_step = step
            return True
    return False


async def totp_confirm(session: AsyncSession, actor: CurrentUser, code: str) -> list[str]:
    user = await load_me(session, actor)
    if user.totp_pending_secret is None:
        raise Conflict("Start the set-up first")
    secret = secretbox.unseal(user.totp_pending_secret, secretbox.TOTP)
    if secret is None or not await _accept_totp(session, user, secret, code):
        raise Invalid("code", "This code is not correct; check the time on your device")
    user.totp_secret, user.totp_pending_secret = user.totp_pending_secret, None
    await _refresh_enabled(session, user)
    codes = await _new_recovery_codes(session, user.id)
    await _audit(session, actor, user, "auth.mfa_enrolled", {"method": "totp"})
    return codes


async def totp_disable(
    session: AsyncSession, actor: CurrentUser, current_password: str, code: str
) -> None:
    user = await confirm_password(session, actor, current_password)
    if user.totp_secret is None:
        raise NotFound("No authenticator app is set up")
    secret = secretbox.unseal(user.totp_secret, secretbox.TOTP)
    if secret is None or not await _accept_totp(session, user, secret, code):
        raise Invalid("code", "This code is not correct")
    await _keep_one_if_required(session, user)
    user.totp_secret = None
    await _refresh_enabled(session, user)
    await _audit(session, actor, user, "auth.mfa_removed", {"method": "totp"})


async def _keep_one_if_required(session: AsyncSession, user: User) -> None:
    """A role that requires two factors keeps at least one: refuse removing the last."""
    if not await required_for(session, user.role):
        return
    enrolled = len(await _keys(session, user.id)) + (1 if user.totp_secret is not None else 0)
    if enrolled <= 1:
        raise Conflict("Your role requires a second factor: add another one before removing this")


# --- WebAuthn --------------------------------------------------------------------------------


def relying_party() -> tuple[str, str]:
    """(rp id, expected origin) from ATUM_PUBLIC_URL (or ATUM_WEBAUTHN_RP_ID)."""
    settings = get_settings()
    parts = urlsplit(settings.public_url)
    origin = f"{parts.scheme}://{parts.netloc}"
    return (settings.webauthn_rp_id or parts.hostname or "localhost"), origin


def _descriptor(key: WebAuthnCredential) -> PublicKeyCredentialDescriptor:
    transports = []
    for t in key.transports or []:
        try:
            transports.append(AuthenticatorTransport(t))
        except ValueError:
            continue
    return PublicKeyCredentialDescriptor(id=key.credential_id, transports=transports or None)


async def webauthn_register_options(
    session: AsyncSession, actor: CurrentUser, current_password: str
) -> dict[str, Any]:
    user = await confirm_password(session, actor, current_password)
    rp_id, _ = relying_party()
    options = generate_registration_options(
        rp_id=rp_id,
        rp_name=ISSUER,
        user_name=user.email,
        user_id=user.id.bytes,
        user_display_name=user.name,
        # A second factor after the password: presence is enough (a PIN prompt for every
        # sign-in is what users of other desks asked to turn off).
        authenticator_selection=AuthenticatorSelectionCriteria(
            resident_key=ResidentKeyRequirement.DISCOURAGED,
            user_verification=UserVerificationRequirement.DISCOURAGED,
        ),
        exclude_credentials=[_descriptor(k) for k in await _keys(session, user.id)],
    )
    await account_tokens.issue(
        session,
        user.id,
        "webauthn_register",
        timedelta(minutes=5),
        data={"challenge": bytes_to_base64url(options.challenge)},
    )
    result: dict[str, Any] = json.loads(options_to_json(options))
    return result


async def webauthn_register(
    session: AsyncSession, actor: CurrentUser, credential: dict[str, Any], name: str
) -> tuple[WebAuthnCredential, list[str] | None]:
    """Store the key; the first factor of an account also gets its recovery codes."""
    user = await load_me(session, actor)
    pending = (
        await session.execute(
            select(AccountToken)
            .where(
                AccountToken.user_id == user.id,
                AccountToken.purpose == "webauthn_register",
                AccountToken.used_at.is_(None),
                AccountToken.expires_at > func.now(),
            )
            .with_for_update()
        )
    ).scalar_one_or_none()
    if pending is None or not pending.data:
        raise Conflict("Start the registration again")
    pending.used_at = utcnow()
    rp_id, origin = relying_party()
    try:
        verified = verify_registration_response(
            credential=credential,
            expected_challenge=base64url_to_bytes(str(pending.data["challenge"])),
            expected_rp_id=rp_id,
            expected_origin=origin,
        )
    except (WebAuthnException, ValueError, KeyError, TypeError) as exc:
        raise Invalid("credential", f"The security key's answer was not accepted: {exc}") from exc
    if await session.scalar(
        select(WebAuthnCredential.id).where(
            WebAuthnCredential.credential_id == verified.credential_id
        )
    ):
        raise Conflict("This security key is already registered")
    transports = credential.get("response", {}).get("transports")
    key = WebAuthnCredential(
        user_id=user.id,
        credential_id=verified.credential_id,
        public_key=verified.credential_public_key,
        sign_count=verified.sign_count,
        name=name,
        transports=[str(t) for t in transports] if isinstance(transports, list) else None,
    )
    session.add(key)
    await session.flush()
    first = not user.mfa_enabled
    await _refresh_enabled(session, user)
    codes = await _new_recovery_codes(session, user.id) if first else None
    await _audit(session, actor, user, "auth.mfa_enrolled", {"method": "webauthn", "name": name})
    return key, codes


async def webauthn_delete(
    session: AsyncSession, actor: CurrentUser, key_id: uuid.UUID, current_password: str
) -> None:
    user = await confirm_password(session, actor, current_password)
    key = await session.scalar(
        select(WebAuthnCredential).where(
            WebAuthnCredential.id == key_id, WebAuthnCredential.user_id == user.id
        )
    )
    if key is None:
        raise NotFound("Security key not found")
    await _keep_one_if_required(session, user)
    await session.delete(key)
    await session.flush()
    await _refresh_enabled(session, user)
    await _audit(session, actor, user, "auth.mfa_removed", {"method": "webauthn", "name": key.name})


async def login_options(session: AsyncSession, user: User) -> dict[str, Any] | None:
    """WebAuthn request options for a half-login (None when the user has no key)."""
    keys = await _keys(session, user.id)
    if not keys:
        return None
    rp_id, _ = relying_party()
    options = generate_authentication_options(
        rp_id=rp_id,
        allow_credentials=[_descriptor(k) for k in keys],
        user_verification=UserVerificationRequirement.DISCOURAGED,
    )
    result: dict[str, Any] = json.loads(options_to_json(options))
    return result


# --- the second step of a sign-in ------------------------------------------------------------


async def verify(
    session: AsyncSession,
    user: User,
    *,
    code: str | None,
    recovery_code: str | None,
    webauthn: dict[str, Any] | None,
    challenge: str | None,
) -> str | None:
    """The method that proved the second factor, or None."""
    if code is not None and user.totp_secret is not None:
        secret = secretbox.unseal(user.totp_secret, secretbox.TOTP)
        if secret is not None and await _accept_totp(session, user, secret, code):
            return "totp"
        return None
    if recovery_code is not None:
        return "recovery_code" if await use_recovery_code(session, user, recovery_code) else None
    if webauthn is not None and challenge is not None:
        return "webauthn" if await _accept_assertion(session, user, webauthn, challenge) else None
    return None


async def _accept_assertion(
    session: AsyncSession, user: User, credential: dict[str, Any], challenge: str
) -> bool:
    try:
        raw_id = base64url_to_bytes(str(credential["rawId"]))
    except (KeyError, ValueError, TypeError):
        return False
    key = await session.scalar(
        select(WebAuthnCredential)
        .where(WebAuthnCredential.user_id == user.id, WebAuthnCredential.credential_id == raw_id)
        .with_for_update()
    )
    if key is None:
        return False
    rp_id, origin = relying_party()
    try:
        verified = verify_authentication_response(
            credential=credential,
            expected_challenge=base64url_to_bytes(challenge),
            expected_rp_id=rp_id,
            expected_origin=origin,
            credential_public_key=key.public_key,
            credential_current_sign_count=key.sign_count,
        )
    except (WebAuthnException, ValueError, KeyError, TypeError):
        return False
    key.sign_count = verified.new_sign_count
    key.last_used_at = utcnow()
    await session.flush()
    return True


def methods(user: User, has_keys: bool) -> list[str]:
    found = []
    if user.totp_secret is not None:
        found.append("totp")
    if has_keys:
        found.append("webauthn")
    found.append("recovery_code")
    return found


# --- administration --------------------------------------------------------------------------


async def admin_reset(session: AsyncSession, actor: CurrentUser, user_id: uuid.UUID) -> None:
    """Remove every second factor of a user who lost theirs (after checking who they are, outside
    the software: ASVS 6.4.4). Their sessions end and they are told by mail."""
    user = await get_user(session, actor, user_id)
    if user.id == actor.id:
        raise Conflict("Reset your own factors from your profile")
    user = await session.get(User, user.id, with_for_update=True) or user
    await session.execute(delete(WebAuthnCredential).where(WebAuthnCredential.user_id == user.id))
    await session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    user.totp_secret = None
    user.totp_pending_secret = None
    user.mfa_enabled = False
    user.mfa_grace_started_at = None
    await session.flush()
    await revoke_all_sessions(session, user.id)
    await account_tokens.kill(session, user.id, "mfa_login")
    await account_mail.send(
        session,
        template="account_mfa_reset",
        email=user.email,
        name=user.name,
        recipient_id=user.id,
        subject="your two-factor sign-in was reset",
        lines=[
            f"{actor.name} removed every second factor (authenticator app, security keys and "
            "recovery codes) of your ATUM DESK account, and signed you out everywhere.",
            "Sign in with your password and set up a second factor again.",
            "If you did not ask for this, tell your administrator at once.",
        ],
    )
    await _audit(session, actor, user, "auth.mfa_removed", {"method": "all", "by_admin": True})


async def _audit(
    session: AsyncSession,
    actor: CurrentUser | uuid.UUID | None,
    user: User,
    action: str,
    value: dict[str, object],
) -> None:
    await audit.record(
        session,
        actor=actor,
        action=action,
        entity_type="user",
        entity_id=user.id,
        org_id=user.org_id,
        new_value=value,
    )
