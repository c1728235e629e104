"""The outbox dispatcher on both databases, with an in-process fake channel in place of Telegram."""

from __future__ import annotations

import asyncio
import heapq
import warnings
from collections import Counter
from collections.abc import Callable, Iterator
from datetime import timedelta
from itertools import count, cycle
from typing import Any

import pytest
from sqlalchemy import func, select, text, update
from telegram import error as telegram_error

from bot.channel import TelegramChannel
from core.bootstrap import Container, bootstrap
from core.clock import FixedClock
from core.enums import Channel, Lane, Locale, NotificationKind, OutboxState
from core.models import InboxItem, OutboxMessage, TelegramLink, User
from core.notifications import outbox
from core.notifications.channels import (
    InboxChannel,
    OutboundMessage,
    PermanentFailure,
    RecipientBlocked,
    RetryLater,
    SendError,
    SendResult,
)
from core.notifications.dispatcher import Dispatcher, DispatchSettings
from core.notifications.outbox_sql import (
    POSTGRESQL_CLAIM,
    POSTGRESQL_CLAIM_PLAN,
    POSTGRESQL_RECORD,
    POSTGRESQL_RECORD_PLAN,
    Outcome,
)
from core.notifications.pacer import Pacer

UNPACED = DispatchSettings(pacing=False, batch_size=10, concurrency=4, max_attempts=3)
_numbers: Iterator[int] = count(1)


class FakeTelegram:
    """Records every send; raises the errors it is told to, one per send, in order."""

    def __init__(self, delay: float = 0.0) -> None:
        self.sent: list[OutboundMessage] = []
        self.failures: list[SendError] = []
        self.delay = delay

    async def send(self, message: OutboundMessage) -> SendResult:
        if self.delay:
            await asyncio.sleep(self.delay)
        if self.failures:
            raise self.failures.pop(0)
        self.sent.append(message)
        return SendResult(provider_message_id=1000 + message.id)

    @property
    def sent_ids(self) -> list[int]:
        return [message.id for message in self.sent]


async def add_user(container: Container, *, chat_id: int | None = None) -> int:
    number = next(_numbers)
    now = container.clock.now()
    async with container.session_factory() as session:
        user = User(
            email=f"dispatch{number}@example.org",
            display_name=f"Dispatch tester {number}",
            locale=Locale.CY,
            is_active=True,
            created_at=now,
        )
        session.add(user)
        await session.flush()
        if chat_id is not None:
            session.add(
                TelegramLink(
                    user_id=user.id,
                    telegram_user_id=chat_id,
                    chat_id=chat_id,
                    is_active=True,
                    linked_at=now,
                )
            )
        await session.commit()
        return user.id


async def queue(
    container: Container,
    user_id: int,
    key: str,
    *,
    lane: Lane = Lane.HIGH,
    channel: Channel = Channel.TELEGRAM,
    not_before_in: timedelta | None = None,
) -> bool:
    uow = container.uow()
    async with uow:
        added = await outbox.enqueue(
            uow,
            recipient_user_id=user_id,
            channel=channel,
            kind=NotificationKind.APPOINTMENT_REMINDER,
            lane=lane,
            message_key=NotificationKind.APPOINTMENT_REMINDER,
            params={"reference": "HER-0042", "time": "2026-03-03T10:00:00+00:00"},
            dedupe_key=key,
            not_before=container.clock.now() + not_before_in if not_before_in else None,
        )
        await uow.commit()
    return added


async def row(container: Container, key: str) -> OutboxMessage:
    async with container.session_factory() as session:
        return (
            await session.scalars(select(OutboxMessage).where(OutboxMessage.dedupe_key == key))
        ).one()


async def inbox_count(container: Container, user_id: int | None = None) -> int:
    statement = select(func.count()).select_from(InboxItem)
    if user_id is not None:
        statement = statement.where(InboxItem.user_id == user_id)
    async with container.session_factory() as session:
        return int(await session.scalar(statement) or 0)


def dispatcher(
    container: Container,
    telegram: FakeTelegram,
    settings: DispatchSettings = UNPACED,
    worker_id: str = "worker-a",
) -> Dispatcher:
    channels = {
        Channel.TELEGRAM: telegram,
        Channel.INBOX: InboxChannel(container.session_factory, container.clock),
    }
    return Dispatcher(container, container.clock, channels, settings, worker_id)


