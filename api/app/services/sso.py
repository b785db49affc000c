"""Sign-in through identity providers: OpenID Connect (app/auth/oidc.py) and LDAP directories
(app/auth/directory.py). The rules live here:

- A user is found by ``(issuer, subject)``, never by e-mail alone. At the first sign-in the user
  is provisioned (``user.provisioned``), unless a local account has the same address: that one is
  linked only once its password (and second factor) is proven, or when an administrator approved
  the link beforehand -- never silently.
- Groups map to a role (and for customer roles an organization); the highest mapped role wins. A
  user in no mapped group is refused (and, when known here, deactivated until a group admits
  them again). Every sign-in applies the provider's view: name, address, role, organization.
- The per-role policy (services/signin_policy.py) may require a second factor at the provider
  (OpenID Connect ``amr``/``acr``); a directory sign-in is a password, so our own second factor
  applies to it as to a local sign-in.
- The directory sync deactivates users gone, disabled or in no mapped group, and ends their
  sessions; it refuses to act on an empty answer (a broken filter must not lock everyone out).
"""

from __future__ import annotations

import asyncio
import hashlib
import secrets
import uuid
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any
from urllib.parse import urlsplit

import structlog
from sqlalchemy import func, select, text, update
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from app.auth import oidc
from app.auth.directory import Directory, DirectoryError, directory
from app.auth.passwords import verify_password
from app.config import Settings
from app.db.session import KeepChanges
from app.errors import Conflict, DomainError, Forbidden, LoginFailed, NotFound
from app.mail import secretbox
from app.models import (
    AuthSession,
    IdentityProvider,
    Organization,
    SsoLogin,
    User,
    UserIdentity,
)
from app.models.enums import Role
from app.models.user import NO_PASSWORD
from app.schemas.sso import LdapSettings, OidcSettings
from app.services import account_tokens, audit, mfa, ratelimit, signin_policy, users
from app.services.auth import (
    Attempt,
    LoginResult,
    MfaChallenge,
    Via,
    mfa_challenge,
    start_session,
)
from app.utils.clock import utcnow

log = structlog.get_logger("atum.sso")

SSO_LOGIN_MINUTES = 10
LINK_MINUTES = 10
# The cookie that binds a sign-in under way to the browser that started it (login CSRF).
BROWSER_COOKIE = "atum_sso"
_RANK = {
    Role.CUSTOMER_USER: 0,
    Role.CUSTOMER_ADMIN: 1,
    Role.AGENT: 2,
    Role.MANAGER: 3,
    Role.ADMIN: 4,
}

# What the sign-in page says for each refusal (the web UI shows these by code).
REFUSALS = {
    "provider_unavailable": "The sign-in provider cannot be reached right now. Try again later, "
    "or sign in with a password if your account has one.",
    "provider_misconfigured": "The sign-in provider is not set up correctly. Tell your "
    "administrator.",
    "sso_state_invalid": "This sign-in link has expired or was already used. Start again.",
    "sso_refused": "The sign-in provider did not sign you in.",
    "token_refused": "The sign-in provider refused to complete the sign-in. Start again.",
    "id_token_invalid": "The sign-in provider's answer could not be verified.",
    "no_mapped_group": "Your account is not in a group that may use this helpdesk. Ask your "
    "administrator for access.",
    "no_email": "The sign-in provider did not tell us your e-mail address.",
    "email_unverified": "The sign-in provider has not verified your e-mail address.",
    "email_in_use": "An account with your e-mail address exists here and cannot be linked "
    "automatically. Ask an administrator to link it.",
    "account_disabled": "Your account is disabled.",
    "organization_unavailable": "Your organization's access is suspended.",
    "idp_mfa_required": "Your role requires two-factor authentication at the sign-in provider. "
    "Sign in there with a second factor.",
}


class SsoRefused(KeepChanges, Forbidden):
    """A sign-in through a provider was refused; ``code`` names why (``REFUSALS``). Committed:
    the audit entry and a used sign-in state survive the refusal."""

    code = "sso_refused"

    def __init__(self, code: str, detail: str | None = None) -> None:
        super().__init__(detail or REFUSALS.get(code, REFUSALS["sso_refused"]))
        self.code = code


