"""Administering identity providers: create, change, check and delete them, synchronise a
directory now, and see, approve or remove the links between users and providers. Admins only
(Action.SECURITY_ADMIN); every change is audited; the secret is sealed and never answered."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

from pydantic import ValidationError
from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth import oidc
from app.auth.deps import CurrentUser
from app.auth.directory import DirectoryError
from app.errors import Conflict, Invalid, NotFound
from app.mail import secretbox
from app.models import AuthSession, IdentityProvider, Organization, User, UserIdentity
from app.schemas.sso import (
    LdapSettings,
    Mapping,
    OidcSettings,
    ProviderCreate,
    ProviderUpdate,
)
from app.services import audit, sso
from app.services.users import get as get_user


def _settings(kind: str, raw: dict[str, Any]) -> dict[str, Any]:
    """The kind's settings, validated and with defaults filled in (422 names the field)."""
    model = OidcSettings if kind == "oidc" else LdapSettings
    try:
        return model.model_validate(raw).model_dump(mode="json")
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first.get("loc", ())) or "settings"
        raise Invalid(f"settings.{where}", str(first.get("msg", "invalid"))) from None


async def _mappings(session: AsyncSession, items: list[Mapping]) -> list[dict[str, Any]]:
    org_ids = {m.org_id for m in items if m.org_id is not None}
    if org_ids:
        found = set(
            (
                await session.execute(select(Organization.id).where(Organization.id.in_(org_ids)))
            ).scalars()
        )
        if org_ids - found:
            raise Invalid("mappings", "An organization in the mappings does not exist")
    return [m.model_dump(mode="json") for m in items]


async def users_count(session: AsyncSession) -> dict[uuid.UUID, int]:
    rows = await session.execute(
        select(UserIdentity.provider_id, func.count())
        .where(UserIdentity.subject.is_not(None))
        .group_by(UserIdentity.provider_id)
    )
    return {r[0]: int(r[1]) for r in rows}


async def list_providers(session: AsyncSession) -> list[IdentityProvider]:
    rows = await session.execute(select(IdentityProvider).order_by(IdentityProvider.name))
    return list(rows.scalars())


async def get(session: AsyncSession, provider_id: uuid.UUID) -> IdentityProvider:
    provider = await session.get(IdentityProvider, provider_id)
    if provider is None:
        raise NotFound("Identity provider not found")
    return provider


def _public(provider: IdentityProvider) -> dict[str, Any]:
    """What the audit log keeps of a provider (never the secret)."""
    return {
        "slug": provider.slug,
        "name": provider.name,
        "kind": provider.kind,
        "enabled": provider.enabled,
        "settings": provider.settings,
        "mappings": provider.mappings,
        "sync_minutes": provider.sync_minutes,
    }


async def create(
    session: AsyncSession, actor: CurrentUser, body: ProviderCreate
) -> IdentityProvider:
    if await session.scalar(select(IdentityProvider.id).where(IdentityProvider.slug == body.slug)):
        raise Conflict("A provider with this slug exists")
    provider = IdentityProvider(
        id=uuid.uuid4(),
        kind=body.kind,
        slug=body.slug,
        name=body.name,
        enabled=body.enabled,
        settings=_settings(body.kind, body.settings),
        secret_sealed=secretbox.seal(body.secret, secretbox.SSO) if body.secret else None,
        mappings=await _mappings(session, body.mappings),
        sync_minutes=body.sync_minutes,
    )
    session.add(provider)
    await session.flush()
    await audit.record(
        session,
        actor=actor,
        action="sso.provider_created",
        entity_type="identity_provider",
        entity_id=provider.id,
        new_value={**_public(provider), "secret": "set" if body.secret else None},
    )
    return provider


async def update(
    session: AsyncSession, actor: CurrentUser, provider_id: uuid.UUID, body: ProviderUpdate
) -> IdentityProvider:
    provider = await session.get(IdentityProvider, provider_id, with_for_update=True)
    if provider is None:
        raise NotFound("Identity provider not found")
    before = _public(provider)
    if provider.kind == "oidc":
        oidc.forget(str(provider.settings.get("issuer")))
    if body.name is not None:
        provider.name = body.name
    if body.enabled is not None:
        provider.enabled = body.enabled
    if body.settings is not None:
        provider.settings = _settings(provider.kind, body.settings)
    if body.mappings is not None:
        provider.mappings = await _mappings(session, body.mappings)
    if body.sync_minutes is not None:
        provider.sync_minutes = body.sync_minutes
        provider.next_sync_at = None
    old, new = audit.changes(before, _public(provider))
    if body.secret is not None:
        provider.secret_sealed = secretbox.seal(body.secret, secretbox.SSO)
        new["secret"] = "changed"  # noqa: S105  (a marker; the secret is never recorded)
    if new:
        await session.flush()
        await audit.record(
            session,
            actor=actor,
            action="sso.provider_updated",
            entity_type="identity_provider",
            entity_id=provider.id,
            old_value=old,
            new_value=new,
        )
    return provider


