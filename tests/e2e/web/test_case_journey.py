"""The whole life of a case in the web app, as the people would do it, on a phone (issue 19).

A service manager enters a referral with the DASH checklist (the duplicate warning shows for a
lookalike of a demo case) and allocates it; the case manager moves it to engaging and active,
logs contacts and books an appointment from the case page, records a police incident and a MARAC
appearance, and adds and completes an intervention; the IDVA adds a victim (so the case is on
her "My cases") and records a new risk assessment from there; the case manager closes it with a
reason and the abuse types at closure. Then the funder return and the outcome measures for HER
over a period containing today changed by exactly what was entered, read through core, and the
Reports page shows the new figures. Once in English and once with everyone switched to Cymraeg;
each person in their own browser. Elements are found by their stable ids, or by their words in
the reader's language from the catalog.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import pytest
from playwright.async_api import Browser, Page, expect
from sqlalchemy import select

from core.enums import AbuseType, ClosureReason, RiskLevel, Stage
from core.models import Case, Site, User
from core.schemas.reports import Report
from core.services import report_export, reports
from seeding.demo import DEMO_EMAIL_DOMAIN
from tests.e2e.web.conftest import VIEWPORTS, RunningApp, open_menu, screenshot, sign_in_as
from tests.e2e.web.test_alerts_panel import actor, in_app_db, in_english
from ui.i18n import Translator
from ui.labels import label
from webapp.components.report_labels import format_value

SAM = f"sam.sm@{DEMO_EMAIL_DOMAIN}"  # service manager, HER and WOR
CASEY = f"casey.cm@{DEMO_EMAIL_DOMAIN}"  # case manager, HER
FFION = f"ffion.idva@{DEMO_EMAIL_DOMAIN}"  # IDVA, HER
YES_ANSWERS = 15  # of 24 on the referral's checklist: high risk
REFERRED_DAYS_AGO = 10
MARAC_DAYS_AGO = 5  # before allocation (today): counts as a MARAC appearance "before"
INCIDENT_DAYS_AGO = 3
# The abuse asked at referral and at closure (None: left unanswered, "not known").
AT_START = {AbuseType.PHYSICAL: "yes", AbuseType.SEXUAL: "no", AbuseType.HARASSMENT_STALKING: "yes"}
AT_CLOSURE = {
    AbuseType.PHYSICAL: "no",
    AbuseType.SEXUAL: "no",
    AbuseType.HARASSMENT_STALKING: "yes",
    AbuseType.JEALOUS_CONTROLLING: "no",
}


@dataclass(frozen=True)
class Demo:
    """What the journey needs from the demo data at HER."""

    site_id: int
    casey_id: int
    lookalike_of: str  # an existing case's reference
    name: str
    born: date  # the lookalike's date of birth: the existing one's day and month swapped


@dataclass(frozen=True)
class Person:
    """One person signed in in their own browser, reading in ``language``."""

    page: Page
    words: Translator
    url: str

    def t(self, message: str, **params: object) -> str:
        return self.words.gettext(message, **params)


@dataclass(frozen=True)
class Saved:
    case_id: int
    reference: str


async def _demo(database_url: str, which: int) -> Demo:
    """The ``which``-th demo case at HER whose date of birth, day and month swapped, is another
    real date: each language's run imitates a different case, so the runs do not interfere."""

    async def work(container: Any) -> Demo:
        async with container.session_factory() as session:
            site_id = await session.scalar(select(Site.id).where(Site.code == "HER"))
            casey_id = await session.scalar(select(User.id).where(User.email == CASEY))
            rows = await session.execute(
                select(Case.reference, Case.subject_name, Case.subject_date_of_birth)
                .where(Case.site_id == site_id, Case.subject_date_of_birth.is_not(None))
                .order_by(Case.id)
            )
            swappable = [r for r in rows if r[2].day <= 12 and r[2].day != r[2].month]
        reference, name, born = swappable[which]
        swapped = born.replace(day=born.month, month=born.day)
        return Demo(int(site_id), int(casey_id), reference, name, swapped)

    return await in_app_db(database_url, work)


def _period() -> tuple[date, date]:
    today = date.today()
    return today - timedelta(days=30), today


async def _report(database_url: str, site_id: int) -> Report:
    """The funder return and outcome measures for HER over the period, through core."""
    first, last = _period()

    async def work(container: Any) -> Report:
        return await reports.build_report(
            uow=container.uow(),
            actor=await actor(container, SAM),
            site_id=site_id,
            period_from=first,
            period_to=last,
        )

    return await in_app_db(database_url, work)


