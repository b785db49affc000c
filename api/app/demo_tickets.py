"""The demo's day of tickets: about thirty-five tickets of the two demo organizations, opened over
the last day by portal, e-mail and phone, in every state of the workflow, with replies, internal
notes, tags, teams and people copied on them; a few breach their SLA or are due soon.

Every step goes through the ticket services (create, accept, assign, comments, status changes,
tags, CC) with the clock argument ``now`` set to when it happened, so the workflow, the SLA
clocks and the audit trail are exactly what real use leaves behind. Only the mails those steps
queued are dropped: the demo's history is not mailed to anyone.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.deps import CurrentUser
from app.models import Organization, OutboxMessage, Team, User
from app.models.enums import Priority, Role
from app.models.enums import TicketStatus as S
from app.schemas.ticket import Accept, Assign, StatusChange, TicketCreate, TicketUpdate
from app.services import ccs, ratelimit, sla_sweep, teams, tickets, users

# Customers without a password (they wrote in or phoned; an invitation gives them one).
_CONTACTS = [
    ("priya.patel@acme.test", "Priya Patel", "Acme Corp"),
    ("omar.haddad@globex.test", "Omar Haddad", "Globex"),
    ("lena.fischer@globex.test", "Lena Fischer", "Globex"),
]
_TEAMS = [("Network", ["agent2@atum.test"]), ("Service desk", ["agent@atum.test"])]
MANAGER, ARUN, INES = "manager@atum.test", "agent@atum.test", "agent2@atum.test"
CODY, CARLA, PRIYA = "user@acme.test", "admin@acme.test", "priya.patel@acme.test"
GINA, OMAR, LENA = "user@globex.test", "omar.haddad@globex.test", "lena.fischer@globex.test"


@dataclass(frozen=True)
class Story:
    """One ticket's day: opened *ago* hours before now by *who*, ending in *status*."""

    ago: float
    who: str
    title: str
    description: str
    status: S
    priority: Priority = Priority.P3
    channel: str = "portal"
    category: str | None = None
    agent: str = ARUN
    team: str | None = "Service desk"
    tags: tuple[str, ...] = ()
    note: str | None = None
    reply: str = "Thanks for the details, we are looking into it."
    answer: str | None = None  # the customer's reply after WAITING_CUSTOMER (back to work)
    resolution: str = "Fixed and confirmed working."
    root_cause: str = "Configuration error."
    cc: tuple[str, ...] = ()
    accepted_after: float = 0.25  # hours between opening and acceptance


