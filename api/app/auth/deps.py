"""The current user, resolved from the bearer token in ONE indexed statement (session row +
user + organization) or from the process's session cache (auth/session_cache.py), and the
``Annotated`` aliases routers declare their callers with."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from datetime import timedelta
from typing import Annotated, Any, Literal

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy import bindparam, exists, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth import session_cache
from app.auth.cookies import CSRF_HEADER, SAFE_METHODS, csrf_valid, session_cookie_name
from app.auth.permissions import Action, allowed
from app.auth.tokens import TokenClaims, decode_access_token
from app.config import get_settings
from app.db.session import get_session
from app.errors import Forbidden, Unauthorized
from app.models import AuthSession, Organization, User
from app.models.enums import Role
from app.utils.clock import utcnow

DbSession = Annotated[AsyncSession, Depends(get_session, scope="function")]


@dataclass(frozen=True, slots=True)
class CurrentUser:
    id: uuid.UUID
    email: str
    name: str
    role: Role
    org_id: uuid.UUID | None
    org_name: str | None
    session_id: uuid.UUID
    language: str = "en"
    # The organization's portal visibility ('own' | 'organization'; services/visibility.py).
    portal_visibility: str = "organization"

    @property
    def is_staff(self) -> bool:
        return self.role.is_staff


# An account that may sign in and act: active, and (customers) of an active organization. Every
# query that finds a person to authenticate joins Organization on User.org_id and uses this.
USABLE_ACCOUNT = User.is_active.is_(True) & (
    User.org_id.is_(None) | (Organization.status == "active")
)

_CURRENT_USER = (
    select(
        User.id,
        User.email,
        User.name,
        User.role,
        User.org_id,
        Organization.name.label("org_name"),
        User.language,
        Organization.portal_visibility,
        AuthSession.restricted,
        AuthSession.last_seen_at,
        AuthSession.expires_at,
    )
    .select_from(AuthSession)
    .join(User, User.id == AuthSession.user_id)
    .outerjoin(Organization, Organization.id == User.org_id)
    .where(
        AuthSession.revoked_at.is_(None),
        AuthSession.expires_at > func.now(),
        USABLE_ACCOUNT,
        # Bound at execution: the statement is built (and hashed for the compiled cache) once.
        AuthSession.id == bindparam("session_id"),
        AuthSession.user_id == bindparam("token_user_id"),
    )
)


# A session whose user's role requires a second factor, after the grace period, reaches only
# what enrolling one takes (services/mfa.py "enforcement").
_ENROLMENT_PATHS = frozenset(
    {
        "/api/me",
        "/api/me/mfa",
        "/api/me/mfa/totp",
        "/api/me/mfa/totp/confirm",
        "/api/me/mfa/webauthn/register/options",
        "/api/me/mfa/webauthn/register",
        "/api/auth/logout",
    }
)
# "Last seen" of a session is written at most this often (one UPDATE a minute per session, not
# one per request).
_LAST_SEEN_EVERY = timedelta(seconds=60)
_SEEN = (
    update(AuthSession)
    .where(AuthSession.id == bindparam("sid"))
    .values(last_seen_at=func.now())
    .execution_options(synchronize_session=False)
)


# A session read from the database (not cached) has its "last seen" moved in the same statement
# when it is due: a data-modifying CTE runs whether or not its rows are read.
_FOUND = _CURRENT_USER.cte("found")
_TOUCHED = (
    update(AuthSession)
    .where(
        AuthSession.id == bindparam("session_id"),
        AuthSession.last_seen_at < func.now() - _LAST_SEEN_EVERY,
        exists(select(_FOUND.c.id)),
    )
    .values(last_seen_at=func.now())
    .returning(AuthSession.id)
    .cte("touched")
)
_AUTHENTICATE = select(_FOUND, exists(select(_TOUCHED.c.id)).label("touched"))


class MfaEnrolmentRequired(Forbidden):
    code = "mfa_enrolment_required"
    default_detail = "Your role requires two-factor sign-in: set up a second factor first"


async def _seen(session: AsyncSession, session_id: uuid.UUID) -> None:
    # Reads run in autocommit (committed at once); writes carry it in their transaction.
    await session.execute(_SEEN, {"sid": session_id})


# Declares the bearer scheme in the OpenAPI schema (every authenticated operation lists it); the
# header itself is read below, together with the browser session cookie.
_BEARER_SCHEME = HTTPBearer(auto_error=False, description="Access token from POST /api/auth/login")
Bearer = Annotated[HTTPAuthorizationCredentials | None, Depends(_BEARER_SCHEME)]


def bearer_token(request: Request) -> str:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthorized()
    return token.strip()


async def get_current_user(request: Request, session: DbSession, _: Bearer) -> CurrentUser:
    """The caller, from a bearer header or (browsers) the session cookie: from the process's
    session cache (auth/session_cache.py) when the token was seen lately, else verified and read
    in one indexed query."""
    settings = get_settings()
    secret = settings.resolved_secret_key() or ""
    cookie = request.cookies.get(session_cookie_name(settings))
    from_cookie = "authorization" not in request.headers and bool(cookie)
    token = cookie if from_cookie and cookie else bearer_token(request)
    key = session_cache.token_key(token)
    entry = session_cache.cache.get(key)
    if entry is not None and entry.session_expires <= utcnow():
        entry = None
    if entry is None:
        claims = decode_access_token(token, secret=secret)
        session_id = claims.session_id
    else:
        session_id = entry.session_id
    if (
        from_cookie
        and request.method not in SAFE_METHODS
        and not csrf_valid(secret, session_id, request.headers.get(CSRF_HEADER))
    ):
        raise Forbidden("Missing or wrong CSRF token")
    cached = entry is not None
    if entry is None:
        # (Its "last seen" is moved, when due, by the authenticating statement itself.)
        entry, generation = await _authenticate(session, claims)
        session_cache.cache.put(key, entry, generation)
    if entry.restricted and request.url.path not in _ENROLMENT_PATHS:
        raise MfaEnrolmentRequired()
    if cached and entry.last_seen_at < utcnow() - _LAST_SEEN_EVERY:
        entry.last_seen_at = utcnow()
        await _seen(session, session_id)
    user: CurrentUser = entry.user
    return user


async def _authenticate(
    session: AsyncSession, claims: TokenClaims
) -> tuple[session_cache.Entry, int]:
    """The session row read (one indexed statement) and the cache generation it was read in."""
    generation = session_cache.cache.generation
    row = (
        await session.execute(
            _AUTHENTICATE, {"session_id": claims.session_id, "token_user_id": claims.user_id}
        )
    ).one_or_none()
    if row is None:
        raise Unauthorized("Invalid or expired token")
    user = CurrentUser(
        id=row.id,
        email=row.email,
        name=row.name,
        role=Role(row.role),
        org_id=row.org_id,
        org_name=row.org_name,
        session_id=claims.session_id,
        language=row.language,
        portal_visibility=row.portal_visibility or "organization",
    )
    entry = session_cache.Entry(
        session_id=claims.session_id,
        user_id=row.id,
        org_id=row.org_id,
        token_expires=claims.expires,
        session_expires=row.expires_at,
        restricted=row.restricted,
        last_seen_at=utcnow() if row.touched else row.last_seen_at,
        user=user,
        stored=time.monotonic(),
    )
    return entry, generation


Authenticated = Annotated[CurrentUser, Depends(get_current_user)]


def portal_visibility_of(user: CurrentUser) -> Literal["own", "organization"] | None:
    """The caller's portal visibility as the ``Me`` view shows it (None for staff)."""
    if user.org_id is None:
        return None
    return "own" if user.portal_visibility == "own" else "organization"


