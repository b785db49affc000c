"""The audit trail's hash chains: what is hashed, the key, verification and the exported heads.

Every ``audit_log`` row carries ``prev_hash`` (the hash of the row before it on its chain, 32 zero
bytes for a chain's first row) and ``hash`` = HMAC-SHA256(key, canonical(row)), where the canonical
encoding covers every column except ``seq`` and ``hash`` (``prev_hash`` included, which is what
links the rows). The key is derived from the application secret key in Python and never reaches
the database. Rows are spread over a few chains (one row per chain in ``audit_chain_heads``, which
holds each chain's last ``seq`` and ``hash``) so that concurrent transactions do not queue behind
one lock; within a chain, ``seq`` order is chain order (app/services/audit.py writes).

The canonical encoding survives a JSONB round trip: JSON with sorted keys, compact separators and
ASCII escapes; UUIDs as strings; the timestamp as ISO 8601 in UTC with microseconds; byte strings
as hex; a float that is integral becomes the integer it denotes in decimal (JSONB keeps numbers as
decimals: ``1e20`` comes back as ``100000000000000000000`` and ``1.0`` as a float ``1.0``).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal
from enum import Enum
from functools import lru_cache
from pathlib import Path
from typing import Any

import asyncpg

KEY_CONTEXT = b"atum-desk audit chain v1"
GENESIS = bytes(32)
HASH_BYTES = 32

# Every column except seq and hash, in the order of the canonical document (keys are sorted
# anyway; this order is the one of the SELECTs below).
FIELDS = (
    "id",
    "chain",
    "actor_id",
    "org_id",
    "ticket_id",
    "action",
    "entity_type",
    "entity_id",
    "old_value",
    "new_value",
    "ip",
    "request_id",
    "created_at",
    "prev_hash",
)


@lru_cache(maxsize=4)
def derive_key(secret: str) -> bytes:
    """The chain key: HMAC(secret, "atum-desk audit chain v1"). Rotating ATUM_SECRET_KEY changes
    it (docs/AUDIT_CHAIN.md)."""
    return hmac.new(secret.encode(), KEY_CONTEXT, hashlib.sha256).digest()


def chain_key() -> bytes:
    """The key of this installation (from ``get_settings().resolved_secret_key()``)."""
    from app.config import get_settings

    secret = get_settings().resolved_secret_key()
    if not secret:
        raise RuntimeError("no secret key: set ATUM_SECRET_KEY or ATUM_SECRET_KEY_FILE")
    return derive_key(secret)


# ---------------------------------------------------------------- canonical encoding


def _number(value: float) -> float | int:
    """A float as JSONB will give it back: integral floats are the integer their shortest decimal
    form denotes (``1e20`` -> 10**20, ``1.0`` -> 1), others stay floats."""
    if value.is_integer():
        return int(Decimal(repr(value)))
    return value


def normalize(value: Any) -> Any:
    """A JSON value (dict, list, str, int, float, bool, None; tuples and sets become lists;
    UUIDs, dates, enums and Decimals their JSON form) with every number in its canonical type.
    Raises ``TypeError`` for anything else, as ``json.dumps`` would."""
    if value is None or isinstance(value, str | bool):
        return value
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        return _number(value)
    if isinstance(value, dict):
        return {k if isinstance(k, str) else str(k): normalize(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [normalize(v) for v in value]
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Enum):
        return normalize(value.value)
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    raise TypeError(f"not JSON: {type(value).__name__}")


def _read_float(text: str) -> float | int:
    return _number(float(text))


def parse_json(text: str | None) -> Any:
    """A JSONB column's text, read back into its canonical values (same result as
    ``normalize(json.loads(text))``, without a second walk)."""
    if text is None:
        return None
    return json.loads(text, parse_float=_read_float)


def dumps(value: Any) -> str:
    """Canonical JSON text of an already normalized value."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=True)


