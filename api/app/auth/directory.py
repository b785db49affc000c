"""LDAP directories behind a small adapter (``Directory``), so the library (ldap3 today) can be
swapped without touching the sign-in rules in services/sso.py.

Every connection is encrypted (ldaps://, or StartTLS on ldap://) and the server's certificate
checked, unless the administrator explicitly allowed plain LDAP. The typed username only ever
enters a filter escaped (RFC 4515), an empty password is refused before any bind (an LDAP
"unauthenticated bind" would succeed), and the user's own bind proves the password. ldap3 is
blocking: callers run these methods in a thread.
"""

from __future__ import annotations

import math
import ssl
import uuid
from dataclasses import dataclass, field
from typing import Any, Protocol

from ldap3 import BASE, NONE, SUBTREE, Connection, Server, Tls
from ldap3.core.exceptions import LDAPException
from ldap3.utils.conv import escape_filter_chars
from ldap3.utils.dn import parse_dn

from app.schemas.sso import LdapSettings


class DirectoryError(Exception):
    """The directory could not be reached or refused the service account."""


@dataclass(frozen=True, slots=True)
class DirectoryUser:
    dn: str
    subject: str
    email: str | None
    name: str | None
    # Group DNs and their names (the first RDN's value), as mappings may name either.
    groups: list[str] = field(default_factory=list)
    disabled: bool = False


class Directory(Protocol):
    def authenticate(self, username: str, password: str) -> DirectoryUser | None: ...

    def all_users(self) -> list[DirectoryUser]: ...

    def check(self) -> str: ...


def _first(attributes: dict[str, Any], name: str) -> Any:
    value = attributes.get(name)
    if isinstance(value, list):
        return value[0] if value else None
    return value


def _text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, bytes):
        if len(value) == 16:  # objectGUID (little-endian GUID)
            return str(uuid.UUID(bytes_le=value))
        return value.decode("utf-8", errors="replace")
    return str(value)


def group_names(dns: list[str]) -> list[str]:
    names: list[str] = []
    for dn in dns:
        names.append(dn)
        try:
            first = parse_dn(dn)[0]
        except (LDAPException, IndexError, ValueError):
            continue
        names.append(str(first[1]))
    return names