async def _fill_date(page: Page, name: str, day: date) -> None:
    await page.locator(f"#{name}").fill(str(day.day))
    await page.locator(f"#{name}-month").fill(str(day.month))
    await page.locator(f"#{name}-year").fill(str(day.year))


async def _confirmed(person: Person, text: str) -> None:
    await expect(person.page.locator("#confirmation")).to_contain_text(text, timeout=30_000)


async def _open_case(person: Person, case: Saved) -> None:
    await person.page.goto(f"{person.url}/case/{case.case_id}")
    await expect(person.page.get_by_role("heading", level=1, name=case.reference)).to_be_visible()


async def _on_case(person: Person, case: Saved, link: str, *, exact: bool = True) -> None:
    """From the case page, follow one of the things the reader may do."""
    await _open_case(person, case)
    await person.page.get_by_role("link", name=person.t(link), exact=exact).click()


@pytest.fixture
async def people(browser: Browser) -> AsyncIterator[AsyncExitStack]:
    async with AsyncExitStack() as stack:
        yield stack


async def _sign_in(
    stack: AsyncExitStack, browser: Browser, app: RunningApp, email: str, language: str
) -> Person:
    """``email`` signed in in a browser of their own, switched to ``language`` if Welsh."""
    context = await browser.new_context(viewport=VIEWPORTS["phone"], locale="en-GB")
    stack.push_async_callback(context.close)
    page = await context.new_page()
    await sign_in_as(page, app.url, email)
    if language == "cy":
        await page.get_by_role("button", name="Cymraeg").click()
        await expect(page.locator("div.page[lang='cy']")).to_be_attached()
    return Person(page, Translator(language), app.url)


# --- Each person's steps ----------------------------------------------------------------------


async def sam_enters_the_referral(sam: Person, demo: Demo) -> Saved:
    page = sam.page
    await open_menu(page)
    await page.get_by_role("navigation").get_by_role("link", name=sam.t("New referral")).click()
    save = page.get_by_role("button", name=sam.t("Save referral"))
    await expect(save).to_be_enabled(timeout=30_000)
    await page.locator(f"#site-{demo.site_id}").check()
    await _fill_date(page, "referral_date", date.today() - timedelta(days=REFERRED_DAYS_AGO))
    await page.locator("#source-marac").check()
    await page.locator("#reason-high_risk").check()
    for abuse, answer in AT_START.items():
        await page.locator(f"#abuse_{abuse.value}-{answer}").check()
    await page.locator("#name").fill(demo.name)
    await _fill_date(page, "date_of_birth", demo.born)
    for number in range(1, 25):
        await page.locator(f"#dash_q{number}-{'yes' if number <= YES_ANSWERS else 'no'}").check()
    await expect(page.locator("#dash-score")).to_have_text(str(YES_ANSWERS))
    await save.click()

    duplicates = page.locator("#duplicates")
    await expect(duplicates).to_contain_text(sam.t("There may already be a case for this person"))
    await expect(duplicates.get_by_role("link", name=demo.lookalike_of)).to_be_visible()
    await page.get_by_role("button", name=sam.t("Save anyway")).click()
    panel = page.locator("#confirmation")
    await expect(panel.get_by_role("heading", name=sam.t("Referral saved"))).to_be_visible()
    reference = (await panel.locator("strong").inner_text()).strip()
    allocate = page.get_by_role("link", name=sam.t("Allocate a case manager"))
    case_id = int((await allocate.get_attribute("href") or "").split("/")[2])
    return Saved(case_id, reference)


async def sam_allocates_it_to_casey(sam: Person, case: Saved, demo: Demo) -> None:
    page = sam.page
    await page.get_by_role("link", name=sam.t("Allocate a case manager")).click()
    await expect(
        page.get_by_role("heading", level=1, name=sam.t("Allocate the case"))
    ).to_be_visible()
    await page.locator(f"#case_manager_id-{demo.casey_id}").check()
    await page.get_by_role("button", name=sam.t("Allocate"), exact=True).click()
    await _confirmed(sam, case.reference)


async def casey_moves_it_to_engaging_and_active(casey: Person, case: Saved) -> None:
    for stage, why in ((Stage.ENGAGING, "First meeting agreed"), (Stage.ACTIVE, "Work under way")):
        await _on_case(casey, case, "Change stage")
        await casey.page.locator(f"#to_stage-{stage.value}").check()
        await casey.page.locator("#reason").fill(why)
        await casey.page.get_by_role("button", name=casey.t("Save"), exact=True).click()
        await _confirmed(
            casey, casey.t("Stage changed to {stage}.", stage=label(stage, casey.words))
        )
        history = casey.page.locator("section[aria-labelledby='stage-history']")
        await expect(history).to_contain_text(why)


