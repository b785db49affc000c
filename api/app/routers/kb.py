"""The knowledge base: staff articles on the desk (``/internal/kb/articles``) and the public
articles customers are offered while they describe a problem (``/kb/articles``)."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Response, status

from app.auth.deps import CurrentUser, DbSession, require
from app.auth.permissions import Action
from app.models import KbArticle as Article
from app.routers.common import DEFAULT, Cursor, Limit, Search, StorableText
from app.schemas.common import Page
from app.schemas.kb import (
    CustomerKbArticle,
    CustomerKbMatch,
    CustomerKbMatches,
    KbArticle,
    KbArticleCreate,
    KbArticleSummary,
    KbArticleUpdate,
)
from app.schemas.ticket import PersonRef
from app.services import kb_articles

router = APIRouter()

KbReader = Annotated[CurrentUser, Depends(require(Action.KB_READ))]
KbWriter = Annotated[CurrentUser, Depends(require(Action.KB_WRITE))]
KbDeleter = Annotated[CurrentUser, Depends(require(Action.KB_DELETE))]
KbCustomer = Annotated[CurrentUser, Depends(require(Action.KB_PORTAL))]
# What the customer has typed so far (title and description of the ticket being written);
# without it nothing matches.
Question = Annotated[StorableText | None, Query(max_length=2000)]

STAFF = "/internal/kb/articles"
PORTAL = "/kb/articles"


def _person(person: kb_articles.Person) -> PersonRef:
    return PersonRef(id=person.id, name=person.name)


async def _staff_view(session: DbSession, article: Article) -> KbArticle:
    found = await kb_articles.view(session, article)
    a = found.article
    return KbArticle(
        id=a.id,
        title=a.title,
        body=a.body,
        visibility=a.visibility,
        created_by=_person(found.created_by),
        updated_by=_person(found.updated_by),
        created_at=a.created_at,
        updated_at=a.updated_at,
    )


@router.get(STAFF, response_model=Page[KbArticleSummary], tags=["desk"])
async def list_articles(
    actor: KbReader,
    session: DbSession,
    q: Search = None,
    cursor: Cursor = None,
    limit: Limit = DEFAULT,
) -> Page[KbArticleSummary]:
    rows, next_cursor = await kb_articles.list_articles(session, q=q, cursor=cursor, limit=limit)
    items = [
        KbArticleSummary(
            id=r.id,
            title=r.title,
            visibility=r.visibility,
            excerpt=r.excerpt,
            updated_by=_person(r.updated_by),
            updated_at=r.updated_at,
        )
        for r in rows
    ]
    return Page[KbArticleSummary](items=items, next_cursor=next_cursor)


@router.post(STAFF, response_model=KbArticle, status_code=status.HTTP_201_CREATED, tags=["desk"])
async def create_article(body: KbArticleCreate, actor: KbWriter, session: DbSession) -> KbArticle:
    return await _staff_view(session, await kb_articles.create(session, actor, body))


@router.get(STAFF + "/{article_id}", response_model=KbArticle, tags=["desk"])
async def get_article(article_id: uuid.UUID, actor: KbReader, session: DbSession) -> KbArticle:
    return await _staff_view(session, await kb_articles.get(session, actor, article_id))


@router.patch(STAFF + "/{article_id}", response_model=KbArticle, tags=["desk"])
async def update_article(
    article_id: uuid.UUID, body: KbArticleUpdate, actor: KbWriter, session: DbSession
) -> KbArticle:
    return await _staff_view(session, await kb_articles.update(session, actor, article_id, body))


@router.delete(
    STAFF + "/{article_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    response_class=Response,
    tags=["desk"],
)
async def delete_article(article_id: uuid.UUID, actor: KbDeleter, session: DbSession) -> Response:
    await kb_articles.remove(session, actor, article_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get(PORTAL, response_model=CustomerKbMatches, tags=["portal"])
async def suggest_articles(
    actor: KbCustomer, session: DbSession, q: Question = None
) -> CustomerKbMatches:
    """At most five public articles that may answer the question being written."""
    matches = await kb_articles.suggest(session, actor, q or "")
    return CustomerKbMatches(
        items=[CustomerKbMatch(id=m.id, title=m.title, excerpt=m.excerpt) for m in matches]
    )


@router.get("/kb/library", response_model=Page[CustomerKbMatch], tags=["portal"])
async def browse_public_articles(
    actor: KbCustomer,
    session: DbSession,
    cursor: Cursor = None,
    limit: Limit = DEFAULT,
) -> Page[CustomerKbMatch]:
    """Every public article, most recently changed first (the portal's help-articles list)."""
    rows, next_cursor = await kb_articles.list_articles(
        session, q=None, cursor=cursor, limit=limit, actor=actor
    )
    return Page[CustomerKbMatch](
        items=[CustomerKbMatch(id=r.id, title=r.title, excerpt=r.excerpt) for r in rows],
        next_cursor=next_cursor,
    )


@router.get(PORTAL + "/{article_id}", response_model=CustomerKbArticle, tags=["portal"])
async def read_public_article(
    article_id: uuid.UUID, actor: KbCustomer, session: DbSession
) -> CustomerKbArticle:
    article = await kb_articles.get(session, actor, article_id)
    return CustomerKbArticle(
        id=article.id, title=article.title, body=article.body, updated_at=article.updated_at
    )
