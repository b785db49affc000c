"""OpenID Connect relying party (the protocol; services/sso.py decides who signs in).

Discovery (cached an hour per process), the authorization request (code flow with PKCE S256,
``state`` and ``nonce``), the code exchange (Authlib's OAuth 2 client), and the ID token's checks
(joserfc): a signature by a key of the provider's JWKS (fetched again once when a key id is
unknown: the provider rotated its keys), an asymmetric algorithm only, the exact issuer, our
client id among the audiences (and as ``azp`` when there are several), not expired, the nonce of
this sign-in (ASVS 6.8.2, 10.1.2, 10.2.1, 10.5.1-10.5.4). Every call to the provider has a 5 s
timeout; a provider that cannot be reached is ``provider_unavailable``.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import httpx2
from authlib.common.errors import AuthlibBaseError
from authlib.integrations.httpx_client import AsyncOAuth2Client
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet
from joserfc.jws import extract_compact
from joserfc.jwt import JWTClaimsRegistry

HTTP_TIMEOUT = 5.0
DISCOVERY_TTL_SECONDS = 3600
# Clock difference tolerated on exp/iat (seconds).
LEEWAY_SECONDS = 60
# Never "none" nor a shared-secret (HS*) algorithm: a client secret is not a signing key here.
ALGORITHMS = frozenset(
    {"RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA"}
)


class OidcError(Exception):
    """A sign-in through the provider failed; ``code`` is shown on the sign-in page."""

    def __init__(self, code: str, detail: str) -> None:
        super().__init__(detail)
        self.code = code
        self.detail = detail


@dataclass(frozen=True, slots=True)
class Metadata:
    issuer: str
    authorization_endpoint: str
    token_endpoint: str
    jwks_uri: str
    algorithms: frozenset[str]


_discovered: dict[str, tuple[float, Metadata]] = {}
_keys: dict[str, KeySet] = {}


def forget(issuer: str | None = None) -> None:
    """Drop what was cached of one provider (its settings changed), or of all."""
    if issuer is None:
        _discovered.clear()
        _keys.clear()
        return
    cached = _discovered.pop(issuer, None)
    if cached is not None:
        _keys.pop(cached[1].jwks_uri, None)


async def _get_json(url: str) -> dict[str, Any]:
    try:
        async with httpx2.AsyncClient(timeout=HTTP_TIMEOUT, follow_redirects=False) as client:
            response = await client.get(url, headers={"Accept": "application/json"})
    except httpx2.HTTPError as exc:
        raise OidcError(
            "provider_unavailable", f"The provider could not be reached ({type(exc).__name__})"
        ) from exc
    if response.status_code != 200:
        raise OidcError(
            "provider_unavailable", f"The provider answered {response.status_code} for {url}"
        )
    try:
        data = response.json()
    except ValueError as exc:
        raise OidcError("provider_misconfigured", f"{url} is not JSON") from exc
    if not isinstance(data, dict):
        raise OidcError("provider_misconfigured", f"{url} is not a JSON object")
    return data


async def discover(issuer: str, *, fresh: bool = False) -> Metadata:
    """The provider's endpoints from ``<issuer>/.well-known/openid-configuration``; its issuer
    must be exactly the configured one (a provider cannot speak for another)."""
    cached = _discovered.get(issuer)
    if cached is not None and not fresh and time.monotonic() - cached[0] < DISCOVERY_TTL_SECONDS:
        return cached[1]
    doc = await _get_json(issuer.rstrip("/") + "/.well-known/openid-configuration")
    if doc.get("issuer") != issuer:
        raise OidcError(
            "provider_misconfigured",
            f"The provider calls itself {str(doc.get('issuer'))[:200]!r}, not {issuer!r}",
        )
    try:
        algorithms = frozenset(doc.get("id_token_signing_alg_values_supported") or ["RS256"])
        meta = Metadata(
            issuer=issuer,
            authorization_endpoint=str(doc["authorization_endpoint"]),
            token_endpoint=str(doc["token_endpoint"]),
            jwks_uri=str(doc["jwks_uri"]),
            algorithms=algorithms & ALGORITHMS,
        )
    except KeyError as exc:
        raise OidcError("provider_misconfigured", f"The discovery document lacks {exc}") from exc
    if not meta.algorithms:
        raise OidcError("provider_misconfigured", "The provider signs with no accepted algorithm")
    _discovered[issuer] = (time.monotonic(), meta)
    return meta


def authorization_url(
    meta: Metadata,
    *,
    client_id: str,
    scopes: list[str],
    redirect_uri: str,
    state: str,
    nonce: str,
    code_verifier: str,
    acr_values: str | None,
) -> str:
    client = AsyncOAuth2Client(
        client_id=client_id,
        scope=" ".join(scopes),
        redirect_uri=redirect_uri,
        code_challenge_method="S256",
    )
    extra = {"nonce": nonce}
    if acr_values:
        extra["acr_values"] = acr_values
    url, _ = client.create_authorization_url(
        meta.authorization_endpoint, state=state, code_verifier=code_verifier, **extra
    )
    return str(url)


async def exchange_code(
    meta: Metadata,
    *,
    client_id: str,
    client_secret: str | None,
    auth_method: str,
    redirect_uri: str,
    code: str,
    code_verifier: str,
) -> str:
    """The ID token the provider gives for *code* (one use; the provider refuses a replay)."""
    try:
        async with AsyncOAuth2Client(
            client_id=client_id,
            client_secret=client_secret,
            token_endpoint_auth_method=auth_method,
            redirect_uri=redirect_uri,
            timeout=HTTP_TIMEOUT,
        ) as client:
            token = await client.fetch_token(
                meta.token_endpoint,
                grant_type="authorization_code",
                code=code,
                code_verifier=code_verifier,
            )
    except httpx2.HTTPError as exc:
        raise OidcError(
            "provider_unavailable", f"The provider could not be reached ({type(exc).__name__})"
        ) from exc
    except AuthlibBaseError as exc:
        raise OidcError(
            "token_refused", f"The provider refused the code: {exc.error or 'error'}"
        ) from exc
    except ValueError as exc:  # a token answer that is not JSON
        raise OidcError("token_refused", "The provider's token answer was not understood") from exc
    id_token = token.get("id_token") if isinstance(token, dict) else None
    if not isinstance(id_token, str):
        raise OidcError("token_refused", "The provider sent no ID token")
    return id_token


async def _keyset(jwks_uri: str, *, fresh: bool) -> KeySet:
    keys = _keys.get(jwks_uri)
    if keys is None or fresh:
        data = await _get_json(jwks_uri)
        try:
            keys = KeySet.import_key_set(data)  # type: ignore[arg-type]
        except (JoseError, ValueError, TypeError, KeyError) as exc:
            raise OidcError("provider_misconfigured", "The provider's key set is invalid") from exc
        _keys[jwks_uri] = keys
    return keys


async def _verified(
    meta: Metadata,
    token: str,
    *,
    client_id: str,
    moment: int,
    code: str,
    what: str,
    **required: Any,
) -> dict[str, Any]:
    """The claims of a JWT from the provider once these hold: an accepted algorithm, a key of
    the provider's key set (fetched again once when the key id is unknown: the provider rotated
    its keys), a valid signature, the exact issuer, our client id among the audiences, and the
    *required* claims (joserfc claim options)."""
    try:
        header = extract_compact(token.encode()).protected
    except (JoseError, ValueError) as exc:
        raise OidcError(code, f"The {what} is not a signed JWT") from exc
    kid, alg = header.get("kid"), str(header.get("alg"))
    if alg not in meta.algorithms:
        raise OidcError(code, f"The {what} is signed with {alg[:20]}")
    keys = await _keyset(meta.jwks_uri, fresh=False)
    if kid is not None and kid not in {k.kid for k in keys.keys}:
        keys = await _keyset(meta.jwks_uri, fresh=True)
        if kid not in {k.kid for k in keys.keys}:
            raise OidcError(code, f"The {what} is signed by an unknown key")
    try:
        claims = dict(jwt.decode(token, keys, algorithms=sorted(meta.algorithms)).claims)
    except (JoseError, ValueError) as exc:
        raise OidcError(code, f"The {what}'s signature is not valid") from exc
    try:
        JWTClaimsRegistry(
            now=moment,
            leeway=LEEWAY_SECONDS,
            iss={"essential": True, "value": meta.issuer},
            aud={"essential": True, "value": client_id},
            iat={"essential": True},
            **required,
        ).validate(claims)
    except JoseError as exc:
        raise OidcError(code, f"The {what} was refused: {exc}") from exc
    return claims


async def verify_id_token(
    meta: Metadata, *, client_id: str, id_token: str, nonce: str, now: float | None = None
) -> dict[str, Any]:
    """The ID token's claims once every check passed (``OidcError`` otherwise)."""
    moment = int(now if now is not None else time.time())
    claims = await _verified(
        meta,
        id_token,
        client_id=client_id,
        moment=moment,
        code="id_token_invalid",
        what="ID token",
        sub={"essential": True},
        exp={"essential": True},
        nonce={"essential": True, "value": nonce},
    )
    audiences = claims["aud"] if isinstance(claims["aud"], list) else [claims["aud"]]
    if len(audiences) > 1 and claims.get("azp") != client_id:
        raise OidcError("id_token_invalid", "The ID token was issued to another party (azp)")
    if int(claims["iat"]) > moment + LEEWAY_SECONDS:
        raise OidcError("id_token_invalid", "The ID token was issued in the future")
    if not isinstance(claims["sub"], str) or not claims["sub"] or len(claims["sub"]) > 255:
        raise OidcError("id_token_invalid", "The ID token's subject is not usable")
    return claims


