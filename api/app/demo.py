"""The demo data set loaded by `make run` into an empty database."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.models import User
from app.models.enums import Role
from app.schemas.org import OrgCreate
from app.schemas.service import ServiceCreate
from app.schemas.user import UserCreate
from app.services import catalog, orgs, teams, users

# (role, e-mail, password, name, organization)
_PEOPLE = [
    (Role.ADMIN, "admin@atum.test", "atum-admin-demo", "Ada Admin", None),
    (Role.MANAGER, "manager@atum.test", "atum-manager-demo", "Maya Manager", None),
    (Role.AGENT, "agent@atum.test", "atum-agent-demo", "Arun Agent", None),
    (Role.AGENT, "agent2@atum.test", "atum-agent-demo", "Ines Agent", None),
    (
        Role.CUSTOMER_ADMIN,
        "admin@acme.test",
        "acme-admin-demo",
        "Carla Customer-Admin",
        "Acme Corp",
    ),
    (Role.CUSTOMER_USER, "user@acme.test", "acme-user-demo", "Cody Customer", "Acme Corp"),
    (Role.CUSTOMER_USER, "user@globex.test", "globex-user-demo", "Gina Globex", "Globex"),
]
DEMO_LOGINS = [(r.value, e, p) for r, e, p, _, _ in _PEOPLE]


async def seed(session: AsyncSession) -> list[tuple[str, str, str]] | None:
    """Load the demo set when the database has no users yet; None when it already has some."""
    if (await session.execute(select(User.id).limit(1))).first() is not None:
        return None
    org_ids = {}
    for name in ("Acme Corp", "Globex"):
        org_ids[name] = (await orgs.create(session, None, OrgCreate(name=name))).id
    staff = []
    for role, email, password, name, org in _PEOPLE:
        user = await users.create(
            session,
            None,
            UserCreate(
                email=email,
                name=name,
                role=role,
                org_id=org_ids[org] if org else None,
                password=password,
            ),
        )
        if role.is_staff and role is not Role.ADMIN:
            staff.append(user.id)
    for service in ("E-mail", "VPN", "Billing"):
        await catalog.create(session, None, ServiceCreate(name=service))
    await teams.create(session, "First line", staff)
    return DEMO_LOGINS