class Ldap3Directory:
    def __init__(self, settings: LdapSettings, bind_password: str | None) -> None:
        self.settings = settings
        self.bind_password = bind_password or ""
        # ldap3 packs the receive timeout as an integer (whole seconds).
        self.timeout = max(1, math.ceil(settings.timeout_seconds))
        tls = None
        if settings.url.startswith("ldaps://") or settings.starttls:
            tls = Tls(
                validate=ssl.CERT_REQUIRED,
                version=ssl.PROTOCOL_TLS_CLIENT,
                ca_certs_data=settings.ca_pem or None,
            )
        self.server = Server(
            settings.url.rstrip("/"),
            use_ssl=settings.url.startswith("ldaps://"),
            tls=tls,
            get_info=NONE,
            connect_timeout=self.timeout,
        )

    def _connect(self, dn: str, password: str) -> Connection | None:
        """A bound connection, or None when the directory refused the credentials."""
        conn = Connection(
            self.server,
            user=dn,
            password=password,
            receive_timeout=self.timeout,
            read_only=True,
            raise_exceptions=False,
            auto_referrals=False,
        )
        try:
            conn.open()
            starttls = self.settings.url.startswith("ldap://") and self.settings.starttls
            if starttls and not conn.start_tls():
                raise DirectoryError("StartTLS failed")
            if not conn.bind():
                conn.unbind()
                return None
        except LDAPException as exc:
            raise DirectoryError(f"The directory could not be reached ({exc})") from exc
        return conn

    def _service(self) -> Connection:
        conn = self._connect(self.settings.bind_dn, self.bind_password)
        if conn is None:
            raise DirectoryError("The directory refused the service account's bind")
        return conn

    def _attributes(self) -> list[str]:
        s = self.settings
        wanted = [s.login_attribute, s.email_attribute, s.name_attribute, s.id_attribute]
        if s.group_mode == "memberof":
            wanted.append("memberOf")
        return wanted

    def _user(self, conn: Connection, entry: dict[str, Any], disabled: bool) -> DirectoryUser:
        s = self.settings
        attrs = entry.get("attributes") or {}
        raw = entry.get("raw_attributes") or {}
        subject = _text(_first(raw, s.id_attribute)) if s.id_attribute == "objectGUID" else None
        subject = subject or _text(_first(attrs, s.id_attribute)) or str(entry["dn"])
        if s.group_mode == "memberof":
            member_of = attrs.get("memberOf") or []
            dns = [str(g) for g in (member_of if isinstance(member_of, list) else [member_of])]
        else:
            dns = self._group_search(conn, str(entry["dn"]))
        email = _text(_first(attrs, s.email_attribute))
        return DirectoryUser(
            dn=str(entry["dn"]),
            subject=subject,
            email=email.strip().lower() if email else None,
            name=_text(_first(attrs, s.name_attribute)),
            groups=group_names(dns),
            disabled=disabled,
        )

    def _group_search(self, conn: Connection, dn: str) -> list[str]:
        s = self.settings
        flt = s.group_filter.replace("{dn}", escape_filter_chars(dn))
        conn.search(s.group_base or "", flt, SUBTREE, attributes=[], size_limit=1000)
        return [str(e["dn"]) for e in conn.response or [] if e.get("type") == "searchResEntry"]

    def _is_disabled(self, conn: Connection, dn: str) -> bool:
        if not self.settings.disabled_filter:
            return False
        conn.search(dn, self.settings.disabled_filter, BASE, attributes=[])
        return any(e.get("type") == "searchResEntry" for e in conn.response or [])

    def authenticate(self, username: str, password: str) -> DirectoryUser | None:
        """The user, once their own bind proved *password*; None for an unknown or ambiguous
        name or a wrong password. A disabled entry is returned (``disabled``) only after its
        password was proven, so the answer tells nothing to a guesser."""
        if not password or not username:
            return None
        s = self.settings
        conn = self._service()
        try:
            flt = f"(&{s.user_filter}({s.login_attribute}={escape_filter_chars(username)}))"
            conn.search(s.user_base, flt, SUBTREE, attributes=self._attributes(), size_limit=2)
            entries = [e for e in conn.response or [] if e.get("type") == "searchResEntry"]
            if len(entries) != 1:
                return None
            dn = str(entries[0]["dn"])
            own = self._connect(dn, password)
            if own is None:
                return None
            own.unbind()
            return self._user(conn, entries[0], self._is_disabled(conn, dn))
        finally:
            conn.unbind()

    def all_users(self) -> list[DirectoryUser]:
        """Every user under the base that the filter admits (paged)."""
        s = self.settings
        conn = self._service()
        try:
            disabled: set[str] = set()
            if s.disabled_filter:
                for entry in conn.extend.standard.paged_search(
                    s.user_base,
                    f"(&{s.user_filter}{s.disabled_filter})",
                    SUBTREE,
                    attributes=[],
                    paged_size=500,
                    generator=True,
                ):
                    if entry.get("type") == "searchResEntry":
                        disabled.add(str(entry["dn"]).lower())
            users = []
            for entry in conn.extend.standard.paged_search(
                s.user_base,
                s.user_filter,
                SUBTREE,
                attributes=self._attributes(),
                paged_size=500,
                generator=True,
            ):
                if entry.get("type") == "searchResEntry":
                    users.append(self._user(conn, entry, str(entry["dn"]).lower() in disabled))
            if conn.result and conn.result.get("result") not in (0, None):
                raise DirectoryError(f"The search failed: {conn.result.get('description')}")
            return users
        except LDAPException as exc:
            raise DirectoryError(f"The search failed ({exc})") from exc
        finally:
            conn.unbind()

    def check(self) -> str:
        """The service account binds and searches: a sentence for the admin page."""
        s = self.settings
        conn = self._service()
        try:
            conn.search(s.user_base, s.user_filter, SUBTREE, attributes=[], size_limit=1000)
            count = sum(1 for e in conn.response or [] if e.get("type") == "searchResEntry")
            return f"Connected; the service account sees {count} user(s) under {s.user_base}"
        finally:
            conn.unbind()


def directory(settings: LdapSettings, bind_password: str | None) -> Directory:
    return Ldap3Directory(settings, bind_password)
