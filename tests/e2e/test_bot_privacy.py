"""Privacy: every message the bot can produce for a demo case names no person, place or note.

One fictional case carries a subject name and address, a victim with an address, contact
details and safety notes, a child, logged contact notes and a typed alert action. The production
``Application`` and the real ``Dispatcher`` (through ``bot.channel.TelegramChannel``) then
produce every kind of message the bot has, against the fake Bot API on 127.0.0.1: the gate's
refusals, linking, /start, /help, /lang, /today, /next, the command menu, /log with a note and
"disruption needed", /cancel, /case with its "Log a contact" and "Book" buttons, /alerts,
/panel with RSVP, /broadcast, every notification kind of ``ui.notifications`` with the buttons
under reminders, forged callbacks, errors and the deletion of old messages. Every request the
fake received must be free of the fixtures' private words (case-insensitive), in English and in
Welsh, and every flow must have produced requests.
"""

from __future__ import annotations

import html
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, nullcontext
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select

from bot.channel import TelegramChannel
from bot.jobs import delete_all_due_messages
from bot.menu import MENU, MenuEntry
from core.clock import FixedClock
from core.enums import (
    Channel,
    ContactType,
    Locale,
    NotificationKind,
    OutboxState,
    PersonKind,
    PlaceKind,
    Role,
    WorkCategory,
)
from core.errors import LinkCodeInvalid, NotPermitted
from core.models import DisruptionAlert, OutboxMessage
from core.notifications.channels import InboxChannel
from core.notifications.dispatcher import Dispatcher, DispatchSettings
from core.notifications.schedulers import (
    escalate_unacknowledged_alerts,
    schedule_appointment_reminders,
    schedule_daily_digests,
    schedule_missed_appointment_prompts,
    schedule_panel_reminders,
)
from core.schemas.actor import Actor
from core.schemas.appointments import AppointmentCreate, AppointmentRead
from core.schemas.cases import CaseRead, CaseUpdate
from core.schemas.contacts import ContactCreate
from core.schemas.panels import PanelMeetingCreate
from core.schemas.people import LinkedPersonCreate
from core.services import appointments as appointment_services
from core.services import bot_messages, contacts, people, users
from core.services import cases as case_services
from core.services import panels as panel_services
from tests.e2e.outbox_support import make_bot
from tests.e2e.test_bot_basics import OOPS, UNLINKED_REPLY, Harness, explode, make_harness
from tests.factories import World
from ui.i18n import Translator
from ui.notifications import TEMPLATES, render

MANAGER, FELLOW, COORDINATOR, MEMBER, SERVICE_MANAGER, STRANGER = range(700301, 700307)
LINKED = {
    MANAGER: Role.CASE_MANAGER,
    FELLOW: Role.POLICE_FELLOW,
    COORDINATOR: Role.PANEL_COORDINATOR,
    MEMBER: Role.PANEL_MEMBER,
    SERVICE_MANAGER: Role.SERVICE_MANAGER,
}
GROUP = {"id": -100200399, "type": "group", "title": "Team chat"}
SETTINGS = DispatchSettings(pacing=False, batch_size=50, concurrency=2, max_attempts=3)

