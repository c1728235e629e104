"""Reminders that answer back: the buttons under appointment reminders, through PTB's real stack.

The reminder is queued by the real scheduler and sent by the real ``Dispatcher`` through
``bot.channel.TelegramChannel`` to the fake Bot API; the taps go to the production
``Application`` (``bot.app.build_application``) on both databases. Every test ends by checking
that no request broke the Bot API spec, and every update by checking that no exception reached
the bot's error handler unannounced (``ErrorWatch`` of ``test_bot_basics``).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select
from telegram import Bot, Update

from bot.app import BotApplication, build_application
from bot.channel import TelegramChannel
from core.bootstrap import Container
from core.clock import FixedClock
from core.enums import AppointmentStatus, Channel, Locale, OutboxState, PlaceKind, Role
from core.errors import NotPermitted
from core.models import Appointment, AuditEvent, OutboxMessage
from core.notifications.channels import InboxChannel
from core.notifications.dispatcher import Dispatcher, DispatchSettings
from core.notifications.schedulers import (
    schedule_appointment_reminders,
    schedule_missed_appointment_prompts,
)
from core.schemas.actor import Actor
from core.schemas.appointments import AppointmentCreate, AppointmentRead
from core.services import appointments as appointment_services
from core.services import telegram_links, users
from core.services.refusals import REFUSED
from tests.e2e.outbox_support import make_bot
from tests.e2e.test_bot_basics import ErrorWatch
from tests.factories import World
from tests.fakes import FakeBotApi
from ui.notifications import render

ALICE = 700101  # Telegram user id (and private chat id) of the case manager in these tests
SETTINGS = DispatchSettings(pacing=False, batch_size=10, concurrency=2, max_attempts=3)
NOT_PERMITTED = "You do not have permission to do that."


def utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)


@dataclass
class Shown:
    """A message the bot showed in ALICE's chat: its id, text and buttons."""

    message_id: int
    text: str
    reply_markup: dict[str, Any] | None

    def buttons(self) -> dict[str, str]:
        """Button text -> callback data."""
        rows = (self.reply_markup or {}).get("inline_keyboard", [])
        return {button["text"]: button["callback_data"] for row in rows for button in row}


class Phone:
    """ALICE's side of the chat: the bot application, the dispatcher, and taps on messages."""

    def __init__(self, fake: FakeBotApi, container: Container, sender: Bot) -> None:
        self.fake = fake
        self.container = container
        self.application: BotApplication | None = None
        self.errors = ErrorWatch()
        channels = {
            Channel.TELEGRAM: TelegramChannel(sender, render),
            Channel.INBOX: InboxChannel(container.session_factory, container.clock),
        }
        self.dispatcher = Dispatcher(
            container, container.clock, channels, SETTINGS, "e2e-reminders"
        )
        self._update_id = 0

    async def deliver(self, update: dict[str, Any]) -> None:
        assert self.application is not None
        update = self.fake.push_update(update)
        await self.application.process_update(Update.de_json(update, self.application.bot))
        self.errors.check()

    async def say(self, text: str) -> None:
        self._update_id += 1
        sender = {"id": ALICE, "is_bot": False, "first_name": "Tester", "language_code": "en"}
        message: dict[str, Any] = {
            "message_id": self.fake.new_message_id(ALICE),
            "date": 1772442000,
            "chat": {"id": ALICE, "type": "private", "first_name": "Tester"},
            "from": sender,
            "text": text,
        }
        if text.startswith("/"):
            message["entities"] = [
                {"type": "bot_command", "offset": 0, "length": len(text.split()[0])}
            ]
        await self.deliver({"message": message})

    async def tap(self, shown: Shown, data: str) -> None:
        """Tap the button with ``data`` under ``shown`` (data need not be one of its buttons)."""
        self._update_id += 1
        message: dict[str, Any] = {
            "message_id": shown.message_id,
            "date": 1772442000,
            "chat": {"id": ALICE, "type": "private", "first_name": "Tester"},
            "from": self.fake.bot_user,
            "text": shown.text,
        }
        if shown.reply_markup is not None:
            message["reply_markup"] = shown.reply_markup
        sender = {"id": ALICE, "is_bot": False, "first_name": "Tester"}
        query = {"id": f"cq{self._update_id}", "from": sender, "chat_instance": "ci",
                 "data": data, "message": message}  # fmt: skip
        await self.deliver({"callback_query": query})

    async def press(self, shown: Shown, text: str) -> None:
        await self.tap(shown, shown.buttons()[text])

    async def dispatch(self) -> Shown:
        """Send what is due; return the one notification that went to ALICE."""
        before = len(self.fake.sent_messages(ALICE))
        assert await self.dispatcher.run_once() == 1
        [call] = self.fake.sent_messages(ALICE)[before:]
        async with self.container.session_factory() as session:
            message_id = await session.scalar(
                select(OutboxMessage.telegram_message_id).where(OutboxMessage.sent_at.is_not(None))
                .order_by(OutboxMessage.sent_at.desc(), OutboxMessage.id.desc())
            )  # fmt: skip
        assert message_id is not None
        return Shown(message_id, call.params["text"], call.params.get("reply_markup"))

    def last_shown(self) -> Shown:
        """The message the bot last sent or edited in ALICE's chat, as it looks now."""
        shown = ("sendMessage", "editMessageText")
        call = [c for c in self.fake.calls if c.method in shown and c.chat_id == ALICE][-1]
        message_id = call.params.get("message_id")
        if message_id is None:
            message_id = max(key[1] for key in self.fake._messages if key[0] == ALICE)
        return Shown(int(message_id), call.params["text"], call.params.get("reply_markup"))

    def edits(self) -> list[dict[str, Any]]:
        return [c.params for c in self.fake.calls if c.method == "editMessageText"]

    def answers(self) -> list[str]:
        return [c.params.get("text", "") for c in self.fake.calls
                if c.method == "answerCallbackQuery"]  # fmt: skip

    def replies(self) -> list[str]:
        return [c.params["text"] for c in self.fake.sent_messages(ALICE)]


