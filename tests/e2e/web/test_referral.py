"""A new referral in the web app, on a phone: the DASH checklist, the duplicate warning, saving
anyway, the confirmation, and what core then holds."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import date
from typing import Any

import pytest
from playwright.async_api import Browser, Page, expect
from sqlalchemy import func, select

from core.bootstrap import bootstrap
from core.enums import RiskLevel
from core.models import Case, RiskAssessment, Site
from core.settings import Settings
from tests.e2e.web.conftest import VIEWPORTS, RunningApp, open_menu, screenshot, sign_in_as
from tests.e2e.web.test_team_admin import assert_no_axe_violations_in_both_languages

SERVICE_MANAGER = "sam.sm@demo.drive-assist.invalid"
YES_ANSWERS = 15  # of 24: high risk (14 or more)


@pytest.fixture
async def phone(browser: Browser) -> AsyncIterator[Page]:
    context = await browser.new_context(viewport=VIEWPORTS["phone"], locale="en-GB")
    yield await context.new_page()
    await context.close()


async def _in_db(app: RunningApp, query: Any) -> Any:
    container = bootstrap(Settings(database_url=app.database_url))
    try:
        async with container.session_factory() as session:
            return (await session.execute(query)).all()
    finally:
        await container.dispose()


async def _a_her_case_to_look_like(app: RunningApp) -> tuple[str, str, date]:
    """A demo case at HER whose date of birth, day and month swapped, is another real date."""
    rows = await _in_db(
        app,
        select(Case.reference, Case.subject_name, Case.subject_date_of_birth)
        .join(Site, Site.id == Case.site_id)
        .where(Site.code == "HER", Case.subject_date_of_birth.is_not(None))
        .order_by(Case.id),
    )
    for reference, name, born in rows:
        if born.day <= 12 and born.day != born.month:
            return reference, name, born
    raise AssertionError("no demo case at HER with a swappable date of birth")


async def _case_count(app: RunningApp) -> int:
    return int((await _in_db(app, select(func.count()).select_from(Case)))[0][0])


async def _fill_date(page: Page, name: str, day: date) -> None:
    await page.locator(f"#{name}").fill(str(day.day))
    await page.locator(f"#{name}-month").fill(str(day.month))
    await page.locator(f"#{name}-year").fill(str(day.year))


async def test_a_service_manager_enters_a_referral_with_the_dash_checklist_on_a_phone(
    running_app: RunningApp, phone: Page
) -> None:
    page, web_app = phone, running_app.url
    existing, name, born = await _a_her_case_to_look_like(running_app)
    before = await _case_count(running_app)
    await sign_in_as(page, web_app, SERVICE_MANAGER)
    await open_menu(page)
    await page.get_by_role("navigation").get_by_role("link", name="New referral").click()
    await expect(page.get_by_role("heading", level=1, name="New referral")).to_be_visible()
    save = page.get_by_role("button", name="Save referral")
    await expect(save).to_be_enabled(timeout=30_000)

    # Nothing entered: the error summary, each message by its question, nothing saved.
    await save.click()
    summary = page.locator("#error-summary")
    await expect(summary.get_by_role("heading", name="There is a problem")).to_be_visible()
    for message in (
        "Select the site the referral is for",
        "Enter the date of the referral, for example 27 3 2025",
        "Enter the person's full name",
        "Answer every question of the DASH checklist: 24 not answered",
    ):
        await expect(summary.get_by_role("link", name=message)).to_be_visible()
    await expect(page.locator("#name-error")).to_contain_text("Enter the person's full name")
    await screenshot(page, "referral-errors")
    await assert_no_axe_violations_in_both_languages(page, "referral-errors")
    assert await _case_count(running_app) == before

    # The lookalike: same name, day and month of birth swapped.
    await page.get_by_role("radio", name="Herefordshire (HER)").check()
    await _fill_date(page, "referral_date", date.today())
    await page.get_by_role("radio", name="MARAC", exact=True).check()
    await page.get_by_role("radio", name="High risk").check()
    await page.locator("#abuse_physical-yes").check()
    await page.get_by_label("Full name").fill(name)
    await _fill_date(page, "date_of_birth", born.replace(day=born.month, month=born.day))
    for number in range(1, 25):
        answer = "yes" if number <= YES_ANSWERS else "no"
        await page.locator(f"#dash_q{number}-{answer}").check()
    await expect(page.locator("#dash-score")).to_have_text(str(YES_ANSWERS))
    await expect(page.locator("#dash-answered")).to_have_text("24")
    await save.click()

    duplicates = page.locator("#duplicates")
    await expect(duplicates).to_contain_text("There may already be a case for this person")
    await expect(duplicates.get_by_role("link", name=existing)).to_be_visible()
    assert await _case_count(running_app) == before
    await screenshot(page, "referral-duplicates")
    await page.get_by_role("button", name="Save anyway").click()

    panel = page.locator("#confirmation")
    await expect(panel.get_by_role("heading", name="Referral saved")).to_be_visible()
    reference = (await panel.locator("strong").inner_text()).strip()
    assert reference.startswith("HER-") and reference != existing
    await expect(panel).to_contain_text(f"High (DASH score {YES_ANSWERS})")
    await expect(page.get_by_role("link", name="Open the case")).to_be_visible()
    await expect(page.get_by_role("link", name="Allocate a case manager")).to_have_attribute(
        "href", "/case/" + (await _saved_id(running_app, reference)) + "/allocate"
    )
    await screenshot(page, "referral-saved")

    saved = await _in_db(
        running_app,
        select(Case.subject_name, Case.dash_score, Case.start_physical).where(
            Case.reference == reference
        ),
    )
    assert saved == [(name, YES_ANSWERS, True)]
    assessed = await _in_db(
        running_app,
        select(RiskAssessment.level, RiskAssessment.dash_score)
        .join(Case, Case.id == RiskAssessment.case_id)
        .where(Case.reference == reference),
    )
    assert assessed == [(RiskLevel.HIGH, YES_ANSWERS)]
    assert await _case_count(running_app) == before + 1


async def _saved_id(app: RunningApp, reference: str) -> str:
    return str((await _in_db(app, select(Case.id).where(Case.reference == reference)))[0][0])
