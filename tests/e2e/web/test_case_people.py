"""Victims and children on a case, and an IDVA's "My cases", in a real browser (issue 19).

An IDVA adds a victim to a demo case (a bad date of birth is refused first, nothing saved),
finds the case on "My cases", edits the safety notes and ends the link; Reflex's stored state
never holds the victim's name; the case's case manager sees none of it. Phone width.
"""

from __future__ import annotations

import asyncio
import uuid
from datetime import date
from pathlib import Path
from typing import Any

from playwright.async_api import Browser, Page, expect
from sqlalchemy import select

from core.models import Intervention, LinkedPerson
from tests.e2e.web.conftest import VIEWPORTS, RunningApp, sign_in_as
from tests.e2e.web.test_alerts_panel import in_app_db, in_english
from tests.e2e.web.test_caseload_case import CASEY, FFION, _open_cases_of
from tests.e2e.web.test_team_admin import assert_no_axe_violations_in_both_languages


async def _people_named(database_url: str, name: str) -> list[tuple[int, str | None, Any]]:
    async def work(container: Any) -> list[tuple[int, str | None, Any]]:
        async with container.session_factory() as session:
            people = await session.scalars(select(LinkedPerson))  # names are stored encrypted
            return [(p.id, p.safety_notes, p.ended_on) for p in people if p.name == name]

    return await in_app_db(database_url, work)


async def _fill_date(page: Page, name: str, day: date | tuple[str, str, str]) -> None:
    parts = (str(day.day), str(day.month), str(day.year)) if isinstance(day, date) else day
    await page.locator(f"#{name}").fill(parts[0])
    await page.locator(f"#{name}-month").fill(parts[1])
    await page.locator(f"#{name}-year").fill(parts[2])


async def _stored_states_naming(running_app: RunningApp, name: str) -> list[Path]:
    await asyncio.sleep(3)  # Reflex writes state files after a 2 s debounce
    states = Path(running_app.log).parent / ".states"
    return [p for p in states.iterdir() if p.is_file() and name.encode() in p.read_bytes()]


async def test_an_idva_adds_edits_and_ends_a_victims_link_and_the_case_manager_sees_none(
    browser: Browser, running_app: RunningApp
) -> None:
    case = (await _open_cases_of(running_app.database_url, CASEY))[-1]
    victim = f"Testvictim Fictional {uuid.uuid4().hex[:6]}"
    await in_english(running_app.database_url, FFION, CASEY)
    context = await browser.new_context(viewport=VIEWPORTS["phone"], locale="en-GB")
    try:
        page = await context.new_page()
        await sign_in_as(page, running_app.url, FFION)
        await page.goto(f"{running_app.url}/case/{case.case_id}/people/new")
        await expect(page.get_by_role("heading", level=1)).to_have_text("Add a victim or child")
        # Bad input: no kind, a day that does not exist. Nothing is saved.
        await page.get_by_label("Name").fill(victim)
        await _fill_date(page, "dob", ("31", "2", "2007"))
        await page.get_by_role("button", name="Save").click()
        summary = page.locator("#error-summary")
        await expect(summary).to_contain_text("Select whether this is a victim or a child")
        await expect(summary).to_contain_text("Enter a real date of birth")
        assert await _people_named(running_app.database_url, victim) == []
        await assert_no_axe_violations_in_both_languages(page, "person-new-errors")

        # The language switch reloaded the form: answer it again, properly this time.
        await page.get_by_label("Name").fill(victim)
        await page.get_by_label("A victim").check()
        await _fill_date(page, "dob", date(1990, 4, 12))
        await page.get_by_label("Relationship to the person referred").fill("Former partner")
        await page.get_by_label("Safety notes").fill("Call the mobile only")
        await page.get_by_role("button", name="Save").click()
        await expect(page.locator("#confirmation")).to_contain_text("Saved the details.")
        [(person_id, notes, ended)] = await _people_named(running_app.database_url, victim)
        assert (notes, ended) == ("Call the mobile only", None)

        await page.goto(f"{running_app.url}/my-cases")
        card = page.locator("li.case-card", has_text=case.reference)
        await expect(card).to_contain_text(victim)
        await card.get_by_role("link", name=case.reference).click()
        await page.wait_for_url(f"{running_app.url}/case/{case.case_id}")

        await page.goto(f"{running_app.url}/case/{case.case_id}/people/{person_id}")
        await expect(page.get_by_label("Name")).to_have_value(victim)
        assert await _stored_states_naming(running_app, victim) == []
        await page.get_by_label("Safety notes").fill("Call the mobile only, after 6 pm")
        await page.get_by_role("button", name="Save", exact=True).click()
        await expect(page.locator("#confirmation")).to_contain_text("Saved the details.")

        await page.goto(f"{running_app.url}/case/{case.case_id}/people/{person_id}")
        await expect(page.get_by_label("Safety notes")).to_have_value(
            "Call the mobile only, after 6 pm"
        )
        await _fill_date(page, "ended_on", date.today())
        await page.get_by_role("button", name="End the link").click()
        await expect(page.locator("#confirmation")).to_contain_text("Ended the link")
        [(_id, notes, ended)] = await _people_named(running_app.database_url, victim)
        assert (notes, ended) == ("Call the mobile only, after 6 pm", date.today())
        await page.goto(f"{running_app.url}/my-cases")
        await expect(page.get_by_role("heading", level=1)).to_have_text("My cases")
        await expect(page.get_by_role("main")).not_to_contain_text(victim)
    finally:
        await context.close()

    context = await browser.new_context(viewport=VIEWPORTS["phone"], locale="en-GB")
    try:
        page = await context.new_page()
        await sign_in_as(page, running_app.url, CASEY)
        await page.goto(f"{running_app.url}/case/{case.case_id}")
        await expect(page.get_by_role("heading", level=1)).to_have_text(case.reference)
        await expect(page.get_by_role("main")).not_to_contain_text(victim)
        await expect(page.get_by_role("main")).not_to_contain_text("Former partner")
        await page.goto(f"{running_app.url}/case/{case.case_id}/people/{person_id}")
        await expect(page.get_by_role("heading", level=1)).to_have_text("Page not found")
        await expect(page.get_by_role("main")).not_to_contain_text(victim)
    finally:
        await context.close()


