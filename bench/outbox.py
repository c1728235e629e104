"""Outbox dispatcher benchmark: throughput, pacing and critical-lane latency on PostgreSQL.

Three measurements, each against the fake Bot API (``tests/fakes/bot_api.py``) running
standalone in a process of its own and recording every accepted ``sendMessage`` with its
arrival time, and one dispatcher on a PostgreSQL database this script creates and drops:

1. **Throughput, pacing off.** 10,000 queued notifications drained end to end (claim, render,
   send, record), over ``--rounds`` rounds. Target: at least 500 messages/s. For context only,
   each round also times a bare loop calling ``bot.send_message`` for the same chats and texts
   with the same concurrency, through the same ``Bot`` and the same fake server (no target:
   Telegram allows 30 messages a second, so the paced path is what matters).
2. **Pacing on** (the defaults: 30 messages/s overall, 1 message/s per chat): ``--paced``
   messages, the first 30 to three busy chats (ten each), the rest round 300 other chats.
   Rate and per-chat spacing come from the fake server's arrival times. Targets: at least
   28 messages/s sustained; no chat gets two messages within one second.
3. **Critical lane.** 5,000 normal-lane broadcasts queued, the dispatcher running; then one
   critical disruption alert queued through ``core.notifications.outbox.enqueue``. Target: the
   alert reaches the fake server within 2 s of being queued (measured with pacing on and off).

    .venv/bin/python bench/outbox.py

``BENCH_POSTGRES_DSN`` (default ``postgresql://postgres@127.0.0.1:5432/postgres``) is the
administrative connection used to create and drop the benchmark's own database.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import shlex
import subprocess
import sys
import tempfile
import time
import uuid
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import asyncpg
from sqlalchemy import exists, insert, select, update

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bot.channel import TelegramChannel  # noqa: E402
from bot.request import build_bot  # noqa: E402
from core.bootstrap import Container, bootstrap  # noqa: E402
from core.db.migrate import upgrade  # noqa: E402
from core.enums import LANE_ORDER, Channel, Lane, Locale, NotificationKind, OutboxState  # noqa: E402
from core.models import OutboxMessage, TelegramLink, User  # noqa: E402
from core.notifications import outbox  # noqa: E402
from core.notifications.channels import InboxChannel  # noqa: E402
from core.notifications.dispatcher import Dispatcher, DispatchSettings  # noqa: E402
from core.settings import Settings  # noqa: E402
from processes.serve import freeze_start_up_objects  # noqa: E402
from tests.fakes.bot_api import FAKE_TOKEN  # noqa: E402
from ui.notifications import render  # noqa: E402

ADMIN_DSN = os.environ.get("BENCH_POSTGRES_DSN", "postgresql://postgres@127.0.0.1:5432/postgres")
RATE_TARGET = 500.0
PACED_RATE_TARGET = 28.0
CRITICAL_TARGET_SECONDS = 2.0
BROADCAST_PARAMS = {"time": "2026-11-24T10:00:00+00:00"}


# -- database and fake server --------------------------------------------------------------


async def create_database() -> str:
    name = f"da_bench_outbox_{uuid.uuid4().hex[:8]}"
    connection = await asyncpg.connect(ADMIN_DSN)
    try:
        await connection.execute(f'CREATE DATABASE "{name}"')
    finally:
        await connection.close()
    base = ADMIN_DSN.rsplit("/", 1)[0].replace("postgresql://", "postgresql+asyncpg://")
    return f"{base}/{name}"


async def drop_database(url: str) -> None:
    connection = await asyncpg.connect(ADMIN_DSN)
    try:
        await connection.execute(f'DROP DATABASE IF EXISTS "{url.rsplit("/", 1)[1]}" WITH (FORCE)')
    finally:
        await connection.close()


class FakeServer:
    """``python -m tests.fakes.bot_api`` in its own process, recording to a JSON-lines file."""

    def __init__(self, record: Path) -> None:
        self.record = record
        self.process = subprocess.Popen(
            [sys.executable, "-m", "tests.fakes.bot_api", "--port", "0", "--print-port",
             "--record", str(record)],
            cwd=ROOT, stdout=subprocess.PIPE, text=True,
        )  # fmt: skip
        assert self.process.stdout is not None
        self.port = int(self.process.stdout.readline())
        self.base_url = f"http://127.0.0.1:{self.port}/bot"

    def deliveries(self) -> list[dict[str, Any]]:
        """Every delivery so far; the file is read on from where the last call stopped (polling
        it whole every 50 ms would cost the dispatcher in this process more than it costs)."""
        if not hasattr(self, "_seen"):
            self._seen: list[dict[str, Any]] = []
            self._offset = 0
        with self.record.open("rb") as lines:
            lines.seek(self._offset)
            for line in lines:
                if not line.endswith(b"\n"):
                    break  # half written: read it next time
                self._offset += len(line)
                if line.strip():
                    self._seen.append(json.loads(line))
        return self._seen

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=10)


# -- seeding ---------------------------------------------------------------------------------


async def seed_users(container: Container, chat_ids: Sequence[int]) -> dict[int, int]:
    """One active user with an active Telegram link per chat; returns chat id -> user id."""
    now = container.clock.now()
    users = User.__table__
    async with container.session_factory() as session:
        connection = await session.connection()
        result = await connection.execute(
            insert(users).returning(users.c.id, sort_by_parameter_order=True),
            [
                {"email": f"bench{chat}@example.org", "display_name": f"Bench user {chat}",
                 "locale": Locale.EN_GB, "is_active": True, "created_at": now}
                for chat in chat_ids
            ],
        )  # fmt: skip
        ids = [row.id for row in result]
        await connection.execute(
            insert(TelegramLink.__table__),
            [
                {"user_id": user_id, "telegram_user_id": chat, "chat_id": chat,
                 "is_active": True, "linked_at": now}
                for user_id, chat in zip(ids, chat_ids, strict=True)
            ],
        )  # fmt: skip
        await session.commit()
    return dict(zip(chat_ids, ids, strict=True))


async def seed_broadcasts(
    container: Container, users: dict[int, int], chats: Sequence[int], prefix: str
) -> None:
    """One normal-lane panel broadcast per entry of ``chats``, all due now, in that order."""
    now = container.clock.now()
    async with container.session_factory() as session:
        connection = await session.connection()
        for start in range(0, len(chats), 5000):
            await connection.execute(
                insert(OutboxMessage.__table__),
                [
                    {"recipient_user_id": users[chat], "channel": Channel.TELEGRAM,
                     "kind": NotificationKind.PANEL_BROADCAST, "lane": Lane.NORMAL,
                     "lane_rank": LANE_ORDER[Lane.NORMAL],
                     "message_key": NotificationKind.PANEL_BROADCAST.value,
                     "params": BROADCAST_PARAMS, "dedupe_key": f"{prefix}:{start + n}",
                     "not_before": now, "state": OutboxState.QUEUED, "attempts": 0,
                     "created_at": now}
                    for n, chat in enumerate(chats[start : start + 5000])
                ],
            )  # fmt: skip
        await session.commit()


async def unsent(container: Container) -> bool:
    """Whether anything is still queued or sending (an index probe, not a count)."""
    async with container.session_factory() as session:
        statement = select(
            exists().where(OutboxMessage.state.in_([OutboxState.QUEUED, OutboxState.SENDING]))
        )
        return bool(await session.scalar(statement))


class StartTimes:
    """Wraps the Telegram channel to note when each send starts (the pacer has just let it go),
    so the pacer's own cap can be checked apart from the fake server's arrival times."""

    def __init__(self, channel: TelegramChannel) -> None:
        self.channel = channel
        self.starts: list[float] = []

    async def send(self, message: Any) -> Any:
        self.starts.append(time.monotonic())
        return await self.channel.send(message)


def make_dispatcher(
    container: Container, bot: Any, settings: DispatchSettings, *, starts: bool = False
) -> Dispatcher:
    telegram: Any = TelegramChannel(bot, render)
    channels = {
        Channel.TELEGRAM: StartTimes(telegram) if starts else telegram,
        Channel.INBOX: InboxChannel(container.session_factory, container.clock),
    }
    return Dispatcher(container, container.clock, channels, settings, "bench")


async def drain(
    container: Container, dispatcher: Dispatcher, expected_sent: int | None = None
) -> None:
    """The worker's loop (``run_forever``) until every row is sent.

    With ``expected_sent``, done when the dispatcher has recorded that many sends, counted in
    this process as it writes them: the throughput run, where polling the database every 0.1 s
    from this process (a session and a query, about 2 % of the CPU the dispatcher has) would
    be charged to the dispatcher. Without, the database is polled every 0.1 s. Either way the
    outbox is checked empty at the end."""
    stop = asyncio.Event()
    if expected_sent is not None:
        record, sent = dispatcher.record, 0

        async def counting(results: list[Any]) -> None:
            nonlocal sent
            await record(results)
            sent += sum(1 for result in results if result.outcome == "sent")
            if sent >= expected_sent:
                stop.set()

        dispatcher.record = counting  # type: ignore[method-assign]
    running = asyncio.create_task(dispatcher.run_forever(stop))
    try:
        if expected_sent is not None:
            await stop.wait()
        else:
            while await unsent(container):  # noqa: ASYNC110 (the database is the record)
                await asyncio.sleep(0.1)
            stop.set()
        await running
    finally:
        if expected_sent is not None:
            dispatcher.record = record  # type: ignore[method-assign]
    assert not await unsent(container), "the dispatcher stopped with messages left"


# -- 1. throughput ----------------------------------------------------------------------------


async def bare_loop(bot: Any, jobs: Sequence[tuple[int, str]], concurrency: int) -> float:
    """``bot.send_message`` for every job, ``concurrency`` at once; returns the seconds taken."""
    pending = iter(jobs)

    async def sender() -> None:
        for chat_id, text in pending:
            await bot.send_message(chat_id=chat_id, text=text)

    started = time.perf_counter()
    await asyncio.gather(*(sender() for _ in range(concurrency)))
    return time.perf_counter() - started


async def throughput(
    container: Container,
    bot: Any,
    fake: FakeServer,
    messages: int,
    rounds: int,
    settings: DispatchSettings,
) -> list[tuple[float, float]]:
    chats = list(range(1_000_001, 1_001_001))  # 1,000 recipients
    users = await seed_users(container, chats)
    order = [chats[n % len(chats)] for n in range(messages)]
    text = render(NotificationKind.PANEL_BROADCAST.value, BROADCAST_PARAMS, Locale.EN_GB.value)
    dispatcher = make_dispatcher(container, bot, replace(settings, pacing=False))
    figures = []
    for round_number in range(1, rounds + 1):
        await seed_broadcasts(container, users, order, f"throughput:{round_number}")
        before = len(fake.deliveries())
        jobs = [(chat, text) for chat in order]

        async def run_bare(jobs: list[tuple[int, str]] = jobs) -> tuple[float, float]:
            cpu = time.process_time()
            seconds = await bare_loop(bot, jobs, settings.concurrency)
            return seconds, time.process_time() - cpu

        async def run_dispatcher() -> tuple[float, float]:
            cpu, started = time.process_time(), time.perf_counter()
            await drain(container, dispatcher, expected_sent=messages)
            return time.perf_counter() - started, time.process_time() - cpu

        # Odd rounds bare loop first, even rounds dispatcher first: a busy spell on the machine
        # then does not always land on the same side.
        if round_number % 2:
            (bare_seconds, bare_cpu), (dispatch_seconds, dispatch_cpu) = (
                await run_bare(),
                await run_dispatcher(),
            )
        else:
            (dispatch_seconds, dispatch_cpu), (bare_seconds, bare_cpu) = (
                await run_dispatcher(),
                await run_bare(),
            )
        delivered = len(fake.deliveries()) - before
        assert delivered == 2 * messages, f"expected {2 * messages} deliveries, saw {delivered}"
        figures.append((messages / bare_seconds, messages / dispatch_seconds))
        print(
            f"  round {round_number}: bare loop {messages / bare_seconds:7.1f} msg/s "
            f"({bare_cpu / messages * 1000:.3f} ms CPU/msg), "
            f"dispatcher {messages / dispatch_seconds:7.1f} msg/s ({dispatch_seconds:.2f} s, "
            f"{dispatch_cpu / messages * 1000:.3f} ms CPU/msg), "
            f"ratio {bare_seconds / dispatch_seconds:.2f} (context, no target)",
            flush=True,
        )
    return figures


# -- 2. pacing ---------------------------------------------------------------------------------


def worst_window(times: Sequence[float], width: float = 1.0) -> int:
    """The most arrivals in any half-open window [t, t + width)."""
    times = sorted(times)
    most, first = 0, 0
    for last, moment in enumerate(times):
        while moment - times[first] >= width:
            first += 1
        most = max(most, last - first + 1)
    return most


async def paced(
    container: Container, bot: Any, fake: FakeServer, messages: int, settings: DispatchSettings
) -> dict:
    quiet = list(range(2_000_001, 2_000_301))
    busy = [2_100_001, 2_100_002, 2_100_003]
    users = await seed_users(container, quiet + busy)
    # Ten messages to each busy chat at the head of the queue, the rest round the quiet ones.
    order = [busy[n % 3] for n in range(30)]
    order += [quiet[n % len(quiet)] for n in range(messages - len(order))]
    await seed_broadcasts(container, users, order, "paced")
    dispatcher = make_dispatcher(container, bot, replace(settings, pacing=True), starts=True)
    started = time.perf_counter()
    await drain(container, dispatcher)
    elapsed = time.perf_counter() - started
    arrivals = [d for d in fake.deliveries() if 2_000_000 < d["chat_id"] < 2_200_000]
    assert len(arrivals) == messages, f"expected {messages} deliveries, saw {len(arrivals)}"
    times = sorted(d["at"] for d in arrivals)
    per_chat: dict[int, list[float]] = defaultdict(list)
    for delivery in arrivals:
        per_chat[delivery["chat_id"]].append(delivery["at"])
    gaps = [
        later - earlier
        for moments in per_chat.values()
        for earlier, later in zip(sorted(moments), sorted(moments)[1:], strict=False)
    ]
    # Sustained: from the first arrival to the last one for a quiet chat. After that only the
    # busy chats' deferred messages are left, and three chats can take three messages a second.
    body_end = max(d["at"] for d in arrivals if d["chat_id"] not in busy)
    in_body = [t for t in times if t <= body_end]
    return {
        "messages": messages,
        "elapsed": elapsed,
        "overall": (len(times) - 1) / (times[-1] - times[0]),
        "rate": (len(in_body) - 1) / (body_end - times[0]),
        "body_messages": len(in_body),
        "worst_second": worst_window(times),
        "worst_start_second": worst_window(dispatcher.channels[Channel.TELEGRAM].starts),
        "worst_chat_second": max(worst_window(moments) for moments in per_chat.values()),
        "min_chat_gap": min(gaps, default=float("inf")),
        "busy_chat_messages": len(per_chat[busy[0]]),
    }


# -- 3. critical lane --------------------------------------------------------------------------


async def critical(
    container: Container,
    bot: Any,
    fake: FakeServer,
    settings: DispatchSettings,
    *,
    pacing: bool,
    chat_base: int,
) -> dict:
    chats = list(range(chat_base + 1, chat_base + 1001))
    alert_chat = chat_base + 99_999
    users = await seed_users(container, [*chats, alert_chat])
    await seed_broadcasts(
        container, users, [chats[n % len(chats)] for n in range(5000)], f"behind:{chat_base}"
    )
    dispatcher = make_dispatcher(container, bot, replace(settings, pacing=pacing))
    stop = asyncio.Event()
    running = asyncio.create_task(dispatcher.run_forever(stop))

    # Well into the broadcast, never after it: paced, 1.5 s in (about 45 sent); unpaced, the
    # 5,000 go in about 1.5 s on a fast machine, so as soon as 1,000 have arrived.
    def broadcasts_arrived() -> int:
        return sum(1 for d in fake.deliveries() if chat_base < d["chat_id"] < alert_chat)

    started = time.monotonic()
    while time.monotonic() - started < 1.5 and (pacing or broadcasts_arrived() < 1000):  # noqa: ASYNC110 (the fake's file is the record)
        await asyncio.sleep(0.01)
    queued_at = time.time()
    behind = 5000 - broadcasts_arrived()
    uow = container.uow()
    async with uow:
        await outbox.enqueue(
            uow,
            recipient_user_id=users[alert_chat],
            channel=Channel.TELEGRAM,
            kind=NotificationKind.DISRUPTION_ALERT,
            lane=Lane.CRITICAL,
            message_key=NotificationKind.DISRUPTION_ALERT.value,
            params={"reference": "BEN-0001"},
            dedupe_key=f"alert:{chat_base}",
        )
        await uow.commit()
    arrived: dict[str, Any] | None = None
    deadline = time.monotonic() + 60
    while arrived is None and time.monotonic() < deadline:
        await asyncio.sleep(0.05)
        arrived = next((d for d in fake.deliveries() if d["chat_id"] == alert_chat), None)
    stop.set()
    await running
    async with container.session_factory() as session:  # leave no broadcast for the next run
        await session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.state == OutboxState.QUEUED)
            .values(state=OutboxState.CANCELLED)
        )
        await session.commit()
    assert arrived is not None, "the critical alert never arrived"
    ahead = sum(
        1
        for d in fake.deliveries()
        if chat_base < d["chat_id"] < alert_chat and queued_at <= d["wall"] < arrived["wall"]
    )
    return {"latency": arrived["wall"] - queued_at, "broadcast_sent_first": ahead,
            "behind": behind}  # fmt: skip


# -- report ------------------------------------------------------------------------------------


def verdict(met: bool) -> str:
    return "met" if met else "NOT met"


async def _main(
    messages: int,
    rounds: int,
    paced_messages: int,
    critical_runs: int,
    settings: DispatchSettings,
) -> None:
    url = await create_database()
    workdir = Path(tempfile.mkdtemp(prefix="da_bench_outbox_"))
    fake = FakeServer(workdir / "deliveries.jsonl")
    container = bootstrap(Settings(database_url=url))
    try:
        await upgrade(container.engine)
        async with build_bot(FAKE_TOKEN, fake.base_url, pool_size=settings.concurrency) as bot:
            freeze_start_up_objects()  # as `drive-assist worker` does, for both loops alike
            print(
                f"outbox benchmark on PostgreSQL ({datetime.now(UTC):%Y-%m-%d %H:%M} UTC), "
                f"concurrency {settings.concurrency}, batch size {settings.batch_size}",
                flush=True,
            )
            print(f"1. pacing off, {messages:,} notifications, {rounds} rounds:", flush=True)
            figures = await throughput(container, bot, fake, messages, rounds, settings)
            print(f"2. pacing on (defaults), {paced_messages:,} notifications:", flush=True)
            pacing = await paced(container, bot, fake, paced_messages, settings)
            print(
                f"  {pacing['rate']:.2f} msg/s sustained ({pacing['body_messages']} messages "
                f"before only the busy chats were left), {pacing['overall']:.2f} msg/s "
                f"overall ({pacing['elapsed']:.1f} s to drain); "
                f"most in any second: {pacing['worst_start_second']} sends started, "
                f"{pacing['worst_second']} arrivals at the fake server, "
                f"{pacing['worst_chat_second']} to one chat; shortest gap between two messages "
                f"to one chat {pacing['min_chat_gap']:.3f} s "
                f"(busy chats got {pacing['busy_chat_messages']} each)",
                flush=True,
            )
            print("3. a critical alert queued behind 5,000 normal-lane broadcasts:", flush=True)
            latencies: dict[str, float] = {}
            for run in range(critical_runs):
                for label, is_paced in (("pacing on", True), ("pacing off", False)):
                    base = 3_000_000 + 200_000 * (2 * run + (not is_paced))
                    result = await critical(
                        container, bot, fake, settings, pacing=is_paced, chat_base=base
                    )
                    latencies[f"{label} #{run + 1}"] = result["latency"]
                    print(
                        f"  {label} #{run + 1}: sent {result['latency']:.3f} s after it was "
                        f"queued behind {result['behind']:,} unsent broadcasts "
                        f"({result['broadcast_sent_first']:,} reached the fake server in between)",
                        flush=True,
                    )
    finally:
        await container.dispose()
        fake.stop()
        await drop_database(url)
    worst_rate = min(dispatched for _, dispatched in figures)
    print("targets:")
    print(f"  >= {RATE_TARGET:.0f} msg/s unpaced: {verdict(worst_rate >= RATE_TARGET)} "
          f"(lowest {worst_rate:.1f})")  # fmt: skip
    print(f"  >= {PACED_RATE_TARGET:.0f} msg/s paced: "
          f"{verdict(pacing['rate'] >= PACED_RATE_TARGET)} ({pacing['rate']:.2f})")  # fmt: skip
    limit = math.floor(settings.global_rate)
    print(f"  <= {limit} sends started in any 1 s: "
          f"{verdict(pacing['worst_start_second'] <= limit)} "
          f"(most {pacing['worst_start_second']}; "
          f"at the fake server {pacing['worst_second']})")  # fmt: skip
    print(f"  no chat above 1 msg/s: {verdict(pacing['worst_chat_second'] <= 1)} "
          f"(most in one second to one chat: {pacing['worst_chat_second']})")  # fmt: skip
    worst_latency = max(latencies.values())
    met = verdict(worst_latency <= CRITICAL_TARGET_SECONDS)
    print(f"  critical alert within {CRITICAL_TARGET_SECONDS:.0f} s: {met} "
          f"(worst {worst_latency:.3f} s)")  # fmt: skip
    print("command: " + " ".join(shlex.quote(part) for part in [_python(), *sys.argv]))


def _python() -> str:
    executable = Path(sys.executable)
    try:
        return str(executable.relative_to(Path.cwd()))
    except ValueError:
        return str(executable)


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--messages", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--paced", type=int, default=900, help="messages in the paced run")
    parser.add_argument(
        "--critical-runs", type=int, default=3, help="critical-alert runs, paced and unpaced"
    )
    defaults = DispatchSettings()
    parser.add_argument("--concurrency", type=int, default=defaults.concurrency)
    parser.add_argument("--batch-size", type=int, default=defaults.batch_size)
    args = parser.parse_args(argv)
    settings = replace(defaults, concurrency=args.concurrency, batch_size=args.batch_size)
    asyncio.run(_main(args.messages, args.rounds, args.paced, args.critical_runs, settings))


if __name__ == "__main__":
    main()
