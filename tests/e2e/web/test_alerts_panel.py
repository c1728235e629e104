"""The Alerts and Panel pages in a real browser, at phone and desktop size.

A case manager raises a disruption alert; the police fellow acknowledges one and records the
action taken; the panel coordinator previews and broadcasts a panel date (pressing Send twice
queues each message once) and a panel member finds it in their in-app inbox, delivered by the
app's own dispatcher. Both pages have no axe violations in English and in Welsh.
"""

from __future__ import annotations

import asyncio
import re
import time
from typing import Any

import pytest
from axe_playwright_python.async_playwright import Axe
from playwright.async_api import Page, expect
from sqlalchemy import select

from core.enums import AlertStatus, AttendanceStatus, Face, Locale, NotificationKind, OutboxState
from core.models import DisruptionAlert, OutboxMessage
from core.services import alerts, broadcasts, caseload_lookup, inbox, panels, users
from tests.e2e.web.app_db import with_core as in_app_db
from tests.e2e.web.conftest import RunningApp, screenshot, sign_in_as

CASE_MANAGER = "casey.cm@demo.drive-assist.invalid"
FELLOW = "robin.pf@demo.drive-assist.invalid"
COORDINATOR = "alex.pc@demo.drive-assist.invalid"
MEMBER = "taylor.pm@demo.drive-assist.invalid"
DELIVERY_WAIT_SECONDS = 60


async def actor(container: Any, email: str) -> Any:
    return await users.actor_for_email(uow=container.uow(), email=email, face=Face.WEB)


async def in_english(database_url: str, *emails: str) -> None:
    """Start from English whatever an earlier (maybe failed) run switched to."""

    async def work(container: Any) -> None:
        for email in emails:
            who = await actor(container, email)
            await users.set_my_locale(uow=container.uow(), actor=who, locale=Locale.EN_GB)

    await in_app_db(database_url, work)


async def broadcasts_in_inbox(container: Any, email: str, meeting_id: int) -> int:
    """How many panel broadcasts about ``meeting_id`` are in this person's in-app inbox."""
    member = await actor(container, email)
    items = (await inbox.list_my_inbox(uow=container.uow(), actor=member, limit=200)).items
    return sum(
        1
        for item in items
        if item.kind is NotificationKind.PANEL_BROADCAST
        and item.params.get("meeting_id") == meeting_id
    )


async def assert_no_axe_violations_in_both_languages(page: Page, name: str) -> None:
    results = await Axe().run(page)
    assert results.violations_count == 0, results.generate_report()
    await page.get_by_role("button", name="Cymraeg").click()
    await expect(page.locator("div.page[lang='cy']")).to_be_attached()
    await expect(page.get_by_role("button", name="English")).to_be_visible()
    await screenshot(page, f"{name}-cy")
    results = await Axe().run(page)
    assert results.violations_count == 0, results.generate_report()
    await page.get_by_role("button", name="English").click()
    await expect(page.locator("div.page[lang='en-GB']")).to_be_attached()


# --- Alerts ---------------------------------------------------------------------------------


async def test_a_case_manager_raises_a_disruption_alert_for_a_case_on_their_caseload(
    running_app: RunningApp, page: Page
) -> None:
    await in_english(running_app.database_url, CASE_MANAGER)

    async def a_case_without_an_open_alert(container: Any) -> tuple[int, str]:
        casey = await actor(container, CASE_MANAGER)
        open_alerts = await alerts.list_open_alerts(uow=container.uow(), actor=casey)
        taken = {alert.case_id for alert in open_alerts}
        choices = await caseload_lookup.my_open_case_choices(uow=container.uow(), actor=casey)
        choice = next(c for c in choices if c.case_id not in taken)
        return choice.case_id, choice.reference

    case_id, reference = await in_app_db(running_app.database_url, a_case_without_an_open_alert)
    await sign_in_as(page, running_app.url, CASE_MANAGER)
    await page.goto(f"{running_app.url}/alerts")
    await expect(page.get_by_role("heading", level=1, name="Alerts")).to_be_visible()
    await page.get_by_label("Case", exact=True).select_option(label=reference)
    await page.get_by_role("button", name="Disruption needed").click()
    await expect(page.get_by_role("status")).to_contain_text(
        f"Disruption alert raised for {reference}"
    )
    card = page.locator("li.card", has_text=reference)
    await expect(card).to_contain_text("Status: Open")
    # A case manager reads the alert; only the fellow answers it.
    await expect(card.get_by_role("button", name="Acknowledge")).to_have_count(0)
    await screenshot(page, "alerts-case-manager")

    async def alert_and_its_messages(container: Any) -> tuple[AlertStatus, int]:
        async with container.uow() as uow:
            alert = (
                await uow.session.scalars(
                    select(DisruptionAlert).where(
                        DisruptionAlert.case_id == case_id,
                        DisruptionAlert.status == AlertStatus.OPEN,
                    )
                )
            ).one()
            messages = (
                await uow.session.scalars(
                    select(OutboxMessage).where(
                        OutboxMessage.dedupe_key.like(f"alert:{alert.id}:%")
                    )
                )
            ).all()
            return alert.status, len(messages)

    status, told = await in_app_db(running_app.database_url, alert_and_its_messages)
    assert status is AlertStatus.OPEN
    assert told >= 1  # every police fellow at the case's site, robin.pf among them
    await assert_no_axe_violations_in_both_languages(page, "alerts-case-manager")


