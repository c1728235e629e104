"""Email and text messages as channels of the outbox, on both databases, through the real
dispatcher (wired as ``drive-assist run`` wires it) to the fake GOV.UK Notify API."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from datetime import timedelta

import pytest
from sqlalchemy import select, update

from core import sealing
from core.bootstrap import Container
from core.clock import FixedClock
from core.enums import Channel, KindGroup, Lane, Locale, NotificationKind, OutboxState, Role
from core.errors import MobileNeededForSms, NoChannelChosen, NotAUkMobile
from core.models import InboxItem, OutboxMessage, TelegramLink, User
from core.notifications.channels import OutboundMessage, SendResult
from core.notifications.dispatcher import Dispatcher, DispatchSettings
from core.notifications.outbox import enqueue
from core.notifications.pacer import Pacer
from core.notifications.schedulers import escalate_unacknowledged_alerts
from core.schemas.actor import Actor
from core.schemas.notification_channels import NotificationChannelsUpdate
from core.services import alerts as alert_services
from core.services import notification_channels as channel_services
from core.services import notifications_admin
from processes.serve import outbox_dispatcher
from tests.factories import World
from tests.fakes.notify_api import FakeNotifyApi

VICTIM_NAME = "Victimsentinel Fictional"
VICTIM_ADDRESS = "1 Sentinel Lane, Nowhereton"
MOBILE = "07700 900123"  # Ofcom's range for drama: never a real phone


@pytest.fixture
async def notify_api() -> AsyncIterator[FakeNotifyApi]:
    async with FakeNotifyApi() as fake:
        yield fake


@pytest.fixture
def notify_world(world: World, container: Container, notify_api: FakeNotifyApi) -> World:
    """The test world, with GOV.UK Notify set up (email and text messages) at the fake."""
    container.settings = container.settings.model_copy(
        update={
            "notify_api_key": notify_api.api_key,
            "notify_base_url": notify_api.url,
            "notify_email_template_id": notify_api.email_template_id,
            "notify_sms_template_id": notify_api.sms_template_id,
        }
    )
    return world


async def dispatch(container: Container, rounds: int = 1) -> Dispatcher:
    """Run the process's own dispatcher (``processes.serve``) for ``rounds`` batches."""
    async with AsyncExitStack() as stack:
        dispatcher = await outbox_dispatcher(container, stack)
        for _ in range(rounds):
            await dispatcher.run_once()
    return dispatcher


async def choose(world: World, actor: Actor, mobile: str | None, **groups: list[Channel]) -> None:
    choices = {group: [Channel.TELEGRAM] for group in KindGroup}
    choices.update({KindGroup(name): channels for name, channels in groups.items()})
    await channel_services.update_my_notification_channels(
        uow=world.container.uow(),
        actor=actor,
        data=NotificationChannelsUpdate(mobile_number=mobile, choices=choices),
    )


async def set_locale(container: Container, user_id: int, locale: Locale) -> None:
    async with container.session_factory() as session:
        await session.execute(update(User).where(User.id == user_id).values(locale=locale))
        await session.commit()


async def rows(container: Container, user_id: int | None = None) -> list[OutboxMessage]:
    async with container.session_factory() as session:
        query = select(OutboxMessage).order_by(OutboxMessage.id)
        if user_id is not None:
            query = query.where(OutboxMessage.recipient_user_id == user_id)
        return list(await session.scalars(query))


async def raise_alert(world: World) -> tuple[str, int]:
    case = await world.allocated_case(subject_name=VICTIM_NAME, subject_address=VICTIM_ADDRESS)
    alert = await alert_services.raise_disruption_alert(
        uow=world.container.uow(), actor=world.actor(Role.CASE_MANAGER), case_id=case.id
    )
    return case.reference, alert.id


