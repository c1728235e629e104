"""The sign-in page as a browser shows it, at phone and desktop width."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from axe_playwright_python.async_playwright import Axe
from playwright.async_api import Browser, Page, expect

from tests.e2e.web.conftest import (
    REDIS_URL,
    VIEWPORTS,
    _missing,
    redis_reachable,
    screenshot,
    sign_in_as,
    start_app,
    stop_app,
)

CASE_MANAGER = "casey.cm@demo.drive-assist.invalid"


@pytest.mark.phone_only
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


async def test_repeated_failures_are_told_when_to_try_again_in_english_and_in_welsh(
    web_app: str, browser: Browser
) -> None:
    """The page passes the browser's address to core: after five failures from this browser
    for one address, the sixth is held back with the time to try again, in either language.
    (An address no account has, so other tests' accounts are untouched.)"""
    context = await browser.new_context(viewport=VIEWPORTS["phone"], locale="en-GB")
    page = await context.new_page()
    await page.goto(f"{web_app}/sign-in")
    summary = page.get_by_role("alert")

    async def submit() -> None:
        await page.locator("input[name=email]").fill("throttled.page@test.invalid")
        await page.locator("input[name=password]").fill("not the password")
        await page.locator("input[name=code]").fill("000000")
        await page.locator("form button[type=submit]").click()

    for _ in range(6):  # the page's events run one after another, in order
        await submit()
    await expect(summary).to_contain_text(
        re.compile(r"from this device\. Try again at \d{2}:\d{2}\."), timeout=30_000
    )
    results = await Axe().run(page)
    assert results.violations_count == 0, results.generate_report()
    await screenshot(page, "sign-in-throttled")

    await page.get_by_role("button", name="Cymraeg").click()
    await expect(page.locator("div.page[lang='cy']")).to_be_attached()
    await submit()
    await expect(page.get_by_role("alert")).to_contain_text(
        re.compile(r"Rhowch gynnig arall arni am \d{2}:\d{2}\.")
    )
    await context.close()


async def test_with_redis_several_workers_keep_state_in_redis_and_a_case_manager_signs_in(
    browser: Browser, tmp_path: Path
) -> None:
    """The run command with ``REDIS_URL``: Reflex keeps page state in Redis and starts several
    backend workers; signing in (a hand-off through the backend, then the page's events) works
    across them. Only the keys this app made are removed afterwards."""
    import redis

    if not redis_reachable(REDIS_URL):
        _missing(f"Redis is not reachable at {REDIS_URL}")
    client = redis.Redis.from_url(REDIS_URL)
    keys_before = set(client.scan_iter(count=1000))
    app = start_app(tmp_path, extra_env={"REDIS_URL": REDIS_URL})
    try:
        context = await browser.new_context(viewport=VIEWPORTS["phone"])
        page = await context.new_page()
        await page.goto(f"{app.url}/sign-in")
        await page.get_by_role("button", name="Sign in").click()
        await expect(page.get_by_role("alert")).to_contain_text("Enter your password")
        try:
            await sign_in_as(page, app.url, CASE_MANAGER)
            await expect(page.get_by_role("heading", level=1, name="Today")).to_be_visible()
            # As a person would: the day has loaded before they move on (the heading is drawn
            # before the page's events have run on whichever worker took them).
            await expect(page.get_by_text("Loading your day…")).to_have_count(0)
            await page.goto(f"{app.url}/caseload")
            await expect(page.get_by_role("heading", level=1, name="Caseload")).to_be_visible()
            await expect(page.get_by_role("link", name=re.compile(r"^HER-"))).not_to_have_count(0)
        except AssertionError as error:
            # What the workers said (an event's error, a lock wait) is the only way to tell.
            log_tail = app.output()[-6000:]
            raise AssertionError(f"{error}\n--- the app's log ---\n{log_tail}") from None
        await context.close()
        workers = _backend_workers(app.process.pid)
    finally:
        stop_app(app)
        made = set(client.scan_iter(count=1000)) - keys_before
        try:
            state_keys = [key for key in made if b"sign_in_state" in key or b"app_state" in key]
            assert state_keys, f"no Reflex state in Redis; keys made: {sorted(made)[:20]}"
        finally:
            if made:
                client.delete(*made)
            client.close()
    assert workers >= 2, f"expected several backend workers with Redis, saw {workers}"


def _backend_workers(group: int) -> int:
    """How many backend workers the app runs: the children of its first process that run
    Reflex too (the server forks them; the frontend is served by the same port)."""
    count = 0
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            command = (entry / "cmdline").read_bytes().replace(b"\0", b" ")
        except OSError:
            continue
        parent = int(stat.rsplit(")", 1)[1].split()[1])
        if parent == group and b"reflex run" in command:
            count += 1
    return count
