"""The session cache's own rules (app/auth/session_cache.py); across real processes:
test_session_revocation_processes.py."""

from __future__ import annotations

import time
import uuid
from datetime import timedelta

from app.auth.session_cache import TTL_SECONDS, Entry, SessionCache, token_key
from app.utils.clock import utcnow


def entry(org_id: uuid.UUID | None = None, *, stored: float | None = None) -> Entry:
    return Entry(
        session_id=uuid.uuid4(),
        user_id=uuid.uuid4(),
        org_id=org_id,
        token_expires=time.time() + 3600,
        session_expires=utcnow() + timedelta(hours=1),
        restricted=False,
        last_seen_at=utcnow(),
        user=object(),
        stored=time.monotonic() if stored is None else stored,
    )


def listening() -> SessionCache:
    cache = SessionCache()
    cache.listening = True
    return cache


def test_nothing_is_cached_or_served_while_nobody_listens() -> None:
    cache = SessionCache()
    cache.put(b"k", entry(), cache.generation)
    assert cache.get(b"k") is None
    cache = listening()
    cache.put(b"k", entry(), cache.generation)
    cache.listening = False
    assert cache.get(b"k") is None


def test_notifications_drop_the_session_the_user_or_the_organization() -> None:
    cache = listening()
    org = uuid.uuid4()
    a, b, c = entry(org), entry(org), entry()
    for key, e in ((b"a", a), (b"b", b), (b"c", c)):
        cache.put(key, e, cache.generation)
    cache.invalidate(f"s:{a.session_id}")
    assert cache.get(b"a") is None and cache.get(b"b") is b
    cache.invalidate(f"u:{c.user_id}")
    assert cache.get(b"c") is None and cache.get(b"b") is b
    cache.invalidate(f"o:{org}")
    assert cache.get(b"b") is None
    cache.put(b"c", c, cache.generation)
    cache.invalidate("*")
    assert len(cache) == 0


def test_a_read_overtaken_by_a_notification_is_not_stored() -> None:
    cache = listening()
    generation = cache.generation
    cache.invalidate(f"u:{uuid.uuid4()}")
    cache.put(b"k", entry(), generation)
    assert cache.get(b"k") is None


def test_entries_live_at_most_the_ttl_and_never_past_the_tokens_expiry() -> None:
    cache = listening()
    cache.put(b"old", entry(stored=time.monotonic() - TTL_SECONDS - 0.1), cache.generation)
    assert cache.get(b"old") is None
    expired = entry()
    expired.token_expires = time.time() - 1
    cache.put(b"expired", expired, cache.generation)
    assert cache.get(b"expired") is None


def test_the_key_is_a_digest_not_the_token() -> None:
    token = "header.payload.signature"
    assert token.encode() not in token_key(token)
    assert token_key(token) == token_key(token) != token_key(token + "x")
