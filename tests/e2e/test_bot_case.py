"""``/case REF`` through PTB's real HTTP stack against the fake Bot API, both databases.

The card shows the reference, stage, risk, next appointment and open panel actions and nothing
private; its buttons start /log and the booking flow on that case, authorised again by core; a
booking over another appointment at the same time asks first and is saved only on "Book anyway".
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest
from sqlalchemy import select

from core.clock import FixedClock
from core.enums import Agency, ContactType, PlaceKind, RiskLevel, Role
from core.errors import NotPermitted
from core.models import Appointment, AuditEvent
from core.schemas.appointments import AppointmentCreate
from core.schemas.cases import CaseRead
from core.schemas.panels import PanelActionCreate, PanelMeetingCreate
from core.schemas.risk import RiskAssessmentCreate
from core.services import appointments, panels, risk
from tests.conftest import START
from tests.e2e.test_bot_basics import ALICE, Harness, make_harness, named_case
from tests.e2e.test_bot_log import (
    assert_private,
    buttons,
    contacts_in,
    refusals_in,
    screens,
    tap,
    victim_on,
)
from tests.factories import World


@pytest.fixture
async def bot(container: Any):  # type: ignore[no-untyped-def]
    async for harness in make_harness(container):
        yield harness


async def busy_case(world: World) -> CaseRead:
    """A named case with a victim, a high risk, an appointment tomorrow and two panel actions
    (one overdue), all fictional."""
    case = await named_case(world)
    await victim_on(world, case)
    manager = world.actor(Role.CASE_MANAGER)
    await risk.record_risk_assessment(
        uow=world.container.uow(),
        actor=manager,
        data=RiskAssessmentCreate(case_id=case.id, level=RiskLevel.HIGH),
    )
    tomorrow = START + timedelta(days=1, hours=1)
    await appointments.book_appointment(
        uow=world.container.uow(),
        actor=manager,
        data=AppointmentCreate(
            case_id=case.id,
            starts_at=tomorrow,
            ends_at=tomorrow + timedelta(hours=1),
            place_kind=PlaceKind.HOME_VISIT,
        ),
    )
    coordinator = world.actor(Role.PANEL_COORDINATOR)
    # Last week's panel, scheduled with its actions the day before (core takes only those ahead).
    clock = world.container.clock
    assert isinstance(clock, FixedClock)
    now = clock.now()
    clock.set(START - timedelta(days=8))
    meeting = await panels.schedule_panel_meeting(
        uow=world.container.uow(),
        actor=coordinator,
        data=PanelMeetingCreate(site_id=world.sites["HER"].id, starts_at=START - timedelta(days=7)),
    )
    for due, agency in ((date(2026, 2, 27), Agency.POLICE), (date(2026, 3, 9), Agency.HOUSING)):
        await panels.add_panel_action(
            uow=world.container.uow(),
            actor=coordinator,
            data=PanelActionCreate(
                meeting_id=meeting.id,
                case_id=case.id,
                description="Fictional action text, never shown in chat",
                owner_agency=agency,
                due_on=due,
            ),
        )
    clock.set(now)
    return case


async def test_case_shows_stage_risk_next_appointment_and_panel_actions_and_nothing_private(
    bot: Harness, world: World
) -> None:
    case = await busy_case(world)
    await bot.link(world.actor(Role.CASE_MANAGER), ALICE, world.container)

    [card] = await bot.say(ALICE, f"/case {case.reference.lower()}")

    assert f"<code>{case.reference}</code>" in card
    assert "Stage: Allocated" in card
    assert "Risk: High" in card
    assert "Next appointment: Tue 3 Mar, 10:00 · Home visit" in card
    assert "due 27 Feb 2026 · Police · <i>overdue</i>" in card
    assert "due 9 Mar 2026 · Housing" in card
    assert "Fictional action text" not in card
    assert list(buttons(screens(bot.fake)[-1])) == ["Log a contact", "Book"]
    assert_private(bot, world)


async def test_log_a_contact_under_the_card_logs_on_that_case(bot: Harness, world: World) -> None:
    case = await busy_case(world)
    manager = world.actor(Role.CASE_MANAGER)
    await bot.link(manager, ALICE, world.container)
    await bot.say(ALICE, f"/case {case.reference}")

    await tap(bot, "Log a contact")
    await tap(bot, "Phone call")
    await tap(bot, "Support")
    await tap(bot, "Done")
    await tap(bot, "15 min")
    await tap(bot, "Skip")
    await tap(bot, "Save")

    [contact] = await contacts_in(world)
    assert (contact.case_id, contact.staff_id) == (case.id, manager.user_id)
    assert (contact.contact_type, contact.duration_minutes) == (ContactType.PHONE, 15)
    assert_private(bot, world)


async def _appointments(world: World, case_id: int) -> list[tuple[Any, Any]]:
    async with world.container.uow() as uow:
        rows = await uow.session.execute(
            select(Appointment.id, Appointment.starts_at)
            .where(Appointment.case_id == case_id)
            .order_by(Appointment.id)
        )
        return [(appointment_id, starts_at) for appointment_id, starts_at in rows]


async def _book_tomorrow_at_ten(bot: Harness, card: dict[str, Any]) -> None:
    await tap(bot, "Book", card)
    await tap(bot, "Tue 3 Mar")
    await tap(bot, "10:00")
    await tap(bot, "Keep: Office")


async def test_book_under_the_card_warns_of_a_clash_and_books_only_when_told_to(
    bot: Harness, world: World
) -> None:
    case = await busy_case(world)
    await bot.link(world.actor(Role.CASE_MANAGER), ALICE, world.container)
    await bot.say(ALICE, f"/case {case.reference}")
    card = screens(bot.fake)[-1]
    [(existing, _starts)] = await _appointments(world, case.id)

    await _book_tomorrow_at_ten(bot, card)
    await tap(bot, "Book")
    warned = screens(bot.fake)[-1]
    before = await _appointments(world, case.id)
    await tap(bot, "Book anyway")

    assert "This case already has an appointment at that time." in warned["text"]
    assert list(buttons(warned)) == ["Book anyway", "Cancel"]
    assert len(before) == 1
    after = await _appointments(world, case.id)
    assert len(after) == 2 and after[1][1] == START + timedelta(days=1, hours=1)
    assert screens(bot.fake)[-1]["text"].startswith(f"Booked: {case.reference}")
    async with world.container.uow() as uow:
        details = await uow.session.scalar(
            select(AuditEvent.details).where(
                AuditEvent.action == "appointment.book", AuditEvent.entity_id == after[1][0]
            )
        )
    assert details["saved_over_clash_with"] == [existing]
    assert_private(bot, world)


async def test_book_at_a_free_time_books_without_asking(bot: Harness, world: World) -> None:
    case = await world.allocated_case()
    await bot.link(world.actor(Role.CASE_MANAGER), ALICE, world.container)
    await bot.say(ALICE, f"/case {case.reference}")

    await _book_tomorrow_at_ten(bot, screens(bot.fake)[-1])
    await tap(bot, "Book")

    [(_id, starts_at)] = await _appointments(world, case.id)
    assert starts_at == START + timedelta(days=1, hours=1)


async def test_who_cannot_book_or_log_sees_no_buttons_and_a_forged_one_is_refused_on_record(
    bot: Harness, world: World
) -> None:
    case = await busy_case(world)
    fellow = world.actor(Role.POLICE_FELLOW)
    await bot.link(fellow, ALICE, world.container)

    [card] = await bot.say(ALICE, f"/case {case.reference}")
    shown = screens(bot.fake)[-1]
    forged_on = shown | {"reply_markup": {"inline_keyboard": []}}
    with bot.expect_error(NotPermitted):
        await bot.deliver(bot.press(ALICE, f"appt:book:{case.id}", forged_on))

    assert "Stage: Allocated" in card and buttons(shown) == {}
    assert "You do not have permission" in screens(bot.fake)[-1]["text"]
    assert len(await _appointments(world, case.id)) == 1
    [(case_id, actor_id, _details)] = await refusals_in(world)
    assert (case_id, actor_id) == (case.id, fellow.user_id)


async def test_a_panel_member_or_a_stranger_reference_gets_not_found_and_no_card(
    bot: Harness, world: World
) -> None:
    case = await busy_case(world)
    other_site = await world.allocated_case("WOR")
    await bot.link(world.actor(Role.PANEL_MEMBER), ALICE, world.container)

    replies = await bot.say(ALICE, f"/case {case.reference}")
    replies += await bot.say(ALICE, f"/case {other_site.reference}")
    replies += await bot.say(ALICE, "/case")

    assert replies[:2] == ["No case you can see has that reference. Check it and try again."] * 2
    assert replies[2] == "Send /case and a case reference, for example /case HER-0042."
    assert_private(bot, world)


async def test_help_lists_case_to_those_who_may_see_cases_only(bot: Harness, world: World) -> None:
    await bot.link(world.actor(Role.IDVA), ALICE, world.container)
    await bot.link(world.actor(Role.PANEL_MEMBER), ALICE + 1, world.container)

    [idva] = await bot.say(ALICE, "/help")
    [member] = await bot.say(ALICE + 1, "/help")

    assert "/case · One case: stage, risk, next appointment, panel actions" in idva
    assert "/case" not in member and "/panel" in member
