"""Single sign-on: identity providers (admin), the sign-in policy, and the sign-in requests that
go through a provider. A provider's secret is write-only: answers say only whether one is set."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit

from pydantic import Field, StringConstraints, field_validator, model_validator

from app.models.enums import CUSTOMER_ROLES, Role
from app.schemas.common import RequestModel, ResponseModel

Slug = Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9-]{0,39}$")]
Text200 = Annotated[str, StringConstraints(min_length=1, max_length=200)]
Scope = Annotated[str, StringConstraints(pattern=r"^[\x21\x23-\x5b\x5d-\x7e]{1,100}$")]
Filter = Annotated[str, StringConstraints(pattern=r"^\(.*\)$", max_length=500)]
Attribute = Annotated[str, StringConstraints(pattern=r"^[A-Za-z][A-Za-z0-9-]{0,63}$")]
# Values that say a second factor was used (RFC 8176 amr values; an acr a provider documents).
DEFAULT_MFA_VALUES = ["mfa", "otp", "hwk", "swk", "sms", "fpt", "face", "iris", "pin", "sc"]


class OidcSettings(RequestModel):
    """An OpenID Connect provider (Keycloak, Authentik, Entra ID, Google Workspace, ...)."""

    # The issuer exactly as the provider's discovery document names it.
    issuer: Annotated[str, StringConstraints(min_length=8, max_length=500)]
    client_id: Annotated[str, StringConstraints(min_length=1, max_length=300)]
    scopes: list[Scope] = Field(
        default_factory=lambda: ["openid", "email", "profile"], max_length=20
    )
    token_auth_method: Literal["client_secret_basic", "client_secret_post"] = "client_secret_basic"  # noqa: S105  (the name of a method, not a secret)
    # Claims read from the ID token.
    groups_claim: Text200 = "groups"
    email_claim: Text200 = "email"
    name_claim: Text200 = "name"
    # Refuse an address the provider has not verified (Entra ID sends no email_verified: off).
    require_verified_email: bool = True
    # Asked of the provider (acr_values), and the amr/acr values that count as a second factor
    # where the policy requires one at the provider.
    acr_values: Annotated[str, StringConstraints(max_length=300)] | None = None
    mfa_values: list[Text200] = Field(
        default_factory=lambda: list(DEFAULT_MFA_VALUES), max_length=50
    )

    @field_validator("issuer")
    @classmethod
    def _https(cls, value: str) -> str:
        parts = urlsplit(value)
        if parts.scheme not in ("https", "http") or not parts.hostname:
            raise ValueError("must be an https:// URL")
        if parts.scheme == "http" and parts.hostname not in ("127.0.0.1", "::1", "localhost"):
            raise ValueError("must be an https:// URL (http only for a provider on this host)")
        if parts.query or parts.fragment:
            raise ValueError("must not carry a query or fragment")
        return value

    @field_validator("scopes")
    @classmethod
    def _openid(cls, value: list[str]) -> list[str]:
        if "openid" not in value:
            raise ValueError("must include openid")
        return value


class LdapSettings(RequestModel):
    """An LDAP directory (OpenLDAP, Active Directory, FreeIPA, ...)."""

    url: Annotated[str, StringConstraints(pattern=r"^ldaps?://[^/\s]+/?$", max_length=300)]
    # ldap:// URLs upgrade with StartTLS unless plain LDAP is explicitly allowed.
    starttls: bool = True
    allow_plain: bool = False
    # The CA certificate(s) the server's certificate must chain to (PEM); empty: the system's.
    ca_pem: Annotated[str, StringConstraints(max_length=20_000)] | None = None
    # The service account that searches (its password is the provider's secret).
    bind_dn: Annotated[str, StringConstraints(min_length=1, max_length=500)]
    user_base: Annotated[str, StringConstraints(min_length=1, max_length=500)]
    user_filter: Filter = "(objectClass=inetOrgPerson)"
    # What people type to sign in (OpenLDAP: uid; Active Directory: sAMAccountName).
    login_attribute: Attribute = "uid"
    email_attribute: Attribute = "mail"
    name_attribute: Attribute = "cn"
    # A stable id that survives renames (OpenLDAP: entryUUID; Active Directory: objectGUID).
    id_attribute: Attribute = "entryUUID"
    # memberOf on the user entry, or a search of group entries naming the user.
    group_mode: Literal["memberof", "search"] = "memberof"
    group_base: Annotated[str, StringConstraints(max_length=500)] | None = None
    group_filter: Filter = "(&(objectClass=groupOfNames)(member={dn}))"
    # Entries that match are disabled accounts (Active Directory:
    # (userAccountControl:1.2.840.113556.1.4.803:=2)).
    disabled_filter: Filter | None = None
    timeout_seconds: float = Field(default=5, gt=0, le=30)

    @model_validator(mode="after")
    def _transport(self) -> LdapSettings:
        if self.url.startswith("ldap://") and not self.starttls and not self.allow_plain:
            raise ValueError(
                "ldap:// without StartTLS sends passwords in clear: use ldaps://, StartTLS, "
                "or allow plain LDAP explicitly (allow_plain)"
            )
        if self.group_mode == "search" and not self.group_base:
            raise ValueError("group_base is needed when groups are searched")
        return self


class Mapping(RequestModel):
    """Members of *group* (a group name, or for a directory the group's DN) get *role*; customer
    roles also name the organization."""

    group: Text200
    role: Role
    org_id: uuid.UUID | None = None

    @model_validator(mode="after")
    def _org(self) -> Mapping:
        if (self.role in CUSTOMER_ROLES) != (self.org_id is not None):
            raise ValueError("customer roles name an organization (org_id); staff roles do not")
        return self


class ProviderCreate(RequestModel):
    kind: Literal["oidc", "ldap"]
    slug: Slug
    name: Annotated[str, StringConstraints(min_length=1, max_length=100)]
    enabled: bool = True
    settings: dict[str, Any]
    # The client secret (OpenID Connect) or the service account's password (LDAP).
    secret: Annotated[str, StringConstraints(min_length=1, max_length=2000)] | None = None
    mappings: list[Mapping] = Field(default_factory=list, max_length=200)
    sync_minutes: int = Field(default=60, ge=5, le=7 * 24 * 60)


class ProviderUpdate(RequestModel):
    name: Annotated[str, StringConstraints(min_length=1, max_length=100)] | None = None
    enabled: bool | None = None
    settings: dict[str, Any] | None = None
    secret: Annotated[str, StringConstraints(min_length=1, max_length=2000)] | None = None
    mappings: list[Mapping] | None = Field(default=None, max_length=200)
    sync_minutes: int | None = Field(default=None, ge=5, le=7 * 24 * 60)


class MappingOut(ResponseModel):
    group: str
    role: Role
    org_id: uuid.UUID | None = None


class ProviderOut(ResponseModel):
    id: uuid.UUID
    kind: Literal["oidc", "ldap"]
    slug: str
    name: str
    enabled: bool
    settings: dict[str, Any]
    has_secret: bool
    mappings: list[MappingOut]
    sync_minutes: int
    last_sync_at: datetime | None
    last_sync_result: dict[str, Any] | None
    last_error: str | None
    # Where the provider sends the browser back (to register at the provider).
    redirect_uri: str | None
    users: int
    created_at: datetime


class ProviderCheckOut(ResponseModel):
    ok: bool
    detail: str


class SyncOut(ResponseModel):
    checked: int
    updated: int
    deactivated: int
    reactivated: int


class PublicProvider(ResponseModel):
    """A provider on the sign-in page."""

    slug: str
    name: str
    kind: Literal["oidc", "ldap"]


class RolePolicy(RequestModel):
    role: Role
    password_allowed: bool
    idp_mfa_required: bool


class RolePolicyOut(ResponseModel):
    role: Role
    password_allowed: bool
    idp_mfa_required: bool


class BreakGlassOut(ResponseModel):
    user_id: uuid.UUID
    email: str
    name: str
    mfa_enabled: bool


class SigninPolicyOut(ResponseModel):
    roles: list[RolePolicyOut]
    break_glass: BreakGlassOut | None


class SigninPolicyUpdate(RequestModel):
    roles: list[RolePolicy] = Field(min_length=1, max_length=len(Role))
    # The administrator who may always sign in with a password and a second factor (null: none).
    break_glass_user_id: uuid.UUID | None


class LdapLoginRequest(RequestModel):
    username: Annotated[str, StringConstraints(min_length=1, max_length=256)]
    password: Annotated[str, StringConstraints(min_length=1, max_length=256)]

    @field_validator("username")
    @classmethod
    def _printable(cls, value: str) -> str:
        if any(ord(c) < 0x20 or ord(c) == 0x7F for c in value):
            raise ValueError("contains a control character")
        return value


class LinkRequest(RequestModel):
    """Proves the local account's password (and second factor when it has one) to link it to
    the provider identity that was just used."""

    link_token: Annotated[str, StringConstraints(min_length=20, max_length=200)]
    password: Annotated[str, StringConstraints(min_length=1, max_length=256)]
    code: Annotated[str, StringConstraints(pattern=r"^\d{6}$")] | None = None
    recovery_code: Annotated[str, StringConstraints(max_length=40)] | None = None


class IdentityOut(ResponseModel):
    id: uuid.UUID
    provider_id: uuid.UUID
    provider_name: str
    provider_kind: Literal["oidc", "ldap"]
    subject: str | None
    groups: list[str] | None
    last_login_at: datetime | None
    created_at: datetime
    # An administrator approved the link; done at the user's next sign-in there.
    pending: bool


class IdentityApprove(RequestModel):
    provider_id: uuid.UUID
