"""The sign-in page as a browser shows it, at phone and desktop width."""

from __future__ import annotations

import re
from pathlib import Path

from axe_playwright_python.async_playwright import Axe
from playwright.async_api import Browser, Page, expect

from tests.e2e.web.conftest import (
    REDIS_URL,
    VIEWPORTS,
    _missing,
    redis_reachable,
    screenshot,
    start_app,
    stop_app,
)


async def test_the_sign_in_page_has_a_labelled_field_for_each_answer(
    web_app: str, page: Page
) -> None:
    await page.goto(f"{web_app}/sign-in")
    await expect(page.get_by_role("heading", level=1, name="Sign in")).to_be_visible()
    await expect(page.get_by_label("Email address")).to_have_attribute("type", "email")
    await expect(page.get_by_label("Password")).to_have_attribute("type", "password")
    await expect(page.get_by_label("6-digit code")).to_have_attribute(
        "autocomplete", "one-time-code"
    )
    await expect(page.get_by_role("button", name="Sign in")).to_be_visible()
    assert (await screenshot(page, "sign-in")).stat().st_size > 0


async def test_the_sign_in_page_has_no_accessibility_violations(web_app: str, page: Page) -> None:
    await page.goto(f"{web_app}/sign-in")
    await expect(page.get_by_label("Email address")).to_be_visible()
    results = await Axe().run(page)
    assert results.violations_count == 0, results.generate_report()


async def test_an_empty_sign_in_lists_each_missing_answer_and_links_to_its_field(
    web_app: str, page: Page
) -> None:
    await page.goto(f"{web_app}/sign-in")
    await page.get_by_role("button", name="Sign in").click()
    summary = page.get_by_role("alert")
    await expect(summary.get_by_role("heading", name="There is a problem")).to_be_visible()
    await expect(summary.get_by_role("link", name="Enter your email address")).to_have_attribute(
        "href", re.compile(r"#email$")
    )
    await expect(page.get_by_label("Password")).to_have_attribute(
        "aria-describedby", "password-error"
    )
    results = await Axe().run(page)
    assert results.violations_count == 0, results.generate_report()
    await screenshot(page, "sign-in-errors")


async def test_with_redis_the_app_keeps_state_in_redis_and_answers_events(
    browser: Browser, tmp_path: Path
) -> None:
    import redis

    if not redis_reachable(REDIS_URL):
        _missing(f"Redis is not reachable at {REDIS_URL}")
    app = start_app(tmp_path, extra_env={"REDIS_URL": REDIS_URL})
    try:
        context = await browser.new_context(viewport=VIEWPORTS["phone"])
        page = await context.new_page()
        await page.goto(f"{app.url}/sign-in")
        await page.get_by_role("button", name="Sign in").click()
        await expect(page.get_by_role("alert")).to_contain_text("Enter your password")
        await context.close()
    finally:
        stop_app(app)
    client = redis.Redis.from_url(REDIS_URL)
    try:
        assert any(b"sign_in_state" in key for key in client.scan_iter(count=1000))
    finally:
        client.close()
