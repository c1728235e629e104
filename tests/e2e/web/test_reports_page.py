"""The Reports page in a real browser, at phone and desktop size.

The service manager picks a period covering the demo data and one site, and sees exactly the
figures core's ``build_report`` gives for the same inputs (worked out here against the running
app's database); the CSV they download is ``report_export``'s CSV for the same inputs, small
counts suppressed. A case manager is told they cannot see the page and sees no figures. The page
has no axe violations in English and in Welsh.
"""

from __future__ import annotations

import asyncio
import io
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from playwright.async_api import Page, expect
from sqlalchemy import select

from core.models import Site
from core.schemas.reports import Report
from core.services import report_export, reports
from tests.e2e.web.conftest import RunningApp, screenshot, sign_in_as
from tests.e2e.web.test_alerts_panel import actor, in_app_db, in_english
from tests.e2e.web.test_team_admin import assert_no_axe_violations_in_both_languages
from ui.i18n import Translator
from webapp.components.report_labels import (
    MEASURE_LABELS,
    format_value,
    row_label,
    suppression_note,
)

SERVICE_MANAGER = "sam.sm@demo.drive-assist.invalid"
CASE_MANAGER = "casey.cm@demo.drive-assist.invalid"
SITE_CODE, SITE_LABEL = "HER", "Herefordshire (HER)"
ENGLISH = Translator("en_GB")


def demo_period() -> tuple[date, date]:
    """A period covering every demo case (the demo spreads referrals over the last year)."""
    today = date.today()
    return today - timedelta(days=400), today


async def core_report(database_url: str, email: str, first: date, last: date) -> Report:
    """``build_report`` for one site, as ``email``, against the running app's database."""

    async def work(container: Any) -> Report:
        who = await actor(container, email)
        async with container.session_factory() as session:
            site_id = await session.scalar(select(Site.id).where(Site.code == SITE_CODE))
        return await reports.build_report(
            uow=container.uow(), actor=who, site_id=site_id, period_from=first, period_to=last
        )

    report: Report = await in_app_db(database_url, work)
    return report


async def figures_on_screen(page: Page) -> dict[str, tuple[str, str]]:
    """Every row of the page's tables: its key, then (label, figure) as shown."""
    rows = await page.locator("tr[data-key]").evaluate_all(
        """rows => rows.map(row => [row.dataset.key,
            row.querySelector('th').innerText.trim(), row.querySelector('td').innerText.trim()])"""
    )
    return {key: (name, figure) for key, name, figure in rows}


async def test_a_service_manager_sees_the_figures_core_gives_and_downloads_the_same_csv(
    page: Page, running_app: RunningApp
) -> None:
    await in_english(running_app.database_url, SERVICE_MANAGER)
    first, last = demo_period()
    await sign_in_as(page, running_app.url, SERVICE_MANAGER)

    await page.goto(f"{running_app.url}/reports")
    await expect(page.get_by_role("heading", level=1, name="Reports")).to_be_visible()
    await expect(page.locator("#report-scope")).to_contain_text("All my sites")
    for legend, day in (("First day", first), ("Last day", last)):
        group = page.get_by_role("group", name=legend)
        await group.get_by_label("Day").fill(str(day.day))
        await group.get_by_label("Month").fill(str(day.month))
        await group.get_by_label("Year").fill(str(day.year))
    await page.get_by_label("Site", exact=True).select_option(label=SITE_LABEL)
    await page.get_by_role("button", name="Show figures").click()
    await expect(page.locator("#report-scope")).to_have_text(
        f"Figures for {SITE_LABEL}, {ENGLISH.format_date(first, 'd MMMM yyyy')} to "
        f"{ENGLISH.format_date(last, 'd MMMM yyyy')}."
    )
    await expect(page.get_by_role("heading", name="Funder return")).to_be_visible()
    await expect(page.get_by_role("heading", name="Outcome measures")).to_be_visible()

    report = await core_report(running_app.database_url, SERVICE_MANAGER, first, last)
    rows = report_export.report_rows(report)
    assert report.funder.referrals > 0 and report.outcomes.closed_cases > 0  # demo data shown
    expected = {
        f"{row.measure}|{row.breakdown}": (row_label(row, ENGLISH), format_value(row, ENGLISH))
        for row in rows
    }
    assert {row.measure for row in rows} <= MEASURE_LABELS.keys()  # every figure has words
    assert await figures_on_screen(page) == expected
    referrals = page.locator("tr[data-key='referrals|']")
    await expect(referrals).to_contain_text(f"Referrals received{report.funder.referrals}")

    if page.viewport_size and page.viewport_size["width"] == 390:
        await screenshot(page, "reports")

    async with page.expect_download() as downloading:
        await page.get_by_role("button", name="Download CSV").click()
    download = await downloading.value
    assert download.suggested_filename == (
        f"drive-assist-report-{SITE_CODE}-{first.isoformat()}-to-{last.isoformat()}.csv"
    )
    downloaded = await asyncio.to_thread(Path(await download.path()).read_text, "utf-8")
    stream = io.StringIO()
    report_export.write_csv(rows, report.funder.scope, suppression_note(ENGLISH), stream)
    assert downloaded == stream.getvalue()
    assert downloaded.splitlines()[-1].startswith(f"{SITE_CODE},{first.isoformat()},")

    await assert_no_axe_violations_in_both_languages(page, "reports")


async def test_a_case_manager_opening_reports_is_told_they_cannot_see_it(
    page: Page, running_app: RunningApp
) -> None:
    await in_english(running_app.database_url, CASE_MANAGER)
    await sign_in_as(page, running_app.url, CASE_MANAGER)

    await page.goto(f"{running_app.url}/reports")

    await expect(page.get_by_role("heading", level=1, name="Reports")).to_be_visible()
    await expect(page.get_by_role("heading", name="You cannot see this page")).to_be_visible()
    assert await page.locator("tr[data-key]").count() == 0
    assert await page.get_by_role("button", name="Download CSV").count() == 0
    await assert_no_axe_violations_in_both_languages(page, "reports-not-allowed")
