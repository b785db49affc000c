"""The mail outbox for admins; each user's notification preferences."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query

from app.auth.deps import Authenticated, DbSession, NotificationAdmin
from app.routers.common import DEFAULT, Cursor, Limit
from app.schemas.common import Page
from app.schemas.notification import OutboxOut, OutboxStatus, Preferences, PreferencesUpdate
from app.services import outbox_admin

router = APIRouter(tags=["notifications"])


@router.get("/admin/notifications", response_model=Page[OutboxOut])
async def list_notifications(
    actor: NotificationAdmin,
    session: DbSession,
    status: Annotated[OutboxStatus | None, Query()] = None,
    cursor: Cursor = None,
    limit: Limit = DEFAULT,
) -> Page[OutboxOut]:
    items, next_cursor = await outbox_admin.list_messages(
        session, status=status, cursor=cursor, limit=limit
    )
    return Page[OutboxOut](
        items=[OutboxOut.model_validate(m) for m in items], next_cursor=next_cursor
    )


@router.post("/admin/notifications/{notification_id}/retry", response_model=OutboxOut)
async def retry_notification(
    notification_id: uuid.UUID, actor: NotificationAdmin, session: DbSession
) -> OutboxOut:
    return OutboxOut.model_validate(await outbox_admin.retry(session, actor, notification_id))


@router.get("/me/preferences", response_model=Preferences)
async def get_preferences(user: Authenticated, session: DbSession) -> Preferences:
    return Preferences(notify_enabled=await outbox_admin.preferences(session, user))


@router.put("/me/preferences", response_model=Preferences)
async def put_preferences(
    body: PreferencesUpdate, user: Authenticated, session: DbSession
) -> Preferences:
    enabled = await outbox_admin.set_preferences(session, user, body.notify_enabled)
    return Preferences(notify_enabled=enabled)
