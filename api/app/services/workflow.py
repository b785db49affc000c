"""The ticket state machine (WORKFLOW.md): the only code that writes ``tickets.status``.

A transition that does not exist from the current state is a 409 naming the allowed targets; one
that exists but not for the caller is a 403. Side effects on timestamps and SLA clocks are applied
here too, so a status can never change without them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from app.auth.deps import CurrentUser
from app.errors import Conflict, Forbidden, Invalid
from app.models import Ticket
from app.models.enums import Role
from app.models.enums import TicketStatus as S
from app.services import sla
from app.services.business_time import Clock, business_seconds


class Party(StrEnum):
    """Who may trigger a transition, beyond plain roles."""

    MANAGER = "manager"
    ADMIN = "admin"
    AGENT = "agent"
    ASSIGNEE = "assignee"  # the staff member the ticket is assigned to
    CREATOR = "creator"  # the customer who opened the ticket
    SYSTEM = "system"  # a rule reacting to an event (a customer's public comment)


_MANAGERS = frozenset({Party.MANAGER, Party.ADMIN})
_WORKERS = _MANAGERS | {Party.ASSIGNEE}

TRANSITIONS: dict[tuple[S, S], frozenset[Party]] = {
    (S.NEW, S.ACCEPTED): _MANAGERS,
    (S.NEW, S.CANCELLED): _MANAGERS | {Party.CREATOR},
    (S.ACCEPTED, S.ASSIGNED): _MANAGERS | {Party.AGENT},
    (S.ASSIGNED, S.IN_PROGRESS): _WORKERS,
    (S.ASSIGNED, S.WAITING_CUSTOMER): _WORKERS,
    (S.IN_PROGRESS, S.WAITING_CUSTOMER): _WORKERS,
    (S.WAITING_CUSTOMER, S.IN_PROGRESS): _WORKERS | {Party.SYSTEM},
    (S.ASSIGNED, S.RESOLVED): _WORKERS,
    (S.IN_PROGRESS, S.RESOLVED): _WORKERS,
    (S.WAITING_CUSTOMER, S.RESOLVED): _WORKERS,
    (S.RESOLVED, S.CLOSED): _MANAGERS,
    (S.RESOLVED, S.IN_PROGRESS): _MANAGERS | {Party.SYSTEM},
}

# Statuses in which the ticket is being worked (the acceptance gate is behind it).
WORKABLE = frozenset({S.ACCEPTED, S.ASSIGNED, S.IN_PROGRESS, S.WAITING_CUSTOMER})
OPEN = frozenset({S.NEW, *WORKABLE})
FINAL = frozenset({S.CLOSED, S.CANCELLED})


def allowed_targets(current: S) -> list[S]:
    return [to for (frm, to) in TRANSITIONS if frm is current]


def parties_of(actor: CurrentUser | None, ticket: Ticket) -> set[Party]:
    """The parties *actor* plays on *ticket*; None is the system."""
    if actor is None:
        return {Party.SYSTEM}
    parties: set[Party] = set()
    if actor.role in (Role.MANAGER, Role.ADMIN, Role.AGENT):
        parties.add(Party(actor.role.value))
    if ticket.assigned_to == actor.id and actor.is_staff:
        parties.add(Party.ASSIGNEE)
    if ticket.created_by == actor.id:
        parties.add(Party.CREATOR)
    return parties


def available(ticket: Ticket, actor: CurrentUser) -> list[S]:
    """The targets *actor* may move *ticket* to right now (what the UI offers)."""
    current, parties = S(ticket.status), parties_of(actor, ticket)
    return [to for (frm, to), who in TRANSITIONS.items() if frm is current and parties & who]


def can_assign(ticket: Ticket, actor: CurrentUser) -> bool:
    current = S(ticket.status)
    if current is S.ACCEPTED:
        return bool(parties_of(actor, ticket) & TRANSITIONS[(S.ACCEPTED, S.ASSIGNED)])
    return actor.is_staff and current in WORKABLE


def can_comment(ticket: Ticket, actor: CurrentUser, *, internal: bool) -> bool:
    """Mirrors ``tickets.add_comment``: no comments on final tickets, internal notes are staff
    only, and staff reply publicly only after acceptance (the acceptance gate)."""
    current = S(ticket.status)
    if current in FINAL or (internal and not actor.is_staff):
        return False
    return not (actor.is_staff and not internal and current is S.NEW)


def check(ticket: Ticket, target: S, actor: CurrentUser | None) -> None:
    """Raise unless *actor* may move *ticket* to *target* now."""
    current = S(ticket.status)
    who = TRANSITIONS.get((current, target))
    if who is None:
        allowed = allowed_targets(current)
        names = ", ".join(t.value for t in allowed) or "none (final state)"
        raise Conflict(
            f"Cannot move a {current.value} ticket to {target.value}; allowed: {names}",
            allowed=[t.value for t in allowed],
        )
    if not (parties_of(actor, ticket) & who):
        raise Forbidden(f"You may not move this ticket to {target.value}")


@dataclass(frozen=True, slots=True)
class Change:
    old: S
    new: S


def clock_of(ticket: Ticket) -> sla.Clocks:
    """The ticket's two clocks, as stored (both run from ``sla_running_since`` unless done)."""
    running = ticket.sla_running_since
    return sla.Clocks(
        first_response=Clock(
            target_s=ticket.sla_first_response_target_s or 0,
            consumed_s=ticket.sla_first_response_consumed_s or 0.0,
            running_since=running if ticket.first_responded_at is None else None,
            breached_at=ticket.sla_first_response_breached_at,
            completed_at=ticket.first_responded_at,
        ),
        resolution=Clock(
            target_s=ticket.sla_resolution_target_s or 0,
            consumed_s=ticket.sla_resolution_consumed_s or 0.0,
            running_since=running if ticket.resolved_at is None else None,
            breached_at=ticket.sla_resolution_breached_at,
            completed_at=ticket.resolved_at,
        ),
        paused_at=ticket.sla_paused_at,
        paused_seconds=ticket.sla_paused_seconds or 0,
    )


