"""Real OpenID Connect and LDAP servers for the single-sign-on tests, each a private instance on
free 127.0.0.1 ports with its whole configuration, state and log under a directory the test
owns; no mocks.

    with oidc_provider(tmp_path / "idp", users=USERS, clients=[CLIENT]) as idp:
        ...  # sign in at idp.issuer; idp.set_user("alice", groups=[]); idp.sign({...})
    with slapd(tmp_path / "ldap", ldif=DIRECTORY_LDIF, tls=True) as ldap:
        ...  # bind at ldap.url (StartTLS) or ldap.ldaps_url; ldap.modify(...); ldap.search(...)

The OpenID Provider is panva's oidc-provider (OpenID Certified) on Node, run by
tests/oidc_provider/provider.mjs: code flow with PKCE required, no consent page, a plain HTML
login form at /interaction/<uid> checked against a users file that is read again on every login,
ID tokens carrying email, name, groups, amr and acr. Its state (sessions, codes, grants) is in
memory, so `Idp.restart()` (e.g. to rotate the signing keys) ends every session. It needs
`npm --prefix api/tests/oidc_provider ci` (`make test` runs it).

The directory is Debian's slapd with an mdb database, the memberOf overlay (groupOfNames
`member` fills `memberOf`, kept in step on renames and deletes), users reading everything once
bound, anonymous binds only for authentication, and optionally TLS (StartTLS on the ldap://
port, and an ldaps:// port) with a throwaway CA. Both may run in several instances at once."""

from __future__ import annotations

import contextlib
import datetime
import ipaddress
import json
import os
import secrets
import shutil
import signal
import subprocess
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from joserfc import jwt
from joserfc.jwk import KeyParameters, KeySetSerialization, RSAKey

from tests.mailservers import HOST, MailServerError, _listening, _tail, _wait, free_port

OIDC_DIR = Path(__file__).resolve().parent / "oidc_provider"
NODE_BIN = shutil.which("node") or "/usr/bin/node"
SLAPD_BIN = "/usr/sbin/slapd"
SLAPPASSWD_BIN = "/usr/sbin/slappasswd"
LDAP_TOOLS = "/usr/bin"
# Every wait on a server is bounded by this; a timeout raises with the server's log tail.
STARTUP_TIMEOUT = 20.0
# How long a server gets to exit after SIGTERM before it is killed.
STOP_TIMEOUT = 5.0


class SsoServerError(MailServerError):
    """A server did not start, stop or answer in time; the message carries its log tail."""


