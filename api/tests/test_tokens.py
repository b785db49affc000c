"""Forged, tampered and stale bearer tokens: every one is refused with the same 401, while a token
built the same way with the server's key for a live session is accepted (positive control)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import jwt
import pytest
from httpx import AsyncClient, Response
from sqlalchemy.ext.asyncio import AsyncSession

from app.models.enums import Role
from tests.factories import login, make_user

ISSUER = "atum-desk"
AUDIENCE = "atum-desk-api"
ATTACKER_KEY = "attacker-controlled-key-of-a-respectable-length!"
NO_CREDENTIALS = {"detail": "Not authenticated", "code": "unauthorized"}
BAD_TOKEN = {"detail": "Invalid or expired token", "code": "unauthorized"}
_DROP = object()


@dataclass(frozen=True)
class Victim:
    """A real user with a live session (and a second user to impersonate)."""

    user_id: uuid.UUID
    other_user_id: uuid.UUID
    session_id: uuid.UUID
    token: str

    @property
    def secret(self) -> str:
        return os.environ["ATUM_SECRET_KEY"]


Case = Callable[[Victim], str]


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def segment(obj: dict[str, Any]) -> str:
    return b64url(json.dumps(obj, separators=(",", ":")).encode())


def claims(v: Victim, **overrides: object) -> dict[str, Any]:
    """The claims the server issues; an override of ``_DROP`` removes the claim."""
    now = int(time.time())
    base: dict[str, Any] = {
        "iss": ISSUER,
        "aud": AUDIENCE,
        "sub": str(v.user_id),
        "sid": str(v.session_id),
        "iat": now,
        "nbf": now,
        "exp": now + 600,
    }
    base.update(overrides)
    return {k: value for k, value in base.items() if value is not _DROP}


def signed(payload: dict[str, Any], key: str, *, algorithm: str = "HS256", **headers: Any) -> str:
    return jwt.encode(payload, key, algorithm=algorithm, headers=headers or None)


def hand_signed(header: dict[str, Any], payload: dict[str, Any], key: bytes) -> str:
    """HS256 built without PyJWT, for keys PyJWT refuses to use (the empty key)."""
    signing_input = f"{segment(header)}.{segment(payload)}"
    mac = hmac.new(key, signing_input.encode(), hashlib.sha256).digest()
    return f"{signing_input}.{b64url(mac)}"


def unsigned(payload: dict[str, Any], alg: str = "none") -> str:
    return f"{segment({'alg': alg, 'typ': 'JWT'})}.{segment(payload)}."


def edited(v: Victim, **changes: object) -> str:
    """The victim's real token with its payload changed and its signature kept."""
    header, payload, signature = v.token.split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    claims.update(changes)
    return f"{header}.{segment(claims)}.{signature}"


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def missing(claim: str) -> Case:
    return lambda v: signed(claims(v, **{claim: _DROP}), v.secret)


def expired(v: Victim) -> str:
    now = int(time.time())
    return signed(claims(v, iat=now - 7200, nbf=now - 7200, exp=now - 60), v.secret)


