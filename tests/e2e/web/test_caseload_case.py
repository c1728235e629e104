"""The Caseload and Case pages in a real browser, at phone and desktop width, with the demo data.

The case ids come from the app's own database (``running_app.database_url``), read with core's
models, so the tests follow the demo data rather than hard-coding ids.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import pytest
from axe_playwright_python.async_playwright import Axe
from playwright.async_api import Browser, Page, expect
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import create_async_engine

from core.enums import OPEN_STAGES, RiskLevel, Stage
from core.models import Case, Contact, LinkedPerson, RiskAssessment, Site, User
from core.schemas.caseload import CaseloadRow
from seeding.demo import DEMO_EMAIL_DOMAIN
from tests.e2e.web.conftest import VIEWPORTS, RunningApp, open_menu, screenshot, sign_in_as
from ui.i18n import Translator
from ui.labels import label
from webapp.components.case_timeline import KEY_VOCABULARIES, label_for_key
from webapp.pages.caseload import NOT_ASSESSED, matches

CASEY = f"casey.cm@{DEMO_EMAIL_DOMAIN}"  # case manager, Herefordshire
MORGAN = f"morgan.cm@{DEMO_EMAIL_DOMAIN}"  # case manager, Herefordshire
RHYS = f"rhys.cm@{DEMO_EMAIL_DOMAIN}"  # case manager, Worcestershire, works in Welsh
FFION = f"ffion.idva@{DEMO_EMAIL_DOMAIN}"  # IDVA at both sites, works in Welsh


@dataclass(frozen=True)
class DemoCase:
    case_id: int
    reference: str
    stage: Stage
    risk: RiskLevel | None
    victim_name: str | None


async def _open_cases_of(database_url: str, email: str) -> list[DemoCase]:
    """The open cases allocated to ``email`` that have contacts, by reference."""
    engine = create_async_engine(database_url)
    try:
        async with engine.connect() as connection:
            latest_risk = (
                select(RiskAssessment.level)
                .where(RiskAssessment.case_id == Case.id)
                .order_by(RiskAssessment.assessed_at.desc(), RiskAssessment.id.desc())
                .limit(1)
                .scalar_subquery()
            )
            victim = (
                select(LinkedPerson.name)
                .where(LinkedPerson.case_id == Case.id, LinkedPerson.name.is_not(None))
                .order_by(LinkedPerson.id)
                .limit(1)
                .scalar_subquery()
            )
            contacts = select(func.count()).where(Contact.case_id == Case.id).scalar_subquery()
            rows = await connection.execute(
                select(Case.id, Case.reference, Case.stage, latest_risk, victim)
                .join(User, User.id == Case.case_manager_id)
                .where(User.email == email, Case.stage.in_(OPEN_STAGES), contacts > 0)
                .order_by(Case.reference)
            )
            return [
                DemoCase(case_id, reference, Stage(stage), RiskLevel(risk) if risk else None, name)
                for case_id, reference, stage, risk, name in rows
            ]
    finally:
        await engine.dispose()


async def _a_case_at(database_url: str, site_code: str) -> tuple[int, str]:
    engine = create_async_engine(database_url)
    try:
        async with engine.connect() as connection:
            row = (
                await connection.execute(
                    select(Case.id, Case.reference)
                    .join(Site, Site.id == Case.site_id)
                    .where(Site.code == site_code)
                    .order_by(Case.id)
                    .limit(1)
                )
            ).one()
            return int(row[0]), str(row[1])
    finally:
        await engine.dispose()


async def _axe_clean(page: Page) -> None:
    results = await Axe().run(page)
    assert results.violations_count == 0, results.generate_report()


# --- In-process: the words the pages build -----------------------------------------------------


def test_every_timeline_label_key_reads_as_a_word_in_both_languages() -> None:
    for locale in ("en_GB", "cy"):
        words = Translator(locale)
        for prefix, vocabulary in KEY_VOCABULARIES.items():
            for member in vocabulary:
                key = f"{prefix}.{member.value}"
                assert label_for_key(key, words) == label(member, words) != key
    assert label_for_key("contact.no_such_type", Translator()) == "contact.no_such_type"


def test_the_caseload_filters_match_stage_risk_and_part_of_the_reference() -> None:
    row = CaseloadRow(
        case_id=1,
        site_id=1,
        reference="HER-0042",
        stage=Stage.ACTIVE,
        referral_reason="high_risk",
        last_contact_at=None,
        next_appointment_at=None,
        next_appointment_place=None,
        current_risk=None,
        current_risk_at=None,
    )
    assert matches(row, stage="", risk_level="", reference="")
    assert matches(row, stage="active", risk_level=NOT_ASSESSED, reference="her-004")
    assert not matches(row, stage="engaging", risk_level="", reference="")
    assert not matches(row, stage="", risk_level="high", reference="")
    assert not matches(row, stage="", risk_level="", reference="WOR")


# --- In the browser ------------------------------------------------------------------------------


async def test_a_case_manager_filters_and_searches_the_caseload_and_opens_a_case(
    running_app: RunningApp, page: Page
) -> None:
    mine = await _open_cases_of(running_app.database_url, CASEY)
    target = mine[0]
    other_stage = next(case for case in mine if case.stage is not target.stage)
    await sign_in_as(page, running_app.url, CASEY)
    await open_menu(page)
    await page.get_by_role("navigation").get_by_role("link", name="Caseload").click()
    await page.wait_for_url(re.compile(r"/caseload/?$"))
    await expect(page.get_by_role("heading", level=1, name="Caseload")).to_be_visible()
    cases = page.locator(".case-card")
    await expect(cases.first).to_be_visible()
    assert await cases.count() >= len(mine)
    await expect(page.get_by_role("link", name=other_stage.reference)).to_be_visible()

    words = Translator()
    await page.get_by_label("Stage").select_option(label=label(target.stage, words))
    await expect(page.get_by_role("link", name=other_stage.reference)).to_have_count(0)
    await expect(page.get_by_role("link", name=target.reference)).to_be_visible()
    risk_name = label(target.risk, words) if target.risk else "Not assessed"
    await page.get_by_label("Risk level").select_option(label=risk_name)
    await expect(page.get_by_role("link", name=target.reference)).to_be_visible()

    await page.get_by_label("Case reference").fill(target.reference.split("-")[1])
    await page.get_by_role("button", name="Apply filters").click()
    await expect(cases).to_have_count(1)
    await expect(page.get_by_role("status")).to_contain_text("1 case of")
    await screenshot(page, "caseload-filtered")

    await page.get_by_role("link", name=target.reference).click()
    await page.wait_for_url(re.compile(rf"/case/{target.case_id}/?$"))
    await expect(page.get_by_role("heading", level=1, name=target.reference)).to_be_visible()
    await expect(page.get_by_role("heading", level=2, name="Timeline")).to_be_visible()
    await expect(page.locator(".timeline-entry").first).to_be_visible()
    await expect(page.get_by_role("heading", level=2, name="Risk history")).to_be_visible()
    await screenshot(page, "case")


@pytest.mark.phone_only
async def test_a_case_manager_who_edits_the_address_to_another_sites_case_sees_page_not_found(
    running_app: RunningApp, page: Page
) -> None:
    elsewhere_id, elsewhere_reference = await _a_case_at(running_app.database_url, "WOR")
    await sign_in_as(page, running_app.url, MORGAN)
    shown: list[str] = []
    for case_id in (str(elsewhere_id), "99999999", "not-a-number"):
        await page.goto(f"{running_app.url}/case/{case_id}")
        await expect(page.get_by_role("heading", level=1, name="Page not found")).to_be_visible()
        main = await page.get_by_role("main").inner_text()
        assert elsewhere_reference not in main
        shown.append(main)
    assert shown[0] == shown[1] == shown[2]
    assert elsewhere_reference not in await page.content()
    await screenshot(page, "case-not-found")


async def test_a_case_manager_does_not_see_victim_details_while_the_idva_does(
    running_app: RunningApp, page: Page, browser: Browser
) -> None:
    case = next(
        case for case in await _open_cases_of(running_app.database_url, MORGAN) if case.victim_name
    )
    assert case.victim_name is not None
    await sign_in_as(page, running_app.url, MORGAN)
    await page.goto(f"{running_app.url}/case/{case.case_id}")
    await expect(page.get_by_role("heading", level=1, name=case.reference)).to_be_visible()
    await expect(page.locator(".timeline-entry").first).to_be_visible()
    await expect(page.locator("#linked-people")).to_have_count(0)
    assert case.victim_name not in await page.content()

    viewport = page.viewport_size or VIEWPORTS["phone"]
    idva_context = await browser.new_context(viewport=viewport, locale="en-GB")
    try:
        idva = await idva_context.new_page()
        await sign_in_as(idva, running_app.url, FFION)
        await idva.goto(f"{running_app.url}/case/{case.case_id}")
        await expect(idva.get_by_role("heading", level=1, name=case.reference)).to_be_visible()
        await expect(idva.locator("#linked-people")).to_be_visible()
        await expect(idva.get_by_role("main")).to_contain_text(case.victim_name)
        await screenshot(idva, "case-idva")
    finally:
        await idva_context.close()


async def test_caseload_and_case_have_no_accessibility_violations_in_english_and_welsh(
    running_app: RunningApp, page: Page, browser: Browser
) -> None:
    # English: a Herefordshire case manager.
    casey_case = (await _open_cases_of(running_app.database_url, CASEY))[0]
    await sign_in_as(page, running_app.url, CASEY)
    await page.goto(f"{running_app.url}/caseload")
    await expect(page.locator(".case-card").first).to_be_visible()
    await _axe_clean(page)
    await page.goto(f"{running_app.url}/case/{casey_case.case_id}")
    await expect(page.locator(".timeline-entry").first).to_be_visible()
    await _axe_clean(page)

    # Welsh: a Worcestershire case manager who works in Welsh (remembered for his account).
    rhys_case = (await _open_cases_of(running_app.database_url, RHYS))[0]
    viewport = page.viewport_size or VIEWPORTS["phone"]
    welsh_context = await browser.new_context(viewport=viewport, locale="cy-GB")
    try:
        welsh = await welsh_context.new_page()
        await sign_in_as(welsh, running_app.url, RHYS)
        await welsh.goto(f"{running_app.url}/caseload")
        await expect(welsh.locator(".case-card").first).to_be_visible()
        await expect(welsh.locator("html [lang='cy']").first).to_be_attached()
        await screenshot(welsh, "caseload-cy")
        await _axe_clean(welsh)
        await welsh.goto(f"{running_app.url}/case/{rhys_case.case_id}")
        await expect(welsh.locator(".timeline-entry").first).to_be_visible()
        await screenshot(welsh, "case-cy")
        await _axe_clean(welsh)
    finally:
        await welsh_context.close()


async def test_after_signing_out_the_back_button_brings_no_victim_details_back(
    running_app: RunningApp, page: Page
) -> None:
    """Reflex keeps a tab's state on the server and sends it again when the tab reconnects:
    signing out must empty it, or going back would bring the victim's details into the
    browser. Every websocket frame after signing out is checked, not only what is drawn."""
    case = next(
        case for case in await _open_cases_of(running_app.database_url, MORGAN) if case.victim_name
    )
    assert case.victim_name is not None
    frames_after_sign_out: list[str] = []
    signed_out = False

    def watch(socket) -> None:  # type: ignore[no-untyped-def]
        def received(payload: str | bytes) -> None:
            if signed_out:
                text = payload if isinstance(payload, str) else payload.decode(errors="replace")
                frames_after_sign_out.append(text)

        socket.on("framereceived", received)

    page.on("websocket", watch)
    await sign_in_as(page, running_app.url, FFION)
    await page.goto(f"{running_app.url}/case/{case.case_id}")
    await expect(page.get_by_role("main")).to_contain_text(case.victim_name)
    await open_menu(page)
    signed_out = True
    await page.get_by_role("button", name=re.compile("Sign out|Allgofnodi")).click()
    await page.wait_for_url(re.compile(r"/sign-in/?$"))
    await page.go_back()
    await page.wait_for_url(re.compile(r"/sign-in/?$"), timeout=30_000)
    await page.wait_for_timeout(1_000)
    assert frames_after_sign_out, "no websocket traffic seen after signing out"
    assert not any(case.victim_name in frame for frame in frames_after_sign_out)
    assert case.victim_name not in await page.content()