def _terminate(process: subprocess.Popen[bytes], pid: int | None = None) -> None:
    """SIGTERM pid (the child's own by default), then SIGKILL the child after STOP_TIMEOUT."""
    if process.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid or process.pid, signal.SIGTERM)
        try:
            process.wait(STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(STOP_TIMEOUT)


# ------------------------------------------------------------------------------ OpenID Provider


def generate_rsa_jwk(kid: str | None = None) -> dict[str, Any]:
    """A fresh RSA-2048 private signing key as a JWK dict (kid, use sig, alg RS256)."""
    params: KeyParameters = {
        "kid": kid or f"test-{secrets.token_hex(4)}",
        "use": "sig",
        "alg": "RS256",
    }
    return RSAKey.generate_key(2048, parameters=params, private=True).as_dict(private=True)


@dataclass
class Idp:
    """A running OpenID Provider (see `oidc_provider()`). `keys` are its private signing keys
    (JWK dicts), the first one signs; `users` mirrors the users file."""

    issuer: str
    port: int
    keys: list[dict[str, Any]]
    users_file: Path
    root: Path
    clients: list[dict[str, Any]]
    users: dict[str, dict[str, Any]] = field(default_factory=dict)
    process: subprocess.Popen[bytes] | None = field(default=None, repr=False)
    _log_file: IO[bytes] | None = field(default=None, repr=False)

    @property
    def config_path(self) -> Path:
        return self.root / "provider.json"

    @property
    def log_path(self) -> Path:
        return self.root / "provider.log"

    @property
    def discovery_url(self) -> str:
        return f"{self.issuer}/.well-known/openid-configuration"

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def jwks(self) -> KeySetSerialization:
        """The public key set the provider serves (its jwks_uri document)."""
        return {"keys": [RSAKey.import_key(key).as_dict(private=False) for key in self.keys]}

    # -- users

    def write_users(self, users: dict[str, dict[str, Any]]) -> None:
        """Replace every user; the provider reads the file again on the next login or lookup."""
        self.users = {login: dict(fields) for login, fields in users.items()}
        scratch = self.users_file.with_suffix(".tmp")
        scratch.write_text(json.dumps(self.users, indent=2))
        scratch.replace(self.users_file)  # atomic: the provider never sees half a file

    def set_user(self, login: str, **fields: Any) -> None:
        """Add a user or change some of its fields (password, sub, email, email_verified,
        name, groups, amr, acr), e.g. `idp.set_user("alice", groups=["helpdesk-admins"])`."""
        self.write_users({**self.users, login: {**self.users.get(login, {}), **fields}})

    def remove_user(self, login: str) -> None:
        self.write_users({k: v for k, v in self.users.items() if k != login})

    # -- tokens

    def sign(
        self, claims: dict[str, Any], *, kid: str | None = None, key: dict[str, Any] | None = None
    ) -> str:
        """An RS256 JWS over exactly these claims (nothing is added: a test forges what it
        needs), signed with `key` (any private JWK), else the provider's key `kid`, else its
        first key; the header's kid is `kid` if given, else the signing key's."""
        if key is None:
            wanted = kid or self.keys[0]["kid"]
            found = [k for k in self.keys if k["kid"] == wanted]
            if not found:
                raise KeyError(f"the provider has no key {wanted!r}")
            key = found[0]
        header = {"alg": "RS256", "typ": "JWT", "kid": kid or key.get("kid")}
        return jwt.encode(header, claims, RSAKey.import_key(key), algorithms=["RS256"])

    # -- lifecycle

    def _write_config(self) -> None:
        acr_values = sorted({str(u["acr"]) for u in self.users.values() if u.get("acr")})
        config = {
            "issuer": self.issuer,
            "port": self.port,
            "clients": self.clients,
            "jwks": {"keys": self.keys},
            "cookie_keys": [secrets.token_urlsafe(32)],
            "acr_values": acr_values,
            "users_file": str(self.users_file),
        }
        self.config_path.write_text(json.dumps(config, indent=2))
        self.config_path.chmod(0o600)  # private keys

    def start(self) -> None:
        """Start node on self.port and wait for its READY line (bounded)."""
        self._write_config()
        offset = self.log_path.stat().st_size if self.log_path.exists() else 0
        self._log_file = self.log_path.open("ab")
        self.process = subprocess.Popen(
            [NODE_BIN, str(OIDC_DIR / "provider.mjs"), str(self.config_path)],
            cwd=OIDC_DIR,
            stdin=subprocess.DEVNULL,
            stdout=self._log_file,
            stderr=subprocess.STDOUT,
        )
        process = self.process
        ready_line = f"READY {self.issuer}".encode()

        def ready() -> bool:
            with self.log_path.open("rb") as log:
                log.seek(offset)
                if any(line.strip() == ready_line for line in log):
                    return True
            if process.poll() is not None:
                raise SsoServerError(
                    f"oidc-provider exited {process.returncode} on start; "
                    f"{self.log_path}:\n{_tail(self.log_path)}"
                )
            return False

        try:
            _wait(ready, "oidc-provider READY", self.log_path)
        except SsoServerError:
            self.stop()
            raise

    def stop(self) -> None:
        """SIGTERM node, SIGKILL after STOP_TIMEOUT; the port is free afterwards."""
        if self.process is not None:
            _terminate(self.process)
            self.process = None
        if self._log_file is not None:
            self._log_file.close()
            self._log_file = None

    def restart(self, *, keys: list[dict[str, Any]] | None = None) -> None:
        """Stop and start again on the same port and issuer, with `keys` as the new signing
        key set if given (a JWKS rotation: publish [new, old], later [new]). Sessions, codes
        and grants do not survive."""
        self.stop()
        if keys is not None:
            self.keys = [dict(k) for k in keys]
        self.start()


def _check_node_modules() -> None:
    if not (OIDC_DIR / "node_modules" / "oidc-provider").is_dir():
        raise SsoServerError(
            f"{OIDC_DIR}/node_modules is missing: run `npm --prefix api/tests/oidc_provider ci` "
            "in the repository (make test does it)"
        )


@contextmanager
def oidc_provider(
    root: Path,
    *,
    users: dict[str, dict[str, Any]],
    clients: list[dict[str, Any]],
    keys: list[dict[str, Any]] | None = None,
    port: int | None = None,
) -> Iterator[Idp]:
    """Start a private OpenID Provider under root (created) on a free 127.0.0.1 port; stopped
    afterwards.

    users: {login: {"password", "sub", "email", "email_verified", "name", "groups": [...],
    "amr": [...] (default ["pwd"]), "acr": optional}}. clients: oidc-provider client metadata,
    at least {"client_id", "client_secret", "redirect_uris": [...]} (code flow,
    client_secret_basic unless token_endpoint_auth_method says otherwise). keys: private RSA
    JWKs with a kid (see `generate_rsa_jwk()`); one is generated if not given."""
    _check_node_modules()
    root = root.resolve()
    root.mkdir(parents=True, exist_ok=True)
    keys = [dict(k) for k in keys] if keys else [generate_rsa_jwk()]
    for key in keys:
        if not key.get("kid") or "d" not in key:
            raise ValueError("every key must be a private JWK with a kid")
    chosen = port or free_port()
    idp = Idp(
        issuer=f"http://{HOST}:{chosen}",
        port=chosen,
        keys=keys,
        users_file=root / "users.json",
        root=root,
        clients=[dict(c) for c in clients],
    )
    idp.write_users(users)
    try:
        for attempt in range(3):
            try:
                idp.start()
                break
            except SsoServerError as error:
                if port is not None or attempt == 2 or "EADDRINUSE" not in str(error):
                    raise
                idp.port = free_port()
                idp.issuer = f"http://{HOST}:{idp.port}"
        yield idp
    finally:
        idp.stop()


# ------------------------------------------------------------------------------------- slapd

DIRECTORY_PASSWORDS: dict[str, str] = {
    "alice": "alice-pass-1",
    "bob": "bob-pass-1",
    "carol": "carol-pass-1",
    "dave": "dave-pass-1",
    "erin": "erin-pass-1",
    "frank": "frank-pass-1",
    "atum-svc": "atum-svc-pass-1",
}

# The dn of each entry DIRECTORY_PASSWORDS names, and the service account the app binds as.
DIRECTORY_DNS: dict[str, str] = {
    "alice": "uid=alice,ou=people,dc=example,dc=test",
    "bob": "uid=bob,ou=people,dc=example,dc=test",
    "carol": "uid=carol,ou=people,dc=example,dc=test",
    "dave": "uid=dave,ou=people,dc=example,dc=test",
    "erin": "uid=erin,ou=contractors,ou=people,dc=example,dc=test",
    "frank": "uid=frank,ou=people,dc=example,dc=test",
    "atum-svc": "cn=atum-svc,ou=services,dc=example,dc=test",
}
SERVICE_DN = DIRECTORY_DNS["atum-svc"]


def _person(
    uid: str, given: str, sn: str, *, ou: str = "ou=people", extra: Iterable[str] = ()
) -> str:
    lines = [
        f"dn: uid={uid},{ou},dc=example,dc=test",
        "objectClass: inetOrgPerson",
        f"uid: {uid}",
        f"cn: {given} {sn}",
        f"sn: {sn}",
        f"givenName: {given}",
        f"displayName: {given} {sn}",
        f"mail: {uid}@example.test",
        f"userPassword: {DIRECTORY_PASSWORDS[uid]}",
        *extra,
    ]
    return "\n".join(lines) + "\n"


def _group(cn: str, description: str, members: Iterable[str]) -> str:
    lines = [
        f"dn: cn={cn},ou=groups,dc=example,dc=test",
        "objectClass: groupOfNames",
        f"cn: {cn}",
        f"description: {description}",
        *(f"member: {DIRECTORY_DNS[m]}" for m in members),
    ]
    return "\n".join(lines) + "\n"


def _ou(dn: str, name: str) -> str:
    return f"dn: {dn}\nobjectClass: organizationalUnit\nou: {name}\n"


# A small realistic directory under dc=example,dc=test. alice (agent), bob (admin), carol
# (customer at Acme), dave (in no mapped group), erin (agent, in a nested OU), frank (agent, but
# disabled: employeeType "disabled"), and the service account atum-svc that the app binds as to
# search. Passwords in DIRECTORY_PASSWORDS; memberOf is filled by the overlay.
DIRECTORY_LDIF = "\n".join(
    [
        "dn: dc=example,dc=test\nobjectClass: dcObject\nobjectClass: organization\n"
        "dc: example\no: Example Test Ltd\n",
        _ou("ou=people,dc=example,dc=test", "people"),
        _ou("ou=contractors,ou=people,dc=example,dc=test", "contractors"),
        _ou("ou=groups,dc=example,dc=test", "groups"),
        _ou("ou=services,dc=example,dc=test", "services"),
        _person("alice", "Alice", "Agent", extra=["title: Support Agent", "employeeType: staff"]),
        _person("bob", "Bob", "Admin", extra=["title: Helpdesk Lead", "employeeType: staff"]),
        _person("carol", "Carol", "Customer", extra=["o: Acme", "employeeType: customer"]),
        _person("dave", "Dave", "Nobody", extra=["employeeType: staff"]),
        _person(
            "erin",
            "Erin",
            "Contractor",
            ou="ou=contractors,ou=people",
            extra=["title: Contract Agent", "employeeType: contractor"],
        ),
        _person("frank", "Frank", "Former", extra=["employeeType: disabled"]),
        "dn: cn=atum-svc,ou=services,dc=example,dc=test\nobjectClass: applicationProcess\n"
        "objectClass: simpleSecurityObject\ncn: atum-svc\n"
        "description: ATUM DESK directory search account\n"
        f"userPassword: {DIRECTORY_PASSWORDS['atum-svc']}\n",
        _group("helpdesk-agents", "Helpdesk agents", ["alice", "erin", "frank"]),
        _group("helpdesk-admins", "Helpdesk administrators", ["bob"]),
        _group("acme-customers", "Customers of Acme", ["carol"]),
    ]
)

_SLAPD_CONF = """\
# Written by tests/ssoservers.py: a private slapd on {urls}.
include /etc/ldap/schema/core.schema
include /etc/ldap/schema/cosine.schema
include /etc/ldap/schema/inetorgperson.schema
include /etc/ldap/schema/nis.schema
modulepath /usr/lib/ldap
moduleload back_mdb
moduleload memberof
pidfile {root}/slapd.pid
argsfile {root}/slapd.args
{tls}
database mdb
maxsize 67108864
suffix "{suffix}"
rootdn "{admin_dn}"
rootpw {rootpw}
directory {root}/data
index objectClass,uid,mail,member eq
access to attrs=userPassword
  by self write
  by anonymous auth
  by * none
access to *
  by users read
  by * none
overlay memberof
memberof-group-oc groupOfNames
memberof-member-ad member
memberof-memberof-ad memberOf
memberof-refint TRUE
"""

_TLS_CONF = """\
TLSCACertificateFile {root}/tls/ca.pem
TLSCertificateFile {root}/tls/server.pem
TLSCertificateKeyFile {root}/tls/server.key
"""


def _key_usage(*, ca: bool) -> x509.KeyUsage:
    """Signatures only; a CA also signs certificates and CRLs."""
    return x509.KeyUsage(
        digital_signature=True,
        content_commitment=False,
        key_encipherment=False,
        data_encipherment=False,
        key_agreement=False,
        key_cert_sign=ca,
        crl_sign=ca,
        encipher_only=False,
        decipher_only=False,
    )


def _make_tls(directory: Path) -> str:
    """A throwaway CA and a server certificate for 127.0.0.1 and localhost (P-256, a day long)
    in directory (ca.pem, server.pem, server.key); returns the CA's PEM."""
    directory.mkdir(parents=True, exist_ok=True)
    now = datetime.datetime.now(datetime.UTC) - datetime.timedelta(minutes=5)
    later = now + datetime.timedelta(days=1)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "ATUM DESK test LDAP CA")])
    ca = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now)
        .not_valid_after(later)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(_key_usage(ca=True), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), False)
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    server = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")]))
        .issuer_name(ca_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now)
        .not_valid_after(later)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address(HOST))]
            ),
            critical=False,
        )
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(_key_usage(ca=False), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), False
        )
        .sign(ca_key, hashes.SHA256())
    )
    ca_pem = ca.public_bytes(serialization.Encoding.PEM).decode()
    (directory / "ca.pem").write_text(ca_pem)
    (directory / "server.pem").write_bytes(server.public_bytes(serialization.Encoding.PEM))
    key_file = directory / "server.key"
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    key_file.chmod(0o600)
    return ca_pem


