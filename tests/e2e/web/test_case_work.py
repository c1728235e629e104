"""Working a case from its page in a real browser at phone width (issue 19): stage moves with a
reason, a risk score, closing with the reason's words, reopening as a new episode, and a
transfer between the demo sites. The case ids come from the app's own database."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from playwright.async_api import Browser, Page, expect
from sqlalchemy import select
from sqlalchemy.ext.asyncio import create_async_engine

from core.enums import Stage
from core.models import Case, Site, User
from seeding.demo import DEMO_EMAIL_DOMAIN
from tests.e2e.web.conftest import VIEWPORTS, RunningApp, sign_in_as
from tests.e2e.web.test_team_admin import assert_no_axe_violations_in_both_languages

CASEY = f"casey.cm@{DEMO_EMAIL_DOMAIN}"  # case manager, Herefordshire
SAM = f"sam.sm@{DEMO_EMAIL_DOMAIN}"  # service manager at HER and WOR


async def _cases(database_url: str, *where: object) -> list[tuple[int, str]]:
    engine = create_async_engine(database_url)
    try:
        async with engine.connect() as connection:
            rows = await connection.execute(
                select(Case.id, Case.reference)
                .join(Site, Site.id == Case.site_id)
                .outerjoin(User, User.id == Case.case_manager_id)
                .where(*where)
                .order_by(Case.id)
            )
            return [(int(case_id), str(reference)) for case_id, reference in rows]
    finally:
        await engine.dispose()


@pytest.fixture
async def phone(browser: Browser) -> AsyncIterator[Page]:
    context = await browser.new_context(viewport=VIEWPORTS["phone"], locale="en-GB")
    yield await context.new_page()
    await context.close()


async def test_a_case_manager_moves_her_case_on_and_records_risk(
    running_app: RunningApp, phone: Page
) -> None:
    moving = (Stage.ALLOCATED, Stage.ACTIVE, Stage.INDIRECT)
    case_id, reference = (
        await _cases(running_app.database_url, User.email == CASEY, Case.stage.in_(moving))
    )[0]
    await sign_in_as(phone, running_app.url, CASEY)
    await phone.goto(f"{running_app.url}/case/{case_id}")
    await expect(phone.get_by_role("heading", level=1, name=reference)).to_be_visible()
    await assert_no_axe_violations_in_both_languages(phone, "case-page")

    for stage, why in (("Engaging", "First meeting agreed"), ("Active", "Work under way")):
        await phone.get_by_role("link", name="Change stage", exact=True).click()
        await expect(phone.get_by_role("heading", level=1, name="Change stage")).to_be_visible()
        await phone.get_by_label(stage, exact=True).check()
        await phone.get_by_label("Why? (optional)").fill(why)
        await phone.get_by_role("button", name="Save").click()
        await expect(phone.locator("#confirmation")).to_contain_text(f"Stage changed to {stage}")
        history = phone.locator("section[aria-labelledby='stage-history']")
        await expect(history).to_contain_text(why)

    summary = phone.locator(".summary-list").first
    await expect(summary).to_contain_text("Active")
    await phone.get_by_role("link", name="Record risk", exact=True).click()
    await expect(phone.get_by_role("heading", level=1, name="Record risk")).to_be_visible()
    await assert_no_axe_violations_in_both_languages(phone, "case-risk")
    await phone.goto(f"{running_app.url}/case/{case_id}/risk")  # the form, drawn once
    await expect(phone.get_by_label("Or the DASH score")).to_be_editable()
    await phone.get_by_label("Or the DASH score").fill("25")
    await phone.get_by_role("button", name="Save").click()
    await expect(phone.locator("#dash_score-error")).to_be_visible()
    await phone.get_by_label("Or the DASH score").fill("15")
    await phone.get_by_role("button", name="Save").click()
    await expect(phone.locator("#confirmation")).to_contain_text("Risk assessment recorded: High")
    await expect(summary).to_contain_text("High")
    await expect(
        phone.locator("table").filter(has_text="DASH score").locator("tr").last
    ).to_contain_text("15")


async def test_a_service_manager_closes_a_case_with_words_for_other_then_reopens_it(
    running_app: RunningApp, phone: Page
) -> None:
    open_here = (Site.code == "HER", Case.stage.in_((Stage.ENGAGING, Stage.ACTIVE)))
    case_id, reference = (await _cases(running_app.database_url, *open_here))[-1]
    await sign_in_as(phone, running_app.url, SAM)
    await phone.goto(f"{running_app.url}/case/{case_id}")
    await phone.get_by_role("link", name="Close case", exact=True).click()
    await expect(phone.get_by_role("heading", level=1, name="Close the case")).to_be_visible()
    await phone.get_by_label("Other", exact=True).check()
    await phone.get_by_role("button", name="Close the case").click()
    await expect(phone.locator("#reason_other-error")).to_contain_text("Other")
    await expect(phone.locator("#error-summary")).to_be_visible()

    await phone.get_by_label("If other, what is the reason?").fill("Moved into treatment")
    await phone.locator("#abuse_physical-no").check()
    await phone.locator("#abuse_sexual-no").check()
    await phone.locator("#abuse_harassment_stalking-yes").check()
    await phone.locator("#abuse_jealous_controlling-not_known").check()
    await phone.get_by_role("button", name="Close the case").click()
    await expect(phone.locator("#confirmation")).to_contain_text(f"{reference} closed")
    await expect(phone.locator(".summary-list").first).to_contain_text("Closed")

    await phone.get_by_role("link", name="Reopen", exact=True).click()
    await phone.get_by_role("button", name="Reopen the case").click()
    await expect(phone.locator("#reason-error")).to_be_visible()
    await phone.get_by_label("Why is the case being reopened?").fill("New referral from MARAC")
    await phone.get_by_role("button", name="Reopen the case").click()
    await expect(phone.locator("#confirmation")).to_contain_text("reopened")
    history = phone.locator("section[aria-labelledby='stage-history']")
    await expect(history).to_contain_text("Episode 1")
    await expect(history).to_contain_text("Episode 2")
    await expect(history).to_contain_text("Other: Moved into treatment")
    await expect(history).to_contain_text("New referral from MARAC")


async def test_a_service_manager_of_both_sites_transfers_a_case_and_the_old_reference_finds_it(
    running_app: RunningApp, phone: Page
) -> None:
    here = (Site.code == "HER", Case.stage.in_((Stage.ALLOCATED, Stage.ENGAGING)))
    case_id, old_reference = (await _cases(running_app.database_url, *here))[0]
    await sign_in_as(phone, running_app.url, SAM)
    await phone.goto(f"{running_app.url}/case/{case_id}")
    await phone.get_by_role("link", name="Transfer", exact=True).click()
    await phone.get_by_role("button", name="Transfer the case").click()
    await expect(phone.locator("#to_site-error")).to_be_visible()
    await phone.locator("input[name='to_site_id']").first.check()  # the one other: WOR
    await phone.get_by_role("button", name="Transfer the case").click()
    confirmation = phone.locator("#confirmation")
    await expect(confirmation).to_contain_text("Its new reference is WOR")
    new_reference = (await phone.get_by_role("heading", level=1).inner_text()).strip()
    assert new_reference.startswith("WOR") and new_reference != old_reference
    await expect(confirmation).to_contain_text(old_reference)

    await phone.goto(f"{running_app.url}/case/{case_id}")  # the same case, as bookmarked
    await expect(phone.get_by_role("heading", level=1, name=new_reference)).to_be_visible()
    await expect(phone.locator(".summary-list").first).to_contain_text(old_reference)
