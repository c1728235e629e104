"""A device PIN in a real browser at 390 px, in English and in Welsh: set a PIN on My account,
go idle past the limit, see a wrong PIN's message on the sign-in page, then carry on with the
right PIN in the same session. The rules (weak PINs, five tries, binding to the device and the
person, what removes PINs) are tested in ``tests/integration/test_device_pins.py``.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator

import pytest
from playwright.async_api import Browser, Page, expect

from seeding.demo import DEMO_PASSWORD
from tests.e2e.web.conftest import VIEWPORTS, RunningApp, open_menu, screenshot, sign_in_as
from tests.e2e.web.test_passkeys import assert_axe_clean, idle

ENGLISH = {
    "email": "jordan.cm@demo.drive-assist.invalid",
    "pin": "PIN",
    "password": "Your password",
    "set": "Set a PIN for this device",
    "is_set": "Your PIN is set for this device.",
    "enter": "Enter your PIN",
    "your_pin": "Your PIN",
    "carry_on": "Carry on",
    "wrong": "That PIN is not right. You have 4 more tries",
    "my_account": "My account",
    "sign_out": "Sign out",
}
WELSH = {  # Rhys's account is in Welsh: every page after the first sign-in is
    "email": "rhys.cm@demo.drive-assist.invalid",
    "pin": "PIN",
    "password": "Eich cyfrinair",
    "set": "Gosod PIN ar gyfer y ddyfais hon",
    "is_set": "Mae eich PIN wedi'i osod ar gyfer y ddyfais hon.",
    "enter": "Rhowch eich PIN",
    "your_pin": "Eich PIN",
    "carry_on": "Parhau",
    "wrong": "Nid yw'r PIN hwnnw'n gywir. Mae gennych 4 cynnig ar ôl",
    "my_account": "Fy nghyfrif",
    "sign_out": "Allgofnodi",
}


@pytest.fixture
async def phone_page(browser: Browser) -> AsyncIterator[Page]:
    """A fresh phone-sized browser (390 px): a device of its own, with its own cookies."""
    context = await browser.new_context(viewport=VIEWPORTS["phone"], locale="en-GB")
    yield await context.new_page()
    await context.close()


@pytest.mark.parametrize("words", [ENGLISH, WELSH], ids=["english", "welsh"])
async def test_a_person_sets_a_pin_goes_idle_and_carries_on_with_it(
    running_app: RunningApp, phone_page: Page, words: dict[str, str]
) -> None:
    page, base = phone_page, running_app.url
    await sign_in_as(page, base, words["email"], fresh=True)  # it checks the device cookie
    device = {c["name"]: c for c in await page.context.cookies()}["da_device"]
    assert (device["httpOnly"], device["sameSite"]) == (True, "Strict")
    assert device["expires"] > 0  # kept across browser restarts, unlike the session's cookie
    await page.goto(f"{base}/account")
    await page.get_by_label(words["pin"], exact=True).fill("480152")
    await page.get_by_label(words["password"], exact=True).fill(DEMO_PASSWORD)
    await page.get_by_role("button", name=words["set"]).click()
    await expect(page.get_by_text(words["is_set"])).to_be_visible()

    # Idle past the limit: the next page is the sign-in page, offering the PIN on this device.
    await idle(running_app.database_url, words["email"])
    await page.goto(f"{base}/account")
    await page.wait_for_url(re.compile(r".*/sign-in/?$"))
    await expect(page.get_by_role("heading", name=words["enter"])).to_be_visible()
    await page.get_by_label(words["your_pin"], exact=True).fill("111222")
    await page.get_by_role("button", name=words["carry_on"]).click()
    await expect(page.locator("#pin-error")).to_contain_text(words["wrong"])
    await expect(page.locator("#error-summary")).to_be_focused()
    await screenshot(page, f"device-pin-wrong-{words['email'].split('.')[0]}")
    await assert_axe_clean(page)

    await page.get_by_label(words["your_pin"], exact=True).fill("480152")
    await page.get_by_role("button", name=words["carry_on"]).click()
    # Back on the page the session idled out on, not on Today.
    await page.wait_for_url(re.compile(r".*/account/?$"))
    await expect(page.get_by_role("heading", level=1, name=words["my_account"])).to_be_visible()
    await open_menu(page)  # signing out removes the person's PINs (and leaves no session)
    await page.get_by_role("banner").get_by_role("button", name=words["sign_out"]).click()
    await page.wait_for_url(re.compile(r".*/sign-in/?$"))
    await expect(page.get_by_role("heading", name=words["enter"])).to_have_count(0)
