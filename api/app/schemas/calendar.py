"""Business-hours calendars (API-2.md "SLA calendars"). Times are local wall-clock ``HH:MM`` of
the calendar's IANA time zone; the engine (services/business_time.py) checks them, so its messages
reach the admin unchanged."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Annotated

from pydantic import Field, StringConstraints, model_validator

from app.schemas.common import RequestModel, ResponseModel

# Checked by the engine (not by a pattern) so a bad value gets its clear message.
Hhmm = Annotated[
    str,
    StringConstraints(max_length=5),
    Field(description="Local time HH:MM (00:00-23:59; 24:00 only as an end)", examples=["09:00"]),
]
CalendarName = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=120)
]
HolidayName = Annotated[str, StringConstraints(strip_whitespace=True, max_length=120)]
# Weekly windows: at most 24 a day; dated exceptions: about 27 years of a country's holidays.
MAX_WINDOWS = 7 * 24
MAX_EXCEPTIONS = 1000
# An ICS body of at most this many characters (the JSON body limit of the API is 1 MiB).
MAX_ICS_CHARS = 1_000_000
MAX_IMPORT_YEARS = 5
FIRST_YEAR, LAST_YEAR = 2000, 2100


class WeeklyWindow(RequestModel):
    weekday: int = Field(ge=0, le=6, description="0 = Monday … 6 = Sunday")
    start: Hhmm
    end: Hhmm


class DayWindow(RequestModel):
    start: Hhmm
    end: Hhmm


class CalendarException(RequestModel):
    date: date
    closed: bool = False
    # Special hours replacing the weekday's windows on that date (only when not closed).
    windows: list[DayWindow] = Field(default_factory=list, max_length=24)
    # A label such as the holiday's name.
    name: HolidayName | None = None


class CalendarCreate(RequestModel):
    name: CalendarName
    timezone: str = Field(max_length=64, examples=["Europe/Berlin"])
    windows: list[WeeklyWindow] = Field(default_factory=list, max_length=MAX_WINDOWS)
    exceptions: list[CalendarException] = Field(default_factory=list, max_length=MAX_EXCEPTIONS)


class CalendarUpdate(RequestModel):
    name: CalendarName | None = None
    timezone: str | None = Field(default=None, max_length=64)
    windows: list[WeeklyWindow] | None = Field(default=None, max_length=MAX_WINDOWS)
    exceptions: list[CalendarException] | None = Field(default=None, max_length=MAX_EXCEPTIONS)


class HolidayImport(RequestModel):
    """Either ``ics`` (an iCalendar text: its all-day events become closed days) or ``country``
    (with an optional ``subdivision``) and ``years``. With ``ics``, ``years`` optionally narrows
    the recurring events' expansion (default: last year to three years ahead)."""

    ics: str | None = Field(default=None, max_length=MAX_ICS_CHARS)
    country: str | None = Field(default=None, min_length=2, max_length=3, examples=["DE"])
    subdivision: str | None = Field(default=None, min_length=1, max_length=20, examples=["BY"])
    years: list[int] | None = Field(default=None, min_length=1, max_length=20)

    @model_validator(mode="after")
    def _one_source(self) -> HolidayImport:
        if (self.ics is None) == (self.country is None):
            raise ValueError("give exactly one of ics or country")
        if self.country is not None and not self.years:
            raise ValueError("years are required with country")
        if self.subdivision is not None and self.country is None:
            raise ValueError("subdivision needs a country")
        if self.years is not None:
            distinct = set(self.years)
            if len(distinct) > MAX_IMPORT_YEARS:
                raise ValueError(f"at most {MAX_IMPORT_YEARS} distinct years")
            outside = sorted(y for y in distinct if not FIRST_YEAR <= y <= LAST_YEAR)
            if outside:
                raise ValueError(f"years must lie within {FIRST_YEAR}-{LAST_YEAR}: {outside}")
        return self


class WeeklyWindowOut(ResponseModel):
    weekday: int
    start: str
    end: str


class DayWindowOut(ResponseModel):
    start: str
    end: str


class CalendarExceptionOut(ResponseModel):
    date: date
    closed: bool
    windows: list[DayWindowOut] = Field(default_factory=list)
    name: str | None = None


class CalendarOut(ResponseModel):
    id: uuid.UUID
    name: str
    timezone: str
    windows: list[WeeklyWindowOut]
    exceptions: list[CalendarExceptionOut]
    created_at: datetime
    updated_at: datetime


class HolidayImportOut(ResponseModel):
    added: list[CalendarExceptionOut]
    skipped: list[date]
    # Timed events of an iCalendar text (not closed days), not imported.
    ignored: int = 0
    calendar: CalendarOut
