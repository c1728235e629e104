"""The Panel page's agenda and actions in a real browser, at phone and desktop size.

The panel coordinator schedules a meeting, puts a case on its agenda (by reference) and agrees
an action with an owner and a due date; an empty action form shows the GOV.UK error summary.
The owner, the police fellow, finds the action on their Panel page and marks it done. The page
has no axe violations in English and in Welsh.
"""

from __future__ import annotations

import re
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from babel.dates import format_date
from playwright.async_api import Locator, Page, expect
from sqlalchemy import select

from core.enums import PanelActionStatus
from core.models import PanelAction, PanelAgendaItem, PanelMeeting, Site
from core.services import panels
from tests.e2e.web.conftest import RunningApp, screenshot, sign_in_as
from tests.e2e.web.test_alerts_panel import (
    actor,
    assert_no_axe_violations_in_both_languages,
    in_app_db,
    in_english,
)

COORDINATOR = "alex.pc@demo.drive-assist.invalid"
FELLOW = "robin.pf@demo.drive-assist.invalid"
FELLOW_OWNER_LABEL = "Demo DI Robin Fellow (Police)"
LONDON = ZoneInfo("Europe/London")
DESCRIPTION = "Check bail conditions and report back to the panel."


async def _fill_date(group: Locator, day: date) -> None:
    """Type ``day`` into a date input's Day, Month and Year fields, as a person would."""
    await group.get_by_label("Day").fill(str(day.day))
    await group.get_by_label("Month").fill(str(day.month))
    await group.get_by_label("Year").fill(str(day.year))


