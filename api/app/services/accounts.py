"""An account's own life: invitations, forgotten passwords, the profile (name, language, password,
e-mail address).

Every token travels only in a mail (``account_mail``) and is stored hashed (``account_tokens``).
A forgotten-password request answers the same, after the same statements, whether or not the
address is known, and is limited per address and per client address in PostgreSQL like sign-in.
Setting a password by reset ends every session of the user; it never signs anyone in, so an
enrolled second factor is still asked for at the next sign-in (ASVS 6.4.3).
"""

from __future__ import annotations

import uuid
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth import password_policy
from app.auth.deps import USABLE_ACCOUNT, CurrentUser
from app.auth.passwords import hash_password, verify_password
from app.config import Settings, get_settings
from app.errors import Conflict, Invalid, RateLimited
from app.models import AccountToken, Organization, User
from app.models.user import NO_PASSWORD
from app.services import account_mail, account_tokens, audit, mfa, ratelimit, sessions
from app.services.reauth import confirm_password, load_me
from app.services.sessions import revoke_all_sessions
from app.services.users import get as get_user
from app.utils.clock import utcnow

_HOUR = 3600


async def _token_failure_guard(session: AsyncSession, ip: str | None) -> None:
    """Refuse a client that presented too many bad links lately (guessing is hopeless at 256
    bits; this keeps the attempt cheap for us)."""
    settings = get_settings()
    key = f"token:ip:{ip or 'unknown'}"
    usage = await ratelimit.peek(session, [key], settings.login_window_seconds)
    if key in usage and usage[key].hits >= settings.login_max_failures_per_ip:
        raise RateLimited(usage[key].retry_after)


async def _token_failed(session: AsyncSession, ip: str | None) -> None:
    await ratelimit.hit(session, f"token:ip:{ip or 'unknown'}", get_settings().login_window_seconds)


async def _find(
    session: AsyncSession, token: str, purpose: str, ip: str | None, *, consume: bool
) -> tuple[AccountToken, User]:
    await _token_failure_guard(session, ip)
    try:
        if consume:
            return await account_tokens.consume(session, token, purpose)
        return await account_tokens.find(session, token, purpose)
    except account_tokens.BadToken:
        await _token_failed(session, ip)
        raise


def _inputs(user: User) -> list[str]:
    return [user.email, user.name]


async def _set_password(
    session: AsyncSession,
    user: User,
    password: str,
    *,
    field: str = "password",
    keep: CurrentUser | None = None,
) -> None:
    """The one way a person's password is set: the rules, then every session ends (but *keep*'s,
    the one changing it), with every reset link and half-done sign-in of the old password."""
    try:
        password_policy.check(password, _inputs(user))
    except Invalid as exc:
        raise Invalid(field, exc.detail) from exc
    user.password_hash = hash_password(password)
    user.password_changed_at = utcnow()
    if keep is None:
        await revoke_all_sessions(session, user.id)
    else:
        await sessions.revoke_others(session, keep, audited=False)
    await account_tokens.kill(session, user.id, "password_reset")
    await account_tokens.kill(session, user.id, "mfa_login")
    await session.flush()


# --- invitations -----------------------------------------------------------------------------


async def invite(session: AsyncSession, actor: CurrentUser | None, user: User) -> None:
    """Send *user* (who has no password) an invitation; an earlier one dies."""
    if not user.is_active:
        raise Conflict("This account is deactivated")
    if user.password_hash != NO_PASSWORD:
        raise Conflict("This account is already active")
    settings = get_settings()
    issued = await account_tokens.issue(
        session, user.id, "invitation", timedelta(hours=settings.invitation_hours)
    )
    inviter = actor.name if actor is not None else "Your administrator"
    await account_mail.send(
        session,
        template="account_invitation",
        email=user.email,
        name=user.name,
        recipient_id=user.id,
        subject="you are invited",
        lines=[
            f"{inviter} invited you to ATUM DESK, where your support requests are handled.",
            "Choose your password to sign in.",
        ],
        url=account_mail.link(f"/welcome/{issued.token}"),
        action="Choose your password",
        expires=issued.row.expires_at,
    )
    await audit.record(
        session,
        actor=actor,
        action="user.invited",
        entity_type="user",
        entity_id=user.id,
        org_id=user.org_id,
        new_value={"expires_at": issued.row.expires_at},
    )


