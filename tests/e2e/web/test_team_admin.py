"""The Team and Admin pages in a real browser, at phone and desktop size.

The service manager allocates a new referral and sees it leave the list and the case manager's
count go up; the admin adds a staff member, issues them a Telegram link code, revokes a link
and sends a failed notification again; a case manager opening either page sees "not allowed"
and no data. Both pages have no axe violations in English and in Welsh.
"""

from __future__ import annotations

import re
import uuid
from datetime import date
from typing import Any

import pytest
from axe_playwright_python.async_playwright import Axe
from playwright.async_api import Page, expect
from sqlalchemy import select, update

from core.enums import (
    Channel,
    Face,
    Lane,
    Locale,
    NotificationKind,
    OutboxState,
    ReferralReason,
    ReferralSource,
)
from core.models import OutboxMessage, Site
from core.notifications.outbox import enqueue
from core.schemas.cases import CaseCreate
from core.services import cases, telegram_links, users
from tests.e2e.web.conftest import RunningApp, screenshot, sign_in_as
from tests.e2e.web.test_alerts_panel import in_app_db

SERVICE_MANAGER = "sam.sm@demo.drive-assist.invalid"
ADMIN = "admin@demo.drive-assist.invalid"
CASE_MANAGER = "casey.cm@demo.drive-assist.invalid"
CASE_MANAGER_NAME = "Demo Casey Manager"


async def actor(container: Any, email: str) -> Any:
    return await users.actor_for_email(uow=container.uow(), email=email, face=Face.WEB)


async def in_english(database_url: str, *emails: str) -> None:
    async def work(container: Any) -> None:
        for email in emails:
            who = await actor(container, email)
            await users.set_my_locale(uow=container.uow(), actor=who, locale=Locale.EN_GB)

    await in_app_db(database_url, work)


async def assert_no_axe_violations_in_both_languages(page: Page, name: str) -> None:
    results = await Axe().run(page)
    assert results.violations_count == 0, results.generate_report()
    await page.get_by_role("button", name="Cymraeg").click()
    await expect(page.locator("div.page[lang='cy']")).to_be_attached()
    await expect(page.get_by_role("button", name="English")).to_be_visible()
    await screenshot(page, f"{name}-cy")
    results = await Axe().run(page)
    assert results.violations_count == 0, results.generate_report()
    await page.get_by_role("button", name="English").click()
    await expect(page.locator("div.page[lang='en-GB']")).to_be_attached()


async def new_referral(database_url: str) -> str:
    """A new referral at HER, made by the service manager through core; its reference."""

    async def work(container: Any) -> str:
        manager = await actor(container, SERVICE_MANAGER)
        async with container.session_factory() as session:
            site_id = await session.scalar(select(Site.id).where(Site.code == "HER"))
        made = await cases.create_case(
            uow=container.uow(),
            actor=manager,
            data=CaseCreate(
                site_id=site_id,
                referral_date=date.today(),
                referral_source=ReferralSource.MARAC,
                referral_reason=ReferralReason.SERIAL,
                dash_score=15,
            ),
        )
        return str(made.reference)

    return str(await in_app_db(database_url, work))


async def failed_notification(database_url: str, email: str) -> None:
    """A message to ``email`` that the dispatcher gave up on."""

    async def work(container: Any) -> None:
        recipient = await actor(container, email)
        key = f"test-team-admin:{uuid.uuid4().hex}"
        async with container.uow() as uow:
            await enqueue(
                uow,
                recipient_user_id=recipient.user_id,
                channel=Channel.TELEGRAM,
                kind=NotificationKind.APPOINTMENT_REMINDER,
                lane=Lane.HIGH,
                message_key="notify.appointment_reminder",
                params={"reference": "HER-0001"},
                dedupe_key=key,
            )
            await uow.session.execute(
                update(OutboxMessage)
                .where(OutboxMessage.dedupe_key == key)
                .values(state=OutboxState.FAILED, attempts=5, last_error="Forbidden: bot blocked")
            )
            await uow.commit()

    await in_app_db(database_url, work)


async def link_telegram(database_url: str, email: str, telegram_user_id: int) -> None:
    """Link the account to a (made-up) Telegram user, as ``/start CODE`` would."""

    async def work(container: Any) -> None:
        person = await actor(container, email)
        issued = await telegram_links.issue_link_code(
            uow=container.uow(), actor=person, user_id=person.user_id
        )
        await telegram_links.redeem_link_code(
            uow=container.uow(),
            code=issued.code,
            telegram_user_id=telegram_user_id,
            chat_id=telegram_user_id,
        )

    await in_app_db(database_url, work)


async def queued_again(database_url: str, email: str) -> int:
    async def work(container: Any) -> int:
        recipient = await actor(container, email)
        async with container.session_factory() as session:
            rows = await session.scalars(
                select(OutboxMessage.id).where(
                    OutboxMessage.recipient_user_id == recipient.user_id,
                    OutboxMessage.dedupe_key.like("test-team-admin:%"),
                    OutboxMessage.state != OutboxState.FAILED,
                )
            )
            return len(rows.all())

    return int(await in_app_db(database_url, work))


def open_cases_of(page: Page, name: str) -> Any:
    card = page.get_by_test_id("caseload-card").filter(has=page.get_by_role("heading", name=name))
    return card.locator(".card-row", has_text="Open cases").locator("dd")


