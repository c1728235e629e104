"""Every case-work form page at phone and desktop width, in English and in Welsh (issue 19):
referral, allocate, stage, close, reopen, transfer, risk, MARAC, police incident and new
intervention (service manager); a new and an existing victim, and "My cases" (IDVA); a panel
meeting (panel coordinator).

Each page, as the demo account that uses it, must have no axe violations, a ``<title>`` of its
own, nothing scrolling sideways, and, where submitting the empty form is an error, the GOV.UK
error summary with focus moved to it (axe runs again on the page showing its errors). MARAC,
police incident, panel meeting and existing-victim forms are not submitted empty: empty, they
are valid (today's date, nobody attended, the details as they are) and would save. One browser
per account and width; the problems of all pages are reported together. Case and meeting ids
come from the app's own database; the IDVA's victim is added through core (fictional).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest
from axe_playwright_python.async_playwright import Axe
from playwright.async_api import Browser, Page, expect
from sqlalchemy import select

from core.enums import OPEN_STAGES, PanelMeetingStatus, PersonKind, Stage
from core.models import Case, Membership, PanelMeeting, Site, User
from core.schemas.people import LinkedPersonCreate
from core.services import people
from seeding.demo import DEMO_EMAIL_DOMAIN
from tests.e2e.web.conftest import VIEWPORTS, RunningApp, sign_in_as
from tests.e2e.web.test_alerts_panel import actor, in_app_db, in_english
from tests.e2e.web.test_caseload_case import CASEY, FFION, _open_cases_of
from ui.i18n import Translator

SAM = f"sam.sm@{DEMO_EMAIL_DOMAIN}"  # service manager at HER and WOR
ALEX = f"alex.pc@{DEMO_EMAIL_DOMAIN}"  # panel coordinator
SERVICE = "Drive Assist"
WAIT_MS = 30_000  # a busy machine answers slowly
FORM_READY = "main form button[type=submit]:enabled"


@dataclass(frozen=True)
class FormPage:
    path: str
    title: str  # the page's name (msgid), as webapp.webapp gives it to its <title>
    ready: str = FORM_READY  # shown once the page has loaded its data
    empty_is_error: bool = True


async def _sams_cases(database_url: str) -> tuple[int, int]:
    """An open, allocated case at HER (every open-case form is offered on it) and a closed one
    (reopen), either at Sam's two sites."""

    async def work(container: Any) -> tuple[int, int]:
        async with container.session_factory() as session:
            at_sams_sites = (
                select(Case.id).join(Site, Site.id == Case.site_id).where(Site.code == "HER")
            )
            working = OPEN_STAGES - {Stage.REFERRED}
            open_id = await session.scalar(
                at_sams_sites.where(Case.stage.in_(working)).order_by(Case.id).limit(1)
            )
            closed_id = await session.scalar(
                select(Case.id)
                .join(Site, Site.id == Case.site_id)
                .where(Site.code.in_(("HER", "WOR")), Case.stage == Stage.CLOSED)
                .order_by(Case.id)
                .limit(1)
            )
        assert open_id and closed_id, "the demo should have an open and a closed case"
        return int(open_id), int(closed_id)

    return await in_app_db(database_url, work)


async def _ffions_victim(database_url: str, case_id: int) -> int:
    """A (fictional) victim on ``case_id`` that Ffion supports, added by her through core, so
    "My cases" shows a card and the person's own page opens; its id."""

    async def work(container: Any) -> int:
        ffion = await actor(container, FFION)
        data = LinkedPersonCreate(
            case_id=case_id,
            kind=PersonKind.VICTIM,
            name="Testvictim Fictional Sweepington-Longname",
            relationship_to_subject="Former partner",
        )
        made = await people.add_linked_person(uow=container.uow(), actor=ffion, data=data)
        return int(made.id)

    return await in_app_db(database_url, work)


async def _alexs_meeting(database_url: str) -> int:
    """A panel meeting, not cancelled, at a site of the coordinator's (left as it is)."""

    async def work(container: Any) -> int:
        async with container.session_factory() as session:
            sites = select(Membership.site_id).join(User).where(User.email == ALEX)
            found = await session.scalar(
                select(PanelMeeting.id)
                .where(
                    PanelMeeting.site_id.in_(sites),
                    PanelMeeting.status != PanelMeetingStatus.CANCELLED,
                )
                .order_by(PanelMeeting.starts_at)
                .limit(1)
            )
        assert found is not None, "the demo should have a panel meeting"
        return int(found)

    return await in_app_db(database_url, work)


