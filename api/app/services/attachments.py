"""Attachments: upload (streamed, hashed, sniffed, size-limited) and audited download.

The ticket is checked (visible, not closed) before a byte is read, the bytes are stored under a
generated name, and the row and its audit entry are written in the request's transaction. If
anything fails after the file was stored, the file is removed again: a failed upload leaves no file
and no row behind.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.deps import CurrentUser
from app.config import get_settings
from app.errors import (
    Conflict,
    Forbidden,
    InsufficientStorage,
    Invalid,
    NotFound,
    PayloadTooLarge,
    UnsupportedMediaType,
)
from app.models import Ticket, TicketAttachment, TicketComment
from app.models.enums import TicketStatus as S
from app.services import audit, workflow
from app.services.storage import EmptyUpload, FileStore, StorageFull, UploadTooLarge
from app.services.visibility import visible_attachments, visible_tickets
from app.utils.filenames import sanitize_filename
from app.utils.filetypes import RefusedType


@lru_cache
def file_store() -> FileStore:
    settings = get_settings()
    return FileStore(settings.upload_dir, group_readable=settings.accel_redirect_prefix is not None)


async def _ticket(session: AsyncSession, actor: CurrentUser, ticket_id: uuid.UUID) -> Ticket:
    ticket = (
        await session.execute(visible_tickets(actor).where(Ticket.id == ticket_id))
    ).scalar_one_or_none()
    if ticket is None:
        raise NotFound("Ticket not found")
    return ticket


async def upload(
    session: AsyncSession,
    actor: CurrentUser,
    ticket_id: uuid.UUID,
    *,
    chunks: AsyncIterator[bytes],
    file_name: str | None,
    declared_type: str | None,
    is_internal: bool,
    comment_id: uuid.UUID | None,
    now: datetime,
) -> TicketAttachment:
    if is_internal and not actor.is_staff:
        raise Forbidden()
    ticket = await _ticket(session, actor, ticket_id)
    if S(ticket.status) in workflow.FINAL:
        raise Conflict(f"A {ticket.status} ticket does not take attachments")
    if comment_id is not None:
        comment = (
            await session.execute(
                select(TicketComment.is_internal).where(
                    TicketComment.id == comment_id, TicketComment.ticket_id == ticket.id
                )
            )
        ).one_or_none()
        if comment is None:
            raise NotFound("Comment not found")
        # Files attached to an internal note are internal, whatever was asked.
        is_internal = is_internal or bool(comment[0])
    if not is_internal:
        workflow.check_public_reply(ticket, actor)

    name = sanitize_filename(file_name)
    store = file_store()
    try:
        stored = await store.save(
            chunks,
            max_bytes=get_settings().max_upload_mb * 1024 * 1024,
            file_name=name,
            declared_type=declared_type,
        )
    except UploadTooLarge as exc:
        raise PayloadTooLarge(f"The file is larger than {get_settings().max_upload_mb} MB") from exc
    except RefusedType as exc:
        raise UnsupportedMediaType(exc.reason) from exc
    except EmptyUpload as exc:
        raise Invalid("file", "The file is empty") from exc
    except StorageFull as exc:
        raise InsufficientStorage() from exc

    try:
        attachment = TicketAttachment(
            id=uuid.uuid4(),
            ticket_id=ticket.id,
            org_id=ticket.org_id,
            comment_id=comment_id,
            uploaded_by=actor.id,
            file_path=stored.key,
            file_name=name,
            mime_type=stored.mime_type,
            size_bytes=stored.size_bytes,
            sha256=stored.sha256,
            is_internal=is_internal,
            created_at=now,
        )
        session.add(attachment)
        await session.flush()
        await audit.record(
            session,
            actor=actor,
            action="attachment.uploaded",
            entity_type="attachment",
            entity_id=attachment.id,
            org_id=ticket.org_id,
            ticket_id=ticket.id,
            new_value={
                "file_name": name,
                "mime_type": stored.mime_type,
                "size_bytes": stored.size_bytes,
                "sha256": stored.sha256,
                "is_internal": is_internal,
            },
        )
    except BaseException:
        await store.delete(stored.key)
        raise
    return attachment


@dataclass(frozen=True, slots=True)
class Download:
    path: Path
    file_name: str
    mime_type: str
    size_bytes: int


async def download(
    session: AsyncSession,
    actor: CurrentUser,
    ticket_id: uuid.UUID,
    attachment_id: uuid.UUID,
) -> Download:
    """The file of an attachment on a visible ticket; customers never reach internal ones."""
    stmt = visible_attachments(actor).where(
        TicketAttachment.id == attachment_id, TicketAttachment.ticket_id == ticket_id
    )
    attachment = (await session.execute(stmt)).scalar_one_or_none()
    if attachment is None:
        raise NotFound("Attachment not found")
    path = file_store().path_of(attachment.file_path)
    if not path.is_file():
        raise NotFound("Attachment not found")
    await audit.record(
        session,
        actor=actor,
        action="attachment.downloaded",
        entity_type="attachment",
        entity_id=attachment.id,
        org_id=attachment.org_id,
        ticket_id=attachment.ticket_id,
    )
    return Download(path, attachment.file_name, attachment.mime_type, attachment.size_bytes)