async def _latest_intervention(database_url: str, case_id: int) -> tuple[int, str, Any]:
    async def work(container: Any) -> tuple[int, str, Any]:
        async with container.session_factory() as session:
            row = (
                await session.execute(
                    select(Intervention.id, Intervention.status, Intervention.ended_on)
                    .where(Intervention.case_id == case_id)
                    .order_by(Intervention.id.desc())
                    .limit(1)
                )
            ).one()
            return int(row[0]), str(row[1]), row[2]

    return await in_app_db(database_url, work)


async def test_a_case_manager_adds_an_intervention_and_completes_it(
    browser: Browser, running_app: RunningApp
) -> None:
    case = (await _open_cases_of(running_app.database_url, CASEY))[0]
    await in_english(running_app.database_url, CASEY)
    context = await browser.new_context(viewport=VIEWPORTS["phone"], locale="en-GB")
    try:
        page = await context.new_page()
        await sign_in_as(page, running_app.url, CASEY)
        await page.goto(f"{running_app.url}/case/{case.case_id}/interventions/new")
        await expect(page.get_by_role("heading", level=1)).to_have_text("Add an intervention")
        await page.get_by_role("button", name="Save").click()
        await expect(page.locator("#error-summary")).to_contain_text(
            "Select the kind of intervention"
        )
        await page.get_by_label("Kind of intervention").select_option(index=1)
        await page.get_by_label("Agency delivering it").select_option("drive")
        await page.get_by_label("Started").check()
        await page.get_by_role("button", name="Save").click()
        await expect(page.locator("#confirmation")).to_contain_text("Added the intervention.")
        intervention_id, status, _ended = await _latest_intervention(
            running_app.database_url, case.case_id
        )
        assert status == "started"

        await page.goto(f"{running_app.url}/case/{case.case_id}/interventions/{intervention_id}")
        await page.get_by_label("Completed").check()
        await _fill_date(page, "ended_on", date.today())
        await page.get_by_role("button", name="Save").click()
        await expect(page.locator("#confirmation")).to_contain_text("Saved the status.")
        assert await _latest_intervention(running_app.database_url, case.case_id) == (
            intervention_id,
            "completed",
            date.today(),
        )
    finally:
        await context.close()