P1, P2, P3, P4 = Priority.P1, Priority.P2, Priority.P3, Priority.P4
STORIES = [
    # NEW: waiting in the queue for acceptance.
    Story(
        0.3,
        CODY,
        "Shared drive asks for my password again and again",
        "Since this morning the S: drive keeps prompting for credentials.",
        S.NEW,
        P3,
    ),
    Story(
        0.8,
        GINA,
        "Invoice 2026-1147 shows the wrong VAT rate",
        "The November invoice charges 21% VAT; our contract says 19%.",
        S.NEW,
        P3,
        category="Billing",
    ),
    Story(
        1.6,
        PRIYA,
        "New starter needs a laptop on Monday",
        "Jonas Berg starts on Monday in accounting and needs a laptop and an account.",
        S.NEW,
        P4,
        channel="email",
    ),
    Story(
        2.4,
        OMAR,
        "Warehouse scanner will not connect to Wi-Fi",
        "Scanner WH-07 shows 'authentication failed' since the weekend.",
        S.NEW,
        P2,
        channel="phone",
    ),
    Story(
        3.1,
        CARLA,
        "Please add two users to the Finance mailbox",
        "Add Priya Patel and Cody Customer to finance@acme.test with send-as rights.",
        S.NEW,
        P4,
    ),
    Story(
        4.5,
        LENA,
        "Calendar invitations arrive twice",
        "Every meeting invitation shows up twice in Outlook since Friday.",
        S.NEW,
        P3,
        channel="email",
    ),
    # ACCEPTED: planned, nobody assigned yet.
    Story(
        2.0,
        CODY,
        "Teams calls drop after ten minutes",
        "Every Teams call from the office disconnects after about ten minutes.",
        S.ACCEPTED,
        P2,
        category="Network",
        tags=("network",),
    ),
    Story(
        5.0,
        GINA,
        "Request: second monitor for reception",
        "Reception would like a second monitor for the visitor system.",
        S.ACCEPTED,
        P4,
        category="Hardware",
        tags=("hardware",),
    ),
    Story(
        6.5,
        PRIYA,
        "Expense tool shows an error on upload",
        "Uploading a receipt PDF shows 'error 500'.",
        S.ACCEPTED,
        P3,
        channel="email",
        category="Applications",
    ),
    # ASSIGNED: with an engineer, not started yet.
    Story(
        3.5,
        OMAR,
        "VPN certificate expires next week",
        "The VPN client warns that my certificate expires on the 9th.",
        S.ASSIGNED,
        P3,
        category="VPN",
        agent=INES,
        team="Network",
        tags=("vpn",),
    ),
    Story(
        7.0,
        CODY,
        "Printer on floor 3 prints blank pages",
        "The HP on floor 3 feeds paper but prints nothing.",
        S.ASSIGNED,
        P3,
        category="Printing",
        tags=("printer",),
        note="Toner was replaced last week; probably the fuser this time.",
    ),
    Story(
        9.0,
        LENA,
        "Mailbox almost full",
        "Outlook says my mailbox is 98% full.",
        S.ASSIGNED,
        P4,
        channel="email",
        category="E-mail",
        tags=("email",),
    ),
    Story(
        1.4,
        GINA,
        "Payment portal login fails for all of accounting",
        "Nobody in accounting can sign in to the payment portal: 'invalid token'.",
        S.ASSIGNED,
        P1,
        channel="phone",
        category="Applications",
        agent=INES,
        team="Network",
        tags=("outage", "vip"),
        accepted_after=0.1,
        note="Called by Gina at 09:10; payment run is due today.",
    ),
    # IN_PROGRESS: being worked on (two breach their SLA, one is due soon).
    Story(
        7.5,
        CARLA,
        "E-mail delivery to customers delayed by hours",
        "Mails to external addresses arrive two to three hours late.",
        S.IN_PROGRESS,
        P1,
        category="E-mail",
        tags=("email", "outage"),
        accepted_after=0.2,
        note="Queue on the relay is at 4,000 messages; greylisting at one provider.",
        reply="We found a backlog on our mail relay and are draining it now.",
    ),
    Story(
        23.2,
        OMAR,
        "ERP export to the bank fails every night",
        "The nightly payment export to the bank stopped on Monday.",
        S.IN_PROGRESS,
        P2,
        channel="email",
        category="Applications",
        agent=INES,
        team="Network",
        tags=("billing",),
        accepted_after=0.3,
        note="The bank rotated its SFTP host key; need the new fingerprint.",
        reply="The bank changed its server key; we are updating the connection.",
    ),
    Story(
        5.5,
        CODY,
        "Laptop fan loud and laptop very slow",
        "My laptop is extremely slow and the fan is always on.",
        S.IN_PROGRESS,
        P3,
        category="Hardware",
        tags=("hardware",),
        cc=(PRIYA,),
        reply="Could you leave the laptop switched on at lunch? We will connect remotely.",
    ),
    Story(
        12.0,
        GINA,
        "Cannot open attachments in the CRM",
        "Clicking a PDF attachment in the CRM does nothing.",
        S.IN_PROGRESS,
        P3,
        category="Applications",
        agent=INES,
        team="Network",
        note="Pop-up blocker in the new browser policy.",
    ),
    Story(
        15.0,
        PRIYA,
        "Password reset link expired",
        "The reset link said it expired although I clicked it at once.",
        S.IN_PROGRESS,
        P4,
        channel="email",
        category="Accounts",
        answer="I tried again just now and got the same message.",
    ),
    Story(
        19.0,
        LENA,
        "VPN disconnects every few minutes",
        "Working from home, the VPN drops every five minutes.",
        S.IN_PROGRESS,
        P3,
        category="VPN",
        agent=INES,
        team="Network",
        tags=("vpn",),
        reply="Please send us the time of the last disconnect.",
        answer="Last one was 14:32, and again at 14:40.",
    ),
    Story(
        21.0,
        CARLA,
        "Meeting room display stays black",
        "The display in room Oslo stays black when a laptop is connected.",
        S.IN_PROGRESS,
        P4,
        channel="phone",
        category="Hardware",
        tags=("hardware",),
    ),
    # WAITING_CUSTOMER: a question to the customer, SLA paused.
    Story(
        4.0,
        CODY,
        "Outlook signature lost after update",
        "My e-mail signature disappeared after last night's update.",
        S.WAITING_CUSTOMER,
        P4,
        category="E-mail",
        tags=("email",),
        reply="Do you use the web version or the desktop app? A screenshot would help.",
    ),
    Story(
        10.0,
        OMAR,
        "Access to the shared drive for the new project",
        "Please give the project team access to \\\\files\\projects\\atlas.",
        S.WAITING_CUSTOMER,
        P3,
        category="Accounts",
        cc=(GINA,),
        reply="Who should have write access, and who read-only?",
    ),
    Story(
        13.5,
        PRIYA,
        "Mobile phone does not sync mail",
        "My phone stopped syncing mail yesterday.",
        S.WAITING_CUSTOMER,
        P3,
        channel="phone",
        category="E-mail",
        tags=("email",),
        reply="Please confirm the phone model and whether you changed your password.",
    ),
    Story(
        17.0,
        GINA,
        "Quote for ten new laptops",
        "We need a quote for ten laptops for the sales team.",
        S.WAITING_CUSTOMER,
        P4,
        channel="email",
        category="Billing",
        tags=("billing",),
        reply="Which screen size, and do they need docking stations?",
    ),
    # RESOLVED: answered, waiting for the customer to confirm (or to close).
    Story(
        6.0,
        CARLA,
        "Printer in reception jams",
        "Paper jam every few pages.",
        S.RESOLVED,
        P3,
        category="Printing",
        tags=("printer",),
        resolution="Replaced the worn pickup roller; printed 50 pages without a jam.",
        root_cause="Worn pickup roller.",
    ),
    Story(
        11.0,
        LENA,
        "Wrong time zone in the calendar",
        "All my appointments are shown an hour late.",
        S.RESOLVED,
        P4,
        channel="email",
        category="E-mail",
        agent=INES,
        team="Network",
        resolution="Set the mailbox time zone to Europe/Berlin.",
        root_cause="Mailbox created with the UTC time zone.",
    ),
    Story(
        16.0,
        CODY,
        "Cannot print to PDF",
        "The PDF printer is missing.",
        S.RESOLVED,
        P4,
        category="Printing",
        tags=("printer",),
        resolution="Reinstalled the PDF printer driver.",
        root_cause="Driver removed by the last update.",
    ),
    Story(
        20.0,
        OMAR,
        "Invoice sent to the wrong address",
        "Our invoices go to the old PO box.",
        S.RESOLVED,
        P3,
        channel="phone",
        category="Billing",
        tags=("billing",),
        resolution="Updated the billing address; the next invoice goes to the new one.",
        root_cause="Address change not applied to the billing profile.",
    ),
    # CLOSED: done.
    Story(
        18.0,
        CODY,
        "Keyboard keys stuck",
        "Several keys on my keyboard stick.",
        S.CLOSED,
        P4,
        category="Hardware",
        tags=("hardware",),
        resolution="Replaced the keyboard.",
        root_cause="Coffee spill.",
    ),
    Story(
        22.0,
        GINA,
        "Access to the HR portal",
        "I need access to the HR portal for the new hires.",
        S.CLOSED,
        P3,
        category="Accounts",
        agent=INES,
        team="Network",
        resolution="Granted the HR editor role.",
        root_cause="New responsibility.",
    ),
    Story(
        22.5,
        PRIYA,
        "Spam messages in the inbox",
        "Many spam mails reach my inbox since Monday.",
        S.CLOSED,
        P3,
        channel="email",
        category="E-mail",
        tags=("email",),
        resolution="Tightened the spam filter and blocked the sender domain.",
        root_cause="New spam campaign not yet known to the filter.",
    ),
    Story(
        23.5,
        CARLA,
        "Onboarding checklist for new staff",
        "Please send us the IT onboarding checklist.",
        S.CLOSED,
        P4,
        category="Accounts",
        tags=("onboarding",),
        resolution="Sent the checklist; it is also in the knowledge base.",
        root_cause="Information request.",
    ),
    # CANCELLED: withdrawn by the customer or cancelled by the desk.
    Story(
        8.0,
        CODY,
        "Monitor flickers",
        "My monitor flickers now and then.",
        S.CANCELLED,
        P4,
        category="Hardware",
    ),
    Story(
        14.0,
        LENA,
        "Duplicate: calendar invitations twice",
        "Same as my other ticket, sorry.",
        S.CANCELLED,
        P4,
        channel="phone",
    ),
]


