"""Canned replies, macros and bulk actions (the agent's workspace). Staff only: no customer schema
has a field for any of them."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Literal

from pydantic import Field, StrictBool, StringConstraints, field_validator, model_validator

from app.models.enums import Priority, TicketStatus
from app.schemas.common import RequestModel, ResponseModel
from app.schemas.tag import TagName
from app.schemas.ticket import LongText, PersonRef, Reason

Scope = Literal["personal", "team", "shared"]
Title = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
# A canned reply's or a macro comment's text: Markdown with placeholders ({{ customer.name }}).
TemplateBody = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=20_000)
]
# The most actions one macro may hold.
MAX_ACTIONS = 20
# The most tickets one bulk request may change.
MAX_BULK = 1000


def _check_scope(scope: str | None, team_id: uuid.UUID | None) -> None:
    if scope == "team" and team_id is None:
        raise ValueError("A team reply or macro needs a team_id")
    if scope in ("personal", "shared") and team_id is not None:
        raise ValueError("Only a team reply or macro has a team_id")


# ---------------------------------------------------------------- canned replies


class CannedReplyCreate(RequestModel):
    title: Title
    body: TemplateBody
    scope: Scope = "personal"
    team_id: uuid.UUID | None = None

    @model_validator(mode="after")
    def _scope(self) -> CannedReplyCreate:
        _check_scope(self.scope, self.team_id)
        return self


class CannedReplyUpdate(RequestModel):
    """Only the fields given change; a new scope is checked like a new reply's."""

    title: Title | None = None
    body: TemplateBody | None = None
    scope: Scope | None = None
    team_id: uuid.UUID | None = None


class CannedReplyOut(ResponseModel):
    id: uuid.UUID
    title: str
    body: str
    scope: Scope
    team_id: uuid.UUID | None
    team_name: str | None = None
    owner: PersonRef | None
    usage_count: int
    created_at: datetime
    updated_at: datetime
    # Whether the caller may edit or delete it (the owner; managers and admins for team/shared).
    can_edit: bool


class CannedReplyList(ResponseModel):
    items: list[CannedReplyOut]


class Rendered(ResponseModel):
    body: str


# ---------------------------------------------------------------- macro actions


class CommentAction(RequestModel):
    """A public reply or an internal note: a literal body (placeholders allowed) or a canned
    reply's, rendered for the ticket."""

    type: Literal["comment"]
    body: TemplateBody | None = None
    canned_reply_id: uuid.UUID | None = None
    is_internal: StrictBool = False

    @model_validator(mode="after")
    def _one_source(self) -> CommentAction:
        if (self.body is None) == (self.canned_reply_id is None):
            raise ValueError("Give either a body or a canned_reply_id")
        return self


class StatusAction(RequestModel):
    type: Literal["status"]
    status: TicketStatus
    reason: Reason | None = None
    resolution: LongText | None = None
    root_cause: LongText | None = None


class PriorityAction(RequestModel):
    type: Literal["priority"]
    priority: Priority


class TagsAction(RequestModel):
    type: Literal["tags"]
    add: list[TagName] = Field(default_factory=list, max_length=20)
    remove: list[TagName] = Field(default_factory=list, max_length=20)

    @model_validator(mode="after")
    def _something(self) -> TagsAction:
        if not self.add and not self.remove:
            raise ValueError("Give tags to add or to remove")
        return self


class AssignAction(RequestModel):
    """To a person (``assignee_id``, or ``me``: whoever applies it), a team, or both."""

    type: Literal["assign"]
    assignee_id: uuid.UUID | None = None
    team_id: uuid.UUID | None = None
    me: StrictBool = False

    @model_validator(mode="after")
    def _target(self) -> AssignAction:
        if self.me and self.assignee_id is not None:
            raise ValueError("Give either me or an assignee_id")
        if not self.me and self.assignee_id is None and self.team_id is None:
            raise ValueError("Give an assignee, me, a team or both")
        return self


MacroAction = Annotated[
    CommentAction | StatusAction | PriorityAction | TagsAction | AssignAction,
    Field(discriminator="type"),
]


class MacroRef(RequestModel):
    """Bulk only: every action of a saved macro."""

    type: Literal["macro"]
    macro_id: uuid.UUID


BulkAction = Annotated[
    CommentAction | StatusAction | PriorityAction | TagsAction | AssignAction | MacroRef,
    Field(discriminator="type"),
]


# ---------------------------------------------------------------- macros


class MacroCreate(RequestModel):
    name: Title
    actions: list[MacroAction] = Field(min_length=1, max_length=MAX_ACTIONS)
    scope: Scope = "personal"
    team_id: uuid.UUID | None = None

    @model_validator(mode="after")
    def _scope(self) -> MacroCreate:
        _check_scope(self.scope, self.team_id)
        return self


class MacroUpdate(RequestModel):
    name: Title | None = None
    actions: list[MacroAction] | None = Field(default=None, min_length=1, max_length=MAX_ACTIONS)
    scope: Scope | None = None
    team_id: uuid.UUID | None = None


class MacroOut(ResponseModel):
    id: uuid.UUID
    name: str
    actions: list[MacroAction]
    scope: Scope
    team_id: uuid.UUID | None
    team_name: str | None = None
    owner: PersonRef | None
    usage_count: int
    created_at: datetime
    updated_at: datetime
    can_edit: bool


class MacroList(ResponseModel):
    items: list[MacroOut]


# ---------------------------------------------------------------- bulk


class BulkRequest(RequestModel):
    ticket_ids: list[uuid.UUID] = Field(min_length=1, max_length=MAX_BULK)
    action: BulkAction

    @field_validator("ticket_ids", mode="after")
    @classmethod
    def _distinct(cls, value: list[uuid.UUID]) -> list[uuid.UUID]:
        return list(dict.fromkeys(value))


class BulkResult(ResponseModel):
    ticket_id: uuid.UUID
    ok: bool
    status_code: int
    detail: str | None = None


class BulkResponse(ResponseModel):
    results: list[BulkResult]