async def remove(session: AsyncSession, actor: CurrentUser, provider_id: uuid.UUID) -> None:
    """Delete a provider nobody signs in with (one with users is disabled instead)."""
    provider = await get(session, provider_id)
    linked = await session.scalar(
        select(func.count())
        .select_from(UserIdentity)
        .where(UserIdentity.provider_id == provider.id, UserIdentity.subject.is_not(None))
    )
    used = await session.scalar(
        select(func.count()).select_from(AuthSession).where(AuthSession.provider_id == provider.id)
    )
    if linked or used:
        raise Conflict("Users have signed in with this provider: disable it instead")
    await session.execute(delete(UserIdentity).where(UserIdentity.provider_id == provider.id))
    await session.delete(provider)
    await session.flush()
    await audit.record(
        session,
        actor=actor,
        action="sso.provider_deleted",
        entity_type="identity_provider",
        entity_id=provider_id,
        old_value=_public(provider),
    )


async def check(session: AsyncSession, provider_id: uuid.UUID) -> tuple[bool, str]:
    """Can this server reach the provider with its settings? (discovery; a directory bind)"""
    provider = await get(session, provider_id)
    if provider.kind == "oidc":
        issuer = str(provider.settings.get("issuer"))
        try:
            meta = await oidc.discover(issuer, fresh=True)
        except oidc.OidcError as exc:
            provider.last_error = exc.detail[:500]
            return False, exc.detail
        provider.last_error = None
        return True, f"Discovery works; sign-in goes to {meta.authorization_endpoint}"
    try:
        detail = await asyncio.to_thread(sso.directory_of(provider).check)
    except DirectoryError as exc:
        provider.last_error = str(exc)[:500]
        return False, str(exc)
    provider.last_error = None
    return True, detail


async def sync_now(
    session: AsyncSession, actor: CurrentUser, provider_id: uuid.UUID
) -> sso.SyncResult:
    provider = await session.get(IdentityProvider, provider_id, with_for_update=True)
    if provider is None:
        raise NotFound("Identity provider not found")
    if provider.kind != "ldap":
        raise Conflict("Only directories (LDAP) are synchronised")
    try:
        return await sso.sync_directory(session, provider)
    except DirectoryError as exc:
        raise sso.ProviderUnavailable(str(exc)) from exc


# --- a user's identities -------------------------------------------------------------------


async def identities(
    session: AsyncSession, actor: CurrentUser, user_id: uuid.UUID
) -> list[tuple[UserIdentity, IdentityProvider]]:
    user = await get_user(session, actor, user_id)
    rows = await session.execute(
        select(UserIdentity, IdentityProvider)
        .join(IdentityProvider, IdentityProvider.id == UserIdentity.provider_id)
        .where(UserIdentity.user_id == user.id)
        .order_by(UserIdentity.created_at)
    )
    return [(r[0], r[1]) for r in rows]


async def approve_link(
    session: AsyncSession, actor: CurrentUser, user_id: uuid.UUID, provider_id: uuid.UUID
) -> UserIdentity:
    """An administrator vouches that the provider's account with this user's address is this
    user: the link is made at their next sign-in there."""
    user = await get_user(session, actor, user_id)
    provider = await get(session, provider_id)
    existing = await session.scalar(
        select(UserIdentity).where(
            UserIdentity.user_id == user.id, UserIdentity.provider_id == provider.id
        )
    )
    if existing is not None:
        raise Conflict("This user is already linked (or approved) for this provider")
    link = UserIdentity(
        id=uuid.uuid4(),
        user_id=user.id,
        provider_id=provider.id,
        issuer=sso.ldap_issuer(provider)
        if provider.kind == "ldap"
        else str(provider.settings.get("issuer")),
        subject=None,
    )
    session.add(link)
    await session.flush()
    await audit.record(
        session,
        actor=actor,
        action="user.identity_approved",
        entity_type="user",
        entity_id=user.id,
        org_id=user.org_id,
        new_value={"provider": provider.slug},
    )
    return link


async def unlink(
    session: AsyncSession, actor: CurrentUser, user_id: uuid.UUID, identity_id: uuid.UUID
) -> None:
    user: User = await get_user(session, actor, user_id)
    link = await session.scalar(
        select(UserIdentity).where(UserIdentity.id == identity_id, UserIdentity.user_id == user.id)
    )
    if link is None:
        raise NotFound("Identity not found")
    provider = await session.get(IdentityProvider, link.provider_id)
    await session.delete(link)
    await session.flush()
    await audit.record(
        session,
        actor=actor,
        action="user.identity_unlinked",
        entity_type="user",
        entity_id=user.id,
        org_id=user.org_id,
        old_value={"provider": provider.slug if provider else None, "subject": link.subject},
    )