def timestamp(value: datetime) -> str:
    """ISO 8601 in UTC with microseconds, e.g. 2026-12-02T09:10:00.000001Z."""
    if value.tzinfo is None:
        raise ValueError("audit timestamps must be timezone-aware")
    if value.utcoffset():
        value = value.astimezone(UTC)
    return (
        f"{value.year:04d}-{value.month:02d}-{value.day:02d}T{value.hour:02d}:"
        f"{value.minute:02d}:{value.second:02d}.{value.microsecond:06d}Z"
    )


def _text(value: object) -> str | None:
    return None if value is None else str(value)


def canonical(
    *,
    id: object,
    chain: int,
    actor_id: object,
    org_id: object,
    ticket_id: object,
    action: str,
    entity_type: str,
    entity_id: object,
    old_value: Any,
    new_value: Any,
    ip: str | None,
    request_id: str | None,
    created_at: datetime,
    prev_hash: bytes,
) -> bytes:
    """The bytes that are hashed for one row. UUID columns may be given as UUIDs or strings;
    *old_value* and *new_value* must already be normalized (``normalize`` or ``parse_json``)."""
    return dumps(
        {
            "action": action,
            "actor_id": _text(actor_id),
            "chain": int(chain),
            "created_at": timestamp(created_at),
            "entity_id": _text(entity_id),
            "entity_type": entity_type,
            "id": str(id),
            "ip": ip,
            "new_value": new_value,
            "old_value": old_value,
            "org_id": _text(org_id),
            "prev_hash": bytes(prev_hash).hex(),
            "request_id": request_id,
            "ticket_id": _text(ticket_id),
        }
    ).encode("ascii")


def row_hash(key: bytes, message: bytes) -> bytes:
    return hmac.digest(key, message, "sha256")


def link(key: bytes, chain: int, prev_hash: bytes, rows: Iterable[dict[str, Any]]) -> bytes:
    """Chain *rows* (entries of app/services/audit.py, values normalized, ``created_at`` set) in
    order after *prev_hash* on *chain*: sets each row's ``chain``, ``prev_hash`` and ``hash``;
    returns the last hash (the chain's new head)."""
    for row in rows:
        row["chain"] = chain
        row["prev_hash"] = prev_hash
        prev_hash = row["hash"] = row_hash(key, canonical(**{f: row[f] for f in FIELDS}))
    return prev_hash


# ---------------------------------------------------------------- verification

# Text for the UUID columns (no UUID objects), JSONB as text (parsed into canonical values).
_ROWS = """
    SELECT seq, id::text, chain, actor_id::text, org_id::text, ticket_id::text, action,
        entity_type, entity_id::text, old_value::text, new_value::text, ip, request_id,
        created_at, prev_hash, hash
    FROM audit_log ORDER BY seq
"""
_HEADS = "SELECT chain, seq, hash FROM audit_chain_heads ORDER BY chain"
_FIND = "SELECT seq, id FROM audit_log WHERE chain = $1 AND hash = $2 ORDER BY seq LIMIT 1"
FETCH = 20_000


@dataclass(frozen=True, slots=True)
class Head:
    chain: int
    seq: int
    hash: bytes

    def as_json(self) -> dict[str, Any]:
        return {"chain": self.chain, "seq": self.seq, "hash": self.hash.hex()}


@dataclass(frozen=True, slots=True)
class Broken:
    """The first row (or head) where the chain does not hold."""

    seq: int | None
    id: uuid.UUID | str | None
    chain: int
    reason: str  # edited | missing predecessor (deleted) | reordered | head mismatch | ...
    detail: str

    def __str__(self) -> str:
        where = f"seq {self.seq} (id {self.id})" if self.seq is not None else "no row"
        return f"chain {self.chain}: {where}: {self.reason}: {self.detail}"