async def test_a_police_fellow_with_no_telegram_gets_a_critical_alert_by_text_in_welsh(
    notify_world: World, container: Container, notify_api: FakeNotifyApi
) -> None:
    fellow = notify_world.actor(Role.POLICE_FELLOW)
    await set_locale(container, fellow.user_id, Locale.CY)
    # A mobile number only: every kind at the default (Telegram, which they have not linked).
    await choose(notify_world, fellow, MOBILE)

    reference, alert_id = await raise_alert(notify_world)

    queued = await rows(container, fellow.user_id)
    assert [(row.channel, row.dedupe_key) for row in queued] == [
        (Channel.TELEGRAM, f"alert:{alert_id}:{fellow.user_id}"),  # to the inbox: no link
        (Channel.SMS, f"alert:{alert_id}:{fellow.user_id}:sms"),
    ]
    await dispatch(container)
    [text] = await notify_api.wait_for(1)
    assert (text.type, text.to) == ("sms", "+447700900123")
    assert (
        text.body == f"Rhybudd tarfu ar gyfer {reference}. Cydnabyddwch y rhybudd, os gwelwch yn"
        " dda. Agorwch Drive Assist i wneud hynny."
    )
    assert text.reference == f"outbox-{queued[1].id}"
    assert [row.state for row in await rows(container, fellow.user_id)] == [OutboxState.SENT] * 2
    async with container.session_factory() as session:
        inbox = list(await session.scalars(select(InboxItem.user_id)))
    assert inbox == [fellow.user_id]  # the Telegram row went to their inbox, as before


async def test_a_critical_alert_goes_by_email_when_there_is_no_mobile_number(
    notify_world: World, container: Container, notify_api: FakeNotifyApi
) -> None:
    fellow = notify_world.actor(Role.POLICE_FELLOW)

    reference, _ = await raise_alert(notify_world)
    await dispatch(container)

    [email] = await notify_api.wait_for(1)
    assert (email.type, email.to) == ("email", fellow.email)
    assert email.subject == "Drive Assist: disruption alert"
    assert email.body == (
        f"Disruption alert for {reference}. Please acknowledge it. Open Drive Assist to do so."
    )


async def test_a_police_fellow_with_telegram_linked_gets_no_text_unless_they_chose_it(
    notify_world: World, container: Container, notify_api: FakeNotifyApi
) -> None:
    fellow = notify_world.actor(Role.POLICE_FELLOW)
    async with container.session_factory() as session:
        session.add(
            TelegramLink(
                user_id=fellow.user_id,
                telegram_user_id=4242,
                chat_id=4242,
                is_active=True,
                linked_at=container.clock.now(),
            )
        )
        await session.commit()
    await choose(notify_world, fellow, MOBILE)

    await raise_alert(notify_world)

    assert [row.channel for row in await rows(container, fellow.user_id)] == [Channel.TELEGRAM]


async def test_each_chosen_channel_gets_one_row_however_often_the_scheduler_runs(
    notify_world: World, container: Container, clock: FixedClock, notify_api: FakeNotifyApi
) -> None:
    manager = notify_world.actor(Role.SERVICE_MANAGER)
    await choose(notify_world, manager, MOBILE, alerts=[Channel.EMAIL, Channel.SMS, Channel.INBOX])
    _, alert_id = await raise_alert(notify_world)
    clock.advance(timedelta(hours=5))

    for _ in range(2):
        await escalate_unacknowledged_alerts(uow=container.uow())

    queued = await rows(container, manager.user_id)
    prefix = f"escalation:alert:{alert_id}:{manager.user_id}"
    assert [(row.channel, row.dedupe_key) for row in queued] == [
        (Channel.EMAIL, f"{prefix}:email"),
        (Channel.SMS, f"{prefix}:sms"),
        (Channel.INBOX, f"{prefix}:inbox"),
    ]
    await dispatch(container)
    await notify_api.wait_for(3)  # the police fellow's alert goes by email too (no Telegram)
    to_manager = [m.type for m in notify_api.sent if m.to in (manager.email, "+447700900123")]
    assert sorted(to_manager) == ["email", "sms"]


