"""The single-sign-on test servers of tests/ssoservers.py work: a real slapd loads the sample
directory, its memberOf overlay fills (and on deletes prunes) memberOf, user binds succeed and
wrong passwords fail, StartTLS and ldaps verify against the throwaway CA only; a real OpenID
Provider serves discovery and its JWKS, signs a user in through its login form in a PKCE code
flow (refusing one without PKCE), puts email, name, groups and amr into the ID token, sees a
user's new groups on the next sign-in, and rotates its keys on restart."""

from __future__ import annotations

import base64
import hashlib
import os
import secrets
import subprocess
import time
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urljoin, urlsplit

import httpx
from joserfc import jwt
from joserfc.jwk import KeySet

from tests.ssoservers import (
    DIRECTORY_DNS,
    DIRECTORY_LDIF,
    DIRECTORY_PASSWORDS,
    SERVICE_DN,
    Idp,
    generate_rsa_jwk,
    oidc_provider,
    slapd,
)

CLIENT: dict[str, Any] = {
    "client_id": "atum-desk",
    "client_secret": "desk-client-secret-0123456789",
    "redirect_uris": ["http://127.0.0.1:9/auth/oidc/callback"],
}
REDIRECT_URI: str = CLIENT["redirect_uris"][0]
USERS: dict[str, dict[str, Any]] = {
    "alice": {
        "password": "alice-idp-pass",
        "sub": "sub-alice-0001",
        "email": "alice@example.test",
        "email_verified": True,
        "name": "Alice Agent",
        "groups": ["helpdesk-agents"],
        "amr": ["pwd", "otp"],
    },
}


# ------------------------------------------------------------------------------------- slapd


def test_slapd_directory_member_of_and_binds(tmp_path: Path) -> None:
    started = time.monotonic()
    with slapd(tmp_path / "ldap", ldif=DIRECTORY_LDIF) as ldap:
        assert time.monotonic() - started < 10
        agents = "cn=helpdesk-agents,ou=groups,dc=example,dc=test"
        assert f"memberOf: {agents}" in ldap.search("(uid=alice)", ["memberOf"])
        assert f"memberOf: {agents}" in ldap.search("(uid=erin)", ["memberOf"])
        assert "memberOf:" not in ldap.search("(uid=dave)", ["memberOf"])

        alice = DIRECTORY_DNS["alice"]
        bound = ldap.whoami(alice, DIRECTORY_PASSWORDS["alice"])
        assert bound.returncode == 0, bound.stderr
        assert bound.stdout.strip() == f"dn:{alice}"
        wrong = ldap.whoami(alice, "not-alice's-password")
        assert wrong.returncode == 49, wrong.stdout + wrong.stderr
        assert "Invalid credentials" in wrong.stderr

        # The service account can search (users read everything); anonymous sees nothing.
        argv = ["ldapsearch", "-x", "-LLL", "-H", ldap.url, "-b", ldap.suffix, "(uid=carol)"]
        found = subprocess.run(
            [*argv[:2], "-D", SERVICE_DN, "-w", DIRECTORY_PASSWORDS["atum-svc"], *argv[2:]],
            capture_output=True,
            text=True,
            timeout=20,
            check=True,
        ).stdout
        assert "mail: carol@example.test" in found
        assert "o: Acme" in found
        assert "userPassword" not in found
        anonymous = subprocess.run(argv, capture_output=True, text=True, timeout=20, check=False)
        assert "carol" not in anonymous.stdout

        # memberof-refint: deleting a member takes it out of its groups.
        ldap.delete(DIRECTORY_DNS["frank"])
        assert "frank" not in ldap.search("(cn=helpdesk-agents)", ["member"])


def test_slapd_tls_starttls_and_ldaps_trust_only_its_ca(tmp_path: Path) -> None:
    with slapd(tmp_path / "ldap", ldif=DIRECTORY_LDIF, tls=True) as ldap:
        assert ldap.ca_pem is not None and ldap.ca_pem.startswith("-----BEGIN CERTIFICATE-----")
        assert ldap.ca_file is not None and ldap.ldaps_url is not None
        dn, password = DIRECTORY_DNS["bob"], DIRECTORY_PASSWORDS["bob"]
        argv = ["ldapwhoami", "-x", "-ZZ", "-H", ldap.url, "-D", dn, "-w", password]
        trusted = subprocess.run(
            argv,
            capture_output=True,
            text=True,
            timeout=20,
            env={**os.environ, "LDAPTLS_CACERT": str(ldap.ca_file), "LDAPTLS_REQCERT": "demand"},
            check=False,
        )
        assert trusted.returncode == 0, trusted.stderr
        assert trusted.stdout.strip() == f"dn:{dn}"
        untrusted = subprocess.run(
            argv,
            capture_output=True,
            text=True,
            timeout=20,
            env={
                **os.environ,
                "LDAPTLS_CACERT": "/etc/ssl/certs/ca-certificates.crt",
                "LDAPTLS_REQCERT": "demand",
            },
            check=False,
        )
        assert untrusted.returncode != 0
        over_ldaps = ldap.whoami(dn, password, url=ldap.ldaps_url)
        assert over_ldaps.returncode == 0, over_ldaps.stderr


# ------------------------------------------------------------------------------ OpenID Provider


def _pkce() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(48)
    digest = hashlib.sha256(verifier.encode()).digest()
    return verifier, base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def _follow(client: httpx.Client, response: httpx.Response, issuer: str) -> httpx.Response:
    """Follow redirects while they stay on the provider; return the first response that
    does not (a page, or the redirect to the client)."""
    for _ in range(10):
        location = response.headers.get("location")
        if not response.is_redirect or location is None:
            return response
        target = urljoin(str(response.url), location)
        if not target.startswith(issuer + "/"):
            return response
        response = client.get(target)
    raise AssertionError("redirect loop at the provider")


