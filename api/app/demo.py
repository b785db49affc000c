"""The demo data set loaded by `make run` into an empty database: people, organizations,
services, teams, knowledge-base articles, and a realistic day of tickets in every state (see
``app/demo_tickets.py``)."""

from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.deps import CurrentUser
from app.demo_tickets import seed_tickets
from app.models import User
from app.models.enums import Role
from app.schemas.calendar import CalendarCreate, HolidayImport, WeeklyWindow
from app.schemas.kb import KbArticleCreate
from app.schemas.org import OrgCreate
from app.schemas.service import ServiceCreate
from app.schemas.user import UserCreate
from app.services import calendars, catalog, kb_articles, orgs, teams, users
from app.utils.clock import utcnow

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

# (title, Markdown body, visibility): what customers are offered while they write a ticket, and
# what triage suggestions cite next to the runbook.
_ARTICLES = [
    (
        "VPN disconnects every few minutes",
        "If the VPN client drops the connection again and again:\n\n"
        "1. Check that your laptop is on the latest VPN client version (Help > About).\n"
        "2. Switch off *Wi-Fi power saving* in the network adapter settings.\n"
        "3. Sign out of the VPN client and sign in again to renew your certificate.\n\n"
        "If it still disconnects, open a ticket with the time of the last disconnect.",
        "public",
    ),
    (
        "Resetting your e-mail password",
        "You can reset your mailbox password yourself on the sign-in page with *Forgot "
        "password*. The new password must be at least 12 characters long. Phones and tablets "
        "ask for the new password within an hour; enter it there too.",
        "public",
    ),
    (
        "Printer queue stuck on the print server",
        "Internal: restart the spooler on the print server (`systemctl restart cups`), then "
        "clear the stuck job with `cancel -a`. Tell the customer to print again; no reply is "
        "needed when the queue drains.",
        "internal",
    ),
]


async def seed(session: AsyncSession) -> list[tuple[str, str, str]] | None:
    """Load the demo set when the database has no users yet; None when it already has some."""
    if (await session.execute(select(User.id).limit(1))).first() is not None:
        return None
    org_ids = {}
    # Unknown senders from an organization's domain become its customers when they write in.
    # Globex shows each customer user only the tickets they opened or are copied on.
    for name, domain, visibility in (
        ("Acme Corp", "acme.test", "organization"),
        ("Globex", "globex.test", "own"),
    ):
        created = OrgCreate(name=name, email_domains=[domain], portal_visibility=visibility)
        org_ids[name] = (await orgs.create(session, None, created)).id
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
    manager = (
        await session.execute(select(User).where(User.role == Role.MANAGER.value).limit(1))
    ).scalar_one()
    author = CurrentUser(
        id=manager.id,
        email=manager.email,
        name=manager.name,
        role=Role.MANAGER,
        org_id=None,
        org_name=None,
        session_id=uuid.UUID(int=0),
    )
    for title, body, visibility in _ARTICLES:
        await kb_articles.create(
            session, author, KbArticleCreate(title=title, body=body, visibility=visibility)
        )
    # Business hours for the admin's calendar page (no policy uses it: the demo's clocks run
    # around the clock, so what the demo shows does not depend on the hour it is loaded).
    office = await calendars.create(
        session,
        author,
        CalendarCreate(
            name="Office hours (Berlin)",
            timezone="Europe/Berlin",
            windows=[WeeklyWindow(weekday=d, start="08:00", end="18:00") for d in range(5)],
        ),
    )
    year = utcnow().year
    await calendars.import_holidays(
        session, author, office.id, HolidayImport(country="DE", years=[year, year + 1]), utcnow()
    )
    await seed_tickets(session, utcnow())
    return DEMO_LOGINS
