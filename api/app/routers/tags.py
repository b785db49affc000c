"""Ticket tags (staff read them, admins rename and merge them) and category suggestions."""

from __future__ import annotations

import uuid

from fastapi import APIRouter

from app.auth.deps import DbSession, DeskUser, TagAdmin, TagReader
from app.routers.common import DEFAULT, Cursor, Limit, Search
from app.schemas.common import Page
from app.schemas.tag import CategoryList, TagMerge, TagOut, TagRename
from app.services import tags

router = APIRouter()


@router.get("/internal/tags", response_model=Page[TagOut], tags=["desk"])
async def list_tags(
    actor: TagReader,
    session: DbSession,
    q: Search = None,
    cursor: Cursor = None,
    limit: Limit = DEFAULT,
) -> Page[TagOut]:
    """Tags whose name contains *q*, by name, each with its number of tickets."""
    items, next_cursor = await tags.suggest(session, actor, q, cursor=cursor, limit=limit)
    return Page[TagOut].model_validate({"items": items, "next_cursor": next_cursor})


@router.get("/internal/categories", response_model=CategoryList, tags=["desk"])
async def list_categories(actor: DeskUser, session: DbSession, q: Search = None) -> CategoryList:
    """The categories tickets already have (containing *q*): the 50 most used."""
    return CategoryList.model_validate({"items": await tags.categories(session, actor, q)})


@router.patch("/admin/tags/{tag_id}", response_model=TagOut, tags=["admin"])
async def rename_tag(
    tag_id: uuid.UUID, body: TagRename, actor: TagAdmin, session: DbSession
) -> TagOut:
    """Rename a tag; 409 when the name is taken (merge the tag into that one instead)."""
    await tags.rename(session, actor, tag_id, body.name)
    return TagOut.model_validate(await tags.one(session, actor, tag_id))


@router.post("/admin/tags/{tag_id}/merge", response_model=TagOut, tags=["admin"])
async def merge_tag(
    tag_id: uuid.UUID, body: TagMerge, actor: TagAdmin, session: DbSession
) -> TagOut:
    """Every ticket of this tag gets *into_id*; this tag is deleted. Answers the target."""
    await tags.merge(session, actor, tag_id, body.into_id)
    return TagOut.model_validate(await tags.one(session, actor, body.into_id))
