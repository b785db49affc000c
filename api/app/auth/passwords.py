"""argon2id password hashing (argon2-cffi, RFC 9106 low-memory profile)."""

from __future__ import annotations

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

_hasher = PasswordHasher()

# Verified against when the e-mail is unknown, so both failures cost the same time.
_DUMMY_HASH = _hasher.hash("atum-desk-timing-equaliser")


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    """Always one full argon2 verification: an unknown address and an account without a password
    yet (invited: no hash) cost the same time as a wrong password."""
    stored = password_hash if password_hash and password_hash.startswith("$argon2") else None
    try:
        return _hasher.verify(stored or _DUMMY_HASH, password) and stored is not None
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    return _hasher.check_needs_rehash(password_hash)


# Recovery codes carry 60 random bits each, so a lighter argon2id profile than for passwords keeps
# checking ten of them quick while a stolen table stays useless.
_code_hasher = PasswordHasher(time_cost=1, memory_cost=8 * 1024, parallelism=1)


def hash_code(code: str) -> str:
    return _code_hasher.hash(code)


def verify_code(code_hash: str, code: str) -> bool:
    try:
        return _code_hasher.verify(code_hash, code)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False
