"""Bot benchmark: the ``/log`` confirm update against a bare PTB echo handler, in the same run.

A case manager taps Save at the end of ``/log``. This times that one update through the
production bot (``bot.app.build_application``: in one transaction, ``core.services.bot_state.
confirm_log_from_conversation`` claims the update id, resolves the Telegram link, takes the
conversation, logs the contact with its audit event and ends the conversation) with PTB's real HTTP
stack (``bot.request.AiohttpRequest``) answering the button and editing the message on the fake
Bot API (``tests/fakes/bot_api.py``, in a process of its own on 127.0.0.1, checking every
request against the Bot API spec). Each timed update is ``Application.process_update`` from
start to the reply's answer from the fake server. The run also counts the database work of the
timed confirm updates (SQL statements, connection checkouts, commits, rollbacks) and prints it
per update.

Before each timed update, untimed, the same case manager goes through ``/log`` up to the
summary: ``/log``, the typed case reference (a national caseload has more than 8 open cases),
contact type, one or two categories, Done, a duration, Skip. The case managers (``--managers``,
spread over the id range) and their open cases are taken in turn, so no two consecutive
updates share a manager and each visit logs on a different case.

The baseline is a bare PTB ``Application`` with one ``CallbackQueryHandler`` that makes the
same two API calls (``answerCallbackQuery``, ``editMessageText`` in HTML parse mode) through the
same transport and fake server, for a button on the same chats. The two are interleaved, one
of each per round, the order flipped every round, so the machine's load falls on both alike.

Against a seeded database (``drive-assist bench seed --scale national``)::

    DATABASE_URL=postgresql+asyncpg://postgres@127.0.0.1:5432/da_bench \\
        .venv/bin/python bench/bot_log.py --runs 1000

What it adds, it removes at the end (also after a failure): the Telegram links it makes for
the case managers it uses, their contacts and audit events from this run, the bot's processed
updates, conversations and recorded messages. Links, conversations, messages and update ids
live in ranges of their own (``TELEGRAM_ID_BASE``, ``UPDATE_ID_BASE``), cleared at the start
too in case an earlier run was killed.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import gc
import itertools
import logging
import statistics
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiohttp
from sqlalchemy import delete, event, func, insert, select
from telegram import Update
from telegram.constants import ParseMode
from telegram.ext import Application, ApplicationBuilder, CallbackQueryHandler, Defaults

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.caseload import command_line, python_argv  # noqa: E402
from bot.app import BotApplication, build_application  # noqa: E402
from bot.request import AiohttpRequest  # noqa: E402
from core.bootstrap import Container, bootstrap  # noqa: E402
from core.enums import OPEN_STAGES, ContactType, Role, WorkCategory  # noqa: E402
from core.models import (  # noqa: E402
    AuditEvent,
    BotConversation,
    BotMessage,
    BotProcessedUpdate,
    Case,
    Contact,
    Membership,
    TelegramLink,
    User,
)
from tests.fakes.bot_api import FAKE_TOKEN  # noqa: E402

P95_TARGET_MS = 10.0
RATIO_TARGET = 4.0
# Telegram user ids (= private chat ids) are TELEGRAM_ID_BASE + the staff user id; update ids
# count up from UPDATE_ID_BASE. Both far above anything the seed or a test uses.
TELEGRAM_ID_BASE = 8_000_000_000
UPDATE_ID_BASE = 900_000_000_000
CHECK_EVERY = 50  # rounds between checks of the fake server's record (and its reset)
CONTACT_TYPES = (ContactType.FACE_TO_FACE, ContactType.PHONE, ContactType.HOME_VISIT,
                 ContactType.VIDEO)  # fmt: skip
CATEGORY_CHOICES = (
    (WorkCategory.SUPPORT,),
    (WorkCategory.BEHAVIOUR_CHANGE, WorkCategory.SUPPORT),
    (WorkCategory.DISRUPTION,),
)
DURATIONS = (15, 30, 45, 60, 90)


# -- the fake Bot API ------------------------------------------------------------------------


class FakeServer:
    """``python -m tests.fakes.bot_api`` in its own process, as Telegram is in production."""

    def __init__(self) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "tests.fakes.bot_api", "--port", "0", "--print-port"],
            cwd=ROOT, stdout=subprocess.PIPE, text=True,
        )  # fmt: skip
        assert self.process.stdout is not None
        self.port = int(self.process.stdout.readline())
        self.base_url = f"http://127.0.0.1:{self.port}/bot"
        self.control_url = f"http://127.0.0.1:{self.port}/_fake"

    async def control(self, session: aiohttp.ClientSession, action: str) -> Any:
        method = "GET" if action in ("calls", "failed_calls", "invalid_requests") else "POST"
        async with session.request(method, f"{self.control_url}/{action}", json={}) as response:
            response.raise_for_status()
            return await response.json()

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=10)


class RequestsWrong(AssertionError):
    """The fake server refused a request, or a handler failed: the figures would mean nothing."""


async def check_and_reset(
    fake: FakeServer, session: aiohttp.ClientSession, confirms: int, errors: list[str]
) -> None:
    """Since the last check: no refused request, no handler error, one edit per update."""
    invalid = await fake.control(session, "invalid_requests")
    failed = await fake.control(session, "failed_calls")
    calls = await fake.control(session, "calls")
    if invalid or failed or errors:
        raise RequestsWrong(f"refused: {invalid[:3]} failed: {failed[:3]} errors: {errors[:3]}")
    saved = sum(
        1 for call in calls
        if call["method"] == "editMessageText" and call["params"]["text"].startswith("Logged ")
    )  # fmt: skip
    if saved != confirms:
        raise RequestsWrong(f"{confirms} Save taps, but {saved} 'Logged' replies")
    await fake.control(session, "reset")


# -- updates ---------------------------------------------------------------------------------


class Updates:
    """Telegram updates from the case managers' private chats, with fresh update ids."""

    def __init__(self, start: int) -> None:
        self._ids = itertools.count(start)
        self._message_ids = itertools.count(1_000_000)

    def message(self, chat_id: int, text: str) -> dict[str, Any]:
        message: dict[str, Any] = {
            "message_id": next(self._message_ids),
            "date": int(time.time()),
            "chat": {"id": chat_id, "type": "private", "first_name": "Bench"},
            "from": {"id": chat_id, "is_bot": False, "first_name": "Bench", "language_code": "en"},
            "text": text,
        }
        if text.startswith("/"):
            message["entities"] = [{"type": "bot_command", "offset": 0, "length": len(text)}]
        return {"update_id": next(self._ids), "message": message}

    def press(self, chat_id: int, message_id: int, data: str) -> dict[str, Any]:
        """A tap on a button of the bot's message ``message_id`` (the fake server knows it)."""
        update_id = next(self._ids)
        message = {
            "message_id": message_id,
            "date": int(time.time()),
            "chat": {"id": chat_id, "type": "private", "first_name": "Bench"},
            "from": {"id": 4242424242, "is_bot": True, "first_name": "Drive Assist (fake)"},
            "text": "Check and save",
        }
        return {
            "update_id": update_id,
            "callback_query": {
                "id": f"bench{update_id}", "chat_instance": f"ci{chat_id}", "data": data,
                "from": {"id": chat_id, "is_bot": False, "first_name": "Bench"},
                "message": message,
            },
        }  # fmt: skip


