"""Saved views of the desk's ticket list: a name and the list query's own filters."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Literal

from pydantic import Field, StringConstraints, model_validator

from app.models.enums import Priority, TicketStatus
from app.schemas.common import RequestModel, ResponseModel
from app.schemas.ticket import Channel

# ``assigned_to`` of the list query and of a view: a user's id, "me" (the caller) or
# "unassigned" (nobody).
AssigneeFilter = Annotated[
    str,
    StringConstraints(
        pattern=r"^(me|unassigned|[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12})$"
    ),
]
# Open, unpaused tickets whose resolution is due within this many hours (or overdue).
DueWithinHours = Annotated[int, Field(ge=1, le=720)]
# The list's order: newest first, or the soonest SLA due first (clocks not running last).
TicketSort = Literal["created", "sla_due"]
TagFilter = Annotated[str, StringConstraints(min_length=1, max_length=40)]
SearchFilter = Annotated[str, StringConstraints(min_length=1, max_length=200)]
ViewName = Annotated[str, StringConstraints(min_length=1, max_length=100)]


class ViewFilters(RequestModel):
    """The names and values of GET /internal/tickets' query; an unknown name is a 422."""

    status: list[TicketStatus] | None = Field(default=None, max_length=len(TicketStatus))
    priority: list[Priority] | None = Field(default=None, max_length=len(Priority))
    assigned_to: AssigneeFilter | None = None
    team_id: uuid.UUID | None = None
    org_id: uuid.UUID | None = None
    tag: TagFilter | None = None
    channel: Channel | None = None
    breached: bool | None = None
    due_within_hours: DueWithinHours | None = None
    q: SearchFilter | None = None
    sort: TicketSort | None = None


class ViewCreate(RequestModel):
    name: ViewName
    # personal: only you; team: the team's members (team_id required).
    scope: Literal["personal", "team"] = "personal"
    team_id: uuid.UUID | None = None
    filters: ViewFilters

    @model_validator(mode="after")
    def _team_for_team_scope(self) -> ViewCreate:
        if (self.scope == "team") != (self.team_id is not None):
            raise ValueError("a team view needs team_id; a personal view has none")
        return self


class ViewUpdate(RequestModel):
    name: ViewName | None = None
    filters: ViewFilters | None = None
    position: Annotated[int, Field(ge=0, le=10_000)] | None = None


class SavedViewOut(ResponseModel):
    id: uuid.UUID
    name: str
    # shared: the built-in views every staff member has (read-only).
    scope: Literal["personal", "team", "shared"]
    team_id: uuid.UUID | None
    owner_id: uuid.UUID | None
    filters: ViewFilters
    position: int
    builtin: bool
    # Whether the caller may rename, change or delete it.
    editable: bool
    created_at: datetime | None
    # How many tickets the view holds now (in lists; null on single answers).
    count: int | None = None


class ViewList(ResponseModel):
    items: list[SavedViewOut]
