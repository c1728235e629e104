"""The bot's gate, linking, /today, /next, /lang, errors and menu, through PTB's real HTTP stack.

Each test builds the production ``Application`` (``bot.app.build_application``) against the fake
Bot API on 127.0.0.1, on both databases. Most updates go in through
``Application.process_update`` (after ``FakeBotApi.push_update``, which makes their messages
known to the fake); one test runs real long polling. Every test ends by checking that no request
broke the Bot API spec and that no exception reached the bot's error handler unannounced: PTB
hands a handler's exception to the error handler and carries on, so without ``ErrorWatch`` a
crashed handler would pass as long as its polite reply looked right. A test that provokes an
error on purpose says so with ``harness.expect_error(SomeError)`` and asserts the reply.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import traceback
from collections.abc import AsyncIterator, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from telegram import Update
from telegram.ext import ApplicationHandlerStop

from bot.app import BotApplication, build_application
from bot.context import CONTAINER_KEY
from bot.handlers.today import today
from bot.menu import MENU, MenuEntry
from core.clock import FixedClock
from core.enums import PlaceKind, Role
from core.errors import LinkAttemptsExceeded, LinkCodeInvalid
from core.schemas.actor import Actor
from core.schemas.appointments import AppointmentCreate
from core.schemas.cases import CaseRead, CaseUpdate
from core.services import appointments as appointment_services
from core.services import cases as case_services
from core.services import telegram_links
from tests.factories import World
from tests.fakes import FakeBotApi
from ui.i18n import Translator
from ui.labels import label

ROOT = Path(__file__).resolve().parents[2]
SUBJECT_NAME = "Quorvath Brindlemoss"
SUBJECT_ADDRESS = "9 Pumpernickel Row, Oddington"
UNLINKED_REPLY = (
    "This bot is for Drive staff. Ask your manager for a link code, then send /start CODE."
)
OOPS = "Something went wrong on our side. Nothing was saved. Please try again."
ALICE = 700001  # Telegram user ids (and private chat ids) of the people in these tests
BRYN = 700002


async def explode(update: Update, context: Any) -> None:
    raise RuntimeError("a bug in a handler")


class UnexpectedBotError(AssertionError):
    """An exception reached the bot's error handler and the test had not declared it."""


@dataclass
class _Expectation:
    types: tuple[type[BaseException], ...]
    hits: list[BaseException] = field(default_factory=list)


class ErrorWatch:
    """Records every exception that reaches an application's error handlers.

    ``attach`` puts a recorder in front of the production error handler (``bot.errors.on_error``
    ends the chain with ``ApplicationHandlerStop``) and guards that handler, so an exception it
    raises itself (which PTB would only log) is recorded too. ``check`` fails with every error
    that no ``expect`` block declared; call it after each update and at teardown.
    """

    def __init__(self) -> None:
        self.seen: list[BaseException] = []
        self._unreported: list[BaseException] = []
        self._expected: list[_Expectation] = []
        self._watched: list[BotApplication] = []

    @property
    def watching(self) -> int:
        """How many applications this watch is attached to."""
        return len(self._watched)

    def attach(self, application: BotApplication) -> None:
        if any(watched is application for watched in self._watched):
            return
        self._watched.append(application)
        originals = dict(application.error_handlers)
        application.error_handlers.clear()
        application.add_error_handler(self._record)
        for callback, block in originals.items():
            application.add_error_handler(self._guarded(callback), block=block)

    async def _record(self, update: object, context: Any) -> None:
        error = context.error
        if error is None:
            return
        self.seen.append(error)
        for expectation in reversed(self._expected):
            if isinstance(error, expectation.types):
                expectation.hits.append(error)
                return
        self._unreported.append(error)

    def _guarded(self, callback: Any) -> Any:
        async def guarded(update: object, context: Any) -> None:
            try:
                await callback(update, context)
            except ApplicationHandlerStop:
                raise
            except Exception as error:  # the error handler itself broke: never expected
                self.seen.append(error)
                self._unreported.append(error)
                raise

        return guarded

    @contextmanager
    def expect(self, *types: type[BaseException]) -> Iterator[list[BaseException]]:
        """Errors of these types may reach the error handler inside the block; one must."""
        expectation = _Expectation(types)
        self._expected.append(expectation)
        try:
            yield expectation.hits
        finally:
            self._expected.remove(expectation)
        if not expectation.hits:
            names = ", ".join(t.__name__ for t in types)
            raise AssertionError(f"expected {names} to reach the bot's error handler; none did")

    def check(self) -> None:
        """Fail with the errors nobody expected (each is reported once)."""
        if not self._unreported:
            return
        errors, self._unreported = self._unreported, []
        details = "\n".join("".join(traceback.format_exception(error)) for error in errors)
        raise UnexpectedBotError(
            f"{len(errors)} unexpected error(s) reached the bot's error handler:\n{details}"
        )


