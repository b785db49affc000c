"""Login and logout.

Login is limited per account (failures within the window) and per client address (failures only,
so colleagues behind one office address keep signing in). Unknown e-mail and wrong password get
the same answer after the same amount of work (a dummy argon2 verification).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.deps import CurrentUser
from app.auth.passwords import hash_password, needs_rehash, verify_password
from app.auth.tokens import create_access_token
from app.config import Settings
from app.errors import LoginFailed, RateLimited
from app.models import AuthSession, Organization, User
from app.models.enums import Role
from app.services import audit, ratelimit
from app.utils.clock import utcnow


@dataclass(frozen=True, slots=True)
class LoginResult:
    token: str
    expires_in: int
    user: CurrentUser


def _account_key(email: str) -> str:
    return f"login:account:{email}"


def _ip_key(ip: str | None) -> str:
    return f"login:ip:{ip or 'unknown'}"


async def login(
    session: AsyncSession, settings: Settings, *, email: str, password: str, ip: str | None
) -> LoginResult:
    email = email.strip().lower()
    window = settings.login_window_seconds
    account_key, ip_key = _account_key(email), _ip_key(ip)

    usage = await ratelimit.peek(session, [account_key, ip_key], window)
    for key, limit in (
        (account_key, settings.login_max_failures_per_account),
        (ip_key, settings.login_max_failures_per_ip),
    ):
        if key in usage and usage[key].hits >= limit:
            raise RateLimited(usage[key].retry_after)

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
        await ratelimit.hit(session, account_key, window)
        await ratelimit.hit(session, ip_key, window)
        await audit.record(
            session,
            actor=user.id if user else None,
            action="auth.login_failed",
            entity_type="user",
            entity_id=user.id if user else None,
            org_id=user.org_id if user else None,
            new_value={"reason": "inactive" if ok else "bad_credentials"},
        )
        raise LoginFailed()

    await ratelimit.clear(session, account_key)
    if needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    now = utcnow()
    lifetime = timedelta(minutes=settings.access_token_minutes)
    auth_session = AuthSession(id=uuid.uuid4(), user_id=user.id, expires_at=now + lifetime, ip=ip)
    session.add(auth_session)
    await session.flush()
    current = CurrentUser(
        id=user.id,
        email=user.email,
        name=user.name,
        role=Role(user.role),
        org_id=user.org_id,
        org_name=row[1] if row else None,
        session_id=auth_session.id,
    )
    await audit.record(
        session,
        actor=current,
        action="auth.login",
        entity_type="user",
        entity_id=user.id,
        org_id=user.org_id,
    )
    token = create_access_token(
        secret=settings.resolved_secret_key() or "",
        user_id=user.id,
        session_id=auth_session.id,
        now=now,
        lifetime=lifetime,
    )
    return LoginResult(token, int(lifetime.total_seconds()), current)


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


async def revoke_all_sessions(session: AsyncSession, user_id: uuid.UUID) -> None:
    """Ends every session of a user (password change, deactivation)."""
    await session.execute(
        update(AuthSession)
        .where(AuthSession.user_id == user_id, AuthSession.revoked_at.is_(None))
        .values(revoked_at=func.now())
    )
