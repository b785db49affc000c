"""Ticket bodies and views. The customer views have no field for internal notes, internal
attachments, root cause, team or SLA internals: nothing internal can leak through them."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Literal

from pydantic import Field, StrictBool, StringConstraints, field_validator, model_validator

from app.models.enums import Priority, TicketStatus
from app.schemas.common import Email, Name, RequestModel, ResponseModel
from app.schemas.tag import MAX_TAGS_PER_TICKET, TagName

Title = Annotated[str, StringConstraints(strip_whitespace=True, min_length=3, max_length=300)]
Description = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=50_000)
]
Body = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=50_000)]
Category = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]
LongText = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=20_000)]
Reason = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=2_000)]


class TicketCreate(RequestModel):
    title: Title
    description: Description
    priority: Priority = Priority.P3
    category: Category | None = None
    service_id: uuid.UUID | None = None


class NewContact(RequestModel):
    """Someone not yet a user: a customer user of *org_id* without a password is created."""

    org_id: uuid.UUID
    email: Email
    name: Name


class StaffTicketCreate(TicketCreate):
    """A ticket staff record for a customer who phoned or wrote (exactly one of ``customer_id``
    and ``new_contact``). The customer is the ticket's creator; the recorder is in the audit."""

    customer_id: uuid.UUID | None = None
    new_contact: NewContact | None = None
    channel: Literal["phone", "email"]
    # Accept at once (the acceptance right is needed: without it, 403 and nothing is created).
    accept: StrictBool = False

    @model_validator(mode="after")
    def _one_customer(self) -> StaffTicketCreate:
        if (self.customer_id is None) == (self.new_contact is None):
            raise ValueError("Give exactly one of customer_id and new_contact")
        return self


class MergeInto(RequestModel):
    into_id: uuid.UUID


class CustomerCommentCreate(RequestModel):
    body: Body


class StaffCommentCreate(RequestModel):
    body: Body
    is_internal: StrictBool


class Withdraw(RequestModel):
    reason: Reason | None = None


class Accept(RequestModel):
    priority: Priority | None = None
    category: Category | None = None


class Assign(RequestModel):
    assignee_id: uuid.UUID | None = None
    team_id: uuid.UUID | None = None


class StatusChange(RequestModel):
    status: TicketStatus
    reason: Reason | None = None
    resolution: LongText | None = None
    root_cause: LongText | None = None


class TicketUpdate(RequestModel):
    priority: Priority | None = None
    category: Category | None = None
    service_id: uuid.UUID | None = None
    # The ticket's whole set of tags (replaces the current one); unknown names are created.
    tags: list[TagName] | None = Field(default=None, max_length=200)
    # Same command as POST /assign with only a team (services/tickets.py ``assign``).
    team_id: uuid.UUID | None = None

    @field_validator("tags", mode="after")
    @classmethod
    def _distinct_tags(cls, value: list[str] | None) -> list[str] | None:
        if value is None:
            return None
        names = sorted(set(value))
        if len(names) > MAX_TAGS_PER_TICKET:
            raise ValueError(f"At most {MAX_TAGS_PER_TICKET} tags per ticket")
        return names


class PersonRef(ResponseModel):
    id: uuid.UUID
    name: str


class TeamRef(ResponseModel):
    id: uuid.UUID
    name: str


Channel = Literal["portal", "email", "phone", "api"]


class Author(ResponseModel):
    # None only for automatic mail (an out-of-office, a bounce): staff-only internal notes
    # whose name is the sender's address.
    id: uuid.UUID | None
    name: str
    is_staff: bool


class RefusedFile(ResponseModel):
    """A file that came with a mail and was not stored (the upload rules refused it)."""

    file_name: str
    reason: str


class CustomerTicket(ResponseModel):
    id: uuid.UUID
    number: int
    org_id: uuid.UUID
    org_name: str
    service_id: uuid.UUID | None
    title: str
    description: str
    status: TicketStatus
    priority: Priority
    category: str | None
    created_by: PersonRef | None
    accepted_by: PersonRef | None
    assigned_to: PersonRef | None
    accepted_at: datetime | None
    resolved_at: datetime | None
    closed_at: datetime | None
    created_at: datetime
    updated_at: datetime
    resolution: str | None
    channel: Channel = "portal"
    # A reply to a closed ticket opens a new one that follows it up.
    follow_up_of: uuid.UUID | None = None
    # A duplicate closed by a merge: the ticket it was merged into (always the same
    # organization; the resolution reads "Merged into #N").
    merged_into: uuid.UUID | None = None