class Harness:
    def __init__(self, fake: FakeBotApi, application: BotApplication) -> None:
        self.fake = fake
        self.errors = ErrorWatch()
        self.application = application
        self._message_id = 100

    @property
    def application(self) -> BotApplication:
        return self._application

    @application.setter
    def application(self, application: BotApplication) -> None:
        """A new application (a simulated restart) is watched like the first."""
        self.errors.attach(application)
        self._application = application

    def expect_error(
        self, *types: type[BaseException]
    ) -> AbstractContextManager[list[BaseException]]:
        return self.errors.expect(*types)

    def message(self, user_id: int, text: str, *, chat: dict[str, Any] | None = None) -> dict:
        self._message_id += 1
        sender = {"id": user_id, "is_bot": False, "first_name": "Tester", "language_code": "en"}
        message: dict[str, Any] = {
            "message_id": self.fake.new_message_id((chat or {"id": user_id})["id"]),
            "date": 1772442000,
            "chat": chat or {"id": user_id, "type": "private", "first_name": "Tester"},
            "from": sender,
            "text": text,
        }
        if text.startswith("/"):
            message["entities"] = [
                {"type": "bot_command", "offset": 0, "length": len(text.split()[0])}
            ]
        return {"message": message}

    def press(self, user_id: int, data: str, shown: dict[str, Any]) -> dict:
        """A tap on a button of a message the bot sent (``shown`` is its sendMessage params)."""
        self._message_id += 1
        sender = {"id": user_id, "is_bot": False, "first_name": "Tester"}
        message = {
            "message_id": self.fake.new_message_id(user_id),
            "date": 1772442000,
            "chat": {"id": user_id, "type": "private", "first_name": "Tester"},
            "from": self.fake.bot_user,
            "text": shown["text"],
            "reply_markup": shown["reply_markup"],
        }
        return {
            "callback_query": {"id": f"cq{self._message_id}", "from": sender,
                               "chat_instance": "ci", "data": data, "message": message},
        }  # fmt: skip

    async def deliver(self, update: dict[str, Any]) -> dict[str, Any]:
        update = self.fake.push_update(update)
        await self.application.process_update(Update.de_json(update, self.application.bot))
        self.errors.check()
        return update

    async def say(self, user_id: int, text: str) -> list[str]:
        """Send a message; return the texts of the bot's replies to it."""
        before = len(self.fake.sent_messages(user_id))
        await self.deliver(self.message(user_id, text))
        return [call.params["text"] for call in self.fake.sent_messages(user_id)[before:]]

    async def link(self, actor: Actor, user_id: int, container: Any) -> None:
        code = await telegram_links.issue_link_code(
            uow=container.uow(), actor=actor, user_id=actor.user_id
        )
        await self.say(user_id, f"/start {code.code}")


async def make_harness(
    container: Any, menu: tuple[MenuEntry, ...] = MENU
) -> AsyncIterator[Harness]:
    async with FakeBotApi() as fake:
        application = build_application(
            container, token=fake.token, base_url=fake.base_url, menu=menu
        )
        async with application:
            harness = Harness(fake, application)
            yield harness
        harness.errors.check()
        assert fake.invalid_requests == []


@pytest.fixture
async def bot(container: Any) -> AsyncIterator[Harness]:
    async for harness in make_harness(container):
        yield harness


def utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)


