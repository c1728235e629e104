"""Bot benchmark: the one-message ``/log`` (``/log HER-0012 45m phone d s "note"``) to its reply.

A case manager sends one message that logs a contact. This times that update through the
production bot (``bot.app.build_application``: ``ui.quick_log`` reads the words, then in one
transaction ``core.services.bot_state.log_from_message`` claims the update id, resolves the
Telegram link, finds the case on the sender's own open caseload and logs the contact with its
audit event) with PTB's real HTTP stack sending the confirmation to the fake Bot API (in a
process of its own on 127.0.0.1, checking every request against the Bot API spec). Each timed
update is ``Application.process_update`` from start to the fake server's answer to the reply.
The database work of the timed updates is counted and printed per update, as in
``bench/bot_log.py`` (whose fake server, seeding checks and clean-up this reuses).

The case managers (``--managers``, spread over the id range) and their open cases are taken in
turn, so no two consecutive updates share a manager and each logs on a different case; the
words vary (order, type, kinds of work, duration, with or without a note).

The baseline is a bare PTB ``Application`` with one ``MessageHandler`` that sends one message
through the same transport and fake server. The two are interleaved, one of each per round, the
order flipped every round, so the machine's load falls on both alike.

Against a seeded database (``drive-assist bench seed --scale national``)::

    DATABASE_URL=postgresql+asyncpg://postgres@127.0.0.1:5432/da_bench \\
        .venv/bin/python bench/bot_log_one.py --runs 1000

What it adds, it removes at the end (also after a failure), as ``bench/bot_log.py`` does.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import itertools
import logging
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
from sqlalchemy import func, select
from telegram import Update
from telegram.constants import ParseMode
from telegram.ext import Application, ApplicationBuilder, Defaults, MessageHandler, filters

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.bot_log import (  # noqa: E402
    TELEGRAM_ID_BASE,
    UPDATE_ID_BASE,
    DatabaseWork,
    FakeServer,
    RequestsWrong,
    Timings,
    _load_average,
    command_line,
    deliver,
    high_water_marks,
    link,
    managers_to_use,
    python_argv,
    remove_bench_rows,
    remove_written,
    verdict,
)
from bot.app import build_application  # noqa: E402
from bot.request import AiohttpRequest  # noqa: E402
from core.bootstrap import Container, bootstrap  # noqa: E402
from core.models import Contact  # noqa: E402
from tests.fakes.bot_api import FAKE_TOKEN  # noqa: E402

P95_TARGET_MS = 25.0
CHECK_EVERY = 50
WORDS = (
    '{ref} 45m phone d s "Bench note: talked through the plan"',
    "{ref} 1h30 f2f b",
    "“Bench note” s visit 30m {ref}",
    "{ref} 1awr ffôn t c",
    "d video {ref} 15 min",
)
assert TELEGRAM_ID_BASE and UPDATE_ID_BASE


class Messages:
    """Telegram message updates from the case managers' private chats, with fresh ids."""

    def __init__(self, start: int) -> None:
        self._ids = itertools.count(start)
        self._message_ids = itertools.count(2_000_000)

    def message(self, chat_id: int, text: str) -> dict[str, Any]:
        message: dict[str, Any] = {
            "message_id": next(self._message_ids),
            "date": int(time.time()),
            "chat": {"id": chat_id, "type": "private", "first_name": "Bench"},
            "from": {"id": chat_id, "is_bot": False, "first_name": "Bench", "language_code": "en"},
            "text": text,
        }
        if text.startswith("/"):
            command = text.split()[0]
            message["entities"] = [{"type": "bot_command", "offset": 0, "length": len(command)}]
        return {"update_id": next(self._ids), "message": message}


def bare_application(base_url: str) -> Application[Any, Any, Any, Any, Any, Any]:
    """A bare PTB bot: one message handler that sends one reply, nothing else."""

    async def echo(update: Update, context: Any) -> None:
        assert update.effective_chat is not None
        await update.effective_chat.send_message("Echo")

    application = (
        ApplicationBuilder()
        .token(FAKE_TOKEN)
        .base_url(base_url)
        .defaults(Defaults(parse_mode=ParseMode.HTML))
        .request(AiohttpRequest(connection_pool_size=32))
        .get_updates_request(AiohttpRequest(connection_pool_size=1))
        .build()
    )
    application.add_handler(MessageHandler(filters.ALL, echo))
    return application


async def check_and_reset(
    fake: FakeServer, session: aiohttp.ClientSession, logs: int, errors: list[str]
) -> None:
    """Since the last check: no refused request, no handler error, one confirmation per log."""
    invalid = await fake.control(session, "invalid_requests")
    failed = await fake.control(session, "failed_calls")
    calls = await fake.control(session, "calls")
    if invalid or failed or errors:
        raise RequestsWrong(f"refused: {invalid[:3]} failed: {failed[:3]} errors: {errors[:3]}")
    saved = sum(
        1 for call in calls
        if call["method"] == "sendMessage"
        and call["params"]["text"].startswith("Logged a contact on ")
    )  # fmt: skip
    if saved != logs:
        raise RequestsWrong(f"{logs} one-message logs, but {saved} confirmations")
    await fake.control(session, "reset")