BACKCHANNEL_EVENT = "http://schemas.openid.net/event/backchannel-logout"
# How old a back-channel logout token may be (seconds).
LOGOUT_TOKEN_MAX_AGE = 600


async def verify_logout_token(
    meta: Metadata, *, client_id: str, logout_token: str, now: float | None = None
) -> dict[str, Any]:
    """A back-channel logout token's claims once its checks passed: signed by the provider,
    exact issuer, our audience, recent, the logout event, a ``sub`` or ``sid``, and no nonce
    (so an ID token cannot be passed off as one)."""
    moment = int(now if now is not None else time.time())
    claims = await _verified(
        meta,
        logout_token,
        client_id=client_id,
        moment=moment,
        code="logout_token_invalid",
        what="logout token",
        jti={"essential": True},
    )
    events = claims.get("events")
    if not isinstance(events, dict) or not isinstance(events.get(BACKCHANNEL_EVENT), dict):
        raise OidcError("logout_token_invalid", "The token is not a logout token")
    if "nonce" in claims:
        raise OidcError("logout_token_invalid", "A logout token carries no nonce")
    if not isinstance(claims.get("sub"), str) and not isinstance(claims.get("sid"), str):
        raise OidcError("logout_token_invalid", "The logout token names no user or session")
    if int(claims["iat"]) < moment - LOGOUT_TOKEN_MAX_AGE:
        raise OidcError("logout_token_invalid", "The logout token is too old")
    return claims


def claim(claims: dict[str, Any], name: str) -> Any:
    """A claim by name; a dotted name reads a nested one (Keycloak's realm_access.roles)."""
    value: Any = claims
    for part in name.split("."):
        if not isinstance(value, dict) or part not in value:
            return None
        value = value[part]
    return value


def groups_of(claims: dict[str, Any], name: str) -> list[str]:
    value = claim(claims, name)
    if isinstance(value, str):
        return [value]
    if isinstance(value, list):
        return [str(v) for v in value if isinstance(v, str | int)][:500]
    return []
