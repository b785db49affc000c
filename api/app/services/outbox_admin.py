"""Admins inspect the mail outbox and send failed mails again."""

from __future__ import annotations

import uuid

from sqlalchemy import select, text, update
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.deps import CurrentUser
from app.errors import Conflict, NotFound
from app.models import OutboxMessage, User
from app.services import audit
from app.services.notifications import CHANNEL
from app.utils.pagination import decode_cursor, encode_cursor


async def list_messages(
    session: AsyncSession, *, status: str | None, cursor: str | None, limit: int
) -> tuple[list[OutboxMessage], str | None]:
    """Newest first (keyset on created_at, id)."""
    stmt = select(OutboxMessage)
    if status is not None:
        stmt = stmt.where(OutboxMessage.status == status)
    if cursor:
        from datetime import datetime

        created, id_ = decode_cursor(cursor, [datetime, uuid.UUID])
        stmt = stmt.where(
            (OutboxMessage.created_at < created)
            | ((OutboxMessage.created_at == created) & (OutboxMessage.id < id_))
        )
    stmt = stmt.order_by(OutboxMessage.created_at.desc(), OutboxMessage.id.desc()).limit(limit + 1)
    rows = list((await session.execute(stmt)).scalars())
    if len(rows) > limit:
        rows = rows[:limit]
        return rows, encode_cursor([rows[-1].created_at, rows[-1].id])
    return rows, None


async def retry(session: AsyncSession, actor: CurrentUser, message_id: uuid.UUID) -> OutboxMessage:
    """A failed mail goes back to the queue with a fresh attempt budget."""
    message = await session.get(OutboxMessage, message_id, with_for_update=True)
    if message is None:
        raise NotFound("Notification not found")
    if message.status != "failed":
        raise Conflict("Only failed notifications can be retried")
    await session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id == message.id)
        .values(status="pending", attempts=0, next_attempt_at=text("now()"), last_error=None)
        .execution_options(synchronize_session=False)
    )
    await session.execute(text("SELECT pg_notify(:channel, '')"), {"channel": CHANNEL})
    await audit.record(
        session,
        actor=actor,
        action="notification.retried",
        entity_type="notification",
        entity_id=message.id,
        org_id=message.org_id,
        ticket_id=message.ticket_id,
    )
    await session.refresh(message)
    return message


async def preferences(session: AsyncSession, actor: CurrentUser) -> bool:
    value = (
        await session.execute(select(User.notify_enabled).where(User.id == actor.id))
    ).scalar_one()
    return bool(value)


async def set_preferences(session: AsyncSession, actor: CurrentUser, enabled: bool) -> bool:
    await session.execute(
        update(User)
        .where(User.id == actor.id)
        .values(notify_enabled=enabled)
        .execution_options(synchronize_session=False)
    )
    await audit.record(
        session,
        actor=actor,
        action="user.updated",
        entity_type="user",
        entity_id=actor.id,
        org_id=actor.org_id,
        new_value={"notify_enabled": enabled},
    )
    return enabled