@dataclass
class Ldap:
    """A running private slapd (see `slapd()`). The helpers bind as the rootdn over plain
    ldap:// and raise SsoServerError (with the output and the log tail) when a tool fails."""

    url: str
    ldaps_url: str | None
    suffix: str
    admin_dn: str
    admin_password: str
    ca_pem: str | None
    root: Path
    port: int
    ldaps_port: int | None = None
    process: subprocess.Popen[bytes] | None = field(default=None, repr=False)
    _log_file: IO[bytes] | None = field(default=None, repr=False)

    @property
    def config(self) -> Path:
        return self.root / "slapd.conf"

    @property
    def log_path(self) -> Path:
        return self.root / "slapd.log"

    @property
    def ca_file(self) -> Path | None:
        """The CA certificate file (for LDAPTLS_CACERT), when TLS is on."""
        return self.root / "tls" / "ca.pem" if self.ca_pem is not None else None

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    # -- tools

    def _tool(
        self, name: str, args: list[str], *, stdin: str | None = None, ok: Iterable[int] = (0,)
    ) -> str:
        argv = [
            f"{LDAP_TOOLS}/{name}",
            "-x",
            "-H",
            self.url,
            "-D",
            self.admin_dn,
            "-w",
            self.admin_password,
            *args,
        ]
        # LDAPNOINIT: ignore /etc/ldap/ldap.conf and ~/.ldaprc, so only argv counts.
        done = subprocess.run(
            argv,
            input=stdin,
            capture_output=True,
            text=True,
            timeout=STARTUP_TIMEOUT,
            env={**os.environ, "LDAPNOINIT": "1"},
            check=False,
        )
        if done.returncode not in set(ok):
            raise SsoServerError(
                f"{name} {' '.join(args)} exited {done.returncode}\n{done.stderr}{done.stdout}\n"
                f"{self.log_path}:\n{_tail(self.log_path)}"
            )
        return done.stdout

    def add(self, ldif: str) -> None:
        """ldapadd the entries (all are tried; raises if any failed)."""
        self._tool("ldapadd", ["-c"], stdin=ldif)

    def modify(self, ldif: str) -> None:
        """ldapmodify with a changes LDIF (changetype: modify / add / delete / modrdn)."""
        self._tool("ldapmodify", [], stdin=ldif)

    def delete(self, dn: str) -> None:
        self._tool("ldapdelete", [dn])

    def search(
        self,
        filter: str = "(objectClass=*)",
        attrs: Iterable[str] = (),
        *,
        base: str | None = None,
        scope: str = "sub",
    ) -> str:
        """ldapsearch's LDIF (-LLL, unwrapped) for the filter under base (the suffix) as the
        rootdn; attrs as ldapsearch takes them (none: all user attributes; "+": operational,
        e.g. memberOf)."""
        return self._tool(
            "ldapsearch",
            ["-LLL", "-o", "ldif-wrap=no", "-b", base or self.suffix, "-s", scope, filter, *attrs],
        )

    def whoami(
        self, dn: str, password: str, *, url: str | None = None, starttls: bool = False
    ) -> subprocess.CompletedProcess[str]:
        """Run `ldapwhoami` as dn (over url, default self.url; -ZZ with starttls), trusting only
        this server's CA; returns the finished process (returncode 0: the bind worked, 49:
        invalid credentials)."""
        env = dict(os.environ)
        if self.ca_file is not None:
            env.update(LDAPTLS_CACERT=str(self.ca_file), LDAPTLS_REQCERT="demand")
        argv = [f"{LDAP_TOOLS}/ldapwhoami", "-x", "-H", url or self.url, "-D", dn, "-w", password]
        return subprocess.run(
            [*argv, *(["-ZZ"] if starttls else [])],
            capture_output=True,
            text=True,
            timeout=STARTUP_TIMEOUT,
            env=env,
            check=False,
        )

    # -- lifecycle

    def urls(self) -> str:
        ldaps = f" ldaps://{HOST}:{self.ldaps_port}/" if self.ldaps_port is not None else ""
        return f"ldap://{HOST}:{self.port}/{ldaps}"

    def start(self) -> None:
        """Start slapd in the foreground (-d stats: its log is the connection and operation
        trace) and wait until the rootdn can bind (bounded)."""
        offset = self.log_path.stat().st_size if self.log_path.exists() else 0
        self._log_file = self.log_path.open("ab")
        self.process = subprocess.Popen(
            [SLAPD_BIN, "-f", str(self.config), "-h", self.urls(), "-d", "stats"],
            stdin=subprocess.DEVNULL,
            stdout=self._log_file,
            stderr=subprocess.STDOUT,
        )
        process = self.process

        def ready() -> bool:
            if process.poll() is not None:
                with self.log_path.open("rb") as log:
                    log.seek(offset)
                    text = log.read().decode(errors="replace")
                raise SsoServerError(
                    f"slapd exited {process.returncode} on start; {self.log_path}:\n"
                    + "\n".join(text.splitlines()[-40:])
                )
            ports = [self.port] + ([self.ldaps_port] if self.ldaps_port else [])
            if not all(_listening(p) for p in ports):
                return False
            argv = ["-x", "-H", self.url, "-D", self.admin_dn, "-w", self.admin_password]
            done = subprocess.run(
                [f"{LDAP_TOOLS}/ldapwhoami", *argv],
                capture_output=True,
                timeout=STARTUP_TIMEOUT,
                env={**os.environ, "LDAPNOINIT": "1"},
                check=False,
            )
            return done.returncode == 0

        try:
            _wait(ready, "slapd rootdn bind", self.log_path)
        except SsoServerError:
            self.stop()
            raise

    def stop(self) -> None:
        """SIGTERM the pid in slapd.pid (our foreground child), SIGKILL after STOP_TIMEOUT."""
        if self.process is not None:
            pid_file = self.root / "slapd.pid"
            try:
                pid: int | None = int(pid_file.read_text().strip())
            except (FileNotFoundError, ValueError):
                pid = None
            _terminate(self.process, pid if pid == self.process.pid else None)
            self.process = None
        if self._log_file is not None:
            self._log_file.close()
            self._log_file = None


