"""The outbox's two run modes, run as an operator runs them: subprocesses on a SQLite file.

``drive-assist run`` (the single-machine default) and ``drive-assist worker`` both derive the
notifications the data calls for and send them; with no bot token they land in the in-app inbox.
The processes use the real clock, so the data is placed relative to now.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import func, select

from core.bootstrap import bootstrap
from core.enums import (
    AppointmentStatus,
    Channel,
    Lane,
    NotificationKind,
    OutboxState,
    PlaceKind,
    Stage,
)
from core.models import Appointment, Case, InboxItem, OutboxMessage
from core.notifications.outbox import enqueue
from core.settings import Settings

CLI = [sys.executable, "-m", "cli"]


def _env(database: Path) -> dict[str, str]:
    env = {**os.environ, "DATABASE_URL": f"sqlite+aiosqlite:///{database}", "COLUMNS": "200"}
    env.pop("TELEGRAM_BOT_TOKEN", None)
    env["SCHEDULER_INTERVAL_SECONDS"] = "0.5"
    env["DEMO_MODE"] = "true"  # these runs work on the demo data, which only demo mode seeds
    return env


def _setup(database: Path) -> None:
    result = subprocess.run(
        [*CLI, "run", "--setup-only"],
        env=_env(database),
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert result.returncode == 0, result.stderr
    assert "Drive Assist is running" not in result.stdout


def _query(database: Path, work):  # type: ignore[no-untyped-def]
    async def main():  # type: ignore[no-untyped-def]
        container = bootstrap(Settings(database_url=f"sqlite+aiosqlite:///{database}"))
        try:
            async with container.uow() as uow:
                result = await work(uow)
                await uow.commit()
                return result
        finally:
            await container.dispose()

    return asyncio.run(main())


def _wait_for(database: Path, work, expected, timeout: float = 60.0):  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    value = None
    while time.monotonic() < deadline:
        value = _query(database, work)
        if value == expected:
            return value
        time.sleep(0.3)
    return value


def _stop(process: subprocess.Popen[str]) -> str:
    process.send_signal(signal.SIGINT)
    output, _ = process.communicate(timeout=60)
    assert process.returncode == 0, output
    return output


def test_the_default_process_sends_a_due_notification_to_the_inbox_and_stops_cleanly(
    tmp_path: Path,
) -> None:
    database = tmp_path / "run.sqlite3"
    _setup(database)

    async def queue_one(uow):  # type: ignore[no-untyped-def]
        case = (await uow.session.scalars(select(Case).limit(1))).one()
        await enqueue(
            uow,
            recipient_user_id=case.case_manager_id,
            channel=Channel.TELEGRAM,
            kind=NotificationKind.DISRUPTION_ALERT,
            lane=Lane.CRITICAL,
            message_key="notification.disruption_alert",
            params={"reference": case.reference, "alert_id": 1},
            dedupe_key="test:run-mode:1",
            not_before=datetime.now(UTC) - timedelta(seconds=1),
            case_id=case.id,
        )
        return case.case_manager_id

    recipient = _query(database, queue_one)
    process = subprocess.Popen(
        [*CLI, "run", "--no-web"],
        env=_env(database),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:

        async def delivered(uow):  # type: ignore[no-untyped-def]
            message = (
                await uow.session.scalars(
                    select(OutboxMessage).where(OutboxMessage.dedupe_key == "test:run-mode:1")
                )
            ).one()
            inbox = await uow.session.scalar(
                select(func.count())
                .select_from(InboxItem)
                .where(InboxItem.outbox_message_id == message.id, InboxItem.user_id == recipient)
            )
            return message.state, inbox

        assert _wait_for(database, delivered, (OutboxState.SENT, 1)) == (OutboxState.SENT, 1)
    finally:
        output = _stop(process)
    assert "Drive Assist is running" in output
    assert "every message goes to the in-app inbox" in output
    assert "Stopped after finishing the messages in flight." in output


def test_a_worker_derives_a_missed_appointment_prompt_from_the_data_and_sends_it(
    tmp_path: Path,
) -> None:
    database = tmp_path / "worker.sqlite3"
    _setup(database)

    async def appointment_without_outcome(uow):  # type: ignore[no-untyped-def]
        case = (
            await uow.session.scalars(
                select(Case).where(Case.stage == Stage.ACTIVE, Case.case_manager_id.is_not(None))
            )
        ).first()
        now = datetime.now(UTC)
        appointment = Appointment(
            case_id=case.id,
            staff_id=case.case_manager_id,
            starts_at=now - timedelta(minutes=90),
            ends_at=now - timedelta(minutes=30),
            place_kind=PlaceKind.OFFICE,
            status=AppointmentStatus.SCHEDULED,
            created_at=now - timedelta(days=1),
        )
        uow.session.add(appointment)
        await uow.session.flush()
        return appointment.id

    appointment_id = _query(database, appointment_without_outcome)
    process = subprocess.Popen(
        [*CLI, "worker"],
        env=_env(database),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:

        async def prompt_state(uow):  # type: ignore[no-untyped-def]
            return await uow.session.scalar(
                select(OutboxMessage.state).where(
                    OutboxMessage.appointment_id == appointment_id,
                    OutboxMessage.kind == NotificationKind.MISSED_APPOINTMENT,
                )
            )

        assert _wait_for(database, prompt_state, OutboxState.SENT) == OutboxState.SENT
    finally:
        output = _stop(process)
    assert "is sending" in output
    assert "Queued" in output
    assert "Worker stopped after finishing the messages in flight." in output


def test_a_worker_without_schedulers_queues_nothing(tmp_path: Path) -> None:
    database = tmp_path / "quiet.sqlite3"
    _setup(database)

    async def count(uow):  # type: ignore[no-untyped-def]
        return await uow.session.scalar(select(func.count()).select_from(OutboxMessage))

    before = _query(database, count)
    result = subprocess.run(
        [*CLI, "worker", "--once", "--no-schedulers"],
        env=_env(database),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert "Handled 0 messages." in result.stdout
    assert _query(database, count) == before


def _fake_control(port: int, action: str, body: dict | None = None):  # type: ignore[no-untyped-def]
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/_fake/{action}",
        data=None if body is None else json.dumps(body).encode(),
        headers={"Content-Type": "application/json"},
        method="GET" if body is None else "POST",
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.loads(response.read())


def test_the_default_process_with_a_bot_token_answers_telegram_and_stops_cleanly(
    tmp_path: Path,
) -> None:
    database = tmp_path / "bot.sqlite3"
    _setup(database)
    fake = subprocess.Popen(
        [sys.executable, "-m", "tests.fakes.bot_api", "--port", "0", "--print-port"],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert fake.stdout is not None
        port = int(fake.stdout.readline())
        env = _env(database) | {
            "TELEGRAM_BOT_TOKEN": "fake-token-for-tests",
            "TELEGRAM_API_BASE_URL": f"http://127.0.0.1:{port}/bot",
        }
        process = subprocess.Popen(
            [*CLI, "run", "--no-web"],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        try:
            stranger = 7_123_456
            _fake_control(port, "push_update", {"message": {
                "message_id": 1, "date": 1772442000, "text": "/help",
                "chat": {"id": stranger, "type": "private", "first_name": "Tester"},
                "from": {"id": stranger, "is_bot": False, "first_name": "Tester"},
                "entities": [{"type": "bot_command", "offset": 0, "length": 5}],
            }})  # fmt: skip
            deadline = time.monotonic() + 60
            replies: list[str] = []
            while time.monotonic() < deadline and not replies:
                replies = [
                    call["params"]["text"]
                    for call in _fake_control(port, "calls")
                    if call["method"] == "sendMessage" and call["chat_id"] == stranger
                ]
                time.sleep(0.2)
        finally:
            output = _stop(process)
        assert replies == [
            "This bot is for Drive staff. Ask your manager for a link code, then send /start CODE."
        ]
        assert "The Telegram bot is answering messages (long polling)." in output
        assert "Stopped after finishing the messages in flight." in output
        assert _fake_control(port, "invalid_requests") == []
    finally:
        fake.send_signal(signal.SIGTERM)
        fake.wait(timeout=30)
