"""``drive-assist worker`` processes draining a real outbox into the standalone fake Bot API.

Each test has a database of its own (PostgreSQL on 127.0.0.1:5432, or a SQLite file), migrated
and bulk seeded with one Telegram alert per linked user, each to a chat of its own, so a
delivery is identified by (chat, text). The fake runs as its own process and appends every
accepted ``sendMessage`` to a record file; that file is what "delivered" means here.

**The crash bound.** A worker commits its claim (``sending``, a lease, ``claimed_by``) before it
sends and records ``sent`` after Telegram answers. Killed with SIGKILL, it leaves the rows it had
claimed but not recorded in ``sending``: those are the rows in flight. Some of them reached
Telegram, some did not; nothing records which. When their lease runs out another worker claims
and sends each of them once more. So after a crash every message arrives at least once, and the
messages that arrive twice are at most the rows in flight at the kill, never more. A row still
``queued`` at the kill was never handed to Telegram and arrives exactly once.
"""

from __future__ import annotations

import asyncio
import signal
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from core.db.engine import make_engine, make_session_factory
from core.db.migrate import upgrade
from core.enums import NotificationKind, OutboxState
from core.models import OutboxMessage
from tests.conftest import create_postgres_database, drop_postgres_database, require_postgres
from tests.e2e.outbox_support import (
    StandaloneFake,
    add_linked_users,
    queue_alerts,
    reference,
    running_workers,
    standalone_fake,
    start_worker,
    stop_process,
    tail,
    worker_environment,
)
from ui.notifications import render

CHAT_BASE = 7_000_000
DRAIN_DEADLINE = 120.0  # seconds; only a broken worker comes near it


async def fresh_database(backend: str, tmp_path: Path) -> str:
    if backend == "sqlite":
        return f"sqlite+aiosqlite:///{tmp_path / 'outbox.sqlite3'}"
    await require_postgres()
    return await create_postgres_database("da_e2e_outbox")


