"""A Save pressed without signal is held on the phone and logged once when the signal returns
(issue 21, part 1): through a reload, a server answering 502, and an answer lost after the
write; signing out with one waiting; an appointment's outcome the same way. At phone width, in
English and in Welsh, on the shared app."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator
from datetime import date, timedelta

import pytest
from playwright.async_api import Browser, CDPSession, Page, Route, expect

from core.enums import AppointmentStatus, WorkCategory
from tests.e2e.web import test_appointments as appointments_page
from tests.e2e.web.app_db import appointments_on_case, contacts_on_case
from tests.e2e.web.conftest import VIEWPORTS, RunningApp, open_menu, sign_in_as
from tests.e2e.web.test_log_contact import CASE_MANAGER, WELSH_CASE_MANAGER, _my_cases

HELD = {
    "en-GB": "Saved on this phone. It will be sent when you have signal.",
    "cy": "Wedi'i gadw ar y ffôn hwn. Bydd yn cael ei anfon pan fydd gennych signal.",
}
# The offline banner agrees with the held message: a contact saved now is kept on the phone.
KEPT_WHILE_OFFLINE = {
    "en-GB": "Contacts, outcomes and bookings are kept on this phone till the signal is back.",
    "cy": "Caiff cysylltiadau, canlyniadau ac apwyntiadau eu cadw ar y ffôn hwn",
}
WAITING = {"en-GB": "Waiting to send: 1", "cy": "Yn aros i'w anfon: 1"}
SENT = {
    "en-GB": "Sent. What you saved on this phone has reached Drive Assist.",
    "cy": "Wedi'i anfon. Mae'r hyn a gadwoch ar y ffôn hwn wedi cyrraedd Drive Assist.",
}


@pytest.fixture
async def phone(browser: Browser) -> AsyncIterator[Page]:
    """A fresh browser at 390 px (these tests are about a phone in a dead zone).

    Without the service worker: these tests are about assets/held.js, and they fail and lose
    the server's answers in the browser, which a worker between the page and the network would
    only complicate. The worker's part, holding and sending a contact from a page it served
    offline, is test_offline_shell.py's."""
    context = await browser.new_context(
        viewport=VIEWPORTS["phone"], locale="en-GB", service_workers="block"
    )
    yield await context.new_page()
    await context.close()


NOTE = "Fictional held note about the Testshire visit"


async def _device_storage(page: Page) -> str:
    """Everything the app keeps in the browser's storage, as one text."""
    return str(await page.evaluate("JSON.stringify([{...localStorage}, {...sessionStorage}])"))


async def _hold_a_contact(page: Page, url: str, language: str) -> None:
    """Fill the form, lose the signal, press Save: the page says it is held on the phone."""
    await page.goto(url)
    await page.locator(f"#category-{WorkCategory.SUPPORT.value}").check()
    empty_count = await page.locator("#note-count").inner_text()
    await page.locator("textarea[name=note]").fill(NOTE)
    await expect(page.locator("#note-count")).not_to_have_text(empty_count)
    await page.context.set_offline(True)
    await expect(page.locator(".connection-banner")).to_contain_text(
        KEPT_WHILE_OFFLINE[language], timeout=30_000
    )
    await page.locator("form button[type=submit]").click()
    await expect(page.locator("#held-notice")).to_have_text(HELD[language])
    await expect(page.locator("#held-notice")).to_be_focused()
    await expect(page.locator("#held-count")).to_have_text(WAITING[language])
    # The emptied form's note counter says so (it kept the held note's count before).
    await expect(page.locator("#note-count")).to_have_text(empty_count)


async def _server_unreachable(page: Page) -> CDPSession:
    """Sends of held saves fail as with no signal to the server, though the phone is online,
    until ``_server_reachable`` with the session this returns.

    Blocked in the browser's network layer (DevTools' blocked URLs), not with ``page.route``:
    a send made as a reloaded page starts could slip past the route (one run in three did,
    and was saved)."""
    session = await page.context.new_cdp_session(page)
    await session.send("Network.enable")
    await session.send("Network.setBlockedURLs", {"urls": ["*/api/held"]})
    return session