FORGED: dict[str, Case] = {
    "garbage": lambda v: "definitely.not.a-jwt",
    "single-segment": lambda v: "eyJhbGciOiJIUzI1NiJ9",
    "alg-none": lambda v: unsigned(claims(v)),
    "alg-None-casing": lambda v: unsigned(claims(v), alg="None"),
    "alg-none-keeping-a-signature": lambda v: unsigned(claims(v)) + v.token.split(".")[2],
    "wrong-key": lambda v: signed(claims(v), ATTACKER_KEY),
    "edited-sub-signature-kept": lambda v: edited(v, sub=str(v.other_user_id)),
    "edited-exp-signature-kept": lambda v: edited(v, exp=int(time.time()) + 10**7),
    "expired": expired,
    "nbf-in-the-future": lambda v: signed(claims(v, nbf=int(time.time()) + 3600), v.secret),
    "wrong-aud": lambda v: signed(claims(v, aud="some-other-api"), v.secret),
    "aud-list-without-ours": lambda v: signed(claims(v, aud=["a", "b"]), v.secret),
    "wrong-iss": lambda v: signed(claims(v, iss="evil-desk"), v.secret),
    "hs384-right-key": lambda v: signed(claims(v), v.secret, algorithm="HS384"),
    "hs512-right-key": lambda v: signed(claims(v), v.secret, algorithm="HS512"),
    "kid-attacker-key": lambda v: signed(claims(v), ATTACKER_KEY, kid="attacker-key-1"),
    "kid-dev-null-empty-key": lambda v: hand_signed(
        {"alg": "HS256", "typ": "JWT", "kid": "../../../../../../dev/null"}, claims(v), b""
    ),
    "jku-attacker-key": lambda v: signed(
        claims(v), ATTACKER_KEY, jku="https://attacker.example/jwks.json", kid="k1"
    ),
    "jwk-embedded-attacker-key": lambda v: signed(
        claims(v), ATTACKER_KEY, jwk={"kty": "oct", "k": b64url(ATTACKER_KEY.encode())}
    ),
    "x5u-attacker-key": lambda v: signed(
        claims(v), ATTACKER_KEY, x5u="https://attacker.example/cert.pem"
    ),
    "unknown-session": lambda v: signed(claims(v, sid=str(uuid.uuid4())), v.secret),
    "session-of-another-user": lambda v: signed(claims(v, sub=str(v.other_user_id)), v.secret),
    "sub-not-a-uuid": lambda v: signed(claims(v, sub="admin"), v.secret),
    "sid-not-a-uuid": lambda v: signed(claims(v, sid="1 OR 1=1"), v.secret),
    "exp-not-a-number": lambda v: signed(claims(v, exp="tomorrow"), v.secret),
    **{
        f"missing-{name}": missing(name)
        for name in ("exp", "nbf", "iat", "iss", "aud", "sub", "sid")
    },
}

NOT_BEARER: dict[str, dict[str, str]] = {
    "no-header": {},
    "basic-scheme": {"Authorization": "Basic xyz"},
    "bearer-empty": {"Authorization": "Bearer "},
    "bearer-blank": {"Authorization": "Bearer    "},
    "token-without-scheme": {"Authorization": "eyJhbGciOiJIUzI1NiJ9.e30.sig"},
}


@pytest.fixture
async def victim(client: AsyncClient, db: AsyncSession) -> Victim:
    user = await make_user(db, role=Role.AGENT)
    other = await make_user(db, role=Role.AGENT)
    actor = await login(client, user)
    sid = jwt.decode(actor.token, options={"verify_signature": False})["sid"]
    return Victim(user.id, other.id, uuid.UUID(sid), actor.token)


def assert_refused(response: Response, body: dict[str, str]) -> None:
    assert response.status_code == 401, response.text
    assert response.json() == body
    assert response.headers["WWW-Authenticate"] == "Bearer"


async def test_crafted_token_with_the_server_key_is_accepted(
    client: AsyncClient, victim: Victim
) -> None:
    r = await client.get("/api/me", headers=bearer(signed(claims(victim), victim.secret)))
    assert r.status_code == 200, r.text
    assert r.json()["id"] == str(victim.user_id)


@pytest.mark.parametrize("case", FORGED.values(), ids=FORGED.keys())
async def test_forged_token_is_refused(client: AsyncClient, victim: Victim, case: Case) -> None:
    r = await client.get("/api/me", headers=bearer(case(victim)))
    assert_refused(r, BAD_TOKEN)


@pytest.mark.parametrize("headers", NOT_BEARER.values(), ids=NOT_BEARER.keys())
async def test_missing_bearer_credentials_are_refused(
    client: AsyncClient, headers: dict[str, str]
) -> None:
    assert_refused(await client.get("/api/me", headers=headers), NO_CREDENTIALS)


async def test_token_of_a_revoked_session_is_refused(client: AsyncClient, victim: Victim) -> None:
    assert (await client.post("/api/auth/logout", headers=bearer(victim.token))).status_code == 204

    assert_refused(await client.get("/api/me", headers=bearer(victim.token)), BAD_TOKEN)
    fresh = signed(claims(victim), victim.secret)
    assert_refused(await client.get("/api/me", headers=bearer(fresh)), BAD_TOKEN)
