"""``/alerts``, ``/panel`` with RSVP and ``/broadcast``, through PTB's real HTTP stack.

The production ``Application`` runs against the fake Bot API on both databases (the harness of
``test_bot_basics`` checks that no request broke the Bot API spec). Each test asserts what the
user sees and what the database holds.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select

from bot.channel import TelegramChannel
from core.clock import FixedClock
from core.enums import (
    AlertStatus,
    AttendanceStatus,
    Channel,
    Locale,
    NotificationKind,
    OutboxState,
    Role,
)
from core.errors import NotPermitted
from core.models import AuditEvent, DisruptionAlert, OutboxMessage, PanelAttendance
from core.notifications.channels import InboxChannel
from core.notifications.dispatcher import Dispatcher, DispatchSettings
from core.notifications.schedulers import escalate_unacknowledged_alerts
from core.schemas.alerts import AlertRead
from core.schemas.panels import PanelMeetingCreate, PanelMeetingRead
from core.services import alerts as alert_services
from core.services import bot_state, users
from core.services import broadcasts as broadcast_services
from core.services import panels as panel_services
from tests.e2e.outbox_support import make_bot
from tests.e2e.test_bot_basics import Harness, assert_private, make_harness, named_case
from tests.factories import World
from ui.i18n import Translator
from ui.notifications import render

FELLOW, MANAGER, COORDINATOR, MEMBER, SECOND_FELLOW = 700101, 700102, 700103, 700104, 700105
SETTINGS = DispatchSettings(pacing=False, batch_size=50, concurrency=2, max_attempts=3)
REFUSAL = "You do not have permission to do that."
PANEL_ROLES = (
    Role.PANEL_MEMBER,
    Role.PANEL_COORDINATOR,
    Role.POLICE_FELLOW,
    Role.IDVA,
    Role.SERVICE_MANAGER,
)


@pytest.fixture
async def bot(container: Any) -> AsyncIterator[Harness]:
    async for harness in make_harness(container):
        yield harness


async def raised_alert(world: World) -> AlertRead:
    case = await named_case(world)
    return await alert_services.raise_disruption_alert(
        uow=world.container.uow(), actor=world.actor(Role.CASE_MANAGER), case_id=case.id
    )


async def refusals_on_record(world: World) -> list[tuple[int | None, str, int | None, str]]:
    """(who, what was pressed or typed, which record, which action) for each refusal audited."""
    async with world.container.session_factory() as session:
        rows = await session.scalars(
            select(AuditEvent).where(AuditEvent.action == "access.refused").order_by(AuditEvent.id)
        )
        return [
            (row.actor_user_id, row.entity_type, row.entity_id, row.details["action"])
            for row in rows
        ]


async def alert_row(world: World, alert_id: int) -> DisruptionAlert:
    async with world.container.session_factory() as session:
        row = await session.get(DisruptionAlert, alert_id)
        assert row is not None
        return row


async def panel_meeting(world: World, days: int = 7) -> PanelMeetingRead:
    return await panel_services.schedule_panel_meeting(
        uow=world.container.uow(),
        actor=world.actor(Role.PANEL_COORDINATOR),
        data=PanelMeetingCreate(
            site_id=world.sites["HER"].id,
            starts_at=world.container.clock.now() + timedelta(days=days),
            place="Committee room",
        ),
    )


async def broadcast_rows(world: World) -> list[OutboxMessage]:
    async with world.container.session_factory() as session:
        rows = await session.scalars(
            select(OutboxMessage).where(OutboxMessage.kind == NotificationKind.PANEL_BROADCAST)
        )
        return list(rows)


def buttons(call: Any) -> dict[str, str]:
    """Button text -> callback data, for a sendMessage or editMessageText call."""
    rows = call.params.get("reply_markup", {}).get("inline_keyboard", [])
    return {button["text"]: button["callback_data"] for row in rows for button in row}


def last(bot: Harness, method: str, chat_id: int) -> Any:
    return [c for c in bot.fake.calls if c.method == method and c.params["chat_id"] == chat_id][-1]


def every_text(bot: Harness) -> list[str]:
    return [str(c.params["text"]) for c in bot.fake.calls if "text" in c.params]


async def deliver_the_outbox(bot: Harness, world: World) -> int:
    """Send what is due through the real dispatcher and Telegram channel, as the worker does."""
    container = world.container
    async with make_bot(bot.fake.token, bot.fake.base_url) as sender:
        channels = {
            Channel.TELEGRAM: TelegramChannel(sender, render),
            Channel.INBOX: InboxChannel(container.session_factory, container.clock),
        }
        dispatcher = Dispatcher(container, container.clock, channels, SETTINGS, "e2e-alerts")
        return await dispatcher.run_once()


def taken_off(bot: Harness, chat_id: int) -> list[int]:
    """The messages in the chat whose buttons the bot removed."""
    return [
        int(c.params["message_id"])
        for c in bot.fake.calls
        if c.method == "editMessageReplyMarkup" and c.params["chat_id"] == chat_id
    ]


# --- /alerts ----------------------------------------------------------------------------------


async def test_a_fellow_acknowledges_an_alert_and_records_the_action_taken(
    bot: Harness, world: World, clock: FixedClock
) -> None:
    alert = await raised_alert(world)
    await bot.link(world.actor(Role.POLICE_FELLOW), FELLOW, world.container)

    [shown] = await bot.say(FELLOW, "/alerts")
    assert alert.case_reference in shown and "Open" in shown
    card = bot.fake.sent_messages(FELLOW)[-1]
    await bot.deliver(bot.press(FELLOW, buttons(card)["Acknowledge"], card.params))

    assert (await alert_row(world, alert.id)).status is AlertStatus.ACKNOWLEDGED
    edited = last(bot, "editMessageText", FELLOW)
    assert "Acknowledged" in edited.params["text"] and alert.case_reference in edited.params["text"]
    assert list(buttons(edited)) == ["Action taken"]
    clock.advance(timedelta(hours=5))
    assert await escalate_unacknowledged_alerts(uow=world.container.uow()) == 0

    await bot.deliver(bot.press(FELLOW, buttons(edited)["Action taken"], edited.params))
    [prompt] = [c.params["text"] for c in bot.fake.sent_messages(FELLOW)[-1:]]
    assert "What action was taken" in prompt
    [done] = await bot.say(FELLOW, "Bail conditions checked at the station")

    row = await alert_row(world, alert.id)
    assert row.status is AlertStatus.ACTIONED
    assert row.action_taken == "Bail conditions checked at the station"
    assert "Action recorded" in done and alert.case_reference in done
    conversation = await bot_state.load_conversation(
        uow=world.container.uow(), telegram_user_id=FELLOW
    )
    assert conversation is None
    assert_private(every_text(bot), world)


async def test_the_alert_a_fellow_is_sent_is_acknowledged_and_actioned_with_its_own_buttons(
    bot: Harness, world: World
) -> None:
    await bot.link(world.actor(Role.POLICE_FELLOW), FELLOW, world.container)
    alert = await raised_alert(world)
    assert await deliver_the_outbox(bot, world) == 1

    sent = bot.fake.sent_messages(FELLOW)[-1]
    assert sent.params["text"] == (
        f"Disruption alert for {alert.case_reference}. Please acknowledge it.\n\n"
        "Tap a button below, or send /alerts to see every open alert."
    )
    assert buttons(sent) == {
        "Acknowledge": f"alert:ack:{alert.id}",
        "Action taken": f"alert:act:{alert.id}",
    }
    await bot.deliver(bot.press(FELLOW, buttons(sent)["Acknowledge"], sent.params))
    assert (await alert_row(world, alert.id)).status is AlertStatus.ACKNOWLEDGED
    edited = last(bot, "editMessageText", FELLOW)
    assert "Status: Acknowledged" in edited.params["text"]
    assert list(buttons(edited)) == ["Action taken"]

    pressed = await bot.deliver(bot.press(FELLOW, buttons(edited)["Action taken"], edited.params))
    [done] = await bot.say(FELLOW, "Visited the address with the local team")

    row = await alert_row(world, alert.id)
    assert (row.status, row.action_taken) == (
        AlertStatus.ACTIONED,
        "Visited the address with the local team",
    )
    assert done == f"Action recorded for {alert.case_reference}."
    final = last(bot, "editMessageText", FELLOW).params
    assert final["message_id"] == pressed["callback_query"]["message"]["message_id"]
    assert "Status: Action taken" in final["text"] and "reply_markup" not in final
    assert_private(every_text(bot), world)


async def test_an_alert_another_fellow_answered_shows_where_it_stands_and_changes_nothing(
    bot: Harness, world: World
) -> None:
    second = await world.add_actor("second.pf@test.invalid", [("HER", Role.POLICE_FELLOW)])
    await bot.link(world.actor(Role.POLICE_FELLOW), FELLOW, world.container)
    await bot.link(second, SECOND_FELLOW, world.container)
    alert = await raised_alert(world)
    assert await deliver_the_outbox(bot, world) == 2
    mine = bot.fake.sent_messages(FELLOW)[-1]
    theirs = bot.fake.sent_messages(SECOND_FELLOW)[-1]

    await bot.deliver(bot.press(FELLOW, buttons(mine)["Acknowledge"], mine.params))
    await bot.deliver(bot.press(SECOND_FELLOW, buttons(theirs)["Acknowledge"], theirs.params))
    answers = [c.params.get("text") for c in bot.fake.calls if c.method == "answerCallbackQuery"]
    assert answers[-1] == "This alert has already been acknowledged."
    shown = last(bot, "editMessageText", SECOND_FELLOW)
    assert "Status: Acknowledged" in shown.params["text"]
    assert list(buttons(shown)) == ["Action taken"]

    await alert_services.record_alert_action(
        uow=world.container.uow(),
        actor=world.actor(Role.POLICE_FELLOW),
        alert_id=alert.id,
        action_taken="Warrant served",
    )
    pressed = await bot.deliver(
        bot.press(SECOND_FELLOW, buttons(shown)["Action taken"], shown.params)
    )
    answers = [c.params.get("text") for c in bot.fake.calls if c.method == "answerCallbackQuery"]
    assert answers[-1] == "That alert is no longer open. Send /alerts again."
    assert taken_off(bot, SECOND_FELLOW) == [pressed["callback_query"]["message"]["message_id"]]
    assert (
        await bot_state.load_conversation(uow=world.container.uow(), telegram_user_id=SECOND_FELLOW)
        is None
    )
    assert (await alert_row(world, alert.id)).action_taken == "Warrant served"


async def test_cancel_ends_the_action_taken_step_and_later_text_is_not_recorded(
    bot: Harness, world: World
) -> None:
    alert = await raised_alert(world)
    await bot.link(world.actor(Role.POLICE_FELLOW), FELLOW, world.container)
    await bot.say(FELLOW, "/alerts")
    card = bot.fake.sent_messages(FELLOW)[-1]
    await bot.deliver(bot.press(FELLOW, buttons(card)["Action taken"], card.params))

    await bot.say(FELLOW, "/cancel")
    [answer] = await bot.say(FELLOW, "Warrant served")

    row = await alert_row(world, alert.id)
    assert row.status is AlertStatus.OPEN and row.action_taken is None
    assert "did not understand" in answer


async def test_a_case_manager_cannot_see_or_acknowledge_alerts(bot: Harness, world: World) -> None:
    alert = await raised_alert(world)
    await bot.link(world.actor(Role.CASE_MANAGER), MANAGER, world.container)

    forged = {"text": "Disruption alert", "reply_markup": {"inline_keyboard": [[
        {"text": "Acknowledge", "callback_data": f"alert:ack:{alert.id}"}]]}}  # fmt: skip
    with bot.expect_error(NotPermitted) as refusals:
        [refused] = await bot.say(MANAGER, "/alerts")
        await bot.deliver(bot.press(MANAGER, f"alert:ack:{alert.id}", forged))
    assert len(refusals) == 2

    assert refused.startswith(REFUSAL)
    assert bot.fake.sent_messages(MANAGER)[-1].params["text"].startswith(REFUSAL)
    assert (await alert_row(world, alert.id)).status is AlertStatus.OPEN
    assert bot.fake.count("editMessageText") == 0
    assert await refusals_on_record(world) == [  # put on record by core, naming the alert
        (world.actor(Role.CASE_MANAGER).user_id, "action", None, "alert.respond"),
        (world.actor(Role.CASE_MANAGER).user_id, "alert", alert.id, "alert.respond"),
    ]


async def test_help_lists_alerts_and_broadcast_only_to_those_who_may_use_them(
    bot: Harness, world: World
) -> None:
    await bot.link(world.actor(Role.CASE_MANAGER), MANAGER, world.container)
    await bot.link(world.actor(Role.POLICE_FELLOW), FELLOW, world.container)
    await bot.link(world.actor(Role.PANEL_COORDINATOR), COORDINATOR, world.container)

    [manager_help] = await bot.say(MANAGER, "/help")
    [fellow_help] = await bot.say(FELLOW, "/help")
    [coordinator_help] = await bot.say(COORDINATOR, "/help")

    assert "/alerts" not in manager_help and "/broadcast" not in manager_help
    assert "/panel" in manager_help and "/today" in manager_help
    assert "/alerts" in fellow_help and "/broadcast" not in fellow_help
    assert "/broadcast" in coordinator_help and "/alerts" not in coordinator_help


# --- /panel -----------------------------------------------------------------------------------


async def test_panel_shows_the_next_meeting_and_stores_the_rsvp(bot: Harness, world: World) -> None:
    meeting = await panel_meeting(world)
    member = world.actor(Role.PANEL_MEMBER)
    await bot.link(member, MEMBER, world.container)

    [shown] = await bot.say(MEMBER, "/panel")
    assert "HER" in shown and "not replied" in shown and "Committee room" not in shown
    card = bot.fake.sent_messages(MEMBER)[-1]
    assert set(buttons(card)) == {"Attending", "Apologies"}
    await bot.deliver(bot.press(MEMBER, buttons(card)["Attending"], card.params))

    async with world.container.session_factory() as session:
        rsvp = await session.scalar(
            select(PanelAttendance.status).where(
                PanelAttendance.meeting_id == meeting.id,
                PanelAttendance.user_id == member.user_id,
            )
        )
    assert rsvp is AttendanceStatus.ATTENDING
    assert "Your reply: Attending" in last(bot, "editMessageText", MEMBER).params["text"]
    [again] = await bot.say(MEMBER, "/panel")
    assert "Your reply: Attending" in again


@pytest.mark.parametrize(
    ("locale", "says", "attending", "apologies", "replied"),
    [
        (Locale.EN_GB, "The Testshire North panel meets on {date} at {clock}.\n\n"
         "Will you be there?", "Attending", "Apologies", "Your reply: Apologies"),
        (Locale.CY, "Mae panel Testshire North yn cyfarfod {date} am {clock}.\n\n"
         "Fyddwch chi yno?", "Yn dod", "Ymddiheuriadau", "Ymddiheuriadau"),
    ],
)  # fmt: skip
async def test_a_panel_broadcast_names_the_panel_and_the_day_and_takes_the_reply(
    bot: Harness,
    world: World,
    locale: Locale,
    says: str,
    attending: str,
    apologies: str,
    replied: str,
) -> None:
    meeting = await panel_meeting(world)
    member = world.actor(Role.PANEL_MEMBER)
    await users.set_my_locale(uow=world.container.uow(), actor=member, locale=locale)
    await bot.link(member, MEMBER, world.container)
    coordinator = world.actor(Role.PANEL_COORDINATOR)
    preview = await broadcast_services.preview_panel_broadcast(
        uow=world.container.uow(), actor=coordinator, meeting_id=meeting.id
    )
    await broadcast_services.broadcast_panel_meeting(
        uow=world.container.uow(),
        actor=coordinator,
        meeting_id=meeting.id,
        broadcast_key=preview.broadcast_key,
    )
    assert await deliver_the_outbox(bot, world) == 5

    sent = bot.fake.sent_messages(MEMBER)[-1]
    t = Translator(locale.value)
    assert sent.params["text"] == says.format(
        date=t.format_datetime(meeting.starts_at, "EEEE d MMMM"),
        clock=t.format_datetime(meeting.starts_at, "HH:mm"),
    )
    assert buttons(sent) == {
        attending: f"panel:rsvp:{meeting.id}:attending",
        apologies: f"panel:rsvp:{meeting.id}:apologies",
    }
    await bot.deliver(bot.press(MEMBER, buttons(sent)[apologies], sent.params))

    async with world.container.session_factory() as session:
        rsvp = await session.scalar(
            select(PanelAttendance.status).where(
                PanelAttendance.meeting_id == meeting.id,
                PanelAttendance.user_id == member.user_id,
            )
        )
    assert rsvp is AttendanceStatus.APOLOGIES
    assert replied in last(bot, "editMessageText", MEMBER).params["text"]
    assert_private(every_text(bot), world)


# --- /broadcast -------------------------------------------------------------------------------


async def test_a_coordinator_previews_and_sends_a_broadcast_once(
    bot: Harness, world: World
) -> None:
    meeting = await panel_meeting(world)
    await bot.link(world.actor(Role.PANEL_COORDINATOR), COORDINATOR, world.container)

    await bot.say(COORDINATOR, "/broadcast")
    choice = bot.fake.sent_messages(COORDINATOR)[-1]
    [(label, data)] = buttons(choice).items()
    assert label.startswith("HER · ") and data == f"bcast:meeting:{meeting.id}"
    await bot.deliver(bot.press(COORDINATOR, data, choice.params))

    preview = last(bot, "editMessageText", COORDINATOR)
    assert "The Testshire North panel meets on" in preview.params["text"]
    assert "It will go to 5 people on the panel." in preview.params["text"]
    assert await broadcast_rows(world) == []
    send = buttons(preview)["Send"]
    await bot.deliver(bot.press(COORDINATOR, send, preview.params))

    rows = await broadcast_rows(world)
    assert sorted(r.recipient_user_id for r in rows) == sorted(
        world.actor(role).user_id for role in PANEL_ROLES
    )
    assert {r.state for r in rows} == {OutboxState.QUEUED}
    assert (
        "Broadcast queued for 5 people." in last(bot, "editMessageText", COORDINATOR).params["text"]
    )

    await bot.deliver(bot.press(COORDINATOR, send, preview.params))  # a double tap
    assert len(await broadcast_rows(world)) == 5
    assert "already sent" in bot.fake.sent_messages(COORDINATOR)[-1].params["text"]
    assert_private(every_text(bot), world)


async def test_cancel_on_the_preview_sends_nothing(bot: Harness, world: World) -> None:
    meeting = await panel_meeting(world)
    await bot.link(world.actor(Role.PANEL_COORDINATOR), COORDINATOR, world.container)
    await bot.say(COORDINATOR, "/broadcast")
    choice = bot.fake.sent_messages(COORDINATOR)[-1]
    await bot.deliver(bot.press(COORDINATOR, f"bcast:meeting:{meeting.id}", choice.params))
    preview = last(bot, "editMessageText", COORDINATOR)

    await bot.deliver(bot.press(COORDINATOR, buttons(preview)["Cancel"], preview.params))
    await bot.deliver(bot.press(COORDINATOR, buttons(preview)["Send"], preview.params))

    assert await broadcast_rows(world) == []
    assert "Nothing was sent" in last(bot, "editMessageText", COORDINATOR).params["text"]


async def test_a_case_managers_broadcast_is_refused(bot: Harness, world: World) -> None:
    meeting = await panel_meeting(world)
    await bot.link(world.actor(Role.CASE_MANAGER), MANAGER, world.container)

    forged = {"text": "Which panel meeting?", "reply_markup": {"inline_keyboard": [[
        {"text": "HER", "callback_data": f"bcast:meeting:{meeting.id}"}]]}}  # fmt: skip
    with bot.expect_error(NotPermitted) as refusals:
        [refused] = await bot.say(MANAGER, "/broadcast")
        await bot.deliver(bot.press(MANAGER, f"bcast:meeting:{meeting.id}", forged))
    assert len(refusals) == 2

    assert refused.startswith(REFUSAL)
    assert bot.fake.sent_messages(MANAGER)[-1].params["text"].startswith(REFUSAL)
    assert await broadcast_rows(world) == []
    manager = world.actor(Role.CASE_MANAGER).user_id
    refused_records = [record[:3] for record in await refusals_on_record(world)]
    assert refused_records == [  # put on record by core, naming what it refused
        (manager, "action", None),
        (manager, "panel_meeting", meeting.id),
    ]
