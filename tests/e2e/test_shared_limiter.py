"""Several processes sending with one bot token keep Telegram's limits together.

Telegram allows 30 messages a second and one a second to a chat per bot token. Real
``drive-assist worker`` processes (and, in the last test, the bot's reply limiter) drain a
PostgreSQL outbox into the standalone fake Bot API, their limiter in PostgreSQL or in Redis
(``DISPATCH_LIMITER``). What counts is what the fake saw: the moment each message arrived
(its own monotonic clock), so a window is measured where Telegram would measure it.

Messages to one chat sit next to each other in the outbox, so the two workers' claims split a
chat's messages between them: only a limiter they share keeps that chat's messages apart.
"""

from __future__ import annotations

import asyncio
import json
import signal
from collections import Counter, defaultdict
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import func, insert, select
from sqlalchemy.ext.asyncio import AsyncEngine
from telegram.ext import ExtBot

from bot.reply_limiter import SharedReplyLimiter
from bot.request import AiohttpRequest
from core.db.engine import make_engine, make_session_factory
from core.db.migrate import upgrade
from core.enums import NotificationKind, OutboxState
from core.models import OutboxMessage
from core.notifications.shared_pacer import shared_telegram_pacer
from core.settings import Settings
from tests.conftest import create_postgres_database, drop_postgres_database, require_postgres
from tests.e2e.outbox_support import (
    StandaloneFake,
    add_linked_users,
    alert_row,
    reference,
    running_workers,
    standalone_fake,
    stop_process,
    tail,
    worker_environment,
)
from tests.fakes.bot_api import FAKE_TOKEN
from tests.redis_support import REDIS_URL, redis_key_prefix
from ui.notifications import render

TELEGRAM_PER_SECOND = 30
DRAIN_DEADLINE = 90.0  # seconds; 300 messages take about 11 s when the limiter works


@pytest.fixture
async def database() -> AsyncIterator[str]:
    await require_postgres()
    url = await create_postgres_database("da_e2e_limiter")
    try:
        engine = make_engine(url)
        try:
            await upgrade(engine)
        finally:
            await engine.dispose()
        yield url
    finally:
        await drop_postgres_database(url)


@pytest.fixture
async def engine(database: str) -> AsyncIterator[AsyncEngine]:
    engine = make_engine(database)
    yield engine
    await engine.dispose()


@pytest.fixture
async def fake(tmp_path: Path) -> AsyncIterator[StandaloneFake]:
    async with standalone_fake(tmp_path / "deliveries.jsonl") as server:
        yield server


@asynccontextmanager
async def limiter_settings(limiter: str) -> AsyncIterator[dict[str, str]]:
    """The environment choosing ``limiter``; Redis keys under a prefix of this test's own."""
    if limiter == "redis":
        async with redis_key_prefix("limiter") as key:
            yield {"DISPATCH_LIMITER": "redis", "DISPATCH_LIMITER_KEY": key, "REDIS_URL": REDIS_URL}
        return
    yield {"DISPATCH_LIMITER": limiter, "DISPATCH_LIMITER_KEY": "drive-assist:telegram"}


def paced_environment(
    database: str, fake: StandaloneFake, limiter: dict[str, str], margin: str = "0.15"
) -> dict[str, str]:
    """Paced, with a margin of 15 %: what these tests check is that processes share one
    limit, not how well a 3 % margin absorbs the jitter between a send's start and its arrival
    on a busy CI machine (``bench/outbox_workers.py`` measures that)."""
    env = worker_environment(database, fake, pacing="true", pacing_margin=margin)
    env.pop("REDIS_URL", None)
    env.update(limiter)
    return env


async def seed(engine: AsyncEngine, chats: int, per_chat: int) -> Counter[tuple[int, str]]:
    """``per_chat`` alerts to each of ``chats`` chats, a chat's alerts next to each other in
    the outbox. Returns what should arrive: each (chat, text) once."""
    now = datetime.now(UTC) - timedelta(minutes=1)  # the workers run on the real clock
    chat_ids = [8_000_001 + n for n in range(chats)]
    async with make_session_factory(engine)() as session:
        users = await add_linked_users(session, chat_ids, now=now)
        rows = [
            alert_row(user, chat * per_chat + k + 1, now=now)
            for chat, user in enumerate(users)
            for k in range(per_chat)
        ]
        await session.execute(insert(OutboxMessage), rows)
        await session.commit()
    return Counter(
        (chat_ids[chat], render(NotificationKind.DISRUPTION_ALERT,
                                {"reference": reference(chat * per_chat + k + 1)}, "en_GB"))
        for chat in range(chats)
        for k in range(per_chat)
    )  # fmt: skip


async def unsent(engine: AsyncEngine) -> int:
    async with engine.connect() as connection:
        return int(
            await connection.scalar(
                select(func.count()).where(
                    OutboxMessage.state.in_([OutboxState.QUEUED, OutboxState.SENDING])
                )
            )
            or 0
        )


async def wait_until_drained(engine: AsyncEngine, running: list[Any], logs: list[Path]) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + DRAIN_DEADLINE
    while left := await unsent(engine):
        for worker, log in zip(running, logs, strict=True):
            assert worker.returncode is None, f"a worker ended early:\n{tail(log)}"
        assert loop.time() < deadline, f"{left} not sent:\n{tail(logs[0])}"
        await asyncio.sleep(0.2)


def arrivals(fake: StandaloneFake) -> list[dict[str, Any]]:
    return [json.loads(line) for line in fake.record.read_text(encoding="utf-8").splitlines()]


async def fake_calls(fake: StandaloneFake, which: str) -> list[dict[str, Any]]:
    async with httpx.AsyncClient() as client:
        response = await client.get(f"http://127.0.0.1:{fake.port}/_fake/{which}")
    response.raise_for_status()
    return list(response.json())