# The fixtures' private words: obviously fictional, and none of them may leave in a payload.
SUBJECT_NAME = "Ignatius Pretendworth"
SUBJECT_ADDRESS = "12 Imaginary Lane, Fakesbury FK1 0ZZ"
VICTIM_NAME = "Perpetua Madeupson"
VICTIM_ADDRESS = "7 Nonesuch Gardens, Notreal Vale NR9 9ZZ"
VICTIM_CONTACT = "07700 900123"
VICTIM_SAFETY_NOTE = "Code word Gloomhollow agreed with the refuge"
CHILD_NAME = "Tobias Inventedby"
CHILD_ADDRESS = "Flat 2, 5 Nowhere Mews, Testville TV3 3ZZ"
CONTACT_NOTE = "Spoke about the Snickerdoodle row at the bingo hall"
CONTACT_NEXT_STEPS = "Chase the Quibblewick housing referral"
TYPED_NOTE = "Discussed the Wobblegate incident and the flat on Parsnip Street"
ACTION_TAKEN = "Bail conditions checked at Fumbleford station"
PANEL_PLACE = "Room 9, 1 Makebelieve Plaza"
SECRETS = (
    SUBJECT_NAME, SUBJECT_ADDRESS, VICTIM_NAME, VICTIM_ADDRESS, VICTIM_CONTACT,
    VICTIM_SAFETY_NOTE, CHILD_NAME, CHILD_ADDRESS, CONTACT_NOTE, CONTACT_NEXT_STEPS, TYPED_NOTE,
    ACTION_TAKEN, PANEL_PLACE,
    # Fragments, so a name or address cut short or reformatted is caught too.
    "Ignatius", "Pretendworth", "Perpetua", "Madeupson", "Tobias", "Inventedby", "Imaginary Lane",
    "Fakesbury", "Nonesuch", "Notreal", "Nowhere Mews", "FK1 0ZZ", "NR9 9ZZ", "TV3 3ZZ",
    "900123", "Gloomhollow", "Snickerdoodle", "Quibblewick", "Wobblegate", "Parsnip",
    "Fumbleford", "Makebelieve",
)  # fmt: skip

# Every flow this tour drives; each must have produced at least one request.
FLOWS = (
    "unlinked /start", "unlinked text", "unlinked button", "wrong link code", "link",
    "group chat", "/start linked", "/help", "/lang", "/today", "/next", "command menu",
    "/log with a note", "disruption needed", "/log then /cancel", "/case and its buttons",
    "forged case button",
    "forged alert button", "handler error", "alert notification", "escalation",
    "/alerts acknowledge and action", "missed-appointment prompt", "book the next one",
    "it happened", "reminders 24h and 1h", "record it after", "reschedule",
    "did not attend", "digest and panel reminders", "/panel and RSVP", "/broadcast",
    "broadcast deliveries", "morning panel reminder", "old messages deleted",
)  # fmt: skip
METHODS = {
    "getMe", "sendMessage", "editMessageText", "editMessageReplyMarkup", "answerCallbackQuery",
    "setMyCommands", "deleteMessage",
}  # fmt: skip
# ui.notifications' registry: the templated kinds, and the digest it renders with ngettext.
RENDERED_KINDS = set(TEMPLATES) | {NotificationKind.DAILY_DIGEST}
# Kinds sent to the in-app inbox only, never to Telegram (core.services.telegram_links).
INBOX_ONLY_KINDS = {
    NotificationKind.TELEGRAM_LINK_CODE_ISSUED,
    NotificationKind.ACCOUNT_PASSWORD_RESET,  # core.services.accounts
    NotificationKind.ACCOUNT_SECOND_FACTOR_RESET,
    NotificationKind.ACCOUNT_AUTHENTICATOR_CHANGED,  # the inbox and email
    NotificationKind.ACCOUNT_PASSKEY_REMOVED,
}


def utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)


def button_data(params: dict[str, Any]) -> list[str]:
    rows = params.get("reply_markup", {}).get("inline_keyboard", [])
    return [button["callback_data"] for row in rows for button in row if "callback_data" in button]


