"""The shared layout as a keyboard user, a screen reader and a Welsh reader meet it (issue 18
item 9): things axe does not see. Every page inherits them from ``webapp.components.layout``,
``webapp.components.forms`` and the titles in ``webapp.webapp``, so each is tried once here.
"""

from __future__ import annotations

from playwright.async_api import Browser, Page, expect

from tests.e2e.web.conftest import SCREENSHOTS, VIEWPORTS, RunningApp, screenshot, sign_in_as
from tests.e2e.web.test_team_admin import in_english

SERVICE_MANAGER = "sam.sm@demo.drive-assist.invalid"  # the longest menu of the demo accounts
CASE_MANAGER = "morgan.cm@demo.drive-assist.invalid"


async def _new_page(browser: Browser, viewport: str) -> Page:
    context = await browser.new_context(viewport=VIEWPORTS[viewport], locale="en-GB")
    return await context.new_page()


async def _to_welsh(page: Page) -> None:
    await page.get_by_role("button", name="Cymraeg").click()
    await expect(page.locator("div.page[lang='cy']")).to_be_attached()


async def _to_english(page: Page) -> None:
    await page.get_by_role("button", name="English").click()
    await expect(page.locator("div.page[lang='en-GB']")).to_be_attached()


async def test_each_page_has_a_title_of_its_own_and_the_document_its_readers_language(
    browser: Browser, running_app: RunningApp
) -> None:
    await in_english(running_app.database_url, SERVICE_MANAGER)
    page = await _new_page(browser, "phone")
    try:
        await page.goto(f"{running_app.url}/sign-in")
        await expect(page).to_have_title("Sign in – Drive Assist")
        await sign_in_as(page, running_app.url, SERVICE_MANAGER)
        await expect(page).to_have_title("Today – Drive Assist")
        assert await page.evaluate("document.documentElement.lang") == "en-GB"

        await _to_welsh(page)
        await expect(page).to_have_title("Heddiw – Drive Assist")
        await page.wait_for_function("document.documentElement.lang === 'cy'")
        # The switch was drawn again as "English": focus is on it, where the reader left it.
        await expect(page.get_by_role("button", name="English")).to_be_focused()
        await page.goto(f"{running_app.url}/inbox")
        await expect(page).to_have_title("Mewnflwch – Drive Assist")
        await page.wait_for_function("document.documentElement.lang === 'cy'")
        await _to_english(page)
        await expect(page).to_have_title("Inbox – Drive Assist")
        await page.wait_for_function("document.documentElement.lang === 'en-GB'")
    finally:
        await page.context.close()


async def test_a_refused_form_puts_error_before_the_title_until_it_is_put_right(
    browser: Browser, running_app: RunningApp
) -> None:
    page = await _new_page(browser, "phone")
    try:
        await page.goto(f"{running_app.url}/sign-in")
        sign_in = page.get_by_role("button", name="Sign in")
        await expect(sign_in).to_be_enabled()
        await sign_in.click()
        await expect(page.locator("#error-summary")).to_be_visible()
        await expect(page).to_have_title("Error: Sign in – Drive Assist")
        await _to_welsh(page)
        await page.get_by_role("button", name="Mewngofnodi").click()
        await expect(page).to_have_title("Gwall: Mewngofnodi – Drive Assist")
        await page.goto(f"{running_app.url}/sign-in")  # a fresh form: no problem, no prefix
        await expect(page).to_have_title("Mewngofnodi – Drive Assist")
    finally:
        await page.context.close()


async def test_the_skip_link_moves_focus_to_the_main_content(
    browser: Browser, running_app: RunningApp
) -> None:
    await in_english(running_app.database_url, SERVICE_MANAGER)
    page = await _new_page(browser, "desktop")
    try:
        await sign_in_as(page, running_app.url, SERVICE_MANAGER)
        # The day's lists load after the page: until then the main content has nothing to
        # focus and the next Tab would rightly leave it for the footer.
        await expect(page.get_by_text("Loading your day…")).to_have_count(0, timeout=30_000)
        await expect(page.locator("main#main-content a").first).to_be_visible()
        await page.keyboard.press("Tab")
        focused = page.locator(":focus")
        await expect(focused).to_have_text("Skip to main content")
        await page.keyboard.press("Enter")
        await expect(page.locator("main#main-content")).to_be_focused()
        # The next Tab starts from the page's content, not back in the header.
        await page.keyboard.press("Tab")
        assert await page.evaluate("document.activeElement.closest('main') !== null")
    finally:
        await page.context.close()


