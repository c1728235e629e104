"""Logging a contact in the web app: a few taps on a phone, saved through core like the bot's."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from axe_playwright_python.async_playwright import Axe
from playwright.async_api import Locator, Page, expect
from sqlalchemy import select

from core.enums import ContactType, Face, WorkCategory
from core.models import Case
from core.schemas.case_choice import CaseChoice
from core.services import caseload_lookup, users
from tests.e2e.web.app_db import contacts_on_case, with_core
from tests.e2e.web.conftest import RunningApp, open_menu, screenshot, sign_in_as

CASE_MANAGER = "casey.cm@demo.drive-assist.invalid"
# The language test switches its user's language and back: a user no other test uses.
WELSH_CASE_MANAGER = "rhys.cm@demo.drive-assist.invalid"
MAX_ACTIONS = 8


async def _my_cases(app: RunningApp, email: str) -> list[CaseChoice]:
    async def work(container: Any) -> list[CaseChoice]:
        actor = await users.actor_for_email(uow=container.uow(), email=email, face=Face.WEB)
        return await caseload_lookup.my_open_case_choices(uow=container.uow(), actor=actor)

    return await with_core(app.database_url, work)


async def _another_sites_case(app: RunningApp, email: str) -> int:
    async def work(container: Any) -> int:
        mine = {choice.case_id for choice in await _my_cases(app, email)}
        async with container.uow() as uow:
            my_site = await uow.session.scalar(select(Case.site_id).where(Case.id.in_(mine)))
            return int(
                await uow.session.scalar(
                    select(Case.id).where(Case.site_id != my_site).order_by(Case.id).limit(1)
                )
            )

    return await with_core(app.database_url, work)


class Actions:
    """What the user does on the page, counted: the measure of "a log in under 30 seconds"."""

    def __init__(self, page: Page) -> None:
        self.page = page
        self.count = 0

    async def goto(self, url: str) -> None:
        self.count += 1
        await self.page.goto(url)

    async def check(self, target: Locator) -> None:
        self.count += 1
        await target.check()

    async def click(self, target: Locator) -> None:
        self.count += 1
        await target.click()


async def _open_form(page: Page, url: str) -> None:
    await page.goto(url)
    # The submit button, whatever the account's language ("Save contact" / its Welsh).
    await expect(page.locator("form button[type=submit]")).to_be_visible(timeout=30_000)


async def test_a_case_manager_logs_a_contact_on_a_phone_in_a_few_taps_and_core_has_it(
    running_app: RunningApp, page: Page
) -> None:
    web_app = running_app.url
    case = (await _my_cases(running_app, CASE_MANAGER))[0]
    before = await contacts_on_case(running_app, case.case_id)
    await sign_in_as(page, web_app, CASE_MANAGER)

    user = Actions(page)
    user.count += int(await open_menu(page))  # a phone folds the menu: one more tap
    await user.click(page.get_by_role("navigation").get_by_role("link", name="Log a contact"))
    await expect(page.get_by_role("heading", level=1, name="Log a contact")).to_be_visible()
    await user.check(page.get_by_role("radio", name=case.reference, exact=True))
    await user.check(page.get_by_role("checkbox", name="Support"))
    await screenshot(page, "log-contact-form")
    await user.click(page.get_by_role("button", name="Save contact"))

    panel = page.locator("#confirmation")
    await expect(panel.get_by_role("heading", name="Contact logged")).to_be_visible()
    await expect(panel).to_contain_text(f"Logged 30 min contact on {case.reference}.")
    await expect(page.get_by_role("link", name=re.compile(case.reference))).to_have_attribute(
        "href", f"/case/{case.case_id}"
    )
    await expect(page.get_by_role("button", name="Log another contact")).to_be_visible()
    # Support only: no disruption, so no alert to offer.
    await expect(page.get_by_role("button", name="Raise a disruption alert")).to_have_count(0)
    await screenshot(page, "log-contact-saved")
    assert user.count <= MAX_ACTIONS, f"{user.count} actions to log one contact"

    after = await contacts_on_case(running_app, case.case_id)
    assert len(after) == len(before) + 1
    new = next(contact for contact in after if contact.id not in {c.id for c in before})
    assert new.contact_type is ContactType.FACE_TO_FACE  # the default
    assert new.duration_minutes == 30  # the default
    assert new.categories == (WorkCategory.SUPPORT,)
    assert new.notes is None


@pytest.mark.phone_only
async def test_a_double_tap_on_save_logs_one_contact_and_disruption_offers_the_alert(
    running_app: RunningApp, page: Page
) -> None:
    web_app = running_app.url
    case = (await _my_cases(running_app, CASE_MANAGER))[1]
    before = await contacts_on_case(running_app, case.case_id)
    await sign_in_as(page, web_app, CASE_MANAGER)
    await _open_form(page, f"{web_app}/log?case={case.case_id}")

    # The case page's link picks the case.
    await expect(page.get_by_role("radio", name=case.reference, exact=True)).to_be_checked()
    await page.get_by_role("checkbox", name="Disruption").check()
    await page.get_by_role("radio", name="Phone call").check()
    await page.get_by_role("radio", name="45 min").check()
    await page.get_by_label("Note (optional)").fill("Fictional test note: agreed next call.")
    await page.get_by_role("button", name="Save contact").dblclick()

    await expect(page.locator("#confirmation")).to_contain_text(
        f"Logged 45 min contact on {case.reference}."
    )
    after = await contacts_on_case(running_app, case.case_id)
    assert len(after) == len(before) + 1, "a double tap saved the contact twice"
    new = next(contact for contact in after if contact.id not in {c.id for c in before})
    assert (new.contact_type, new.duration_minutes) == (ContactType.PHONE, 45)
    assert new.categories == (WorkCategory.DISRUPTION,)
    assert new.notes == "Fictional test note: agreed next call."

    await page.get_by_role("button", name="Raise a disruption alert").click()
    await expect(
        page.get_by_role("status").filter(has_text="Disruption alert raised")
    ).to_contain_text(case.reference)
    await page.get_by_role("button", name="Log another contact").click()
    await expect(page.get_by_role("button", name="Save contact")).to_be_visible()
    await expect(page.get_by_role("radio", name=case.reference, exact=True)).to_be_checked()
    await expect(page.get_by_role("checkbox", name="Disruption")).not_to_be_checked()


async def test_an_empty_log_shows_the_error_summary_linking_to_the_case_and_the_work(
    running_app: RunningApp, page: Page
) -> None:
    web_app = running_app.url
    cases = await _my_cases(running_app, CASE_MANAGER)
    before = await contacts_on_case(running_app, cases[0].case_id)
    await sign_in_as(page, web_app, CASE_MANAGER)
    await _open_form(page, f"{web_app}/log")
    await page.get_by_role("button", name="Save contact").click()

    summary = page.get_by_role("alert")
    await expect(summary.get_by_role("heading", name="There is a problem")).to_be_visible()
    await expect(
        summary.get_by_role("link", name="Select the case this contact is on")
    ).to_have_attribute("href", re.compile(rf"#case-{cases[0].case_id}$"))
    await expect(
        summary.get_by_role("link", name="Select at least one kind of work")
    ).to_have_attribute("href", re.compile(r"#category-disruption$"))
    await expect(page.locator("#category-error")).to_contain_text(
        "Select at least one kind of work"
    )
    results = await Axe().run(page)
    assert results.violations_count == 0, results.generate_report()
    await screenshot(page, "log-contact-errors")
    assert len(await contacts_on_case(running_app, cases[0].case_id)) == len(before)


@pytest.mark.phone_only
async def test_another_sites_case_in_the_address_looks_like_no_case_at_all(
    running_app: RunningApp, page: Page
) -> None:
    web_app = running_app.url
    other = await _another_sites_case(running_app, CASE_MANAGER)
    await sign_in_as(page, web_app, CASE_MANAGER)
    for case_id in (other, 99_999_999):
        await page.goto(f"{web_app}/log?case={case_id}")
        await expect(page.get_by_role("heading", level=1, name="Page not found")).to_be_visible()
        await expect(page.get_by_role("button", name="Save contact")).to_have_count(0)


async def test_the_log_page_has_no_accessibility_violations_in_english_or_welsh(
    running_app: RunningApp, page: Page
) -> None:
    web_app = running_app.url
    await sign_in_as(page, web_app, WELSH_CASE_MANAGER)
    await _open_form(page, f"{web_app}/log")
    other = {"en-GB": ("Cymraeg", "cy"), "cy": ("English", "en-GB")}
    first = await page.locator(".page").get_attribute("lang")
    assert first in other
    for language in (first, other[first][1]):
        if await page.locator(".page").get_attribute("lang") != language:
            await page.get_by_role("button", name=other[first][0]).click()
            await expect(page.locator(".page")).to_have_attribute("lang", language)
            await expect(page.locator("form button[type=submit]")).to_be_visible()
        results = await Axe().run(page)
        assert results.violations_count == 0, f"{language}: {results.generate_report()}"
        await screenshot(page, f"log-contact-{language}")
    # The choice is remembered for the user: leave them in the language they had.
    await page.get_by_role("button", name=other[other[first][1]][0]).click()
    await expect(page.locator(".page")).to_have_attribute("lang", first)


@pytest.mark.phone_only
async def test_a_future_date_or_an_over_long_note_is_shown_by_its_field_and_nothing_is_saved(
    running_app: RunningApp, page: Page
) -> None:
    web_app = running_app.url
    case = (await _my_cases(running_app, CASE_MANAGER))[0]
    before = await contacts_on_case(running_app, case.case_id)
    await sign_in_as(page, web_app, CASE_MANAGER)
    await _open_form(page, f"{web_app}/log?case={case.case_id}")
    await page.get_by_role("checkbox", name="Support").check()
    count = page.locator("#note-count")
    await expect(count).to_have_text("You have 5,000 characters remaining")

    # One character over: the count says so as it is typed, and Save refuses it by the note.
    note = page.get_by_label("Note (optional)")
    await note.fill("x" * 5001)
    await expect(count).to_have_text("You have 1 character too many")
    # 27 / 3 / next year, typed the way the hint shows (the old date picker refused typing).
    next_year = datetime.now(ZoneInfo("Europe/London")).year + 1
    await page.get_by_role("group", name="When was it?").get_by_label("Day").fill("27")
    await page.get_by_role("group", name="When was it?").get_by_label("Month").fill(" 3")
    await page.get_by_role("group", name="When was it?").get_by_label("Year").fill(str(next_year))
    await page.get_by_role("button", name="Save contact").click()
    too_long = "The text must be 5,000 characters or fewer. Shorten it and try again."
    summary = page.locator("#error-summary")
    await expect(summary.get_by_role("link", name=too_long)).to_have_attribute(
        "href", re.compile(r"#note$")
    )
    await expect(page.locator("#note-error")).to_contain_text(too_long)

    # A short note: now core refuses the date, by the date, and Save is ready again.
    await note.fill("Fictional test note.")
    await expect(count).to_have_text("You have 4,980 characters remaining")
    await page.get_by_role("button", name="Save contact").click()
    future = "The date and time of the contact must be now or in the past."
    await expect(summary.get_by_role("link", name=re.compile(re.escape(future)))).to_have_attribute(
        "href", re.compile(r"#contact_date$")
    )
    # The page read the three fields as a date (27 March next year): core, not the form, refused.
    await expect(page.locator("#contact_date-error")).to_contain_text(future)
    await expect(summary).not_to_contain_text("Enter the date and time of the contact")
    await expect(page.locator("#note-error")).to_have_count(0)
    await expect(page.get_by_role("button", name="Save contact")).to_be_enabled()
    await screenshot(page, "log-contact-future-date")
    assert len(await contacts_on_case(running_app, case.case_id)) == len(before)