async def test_the_choice_of_one_kind_leaves_the_others_at_the_default(
    notify_world: World, container: Container
) -> None:
    fellow = notify_world.actor(Role.POLICE_FELLOW)
    await choose(notify_world, fellow, None, panel=[Channel.EMAIL])
    read = await channel_services.my_notification_channels(uow=container.uow(), actor=fellow)
    assert read.choices[KindGroup.PANEL] == [Channel.EMAIL]
    assert read.choices[KindGroup.ALERTS] == [Channel.TELEGRAM]
    assert read.available == [Channel.TELEGRAM, Channel.EMAIL, Channel.SMS, Channel.INBOX]


@pytest.mark.parametrize("status", [429, 500])
async def test_a_passing_notify_error_is_retried_after_a_backoff_and_then_sent(
    notify_world: World,
    container: Container,
    clock: FixedClock,
    notify_api: FakeNotifyApi,
    status: int,
) -> None:
    fellow = notify_world.actor(Role.POLICE_FELLOW)
    await choose(notify_world, fellow, MOBILE, alerts=[Channel.SMS])
    await raise_alert(notify_world)
    notify_api.fail_next(status)

    await dispatch(container)

    [row] = await rows(container, fellow.user_id)
    assert (row.state, row.attempts, notify_api.sent) == (OutboxState.QUEUED, 1, [])
    assert row.last_error is not None and row.last_error.startswith(f"GOV.UK Notify {status}:")
    assert row.not_before >= clock.now() + timedelta(seconds=2.5)  # backed off
    await dispatch(container)
    assert notify_api.sent == []  # not due yet

    clock.advance(timedelta(minutes=1))
    await dispatch(container)

    [row] = await rows(container, fellow.user_id)
    assert (row.state, row.attempts, len(notify_api.sent)) == (OutboxState.SENT, 2, 1)


@pytest.mark.parametrize(
    ("status", "reason"),
    [
        (400, "phone_number Not a UK mobile number"),
        (403, "Invalid token: API key not found"),
    ],
)
async def test_a_refused_message_fails_at_once_with_notifys_reason_and_can_be_sent_again(
    notify_world: World,
    container: Container,
    notify_api: FakeNotifyApi,
    status: int,
    reason: str,
) -> None:
    fellow = notify_world.actor(Role.POLICE_FELLOW)
    await choose(notify_world, fellow, MOBILE, alerts=[Channel.SMS])
    await raise_alert(notify_world)
    notify_api.fail_next(status, message=reason)

    await dispatch(container)

    [row] = await rows(container, fellow.user_id)
    assert (row.state, row.attempts) == (OutboxState.FAILED, 1)
    assert row.last_error is not None and row.last_error.startswith(f"GOV.UK Notify {status}:")
    assert reason in row.last_error
    admin = notify_world.actor(Role.ADMIN)
    [failed] = await notifications_admin.list_failed_notifications(uow=container.uow(), actor=admin)
    assert (failed.id, failed.channel, failed.last_error) == (row.id, Channel.SMS, row.last_error)

    await notifications_admin.retry_failed_notification(
        uow=container.uow(), actor=admin, message_id=row.id
    )
    await dispatch(container)

    assert [sent.type for sent in await notify_api.wait_for(1)] == ["sms"]
    [row] = await rows(container, fellow.user_id)
    assert row.state is OutboxState.SENT


async def test_someone_whose_number_was_removed_before_the_send_gets_it_in_the_inbox(
    notify_world: World, container: Container, notify_api: FakeNotifyApi
) -> None:
    fellow = notify_world.actor(Role.POLICE_FELLOW)
    await choose(notify_world, fellow, MOBILE, alerts=[Channel.SMS])
    await raise_alert(notify_world)
    async with container.session_factory() as session:
        await session.execute(
            update(User).where(User.id == fellow.user_id).values(mobile_number=None)
        )
        await session.commit()

    await dispatch(container)

    assert notify_api.sent == []
    async with container.session_factory() as session:
        assert list(await session.scalars(select(InboxItem.user_id))) == [fellow.user_id]