@dataclass(frozen=True)
class OneMessageBenchmark:
    backend: str
    contacts_before: int
    managers: int
    runs: int
    warmup: int
    log: Timings
    bare: Timings
    contacts_written: int
    per_log: dict[str, float]


async def run(
    container: Container, *, runs: int, warmup: int, managers: int
) -> OneMessageBenchmark:
    chosen = await managers_to_use(container, managers)
    if not chosen:
        raise LookupError("no case manager with open cases: seed the database first")
    async with container.engine.connect() as connection:
        contacts_before = int(await connection.scalar(select(func.count(Contact.id))) or 0)
    await remove_bench_rows(container)
    marks = await high_water_marks(container)
    fake = FakeServer()
    errors: list[str] = []
    work = DatabaseWork(container)

    async def collect(update: object, context: Any) -> None:
        errors.append(repr(context.error))

    try:
        await link(container, chosen)
        bot = build_application(container, token=FAKE_TOKEN, base_url=fake.base_url)
        bot.add_error_handler(collect)
        bot.error_handlers = {collect: bot.error_handlers[collect], **bot.error_handlers}
        bare = bare_application(fake.base_url)
        messages = Messages(UPDATE_ID_BASE)
        log_times: list[float] = []
        bare_times: list[float] = []
        turns = itertools.cycle((m, m.cases[k % len(m.cases)]) for k in range(64) for m in chosen)
        async with aiohttp.ClientSession() as session, bot, bare:
            gc.collect()
            logs = 0
            for i in range(warmup + runs):
                manager, reference = next(turns)
                text = "/log " + WORDS[i % len(WORDS)].format(ref=reference)
                for side in ("bot", "bare") if i % 2 == 0 else ("bare", "bot"):
                    raw = messages.message(manager.chat_id, text)
                    if side == "bot":
                        work.counting = i >= warmup
                        elapsed = await deliver(bot, raw)
                        work.counting = False
                        logs += 1
                        if i >= warmup:
                            log_times.append(elapsed)
                    else:
                        elapsed = await deliver(bare, raw)
                        if i >= warmup:
                            bare_times.append(elapsed)
                if (i + 1) % CHECK_EVERY == 0 or i + 1 == warmup + runs:
                    await check_and_reset(fake, session, logs, errors)
                    logs = 0
    finally:
        fake.stop()
        written = await remove_written(container, chosen, marks)
        await remove_bench_rows(container)
    if written != warmup + runs:
        raise RequestsWrong(f"{warmup + runs} one-message logs, but {written} contacts saved")
    return OneMessageBenchmark(
        backend=container.engine.dialect.name,
        contacts_before=contacts_before,
        managers=len(chosen),
        runs=runs,
        warmup=warmup,
        log=Timings.of(log_times),
        bare=Timings.of(bare_times),
        contacts_written=written,
        per_log={key: n / runs for key, n in work.counts.items()},
    )


def report_lines(result: OneMessageBenchmark, command: str, load: str) -> list[str]:
    o, b = result.log, result.bare
    lines = [
        f"One-message /log on {result.backend}, {result.contacts_before:,} contacts in the "
        f"database; {result.managers} case managers; {result.runs} timed updates of each side "
        f"after {result.warmup} warm-up, interleaved.",
        "",
        f"{'':<28}{'p50':>10}{'p95':>10}{'p99':>10}{'mean':>10}",
    ]
    for label, t in (("one-message /log", o), ("bare PTB reply", b)):
        lines.append(f"{label:<28}{t.p50_ms:>7.2f} ms{t.p95_ms:>7.2f} ms"
                     f"{t.p99_ms:>7.2f} ms{t.mean_ms:>7.2f} ms")  # fmt: skip
    lines += [
        "",
        f"p95 of the one-message /log: {o.p95_ms:.2f} ms (target <= {P95_TARGET_MS:.0f} ms: "
        f"{verdict(o.p95_ms <= P95_TARGET_MS)}).",
        f"Ratio to the bare handler: p50 {o.p50_ms / b.p50_ms:.2f}, "
        f"p95 {o.p95_ms / b.p95_ms:.2f} (no target).",
        f"Contacts written and removed again: {result.contacts_written:,}.",
        "Database work per update: "
        + ", ".join(f"{n:g} {key}" for key, n in result.per_log.items())
        + ".",
        f"Load average (1, 5, 15 min) at the end: {load}.",
        f"Command: {command}",
    ]
    return lines


async def _main(runs: int, warmup: int, managers: int) -> None:
    logging.basicConfig(level=logging.WARNING)
    container = bootstrap()
    try:
        result = await run(container, runs=runs, warmup=warmup, managers=managers)
    finally:
        await container.dispose()
    command = command_line(container.settings.database_url, python_argv())
    print("\n".join(report_lines(result, command, _load_average())))


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--runs", type=int, default=1000, help="timed updates of each side")
    parser.add_argument("--warmup", type=int, default=50, help="untimed rounds first")
    parser.add_argument(
        "--managers", type=int, default=200, help="case managers to take in turn (default 200)"
    )
    args = parser.parse_args()
    asyncio.run(_main(args.runs, args.warmup, args.managers))


if __name__ == "__main__":
    main()
