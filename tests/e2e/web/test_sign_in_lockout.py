"""One attacker cannot lock a colleague out (issue 20 part 4), through a real browser.

Someone who knows a colleague's email address fails to sign in as them again and again from
their own phone; the colleague, at another address, then signs in at once. The throttle and the
lock are core's (``core.services.lockout``; every rule tested in
tests/integration/test_sign_in_throttle.py): this shows the sign-in page keeps to them, at
390 px, in English and Welsh. The shared app trusts one proxy hop, so each browser context is
its own client by the X-Forwarded-For it sends.
"""

from __future__ import annotations

import re

import pytest
from playwright.async_api import Browser, expect

from tests.e2e.web.conftest import VIEWPORTS, RunningApp, sign_in_as

COLLEAGUE = "taylor.pm@demo.drive-assist.invalid"
ATTEMPTS = 25  # past the per-client limit (20), far past the growing delays' start (5)


@pytest.mark.parametrize("language", ["en-GB", "cy"])
async def test_an_attacker_failing_again_and_again_cannot_stop_a_colleague_signing_in(
    browser: Browser, running_app: RunningApp, language: str
) -> None:
    # Two addresses per language, so the Welsh run does not inherit the English run's count.
    suffix = 7 if language == "en-GB" else 8
    attacker = await browser.new_context(
        viewport=VIEWPORTS["phone"],
        locale="en-GB",
        extra_http_headers={"X-Forwarded-For": f"203.0.113.{suffix}"},
    )
    colleague = await browser.new_context(
        viewport=VIEWPORTS["phone"],
        locale="en-GB",
        extra_http_headers={"X-Forwarded-For": f"198.51.100.{suffix}"},
    )
    try:
        page = await attacker.new_page()
        await page.goto(f"{running_app.url}/sign-in")
        if language == "cy":
            await page.get_by_role("button", name="Cymraeg").click()
            await expect(page.locator("div.page[lang='cy']")).to_be_attached()
        for attempt in range(ATTEMPTS):
            await page.locator("input[name=email]").fill(COLLEAGUE)
            await page.locator("input[name=password]").fill(f"not the password {attempt}")
            await page.locator("input[name=code]").fill("123456")
            await page.locator("form:has(input[name=email]) button[type=submit]").click()
            await expect(page.locator("#error-summary li")).not_to_have_count(0)
            # Each refusal is read out: the summary takes focus every time.
            await expect(page.locator("#error-summary")).to_be_focused()
        told = await page.locator("#error-summary").inner_text()
        assert re.search(r"/sign-in/?$", page.url), told  # never in

        # The colleague, on their own phone, signs in straight away with the right details.
        mine = await colleague.new_page()
        await sign_in_as(mine, running_app.url, COLLEAGUE, fresh=True)
        await expect(mine.get_by_role("heading", level=1)).to_be_visible()
        assert not re.search(r"/sign-in/?$", mine.url)
    finally:
        await attacker.close()
        await colleague.close()