async def resend_invitation(session: AsyncSession, actor: CurrentUser, user_id: uuid.UUID) -> None:
    await invite(session, actor, await get_user(session, actor, user_id))


async def inspect_invitation(
    session: AsyncSession, token: str, ip: str | None
) -> tuple[User, bool]:
    """Whom an invitation is for, and whether their role requires a second factor."""
    _, user = await _find(session, token, "invitation", ip, consume=False)
    if user.password_hash != NO_PASSWORD:
        raise account_tokens.BadToken()
    return user, await mfa.required_for(session, user.role)


async def accept_invitation(
    session: AsyncSession, token: str, password: str, ip: str | None
) -> User:
    _, user = await _find(session, token, "invitation", ip, consume=True)
    if user.password_hash != NO_PASSWORD:
        # The person already chose a password (reset link, administrator): the invitation died.
        raise account_tokens.BadToken()
    await _set_password(session, user, password)
    await audit.record(
        session,
        actor=user.id,
        action="user.invitation_accepted",
        entity_type="user",
        entity_id=user.id,
        org_id=user.org_id,
    )
    return user


# --- forgotten password ----------------------------------------------------------------------


async def forgot_password(
    session: AsyncSession, settings: Settings, email: str, ip: str | None
) -> None:
    """Mail a reset link if *email* names an active account. The caller answers 202 whatever
    happened; both paths run the same statements but the final mail insert."""
    email = email.strip().lower()
    address_key, ip_key = f"reset:address:{email}", f"reset:ip:{ip or 'unknown'}"
    for key, limit in (
        (address_key, settings.password_reset_per_address_per_hour),
        (ip_key, settings.password_reset_per_ip_per_hour),
    ):
        hits, _ = await ratelimit.hit(session, key, _HOUR)
        if hits > limit:
            usage = await ratelimit.peek(session, [key], _HOUR)
            raise RateLimited(usage[key].retry_after if key in usage else _HOUR)
    user = (
        await session.execute(
            select(User)
            .outerjoin(Organization, Organization.id == User.org_id)
            .where(User.email == email, USABLE_ACCOUNT)
        )
    ).scalar_one_or_none()
    if user is None:
        # The same work as a known address: a token is made and an update runs (on nobody).
        await account_tokens.kill(session, uuid.UUID(int=0), "password_reset")
        await audit.record(
            session,
            actor=None,
            action="auth.password_reset_requested",
            entity_type="user",
            entity_id=None,
            new_value={"known": False},
        )
        return
    issued = await account_tokens.issue(
        session,
        user.id,
        "password_reset",
        timedelta(minutes=settings.password_reset_minutes),
    )
    await account_mail.send(
        session,
        template="account_password_reset",
        email=user.email,
        name=user.name,
        recipient_id=user.id,
        subject="reset your password",
        lines=[
            "Someone (we hope you) asked to reset the password of your ATUM DESK account.",
            "If it was not you, ignore this mail: your password stays as it is.",
        ],
        url=account_mail.link(f"/reset-password/{issued.token}"),
        action="Choose a new password",
        expires=issued.row.expires_at,
    )
    await audit.record(
        session,
        actor=None,
        action="auth.password_reset_requested",
        entity_type="user",
        entity_id=user.id,
        org_id=user.org_id,
        new_value={"known": True},
    )


async def _password_changed_notice(session: AsyncSession, user: User, how: str) -> None:
    await account_mail.send(
        session,
        template="account_password_changed",
        email=user.email,
        name=user.name,
        recipient_id=user.id,
        subject="your password was changed",
        lines=[
            f"The password of your ATUM DESK account was {how}.",
            "If you did not do this, reset your password from the sign-in page at once and tell "
            "your administrator.",
        ],
    )


