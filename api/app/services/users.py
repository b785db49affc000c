"""Users. Admins manage everyone; a customer_admin manages the customer users of its own
organization only (others are invisible to it: 404)."""

from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth import password_policy
from app.auth.deps import CurrentUser
from app.auth.passwords import hash_password
from app.auth.permissions import CUSTOMER_ADMIN_GRANTABLE
from app.errors import Conflict, Forbidden, Invalid, NotFound
from app.models import Organization, User
from app.models.enums import CUSTOMER_ROLES, Role
from app.models.user import NO_PASSWORD
from app.schemas.user import UserCreate, UserUpdate
from app.services import audit
from app.services.sessions import revoke_all_sessions
from app.services.visibility import visible_orgs, visible_users
from app.utils.pagination import keyset_page


def _snapshot(user: User) -> dict[str, object]:
    return {"name": user.name, "role": user.role, "is_active": user.is_active}


async def get(session: AsyncSession, actor: CurrentUser, user_id: uuid.UUID) -> User:
    user = (
        await session.execute(visible_users(actor).where(User.id == user_id))
    ).scalar_one_or_none()
    if user is None:
        raise NotFound("User not found")
    return user


async def list_users(
    session: AsyncSession,
    actor: CurrentUser,
    *,
    org_id: uuid.UUID | None,
    role: Role | None,
    q: str | None,
    cursor: str | None,
    limit: int,
) -> tuple[list[User], str | None]:
    stmt = visible_users(actor)
    if org_id is not None:
        stmt = stmt.where(User.org_id == org_id)
    if role is not None:
        stmt = stmt.where(User.role == role.value)
    if q:
        stmt = stmt.where(
            User.email.icontains(q, autoescape=True) | User.name.icontains(q, autoescape=True)
        )
    return await keyset_page(
        session,
        stmt,
        keys=[User.email],
        kinds=[str],
        key_of=lambda u: (u.email,),
        cursor=cursor,
        limit=limit,
    )


async def _check_org(session: AsyncSession, actor: CurrentUser | None, org_id: uuid.UUID) -> None:
    stmt = select(Organization.id).where(Organization.id == org_id)
    if actor is not None:
        stmt = (
            visible_orgs(actor).with_only_columns(Organization.id).where(Organization.id == org_id)
        )
    if (await session.execute(stmt)).first() is None:
        raise NotFound("Organization not found")


async def create(session: AsyncSession, actor: CurrentUser | None, body: UserCreate) -> User:
    """Create a user. *actor* None is the command line (trusted operator)."""
    org_id = body.org_id
    if actor is not None and actor.role is Role.CUSTOMER_ADMIN:
        if body.role not in CUSTOMER_ADMIN_GRANTABLE:
            raise Forbidden("You may only create users of your own organization")
        if org_id is not None and org_id != actor.org_id:
            raise NotFound("Organization not found")
        org_id = actor.org_id
    if body.role in CUSTOMER_ROLES:
        if org_id is None:
            raise Invalid("org_id", "Customer users must belong to an organization")
        await _check_org(session, actor, org_id)
    elif org_id is not None:
        raise Invalid("org_id", "Staff users do not belong to a customer organization")

    if body.password is not None:
        password_policy.check(body.password, [body.email, body.name])
    user = await _insert(
        session,
        actor,
        email=body.email,
        name=body.name,
        role=body.role,
        org_id=org_id,
        password_hash=hash_password(body.password) if body.password is not None else NO_PASSWORD,
    )
    if body.password is None:
        from app.services import accounts  # (accounts builds on this module)

        await accounts.invite(session, actor, user)
    return user


async def _insert(
    session: AsyncSession,
    actor: CurrentUser | None,
    *,
    email: str,
    name: str,
    role: Role,
    org_id: uuid.UUID | None,
    password_hash: str,
    action: str = "user.created",
    **audited: str,
) -> User:
    """A new active user with its ``user.created`` entry (an e-mail is one user's only)."""
    email = email.lower()
    if (await session.execute(select(User.id).where(User.email == email))).first() is not None:
        raise Conflict("A user with this e-mail already exists")
    user = User(
        id=uuid.uuid4(),
        email=email,
        name=name,
        role=role.value,
        org_id=org_id,
        password_hash=password_hash,
        is_active=True,
    )
    session.add(user)
    await session.flush()
    await audit.record(
        session,
        actor=actor,
        action=action,
        entity_type="user",
        entity_id=user.id,
        org_id=user.org_id,
        new_value={"email": user.email, **_snapshot(user), **audited},
    )
    return user


