"""Knowledge-base articles: the staff view (everything) and the customer view (public articles,
without who wrote them or their visibility) are separate classes."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Literal

from pydantic import StringConstraints

from app.schemas.common import RequestModel, ResponseModel
from app.schemas.ticket import PersonRef

MAX_TITLE = 200
MAX_BODY = 50_000

ArticleTitle = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=MAX_TITLE)
]
ArticleBody = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=MAX_BODY)
]
Visibility = Literal["internal", "public"]


class KbArticleCreate(RequestModel):
    title: ArticleTitle
    body: ArticleBody
    visibility: Visibility = "internal"


class KbArticleUpdate(RequestModel):
    title: ArticleTitle | None = None
    body: ArticleBody | None = None
    visibility: Visibility | None = None


class KbArticleSummary(ResponseModel):
    """A row of the staff list (no body)."""

    id: uuid.UUID
    title: str
    visibility: Visibility
    excerpt: str
    updated_by: PersonRef
    updated_at: datetime


class KbArticle(ResponseModel):
    id: uuid.UUID
    title: str
    body: str
    visibility: Visibility
    created_by: PersonRef
    updated_by: PersonRef
    created_at: datetime
    updated_at: datetime


class CustomerKbMatch(ResponseModel):
    """A public article that may answer the customer's question."""

    id: uuid.UUID
    title: str
    excerpt: str


class CustomerKbMatches(ResponseModel):
    items: list[CustomerKbMatch]


class CustomerKbArticle(ResponseModel):
    id: uuid.UUID
    title: str
    body: str
    updated_at: datetime
