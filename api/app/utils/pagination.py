"""Keyset pagination with opaque cursors: ``{items, next_cursor}``, never OFFSET.

A cursor is the sort key of the last row of a page, base64url-encoded JSON. A cursor that does not
decode to the expected shape is a 422, never a 500.
"""

from __future__ import annotations

import base64
import binascii
import json
import uuid
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any, TypeVar

from sqlalchemy import Select, tuple_
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute

from app.errors import Invalid
from app.utils.text import storable

T = TypeVar("T")
DEFAULT_LIMIT = 50
MAX_LIMIT = 200

KeyKind = type[str] | type[int] | type[uuid.UUID] | type[datetime]
_BIGINT = range(-(2**63), 2**63)


def encode_cursor(values: Sequence[Any]) -> str:
    raw = json.dumps(
        [
            v.isoformat() if isinstance(v, datetime) else str(v) if isinstance(v, uuid.UUID) else v
            for v in values
        ],
        separators=(",", ":"),
    )
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_cursor(cursor: str, kinds: Sequence[KeyKind]) -> list[Any]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        values = json.loads(raw)
        if not isinstance(values, list) or len(values) != len(kinds):
            raise ValueError("shape")
        out: list[Any] = []
        for kind, value in zip(kinds, values, strict=True):
            if kind is int:
                if not isinstance(value, int) or isinstance(value, bool) or value not in _BIGINT:
                    raise ValueError("int")
                out.append(value)
                continue
            if not isinstance(value, str) or not storable(value):
                raise ValueError("str")
            if kind is datetime:
                moment = datetime.fromisoformat(value)
                if moment.tzinfo is None:
                    raise ValueError("naive datetime")
                # Out of range once in UTC (year 1 at +14:00) would fail in the driver: a 500.
                out.append(moment.astimezone(UTC))
            elif kind is uuid.UUID:
                out.append(uuid.UUID(value))
            else:
                out.append(value)
        return out
    except (
        ValueError,
        TypeError,
        OverflowError,
        binascii.Error,
        json.JSONDecodeError,
        UnicodeDecodeError,
    ) as exc:
        raise Invalid("cursor", "Invalid cursor") from exc


async def keyset_page(
    session: AsyncSession,
    stmt: Select[T],
    *,
    keys: Sequence[InstrumentedAttribute[Any]],
    kinds: Sequence[KeyKind],
    key_of: Callable[[T], Sequence[Any]],
    cursor: str | None,
    limit: int,
    descending: bool = False,
) -> tuple[list[T], str | None]:
    """One page of *stmt* ordered by *keys* (which must be unique together)."""
    if cursor:
        after = tuple_(*keys) < tuple_(*decode_cursor(cursor, kinds))
        if not descending:
            after = tuple_(*keys) > tuple_(*decode_cursor(cursor, kinds))
        stmt = stmt.where(after)
    order = [k.desc() for k in keys] if descending else list(keys)
    rows = list((await session.execute(stmt.order_by(*order).limit(limit + 1))).scalars())
    if len(rows) > limit:
        rows = rows[:limit]
        return rows, encode_cursor(key_of(rows[-1]))
    return rows, None