async def start_bot(phone: Phone) -> BotApplication:
    application = build_application(
        phone.container, token=phone.fake.token, base_url=phone.fake.base_url
    )
    phone.errors.attach(application)
    await application.initialize()
    phone.application = application
    return application


@pytest.fixture
async def phone(container: Container, world: World) -> AsyncIterator[Phone]:
    async with FakeBotApi() as fake, make_bot(fake.token, fake.base_url) as sender:
        phone = Phone(fake, container, sender)
        await start_bot(phone)
        manager = world.actor(Role.CASE_MANAGER)
        code = await telegram_links.issue_link_code(
            uow=container.uow(), actor=manager, user_id=manager.user_id
        )
        await phone.say(f"/start {code.code}")
        try:
            yield phone
        finally:
            if phone.application is not None:
                await phone.application.shutdown()
        phone.errors.check()
        assert fake.invalid_requests == []


async def book(
    world: World, starts_at: datetime, *, minutes: int = 60, manager: Actor | None = None
) -> AppointmentRead:
    manager = manager or world.actor(Role.CASE_MANAGER)
    case = await world.allocated_case(case_manager=manager)
    return await appointment_services.book_appointment(
        uow=world.container.uow(),
        actor=manager,
        data=AppointmentCreate(
            case_id=case.id,
            starts_at=starts_at,
            ends_at=starts_at + timedelta(minutes=minutes),
            place_kind=PlaceKind.OFFICE,
        ),
    )


async def appointment_row(container: Container, appointment_id: int) -> Appointment:
    async with container.session_factory() as session:
        row = await session.get(Appointment, appointment_id)
        assert row is not None
        return row


async def outbox_states(container: Container, appointment_id: int) -> list[OutboxState]:
    async with container.session_factory() as session:
        rows = await session.scalars(
            select(OutboxMessage.state)
            .where(OutboxMessage.appointment_id == appointment_id)
            .order_by(OutboxMessage.id)
        )
        return list(rows)


def assert_private(phone: Phone, world: World) -> None:
    """Every text the bot sent, edited or flashed names a case reference, never a person.

    The one exception: the reply to ``/start CODE`` names the linked account by its own sign-in
    email, so its owner sees whose account the chat acts as (docs/SECURITY.md, "Telegram link
    codes"). That address, in that reply only, is allowed; no other text may carry an address.
    """
    shown = ("sendMessage", "editMessageText", "answerCallbackQuery")
    texts = [c.params.get("text", "") for c in phone.fake.calls if c.method in shown]
    assert texts
    own_email = world.actor(Role.CASE_MANAGER).email
    linked = f"Your Telegram account is now linked to the Drive Assist account {own_email}."
    assert texts[0].startswith(linked)
    texts[0] = texts[0].removeprefix(linked)
    names = [actor.display_name for actor in world.actors.values()]
    for text in texts:
        assert "@" not in text
        for name in names:
            assert name not in text


async def reminder_for(phone: Phone, clock: FixedClock, appointment: AppointmentRead) -> Shown:
    """Queue the appointment's reminders and send the one due 24 hours before."""
    await schedule_appointment_reminders(uow=phone.container.uow())
    clock.set(appointment.starts_at - timedelta(hours=24))
    return await phone.dispatch()