async def test_a_service_manager_allocates_a_referral_and_sees_the_caseload_go_up(
    page: Page, running_app: RunningApp
) -> None:
    await in_english(running_app.database_url, SERVICE_MANAGER)
    reference = await new_referral(running_app.database_url)
    await sign_in_as(page, running_app.url, SERVICE_MANAGER)

    await page.goto(f"{running_app.url}/team")
    await expect(page.get_by_role("heading", level=1, name="Team")).to_be_visible()
    await expect(page.get_by_role("heading", name="Referrals to allocate")).to_be_visible()
    card = page.get_by_test_id("referral-card").filter(has_text=reference)
    await expect(card).to_be_visible()
    before = int(await open_cases_of(page, CASE_MANAGER_NAME).inner_text())
    if page.viewport_size and page.viewport_size["width"] == 390:
        await screenshot(page, "team")
    await assert_no_axe_violations_in_both_languages(page, "team")

    await card.get_by_label("Case manager").select_option(label=CASE_MANAGER_NAME)
    await card.get_by_role("button", name="Allocate").click()

    await expect(page.get_by_role("status")).to_have_text(
        f"{reference} allocated to {CASE_MANAGER_NAME}."
    )
    await expect(page.get_by_test_id("referral-card").filter(has_text=reference)).to_have_count(0)
    await expect(open_cases_of(page, CASE_MANAGER_NAME)).to_have_text(str(before + 1))


@pytest.mark.phone_only
async def test_allocating_without_choosing_a_case_manager_shows_the_error_by_the_field(
    page: Page, running_app: RunningApp
) -> None:
    await in_english(running_app.database_url, SERVICE_MANAGER)
    reference = await new_referral(running_app.database_url)
    await sign_in_as(page, running_app.url, SERVICE_MANAGER)
    await page.goto(f"{running_app.url}/team")
    card = page.get_by_test_id("referral-card").filter(has_text=reference)

    await card.get_by_role("button", name="Allocate").click()

    summary = page.locator("#error-summary")
    await expect(summary).to_contain_text("Choose the case manager to allocate this referral to")
    await expect(card.locator(".error-message")).to_contain_text("Choose the case manager")
    await expect(card).to_be_visible()


async def test_an_admin_adds_staff_issues_and_revokes_links_and_retries_a_notification(
    page: Page, running_app: RunningApp
) -> None:
    await in_english(running_app.database_url, ADMIN)
    await failed_notification(running_app.database_url, CASE_MANAGER)
    await sign_in_as(page, running_app.url, ADMIN)
    await page.goto(f"{running_app.url}/admin")
    await expect(page.get_by_role("heading", level=1, name="Admin")).to_be_visible()
    await expect(page.get_by_role("heading", name="Failed notifications")).to_be_visible()
    await expect(page.get_by_test_id("failed-card").first).to_be_visible()
    if page.viewport_size and page.viewport_size["width"] == 390:
        await screenshot(page, "admin")
    await assert_no_axe_violations_in_both_languages(page, "admin")

    # Add a staff member.
    tag = uuid.uuid4().hex[:8]
    name, email = f"Demo New Starter {tag}", f"new.{tag}@demo.drive-assist.invalid"
    await page.get_by_label("Full name").fill(name)
    await page.get_by_label("Email address").fill(email)
    await page.get_by_label("Role", exact=True).select_option(label="IDVA")
    await page.get_by_label("Site", exact=True).select_option(index=1)
    await page.get_by_role("button", name="Add staff member").click()
    await expect(page.locator("#confirmation")).to_contain_text(f"{name} added as IDVA at")
    staff = page.get_by_test_id("staff-card").filter(has=page.get_by_role("heading", name=name))
    await expect(staff).to_contain_text(email)

    # Issue them a link code: shown once, with when it stops working.
    await staff.get_by_text("Change role, Telegram link or account").click()
    await staff.get_by_role("button", name="Issue Telegram link code").click()
    await expect(page.locator("#link-code")).to_contain_text(f"Telegram link code for {name}")
    await expect(page.get_by_test_id("link-code")).to_have_text(re.compile(r"^[A-Z2-9]{8}$"))
    await expect(page.locator("#link-code")).to_contain_text("It works once, until")

    # Revoke a link (the account linked meanwhile, as from the bot).
    await link_telegram(running_app.database_url, email, 900_000_000 + int(tag, 16) % 99_999)
    await page.reload()
    staff = page.get_by_test_id("staff-card").filter(has=page.get_by_role("heading", name=name))
    await expect(staff).to_contain_text("Linked")
    await staff.get_by_text("Change role, Telegram link or account").click()
    await staff.get_by_role("button", name="Revoke Telegram link").click()
    await expect(page.locator("#confirmation")).to_have_text(f"{name}'s Telegram link is revoked.")
    await expect(staff).to_contain_text("Not linked")

    # Send a failed notification again.
    failed = page.get_by_test_id("failed-card").filter(has_text=CASE_MANAGER_NAME).first
    await failed.get_by_role("button", name="Send again").click()
    await expect(page.locator("#confirmation")).to_contain_text(
        f"to {CASE_MANAGER_NAME} will be sent again."
    )
    assert await queued_again(running_app.database_url, CASE_MANAGER) >= 1


@pytest.mark.phone_only
async def test_a_case_manager_opening_team_or_admin_is_told_it_is_not_allowed(
    page: Page, running_app: RunningApp
) -> None:
    await in_english(running_app.database_url, CASE_MANAGER)
    await sign_in_as(page, running_app.url, CASE_MANAGER)

    for path, title in (("/team", "Team"), ("/admin", "Admin")):
        await page.goto(f"{running_app.url}{path}")
        await expect(page.get_by_role("heading", level=1, name=title)).to_be_visible()
        await expect(page.get_by_role("heading", name="You cannot see this page")).to_be_visible()
        assert await page.get_by_test_id("referral-card").count() == 0
        assert await page.get_by_test_id("caseload-card").count() == 0
        assert await page.get_by_test_id("staff-card").count() == 0
        assert await page.get_by_test_id("failed-card").count() == 0
