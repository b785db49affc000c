"""One action (or one saved macro) on many tickets: each ticket in its own SAVEPOINT, so a refusal
undoes that ticket's changes only and is reported in its result; the others stay applied.

Each ticket goes through the macro executor (services/macros.py), i.e. through the services of
the manual actions, permission-checked and audited per ticket. The ``macro.applied`` entries, the
usage counts and one ``tickets.bulk`` entry are written once at the end, together with the
tickets' own entries (``audit.held``: a refused ticket's entries are dropped with its SAVEPOINT).
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.deps import CurrentUser
from app.errors import DomainError
from app.models import Macro, Ticket
from app.schemas.workspace import BulkRequest, MacroAction, MacroRef
from app.services import audit, canned_replies, macros


async def run(
    session: AsyncSession, actor: CurrentUser, body: BulkRequest, now: datetime
) -> list[dict[str, Any]]:
    macro: Macro | None = None
    actions: list[MacroAction]
    if isinstance(body.action, MacroRef):
        macro = await macros.get_visible(session, actor, body.action.macro_id)
        actions = macros.parse_actions(macro.actions)
        prepared = await macros.prepare(session, actor, actions, check_visible=False)
    else:
        actions = [body.action]
        prepared = await macros.prepare(session, actor, actions, check_visible=True)
    if prepared.uses_placeholders(actions):
        prepared.contexts = await canned_replies.contexts_for(session, actor, body.ticket_ids)
    # The macro.applied entries name each ticket's organization: read once for all of them.
    organizations: dict[uuid.UUID, uuid.UUID] = {}
    if macro is not None:
        found = await session.execute(
            select(Ticket.id, Ticket.org_id).where(Ticket.id.in_(body.ticket_ids))
        )
        organizations = {row.id: row.org_id for row in found}
    results: list[dict[str, Any]] = []
    entries: list[dict[str, Any]] = []
    # The tickets' entries are written together at the end (one chain link, one statement).
    async with audit.held(session) as held:
        for ticket_id in body.ticket_ids:
            uses = dict(prepared.reply_uses)
            mark = held.mark()
            try:
                async with session.begin_nested():
                    await macros.apply_actions(session, actor, ticket_id, actions, prepared, now)
            except DomainError as exc:
                held.discard(mark)  # the savepoint undid the ticket's changes
                prepared.reply_uses = uses
                results.append(
                    {
                        "ticket_id": ticket_id,
                        "ok": False,
                        "status_code": exc.status_code,
                        "detail": exc.detail,
                    }
                )
                continue
            except IntegrityError:
                held.discard(mark)
                prepared.reply_uses = uses
                results.append(
                    {
                        "ticket_id": ticket_id,
                        "ok": False,
                        "status_code": 409,
                        "detail": "This conflicts with existing data",
                    }
                )
                continue
            results.append({"ticket_id": ticket_id, "ok": True, "status_code": 200})
            if macro is not None:
                entries.append(
                    macros.applied_entry(actor, macro, ticket_id, organizations.get(ticket_id))
                )
        applied = sum(1 for r in results if r["ok"])
        entries.append(
            audit.entry(
                actor=actor,
                action="tickets.bulk",
                entity_type="macro" if macro is not None else "ticket",
                entity_id=macro.id if macro is not None else None,
                new_value={
                    "action": body.action.type,
                    "macro_name": macro.name if macro is not None else None,
                    "tickets": len(body.ticket_ids),
                    "applied": applied,
                    "ticket_ids": [str(r["ticket_id"]) for r in results if r["ok"]][:1000],
                },
            )
        )
        await audit.write(session, *entries)
    if macro is not None and applied:
        await macros.count_uses(session, macro.id, applied)
    await canned_replies.count_uses(session, prepared.reply_uses)
    return results