async def provision(
    session: AsyncSession,
    *,
    email: str,
    name: str,
    role: Role,
    org_id: uuid.UUID | None,
    via: str,
) -> User:
    """A user created at their first sign-in through an identity provider (``user.provisioned``):
    no local password; role and organization from the provider's group mapping."""
    return await _insert(
        session,
        None,
        email=email,
        name=(" ".join(name.split()) or email.partition("@")[0])[:200],
        role=role,
        org_id=org_id,
        password_hash=NO_PASSWORD,
        action="user.provisioned",
        via=via,
    )


async def apply_directory(
    session: AsyncSession,
    user: User,
    *,
    via: str,
    name: str | None = None,
    email: str | None = None,
    role: Role | None = None,
    org_id: uuid.UUID | None = None,
    is_active: bool | None = None,
) -> dict[str, object]:
    """What an identity provider says of a user it manages (a sign-in there, or the directory
    sync): name, address, role and organization (from the group mapping; the provider is the
    authority, so a customer may become staff), active or not. Audited as ``user.updated`` with
    ``via``; a deactivation or a change of role or organization ends the user's sessions.
    Returns the changes."""
    before = {**_snapshot(user), "email": user.email, "org_id": user.org_id}
    if name is not None and " ".join(name.split()):
        user.name = " ".join(name.split())[:200]
    if email is not None and email.lower() != user.email:
        taken = await session.scalar(
            select(User.id).where(User.email == email.lower(), User.id != user.id)
        )
        if taken is None:
            user.email = email.lower()
    if role is not None:
        user.role = role.value
        user.org_id = org_id if role in CUSTOMER_ROLES else None
        if role is not Role.ADMIN:
            user.break_glass = False
    if is_active is not None:
        user.is_active = is_active
    after = {**_snapshot(user), "email": user.email, "org_id": user.org_id}
    old, new = audit.changes(before, after)
    if not new:
        return {}
    await session.flush()
    if not user.is_active or "role" in new or "org_id" in new:
        await revoke_all_sessions(session, user.id)
    await audit.record(
        session,
        actor=None,
        action="user.updated",
        entity_type="user",
        entity_id=user.id,
        org_id=user.org_id,
        old_value=old,
        new_value={**new, "via": via},
    )
    if new.get("is_active") is False:
        await audit.record(
            session,
            actor=None,
            action="user.deactivated",
            entity_type="user",
            entity_id=user.id,
            org_id=user.org_id,
            new_value={"via": via},
        )
    return new


async def create_contact(
    session: AsyncSession,
    actor: CurrentUser | None,
    *,
    org_id: uuid.UUID,
    email: str,
    name: str,
    via: str,
) -> User:
    """A customer user of *org_id* without a password, for someone who wrote in by e-mail (an
    invitation gives them a password later). *actor* None: the mail channel itself."""
    return await _insert(
        session,
        actor,
        email=email,
        name=(" ".join(name.split()) or email.partition("@")[0])[:200],
        role=Role.CUSTOMER_USER,
        org_id=org_id,
        password_hash=NO_PASSWORD,
        via=via,
    )


async def update(
    session: AsyncSession, actor: CurrentUser, user_id: uuid.UUID, body: UserUpdate
) -> User:
    user = await get(session, actor, user_id)
    before = _snapshot(user)
    if body.role is not None and body.role.value != user.role:
        if actor.role is Role.CUSTOMER_ADMIN and body.role not in CUSTOMER_ADMIN_GRANTABLE:
            raise Forbidden("You may only grant customer roles")
        if (body.role in CUSTOMER_ROLES) != (Role(user.role) in CUSTOMER_ROLES):
            raise Invalid("role", "A customer cannot become staff or the other way round")
        if user.id == actor.id:
            raise Conflict("You cannot change your own role")
        if user.break_glass:
            raise Conflict("This is the break-glass administrator: choose another one first")
        user.role = body.role.value
    if body.is_active is not None and body.is_active != user.is_active:
        if user.id == actor.id and not body.is_active:
            raise Conflict("You cannot deactivate your own account")
        if user.break_glass and not body.is_active:
            raise Conflict("This is the break-glass administrator: choose another one first")
        user.is_active = body.is_active
    if body.name is not None:
        user.name = body.name
    password_changed = body.password is not None
    if body.password is not None:
        password_policy.check(body.password, [user.email, user.name])
        user.password_hash = hash_password(body.password)

    old, new = audit.changes(before, _snapshot(user))
    if password_changed:
        new["password"] = "changed"  # noqa: S105  (a marker; the password is never recorded)
    if not user.is_active or password_changed:
        await revoke_all_sessions(session, user.id)
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
        if new.get("is_active") is False:
            await audit.record(
                session,
                actor=actor,
                action="user.deactivated",
                entity_type="user",
                entity_id=user.id,
                org_id=user.org_id,
            )
    return user