async def test_a_coordinator_plans_a_meeting_and_the_owner_marks_the_action_done(
    running_app: RunningApp, page: Page
) -> None:
    await in_english(running_app.database_url, COORDINATOR, FELLOW)
    # Tomorrow, so the new meeting is among the first coming ones.
    viewport = page.context.viewport_name  # type: ignore[attr-defined]
    day = datetime.now(LONDON).date() + timedelta(days=1)
    # Afternoon and evening: a meeting at a site within three hours of another clashes
    # (core.services.clashes), with the demo's HER panel (Tuesdays, 10:00 UTC: a Monday's run
    # failed) or with the other viewport's.
    at = time(16, 0) if viewport == "phone" else time(20, 0)
    due = day + timedelta(days=14)

    async def an_open_case_at_her(container: Any) -> str:
        coordinator = await actor(container, COORDINATOR)
        shown = await panels.panel_page(uow=container.uow(), actor=coordinator)
        her = next(choice for choice in shown.planning_sites if choice.site_code == "HER")
        return her.cases[0].reference

    reference = await in_app_db(running_app.database_url, an_open_case_at_her)

    await sign_in_as(page, running_app.url, COORDINATOR)
    await page.goto(f"{running_app.url}/panel")
    await expect(page.get_by_role("heading", level=1, name="Panel")).to_be_visible()

    # Schedule the meeting.
    schedule = page.locator("section", has=page.get_by_role("heading", name="Schedule a panel"))
    await schedule.get_by_label("Site").select_option(label="HER")
    await _fill_date(schedule.get_by_role("group", name="When is it?"), day)
    await schedule.get_by_label("Time").fill(at.strftime("%H:%M"))
    await schedule.get_by_label("Place (optional)").fill("Room 4, Testshire police station")
    await schedule.get_by_role("button", name="Schedule meeting").click()
    await expect(page.get_by_role("status")).to_contain_text("Panel meeting scheduled: Panel HER")

    async def the_new_meeting(container: Any) -> int:
        starts_at = datetime.combine(day, at, LONDON)
        async with container.uow() as uow:
            return await uow.session.scalar(
                select(PanelMeeting.id)
                .join(Site, Site.id == PanelMeeting.site_id)
                .where(PanelMeeting.starts_at == starts_at, Site.code == "HER")
            )

    meeting_id = await in_app_db(running_app.database_url, the_new_meeting)
    card = page.locator(f"li.card:has(#meeting-{meeting_id})")
    await expect(card).to_contain_text("Room 4, Testshire police station")
    await expect(card).to_contain_text("No cases are on the agenda yet.")

    # Put a case on the agenda, by its reference (the planning forms are folded at first).
    await card.get_by_text("Plan this meeting").click()
    await card.get_by_label("Case reference").select_option(label=reference)
    await card.get_by_role("button", name="Add to agenda").click()
    await expect(page.get_by_role("status")).to_contain_text(f"{reference} added to the agenda.")
    await expect(card.locator("li.case-reference")).to_have_text([reference])

    # An empty action is refused: the error summary links to each field in error.
    await card.get_by_role("button", name="Add action").click()
    summary = page.locator("#error-summary")
    await expect(summary).to_contain_text("Choose the case the action is for")
    await expect(summary).to_contain_text("Enter what needs to be done")
    await expect(summary).to_contain_text("Choose who owns the action")
    await expect(summary).to_contain_text("Enter the due date of the action")
    await expect(summary.get_by_role("link", name="Enter what needs to be done")).to_have_attribute(
        "href", re.compile(rf"#action-description-{meeting_id}$")
    )
    await expect(card.locator(f"#action-description-{meeting_id}-error")).to_contain_text(
        "Enter what needs to be done"
    )
    await screenshot(page, "panel-action-errors")

    # The action, with its owner and due date.
    await card.get_by_label("Case", exact=True).select_option(label=reference)
    await card.get_by_label("What needs to be done").fill(DESCRIPTION)
    await card.get_by_label("Owner").select_option(label=FELLOW_OWNER_LABEL)
    # Due yesterday: core refuses it, and the page says so by the due date.
    due_date = card.get_by_role("group", name="Due date")
    await _fill_date(due_date, datetime.now(LONDON).date() - timedelta(days=1))
    await card.get_by_role("button", name="Add action").click()
    await expect(card.locator(f"#action-due-{meeting_id}-error")).to_contain_text(
        "The due date must be today or in the future"
    )
    await expect(
        summary.get_by_role("link", name="The due date must be today or in the future")
    ).to_have_attribute("href", re.compile(rf"#action-due-{meeting_id}$"))
    await _fill_date(due_date, due)
    await card.get_by_role("button", name="Add action").click()
    await expect(page.get_by_role("status")).to_contain_text(f"Action added for {reference}")
    await expect(summary).to_have_count(0)
    action_item = card.locator("li.panel-action", has_text=DESCRIPTION)
    await expect(action_item).to_contain_text(FELLOW_OWNER_LABEL)
    await expect(action_item).to_contain_text(format_date(due, "d MMM yyyy", locale="en_GB"))
    await expect(action_item).to_contain_text("Open")
    await expect(card.get_by_label("What needs to be done")).to_have_value("")  # ready for the next
    await screenshot(page, "panel")
    await assert_no_axe_violations_in_both_languages(page, "panel")

    async def the_action(container: Any) -> tuple[int, PanelActionStatus, date | None, int]:
        async with container.uow() as uow:
            action = (
                await uow.session.scalars(
                    select(PanelAction).where(PanelAction.meeting_id == meeting_id)
                )
            ).one()
            on_agenda = len(
                (
                    await uow.session.scalars(
                        select(PanelAgendaItem).where(PanelAgendaItem.meeting_id == meeting_id)
                    )
                ).all()
            )
            return action.id, action.status, action.due_on, on_agenda

    action_id, status, due_on, on_agenda = await in_app_db(running_app.database_url, the_action)
    assert (status, due_on, on_agenda) == (PanelActionStatus.OPEN, due, 1)

    # The owner sees it on their Panel page and marks it done.
    await page.context.clear_cookies()
    await sign_in_as(page, running_app.url, FELLOW)
    await page.goto(f"{running_app.url}/panel")
    card = page.locator(f"li.card:has(#meeting-{meeting_id})")
    action_item = card.locator("li.panel-action", has_text=DESCRIPTION)
    await expect(action_item).to_contain_text(reference)
    await expect(card.get_by_role("button", name="Add action")).to_have_count(0)
    await action_item.get_by_role("button", name="Mark as done").click()
    await expect(page.get_by_role("status")).to_contain_text(
        f"Action for {reference} is now: Done."
    )
    await expect(action_item.locator(f"#action-{action_id}")).to_have_text("Done")
    await expect(action_item.get_by_role("button", name="Mark as done")).to_have_count(0)
    await screenshot(page, "panel-owner-done")

    _id, status, _due, _agenda = await in_app_db(running_app.database_url, the_action)
    assert status is PanelActionStatus.DONE
