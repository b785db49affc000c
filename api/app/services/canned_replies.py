"""Canned replies: personal, team and shared Markdown texts with placeholders, rendered for one
ticket on the server.

Templates are Jinja2 in an ``ImmutableSandboxedEnvironment`` and, before that, checked node by
node: only text, placeholders of the known list (``{{ customer.name }}``), a few harmless filters
and ``{% if %}`` are accepted. Loops, calls, arithmetic, attribute access to anything but a
placeholder are refused with a 422 before anything runs, so a template cannot loop, allocate or
reach Python internals. The context is plain dicts of strings (never ORM objects), unknown names
are errors (``StrictUndefined``), nothing is HTML-escaped (the output is Markdown text, escaped
where it is displayed) and the output is capped.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from functools import lru_cache
from typing import Any

from jinja2 import StrictUndefined, Template, TemplateSyntaxError, UndefinedError, nodes
from jinja2.exceptions import SecurityError
from jinja2.sandbox import ImmutableSandboxedEnvironment
from sqlalchemy import func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from app.auth.deps import CurrentUser
from app.auth.permissions import Action, allowed
from app.errors import Forbidden, Invalid, NotFound
from app.models import CannedReply, Organization, Team, TeamMember, Ticket, User
from app.schemas.workspace import CannedReplyCreate, CannedReplyUpdate
from app.services import audit
from app.services.visibility import visible_canned_replies, visible_tickets

# ---------------------------------------------------------------- templates

# Every placeholder: {{ <object>.<field> }}. docs/USER_GUIDE.md lists them.
PLACEHOLDERS: dict[str, tuple[str, ...]] = {
    "customer": ("name", "first_name", "email"),
    "ticket": ("number", "title", "status", "priority", "category"),
    "org": ("name",),
    "agent": ("name", "first_name", "email"),
    "assignee": ("name", "first_name"),
    "team": ("name",),
}
_FILTERS = frozenset({"upper", "lower", "title", "capitalize", "trim", "default"})
# Structure that cannot loop, call or compute: text, output, if/else, comparisons of placeholders.
_STRUCTURE = (
    nodes.Template,
    nodes.Output,
    nodes.TemplateData,
    nodes.If,
    nodes.Not,
    nodes.And,
    nodes.Or,
    nodes.Compare,
    nodes.Operand,
    nodes.CondExpr,
)
# The longest text a rendered template may produce (a comment's own limit).
MAX_OUTPUT = 50_000

_ENV = ImmutableSandboxedEnvironment(
    undefined=StrictUndefined,
    autoescape=False,
    keep_trailing_newline=True,
    auto_reload=False,
    cache_size=0,
)


def _known() -> str:
    return ", ".join(f"{{{{ {o}.{f} }}}}" for o, fields in PLACEHOLDERS.items() for f in fields)


def _refuse(message: str) -> Invalid:
    return Invalid("body", message)


def _check(node: nodes.Node) -> None:
    """Raise unless every node of the template is allowed (see the module's docstring)."""
    if isinstance(node, nodes.Getattr):
        target = node.node
        if not isinstance(target, nodes.Name) or target.name not in PLACEHOLDERS:
            raise _refuse(f"Only placeholders may be used; known: {_known()}")
        if node.attr not in PLACEHOLDERS[target.name]:
            raise _refuse(
                f"Unknown placeholder {{{{ {target.name}.{node.attr} }}}}; known: {_known()}"
            )
        return
    if isinstance(node, nodes.Name):
        if node.name in PLACEHOLDERS:
            fields = ", ".join(PLACEHOLDERS[node.name])
            raise _refuse(f"Use a field of {node.name}: {fields}")
        raise _refuse(f"Unknown placeholder {{{{ {node.name} }}}}; known: {_known()}")
    if isinstance(node, nodes.Filter):
        if node.name not in _FILTERS or node.kwargs or node.dyn_args or node.dyn_kwargs:
            raise _refuse(f"The filter {node.name} is not allowed")
        if node.node is None:
            raise _refuse("Filter blocks are not allowed")
        _check(node.node)
        for arg in node.args:
            if not isinstance(arg, nodes.Const):
                raise _refuse("Filter arguments must be plain text")
            _check(arg)
        return
    if isinstance(node, nodes.Const):
        if not isinstance(node.value, str | int | bool) or isinstance(node.value, float):
            raise _refuse("Only text and whole numbers may be written in a placeholder")
        if isinstance(node.value, str) and len(node.value) > 1000:
            raise _refuse("Text in a placeholder is too long")
        return
    if isinstance(node, nodes.Compare):
        if any(op.op not in ("eq", "ne") for op in node.ops):
            raise _refuse("Only == and != comparisons are allowed")
    elif not isinstance(node, _STRUCTURE):
        raise _refuse(f"Templates may not use {type(node).__name__.lower()} (only placeholders)")
    for child in node.iter_child_nodes():
        _check(child)


@lru_cache(maxsize=512)
def compile_template(source: str) -> Template:
    """The checked, compiled template (422 naming what is refused)."""
    try:
        tree = _ENV.parse(source)
    except TemplateSyntaxError as exc:
        raise _refuse(f"Template error on line {exc.lineno}: {exc.message}") from None
    _check(tree)
    return _ENV.from_string(tree)


def has_placeholders(source: str) -> bool:
    return "{{" in source or "{%" in source or "{#" in source


def render(source: str, context: dict[str, dict[str, str]]) -> str:
    """*source* filled from *context* (plain dicts of strings), at most MAX_OUTPUT characters."""
    template = compile_template(source)
    out: list[str] = []
    size = 0
    try:
        for chunk in template.generate(context):
            size += len(chunk)
            if size > MAX_OUTPUT:
                raise _refuse(f"The text would be longer than {MAX_OUTPUT} characters")
            out.append(chunk)
    except (UndefinedError, SecurityError) as exc:
        raise _refuse(f"Cannot fill the template: {exc.message}") from None
    except (OverflowError, TypeError, ValueError):  # refused by _check already; never a 500
        raise _refuse("Cannot fill the template") from None
    return "".join(out).strip()


def _first(name: str | None) -> str:
    return (name or "").split(" ", 1)[0]


_Creator, _Assignee = aliased(User), aliased(User)


def _context_statement(actor: CurrentUser) -> Any:
    return (
        visible_tickets(actor)
        .with_only_columns(
            Ticket.id,
            Ticket.number,
            Ticket.title,
            Ticket.status,
            Ticket.priority,
            Ticket.category,
            Organization.name.label("org_name"),
            _Creator.name.label("customer_name"),
            _Creator.email.label("customer_email"),
            _Assignee.name.label("assignee_name"),
            Team.name.label("team_name"),
        )
        .join(Organization, Organization.id == Ticket.org_id)
        .outerjoin(_Creator, _Creator.id == Ticket.created_by)
        .outerjoin(_Assignee, _Assignee.id == Ticket.assigned_to)
        .outerjoin(Team, Team.id == Ticket.assigned_team_id)
    )


def _context(row: Any, actor: CurrentUser) -> dict[str, dict[str, str]]:
    return {
        "customer": {
            "name": row.customer_name or "",
            "first_name": _first(row.customer_name),
            "email": row.customer_email or "",
        },
        "ticket": {
            "number": str(row.number),
            "title": row.title,
            "status": row.status,
            "priority": row.priority,
            "category": row.category or "",
        },
        "org": {"name": row.org_name or ""},
        "agent": {"name": actor.name, "first_name": _first(actor.name), "email": actor.email},
        "assignee": {"name": row.assignee_name or "", "first_name": _first(row.assignee_name)},
        "team": {"name": row.team_name or ""},
    }


async def context_for(
    session: AsyncSession, actor: CurrentUser, ticket_id: uuid.UUID
) -> dict[str, dict[str, str]]:
    """The placeholders' values for *ticket_id* as *actor* (404 when not visible): plain strings,
    one statement."""
    stmt = _context_statement(actor).where(Ticket.id == ticket_id)
    row = (await session.execute(stmt)).one_or_none()
    if row is None:
        raise NotFound("Ticket not found")
    return _context(row, actor)


async def contexts_for(
    session: AsyncSession, actor: CurrentUser, ticket_ids: list[uuid.UUID]
) -> dict[uuid.UUID, dict[str, dict[str, str]]]:
    """``context_for`` of many tickets in one statement (the visible ones only)."""
    stmt = _context_statement(actor).where(Ticket.id.in_(ticket_ids))
    return {row.id: _context(row, actor) for row in (await session.execute(stmt)).all()}


# ---------------------------------------------------------------- scope rules (shared by macros)


async def check_scope(
    session: AsyncSession, actor: CurrentUser, scope: str, team_id: uuid.UUID | None
) -> None:
    """May *actor* keep an item in *scope*? Personal: anyone on staff; team: the team's members
    (managers and admins any team); shared: managers and admins (Action.WORKSPACE_SHARE)."""
    sharer = allowed(actor.role, Action.WORKSPACE_SHARE)
    if scope == "shared" and not sharer:
        raise Forbidden("Only managers and admins share replies and macros with everyone")
    if scope == "team":
        if (await session.execute(select(Team.id).where(Team.id == team_id))).first() is None:
            raise Invalid("team_id", "Unknown team")
        if not sharer:
            member = await session.execute(
                select(TeamMember.team_id).where(
                    TeamMember.team_id == team_id, TeamMember.user_id == actor.id
                )
            )
            if member.first() is None:
                raise Forbidden("Only the team's members keep replies and macros for it")


def can_edit(actor: CurrentUser, *, scope: str, owner_id: uuid.UUID) -> bool:
    """The owner, or (team and shared items) a manager or admin."""
    return owner_id == actor.id or (
        scope != "personal" and allowed(actor.role, Action.WORKSPACE_SHARE)
    )


def new_scope(
    scope: str, team_id: uuid.UUID | None, fields: dict[str, Any]
) -> tuple[str, uuid.UUID | None]:
    """The scope and team after a PATCH of *fields* (a team_id alone moves a team item)."""
    scope = fields.get("scope", scope)
    team_id = fields.get("team_id", team_id) if scope == "team" else None
    if scope == "team" and team_id is None:
        raise Invalid("team_id", "A team reply or macro needs a team_id")
    if scope != "team" and fields.get("team_id") is not None:
        raise Invalid("team_id", "Only a team reply or macro has a team_id")
    return scope, team_id


# ---------------------------------------------------------------- canned replies

Owner = aliased(User)


def _out(
    reply: CannedReply, actor: CurrentUser, owner: str | None, team: str | None
) -> dict[str, Any]:
    return {
        "id": reply.id,
        "title": reply.title,
        "body": reply.body,
        "scope": reply.scope,
        "team_id": reply.team_id,
        "team_name": team,
        "owner": {"id": reply.owner_id, "name": owner} if owner is not None else None,
        "usage_count": reply.usage_count,
        "created_at": reply.created_at,
        "updated_at": reply.updated_at,
        "can_edit": can_edit(actor, scope=reply.scope, owner_id=reply.owner_id),
    }


async def list_replies(
    session: AsyncSession, actor: CurrentUser, *, q: str | None, limit: int = 200
) -> list[dict[str, Any]]:
    """The replies *actor* may use, most used first; *q* matches title or body."""
    stmt = (
        visible_canned_replies(actor)
        .add_columns(Owner.name, Team.name)
        .outerjoin(Owner, Owner.id == CannedReply.owner_id)
        .outerjoin(Team, Team.id == CannedReply.team_id)
        .order_by(CannedReply.usage_count.desc(), func.lower(CannedReply.title), CannedReply.id)
        .limit(limit)
    )
    terms = (q or "").strip()
    if terms:
        like = "%" + terms.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        stmt = stmt.where(or_(CannedReply.title.ilike(like), CannedReply.body.ilike(like)))
    rows = (await session.execute(stmt)).all()
    return [_out(reply, actor, owner, team) for reply, owner, team in rows]


async def get_visible(
    session: AsyncSession, actor: CurrentUser, reply_id: uuid.UUID, *, lock: bool = False
) -> CannedReply:
    stmt = visible_canned_replies(actor).where(CannedReply.id == reply_id)
    if lock:
        stmt = stmt.with_for_update(of=CannedReply)
    reply = (await session.execute(stmt)).scalar_one_or_none()
    if reply is None:
        raise NotFound("Canned reply not found")
    return reply


async def owner_and_team(
    session: AsyncSession, owner_id: uuid.UUID, team_id: uuid.UUID | None
) -> tuple[str | None, str | None]:
    """The names a canned reply or a macro is shown with: its owner's and its team's."""
    owner = await session.scalar(select(User.name).where(User.id == owner_id))
    team = await session.scalar(select(Team.name).where(Team.id == team_id)) if team_id else None
    return owner, team


async def one(session: AsyncSession, actor: CurrentUser, reply_id: uuid.UUID) -> dict[str, Any]:
    reply = await get_visible(session, actor, reply_id)
    return _out(reply, actor, *await owner_and_team(session, reply.owner_id, reply.team_id))


def _audited(reply: CannedReply) -> dict[str, Any]:
    return {"title": reply.title, "scope": reply.scope, "team_id": reply.team_id}


async def create(
    session: AsyncSession, actor: CurrentUser, body: CannedReplyCreate, now: datetime
) -> CannedReply:
    await check_scope(session, actor, body.scope, body.team_id)
    compile_template(body.body)
    reply = CannedReply(
        id=uuid.uuid4(),
        title=body.title,
        body=body.body,
        scope=body.scope,
        team_id=body.team_id,
        owner_id=actor.id,
        usage_count=0,
        created_at=now,
        updated_at=now,
    )
    session.add(reply)
    await session.flush()
    await audit.record(
        session,
        actor=actor,
        action="canned_reply.created",
        entity_type="canned_reply",
        entity_id=reply.id,
        new_value=_audited(reply),
    )
    return reply


async def update_reply(
    session: AsyncSession,
    actor: CurrentUser,
    reply_id: uuid.UUID,
    body: CannedReplyUpdate,
    now: datetime,
) -> CannedReply:
    reply = await get_visible(session, actor, reply_id, lock=True)
    if not can_edit(actor, scope=reply.scope, owner_id=reply.owner_id):
        raise Forbidden("Only its owner, a manager or an admin may change this reply")
    fields = body.model_dump(exclude_unset=True)
    for name in ("title", "body", "scope"):
        if name in fields and fields[name] is None:
            raise Invalid(name, f"{name} cannot be empty")
    scope, team_id = new_scope(reply.scope, reply.team_id, fields)
    if (scope, team_id) != (reply.scope, reply.team_id):
        await check_scope(session, actor, scope, team_id)
    if body.body is not None:
        compile_template(body.body)
    before = {**_audited(reply), "body": reply.body}
    reply.title = body.title or reply.title
    reply.body = body.body or reply.body
    reply.scope, reply.team_id = scope, team_id
    old, new = audit.changes(before, {**_audited(reply), "body": reply.body})
    if new:
        reply.updated_at = now
        await session.flush()
        if "body" in new:  # the texts themselves stay out of the trail: only that they changed
            old["body"], new["body"] = "(changed)", "(changed)"
        await audit.record(
            session,
            actor=actor,
            action="canned_reply.updated",
            entity_type="canned_reply",
            entity_id=reply.id,
            old_value=old,
            new_value=new,
        )
    return reply


async def delete_reply(session: AsyncSession, actor: CurrentUser, reply_id: uuid.UUID) -> None:
    reply = await get_visible(session, actor, reply_id, lock=True)
    if not can_edit(actor, scope=reply.scope, owner_id=reply.owner_id):
        raise Forbidden("Only its owner, a manager or an admin may delete this reply")
    await session.delete(reply)
    await session.flush()
    await audit.record(
        session,
        actor=actor,
        action="canned_reply.deleted",
        entity_type="canned_reply",
        entity_id=reply_id,
        old_value=_audited(reply),
    )


async def count_uses(session: AsyncSession, uses: dict[uuid.UUID, int]) -> None:
    """Add *uses* to the replies' usage counts (one statement per distinct count)."""
    by_count: dict[int, list[uuid.UUID]] = {}
    for reply_id, n in uses.items():
        by_count.setdefault(n, []).append(reply_id)
    for n, ids in by_count.items():
        await session.execute(
            update(CannedReply)
            .where(CannedReply.id.in_(ids))
            .values(usage_count=CannedReply.usage_count + n)
            .execution_options(synchronize_session=False)
        )


async def render_for_ticket(
    session: AsyncSession, actor: CurrentUser, ticket_id: uuid.UUID, reply_id: uuid.UUID
) -> str:
    """The reply's text filled for the ticket; counts one use."""
    reply = await get_visible(session, actor, reply_id)
    context = await context_for(session, actor, ticket_id)
    text = render(reply.body, context)
    await count_uses(session, {reply.id: 1})
    return text