async def test_a_police_fellow_acknowledges_an_alert_and_records_the_action_taken(
    running_app: RunningApp, page: Page
) -> None:
    await in_english(running_app.database_url, FELLOW)

    async def an_open_alert(container: Any) -> tuple[int, str]:
        fellow = await actor(container, FELLOW)
        for alert in await alerts.list_alerts_to_answer(uow=container.uow(), actor=fellow):
            if alert.status is AlertStatus.OPEN:
                return alert.id, alert.case_reference
        casey = await actor(container, CASE_MANAGER)
        choices = await caseload_lookup.my_open_case_choices(uow=container.uow(), actor=casey)
        raised = await alerts.raise_disruption_alert(
            uow=container.uow(), actor=casey, case_id=choices[-1].case_id
        )
        return raised.id, raised.case_reference

    alert_id, reference = await in_app_db(running_app.database_url, an_open_alert)
    await sign_in_as(page, running_app.url, FELLOW)
    await page.goto(f"{running_app.url}/alerts")
    card = page.locator("li.card", has_text=reference)
    await expect(card).to_contain_text("Status: Open")
    await screenshot(page, "alerts-fellow")
    await assert_no_axe_violations_in_both_languages(page, "alerts-fellow")

    card = page.locator("li.card", has_text=reference)
    await card.get_by_role("button", name="Acknowledge").click()
    await expect(page.get_by_role("status")).to_contain_text(f"Alert for {reference} acknowledged")
    await expect(card).to_contain_text("Status: Acknowledged")
    await expect(card.get_by_role("button", name="Acknowledge")).to_have_count(0)

    # An empty answer is refused with the GOV.UK error summary, linked to the field.
    await card.get_by_role("button", name="Record action taken").click()
    summary = page.locator("#error-summary")
    await expect(summary).to_contain_text("Enter the action taken")
    await expect(summary.get_by_role("link")).to_have_attribute(
        "href", re.compile(rf"#action-taken-{alert_id}$")
    )

    await card.get_by_label("What action was taken?").fill("DVPN served; bail conditions checked.")
    await card.get_by_role("button", name="Record action taken").click()
    await expect(page.get_by_role("status")).to_contain_text(f"Action recorded for {reference}")
    await expect(page.locator("li.card", has_text=reference)).to_have_count(0)
    await screenshot(page, "alerts-fellow-actioned")

    async def stored(container: Any) -> tuple[AlertStatus, str | None, bool]:
        async with container.uow() as uow:
            alert = await uow.session.get(DisruptionAlert, alert_id)
            fellow_id = await users.user_id_for_email(uow=container.uow(), email=FELLOW)
            return alert.status, alert.action_taken, alert.acknowledged_by_id == fellow_id

    assert await in_app_db(running_app.database_url, stored) == (
        AlertStatus.ACTIONED,
        "DVPN served; bail conditions checked.",
        True,
    )


# --- Panel ----------------------------------------------------------------------------------


