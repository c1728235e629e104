"""Today, the inbox and the language switch, as a demo case manager sees them in a browser.

Messages reach the inbox the way every notification does: queued in the outbox through core
and delivered by the dispatcher's inbox channel, against the running app's database.
"""

from __future__ import annotations

import asyncio
import re
import uuid
from collections import Counter
from collections.abc import AsyncIterator

import pytest
from axe_playwright_python.async_playwright import Axe
from playwright.async_api import Browser, Page, expect

from core.bootstrap import Container, bootstrap
from core.enums import Channel, Face, Lane, Locale, NotificationKind, PlaceKind
from core.notifications import outbox
from core.notifications.channels import InboxChannel
from core.notifications.dispatcher import Dispatcher, DispatchSettings
from core.schemas.actor import Actor
from core.services import inbox, today, users
from core.settings import Settings
from tests.e2e.web.conftest import RunningApp, open_menu, screenshot, sign_in_as
from ui.i18n import Translator
from ui.notifications import render

CASE_MANAGER = "casey.cm@demo.drive-assist.invalid"
# A second case manager for the language test, so nobody else's test meets a Welsh page.
WELSH_TESTER = "morgan.cm@demo.drive-assist.invalid"
SIGN_IN_URL = re.compile(r"/sign-in/?$")
INBOX_URL = re.compile(r"/inbox/?$")


@pytest.fixture
async def core(running_app: RunningApp) -> AsyncIterator[Container]:
    """Core against the running app's database."""
    made = bootstrap(Settings(database_url=running_app.database_url))
    yield made
    await made.dispose()


async def actor_for(core: Container, email: str) -> Actor:
    return await users.actor_for_email(uow=core.uow(), email=email, face=Face.WEB)


async def deliver_reminder(core: Container, email: str) -> dict[str, str]:
    """Queue an appointment reminder for ``email`` and deliver it to their inbox; its params."""
    recipient = await actor_for(core, email)
    params = {
        "reference": f"TEST-{uuid.uuid4().hex[:6].upper()}",
        "time": "2030-01-15T10:30:00+00:00",
        "place_kind": PlaceKind.OFFICE.value,
    }
    uow = core.uow()
    async with uow:
        await outbox.enqueue(
            uow,
            recipient_user_id=recipient.user_id,
            channel=Channel.INBOX,
            kind=NotificationKind.APPOINTMENT_REMINDER,
            lane=Lane.NORMAL,
            message_key=NotificationKind.APPOINTMENT_REMINDER.value,
            params=params,
            dedupe_key=f"test:web-inbox:{uuid.uuid4()}",
        )
        await uow.commit()
    channels = {Channel.INBOX: InboxChannel(core.session_factory, core.clock)}
    dispatcher = Dispatcher(
        core, core.clock, channels, DispatchSettings(pacing=False), "web-inbox-test"
    )
    # The app's own dispatcher may deliver it first; either way it lands once.
    for _ in range(60):
        await dispatcher.run_once()
        found = await inbox.list_my_inbox(uow=core.uow(), actor=recipient, limit=50)
        if any(item.params.get("reference") == params["reference"] for item in found.items):
            return params
        await asyncio.sleep(0.5)
    raise AssertionError("the reminder never reached the inbox")


async def assert_no_axe_violations(page: Page) -> None:
    results = await Axe().run(page)
    assert results.violations_count == 0, results.generate_report()


