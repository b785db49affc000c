"""Access tokens: HS256 JWTs (PyJWT) naming a server-side session.

Everything is pinned: algorithm, issuer, audience and the required claims.
Header tricks (``alg: none``, ``jku``/``jwk``/``x5u``/``kid``) are irrelevant because the key
and algorithm never come from the token.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

import jwt

from app.errors import Unauthorized

ALGORITHM = "HS256"
ISSUER = "atum-desk"
AUDIENCE = "atum-desk-api"
_REQUIRED = ["exp", "iat", "nbf", "iss", "aud", "sub", "sid"]


@dataclass(frozen=True, slots=True)
class TokenClaims:
    user_id: uuid.UUID
    session_id: uuid.UUID
    # The token's expiry (seconds since the epoch).
    expires: float = 0.0


def create_access_token(
    *, secret: str, user_id: uuid.UUID, session_id: uuid.UUID, now: datetime, lifetime: timedelta
) -> str:
    payload = {
        "iss": ISSUER,
        "aud": AUDIENCE,
        "sub": str(user_id),
        "sid": str(session_id),
        "iat": now,
        "nbf": now,
        "exp": now + lifetime,
    }
    return jwt.encode(payload, secret, algorithm=ALGORITHM)


def decode_access_token(token: str, *, secret: str) -> TokenClaims:
    try:
        claims = jwt.decode(
            token,
            secret,
            algorithms=[ALGORITHM],
            audience=AUDIENCE,
            issuer=ISSUER,
            options={"require": _REQUIRED, "verify_signature": True},
            leeway=0,
        )
        return TokenClaims(
            uuid.UUID(str(claims["sub"])), uuid.UUID(str(claims["sid"])), float(claims["exp"])
        )
    except (jwt.PyJWTError, ValueError, TypeError, KeyError) as exc:
        raise Unauthorized("Invalid or expired token") from exc
