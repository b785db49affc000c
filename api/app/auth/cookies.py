"""Browser sessions: the access token in an httpOnly SameSite=Strict cookie, plus a CSRF token
bound to the session.

The web UI never holds the token in JavaScript. Unsafe requests authenticated by the cookie must
echo the CSRF token in ``X-CSRF-Token`` (the token is an HMAC of the session id, readable by the
page from a second cookie), so a request forged from another site fails even where SameSite does
not hold. Requests with a bearer header are not cookie-borne and need no CSRF token.
"""

from __future__ import annotations

import hashlib
import hmac
import uuid

from fastapi import Response

from app.config import Settings

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
CSRF_HEADER = "x-csrf-token"


def _secure(settings: Settings) -> bool:
    return settings.public_url.startswith("https://")


def session_cookie_name(settings: Settings) -> str:
    # The __Host- prefix (Secure, Path=/, no Domain) needs HTTPS; plain HTTP development on
    # 127.0.0.1 uses the bare name.
    return "__Host-atum_session" if _secure(settings) else "atum_session"


def csrf_cookie_name(settings: Settings) -> str:
    return "__Host-atum_csrf" if _secure(settings) else "atum_csrf"


def csrf_token(secret: str, session_id: uuid.UUID) -> str:
    return hmac.new(secret.encode(), b"csrf:" + session_id.bytes, hashlib.sha256).hexdigest()


def csrf_valid(secret: str, session_id: uuid.UUID, presented: str | None) -> bool:
    return presented is not None and hmac.compare_digest(csrf_token(secret, session_id), presented)


def set_session_cookies(
    response: Response, settings: Settings, *, token: str, session_id: uuid.UUID, max_age: int
) -> None:
    secure = _secure(settings)
    response.set_cookie(
        session_cookie_name(settings),
        token,
        max_age=max_age,
        path="/",
        secure=secure,
        httponly=True,
        samesite="strict",
    )
    response.set_cookie(
        csrf_cookie_name(settings),
        csrf_token(settings.resolved_secret_key() or "", session_id),
        max_age=max_age,
        path="/",
        secure=secure,
        httponly=False,
        samesite="strict",
    )


def clear_session_cookies(response: Response, settings: Settings) -> None:
    secure = _secure(settings)
    for name in (session_cookie_name(settings), csrf_cookie_name(settings)):
        response.delete_cookie(name, path="/", secure=secure, samesite="strict")
