"""Typed factories with keyword-only overrides; everything goes through the real database."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import timedelta

from httpx import AsyncClient
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.passwords import hash_password
from app.auth.tokens import create_access_token
from app.config import get_settings
from app.models import AuthSession, Organization, User
from app.models.enums import CUSTOMER_ROLES, Role
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