# --- the buttons ------------------------------------------------------------------------------


async def test_a_reminder_before_the_appointment_offers_to_record_it_after_or_reschedule(
    phone: Phone, world: World, clock: FixedClock
) -> None:
    appointment = await book(world, utc(2026, 3, 3, 14, 0))
    reminder = await reminder_for(phone, clock, appointment)
    assert appointment.case_reference in reminder.text
    assert reminder.buttons() == {
        "I'll record it after": f"appt:later:{appointment.id}",
        "Reschedule": f"appt:move:{appointment.id}",
    }


async def follow_up_for(phone: Phone, clock: FixedClock, appointment: AppointmentRead) -> Shown:
    """Tap "I'll record it after" under the 24-hour reminder; send the prompt due at the end."""
    reminder = await reminder_for(phone, clock, appointment)
    await phone.press(reminder, "I'll record it after")
    clock.set(appointment.starts_at - timedelta(hours=1))
    await phone.dispatch()  # the 1-hour reminder
    clock.set(appointment.ends_at)
    return await phone.dispatch()


async def test_record_it_after_edits_the_reminder_and_the_end_time_prompt_records_the_outcome(
    phone: Phone, world: World, clock: FixedClock
) -> None:
    appointment = await book(world, utc(2026, 3, 3, 14, 0), minutes=90)
    reminder = await reminder_for(phone, clock, appointment)
    await phone.press(reminder, "I'll record it after")

    [asked] = phone.edits()
    assert asked["message_id"] == reminder.message_id and "reply_markup" not in asked
    assert appointment.case_reference in asked["text"]
    assert "I will ask you what happened at Tue 3 Mar, 15:30, when it ends." in asked["text"]
    clock.set(utc(2026, 3, 3, 13, 0))
    assert "I'll record it after" in (await phone.dispatch()).buttons()  # the 1-hour reminder
    clock.set(utc(2026, 3, 3, 15, 29))
    assert await phone.dispatcher.run_once() == 0  # not before the end
    clock.set(appointment.ends_at)
    prompt = await phone.dispatch()
    assert appointment.case_reference in prompt.text and "has no outcome yet" in prompt.text
    assert set(prompt.buttons()) == {"It happened", "Did not attend", "Book the next one"}

    await phone.press(prompt, "It happened")
    row = await appointment_row(phone.container, appointment.id)
    assert row.status is AppointmentStatus.ATTENDED
    edit = phone.edits()[-1]
    assert edit["message_id"] == prompt.message_id and "reply_markup" not in edit
    assert "Outcome recorded: Attended" in edit["text"] and "Tue 3 Mar, 14:00" in edit["text"]
    assert_private(phone, world)


async def test_record_it_after_in_welsh(phone: Phone, world: World, clock: FixedClock) -> None:
    manager = world.actor(Role.CASE_MANAGER)
    await users.set_my_locale(uow=world.container.uow(), actor=manager, locale=Locale.CY)
    appointment = await book(world, utc(2026, 3, 3, 14, 0))
    reminder = await reminder_for(phone, clock, appointment)
    assert set(reminder.buttons()) == {"Fe'i cofnodaf wedyn", "Aildrefnu"}
    await phone.press(reminder, "Fe'i cofnodaf wedyn")
    assert "Byddaf yn gofyn i chi beth ddigwyddodd am" in phone.edits()[-1]["text"]


async def test_did_not_attend_on_the_prompt_records_it_and_a_second_tap_changes_nothing(
    phone: Phone, world: World, clock: FixedClock
) -> None:
    appointment = await book(world, utc(2026, 3, 3, 14, 0))
    prompt = await follow_up_for(phone, clock, appointment)
    await phone.press(prompt, "Did not attend")
    assert "Outcome recorded: Did not attend" in phone.edits()[-1]["text"]
    await phone.press(prompt, "It happened")
    row = await appointment_row(phone.container, appointment.id)
    assert row.status is AppointmentStatus.DID_NOT_ATTEND
    assert phone.answers()[-1] == (
        "This appointment is already marked Did not attend. Nothing was changed."
    )
    async with phone.container.session_factory() as session:
        outcomes = await session.scalars(
            select(AuditEvent.id).where(
                AuditEvent.action == "appointment.outcome", AuditEvent.entity_id == appointment.id
            )
        )
        assert len(outcomes.all()) == 1