async def _server_reachable(session: CDPSession) -> None:
    await session.send("Network.setBlockedURLs", {"urls": []})


async def _sent(page: Page, language: str) -> None:
    await expect(page.locator("#held-notice")).to_have_text(SENT[language], timeout=15_000)
    await expect(page.locator("#held-count")).to_have_text("")


async def test_a_contact_saved_without_signal_is_held_through_a_reload_and_logged_once(
    running_app: RunningApp, phone: Page
) -> None:
    case = (await _my_cases(running_app, CASE_MANAGER))[0]
    before = len(await contacts_on_case(running_app, case.case_id))
    await sign_in_as(phone, running_app.url, CASE_MANAGER)
    form = f"{running_app.url}/log?case={case.case_id}"

    # Still no signal to the server when the phone is back online: held, through a reload.
    await _hold_a_contact(phone, form, "en-GB")
    assert NOTE not in await _device_storage(phone)  # held encrypted, as the draft was
    blocked = await _server_unreachable(phone)
    await phone.context.set_offline(False)
    await phone.reload()
    await expect(phone.locator("#held-count")).to_have_text(WAITING["en-GB"])
    assert len(await contacts_on_case(running_app, case.case_id)) == before
    await _server_reachable(blocked)
    await phone.reload()
    await _sent(phone, "en-GB")
    saved = await contacts_on_case(running_app, case.case_id)
    assert len(saved) == before + 1
    assert saved[0].notes == NOTE


async def test_signing_out_with_a_save_waiting_asks_and_leaves_nothing_for_the_next_person(
    running_app: RunningApp, phone: Page
) -> None:
    case = (await _my_cases(running_app, CASE_MANAGER))[0]
    before = len(await contacts_on_case(running_app, case.case_id))
    await sign_in_as(phone, running_app.url, CASE_MANAGER)
    await _hold_a_contact(phone, f"{running_app.url}/log?case={case.case_id}", "en-GB")
    await _server_unreachable(phone)
    await phone.context.set_offline(False)

    await open_menu(phone)
    await phone.get_by_role("button", name="Sign out").click()
    dialog = phone.get_by_role("dialog")
    await expect(dialog).to_contain_text("You have saves on this phone that have not been sent")
    await dialog.get_by_role("button", name="Delete them, then sign out").click()

    # Signing out moves the tab twice (the sign-out, then the sign-in page), so the first
    # navigation can end "aborted" by the second: wait for where it lands, not for one load.
    await expect(phone).to_have_url(re.compile(r"/sign-in/?(\?.*)?$"), timeout=30_000)
    await expect(phone.get_by_label("Email address")).to_be_visible(timeout=30_000)
    assert "drive-held" not in await _device_storage(phone)  # no entries, no key
    assert len(await contacts_on_case(running_app, case.case_id)) == before


@pytest.mark.parametrize("failure", ["502", "answer lost after the write"])
async def test_a_held_contact_is_logged_once_after_a_failed_send(
    running_app: RunningApp, phone: Page, failure: str
) -> None:
    case = (await _my_cases(running_app, CASE_MANAGER))[0]
    before = len(await contacts_on_case(running_app, case.case_id))
    await sign_in_as(phone, running_app.url, CASE_MANAGER)
    sends: list[str] = []
    first_failed = asyncio.Event()

    async def first_send_fails(route: Route) -> None:
        sends.append(route.request.url)
        if len(sends) > 1:
            await route.continue_()
            return
        if failure == "502":
            await route.fulfill(status=502, body="Bad Gateway")
        else:  # the server saves it; its answer never reaches the phone
            await route.fetch()
            await route.abort("connectionreset")
        first_failed.set()

    await phone.route("**/api/held", first_send_fails)
    await _hold_a_contact(phone, f"{running_app.url}/log?case={case.case_id}", "en-GB")
    await phone.context.set_offline(False)  # the "online" event sends it: the first send fails
    await asyncio.wait_for(first_failed.wait(), timeout=15)
    await expect(phone.locator("#held-count")).to_have_text(WAITING["en-GB"])
    await phone.reload()  # and the page load sends it again

    await _sent(phone, "en-GB")
    assert len(sends) == 2
    assert len(await contacts_on_case(running_app, case.case_id)) == before + 1


