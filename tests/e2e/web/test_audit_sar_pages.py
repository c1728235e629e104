"""The audit search and subject access pages in a real browser, at phone and desktop size.

The admin searches the audit by a case's reference and sees that case's events (and only
those); downloads a subject access bundle whose JSON names the case and holds no victim's or
child's name; an unknown reference shows the error summary. A case manager opening either page
is told they cannot see it and gets no data. Both pages have no axe violations in English and
in Welsh.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from playwright.async_api import Page, expect
from sqlalchemy import select

from core.models import Case, LinkedPerson
from tests.e2e.web.conftest import RunningApp, screenshot, sign_in_as
from tests.e2e.web.test_alerts_panel import in_app_db
from tests.e2e.web.test_team_admin import (
    assert_no_axe_violations_in_both_languages,
    in_english,
    new_referral,
)

ADMIN = "admin@demo.drive-assist.invalid"
CASE_MANAGER = "casey.cm@demo.drive-assist.invalid"


def on_phone(page: Page) -> bool:
    return bool(page.viewport_size and page.viewport_size["width"] == 390)


async def case_with_named_people(database_url: str) -> tuple[str, list[str]]:
    """A demo case with named victims or children: its reference and those names."""

    async def work(container: Any) -> tuple[str, list[str]]:
        async with container.session_factory() as session:
            rows = (
                await session.execute(
                    select(Case.reference, LinkedPerson.name)
                    .join(LinkedPerson, LinkedPerson.case_id == Case.id)
                    .where(LinkedPerson.name.is_not(None))
                    .order_by(Case.id)
                )
            ).all()
        assert rows, "the demo data should hold cases with named victims or children"
        reference = rows[0][0]
        return reference, [name for ref, name in rows if ref == reference and name]

    reference, names = await in_app_db(database_url, work)
    return str(reference), list(names)


async def test_an_admin_searches_the_audit_by_case_reference_and_sees_that_cases_events(
    page: Page, running_app: RunningApp
) -> None:
    await in_english(running_app.database_url, ADMIN)
    reference = await new_referral(running_app.database_url)
    await sign_in_as(page, running_app.url, ADMIN)

    await page.goto(f"{running_app.url}/admin")
    await page.get_by_role("link", name="Search the audit").click()
    await expect(page.get_by_role("heading", level=1, name="Search the audit")).to_be_visible()
    await page.get_by_label("Case reference (optional)").fill(reference)
    await page.get_by_role("button", name="Search the audit").click()

    await expect(page.get_by_role("heading", name="Events found")).to_be_visible()
    events = page.get_by_test_id("audit-event")
    await expect(events.filter(has_text="case.create")).to_have_count(1)
    created = events.filter(has_text="case.create")
    await expect(created).to_contain_text(reference)
    await expect(created).to_contain_text("Demo Sam")  # the service manager who made it
    await expect(created).to_contain_text("HER")
    # Every event listed is about this case.
    assert await events.count() == await events.filter(has_text=reference).count()
    if on_phone(page):
        await screenshot(page, "audit")
    await assert_no_axe_violations_in_both_languages(page, "audit")
    await expect(events.filter(has_text="case.create")).to_have_count(1)


async def test_an_unknown_case_reference_in_the_audit_search_shows_the_error_summary(
    page: Page, running_app: RunningApp
) -> None:
    await in_english(running_app.database_url, ADMIN)
    await sign_in_as(page, running_app.url, ADMIN)
    await page.goto(f"{running_app.url}/admin/audit")
    await page.get_by_label("Case reference (optional)").fill("ZZZ-9999")
    await page.get_by_role("button", name="Search the audit").click()

    summary = page.locator("#error-summary")
    await expect(summary).to_contain_text("There is no case with that reference at your sites")
    await expect(summary.get_by_role("link")).to_have_attribute(
        "href", re.compile(r"#case_reference$")
    )
    assert await page.get_by_test_id("audit-event").count() == 0

    # Year 9999 (the day after it would overflow): asked for a real date, by the field. (A
    # fresh page: the form redrawn after the search could otherwise undo what is typed next.)
    await page.goto(f"{running_app.url}/admin/audit")
    await expect(page.get_by_role("button", name="Search the audit")).to_be_enabled()
    await page.get_by_label("Case reference (optional)").fill("")
    end_date = page.get_by_role("group", name="End date")
    await end_date.get_by_label("Day").fill("31")
    await end_date.get_by_label("Month").fill("12")
    await end_date.get_by_label("Year").fill("9999")
    await page.get_by_role("button", name="Search the audit").click()
    real_date = "Enter the end date as a real date, like 27 3 2026"
    await expect(page.locator("#date_to-error")).to_contain_text(real_date)
    await expect(summary.get_by_role("link", name=real_date)).to_have_attribute(
        "href", re.compile(r"#date_to$")
    )
    assert await page.get_by_test_id("audit-event").count() == 0


async def test_an_admin_downloads_a_subject_access_bundle_without_victims_names(
    page: Page, running_app: RunningApp, tmp_path: Path
) -> None:
    await in_english(running_app.database_url, ADMIN)
    reference, names = await case_with_named_people(running_app.database_url)
    await sign_in_as(page, running_app.url, ADMIN)

    await page.goto(f"{running_app.url}/admin")
    await page.get_by_role("link", name="Subject access request").click()
    await expect(
        page.get_by_role("heading", level=1, name="Subject access request")
    ).to_be_visible()
    await page.get_by_label("Case reference").fill("ZZZ-9999")
    await page.get_by_role("button", name="Prepare the bundle").click()
    await expect(page.locator("#error-summary")).to_contain_text(
        "There is no case with that reference at your sites"
    )

    await page.get_by_label("Case reference").fill(reference.lower())
    await page.get_by_role("button", name="Prepare the bundle").click()
    await expect(page.get_by_role("heading", name="The bundle is ready")).to_be_visible()
    await expect(page.get_by_test_id("sar-ready")).to_have_text(reference)
    await expect(page.locator("#error-summary")).to_have_count(0)
    if on_phone(page):
        await screenshot(page, "sar")
    await assert_no_axe_violations_in_both_languages(page, "sar")

    async with page.expect_download() as waiting:
        await page.get_by_role("button", name="Download JSON").click()
    download = await waiting.value
    assert download.suggested_filename == f"sar-{reference}.json"
    saved = tmp_path / download.suggested_filename
    await download.save_as(saved)
    text = saved.read_text(encoding="utf-8")
    assert json.loads(text)["subject"]["reference"] == reference
    for name in names:
        assert name not in text

    async with page.expect_download() as waiting:
        await page.get_by_role("button", name="Download web page (HTML)").click()
    html_file = tmp_path / "bundle.html"
    await (await waiting.value).save_as(html_file)
    html_text = html_file.read_text(encoding="utf-8")
    assert reference in html_text
    for name in names:
        assert name not in html_text


@pytest.mark.phone_only
async def test_a_case_manager_opening_the_audit_or_subject_access_is_told_they_cannot(
    page: Page, running_app: RunningApp
) -> None:
    await in_english(running_app.database_url, CASE_MANAGER)
    await sign_in_as(page, running_app.url, CASE_MANAGER)

    for path, title in (
        ("/admin/audit", "Search the audit"),
        ("/admin/sar", "Subject access request"),
    ):
        await page.goto(f"{running_app.url}{path}")
        await expect(page.get_by_role("heading", level=1, name=title)).to_be_visible()
        await expect(page.get_by_role("heading", name="You cannot see this page")).to_be_visible()
        assert await page.get_by_role("button", name="Search the audit").count() == 0
        assert await page.get_by_role("button", name="Prepare the bundle").count() == 0
        assert await page.get_by_test_id("audit-event").count() == 0