async def test_without_notify_set_up_a_chosen_text_message_goes_to_the_inbox(
    world: World, container: Container
) -> None:
    fellow = world.actor(Role.POLICE_FELLOW)
    async with container.session_factory() as session:
        await session.execute(
            update(User).where(User.id == fellow.user_id).values(mobile_number="+447700900123")
        )
        await session.commit()

    await raise_alert(world)

    # No Notify: the Telegram row (no link) goes to the inbox; nothing by text or email.
    assert [row.channel for row in await rows(container, fellow.user_id)] == [Channel.TELEGRAM]


async def test_no_email_or_text_message_holds_a_name_an_address_or_anything_about_a_victim(
    notify_world: World, container: Container, notify_api: FakeNotifyApi, clock: FixedClock
) -> None:
    for role in (Role.POLICE_FELLOW, Role.SERVICE_MANAGER):
        await choose(
            notify_world, notify_world.actor(role), MOBILE, alerts=[Channel.EMAIL, Channel.SMS]
        )
    reference, _ = await raise_alert(notify_world)
    clock.advance(timedelta(hours=5))
    await escalate_unacknowledged_alerts(uow=container.uow())

    await dispatch(container, rounds=2)

    sent = await notify_api.wait_for(4)
    assert sorted(message.type for message in sent) == ["email", "email", "sms", "sms"]
    async with container.session_factory() as session:
        names = list(await session.scalars(select(User.display_name)))
    for message in sent:
        text = f"{message.subject or ''} {message.body} {message.reference}"
        assert reference in message.body
        for secret in (VICTIM_NAME, "Victimsentinel", VICTIM_ADDRESS, "Sentinel Lane", *names):
            assert secret not in text


async def test_a_bad_mobile_number_or_an_empty_choice_changes_nothing(
    notify_world: World, container: Container
) -> None:
    fellow = notify_world.actor(Role.POLICE_FELLOW)
    await choose(notify_world, fellow, MOBILE, alerts=[Channel.SMS])
    before = await channel_services.my_notification_channels(uow=container.uow(), actor=fellow)

    with pytest.raises(NotAUkMobile):
        await choose(notify_world, fellow, "01632 960123")  # a landline
    with pytest.raises(MobileNeededForSms):
        await choose(notify_world, fellow, None, alerts=[Channel.SMS])
    with pytest.raises(NoChannelChosen):
        await choose(notify_world, fellow, MOBILE, digest=[])

    after = await channel_services.my_notification_channels(uow=container.uow(), actor=fellow)
    assert after == before
    assert after.mobile_number == "+447700900123"


async def test_the_mobile_number_is_sealed_in_the_database(
    notify_world: World, container: Container
) -> None:
    fellow = notify_world.actor(Role.POLICE_FELLOW)
    await choose(notify_world, fellow, MOBILE)
    async with container.engine.connect() as connection:
        raw = (
            await connection.exec_driver_sql(
                f"SELECT mobile_number FROM users WHERE id = {int(fellow.user_id)}"
            )
        ).scalar_one()
    assert raw is not None and "7700" not in raw


async def test_email_and_text_messages_are_paced_under_notifys_limit_apart_from_telegram(
    container: Container,
) -> None:
    """The pacer the dispatcher makes for Notify, on a simulated clock: never more than 3,000
    sends start in any 60 seconds (nor 350 in any second), and it keeps close to that rate."""
    now = [0.0]

    async def sleep(seconds: float) -> None:
        now[0] += seconds

    settings = DispatchSettings.from_settings(container.settings)
    dispatcher = Dispatcher(container, container.clock, {}, settings)
    assert isinstance(dispatcher.notify_pacer, Pacer)
    assert dispatcher.notify_pacer is not dispatcher.pacer
    assert settings.notify_rate_per_minute == 3000
    pacer = Pacer(
        rate=settings.notify_rate_per_minute / 60,
        per_chat_interval=0.0,
        monotonic=lambda: now[0],
        sleep=sleep,
    )
    starts = []
    for _ in range(9000):
        await pacer.next_slot()
        starts.append(now[0])
    assert all(later - earlier >= 60 for earlier, later in zip(starts, starts[3000:], strict=False))
    assert all(later - earlier >= 1 for earlier, later in zip(starts, starts[350:], strict=False))
    assert 9000 / starts[-1] * 60 > 2800  # and it uses most of the allowance


