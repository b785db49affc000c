"""Knowledge-base articles: staff write them (internal or public); customers find the public ones
while they describe a problem (deflection). Every write replaces the article's passages in the
AI knowledge base in the same transaction, so triage suggestions cite the current text.

Who sees which article is decided by ``visibility.visible_kb_articles``: staff every article,
customers the public ones only; anything else does not exist for the caller (404, the same as a
random id)."""

from __future__ import annotations

import hashlib
import re
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, literal_column, select, tuple_
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from app.ai import kb
from app.ai.text import excerpt, or_query
from app.auth.deps import CurrentUser
from app.errors import NotFound
from app.models import KbArticle, User
from app.schemas.kb import KbArticleCreate, KbArticleUpdate
from app.services import audit
from app.services.visibility import visible_kb_articles
from app.utils.pagination import decode_cursor, encode_cursor

DEFLECTION_LIMIT = 5
LIST_EXCERPT_CHARS = 200
MATCH_EXCERPT_CHARS = 240
ENTITY = "kb_article"

_Updater = aliased(User)

# Markdown syntax that means nothing in a one-line plain-text excerpt.
_LINK = re.compile(r"!?\[([^\]]*)\]\([^)]*\)")
_MARKUP = re.compile(r"(^|\s)#{1,6}\s|[*_`>~|]+|^\s*[-+]\s", re.MULTILINE)


def plain_text(markdown: str) -> str:
    """Markdown as plain text: links keep their text, markup is dropped, lines are kept."""
    return _MARKUP.sub(" ", _LINK.sub(r"\1", markdown))


def plain_excerpt(markdown: str, limit: int) -> str:
    """A short plain-text excerpt of Markdown (links keep their text, markup is dropped)."""
    return excerpt(plain_text(markdown), limit)


@dataclass(frozen=True, slots=True)
class Person:
    id: uuid.UUID
    name: str


@dataclass(frozen=True, slots=True)
class ArticleView:
    article: KbArticle
    created_by: Person
    updated_by: Person


@dataclass(frozen=True, slots=True)
class ArticleRow:
    id: uuid.UUID
    title: str
    visibility: str
    excerpt: str
    updated_by: Person
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class Match:
    id: uuid.UUID
    title: str
    excerpt: str


def _snapshot(article: KbArticle) -> dict[str, Any]:
    return {
        "title": article.title,
        "visibility": article.visibility,
        "body_sha256": hashlib.sha256(article.body.encode()).hexdigest(),
    }


async def get(session: AsyncSession, actor: CurrentUser, article_id: uuid.UUID) -> KbArticle:
    article = (
        await session.execute(visible_kb_articles(actor).where(KbArticle.id == article_id))
    ).scalar_one_or_none()
    if article is None:
        raise NotFound("Article not found")
    return article


async def view(session: AsyncSession, article: KbArticle) -> ArticleView:
    names = dict(
        (
            await session.execute(
                select(User.id, User.name).where(
                    User.id.in_({article.created_by, article.updated_by})
                )
            )
        ).all()
    )
    return ArticleView(
        article,
        Person(article.created_by, names.get(article.created_by, "")),
        Person(article.updated_by, names.get(article.updated_by, "")),
    )