async def deliver(application: Application[Any, Any, Any, Any, Any, Any], raw: dict) -> float:
    """``process_update`` of one update; returns the seconds it took."""
    update = Update.de_json(raw, application.bot)
    started = time.perf_counter()
    await application.process_update(update)
    return time.perf_counter() - started


# -- the data --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Manager:
    user_id: int
    chat_id: int
    cases: tuple[str, ...]  # references of their open cases


async def managers_to_use(container: Container, count: int) -> list[Manager]:
    """Up to ``count`` active case managers with open cases and no Telegram link, spread out."""
    async with container.engine.connect() as connection:
        ids = list(
            await connection.scalars(
                select(User.id)
                .join(Membership, Membership.user_id == User.id)
                .where(
                    Membership.role == Role.CASE_MANAGER,
                    User.is_active.is_(True),
                    ~select(TelegramLink.id).where(TelegramLink.user_id == User.id).exists(),
                    select(Case.id)
                    .where(Case.case_manager_id == User.id, Case.stage.in_(sorted(OPEN_STAGES)))
                    .exists(),
                )
                .group_by(User.id)
                .order_by(User.id)
            )
        )
        if len(ids) > count:
            step = len(ids) / count
            ids = [ids[int(i * step)] for i in range(count)]
        rows = (
            await connection.execute(
                select(Case.case_manager_id, Case.reference)
                .where(Case.case_manager_id.in_(ids), Case.stage.in_(sorted(OPEN_STAGES)))
                .order_by(Case.case_manager_id, Case.reference)
            )
        ).all()
    cases: dict[int, list[str]] = {user_id: [] for user_id in ids}
    for user_id, reference in rows:
        cases[user_id].append(reference)
    return [Manager(u, TELEGRAM_ID_BASE + u, tuple(cases[u])) for u in ids]


