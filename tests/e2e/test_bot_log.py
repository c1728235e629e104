"""``/log`` and ``/cancel`` through PTB's real HTTP stack against the fake Bot API, both databases.

A case manager taps through case, type, categories, duration, note and Save; the tests check
what they were shown and what the database holds: the contact, the conversation row (a restart
resumes it, /cancel deletes it), refusals on record, and the alert and its queued notification.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import pytest
from sqlalchemy import func, select
from telegram import Update

from bot.app import build_application
from core.enums import (
    ClosureReason,
    ContactType,
    NotificationKind,
    PersonKind,
    Role,
    WorkCategory,
)
from core.errors import CaseClosed, NotPermitted
from core.models import AuditEvent, Contact, DisruptionAlert, OutboxMessage
from core.schemas.cases import CaseAllocate, CaseClose, CaseRead
from core.schemas.people import LinkedPersonCreate
from core.services import bot_state, cases, people, telegram_links
from core.services.refusals import REFUSED
from tests.e2e.test_bot_basics import (
    ALICE,
    ROOT,
    SUBJECT_ADDRESS,
    SUBJECT_NAME,
    Harness,
    make_harness,
    named_case,
)
from tests.factories import World
from tests.fakes import FakeBotApi

VICTIM_NAME = "Zephyrine Quillfeather"
VICTIM_ADDRESS = "3 Marzipan Close, Nowhereton"
NOTE = "Talked about the Wobblegate incident and the plan for next week"
EXPIRED = "That button has expired. Send /log to start again."
NOT_PERMITTED = "You do not have permission to do that"


@pytest.fixture
async def bot(container: Any) -> AsyncIterator[Harness]:
    async for harness in make_harness(container):
        yield harness


def screens(fake: FakeBotApi, user_id: int = ALICE) -> list[dict[str, Any]]:
    """What the user has been shown, in order: sent messages and edits of them."""
    return [
        call.params
        for call in fake.calls
        if call.method in ("sendMessage", "editMessageText") and call.chat_id == user_id
    ]


def answers(fake: FakeBotApi) -> list[str]:
    return [c.params.get("text", "") for c in fake.calls if c.method == "answerCallbackQuery"]


def buttons(shown: dict[str, Any]) -> dict[str, str]:
    """Button text -> callback data of a shown message."""
    rows = shown.get("reply_markup", {}).get("inline_keyboard", [])
    return {button["text"]: button["callback_data"] for row in rows for button in row}


async def tap(bot: Harness, text: str, shown: dict[str, Any] | None = None) -> dict[str, Any]:
    """Tap the button labelled ``text`` on the latest screen (or on ``shown``)."""
    shown = shown or screens(bot.fake)[-1]
    return await bot.deliver(bot.press(ALICE, buttons(shown)[text], shown))


async def victim_on(world: World, case: CaseRead) -> None:
    await people.add_linked_person(
        uow=world.container.uow(),
        actor=world.actor(Role.IDVA),
        data=LinkedPersonCreate(
            case_id=case.id, kind=PersonKind.VICTIM, name=VICTIM_NAME, address=VICTIM_ADDRESS
        ),
    )


@dataclass(frozen=True)
class SavedContact:
    case_id: int
    staff_id: int
    contact_type: ContactType
    duration_minutes: int
    categories: frozenset[WorkCategory]
    notes: str | None


async def contacts_in(world: World) -> list[SavedContact]:
    async with world.container.uow() as uow:
        rows = await uow.session.scalars(select(Contact).order_by(Contact.id))
        return [
            SavedContact(c.case_id, c.staff_id, c.contact_type, c.duration_minutes,
                         frozenset(c.categories()), c.notes)
            for c in rows
        ]  # fmt: skip


async def refusals_in(world: World) -> list[tuple[int | None, int | None, dict[str, Any]]]:
    async with world.container.uow() as uow:
        events = await uow.session.scalars(
            select(AuditEvent).where(AuditEvent.action == REFUSED).order_by(AuditEvent.id)
        )
        return [(e.case_id, e.actor_user_id, dict(e.details)) for e in events]


async def count(world: World, model: type[Any]) -> int:
    async with world.container.uow() as uow:
        return int(await uow.session.scalar(select(func.count()).select_from(model)) or 0)


async def conversation(world: World) -> Any:
    return await bot_state.load_conversation(uow=world.container.uow(), telegram_user_id=ALICE)


async def log_up_to_the_note(bot: Harness, case: CaseRead) -> None:
    await bot.say(ALICE, "/log")
    await tap(bot, case.reference)
    await tap(bot, "Phone call")
    await tap(bot, "Disruption")
    await tap(bot, "Support")
    await tap(bot, "Done")
    await tap(bot, "30 min")


def assert_private(bot: Harness, world: World) -> None:
    secrets = [SUBJECT_NAME, SUBJECT_ADDRESS, VICTIM_NAME, VICTIM_ADDRESS, "Wobblegate"]
    secrets += [actor.display_name for actor in world.actors.values()]
    sent = [str(call.params) for call in bot.fake.calls]
    for secret in secrets:
        assert not any(secret in text for text in sent), secret


# --- the happy path ---------------------------------------------------------------------------


async def test_a_case_manager_logs_a_contact_in_six_taps_and_the_contact_is_saved(
    bot: Harness, world: World
) -> None:
    case = await named_case(world)
    await victim_on(world, case)
    manager = world.actor(Role.CASE_MANAGER)
    await bot.link(manager, ALICE, world.container)

    [prompt] = await bot.say(ALICE, "/log")
    assert "Which case" in prompt
    assert list(buttons(screens(bot.fake)[-1])) == [case.reference]
    await tap(bot, case.reference)  # 1
    assert "Face to face" in buttons(screens(bot.fake)[-1])
    await tap(bot, "Phone call")  # 2
    await tap(bot, "Disruption")  # 3
    assert "✓ Disruption" in buttons(screens(bot.fake)[-1])
    await tap(bot, "Behaviour change")  # 4
    await tap(bot, "Done")  # 5
    await tap(bot, "45 min")  # 6
    assert "Skip" in buttons(screens(bot.fake)[-1])
    [summary] = await bot.say(ALICE, NOTE)
    assert case.reference in summary
    assert "Phone call" in summary and "Disruption, Behaviour change" in summary
    assert "45 min" in summary and "Note: added" in summary
    assert NOTE not in summary
    await tap(bot, "Save")  # 7

    [contact] = await contacts_in(world)
    assert contact.case_id == case.id and contact.staff_id == manager.user_id
    assert contact.contact_type is ContactType.PHONE and contact.duration_minutes == 45
    assert contact.categories == {WorkCategory.DISRUPTION, WorkCategory.BEHAVIOUR_CHANGE}
    assert contact.notes == NOTE
    assert screens(bot.fake)[-1]["text"] == f"Logged 45 min contact on {case.reference}."
    assert await conversation(world) is None
    assert_private(bot, world)


async def test_skipping_the_note_saves_a_contact_without_one_and_no_alert_button_without_disruption(
    bot: Harness, world: World
) -> None:
    case = await world.allocated_case()
    await bot.link(world.actor(Role.CASE_MANAGER), ALICE, world.container)
    await bot.say(ALICE, "/log")
    await tap(bot, case.reference)
    await tap(bot, "Face to face")
    await tap(bot, "Support")
    await tap(bot, "Done")
    await tap(bot, "90 min")
    await tap(bot, "Skip")
    assert "Note: none" in screens(bot.fake)[-1]["text"]
    await tap(bot, "Save")
    [contact] = await contacts_in(world)
    assert contact.notes is None and contact.duration_minutes == 90
    assert contact.categories == {WorkCategory.SUPPORT}
    assert buttons(screens(bot.fake)[-1]) == {}


# --- choosing the case ------------------------------------------------------------------------


async def test_with_more_than_eight_cases_the_reference_is_typed_in_any_letter_case(
    bot: Harness, world: World
) -> None:
    cases = [await world.allocated_case() for _ in range(9)]
    await bot.link(world.actor(Role.CASE_MANAGER), ALICE, world.container)
    [prompt] = await bot.say(ALICE, "/log")
    assert "You have 9 open cases" in prompt
    assert buttons(screens(bot.fake)[-1]) == {}

    chosen = cases[4]
    [type_prompt] = await bot.say(ALICE, chosen.reference.lower())
    assert chosen.reference in type_prompt
    await tap(bot, "Video call")
    await tap(bot, "Support")
    await tap(bot, "Done")
    await tap(bot, "15 min")
    await tap(bot, "Skip")
    await tap(bot, "Save")
    [contact] = await contacts_in(world)
    assert contact.case_id == chosen.id and contact.contact_type is ContactType.VIDEO


async def test_an_unknown_or_someone_elses_reference_is_not_accepted(
    bot: Harness, world: World
) -> None:
    for _ in range(9):
        await world.allocated_case()
    other_site = await world.allocated_case("WOR")
    await bot.link(world.actor(Role.CASE_MANAGER), ALICE, world.container)
    await bot.say(ALICE, "/log")
    for typed in ("HER-9999", other_site.reference):
        [reply] = await bot.say(ALICE, typed)
        assert "None of your open cases has that reference" in reply
        assert typed not in reply
    assert (await conversation(world)).step == "reference"


async def test_someone_with_no_open_cases_is_told_so(bot: Harness, world: World) -> None:
    await bot.link(world.actor(Role.CASE_MANAGER), ALICE, world.container)
    assert await bot.say(ALICE, "/log") == ["You have no open cases to log a contact on."]
    assert await conversation(world) is None


# --- rules, cancel, expiry --------------------------------------------------------------------


async def test_done_without_a_category_is_refused_with_a_clear_message(
    bot: Harness, world: World
) -> None:
    case = await world.allocated_case()
    await bot.link(world.actor(Role.CASE_MANAGER), ALICE, world.container)
    await bot.say(ALICE, "/log")
    await tap(bot, case.reference)
    await tap(bot, "Text message")
    categories = screens(bot.fake)[-1]
    await tap(bot, "Done")
    assert answers(bot.fake)[-1] == "Choose at least one kind of work, then tap Done."
    assert screens(bot.fake)[-1] == categories
    assert (await conversation(world)).step == "cat"


async def test_cancel_mid_flow_saves_nothing_and_deletes_the_typed_note(
    bot: Harness, world: World
) -> None:
    case = await world.allocated_case()
    await bot.link(world.actor(Role.CASE_MANAGER), ALICE, world.container)
    await log_up_to_the_note(bot, case)
    await bot.say(ALICE, NOTE)
    assert (await conversation(world)).data["note"] == NOTE
    confirm = screens(bot.fake)[-1]

    assert await bot.say(ALICE, "/cancel") == ["Cancelled. Nothing was saved."]
    assert await conversation(world) is None
    await tap(bot, "Save", confirm)
    assert answers(bot.fake)[-1] == EXPIRED
    assert await contacts_in(world) == []
    assert await bot.say(ALICE, "/cancel") == ["There is nothing to cancel."]


async def test_a_typed_note_and_cancel_take_the_buttons_off_the_screens_they_leave(
    bot: Harness, world: World
) -> None:
    case = await world.allocated_case()
    await bot.link(world.actor(Role.CASE_MANAGER), ALICE, world.container)
    await bot.say(ALICE, "/log")
    for label in (case.reference, "Phone call", "Support", "Done"):
        await tap(bot, label)
    note_screen = (await tap(bot, "30 min"))["callback_query"]["message"]["message_id"]
    await bot.say(ALICE, NOTE)  # the note screen's Skip has had its turn
    confirm_screen = (await conversation(world)).data["screen"]
    await bot.say(ALICE, "/cancel")

    taken_off = [c.params for c in bot.fake.calls if c.method == "editMessageReplyMarkup"]
    assert [(p["message_id"], "reply_markup" in p) for p in taken_off] == [
        (note_screen, False),
        (confirm_screen, False),
    ]
    assert note_screen != confirm_screen


async def test_a_button_from_an_earlier_step_has_expired_and_changes_nothing(
    bot: Harness, world: World
) -> None:
    case = await world.allocated_case()
    await bot.link(world.actor(Role.CASE_MANAGER), ALICE, world.container)
    await bot.say(ALICE, "/log")
    case_screen = screens(bot.fake)[-1]
    await tap(bot, case.reference)
    await tap(bot, "Letter")
    before = await conversation(world)
    edits = bot.fake.count("editMessageText")

    await tap(bot, case.reference, case_screen)

    assert answers(bot.fake)[-1] == EXPIRED
    assert bot.fake.count("editMessageText") == edits
    after = await conversation(world)
    assert after.step == before.step == "cat" and after.data == before.data


async def test_text_outside_a_flow_still_gets_the_fallback_answer(
    bot: Harness, world: World
) -> None:
    case = await world.allocated_case()
    await bot.link(world.actor(Role.CASE_MANAGER), ALICE, world.container)
    [plain] = await bot.say(ALICE, "hello there")
    assert "did not understand" in plain
    await bot.say(ALICE, "/log")
    await tap(bot, case.reference)
    [at_buttons] = await bot.say(ALICE, "phone")  # the type step wants a tap, not text
    assert "did not understand" in at_buttons
    assert (await conversation(world)).step == "type"


# --- durability -------------------------------------------------------------------------------


async def test_a_restart_in_the_middle_of_log_resumes_where_it_was(
    container: Any, world: World
) -> None:
    case = await world.allocated_case()
    async with FakeBotApi() as fake:
        first = build_application(container, token=fake.token, base_url=fake.base_url)
        harness = Harness(fake, first)
        async with first:
            await harness.link(world.actor(Role.CASE_MANAGER), ALICE, container)
            await harness.say(ALICE, "/log")
            await tap(harness, case.reference)
            await tap(harness, "Home visit")
            await tap(harness, "Support")
            categories_screen = screens(fake)[-1]
        # A new process: a new Application, the same database; the user carries on tapping.
        second = build_application(container, token=fake.token, base_url=fake.base_url)
        harness.application = second
        async with second:
            await tap(harness, "Done", categories_screen)
            await tap(harness, "60 min")
            await harness.say(ALICE, NOTE)
            await tap(harness, "Save")
        harness.errors.check()
        assert harness.errors.watching == 2 and fake.invalid_requests == []
    [contact] = await contacts_in(world)
    assert contact.case_id == case.id and contact.contact_type is ContactType.HOME_VISIT
    assert contact.categories == {WorkCategory.SUPPORT}
    assert contact.duration_minutes == 60 and contact.notes == NOTE


async def test_the_save_update_delivered_twice_creates_one_contact(
    bot: Harness, world: World
) -> None:
    case = await world.allocated_case()
    await bot.link(world.actor(Role.CASE_MANAGER), ALICE, world.container)
    await log_up_to_the_note(bot, case)
    await tap(bot, "Skip")
    save = await tap(bot, "Save")
    await bot.application.process_update(Update.de_json(save, bot.application.bot))
    assert len(await contacts_in(world)) == 1
    assert sum("Logged 30 min" in s["text"] for s in screens(bot.fake)) == 1


async def test_the_same_save_delivered_twice_at_once_creates_one_contact_and_one_reply(
    bot: Harness, world: World
) -> None:
    case = await world.allocated_case()
    await bot.link(world.actor(Role.CASE_MANAGER), ALICE, world.container)
    await log_up_to_the_note(bot, case)
    await tap(bot, "Skip")
    shown = screens(bot.fake)[-1]
    save = bot.fake.push_update(bot.press(ALICE, buttons(shown)["Save"], shown))
    await asyncio.gather(
        *(bot.application.process_update(Update.de_json(save, bot.application.bot))
          for _ in range(2))
    )  # fmt: skip
    bot.errors.check()
    assert len(await contacts_in(world)) == 1
    assert sum("Logged 30 min" in s["text"] for s in screens(bot.fake)) == 1
    assert await conversation(world) is None


async def test_a_save_after_the_link_is_revoked_is_refused_and_saves_nothing(
    bot: Harness, world: World
) -> None:
    case = await world.allocated_case()
    manager = world.actor(Role.CASE_MANAGER)
    await bot.link(manager, ALICE, world.container)
    await log_up_to_the_note(bot, case)
    await tap(bot, "Skip")
    await telegram_links.revoke_telegram_link(
        uow=world.container.uow(), actor=manager, user_id=manager.user_id
    )
    save = await tap(bot, "Save")

    assert answers(bot.fake)[-1].startswith("This bot is for Drive staff.")
    assert await contacts_in(world) == []
    assert not any("Logged" in s["text"] for s in screens(bot.fake))
    # The update is claimed all the same: delivered again, it is not answered again.
    before = len(bot.fake.calls)
    await bot.application.process_update(Update.de_json(save, bot.application.bot))
    assert len(bot.fake.calls) == before


async def test_a_save_on_a_case_given_to_a_colleague_meanwhile_is_refused_audited_once(
    bot: Harness, world: World
) -> None:
    case = await world.allocated_case()
    manager = world.actor(Role.CASE_MANAGER)
    colleague = await world.add_actor("cm2.her@test.invalid", [("HER", Role.CASE_MANAGER)])
    await bot.link(manager, ALICE, world.container)
    await log_up_to_the_note(bot, case)
    await tap(bot, "Skip")
    await cases.allocate_case(
        uow=world.container.uow(),
        actor=world.actor(Role.SERVICE_MANAGER),
        case_id=case.id,
        data=CaseAllocate(version=case.version, case_manager_id=colleague.user_id),
    )
    shown = screens(bot.fake)[-1]
    save = bot.fake.push_update(bot.press(ALICE, buttons(shown)["Save"], shown))
    with bot.expect_error(NotPermitted):
        await bot.application.process_update(Update.de_json(save, bot.application.bot))
        bot.errors.check()

    assert NOT_PERMITTED in screens(bot.fake)[-1]["text"]
    assert await contacts_in(world) == []
    assert (await conversation(world)).step == "confirm"
    assert await refusals_in(world) == [(case.id, manager.user_id, {"action": "contact.log"})]
    # Delivered again: dropped, not refused and put on record a second time.
    await bot.application.process_update(Update.de_json(save, bot.application.bot))
    assert len(await refusals_in(world)) == 1


async def test_a_save_on_a_case_closed_meanwhile_is_refused_and_saves_nothing(
    bot: Harness, world: World
) -> None:
    case = await world.allocated_case()
    manager = world.actor(Role.CASE_MANAGER)
    await bot.link(manager, ALICE, world.container)
    await log_up_to_the_note(bot, case)
    await tap(bot, "Skip")
    await cases.close_case(
        uow=world.container.uow(),
        actor=world.actor(Role.SERVICE_MANAGER),
        case_id=case.id,
        data=CaseClose(version=case.version, reason=ClosureReason.COMPLETED),
    )
    shown = screens(bot.fake)[-1]
    save = bot.fake.push_update(bot.press(ALICE, buttons(shown)["Save"], shown))
    with bot.expect_error(CaseClosed):
        await bot.application.process_update(Update.de_json(save, bot.application.bot))
        bot.errors.check()

    assert screens(bot.fake)[-1]["text"].startswith(f"Case {case.reference} is closed")
    assert await contacts_in(world) == []
    assert (await conversation(world)).step == "confirm"  # rolled back: nothing taken


# --- permissions ------------------------------------------------------------------------------


async def test_a_forged_case_button_is_refused_audited_and_saves_nothing(
    bot: Harness, world: World
) -> None:
    mine = await world.allocated_case()
    colleague = await world.add_actor("cm2.her@test.invalid", [("HER", Role.CASE_MANAGER)])
    theirs = await world.allocated_case(case_manager=colleague)
    elsewhere = await world.allocated_case("WOR")
    manager = world.actor(Role.CASE_MANAGER)
    await bot.link(manager, ALICE, world.container)

    for forged in (theirs, elsewhere):
        await bot.say(ALICE, "/log")
        shown = screens(bot.fake)[-1]
        assert list(buttons(shown)) == [mine.reference]
        before = len(screens(bot.fake))
        with bot.expect_error(NotPermitted):
            await bot.deliver(bot.press(ALICE, f"log:case:{forged.id}", shown))
        [refusal] = screens(bot.fake)[before:]
        assert NOT_PERMITTED in refusal["text"] and forged.reference not in refusal["text"]
        assert (await conversation(world)).step == "case"

    assert await refusals_in(world) == [
        (theirs.id, manager.user_id, {"action": "contact.log"}),
        (elsewhere.id, manager.user_id, {"action": "contact.log"}),
    ]
    assert await contacts_in(world) == []


# --- disruption alert -------------------------------------------------------------------------


async def test_raise_a_disruption_alert_after_a_disruption_log_queues_the_police_fellow(
    bot: Harness, world: World
) -> None:
    case = await named_case(world)
    await victim_on(world, case)
    await bot.link(world.actor(Role.CASE_MANAGER), ALICE, world.container)
    await log_up_to_the_note(bot, case)
    await bot.say(ALICE, NOTE)
    await tap(bot, "Save")
    assert "Raise a disruption alert" in buttons(screens(bot.fake)[-1])
    await tap(bot, "Raise a disruption alert")

    async with world.container.uow() as uow:
        alerted = list(await uow.session.scalars(select(DisruptionAlert.case_id)))
        queued = list(
            await uow.session.execute(select(OutboxMessage.recipient_user_id, OutboxMessage.kind))
        )
    assert alerted == [case.id]
    fellow = world.actor(Role.POLICE_FELLOW)
    assert [tuple(row) for row in queued] == [(fellow.user_id, NotificationKind.DISRUPTION_ALERT)]
    assert f"Disruption alert raised on {case.reference}" in screens(bot.fake)[-1]["text"]
    assert_private(bot, world)


async def test_a_forged_alert_button_is_refused_and_audited(bot: Harness, world: World) -> None:
    await world.allocated_case()
    elsewhere = await world.allocated_case("WOR")
    await bot.link(world.actor(Role.CASE_MANAGER), ALICE, world.container)
    forged = {"text": "Raise a disruption alert", "callback_data": f"log:alert:{elsewhere.id}"}
    shown = {"text": "Logged", "reply_markup": {"inline_keyboard": [[forged]]}}
    before = len(screens(bot.fake))
    with bot.expect_error(NotPermitted):
        await bot.deliver(bot.press(ALICE, f"log:alert:{elsewhere.id}", shown))
    [refusal] = screens(bot.fake)[before:]
    assert NOT_PERMITTED in refusal["text"]
    assert await count(world, DisruptionAlert) == 0
    manager = world.actor(Role.CASE_MANAGER)
    assert await refusals_in(world) == [(elsewhere.id, manager.user_id, {"action": "alert.raise"})]


# --- the console ------------------------------------------------------------------------------


async def test_the_console_logs_a_contact_by_numbered_buttons(
    world: World, database_url: str
) -> None:
    case = await world.allocated_case()
    manager = world.actor(Role.CASE_MANAGER)
    # 1 the case; 2 Phone call; 1 Disruption; 4 Done; 2 30 min; the note; 1 Save
    typed = b"/log\n1\n2\n1\n4\n2\nA console note\n1\n"
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "cli", "bot", "console", "--as", manager.email,
        cwd=ROOT,
        env={**os.environ, "DATABASE_URL": database_url, "COLUMNS": "200"},
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )  # fmt: skip
    out, err = await asyncio.wait_for(process.communicate(typed), 60)
    assert process.returncode == 0, err.decode()
    assert f"Logged 30 min contact on {case.reference}." in out.decode()
    [contact] = await contacts_in(world)
    assert contact.contact_type is ContactType.PHONE and contact.notes == "A console note"
    assert contact.categories == {WorkCategory.DISRUPTION}


async def test_a_note_with_characters_that_cannot_be_saved_is_asked_for_again(
    bot: Harness, world: World
) -> None:
    case = await world.allocated_case()
    await bot.link(world.actor(Role.CASE_MANAGER), ALICE, world.container)
    await log_up_to_the_note(bot, case)

    for unsavable in ("Fictional\x00note", "Fictional\ud800note"):
        assert await bot.say(ALICE, unsavable) == [
            "The text has characters that cannot be saved. Remove them, or type the text"
            " again instead of pasting it."
        ]
        assert (await conversation(world)).step == "note"
    await bot.say(ALICE, NOTE)
    await tap(bot, "Save")

    [contact] = await contacts_in(world)
    assert contact.notes == NOTE
