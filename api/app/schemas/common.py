"""Base classes shared by every schema."""

from __future__ import annotations

import re
from typing import Annotated, Generic, TypeVar

from pydantic import AfterValidator, BaseModel, ConfigDict, StringConstraints, field_validator

from app.utils.text import require_storable

T = TypeVar("T")


class RequestModel(BaseModel):
    """Every request body: unknown fields are an error, strings are trimmed and must be text the
    database can store."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    @field_validator("*", mode="after")
    @classmethod
    def _storable(cls, value: object) -> object:
        return require_storable(value) if isinstance(value, str) else value


class ResponseModel(BaseModel):
    model_config = ConfigDict(from_attributes=True)


class Page(ResponseModel, Generic[T]):
    items: list[T]
    next_cursor: str | None


Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
Password = Annotated[str, StringConstraints(min_length=12, max_length=256)]

_EMAIL = re.compile(
    r"^[^@\s\x00-\x1f\x7f]{1,64}@[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$"
)


def _email(value: str) -> str:
    """Addresses on internal domains (``corp.local``, ``localhost``) are normal on self-hosted
    installs, so only the shape is checked; stored lower-case."""
    if not _EMAIL.match(value):
        raise ValueError("not a valid e-mail address")
    return value.lower()


Email = Annotated[
    str, StringConstraints(strip_whitespace=True, max_length=254), AfterValidator(_email)
]