class ProviderUnavailable(KeepChanges, DomainError):
    status_code = 503
    code = "provider_unavailable"
    default_detail = REFUSALS["provider_unavailable"]


class LinkRequired(KeepChanges, Conflict):
    """A local account has the address the provider gave: its password must be proven first."""

    code = "link_required"
    default_detail = (
        "An account with this e-mail address already exists here: enter its password to link it"
    )


@dataclass(slots=True)
class Identity:
    """Who the provider says signed in."""

    provider: IdentityProvider
    issuer: str
    subject: str
    email: str | None
    email_verified: bool
    name: str | None
    groups: list[str] = field(default_factory=list)
    amr: list[str] | None = None
    acr: str | None = None
    disabled: bool = False
    # The provider's session (OpenID Connect sid), for back-channel logout.
    sid: str | None = None

    def as_data(self) -> dict[str, Any]:
        return {
            "provider_id": str(self.provider.id),
            "issuer": self.issuer,
            "subject": self.subject,
            "email": self.email,
            "email_verified": self.email_verified,
            "name": self.name,
            "groups": self.groups[:200],
            "amr": self.amr,
            "acr": self.acr,
        }


def digest(value: str) -> bytes:
    return hashlib.sha256(value.encode()).digest()


def secret_of(provider: IdentityProvider) -> str | None:
    if provider.secret_sealed is None:
        return None
    return secretbox.unseal(provider.secret_sealed, secretbox.SSO)


def oidc_settings(provider: IdentityProvider) -> OidcSettings:
    return OidcSettings.model_validate(provider.settings)


def ldap_settings(provider: IdentityProvider) -> LdapSettings:
    return LdapSettings.model_validate(provider.settings)


def directory_of(provider: IdentityProvider) -> Directory:
    return directory(ldap_settings(provider), secret_of(provider))


def ldap_issuer(provider: IdentityProvider) -> str:
    return f"ldap:{provider.slug}"


def redirect_uri(settings: Settings, provider: IdentityProvider) -> str:
    return f"{settings.public_url.rstrip('/')}/api/auth/sso/{provider.slug}/callback"


def resolve(provider: IdentityProvider, groups: list[str]) -> tuple[Role, uuid.UUID | None] | None:
    """The role (and organization) the user's groups map to: the highest mapped role; among
    customer mappings of the same rank, the first listed. None: no mapped group."""
    wanted = {g.lower() for g in groups}
    best: tuple[Role, uuid.UUID | None] | None = None
    for rule in provider.mappings or []:
        if str(rule.get("group", "")).lower() not in wanted:
            continue
        role = Role(rule["role"])
        org = uuid.UUID(str(rule["org_id"])) if rule.get("org_id") else None
        if best is None or _RANK[role] > _RANK[best[0]]:
            best = (role, org)
    return best


def _mfa_shown(identity: Identity, settings: OidcSettings) -> str | None:
    """The amr or acr value that shows a second factor at the provider, if any."""
    accepted = {v.lower() for v in settings.mfa_values}
    for value in identity.amr or []:
        if str(value).lower() in accepted:
            return str(value)
    if identity.acr and identity.acr.lower() in accepted:
        return identity.acr
    return None


async def enabled_providers(session: AsyncSession) -> list[IdentityProvider]:
    rows = await session.execute(
        select(IdentityProvider)
        .where(IdentityProvider.enabled.is_(True))
        .order_by(IdentityProvider.name)
    )
    return list(rows.scalars())


async def enabled_provider(session: AsyncSession, slug: str, kind: str) -> IdentityProvider:
    provider = await session.scalar(
        select(IdentityProvider).where(
            IdentityProvider.slug == slug,
            IdentityProvider.kind == kind,
            IdentityProvider.enabled.is_(True),
        )
    )
    if provider is None:
        raise NotFound("Sign-in provider not found")
    return provider


async def _refused(
    session: AsyncSession,
    provider: IdentityProvider,
    code: str,
    *,
    user: User | None = None,
    detail: str | None = None,
    subject: str | None = None,
) -> SsoRefused:
    """Audit the refusal (``auth.login_failed``) and return the error to raise."""
    await audit.record(
        session,
        actor=user.id if user else None,
        action="auth.login_failed",
        entity_type="user",
        entity_id=user.id if user else None,
        org_id=user.org_id if user else None,
        new_value={
            "reason": code,
            "provider": provider.slug,
            **({"subject": subject[:200]} if subject and user is None else {}),
            **({"detail": detail[:300]} if detail else {}),
        },
    )
    log.info("sso_refused", provider=provider.slug, reason=code)
    return SsoRefused(code)


