"""The Appointments page in a real browser: book, reschedule, record an outcome, book the next.

A case manager books from the case page's link, sees the appointment in the list, moves it,
and answers a past appointment (attended), after which the page offers the next booking for the
same case. An empty booking shows the error summary and books nothing. The page has no axe
violations in English or Welsh on a phone. Core (through the running app's database) is the
judge of what was saved.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from axe_playwright_python.async_playwright import Axe
from playwright.async_api import Browser, Locator, Page, expect

from core.enums import AppointmentStatus, Face, Locale, PlaceKind
from core.schemas.appointments import AppointmentCreate, AppointmentRead
from core.schemas.case_choice import CaseChoice
from core.services import appointments, caseload_lookup, users
from tests.e2e.web.app_db import appointments_on_case, with_core
from tests.e2e.web.conftest import VIEWPORTS, RunningApp, screenshot, sign_in_as
from ui.i18n import Translator

# A case manager no other browser test signs in as: the lists here are this file's alone.
CASE_MANAGER = "jordan.cm@demo.drive-assist.invalid"
LONDON = ZoneInfo("Europe/London")
MAX_CASE_RADIOS = 10
ENGLISH = Translator("en_GB")
MOMENT = "EEE d MMM yyyy, HH:mm"  # how the page writes a date and time


async def _actor(container: Any) -> Any:
    return await users.actor_for_email(uow=container.uow(), email=CASE_MANAGER, face=Face.WEB)


async def _my_cases(app: RunningApp) -> list[CaseChoice]:
    async def work(container: Any) -> list[CaseChoice]:
        return await caseload_lookup.my_open_case_choices(
            uow=container.uow(), actor=await _actor(container)
        )

    return await with_core(app.database_url, work)


async def _book_through_core(
    app: RunningApp, case: CaseChoice, starts_at: datetime
) -> AppointmentRead:
    """An hour at the office, booked through core (past times too, as if the day went by).
    Saved even over the demo diary's own visits at that hour: the clash rule is not what the
    callers test, and the demo books visits relative to the time it was seeded."""

    async def work(container: Any) -> AppointmentRead:
        return await appointments.book_appointment(
            uow=container.uow(),
            actor=await _actor(container),
            data=AppointmentCreate(
                case_id=case.case_id,
                starts_at=starts_at,
                ends_at=starts_at + timedelta(minutes=60),
                place_kind=PlaceKind.OFFICE,
            ),
            save_anyway=True,
        )

    return await with_core(app.database_url, work)


async def _in_english(app: RunningApp) -> None:
    """Start from English whatever an earlier (maybe failed) run switched to."""

    async def work(container: Any) -> None:
        await users.set_my_locale(
            uow=container.uow(), actor=await _actor(container), locale=Locale.EN_GB
        )

    await with_core(app.database_url, work)


def _local(day: date, at: str) -> datetime:
    """A Europe/London wall-clock time, as the aware UTC moment core stores."""
    return datetime.combine(day, time.fromisoformat(at), LONDON).astimezone(UTC)


def _same_moment(stored: datetime, expected: datetime) -> bool:
    return stored.replace(tzinfo=stored.tzinfo or UTC) == expected


def _card(where: Page | Locator, reference: str, starts_at: datetime) -> Locator:
    """The list's card for the appointment on ``reference`` at ``starts_at``, as the page
    writes it (Europe/London, through Babel)."""
    shown = ENGLISH.format_datetime(starts_at, MOMENT)
    return where.locator("li.card").filter(has_text=reference).filter(has_text=shown)


async def _pick_case(page: Page, case: CaseChoice, how_many: int) -> None:
    if how_many > MAX_CASE_RADIOS:
        await page.get_by_label("Which case is the appointment for?").select_option(
            value=str(case.case_id)
        )
    else:
        await page.get_by_role("radio", name=case.reference, exact=True).check()


async def _open(page: Page, url: str) -> None:
    await page.goto(url)
    await expect(page.locator(".appointments-page")).to_be_visible(timeout=30_000)
    await expect(page.get_by_text("Loading…")).to_have_count(0)


async def _fill_date(page: Page, day: date) -> None:
    """Type ``day`` into the Day, Month and Year fields, as a person would."""
    await page.locator("#appointment_date").fill(str(day.day))
    await page.locator("#appointment_date-month").fill(str(day.month))
    await page.locator("#appointment_date-year").fill(str(day.year))


async def _date_shown(page: Page) -> date:
    parts = [
        await page.locator(f"#appointment_date{suffix}").input_value()
        for suffix in ("-year", "-month", "")
    ]
    return date(*(int(part) for part in parts))


async def test_a_case_manager_books_an_appointment_sees_it_listed_and_reschedules_it(
    running_app: RunningApp, page: Page
) -> None:
    await _in_english(running_app)
    cases = await _my_cases(running_app)
    case = cases[0]
    # Each viewport's run books its own day, at times no demo appointment uses.
    offset = 40 if page.viewport_size and page.viewport_size["width"] < 600 else 50
    first_day = date.today() + timedelta(days=offset)
    second_day = first_day + timedelta(days=1)
    before = {a.id for a in await appointments_on_case(running_app, case.case_id)}
    await sign_in_as(page, running_app.url, CASE_MANAGER)

    # The case page links to the booking form, with the case chosen.
    await page.goto(f"{running_app.url}/case/{case.case_id}")
    await page.get_by_role("link", name="Book an appointment").click()
    await expect(page.get_by_role("heading", level=1, name="Book an appointment")).to_be_visible()
    await expect(page).to_have_url(re.compile(rf"/appointments/?\?case={case.case_id}$"))
    if len(cases) <= MAX_CASE_RADIOS:
        await expect(page.get_by_role("radio", name=case.reference, exact=True)).to_be_checked()
    await _fill_date(page, first_day)
    await page.get_by_label("Time").fill("07:35")
    await page.get_by_role("radio", name="45 min").check()
    await page.get_by_role("radio", name="Community venue").check()
    await page.get_by_role("button", name="Book appointment").click()

    await expect(page.locator("#confirmation")).to_contain_text(
        f"Appointment booked for {case.reference} on"
    )
    await expect(page.get_by_role("heading", level=1, name="Appointments")).to_be_visible()
    card = _card(page, case.reference, _local(first_day, "07:35"))
    await expect(card).to_have_count(1)
    await expect(card).to_contain_text("Community venue")
    await expect(card).to_contain_text("45 min")

    booked = [
        a for a in await appointments_on_case(running_app, case.case_id) if a.id not in before
    ]
    assert len(booked) == 1
    assert booked[0].status is AppointmentStatus.SCHEDULED
    assert booked[0].place_kind is PlaceKind.COMMUNITY_VENUE
    assert _same_moment(booked[0].starts_at, _local(first_day, "07:35"))
    assert booked[0].ends_at - booked[0].starts_at == timedelta(minutes=45)

    await card.get_by_role("button", name="Reschedule").click()
    await expect(
        page.get_by_role("heading", level=1, name="Reschedule an appointment")
    ).to_be_visible()
    await expect(page.get_by_role("radio", name="Community venue")).to_be_checked()
    await _fill_date(page, second_day)
    await page.get_by_label("Time").fill("08:05")
    await page.get_by_role("button", name="Reschedule appointment").click()

    await expect(page.locator("#confirmation")).to_contain_text(
        f"Appointment for {case.reference} moved to"
    )
    await expect(_card(page, case.reference, _local(second_day, "08:05"))).to_have_count(1)
    await expect(_card(page, case.reference, _local(first_day, "07:35"))).to_have_count(0)

    after = {a.id: a for a in await appointments_on_case(running_app, case.case_id)}
    old = after[booked[0].id]
    assert old.status is AppointmentStatus.RESCHEDULED
    assert old.rescheduled_to_id is not None
    new = after[old.rescheduled_to_id]
    assert new.status is AppointmentStatus.SCHEDULED
    assert _same_moment(new.starts_at, _local(second_day, "08:05"))
    assert new.ends_at - new.starts_at == timedelta(minutes=45)  # the same length


async def test_recording_an_outcome_for_a_past_appointment_offers_to_book_the_next_one(
    running_app: RunningApp, page: Page
) -> None:
    await _in_english(running_app)
    cases = await _my_cases(running_app)
    case = cases[-1]
    phone = bool(page.viewport_size and page.viewport_size["width"] < 600)
    # A past appointment nobody answered: booked through core, as if the week went by.
    started = _local(date.today() - timedelta(days=2 if phone else 3), "06:10")

    past = await _book_through_core(running_app, case, started)
    await sign_in_as(page, running_app.url, CASE_MANAGER)
    await _open(page, f"{running_app.url}/appointments")

    awaiting = page.get_by_role("region", name="Record an outcome")
    card = _card(awaiting, case.reference, started)
    await expect(card).to_have_count(1)
    await card.get_by_role("button", name="Record outcome").click()
    await expect(page.get_by_role("heading", level=1, name="Record an outcome")).to_be_visible()
    await page.get_by_role("radio", name="Attended").check()
    await page.get_by_label("Note (optional)").fill("Fictional test note: session held.")
    await page.get_by_role("button", name="Record outcome").click()

    confirmation = page.locator("#confirmation")
    await expect(confirmation).to_contain_text(f"Outcome recorded for {case.reference}: Attended.")
    await expect(card).to_have_count(0)
    answered = {a.id: a for a in await appointments_on_case(running_app, case.case_id)}[past.id]
    assert answered.status is AppointmentStatus.ATTENDED
    assert answered.outcome == "Fictional test note: session held."

    await confirmation.get_by_role("button", name="Book the next appointment").click()
    await expect(page.get_by_role("heading", level=1, name="Book an appointment")).to_be_visible()
    if len(cases) <= MAX_CASE_RADIOS:
        await expect(page.get_by_role("radio", name=case.reference, exact=True)).to_be_checked()
    else:
        await expect(page.get_by_label("Which case is the appointment for?")).to_have_value(
            str(case.case_id)
        )
    await expect(page.get_by_role("radio", name="Office")).to_be_checked()
    await expect(page.get_by_role("radio", name="60 min")).to_be_checked()
    await expect(page.get_by_label("Time")).to_have_value("06:10")
    next_day = await _date_shown(page)
    assert next_day > date.today() - timedelta(days=1)
    assert (next_day - started.astimezone(LONDON).date()).days % 7 == 0  # the same weekday
    await screenshot(page, "appointments-book-next")


async def test_today_shows_a_started_appointment_as_awaiting_and_links_to_its_outcome_form(
    running_app: RunningApp, page: Page
) -> None:
    await _in_english(running_app)
    case = (await _my_cases(running_app))[0]
    phone = bool(page.viewport_size and page.viewport_size["width"] < 600)
    # Earlier today (London), a minute of its own for each viewport's run.
    now = datetime.now(UTC).replace(second=0, microsecond=0)
    midnight = datetime.combine(now.astimezone(LONDON).date(), time(0), LONDON)
    started = now - min(timedelta(minutes=31 if phone else 37), (now - midnight) / 2)

    booked = await _book_through_core(running_app, case, started)
    await sign_in_as(page, running_app.url, CASE_MANAGER)
    await expect(page.get_by_text("Loading your day…")).to_have_count(0, timeout=30_000)

    today = page.get_by_role("region", name="Appointments")
    card = (
        today.get_by_role("listitem")
        .filter(has_text=case.reference)
        .filter(has_text=ENGLISH.format_time(started))
    )
    await expect(card).to_have_count(1)
    await expect(card).to_contain_text("Awaiting outcome")
    await screenshot(page, "today-awaiting-outcome")
    await card.get_by_role("link", name="Record outcome").click()

    await expect(page).to_have_url(re.compile(rf"/appointments/?\?outcome={booked.id}$"))
    await expect(page.get_by_role("heading", level=1, name="Record an outcome")).to_be_visible()
    await page.get_by_role("radio", name="Did not attend").check()
    await page.get_by_role("button", name="Record outcome").click()
    await expect(page.locator("#confirmation")).to_contain_text(
        f"Outcome recorded for {case.reference}: Did not attend."
    )
    answered = {a.id: a for a in await appointments_on_case(running_app, case.case_id)}[booked.id]
    assert answered.status is AppointmentStatus.DID_NOT_ATTEND

    # Answered: the same link now opens the list, with nothing left to answer for it.
    await _open(page, f"{running_app.url}/appointments?outcome={booked.id}")
    await expect(page.get_by_role("heading", level=1, name="Appointments")).to_be_visible()
    awaiting = page.get_by_role("region", name="Record an outcome")
    await expect(_card(awaiting, case.reference, started)).to_have_count(0)


async def test_an_empty_booking_shows_the_error_summary_and_books_nothing(
    running_app: RunningApp, page: Page
) -> None:
    await _in_english(running_app)
    cases = await _my_cases(running_app)
    before = [len(await appointments_on_case(running_app, c.case_id)) for c in cases]
    await sign_in_as(page, running_app.url, CASE_MANAGER)
    await _open(page, f"{running_app.url}/appointments")
    await page.get_by_role("button", name="Book an appointment").click()
    await expect(page.get_by_role("heading", level=1, name="Book an appointment")).to_be_visible()
    await page.get_by_role("button", name="Book appointment").click()

    summary = page.get_by_role("alert")
    await expect(summary.get_by_role("heading", name="There is a problem")).to_be_visible()
    if len(cases) > 1:
        await expect(
            summary.get_by_role("link", name="Select the case the appointment is for")
        ).to_be_visible()
    await expect(
        summary.get_by_role("link", name=re.compile("Enter the date and time of the appointment"))
    ).to_have_attribute("href", re.compile(r"#appointment_date$"))
    await expect(
        summary.get_by_role("link", name="Select where the appointment is")
    ).to_have_attribute("href", re.compile(r"#place_kind-office$"))
    await expect(page.locator("#place_kind-error")).to_contain_text(
        "Select where the appointment is"
    )
    await expect(page.locator("#appointment_date-error")).to_contain_text("Enter the date and time")

    # A time in the past is refused as well, with the form kept.
    await page.get_by_role("radio", name="Office").check()
    if len(cases) > 1:
        await _pick_case(page, cases[0], len(cases))
    await _fill_date(page, date.today() - timedelta(days=1))
    await page.get_by_label("Time").fill("09:00")
    await page.get_by_role("button", name="Book appointment").click()
    await expect(
        summary.get_by_role(
            "link", name="The date and time of the appointment must be in the future"
        )
    ).to_be_visible()
    await expect(page.get_by_role("radio", name="Office")).to_be_checked()
    results = await Axe().run(page)
    assert results.violations_count == 0, results.generate_report()
    await screenshot(page, "appointments-errors")
    assert [len(await appointments_on_case(running_app, c.case_id)) for c in cases] == before


@pytest.fixture
async def phone_page(browser: Browser) -> AsyncIterator[Page]:
    context = await browser.new_context(viewport=VIEWPORTS["phone"], locale="en-GB")
    try:
        yield await context.new_page()
    finally:
        await context.close()


async def test_the_appointments_page_has_no_accessibility_violations_in_english_or_welsh(
    running_app: RunningApp, phone_page: Page
) -> None:
    page = phone_page
    await _in_english(running_app)
    await sign_in_as(page, running_app.url, CASE_MANAGER)
    await _open(page, f"{running_app.url}/appointments")
    await expect(page.get_by_role("heading", level=1, name="Appointments")).to_be_visible()
    await expect(page.get_by_role("heading", level=2, name="Upcoming")).to_be_visible()
    results = await Axe().run(page)
    assert results.violations_count == 0, f"en-GB: {results.generate_report()}"
    await screenshot(page, "appointments")

    await page.get_by_role("button", name="Cymraeg").click()
    await expect(page.locator("div.page[lang='cy']")).to_be_attached()
    await expect(page.get_by_role("heading", level=1, name="Apwyntiadau")).to_be_visible()
    results = await Axe().run(page)
    assert results.violations_count == 0, f"cy: {results.generate_report()}"
    await screenshot(page, "appointments-cy")

    # The booking form too, in Welsh, then back to English for the user.
    await page.locator("#start-booking").click()
    await expect(page.locator("form button[type=submit]")).to_be_visible()
    results = await Axe().run(page)
    assert results.violations_count == 0, f"cy form: {results.generate_report()}"
    await page.get_by_role("button", name="English").click()
    await expect(page.locator("div.page[lang='en-GB']")).to_be_attached()
    await expect(page.get_by_role("heading", level=1, name="Book an appointment")).to_be_visible()
    results = await Axe().run(page)
    assert results.violations_count == 0, f"en-GB form: {results.generate_report()}"
    await screenshot(page, "appointments-book")
