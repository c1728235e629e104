"""Signing in with a password and an authenticator code, the session cookie, and signing out."""

from __future__ import annotations

import re

import pytest
from playwright.async_api import Page, expect

from seeding.demo import DEMO_PASSWORD
from tests.e2e.web.conftest import open_menu, screenshot, sign_in_as

CASE_MANAGER = "casey.cm@demo.drive-assist.invalid"
FELLOW = "robin.pf@demo.drive-assist.invalid"
SIGN_IN_URL = re.compile(r"/sign-in/?$")


@pytest.mark.phone_only
async def test_a_page_without_a_session_sends_the_browser_to_sign_in(
    web_app: str, page: Page
) -> None:
    await page.goto(f"{web_app}/")
    await page.wait_for_url(SIGN_IN_URL)
    await expect(page.get_by_role("heading", level=1, name="Sign in")).to_be_visible()


@pytest.mark.phone_only
async def test_a_case_manager_signs_in_with_a_code_and_gets_an_httponly_strict_cookie(
    web_app: str, page: Page
) -> None:
    await sign_in_as(page, web_app, CASE_MANAGER, fresh=True)
    await expect(page.get_by_role("heading", level=1, name="Today")).to_be_visible()
    await open_menu(page)
    await expect(page.get_by_role("button", name="Sign out")).to_be_visible()
    cookies = {cookie["name"]: cookie for cookie in await page.context.cookies()}
    session = cookies["da_session"]
    assert session["httpOnly"] is True
    assert session["sameSite"] == "Strict"
    assert await page.evaluate("document.cookie.includes('da_session')") is False
    await screenshot(page, "today-signed-in")


@pytest.mark.phone_only
async def test_a_wrong_code_is_refused_with_one_message_and_no_session(
    web_app: str, page: Page
) -> None:
    await page.goto(f"{web_app}/sign-in")
    await page.get_by_label("Email address").fill(FELLOW)
    await page.get_by_label("Password").fill(DEMO_PASSWORD)
    await page.get_by_label("6-digit code").fill("000000")
    await page.get_by_role("button", name="Sign in").click()
    summary = page.get_by_role("alert")
    await expect(summary.get_by_role("heading", name="There is a problem")).to_be_visible()
    await expect(summary).to_contain_text("Check your email address, password and the code")
    assert "da_session" not in {cookie["name"] for cookie in await page.context.cookies()}


@pytest.mark.phone_only
async def test_signing_out_ends_the_session_on_the_server(web_app: str, page: Page) -> None:
    await sign_in_as(page, web_app, CASE_MANAGER)
    stolen = {cookie["name"]: cookie for cookie in await page.context.cookies()}["da_session"]
    await open_menu(page)
    await page.get_by_role("button", name="Sign out").click()
    await page.wait_for_url(SIGN_IN_URL)
    # The old cookie, replayed, no longer opens a page: the session ended on the server.
    await page.context.add_cookies([stolen])
    await page.goto(f"{web_app}/")
    await page.wait_for_url(SIGN_IN_URL)