# --- the sign-in -------------------------------------------------------------------------------


async def sign_in(
    session: AsyncSession,
    settings: Settings,
    identity: Identity,
    *,
    ip: str | None,
    user_agent: str | None,
    second_factor: str | None = None,
) -> LoginResult | MfaChallenge:
    """The session of whoever *identity* is (provisioned or linked as needed), or a refusal."""
    provider = identity.provider
    link = await session.scalar(
        select(UserIdentity)
        .where(UserIdentity.issuer == identity.issuer, UserIdentity.subject == identity.subject)
        .with_for_update()
    )
    user = await session.get(User, link.user_id, with_for_update=True) if link else None
    target = None if identity.disabled else resolve(provider, identity.groups)
    if target is None:
        if user is not None and link is not None and user.is_active:
            # The provider no longer admits them: no access until it does again.
            await users.apply_directory(session, user, via=provider.slug, is_active=False)
            link.deactivated_by_sync = True
        reason = "account_disabled" if identity.disabled else "no_mapped_group"
        raise await _refused(session, provider, reason, user=user, subject=identity.subject)
    role, org_id = target
    if org_id is not None:
        status = await session.scalar(select(Organization.status).where(Organization.id == org_id))
        if status != "active":
            raise await _refused(session, provider, "organization_unavailable", user=user)
    rule = await signin_policy.rule_for(session, role.value)
    shown = _mfa_shown(identity, oidc_settings(provider)) if provider.kind == "oidc" else None
    if provider.kind == "oidc" and rule.idp_mfa_required and shown is None:
        raise await _refused(session, provider, "idp_mfa_required", user=user)
    if user is None or link is None:
        user, link = await _link_or_provision(session, identity, role, org_id)
    reactivate = False
    if not user.is_active:
        if not link.deactivated_by_sync:
            raise await _refused(session, provider, "account_disabled", user=user)
        reactivate = True
    await users.apply_directory(
        session,
        user,
        via=provider.slug,
        name=identity.name,
        email=identity.email if identity.email_verified else None,
        role=role,
        org_id=org_id,
        is_active=True if reactivate else None,
    )
    link.deactivated_by_sync = False
    link.groups = identity.groups[:200]
    link.last_login_at = utcnow()
    via = Via(provider.id, provider.slug, identity.amr, identity.acr, identity.sid)
    if provider.kind == "ldap":
        if second_factor is None and user.mfa_enabled:
            return await mfa_challenge(session, settings, user, {"via": via.as_data()})
        return await start_session(
            session,
            settings,
            user,
            ip=ip,
            user_agent=user_agent,
            second_factor=second_factor,
            via=via,
            enforcement=None if second_factor else await mfa.enforcement(session, user),
        )
    return await start_session(
        session,
        settings,
        user,
        ip=ip,
        user_agent=user_agent,
        second_factor=second_factor or (f"idp:{shown}" if shown else None),
        via=via,
    )


async def _link_or_provision(
    session: AsyncSession, identity: Identity, role: Role, org_id: uuid.UUID | None
) -> tuple[User, UserIdentity]:
    provider = identity.provider
    email = (identity.email or "").strip().lower()
    if not email or "@" not in email:
        raise await _refused(session, provider, "no_email", subject=identity.subject)
    if not identity.email_verified:
        raise await _refused(session, provider, "email_unverified", subject=identity.subject)
    existing = await session.scalar(select(User).where(User.email == email).with_for_update())
    if existing is None:
        user = await users.provision(
            session,
            email=email,
            name=identity.name or "",
            role=role,
            org_id=org_id,
            via=provider.slug,
        )
        link = UserIdentity(
            id=uuid.uuid4(),
            user_id=user.id,
            provider_id=provider.id,
            issuer=identity.issuer,
            subject=identity.subject,
        )
        session.add(link)
        await session.flush()
        return user, link
    approved = await session.scalar(
        select(UserIdentity)
        .where(UserIdentity.user_id == existing.id, UserIdentity.provider_id == provider.id)
        .with_for_update()
    )
    if approved is not None and approved.subject is None:
        approved.issuer, approved.subject = identity.issuer, identity.subject
        await session.flush()
        await _linked(session, existing, provider, "admin_approval")
        return existing, approved
    if approved is None and existing.is_active and existing.password_hash != NO_PASSWORD:
        issued = await account_tokens.issue(
            session,
            existing.id,
            "sso_link",
            timedelta(minutes=LINK_MINUTES),
            data={"link": identity.as_data()},
        )
        raise LinkRequired(link_token=issued.token, email=email, provider=provider.name)
    raise await _refused(session, provider, "email_in_use", user=existing)


