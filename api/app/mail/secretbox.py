"""Secrets kept at rest (an IMAP password): Fernet (AES-128-CBC + HMAC-SHA256) under a key derived
from the secret key with HKDF. Changing the secret key makes stored passwords unreadable: the
mailbox then reports an error and an admin enters the password again."""

from __future__ import annotations

import base64
from functools import lru_cache

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from app.config import get_settings


@lru_cache(maxsize=4)
def _fernet(secret: str) -> Fernet:
    key = HKDF(
        algorithm=hashes.SHA256(), length=32, salt=None, info=b"atum-desk mailbox passwords v1"
    ).derive(secret.encode())
    return Fernet(base64.urlsafe_b64encode(key))


def _current() -> Fernet:
    secret = get_settings().resolved_secret_key()
    assert secret is not None
    return _fernet(secret)


def seal(plain: str) -> str:
    return _current().encrypt(plain.encode()).decode()


def unseal(sealed: str) -> str | None:
    """The plain text, or None when it cannot be read (the secret key changed)."""
    try:
        return _current().decrypt(sealed.encode()).decode()
    except InvalidToken:
        return None