def require(action: Action) -> Callable[[CurrentUser], Coroutine[Any, Any, CurrentUser]]:
    """Dependency: the caller must hold *action* in the permission table, else 403."""

    async def dependency(user: Authenticated) -> CurrentUser:
        if not allowed(user.role, action):
            raise Forbidden()
        return user

    dependency.__name__ = f"require_{action.value.replace('.', '_')}"
    dependency.action = action  # type: ignore[attr-defined]  # read by the route-coverage test
    return dependency


OrgReader = Annotated[CurrentUser, Depends(require(Action.ORG_READ))]
OrgWriter = Annotated[CurrentUser, Depends(require(Action.ORG_WRITE))]
UserReader = Annotated[CurrentUser, Depends(require(Action.USER_READ))]
UserWriter = Annotated[CurrentUser, Depends(require(Action.USER_WRITE))]
SlaReader = Annotated[CurrentUser, Depends(require(Action.SLA_READ))]
SlaWriter = Annotated[CurrentUser, Depends(require(Action.SLA_WRITE))]
ServiceReader = Annotated[CurrentUser, Depends(require(Action.SERVICE_READ))]
ServiceWriter = Annotated[CurrentUser, Depends(require(Action.SERVICE_WRITE))]
TeamReader = Annotated[CurrentUser, Depends(require(Action.TEAM_READ))]
TeamWriter = Annotated[CurrentUser, Depends(require(Action.TEAM_WRITE))]
AuditReader = Annotated[CurrentUser, Depends(require(Action.AUDIT_READ))]
ReportReader = Annotated[CurrentUser, Depends(require(Action.REPORTS_READ))]
PortalUser = Annotated[CurrentUser, Depends(require(Action.PORTAL_TICKETS))]
DeskUser = Annotated[CurrentUser, Depends(require(Action.DESK_TICKETS))]
Acceptor = Annotated[CurrentUser, Depends(require(Action.TICKET_ACCEPT))]
NotificationAdmin = Annotated[CurrentUser, Depends(require(Action.NOTIFICATION_ADMIN))]
MailManager = Annotated[CurrentUser, Depends(require(Action.MAIL_HELD))]
MailAdmin = Annotated[CurrentUser, Depends(require(Action.MAIL_ADMIN))]
MfaResetter = Annotated[CurrentUser, Depends(require(Action.USER_MFA_RESET))]
SecurityAdmin = Annotated[CurrentUser, Depends(require(Action.SECURITY_ADMIN))]
TagReader = Annotated[CurrentUser, Depends(require(Action.TAG_READ))]
TagAdmin = Annotated[CurrentUser, Depends(require(Action.TAG_ADMIN))]
CalendarReader = Annotated[CurrentUser, Depends(require(Action.CALENDAR_READ))]
CalendarWriter = Annotated[CurrentUser, Depends(require(Action.CALENDAR_WRITE))]