async def test_a_welsh_page_says_the_contact_is_held_and_sent_in_welsh(
    running_app: RunningApp, phone: Page
) -> None:
    case = (await _my_cases(running_app, WELSH_CASE_MANAGER))[0]
    before = len(await contacts_on_case(running_app, case.case_id))
    await sign_in_as(phone, running_app.url, WELSH_CASE_MANAGER)
    form = f"{running_app.url}/log?case={case.case_id}"
    await phone.goto(form)  # switched on the form's page, as the log-contact tests do
    await expect(phone.locator("form button[type=submit]")).to_be_visible(timeout=30_000)
    first = await phone.locator(".page").get_attribute("lang")
    if first != "cy":
        await phone.get_by_role("button", name="Cymraeg").click()
        await expect(phone.locator(".page")).to_have_attribute("lang", "cy")
    try:
        await _hold_a_contact(phone, form, "cy")
        await phone.context.set_offline(False)
        await _sent(phone, "cy")
        assert len(await contacts_on_case(running_app, case.case_id)) == before + 1
    finally:  # the choice is remembered for the user: leave them in the language they had
        if first != "cy":
            await phone.context.set_offline(False)
            await phone.get_by_role("button", name="English").click()
            await expect(phone.locator(".page")).to_have_attribute("lang", first or "en-GB")


async def test_an_appointment_outcome_given_without_signal_is_held_and_recorded(
    running_app: RunningApp, phone: Page
) -> None:
    await appointments_page._in_english(running_app)
    case = (await appointments_page._my_cases(running_app))[0]
    # A past appointment nobody answered (as if the week went by), at an hour no other test uses.
    started = appointments_page._local(date.today() - timedelta(days=4), "05:20")
    past = await appointments_page._book_through_core(running_app, case, started)
    await sign_in_as(phone, running_app.url, appointments_page.CASE_MANAGER)
    await phone.goto(f"{running_app.url}/appointments?outcome={past.id}")
    await expect(phone.get_by_role("heading", level=1, name="Record an outcome")).to_be_visible(
        timeout=30_000
    )
    await phone.get_by_role("radio", name="Attended").check()

    await phone.context.set_offline(True)
    await phone.get_by_role("button", name="Record outcome").click()
    await expect(phone.locator("#held-notice")).to_have_text(HELD["en-GB"])
    await expect(phone.locator("#held-count")).to_have_text(WAITING["en-GB"])
    await phone.context.set_offline(False)

    await _sent(phone, "en-GB")
    answered = {a.id: a for a in await appointments_on_case(running_app, case.case_id)}[past.id]
    assert answered.status is AppointmentStatus.ATTENDED


async def test_a_booking_made_without_signal_is_held_and_booked_once(
    running_app: RunningApp, phone: Page
) -> None:
    await appointments_page._in_english(running_app)
    case = (await appointments_page._my_cases(running_app))[0]
    day = date.today() + timedelta(days=70)  # a day and an hour no other test books
    before = {a.id for a in await appointments_on_case(running_app, case.case_id)}
    await sign_in_as(phone, running_app.url, appointments_page.CASE_MANAGER)
    await appointments_page._open(phone, f"{running_app.url}/appointments?case={case.case_id}")
    await appointments_page._fill_date(phone, day)
    await phone.get_by_label("Time").fill("05:50")
    await phone.get_by_role("radio", name="Community venue").check()

    await phone.context.set_offline(True)
    await phone.get_by_role("button", name="Book appointment").click()
    await expect(phone.locator("#held-notice")).to_have_text(HELD["en-GB"])
    await expect(phone.locator("#held-count")).to_have_text(WAITING["en-GB"])
    await phone.context.set_offline(False)

    await _sent(phone, "en-GB")
    booked = [
        a for a in await appointments_on_case(running_app, case.case_id) if a.id not in before
    ]
    assert len(booked) == 1
    assert appointments_page._same_moment(
        booked[0].starts_at, appointments_page._local(day, "05:50")
    )