class Tour:
    """Drives the bot as several linked staff, and counts the requests each flow produced."""

    def __init__(self, harness: Harness, world: World, dispatcher: Dispatcher) -> None:
        self.harness = harness
        self.fake = harness.fake
        self.world = world
        self.dispatcher = dispatcher
        self.produced: dict[str, int] = {}

    @asynccontextmanager
    async def flow(self, name: str, *errors: type[Exception]) -> AsyncIterator[None]:
        """Count the requests of one flow; ``errors`` are those it provokes on purpose."""
        before = len(self.fake.calls)
        with self.harness.expect_error(*errors) if errors else nullcontext():
            yield
        self.produced[name] = self.produced.get(name, 0) + len(self.fake.calls) - before

    async def say(self, user_id: int, text: str) -> list[str]:
        return await self.harness.say(user_id, text)

    async def tap(self, user_id: int, data: str) -> None:
        """Tap the newest button in ``user_id``'s chat whose callback data starts with ``data``."""
        shown = ("sendMessage", "editMessageText")
        for call in reversed(self.fake.calls):
            if call.method not in shown or call.chat_id != user_id:
                continue
            for candidate in button_data(call.params):
                if candidate.startswith(data):
                    await self.harness.deliver(self.harness.press(user_id, candidate, call.params))
                    return
        raise AssertionError(f"no button {data!r} in the chat of {user_id}")

    async def forged_tap(self, user_id: int, data: str) -> None:
        shown = {"text": "A message", "reply_markup": {"inline_keyboard": [[
            {"text": "Tap", "callback_data": data}]]}}  # fmt: skip
        await self.harness.deliver(self.harness.press(user_id, data, shown))

    async def dispatch(self) -> int:
        """Send everything due now through the real dispatcher."""
        sent = 0
        for _ in range(20):
            claimed = await self.dispatcher.run_once()
            if not claimed:
                return sent
            sent += claimed
        raise AssertionError("the dispatcher kept finding work")


@pytest.fixture
async def harness(container: Any) -> AsyncIterator[Harness]:
    # /boom: a handler with a bug, for the apology the error handler sends.
    menu = (*MENU, MenuEntry("boom", "Break on purpose", explode))
    async for harness in make_harness(container, menu):
        yield harness


async def demo_case(world: World) -> CaseRead:
    """A HER case full of private detail: subject, victim, child, notes."""
    case = await world.allocated_case()
    case = await case_services.update_case(
        uow=world.container.uow(),
        actor=world.actor(Role.CASE_MANAGER),
        case_id=case.id,
        data=CaseUpdate(
            version=case.version, subject_name=SUBJECT_NAME, subject_address=SUBJECT_ADDRESS
        ),
    )
    for person in (
        LinkedPersonCreate(case_id=case.id, kind=PersonKind.VICTIM, name=VICTIM_NAME,
                           address=VICTIM_ADDRESS, contact=VICTIM_CONTACT,
                           safety_notes=VICTIM_SAFETY_NOTE, relationship_to_subject="Ex-partner"),
        LinkedPersonCreate(case_id=case.id, kind=PersonKind.CHILD, name=CHILD_NAME,
                           address=CHILD_ADDRESS),
    ):  # fmt: skip
        await people.add_linked_person(
            uow=world.container.uow(), actor=world.actor(Role.IDVA), data=person
        )
    await contacts.log_contact(
        uow=world.container.uow(),
        actor=world.actor(Role.CASE_MANAGER),
        data=ContactCreate(
            case_id=case.id,
            contact_type=ContactType.FACE_TO_FACE,
            duration_minutes=60,
            categories=frozenset({WorkCategory.SUPPORT}),
            notes=CONTACT_NOTE,
            next_steps=CONTACT_NEXT_STEPS,
        ),
    )
    return case


async def book(world: World, case: CaseRead, starts_at: datetime) -> AppointmentRead:
    return await appointment_services.book_appointment(
        uow=world.container.uow(),
        actor=world.actor(Role.CASE_MANAGER),
        data=AppointmentCreate(
            case_id=case.id,
            starts_at=starts_at,
            ends_at=starts_at + timedelta(minutes=30),
            place_kind=PlaceKind.HOME_VISIT,
        ),
    )


async def sent_notifications(world: World) -> list[OutboxMessage]:
    async with world.container.session_factory() as session:
        rows = await session.scalars(
            select(OutboxMessage)
            .where(OutboxMessage.state == OutboxState.SENT)
            .order_by(OutboxMessage.id)
        )
        return list(rows)


def leaks(payloads: list[tuple[str, dict[str, Any]]]) -> list[tuple[str, str]]:
    """(method, secret) for every payload that carries one of the fixtures' private words."""
    found = []
    for method, params in payloads:
        text = html.unescape(json.dumps(params, ensure_ascii=False, default=str))
        lowered = text.casefold()
        found += [(method, secret) for secret in SECRETS if secret.casefold() in lowered]
    return found