async def named_case(world: World) -> CaseRead:
    case = await world.allocated_case()
    return await case_services.update_case(
        uow=world.container.uow(),
        actor=world.actor(Role.CASE_MANAGER),
        case_id=case.id,
        data=CaseUpdate(
            version=case.version, subject_name=SUBJECT_NAME, subject_address=SUBJECT_ADDRESS
        ),
    )


async def book(world: World, case: CaseRead, starts_at: datetime, place: PlaceKind) -> None:
    await appointment_services.book_appointment(
        uow=world.container.uow(),
        actor=world.actor(Role.CASE_MANAGER),
        data=AppointmentCreate(
            case_id=case.id,
            starts_at=starts_at,
            ends_at=starts_at + timedelta(hours=1),
            place_kind=place,
        ),
    )


def assert_private(texts: list[str], world: World) -> None:
    names = [SUBJECT_NAME, SUBJECT_ADDRESS, "Quorvath", "Pumpernickel"]
    names += [actor.display_name for actor in world.actors.values()]
    for text in texts:
        for name in names:
            assert name not in text


# --- the gate ---------------------------------------------------------------------------------


async def test_an_unlinked_account_gets_one_generic_reply_and_nothing_else(
    bot: Harness, world: World
) -> None:
    assert await bot.say(ALICE, "/today") == [UNLINKED_REPLY]
    assert await bot.say(ALICE, "hello") == [UNLINKED_REPLY]
    assert await bot.say(ALICE, "/start") == [UNLINKED_REPLY]
    assert [call.method for call in bot.fake.calls] == ["getMe"] + ["sendMessage"] * 3


async def test_a_group_chat_is_refused_politely_once(bot: Harness, world: World) -> None:
    await bot.link(world.actor(Role.CASE_MANAGER), ALICE, world.container)
    group = {"id": -100200300, "type": "group", "title": "Team chat"}
    await bot.deliver(bot.message(ALICE, "/today", chat=group))
    [refusal] = bot.fake.sent_messages(-100200300)
    assert "only in a private chat" in refusal.params["text"]
    assert bot.fake.count("sendMessage") == 2  # the link greeting and the refusal


async def test_the_same_update_delivered_twice_is_handled_once(bot: Harness, world: World) -> None:
    await bot.link(world.actor(Role.CASE_MANAGER), ALICE, world.container)
    update = await bot.deliver(bot.message(ALICE, "/help"))
    await bot.application.process_update(Update.de_json(update, bot.application.bot))
    helps = [c for c in bot.fake.sent_messages(ALICE) if "/today" in c.params["text"]]
    assert len(helps) == 1


async def test_revoking_the_link_makes_the_next_update_get_the_generic_reply(
    bot: Harness, world: World
) -> None:
    manager = world.actor(Role.CASE_MANAGER)
    await bot.link(manager, ALICE, world.container)
    assert await bot.say(ALICE, "/next") == ["You have no appointments coming up."]
    await telegram_links.revoke_telegram_link(
        uow=world.container.uow(), actor=manager, user_id=manager.user_id
    )
    assert await bot.say(ALICE, "/next") == [UNLINKED_REPLY]


# --- linking ----------------------------------------------------------------------------------


async def test_start_with_a_valid_code_links_the_account(bot: Harness, world: World) -> None:
    manager = world.actor(Role.CASE_MANAGER)
    code = await telegram_links.issue_link_code(
        uow=world.container.uow(), actor=manager, user_id=manager.user_id
    )
    [linked] = await bot.say(ALICE, f"/start {code.code}")
    assert "now linked" in linked
    linked_actor = await telegram_links.actor_for_telegram_user(
        uow=world.container.uow(), telegram_user_id=ALICE
    )
    assert linked_actor is not None and linked_actor.user_id == manager.user_id
    [hello] = await bot.say(ALICE, "/start")
    assert "/help" in hello


async def test_the_first_reply_after_linking_names_the_account_by_its_email_address(
    bot: Harness, world: World
) -> None:
    # An admin issued this one: whoever redeems it sees whose account the chat now acts as.
    manager = world.actor(Role.CASE_MANAGER)
    code = await telegram_links.issue_link_code(
        uow=world.container.uow(), actor=world.actor(Role.ADMIN), user_id=manager.user_id
    )

    [linked] = await bot.say(BRYN, f"/start {code.code}")

    assert linked.splitlines()[0] == (
        f"Your Telegram account is now linked to the Drive Assist account {manager.email}."
    )
    assert_private([linked], world)  # the address only, never a name