async def test_a_coordinator_broadcasts_a_panel_date_once_and_a_member_finds_it_in_the_inbox(
    running_app: RunningApp, page: Page
) -> None:
    await in_english(running_app.database_url, COORDINATOR, MEMBER)

    async def next_meeting_with_the_member_attending(
        container: Any,
    ) -> tuple[int, int, set[int], int]:
        coordinator = await actor(container, COORDINATOR)
        member = await actor(container, MEMBER)
        meeting = (await broadcasts.broadcastable_meetings(uow=container.uow(), actor=coordinator))[
            0
        ]
        await panels.rsvp_panel_meeting(
            uow=container.uow(),
            actor=member,
            meeting_id=meeting.id,
            status=AttendanceStatus.ATTENDING,
        )
        async with container.uow() as uow:
            before = set(await uow.session.scalars(select(OutboxMessage.id)))
        in_inbox = await broadcasts_in_inbox(container, MEMBER, meeting.id)
        return meeting.id, member.user_id, before, in_inbox

    meeting_id, member_id, before, inbox_before = await in_app_db(
        running_app.database_url, next_meeting_with_the_member_attending
    )
    await sign_in_as(page, running_app.url, COORDINATOR)
    await page.goto(f"{running_app.url}/panel")
    await expect(page.get_by_role("heading", level=1, name="Panel")).to_be_visible()
    await expect(page.get_by_role("heading", name="Upcoming meetings")).to_be_visible()
    await screenshot(page, "panel-coordinator")
    await assert_no_axe_violations_in_both_languages(page, "panel-coordinator")

    await page.get_by_label("Meeting", exact=True).select_option(str(meeting_id))
    await page.get_by_role("button", name="Preview").click()
    preview = page.locator("#broadcast-preview")
    await expect(preview).to_contain_text(re.compile(r"The .+ panel meets on "))
    count_text = await preview.locator(".recipient-count").inner_text()
    shown = int(re.match(r"(\d+) (person|people) will get this message", count_text).group(1))
    await screenshot(page, "panel-broadcast-preview")
    results = await Axe().run(page)
    assert results.violations_count == 0, results.generate_report()

    # Two presses before the page can redraw: core's broadcast_key makes it one broadcast.
    await preview.get_by_role("button", name="Send").evaluate(
        "button => { button.click(); button.click(); }"
    )
    await expect(page.get_by_role("status")).to_contain_text(
        re.compile(rf"Broadcast queued for {shown} (person|people)\.")
    )
    await expect(preview.get_by_role("button", name="Send")).to_have_count(0)

    async def queued_by_this_broadcast(container: Any) -> list[tuple[int, str]]:
        async with container.uow() as uow:
            rows = await uow.session.execute(
                select(OutboxMessage.id, OutboxMessage.recipient_user_id, OutboxMessage.kind)
            )
            return [
                (recipient, kind)
                for message_id, recipient, kind in rows
                if message_id not in before and kind == NotificationKind.PANEL_BROADCAST
            ]

    queued = await in_app_db(running_app.database_url, queued_by_this_broadcast)
    recipients = [recipient for recipient, _kind in queued]
    assert len(recipients) == shown
    assert len(set(recipients)) == len(recipients)  # nobody twice
    assert member_id in recipients

    # The app's own dispatcher delivers it to the member's inbox (no Telegram here).
    async def member_messages_sent(container: Any) -> list[OutboxState]:
        async with container.uow() as uow:
            rows = await uow.session.scalars(
                select(OutboxMessage.state).where(
                    OutboxMessage.recipient_user_id == member_id,
                    OutboxMessage.kind == NotificationKind.PANEL_BROADCAST,
                    OutboxMessage.id.not_in(sorted(before)),
                )
            )
            return list(rows)

    deadline = time.monotonic() + DELIVERY_WAIT_SECONDS
    states = await in_app_db(running_app.database_url, member_messages_sent)
    while states != [OutboxState.SENT] and time.monotonic() < deadline:
        await asyncio.sleep(0.5)
        states = await in_app_db(running_app.database_url, member_messages_sent)
    assert states == [OutboxState.SENT], running_app.output()[-3000:]

    in_inbox = await in_app_db(
        running_app.database_url,
        lambda container: broadcasts_in_inbox(container, MEMBER, meeting_id),
    )
    assert in_inbox == inbox_before + 1

    # The member reads it in the in-app inbox, and sees their reply on the Panel page.
    await page.context.clear_cookies()
    await sign_in_as(page, running_app.url, MEMBER)
    await page.goto(f"{running_app.url}/inbox")
    await expect(page.get_by_text(re.compile(r"The .+ panel meets on ")).first).to_be_visible()
    await screenshot(page, "panel-broadcast-in-inbox")
    await page.goto(f"{running_app.url}/panel")
    await expect(page.locator(f"#meeting-{meeting_id}")).to_have_text("Your reply: Attending")
    await expect(page.get_by_role("heading", name="Tell the panel about a meeting")).to_have_count(
        0
    )
    await screenshot(page, "panel-member")
    await assert_no_axe_violations_in_both_languages(page, "panel-member")


@pytest.mark.phone_only
async def test_a_panel_member_sends_apologies_from_the_panel_page(
    running_app: RunningApp, page: Page
) -> None:
    await in_english(running_app.database_url, MEMBER)

    async def next_meeting(container: Any) -> int:
        member = await actor(container, MEMBER)
        return (await panels.my_upcoming_panel_meetings(uow=container.uow(), actor=member))[
            -1
        ].meeting.id

    meeting_id = await in_app_db(running_app.database_url, next_meeting)
    await sign_in_as(page, running_app.url, MEMBER)
    await page.goto(f"{running_app.url}/panel")
    card = page.locator(f"li.card:has(#meeting-{meeting_id})")
    await card.get_by_role("button", name="Apologies").click()
    await expect(page.locator(f"#meeting-{meeting_id}")).to_have_text("Your reply: Apologies")

    async def my_reply(container: Any) -> AttendanceStatus | None:
        member = await actor(container, MEMBER)
        upcoming = await panels.my_upcoming_panel_meetings(uow=container.uow(), actor=member)
        return next(i.my_rsvp for i in upcoming if i.meeting.id == meeting_id)

    assert await in_app_db(running_app.database_url, my_reply) is AttendanceStatus.APOLOGIES
