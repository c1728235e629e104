"""``drive-assist worker``: a process that drains the outbox and runs the schedulers.

Run one beside the default process, or any number of them against PostgreSQL: they claim with
``SKIP LOCKED`` and never send a message twice, and the schedulers' dedupe keys let every
worker run them. Stops on SIGTERM or SIGINT after finishing the sends in flight.

The serving itself is ``processes.serve``, which ``drive-assist run`` and the web backend use too;
its progress ("Queued", "Handled") is logged, and this command prints its own summary.
"""

from __future__ import annotations

from contextlib import AsyncExitStack

import typer

from cli.common import _, console, run_with_container, translator
from cli.startup_checks import refuse_unsafe_secrets
from core.bootstrap import Container
from core.notifications.schedulers import run_all_schedulers
from processes.serve import (
    freeze_start_up_objects,
    log_progress_to_stdout,
    outbox_dispatcher,
    serve_outbox,
    stop_on_signals,
    worker_id,
)


def _print_handled(count: int) -> None:
    console.print(translator.ngettext("Handled {n} message.", "Handled {n} messages.", count))


def _print_queued(counts: dict[str, int]) -> None:
    queued = sum(counts.values())
    if queued:
        console.print(
            translator.ngettext("Queued {n} notification.", "Queued {n} notifications.", queued)
        )


async def _work(container: Container, once: bool, schedulers: bool) -> int:
    log_progress_to_stdout()
    freeze_start_up_objects()
    if once:
        if schedulers:
            _print_queued(await run_all_schedulers(uow_factory=container.uow))
        async with AsyncExitStack() as stack:
            dispatcher = await outbox_dispatcher(container, stack)
            total = 0
            while claimed := await dispatcher.run_once():
                total += claimed
            return total

    stop = stop_on_signals()
    console.print(_("Worker {worker} is sending. Stop it with Ctrl+C.", worker=worker_id()))
    await serve_outbox(container, stop, schedulers=schedulers)
    console.print(_("Worker stopped after finishing the messages in flight."))
    return 0


def register(app: typer.Typer) -> None:
    @app.command("worker", help=_("Send queued notifications until stopped."))
    def worker_command(
        once: bool = typer.Option(
            False, "--once", help=_("Queue and send what is due now, then stop.")
        ),
        schedulers: bool = typer.Option(
            True,
            "--schedulers/--no-schedulers",
            help=_("Also queue the reminders, digests and escalations the data calls for."),
        ),
    ) -> None:
        refuse_unsafe_secrets(needs_checkpoint_key=schedulers)  # it writes the checkpoints
        handled = run_with_container(lambda container: _work(container, once, schedulers))
        if once:
            _print_handled(handled)