def apply_clock(ticket: Ticket, clocks: sla.Clocks, terms: sla.Terms) -> None:
    """Store *clocks* and the instants they lead to under *terms* (due, warning, next due,
    escalation). Every event writes the SLA columns here; the sweep's claims (services/
    sla_sweep.py) only stamp breached/warned/escalated on rows it finds due."""
    fr, res = clocks.first_response, clocks.resolution
    if clocks.started:
        ticket.sla_calendar_id = terms.calendar_id
    ticket.sla_first_response_target_s = int(fr.target_s) if clocks.started else None
    ticket.sla_resolution_target_s = int(res.target_s) if clocks.started else None
    ticket.sla_first_response_consumed_s = fr.consumed_s
    ticket.sla_resolution_consumed_s = res.consumed_s
    ticket.sla_running_since = clocks.running_since
    ticket.first_responded_at = fr.completed_at
    ticket.resolved_at = res.completed_at
    ticket.sla_paused_at = clocks.paused_at
    ticket.sla_paused_seconds = clocks.paused_seconds
    ticket.sla_first_response_breached_at = fr.breached_at
    ticket.sla_resolution_breached_at = res.breached_at
    plan = sla.schedule(clocks, terms)
    ticket.sla_first_response_due_at = plan.first_response_due_at
    ticket.sla_resolution_due_at = plan.resolution_due_at
    ticket.sla_first_response_warn_at = plan.first_response_warn_at
    ticket.sla_resolution_warn_at = plan.resolution_warn_at
    ticket.sla_next_due_at = plan.next_due_at
    ticket.sla_escalate_at = plan.escalate_at if ticket.sla_escalated_at is None else None