async def test_critical_messages_go_before_high_before_normal_when_all_are_due(
    container: Container,
) -> None:
    user = await add_user(container, chat_id=501)
    for key, lane in (("n", Lane.NORMAL), ("h", Lane.HIGH), ("c", Lane.CRITICAL)):
        await queue(container, user, f"lanes:{key}", lane=lane)
    telegram = FakeTelegram()
    one_at_a_time = DispatchSettings(pacing=False, batch_size=1, concurrency=1)
    worker = dispatcher(container, telegram, one_at_a_time)

    assert [await worker.run_once() for _ in range(4)] == [1, 1, 1, 0]

    assert [message.lane for message in telegram.sent] == [Lane.CRITICAL, Lane.HIGH, Lane.NORMAL]


async def test_a_batch_is_sent_in_lane_order_too(container: Container) -> None:
    user = await add_user(container, chat_id=502)
    for index, lane in enumerate([Lane.NORMAL] * 5 + [Lane.CRITICAL]):
        await queue(container, user, f"batch:{index}", lane=lane)
    telegram = FakeTelegram()

    assert (
        await dispatcher(
            container, telegram, DispatchSettings(pacing=False, concurrency=1)
        ).run_once()
        == 6
    )

    assert telegram.sent[0].lane is Lane.CRITICAL


async def test_a_message_is_not_sent_before_its_not_before(
    container: Container, clock: FixedClock
) -> None:
    user = await add_user(container, chat_id=503)
    await queue(container, user, "later", not_before_in=timedelta(minutes=10))
    telegram = FakeTelegram()
    worker = dispatcher(container, telegram)

    assert await worker.run_once() == 0
    clock.advance(timedelta(minutes=10))
    assert await worker.run_once() == 1

    sent = await row(container, "later")
    assert sent.state is OutboxState.SENT
    assert sent.sent_at == clock.now()
    assert sent.telegram_message_id == 1000 + sent.id
    assert telegram.sent[0].chat_id == 503
    assert telegram.sent[0].locale is Locale.CY


async def test_queueing_the_same_key_twice_leaves_one_row_and_sends_once(
    container: Container,
) -> None:
    user = await add_user(container, chat_id=504)
    assert await queue(container, user, "dedupe:1") is True
    assert await queue(container, user, "dedupe:1") is False
    telegram = FakeTelegram()
    worker = dispatcher(container, telegram)

    await worker.run_once()
    await worker.run_once()

    async with container.session_factory() as session:
        rows = await session.scalar(select(func.count()).select_from(OutboxMessage))
    assert rows == 1
    assert len(telegram.sent) == 1


async def test_a_passing_failure_is_retried_after_a_backoff_and_then_sent(
    container: Container, clock: FixedClock
) -> None:
    user = await add_user(container, chat_id=505)
    await queue(container, user, "retry")
    telegram = FakeTelegram()
    telegram.failures.append(RetryLater(None, "TimedOut: read timeout"))
    worker = dispatcher(container, telegram)
    failed_at = clock.now()

    assert await worker.run_once() == 1
    waiting = await row(container, "retry")
    assert waiting.state is OutboxState.QUEUED
    assert waiting.attempts == 1
    assert waiting.last_error == "TimedOut: read timeout"
    base = UNPACED.backoff_base_seconds
    assert failed_at + timedelta(seconds=base / 2) <= waiting.not_before
    assert waiting.not_before <= failed_at + timedelta(seconds=base)

    assert await worker.run_once() == 0  # not due yet
    clock.advance(timedelta(seconds=base))
    assert await worker.run_once() == 1

    sent = await row(container, "retry")
    assert sent.state is OutboxState.SENT
    assert sent.attempts == 2
    assert telegram.sent_ids == [sent.id]


async def test_flood_control_waits_at_least_as_long_as_telegram_asked(
    container: Container, clock: FixedClock
) -> None:
    user = await add_user(container, chat_id=506)
    await queue(container, user, "flood")
    telegram = FakeTelegram()
    telegram.failures.append(RetryLater(42, "Flood control exceeded. Retry in 42 seconds"))

    await dispatcher(container, telegram).run_once()

    waiting = await row(container, "flood")
    assert waiting.state is OutboxState.QUEUED
    assert clock.now() + timedelta(seconds=42) <= waiting.not_before
    assert waiting.not_before <= clock.now() + timedelta(seconds=44)


async def test_a_message_fails_after_the_last_attempt_and_keeps_its_error(
    container: Container, clock: FixedClock
) -> None:
    user = await add_user(container, chat_id=507)
    await queue(container, user, "hopeless")
    telegram = FakeTelegram()
    telegram.failures.extend(RetryLater(None, f"NetworkError: Bad Gateway {n}") for n in range(5))
    worker = dispatcher(container, telegram)

    for _ in range(UNPACED.max_attempts):
        assert await worker.run_once() == 1
        clock.advance(timedelta(hours=1))
    assert await worker.run_once() == 0

    failed = await row(container, "hopeless")
    assert failed.state is OutboxState.FAILED
    assert failed.attempts == UNPACED.max_attempts
    assert failed.last_error == "NetworkError: Bad Gateway 2"
    assert telegram.sent == []