@pytest.fixture
async def database(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[str]:
    """A migrated database of this test's own, dropped afterwards (``request.param``: backend)."""
    url = await fresh_database(request.param, tmp_path)
    try:
        engine = make_engine(url)
        try:
            await upgrade(engine)
        finally:
            await engine.dispose()
        yield url
    finally:
        if request.param == "postgresql":
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


async def seed_alerts(engine: AsyncEngine, count: int) -> dict[tuple[int, str], int]:
    """``count`` linked users with one due alert each. Returns what each chat should receive."""
    now = datetime.now(UTC) - timedelta(minutes=1)  # the workers run on the real clock
    chats = [CHAT_BASE + n for n in range(1, count + 1)]
    async with make_session_factory(engine)() as session:
        users = await add_linked_users(session, chats, now=now)
        await queue_alerts(session, users, now=now)
        await session.commit()
    text = {n: render(NotificationKind.DISRUPTION_ALERT, {"reference": reference(n)}, "en_GB")
            for n in range(1, count + 1)}  # fmt: skip
    return {(CHAT_BASE + n, text[n]): n for n in range(1, count + 1)}


async def states(engine: AsyncEngine) -> dict[OutboxState, int]:
    async with engine.connect() as connection:
        rows = await connection.execute(
            select(OutboxMessage.state, func.count()).group_by(OutboxMessage.state)
        )
        return {OutboxState(state): int(number) for state, number in rows.all()}


async def dedupe_keys(engine: AsyncEngine, state: OutboxState) -> set[str]:
    async with engine.connect() as connection:
        keys = await connection.scalars(
            select(OutboxMessage.dedupe_key).where(OutboxMessage.state == state)
        )
        return set(keys.all())


async def wait_until_drained(
    engine: AsyncEngine, workers: list[asyncio.subprocess.Process], logs: list[Path]
) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + DRAIN_DEADLINE
    while True:
        now = await states(engine)
        if not now.get(OutboxState.QUEUED) and not now.get(OutboxState.SENDING):
            return
        for worker, log in zip(workers, logs, strict=True):
            assert worker.returncode is None, f"a worker ended early:\n{tail(log)}"
        assert loop.time() < deadline, f"not drained: {now}\n{tail(logs[0])}"
        await asyncio.sleep(0.1)


def duplicates(delivered: dict[tuple[int, str], int]) -> int:
    return sum(times - 1 for times in delivered.values())


@pytest.mark.parametrize("database", ["postgresql", "sqlite"], indirect=True)
async def test_a_worker_killed_mid_drain_loses_nothing_and_repeats_only_what_was_in_flight(
    database: str, engine: AsyncEngine, fake: StandaloneFake, tmp_path: Path
) -> None:
    total = 2000
    expected = await seed_alerts(engine, total)
    # A short lease, so the survivor claims the crashed worker's rows within seconds.
    env = worker_environment(database, fake, lease_seconds="5")
    logs = [tmp_path / "worker-1.log", tmp_path / "worker-2.log"]
    first = await start_worker(env, logs[0])
    second: asyncio.subprocess.Process | None = None
    try:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + DRAIN_DEADLINE
        while fake.delivered_count() < total // 10:
            assert first.returncode is None, f"the worker ended early:\n{tail(logs[0])}"
            assert loop.time() < deadline, f"no deliveries:\n{tail(logs[0])}"
            await asyncio.sleep(0.02)
        first.send_signal(signal.SIGKILL)
        await first.wait()
        at_kill = await states(engine)
        in_flight = at_kill.get(OutboxState.SENDING, 0)
        in_flight_keys = await dedupe_keys(engine, OutboxState.SENDING)
        delivered_at_kill = fake.delivered_count()
        assert delivered_at_kill < total, "the worker finished before the kill: nothing tested"
        assert at_kill.get(OutboxState.SENT, 0) < total

        second = await start_worker(env, logs[1])
        await wait_until_drained(engine, [second], logs[1:])
        assert await stop_process(second, signal.SIGTERM) == 0
        invalid = await fake.invalid_requests()
    finally:
        await stop_process(first, signal.SIGKILL)
        if second is not None:
            await stop_process(second, signal.SIGKILL)
    await stop_process(fake.process, signal.SIGTERM)  # closes the record file

    delivered = fake.deliveries()
    print(
        f"{database.split(':')[0]}: {delivered_at_kill} delivered and {in_flight} in flight at "
        f"the kill, {duplicates(delivered)} delivered twice"
    )
    assert invalid == []
    assert await states(engine) == {OutboxState.SENT: total}
    assert set(delivered) == set(expected)  # every message arrived, and nothing else did
    assert max(delivered.values()) <= 2
    assert duplicates(delivered) <= in_flight
    repeated = {f"e2e:alert:{expected[key]}" for key, times in delivered.items() if times > 1}
    assert repeated <= in_flight_keys  # only rows that were in flight ever arrive twice
    assert second is not None
    async with engine.connect() as connection:
        retaken = (
            await connection.execute(
                select(OutboxMessage.claimed_by, OutboxMessage.attempts).where(
                    OutboxMessage.dedupe_key.in_(in_flight_keys)
                )
            )
        ).all()
    assert {(claimed_by.rsplit(":", 1)[1], attempts) for claimed_by, attempts in retaken} <= {
        (str(second.pid), 2)
    }


@pytest.mark.postgres_only
@pytest.mark.parametrize("database", ["postgresql"], indirect=True)
async def test_two_workers_on_postgresql_share_the_outbox_and_deliver_each_message_exactly_once(
    database: str, engine: AsyncEngine, fake: StandaloneFake, tmp_path: Path
) -> None:
    total = 5000
    expected = await seed_alerts(engine, total)
    env = worker_environment(database, fake)
    logs = [tmp_path / "worker-a.log", tmp_path / "worker-b.log"]
    async with running_workers(env, logs) as workers:
        await wait_until_drained(engine, workers, logs)
    invalid = await fake.invalid_requests()
    await stop_process(fake.process, signal.SIGTERM)

    delivered = fake.deliveries()
    async with engine.connect() as connection:
        shares = dict(
            (
                await connection.execute(
                    select(OutboxMessage.claimed_by, func.count()).group_by(
                        OutboxMessage.claimed_by
                    )
                )
            ).all()
        )
    print(f"messages per worker: {shares}")
    assert invalid == []
    assert await states(engine) == {OutboxState.SENT: total}
    assert set(delivered) == set(expected)
    assert duplicates(delivered) == 0
    assert len(shares) == 2
    assert min(shares.values()) > 0
