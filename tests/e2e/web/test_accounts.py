"""Staff accounts through a real browser at phone width, in English and in Welsh (issue 20).

An admin adds a case manager; the invitation arrives at the fake GOV.UK Notify in the new
person's language; following its link they choose a password and set up an authenticator (the
code made with pyotp from the key the page shows) and land signed in. A service manager, in
the same language, then resets their second factor: the person's session ends and a code from
the old authenticator no longer signs them in. Someone moving to a new phone changes their own
authenticator on My account. The rules themselves (expiry, single use, weak passwords,
Notify's refusals, the change's steps) are tested in tests/integration/test_accounts.py.
"""

from __future__ import annotations

import asyncio
import re
import time
import uuid
from datetime import UTC, datetime
from typing import Any

import pyotp
import pytest
from axe_playwright_python.async_playwright import Axe
from playwright.async_api import Browser, Page, expect

from core.enums import Locale, Role
from core.models import Passkey
from core.schemas.actor import Actor
from core.schemas.users import MembershipCreate, UserCreate
from core.services import accounts, users
from tests.e2e.web.conftest import (
    VIEWPORTS,
    FakeNotifyProcess,
    RunningApp,
    screenshot,
    sign_in_as,
)
from tests.e2e.web.test_alerts_panel import in_app_db
from tests.e2e.web.test_team_admin import actor, in_english

ADMIN = "admin@demo.drive-assist.invalid"
SERVICE_MANAGER = "sam.sm@demo.drive-assist.invalid"
PASSWORD = "marmalade kettle lighthouse"
WORDS = {
    "en": {
        "subject": "Set up your Drive Assist account",
        "new password": "New password",
        "again": "Type the password again",
        "continue": "Continue",
        "code": "6-digit code",
        "finish": "Finish and sign in",
        "reset": "Reset second factor",
        "yes": "Yes, go ahead",
        "emailed": "We emailed a link to",
        "title": "Staff sign-in",
        "my account": "My account",
        "this browser": "This browser",
        "remove passkey": "Remove passkey",
        "passkey removed": "Passkey removed.",
    },
    "cy": {
        "subject": "Sefydlu eich cyfrif Drive Assist",
        "new password": "Cyfrinair newydd",
        "again": "Teipiwch y cyfrinair eto",
        "continue": "Parhau",
        "code": "Cod 6 digid",
        "finish": "Gorffen a mewngofnodi",
        "reset": "Ailosod ail ffactor",
        "yes": "Ie, ewch ymlaen",
        "emailed": "Rydym wedi anfon dolen drwy e-bost at",
        "title": "Mewngofnodi staff",
        "my account": "Fy nghyfrif",
        "this browser": "Y porwr hwn",
        "remove passkey": "Tynnu allwedd mynediad",
        "passkey removed": "Allwedd mynediad wedi'i thynnu.",
    },
}
LINK = re.compile(r"http://127\.0\.0\.1:\d+/account-link\?token=[A-Za-z0-9_%-]+")


async def speaking(database_url: str, email: str, locale: Locale) -> None:
    async def work(container: Any) -> None:
        who = await actor(container, email)
        await users.set_my_locale(uow=container.uow(), actor=who, locale=locale)

    await in_app_db(database_url, work)


async def with_a_passkey(database_url: str, email: str, name: str) -> None:
    """Give the account a passkey row (as if registered: the ceremony is test_passkeys')."""

    async def work(container: Any) -> None:
        user_id = await users.user_id_for_email(uow=container.uow(), email=email)
        async with container.uow() as uow:
            uow.session.add(
                Passkey(
                    user_id=user_id,
                    credential_id=f"demo-credential-{uuid.uuid4().hex}",
                    public_key=b"demo",
                    sign_count=0,
                    name=name,
                    created_at=datetime.now(UTC),
                )
            )
            await uow.commit()

    await in_app_db(database_url, work)


async def phone_page(browser: Browser) -> Page:
    context = await browser.new_context(viewport=VIEWPORTS["phone"], locale="en-GB")
    return await context.new_page()


async def assert_fits_and_is_axe_clean(page: Page) -> None:
    width = await page.evaluate("document.documentElement.scrollWidth")
    assert width <= VIEWPORTS["phone"]["width"], "sideways scrolling at 390 px"
    results = await Axe().run(page)
    assert results.violations_count == 0, results.generate_report()


