"""The one way anything is written to the audit trail.

Entries are inserted in the caller's transaction, so an action and its audit entry commit together
or not at all. The request id and client address come from the request context.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from enum import Enum
from typing import Any, cast

from sqlalchemy import Table, insert
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.deps import CurrentUser
from app.context import client_ip_var, request_id_var
from app.models import AuditLog

Jsonable = dict[str, Any]


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [_jsonable(v) for v in value]
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Enum):
        return value.value
    return value


def entry(
    *,
    actor: CurrentUser | uuid.UUID | None,
    action: str,
    entity_type: str,
    entity_id: uuid.UUID | None,
    org_id: uuid.UUID | None = None,
    ticket_id: uuid.UUID | None = None,
    old_value: Jsonable | None = None,
    new_value: Jsonable | None = None,
) -> dict[str, Any]:
    """One audit row (not yet written): for ``write``, when a command records several."""
    return {
        "id": uuid.uuid4(),
        "actor_id": actor.id if isinstance(actor, CurrentUser) else actor,
        "action": action,
        "entity_type": entity_type,
        "entity_id": entity_id,
        "org_id": org_id,
        "ticket_id": ticket_id,
        "old_value": _jsonable(old_value) if old_value is not None else None,
        "new_value": _jsonable(new_value) if new_value is not None else None,
        "ip": client_ip_var.get(),
        "request_id": request_id_var.get(),
    }


_INSERT = insert(cast(Table, AuditLog.__table__))


async def write(session: AsyncSession, *entries: dict[str, Any]) -> None:
    """Insert the entries in one round trip, in the given order (a plain Core insert, compiled
    once; several entries are sent as one batch)."""
    if len(entries) == 1:
        await session.execute(_INSERT, entries[0])
    elif entries:
        await session.execute(_INSERT, list(entries))


async def record(
    session: AsyncSession,
    *,
    actor: CurrentUser | uuid.UUID | None,
    action: str,
    entity_type: str,
    entity_id: uuid.UUID | None,
    org_id: uuid.UUID | None = None,
    ticket_id: uuid.UUID | None = None,
    old_value: Jsonable | None = None,
    new_value: Jsonable | None = None,
) -> None:
    await write(
        session,
        entry(
            actor=actor,
            action=action,
            entity_type=entity_type,
            entity_id=entity_id,
            org_id=org_id,
            ticket_id=ticket_id,
            old_value=old_value,
            new_value=new_value,
        ),
    )


def changes(before: Jsonable, after: Jsonable) -> tuple[Jsonable, Jsonable]:
    """The (old, new) pair restricted to the keys whose value changed."""
    keys = [k for k in after if before.get(k) != after[k]]
    return {k: before.get(k) for k in keys}, {k: after[k] for k in keys}