def _actor(user: User, org: Organization | None) -> CurrentUser:
    return CurrentUser(
        id=user.id,
        email=user.email,
        name=user.name,
        role=Role(user.role),
        org_id=user.org_id,
        org_name=org.name if org else None,
        session_id=uuid.UUID(int=0),
        portal_visibility=org.portal_visibility if org else "organization",
    )


def _steps(story: Story) -> list[str]:
    """The commands of the story after its creation, in order."""
    if story.status is S.NEW:
        return []
    if story.status is S.CANCELLED:
        return ["cancel"]
    steps = ["accept", "tags"]
    if story.status is S.ACCEPTED:
        return steps
    steps.append("assign")
    if story.note:
        steps.append("note")
    if story.status is S.ASSIGNED:
        return steps
    steps += ["progress", "reply"]
    if story.status is S.WAITING_CUSTOMER or story.answer:
        steps.append("waiting")
    if story.answer:
        steps.append("answer")
    if story.status in (S.RESOLVED, S.CLOSED):
        steps.append("resolve")
    if story.status is S.CLOSED:
        steps.append("close")
    return steps


async def _play(
    session: AsyncSession,
    story: Story,
    now: datetime,
    people: dict[str, CurrentUser],
    team_ids: dict[str, uuid.UUID],
) -> uuid.UUID:
    opened = now - timedelta(hours=story.ago)
    customer, manager = people[story.who], people[MANAGER]
    body = TicketCreate(title=story.title, description=story.description, priority=story.priority)
    recorded_by = manager if story.channel == "phone" else None
    ticket = await tickets.create(
        session, customer, body, opened, channel=story.channel, recorded_by=recorded_by
    )
    if story.cc:
        await ccs.replace(session, customer, ticket.id, [people[p].id for p in story.cc])
    steps = _steps(story)
    accepted = opened + timedelta(hours=story.accepted_after)
    last = opened + timedelta(hours=story.ago * 0.92)
    later = steps[1:] if steps and steps[0] == "accept" else steps
    gap = (last - accepted) / (len(later) + 1)
    when = {step: accepted + gap * (i + 1) for i, step in enumerate(later)}
    when["accept"] = accepted
    agent = people[story.agent]
    for step in steps:
        at = when[step]
        if step == "cancel":
            if story.channel == "portal":
                await tickets.withdraw(session, customer, ticket.id, "Solved it myself", at)
            else:
                cancel = StatusChange(status=S.CANCELLED, reason="Duplicate of another ticket")
                await tickets.change_status(session, manager, ticket.id, cancel, at)
        elif step == "accept":
            await tickets.accept(session, manager, ticket.id, Accept(category=story.category), at)
        elif step == "tags" and story.tags:
            update = TicketUpdate(tags=list(story.tags))
            await tickets.update_fields(session, manager, ticket.id, update, at)
        elif step == "assign":
            team = team_ids[story.team] if story.team else None
            assign = Assign(assignee_id=agent.id, team_id=team)
            await tickets.assign(session, manager, ticket.id, assign, at)
        elif step == "note":
            assert story.note is not None
            await tickets.add_comment(
                session, agent, ticket.id, body=story.note, is_internal=True, now=at
            )
        elif step == "progress":
            await tickets.change_status(
                session, agent, ticket.id, StatusChange(status=S.IN_PROGRESS), at
            )
        elif step == "reply":
            await tickets.add_comment(
                session, agent, ticket.id, body=story.reply, is_internal=False, now=at
            )
        elif step == "waiting":
            waiting = StatusChange(status=S.WAITING_CUSTOMER)
            await tickets.change_status(session, agent, ticket.id, waiting, at)
        elif step == "answer":
            assert story.answer is not None
            await tickets.add_comment(
                session, customer, ticket.id, body=story.answer, is_internal=False, now=at
            )
        elif step == "resolve":
            resolved = StatusChange(
                status=S.RESOLVED, resolution=story.resolution, root_cause=story.root_cause
            )
            await tickets.change_status(session, agent, ticket.id, resolved, at)
        elif step == "close":
            await tickets.change_status(
                session, manager, ticket.id, StatusChange(status=S.CLOSED), at
            )
    return ticket.id


