"""How you get messages, in a real browser, with the app sending through a fake GOV.UK Notify:
a police fellow with no Telegram gives a mobile number and ticks text messages for alerts, a
case manager raises a disruption alert on the web, and the text message reaches Notify.

The shared ``running_app`` sends through the shared fake Notify (``notify_api``), a process of
its own as Notify would be: what arrived is read at ``/_fake/sent``.
"""

from __future__ import annotations

import json
import time
import urllib.request
from typing import Any

from axe_playwright_python.async_playwright import Axe
from playwright.async_api import Browser, Page, expect

from core.enums import Face, Locale
from core.services import alerts, caseload_lookup, users
from tests.e2e.web.conftest import FakeNotifyProcess, RunningApp, screenshot, sign_in_as
from tests.e2e.web.test_alerts_panel import in_app_db

FELLOW = "robin.pf@demo.drive-assist.invalid"  # no Telegram link in the demo data
CASE_MANAGER = "casey.cm@demo.drive-assist.invalid"
MOBILE, STORED_MOBILE = "07700 900123", "+447700900123"  # Ofcom's drama range
DELIVERY_WAIT_SECONDS = 60


def texts_at_notify(notify_api: FakeNotifyProcess) -> list[dict[str, Any]]:
    with urllib.request.urlopen(f"{notify_api.url}/_fake/sent", timeout=5) as response:
        return [sent for sent in json.load(response)["sent"] if sent["type"] == "sms"]


async def in_english(database_url: str, *emails: str) -> None:
    async def work(container: Any) -> None:
        for email in emails:
            who = await users.actor_for_email(uow=container.uow(), email=email, face=Face.WEB)
            await users.set_my_locale(uow=container.uow(), actor=who, locale=Locale.EN_GB)

    await in_app_db(database_url, work)


async def a_case_without_an_open_alert(container: Any) -> str:
    casey = await users.actor_for_email(uow=container.uow(), email=CASE_MANAGER, face=Face.WEB)
    taken = {a.case_id for a in await alerts.list_open_alerts(uow=container.uow(), actor=casey)}
    choices = await caseload_lookup.my_open_case_choices(uow=container.uow(), actor=casey)
    return next(c.reference for c in choices if c.case_id not in taken)


async def test_a_police_fellow_chooses_text_messages_and_gets_a_critical_alert_by_text(
    running_app: RunningApp, notify_api: FakeNotifyProcess, page: Page, browser: Browser
) -> None:
    await in_english(running_app.database_url, FELLOW, CASE_MANAGER)
    await sign_in_as(page, running_app.url, FELLOW)
    await page.goto(f"{running_app.url}/account/notifications")
    await expect(page.get_by_role("heading", level=1, name="How you get messages")).to_be_visible()
    await expect(page.locator(".inset-text")).to_contain_text("You have not linked Telegram")

    # Welsh first: a landline is refused in Welsh, and nothing is saved.
    await page.get_by_role("button", name="Cymraeg").click()
    await expect(
        page.get_by_role("heading", level=1, name="Sut rydych chi'n cael negeseuon")
    ).to_be_visible()
    await page.get_by_label("Rhif ffôn symudol (dewisol)").fill("01632 960123")
    await page.get_by_role("button", name="Cadw").click()
    await expect(page.locator("#error-summary")).to_contain_text("Rhowch rif ffôn symudol yn y DU")
    await screenshot(page, "notification-channels-error-cy")
    results = await Axe().run(page)
    assert results.violations_count == 0, results.generate_report()
    await page.get_by_role("button", name="English").click()
    await expect(page.get_by_role("heading", level=1, name="How you get messages")).to_be_visible()

    # English: a mobile number and text messages for disruption alerts.
    await page.get_by_label("Mobile number (optional)").fill(MOBILE)
    alerts_group = page.get_by_role("group", name="Disruption alerts")
    await alerts_group.get_by_label("Text message").check()
    await page.get_by_role("button", name="Save").click()
    await expect(page.get_by_role("status")).to_contain_text("Saved.")
    await expect(page.get_by_label("Mobile number (optional)")).to_have_value(STORED_MOBILE)
    await expect(alerts_group.get_by_label("Text message")).to_be_checked()
    await screenshot(page, "notification-channels")
    results = await Axe().run(page)
    assert results.violations_count == 0, results.generate_report()

    # A case manager raises a disruption alert on the web; the text reaches Notify, in the
    # fellow's language: English, then (the fellow now reading Welsh) Welsh.
    reference, body = await _alert_and_its_text(running_app, notify_api, browser, page)
    assert body == (
        f"Disruption alert for {reference}. Please acknowledge it. Open Drive Assist to do so."
    )
    await in_language(running_app.database_url, FELLOW, Locale.CY)
    try:
        reference, body = await _alert_and_its_text(running_app, notify_api, browser, page)
    finally:
        await in_english(running_app.database_url, FELLOW)
    assert body == (
        f"Rhybudd tarfu ar gyfer {reference}. Cydnabyddwch y rhybudd, os gwelwch yn dda."
        " Agorwch Drive Assist i wneud hynny."
    )


async def in_language(database_url: str, email: str, locale: Locale) -> None:
    async def work(container: Any) -> None:
        who = await users.actor_for_email(uow=container.uow(), email=email, face=Face.WEB)
        await users.set_my_locale(uow=container.uow(), actor=who, locale=locale)

    await in_app_db(database_url, work)


async def _alert_and_its_text(
    running_app: RunningApp, notify_api: FakeNotifyProcess, browser: Browser, page: Page
) -> tuple[str, str]:
    """The case manager raises a disruption alert on a case with none open; the reference and
    the text message that reached Notify for the fellow's mobile."""
    before = len(texts_at_notify(notify_api))
    reference = await in_app_db(running_app.database_url, a_case_without_an_open_alert)
    manager = await browser.new_context(viewport=page.viewport_size, locale="en-GB")
    try:
        casey = await manager.new_page()
        await sign_in_as(casey, running_app.url, CASE_MANAGER)
        await casey.goto(f"{running_app.url}/alerts")
        await casey.get_by_label("Case", exact=True).select_option(label=reference)
        await casey.get_by_role("button", name="Disruption needed").click()
        await expect(casey.get_by_role("status")).to_contain_text(
            f"Disruption alert raised for {reference}"
        )
    finally:
        await manager.close()

    deadline = time.monotonic() + DELIVERY_WAIT_SECONDS
    arrived: list[dict[str, Any]] = []
    while time.monotonic() < deadline and not arrived:
        arrived = [
            sent
            for sent in texts_at_notify(notify_api)[before:]
            if sent["to"] == STORED_MOBILE and reference in sent["body"]
        ]
        if not arrived:
            await page.wait_for_timeout(500)
    assert arrived, running_app.output()[-3000:]
    return reference, str(arrived[0]["body"])