class CountingTelegram:
    """Telegram in this process: counts what it was given."""

    def __init__(self, expected: int) -> None:
        self.sent: list[int] = []
        self.expected = expected
        self.all_sent = asyncio.Event()

    async def send(self, message: OutboundMessage) -> SendResult:
        self.sent.append(message.id)
        if len(self.sent) >= self.expected:
            self.all_sent.set()
        return SendResult(provider_message_id=message.id)


async def test_a_telegram_backlog_does_not_hold_up_a_text_message_queued_after_it(
    notify_world: World, container: Container, notify_api: FakeNotifyApi
) -> None:
    """Telegram paced to two messages a second with six waiting; a text message queued after
    them, in the same lane, reaches Notify before Telegram's backlog is through."""
    linked = [notify_world.actor(role) for role in (Role.CASE_MANAGER, Role.IDVA, Role.ADMIN)]
    fellow = notify_world.actor(Role.POLICE_FELLOW)
    await choose(notify_world, fellow, MOBILE)
    async with container.session_factory() as session:
        for actor in linked:
            session.add(
                TelegramLink(
                    user_id=actor.user_id,
                    telegram_user_id=5000 + actor.user_id,
                    chat_id=5000 + actor.user_id,
                    is_active=True,
                    linked_at=container.clock.now(),
                )
            )
        await session.commit()
    uow = container.uow()
    async with uow:
        queue = [(actor.user_id, Channel.TELEGRAM) for actor in linked * 2]
        for n, (user_id, channel) in enumerate([*queue, (fellow.user_id, Channel.SMS)]):
            await enqueue(
                uow,
                recipient_user_id=user_id,
                channel=channel,
                kind=NotificationKind.PANEL_BROADCAST,
                lane=Lane.NORMAL,
                message_key="notification.panel_broadcast",
                params={"time": "2026-03-03T10:00:00+00:00"},
                dedupe_key=f"backlog:{n}",
            )
        await uow.commit()
    telegram = CountingTelegram(expected=6)
    stop = asyncio.Event()

    async with AsyncExitStack() as stack:
        dispatcher = await outbox_dispatcher(container, stack)
        dispatcher.channels[Channel.TELEGRAM] = telegram
        dispatcher.pacer = Pacer(rate=2.0, per_chat_interval=0.0)
        running = asyncio.ensure_future(dispatcher.run_forever(stop))
        [text] = await notify_api.wait_for(1)
        telegram_when_the_text_arrived = len(telegram.sent)
        await asyncio.wait_for(telegram.all_sent.wait(), 15)
        stop.set()
        await running

    assert text.type == "sms"
    assert telegram_when_the_text_arrived < 6


async def test_mobile_numbers_move_to_the_new_key_after_a_rotation(
    notify_world: World, container: Container
) -> None:
    fellow = notify_world.actor(Role.POLICE_FELLOW)
    await choose(notify_world, fellow, MOBILE)
    before = sealing.configured_keys()
    try:
        assert await channel_services.reseal_mobile_numbers(uow=container.uow()) == 0
        new_key = sealing.new_key()
        sealing.configure([new_key, *before])  # a rotation: the new key first
        assert await channel_services.reseal_mobile_numbers(uow=container.uow()) == 1
        sealing.configure([new_key])  # the old key gone: the number still opens
        read = await channel_services.my_notification_channels(uow=container.uow(), actor=fellow)
        assert read.mobile_number == "+447700900123"
    finally:
        sealing.configure(before)
