"""Macros: a named list of ticket actions applied in one click, and the action executor the bulk
endpoint reuses.

Each action goes through the service of the manual action (``tickets.add_comment``,
``change_status``, ``update_fields``, ``assign``): it is permission-checked, validated and
audited exactly as if done by hand. A macro applies all of its actions or none: they run in one
SAVEPOINT, and the first refusal rolls every one back and is answered with its own status (403,
404, 409, 422) naming the action (``action_index``, ``action_type``, and the text of ``detail``).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from pydantic import TypeAdapter
from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from app.auth.deps import CurrentUser
from app.errors import Conflict, DomainError, Forbidden, Invalid, NotFound
from app.models import CannedReply, Macro, Team, Ticket, User
from app.schemas.ticket import Assign, StatusChange, TicketUpdate
from app.schemas.workspace import (
    AssignAction,
    CommentAction,
    MacroAction,
    MacroCreate,
    MacroUpdate,
    PriorityAction,
    StatusAction,
    TagsAction,
)
from app.services import audit, canned_replies, tickets
from app.services.visibility import visible_canned_replies, visible_macros

_ACTIONS: TypeAdapter[list[MacroAction]] = TypeAdapter(list[MacroAction])


def parse_actions(stored: list[dict[str, Any]]) -> list[MacroAction]:
    return _ACTIONS.validate_python(stored)


def dump_actions(actions: list[MacroAction]) -> list[dict[str, Any]]:
    return [a.model_dump(mode="json", exclude_none=True) for a in actions]


# ---------------------------------------------------------------- executor


@dataclass
class Run:
    """What one application (of a macro or a bulk action) needs besides the actions: the canned
    replies they use, loaded once, and the uses counted for the end."""

    replies: dict[uuid.UUID, CannedReply] = field(default_factory=dict)
    reply_uses: dict[uuid.UUID, int] = field(default_factory=dict)
    # The placeholders' values per ticket, read ahead (bulk) and dropped once an action changed
    # the ticket.
    contexts: dict[uuid.UUID, dict[str, dict[str, str]]] = field(default_factory=dict)

    def uses_placeholders(self, actions: list[MacroAction]) -> bool:
        for action in actions:
            if isinstance(action, CommentAction):
                source = (
                    self.replies[action.canned_reply_id].body
                    if action.canned_reply_id is not None
                    else action.body or ""
                )
                if canned_replies.has_placeholders(source):
                    return True
        return False


async def prepare(
    session: AsyncSession,
    actor: CurrentUser,
    actions: list[MacroAction],
    *,
    check_visible: bool,
) -> Run:
    """Load the canned replies *actions* use. A literal action (bulk, a macro being saved) may use
    only replies *actor* sees (*check_visible*); a saved macro vouches for its own."""
    ids = {a.canned_reply_id for a in actions if isinstance(a, CommentAction) and a.canned_reply_id}
    run = Run()
    if not ids:
        return run
    stmt = (visible_canned_replies(actor) if check_visible else select(CannedReply)).where(
        CannedReply.id.in_(ids)
    )
    run.replies = {r.id: r for r in (await session.execute(stmt)).scalars()}
    for index, action in enumerate(actions):
        if isinstance(action, CommentAction) and action.canned_reply_id not in (None, *run.replies):
            raise _named(NotFound("Canned reply not found"), index, action)
    return run


def _named(exc: DomainError, index: int, action: MacroAction) -> DomainError:
    """*exc* naming the refused action (its index from 0, its type)."""
    label = f"Action {index + 1} ({action.type})"
    if isinstance(exc, Invalid):
        named = Invalid(f"actions.{index}.{exc.field}", f"{label}: {exc.detail}")
        named.extra = {"action_index": index, "action_type": action.type}
        return named
    exc.detail = f"{label}: {exc.detail}"
    exc.extra = {**exc.extra, "action_index": index, "action_type": action.type}
    return exc


async def _comment(
    session: AsyncSession,
    actor: CurrentUser,
    ticket_id: uuid.UUID,
    action: CommentAction,
    run: Run,
    now: datetime,
) -> None:
    if action.canned_reply_id is not None:
        source = run.replies[action.canned_reply_id].body
        run.reply_uses[action.canned_reply_id] = run.reply_uses.get(action.canned_reply_id, 0) + 1
    else:
        source = action.body or ""
    body = source
    if canned_replies.has_placeholders(source):
        context = run.contexts.get(ticket_id)
        if context is None:
            context = await canned_replies.context_for(session, actor, ticket_id)
        body = canned_replies.render(source, context)
    if not body:
        raise Invalid("body", "The text is empty once filled in")
    await tickets.add_comment(
        session, actor, ticket_id, body=body, is_internal=action.is_internal, now=now
    )


async def _tags(
    session: AsyncSession,
    actor: CurrentUser,
    ticket_id: uuid.UUID,
    action: TagsAction,
    run: Run,
    now: datetime,
) -> None:
    await tickets.update_fields(
        session, actor, ticket_id, TicketUpdate(), now, tag_delta=(action.add, action.remove)
    )


async def apply_one(
    session: AsyncSession,
    actor: CurrentUser,
    ticket_id: uuid.UUID,
    action: MacroAction,
    run: Run,
    now: datetime,
) -> None:
    if isinstance(action, CommentAction):
        await _comment(session, actor, ticket_id, action, run, now)
    elif isinstance(action, StatusAction):
        change = StatusChange(
            status=action.status,
            reason=action.reason,
            resolution=action.resolution,
            root_cause=action.root_cause,
        )
        await tickets.change_status(session, actor, ticket_id, change, now)
    elif isinstance(action, PriorityAction):
        await tickets.update_fields(
            session, actor, ticket_id, TicketUpdate(priority=action.priority), now
        )
    elif isinstance(action, TagsAction):
        await _tags(session, actor, ticket_id, action, run, now)
    elif isinstance(action, AssignAction):
        assignee = actor.id if action.me else action.assignee_id
        await tickets.assign(
            session, actor, ticket_id, Assign(assignee_id=assignee, team_id=action.team_id), now
        )


async def apply_actions(
    session: AsyncSession,
    actor: CurrentUser,
    ticket_id: uuid.UUID,
    actions: list[MacroAction],
    run: Run,
    now: datetime,
) -> None:
    """Every action on the ticket, in order; the first refusal is raised naming its action (the
    caller holds the SAVEPOINT that undoes the others)."""
    for index, action in enumerate(actions):
        try:
            await apply_one(session, actor, ticket_id, action, run, now)
        except DomainError as exc:
            raise _named(exc, index, action) from None
        if not isinstance(action, CommentAction):
            run.contexts.pop(ticket_id, None)


def applied_entry(
    actor: CurrentUser, macro: Macro, ticket_id: uuid.UUID, org_id: uuid.UUID | None
) -> dict[str, Any]:
    return audit.entry(
        actor=actor,
        action="macro.applied",
        entity_type="macro",
        entity_id=macro.id,
        org_id=org_id,
        ticket_id=ticket_id,
        new_value={
            "macro_id": macro.id,
            "name": macro.name,
            "actions": [a.get("type") for a in macro.actions],
        },
    )


async def count_uses(session: AsyncSession, macro_id: uuid.UUID, n: int) -> None:
    await session.execute(
        update(Macro)
        .where(Macro.id == macro_id)
        .values(usage_count=Macro.usage_count + n)
        .execution_options(synchronize_session=False)
    )


async def apply_macro(
    session: AsyncSession,
    actor: CurrentUser,
    ticket_id: uuid.UUID,
    macro_id: uuid.UUID,
    now: datetime,
) -> None:
    """All of the macro's actions on the ticket, or none of them."""
    macro = await get_visible(session, actor, macro_id)
    actions = parse_actions(macro.actions)
    run = await prepare(session, actor, actions, check_visible=False)
    async with session.begin_nested():
        await apply_actions(session, actor, ticket_id, actions, run, now)
        ticket = await session.get(Ticket, ticket_id)
        await audit.write(
            session, applied_entry(actor, macro, ticket_id, ticket.org_id if ticket else None)
        )
    await count_uses(session, macro.id, 1)
    await canned_replies.count_uses(session, run.reply_uses)