def _authorize(
    client: httpx.Client, idp: Idp, *, pkce: bool = True
) -> tuple[httpx.Response, dict[str, str]]:
    verifier, challenge = _pkce()
    params = {
        "response_type": "code",
        "client_id": CLIENT["client_id"],
        "redirect_uri": REDIRECT_URI,
        "scope": "openid email profile groups",
        "state": secrets.token_urlsafe(16),
        "nonce": secrets.token_urlsafe(16),
        **({"code_challenge": challenge, "code_challenge_method": "S256"} if pkce else {}),
    }
    response = client.get(f"{idp.issuer}/auth", params=params)
    return _follow(client, response, idp.issuer), {**params, "code_verifier": verifier}


def _callback_query(response: httpx.Response) -> dict[str, str]:
    assert response.status_code in (302, 303), response.text
    location = response.headers["location"]
    assert location.startswith(REDIRECT_URI + "?"), location
    return {k: v[0] for k, v in parse_qs(urlsplit(location).query).items()}


def _id_token(client: httpx.Client, idp: Idp, code: str, request: dict[str, str]) -> Any:
    token_endpoint = client.get(idp.discovery_url).json()["token_endpoint"]
    tokens = client.post(
        token_endpoint,
        auth=(CLIENT["client_id"], CLIENT["client_secret"]),
        data={
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": REDIRECT_URI,
            "code_verifier": request["code_verifier"],
        },
    )
    assert tokens.status_code == 200, tokens.text
    keys = KeySet.import_key_set(client.get(f"{idp.issuer}/jwks").json())
    return jwt.decode(tokens.json()["id_token"], keys, algorithms=["RS256"])


def test_oidc_provider_code_flow_with_pkce(tmp_path: Path) -> None:
    started = time.monotonic()
    with (
        oidc_provider(tmp_path / "idp", users=USERS, clients=[CLIENT]) as idp,
        httpx.Client(timeout=10) as client,
    ):
        assert time.monotonic() - started < 20
        discovery = client.get(idp.discovery_url)
        assert discovery.status_code == 200
        assert discovery.json()["issuer"] == idp.issuer
        assert "S256" in discovery.json()["code_challenge_methods_supported"]
        jwks = client.get(discovery.json()["jwks_uri"]).json()
        assert [k["kid"] for k in jwks["keys"]] == [idp.keys[0]["kid"]]
        assert all("d" not in k for k in jwks["keys"])

        form, request = _authorize(client, idp)
        assert form.status_code == 200
        assert urlsplit(str(form.url)).path.startswith("/interaction/")
        for needed in ('name="login"', 'name="password"', "<label", "Sign in"):
            assert needed in form.text
        wrong = client.post(form.url, data={"login": "alice", "password": "nope"})
        assert wrong.status_code == 200
        assert "Invalid login" in wrong.text
        done = client.post(form.url, data={"login": "alice", "password": "alice-idp-pass"})
        query = _callback_query(_follow(client, done, idp.issuer))
        assert query["state"] == request["state"]
        assert query["code"]

        token = _id_token(client, idp, query["code"], request)
        claims = token.claims
        assert token.header["kid"] == idp.keys[0]["kid"]
        assert claims["iss"] == idp.issuer and claims["aud"] == CLIENT["client_id"]
        assert claims["sub"] == "sub-alice-0001"
        assert claims["nonce"] == request["nonce"]
        assert claims["email"] == "alice@example.test" and claims["email_verified"] is True
        assert claims["name"] == "Alice Agent"
        assert claims["groups"] == ["helpdesk-agents"]
        assert claims["amr"] == ["pwd", "otp"]

        # The users file is read again on every lookup: new groups show in the next ID token
        # (the session is still there, so no login form this time).
        idp.set_user("alice", groups=["helpdesk-admins"])
        again, request = _authorize(client, idp)
        query = _callback_query(again)
        assert _id_token(client, idp, query["code"], request).claims["groups"] == [
            "helpdesk-admins"
        ]

        # A client that skips PKCE is refused.
        refused, _ = _authorize(client, idp, pkce=False)
        assert _callback_query(refused)["error"] == "invalid_request"


def test_oidc_provider_key_rotation_and_test_signing(tmp_path: Path) -> None:
    old = generate_rsa_jwk("key-2025")
    with (
        oidc_provider(tmp_path / "idp", users=USERS, clients=[CLIENT], keys=[old]) as idp,
        httpx.Client(timeout=10) as client,
    ):
        forged = idp.sign({"iss": idp.issuer, "sub": "x", "aud": CLIENT["client_id"]})
        served = KeySet.import_key_set(client.get(f"{idp.issuer}/jwks").json())
        assert jwt.decode(forged, served).header["kid"] == "key-2025"

        new = generate_rsa_jwk("key-2026")
        port = idp.port
        idp.restart(keys=[new, old])
        assert idp.port == port
        kids = [k["kid"] for k in client.get(f"{idp.issuer}/jwks").json()["keys"]]
        assert kids == ["key-2026", "key-2025"]
        published = KeySet.import_key_set(idp.jwks())
        assert jwt.decode(idp.sign({"sub": "y"}), published).header["kid"] == "key-2026"
        with_old = jwt.decode(idp.sign({"sub": "y"}, kid="key-2025"), published)
        assert with_old.header["kid"] == "key-2025" and with_old.claims == {"sub": "y"}
