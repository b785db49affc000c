"""Reports in a real browser (the built web/dist served by uvicorn): a manager opens
/desk/reports, picks March 2025 where a small fixture of two organizations sits, reads the KPI
figures, narrows to one organization and sees them change, and downloads the tickets CSV with the
same filters. The page passes axe-core; its picture goes to docs/screenshots/desk-reports.png."""

from __future__ import annotations

import csv
import io
import re
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import asyncpg
import pytest
from playwright.async_api import Locator, Page, expect
from sqlalchemy.engine import make_url

from tests.browser_support import (
    Live,
    axe_violations,
    chromium,
    csp_violations,
    demo_database,
    live_server,
    require_built_ui,
    screenshot,
    serious,
    sign_in,
)

expect.set_options(timeout=10_000)

MANAGER = "manager@atum.test"
AGENT = "agent@atum.test"
NORTH, SOUTH = "Northwind Reports", "Southwind Reports"


@dataclass
class Stack:
    live: Live
    north_id: str


def _at(day: int, hour: int = 9) -> datetime:
    return datetime(2025, 3, day, hour, tzinfo=UTC)


async def _fixture(database_url: str) -> str:
    """Four tickets resolved in March 2025: three of Northwind (2 h, 3 h, 1 h to resolve in
    business time; one breached), one of Southwind (30 min). Returns Northwind's id."""
    url = make_url(database_url)
    conn = await asyncpg.connect(
        user=url.username,
        password=url.password,
        database=url.database,
        host=url.query.get("host") or url.host,
        port=url.port,
    )
    try:
        creator = await conn.fetchval("SELECT id FROM users WHERE role = 'customer_user' LIMIT 1")
        orgs = {}
        for name in (NORTH, SOUTH):
            orgs[name] = uuid.uuid4()
            await conn.execute(
                "INSERT INTO organizations (id, name, status) VALUES ($1, $2, 'active')",
                orgs[name],
                name,
            )
        rows = [
            (NORTH, 3, 7200.0, False, "Printer offline"),
            (NORTH, 4, 10800.0, True, "=SUM(A1:A2)"),
            (NORTH, 5, 3600.0, False, "VPN drops"),
            (SOUTH, 10, 1800.0, False, "Badge reader"),
        ]
        for org, day, seconds, breached, title in rows:
            created = _at(day)
            await conn.execute(
                """
                INSERT INTO tickets (id, org_id, created_by, status, priority, title, description,
                    created_at, updated_at, accepted_at, accept_business_s, first_responded_at,
                    sla_first_response_consumed_s, resolved_at, sla_resolution_consumed_s,
                    sla_resolution_breached_at, category, channel)
                VALUES ($1, $2, $3, 'RESOLVED', 'P3', $4, 'Fixture.', $5, $5, $6, 900, $7, 1200,
                        $8, $9, $10, 'reports', 'portal')
                """,
                uuid.uuid4(),
                orgs[org],
                creator,
                title,
                created,
                created + timedelta(minutes=15),
                created + timedelta(minutes=40),
                created + timedelta(days=1),
                seconds,
                created + timedelta(hours=5) if breached else None,
            )
        return str(orgs[NORTH])
    finally:
        await conn.close()


@pytest.fixture(scope="module")
async def stack(server_url: str, tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Stack]:
    require_built_ui()
    data_dir = tmp_path_factory.mktemp("browser-reports-data")
    async with (
        demo_database(server_url) as database_url,
        live_server(database_url, data_dir) as base_url,
        chromium() as browser,
    ):
        north = await _fixture(database_url)
        yield Stack(Live(base_url=base_url, browser=browser), north)


def kpi(page: Page, label: str) -> Locator:
    return (
        page.get_by_label("Key figures")
        .locator(".report-kpi")
        .filter(has=page.get_by_text(label, exact=True))
        .locator(".report-kpi__value")
    )


async def test_a_manager_reads_filters_and_downloads_a_report(stack: Stack) -> None:
    context = await stack.live.context()
    try:
        page = await context.new_page()
        await sign_in(page, MANAGER)
        await page.wait_for_url(re.compile(r"/desk/"))
        await page.get_by_role("link", name="Reports").first.click()
        await expect(page.get_by_role("heading", level=1, name="Reports")).to_be_visible()

        await page.get_by_label("Period").select_option("custom")
        await page.get_by_label("From").fill("2025-03-01")
        await page.get_by_label("To").fill("2025-03-31")
        await expect(kpi(page, "Created")).to_have_text("4")
        await expect(kpi(page, "Resolved")).to_have_text("4")
        # 1800, 3600, 7200, 10800 s: the median lies halfway between 1 h and 2 h.
        await expect(kpi(page, "Resolution, median")).to_have_text("1 h 30 min")
        await expect(kpi(page, "SLA compliance")).to_have_text("75 %")
        await expect(kpi(page, "First response, median")).to_have_text("20 min")

        await page.get_by_label("Organization", exact=True).select_option(label=NORTH)
        await expect(kpi(page, "Created")).to_have_text("3")
        await expect(kpi(page, "Resolution, median")).to_have_text("2 h")
        await expect(kpi(page, "SLA compliance")).to_have_text("66.7 %")
        org_table = page.get_by_role("table", name="Per organization")
        await expect(org_table.get_by_role("rowheader", name=NORTH)).to_be_visible()
        await expect(org_table.get_by_role("rowheader", name=SOUTH)).to_have_count(0)

        async with page.expect_download() as waiting:
            await page.get_by_role("link", name="Tickets CSV").click()
        download = await waiting.value
        assert download.suggested_filename.startswith("tickets-")
        path = await download.path()
        rows = list(csv.reader(io.StringIO(path.read_text(encoding="utf-8"))))
        assert rows[0][:3] == ["number", "title", "organization"]
        assert sorted(r[1] for r in rows[1:]) == ["'=SUM(A1:A2)", "Printer offline", "VPN drops"]
        assert {r[2] for r in rows[1:]} == {NORTH}

        # The page over the demo data's last 30 days, charts drawn, for the docs.
        await page.get_by_label("Organization", exact=True).select_option("")
        await page.get_by_label("Period").select_option("30d")
        await expect(kpi(page, "Created")).not_to_have_text("4")
        await expect(page.locator("canvas").first).to_be_visible()
        found = await axe_violations(page)
        assert serious(found) == [], found
        assert await csp_violations(page) == []
        await page.evaluate(
            "() => window.scrollTo(0, document.querySelector('.report-kpis').offsetTop - 24)"
        )
        await screenshot(page, "desk-reports.png")
    finally:
        await context.close()


async def test_an_agent_has_no_reports_but_a_dashboard(stack: Stack) -> None:
    context = await stack.live.context()
    try:
        page = await context.new_page()
        await sign_in(page, AGENT)
        await page.wait_for_url(re.compile(r"/desk/"))
        await expect(page.get_by_role("link", name="Reports")).to_have_count(0)
        await page.goto("/desk/dashboard")
        await expect(page.get_by_label("Key numbers").get_by_text("Open tickets")).to_be_visible()
        async with await stack.live.api(AGENT) as api:
            refused = await api.get("/api/internal/reports/summary")
            assert refused.status_code == 403
            counts = await api.get("/api/internal/reports/dashboard")
            assert counts.status_code == 200
        shown = page.get_by_label("Key numbers").locator(".desk-stat__value").first
        await expect(shown).to_have_text(str(counts.json()["open"]))
    finally:
        await context.close()