async def test_a_permanent_failure_fails_at_once(container: Container) -> None:
    user = await add_user(container, chat_id=508)
    await queue(container, user, "bad")
    telegram = FakeTelegram()
    telegram.failures.append(PermanentFailure("BadRequest: chat not found"))

    await dispatcher(container, telegram).run_once()

    failed = await row(container, "bad")
    assert failed.state is OutboxState.FAILED
    assert failed.attempts == 1
    assert failed.last_error == "BadRequest: chat not found"


async def test_a_blocked_bot_switches_the_link_off_and_later_messages_go_to_the_inbox(
    container: Container, clock: FixedClock
) -> None:
    user = await add_user(container, chat_id=509)
    await queue(container, user, "blocked:1")
    telegram = FakeTelegram()
    telegram.failures.append(RecipientBlocked("Forbidden: bot was blocked by the user"))
    worker = dispatcher(container, telegram)

    await worker.run_once()

    failed = await row(container, "blocked:1")
    assert failed.state is OutboxState.FAILED
    assert failed.last_error == "Forbidden: bot was blocked by the user"
    async with container.session_factory() as session:
        link = (
            await session.scalars(select(TelegramLink).where(TelegramLink.user_id == user))
        ).one()
    assert link.is_active is False
    assert link.deactivation_reason == "blocked"
    assert link.deactivated_at == clock.now()

    await queue(container, user, "blocked:2")
    await worker.run_once()

    assert (await row(container, "blocked:2")).state is OutboxState.SENT
    assert telegram.sent == []
    assert await inbox_count(container, user) == 1


async def test_a_telegram_message_for_someone_without_a_link_goes_to_the_inbox(
    container: Container,
) -> None:
    user = await add_user(container)
    await queue(container, user, "unlinked")
    telegram = FakeTelegram()

    await dispatcher(container, telegram).run_once()

    sent = await row(container, "unlinked")
    assert sent.state is OutboxState.SENT
    assert sent.telegram_message_id is None
    assert telegram.sent == []
    async with container.session_factory() as session:
        item = (await session.scalars(select(InboxItem).where(InboxItem.user_id == user))).one()
    assert item.outbox_message_id == sent.id
    assert item.params["reference"] == "HER-0042"


async def test_a_message_left_sending_by_a_crashed_dispatcher_is_claimed_again_after_its_lease(
    container: Container, clock: FixedClock
) -> None:
    user = await add_user(container, chat_id=510)
    await queue(container, user, "lease")
    crashed = dispatcher(container, FakeTelegram(), worker_id="crashed")
    claimed = await crashed.claim_batch(10)  # claims, then "dies" before sending
    assert [message.id for message in claimed] == [(await row(container, "lease")).id]
    telegram = FakeTelegram()
    survivor = dispatcher(container, telegram, worker_id="survivor")

    assert await survivor.run_once() == 0  # the lease still holds
    clock.advance(timedelta(seconds=UNPACED.lease_seconds + 1))
    assert await survivor.run_once() == 1
    assert await survivor.run_once() == 0

    sent = await row(container, "lease")
    assert sent.state is OutboxState.SENT
    assert sent.claimed_by == "survivor"
    assert sent.attempts == 2
    assert telegram.sent_ids == [sent.id]


async def test_the_inbox_holds_one_item_per_message_even_when_it_is_sent_twice(
    container: Container,
) -> None:
    user = await add_user(container)
    await queue(container, user, "inbox", channel=Channel.INBOX)
    worker = dispatcher(container, FakeTelegram())
    await worker.run_once()
    message_id = (await row(container, "inbox")).id
    async with container.session_factory() as session:  # as if the send were never recorded
        await session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id == message_id)
            .values(state=OutboxState.QUEUED)
        )
        await session.commit()

    assert await worker.run_once() == 1

    assert await inbox_count(container, user) == 1
    assert (await row(container, "inbox")).state is OutboxState.SENT