async def seed_tickets(session: AsyncSession, now: datetime) -> list[uuid.UUID]:
    """The demo's contacts, teams and day of tickets (the demo people and organizations exist)."""
    org_rows = (await session.execute(select(Organization))).scalars().all()
    org_by_name = {o.name: o for o in org_rows}
    for email, name, org in _CONTACTS:
        await users.create_contact(
            session, None, org_id=org_by_name[org].id, email=email, name=name, via="demo"
        )
    by_email = {u.email: u for u in (await session.execute(select(User))).scalars().all()}
    team_ids = {t.name: t.id for t in (await session.execute(select(Team))).scalars().all()}
    for name, members in _TEAMS:
        team = await teams.create(session, name, [by_email[m].id for m in members])
        team_ids[name] = team.id
    org_by_id = {o.id: o for o in org_rows}
    people = {
        email: _actor(user, org_by_id.get(user.org_id) if user.org_id else None)
        for email, user in by_email.items()
    }
    made = [
        await _play(session, story, now, people, team_ids)
        for story in sorted(STORIES, key=lambda s: -s.ago)
    ]
    # SLA breaches of the day, as the worker's sweep finds them.
    await sla_sweep.sweep(session, now)
    # The demo's history is not mailed, and its people may open tickets at once.
    await session.execute(delete(OutboxMessage).where(OutboxMessage.ticket_id.in_(made)))
    for actor in people.values():
        await ratelimit.clear(session, f"ticket:create:{actor.id}")
    return made
