"""Login and logout.

Login is limited per account (failures within the window) and per client address (failures only,
so colleagues behind one office address keep signing in). Unknown e-mail and wrong password get
the same answer after the same amount of work (a dummy argon2 verification).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.deps import CurrentUser
from app.auth.passwords import hash_password, needs_rehash, verify_password
from app.auth.tokens import create_access_token
from app.config import Settings
from app.db.session import KeepChanges
from app.errors import Forbidden, LoginFailed, RateLimited, Unauthorized
from app.models import AuthSession, Organization, User
from app.models.enums import Role
from app.services import account_tokens, audit, mfa, ratelimit, signin_policy
from app.utils.clock import utcnow


@dataclass(frozen=True, slots=True)
class LoginResult:
    token: str
    expires_in: int
    user: CurrentUser
    # The role requires a second factor and none is enrolled: until when sign-in works without
    # one, and whether that time is over (the session may then only enrol a factor).
    mfa_setup_required: bool = False
    mfa_grace_until: datetime | None = None
    restricted: bool = False


@dataclass(frozen=True, slots=True)
class MfaChallenge:
    """The password was right and a second factor is enrolled: no session yet, a half-login."""

    mfa_token: str
    methods: list[str]
    webauthn_options: dict[str, Any] | None


# Wrong second factors one half-login may take before it dies (the password is asked again).
MFA_ATTEMPTS_PER_TOKEN = 5


class PasswordSignInDisabled(KeepChanges, Forbidden):
    """The sign-in policy allows this role no local password (only identity providers)."""

    code = "password_sign_in_disabled"
    default_detail = "Sign in with your organization's account: local passwords are turned off"


@dataclass(frozen=True, slots=True)
class Via:
    """How a session is being signed in, when not with a local password: the identity provider
    and what it said of the authentication (kept on the session and in the audit entry)."""

    provider_id: uuid.UUID
    provider: str
    amr: list[str] | None = None
    acr: str | None = None
    sid: str | None = None

    def as_data(self) -> dict[str, Any]:
        return {
            "provider_id": str(self.provider_id),
            "provider": self.provider,
            "amr": self.amr,
            "acr": self.acr,
            "sid": self.sid,
        }

    @classmethod
    def from_data(cls, data: dict[str, Any] | None) -> Via | None:
        if not data or not data.get("provider_id"):
            return None
        return cls(
            uuid.UUID(str(data["provider_id"])),
            str(data.get("provider") or ""),
            data.get("amr"),
            data.get("acr"),
            data.get("sid"),
        )


@dataclass(frozen=True, slots=True)
class Attempt:
    """A password being tried -- local, directory or to link an account: limited per account and
    per client address (the address counter is shared by all of them), and a failure counted on
    both and audited as ``auth.login_failed``."""

    account_key: str
    ip_key: str
    settings: Settings

    @classmethod
    def of(cls, settings: Settings, account_key: str, ip: str | None) -> Attempt:
        return cls(account_key, f"login:ip:{ip or 'unknown'}", settings)

    async def refuse_if_limited(self, session: AsyncSession) -> None:
        await ratelimit.refuse_over(
            session,
            {
                self.account_key: self.settings.login_max_failures_per_account,
                self.ip_key: self.settings.login_max_failures_per_ip,
            },
            self.settings.login_window_seconds,
        )

    async def failed(
        self, session: AsyncSession, user: User | None, details: dict[str, object]
    ) -> None:
        window = self.settings.login_window_seconds
        await ratelimit.hit(session, self.account_key, window)
        await ratelimit.hit(session, self.ip_key, window)
        await audit.record(
            session,
            actor=user.id if user else None,
            action="auth.login_failed",
            entity_type="user",
            entity_id=user.id if user else None,
            org_id=user.org_id if user else None,
            new_value=details,
        )

    async def succeeded(self, session: AsyncSession) -> None:
        await ratelimit.clear(session, self.account_key)


async def login(
    session: AsyncSession,
    settings: Settings,
    *,
    email: str,
    password: str,
    ip: str | None,
    user_agent: str | None = None,
) -> LoginResult | MfaChallenge:
    email = email.strip().lower()
    attempt = Attempt.of(settings, ratelimit.account_key(email), ip)
    await attempt.refuse_if_limited(session)

    row = (
        await session.execute(
            select(User, Organization.name, Organization.status)
            .outerjoin(Organization, Organization.id == User.org_id)
            .where(User.email == email)
        )
    ).one_or_none()
    user = row[0] if row else None
    ok = verify_password(user.password_hash if user else None, password)
    usable = (
        user is not None
        and user.is_active
        and (user.org_id is None or (row is not None and row[2] == "active"))
    )
    if not ok or not usable or user is None:
        await attempt.failed(session, user, {"reason": "inactive" if ok else "bad_credentials"})
        raise LoginFailed()

    await attempt.succeeded(session)
    # The policy is told only to whoever proved the password (it says what role the user has).
    policy_rule = await signin_policy.rule_for(session, user.role)
    break_glass = False
    if not policy_rule.password_allowed:
        if not (user.break_glass and user.mfa_enabled):
            await audit.record(
                session,
                actor=user.id,
                action="auth.login_failed",
                entity_type="user",
                entity_id=user.id,
                org_id=user.org_id,
                new_value={"reason": "password_sign_in_disabled"},
            )
            raise PasswordSignInDisabled()
        break_glass = True
    if needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    if user.mfa_enabled:
        return await mfa_challenge(
            session, settings, user, {"break_glass": True} if break_glass else {}
        )
    rule = await mfa.enforcement(session, user)
    return await _start_session(
        session,
        settings,
        user,
        org_name=row[1] if row else None,
        ip=ip,
        user_agent=user_agent,
        second_factor=None,
        enforcement=rule,
    )


async def mfa_challenge(
    session: AsyncSession, settings: Settings, user: User, data: dict[str, Any]
) -> MfaChallenge:
    """The half-login of a user with a second factor: what the second step needs, and *data*
    (how the first step went) for it."""
    options = await mfa.login_options(session, user)
    if options:
        data = {**data, "challenge": options["challenge"]}
    issued = await account_tokens.issue(
        session,
        user.id,
        "mfa_login",
        timedelta(minutes=settings.mfa_login_minutes),
        data=data or None,
    )
    return MfaChallenge(issued.token, mfa.methods(user, options is not None), options)


async def start_session(
    session: AsyncSession,
    settings: Settings,
    user: User,
    *,
    ip: str | None,
    user_agent: str | None,
    second_factor: str | None,
    via: Via | None,
    enforcement: mfa.Enforcement | None = None,
    break_glass: bool = False,
) -> LoginResult:
    """A session for *user* (its organization's name read here): the second step of a sign-in,
    or a sign-in through an identity provider (services/sso.py)."""
    org_name = (
        await session.scalar(select(Organization.name).where(Organization.id == user.org_id))
        if user.org_id is not None
        else None
    )
    return await _start_session(
        session,
        settings,
        user,
        org_name=org_name,
        ip=ip,
        user_agent=user_agent,
        second_factor=second_factor,
        enforcement=enforcement,
        via=via,
        break_glass=break_glass,
    )


async def _start_session(
    session: AsyncSession,
    settings: Settings,
    user: User,
    *,
    org_name: str | None,
    ip: str | None,
    user_agent: str | None,
    second_factor: str | None,
    enforcement: mfa.Enforcement | None = None,
    via: Via | None = None,
    break_glass: bool = False,
) -> LoginResult:
    """A new session (a new id at every sign-in) and its access token."""
    now = utcnow()
    lifetime = timedelta(minutes=settings.access_token_minutes)
    restricted = enforcement is not None and enforcement.restricted
    auth_session = AuthSession(
        id=uuid.uuid4(),
        user_id=user.id,
        expires_at=now + lifetime,
        ip=ip,
        user_agent=(user_agent or "")[:400] or None,
        last_seen_at=now,
        mfa=second_factor is not None,
        restricted=restricted,
        provider_id=via.provider_id if via else None,
        amr=via.amr if via else None,
        acr=via.acr if via else None,
        idp_sid=via.sid if via else None,
    )
    session.add(auth_session)
    await session.flush()
    visibility = (
        await session.scalar(
            select(Organization.portal_visibility).where(Organization.id == user.org_id)
        )
        if user.org_id is not None
        else None
    )
    current = CurrentUser(
        id=user.id,
        email=user.email,
        name=user.name,
        role=Role(user.role),
        org_id=user.org_id,
        org_name=org_name,
        session_id=auth_session.id,
        language=user.language,
        portal_visibility=visibility or "organization",
    )
    details: dict[str, object] = {}
    if second_factor is not None:
        details["mfa"] = second_factor
    if restricted:
        details["restricted"] = "mfa_enrolment"
    if via is not None:
        details["provider"] = via.provider
        if via.amr is not None:
            details["amr"] = via.amr
        if via.acr is not None:
            details["acr"] = via.acr
    await audit.record(
        session,
        actor=current,
        action="auth.login",
        entity_type="user",
        entity_id=user.id,
        org_id=user.org_id,
        new_value=details or None,
    )
    if break_glass:
        await audit.record(
            session,
            actor=current,
            action="auth.break_glass",
            entity_type="user",
            entity_id=user.id,
            org_id=user.org_id,
            new_value={"mfa": second_factor},
        )
    token = create_access_token(
        secret=settings.resolved_secret_key() or "",
        user_id=user.id,
        session_id=auth_session.id,
        now=now,
        lifetime=lifetime,
    )
    return LoginResult(
        token,
        int(lifetime.total_seconds()),
        current,
        mfa_setup_required=bool(enforcement and enforcement.grace_until is not None),
        mfa_grace_until=enforcement.grace_until if enforcement else None,
        restricted=restricted,
    )


class MfaFailed(KeepChanges, Unauthorized):
    """A wrong, replayed or expired second factor. Counters and audit are committed."""

    code = "invalid_second_factor"
    default_detail = "The code or security key was not accepted"


async def login_mfa(
    session: AsyncSession,
    settings: Settings,
    *,
    mfa_token: str,
    code: str | None,
    recovery_code: str | None,
    webauthn: dict[str, Any] | None,
    ip: str | None,
    user_agent: str | None = None,
) -> LoginResult:
    """The second step: the half-login and one second factor make a session. Limited like the
    first step (per account and per client address), and a half-login dies after a few wrong
    factors."""
    window = settings.login_window_seconds
    ip_key = f"mfa:ip:{ip or 'unknown'}"
    usage = await ratelimit.peek(session, [ip_key], window)
    if ip_key in usage and usage[ip_key].hits >= settings.login_max_failures_per_ip:
        raise RateLimited(usage[ip_key].retry_after)
    try:
        token_row, user = await account_tokens.find(session, mfa_token, "mfa_login", lock=True)
    except account_tokens.BadToken:
        await ratelimit.hit(session, ip_key, window)
        raise MfaFailed("This sign-in has expired; enter your password again") from None
    account_key = f"mfa:account:{user.id}"
    usage = await ratelimit.peek(session, [account_key], window)
    if account_key in usage and usage[account_key].hits >= settings.login_max_failures_per_account:
        raise RateLimited(usage[account_key].retry_after)
    user = await session.get(User, user.id, with_for_update=True) or user
    challenge = (token_row.data or {}).get("challenge")
    method = await mfa.verify(
        session,
        user,
        code=code,
        recovery_code=recovery_code,
        webauthn=webauthn,
        challenge=str(challenge) if challenge else None,
    )
    if method is None:
        token_row.attempts += 1
        if token_row.attempts >= MFA_ATTEMPTS_PER_TOKEN:
            token_row.used_at = utcnow()
        await ratelimit.hit(session, account_key, window)
        await ratelimit.hit(session, ip_key, window)
        await audit.record(
            session,
            actor=user.id,
            action="auth.mfa_failed",
            entity_type="user",
            entity_id=user.id,
            org_id=user.org_id,
            new_value={
                "method": "totp"
                if code is not None
                else "recovery_code"
                if recovery_code is not None
                else "webauthn"
            },
        )
        raise MfaFailed()
    token_row.used_at = utcnow()
    await ratelimit.clear(session, account_key)
    if method == "recovery_code":
        await audit.record(
            session,
            actor=user.id,
            action="auth.recovery_code_used",
            entity_type="user",
            entity_id=user.id,
            org_id=user.org_id,
        )
    data = token_row.data or {}
    via = Via.from_data(data.get("via"))
    if data.get("link"):
        from app.services import sso  # (sso builds on this module)

        return await sso.finish_link(
            session,
            settings,
            user,
            data["link"],
            second_factor=method,
            ip=ip,
            user_agent=user_agent,
        )
    return await start_session(
        session,
        settings,
        user,
        ip=ip,
        user_agent=user_agent,
        second_factor=method,
        via=via,
        break_glass=bool(data.get("break_glass")),
    )


async def logout(session: AsyncSession, actor: CurrentUser) -> None:
    await session.execute(
        update(AuthSession)
        .where(AuthSession.id == actor.session_id, AuthSession.revoked_at.is_(None))
        .values(revoked_at=func.now())
    )
    await audit.record(
        session,
        actor=actor,
        action="auth.logout",
        entity_type="user",
        entity_id=actor.id,
        org_id=actor.org_id,
    )