async def test_a_wrong_code_is_refused_and_the_sixth_try_is_blocked(
    bot: Harness, world: World
) -> None:
    t = Translator()
    with bot.expect_error(LinkCodeInvalid) as wrong:
        replies = [await bot.say(BRYN, "/start WRONGCODE") for _ in range(5)]
    with bot.expect_error(LinkAttemptsExceeded):
        replies.append(await bot.say(BRYN, "/start WRONGCODE"))
    assert len(wrong) == 5
    assert all("does not work" in reply for [reply] in replies[:5])
    [sixth] = replies[5]
    assert "Too many wrong link codes" in sixth
    assert t.gettext(OOPS) not in sixth
    assert (
        await telegram_links.actor_for_telegram_user(
            uow=world.container.uow(), telegram_user_id=BRYN
        )
        is None
    )


# --- /today, /next, /lang ---------------------------------------------------------------------


async def test_today_and_next_show_references_times_and_places_but_no_names(
    bot: Harness, world: World, clock: FixedClock
) -> None:
    case = await named_case(world)
    await book(world, case, utc(2026, 3, 2, 14, 30), PlaceKind.OFFICE)  # today, 14:30 GMT
    await book(world, case, utc(2026, 3, 4, 10, 0), PlaceKind.HOME_VISIT)
    await bot.link(world.actor(Role.CASE_MANAGER), ALICE, world.container)

    [today_text] = await bot.say(ALICE, "/today")
    [next_text] = await bot.say(ALICE, "/next")

    assert case.reference in today_text and "14:30" in today_text and "Office" in today_text
    assert "Home visit" not in today_text  # Wednesday's is not today
    assert today_text.count(case.reference) == 1
    assert next_text.count(case.reference) == 2
    assert "14:30" in next_text and "10:00" in next_text and "Home visit" in next_text
    assert_private([call.params["text"] for call in bot.fake.calls if "text" in call.params], world)


async def test_today_marks_an_appointment_that_started_without_an_outcome(
    bot: Harness, world: World
) -> None:
    case = await world.allocated_case()
    await book(world, case, utc(2026, 3, 2, 8, 30), PlaceKind.OFFICE)  # began before 09:00
    await book(world, case, utc(2026, 3, 2, 14, 30), PlaceKind.HOME_VISIT)
    await bot.link(world.actor(Role.CASE_MANAGER), ALICE, world.container)

    [today_text] = await bot.say(ALICE, "/today")

    lines = [line for line in today_text.splitlines() if case.reference in line]
    assert len(lines) == 2
    started, later = lines
    assert "08:30" in started and "awaiting outcome" in started
    assert "14:30" in later and "awaiting outcome" not in later


async def test_lang_switches_to_welsh_and_the_next_reply_is_in_welsh(
    bot: Harness, world: World
) -> None:
    case = await world.allocated_case()
    await book(world, case, utc(2026, 3, 2, 14, 30), PlaceKind.OFFICE)
    await bot.link(world.actor(Role.CASE_MANAGER), ALICE, world.container)
    await bot.say(ALICE, "/lang")
    [choice] = bot.fake.sent_messages(ALICE)[-1:]
    buttons = choice.params["reply_markup"]["inline_keyboard"][0]
    assert [b["text"] for b in buttons] == ["English", "Cymraeg"]
    welsh = next(b["callback_data"] for b in buttons if b["text"] == "Cymraeg")

    await bot.deliver(bot.press(ALICE, welsh, choice.params))
    [edit] = [c for c in bot.fake.calls if c.method == "editMessageText"]
    assert "Cymraeg" in edit.params["text"]
    [today_text] = await bot.say(ALICE, "/today")

    cy = Translator("cy")
    assert cy.format_date(utc(2026, 3, 2, 12, 0), "full") in today_text  # Dydd Llun 2 Mawrth
    assert label(PlaceKind.OFFICE, cy) in today_text
    assert label(PlaceKind.OFFICE, cy) != "Office"