# ---------------------------------------------------------------- macros (CRUD)

Owner = aliased(User)


def _out(macro: Macro, actor: CurrentUser, owner: str | None, team: str | None) -> dict[str, Any]:
    return {
        "id": macro.id,
        "name": macro.name,
        "actions": macro.actions,
        "scope": macro.scope,
        "team_id": macro.team_id,
        "team_name": team,
        "owner": {"id": macro.owner_id, "name": owner} if owner is not None else None,
        "usage_count": macro.usage_count,
        "created_at": macro.created_at,
        "updated_at": macro.updated_at,
        "can_edit": canned_replies.can_edit(actor, scope=macro.scope, owner_id=macro.owner_id),
    }


async def list_macros(session: AsyncSession, actor: CurrentUser) -> list[dict[str, Any]]:
    rows = (
        await session.execute(
            visible_macros(actor)
            .add_columns(Owner.name, Team.name)
            .outerjoin(Owner, Owner.id == Macro.owner_id)
            .outerjoin(Team, Team.id == Macro.team_id)
            .order_by(Macro.usage_count.desc(), func.lower(Macro.name), Macro.id)
            .limit(500)
        )
    ).all()
    return [_out(m, actor, owner, team) for m, owner, team in rows]


async def get_visible(
    session: AsyncSession, actor: CurrentUser, macro_id: uuid.UUID, *, lock: bool = False
) -> Macro:
    stmt = visible_macros(actor).where(Macro.id == macro_id)
    if lock:
        stmt = stmt.with_for_update(of=Macro)
    macro = (await session.execute(stmt)).scalar_one_or_none()
    if macro is None:
        raise NotFound("Macro not found")
    return macro