async def test_two_dispatchers_draining_one_outbox_send_each_message_exactly_once(
    container: Container, database_url: str, clock: FixedClock
) -> None:
    users = [await add_user(container, chat_id=600 + n) for n in range(20)]
    uow = container.uow()
    async with uow:
        for n in range(500):
            await outbox.enqueue(
                uow,
                recipient_user_id=users[n % len(users)],
                channel=Channel.TELEGRAM,
                kind=NotificationKind.PANEL_BROADCAST,
                lane=[Lane.CRITICAL, Lane.HIGH, Lane.NORMAL][n % 3],
                message_key=NotificationKind.PANEL_BROADCAST,
                params={"time": "2026-03-10T10:00:00+00:00"},
                dedupe_key=f"drain:{n}",
            )
        await uow.commit()
    # A second container: its own engine and connection pool, as a second process would have.
    other = bootstrap(container.settings, clock=clock)
    telegram = FakeTelegram(delay=0.001)  # one shared record of every send
    settings = DispatchSettings(pacing=False, batch_size=25, concurrency=8)
    workers = [
        dispatcher(container, telegram, settings, "worker-a"),
        dispatcher(other, telegram, settings, "worker-b"),
    ]
    handled: Counter[str] = Counter()

    async def drain(worker: Dispatcher) -> None:
        while claimed := await worker.run_once():
            handled[worker.worker_id] += claimed

    try:
        await asyncio.gather(*(drain(worker) for worker in workers))
    finally:
        await other.dispose()
    print(f"handled per worker on {container.engine.dialect.name}: {dict(handled)}")

    sends = Counter(telegram.sent_ids)
    assert len(sends) == 500
    assert set(sends.values()) == {1}
    assert sum(handled.values()) == 500
    async with container.session_factory() as session:
        states = (await session.scalars(select(OutboxMessage.state).distinct())).all()
    assert states == [OutboxState.SENT]


async def test_pacing_spaces_slots_overall_and_keeps_a_chat_to_one_message_a_second() -> None:
    clock_now = [0.0]

    async def fake_sleep(seconds: float) -> None:
        clock_now[0] += seconds

    pacer = Pacer(
        rate=10,
        per_chat_interval=1.0,
        margin=0.0,
        monotonic=lambda: clock_now[0],
        sleep=fake_sleep,
    )

    async def send_at(chat: int) -> float:
        await pacer.next_slot()
        assert await pacer.take_chat(chat) == 0
        await pacer.sent(chat)  # the answer comes back at once
        return clock_now[0]

    moments = [await send_at(chat) for chat in (1, 2, 3)]
    assert moments == pytest.approx([0.0, 0.1, 0.2])
    # The same chat again: not for a second after its last message, and nothing is taken.
    await pacer.next_slot()
    assert await pacer.take_chat(1) == pytest.approx(0.7)
    assert await pacer.take_chat(1) == pytest.approx(0.7)
    # Another chat may use that slot.
    assert await pacer.take_chat(4) == 0
    await pacer.sent(4)
    await fake_sleep(0.7)
    assert await send_at(1) == pytest.approx(1.0)


async def test_pacing_off_sends_every_message_to_one_chat_at_once(container: Container) -> None:
    user = await add_user(container, chat_id=610)
    for n in range(3):
        await queue(container, user, f"unpaced-one-chat:{n}")
    telegram = FakeTelegram()

    assert await dispatcher(container, telegram).run_once() == 3

    assert len(telegram.sent) == 3
    states = {(await row(container, f"unpaced-one-chat:{n}")).state for n in range(3)}
    assert states == {OutboxState.SENT}


async def test_paced_a_message_to_a_busy_chat_goes_back_to_the_outbox_and_others_go_on(
    container: Container, clock: FixedClock
) -> None:
    busy = await add_user(container, chat_id=620)
    other = await add_user(container, chat_id=621)
    for n in range(2):
        await queue(container, busy, f"busy-chat:{n}")
    await queue(container, other, "other-chat", lane=Lane.NORMAL)
    telegram = FakeTelegram()
    paced = DispatchSettings(pacing=True, global_rate=1000, concurrency=4)

    assert await dispatcher(container, telegram, paced).run_once() == 3

    first, second = [await row(container, f"busy-chat:{n}") for n in range(2)]
    assert first.state is OutboxState.SENT
    assert second.state is OutboxState.QUEUED
    assert second.attempts == 0  # given back, not tried
    assert second.not_before > clock.now()
    other_message = await row(container, "other-chat")
    assert other_message.state is OutboxState.SENT
    assert sorted(telegram.sent_ids) == sorted([first.id, other_message.id])


class RaisingBot:
    def __init__(self, error: Exception) -> None:
        self.error = error

    async def send_message(self, **_kwargs: object) -> object:
        raise self.error