async def reset_password(session: AsyncSession, token: str, password: str, ip: str | None) -> User:
    _, user = await _find(session, token, "password_reset", ip, consume=True)
    await _set_password(session, user, password)
    await _password_changed_notice(session, user, "reset with a link sent by e-mail")
    await audit.record(
        session,
        actor=user.id,
        action="auth.password_reset",
        entity_type="user",
        entity_id=user.id,
        org_id=user.org_id,
        new_value={"sessions_ended": True},
    )
    return user


# --- the profile -----------------------------------------------------------------------------


async def update_profile(
    session: AsyncSession, actor: CurrentUser, *, name: str | None, language: str | None
) -> User:
    user = await load_me(session, actor)
    before = {"name": user.name, "language": user.language}
    if name is not None:
        user.name = name
    if language is not None:
        user.language = language
    old, new = audit.changes(before, {"name": user.name, "language": user.language})
    if new:
        await session.flush()
        await audit.record(
            session,
            actor=actor,
            action="user.updated",
            entity_type="user",
            entity_id=user.id,
            org_id=user.org_id,
            old_value=old,
            new_value=new,
        )
    return user


async def change_password(
    session: AsyncSession, actor: CurrentUser, current: str, new: str
) -> None:
    """The password changes; every other session of the user ends (this one stays)."""
    user = await confirm_password(session, actor, current)
    if verify_password(user.password_hash, new):
        raise Invalid("new_password", "The new password must differ from the current one")
    await _set_password(session, user, new, field="new_password", keep=actor)
    await _password_changed_notice(session, user, "changed from the profile page")
    await audit.record(
        session,
        actor=actor,
        action="auth.password_changed",
        entity_type="user",
        entity_id=user.id,
        org_id=user.org_id,
        new_value={"other_sessions_ended": True},
    )


async def request_email_change(
    session: AsyncSession, actor: CurrentUser, current_password: str, new_email: str
) -> None:
    user = await confirm_password(session, actor, current_password)
    new_email = new_email.lower()
    if new_email == user.email:
        raise Invalid("new_email", "This is already your e-mail address")
    taken = await session.scalar(select(User.id).where(User.email == new_email))
    if taken is not None:
        raise Conflict("A user with this e-mail already exists")
    issued = await account_tokens.issue(
        session,
        user.id,
        "email_change",
        timedelta(hours=get_settings().email_change_hours),
        new_email=new_email,
    )
    await account_mail.send(
        session,
        template="account_email_confirm",
        email=new_email,
        name=user.name,
        recipient_id=user.id,
        subject="confirm your new e-mail address",
        lines=[
            "You asked to use this address for your ATUM DESK account.",
            "Confirm it with the link below; until then your old address stays in use.",
        ],
        url=account_mail.link(f"/confirm-email/{issued.token}"),
        action="Confirm this address",
        expires=issued.row.expires_at,
    )
    await account_mail.send(
        session,
        template="account_email_change_requested",
        email=user.email,
        name=user.name,
        recipient_id=user.id,
        subject="your e-mail address is about to change",
        lines=[
            f"Someone signed in to your account asked to change its e-mail address to "
            f"{new_email}. The change happens when the new address is confirmed.",
            "If this was not you, change your password at once and tell your administrator.",
        ],
    )


async def confirm_email_change(session: AsyncSession, token: str, ip: str | None) -> User:
    row, user = await _find(session, token, "email_change", ip, consume=True)
    new_email = row.new_email
    if new_email is None:  # every e-mail change token carries its address
        raise account_tokens.BadToken()
    if await session.scalar(select(User.id).where(User.email == new_email)) is not None:
        raise Conflict("A user with this e-mail already exists")
    old_email = user.email
    user.email = new_email
    await session.flush()
    await account_mail.send(
        session,
        template="account_email_changed",
        email=old_email,
        name=user.name,
        recipient_id=user.id,
        subject="your e-mail address was changed",
        lines=[
            f"The e-mail address of your ATUM DESK account is now {new_email}. "
            "Mails about your account and tickets go there from now on.",
            "If you did not do this, tell your administrator at once.",
        ],
    )
    await audit.record(
        session,
        actor=user.id,
        action="user.email_changed",
        entity_type="user",
        entity_id=user.id,
        org_id=user.org_id,
        old_value={"email": old_email},
        new_value={"email": new_email},
    )
    return user
