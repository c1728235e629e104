"""Several outbox workers and the bot sending with one bot token, through the shared limiter.

Telegram's limits (30 messages a second, one a second to a chat) hold per bot token. For each
limiter (``--limiters``: PostgreSQL, Redis) and each number of workers (``--workers``), this
script:

1. creates a PostgreSQL database of its own and queues ``--messages`` normal-lane broadcasts:
   the first 30 to three busy chats (ten each), the rest round 1,000 other chats;
2. starts the fake Bot API standalone (``python -m tests.fakes.bot_api``, recording each
   ``sendMessage`` with its arrival time), the workers (``drive-assist worker
   --no-schedulers`` with ``DISPATCH_LIMITER``), and a bot process (this script with
   ``--bot``) sending a reply every ``--reply-every`` seconds to one of the same chats through
   the bot's shared reply limiter (``bot.reply_limiter``), as answers to people would go;
3. when a third of the broadcasts have arrived, queues one critical disruption alert
   (``core.notifications.outbox.enqueue``) and times it to the fake server;
4. waits for the outbox to drain and reads the fake server's record.

Figures, from the arrival times at the fake server (its own monotonic clock), over every send
(the workers' and the bot's): one-second windows with more than 30 arrivals (and the most in
any one), chats with two arrivals less than 1 s apart (and the closest two), throughput
(first arrival to the last broadcast to a quiet chat, as ``bench/outbox.py`` measures it),
broadcasts lost and duplicated, and the critical alert's latency. Targets: 0, 0, >= 28 msg/s,
0, 0, <= 2 s.

    .venv/bin/python bench/outbox_workers.py --workers 2 4 --limiters postgres redis

``BENCH_POSTGRES_DSN`` (default ``postgresql://postgres@127.0.0.1:5432/postgres``) creates and
drops the databases; ``BENCH_REDIS_URL`` (default ``redis://127.0.0.1:6379/0``) is the Redis
the Redis limiter uses (its keys under a prefix of this run's own, deleted afterwards).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import shlex
import signal
import sys
import tempfile
import time
import uuid
from collections import Counter, defaultdict
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.outbox import (  # noqa: E402
    FakeServer,
    create_database,
    drop_database,
    seed_broadcasts,
    seed_users,
    unsent,
)
from core.bootstrap import Container, bootstrap  # noqa: E402
from core.db.migrate import upgrade  # noqa: E402
from core.enums import Channel, Lane, NotificationKind  # noqa: E402
from core.notifications import outbox  # noqa: E402
from core.settings import Settings  # noqa: E402
from tests.fakes.bot_api import FAKE_TOKEN  # noqa: E402

REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/0")
TELEGRAM_PER_SECOND = 30
RATE_TARGET = 28.0
CRITICAL_TARGET_SECONDS = 2.0
QUIET_CHATS = list(range(5_000_001, 5_001_001))
BUSY_CHATS = [5_100_001, 5_100_002, 5_100_003]
ALERT_CHAT = 5_200_001


# -- the processes -----------------------------------------------------------------------------


def environment(
    url: str, fake: FakeServer, limiter: str, key: str, margin: float | None = None
) -> dict[str, str]:
    env = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith(("DATABASE_", "DISPATCH_", "TELEGRAM_", "REDIS_"))
    }
    env.update(
        DATABASE_URL=url,
        TELEGRAM_BOT_TOKEN=FAKE_TOKEN,
        TELEGRAM_API_BASE_URL=fake.base_url,
        DISPATCH_PACING="true",
        DISPATCH_LIMITER=limiter,
        DISPATCH_LIMITER_KEY=key,
        DEMO_MODE="true",  # made-up secrets are fine for a benchmark's own database
        PYTHONPATH=str(ROOT),
        PYTHONUNBUFFERED="1",
    )
    if limiter == "redis":
        env["REDIS_URL"] = REDIS_URL
    if margin is not None:
        env["DISPATCH_PACING_MARGIN"] = str(margin)
    return env


async def start(env: dict[str, str], log: Path, *args: str) -> asyncio.subprocess.Process:
    with log.open("ab") as output:
        return await asyncio.create_subprocess_exec(
            sys.executable, *args, cwd=ROOT, env=env, stdout=output,
            stderr=asyncio.subprocess.STDOUT, stdin=asyncio.subprocess.DEVNULL,
        )  # fmt: skip


async def stop(process: asyncio.subprocess.Process) -> int:
    if process.returncode is None:
        process.send_signal(signal.SIGTERM)
        try:
            await asyncio.wait_for(process.wait(), 30)
        except TimeoutError:
            process.kill()
            await process.wait()
    assert process.returncode is not None
    return process.returncode


async def bot_replies(every: float, seed: int) -> None:
    """The bot process (``--bot``): a reply every ``every`` seconds, each in a task of its own
    (as PTB answers updates concurrently), through the shared reply limiter, until SIGTERM."""
    from telegram.ext import ExtBot

    from bot.reply_limiter import SharedReplyLimiter
    from bot.request import AiohttpRequest
    from core.notifications.shared_pacer import shared_telegram_pacer

    pacer = shared_telegram_pacer(Settings())
    assert pacer is not None, "the bot needs a shared limiter (DISPATCH_LIMITER)"
    bot = ExtBot(
        token=FAKE_TOKEN,
        base_url=Settings().telegram_api_base_url,
        request=AiohttpRequest(connection_pool_size=64),
        rate_limiter=SharedReplyLimiter(pacer, max_retries=8),
    )
    stopping = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stopping.set)
    rng = random.Random(seed)
    sending: set[asyncio.Task[Any]] = set()
    number = 0
    async with bot:
        print("bot ready", flush=True)
        while not stopping.is_set():
            number += 1
            chat = rng.choice(BUSY_CHATS + QUIET_CHATS[:50])
            task = asyncio.create_task(bot.send_message(chat_id=chat, text=f"Reply {number}"))
            sending.add(task)
            task.add_done_callback(sending.discard)
            try:
                await asyncio.wait_for(stopping.wait(), every)
            except TimeoutError:
                pass
        results = await asyncio.gather(*sending, return_exceptions=True)
    failed = [r for r in results if isinstance(r, BaseException)]
    print(f"bot sent {number} replies, {len(failed)} failed", flush=True)


# -- what the limiter itself let start (--starts) ---------------------------------------------

_NOTE_STARTS_SQL = [
    "CREATE TABLE bench_pacer_starts (started_at double precision NOT NULL)",
    """CREATE FUNCTION bench_note_start() RETURNS trigger AS $$
       BEGIN INSERT INTO bench_pacer_starts VALUES (NEW.started_at); RETURN NEW; END
       $$ LANGUAGE plpgsql""",
    """CREATE TRIGGER bench_note_start AFTER UPDATE OF started_at ON send_pacer_starts
       FOR EACH ROW EXECUTE FUNCTION bench_note_start()""",
]


async def note_postgres_starts(container: Container) -> None:
    """A trigger copies every start the PostgreSQL limiter notes (a bench-only table)."""
    from sqlalchemy import text

    async with container.engine.begin() as connection:
        for statement in _NOTE_STARTS_SQL:
            await connection.execute(text(statement))


async def postgres_starts(container: Container) -> list[float]:
    from sqlalchemy import text

    async with container.engine.connect() as connection:
        rows = await connection.execute(
            text("SELECT started_at FROM bench_pacer_starts WHERE started_at > 0")
        )
        return [float(row[0]) for row in rows]


async def watch_redis_starts(key: str, seen: set[int], stop: asyncio.Event) -> None:
    """Reads the Redis limiter's list of its last 30 starts every 0.2 s (each stays about a
    second), keeping every start it saw (microseconds on the Redis server's clock)."""
    from redis.asyncio import Redis

    client = Redis.from_url(REDIS_URL)
    try:
        while not stop.is_set():
            seen.update(int(v) for v in await client.lrange(f"{{{key}}}:starts", 0, -1))
            try:
                await asyncio.wait_for(stop.wait(), 0.2)
            except TimeoutError:
                pass
    finally:
        await client.aclose()


# -- one run -----------------------------------------------------------------------------------


async def queue_alert(container: Container, user_id: int) -> float:
    uow = container.uow()
    async with uow:
        await outbox.enqueue(
            uow,
            recipient_user_id=user_id,
            channel=Channel.TELEGRAM,
            kind=NotificationKind.DISRUPTION_ALERT,
            lane=Lane.CRITICAL,
            message_key=NotificationKind.DISRUPTION_ALERT.value,
            params={"reference": "BEN-0001"},
            dedupe_key="bench:workers:alert",
        )
        await uow.commit()
    return time.time()


def most_in_a_second(times: Sequence[float]) -> tuple[int, int]:
    """(windows [t, t + 1 s) starting at an arrival that hold more than 30, the most in one)."""
    times = sorted(times)
    over, most, last = 0, 0, 0
    for first, moment in enumerate(times):
        while last < len(times) and times[last] - moment < 1.0:
            last += 1
        most = max(most, last - first)
        over += last - first > TELEGRAM_PER_SECOND
    return over, most


def is_reply(arrival: dict[str, Any]) -> bool:
    return str(arrival["text"]).startswith("Reply ")


def figures(arrivals: list[dict[str, Any]]) -> dict[str, Any]:
    """Pacing and throughput over every send that arrived (broadcasts, replies, the alert)."""
    per_chat: dict[int, list[float]] = defaultdict(list)
    for arrival in arrivals:
        per_chat[arrival["chat_id"]].append(arrival["at"])
    close_chats, closest = 0, float("inf")
    for moments in per_chat.values():
        moments.sort()
        gaps = [b - a for a, b in zip(moments, moments[1:], strict=False)]
        if gaps:
            closest = min(closest, min(gaps))
            close_chats += min(gaps) < 1.0
    times = sorted(a["at"] for a in arrivals)
    # Sustained: from the first broadcast (the bot replies for a while before they are queued)
    # to the last broadcast to a quiet chat; after it only the busy chats' deferred broadcasts
    # are left, and three chats take three messages a second.
    broadcasts = [a for a in arrivals if not is_reply(a) and a["chat_id"] != ALERT_CHAT]
    body_start = min(a["at"] for a in broadcasts)
    quiet = set(QUIET_CHATS)
    body_end = max(a["at"] for a in broadcasts if a["chat_id"] in quiet)
    in_body = [a for a in arrivals if body_start <= a["at"] <= body_end]
    broadcasts_in_body = sum(1 for a in broadcasts if a["at"] <= body_end)
    over, most = most_in_a_second(times)
    return {
        "sends": len(arrivals),
        "replies": sum(1 for a in arrivals if is_reply(a)),
        "over": over,
        "most": most,
        "close_chats": close_chats,
        "closest": closest,
        "rate": (len(in_body) - 1) / (body_end - body_start),
        "broadcast_rate": (broadcasts_in_body - 1) / (body_end - body_start),
        "elapsed": max(a["at"] for a in broadcasts) - body_start,
    }


async def one_run(
    limiter: str,
    workers: int,
    messages: int,
    reply_every: float,
    fake_niceness: int,
    note_starts: bool,
    margin: float | None = None,
) -> dict[str, Any]:
    url = await create_database()
    workdir = Path(tempfile.mkdtemp(prefix="da_bench_workers_"))
    fake = FakeServer(workdir / "deliveries.jsonl")
    if fake_niceness:
        # The fake stands for Telegram's servers, which this machine's load does not slow:
        # starved of CPU it would read a backlog of requests at one moment and record them
        # as arriving together. (Raising a priority needs root; say so when reporting.)
        os.setpriority(os.PRIO_PROCESS, fake.process.pid, fake_niceness)
    key = f"da-bench:{uuid.uuid4().hex[:12]}"
    container = bootstrap(Settings(database_url=url))
    processes: list[asyncio.subprocess.Process] = []
    try:
        await upgrade(container.engine)
        redis_starts: set[int] = set()
        watching = asyncio.Event()
        watcher: asyncio.Task[None] | None = None
        if note_starts and limiter == "postgres":
            await note_postgres_starts(container)
        elif note_starts:
            watcher = asyncio.create_task(watch_redis_starts(key, redis_starts, watching))
        users = await seed_users(container, QUIET_CHATS + BUSY_CHATS + [ALERT_CHAT])
        order = [BUSY_CHATS[n % 3] for n in range(30)]
        order += [QUIET_CHATS[n % len(QUIET_CHATS)] for n in range(messages - len(order))]
        env = environment(url, fake, limiter, key, margin)
        bot_log = workdir / "bot.log"
        bot = await start(env, bot_log, str(Path(__file__)), "--bot", "--reply-every",
                          str(reply_every))  # fmt: skip
        processes.append(bot)
        while "bot ready" not in bot_log.read_text(errors="replace"):
            assert bot.returncode is None, bot_log.read_text(errors="replace")
            await asyncio.sleep(0.1)
        # The broadcasts are queued once everything is up, so the workers start together.
        for n in range(workers):
            processes.append(
                await start(
                    env, workdir / f"worker-{n}.log", "-m", "cli", "worker", "--no-schedulers"
                )  # fmt: skip
            )
        await asyncio.sleep(5)  # let the workers import and connect
        await seed_broadcasts(container, users, order, "workers")
        started = time.monotonic()

        def broadcasts_arrived() -> int:
            return sum(
                1 for d in fake.deliveries()
                if d["chat_id"] != ALERT_CHAT and not d["text"].startswith("Reply ")
            )  # fmt: skip

        while broadcasts_arrived() < messages // 3:
            assert all(p.returncode is None for p in processes), "a process ended early"
            await asyncio.sleep(0.05)
        queued_at = await queue_alert(container, users[ALERT_CHAT])
        alert: dict[str, Any] | None = None
        while alert is None:
            await asyncio.sleep(0.02)
            alert = next((d for d in fake.deliveries() if d["chat_id"] == ALERT_CHAT), None)
        while await unsent(container):
            assert all(p.returncode is None for p in processes), "a process ended early"
            await asyncio.sleep(0.5)
        drained = time.monotonic() - started
        starts: list[float] = []
        if watcher is not None:
            watching.set()
            await watcher
            starts = [value / 1_000_000 for value in redis_starts]
        elif note_starts:
            starts = await postgres_starts(container)
        codes = [await stop(process) for process in processes]
        assert codes == [0] * len(codes), f"exit codes {codes}; logs in {workdir}"
        print("  " + bot_log.read_text(errors="replace").strip().splitlines()[-1], flush=True)
    finally:
        for process in processes:
            await stop(process)
        await container.dispose()
        fake.stop()
        await drop_database(url)
        if limiter == "redis":
            await delete_redis_keys(key)
    arrivals = fake.deliveries()
    result = figures(arrivals)
    # The broadcasts' texts are alike: a broadcast lost or sent twice shows in its chat's count.
    expected = Counter(order)
    got = Counter(a["chat_id"] for a in arrivals if not is_reply(a) and a["chat_id"] != ALERT_CHAT)
    result["lost"] = sum(max(0, expected[chat] - got[chat]) for chat in expected)
    result["duplicated"] = sum(max(0, got[chat] - expected[chat]) for chat in got)
    assert alert is not None
    result["latency"] = alert["wall"] - queued_at
    result["drained"] = drained
    result["starts"] = most_in_a_second(starts) if starts else None
    result["noted_starts"] = len(starts)
    return result


async def delete_redis_keys(key: str) -> None:
    from redis.asyncio import Redis

    client = Redis.from_url(REDIS_URL)
    try:
        keys = [k async for k in client.scan_iter(match=f"*{key}*")]
        if keys:
            await client.delete(*keys)
    finally:
        await client.aclose()


# -- report ------------------------------------------------------------------------------------


def verdict(met: bool) -> str:
    return "met" if met else "NOT met"


async def _main(
    limiters: list[str],
    worker_counts: list[int],
    messages: int,
    every: float,
    niceness: int,
    note_starts: bool,
    margin: float | None,
) -> None:
    print(f"outbox workers and the bot through the shared limiter "
          f"({datetime.now(UTC):%Y-%m-%d %H:%M} UTC, load average "
          f"{os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs), {messages:,} broadcasts, "
          f"a bot reply every {every} s, the fake server's niceness {niceness}, pacing margin "
          f"{'the default' if margin is None else margin}",
          flush=True)  # fmt: skip
    for limiter in limiters:
        for workers in worker_counts:
            print(f"{limiter}, {workers} workers and the bot:", flush=True)
            r = await one_run(limiter, workers, messages, every, niceness, note_starts, margin)
            print(
                f"  {r['sends']:,} sends ({r['replies']} bot replies), the broadcasts in "
                f"{r['elapsed']:.1f} s; "
                f"throughput {r['rate']:.2f} msg/s ({r['broadcast_rate']:.2f} broadcasts/s); "
                f"seconds with more than {TELEGRAM_PER_SECOND} sends: {r['over']} "
                f"(most in one second {r['most']}); chats with two sends less than 1 s apart: "
                f"{r['close_chats']} (closest {r['closest']:.3f} s); lost {r['lost']}, "
                f"duplicated {r['duplicated']}; critical alert {r['latency']:.3f} s after "
                f"it was queued; load average {os.getloadavg()[0]:.1f}",
                flush=True,
            )
            if r["starts"] is not None:
                over, most = r["starts"]
                print(f"  starts the limiter let through ({r['noted_starts']:,} noted, on its "
                      f"own clock): seconds with more than {TELEGRAM_PER_SECOND}: {over} "
                      f"(most in one second {most})", flush=True)  # fmt: skip
            print(
                f"  targets: 0 seconds over 30 {verdict(r['over'] == 0)}, 0 chats under 1 s "
                f"{verdict(r['close_chats'] == 0)}, >= {RATE_TARGET:.0f} msg/s "
                f"{verdict(r['rate'] >= RATE_TARGET)}, 0 lost {verdict(r['lost'] == 0)}, "
                f"0 duplicated {verdict(r['duplicated'] == 0)}, critical <= "
                f"{CRITICAL_TARGET_SECONDS:.0f} s "
                f"{verdict(r['latency'] <= CRITICAL_TARGET_SECONDS)}",
                flush=True,
            )
    print("command: " + " ".join(shlex.quote(part) for part in [sys.executable, *sys.argv]))


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--limiters", nargs="+", default=["postgres", "redis"],
                        choices=["postgres", "redis"])  # fmt: skip
    parser.add_argument("--workers", nargs="+", type=int, default=[2, 4])
    parser.add_argument("--messages", type=int, default=5000)
    parser.add_argument("--reply-every", type=float, default=0.5,
                        help="seconds between two bot replies")  # fmt: skip
    parser.add_argument("--fake-niceness", type=int, default=0,
                        help="the fake server's niceness (negative: first)")  # fmt: skip
    parser.add_argument("--starts", action="store_true",
                        help="also note every start the limiter lets through")  # fmt: skip
    parser.add_argument("--margin", type=float, default=None,
                        help="DISPATCH_PACING_MARGIN for the senders")  # fmt: skip
    parser.add_argument("--bot", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.bot:
        asyncio.run(bot_replies(args.reply_every, seed=os.getpid()))
        return
    asyncio.run(
        _main(
            args.limiters,
            args.workers,
            args.messages,
            args.reply_every,
            args.fake_niceness,
            args.starts,
            args.margin,
        )
    )


if __name__ == "__main__":
    main()