async def _linked(session: AsyncSession, user: User, provider: IdentityProvider, by: str) -> None:
    await audit.record(
        session,
        actor=None,
        action="user.identity_linked",
        entity_type="user",
        entity_id=user.id,
        org_id=user.org_id,
        new_value={"provider": provider.slug, "by": by},
    )


async def _identity_from(session: AsyncSession, data: dict[str, Any]) -> Identity:
    provider = await session.get(IdentityProvider, uuid.UUID(str(data["provider_id"])))
    if provider is None or not provider.enabled:
        raise NotFound("Sign-in provider not found")
    return Identity(
        provider=provider,
        issuer=str(data["issuer"]),
        subject=str(data["subject"]),
        email=data.get("email"),
        email_verified=bool(data.get("email_verified")),
        name=data.get("name"),
        groups=[str(g) for g in data.get("groups") or []],
        amr=data.get("amr"),
        acr=data.get("acr"),
    )


async def finish_link(
    session: AsyncSession,
    settings: Settings,
    user: User,
    data: dict[str, Any],
    *,
    second_factor: str | None,
    ip: str | None,
    user_agent: str | None,
) -> LoginResult:
    """The local account's password (and second factor) were proven: link and sign in."""
    identity = await _identity_from(session, data)
    taken = await session.scalar(
        select(UserIdentity.id).where(
            UserIdentity.issuer == identity.issuer, UserIdentity.subject == identity.subject
        )
    )
    other = await session.scalar(
        select(UserIdentity).where(
            UserIdentity.user_id == user.id, UserIdentity.provider_id == identity.provider.id
        )
    )
    if taken is not None or (other is not None and other.subject is not None):
        raise await _refused(session, identity.provider, "email_in_use", user=user)
    if other is not None:
        other.issuer, other.subject = identity.issuer, identity.subject
    else:
        session.add(
            UserIdentity(
                id=uuid.uuid4(),
                user_id=user.id,
                provider_id=identity.provider.id,
                issuer=identity.issuer,
                subject=identity.subject,
            )
        )
    await session.flush()
    await _linked(session, user, identity.provider, "password")
    result = await sign_in(
        session,
        settings,
        identity,
        ip=ip,
        user_agent=user_agent,
        second_factor=second_factor or "linked",
    )
    assert isinstance(result, LoginResult)
    return result


async def complete_link(
    session: AsyncSession,
    settings: Settings,
    *,
    link_token: str,
    password: str,
    ip: str | None,
    user_agent: str | None,
) -> LoginResult | MfaChallenge:
    """Prove the local account's password to link it (limited like a sign-in); with a second
    factor enrolled, the second step (``POST /api/auth/login/mfa``) completes the link."""
    token_row, user = await account_tokens.find(session, link_token, "sso_link", lock=True)
    attempt = Attempt.of(settings, ratelimit.account_key(user.email), ip)
    await attempt.refuse_if_limited(session)
    if not verify_password(user.password_hash, password):
        await attempt.failed(session, user, {"reason": "bad_credentials", "link": True})
        raise LoginFailed("The password is not correct")
    token_row.used_at = utcnow()
    await attempt.succeeded(session)
    data = dict((token_row.data or {}).get("link") or {})
    if user.mfa_enabled:
        return await mfa_challenge(session, settings, user, {"link": data})
    return await finish_link(
        session, settings, user, data, second_factor=None, ip=ip, user_agent=user_agent
    )


