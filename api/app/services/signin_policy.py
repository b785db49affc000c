"""The sign-in policy per role (the one place it is read and written): may a user of the role sign
in with a local password, and must an identity provider's sign-in carry a second factor; and the
break-glass administrator, who may always sign in with a password and a second factor."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.deps import CurrentUser
from app.errors import Conflict, Invalid, NotFound
from app.models import SigninPolicy, User
from app.models.enums import Role
from app.services import audit


@dataclass(frozen=True, slots=True)
class RoleRule:
    role: Role
    password_allowed: bool
    idp_mfa_required: bool


async def rules(session: AsyncSession) -> list[RoleRule]:
    """Every role's rule (a role without a row: passwords allowed, no provider MFA required)."""
    rows = {r.role: r for r in (await session.execute(select(SigninPolicy))).scalars()}
    return [
        RoleRule(
            role,
            rows[role.value].password_allowed if role.value in rows else True,
            rows[role.value].idp_mfa_required if role.value in rows else False,
        )
        for role in Role
    ]


async def rule_for(session: AsyncSession, role: str) -> RoleRule:
    row = await session.get(SigninPolicy, role)
    return RoleRule(
        Role(role),
        row.password_allowed if row else True,
        row.idp_mfa_required if row else False,
    )


async def break_glass(session: AsyncSession) -> User | None:
    return await session.scalar(select(User).where(User.break_glass.is_(True)))


async def set_rules(
    session: AsyncSession,
    actor: CurrentUser,
    items: list[RoleRule],
    break_glass_user_id: uuid.UUID | None,
) -> None:
    """Store the rules and the break-glass administrator (audited ``sso.policy_updated``).

    Turning local passwords off for admins needs a break-glass administrator with a second
    factor: without one, an outage of every provider would lock every administrator out."""
    chosen: User | None = None
    if break_glass_user_id is not None:
        chosen = await session.get(User, break_glass_user_id, with_for_update=True)
        if chosen is None:
            raise NotFound("User not found")
        if chosen.role != Role.ADMIN.value or not chosen.is_active:
            raise Invalid("break_glass_user_id", "The break-glass account must be an active admin")
        if not chosen.mfa_enabled:
            raise Invalid(
                "break_glass_user_id",
                "The break-glass account needs a second factor (it signs in with password + "
                "second factor)",
            )
    merged = {r.role: r for r in await rules(session)}
    for item in items:
        merged[item.role] = item
    if not merged[Role.ADMIN].password_allowed and chosen is None:
        raise Conflict(
            "Choose a break-glass administrator with a second factor before turning local "
            "passwords off for admins"
        )
    changed: dict[str, object] = {}
    for role, item in merged.items():
        row = await session.get(SigninPolicy, role.value, with_for_update=True)
        if row is None:
            if (item.password_allowed, item.idp_mfa_required) == (True, False):
                continue
            session.add(
                SigninPolicy(
                    role=role.value,
                    password_allowed=item.password_allowed,
                    idp_mfa_required=item.idp_mfa_required,
                )
            )
        elif (row.password_allowed, row.idp_mfa_required) == (
            item.password_allowed,
            item.idp_mfa_required,
        ):
            continue
        else:
            row.password_allowed = item.password_allowed
            row.idp_mfa_required = item.idp_mfa_required
        changed[role.value] = {
            "password_allowed": item.password_allowed,
            "idp_mfa_required": item.idp_mfa_required,
        }
    current = await break_glass(session)
    if (current.id if current else None) != break_glass_user_id:
        await session.execute(
            update(User).where(User.break_glass.is_(True)).values(break_glass=False)
        )
        await session.flush()
        if chosen is not None:
            chosen.break_glass = True
        changed["break_glass"] = chosen.email if chosen else None
    if changed:
        await session.flush()
        await audit.record(
            session,
            actor=actor,
            action="sso.policy_updated",
            entity_type="signin_policy",
            entity_id=None,
            new_value=changed,
        )


async def allow_passwords(session: AsyncSession, role: Role) -> bool:
    """The operator's way back in (``atum-desk allow-passwords``): local passwords allowed again
    for *role*, audited as done from the command line. False when they already were."""
    row = await session.get(SigninPolicy, role.value, with_for_update=True)
    if row is None or row.password_allowed:
        return False
    row.password_allowed = True
    await session.flush()
    await audit.record(
        session,
        actor=None,
        action="sso.policy_updated",
        entity_type="signin_policy",
        entity_id=None,
        new_value={role.value: {"password_allowed": True}, "via": "command line"},
    )
    return True