async def test_an_error_summary_link_focuses_its_field_with_the_question_in_view(
    browser: Browser, running_app: RunningApp
) -> None:
    await in_english(running_app.database_url, CASE_MANAGER)
    page = await _new_page(browser, "phone")
    try:
        await sign_in_as(page, running_app.url, CASE_MANAGER)
        await page.goto(f"{running_app.url}/log")
        await page.get_by_role("button", name="Save contact").click()
        summary = page.locator("#error-summary")
        await expect(summary).to_be_focused()  # the page's own move, done before the click
        await summary.get_by_role("link", name="Select at least one kind of work").click()
        field = page.locator("#category-disruption")
        await expect(field).to_be_focused()
        question_top, field_top = await field.evaluate(
            """(field) => [field.closest('fieldset').querySelector('legend'), field]
                 .map((element) => element.getBoundingClientRect().top)"""
        )
        # The question is on screen, above its first choice, not scrolled off the top.
        assert -1 < question_top < field_top < VIEWPORTS["phone"]["height"]
    finally:
        await page.context.close()


async def _header_rows(page: Page) -> dict[str, float]:
    return await page.evaluate(
        """() => Object.fromEntries(
            ['.service-name', '.language-switch', '.header-sign-out', '.nav-menu']
              .map(s => [s, document.querySelector(s).getBoundingClientRect().top]))"""
    )


async def test_the_header_keeps_its_controls_on_the_first_row_and_the_menu_short(
    browser: Browser, running_app: RunningApp
) -> None:
    await in_english(running_app.database_url, SERVICE_MANAGER)
    for viewport in ("desktop", "phone"):
        page = await _new_page(browser, viewport)
        try:
            await sign_in_as(page, running_app.url, SERVICE_MANAGER)
            for switch in (None, _to_welsh):
                if switch is not None:
                    await switch(page)
                rows = await _header_rows(page)
                # The name and the language switch share the first row.
                assert rows[".language-switch"] == rows[".service-name"]
                nav_links = page.locator(".nav-list .nav-link")
                tops = {
                    round((await link.bounding_box() or {"y": -1})["y"])
                    for link in await nav_links.all()
                    if await link.is_visible()
                }
                if viewport == "desktop":
                    assert rows[".header-sign-out"] == rows[".service-name"]
                    # Ten areas fit one row in English; Welsh names are longer (two rows).
                    most = 1 if switch is None else 2
                    assert len(tops) <= most, f"the menu wraps onto {len(tops)} rows"
                else:
                    assert rows[".nav-menu"] == rows[".service-name"]  # "Menu" on row one
                    await page.locator("summary.nav-toggle").click()
                    menu = page.locator(".nav-list")
                    width = (await menu.bounding_box() or {"width": 0})["width"]
                    team = page.locator(".nav-list .nav-link", has_text="T")  # Team / Tîm
                    for link in await team.all():
                        box = await link.bounding_box() or {"width": 0, "height": 0}
                        assert box["width"] == width and box["height"] >= 44
                    await page.locator("summary.nav-toggle").click()
            await _to_english(page)
        finally:
            await page.context.close()


async def test_a_lost_connection_is_said_in_the_readers_language_and_covers_no_button(
    browser: Browser, running_app: RunningApp
) -> None:
    """Issue 21 item 3: Reflex's toast said "Cannot connect to server: websocket error ..." in
    English on Welsh pages, over the Save button; its toast region was labelled in English."""
    await in_english(running_app.database_url, CASE_MANAGER)
    page = await _new_page(browser, "phone")
    try:
        await sign_in_as(page, running_app.url, CASE_MANAGER)
        await page.goto(f"{running_app.url}/log")
        save = page.get_by_role("button", name="Save contact")
        await expect(save).to_be_visible()
        banner = page.locator(".connection-banner[aria-live='polite']")
        await expect(banner).to_have_text("")  # in the page, silent while connected

        await page.context.set_offline(True)
        await expect(banner).to_contain_text("You are offline.", timeout=30_000)
        await expect(page.get_by_text("Cannot connect to server")).to_have_count(0)
        await expect(page.locator("[aria-label*='Notifications']")).to_have_count(0)
        # At the end of the page nothing covers Save: the banner takes its own room there.
        await page.evaluate("window.scrollTo(0, document.documentElement.scrollHeight)")
        await page.screenshot(path=str(SCREENSHOTS / "log-offline-end-390px.png"))
        box = await save.bounding_box()
        assert box is not None
        on_top = await page.evaluate(
            "([x, y]) => document.elementFromPoint(x, y)?.closest('button')?.textContent",
            [box["x"] + box["width"] / 2, box["y"] + box["height"] / 2],
        )
        assert on_top == "Save contact"

        await page.context.set_offline(False)
        await expect(banner).to_have_text("", timeout=30_000)
        await _to_welsh(page)
        await page.context.set_offline(True)
        await expect(banner).to_contain_text("Rydych chi all-lein.", timeout=30_000)
        await screenshot(page, "log-offline-cy")
        await page.context.set_offline(False)
        await expect(banner).to_have_text("", timeout=30_000)
        await _to_english(page)
    finally:
        await page.context.set_offline(False)
        await page.context.close()
