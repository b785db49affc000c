"""The mail outbox as admins see it (GET /api/admin/notifications, POST .../{id}/retry: admin only,
audited) and every user's notification preferences (GET/PUT /api/me/preferences)."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

import pytest
from httpx import AsyncClient
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.models import AuditLog, OutboxMessage, User
from app.models.enums import Role
from app.utils.clock import utcnow
from tests.factories import Actor, make_actor, make_org

NON_ADMINS = [Role.CUSTOMER_USER, Role.CUSTOMER_ADMIN, Role.AGENT, Role.MANAGER]
LIST = "/api/admin/notifications"


async def actor(db: AsyncSession, client: AsyncClient, role: Role) -> Actor:
    org = await make_org(db) if not role.is_staff else None
    return await make_actor(db, client, role=role, org=org)


async def outbox_row(
    db: AsyncSession, status: str, *, attempts: int = 1, error: str | None = None
) -> OutboxMessage:
    tag = uuid.uuid4().hex[:10]
    row = OutboxMessage(
        id=uuid.uuid4(),
        idempotency_key=f"test:{tag}",
        recipient_email=f"someone-{tag}@example.test",
        template="status",
        subject=f"[ATUM DESK #1] Mail {tag}",
        body_text="Text",
        body_html="<p>HTML</p>",
        status=status,
        attempts=attempts,
        last_error=error,
        next_attempt_at=utcnow() + timedelta(hours=1),
        sent_at=utcnow() if status == "sent" else None,
    )
    db.add(row)
    await db.flush()
    return row


async def stored(db: AsyncSession, row: OutboxMessage) -> OutboxMessage:
    await db.refresh(row)
    return row


class TestList:
    async def test_admin_lists_the_failed_mails_with_why_they_failed(
        self, client: AsyncClient, db: AsyncSession
    ) -> None:
        admin = await actor(db, client, Role.ADMIN)
        failed = [await outbox_row(db, "failed", attempts=8, error="550 no such user")]
        failed.append(await outbox_row(db, "failed", attempts=3, error="421 busy"))
        others = [await outbox_row(db, s) for s in ("pending", "sending", "sent")]

        response = await client.get(LIST, params={"status": "failed"}, headers=admin.headers)

        assert response.status_code == 200, response.text
        items = {item["id"]: item for item in response.json()["items"]}
        assert {item["status"] for item in items.values()} == {"failed"}
        assert {str(r.id) for r in failed} <= set(items)
        assert not {str(r.id) for r in others} & set(items)
        first = items[str(failed[0].id)]
        assert (first["attempts"], first["last_error"]) == (8, "550 no such user")
        assert first["recipient_email"] == failed[0].recipient_email
        assert first["subject"] == failed[0].subject

    async def test_without_a_status_every_mail_is_listed(
        self, client: AsyncClient, db: AsyncSession
    ) -> None:
        admin = await actor(db, client, Role.ADMIN)
        rows = [await outbox_row(db, s) for s in ("pending", "sending", "sent", "failed")]

        response = await client.get(LIST, params={"limit": 100}, headers=admin.headers)

        assert response.status_code == 200, response.text
        listed = {item["id"]: item["status"] for item in response.json()["items"]}
        assert {str(r.id): r.status for r in rows}.items() <= listed.items()

    async def test_pages_go_newest_first_without_repeats(
        self, client: AsyncClient, db: AsyncSession
    ) -> None:
        admin = await actor(db, client, Role.ADMIN)
        rows = [await outbox_row(db, "failed") for _ in range(3)]
        newest_first = sorted((str(r.id) for r in rows), reverse=True)

        first = await client.get(
            LIST, params={"status": "failed", "limit": 2}, headers=admin.headers
        )
        cursor = first.json()["next_cursor"]
        second = await client.get(
            LIST, params={"status": "failed", "limit": 2, "cursor": cursor}, headers=admin.headers
        )

        assert cursor is not None
        seen = [i["id"] for i in first.json()["items"]] + [i["id"] for i in second.json()["items"]]
        assert seen[:3] == newest_first
        assert len(seen) == len(set(seen))

    async def test_an_unknown_status_is_invalid(
        self, client: AsyncClient, db: AsyncSession
    ) -> None:
        admin = await actor(db, client, Role.ADMIN)

        response = await client.get(LIST, params={"status": "lost"}, headers=admin.headers)

        assert response.status_code == 422

    @pytest.mark.parametrize("role", NON_ADMINS)
    async def test_only_admins_see_the_outbox(
        self, client: AsyncClient, db: AsyncSession, role: Role
    ) -> None:
        caller = await actor(db, client, role)
        await outbox_row(db, "failed")

        assert (await client.get(LIST, headers=caller.headers)).status_code == 403
        assert (await client.get(LIST)).status_code == 401


class TestRetry:
    async def test_a_failed_mail_goes_back_to_the_queue_with_a_fresh_budget(
        self, client: AsyncClient, db: AsyncSession
    ) -> None:
        admin = await actor(db, client, Role.ADMIN)
        row = await outbox_row(db, "failed", attempts=8, error="451 greylisted")

        response = await client.post(f"{LIST}/{row.id}/retry", headers=admin.headers)

        assert response.status_code == 200, response.text
        body = response.json()
        assert (body["id"], body["status"], body["attempts"]) == (str(row.id), "pending", 0)
        assert body["last_error"] is None
        row = await stored(db, row)
        assert (row.status, row.attempts, row.last_error) == ("pending", 0, None)
        assert row.next_attempt_at <= await db.scalar(select(func.now()))
        entries = (
            await db.scalars(
                select(AuditLog).where(
                    AuditLog.action == "notification.retried", AuditLog.entity_id == row.id
                )
            )
        ).all()
        assert [(e.actor_id, e.entity_type) for e in entries] == [(admin.id, "notification")]

    @pytest.mark.parametrize("status", ["pending", "sending", "sent"])
    async def test_only_a_failed_mail_can_be_retried(
        self, client: AsyncClient, db: AsyncSession, status: str
    ) -> None:
        admin = await actor(db, client, Role.ADMIN)
        row = await outbox_row(db, status, attempts=2)

        response = await client.post(f"{LIST}/{row.id}/retry", headers=admin.headers)

        assert response.status_code == 409, response.text
        row = await stored(db, row)
        assert (row.status, row.attempts) == (status, 2)

    async def test_an_unknown_mail_is_not_found(
        self, client: AsyncClient, db: AsyncSession
    ) -> None:
        admin = await actor(db, client, Role.ADMIN)

        response = await client.post(f"{LIST}/{uuid.uuid4()}/retry", headers=admin.headers)

        assert response.status_code == 404

    @pytest.mark.parametrize("role", NON_ADMINS)
    async def test_only_admins_retry(
        self, client: AsyncClient, db: AsyncSession, role: Role
    ) -> None:
        caller = await actor(db, client, role)
        row = await outbox_row(db, "failed", attempts=8)

        response = await client.post(f"{LIST}/{row.id}/retry", headers=caller.headers)

        assert response.status_code == 403
        assert (await client.post(f"{LIST}/{row.id}/retry")).status_code == 401
        row = await stored(db, row)
        assert (row.status, row.attempts) == ("failed", 8)


class TestPreferences:
    @pytest.mark.parametrize("role", list(Role))
    async def test_every_user_turns_notifications_off_and_on(
        self, client: AsyncClient, db: AsyncSession, role: Role
    ) -> None:
        caller = await actor(db, client, role)
        url = "/api/me/preferences"

        before = await client.get(url, headers=caller.headers)
        off = await client.put(url, json={"notify_enabled": False}, headers=caller.headers)
        after_off = await client.get(url, headers=caller.headers)
        stored_off = await db.scalar(select(User.notify_enabled).where(User.id == caller.id))
        on = await client.put(url, json={"notify_enabled": True}, headers=caller.headers)

        assert before.json() == {"notify_enabled": True}
        assert off.status_code == 200, off.text
        assert off.json() == after_off.json() == {"notify_enabled": False}
        assert stored_off is False
        assert on.json() == {"notify_enabled": True}
        changes = (
            await db.scalars(
                select(AuditLog.new_value)
                .where(AuditLog.action == "user.updated", AuditLog.entity_id == caller.id)
                .order_by(AuditLog.seq)
            )
        ).all()
        assert changes == [{"notify_enabled": False}, {"notify_enabled": True}]

    @pytest.mark.parametrize(
        "body",
        [
            {"notify_enabled": False, "email": "someone@example.test"},
            {"notify_enabled": "no"},
            {"notify_enabled": None},
            {},
        ],
    )
    async def test_anything_but_the_one_flag_is_refused(
        self, client: AsyncClient, db: AsyncSession, body: dict[str, Any]
    ) -> None:
        caller = await actor(db, client, Role.CUSTOMER_USER)

        response = await client.put("/api/me/preferences", json=body, headers=caller.headers)

        assert response.status_code == 422, response.text
        assert await db.scalar(select(User.notify_enabled).where(User.id == caller.id)) is True

    async def test_anonymous_callers_have_no_preferences(self, client: AsyncClient) -> None:
        assert (await client.get("/api/me/preferences")).status_code == 401
        put = await client.put("/api/me/preferences", json={"notify_enabled": False})
        assert put.status_code == 401
