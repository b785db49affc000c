"""Report answers (definitions: services/reports.py). Durations are business seconds."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Literal

from pydantic import Field

from app.schemas.common import ResponseModel


class ReportCsat(ResponseModel):
    good: int
    okay: int
    bad: int
    score_pct: float | None = Field(description="good / all ratings * 100; null without ratings")


class ReportSummary(ResponseModel):
    created: int
    resolved: int
    backlog: int
    first_response_p50_s: float | None
    first_response_p90_s: float | None
    resolution_p50_s: float | None
    resolution_p90_s: float | None
    accept_p50_s: float | None
    sla_compliance_pct: float | None
    reopen_rate: float | None = Field(description="a fraction 0-1 of the tickets resolved")
    csat: ReportCsat
    from_: datetime = Field(alias="from", description="the range's start (UTC)")
    to: datetime = Field(description="the range's end, exclusive (UTC)")


class ReportSeriesPoint(ResponseModel):
    bucket: date = Field(description="the local day, or the Monday of the week")
    created: int
    resolved: int


class ReportSeries(ResponseModel):
    interval: Literal["day", "week"]
    tz: str
    items: list[ReportSeriesPoint]


class ReportPriorityCounts(ResponseModel):
    P1: int
    P2: int
    P3: int
    P4: int


class ReportAgeBucket(ResponseModel):
    bucket: Literal["lt_1d", "1_3d", "3_7d", "7_30d", "gt_30d"]
    label: str
    count: int
    by_priority: ReportPriorityCounts


class ReportPriorityCount(ResponseModel):
    priority: Literal["P1", "P2", "P3", "P4"]
    count: int


class ReportBacklog(ResponseModel):
    total: int
    by_age: list[ReportAgeBucket]
    by_priority: list[ReportPriorityCount]
    at: datetime


class ReportBreakdownRow(ResponseModel):
    id: uuid.UUID | None = Field(description="null: tickets without an assignee or team")
    name: str
    created: int
    resolved: int
    first_response_p50_s: float | None
    resolution_p50_s: float | None
    sla_compliance_pct: float | None
    csat: ReportCsat


class ReportBreakdown(ResponseModel):
    by: Literal["agent", "team", "organization"]
    items: list[ReportBreakdownRow]


class DashboardStatusCount(ResponseModel):
    status: Literal["NEW", "ACCEPTED", "ASSIGNED", "IN_PROGRESS", "WAITING_CUSTOMER"]
    count: int


class DashboardBreaches(ResponseModel):
    priority: Literal["P1", "P2", "P3", "P4"]
    first_response: int
    resolution: int


class DashboardCounts(ResponseModel):
    open: int
    awaiting_acceptance: int
    breached_open: int
    resolved_last_7d: int
    by_status: list[DashboardStatusCount]
    breaches_by_priority: list[DashboardBreaches] = Field(
        description="breached clocks of the tickets created in the last 30 days"
    )
    per_day: list[ReportSeriesPoint]
    tz: str