def _slappasswd(secret: str) -> str:
    done = subprocess.run(
        [SLAPPASSWD_BIN, "-s", secret],
        capture_output=True,
        text=True,
        timeout=STARTUP_TIMEOUT,
        check=True,
    )
    return done.stdout.strip()


@contextmanager
def slapd(
    root: Path,
    *,
    suffix: str = "dc=example,dc=test",
    ldif: str,
    tls: bool = False,
    admin_password: str | None = None,
) -> Iterator[Ldap]:
    """Start a private slapd under root (created) on free 127.0.0.1 ports with the entries of
    `ldif` loaded (base entry first; e.g. DIRECTORY_LDIF); stopped afterwards. rootdn is
    cn=admin,<suffix>. With tls, ldap:// offers StartTLS and an ldaps:// port listens too, both
    with a certificate for 127.0.0.1/localhost from a throwaway CA (`Ldap.ca_pem`)."""
    root = root.resolve()
    (root / "data").mkdir(parents=True, exist_ok=True)
    password = admin_password or secrets.token_urlsafe(12)
    ca_pem = _make_tls(root / "tls") if tls else None
    server = Ldap(
        url="",
        ldaps_url=None,
        suffix=suffix,
        admin_dn=f"cn=admin,{suffix}",
        admin_password=password,
        ca_pem=ca_pem,
        root=root,
        port=0,
    )
    rootpw = _slappasswd(password)
    try:
        for attempt in range(3):
            server.port = free_port()
            server.ldaps_port = free_port() if tls else None
            server.url = f"ldap://{HOST}:{server.port}"
            server.ldaps_url = f"ldaps://{HOST}:{server.ldaps_port}" if tls else None
            server.config.write_text(
                _SLAPD_CONF.format(
                    urls=server.urls(),
                    root=root,
                    suffix=suffix,
                    admin_dn=server.admin_dn,
                    rootpw=rootpw,
                    tls=_TLS_CONF.format(root=root) if tls else "",
                )
            )
            try:
                server.start()
                break
            except SsoServerError as error:
                if attempt == 2 or "Address already in use" not in str(error):
                    raise
        server.add(ldif)
        yield server
    finally:
        server.stop()