@pytest.mark.parametrize("language", ["en", "cy"])
async def test_an_invited_case_manager_sets_up_their_account_and_a_reset_stops_the_old_code(
    browser: Browser, running_app: RunningApp, notify_api: FakeNotifyProcess, language: str
) -> None:
    words = WORDS[language]
    url = running_app.url
    await in_english(running_app.database_url, ADMIN)
    locale = Locale.CY if language == "cy" else Locale.EN_GB
    await speaking(running_app.database_url, SERVICE_MANAGER, locale)

    # An admin adds a case manager who speaks ``language``.
    admin = await phone_page(browser)
    await sign_in_as(admin, url, ADMIN)
    await admin.goto(f"{url}/admin")
    tag = uuid.uuid4().hex[:8]
    name, email = f"Demo Invitee {tag}", f"invitee.{tag}@demo.drive-assist.invalid"
    await admin.get_by_label("Full name").fill(name)
    await admin.get_by_label("Email address").fill(email)
    await admin.get_by_label("Role", exact=True).select_option(label="Case manager")
    await admin.get_by_label("Site", exact=True).select_option(index=1)
    await admin.get_by_label("Language").select_option(value=locale.value)
    await admin.get_by_role("button", name="Add staff member").click()
    confirmation = admin.locator("#confirmation")
    await expect(confirmation).to_contain_text(f"We emailed a link to {email}")
    added = re.search(r"added as Case manager at ([A-Z]+)", await confirmation.inner_text())
    assert added is not None
    site_code = added.group(1)
    await expect(admin.get_by_test_id("invitation-url")).to_have_count(0)  # emailed, not shown

    # The invitation arrives at Notify, in their language, with the link.
    [invitation] = await asyncio.to_thread(notify_api.sent_to, email)
    assert invitation["subject"] == words["subject"]
    link = LINK.search(invitation["body"])
    assert link is not None

    # They choose a password, then set up an authenticator, and land signed in.
    person = await phone_page(browser)
    await person.goto(link.group(0))
    lang = "cy" if language == "cy" else "en-GB"
    await expect(person.locator(f"div.page[lang='{lang}']")).to_be_attached()
    await person.get_by_label(words["new password"], exact=True).fill(PASSWORD)
    await person.get_by_label(words["again"]).fill(PASSWORD)
    await person.get_by_role("button", name=words["continue"]).click()
    secret = (await person.get_by_test_id("totp-secret").inner_text()).strip()
    await screenshot(person, f"account-link-enrol-{language}")
    await assert_fits_and_is_axe_clean(person)
    await person.get_by_label(words["code"]).fill(pyotp.TOTP(secret).now())
    await person.get_by_role("button", name=words["finish"]).click()
    await person.wait_for_url(f"{url}/", timeout=30_000)
    await person.goto(f"{url}/account")  # My account: this browser's session, listed
    await expect(person.get_by_role("heading", level=1, name=words["my account"])).to_be_visible()
    await expect(person.get_by_test_id("session")).to_have_count(1)
    await expect(person.get_by_test_id("session")).to_contain_text(words["this browser"])
    await assert_fits_and_is_axe_clean(person)

    # A service manager resets their second factor (and sees their passkey, and removes it).
    await with_a_passkey(running_app.database_url, email, "Demo phone")
    manager = await phone_page(browser)
    await sign_in_as(manager, url, SERVICE_MANAGER)
    await manager.goto(f"{url}/staff-sign-in")
    await expect(manager.get_by_role("heading", level=1, name=words["title"])).to_be_visible()
    switch = manager.get_by_role("button", name=site_code, exact=True)
    if await switch.count():
        await switch.click()
    card = manager.get_by_test_id("staff-account").filter(
        has=manager.get_by_role("heading", name=name)
    )
    await card.get_by_role("button", name=words["reset"]).click()
    await card.get_by_role("button", name=words["yes"]).click()
    await expect(manager.locator("#link-result")).to_contain_text(f"{words['emailed']} {email}")
    await assert_fits_and_is_axe_clean(manager)
    assert len(await asyncio.to_thread(notify_api.sent_to, email)) == 2
    await card.get_by_role("button", name=f"{words['remove passkey']} Demo phone").click()
    await card.get_by_role("button", name=words["yes"]).click()
    await expect(manager.locator("#link-result")).to_contain_text(words["passkey removed"])
    await expect(card.get_by_test_id("colleague-passkey")).to_have_count(0)
    await assert_fits_and_is_axe_clean(manager)
    await speaking(running_app.database_url, SERVICE_MANAGER, Locale.EN_GB)

    # Their session has ended, and the old authenticator's next code no longer signs in.
    await person.goto(f"{url}/account")
    await person.wait_for_url(re.compile(r"/sign-in/?$"), timeout=30_000)
    await person.locator("input[name=email]").fill(email)
    await person.locator("input[name=password]").fill(PASSWORD)
    await person.locator("input[name=code]").fill(pyotp.TOTP(secret).at(time.time() + 30))
    await person.locator("form button[type=submit]").click()
    await expect(person.locator("#error-summary")).to_be_visible()
    assert person.url.rstrip("/").endswith("/sign-in")