@pytest.mark.parametrize(
    ("make_error", "outcome"),
    [
        (lambda: telegram_error.RetryAfter(7), RetryLater),
        (
            lambda: telegram_error.Forbidden("Forbidden: bot was blocked by the user"),
            RecipientBlocked,
        ),
        (lambda: telegram_error.BadRequest("Bad Request: chat not found"), PermanentFailure),
        (lambda: telegram_error.TimedOut(), RetryLater),
        (lambda: telegram_error.NetworkError("Bad Gateway (502)"), RetryLater),
        (lambda: telegram_error.TelegramError("Invalid server response"), RetryLater),
    ],
)
async def test_the_telegram_channel_turns_bot_api_errors_into_core_outcomes(
    make_error: Callable[[], Exception], outcome: type[SendError]
) -> None:
    with warnings.catch_warnings():  # PTB 22 warns about retry_after's coming type change
        warnings.simplefilter("ignore")
        error = make_error()
    channel = TelegramChannel(RaisingBot(error), lambda key, params, locale: "text")  # type: ignore[arg-type]
    message = OutboundMessage(
        id=1,
        recipient_user_id=1,
        channel=Channel.TELEGRAM,
        chat_id=42,
        locale=Locale.EN_GB,
        kind=NotificationKind.ESCALATION,
        message_key=NotificationKind.ESCALATION,
        params={"reference": "HER-0001"},
        lane=Lane.CRITICAL,
        attempts=1,
    )

    with pytest.raises(outcome) as raised:
        await channel.send(message)

    if isinstance(error, telegram_error.RetryAfter):
        assert isinstance(raised.value, RetryLater)
        assert raised.value.retry_after == 7


class OvertakenTelegram:
    """A send so slow that the lease runs out and another worker sends the message meanwhile;
    then it fails with ``error`` (or succeeds when None)."""

    def __init__(self, clock: FixedClock, overtaker: Dispatcher, error: SendError | None) -> None:
        self.clock = clock
        self.overtaker = overtaker
        self.error = error

    async def send(self, message: OutboundMessage) -> SendResult:
        self.clock.advance(timedelta(seconds=UNPACED.lease_seconds + 1))
        assert await self.overtaker.run_once() == 1
        if self.error is not None:
            raise self.error
        return SendResult(provider_message_id=1)


@pytest.mark.parametrize(
    "late_outcome",
    [
        None,
        RetryLater(None, "TimedOut: far too late"),
        PermanentFailure("BadRequest: far too late"),
        RecipientBlocked("Forbidden: bot was blocked by the user"),
    ],
)
async def test_a_late_result_is_not_recorded_once_another_worker_has_sent_the_message(
    container: Container, clock: FixedClock, late_outcome: SendError | None
) -> None:
    user = await add_user(container, chat_id=520)
    await queue(container, user, "overtaken")
    fast_telegram = FakeTelegram()
    fast = dispatcher(container, fast_telegram, worker_id="fast")
    slow = dispatcher(
        container,
        OvertakenTelegram(clock, fast, late_outcome),
        worker_id="slow",  # type: ignore[arg-type]
    )

    assert await slow.run_once() == 1

    sent = await row(container, "overtaken")
    assert sent.state is OutboxState.SENT
    assert sent.claimed_by == "fast"
    assert sent.attempts == 2
    assert sent.last_error is None
    assert fast_telegram.sent_ids == [sent.id]
    async with container.session_factory() as session:
        link = (
            await session.scalars(select(TelegramLink).where(TelegramLink.user_id == user))
        ).one()
    assert link.is_active is True  # a stale "blocked" switches nothing off


async def test_one_batch_with_every_kind_of_outcome_is_recorded_together(
    container: Container, clock: FixedClock
) -> None:
    users = [await add_user(container, chat_id=530 + n) for n in range(4)]
    for n, user in enumerate(users):
        await queue(container, user, f"mixed:{n}")
    telegram = FakeTelegram()
    telegram.failures.extend(
        [
            RetryLater(None, "NetworkError: Bad Gateway"),
            PermanentFailure("BadRequest: chat not found"),
            RecipientBlocked("Forbidden: bot was blocked by the user"),
        ]
    )
    one_at_a_time = DispatchSettings(pacing=False, concurrency=1, max_attempts=3)

    assert await dispatcher(container, telegram, one_at_a_time).run_once() == 4

    states = [(await row(container, f"mixed:{n}")).state for n in range(4)]
    assert states == [
        OutboxState.QUEUED,
        OutboxState.FAILED,
        OutboxState.FAILED,
        OutboxState.SENT,
    ]
    assert (await row(container, "mixed:0")).not_before > clock.now()
    assert (await row(container, "mixed:3")).telegram_message_id == 1000 + (
        await row(container, "mixed:3")
    ).id
    async with container.session_factory() as session:
        active = (
            await session.scalars(
                select(TelegramLink.is_active)
                .where(TelegramLink.user_id.in_(users))
                .order_by(TelegramLink.user_id)
            )
        ).all()
    assert active == [True, True, False, True]