async def _check(page: Page, form: FormPage, locale: str, where: str) -> list[str]:
    """Visit ``form`` and check it; the problems found, each naming the page."""
    problems: list[str] = []
    await page.goto(where + form.path)
    await expect(
        page.locator(f"div.page[lang='{'cy' if locale == 'cy' else 'en-GB'}']")
    ).to_be_attached(timeout=WAIT_MS)
    await expect(page.locator(form.ready).first).to_be_visible(timeout=WAIT_MS)
    name = f"{form.path} ({locale})"

    title = await page.title()
    wanted = f"{Translator(locale).gettext(form.title)} – {SERVICE}"
    if title != wanted:
        problems.append(f"{name}: <title> is {title!r}, not {wanted!r}")
    problems += await _clean(page, name)

    if form.empty_is_error:
        await page.locator(FORM_READY).first.click()
        summary = page.locator("#error-summary")
        try:
            await expect(summary).to_be_visible(timeout=WAIT_MS)
            await expect(summary).to_be_focused(timeout=WAIT_MS)
        except AssertionError as missing:
            problems.append(f"{name}: an empty submit: {str(missing).splitlines()[0]}")
        else:
            problems += await _clean(page, f"{name} with its errors")
    return problems


async def _clean(page: Page, name: str) -> list[str]:
    """Axe's violations and any sideways scroll, as problems."""
    problems: list[str] = []
    wide = await page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
    if wide[0] > wide[1]:
        problems.append(f"{name}: scrolls sideways ({wide[0]} px wide in {wide[1]} px)")
    results = await Axe().run(page)
    if results.violations_count:
        problems.append(f"{name}: axe:\n{results.generate_report()}")
    return problems


async def _sweep(
    browser: Browser, app: RunningApp, viewport: str, email: str, forms: list[FormPage]
) -> list[str]:
    """Every form of ``forms`` as ``email``, in English, then again in Welsh."""
    problems: list[str] = []
    context = await browser.new_context(viewport=VIEWPORTS[viewport], locale="en-GB")
    try:
        page = await context.new_page()
        await sign_in_as(page, app.url, email)
        for form in forms:
            problems += await _check(page, form, "en_GB", app.url)
        await page.get_by_role("button", name="Cymraeg").click()
        await expect(page.locator("div.page[lang='cy']")).to_be_attached(timeout=WAIT_MS)
        for form in forms:
            problems += await _check(page, form, "cy", app.url)
    finally:
        await context.close()
        await in_english(app.database_url, email)
    return [f"{viewport}, {email.split('@')[0]}: {problem}" for problem in problems]


@pytest.mark.parametrize("viewport", list(VIEWPORTS))
async def test_every_case_work_form_is_axe_clean_titled_fits_and_summarises_errors(
    browser: Browser, running_app: RunningApp, viewport: str
) -> None:
    database_url = running_app.database_url
    await in_english(database_url, SAM, FFION, ALEX)
    open_id, closed_id = await _sams_cases(database_url)
    caseys = await _open_cases_of(database_url, CASEY)
    peoples_case = caseys[-1].case_id
    victims_case = caseys[0].case_id
    victim_id = await _ffions_victim(database_url, victims_case)
    meeting_id = await _alexs_meeting(database_url)

    case = f"/case/{open_id}"
    sams = [
        FormPage("/referral", "New referral", ready="#referral-form button[type=submit]:enabled"),
        FormPage(f"{case}/allocate", "Allocate the case"),
        FormPage(f"{case}/stage", "Change stage"),
        FormPage(f"{case}/close", "Close the case"),
        FormPage(f"/case/{closed_id}/reopen", "Reopen the case"),
        FormPage(f"{case}/transfer", "Transfer the case"),
        FormPage(f"{case}/risk", "Record risk"),
        FormPage(f"{case}/marac", "Record a MARAC appearance", empty_is_error=False),
        FormPage(f"{case}/incident", "Record a police incident", empty_is_error=False),
        FormPage(f"{case}/interventions/new", "Add an intervention"),
    ]
    ffions = [
        FormPage(f"/case/{peoples_case}/people/new", "Add a victim or child"),
        FormPage(
            f"/case/{victims_case}/people/{victim_id}", "A victim or child", empty_is_error=False
        ),
        FormPage("/my-cases", "My cases", ready="main li.case-card", empty_is_error=False),
    ]
    alexs = [FormPage(f"/panel/meeting/{meeting_id}", "Panel meeting", empty_is_error=False)]

    problems: list[str] = []
    for email, forms in ((SAM, sams), (FFION, ffions), (ALEX, alexs)):
        problems += await _sweep(browser, running_app, viewport, email, forms)
    assert not problems, "\n\n".join(problems)