async def casey_logs_two_contacts(casey: Person, case: Saved) -> None:
    page = casey.page
    await _on_case(casey, case, "Log a contact")
    save = page.get_by_role("button", name=casey.t("Save contact"))
    await expect(save).to_be_visible(timeout=30_000)
    for category in ("support", "behaviour_change"):
        await expect(page.locator(f"#case-{case.case_id}")).to_be_checked()  # the case is chosen
        await page.locator(f"#category-{category}").check()
        await save.click()
        await _confirmed(casey, case.reference)
        if category == "support":
            await page.get_by_role("button", name=casey.t("Log another contact")).click()


async def casey_books_an_appointment(casey: Person, case: Saved) -> None:
    page = casey.page
    await _on_case(casey, case, "Book an appointment")
    book = page.get_by_role("button", name=casey.t("Book appointment"))
    await expect(book).to_be_visible(timeout=30_000)
    await expect(page.get_by_text(casey.t("Loading…"))).to_have_count(0)  # its list too
    await expect(page.locator(f"#case-{case.case_id}")).to_be_checked()
    await _fill_date(page, "appointment_date", date.today() + timedelta(days=7))
    await page.locator("#appointment_time").fill("10:30")
    await page.locator("#place_kind-office").check()
    await book.click()
    await _confirmed(casey, case.reference)


async def casey_records_an_incident_and_a_marac_appearance(casey: Person, case: Saved) -> None:
    page = casey.page
    await _on_case(casey, case, "Record a police incident")
    await _fill_date(page, "occurred_on", date.today() - timedelta(days=INCIDENT_DAYS_AGO))
    await page.locator("#incident_type-domestic_abuse").check()
    await page.locator("#police_reference").fill("WMP-FICTIONAL-1")
    await page.get_by_role("button", name=casey.t("Save"), exact=True).click()
    await _confirmed(casey, casey.t("Police incident recorded."))
    await _on_case(casey, case, "Record a MARAC appearance")
    await _fill_date(page, "heard_on", date.today() - timedelta(days=MARAC_DAYS_AGO))
    await page.locator("#appearance_type-first").check()
    await page.get_by_role("button", name=casey.t("Save"), exact=True).click()
    await _confirmed(casey, casey.t("MARAC appearance recorded."))


async def casey_adds_and_completes_an_intervention(casey: Person, case: Saved) -> None:
    page = casey.page
    await _on_case(casey, case, "Add an intervention")
    await expect(page.locator("#kind option")).not_to_have_count(1)
    await page.locator("#kind").select_option(index=1)
    await page.locator("#agency").select_option("drive")
    await page.locator("#status-started").check()
    await page.get_by_role("button", name=casey.t("Save"), exact=True).click()
    await _confirmed(casey, casey.t("Added the intervention."))
    await _on_case(casey, case, "Update status", exact=False)  # "(its kind)" for readers
    await page.locator("#status-completed").check()
    await _fill_date(page, "ended_on", date.today())
    await page.get_by_role("button", name=casey.t("Save"), exact=True).click()
    await _confirmed(casey, casey.t("Saved the status."))


async def ffion_adds_a_victim_and_records_risk_from_my_cases(
    ffion: Person, case: Saved, victim: str
) -> None:
    page = ffion.page
    await _on_case(ffion, case, "Add a victim or child")
    await expect(page.get_by_role("heading", level=1)).to_have_text(
        ffion.t("Add a victim or child")
    )
    await page.locator("#kind-victim").check()
    await page.locator("#name").fill(victim)
    await page.get_by_role("button", name=ffion.t("Save"), exact=True).click()
    await _confirmed(ffion, ffion.t("Saved the details."))

    await open_menu(page)
    await page.get_by_role("navigation").get_by_role("link", name=ffion.t("My cases")).click()
    card = page.locator("li.case-card", has_text=case.reference)
    await expect(card).to_contain_text(victim)
    await card.get_by_role("link", name=case.reference).click()
    await expect(page.get_by_role("heading", level=1, name=case.reference)).to_be_visible()
    await page.get_by_role("link", name=ffion.t("Record risk"), exact=True).click()
    await expect(page.locator("#dash_score")).to_be_editable()
    await page.locator("#dash_score").fill("12")
    await page.get_by_role("button", name=ffion.t("Save"), exact=True).click()
    level = label(RiskLevel.MEDIUM, ffion.words)
    await _confirmed(ffion, ffion.t("Risk assessment recorded: {level}.", level=level))


async def casey_closes_it(casey: Person, case: Saved) -> None:
    page = casey.page
    await _on_case(casey, case, "Close case")
    await page.locator(f"#reason-{ClosureReason.COMPLETED.value}").check()
    for abuse, answer in AT_CLOSURE.items():
        await page.locator(f"#abuse_{abuse.value}-{answer}").check()
    await page.get_by_role("button", name=casey.t("Close the case")).click()
    await _confirmed(casey, casey.t("{reference} closed.", reference=case.reference))