async def test_the_pipelined_loop_delivers_every_message_once_and_records_it(
    container: Container,
) -> None:
    users = [await add_user(container, chat_id=540 + n) for n in range(10)]
    for n in range(95):
        await queue(container, users[n % 10], f"pipelined:{n}", lane=Lane.NORMAL)
    telegram = FakeTelegram(delay=0.001)
    worker = dispatcher(container, telegram, DispatchSettings(pacing=False, batch_size=10))
    stop = asyncio.Event()
    batches: list[int] = []

    def on_batch(claimed: int) -> None:
        batches.append(claimed)
        if sum(batches) >= 95:
            stop.set()

    await asyncio.wait_for(worker.run_forever(stop, on_batch), timeout=60)

    assert sorted(Counter(telegram.sent_ids).values()) == [1] * 95
    async with container.session_factory() as session:
        states = (await session.scalars(select(OutboxMessage.state).distinct())).all()
    assert states == [OutboxState.SENT]  # every batch recorded before run_forever returned
    assert batches == [10] * 9 + [5]


async def test_a_critical_message_to_someone_who_blocked_the_bot_goes_to_their_inbox_instead(
    container: Container,
) -> None:
    user = await add_user(container, chat_id=560)
    await queue(container, user, "blocked-alert", lane=Lane.CRITICAL)
    telegram = FakeTelegram()
    telegram.failures.append(RecipientBlocked("Forbidden: bot was blocked by the user"))
    worker = dispatcher(container, telegram)

    assert await worker.run_once() == 1

    requeued = await row(container, "blocked-alert")
    assert requeued.state is OutboxState.QUEUED
    assert requeued.channel is Channel.INBOX
    assert requeued.last_error == "Forbidden: bot was blocked by the user"
    assert await inbox_count(container, user) == 0

    assert await worker.run_once() == 1

    delivered = await row(container, "blocked-alert")
    assert delivered.state is OutboxState.SENT
    assert delivered.telegram_message_id is None
    assert telegram.sent == []
    assert await inbox_count(container, user) == 1
    async with container.session_factory() as session:
        link_active = await session.scalar(
            select(TelegramLink.is_active).where(TelegramLink.user_id == user)
        )
    assert link_active is False


async def test_a_critical_message_queued_during_a_long_broadcast_overtakes_the_claimed_backlog(
    container: Container,
) -> None:
    users = [await add_user(container, chat_id=570 + n) for n in range(10)]
    for n in range(120):
        await queue(container, users[n % 10], f"backlog:{n}", lane=Lane.NORMAL)
    alert_user = await add_user(container, chat_id=590)
    telegram = FakeTelegram(delay=0.005)
    settings = DispatchSettings(
        pacing=False, batch_size=60, concurrency=2, critical_poll_seconds=0.02
    )
    worker = dispatcher(container, telegram, settings)
    stop = asyncio.Event()
    running = asyncio.create_task(worker.run_forever(stop))
    while not telegram.sent:  # noqa: ASYNC110 (the fake records sends; poll it)
        await asyncio.sleep(0.001)
    await queue(container, alert_user, "alert-during-backlog", lane=Lane.CRITICAL)
    alert_id = (await row(container, "alert-during-backlog")).id
    while alert_id not in telegram.sent_ids:  # noqa: ASYNC110
        await asyncio.sleep(0.005)
    stop.set()
    await asyncio.wait_for(running, timeout=60)

    # Without the critical check and the lane-ordered local queue, the first batch's 60
    # claimed broadcasts would all have gone first.
    assert telegram.sent_ids.index(alert_id) < 60
    assert sorted(Counter(telegram.sent_ids).values()) == [1] * len(telegram.sent_ids)