async def remove_bench_rows(container: Container) -> None:
    """The bot's rows in the benchmark's id ranges (links, conversations, messages, updates)."""
    async with container.engine.begin() as connection:
        await connection.execute(delete(BotMessage).where(BotMessage.chat_id >= TELEGRAM_ID_BASE))
        await connection.execute(
            delete(BotConversation).where(BotConversation.telegram_user_id >= TELEGRAM_ID_BASE)
        )
        await connection.execute(
            delete(BotProcessedUpdate).where(BotProcessedUpdate.update_id >= UPDATE_ID_BASE)
        )
        await connection.execute(
            delete(TelegramLink).where(TelegramLink.telegram_user_id >= TELEGRAM_ID_BASE)
        )


async def link(container: Container, managers: Sequence[Manager]) -> None:
    """Active links for the case managers, as ``/start CODE`` leaves them (direct inserts)."""
    now = datetime.now(UTC)
    async with container.engine.begin() as connection:
        await connection.execute(
            insert(TelegramLink),
            [
                {"user_id": m.user_id, "telegram_user_id": m.chat_id, "chat_id": m.chat_id,
                 "is_active": True, "linked_at": now}
                for m in managers
            ],
        )  # fmt: skip


async def high_water_marks(container: Container) -> tuple[int, int]:
    async with container.engine.connect() as connection:
        contacts = await connection.scalar(select(func.max(Contact.id)))
        events = await connection.scalar(select(func.max(AuditEvent.id)))
    return int(contacts or 0), int(events or 0)


async def remove_written(
    container: Container, managers: Sequence[Manager], marks: tuple[int, int]
) -> int:
    """The contacts and audit events this run wrote for its case managers. Returns contacts."""
    ids = [m.user_id for m in managers]
    async with container.engine.begin() as connection:
        result = await connection.execute(
            delete(Contact).where(Contact.id > marks[0], Contact.staff_id.in_(ids))
        )
        await connection.execute(
            delete(AuditEvent).where(AuditEvent.id > marks[1], AuditEvent.actor_user_id.in_(ids))
        )
    return int(result.rowcount)  # type: ignore[attr-defined]


async def latest_bot_message(container: Container, chat_id: int) -> int:
    """The id of the bot's latest message in the chat (every reply is recorded for retention)."""
    async with container.engine.connect() as connection:
        message_id = await connection.scalar(
            select(func.max(BotMessage.message_id)).where(BotMessage.chat_id == chat_id)
        )
    if message_id is None:
        raise RequestsWrong(f"no reply recorded in chat {chat_id}")
    return int(message_id)


# -- what a confirm costs the database --------------------------------------------------------


class DatabaseWork:
    """Counts, while ``counting``: SQL statements, connection checkouts, commits and rollbacks.

    Each checkout also costs the engine's check (a ``;`` through the DBAPI cursor, a ``checkout``
    event in ``core/db/engine.py``, which also sends the work's ``BEGIN``: two round trips), and
    each later transaction a ``BEGIN`` the driver sends itself; none shows as a statement.
    """

    def __init__(self, container: Container) -> None:
        self.counting = False
        self.counts = {"statements": 0, "checkouts": 0, "commits": 0, "rollbacks": 0}
        engine = container.engine.sync_engine
        event.listen(engine, "before_cursor_execute", self._on("statements"))
        event.listen(engine.pool, "checkout", self._on("checkouts"))
        event.listen(engine, "commit", self._on("commits"))
        event.listen(engine, "rollback", self._on("rollbacks"))

    def _on(self, key: str) -> Any:
        def count(*_args: Any, **_kwargs: Any) -> None:
            if self.counting:
                self.counts[key] += 1

        return count