def test_the_leak_check_finds_a_private_word_in_any_case_and_any_field() -> None:
    payloads = [
        ("sendMessage", {"chat_id": 1, "text": "Case HER-0001"}),
        ("answerCallbackQuery", {"callback_query_id": "1", "text": "visit PRETENDWORTH"}),
        ("editMessageText", {"reply_markup": {"inline_keyboard": [[
            {"text": "12 imaginary lane", "callback_data": "x"}]]}}),
        ("sendMessage", {"text": "Snickerdoodle &amp; friends"}),
    ]  # fmt: skip
    assert leaks(payloads) == [
        ("answerCallbackQuery", "Pretendworth"),
        ("editMessageText", "Imaginary Lane"),
        ("sendMessage", "Snickerdoodle"),
    ]


@pytest.mark.parametrize("locale", [Locale.EN_GB, Locale.CY])
async def test_no_message_the_bot_can_produce_names_a_person_an_address_or_a_note(
    harness: Harness, world: World, clock: FixedClock, locale: Locale
) -> None:
    t = Translator(locale.value)
    other = Locale.CY if locale is Locale.EN_GB else Locale.EN_GB
    case = await demo_case(world)
    elsewhere = await world.allocated_case("WOR")
    missed = await book(world, case, utc(2026, 3, 2, 10, 0))  # today, 10:00
    did_not_attend = await book(world, case, utc(2026, 3, 2, 15, 0))  # today, 15:00
    moved = await book(world, case, utc(2026, 3, 3, 14, 0))  # tomorrow, 14:00
    await panel_services.schedule_panel_meeting(
        uow=world.container.uow(),
        actor=world.actor(Role.PANEL_COORDINATOR),
        data=PanelMeetingCreate(
            site_id=world.sites["HER"].id, starts_at=utc(2026, 3, 4, 16, 0), place=PANEL_PLACE
        ),
    )
    for role in LINKED.values():
        await users.set_my_locale(uow=world.container.uow(), actor=world.actor(role), locale=locale)

    async with make_bot(harness.fake.token, harness.fake.base_url) as sender:
        channels = {
            Channel.TELEGRAM: TelegramChannel(sender, render),
            Channel.INBOX: InboxChannel(world.container.session_factory, clock),
        }
        dispatcher = Dispatcher(world.container, clock, channels, SETTINGS, "e2e-privacy")
        tour = Tour(harness, world, dispatcher)
        await drive_every_flow(tour, world, clock, t, other, case, elsewhere)
        await answer_the_reminders(tour, clock, missed, did_not_attend, moved)
        await panels_broadcasts_and_deletion(tour, world, clock)

    # Every flow produced requests, of every kind of method the bot uses.
    assert {name for name, count in tour.produced.items() if count} == set(FLOWS)
    assert {call.method for call in harness.fake.calls} == METHODS
    # Every kind ui.notifications renders went out through the dispatcher, as rendered.
    assert RENDERED_KINDS == set(NotificationKind)
    sent = await sent_notifications(world)
    assert {row.kind for row in sent} >= RENDERED_KINDS - INBOX_ONLY_KINDS
    reminders = [row for row in sent if row.kind is NotificationKind.APPOINTMENT_REMINDER]
    assert {row.params["lead_minutes"] for row in reminders} == {1440, 60}
    panel = [row for row in sent if row.kind is NotificationKind.PANEL_REMINDER]
    assert {row.params["when"] for row in panel} == {"2d", "morning"}
    texts = [call.params["text"] for call in harness.fake.sent_messages()]
    for row in sent:  # as rendered, with a line about the buttons under some (bot.keyboards)
        rendered = render(row.message_key, row.params, locale.value)
        assert any(text.split("\n\n")[0] == rendered for text in texts), row.kind
        if locale is Locale.CY:
            assert render(row.message_key, row.params, locale.value) != render(
                row.message_key, row.params, Locale.EN_GB.value
            ), row.kind
    # And not one request carried a private word.
    payloads = harness.fake.every_payload()
    assert len(payloads) == len(harness.fake.calls) + len(harness.fake.failed_calls) + len(
        harness.fake.invalid_requests
    )
    assert leaks(payloads) == []