async def test_a_forged_language_button_is_refused_and_changes_nothing(
    bot: Harness, world: World
) -> None:
    await bot.link(world.actor(Role.CASE_MANAGER), ALICE, world.container)
    await bot.say(ALICE, "/lang")
    [choice] = bot.fake.sent_messages(ALICE)[-1:]
    await bot.deliver(bot.press(ALICE, "lang:fr", choice.params))
    [answer] = [c for c in bot.fake.calls if c.method == "answerCallbackQuery"]
    assert "no longer works" in answer.params["text"]
    assert bot.fake.count("editMessageText") == 0


async def test_text_or_a_command_the_bot_does_not_know_gets_an_answer_not_silence(
    bot: Harness, world: World
) -> None:
    await bot.link(world.actor(Role.CASE_MANAGER), ALICE, world.container)
    [plain] = await bot.say(ALICE, "what is on today?")
    [unknown] = await bot.say(ALICE, "/frobnicate")
    assert "did not understand" in plain and "/help" in plain
    assert unknown == plain


async def test_an_unlinked_button_press_gets_the_generic_notice_only(
    bot: Harness, world: World
) -> None:
    shown = {"text": "Choose your language.", "reply_markup": {"inline_keyboard": [[
        {"text": "Cymraeg", "callback_data": "lang:cy"}]]}}  # fmt: skip
    await bot.deliver(bot.press(BRYN, "lang:cy", shown))
    [notice] = [c for c in bot.fake.calls if c.method == "answerCallbackQuery"]
    assert notice.params["text"] == UNLINKED_REPLY
    assert bot.fake.count("sendMessage") == 0 and bot.fake.count("editMessageText") == 0


# --- Telegram's flood control on the bot's own replies ----------------------------------------


@pytest.mark.parametrize("floods", [1, 2, 4])
async def test_a_reply_held_back_by_flood_control_waits_and_arrives_once(
    bot: Harness, world: World, floods: int
) -> None:
    """Issue 21: one 429 on a /today reply showed "Something went wrong"; two showed nothing."""
    case = await named_case(world)
    await book(world, case, utc(2026, 3, 2, 14, 30), PlaceKind.OFFICE)
    await bot.link(world.actor(Role.CASE_MANAGER), ALICE, world.container)
    bot.fake.fail_next("sendMessage", status=429, retry_after=1, times=floods, chat_id=ALICE)

    loop = asyncio.get_running_loop()
    started = loop.time()
    [today_text] = await bot.say(ALICE, "/today")

    assert case.reference in today_text and OOPS not in today_text
    refused = [c for c in bot.fake.failed_calls if c.chat_id == ALICE]
    assert [c.status for c in refused] == [429] * floods
    assert all(c.params["text"] == today_text for c in refused)  # the same reply, sent again
    assert loop.time() - started >= floods  # it waited as Telegram asked, each time


# --- errors and the menu ----------------------------------------------------------------------


async def test_an_exception_inside_a_handler_gets_the_polite_reply(
    container: Any, world: World
) -> None:
    menu = (*MENU, MenuEntry("boom", "Break on purpose", explode))
    async for harness in make_harness(container, menu):
        await harness.link(world.actor(Role.CASE_MANAGER), ALICE, container)
        with harness.expect_error(RuntimeError) as errors:
            assert await harness.say(ALICE, "/boom") == [OOPS]
        assert [str(error) for error in errors] == ["a bug in a handler"]


async def test_an_exception_nobody_expected_fails_the_test_at_the_update_that_raised_it(
    container: Any, world: World
) -> None:
    menu = (*MENU, MenuEntry("boom", "Break on purpose", explode))
    async for harness in make_harness(container, menu):
        await harness.link(world.actor(Role.CASE_MANAGER), ALICE, container)
        with pytest.raises(UnexpectedBotError, match="a bug in a handler"):
            await harness.say(ALICE, "/boom")
        # The user still got the apology; the harness is what refused to let it pass.
        assert harness.fake.sent_messages(ALICE)[-1].params["text"] == OOPS
        with pytest.raises(AssertionError, match="expected ValueError"):
            with harness.expect_error(ValueError):  # declared, then not provoked: also a failure
                await harness.say(ALICE, "/help")