async def one(session: AsyncSession, actor: CurrentUser, macro_id: uuid.UUID) -> dict[str, Any]:
    macro = await get_visible(session, actor, macro_id)
    owner_team = await canned_replies.owner_and_team(session, macro.owner_id, macro.team_id)
    return _out(macro, actor, *owner_team)


_REPLY_REACH = {"personal": 0, "team": 1, "shared": 2}


async def _check_actions(
    session: AsyncSession,
    actor: CurrentUser,
    actions: list[MacroAction],
    scope: str,
    team_id: uuid.UUID | None,
) -> None:
    """The texts must be valid templates, the canned replies visible to the author and seen by
    everyone the macro is for (a shared macro cannot carry someone's personal reply)."""
    run = await prepare(session, actor, actions, check_visible=True)
    for index, action in enumerate(actions):
        if not isinstance(action, CommentAction):
            continue
        try:
            if action.body is not None:
                canned_replies.compile_template(action.body)
                continue
            assert action.canned_reply_id is not None
            reply = run.replies[action.canned_reply_id]
            narrower = _REPLY_REACH[reply.scope] < _REPLY_REACH[scope] or (
                reply.scope == "team" and scope == "team" and reply.team_id != team_id
            )
            if narrower:
                raise Conflict(f"The canned reply is {reply.scope}: a {scope} macro cannot use it")
        except DomainError as exc:
            raise _named(exc, index, action) from None


def _audited(macro: Macro) -> dict[str, Any]:
    return {"name": macro.name, "scope": macro.scope, "team_id": macro.team_id}


async def create(
    session: AsyncSession, actor: CurrentUser, body: MacroCreate, now: datetime
) -> Macro:
    await canned_replies.check_scope(session, actor, body.scope, body.team_id)
    await _check_actions(session, actor, body.actions, body.scope, body.team_id)
    macro = Macro(
        id=uuid.uuid4(),
        name=body.name,
        actions=dump_actions(body.actions),
        scope=body.scope,
        team_id=body.team_id,
        owner_id=actor.id,
        usage_count=0,
        created_at=now,
        updated_at=now,
    )
    session.add(macro)
    await session.flush()
    await audit.record(
        session,
        actor=actor,
        action="macro.created",
        entity_type="macro",
        entity_id=macro.id,
        new_value={**_audited(macro), "actions": macro.actions},
    )
    return macro


async def update_macro(
    session: AsyncSession, actor: CurrentUser, macro_id: uuid.UUID, body: MacroUpdate, now: datetime
) -> Macro:
    macro = await get_visible(session, actor, macro_id, lock=True)
    if not canned_replies.can_edit(actor, scope=macro.scope, owner_id=macro.owner_id):
        raise Forbidden("Only its owner, a manager or an admin may change this macro")
    fields = body.model_dump(exclude_unset=True)
    for name in ("name", "actions", "scope"):
        if name in fields and fields[name] is None:
            raise Invalid(name, f"{name} cannot be empty")
    scope, team_id = canned_replies.new_scope(macro.scope, macro.team_id, fields)
    if (scope, team_id) != (macro.scope, macro.team_id):
        await canned_replies.check_scope(session, actor, scope, team_id)
    actions = body.actions if body.actions is not None else parse_actions(macro.actions)
    await _check_actions(session, actor, actions, scope, team_id)
    before = {**_audited(macro), "actions": macro.actions}
    macro.name = body.name or macro.name
    macro.actions = dump_actions(actions)
    macro.scope, macro.team_id = scope, team_id
    old, new = audit.changes(before, {**_audited(macro), "actions": macro.actions})
    if new:
        macro.updated_at = now
        await session.flush()
        await audit.record(
            session,
            actor=actor,
            action="macro.updated",
            entity_type="macro",
            entity_id=macro.id,
            old_value=old,
            new_value=new,
        )
    return macro


async def delete_macro(session: AsyncSession, actor: CurrentUser, macro_id: uuid.UUID) -> None:
    macro = await get_visible(session, actor, macro_id, lock=True)
    if not canned_replies.can_edit(actor, scope=macro.scope, owner_id=macro.owner_id):
        raise Forbidden("Only its owner, a manager or an admin may delete this macro")
    await session.delete(macro)
    await session.flush()
    await audit.record(
        session,
        actor=actor,
        action="macro.deleted",
        entity_type="macro",
        entity_id=macro_id,
        old_value=_audited(macro),
    )