async def test_a_case_manager_sees_todays_appointments_and_unread_count_then_reads_the_inbox(
    web_app: str, page: Page, core: Container
) -> None:
    params = await deliver_reminder(core, CASE_MANAGER)
    casey = await actor_for(core, CASE_MANAGER)
    mine = await today.my_today(uow=core.uow(), actor=casey)
    assert mine.my_day.appointments, "the demo seed gives every case manager appointments today"
    english = Translator("en_GB")

    await sign_in_as(page, web_app, CASE_MANAGER)

    await expect(page.get_by_role("heading", level=1, name="Today")).to_be_visible()
    appointments = page.get_by_role("region", name="Appointments")
    # One card for each of the day's appointments, found by its case and its time: the demo
    # seed can give one case two appointments in a day (HER-0023 on 2026-12-04).
    shown = Counter(
        (appointment.case_reference, english.format_time(appointment.starts_at))
        for appointment in mine.my_day.appointments
    )
    for (reference, at), expected in shown.items():
        cards = appointments.get_by_role("listitem").filter(has_text=reference)
        await expect(cards.filter(has_text=at)).to_have_count(expected)
    await expect(page.locator("#unread-summary")).to_have_text(
        english.ngettext(
            "You have {n} unread message.", "You have {n} unread messages.", mine.unread_inbox
        )
    )
    await screenshot(page, "today")
    await assert_no_axe_violations(page)

    await page.get_by_role("link", name="Open your inbox").click()
    await page.wait_for_url(INBOX_URL)
    await expect(page.get_by_role("heading", level=1, name="Inbox")).to_be_visible()
    text = render(NotificationKind.APPOINTMENT_REMINDER.value, params, "en_GB")
    item = page.get_by_role("listitem").filter(has_text=text)
    await expect(item).to_contain_text("Unread")
    # Newest first: the reminder just delivered is the first message.
    await expect(page.get_by_role("listitem").filter(has_text="Reminder").first).to_have_text(
        re.compile(re.escape(text))
    )
    await screenshot(page, "inbox")
    await assert_no_axe_violations(page)

    await page.get_by_role("button", name="Mark all as read").click()
    await expect(page.locator("#unread-summary")).to_have_text("You have no unread messages.")
    await expect(item).not_to_contain_text("Unread")
    assert await inbox.unread_inbox_count(uow=core.uow(), actor=casey) == 0

    # One tap from a Today card to its case, and from the case to logging a contact on it.
    first = mine.my_day.appointments[0]
    await page.goto(web_app)
    await expect(page.get_by_role("heading", level=1, name="Today")).to_be_visible()
    cards = page.get_by_role("region", name="Appointments")
    await cards.get_by_role("link", name=first.case_reference, exact=True).first.click()
    await page.wait_for_url(re.compile(rf"/case/{first.case_id}/?$"))
    await expect(page.get_by_role("heading", level=1, name=first.case_reference)).to_be_visible()
    await page.get_by_role("main").get_by_role("link", name="Log a contact").click()
    await page.wait_for_url(re.compile(rf"/log/?\?case={first.case_id}$"))
    await expect(page.get_by_role("heading", level=1, name="Log a contact")).to_be_visible()
    many = page.locator("#case-select")  # many cases: a select, else a radio per case
    if await many.count():
        await expect(many).to_have_value(str(first.case_id))
    else:
        chosen = page.get_by_role("radio", name=first.case_reference, exact=True)
        await expect(chosen).to_be_checked()


@pytest.mark.phone_only
async def test_older_messages_continue_the_inbox_after_the_first_page(
    web_app: str, page: Page, core: Container
) -> None:
    from webapp.pages.inbox import PAGE_SIZE

    casey = await actor_for(core, CASE_MANAGER)

    async def first_page_is_full() -> bool:
        found = await inbox.list_my_inbox(uow=core.uow(), actor=casey, limit=PAGE_SIZE)
        return found.next_before_id is not None

    while not await first_page_is_full():
        await deliver_reminder(core, CASE_MANAGER)
    await sign_in_as(page, web_app, CASE_MANAGER)
    await page.goto(f"{web_app}/inbox")
    messages = page.get_by_role("list", name="Messages, newest first").get_by_role("listitem")
    await expect(messages).to_have_count(PAGE_SIZE)

    await page.get_by_role("button", name="Older messages").click()

    total = len((await inbox.list_my_inbox(uow=core.uow(), actor=casey, limit=200)).items)
    await expect(messages).to_have_count(min(total, 2 * PAGE_SIZE))


async def test_the_switch_to_welsh_shows_welsh_and_is_remembered_after_signing_in_again(
    web_app: str, page: Page, core: Container, browser: Browser
) -> None:
    tester = await actor_for(core, WELSH_TESTER)
    await deliver_reminder(core, WELSH_TESTER)
    try:
        await sign_in_as(page, web_app, WELSH_TESTER)
        await expect(page.get_by_role("heading", level=1, name="Today")).to_be_visible()

        await page.get_by_role("button", name="Cymraeg").click()

        await expect(page.get_by_role("heading", level=1, name="Heddiw")).to_be_visible()
        await expect(page.get_by_role("button", name="English")).to_have_attribute("lang", "en-GB")
        await expect(page.locator("main").locator("xpath=..")).to_have_attribute("lang", "cy")
        assert (await actor_for(core, WELSH_TESTER)).locale is Locale.CY
        await screenshot(page, "today-cy")
        await assert_no_axe_violations(page)

        await page.goto(f"{web_app}/inbox")
        await expect(page.locator("#unread-summary")).not_to_be_empty()
        await screenshot(page, "inbox-cy")
        await assert_no_axe_violations(page)

        await open_menu(page)
        # "Allgofnodi" (sign out): in the folded menu on a phone, by the language switch wider.
        await page.get_by_role("banner").get_by_role("button", name="Allgofnodi").click()
        await page.wait_for_url(SIGN_IN_URL)

        # A different browser, no cookies: the saved language comes with the account.
        fresh = await browser.new_context(viewport=page.viewport_size, locale="en-GB")
        try:
            again = await fresh.new_page()
            await sign_in_as(again, web_app, WELSH_TESTER)
            await expect(again.get_by_role("heading", level=1, name="Heddiw")).to_be_visible()
        finally:
            await fresh.close()
    finally:
        await users.set_my_locale(uow=core.uow(), actor=tester, locale=Locale.EN_GB)