def most_in_one_second(times: list[float]) -> int:
    """The most arrivals in any half-open window [t, t + 1 s)."""
    times, most, first = sorted(times), 0, 0
    for last, moment in enumerate(times):
        while moment - times[first] >= 1.0:
            first += 1
        most = max(most, last - first + 1)
    return most


def closest_to_one_chat(seen: list[dict[str, Any]]) -> float:
    """The shortest time between two arrivals in one chat."""
    per_chat: dict[int, list[float]] = defaultdict(list)
    for arrival in seen:
        per_chat[arrival["chat_id"]].append(arrival["at"])
    gaps = [
        later - earlier
        for moments in map(sorted, per_chat.values())
        for earlier, later in zip(moments, moments[1:], strict=False)
    ]
    return min(gaps, default=float("inf"))


@pytest.mark.postgres_only
@pytest.mark.parametrize("limiter", ["postgres", "redis"])
async def test_two_workers_sharing_a_limiter_keep_telegrams_limits_between_them(
    limiter: str, database: str, engine: AsyncEngine, fake: StandaloneFake, tmp_path: Path
) -> None:
    expected = await seed(engine, chats=60, per_chat=5)
    logs = [tmp_path / "worker-a.log", tmp_path / "worker-b.log"]
    async with limiter_settings(limiter) as chosen:
        async with running_workers(paced_environment(database, fake, chosen), logs) as running:
            await wait_until_drained(engine, running, logs)
    invalid = await fake.invalid_requests()
    await stop_process(fake.process, signal.SIGTERM)  # closes the record file

    seen = arrivals(fake)
    most, closest = most_in_one_second([a["at"] for a in seen]), closest_to_one_chat(seen)
    print(f"{limiter}: {len(seen)} arrivals, most in one second {most}, closest {closest:.3f} s")
    assert invalid == []
    assert Counter((a["chat_id"], a["text"]) for a in seen) == expected  # none lost, none twice
    assert most <= TELEGRAM_PER_SECOND
    assert closest >= 1.0
    for log in logs:  # both workers sent their share
        assert "Handled" in log.read_text(encoding="utf-8")


@pytest.mark.postgres_only
async def test_two_workers_each_pacing_alone_break_telegrams_limit(
    database: str, engine: AsyncEngine, fake: StandaloneFake, tmp_path: Path
) -> None:
    """What the shared limiter is for, and proof the check above can fail."""
    await seed(engine, chats=400, per_chat=1)
    logs = [tmp_path / "worker-a.log", tmp_path / "worker-b.log"]
    async with limiter_settings("local") as chosen:
        env = paced_environment(database, fake, chosen, margin="0.03")
        async with running_workers(env, logs) as running:
            await wait_until_drained(engine, running, logs)
    await stop_process(fake.process, signal.SIGTERM)
    assert most_in_one_second([a["at"] for a in arrivals(fake)]) > TELEGRAM_PER_SECOND


@pytest.mark.postgres_only
@pytest.mark.parametrize("limiter", ["postgres", "redis"])
async def test_the_bots_replies_take_turns_with_a_worker_and_wait_out_flood_control(
    limiter: str, database: str, engine: AsyncEngine, fake: StandaloneFake, tmp_path: Path
) -> None:
    expected = await seed(engine, chats=20, per_chat=3)
    chats = sorted({chat for chat, _ in expected})
    # Telegram answers the first reply to one chat with 429, retry after 1 s.
    async with httpx.AsyncClient() as client:
        response = await client.post(
            f"http://127.0.0.1:{fake.port}/_fake/fail_next",
            json={"method": "sendMessage", "status": 429, "retry_after": 1,
                  "chat_id": chats[0], "times": 1},
        )  # fmt: skip
        response.raise_for_status()
    logs = [tmp_path / "worker.log"]
    async with limiter_settings(limiter) as chosen:
        settings = Settings(
            database_url=database,
            redis_url=chosen.get("REDIS_URL"),
            dispatch_limiter=chosen["DISPATCH_LIMITER"],  # type: ignore[arg-type]
            dispatch_limiter_key=chosen["DISPATCH_LIMITER_KEY"],
            dispatch_pacing_margin=0.15,
        )
        pacer = shared_telegram_pacer(settings)
        assert pacer is not None
        bot = ExtBot(
            token=FAKE_TOKEN,
            base_url=fake.base_url,
            request=AiohttpRequest(connection_pool_size=64),
            rate_limiter=SharedReplyLimiter(pacer, max_retries=3),
        )
        async with bot:
            # Before the worker starts, so this reply is the one Telegram turns away.
            await bot.send_message(chat_id=chats[0], text="Reply 0")
            assert len(arrivals(fake)) == 1
            async with running_workers(paced_environment(database, fake, chosen), logs) as running:
                replies = [(chat, f"Reply {n} in chat {chat}") for chat in chats for n in (1, 2)]
                await asyncio.gather(
                    *(bot.send_message(chat_id=chat, text=text) for chat, text in replies)
                )
                await wait_until_drained(engine, running, logs)
    failed = await fake_calls(fake, "failed_calls")
    await stop_process(fake.process, signal.SIGTERM)

    seen = arrivals(fake)
    assert [(call["chat_id"], call["status"]) for call in failed] == [(chats[0], 429)]
    replies.append((chats[0], "Reply 0"))  # sent again after the 429, and only once
    assert Counter((a["chat_id"], a["text"]) for a in seen) == expected + Counter(replies)
    assert most_in_one_second([a["at"] for a in seen]) <= TELEGRAM_PER_SECOND
    assert closest_to_one_chat(seen) >= 1.0
