"""Tags: suggestions for the desk, the tags of tickets, and the admins' rename and merge.

A ticket's tags are changed by ``tickets.update_fields`` (the one place ticket changes are made),
which reads them with the ticket's row lock and writes them with ``set_for_ticket`` here. Tags
are global labels, not scoped to organizations: only staff see them (``visible_tags``).
"""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import bindparam, delete, func, literal, select, text
from sqlalchemy.dialects.postgresql import UUID as PgUUID
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.deps import CurrentUser
from app.errors import Conflict, Invalid, NotFound
from app.models import Tag, Ticket, TicketTag
from app.services import audit
from app.services.visibility import visible_tags, visible_tickets
from app.utils.pagination import decode_cursor, encode_cursor

CATEGORY_SUGGESTIONS = 50


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _counted(actor: CurrentUser) -> Any:
    uses = (
        select(func.count())
        .select_from(TicketTag)
        .where(TicketTag.tag_id == Tag.id)
        .correlate(Tag)
        .scalar_subquery()
    )
    return visible_tags(actor).with_only_columns(Tag.id, Tag.name, uses.label("count"))


def _out(row: Any) -> dict[str, Any]:
    return {"id": row.id, "name": row.name, "count": row.count}


async def suggest(
    session: AsyncSession, actor: CurrentUser, q: str | None, *, cursor: str | None, limit: int
) -> tuple[list[dict[str, Any]], str | None]:
    """Tags whose name contains *q* (all without it), by name, keyset on the name."""
    stmt = _counted(actor)
    terms = (q or "").strip().lower()
    if terms:
        stmt = stmt.where(Tag.name.like(f"%{_escape_like(terms)}%", escape="\\"))
    if cursor:
        (after,) = decode_cursor(cursor, [str])
        stmt = stmt.where(Tag.name > after)
    rows = list((await session.execute(stmt.order_by(Tag.name).limit(limit + 1))).all())
    if len(rows) > limit:
        rows = rows[:limit]
        return [_out(r) for r in rows], encode_cursor([rows[-1].name])
    return [_out(r) for r in rows], None


async def categories(session: AsyncSession, actor: CurrentUser, q: str | None) -> list[Any]:
    """The categories tickets already have (containing *q*), most used first, at most 50."""
    uses = func.count().label("count")
    stmt = (
        visible_tickets(actor)
        .with_only_columns(Ticket.category.label("name"), uses)
        .where(Ticket.category.is_not(None))
        .group_by(Ticket.category)
        .order_by(uses.desc(), Ticket.category)
        .limit(CATEGORY_SUGGESTIONS)
    )
    terms = (q or "").strip()
    if terms:
        stmt = stmt.where(Ticket.category.ilike(f"%{_escape_like(terms)}%", escape="\\"))
    return [{"name": r.name, "count": r.count} for r in (await session.execute(stmt)).all()]


async def set_for_ticket(
    session: AsyncSession, ticket_id: uuid.UUID, old: list[str], new: list[str]
) -> None:
    """Replace the ticket's tags *old* by *new* (normalised names); unknown names are created."""
    added, removed = sorted(set(new) - set(old)), sorted(set(old) - set(new))
    if removed:
        await session.execute(
            delete(TicketTag).where(
                TicketTag.ticket_id == ticket_id,
                TicketTag.tag_id.in_(select(Tag.id).where(Tag.name.in_(removed))),
            )
        )
    if added:
        values = {"ticket_id": ticket_id, "names": added}
        linked = await session.execute(_CREATE_AND_LINK, values)
        if linked.rowcount == len(added):  # type: ignore[attr-defined]
            return
        # A name another transaction created meanwhile: invisible to the statement above (its
        # snapshot predates that commit), visible to the next one. Link what is missing.
        await session.execute(
            pg_insert(TicketTag)
            .from_select(
                ["ticket_id", "tag_id"],
                select(literal(ticket_id, PgUUID(as_uuid=True)), Tag.id).where(Tag.name.in_(added)),
            )
            .on_conflict_do_nothing()
        )


# A ticket's new tags in one statement: the names not known yet are created, and every name is
# linked to the ticket (a bulk action runs this once per ticket).
_CREATE_AND_LINK = text(
    """
    WITH created AS (
        INSERT INTO tags (id, name)
        SELECT gen_random_uuid(), name FROM unnest(CAST(:names AS varchar[])) AS name
        ON CONFLICT (name) DO NOTHING
        RETURNING id
    )
    INSERT INTO ticket_tags (ticket_id, tag_id)
    SELECT :ticket_id, id FROM created
    UNION ALL
    SELECT :ticket_id, id FROM tags WHERE name = ANY(CAST(:names AS varchar[]))
    """
).bindparams(bindparam("ticket_id", type_=PgUUID(as_uuid=True)))


async def _get(session: AsyncSession, actor: CurrentUser, tag_id: uuid.UUID) -> Tag:
    tag = (
        await session.execute(visible_tags(actor).where(Tag.id == tag_id).with_for_update())
    ).scalar_one_or_none()
    if tag is None:
        raise NotFound("Tag not found")
    return tag


async def one(session: AsyncSession, actor: CurrentUser, tag_id: uuid.UUID) -> dict[str, Any]:
    row = (await session.execute(_counted(actor).where(Tag.id == tag_id))).one_or_none()
    if row is None:
        raise NotFound("Tag not found")
    return _out(row)


async def rename(session: AsyncSession, actor: CurrentUser, tag_id: uuid.UUID, name: str) -> None:
    tag = await _get(session, actor, tag_id)
    if tag.name == name:
        return
    taken = (await session.execute(select(Tag.id).where(Tag.name == name))).scalar_one_or_none()
    if taken is not None:
        raise Conflict(
            f"A tag named {name!r} exists already: merge this tag into it instead",
            existing_id=str(taken),
        )
    old = tag.name
    tag.name = name
    await session.flush()
    await audit.record(
        session,
        actor=actor,
        action="tag.renamed",
        entity_type="tag",
        entity_id=tag.id,
        old_value={"name": old},
        new_value={"name": name},
    )


async def merge(
    session: AsyncSession, actor: CurrentUser, tag_id: uuid.UUID, into_id: uuid.UUID
) -> None:
    """Every ticket of the source gets the target; the source is deleted (its rows with it)."""
    if into_id == tag_id:
        raise Invalid("into_id", "A tag cannot be merged into itself")
    source = await _get(session, actor, tag_id)
    target = (
        await session.execute(visible_tags(actor).where(Tag.id == into_id).with_for_update())
    ).scalar_one_or_none()
    if target is None:
        raise Invalid("into_id", "Unknown tag")
    moved = await session.execute(
        pg_insert(TicketTag)
        .from_select(
            ["ticket_id", "tag_id"],
            select(TicketTag.ticket_id, literal(target.id, PgUUID(as_uuid=True))).where(
                TicketTag.tag_id == source.id
            ),
        )
        .on_conflict_do_nothing(index_elements=["ticket_id", "tag_id"])
    )
    tickets = (
        await session.execute(
            select(func.count()).select_from(TicketTag).where(TicketTag.tag_id == source.id)
        )
    ).scalar_one()
    await session.execute(delete(Tag).where(Tag.id == source.id))
    await audit.record(
        session,
        actor=actor,
        action="tag.merged",
        entity_type="tag",
        entity_id=target.id,
        old_value={"id": source.id, "name": source.name},
        new_value={
            "into_id": target.id,
            "into": target.name,
            "tickets": int(tickets),
            "added": max(int(getattr(moved, "rowcount", 0) or 0), 0),
        },
    )
    session.expunge(source)