async def list_articles(
    session: AsyncSession,
    *,
    q: str | None,
    cursor: str | None,
    limit: int,
    actor: CurrentUser | None = None,
) -> tuple[list[ArticleRow], str | None]:
    """Most recently changed first (keyset on updated_at, id); *q* filters by full-text search
    over title and body. With *actor*, only what that caller may see (a customer: the public
    articles); without, every article (the staff list)."""
    stmt = (
        select(
            KbArticle.id,
            KbArticle.title,
            KbArticle.visibility,
            func.left(KbArticle.body, 4 * LIST_EXCERPT_CHARS).label("head"),
            KbArticle.updated_at,
            KbArticle.updated_by,
            _Updater.name.label("updater_name"),
        )
        .join(_Updater, _Updater.id == KbArticle.updated_by)
        .order_by(KbArticle.updated_at.desc(), KbArticle.id.desc())
        .limit(limit + 1)
    )
    if actor is not None and not actor.is_staff:
        stmt = stmt.where(KbArticle.visibility == "public")
    if q:
        stmt = stmt.where(
            KbArticle.search.op("@@")(func.websearch_to_tsquery(literal_column("'english'"), q))
        )
    if cursor:
        after = decode_cursor(cursor, [datetime, uuid.UUID])
        stmt = stmt.where(tuple_(KbArticle.updated_at, KbArticle.id) < tuple_(*after))
    rows = (await session.execute(stmt)).all()
    items = [
        ArticleRow(
            id=row.id,
            title=row.title,
            visibility=row.visibility,
            excerpt=plain_excerpt(row.head, LIST_EXCERPT_CHARS),
            updated_by=Person(row.updated_by, row.updater_name),
            updated_at=row.updated_at,
        )
        for row in rows[:limit]
    ]
    next_cursor = None
    if len(rows) > limit:
        last = items[-1]
        next_cursor = encode_cursor((last.updated_at, last.id))
    return items, next_cursor


async def create(session: AsyncSession, actor: CurrentUser, body: KbArticleCreate) -> KbArticle:
    article = KbArticle(
        id=uuid.uuid4(),
        title=body.title,
        body=body.body,
        visibility=body.visibility,
        created_by=actor.id,
        updated_by=actor.id,
    )
    session.add(article)
    await session.flush()
    await kb.replace_article(session, article.id, article.title, article.body)
    await audit.record(
        session,
        actor=actor,
        action=f"{ENTITY}.created",
        entity_type=ENTITY,
        entity_id=article.id,
        new_value=_snapshot(article),
    )
    return article


async def update(
    session: AsyncSession, actor: CurrentUser, article_id: uuid.UUID, body: KbArticleUpdate
) -> KbArticle:
    article = await get(session, actor, article_id)
    before = _snapshot(article)
    for field in ("title", "body", "visibility"):
        value = getattr(body, field)
        if value is not None:
            setattr(article, field, value)
    after = _snapshot(article)
    old, new = audit.changes(before, after)
    if not new:
        return article
    article.updated_by = actor.id
    await session.flush()
    if "title" in new or "body_sha256" in new:
        await kb.replace_article(session, article.id, article.title, article.body)
    await audit.record(
        session,
        actor=actor,
        action=f"{ENTITY}.updated",
        entity_type=ENTITY,
        entity_id=article.id,
        old_value=old,
        new_value=new,
    )
    return article


async def remove(session: AsyncSession, actor: CurrentUser, article_id: uuid.UUID) -> None:
    article = await get(session, actor, article_id)
    snapshot = _snapshot(article)
    await kb.remove_article(session, article.id)
    await session.execute(delete(KbArticle).where(KbArticle.id == article.id))
    await audit.record(
        session,
        actor=actor,
        action=f"{ENTITY}.deleted",
        entity_type=ENTITY,
        entity_id=article.id,
        old_value=snapshot,
    )


_HEADLINE_OPTIONS = 'StartSel="", StopSel="", MaxWords=40, MinWords=15, MaxFragments=1'


async def suggest(session: AsyncSession, actor: CurrentUser, text: str) -> list[Match]:
    """The public articles that best match *text* (any of its content words, ranked by
    full-text relevance), at most DEFLECTION_LIMIT, each with a short excerpt."""
    terms = or_query(text)
    if terms is None:
        return []
    query = func.to_tsquery(literal_column("'english'"), terms)
    rank = func.ts_rank(KbArticle.search, query, 1 | 32)
    headline = func.ts_headline(
        literal_column("'english'"), KbArticle.body, query, _HEADLINE_OPTIONS
    )
    stmt = (
        visible_kb_articles(actor)
        .with_only_columns(KbArticle.id, KbArticle.title, headline.label("headline"))
        .where(KbArticle.search.op("@@")(query))
        .order_by(rank.desc(), KbArticle.updated_at.desc(), KbArticle.id)
        .limit(DEFLECTION_LIMIT)
    )
    rows = (await session.execute(stmt)).all()
    return [
        Match(row.id, row.title, plain_excerpt(row.headline, MATCH_EXCERPT_CHARS)) for row in rows
    ]