async def sam_sees_the_new_figures(sam: Person, report: Report) -> None:
    """The Reports page for HER and the period shows what core gives now."""
    page = sam.page
    first, last = _period()
    await page.goto(f"{sam.url}/reports")
    await expect(page.get_by_role("button", name=sam.t("Show figures"))).to_be_visible()
    # The page's load fills the form with its default period: answers typed before it ends
    # are overwritten (test_reports_page waits the same way).
    await expect(page.locator("#report-scope")).not_to_be_empty()
    await _fill_date(page, "period_from", first)
    await _fill_date(page, "period_to", last)
    await page.locator("#site").select_option(label="Herefordshire (HER)")
    await page.get_by_role("button", name=sam.t("Show figures")).click()
    shown = {
        f"{row.measure}|{row.breakdown}": format_value(row, sam.words)
        for row in report_export.report_rows(report)
    }
    for key in ("referrals|", "closures|", f"closures_by_reason|{ClosureReason.COMPLETED.value}"):
        if key in shown:
            await expect(page.locator(f"tr[data-key='{key}'] td")).to_have_text(shown[key])
    await screenshot(page, f"journey-reports-{sam.words.locale}")


# --- The journey ------------------------------------------------------------------------------


def _abuse(report: Report) -> dict[AbuseType, tuple[int, int, int]]:
    return {
        change.abuse_type: (change.recorded, change.at_start.count, change.at_closure.count)
        for change in report.outcomes.abuse
    }


@pytest.mark.parametrize("language", ["en_GB", "cy"])
async def test_a_case_from_referral_to_closure_changes_the_reports_by_what_was_entered(
    browser: Browser, running_app: RunningApp, people: AsyncExitStack, language: str
) -> None:
    app = running_app
    demo = await _demo(app.database_url, 0 if language == "en_GB" else 1)
    before = await _report(app.database_url, demo.site_id)
    await in_english(app.database_url, SAM, CASEY, FFION)
    try:
        sam = await _sign_in(people, browser, app, SAM, language)
        case = await sam_enters_the_referral(sam, demo)
        await sam_allocates_it_to_casey(sam, case, demo)

        casey = await _sign_in(people, browser, app, CASEY, language)
        await casey_moves_it_to_engaging_and_active(casey, case)
        await casey_logs_two_contacts(casey, case)
        await casey_books_an_appointment(casey, case)
        await casey_records_an_incident_and_a_marac_appearance(casey, case)
        await casey_adds_and_completes_an_intervention(casey, case)

        ffion = await _sign_in(people, browser, app, FFION, language)
        victim = f"Testvictim Journey {language} {case.reference}"
        await ffion_adds_a_victim_and_records_risk_from_my_cases(ffion, case, victim)

        await casey_closes_it(casey, case)
        after = await _report(app.database_url, demo.site_id)
        await sam_sees_the_new_figures(sam, after)
    finally:
        await in_english(app.database_url, SAM, CASEY, FFION)

    funder, was = after.funder, before.funder
    assert funder.referrals - was.referrals == 1
    assert funder.allocations - was.allocations == 1
    assert funder.contacts - was.contacts == 2
    assert funder.interventions - was.interventions == 1
    assert funder.closures - was.closures == 1
    assert {
        reason: funder.closures_by_reason[reason] - was.closures_by_reason[reason]
        for reason in ClosureReason
    } == {reason: int(reason is ClosureReason.COMPLETED) for reason in ClosureReason}

    outcomes, had = after.outcomes, before.outcomes
    assert outcomes.closed_cases - had.closed_cases == 1
    assert outcomes.cases_allocated - had.cases_allocated == 1
    assert outcomes.marac_before - had.marac_before == 1
    assert outcomes.police_incidents_before - had.police_incidents_before == 1
    # One IDVA assessment is no before-and-after pair: the IDVA risk measures are unchanged.
    assert outcomes.idva_assessed == had.idva_assessed
    # Abuse at start and at closure, for the types answered at both (unanswered: not known).
    now, then = _abuse(after), _abuse(before)
    expected = {
        abuse: (
            int(abuse in AT_START),
            int(AT_START.get(abuse) == "yes"),
            int(abuse in AT_START and AT_CLOSURE[abuse] == "yes"),
        )
        for abuse in AbuseType
    }
    assert {
        abuse: tuple(a - b for a, b in zip(now[abuse], then[abuse], strict=True))
        for abuse in AbuseType
    } == expected