# --- OpenID Connect ----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Start:
    url: str
    # The value of the browser-binding cookie (only its hash is stored).
    browser: str


@dataclass(frozen=True, slots=True)
class Refusal:
    code: str


@dataclass(frozen=True, slots=True)
class LinkOffer:
    token: str


def safe_return_to(value: str | None) -> str:
    """A path on this site (never another host: no open redirect)."""
    if not value or not value.startswith("/") or value.startswith("//") or "\\" in value:
        return "/"
    parts = urlsplit(value)
    if parts.scheme or parts.netloc:
        return "/"
    return value[:500]


async def oidc_start(
    session: AsyncSession,
    settings: Settings,
    slug: str,
    return_to: str | None,
    *,
    ip: str | None = None,
) -> Start | Refusal:
    provider = await enabled_provider(session, slug, "oidc")
    # Each start stores a sign-in under way: limited per client address like failed sign-ins.
    key, window = f"sso:start:{ip or 'unknown'}", settings.login_window_seconds
    await ratelimit.refuse_over(session, {key: settings.login_max_failures_per_ip}, window)
    await ratelimit.hit(session, key, window)
    cfg = oidc_settings(provider)
    try:
        meta = await oidc.discover(cfg.issuer)
    except oidc.OidcError as exc:
        provider.last_error = exc.detail[:500]
        await _refused(session, provider, exc.code, detail=exc.detail)
        return Refusal(exc.code)
    state = secrets.token_urlsafe(32)
    nonce = secrets.token_urlsafe(32)
    verifier = secrets.token_urlsafe(48)
    browser = secrets.token_urlsafe(32)
    session.add(
        SsoLogin(
            id=uuid.uuid4(),
            state_hash=digest(state),
            browser_hash=digest(browser),
            provider_id=provider.id,
            nonce=nonce,
            code_verifier_sealed=secretbox.seal(verifier, secretbox.SSO),
            return_to=safe_return_to(return_to),
            expires_at=utcnow() + timedelta(minutes=SSO_LOGIN_MINUTES),
        )
    )
    await session.flush()
    url = oidc.authorization_url(
        meta,
        client_id=cfg.client_id,
        scopes=cfg.scopes,
        redirect_uri=redirect_uri(settings, provider),
        state=state,
        nonce=nonce,
        code_verifier=verifier,
        acr_values=cfg.acr_values,
    )
    return Start(url, browser)


async def oidc_callback(
    session: AsyncSession,
    settings: Settings,
    slug: str,
    *,
    state: str | None,
    code: str | None,
    error: str | None,
    browser: str | None,
    ip: str | None,
    user_agent: str | None,
) -> tuple[LoginResult | LinkOffer | Refusal, str]:
    """The provider sent the browser back: the outcome and where to go next."""
    provider = await enabled_provider(session, slug, "oidc")
    row = (
        await session.scalar(
            select(SsoLogin).where(SsoLogin.state_hash == digest(state)).with_for_update()
        )
        if state and len(state) <= 200
        else None
    )
    if (
        row is None
        or row.used_at is not None
        or row.expires_at <= utcnow()
        or row.provider_id != provider.id
        or not browser
        or not secrets.compare_digest(row.browser_hash, digest(browser))
    ):
        await _refused(session, provider, "sso_state_invalid")
        return Refusal("sso_state_invalid"), "/"
    row.used_at = utcnow()
    return_to = row.return_to
    if error or not code:
        await _refused(session, provider, "sso_refused", detail=(error or "no code")[:100])
        return Refusal("sso_refused"), return_to
    cfg = oidc_settings(provider)
    verifier = secretbox.unseal(row.code_verifier_sealed, secretbox.SSO) or ""
    try:
        meta = await oidc.discover(cfg.issuer)
        id_token = await oidc.exchange_code(
            meta,
            client_id=cfg.client_id,
            client_secret=secret_of(provider),
            auth_method=cfg.token_auth_method,
            redirect_uri=redirect_uri(settings, provider),
            code=code[:2000],
            code_verifier=verifier,
        )
        claims = await oidc.verify_id_token(
            meta, client_id=cfg.client_id, id_token=id_token, nonce=row.nonce
        )
    except oidc.OidcError as exc:
        if exc.code.startswith("provider_"):
            provider.last_error = exc.detail[:500]
        await _refused(session, provider, exc.code, detail=exc.detail)
        return Refusal(exc.code), return_to
    email = oidc.claim(claims, cfg.email_claim)
    verified = oidc.claim(claims, "email_verified")
    amr = claims.get("amr")
    identity = Identity(
        provider=provider,
        issuer=meta.issuer,
        subject=str(claims["sub"]),
        email=str(email).strip().lower() if isinstance(email, str) else None,
        email_verified=verified is True or not cfg.require_verified_email,
        name=str(oidc.claim(claims, cfg.name_claim) or "") or None,
        groups=oidc.groups_of(claims, cfg.groups_claim),
        amr=[str(a) for a in amr][:20] if isinstance(amr, list) else None,
        acr=str(claims["acr"])[:200] if claims.get("acr") is not None else None,
        sid=str(claims["sid"])[:200] if isinstance(claims.get("sid"), str) else None,
    )
    try:
        result = await sign_in(session, settings, identity, ip=ip, user_agent=user_agent)
    except SsoRefused as exc:
        return Refusal(exc.code), return_to
    except LinkRequired as exc:
        return LinkOffer(str(exc.extra["link_token"])), return_to
    assert isinstance(result, LoginResult)
    return result, return_to