async def test_an_outcome_button_from_an_older_reminder_before_the_start_records_nothing(
    phone: Phone, world: World, clock: FixedClock
) -> None:
    appointment = await book(world, utc(2026, 3, 3, 14, 0))
    reminder = await reminder_for(phone, clock, appointment)
    await phone.tap(reminder, f"appt:att:{appointment.id}")  # as reminders carried until now
    row = await appointment_row(phone.container, appointment.id)
    assert row.status is AppointmentStatus.SCHEDULED
    assert phone.answers()[-1] == ("You can record what happened once the appointment has started.")
    assert phone.edits() == []


async def test_a_forged_tap_on_another_managers_appointment_is_refused_and_audited(
    phone: Phone, world: World, clock: FixedClock
) -> None:
    other = await world.add_actor("other.cm@test.invalid", [("HER", Role.CASE_MANAGER)])
    theirs = await book(world, utc(2026, 3, 2, 8, 0), manager=other)
    mine = await book(world, utc(2026, 3, 3, 14, 0))
    reminder = await reminder_for(phone, clock, mine)
    before = len(phone.replies())
    with phone.errors.expect(NotPermitted):
        await phone.tap(reminder, f"appt:att:{theirs.id}")
    [refusal] = phone.replies()[before:]
    assert refusal.startswith(NOT_PERMITTED)
    assert theirs.case_reference not in refusal
    row = await appointment_row(phone.container, theirs.id)
    assert row.status is AppointmentStatus.SCHEDULED
    async with phone.container.session_factory() as session:
        [event] = (
            await session.scalars(select(AuditEvent).where(AuditEvent.action == REFUSED))
        ).all()
    manager = world.actor(Role.CASE_MANAGER)
    assert (event.actor_user_id, event.entity_type, event.entity_id) == (
        manager.user_id,
        "appointment",
        theirs.id,
    )
    assert event.case_id == theirs.case_id
    assert phone.edits() == []


# --- Reschedule and Book the next one ---------------------------------------------------------


async def test_rescheduling_from_the_reminder_moves_the_appointment_and_cancels_its_reminders(
    phone: Phone, world: World, clock: FixedClock
) -> None:
    appointment = await book(world, utc(2026, 3, 3, 14, 0), minutes=45)
    reminder = await reminder_for(phone, clock, appointment)
    await phone.press(reminder, "Reschedule")
    days = phone.last_shown()
    assert "Which day?" in days.text
    # Mon 2 Mar today: the next seven working days, weekends skipped.
    assert list(days.buttons())[:7] == [
        "Tue 3 Mar", "Wed 4 Mar", "Thu 5 Mar", "Fri 6 Mar", "Mon 9 Mar", "Tue 10 Mar", "Wed 11 Mar",
    ]  # fmt: skip
    await phone.press(days, "Wed 4 Mar")
    times = phone.last_shown()
    assert "What time?" in times.text
    await phone.press(times, "10:00")
    places = phone.last_shown()
    assert "Keep: Office" in places.buttons()
    await phone.press(places, "By phone")
    confirm = phone.last_shown()
    assert "45 min" in confirm.text
    await phone.press(confirm, "Book")
    assert (
        phone.last_shown().text
        == f"Booked: {appointment.case_reference}, Wed 4 Mar 10:00, By phone"
    )

    old = await appointment_row(phone.container, appointment.id)
    assert old.status is AppointmentStatus.RESCHEDULED and old.rescheduled_to_id is not None
    new = await appointment_row(phone.container, old.rescheduled_to_id)
    assert (new.starts_at, new.ends_at) == (utc(2026, 3, 4, 10, 0), utc(2026, 3, 4, 10, 45))
    assert new.place_kind is PlaceKind.PHONE and new.status is AppointmentStatus.SCHEDULED
    assert await outbox_states(phone.container, appointment.id) == [
        OutboxState.SENT,
        OutboxState.CANCELLED,
    ]
    # The new time's reminders come from the scheduler as usual.
    clock.set(utc(2026, 3, 3, 9, 0))
    await schedule_appointment_reminders(uow=phone.container.uow())
    assert await outbox_states(phone.container, new.id) == [OutboxState.QUEUED] * 2
    # The old reminder's buttons now say it moved, and change nothing.
    await phone.press(reminder, "Reschedule")
    assert phone.answers()[-1] == (
        "This appointment is already marked Rescheduled. Nothing was changed."
    )
    assert_private(phone, world)


