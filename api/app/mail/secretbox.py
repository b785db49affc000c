"""Secrets kept at rest (an IMAP password, a TOTP seed, the link of an account mail waiting in the
outbox): Fernet (AES-128-CBC + HMAC-SHA256) under a key derived
from the secret key with HKDF. Changing the secret key makes stored passwords unreadable: the
mailbox then reports an error and an admin enters the password again."""

from __future__ import annotations

import base64
from functools import lru_cache

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from app.config import get_settings

MAILBOX = b"atum-desk mailbox passwords v1"
TOTP = b"atum-desk totp seeds v1"
LINK = b"atum-desk account links v1"
SSO = b"atum-desk identity provider secrets v1"


@lru_cache(maxsize=8)
def _fernet(secret: str, purpose: bytes) -> Fernet:
    key = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=purpose).derive(
        secret.encode()
    )
    return Fernet(base64.urlsafe_b64encode(key))


def _current(purpose: bytes) -> Fernet:
    secret = get_settings().resolved_secret_key()
    assert secret is not None
    return _fernet(secret, purpose)


def seal(plain: str, purpose: bytes = MAILBOX) -> str:
    """*plain* sealed under a key of its own for each *purpose*."""
    return _current(purpose).encrypt(plain.encode()).decode()


def unseal(sealed: str, purpose: bytes = MAILBOX) -> str | None:
    """The plain text, or None when it cannot be read (the secret key changed)."""
    try:
        return _current(purpose).decrypt(sealed.encode()).decode()
    except InvalidToken:
        return None