@dataclass
class Verification:
    rows: int = 0
    chains: dict[int, int] = field(default_factory=dict)  # rows per chain
    heads: list[Head] = field(default_factory=list)
    exported_checked: int = 0
    broken: Broken | None = None

    @property
    def ok(self) -> bool:
        return self.broken is None


def read_exported_heads(path: Path) -> dict[int, tuple[int, bytes]]:
    """The heads file the worker appends to (one JSON object per line): every (chain, seq, hash)
    it ever exported, by seq. Raises ``ValueError`` for a line that is not an export."""
    expected: dict[int, tuple[int, bytes]] = {}
    for number, line in enumerate(path.read_text().splitlines(), 1):
        if not line.strip():
            continue
        try:
            for head in json.loads(line)["chains"]:
                seq, chain, digest = (
                    int(head["seq"]),
                    int(head["chain"]),
                    bytes.fromhex(head["hash"]),
                )
                if seq > 0:
                    expected[seq] = (chain, digest)
        except (KeyError, TypeError, ValueError) as exc:
            raise ValueError(f"{path}:{number}: not an exported heads line ({exc})") from exc
    return expected


async def connect(database_url: str) -> asyncpg.Connection:
    """A plain asyncpg connection to the app's database (``postgresql+asyncpg://`` URL, a unix
    socket directory in ``?host=`` included)."""
    from sqlalchemy.engine import make_url

    url = make_url(database_url)
    socket_dir = url.query.get("host")
    host = socket_dir if isinstance(socket_dir, str) else url.host
    conn: asyncpg.Connection = await asyncpg.connect(
        user=url.username,
        password=url.password,
        database=url.database,
        host=host,
        port=url.port,
        server_settings={"application_name": "atum-desk audit verify"},
    )
    return conn


async def read_heads(conn: asyncpg.Connection) -> list[Head]:
    return [Head(r[0], r[1], bytes(r[2])) for r in await conn.fetch(_HEADS)]


async def verify(
    conn: asyncpg.Connection,
    key: bytes,
    *,
    exported: Mapping[int, tuple[int, bytes]] | None = None,
    fetch: int = FETCH,
) -> Verification:
    """Walk every chain in seq order (one REPEATABLE READ snapshot, so the heads and the rows
    agree while the app keeps writing): recompute each row's hash, check its link to the row
    before it on its chain, then each chain's last row against ``audit_chain_heads``, and the
    heads exported earlier (*exported*, see ``read_exported_heads``) against the rows. Stops at the
    first broken row."""
    result = Verification()
    async with conn.transaction(isolation="repeatable_read", readonly=True):
        result.heads = await read_heads(conn)
        last: dict[
            int, tuple[int, bytes, str | None]
        ] = {}  # chain -> (seq, hash, id) of its last row
        wanted = dict(exported or {})
        cursor = await conn.cursor(_ROWS)
        counts = result.chains
        dig, enc = hmac.digest, dumps
        while not result.broken:
            batch = await cursor.fetch(fetch)
            if not batch:
                break
            for (
                seq,
                id_,
                chain,
                actor_id,
                org_id,
                ticket_id,
                action,
                entity_type,
                entity_id,
                old_value,
                new_value,
                ip,
                request_id,
                created_at,
                prev_hash,
                stored,
            ) in batch:
                message = enc(
                    {
                        "action": action,
                        "actor_id": actor_id,
                        "chain": chain,
                        "created_at": timestamp(created_at),
                        "entity_id": entity_id,
                        "entity_type": entity_type,
                        "id": id_,
                        "ip": ip,
                        "new_value": None if new_value is None else parse_json(new_value),
                        "old_value": None if old_value is None else parse_json(old_value),
                        "org_id": org_id,
                        "prev_hash": prev_hash.hex(),
                        "request_id": request_id,
                        "ticket_id": ticket_id,
                    }
                ).encode("ascii")
                before = last.get(chain)
                if dig(key, message, "sha256") != stored:
                    result.broken = _edited(seq, id_, chain, before is None)
                    break
                if prev_hash != (GENESIS if before is None else before[1]):
                    result.broken = await _unlinked(conn, seq, id_, chain, prev_hash, before)
                    break
                if wanted and seq in wanted:
                    want_chain, want_hash = wanted.pop(seq)
                    if (want_chain, want_hash) != (chain, bytes(stored)):
                        result.broken = Broken(
                            seq,
                            id_,
                            chain,
                            "exported head mismatch",
                            f"the heads file has seq {seq} on chain {want_chain} with hash "
                            f"{want_hash.hex()[:16]}…, the row differs",
                        )
                        break
                last[chain] = (seq, stored, id_)
                counts[chain] = counts.get(chain, 0) + 1
                result.rows += 1
        if result.broken is None:
            result.broken = _check_heads(result.heads, last)
        if result.broken is None and wanted:
            seq, (chain, digest) = min(wanted.items())
            result.broken = Broken(
                seq,
                None,
                chain,
                "missing exported head (truncated)",
                f"the heads file has seq {seq} with hash {digest.hex()[:16]}… on chain {chain}; "
                "no such row in the database: rows were deleted since that export",
            )
        result.exported_checked = len(exported or {}) - len(wanted)
    return result