async def test_the_missed_prompt_books_the_next_appointment_at_the_chosen_time(
    phone: Phone, world: World, clock: FixedClock
) -> None:
    appointment = await book(world, utc(2026, 3, 2, 10, 0), minutes=30)
    clock.set(utc(2026, 3, 2, 11, 30))
    await schedule_missed_appointment_prompts(uow=phone.container.uow())
    prompt = await phone.dispatch()
    assert prompt.buttons() == {
        "It happened": f"appt:att:{appointment.id}",
        "Did not attend": f"appt:dna:{appointment.id}",
        "Book the next one": f"appt:next:{appointment.id}",
    }
    await phone.press(prompt, "Book the next one")
    await phone.press(phone.last_shown(), "Thu 5 Mar")
    await phone.press(phone.last_shown(), "15:00")
    await phone.press(phone.last_shown(), "Keep: Office")
    await phone.press(phone.last_shown(), "Book")
    assert phone.last_shown().text == (
        f"Booked: {appointment.case_reference}, Thu 5 Mar 15:00, Office"
    )
    async with phone.container.session_factory() as session:
        booked = (
            await session.scalars(
                select(Appointment).where(
                    Appointment.case_id == appointment.case_id, Appointment.id != appointment.id
                )
            )
        ).all()
    [new] = booked
    assert (new.starts_at, new.ends_at) == (utc(2026, 3, 5, 15, 0), utc(2026, 3, 5, 15, 30))
    # The missed one still waits for its outcome, and "It happened" records it.
    await phone.press(prompt, "It happened")
    row = await appointment_row(phone.container, appointment.id)
    assert row.status is AppointmentStatus.ATTENDED
    assert_private(phone, world)


async def test_a_restart_in_the_middle_of_rescheduling_resumes_at_the_same_step(
    phone: Phone, world: World, clock: FixedClock
) -> None:
    appointment = await book(world, utc(2026, 3, 3, 14, 0))
    reminder = await reminder_for(phone, clock, appointment)
    await phone.press(reminder, "Reschedule")
    await phone.press(phone.last_shown(), "Fri 6 Mar")
    times = phone.last_shown()
    assert phone.application is not None
    await phone.application.shutdown()
    phone.application = None
    await start_bot(phone)  # a new process: nothing in memory, the step is in the database
    await phone.press(times, "11:00")
    await phone.press(phone.last_shown(), "Keep: Office")
    await phone.press(phone.last_shown(), "Book")
    assert phone.last_shown().text == (
        f"Booked: {appointment.case_reference}, Fri 6 Mar 11:00, Office"
    )
    old = await appointment_row(phone.container, appointment.id)
    assert old.rescheduled_to_id is not None
    new = await appointment_row(phone.container, old.rescheduled_to_id)
    assert new.starts_at == utc(2026, 3, 6, 11, 0)


async def test_a_button_from_a_step_already_passed_is_expired_and_changes_nothing(
    phone: Phone, world: World, clock: FixedClock
) -> None:
    appointment = await book(world, utc(2026, 3, 3, 14, 0))
    reminder = await reminder_for(phone, clock, appointment)
    await phone.press(reminder, "Reschedule")
    days = phone.last_shown()
    await phone.press(days, "Wed 4 Mar")
    edits = len(phone.edits())
    await phone.press(days, "Thu 5 Mar")
    assert phone.answers()[-1] == "That button has expired."
    assert len(phone.edits()) == edits
    await phone.press(phone.last_shown(), "Cancel")
    assert phone.last_shown().text == "Cancelled. Nothing was changed."
    row = await appointment_row(phone.container, appointment.id)
    assert row.status is AppointmentStatus.SCHEDULED


# --- a flow that moves on leaves no buttons behind ---------------------------------------------


def buttons_taken_off(phone: Phone) -> list[int]:
    """The messages whose buttons the bot removed, in order."""
    return [
        int(c.params["message_id"])
        for c in phone.fake.calls
        if c.method == "editMessageReplyMarkup"
    ]


async def test_cancel_or_a_new_flow_takes_the_buttons_off_the_flow_it_ends(
    phone: Phone, world: World, clock: FixedClock
) -> None:
    appointment = await book(world, utc(2026, 3, 3, 14, 0))
    reminder = await reminder_for(phone, clock, appointment)
    await phone.press(reminder, "Reschedule")
    days = phone.last_shown()
    await phone.say("/cancel")
    assert buttons_taken_off(phone) == [days.message_id]
    assert phone.fake._messages[(ALICE, days.message_id)].get("reply_markup") is None

    await phone.press(reminder, "Reschedule")
    again = phone.last_shown()
    await phone.press(again, "Wed 4 Mar")  # the flow's screen is edited in place
    await phone.say("/log")  # a new flow over it
    assert buttons_taken_off(phone) == [days.message_id, again.message_id]
    assert "Which case is this contact on?" in phone.replies()[-1]