# -- the two sides ---------------------------------------------------------------------------


@dataclass
class Visit:
    """One case manager's /log, prepared up to the summary."""

    manager: Manager
    reference: str
    message_id: int
    minutes: int


async def prepare_visit(
    bot: BotApplication, container: Container, updates: Updates, manager: Manager,
    reference: str, n: int,
) -> Visit:  # fmt: skip
    """``/log``, the reference, type, categories, Done, duration, Skip: the summary is shown."""
    chat = manager.chat_id
    await deliver(bot, updates.message(chat, "/log"))
    await deliver(bot, updates.message(chat, reference))
    message_id = await latest_bot_message(container, chat)
    minutes = DURATIONS[n % len(DURATIONS)]
    taps = [f"log:type:{CONTACT_TYPES[n % len(CONTACT_TYPES)].value}"]
    taps += [f"log:cat:{c.value}" for c in CATEGORY_CHOICES[n % len(CATEGORY_CHOICES)]]
    taps += ["log:cat:done", f"log:dur:{minutes}", "log:note:skip"]
    for data in taps:
        await deliver(bot, updates.press(chat, message_id, data))
    return Visit(manager, reference, message_id, minutes)


def bare_application(base_url: str) -> Application[Any, Any, Any, Any, Any, Any]:
    """A bare PTB bot: one button handler that answers and edits, nothing else."""

    async def echo(update: Update, context: Any) -> None:
        query = update.callback_query
        assert query is not None
        await query.answer()
        await query.edit_message_text(f"Echo: {query.data}")

    application = (
        ApplicationBuilder()
        .token(FAKE_TOKEN)
        .base_url(base_url)
        .defaults(Defaults(parse_mode=ParseMode.HTML))
        .request(AiohttpRequest(connection_pool_size=32))
        .get_updates_request(AiohttpRequest(connection_pool_size=1))
        .build()
    )
    application.add_handler(CallbackQueryHandler(echo))
    return application


# -- the run ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Timings:
    p50_ms: float
    p95_ms: float
    p99_ms: float
    mean_ms: float

    @classmethod
    def of(cls, seconds: list[float]) -> Timings:
        cuts = statistics.quantiles(seconds, n=100, method="inclusive")
        return cls(
            statistics.median(seconds) * 1e3, cuts[94] * 1e3, cuts[98] * 1e3,
            statistics.fmean(seconds) * 1e3,
        )  # fmt: skip


@dataclass(frozen=True)
class BotLogBenchmark:
    backend: str
    contacts_before: int
    managers: int
    runs: int
    warmup: int
    confirm: Timings
    bare: Timings
    contacts_written: int
    per_confirm: dict[str, float]


async def run_bot_log_benchmark(
    container: Container, *, runs: int, warmup: int, managers: int,
    profiler: cProfile.Profile | None = None,
) -> BotLogBenchmark:  # fmt: skip
    """Time the confirm update and the bare handler ``runs`` times each, after ``warmup``.

    With ``profiler``, it runs during the timed confirm updates only (the figures then include
    its overhead).
    """
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

    written = 0
    try:
        await link(container, chosen)
        bot = build_application(container, token=FAKE_TOKEN, base_url=fake.base_url)
        # The bot's own error handler answers and stops; this one only notes that it happened.
        bot.add_error_handler(collect)
        bot.error_handlers = {collect: bot.error_handlers[collect], **bot.error_handlers}
        bare = bare_application(fake.base_url)
        updates = Updates(UPDATE_ID_BASE)
        confirm_times: list[float] = []
        bare_times: list[float] = []
        turns = itertools.cycle((m, m.cases[k % len(m.cases)]) for k in range(64) for m in chosen)
        async with aiohttp.ClientSession() as session, bot, bare:
            gc.collect()
            confirms = 0
            for i in range(warmup + runs):
                manager, reference = next(turns)
                visit = await prepare_visit(bot, container, updates, manager, reference, i)
                chat = visit.manager.chat_id
                for side in ("bot", "bare") if i % 2 == 0 else ("bare", "bot"):
                    if side == "bot":
                        raw = updates.press(chat, visit.message_id, "log:confirm:save")
                        if profiler is not None and i >= warmup:
                            profiler.enable()
                        work.counting = i >= warmup
                        elapsed = await deliver(bot, raw)
                        work.counting = False
                        if profiler is not None:
                            profiler.disable()
                        confirms += 1
                        if i >= warmup:
                            confirm_times.append(elapsed)
                    else:
                        raw = updates.press(chat, visit.message_id, f"bare:{i}")
                        elapsed = await deliver(bare, raw)
                        if i >= warmup:
                            bare_times.append(elapsed)
                if (i + 1) % CHECK_EVERY == 0 or i + 1 == warmup + runs:
                    await check_and_reset(fake, session, confirms, errors)
                    confirms = 0
    finally:
        fake.stop()
        written = await remove_written(container, chosen, marks)
        await remove_bench_rows(container)
    if written != warmup + runs:
        raise RequestsWrong(f"{warmup + runs} Save taps, but {written} contacts in the database")
    return BotLogBenchmark(
        backend=container.engine.dialect.name,
        contacts_before=contacts_before,
        managers=len(chosen),
        runs=runs,
        warmup=warmup,
        confirm=Timings.of(confirm_times),
        bare=Timings.of(bare_times),
        contacts_written=written,
        per_confirm={key: n / runs for key, n in work.counts.items()},
    )