def _edited(seq: int, id_: str, chain: int, first: bool) -> Broken:
    detail = "its hash does not match its contents (a column was changed or the row forged)"
    if first:
        detail += (
            "; it is the first row of its chain: if every chain fails here, the secret key "
            "differs from the one the rows were written with"
        )
    return Broken(seq, id_, chain, "edited", detail)


async def _unlinked(
    conn: asyncpg.Connection,
    seq: int,
    id_: str,
    chain: int,
    prev_hash: bytes,
    before: tuple[int, bytes, str | None] | None,
) -> Broken:
    previous = f"seq {before[0]}" if before else "the start of the chain"
    if prev_hash == GENESIS:
        return Broken(
            seq, id_, chain, "reordered", f"it starts the chain but comes after {previous}"
        )
    found = await conn.fetchrow(_FIND, chain, prev_hash)
    if found is None:
        return Broken(
            seq,
            id_,
            chain,
            "missing predecessor (deleted)",
            f"the row it follows is not in the table (the chain before it ends at {previous})",
        )
    if found[0] > seq:
        return Broken(
            seq,
            id_,
            chain,
            "reordered",
            f"the row it follows (seq {found[0]}, id {found[1]}) comes after it",
        )
    return Broken(
        seq,
        id_,
        chain,
        "reordered",
        f"it follows seq {found[0]} (id {found[1]}) but comes after {previous}",
    )


def _check_heads(
    heads: list[Head], last: dict[int, tuple[int, bytes, str | None]]
) -> Broken | None:
    known = {h.chain for h in heads}
    for chain in sorted(set(last) - known):
        seq, _, id_ = last[chain]
        return Broken(seq, id_, chain, "head mismatch", "rows on a chain without a head")
    for head in heads:
        seq, digest, id_ = last.get(head.chain, (0, GENESIS, None))
        if (seq, digest) == (head.seq, head.hash):
            continue
        if head.seq > seq:
            detail = (
                f"the head says the chain ends at seq {head.seq}, its last row is seq {seq}: "
                "rows at the end were deleted"
            )
        else:
            detail = (
                f"the head (seq {head.seq}, hash {head.hash.hex()[:16]}…) does not match the last "
                f"row (seq {seq}, hash {digest.hex()[:16]}…)"
            )
        return Broken(seq or None, id_, head.chain, "head mismatch", detail)
    return None


def export_line(heads: list[Head], now: datetime) -> str:
    """One line of the heads file: the time and every chain's (chain, seq, hash)."""
    return json.dumps(
        {"time": timestamp(now), "chains": [h.as_json() for h in heads]},
        separators=(",", ":"),
    )
