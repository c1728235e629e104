"""The one-message ``/log`` through PTB's real HTTP stack against the fake Bot API, both databases.

``/log HER-0012 45m phone d s "note"`` saves a contact in one message, in any order, in English
or Welsh; every mistake gets a reply that says what to fix and saves nothing; the same update
delivered twice saves once; a case that is not the sender's own is refused with the same reply
as an unknown one. The parser's own rules are tested in ``tests/unit/test_quick_log.py``.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest
from telegram import Update

from bot.app import build_application
from core.enums import ContactType, Role, WorkCategory
from core.schemas.cases import CaseRead
from tests.e2e.test_bot_basics import ALICE, UNLINKED_REPLY, Harness, make_harness, named_case
from tests.e2e.test_bot_log import (
    NOTE,
    assert_private,
    buttons,
    contacts_in,
    conversation,
    screens,
    victim_on,
)
from tests.factories import World
from tests.fakes import FakeBotApi
from ui.i18n import Translator
from ui.labels import label

NOTHING_SAVED = "Nothing was saved. Fix this and send it again:"


@pytest.fixture
async def bot(container: Any) -> AsyncIterator[Harness]:
    async for harness in make_harness(container):
        yield harness


async def linked_case(bot: Harness, world: World) -> CaseRead:
    case = await world.allocated_case()
    await bot.link(world.actor(Role.CASE_MANAGER), ALICE, world.container)
    return case


async def welsh(bot: Harness) -> None:
    """The linked user chooses Cymraeg with /lang."""
    await bot.say(ALICE, "/lang")
    choice = bot.fake.sent_messages(ALICE)[-1].params
    await bot.deliver(bot.press(ALICE, buttons(choice)["Cymraeg"], choice))


async def test_a_case_manager_logs_a_contact_in_one_message(bot: Harness, world: World) -> None:
    case = await named_case(world)
    await victim_on(world, case)
    manager = world.actor(Role.CASE_MANAGER)
    await bot.link(manager, ALICE, world.container)

    [saved] = await bot.say(ALICE, f'/log {case.reference} 45m phone d s "{NOTE}"')

    [contact] = await contacts_in(world)
    assert contact.case_id == case.id and contact.staff_id == manager.user_id
    assert contact.contact_type is ContactType.PHONE and contact.duration_minutes == 45
    assert contact.categories == {WorkCategory.DISRUPTION, WorkCategory.SUPPORT}
    assert contact.notes == NOTE
    assert saved.splitlines() == [
        f"Logged a contact on {case.reference}.",
        "Contact: Phone call",
        "Categories: Disruption, Support",
        "Duration: 45 min",
        "Note: added",
    ]
    assert list(buttons(screens(bot.fake)[-1])) == ["Raise a disruption alert"]
    assert await conversation(world) is None  # no step-by-step flow was started
    assert_private(bot, world)  # the note, the names and the addresses never reach the chat


@pytest.mark.parametrize(
    "words",
    [
        "“{note}” d,s 45 min PHONE {ref}",
        "{ref_lower} phone call 45mins support disruption “{note}”",
        "s 0:45 {ref} Phone d “{note}",
    ],
)
async def test_the_words_may_come_in_any_order_and_spelling(
    bot: Harness, world: World, words: str
) -> None:
    case = await linked_case(bot, world)
    typed = words.format(ref=case.reference, ref_lower=case.reference.lower(), note="Seen")
    await bot.say(ALICE, f"/log {typed}")
    [contact] = await contacts_in(world)
    assert contact.contact_type is ContactType.PHONE and contact.duration_minutes == 45
    assert contact.categories == {WorkCategory.DISRUPTION, WorkCategory.SUPPORT}
    assert contact.notes == "Seen"


async def test_a_welsh_speaker_logs_in_welsh_and_is_answered_in_welsh(
    bot: Harness, world: World
) -> None:
    case = await linked_case(bot, world)
    await welsh(bot)

    [saved] = await bot.say(ALICE, f"/log “Sgwrs dda” 1awr30 ymweliad n c {case.reference}")

    [contact] = await contacts_in(world)
    assert contact.contact_type is ContactType.HOME_VISIT and contact.duration_minutes == 90
    assert contact.categories == {WorkCategory.SUPPORT, WorkCategory.BEHAVIOUR_CHANGE}
    assert contact.notes == "Sgwrs dda"
    cy = Translator("cy")
    assert saved.splitlines() == [
        cy.gettext("Logged a contact on {reference}.", reference=case.reference),
        f"{cy.gettext('Contact:')} {label(ContactType.HOME_VISIT, cy)}",
        f"{cy.gettext('Categories:')} {label(WorkCategory.SUPPORT, cy)}, "
        f"{label(WorkCategory.BEHAVIOUR_CHANGE, cy)}",
        f"{cy.gettext('Duration:')} {cy.gettext('{minutes} min', minutes=90)}",
        f"{cy.gettext('Note:')} {cy.gettext('added')}",
    ]
    assert saved.startswith("Cofnodwyd")


async def test_english_words_from_a_welsh_speaker_and_welsh_names_are_read_too(
    bot: Harness, world: World
) -> None:
    case = await linked_case(bot, world)
    await welsh(bot)
    await bot.say(ALICE, f"/log {case.reference} 20m Galwad ffôn Tarfu b")
    [contact] = await contacts_in(world)
    assert contact.contact_type is ContactType.PHONE and contact.duration_minutes == 20
    assert contact.categories == {WorkCategory.DISRUPTION, WorkCategory.BEHAVIOUR_CHANGE}
    assert contact.notes is None


@pytest.mark.parametrize(
    ("words", "fix"),
    [
        ("45m phone d", "Add the case reference, for example HER-0012."),
        ("{ref} HER-9999 45m phone d", "Give one case reference, not two"),
        ("{ref} phone d", "Add how long it took, for example 45m, 1h or 1h30."),
        ("{ref} 45m 1h phone d", "Give one duration, not two."),
        ("{ref} 11h phone d", "A contact can last at most 10 hours: check the duration."),
        ("{ref} 45m d", "Add the kind of contact, for example phone, f2f or visit."),
        ("{ref} 45m phone video d", "Give one kind of contact, not two"),
        ("{ref} 45m phone", "Add at least one kind of work: d (disruption), s (support)"),
        ("{ref} 45m phone d Quorvath", "Word 5 after /log is not a case reference"),
        ('{ref} 45m phone d "a\u0000b"', "The text has characters that cannot be saved"),
    ],
)
async def test_each_mistake_gets_a_reply_that_says_what_to_fix_and_saves_nothing(
    bot: Harness, world: World, words: str, fix: str
) -> None:
    case = await linked_case(bot, world)
    [reply] = await bot.say(ALICE, "/log " + words.format(ref=case.reference))
    lines = reply.splitlines()
    assert lines[0] == NOTHING_SAVED and lines[-1] == "Send /help for the codes."
    assert len(lines) == 3 and lines[1].startswith("• ") and fix in lines[1], reply
    assert "Quorvath" not in reply
    assert await contacts_in(world) == []


async def test_several_mistakes_are_all_named_at_once_in_welsh(bot: Harness, world: World) -> None:
    await linked_case(bot, world)
    await welsh(bot)
    [reply] = await bot.say(ALICE, "/log xyz")
    cy = Translator("cy")
    lines = reply.splitlines()
    assert lines[0] == cy.gettext(NOTHING_SAVED) != NOTHING_SAVED
    assert len(lines) == 7  # reference, duration, type, work, word 1, and the /help line
    assert cy.gettext("Add the case reference, for example HER-0012.") in reply
    assert "xyz" not in reply


async def test_the_same_update_delivered_twice_saves_once_and_replies_once(
    bot: Harness, world: World
) -> None:
    case = await linked_case(bot, world)
    update = await bot.deliver(bot.message(ALICE, f"/log {case.reference} 30m f2f s"))
    await bot.application.process_update(Update.de_json(update, bot.application.bot))
    assert len(await contacts_in(world)) == 1
    assert sum("Logged a contact" in s["text"] for s in screens(bot.fake)) == 1


async def test_the_same_update_delivered_twice_at_once_saves_once(
    bot: Harness, world: World
) -> None:
    case = await linked_case(bot, world)
    update = bot.fake.push_update(bot.message(ALICE, f"/log {case.reference} 30m f2f s"))
    await asyncio.gather(
        *(bot.application.process_update(Update.de_json(update, bot.application.bot))
          for _ in range(2))
    )  # fmt: skip
    bot.errors.check()
    assert len(await contacts_in(world)) == 1
    assert sum("Logged a contact" in s["text"] for s in screens(bot.fake)) == 1


async def test_the_same_words_sent_again_as_a_new_message_save_again(
    bot: Harness, world: World
) -> None:
    # Two messages are two contacts (two visits can be alike); Telegram's outbox sends a
    # message once, and a redelivery of the same message is the same update (test above).
    case = await linked_case(bot, world)
    for _ in range(2):
        await bot.say(ALICE, f"/log {case.reference} 30m f2f s")
    assert len(await contacts_in(world)) == 2


async def test_an_edited_log_message_is_not_read_again(bot: Harness, world: World) -> None:
    case = await linked_case(bot, world)
    sent = await bot.deliver(bot.message(ALICE, f"/log {case.reference} 30m f2f s"))
    edited = {"edited_message": {**sent["message"], "text": f"/log {case.reference} 45m f2f s",
                                 "edit_date": sent["message"]["date"] + 60}}  # fmt: skip
    before = len(bot.fake.sent_messages(ALICE))
    await bot.deliver(edited)
    [reply] = [c.params["text"] for c in bot.fake.sent_messages(ALICE)[before:]]
    assert reply == "Editing a /log message changes nothing. Send a new /log message instead."
    [contact] = await contacts_in(world)
    assert contact.duration_minutes == 30


async def test_a_case_that_is_not_mine_is_refused_like_an_unknown_one_and_nothing_is_saved(
    bot: Harness, world: World
) -> None:
    colleague = await world.add_actor("cm2.her@test.invalid", [("HER", Role.CASE_MANAGER)])
    colleagues_case = await world.allocated_case(case_manager=colleague)
    other_site = await world.allocated_case("WOR")
    await linked_case(bot, world)
    for reference in (colleagues_case.reference, other_site.reference, "HER-9999"):
        [reply] = await bot.say(ALICE, f"/log {reference} 30m phone s")
        assert reply == (
            f"Nothing was saved: {reference} is not one of your open cases. Check the reference"
            " and send it again."
        )
    assert await contacts_in(world) == []


async def test_an_unlinked_sender_gets_the_generic_reply_whatever_the_words(
    bot: Harness, world: World
) -> None:
    case = await world.allocated_case()
    assert await bot.say(ALICE, f"/log {case.reference} 30m phone s") == [UNLINKED_REPLY]
    assert await bot.say(ALICE, "/log not a log at all") == [UNLINKED_REPLY]
    assert await contacts_in(world) == []


async def test_log_alone_still_starts_the_step_by_step_flow(bot: Harness, world: World) -> None:
    case = await linked_case(bot, world)
    [prompt] = await bot.say(ALICE, "/log")
    assert "Which case" in prompt
    assert list(buttons(screens(bot.fake)[-1])) == [case.reference]


async def test_help_shows_the_one_message_form_and_its_codes_in_both_languages(
    bot: Harness, world: World
) -> None:
    await linked_case(bot, world)
    [english] = await bot.say(ALICE, "/help")
    assert '/log HER-0012 45m phone d s "short note"' in english
    assert "Contact: f2f, phone, video, text, letter, visit, attempt" in english
    assert "Work (one or more): d disruption, s support, b behaviour change" in english
    await welsh(bot)
    [cymraeg] = await bot.say(ALICE, "/help")
    assert "wyneb, ffôn, fideo, neges, llythyr, ymweliad, ymgais" in cymraeg
    assert "t tarfu, c cymorth, n newid ymddygiad" in cymraeg


async def test_with_an_actor_chosen_by_the_console_the_gate_claims_and_the_log_is_saved(
    container: Any, world: World
) -> None:
    # ``drive-assist bot console`` resolves the actor itself (no Telegram link): the gate claims
    # the update and core is given the actor; a redelivery still saves once.
    case = await world.allocated_case()
    manager = world.actor(Role.CASE_MANAGER)

    async def as_manager(container: Any, telegram_user_id: int) -> Any:
        return manager

    async with FakeBotApi() as fake:
        application = build_application(
            container, token=fake.token, base_url=fake.base_url, resolve_actor=as_manager
        )
        async with application:
            harness = Harness(fake, application)
            update = await harness.deliver(
                harness.message(ALICE, f"/log {case.reference} 1h letter s")
            )
            await application.process_update(Update.de_json(update, application.bot))
            harness.errors.check()
        [reply] = [call.params["text"] for call in fake.sent_messages(ALICE)]
        assert reply.startswith(f"Logged a contact on {case.reference}.")
    [contact] = await contacts_in(world)
    assert contact.staff_id == manager.user_id and contact.contact_type is ContactType.LETTER