async def backchannel_logout(session: AsyncSession, slug: str, logout_token: str) -> int:
    """The provider says a user (``sub``) or one of its sessions (``sid``) signed out there
    (OpenID Connect Back-Channel Logout 1.0): end the matching sessions here. The number ended;
    ``oidc.OidcError`` when the token is not a valid logout token for us."""
    provider = await enabled_provider(session, slug, "oidc")
    cfg = oidc_settings(provider)
    meta = await oidc.discover(cfg.issuer)
    claims = await oidc.verify_logout_token(
        meta, client_id=cfg.client_id, logout_token=logout_token
    )
    stmt = update(AuthSession).where(
        AuthSession.provider_id == provider.id, AuthSession.revoked_at.is_(None)
    )
    sid, sub = claims.get("sid"), claims.get("sub")
    if isinstance(sid, str):
        stmt = stmt.where(AuthSession.idp_sid == sid)
    if isinstance(sub, str):
        user_id = await session.scalar(
            select(UserIdentity.user_id).where(
                UserIdentity.issuer == meta.issuer, UserIdentity.subject == sub
            )
        )
        if user_id is None:
            return 0
        stmt = stmt.where(AuthSession.user_id == user_id)
    ended = (
        (await session.execute(stmt.values(revoked_at=func.now()).returning(AuthSession.user_id)))
        .scalars()
        .all()
    )
    for user_id in sorted(set(ended)):
        await audit.record(
            session,
            actor=None,
            action="auth.session_revoked",
            entity_type="user",
            entity_id=user_id,
            new_value={
                "provider": provider.slug,
                "backchannel": True,
                "count": ended.count(user_id),
            },
        )
    return len(ended)


# --- LDAP --------------------------------------------------------------------------------------


async def ldap_login(
    session: AsyncSession,
    settings: Settings,
    slug: str,
    *,
    username: str,
    password: str,
    ip: str | None,
    user_agent: str | None,
) -> LoginResult | MfaChallenge:
    provider = await enabled_provider(session, slug, "ldap")
    attempt = Attempt.of(
        settings, f"login:ldap:{provider.slug}:{username.strip().lower()[:200]}", ip
    )
    await attempt.refuse_if_limited(session)
    try:
        found = await asyncio.to_thread(directory_of(provider).authenticate, username, password)
    except DirectoryError as exc:
        # An outage, not an authentication event: logged, and kept for the admin page.
        provider.last_error = str(exc)[:500]
        log.warning("directory_unavailable", provider=provider.slug, error=str(exc)[:300])
        raise ProviderUnavailable() from exc
    if found is None:
        await attempt.failed(
            session, None, {"reason": "bad_credentials", "provider": provider.slug}
        )
        raise LoginFailed("Incorrect username or password")
    await attempt.succeeded(session)
    identity = Identity(
        provider=provider,
        issuer=ldap_issuer(provider),
        subject=found.subject,
        email=found.email,
        email_verified=True,
        name=found.name,
        groups=found.groups,
        amr=["pwd"],
        disabled=found.disabled,
    )
    return await sign_in(session, settings, identity, ip=ip, user_agent=user_agent)