async def test_paced_a_critical_message_takes_the_next_slot_not_a_turn_behind_every_sender(
    container: Container,
) -> None:
    users = [await add_user(container, chat_id=700 + n) for n in range(40)]
    for n in range(40):
        await queue(container, users[n], f"paced-backlog:{n}", lane=Lane.NORMAL)
    alert_user = await add_user(container, chat_id=760)
    telegram = FakeTelegram()
    # 40 a second: a slot every 26 ms. Twelve senders that each took a message before
    # sleeping for their slot would hold about 0.3 s of normal sends ahead of the alert.
    settings = DispatchSettings(
        pacing=True,
        global_rate=40,
        per_chat_interval=0.0,
        concurrency=12,
        critical_poll_seconds=0.01,
    )
    worker = dispatcher(container, telegram, settings)
    stop = asyncio.Event()
    running = asyncio.create_task(worker.run_forever(stop))
    while len(telegram.sent) < 3:  # noqa: ASYNC110 (the fake records sends; poll it)
        await asyncio.sleep(0.001)
    await queue(container, alert_user, "paced-alert", lane=Lane.CRITICAL)
    sent_before_alert_was_queued = len(telegram.sent)
    alert_id = (await row(container, "paced-alert")).id
    while alert_id not in telegram.sent_ids:  # noqa: ASYNC110
        await asyncio.sleep(0.002)
    stop.set()
    await asyncio.wait_for(running, timeout=60)

    # The poll (10 ms) and the claim take a slot or two; the senders' held messages would be
    # eleven or twelve more.
    overtaken_by = telegram.sent_ids.index(alert_id) - sent_before_alert_was_queued
    assert overtaken_by <= 5, telegram.sent_ids
    assert sorted(Counter(telegram.sent_ids).values()) == [1] * len(telegram.sent_ids)


async def test_paced_the_inbox_does_not_wait_for_telegrams_slots(container: Container) -> None:
    people = [await add_user(container) for _ in range(20)]  # no Telegram link: the inbox
    for n, person in enumerate(people):
        await queue(container, person, f"inbox-while-paced:{n}", lane=Lane.NORMAL)
    linked = await add_user(container, chat_id=780)
    for n in range(3):
        await queue(container, linked, f"telegram-while-paced:{n}", lane=Lane.NORMAL)
    telegram = FakeTelegram()
    worker = dispatcher(container, telegram, DispatchSettings(pacing=True, concurrency=4))
    # Every wait for a slot is held until the inbox is done: the first Telegram message goes
    # in the slot that is already due, the other two wait for slots that do not come.
    inbox_done = asyncio.Event()

    async def held_sleep(seconds: float) -> None:
        await inbox_done.wait()
        await asyncio.sleep(seconds)

    worker.pacer = Pacer(rate=2, per_chat_interval=60, sleep=held_sleep)
    stop = asyncio.Event()
    running = asyncio.create_task(worker.run_forever(stop))

    async def inbox_filled() -> None:
        while await inbox_count(container) < 20:  # noqa: ASYNC110 (the inbox is the record)
            await asyncio.sleep(0.01)

    await asyncio.wait_for(inbox_filled(), timeout=60)
    assert telegram.sent_ids == [(await row(container, "telegram-while-paced:0")).id]
    inbox_done.set()
    stop.set()
    await asyncio.wait_for(running, timeout=60)


class LateTimeline:
    """A virtual clock whose sleepers wake in time order, each late by the next of ``lateness``
    (a busy event loop), so concurrent tasks can be paced without real time passing."""

    def __init__(self, lateness: Iterator[float]) -> None:
        self.now = 0.0
        self.lateness = lateness
        self.sleepers: list[tuple[float, int, asyncio.Future[None]]] = []
        self.order = count()

    async def sleep(self, seconds: float) -> None:
        woken = asyncio.get_running_loop().create_future()
        wake_at = self.now + seconds + next(self.lateness)
        heapq.heappush(self.sleepers, (wake_at, next(self.order), woken))
        await woken

    async def run(self, tasks: list[asyncio.Task[None]]) -> None:
        while not all(task.done() for task in tasks):
            for _ in range(10):  # let every task that can run reach its next sleep
                await asyncio.sleep(0)
            if self.sleepers:
                wake_at, _, woken = heapq.heappop(self.sleepers)
                self.now = max(self.now, wake_at)
                woken.set_result(None)


async def test_no_more_sends_start_in_one_second_than_the_rate_even_when_sleeps_wake_late() -> None:
    timeline = LateTimeline(cycle([0.35, 0.0, 0.0, 0.2, 0.0]))
    pacer = Pacer(
        rate=10,
        per_chat_interval=0.0,
        margin=0.0,
        monotonic=lambda: timeline.now,
        sleep=timeline.sleep,
    )
    starts: list[float] = []

    async def send(chat: int) -> None:
        await pacer.next_slot()
        assert await pacer.take_chat(chat) == 0
        starts.append(timeline.now)

    tasks = [asyncio.ensure_future(send(chat)) for chat in range(60)]
    await timeline.run(tasks)

    assert len(starts) == 60
    most = max(sum(1 for moment in starts if first <= moment < first + 1.0) for first in starts)
    assert most == 10