def transition(
    ticket: Ticket,
    target: S,
    actor: CurrentUser | None,
    now: datetime,
    *,
    resolution: str | None = None,
    root_cause: str | None = None,
    terms: sla.Terms | None = None,
) -> Change:
    """Move *ticket* to *target* with every side effect; the caller audits and persists.
    *terms* (services/sla_sweep.terms_of) are needed to accept and to pause, resume, resolve,
    reopen or close a ticket whose clocks run."""
    check(ticket, target, actor)
    old = S(ticket.status)
    clocks = clock_of(ticket)
    if target is S.ACCEPTED:
        if terms is None:
            raise Conflict("No SLA policy applies to this ticket")
        assert actor is not None
        ticket.accepted_by = actor.id
        ticket.accepted_at = now
        ticket.accept_business_s = business_seconds(terms.calendar, ticket.created_at, now)
        clocks = sla.start(terms, now)
    stored = clocks
    calendar = terms.calendar if terms is not None else None
    if target is S.WAITING_CUSTOMER:
        clocks = sla.pause(clocks, calendar, now)
    elif target is S.RESOLVED:
        if not resolution:
            raise Invalid("resolution", "A resolution is required to resolve a ticket")
        if not root_cause:
            raise Invalid("root_cause", "A root cause is required to resolve a ticket")
        ticket.resolution = resolution
        ticket.root_cause = root_cause
        clocks = sla.resolve(clocks, calendar, now)
    elif target in FINAL:
        if target is S.CLOSED:
            ticket.closed_at = now
        clocks = sla.stop(clocks, calendar, now)
    elif target is S.IN_PROGRESS:
        if old is S.RESOLVED:
            clocks = sla.reopen(clocks, now)
            ticket.reopen_count = (ticket.reopen_count or 0) + 1
        else:
            clocks = sla.resume(clocks, now)
    if not clocks.started:
        # No clocks (never accepted): the timestamps still follow the status.
        if target is S.RESOLVED:
            ticket.resolved_at = now
        elif old is S.RESOLVED and target is S.IN_PROGRESS:
            ticket.resolved_at = None
        if target is not S.WAITING_CUSTOMER:
            ticket.sla_paused_at = None
    elif clocks is not stored or target is S.ACCEPTED:
        if terms is None:
            raise Conflict("No SLA policy applies to this ticket")
        apply_clock(ticket, clocks, terms)
    ticket.status = target.value
    ticket.updated_at = now
    return Change(old, target)


# Merging a duplicate (services/merge.py) closes it from any state that is not final: an explicit
# rule beside the table, not a table row, because it is not a step of the normal lifecycle (no
# resolution or root cause is asked for, and NEW tickets close without the acceptance gate).
# Who may merge is Action.TICKET_MERGE (auth/permissions.py).
MERGEABLE = frozenset({*OPEN, S.RESOLVED})


def merge_close(
    ticket: Ticket, now: datetime, *, into_number: int, terms: sla.Terms | None
) -> Change:
    """Close *ticket* as a duplicate of ticket number *into_number*; the caller sets
    ``merged_into``, audits and persists."""
    current = S(ticket.status)
    if current not in MERGEABLE:
        raise Conflict(f"A {current.value} ticket cannot be merged")
    ticket.resolution = f"Merged into #{into_number}"
    ticket.closed_at = now
    # The duplicate's clocks stop where they are: its SLA ends with it.
    clocks = clock_of(ticket)
    if clocks.started and terms is not None:
        apply_clock(ticket, sla.stop(clocks, terms.calendar, now), terms)
    ticket.status = S.CLOSED.value
    ticket.updated_at = now
    return Change(current, S.CLOSED)


def check_public_reply(ticket: Ticket, actor: CurrentUser) -> None:
    """The acceptance gate for anything staff show the customer (a public reply or attachment):
    nothing before the ticket is ACCEPTED."""
    current = S(ticket.status)
    if actor.is_staff and current is S.NEW:
        raise Conflict(
            "Accept the ticket before replying to the customer",
            allowed=[t.value for t in allowed_targets(current)],
        )
