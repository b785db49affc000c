"""Tags (staff only: no customer schema has a field for them) and category suggestions."""

from __future__ import annotations

import uuid
from typing import Annotated

from pydantic import StringConstraints

from app.schemas.common import RequestModel, ResponseModel

# The normalised form: trimmed, lower-case, 1-40 of [a-z0-9 _.-] (upper case is accepted and
# lowered; the tags table's check constraint holds the same rule).
TagName = Annotated[
    str,
    StringConstraints(
        strip_whitespace=True,
        to_lower=True,
        min_length=1,
        max_length=40,
        pattern=r"^[A-Za-z0-9 _.-]+$",
    ),
]
MAX_TAGS_PER_TICKET = 20


class TagOut(ResponseModel):
    id: uuid.UUID
    name: str
    # How many tickets carry it.
    count: int


class TagRename(RequestModel):
    name: TagName


class TagMerge(RequestModel):
    into_id: uuid.UUID


class CategoryOut(ResponseModel):
    name: str
    count: int


class CategoryList(ResponseModel):
    items: list[CategoryOut]