def verdict(met: bool) -> str:
    return "met" if met else "NOT met"


def report_lines(result: BotLogBenchmark, command: str, load: str) -> list[str]:
    c, b = result.confirm, result.bare
    p50_ratio, p95_ratio = c.p50_ms / b.p50_ms, c.p95_ms / b.p95_ms
    lines = [
        f"/log confirm update on {result.backend}, {result.contacts_before:,} contacts in the "
        f"database; {result.managers} case managers; {result.runs} timed updates of each side "
        f"after {result.warmup} warm-up, interleaved.",
        "",
        f"{'':<26}{'p50':>10}{'p95':>10}{'p99':>10}{'mean':>10}",
    ]
    for label, t in (("/log confirm (Save)", c), ("bare PTB answer + edit", b)):
        lines.append(f"{label:<26}{t.p50_ms:>7.2f} ms{t.p95_ms:>7.2f} ms"
                     f"{t.p99_ms:>7.2f} ms{t.mean_ms:>7.2f} ms")  # fmt: skip
    lines += [
        "",
        f"p95 of the confirm update: {c.p95_ms:.2f} ms (target <= {P95_TARGET_MS:.0f} ms: "
        f"{verdict(c.p95_ms <= P95_TARGET_MS)}).",
        f"Ratio to the bare handler: p50 {p50_ratio:.2f}, p95 {p95_ratio:.2f} "
        f"(target <= {RATIO_TARGET:.0f}: {verdict(p95_ratio <= RATIO_TARGET)}).",
        f"Contacts written and removed again: {result.contacts_written:,}.",
        "Database work per confirm update: "
        + ", ".join(f"{n:g} {key}" for key, n in result.per_confirm.items())
        + ".",
        f"Load average (1, 5, 15 min) at the end: {load}.",
        f"Command: {command}",
    ]
    return lines


def _load_average() -> str:
    try:
        return " ".join(Path("/proc/loadavg").read_text().split()[:3])
    except OSError:
        return "unknown"


async def _main(runs: int, warmup: int, managers: int, profile: str | None) -> None:
    # The bot logs each failed update with its traceback; the run checks for them itself.
    logging.basicConfig(level=logging.WARNING)
    container = bootstrap()
    profiler = cProfile.Profile() if profile else None
    try:
        result = await run_bot_log_benchmark(
            container, runs=runs, warmup=warmup, managers=managers, profiler=profiler
        )
    finally:
        await container.dispose()
    if profiler is not None and profile:
        profiler.dump_stats(profile)
    command = command_line(container.settings.database_url, python_argv())
    print("\n".join(report_lines(result, command, _load_average())))


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=1000, help="timed updates of each side")
    parser.add_argument("--warmup", type=int, default=50, help="untimed rounds first")
    parser.add_argument(
        "--managers", type=int, default=200, help="case managers to take in turn (default 200)"
    )
    parser.add_argument(
        "--profile", metavar="FILE", help="cProfile the timed confirm updates into FILE (pstats)"
    )
    args = parser.parse_args(argv)
    asyncio.run(_main(args.runs, args.warmup, args.managers, args.profile))


if __name__ == "__main__":
    main()
