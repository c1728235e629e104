"""The shared send limiter (``core.notifications.shared_pacer``) in Redis and in PostgreSQL.

Two pacer objects on one store stand for two processes: each has a connection of its own, and
they agree only through the store. (``tests/e2e/test_shared_limiter.py`` runs real worker
processes.) Rates here are small, so a window's edge is seconds of test, not milliseconds.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest

from core.db.engine import make_engine
from core.db.migrate import upgrade
from core.notifications.shared_pacer import Limits, PostgresPacer, RedisPacer
from tests.conftest import create_postgres_database, drop_postgres_database, require_postgres
from tests.redis_support import REDIS_URL, redis_key_prefix

SharedPacer = RedisPacer | PostgresPacer
MakePacer = Callable[..., SharedPacer]


@pytest.fixture(params=["redis", "postgres"])
async def make_pacer(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[MakePacer]:
    """Pacers of one limiter on one store (``request.param``), closed afterwards."""
    made: list[SharedPacer] = []
    if request.param == "redis":
        async with redis_key_prefix("pacer") as key:

            def make_redis(limits: Limits, **options: Any) -> SharedPacer:
                from redis.asyncio import Redis

                pacer = RedisPacer(Redis.from_url(REDIS_URL), key=key, limits=limits, **options)
                made.append(pacer)
                return pacer

            yield make_redis
            for pacer in made:
                await pacer.aclose()
        return
    await require_postgres()
    url = await create_postgres_database("da_test_pacer")
    try:
        engine = make_engine(url)
        await upgrade(engine)
        await engine.dispose()

        def make_postgres(limits: Limits, **options: Any) -> SharedPacer:
            pacer = PostgresPacer.from_url(url, key="telegram", limits=limits, **options)
            made.append(pacer)
            return pacer

        yield make_postgres
        for pacer in made:
            await pacer.aclose()
    finally:
        await drop_postgres_database(url)


def most_in_one_second(times: list[float]) -> int:
    times, most, first = sorted(times), 0, 0
    for last, moment in enumerate(times):
        while moment - times[first] >= 1.0:
            first += 1
        most = max(most, last - first + 1)
    return most


async def test_a_chat_taken_by_one_process_is_busy_for_another_until_an_interval_after_sent(
    make_pacer: MakePacer,
) -> None:
    limits = Limits.of(rate=30, per_chat_interval=1.0)
    one, other = make_pacer(limits), make_pacer(limits)
    assert await one.take_chat(501) == 0.0
    assert await other.take_chat(501) > 0  # in flight in the first process
    assert await other.take_chat(502) == 0.0  # another chat is free
    await one.sent(501)
    wait = await other.take_chat(501)
    assert 0.5 < wait <= limits.chat_interval  # free one interval after the send came back
    await asyncio.sleep(wait + 0.05)
    assert await other.take_chat(501) == 0.0
    assert await one.take_chat(501) > 0


async def test_a_held_chat_stays_quiet_for_retry_after_in_every_process(
    make_pacer: MakePacer,
) -> None:
    limits = Limits.of(rate=30, per_chat_interval=1.0)
    one, other = make_pacer(limits), make_pacer(limits)
    assert await one.take_chat(601) == 0.0
    await one.sent(601)
    await one.hold_chat(601, 7.0)
    assert 6.0 < await other.take_chat(601) <= 7.0
    await other.hold_chat(601, 2.0)  # a shorter hold never shortens a longer one
    assert await one.take_chat(601) > 6.0


async def test_a_busy_mark_left_by_a_process_that_died_lapses(make_pacer: MakePacer) -> None:
    limits = Limits.of(rate=30, per_chat_interval=1.0)
    dead, survivor = make_pacer(limits, in_flight_seconds=3.0), make_pacer(limits)
    assert await survivor.take_chat(700) == 0.0  # connected: the next calls take milliseconds
    assert await dead.take_chat(701) == 0.0  # and never ``sent``
    taken_at = time.monotonic()
    assert await survivor.take_chat(701) > 0
    await asyncio.sleep(max(0.0, taken_at + 3.2 - time.monotonic()))
    assert await survivor.take_chat(701) == 0.0


async def test_processes_sharing_a_limiter_start_no_more_than_the_rate_a_second_and_take_turns(
    make_pacer: MakePacer,
) -> None:
    # 5 a second, the window stretched by 20 %: what is tested is the sharing, not the margin.
    limits = Limits.of(rate=5, per_chat_interval=1.0, margin=0.2)
    # Two as dispatchers (each taking reserves its next slot), one as the bot (reserving as
    # it goes).
    pacers = [make_pacer(limits, prefetch=n < 2) for n in range(3)]
    granted: list[tuple[float, int]] = []

    async def take_slots(number: int, pacer: SharedPacer) -> None:
        for _ in range(6):
            await pacer.next_slot()
            granted.append((time.monotonic(), number))

    await asyncio.gather(*(take_slots(n, pacer) for n, pacer in enumerate(pacers)))
    assert len(granted) == 18
    assert most_in_one_second([moment for moment, _ in granted]) <= 5
    # Slots go round: in any 6 granted in a row, every process had at least one.
    order = [number for _, number in sorted(granted)]
    assert all(set(order[n : n + 6]) == {0, 1, 2} for n in range(len(order) - 6))
