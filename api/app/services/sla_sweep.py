"""The SLA clocks' database side: which terms apply to a ticket, the sweep that sends each warning,
breach and escalation exactly once (R9), announcing breaches recorded by an event (R6), and
recomputing running clocks after a calendar or policy change (R8)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import structlog
from sqlalchemy import ColumnElement, and_, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from app.models import Organization, SlaPolicy, Ticket
from app.models.calendar import SlaCalendar
from app.models.team import TeamMember
from app.services import audit, calendars, notifications, sla, workflow
from app.services.business_time import Calendar

log = structlog.get_logger(__name__)

RECOMPUTE_BATCH = 500
# Running clocks recomputed within the request that edits a calendar or an organization (about
# 0.6 ms each); the worker does the rest.
INLINE_LIMIT = 1000
STALE_WINDOW = timedelta(hours=1)
KINDS = ("first_response", "resolution")


async def terms_for(session: AsyncSession, org_id: uuid.UUID, priority: str) -> sla.Terms | None:
    """The policy of (organization, priority), falling back to the global one, with the
    calendar that applies (the organization's own, else the policy's, else 24/7): one
    statement."""
    own = select(Organization.sla_calendar_id).where(Organization.id == org_id).scalar_subquery()
    row = (
        await session.execute(
            select(
                SlaPolicy.first_response_minutes,
                SlaPolicy.resolution_minutes,
                SlaPolicy.warn_pct,
                SlaPolicy.warn_minutes,
                SlaPolicy.escalate_after_minutes,
                SlaPolicy.escalate_to_user_id,
                SlaPolicy.escalate_to_team_id,
                SlaCalendar.id,
                SlaCalendar.timezone,
                SlaCalendar.windows,
                SlaCalendar.exceptions,
            )
            .outerjoin(SlaCalendar, SlaCalendar.id == func.coalesce(own, SlaPolicy.calendar_id))
            .where(
                SlaPolicy.priority == priority,
                or_(SlaPolicy.org_id == org_id, SlaPolicy.org_id.is_(None)),
            )
            .order_by(SlaPolicy.org_id.is_(None))
            .limit(1)
        )
    ).one_or_none()
    if row is None:
        return None
    calendar_id = row.id
    calendar = (
        Calendar.from_spec(row.timezone, row.windows, row.exceptions)
        if calendar_id is not None
        else None
    )
    return sla.Terms(
        first_response_s=int(row.first_response_minutes) * 60,
        resolution_s=int(row.resolution_minutes) * 60,
        calendar=calendar,
        calendar_id=calendar_id,
        warn_pct=int(row.warn_pct),
        warn_before_s=int(row.warn_minutes) * 60 if row.warn_minutes else None,
        escalate_after_s=(
            int(row.escalate_after_minutes) * 60 if row.escalate_after_minutes else None
        ),
        escalate_to_user_id=row.escalate_to_user_id,
        escalate_to_team_id=row.escalate_to_team_id,
    )


async def terms_of(session: AsyncSession, ticket: Ticket) -> sla.Terms:
    """The terms for an event on *ticket*: its policy's as they are now; if the policy has been
    deleted since the clocks started, the targets stored on the ticket and its calendar."""
    terms = await terms_for(session, ticket.org_id, ticket.priority)
    if terms is not None:
        return terms
    return sla.Terms(
        first_response_s=ticket.sla_first_response_target_s or 0,
        resolution_s=ticket.sla_resolution_target_s or 0,
        calendar=await calendars.load(session, ticket.sla_calendar_id),
        calendar_id=ticket.sla_calendar_id,
    )


def _breach_entry(ticket: Ticket, kind: str, at: datetime | None) -> dict[str, Any]:
    """The audit row of a breach (recorded by nobody: the clock ran out)."""
    return audit.entry(
        actor=None,
        action="sla.breached",
        entity_type="ticket",
        entity_id=ticket.id,
        org_id=ticket.org_id,
        ticket_id=ticket.id,
        new_value={"sla": kind, "breached_at": at},
    )


def _breach_entries(
    ticket: Ticket, before: sla.Clocks, after: sla.Clocks
) -> tuple[list[dict[str, Any]], list[notifications.Mail]]:
    entries: list[dict[str, Any]] = []
    mails: list[notifications.Mail] = []
    for kind, old, new in (
        ("first_response", before.first_response, after.first_response),
        ("resolution", before.resolution, after.resolution),
    ):
        if old.breached_at is None and new.breached_at is not None:
            entries.append(_breach_entry(ticket, kind, new.breached_at))
            # A late reply or resolution ends the clock it breaches: nobody needs a mail then.
            if not new.completed:
                mails.extend(notifications.breached(ticket, kind))
    return entries, mails


async def announce_breaches(
    session: AsyncSession, ticket: Ticket, before: sla.Clocks, now: datetime
) -> None:
    """Audit (and mail) the breaches an event recorded on *ticket* since *before* — a priority
    change whose new target is already used up (R6), a late reply or resolution, a calendar
    edit. The sweep records the rest; either way each breach is announced once."""
    entries, mails = _breach_entries(ticket, before, workflow.clock_of(ticket))
    if entries:
        await audit.write(session, *entries)
        await notifications.send(session, mails)


async def _team_members(session: AsyncSession, team_id: uuid.UUID | None) -> list[uuid.UUID]:
    if team_id is None:
        return []
    rows = await session.execute(select(TeamMember.user_id).where(TeamMember.team_id == team_id))
    return [r[0] for r in rows]


@dataclass(slots=True)
class Swept:
    """What one sweep announced: (ticket id, clock) per breach and warning, ids escalated."""

    breached: list[tuple[uuid.UUID, str]] = field(default_factory=list)
    warned: list[tuple[uuid.UUID, str]] = field(default_factory=list)
    escalated: list[uuid.UUID] = field(default_factory=list)

    def counts(self) -> dict[str, int]:
        return {
            "breached": len(self.breached),
            "warned": len(self.warned),
            "escalated": len(self.escalated),
        }


async def sweep(session: AsyncSession, now: datetime) -> Swept:
    """One sweep cycle (R9): breaches, then warnings, then escalations, each found through its
    partial index and claimed by a conditional ``UPDATE … RETURNING`` (several workers at once
    never announce one twice). Audit rows and mails are written in the same transaction."""
    out = Swept()
    breached: dict[uuid.UUID, list[str]] = {}
    for kind in KINDS:
        due = getattr(Ticket, f"sla_{kind}_due_at")
        breached_at = getattr(Ticket, f"sla_{kind}_breached_at")
        warned_at = getattr(Ticket, f"sla_{kind}_warned_at")
        met = Ticket.first_responded_at if kind == "first_response" else Ticket.resolved_at
        rows = await session.execute(
            update(Ticket)
            .where(due.is_not(None), breached_at.is_(None), met.is_(None), due <= now)
            # The breach is when the budget ran out; a warning not sent by then is moot.
            .values({breached_at.key: due, warned_at.key: func.coalesce(warned_at, now)})
            .returning(Ticket.id)
            .execution_options(synchronize_session=False)
        )
        for (ticket_id,) in rows.all():
            breached.setdefault(ticket_id, []).append(kind)
    for ticket_id, kinds in breached.items():
        ticket = await _fresh(session, ticket_id)
        entries: list[dict[str, Any]] = []
        mails: list[notifications.Mail] = []
        for kind in kinds:
            out.breached.append((ticket_id, kind))
            entries.append(_breach_entry(ticket, kind, getattr(ticket, f"sla_{kind}_breached_at")))
            mails.extend(notifications.breached(ticket, kind))
        terms = await terms_for(session, ticket.org_id, ticket.priority)
        if terms is not None and terms.escalate_after_s and ticket.sla_escalated_at is None:
            # The second escalation, some business time after the first breach.
            ticket.sla_escalate_at = sla.schedule(workflow.clock_of(ticket), terms).escalate_at
        await audit.write(session, *entries)
        await notifications.send(session, mails)

    for kind in KINDS:
        warn = getattr(Ticket, f"sla_{kind}_warn_at")
        warned_at = getattr(Ticket, f"sla_{kind}_warned_at")
        rows = await session.execute(
            update(Ticket)
            .where(warn.is_not(None), warned_at.is_(None), warn <= now)
            .values({warned_at.key: now})
            .returning(Ticket.id)
            .execution_options(synchronize_session=False)
        )
        for (ticket_id,) in rows.all():
            out.warned.append((ticket_id, kind))
            ticket = await _fresh(session, ticket_id)
            due_at = getattr(ticket, f"sla_{kind}_due_at")
            await notifications.send(session, notifications.sla_warning(ticket, kind, due_at))
            await audit.record(
                session,
                actor=None,
                action="sla.warning",
                entity_type="ticket",
                entity_id=ticket.id,
                org_id=ticket.org_id,
                ticket_id=ticket.id,
                new_value={"sla": kind, "due_at": due_at},
            )

    rows = await session.execute(
        update(Ticket)
        .where(
            Ticket.sla_escalate_at.is_not(None),
            Ticket.sla_escalated_at.is_(None),
            Ticket.sla_escalate_at <= now,
            # Not while the ticket waits for the customer: it escalates once work resumes.
            Ticket.sla_paused_at.is_(None),
        )
        .values(sla_escalated_at=now, sla_escalate_at=None)
        .returning(Ticket.id)
        .execution_options(synchronize_session=False)
    )
    for (ticket_id,) in rows.all():
        out.escalated.append(ticket_id)
        ticket = await _fresh(session, ticket_id)
        terms = await terms_for(session, ticket.org_id, ticket.priority)
        to_user = terms.escalate_to_user_id if terms else None
        to_team = terms.escalate_to_team_id if terms else None
        to = [to_user] if to_user is not None else []
        to.extend(await _team_members(session, to_team))
        kinds_text = " and ".join(
            k.replace("_", " ")
            for k in KINDS
            if getattr(ticket, f"sla_{k}_breached_at") is not None
        )
        await notifications.send(
            session, notifications.sla_escalated(ticket, kinds_text or "SLA", tuple(to))
        )
        await audit.record(
            session,
            actor=None,
            action="sla.escalated",
            entity_type="ticket",
            entity_id=ticket.id,
            org_id=ticket.org_id,
            ticket_id=ticket.id,
            new_value={
                "to_user_id": to_user,
                "to_team_id": to_team,
            },
        )
    return out


async def _fresh(session: AsyncSession, ticket_id: uuid.UUID) -> Ticket:
    """The ticket as the UPDATE left it (not an older copy from the session's identity map)."""
    ticket = await session.get(Ticket, ticket_id, populate_existing=True)
    assert ticket is not None
    return ticket


async def recompute_running(
    session: AsyncSession,
    now: datetime,
    *,
    calendar_id: uuid.UUID | None = None,
    org_id: uuid.UUID | None = None,
    policy_id: uuid.UUID | None = None,
    limit: int | None = INLINE_LIMIT,
) -> int:
    """R8: after a calendar, an organization's calendar or a policy changed, the running clocks
    it touches keep the time they used and get new due/warning times under the terms that apply
    now. Works in batches (rows locked, ordered by id); returns the number of tickets
    recomputed. At most *limit* tickets here (None: all): for a calendar or an organization the
    worker finishes the rest in the background (:func:`recompute_stale`)."""
    conditions: list[ColumnElement[bool]] = [Ticket.sla_running_since.is_not(None)]
    if calendar_id is not None:
        conditions.append(Ticket.sla_calendar_id == calendar_id)
    if org_id is not None:
        conditions.append(Ticket.org_id == org_id)
    if policy_id is not None:
        policy = await session.get(SlaPolicy, policy_id)
        if policy is None:
            return 0
        conditions.append(Ticket.priority == policy.priority)
        if policy.org_id is not None:
            conditions.append(Ticket.org_id == policy.org_id)
    # The change's instant is the request's: tickets recomputed here are then not stale for
    # recompute_stale, the rest are.
    if calendar_id is not None:
        await session.execute(
            update(SlaCalendar).where(SlaCalendar.id == calendar_id).values(updated_at=now)
        )
    if org_id is not None:
        await session.execute(
            update(Organization).where(Organization.id == org_id).values(updated_at=now)
        )
    if policy_id is not None:
        limit = None  # nothing marks a policy's tickets for the worker: all of them, here
    terms_cache: dict[tuple[uuid.UUID, str], sla.Terms | None] = {}
    done = 0
    after: uuid.UUID | None = None
    while limit is None or done < limit:
        size = RECOMPUTE_BATCH if limit is None else min(RECOMPUTE_BATCH, limit - done)
        stmt = select(Ticket).where(and_(*conditions)).order_by(Ticket.id).limit(size)
        if after is not None:
            stmt = stmt.where(Ticket.id > after)
        batch = list((await session.execute(stmt.with_for_update())).scalars())
        if not batch:
            break
        done += await _recompute(session, batch, now, terms_cache)
        after = batch[-1].id
        await session.flush()
    return done


async def _recompute(
    session: AsyncSession,
    batch: list[Ticket],
    now: datetime,
    terms_cache: dict[tuple[uuid.UUID, str], sla.Terms | None],
) -> int:
    done = 0
    for ticket in batch:
        key = (ticket.org_id, ticket.priority)
        if key not in terms_cache:
            terms_cache[key] = await terms_for(session, *key)
        terms = terms_cache[key]
        if terms is None:
            continue
        before = workflow.clock_of(ticket)
        workflow.apply_clock(ticket, sla.settle(before, terms.calendar, now), terms)
        await announce_breaches(session, ticket, before, now)
        done += 1
    return done


async def recompute_stale(session: AsyncSession, now: datetime) -> int:
    """The worker's share of R8: running clocks last computed before their calendar or their
    organization changed (a recompute moves ``sla_running_since`` to its instant), a batch per
    cycle, rows another worker holds skipped. Only looks when a calendar or an organization
    changed within STALE_WINDOW, so an idle desk pays two small reads."""
    since = now - STALE_WINDOW
    changed = (
        await session.execute(
            select(
                select(SlaCalendar.id).where(SlaCalendar.updated_at > since).exists()
                | select(Organization.id).where(Organization.updated_at > since).exists()
            )
        )
    ).scalar_one()
    if not changed:
        return 0
    stale = (
        select(Ticket)
        .join(Organization, Organization.id == Ticket.org_id)
        .outerjoin(SlaCalendar, SlaCalendar.id == Ticket.sla_calendar_id)
        .where(
            Ticket.sla_running_since.is_not(None),
            or_(
                Ticket.sla_running_since < SlaCalendar.updated_at,
                Ticket.sla_running_since < Organization.updated_at,
            ),
        )
        .order_by(Ticket.id)
        .limit(RECOMPUTE_BATCH)
        .with_for_update(of=Ticket, skip_locked=True)
    )
    batch = list((await session.execute(stale)).scalars())
    done = await _recompute(session, batch, now, {})
    await session.flush()
    return done