async def test_an_error_that_bypassed_deliver_fails_the_harness_at_teardown(
    container: Any, world: World
) -> None:
    menu = (*MENU, MenuEntry("boom", "Break on purpose", explode))
    harnesses = make_harness(container, menu)
    harness = await anext(harnesses)
    await harness.link(world.actor(Role.CASE_MANAGER), ALICE, container)
    update = harness.fake.push_update(harness.message(ALICE, "/boom"))
    # Straight to PTB, as polling would: nothing checks until the harness is torn down.
    await harness.application.process_update(Update.de_json(update, harness.application.bot))
    with pytest.raises(UnexpectedBotError, match="RuntimeError: a bug in a handler"):
        await anext(harnesses)


async def test_an_exception_inside_the_error_handler_itself_is_reported(
    container: Any, world: World
) -> None:
    async def break_the_error_handler_too(update: Update, context: Any) -> None:
        context.application.bot_data.pop(CONTAINER_KEY)  # on_error needs it: KeyError there
        raise RuntimeError("a bug in a handler")

    menu = (*MENU, MenuEntry("boom", "Break on purpose", break_the_error_handler_too))
    async for harness in make_harness(container, menu):
        await harness.link(world.actor(Role.CASE_MANAGER), ALICE, container)
        with (
            pytest.raises(UnexpectedBotError, match="KeyError"),
            harness.expect_error(RuntimeError),
        ):
            await harness.say(ALICE, "/boom")
        harness.application.bot_data[CONTAINER_KEY] = container


async def test_the_menu_is_published_in_english_and_welsh(bot: Harness, world: World) -> None:
    await bot.application.post_init(bot.application)  # what run_polling does on start-up
    english = bot.fake.commands[('{"type": "default"}', "")]
    welsh = bot.fake.commands[('{"type": "default"}', "cy")]
    assert [c["command"] for c in english] == [entry.command for entry in MENU]
    assert [c["command"] for c in welsh] == [entry.command for entry in MENU]
    assert "today" in [c["command"] for c in english]
    assert today in [entry.callback for entry in MENU]


async def test_long_polling_answers_and_drops_a_redelivered_update(
    bot: Harness, world: World
) -> None:
    await bot.link(world.actor(Role.CASE_MANAGER), ALICE, world.container)
    repeated = bot.message(ALICE, "/next")
    repeated["update_id"] = 5000
    application = bot.application
    await application.start()
    assert application.updater is not None
    await application.updater.start_polling(poll_interval=0.0, timeout=1)
    try:
        bot.fake.push_update(repeated)
        bot.fake.push_update(repeated)
        bot.fake.push_update(bot.message(ALICE, "/help"))
        for _ in range(200):
            if any("/today" in c.params["text"] for c in bot.fake.sent_messages(ALICE)):
                break
            await asyncio.sleep(0.05)
    finally:
        await application.updater.stop()
        await application.stop()
    texts = [c.params["text"] for c in bot.fake.sent_messages(ALICE)]
    assert texts.count("You have no appointments coming up.") == 1
    assert any("/today" in text for text in texts)


# --- the console ------------------------------------------------------------------------------


async def test_the_console_shows_today_for_the_chosen_account(
    world: World, database_url: str
) -> None:
    case = await named_case(world)
    # The subprocess runs on the real clock: book for noon of its "today" in London.
    london_today = datetime.now(ZoneInfo("Europe/London")).date()
    noon = datetime.combine(london_today, time(12, 0), tzinfo=ZoneInfo("Europe/London"))
    await book(world, case, noon.astimezone(UTC), PlaceKind.OFFICE)
    manager = world.actor(Role.CASE_MANAGER)

    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "cli", "bot", "console", "--as", manager.email,
        cwd=ROOT,
        env={**os.environ, "DATABASE_URL": database_url, "COLUMNS": "200"},
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )  # fmt: skip
    out, err = await asyncio.wait_for(process.communicate(b"/today\n/lang\n2\n"), 60)
    output = out.decode()

    assert process.returncode == 0, err.decode()
    assert case.reference in output and "12:00" in output and "Office" in output
    assert "[1] English" in output and "[2] Cymraeg" in output
    assert "(edited)" in output and "Cymraeg" in output.split("(edited)")[1]
    assert_private([output], world)
