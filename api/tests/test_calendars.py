"""Business-hours calendars (API-2.md "SLA calendars", SLA_CALENDARS.md R1/R8): the admins' CRUD
with the engine's validation named per field, unique names, no deleting a calendar in use, holiday
import from an iCalendar text (recurring and all-day events) and from a country preset, the
audit trail, the policies' and organizations' calendar settings, and running clocks moved by an
edit."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import pytest
from httpx import AsyncClient, Response
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.models import AuditLog, Organization, SlaPolicy, Team, Ticket
from app.models.enums import Role
from tests.factories import audit_rows, make_org, make_user
from tests.factories import bearer_headers as headers_for

C = "/api/admin/calendars"
OFFICE = [{"weekday": d, "start": "09:00", "end": "17:00"} for d in range(5)]
ALWAYS = [{"weekday": d, "start": "00:00", "end": "24:00"} for d in range(7)]

# A real iCalendar text: a yearly all-day event (RRULE), a three-day all-day event (DTEND is
# exclusive), a timed meeting (ignored: not a closed day) and a one-off all-day event years back.
ICS = "\r\n".join(
    [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        "PRODID:-//ATUM DESK tests//EN",
        "BEGIN:VEVENT",
        "UID:founders@example.test",
        "DTSTAMP:20260101T000000Z",
        "DTSTART;VALUE=DATE:20200714",
        "RRULE:FREQ=YEARLY",
        "SUMMARY:Founders' Day",
        "END:VEVENT",
        "BEGIN:VEVENT",
        "UID:winter@example.test",
        "DTSTAMP:20260101T000000Z",
        "DTSTART;VALUE=DATE:20261228",
        "DTEND;VALUE=DATE:20261231",
        "SUMMARY:Winter closure",
        "END:VEVENT",
        "BEGIN:VEVENT",
        "UID:meeting@example.test",
        "DTSTAMP:20260101T000000Z",
        "DTSTART:20261110T100000Z",
        "DTEND:20261110T110000Z",
        "SUMMARY:All hands",
        "END:VEVENT",
        "BEGIN:VEVENT",
        "UID:move@example.test",
        "DTSTAMP:20260101T000000Z",
        "DTSTART;VALUE=DATE:20100301",
        "SUMMARY:Office move",
        "END:VEVENT",
        "END:VCALENDAR",
        "",
    ]
)


def ok(response: Response, status: int = 200) -> Any:
    assert response.status_code == status, response.text
    return response.json()


def refusal(response: Response) -> tuple[str, str]:
    """(field, message) of a 422."""
    assert response.status_code == 422, response.text
    detail = response.json()["detail"]
    assert len(detail) == 1, detail
    return str(detail[0]["loc"][-1]), str(detail[0]["msg"])


@dataclass
class Admins:
    h: dict[str, dict[str, str]] = field(default_factory=dict)

    @property
    def admin(self) -> dict[str, str]:
        return self.h["admin"]


@pytest.fixture
async def who(db: AsyncSession) -> Admins:
    org = await make_org(db)
    people = Admins()
    for role in Role:
        user = await make_user(db, role=role, org=org if not role.is_staff else None)
        people.h[role.value] = await headers_for(db, user)
    return people


async def new_calendar(client: AsyncClient, headers: dict[str, str], **body: Any) -> dict[str, Any]:
    payload = {
        "name": f"Office {uuid.uuid4().hex[:8]}",
        "timezone": "Europe/Berlin",
        "windows": OFFICE,
        **body,
    }
    created: dict[str, Any] = ok(await client.post(C, json=payload, headers=headers), 201)
    return created


class TestCrud:
    async def test_create_read_list_update_delete_audited(
        self, client: AsyncClient, db: AsyncSession, who: Admins
    ) -> None:
        name = f"Berlin {uuid.uuid4().hex[:8]}"
        created = await new_calendar(
            client,
            who.admin,
            name=name,
            windows=[
                {"weekday": 0, "start": "13:00", "end": "17:00"},
                {"weekday": 0, "start": "08:00", "end": "12:00"},
                {"weekday": 4, "start": "08:00", "end": "24:00"},
            ],
            exceptions=[
                {"date": "2026-12-31", "windows": [{"start": "09:00", "end": "12:00"}]},
                {"date": "2026-12-25", "closed": True, "name": "Christmas Day"},
            ],
        )
        assert created["name"] == name
        assert created["timezone"] == "Europe/Berlin"
        # Stored in order: windows by weekday and start, exceptions by date.
        assert created["windows"] == [
            {"weekday": 0, "start": "08:00", "end": "12:00"},
            {"weekday": 0, "start": "13:00", "end": "17:00"},
            {"weekday": 4, "start": "08:00", "end": "24:00"},
        ]
        assert created["exceptions"] == [
            {"date": "2026-12-25", "closed": True, "windows": [], "name": "Christmas Day"},
            {
                "date": "2026-12-31",
                "closed": False,
                "windows": [{"start": "09:00", "end": "12:00"}],
                "name": None,
            },
        ]
        cid = created["id"]
        assert ok(await client.get(f"{C}/{cid}", headers=who.admin)) == created
        listed = ok(await client.get(C, params={"q": name}, headers=who.admin))
        assert [c["id"] for c in listed["items"]] == [cid]

        changed = ok(
            await client.patch(
                f"{C}/{cid}",
                json={"name": name + " (new)", "timezone": "America/New_York", "windows": OFFICE},
                headers=who.admin,
            )
        )
        assert changed["timezone"] == "America/New_York"
        assert changed["windows"] == OFFICE
        assert changed["exceptions"] == created["exceptions"]

        assert (await client.delete(f"{C}/{cid}", headers=who.admin)).status_code == 204
        assert (await client.get(f"{C}/{cid}", headers=who.admin)).status_code == 404

        rows = await audit_rows(db, uuid.UUID(cid))
        assert [r.action for r in rows] == [
            "calendar.created",
            "calendar.updated",
            "calendar.deleted",
        ]
        assert rows[0].new_value is not None and rows[0].new_value["name"] == name
        assert rows[1].old_value == {
            "name": name,
            "timezone": "Europe/Berlin",
            "windows": created["windows"],
        }
        assert rows[1].new_value is not None
        assert set(rows[1].new_value) == {"name", "timezone", "windows"}

    async def test_an_unchanged_patch_records_nothing(
        self, client: AsyncClient, db: AsyncSession, who: Admins
    ) -> None:
        created = await new_calendar(client, who.admin)
        ok(await client.patch(f"{C}/{created['id']}", json={"windows": OFFICE}, headers=who.admin))
        rows = await audit_rows(db, uuid.UUID(created["id"]))
        assert [r.action for r in rows] == ["calendar.created"]

    async def test_names_are_unique_case_insensitively(
        self, client: AsyncClient, who: Admins
    ) -> None:
        name = f"Support {uuid.uuid4().hex[:8]}"
        await new_calendar(client, who.admin, name=name)
        again = await client.post(
            C, json={"name": name.upper(), "timezone": "UTC", "windows": OFFICE}, headers=who.admin
        )
        assert again.status_code == 409
        assert "already exists" in again.json()["detail"]
        other = await new_calendar(client, who.admin)
        renamed = await client.patch(
            f"{C}/{other['id']}", json={"name": name.lower()}, headers=who.admin
        )
        assert renamed.status_code == 409

    async def test_unknown_id_is_404(self, client: AsyncClient, who: Admins) -> None:
        missing = f"{C}/{uuid.uuid4()}"
        assert (await client.get(missing, headers=who.admin)).status_code == 404
        assert (await client.patch(missing, json={}, headers=who.admin)).status_code == 404
        assert (await client.delete(missing, headers=who.admin)).status_code == 404
        imported = await client.post(
            missing + "/holidays", json={"country": "DE", "years": [2026]}, headers=who.admin
        )
        assert imported.status_code == 404


BAD_INPUTS = [
    pytest.param({"timezone": "Mars/Olympus_Mons"}, "timezone", "unknown time zone", id="zone"),
    pytest.param({"timezone": ""}, "timezone", "unknown time zone", id="empty-zone"),
    pytest.param({"timezone": "Europe"}, "timezone", "unknown time zone", id="zone-folder"),
    pytest.param(
        {"windows": [{"weekday": 0, "start": "25:00", "end": "26:00"}]},
        "windows",
        "bad time '25:00'",
        id="hour",
    ),
    pytest.param(
        {"windows": [{"weekday": 0, "start": "9:00", "end": "17:00"}]},
        "windows",
        "expected HH:MM",
        id="format",
    ),
    pytest.param(
        {"windows": [{"weekday": 0, "start": "24:00", "end": "24:00"}]},
        "windows",
        "bad time '24:00'",
        id="24-as-start",
    ),
    pytest.param(
        {"windows": [{"weekday": 2, "start": "17:00", "end": "09:00"}]},
        "windows",
        "start must be before end",
        id="inverted",
    ),
    pytest.param(
        {
            "windows": [
                {"weekday": 1, "start": "09:00", "end": "13:00"},
                {"weekday": 1, "start": "12:00", "end": "17:00"},
            ]
        },
        "windows",
        "windows on Tuesday overlap: 09:00-13:00 and 12:00-17:00",
        id="overlap",
    ),
    pytest.param(
        {"windows": [{"weekday": 7, "start": "09:00", "end": "17:00"}]},
        "weekday",
        "less than or equal to 6",
        id="weekday",
    ),
    pytest.param(
        {
            "exceptions": [
                {"date": "2026-12-25", "closed": True},
                {"date": "2026-12-25", "closed": True, "name": "Again"},
            ]
        },
        "exceptions",
        "exception 2026-12-25 is listed twice",
        id="date-twice",
    ),
    pytest.param(
        {
            "exceptions": [
                {
                    "date": "2026-12-24",
                    "closed": True,
                    "windows": [{"start": "09:00", "end": "12:00"}],
                }
            ]
        },
        "exceptions",
        "closed but lists windows",
        id="closed-with-hours",
    ),
    pytest.param(
        {"exceptions": [{"date": "2026-12-24"}]},
        "exceptions",
        "give windows (special hours) or closed: true",
        id="neither",
    ),
    pytest.param({"exceptions": [{"date": "2026-02-30", "closed": True}]}, "date", "", id="date"),
]


class TestValidation:
    @pytest.mark.parametrize(("change", "where", "message"), BAD_INPUTS)
    async def test_each_bad_input_is_a_clear_422_on_create_and_update(
        self,
        client: AsyncClient,
        who: Admins,
        change: dict[str, Any],
        where: str,
        message: str,
    ) -> None:
        body = {"name": f"Bad {uuid.uuid4().hex[:8]}", "timezone": "UTC", "windows": OFFICE}
        field_name, text = refusal(await client.post(C, json={**body, **change}, headers=who.admin))
        assert (field_name, message in text) == (where, True), text
        created = await new_calendar(client, who.admin)
        field_name, text = refusal(
            await client.patch(f"{C}/{created['id']}", json=change, headers=who.admin)
        )
        assert (field_name, message in text) == (where, True), text
        unchanged = ok(await client.get(f"{C}/{created['id']}", headers=who.admin))
        assert unchanged == created

    async def test_a_window_ending_at_midnight_and_special_hours_are_accepted(
        self, client: AsyncClient, who: Admins
    ) -> None:
        created = await new_calendar(
            client,
            who.admin,
            windows=[
                {"weekday": 5, "start": "00:00", "end": "24:00"},
                {"weekday": 6, "start": "00:00", "end": "06:00"},
            ],
            exceptions=[{"date": "2026-03-29", "windows": [{"start": "02:00", "end": "04:00"}]}],
        )
        assert created["windows"][0]["end"] == "24:00"


class TestAccess:
    async def test_managers_read_admins_write_others_are_refused(
        self, client: AsyncClient, who: Admins
    ) -> None:
        created = await new_calendar(client, who.admin)
        one = f"{C}/{created['id']}"
        assert ok(await client.get(one, headers=who.h["manager"]))["id"] == created["id"]
        assert set(ok(await client.get(C, headers=who.h["manager"]))) == {"items", "next_cursor"}
        body = {"name": "x", "timezone": "UTC"}
        for role in ("manager", "agent", "customer_admin", "customer_user"):
            h = who.h[role]
            assert (await client.post(C, json=body, headers=h)).status_code == 403, role
            assert (await client.patch(one, json={"name": "y"}, headers=h)).status_code == 403
            assert (await client.delete(one, headers=h)).status_code == 403
            imported = await client.post(
                one + "/holidays", json={"country": "DE", "years": [2026]}, headers=h
            )
            assert imported.status_code == 403
        for role in ("agent", "customer_admin", "customer_user"):
            assert (await client.get(C, headers=who.h[role])).status_code == 403, role
            assert (await client.get(one, headers=who.h[role])).status_code == 403, role
        assert (await client.get(C)).status_code == 401
        assert ok(await client.get(one, headers=who.admin)) == created


class TestDelete:
    async def test_a_calendar_in_use_is_not_deleted_and_the_answer_names_the_users(
        self, client: AsyncClient, db: AsyncSession, who: Admins
    ) -> None:
        created = await new_calendar(client, who.admin)
        cid = uuid.UUID(created["id"])
        org = await make_org(db, name=f"Acme {uuid.uuid4().hex[:6]}")
        policy = SlaPolicy(
            id=uuid.uuid4(),
            org_id=org.id,
            priority="P2",
            first_response_minutes=60,
            resolution_minutes=480,
            calendar_id=cid,
        )
        db.add(policy)
        await db.flush()
        one = f"{C}/{cid}"

        refused = await client.delete(one, headers=who.admin)
        assert refused.status_code == 409
        assert refused.json()["detail"] == (
            f"The calendar is in use by SLA policies P2 ({org.name})"
        )
        policy.calendar_id = None
        org.sla_calendar_id = cid
        await db.flush()
        refused = await client.delete(one, headers=who.admin)
        assert refused.json()["detail"] == f"The calendar is in use by organizations {org.name}"

        org.sla_calendar_id = None
        customer = await make_user(db, role=Role.CUSTOMER_USER, org=org)
        ticket = Ticket(
            id=uuid.uuid4(),
            org_id=org.id,
            created_by=customer.id,
            status="ACCEPTED",
            priority="P2",
            title="Running clock",
            description="x",
            sla_calendar_id=cid,
            sla_running_since=datetime.now().astimezone(),
        )
        db.add(ticket)
        await db.flush()
        refused = await client.delete(one, headers=who.admin)
        assert refused.status_code == 409
        assert (
            refused.json()["detail"]
            == "The calendar is in use by 1 ticket with a running SLA clock"
        )
        assert [r.action for r in await audit_rows(db, cid)] == ["calendar.created"]

        # A clock that no longer runs does not keep the calendar: the ticket forgets it.
        ticket.sla_running_since = None
        await db.flush()
        assert (await client.delete(one, headers=who.admin)).status_code == 204
        await db.refresh(ticket)
        assert ticket.sla_calendar_id is None
        assert [r.action for r in await audit_rows(db, cid)] == [
            "calendar.created",
            "calendar.deleted",
        ]


class TestIcsImport:
    async def test_recurring_and_all_day_events_become_closed_days_once(
        self, client: AsyncClient, db: AsyncSession, who: Admins
    ) -> None:
        created = await new_calendar(
            client, who.admin, exceptions=[{"date": "2026-07-14", "closed": True, "name": "Mine"}]
        )
        url = f"{C}/{created['id']}/holidays"
        answer = ok(await client.post(url, json={"ics": ICS}, headers=who.admin))
        this_year = datetime.now().year
        yearly = [f"{y}-07-14" for y in range(this_year - 1, this_year + 4)]
        expected = sorted(
            [d for d in yearly if d != "2026-07-14"]
            + ["2026-12-28", "2026-12-29", "2026-12-30", "2010-03-01"]
        )
        assert [e["date"] for e in answer["added"]] == expected
        assert answer["skipped"] == (["2026-07-14"] if "2026-07-14" in yearly else [])
        assert answer["ignored"] == 1
        by_date = {e["date"]: e for e in answer["calendar"]["exceptions"]}
        assert by_date["2026-12-29"] == {
            "date": "2026-12-29",
            "closed": True,
            "windows": [],
            "name": "Winter closure",
        }
        assert by_date["2010-03-01"]["name"] == "Office move"
        assert "2026-12-31" not in by_date  # DTEND is exclusive
        assert "2026-11-10" not in by_date  # a timed meeting is not a closed day
        if "2026-07-14" in yearly:
            assert by_date["2026-07-14"]["name"] == "Mine"  # an existing date is kept
        assert ok(await client.get(f"{C}/{created['id']}", headers=who.admin)) == answer["calendar"]

        again = ok(await client.post(url, json={"ics": ICS}, headers=who.admin))
        assert again["added"] == []
        assert again["skipped"] == sorted(set(expected) | ({"2026-07-14"} & set(yearly)))
        assert again["calendar"] == answer["calendar"]

        rows = await audit_rows(db, uuid.UUID(created["id"]), "calendar.holidays_imported")
        assert len(rows) == 2
        assert rows[0].new_value is not None
        assert rows[0].new_value["added"] == expected
        assert rows[0].new_value["ics"] is True

    async def test_years_narrow_the_expansion(self, client: AsyncClient, who: Admins) -> None:
        created = await new_calendar(client, who.admin)
        answer = ok(
            await client.post(
                f"{C}/{created['id']}/holidays",
                json={"ics": ICS, "years": [2030, 2032]},
                headers=who.admin,
            )
        )
        assert [e["date"] for e in answer["added"]] == ["2030-07-14", "2032-07-14"]

    @pytest.mark.parametrize(
        ("ics", "message"),
        [
            ("garbage", "Not a readable iCalendar text"),
            ("", "Not a readable iCalendar text"),
            ("BEGIN:VEVENT\r\nEND:VEVENT\r\n", "it must start with BEGIN:VCALENDAR"),
            (
                "BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nDTSTART;VALUE=DATE:2026XX\r\n"
                "END:VEVENT\r\nEND:VCALENDAR\r\n",
                "cannot be read",
            ),
            (
                "BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nUID:x\r\nDTSTART;VALUE=DATE:20260101\r\n"
                "RRULE:FREQ=YEARLY;COUNT=many\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n",
                "cannot be read",
            ),
            (
                "BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nUID:x\r\nDTSTART;VALUE=DATE:20260101\r\n"
                "RRULE:FREQ=DAILY\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n",
                "more than 500 dates",
            ),
            (
                "BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nUID:x\r\nDTSTART;VALUE=DATE:20260101\r\n"
                "RRULE:FREQ=HOURLY\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n",
                "more often than daily",
            ),
        ],
        ids=["garbage", "empty", "no-calendar", "bad-date", "bad-rule", "too-many", "hourly"],
    )
    async def test_unreadable_or_unbounded_ics_is_a_422(
        self, client: AsyncClient, db: AsyncSession, who: Admins, ics: str, message: str
    ) -> None:
        created = await new_calendar(client, who.admin)
        response = await client.post(
            f"{C}/{created['id']}/holidays", json={"ics": ics}, headers=who.admin
        )
        where, text = refusal(response)
        assert where == "ics" and message in text, text
        assert ok(await client.get(f"{C}/{created['id']}", headers=who.admin)) == created
        assert not await audit_rows(db, uuid.UUID(created["id"]), "calendar.holidays_imported")

    async def test_an_endless_timed_rule_is_not_expanded(
        self, client: AsyncClient, who: Admins
    ) -> None:
        created = await new_calendar(client, who.admin)
        ics = (
            "BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nUID:x\r\nDTSTART:20260101T000000Z\r\n"
            "RRULE:FREQ=SECONDLY\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
        )
        answer = ok(
            await client.post(f"{C}/{created['id']}/holidays", json={"ics": ics}, headers=who.admin)
        )
        assert (answer["added"], answer["ignored"]) == ([], 1)

    async def test_a_body_over_the_limit_is_refused(self, client: AsyncClient, who: Admins) -> None:
        created = await new_calendar(client, who.admin)
        url = f"{C}/{created['id']}/holidays"
        near = "BEGIN:VCALENDAR\r\n" + "X-PAD:" + "a" * 1_000_000 + "\r\nEND:VCALENDAR\r\n"
        response = await client.post(url, json={"ics": near}, headers=who.admin)
        assert response.status_code in (413, 422), response.text
        if response.status_code == 422:
            assert response.json()["detail"][0]["loc"] == ["body", "ics"]


class TestCountryImport:
    async def test_german_holidays_with_and_without_a_state(
        self, client: AsyncClient, db: AsyncSession, who: Admins
    ) -> None:
        created = await new_calendar(client, who.admin)
        url = f"{C}/{created['id']}/holidays"
        answer = ok(
            await client.post(url, json={"country": "de", "years": [2026]}, headers=who.admin)
        )
        added = {e["date"]: e for e in answer["added"]}
        assert added["2026-12-25"] == {
            "date": "2026-12-25",
            "closed": True,
            "windows": [],
            "name": "Christmas Day",
        }
        assert "2026-12-26" in added
        assert "2026-10-03" in added
        assert "2026-01-06" not in added  # Epiphany: some states only
        assert answer["skipped"] == []

        bavaria = ok(
            await client.post(
                url,
                json={"country": "DE", "subdivision": "by", "years": [2026, 2027]},
                headers=who.admin,
            )
        )
        new = [e["date"] for e in bavaria["added"]]
        assert "2026-01-06" in new and "2027-01-06" in new and "2027-12-25" in new
        assert "2026-12-25" in bavaria["skipped"] and "2026-12-25" not in new
        rows = await audit_rows(db, uuid.UUID(created["id"]), "calendar.holidays_imported")
        assert rows[-1].new_value is not None
        assert rows[-1].new_value["country"] == "DE"
        assert rows[-1].new_value["subdivision"] == "by"
        assert rows[-1].new_value["years"] == [2026, 2027]

    @pytest.mark.parametrize(
        ("body", "where", "message"),
        [
            ({"country": "XX", "years": [2026]}, "country", "Unknown country 'XX'"),
            (
                {"country": "DE", "subdivision": "ZZ", "years": [2026]},
                "subdivision",
                "Unknown subdivision 'ZZ' of DE: one of BB, BE, BW, BY",
            ),
            ({"country": "DE"}, "body", "years are required with country"),
            ({"country": "DE", "years": [1999]}, "body", "years must lie within 2000-2100"),
            (
                {"country": "DE", "years": [2026, 2027, 2028, 2029, 2030, 2031]},
                "body",
                "at most 5 distinct years",
            ),
            ({"years": [2026]}, "body", "give exactly one of ics or country"),
            (
                {"country": "DE", "ics": "BEGIN:VCALENDAR", "years": [2026]},
                "body",
                "give exactly one of ics or country",
            ),
            ({"subdivision": "BY", "ics": "x"}, "body", "subdivision needs a country"),
        ],
        ids=[
            "country",
            "subdivision",
            "no-years",
            "old-year",
            "six-years",
            "no-source",
            "two-sources",
            "subdivision-alone",
        ],
    )
    async def test_bad_requests_are_clear_422s(
        self, client: AsyncClient, who: Admins, body: dict[str, Any], where: str, message: str
    ) -> None:
        created = await new_calendar(client, who.admin)
        response = await client.post(f"{C}/{created['id']}/holidays", json=body, headers=who.admin)
        field_name, text = refusal(response)
        assert field_name == where and message in text, text
        assert len(text) < 600

    async def test_repeated_years_count_once(self, client: AsyncClient, who: Admins) -> None:
        created = await new_calendar(client, who.admin)
        answer = ok(
            await client.post(
                f"{C}/{created['id']}/holidays",
                json={"country": "DE", "years": [2026, 2026, 2026, 2026, 2026, 2026]},
                headers=who.admin,
            )
        )
        assert "2026-12-25" in [e["date"] for e in answer["added"]]


class TestPolicyAndOrganizationSettings:
    async def test_policy_fields_round_trip_and_are_validated(
        self, client: AsyncClient, db: AsyncSession, who: Admins
    ) -> None:
        calendar = await new_calendar(client, who.admin)
        org = await make_org(db)
        staff = await make_user(db, role=Role.AGENT)
        customer = await make_user(db, role=Role.CUSTOMER_USER, org=org)
        team = Team(id=uuid.uuid4(), name=f"Escalations {uuid.uuid4().hex[:6]}")
        db.add(team)
        await db.flush()
        body = {
            "org_id": str(org.id),
            "priority": "P1",
            "first_response_minutes": 30,
            "resolution_minutes": 240,
        }
        plain = ok(await client.post("/api/sla", json=body, headers=who.admin), 201)
        assert (plain["calendar_id"], plain["warn_pct"], plain["warn_minutes"]) == (None, 80, None)
        assert plain["escalate_after_minutes"] is None
        pid = plain["id"]
        full = {
            "calendar_id": calendar["id"],
            "warn_pct": 75,
            "warn_minutes": 15,
            "escalate_after_minutes": 60,
            "escalate_to_user_id": str(staff.id),
            "escalate_to_team_id": str(team.id),
        }
        changed = ok(await client.patch(f"/api/sla/{pid}", json=full, headers=who.admin))
        assert {k: changed[k] for k in full} == full
        assert ok(await client.get(f"/api/sla/{pid}", headers=who.h["agent"]))["warn_pct"] == 75
        rows = await audit_rows(db, uuid.UUID(pid), "sla_policy.updated")
        assert (
            rows[-1].new_value is not None and rows[-1].new_value["calendar_id"] == calendar["id"]
        )

        # Leaving fields out keeps them; null clears the nullable ones.
        kept = ok(await client.patch(f"/api/sla/{pid}", json={"warn_pct": 90}, headers=who.admin))
        assert kept["calendar_id"] == calendar["id"] and kept["warn_minutes"] == 15
        cleared = ok(
            await client.patch(
                f"/api/sla/{pid}",
                json={"calendar_id": None, "escalate_to_user_id": None},
                headers=who.admin,
            )
        )
        assert cleared["calendar_id"] is None and cleared["escalate_to_user_id"] is None
        assert cleared["escalate_to_team_id"] == str(team.id)

        bad = [
            ({"calendar_id": str(uuid.uuid4())}, "calendar_id"),
            ({"warn_pct": 0}, "warn_pct"),
            ({"warn_pct": 101}, "warn_pct"),
            ({"warn_minutes": 0}, "warn_minutes"),
            ({"escalate_to_team_id": None}, "escalate_after_minutes"),
            ({"escalate_to_user_id": str(customer.id)}, "escalate_to_user_id"),
            ({"escalate_to_team_id": str(uuid.uuid4())}, "escalate_to_team_id"),
        ]
        for change, where in bad:
            response = await client.patch(f"/api/sla/{pid}", json=change, headers=who.admin)
            assert refusal(response)[0] == where, (change, response.text)
        on_create = await client.post(
            "/api/sla",
            json={**body, "priority": "P3", "escalate_after_minutes": 30},
            headers=who.admin,
        )
        assert refusal(on_create) == (
            "escalate_after_minutes",
            "An escalation needs escalate_to_user_id or escalate_to_team_id",
        )
        unknown = await client.post(
            "/api/sla",
            json={**body, "priority": "P4", "calendar_id": str(uuid.uuid4())},
            headers=who.admin,
        )
        assert refusal(unknown)[0] == "calendar_id"
        final = (
            await db.execute(select(SlaPolicy).where(SlaPolicy.id == uuid.UUID(pid)))
        ).scalar_one()
        await db.refresh(final)
        assert (final.warn_pct, final.escalate_to_team_id) == (90, team.id)

    async def test_an_organization_calendar_is_set_by_admins_and_read_by_staff(
        self, client: AsyncClient, db: AsyncSession, who: Admins
    ) -> None:
        calendar = await new_calendar(client, who.admin)
        org = await make_org(db)
        url = f"/api/orgs/{org.id}"
        assert ok(await client.get(url, headers=who.h["agent"]))["sla_calendar_id"] is None
        set_ = ok(
            await client.patch(url, json={"sla_calendar_id": calendar["id"]}, headers=who.admin)
        )
        assert set_["sla_calendar_id"] == calendar["id"]
        assert (
            ok(await client.get(url, headers=who.h["agent"]))["sla_calendar_id"] == calendar["id"]
        )
        renamed = ok(
            await client.patch(url, json={"name": f"Kept {org.id.hex[:6]}"}, headers=who.admin)
        )
        assert renamed["sla_calendar_id"] == calendar["id"]
        refused = await client.patch(url, json={"sla_calendar_id": None}, headers=who.h["manager"])
        assert refused.status_code == 403
        assert (
            refusal(
                await client.patch(
                    url, json={"sla_calendar_id": str(uuid.uuid4())}, headers=who.admin
                )
            )[0]
            == "sla_calendar_id"
        )
        cleared = ok(await client.patch(url, json={"sla_calendar_id": None}, headers=who.admin))
        assert cleared["sla_calendar_id"] is None
        rows = (
            (
                await db.execute(
                    select(AuditLog)
                    .where(AuditLog.entity_id == org.id, AuditLog.action == "org.updated")
                    .order_by(AuditLog.seq)
                )
            )
            .scalars()
            .all()
        )
        assert [r.new_value for r in rows if r.new_value and "sla_calendar_id" in r.new_value] == [
            {"sla_calendar_id": calendar["id"]},
            {"sla_calendar_id": None},
        ]
        created = ok(
            await client.post(
                "/api/orgs",
                json={"name": f"New {uuid.uuid4().hex[:6]}", "sla_calendar_id": calendar["id"]},
                headers=who.admin,
            ),
            201,
        )
        assert created["sla_calendar_id"] == calendar["id"]
        stored = await db.get(Organization, uuid.UUID(created["id"]))
        assert stored is not None and str(stored.sla_calendar_id) == calendar["id"]


class TestRunningClocks:
    """R8: an edit keeps the time used and moves the deadlines of the clocks running on it."""

    async def _running_ticket(
        self, client: AsyncClient, db: AsyncSession, who: Admins, calendar_id: str | None
    ) -> tuple[Organization, Ticket]:
        org = await make_org(db)
        db.add(
            SlaPolicy(
                id=uuid.uuid4(),
                org_id=org.id,
                priority="P3",
                first_response_minutes=8 * 60,
                resolution_minutes=40 * 60,
                calendar_id=uuid.UUID(calendar_id) if calendar_id else None,
            )
        )
        await db.flush()
        customer = await make_user(db, role=Role.CUSTOMER_USER, org=org)
        created = ok(
            await client.post(
                "/api/tickets",
                json={"title": "Printer", "description": "Offline.", "priority": "P3"},
                headers=await headers_for(db, customer),
            ),
            201,
        )
        ok(
            await client.post(
                f"/api/internal/tickets/{created['id']}/accept", json={}, headers=who.h["manager"]
            )
        )
        ticket = await db.get(Ticket, uuid.UUID(created["id"]))
        assert ticket is not None
        await db.refresh(ticket)
        assert ticket.sla_running_since is not None
        return org, ticket

    @staticmethod
    def _due_on_24_7(ticket: Ticket) -> datetime:
        assert ticket.sla_running_since is not None and ticket.sla_resolution_target_s
        left = ticket.sla_resolution_target_s - ticket.sla_resolution_consumed_s
        return ticket.sla_running_since + timedelta(seconds=left)

    async def test_a_calendar_edit_and_an_import_move_running_deadlines(
        self, client: AsyncClient, db: AsyncSession, who: Admins
    ) -> None:
        calendar = await new_calendar(client, who.admin, windows=OFFICE)
        _, ticket = await self._running_ticket(client, db, who, calendar["id"])
        assert ticket.sla_calendar_id == uuid.UUID(calendar["id"])
        office_due = ticket.sla_resolution_due_at
        assert office_due is not None and office_due > self._due_on_24_7(ticket)

        ok(await client.patch(f"{C}/{calendar['id']}", json={"windows": ALWAYS}, headers=who.admin))
        await db.refresh(ticket)
        assert ticket.sla_resolution_due_at is not None
        assert abs((ticket.sla_resolution_due_at - self._due_on_24_7(ticket)).total_seconds()) < 2

        # Closing the next days (an import) pushes the deadline out again.
        moved = ticket.sla_resolution_due_at
        today = datetime.now().astimezone().date()
        ics = "\r\n".join(
            ["BEGIN:VCALENDAR"]
            + [
                f"BEGIN:VEVENT\r\nUID:d{n}\r\nDTSTART;VALUE=DATE:"
                f"{(today + timedelta(days=n)).strftime('%Y%m%d')}\r\nSUMMARY:Closed\r\nEND:VEVENT"
                for n in range(0, 5)
            ]
            + ["END:VCALENDAR", ""]
        )
        ok(
            await client.post(
                f"{C}/{calendar['id']}/holidays", json={"ics": ics}, headers=who.admin
            )
        )
        await db.refresh(ticket)
        assert ticket.sla_resolution_due_at is not None and ticket.sla_resolution_due_at > moved

    async def test_an_organization_calendar_and_a_policy_calendar_move_running_deadlines(
        self, client: AsyncClient, db: AsyncSession, who: Admins
    ) -> None:
        office = await new_calendar(client, who.admin, windows=OFFICE)
        org, ticket = await self._running_ticket(client, db, who, None)
        assert ticket.sla_calendar_id is None
        assert ticket.sla_resolution_due_at == self._due_on_24_7(ticket)

        ok(
            await client.patch(
                f"/api/orgs/{org.id}", json={"sla_calendar_id": office["id"]}, headers=who.admin
            )
        )
        await db.refresh(ticket)
        assert ticket.sla_calendar_id == uuid.UUID(office["id"])
        assert ticket.sla_resolution_due_at is not None
        assert ticket.sla_resolution_due_at > self._due_on_24_7(ticket)

        ok(
            await client.patch(
                f"/api/orgs/{org.id}", json={"sla_calendar_id": None}, headers=who.admin
            )
        )
        await db.refresh(ticket)
        assert ticket.sla_calendar_id is None
        policy = (
            await db.execute(
                select(SlaPolicy).where(SlaPolicy.org_id == org.id, SlaPolicy.priority == "P3")
            )
        ).scalar_one()
        ok(
            await client.patch(
                f"/api/sla/{policy.id}", json={"calendar_id": office["id"]}, headers=who.admin
            )
        )
        await db.refresh(ticket)
        assert ticket.sla_calendar_id == uuid.UUID(office["id"])