async def drive_every_flow(
    tour: Tour,
    world: World,
    clock: FixedClock,
    t: Translator,
    other: Locale,
    case: CaseRead,
    elsewhere: CaseRead,
) -> None:
    harness = tour.harness
    async with tour.flow("unlinked /start"):
        assert await tour.say(STRANGER, "/start") == [UNLINKED_REPLY]
    async with tour.flow("unlinked text"):
        assert await tour.say(STRANGER, f"I am {SUBJECT_NAME}") == [UNLINKED_REPLY]
    async with tour.flow("unlinked button"):
        await tour.forged_tap(STRANGER, "lang:cy")
    async with tour.flow("wrong link code", LinkCodeInvalid):
        [refused] = await tour.say(STRANGER, "/start NOTAREALCODE")
        assert refused != UNLINKED_REPLY
    async with tour.flow("link"):
        for user_id, role in LINKED.items():
            await harness.link(world.actor(role), user_id, world.container)
    async with tour.flow("group chat"):
        await harness.deliver(harness.message(MANAGER, "/today", chat=GROUP))
    async with tour.flow("/start linked"):
        await tour.say(MANAGER, "/start")
    async with tour.flow("/help"):
        for user_id in LINKED:
            [shown] = await tour.say(user_id, "/help")
            assert "/today" in shown
    async with tour.flow("/lang"):
        for chosen in (other, Locale(t.locale)):
            await tour.say(MANAGER, "/lang")
            await tour.tap(MANAGER, f"lang:{chosen.value}")
    async with tour.flow("/today"):
        [today] = await tour.say(MANAGER, "/today")
        assert case.reference in today
    async with tour.flow("/next"):
        [upcoming] = await tour.say(MANAGER, "/next")
        assert case.reference in upcoming
    async with tour.flow("command menu"):
        await harness.application.post_init(harness.application)  # type: ignore[misc]

    async with tour.flow("/log with a note"):
        await tour.say(MANAGER, "/log")
        await tour.tap(MANAGER, f"log:case:{case.id}")
        await tour.tap(MANAGER, "log:type:phone")
        await tour.tap(MANAGER, "log:cat:disruption")
        await tour.tap(MANAGER, "log:cat:done")
        await tour.tap(MANAGER, "log:dur:30")
        [summary] = await tour.say(MANAGER, TYPED_NOTE)
        assert case.reference in summary
        await tour.tap(MANAGER, "log:confirm:save")
    async with tour.flow("disruption needed"):
        await tour.tap(MANAGER, f"log:alert:{case.id}")
    async with tour.flow("/log then /cancel"):
        await tour.say(MANAGER, "/log")
        await tour.tap(MANAGER, f"log:case:{case.id}")
        await tour.say(MANAGER, "/cancel")
    async with tour.flow("/case and its buttons"):
        [card] = await tour.say(MANAGER, f"/case {case.reference}")
        assert case.reference in card
        await tour.tap(MANAGER, f"log:start:{case.id}")
        await tour.say(MANAGER, "/cancel")
        await tour.tap(MANAGER, f"appt:book:{case.id}")
        await tour.tap(MANAGER, "appt:day:")
        await tour.tap(MANAGER, "appt:time:")
        await tour.tap(MANAGER, "appt:place:")
        await tour.say(MANAGER, "/cancel")
    async with tour.flow("forged case button", NotPermitted):
        await tour.say(MANAGER, "/log")  # at the case step, a case from another site
        await tour.forged_tap(MANAGER, f"log:case:{elsewhere.id}")
        await tour.say(MANAGER, "/cancel")
    async with world.container.session_factory() as session:
        alert_id = await session.scalar(
            select(DisruptionAlert.id).where(DisruptionAlert.case_id == case.id)
        )
    async with tour.flow("forged alert button", NotPermitted):  # a case manager may not answer
        await tour.forged_tap(MANAGER, f"alert:ack:{alert_id}")
    async with tour.flow("handler error", RuntimeError):
        assert await tour.say(MANAGER, "/boom") == [t.gettext(OOPS)]

    async with tour.flow("alert notification"):
        assert await tour.dispatch() == 1  # to the police fellow
    clock.set(utc(2026, 3, 2, 13, 5))
    async with tour.flow("escalation"):
        assert await escalate_unacknowledged_alerts(uow=world.container.uow()) == 1
        assert await tour.dispatch() == 1  # to the service manager
    async with tour.flow("/alerts acknowledge and action"):
        [listed] = await tour.say(FELLOW, "/alerts")
        assert case.reference in listed
        await tour.tap(FELLOW, "alert:ack:")
        await tour.tap(FELLOW, "alert:act:")
        [recorded] = await tour.say(FELLOW, ACTION_TAKEN)
        assert case.reference in recorded


