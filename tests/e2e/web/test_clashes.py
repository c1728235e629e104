"""Clash warnings in a real browser (issue 19 item 9).

A case manager books, on a demo case, an appointment overlapping one the case already has: the
page warns before saving, listing the existing appointment's time and kind of place, keeps the
form as typed, and "Save anyway" books it; core then holds both. The warning has no axe
violations in English or Welsh on a phone. Likewise a panel coordinator scheduling a meeting
at a site an hour after another there: warned, then saved anyway; core holds both.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from axe_playwright_python.async_playwright import Axe
from playwright.async_api import Browser, Page, expect
from sqlalchemy import select

from core.enums import AppointmentStatus, Face, Locale, PlaceKind
from core.models import PanelMeeting
from core.schemas.appointments import AppointmentCreate, AppointmentRead
from core.schemas.panels import PanelMeetingCreate
from core.services import appointments, caseload_lookup, panels, users
from tests.e2e.web.app_db import appointments_on_case, with_core
from tests.e2e.web.conftest import VIEWPORTS, RunningApp, screenshot, sign_in_as
from ui.i18n import Translator

# A case manager no other browser test books for on this day: the clash is this file's alone.
CASE_MANAGER = "morgan.cm@demo.drive-assist.invalid"
LONDON = ZoneInfo("Europe/London")
ENGLISH = Translator("en_GB")
MOMENT = "EEE d MMM yyyy, HH:mm"  # how the page writes a date and time


async def _actor(container: Any) -> Any:
    return await users.actor_for_email(uow=container.uow(), email=CASE_MANAGER, face=Face.WEB)


def _local(day: date, at: str) -> datetime:
    return datetime.combine(day, time.fromisoformat(at), LONDON).astimezone(UTC)


def _same_moment(stored: datetime, expected: datetime) -> bool:
    return stored.replace(tzinfo=stored.tzinfo or UTC) == expected


async def _fill_date(page: Page, day: date) -> None:
    """Day, Month and Year fields as a person types them."""
    await page.locator("#appointment_date").fill(str(day.day))
    await page.locator("#appointment_date-month").fill(str(day.month))
    await page.locator("#appointment_date-year").fill(str(day.year))


async def _axe_clean(page: Page, where: str) -> None:
    results = await Axe().run(page)
    assert results.violations_count == 0, f"{where}: {results.generate_report()}"


async def test_booking_over_a_clash_warns_with_the_existing_time_and_saves_anyway(
    running_app: RunningApp, browser: Browser
) -> None:
    day = date.today() + timedelta(days=61)
    existing_at = _local(day, "06:10")

    async def prepare(container: Any) -> tuple[Any, AppointmentRead]:
        actor = await _actor(container)
        await users.set_my_locale(uow=container.uow(), actor=actor, locale=Locale.EN_GB)
        case = (await caseload_lookup.my_open_case_choices(uow=container.uow(), actor=actor))[0]
        first = await appointments.book_appointment(
            uow=container.uow(),
            actor=actor,
            data=AppointmentCreate(
                case_id=case.case_id,
                starts_at=existing_at,
                ends_at=existing_at + timedelta(minutes=60),
                place_kind=PlaceKind.HOME_VISIT,
            ),
        )
        return case, first

    case, first = await with_core(running_app.database_url, prepare)
    context = await browser.new_context(viewport=VIEWPORTS["phone"], locale="en-GB")
    page = await context.new_page()
    try:
        await sign_in_as(page, running_app.url, CASE_MANAGER)
        await page.goto(f"{running_app.url}/appointments?case={case.case_id}")
        await expect(
            page.get_by_role("heading", level=1, name="Book an appointment")
        ).to_be_visible(timeout=30_000)
        await _fill_date(page, day)
        await page.get_by_label("Time").fill("06:40")
        await page.get_by_role("radio", name="30 min").check()
        await page.get_by_role("radio", name="Office").check()
        await page.get_by_role("button", name="Book appointment").click()

        warning = page.locator("#clash-warning")
        await expect(warning).to_be_visible()
        await expect(warning).to_contain_text("This case already has an appointment at that time")
        await expect(warning).to_contain_text(ENGLISH.format_datetime(existing_at, MOMENT))
        await expect(warning).to_contain_text("Home visit")
        await expect(page.locator("#appointment_date")).to_have_value(str(day.day))
        await expect(page.get_by_label("Time")).to_have_value("06:40")  # kept as typed
        after_warning = await appointments_on_case(running_app, case.case_id)
        assert not any(_same_moment(a.starts_at, _local(day, "06:40")) for a in after_warning)
        await _axe_clean(page, "en-GB warning")
        await screenshot(page, "clash-warning")
        await page.get_by_role("button", name="Cymraeg").click()
        await expect(page.locator("div.page[lang='cy']")).to_be_attached()
        await expect(warning).to_be_visible()
        await _axe_clean(page, "cy warning")
        await page.get_by_role("button", name="English").click()
        await expect(page.locator("div.page[lang='en-GB']")).to_be_attached()

        await page.get_by_role("button", name="Save anyway").click()
        await expect(page.locator("#confirmation")).to_contain_text(
            f"Appointment booked for {case.reference} on"
        )
    finally:
        await context.close()

    held = await appointments_on_case(running_app, case.case_id)
    scheduled = [a for a in held if a.status is AppointmentStatus.SCHEDULED]
    assert first.id in {a.id for a in scheduled}
    new = [a for a in scheduled if _same_moment(a.starts_at, _local(day, "06:40"))]
    assert len(new) == 1 and new[0].ends_at - new[0].starts_at == timedelta(minutes=30)


COORDINATOR = "alex.pc@demo.drive-assist.invalid"


async def test_scheduling_a_panel_meeting_over_another_at_the_site_warns_and_saves_anyway(
    running_app: RunningApp, browser: Browser
) -> None:
    day = date.today() + timedelta(days=62)
    existing_at = _local(day, "14:00")

    async def prepare(container: Any) -> Any:
        coordinator = await users.actor_for_email(
            uow=container.uow(), email=COORDINATOR, face=Face.WEB
        )
        await users.set_my_locale(uow=container.uow(), actor=coordinator, locale=Locale.EN_GB)
        shown = await panels.panel_page(uow=container.uow(), actor=coordinator)
        her = next(choice for choice in shown.planning_sites if choice.site_code == "HER")
        return await panels.schedule_panel_meeting(
            uow=container.uow(),
            actor=coordinator,
            data=PanelMeetingCreate(site_id=her.site_id, starts_at=existing_at),
        )

    first = await with_core(running_app.database_url, prepare)
    context = await browser.new_context(viewport=VIEWPORTS["phone"], locale="en-GB")
    page = await context.new_page()
    try:
        await sign_in_as(page, running_app.url, COORDINATOR)
        await page.goto(f"{running_app.url}/panel")
        schedule = page.locator("section", has=page.get_by_role("heading", name="Schedule a panel"))
        await schedule.get_by_label("Site").select_option(label="HER")
        group = schedule.get_by_role("group", name="When is it?")
        await group.get_by_label("Day").fill(str(day.day))
        await group.get_by_label("Month").fill(str(day.month))
        await group.get_by_label("Year").fill(str(day.year))
        await schedule.get_by_label("Time").fill("15:00")
        await schedule.get_by_role("button", name="Schedule meeting").click()

        warning = page.locator("#meeting-clash-warning")
        await expect(warning).to_contain_text(
            "Another panel meeting at this site is at about that time"
        )
        await expect(warning).to_contain_text(ENGLISH.format_datetime(existing_at, MOMENT))
        await expect(schedule.get_by_label("Time")).to_have_value("15:00")  # kept as typed
        await _axe_clean(page, "en-GB meeting warning")
        await warning.get_by_role("button", name="Save anyway").click()
        await expect(page.get_by_role("status")).to_contain_text("Panel meeting scheduled")
    finally:
        await context.close()

    async def meetings(container: Any) -> list[Any]:
        async with container.uow() as uow:
            rows = await uow.session.execute(
                select(PanelMeeting.id, PanelMeeting.starts_at).where(
                    PanelMeeting.site_id == first.site_id, PanelMeeting.starts_at >= existing_at
                )
            )
            return list(rows.all())

    held = await with_core(running_app.database_url, meetings)
    on_the_day = [m for m in held if m.starts_at.date() == day or m.id == first.id]
    assert first.id in {m.id for m in on_the_day}
    assert any(_same_moment(m.starts_at, _local(day, "15:00")) for m in on_the_day)
