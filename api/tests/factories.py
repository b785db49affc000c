"""Typed factories with keyword-only overrides; everything goes through the real database."""

from __future__ import annotations

import base64
import ipaddress
import re
import secrets
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import timedelta
from http.cookiejar import CookieJar, DefaultCookiePolicy
from typing import Any

from httpx import ASGITransport, AsyncClient
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.deps import CurrentUser
from app.auth.passwords import hash_password
from app.auth.tokens import create_access_token
from app.config import get_settings
from app.mail import secretbox
from app.models import AuditLog, AuthSession, Organization, OutboxMessage, User
from app.models.enums import CUSTOMER_ROLES, Role
from app.services.account_mail import open_link
from app.utils.clock import utcnow

PASSWORD = "correct horse battery"
_HASH = hash_password(PASSWORD)


@dataclass
class Actor:
    user: User
    token: str

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}

    @property
    def id(self) -> uuid.UUID:
        return self.user.id


async def make_org(
    session: AsyncSession, *, name: str | None = None, status: str = "active"
) -> Organization:
    org = Organization(id=uuid.uuid4(), name=name or f"Org {uuid.uuid4().hex[:8]}", status=status)
    session.add(org)
    await session.flush()
    return org


async def make_user(
    session: AsyncSession,
    *,
    role: Role,
    org: Organization | None = None,
    email: str | None = None,
    name: str | None = None,
    is_active: bool = True,
) -> User:
    if role in CUSTOMER_ROLES and org is None:
        org = await make_org(session)
    user = User(
        id=uuid.uuid4(),
        email=email or f"{role.value}-{uuid.uuid4().hex[:10]}@example.test",
        name=name or f"{role.value.title()} {uuid.uuid4().hex[:4]}",
        role=role.value,
        org_id=org.id if role in CUSTOMER_ROLES and org else None,
        password_hash=_HASH,
        is_active=is_active,
    )
    session.add(user)
    await session.flush()
    return user


async def login(client: AsyncClient, user: User, password: str = PASSWORD) -> Actor:
    response = await client.post(
        "/api/auth/login", json={"email": user.email, "password": password}
    )
    assert response.status_code == 200, response.text
    return Actor(user=user, token=response.json()["access_token"])


async def make_actor(
    session: AsyncSession, client: AsyncClient, *, role: Role, org: Organization | None = None
) -> Actor:
    return await login(client, await make_user(session, role=role, org=org))


async def bearer_headers(db: AsyncSession, user: User) -> dict[str, str]:
    """A real bearer token for *user* (a server-side session row + a signed JWT) without the
    cost of an argon2 password check per test."""
    now, lifetime = utcnow(), timedelta(hours=1)
    session = AuthSession(id=uuid.uuid4(), user_id=user.id, expires_at=now + lifetime)
    db.add(session)
    await db.flush()
    token = create_access_token(
        secret=get_settings().resolved_secret_key() or "",
        user_id=user.id,
        session_id=session.id,
        now=now,
        lifetime=lifetime,
    )
    return {"Authorization": f"Bearer {token}"}


# --- accounts (tests/test_accounts.py, test_mfa.py, test_sessions.py) ---------------------------


def unique_ip() -> str:
    """A client address no other request of the test uses (per-IP counters stay apart)."""
    return str(ipaddress.IPv4Address(0x0A000000 | secrets.randbits(24)))


@asynccontextmanager
async def client_at(app: object, ip: str, **kwargs: Any) -> AsyncIterator[AsyncClient]:
    """A client whose requests come from *ip* (same app and test transaction as ``client``);
    no cookie jar unless ``cookies=True``."""
    transport = ASGITransport(app=app, client=(ip, 40000))  # type: ignore[arg-type]
    jar = (
        None if kwargs.pop("cookies", False) else CookieJar(DefaultCookiePolicy(allowed_domains=[]))
    )
    async with AsyncClient(
        transport=transport, base_url="http://testserver", cookies=jar, **kwargs
    ) as c:
        yield c


async def outbox_mails(
    db: AsyncSession, email: str, template: str | None = None
) -> list[OutboxMessage]:
    """The outbox rows addressed to *email* (optionally of one template)."""
    stmt = select(OutboxMessage).where(OutboxMessage.recipient_email == email)
    if template is not None:
        stmt = stmt.where(OutboxMessage.template == template)
    return list((await db.execute(stmt)).scalars())


def mail_link(row: OutboxMessage) -> str:
    """The link of an account mail as the worker sends it (the stored body holds a marker)."""
    opened = open_link(row.id, row.body_text, row.sealed_link)
    found = re.search(r"https?://\S+", opened)
    assert found is not None, opened
    return found.group(0)


async def mailed_tokens(db: AsyncSession, email: str, template: str) -> set[str]:
    """The tokens (last path segment of the link) of every *template* mail to *email*."""
    return {mail_link(m).rsplit("/", 1)[1] for m in await outbox_mails(db, email, template)}


async def only_token(db: AsyncSession, email: str, template: str) -> str:
    tokens = await mailed_tokens(db, email, template)
    assert len(tokens) == 1, tokens
    return tokens.pop()


async def enable_totp(db: AsyncSession, user: User) -> str:
    """Give *user* an authenticator app directly (no HTTP round trip); the base32 secret."""
    secret = base64.b32encode(secrets.token_bytes(20)).decode()
    user.totp_secret = secretbox.seal(secret, secretbox.TOTP)
    user.mfa_enabled = True
    await db.flush()
    return secret


async def audit_rows(
    db: AsyncSession, entity_id: uuid.UUID, action: str | None = None
) -> list[AuditLog]:
    stmt = select(AuditLog).where(AuditLog.entity_id == entity_id).order_by(AuditLog.seq)
    if action is not None:
        stmt = stmt.where(AuditLog.action == action)
    return list((await db.execute(stmt)).scalars())


def staff(user: User) -> CurrentUser:
    """A staff member as the services see them (a command outside a request has no session)."""
    return CurrentUser(
        id=user.id,
        email=user.email,
        name=user.name,
        role=Role(user.role),
        org_id=None,
        org_name=None,
        session_id=uuid.UUID(int=0),
    )
