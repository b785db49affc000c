"""Re-authentication before a sensitive change (ASVS 7.5.1): the current password again. Wrong
attempts count against the account's sign-in limit, so this is no side door for guessing."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.deps import CurrentUser
from app.auth.passwords import verify_password
from app.config import get_settings
from app.db.session import KeepChanges
from app.errors import DomainError, RateLimited
from app.models import User
from app.services import ratelimit


class WrongPassword(KeepChanges, DomainError):
    """The current password given to confirm a change is wrong (400, not 401: the session is
    fine). Committed like a failed sign-in: the failure counter survives the refusal."""

    status_code = 400
    code = "wrong_password"
    default_detail = "The current password is not correct"


async def load_me(session: AsyncSession, actor: CurrentUser) -> User:
    user = await session.get(User, actor.id, with_for_update=True)
    assert user is not None
    return user


async def confirm_password(session: AsyncSession, actor: CurrentUser, password: str) -> User:
    """The caller's row (locked) once *password* is confirmed as theirs."""
    user = await load_me(session, actor)
    settings = get_settings()
    key = ratelimit.account_key(user.email)
    usage = await ratelimit.peek(session, [key], settings.login_window_seconds)
    if key in usage and usage[key].hits >= settings.login_max_failures_per_account:
        raise RateLimited(usage[key].retry_after)
    if not verify_password(user.password_hash, password):
        await ratelimit.hit(session, key, settings.login_window_seconds)
        raise WrongPassword()
    return user
