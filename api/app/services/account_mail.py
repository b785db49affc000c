"""Mails about an account (invitation, reset link, confirmations, notices), written to the outbox
in the caller's transaction like every notification.

A link carrying a token is never stored readable: the outbox row holds a marker where the link
goes and the link itself sealed under the secret key (``sealed_link``); the worker opens it when
it builds the message. A copy of the database therefore holds neither the token nor its link.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from app.config import get_settings
from app.mail import secretbox
from app.services.notifications import _env
from app.services.notifications import link_mark as _mark

_QUEUE = text(
    """
    WITH queued AS (
        INSERT INTO notification_outbox (id, idempotency_key, recipient_id, recipient_email,
            template, subject, body_text, body_html, status, sealed_link)
        VALUES (:id, :key, :recipient_id, :email, :template, :subject, :body_text, :body_html,
            'pending', :sealed_link)
    )
    SELECT pg_notify('atum_outbox', '')
    """
)


def link(path: str) -> str:
    return get_settings().public_url.rstrip("/") + path


async def send(
    session: AsyncSession,
    *,
    template: str,
    email: str,
    name: str,
    recipient_id: uuid.UUID | None,
    subject: str,
    lines: list[str],
    url: str | None = None,
    action: str = "",
    expires: datetime | None = None,
) -> None:
    """Queue one account mail to *email* (not necessarily the user's current address: an e-mail
    change writes to the new one)."""
    row_id = uuid.uuid4()
    context = {
        "subject": subject,
        "name": name,
        "lines": lines,
        "link": _mark(row_id) if url else None,
        "action": action,
        "expires": expires.strftime("%Y-%m-%d %H:%M UTC") if expires else None,
    }
    env = _env()
    body_text = env.get_template("account.txt.j2").render(context)
    body_html = env.get_template("account.html.j2").render(context)
    await session.execute(
        _QUEUE,
        {
            "id": row_id,
            "key": f"{template}:{row_id}",
            "recipient_id": recipient_id,
            "email": email,
            "template": template,
            "subject": f"ATUM DESK: {subject}",
            "body_text": body_text,
            "body_html": body_html,
            "sealed_link": secretbox.seal(url, secretbox.LINK) if url else None,
        },
    )


def open_link(row_id: uuid.UUID, body: str, sealed: str | None) -> str:
    """The body as sent: the marker replaced by the unsealed link (the worker, at delivery)."""
    mark = _mark(row_id)
    if sealed is None or mark not in body:
        return body
    plain = secretbox.unseal(sealed, secretbox.LINK)
    if plain is None:  # the secret key changed since: the link could not work anyway
        raise ValueError("the link of this account mail cannot be opened (secret key changed)")
    return body.replace(mark, plain)