@dataclass(slots=True)
class SyncResult:
    checked: int = 0
    updated: int = 0
    deactivated: int = 0
    reactivated: int = 0

    def as_dict(self) -> dict[str, int]:
        return {
            "checked": self.checked,
            "updated": self.updated,
            "deactivated": self.deactivated,
            "reactivated": self.reactivated,
        }


async def sync_directory(session: AsyncSession, provider: IdentityProvider) -> SyncResult:
    """Bring the users this directory manages in line with it (one transaction)."""
    result = SyncResult()
    try:
        entries = await asyncio.to_thread(directory_of(provider).all_users)
    except DirectoryError as exc:
        provider.last_error = str(exc)[:500]
        raise
    by_subject = {e.subject: e for e in entries}
    rows = (
        await session.execute(
            select(UserIdentity, User)
            .join(User, User.id == UserIdentity.user_id)
            .where(UserIdentity.provider_id == provider.id, UserIdentity.subject.is_not(None))
            .order_by(User.id)
            .with_for_update(of=User)
        )
    ).all()
    if not entries and rows:
        message = "The directory returned no users; nothing was changed (check the filter)"
        provider.last_error = message
        raise DirectoryError(message)
    via = f"{provider.slug} sync"
    for link, user in rows:
        result.checked += 1
        found = by_subject.get(link.subject or "")
        target = None if found is None or found.disabled else resolve(provider, found.groups)
        if found is None or target is None:
            if user.is_active:
                await users.apply_directory(session, user, via=via, is_active=False)
                link.deactivated_by_sync = True
                result.deactivated += 1
            continue
        reactivate = not user.is_active and link.deactivated_by_sync
        if not user.is_active and not reactivate:
            continue  # deactivated by an administrator: theirs to undo
        role, org_id = target
        changes = await users.apply_directory(
            session,
            user,
            via=via,
            name=found.name,
            email=found.email,
            role=role,
            org_id=org_id,
            is_active=True if reactivate else None,
        )
        link.groups = found.groups[:200]
        if reactivate:
            link.deactivated_by_sync = False
            result.reactivated += 1
        elif changes:
            result.updated += 1
    provider.last_sync_at = utcnow()
    provider.last_sync_result = result.as_dict()
    provider.last_error = None
    await audit.record(
        session,
        actor=None,
        action="sso.directory_synced",
        entity_type="identity_provider",
        entity_id=provider.id,
        new_value={"provider": provider.slug, **result.as_dict()},
    )
    return result


_CLAIM_SYNC = text(
    """
    UPDATE identity_providers
    SET next_sync_at = now() + make_interval(mins => sync_minutes)
    WHERE id = (
        SELECT id FROM identity_providers
        WHERE kind = 'ldap' AND enabled AND (next_sync_at IS NULL OR next_sync_at <= now())
        ORDER BY next_sync_at NULLS FIRST
        LIMIT 1
        FOR UPDATE SKIP LOCKED
    )
    RETURNING id
    """
)


async def sync_due(engine: AsyncEngine, limit: int = 5) -> int:
    """The worker's job: synchronise the directories that are due (each claimed by one worker,
    each in its own transaction). A directory that fails keeps its error for the admin page."""
    done = 0
    for _ in range(limit):
        async with engine.begin() as conn:
            provider_id = (await conn.execute(_CLAIM_SYNC)).scalar()
        if provider_id is None:
            break
        try:
            async with (
                AsyncSession(engine, expire_on_commit=False) as session,
                session.begin(),
            ):
                provider = await session.get(IdentityProvider, provider_id)
                if provider is None:
                    continue
                result = await sync_directory(session, provider)
            log.info("directory_synced", provider=provider.slug, **result.as_dict())
            done += 1
        except DirectoryError as exc:
            log.warning("directory_sync_failed", provider=str(provider_id), error=str(exc)[:300])
            async with AsyncSession(engine) as session, session.begin():
                row = await session.get(IdentityProvider, provider_id)
                if row is not None:
                    row.last_error = str(exc)[:500]
    return done
