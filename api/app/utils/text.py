"""Text PostgreSQL can store: no NUL character and no unpaired surrogate (not encodable as UTF-8).
Anything else fails in the database driver, after validation, as a 500."""

from __future__ import annotations


def storable(value: str) -> bool:
    if "\x00" in value:
        return False
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def require_storable(value: str) -> str:
    """A pydantic after-validator: refuse text the database cannot hold (422, not 500)."""
    if not storable(value):
        raise ValueError("contains a NUL character or an unpaired surrogate")
    return value
