"""A user's sessions: listed with a device label, ended one at a time, all but the current one, or
all of them by an administrator (a customer_admin for its organization's customers). An ended
session's token is refused from the next request on (auth/deps.py reads the session row)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.elements import ColumnElement
from ua_parser import parse

from app.auth.deps import CurrentUser
from app.errors import NotFound
from app.models import AuthSession
from app.services import audit


@dataclass(frozen=True, slots=True)
class SessionInfo:
    id: uuid.UUID
    current: bool
    device: str
    ip: str | None
    created_at: datetime
    last_seen_at: datetime


@lru_cache(maxsize=512)
def device_label(user_agent: str | None) -> str:
    """ "Firefox 133 on Windows", "curl", or "Unknown device"."""
    if not user_agent:
        return "Unknown device"
    result = parse(user_agent[:400])
    agent = result.user_agent
    system = result.os
    name = ""
    if agent is not None and agent.family != "Other":
        name = f"{agent.family} {agent.major}" if agent.major else agent.family
    if system is not None and system.family != "Other":
        return f"{name} on {system.family}" if name else system.family
    return name or user_agent.split("/")[0].strip()[:60] or "Unknown device"


def _live(user_id: uuid.UUID) -> tuple[ColumnElement[bool], ...]:
    return (
        AuthSession.user_id == user_id,
        AuthSession.revoked_at.is_(None),
        AuthSession.expires_at > func.now(),
    )


async def list_mine(session: AsyncSession, actor: CurrentUser) -> list[SessionInfo]:
    rows = (
        await session.execute(
            select(AuthSession).where(*_live(actor.id)).order_by(AuthSession.last_seen_at.desc())
        )
    ).scalars()
    return [
        SessionInfo(
            id=s.id,
            current=s.id == actor.session_id,
            device=device_label(s.user_agent),
            ip=s.ip,
            created_at=s.created_at,
            last_seen_at=s.last_seen_at,
        )
        for s in rows
    ]


async def revoke(session: AsyncSession, actor: CurrentUser, session_id: uuid.UUID) -> None:
    """End one of the caller's own sessions (another user's is not found)."""
    ended = await session.execute(
        update(AuthSession)
        .where(AuthSession.id == session_id, *_live(actor.id))
        .values(revoked_at=func.now())
        .returning(AuthSession.id)
    )
    if ended.first() is None:
        raise NotFound("Session not found")
    await audit.record(
        session,
        actor=actor,
        action="auth.session_revoked",
        entity_type="user",
        entity_id=actor.id,
        org_id=actor.org_id,
        new_value={"session_id": session_id, "current": session_id == actor.session_id},
    )


async def revoke_others(session: AsyncSession, actor: CurrentUser, *, audited: bool = True) -> int:
    """End every session of the caller but the current one; the number ended."""
    ended = await session.execute(
        update(AuthSession)
        .where(AuthSession.id != actor.session_id, *_live(actor.id))
        .values(revoked_at=func.now())
        .returning(AuthSession.id)
    )
    count = len(ended.all())
    if audited:
        await audit.record(
            session,
            actor=actor,
            action="auth.session_revoked",
            entity_type="user",
            entity_id=actor.id,
            org_id=actor.org_id,
            new_value={"others": True, "count": count},
        )
    return count


async def end_all_of(session: AsyncSession, actor: CurrentUser, user_id: uuid.UUID) -> int:
    """An administrator ends every session of a user they can see (ASVS 7.4.5)."""
    from app.services.users import get as get_user  # (users imports this module)

    user = await get_user(session, actor, user_id)
    ended = await session.execute(
        update(AuthSession)
        .where(*_live(user.id))
        .values(revoked_at=func.now())
        .returning(AuthSession.id)
    )
    count = len(ended.all())
    await audit.record(
        session,
        actor=actor,
        action="auth.session_revoked",
        entity_type="user",
        entity_id=user.id,
        org_id=user.org_id,
        new_value={"all": True, "count": count},
    )
    return count


async def revoke_all_sessions(session: AsyncSession, user_id: uuid.UUID) -> None:
    """Ends every session of a user (password set or reset, deactivation, factors reset)."""
    await session.execute(
        update(AuthSession)
        .where(AuthSession.user_id == user_id, AuthSession.revoked_at.is_(None))
        .values(revoked_at=func.now())
    )
