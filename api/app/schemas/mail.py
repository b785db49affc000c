"""The e-mail channel's admin and manager views (docs/EMAIL.md)."""

from __future__ import annotations

import re
import uuid
from datetime import datetime
from typing import Annotated, Literal

from pydantic import AfterValidator, Field, StringConstraints, model_validator

from app.schemas.common import Email, RequestModel, ResponseModel

_DOMAIN = re.compile(
    r"^(?=.{1,253}$)[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)+$"
)


def _domain(value: str) -> str:
    value = value.strip().lower().lstrip("@")
    if not _DOMAIN.match(value):
        raise ValueError("not a valid e-mail domain (like example.com)")
    return value


EmailDomain = Annotated[str, StringConstraints(max_length=253), AfterValidator(_domain)]
Host = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=253)]
Folder = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
Secret = Annotated[str, StringConstraints(min_length=1, max_length=1024)]


class MailboxCreate(RequestModel):
    address: Email
    kind: Literal["lmtp", "imap"]
    imap_host: Host | None = None
    imap_port: int | None = Field(default=None, ge=1, le=65535)
    imap_tls: bool = True
    imap_user: Annotated[str, StringConstraints(min_length=1, max_length=254)] | None = None
    # Write-only: stored encrypted, never returned.
    imap_password: Secret | None = None
    imap_folder: Folder = "INBOX"
    processed_folder: Folder | None = None
    active: bool = True

    @model_validator(mode="after")
    def _imap_needs_its_server(self) -> MailboxCreate:
        if self.kind == "imap" and not (self.imap_host and self.imap_user and self.imap_password):
            raise ValueError("an IMAP mailbox needs imap_host, imap_user and imap_password")
        return self


class MailboxUpdate(RequestModel):
    imap_host: Host | None = None
    imap_port: int | None = Field(default=None, ge=1, le=65535)
    imap_tls: bool | None = None
    imap_user: Annotated[str, StringConstraints(min_length=1, max_length=254)] | None = None
    imap_password: Secret | None = None
    imap_folder: Folder | None = None
    processed_folder: Folder | None = None
    active: bool | None = None


class MailboxOut(ResponseModel):
    id: uuid.UUID
    address: str
    kind: Literal["lmtp", "imap"]
    imap_host: str | None
    imap_port: int | None
    imap_tls: bool
    imap_user: str | None
    imap_folder: str
    processed_folder: str | None
    active: bool
    last_checked_at: datetime | None
    last_error: str | None
    # Whether a password is stored (the password itself never leaves the server).
    has_password: bool = False


class HeldOut(ResponseModel):
    id: uuid.UUID
    mailbox: str | None
    from_address: str | None
    subject: str | None
    received_at: datetime
    reason: str | None
    excerpt: str | None


class HeldTicket(RequestModel):
    org_id: uuid.UUID


class QuarantinedOut(HeldOut):
    error: str | None
    attempts: int


class BounceOut(ResponseModel):
    address: str
    status: str
    diagnostic: str | None
    created_at: datetime


class OrgDomains(RequestModel):
    email_domains: list[EmailDomain] = Field(max_length=100)