class Sla(ResponseModel):
    first_response_due_at: datetime | None
    resolution_due_at: datetime | None
    first_responded_at: datetime | None
    paused: bool
    paused_since: datetime | None
    paused_seconds: int
    first_response_breached: bool
    resolution_breached: bool
    # Business hours (SLA_CALENDARS.md): the warning instants (NULL while a clock does not run
    # or once it is breached), the calendar the clocks run on (NULL = around the clock), whether
    # it is closed right now, and the business seconds left on each unfinished clock (negative
    # once over; NULL when unknown).
    first_response_warn_at: datetime | None = None
    resolution_warn_at: datetime | None = None
    calendar_id: uuid.UUID | None = None
    outside_hours: bool = False
    first_response_left_s: int | None = None
    resolution_left_s: int | None = None
    first_response_target_s: int | None = None
    resolution_target_s: int | None = None


class StaffTicket(CustomerTicket):
    root_cause: str | None
    assigned_team: TeamRef | None
    sla: Sla
    # Staff only (sorted by name); CustomerTicket has no such field.
    tags: list[str] = Field(default_factory=list)


class CustomerComment(ResponseModel):
    id: uuid.UUID
    ticket_id: uuid.UUID
    author: Author
    body: str
    is_internal: Literal[False] = False
    created_at: datetime
    channel: Channel = "portal"
    # Mail: the quoted history and signature split off the body (shown folded).
    quoted: str | None = None
    refused_files: list[RefusedFile] = Field(default_factory=list)


class StaffComment(ResponseModel):
    id: uuid.UUID
    ticket_id: uuid.UUID
    author: Author
    body: str
    is_internal: bool
    created_at: datetime
    channel: Channel = "portal"
    quoted: str | None = None
    refused_files: list[RefusedFile] = Field(default_factory=list)
    # Mail only: marked automatic (out-of-office, bounce, list), its sender and Message-ID, and
    # whether the original .eml can be downloaded.
    automatic: bool = False
    from_address: str | None = None
    message_id: str | None = None
    has_original: bool = False


class CustomerAttachment(ResponseModel):
    id: uuid.UUID
    file_name: str
    mime_type: str
    size_bytes: int
    sha256: str
    created_at: datetime


class StaffAttachment(CustomerAttachment):
    is_internal: bool
    uploaded_by: PersonRef | None
    comment_id: uuid.UUID | None


class CustomerActions(ResponseModel):
    """What the customer may do on this ticket now."""

    reply: bool
    attach: bool
    withdraw: bool


class StaffActions(ResponseModel):
    """What the staff member may do on this ticket now (from the workflow table)."""

    transitions: list[TicketStatus]
    accept: bool
    assign: bool
    reply: bool
    note: bool
    attach: bool


CsatRating = Literal["good", "okay", "bad"]


class StaffCsat(ResponseModel):
    """The customer's rating of a ticket (services/csat.py)."""

    rating: CsatRating
    comment: str | None
    submitted_at: datetime
    updated_at: datetime
    rated_by: PersonRef | None
    # The resolution rated; ``current`` is false once the ticket was reopened (or resolved again
    # and not yet rated).
    resolved_at: datetime
    current: bool


class CustomerCsat(ResponseModel):
    """The viewer's own rating of the ticket's current resolution (never a colleague's)."""

    rating: CsatRating | None
    comment: str | None
    submitted_at: datetime | None
    expires_at: datetime
    can_rate: bool


class CustomerTicketDetail(CustomerTicket):
    comments: list[CustomerComment] = Field(default_factory=list)
    attachments: list[CustomerAttachment] = Field(default_factory=list)
    # Colleagues of the organization copied on the ticket (services/ccs.py).
    cc: list[PersonRef] = Field(default_factory=list)
    actions: CustomerActions
    # The viewer's own rating while the ticket is resolved (services/csat.py).
    csat: CustomerCsat | None = None


class TicketRef(ResponseModel):
    id: uuid.UUID
    number: int
    title: str


class OpenTicketRef(TicketRef):
    status: TicketStatus


class Requester(ResponseModel):
    id: uuid.UUID
    name: str
    email: str


class StaffTicketDetail(StaffTicket):
    comments: list[StaffComment] = Field(default_factory=list)
    attachments: list[StaffAttachment] = Field(default_factory=list)
    cc: list[PersonRef] = Field(default_factory=list)
    actions: StaffActions
    # Staff only: related tickets (any organization), who asked and what else they have open
    # (newest first, at most 5, this one excluded).
    links: list[TicketRef] = Field(default_factory=list)
    requester: Requester | None = None
    requester_open_tickets: list[OpenTicketRef] = Field(default_factory=list)
    # The customer's rating (services/csat.py), null until one is given.
    csat: StaffCsat | None = None


class CcUpdate(RequestModel):
    """The ticket's whole CC list (replaces the current one): users of its organization."""

    user_ids: list[uuid.UUID] = Field(max_length=50)


class TicketCcs(ResponseModel):
    """Who is copied on a ticket, or who may be (``/cc/candidates``), by name."""

    items: list[PersonRef]