def _plan_nodes(plan: dict[str, Any]) -> Iterator[dict[str, Any]]:
    yield plan
    for child in plan.get("Plans", []):
        yield from _plan_nodes(child)


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
@pytest.mark.parametrize("sent_before", [0, 1_500], ids=["new outbox", "outbox in use"])
async def test_postgresql_claims_and_records_by_index_when_statistics_say_the_queue_is_empty(
    container: Container, sent_before: int
) -> None:
    # The statistics are taken when nothing is queued (as it is most of the time): in a new
    # outbox, or one that has sent 1,500 messages. Then a broadcast queues 600. A claim of 50
    # must read 50 due rows in index order, not all 600 and sort them, and find the rest by
    # key; recording 50 results must find each row by its primary key, not walk every row in
    # flight (or the table) once per result.
    users = [await add_user(container, chat_id=900 + n) for n in range(10)]

    async def broadcast(prefix: str, messages: int) -> None:
        uow = container.uow()
        async with uow:
            for n in range(messages):
                await outbox.enqueue(
                    uow,
                    recipient_user_id=users[n % len(users)],
                    channel=Channel.TELEGRAM,
                    kind=NotificationKind.PANEL_BROADCAST,
                    lane=Lane.NORMAL,
                    message_key=NotificationKind.PANEL_BROADCAST,
                    params={"time": "2026-03-10T10:00:00+00:00"},
                    dedupe_key=f"{prefix}:{n}",
                )
            await uow.commit()

    await broadcast("sent-before", sent_before)
    async with container.engine.begin() as connection:
        await connection.execute(update(OutboxMessage).values(state=OutboxState.SENT))
    async with container.engine.connect() as connection:
        await connection.execution_options(isolation_level="AUTOCOMMIT")
        await connection.execute(text("VACUUM ANALYZE outbox_messages"))
    await broadcast("stale-statistics", 600)
    now = container.clock.now()
    worker = dispatcher(container, FakeTelegram())

    async with container.engine.connect() as connection, connection.begin():
        await connection.execute(POSTGRESQL_CLAIM_PLAN)
        claim_plan = (
            await connection.execute(
                text("EXPLAIN (ANALYZE, FORMAT JSON) " + POSTGRESQL_CLAIM.element.text),
                {
                    "now": now,
                    "lease_until": now + timedelta(minutes=1),
                    "worker": "explain",
                    "limit": 50,
                    "max_rank": 2,
                },
            )  # fmt: skip
        ).scalar_one()[0]["Plan"]
        await connection.rollback()
    scans = [
        node
        for node in _plan_nodes(claim_plan)
        if "Relation Name" in node and node["Node Type"] != "ModifyTable"
    ]
    assert {node["Node Type"] for node in scans} == {"Index Scan"}, claim_plan
    due_scans = [node for node in scans if node["Relation Name"] == "outbox_messages"]
    assert {node["Index Name"] for node in due_scans} == {
        "ix_outbox_messages_due",
        "pk_outbox_messages",
    }
    # Every scan stops at the batch: the due rows' two (expired leases, then queued), and the
    # lookups by key of the claimed rows, their recipients and their links.
    assert max(node["Actual Rows"] * node["Actual Loops"] for node in scans) <= 50

    claimed = await worker.claim_batch(50)
    assert len(claimed) == 50
    async with container.engine.connect() as connection, connection.begin():
        await connection.execute(POSTGRESQL_RECORD_PLAN)
        record_plan = (
            await connection.execute(
                text("EXPLAIN (ANALYZE, FORMAT JSON) " + POSTGRESQL_RECORD[Outcome.SENT].text),
                {
                    "ids": [m.id for m in claimed],
                    "attempts": [m.attempts for m in claimed],
                    "ats": [now] * 50,
                    "errors": [None] * 50,
                    "provider_ids": [1] * 50,
                    "worker": worker.worker_id,
                },
            )  # fmt: skip
        ).scalar_one()[0]["Plan"]
        await connection.rollback()
    nodes = list(_plan_nodes(record_plan))
    # The update is fed the 50 rows (it returns none: the row count says how many were ours).
    assert record_plan["Node Type"] == "ModifyTable"
    assert [child["Actual Rows"] for child in record_plan["Plans"]] == [50], record_plan
    assert {n["Index Name"] for n in nodes if "Index Name" in n} == {"pk_outbox_messages"}
    assert "Seq Scan" not in {n["Node Type"] for n in nodes}
    # Each part of the plan runs once and handles the batch, no more: no rescans per result.
    assert {n["Actual Loops"] for n in nodes} == {1}, record_plan
    # (An index scan may count the dead versions the claims left behind; the rows are 50.)
    assert max(n["Actual Rows"] for n in nodes if n["Node Type"] != "Bitmap Index Scan") <= 50
    function_scans = [n for n in nodes if n["Node Type"] == "Function Scan"]
    assert [n["Actual Loops"] for n in function_scans] == [1]
