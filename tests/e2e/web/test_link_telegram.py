"""Link Telegram: a person gets a link code for their own account on the Inbox page.

A panel member (the role with the fewest pages) signs in, opens the Inbox from the menu and asks
for a code; the code on the screen is then redeemed through core, as the bot would, and must link
that same account. The link is revoked again so no other test meets it.
"""

from __future__ import annotations

import re

from playwright.async_api import Page, expect

from core.bootstrap import bootstrap
from core.enums import Face
from core.services import telegram_links, users
from core.settings import Settings
from tests.e2e.web.conftest import RunningApp, open_menu, sign_in_as

MEMBER = "taylor.pm@demo.drive-assist.invalid"
TELEGRAM_USER = 900_424_242
CODE = re.compile(r"^[A-Z2-9]{8}$")


async def test_a_person_gets_a_code_for_their_own_account_from_the_inbox_page(
    page: Page, web_app: str, running_app: RunningApp
) -> None:
    await sign_in_as(page, web_app, MEMBER)
    await open_menu(page)
    await page.get_by_role("navigation", name="Main menu").get_by_role("link", name="Inbox").click()
    section = page.get_by_role("region", name="Link Telegram")
    await section.get_by_role("button", name="Get a Telegram link code").click()

    shown = page.get_by_test_id("my-link-code")
    await expect(shown).to_have_text(CODE)
    code = (await shown.inner_text()).strip()
    await expect(section).to_contain_text(f"send /start {code} to the Drive Assist bot")
    width = await page.evaluate("document.documentElement.scrollWidth")
    assert width <= (page.viewport_size or {"width": 0})["width"]  # no sideways scroll at 390 px

    core = bootstrap(Settings(database_url=running_app.database_url))
    try:
        linked = await telegram_links.redeem_link_code(
            uow=core.uow(), code=code, telegram_user_id=TELEGRAM_USER, chat_id=TELEGRAM_USER
        )
        member = await users.actor_for_email(uow=core.uow(), email=MEMBER, face=Face.CLI)
        assert (linked.user_id, linked.email) == (member.user_id, MEMBER)
        await telegram_links.revoke_telegram_link(
            uow=core.uow(), actor=member, user_id=member.user_id
        )
    finally:
        await core.dispose()
