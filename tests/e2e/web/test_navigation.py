"""The main menu: folded behind "Menu" on a phone, a row on a desktop, and offering each
person only the parts of the service their role may use."""

from __future__ import annotations

from axe_playwright_python.async_playwright import Axe
from playwright.async_api import Page, expect

from tests.e2e.web.conftest import open_menu, screenshot, sign_in_as

CASE_MANAGER = "casey.cm@demo.drive-assist.invalid"
SERVICE_MANAGER = "sam.sm@demo.drive-assist.invalid"
PANEL_MEMBER = "taylor.pm@demo.drive-assist.invalid"


def _menu(page: Page):
    return page.get_by_role("navigation", name="Main menu")


async def test_on_a_phone_the_menu_is_folded_until_opened(web_app: str, page: Page) -> None:
    await sign_in_as(page, web_app, CASE_MANAGER)
    toggle = page.locator("summary.nav-toggle")
    caseload = _menu(page).get_by_role("link", name="Caseload")
    if page.viewport_size and page.viewport_size["width"] < 769:
        await expect(toggle).to_be_visible()
        await expect(caseload).to_be_hidden()
        await toggle.click()
        await expect(caseload).to_be_visible()
        await screenshot(page, "menu-open")
    else:
        await expect(toggle).to_be_hidden()
        await expect(caseload).to_be_visible()
    results = await Axe().run(page)
    assert results.violations_count == 0, results.generate_report()


async def test_a_case_manager_is_offered_case_work_but_not_team_reports_or_admin(
    web_app: str, page: Page
) -> None:
    await sign_in_as(page, web_app, CASE_MANAGER)
    await open_menu(page)
    menu = _menu(page)
    for name in ("Today", "Caseload", "Log a contact", "Appointments", "Inbox", "Alerts", "Panel"):
        await expect(menu.get_by_role("link", name=name, exact=True)).to_be_visible()
    for name in ("Team", "Reports", "Admin"):
        await expect(menu.get_by_role("link", name=name, exact=True)).to_have_count(0)
    # In the folded menu on a phone; beside the language switch from tablet width (one shown).
    await expect(page.get_by_role("banner").get_by_role("button", name="Sign out")).to_be_visible()


async def test_a_service_manager_is_offered_team_and_reports(web_app: str, page: Page) -> None:
    await sign_in_as(page, web_app, SERVICE_MANAGER)
    await open_menu(page)
    menu = _menu(page)
    await expect(menu.get_by_role("link", name="Team", exact=True)).to_be_visible()
    await expect(menu.get_by_role("link", name="Reports", exact=True)).to_be_visible()
    await expect(menu.get_by_role("link", name="Admin", exact=True)).to_have_count(0)


async def test_a_panel_member_is_offered_only_today_inbox_and_panel(
    web_app: str, page: Page
) -> None:
    await sign_in_as(page, web_app, PANEL_MEMBER)
    await open_menu(page)
    # Waits for the menu the person's roles give (read at once, it could still be empty:
    # CI saw that once).
    # My account: last in the folded menu on a phone, beside Sign out in the banner from
    # tablet width (so the menu's row holds only the areas).
    phone = bool(page.viewport_size and page.viewport_size["width"] < 769)
    areas = ["Today", "Inbox", "Panel"] + (["My account"] if phone else [])
    await expect(_menu(page).get_by_role("link")).to_have_text(areas)
    await expect(page.get_by_role("banner").get_by_role("link", name="My account")).to_be_visible()