async def answer_the_reminders(
    tour: Tour,
    clock: FixedClock,
    missed: AppointmentRead,
    did_not_attend: AppointmentRead,
    moved: AppointmentRead,
) -> None:
    uow = tour.world.container.uow
    async with tour.flow("missed-appointment prompt"):
        await schedule_appointment_reminders(uow=uow())
        assert await schedule_missed_appointment_prompts(uow=uow()) == 1
        assert await tour.dispatch() == 1
    async with tour.flow("book the next one"):
        await tour.tap(MANAGER, f"appt:next:{missed.id}")
        await tour.tap(MANAGER, "appt:day:")
        await tour.tap(MANAGER, "appt:time:")
        await tour.tap(MANAGER, "appt:place:")
        await tour.tap(MANAGER, "appt:confirm:yes")
    async with tour.flow("it happened"):
        await tour.tap(MANAGER, f"appt:att:{missed.id}")

    clock.set(utc(2026, 3, 2, 14, 0))
    async with tour.flow("reminders 24h and 1h"):
        assert await tour.dispatch() == 2  # tomorrow's 24-hour one, and today's 1-hour one
    async with tour.flow("record it after"):
        await tour.tap(MANAGER, f"appt:later:{did_not_attend.id}")
    async with tour.flow("reschedule"):
        await tour.tap(MANAGER, f"appt:move:{moved.id}")
        await tour.tap(MANAGER, "appt:day:")
        await tour.tap(MANAGER, "appt:time:")
        await tour.tap(MANAGER, "appt:place:")
        await tour.tap(MANAGER, "appt:confirm:yes")
    clock.set(utc(2026, 3, 2, 16, 0))  # its end: the prompt asked for by "record it after"
    async with tour.flow("did not attend"):
        assert await tour.dispatch() == 1
        await tour.tap(MANAGER, f"appt:dna:{did_not_attend.id}")


async def panels_broadcasts_and_deletion(tour: Tour, world: World, clock: FixedClock) -> None:
    uow = world.container.uow
    async with tour.flow("digest and panel reminders"):
        assert await schedule_daily_digests(uow=uow()) > 0
        assert await schedule_panel_reminders(uow=uow()) > 0
        clock.set(utc(2026, 3, 2, 16, 0))  # the two-day panel reminder is due
        assert await tour.dispatch() > 0
    async with tour.flow("/panel and RSVP"):
        await tour.say(MEMBER, "/panel")
        await tour.tap(MEMBER, "panel:rsvp:")
    async with tour.flow("/broadcast"):
        await tour.say(COORDINATOR, "/broadcast")
        await tour.tap(COORDINATOR, "bcast:meeting:")
        await tour.tap(COORDINATOR, "bcast:send:")
        await tour.tap(COORDINATOR, "bcast:send:")  # a double tap: "already sent"
    async with tour.flow("broadcast deliveries"):
        assert await tour.dispatch() > 0
    clock.set(utc(2026, 3, 4, 8, 0))
    async with tour.flow("morning panel reminder"):
        assert await tour.dispatch() > 0
    async with tour.flow("old messages deleted"):
        await bot_messages.set_bot_message_retention(
            uow=uow(), actor=Actor.system(), site_code="HER", hours=2
        )
        assert await delete_all_due_messages(tour.harness.application.bot, uow) > 0
