"""A panel coordinator marks a past demo meeting held, with who attended (issue 19). Phone."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

from playwright.async_api import Browser, expect
from sqlalchemy import select

from core.enums import AttendanceStatus, PanelMeetingStatus
from core.models import Membership, PanelAttendance, PanelMeeting, User
from tests.e2e.web.conftest import VIEWPORTS, RunningApp, sign_in_as
from tests.e2e.web.test_alerts_panel import COORDINATOR, in_app_db, in_english


async def _past_meeting(database_url: str) -> int:
    """A meeting already started (not cancelled) at a site of the coordinator's; when the demo
    has none, its next scheduled meeting moved to two hours ago (as if the day had come)."""

    async def work(container: Any) -> int:
        now = datetime.now(UTC)
        async with container.session_factory() as session:
            sites = select(Membership.site_id).join(User).where(User.email == COORDINATOR)
            at_sites = select(PanelMeeting).where(
                PanelMeeting.site_id.in_(sites),
                PanelMeeting.status != PanelMeetingStatus.CANCELLED,
            )
            past = await session.scalar(
                at_sites.where(PanelMeeting.starts_at < now)
                .order_by(PanelMeeting.starts_at.desc())
                .limit(1)
            )
            if past is None:
                past = await session.scalar(at_sites.order_by(PanelMeeting.starts_at).limit(1))
                assert past is not None, "the demo should have a panel meeting"
                past.starts_at = now - timedelta(hours=2)
                await session.commit()
            return int(past.id)

    return await in_app_db(database_url, work)


async def _marks(database_url: str, meeting_id: int) -> dict[str, str]:
    async def work(container: Any) -> dict[str, str]:
        async with container.session_factory() as session:
            rows = await session.execute(
                select(User.display_name, PanelAttendance.status)
                .join(User, User.id == PanelAttendance.user_id)
                .where(PanelAttendance.meeting_id == meeting_id)
            )
            return {name: str(status) for name, status in rows}

    return await in_app_db(database_url, work)


async def test_a_coordinator_marks_a_past_meeting_held_with_who_attended(
    browser: Browser, running_app: RunningApp
) -> None:
    meeting_id = await _past_meeting(running_app.database_url)
    await in_english(running_app.database_url, COORDINATOR)
    context = await browser.new_context(viewport=VIEWPORTS["phone"], locale="en-GB")
    try:
        page = await context.new_page()
        await sign_in_as(page, running_app.url, COORDINATOR)
        await page.goto(f"{running_app.url}/panel/meeting/{meeting_id}")
        await expect(page.get_by_role("heading", level=1)).to_contain_text("Panel")
        boxes = page.locator("input[type=checkbox]")
        await expect(boxes.first).to_be_visible()
        for index in range(await boxes.count()):
            await boxes.nth(index).uncheck()
        await boxes.first.check()
        first_label = await page.locator("label.checkboxes-label").first.inner_text()
        first_name = re.split(r" \(| — ", first_label)[0]
        await page.get_by_role("button", name="Mark as held").click()
        await expect(page.locator("#notice")).to_contain_text("Marked as held: 1 attended")
    finally:
        await context.close()
    marks = await _marks(running_app.database_url, meeting_id)
    first = next(name for name in marks if first_name.startswith(name))
    assert marks[first] == AttendanceStatus.ATTENDED.value
    assert {status for name, status in marks.items() if name != first} <= {
        AttendanceStatus.ABSENT.value
    }