CHANGE_WORDS = {
    "en": {
        "my account": "My account",
        "change": "Change your authenticator app",
        "password": "Password",
        "old code": "6-digit code from the authenticator app you use now",
        "continue": "Continue",
        "new code": "6-digit code from the new app",
        "finish": "Change authenticator app",
        "done": "Your authenticator app is changed.",
    },
    "cy": {
        "my account": "Fy nghyfrif",
        "change": "Newid eich ap dilysu",
        "password": "Cyfrinair",
        "old code": "Cod 6 digid o'r ap dilysu rydych yn ei ddefnyddio nawr",
        "continue": "Parhau",
        "new code": "Cod 6 digid o'r ap newydd",
        "finish": "Newid yr ap dilysu",
        "done": "Mae eich ap dilysu wedi'i newid.",
    },
}


async def a_set_up_case_manager(database_url: str, email: str, locale: Locale) -> str:
    """A new case manager who has followed their invitation (through core); their
    authenticator's secret. Its code is a step behind now's, so the next ones sign in."""

    async def work(container: Any) -> str:
        added = await users.add_user(
            uow=container.uow(),
            actor=Actor.system(),
            data=UserCreate(
                email=email,
                display_name="Demo Phonechanger",
                locale=locale,
                memberships=[MembershipCreate(site_code="HER", role=Role.CASE_MANAGER)],
            ),
        )
        token = added.invitation.url.split("token=", 1)[1]
        started = await accounts.set_password_with_link(
            uow=container.uow(), token=token, password=PASSWORD
        )
        await accounts.finish_enrolment_with_link(
            uow=container.uow(),
            token=token,
            totp_code=pyotp.TOTP(started.secret).at(time.time() - 30),
        )
        return started.secret

    return str(await in_app_db(database_url, work))


@pytest.mark.parametrize("language", ["en", "cy"])
async def test_a_case_manager_moving_phone_changes_their_own_authenticator_at_390px(
    browser: Browser, running_app: RunningApp, language: str
) -> None:
    words = CHANGE_WORDS[language]
    url = running_app.url
    email = f"phonechanger.{uuid.uuid4().hex[:8]}@demo.drive-assist.invalid"
    locale = Locale.CY if language == "cy" else Locale.EN_GB
    old = pyotp.TOTP(await a_set_up_case_manager(running_app.database_url, email, locale))
    person = await phone_page(browser)
    await person.goto(f"{url}/sign-in")
    await person.get_by_label("Email address").fill(email)
    await person.get_by_label("Password").fill(PASSWORD)
    await person.get_by_label("6-digit code").fill(old.now())
    await person.get_by_role("button", name="Sign in", exact=True).click()
    await person.wait_for_url(f"{url}/", timeout=30_000)

    await person.goto(f"{url}/account")
    await expect(person.get_by_role("heading", level=1, name=words["my account"])).to_be_visible()
    await person.get_by_role("link", name=words["change"]).click()
    await expect(person.get_by_role("heading", level=1, name=words["change"])).to_be_visible()
    await person.get_by_label(words["password"], exact=True).fill(PASSWORD)
    await person.get_by_label(words["old code"]).fill(old.at(time.time() + 30))
    await person.get_by_role("button", name=words["continue"]).click()
    new = pyotp.TOTP((await person.get_by_test_id("totp-secret").inner_text()).strip())
    assert new.secret != old.secret
    await screenshot(person, f"authenticator-change-{language}")
    await assert_fits_and_is_axe_clean(person)
    await person.get_by_label(words["new code"]).fill(new.now())
    await person.get_by_role("button", name=words["finish"]).click()
    await expect(person.locator("#confirmation")).to_contain_text(words["done"])
    await expect(person.locator("#confirmation")).to_be_focused()
    await assert_fits_and_is_axe_clean(person)
