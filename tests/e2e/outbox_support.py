"""Shared pieces of the outbox end-to-end tests: the bot, seeded recipients, subprocesses.

Recipients are synthetic ("Demo Recipient n", ``@example.invalid``) and every message carries
only a made-up case reference, so a test can check that no name ever reaches Telegram.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib.util
import json
import os
import signal
import sys
from collections import Counter
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import insert
from sqlalchemy.ext.asyncio import AsyncSession
from telegram import Bot

from core.enums import LANE_ORDER, Channel, Lane, Locale, NotificationKind, OutboxState
from core.models import OutboxMessage, TelegramLink, User
from tests.fakes.bot_api import FAKE_TOKEN

ROOT = Path(__file__).resolve().parents[2]
NAME_PREFIX = "Demo Recipient"


# PTB's own httpx transport, and the aiohttp one the worker uses when bot/request.py has it.
TRANSPORTS = ["httpx"] + (["aiohttp"] if importlib.util.find_spec("bot.request") else [])


def make_bot(token: str, base_url: str, transport: str = TRANSPORTS[-1]) -> Bot:
    """A real PTB ``Bot`` over ``transport`` (one of ``TRANSPORTS``)."""
    if transport == "aiohttp":
        from bot.request import build_bot

        return build_bot(token, base_url)
    return Bot(token=token, base_url=base_url)


def reference(number: int) -> str:
    return f"HER-{number:05d}"


async def add_linked_users(
    session: AsyncSession,
    chat_ids: Sequence[int | None],
    *,
    now: datetime,
    first_number: int = 1,
) -> list[int]:
    """One user per entry, linked to that Telegram chat (None: no link). Returns their ids."""
    rows = [
        {
            "email": f"recipient{first_number + n}@example.invalid",
            "display_name": f"{NAME_PREFIX} {first_number + n}",
            "locale": Locale.EN_GB,
            "is_active": True,
            "created_at": now,
        }
        for n in range(len(chat_ids))
    ]
    result = await session.scalars(
        insert(User).returning(User.id, sort_by_parameter_order=True), rows
    )
    user_ids = list(result.all())
    links = [
        {
            "user_id": user_id,
            "telegram_user_id": chat_id,
            "chat_id": chat_id,
            "is_active": True,
            "linked_at": now,
        }
        for user_id, chat_id in zip(user_ids, chat_ids, strict=True)
        if chat_id is not None
    ]
    if links:
        await session.execute(insert(TelegramLink), links)
    return user_ids


def alert_row(user_id: int, number: int, *, now: datetime) -> dict[str, Any]:
    """A queued Telegram disruption alert about case ``reference(number)``."""
    return {
        "recipient_user_id": user_id,
        "channel": Channel.TELEGRAM,
        "kind": NotificationKind.DISRUPTION_ALERT,
        "lane": Lane.CRITICAL,
        "lane_rank": LANE_ORDER[Lane.CRITICAL],
        "message_key": NotificationKind.DISRUPTION_ALERT,
        "params": {"reference": reference(number)},
        "dedupe_key": f"e2e:alert:{number}",
        "not_before": now,
        "state": OutboxState.QUEUED,
        "attempts": 0,
        "created_at": now,
    }


async def queue_alerts(
    session: AsyncSession, user_ids: Sequence[int], *, now: datetime, first_number: int = 1
) -> None:
    """One alert per user, numbered from ``first_number``: bulk inserted, not via ``enqueue``."""
    rows = [alert_row(user_id, first_number + n, now=now) for n, user_id in enumerate(user_ids)]
    await session.execute(insert(OutboxMessage), rows)


# --------------------------------------------------------------------------- subprocesses


@dataclass
class StandaloneFake:
    """The fake Bot API in its own process, appending each delivery to ``record``."""

    process: asyncio.subprocess.Process
    port: int
    record: Path

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/bot"

    def delivered_count(self) -> int:
        """Complete lines so far (the last one may still be half written)."""
        try:
            return self.record.read_bytes().count(b"\n")
        except FileNotFoundError:
            return 0

    def deliveries(self) -> Counter[tuple[int, str]]:
        """How many times each (chat_id, text) was delivered."""
        lines = self.record.read_text(encoding="utf-8").splitlines()
        return Counter((entry["chat_id"], entry["text"]) for entry in map(json.loads, lines))

    async def invalid_requests(self) -> list[dict[str, Any]]:
        async with httpx.AsyncClient() as client:
            response = await client.get(f"http://127.0.0.1:{self.port}/_fake/invalid_requests")
        response.raise_for_status()
        return list(response.json())


@contextlib.asynccontextmanager
async def standalone_fake(record: Path) -> AsyncIterator[StandaloneFake]:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "tests.fakes.bot_api",
        "--port",
        "0",
        "--print-port",
        "--record",
        str(record),
        cwd=ROOT,
        stdout=asyncio.subprocess.PIPE,
    )
    try:
        assert process.stdout is not None
        port = int(await asyncio.wait_for(process.stdout.readline(), 20))
        yield StandaloneFake(process, port, record)
    finally:
        await stop_process(process, signal.SIGTERM)


def worker_environment(database_url: str, fake: StandaloneFake, **settings: str) -> dict[str, str]:
    """The environment of a ``drive-assist worker``: this database, this fake, no pacing."""
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("DATABASE_", "DISPATCH_", "TELEGRAM_"))
    }
    env.update(
        DATABASE_URL=database_url,
        TELEGRAM_BOT_TOKEN=FAKE_TOKEN,
        TELEGRAM_API_BASE_URL=fake.base_url,
        DISPATCH_PACING="false",
        PYTHONPATH=str(ROOT),
        PYTHONUNBUFFERED="1",
    )
    env.update({f"DISPATCH_{name.upper()}": value for name, value in settings.items()})
    return env


async def start_worker(env: dict[str, str], log: Path) -> asyncio.subprocess.Process:
    """``python -m cli worker`` (the ``drive-assist worker`` console script), output to ``log``."""
    with log.open("ab") as output:  # the child keeps its own copy of the descriptor
        return await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "cli",
            "worker",
            cwd=ROOT,
            env=env,
            stdout=output,
            stderr=asyncio.subprocess.STDOUT,
            stdin=asyncio.subprocess.DEVNULL,
        )


@contextlib.asynccontextmanager
async def running_workers(
    env: dict[str, str], logs: Sequence[Path]
) -> AsyncIterator[list[asyncio.subprocess.Process]]:
    """One ``drive-assist worker`` per log file, all with ``env``. Leaving the block normally
    stops them with SIGTERM and requires a clean exit; leaving it otherwise kills them."""
    started: list[asyncio.subprocess.Process] = []
    try:
        for log in logs:
            started.append(await start_worker(env, log))
        yield started
        for worker, log in zip(started, logs, strict=True):
            assert await stop_process(worker, signal.SIGTERM) == 0, tail(log)
    finally:
        for worker in started:
            await stop_process(worker, signal.SIGKILL)


async def stop_process(
    process: asyncio.subprocess.Process, how: signal.Signals = signal.SIGTERM
) -> int:
    """Send ``how`` unless it has ended; SIGKILL if it is still there 15 s later."""
    if process.returncode is None:
        with contextlib.suppress(ProcessLookupError):
            process.send_signal(how)
        try:
            await asyncio.wait_for(process.wait(), 15)
        except TimeoutError:
            with contextlib.suppress(ProcessLookupError):
                process.kill()
            await process.wait()
    assert process.returncode is not None
    return process.returncode


def tail(log: Path, lines: int = 30) -> str:
    try:
        return "\n".join(log.read_text(encoding="utf-8", errors="replace").splitlines()[-lines:])
    except FileNotFoundError:
        return "(no output)"
