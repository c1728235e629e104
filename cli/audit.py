"""``drive-assist audit``: check the audit trail's hash chain, and write its checkpoints, as the
host operator.

``verify`` exits 0 when the chain is intact up to a checkpoint, 1 when it is broken, and 3 when
the chain is whole as far as it goes but no checkpoint vouches for its end (none written yet,
or no ``AUDIT_CHECKPOINT_KEY``): removing its newest events could not be found then.
"""

from __future__ import annotations

from typing import Annotated

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from cli.common import _, console, err_console, run_with_container
from core.bootstrap import Container
from core.errors import AuditTrailBlocked
from core.schemas.actor import Actor
from core.schemas.audit import (
    AuditCheckpointRead,
    ChainBreak,
    ChainBreakKind,
    ChainBreakReason,
    ChainVerification,
    CheckpointState,
)
from core.services import audit as audit_services
from core.services.audit_checkpoints import CheckpointStore, write_audit_checkpoint


def register(app: typer.Typer) -> None:
    audit = typer.Typer(no_args_is_help=True, help=_("The audit trail."))
    app.add_typer(audit, name="audit")

    @audit.command(
        "verify",
        help=_(
            "Check that no audit event was altered, inserted or deleted (exits 1 if one was,"
            " 3 if no checkpoint vouches for the trail's end)."
        ),
    )
    def verify(
        batch: Annotated[
            int, typer.Option("--batch", min=1, help=_("Events read per query."))
        ] = audit_services.VERIFY_BATCH,
    ) -> None:
        result = run_with_container(lambda container: _verify(container, batch))
        if result.first_break is None and result.checkpoint is not CheckpointState.CHECKED:
            err_console.print(
                "[yellow]"
                + (
                    _(
                        "No checkpoint of the audit trail has been written yet, so events"
                        " removed from its end could not be found. {count} events link up."
                        " Run: drive-assist audit checkpoint",
                        count=f"{result.checked:,}",
                    )
                    if result.checkpoint is CheckpointState.NONE_YET
                    else _(
                        "AUDIT_CHECKPOINT_KEY is not set, so the audit trail's checkpoints were"
                        " not checked and events removed from its end could not be found."
                        " {count} events link up.",
                        count=f"{result.checked:,}",
                    )
                )
                + "[/yellow]",
                soft_wrap=True,
            )
            raise typer.Exit(code=UNCONFIRMED)
        if result.first_break is None:
            console.print(
                _(
                    "The audit trail is intact: {count} events checked, up to checkpoint {seq}.",
                    count=f"{result.checked:,}",
                    seq=result.checkpoint_seq,
                )
            )
            if result.head_hash:
                console.print(
                    _(
                        "Last event {seq}, chain hash {hash}. Keep this somewhere else to"
                        " compare with a later check.",
                        seq=result.head_seq,
                        hash=result.head_hash,
                    ),
                    soft_wrap=True,
                )
            return
        err_console.print("[red]" + _break_message(result.first_break) + "[/red]")
        raise typer.Exit(code=1)

    @audit.command(
        "checkpoint",
        help=_(
            "Sign the audit trail's last event and add it to the checkpoint file, so a later"
            " verify finds events removed from the end (the worker does this on a schedule)."
        ),
    )
    def checkpoint() -> None:
        written = run_with_container(_checkpoint)
        if written is None:
            err_console.print(
                "[red]"
                + _("No checkpoint was written: AUDIT_CHECKPOINT_KEY is not set, or no event yet.")
                + "[/red]"
            )
            raise typer.Exit(code=1)
        console.print(
            _(
                "Checkpoint written: event {seq}, chain hash {hash}.",
                seq=written.seq,
                hash=written.hash,
            ),
            soft_wrap=True,
        )


UNCONFIRMED = 3


async def _checkpoint(container: Container) -> AuditCheckpointRead | None:
    return await write_audit_checkpoint(
        uow=container.uow(),
        actor=Actor.system(),
        store=CheckpointStore.from_settings(container.settings),
    )


async def _verify(container: Container, batch: int) -> ChainVerification:
    actor = Actor.system()
    with Progress(
        TextColumn(_("audit events")),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
        transient=True,
    ) as bar:
        task = bar.add_task("", total=None)

        def progress(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total or None)

        result = await audit_services.verify_audit_chain(
            uow=container.uow(),
            actor=actor,
            batch_size=batch,
            progress=progress,
            checkpoints=CheckpointStore.from_settings(container.settings),
        )
    try:
        await audit_services.record_chain_verification(
            uow=container.uow(), actor=actor, result=result
        )
    except AuditTrailBlocked:
        # A row stands where this check's own event belongs: the result below names it.
        err_console.print(
            "[red]" + _("This check could not be added to the audit trail.") + "[/red]"
        )
    return result


def _reason(reason: ChainBreakReason) -> str:
    return {
        ChainBreakReason.HASH_MISMATCH: _("its content no longer matches its hash"),
        ChainBreakReason.HEAD_HASH_MISMATCH: _("it is not the last event the chain recorded"),
        ChainBreakReason.DUPLICATE_SEQ: _("a second event holds the same place in the chain"),
        ChainBreakReason.PREV_HASH_MISMATCH: _("it does not link to the event before it"),
        ChainBreakReason.BEYOND_HEAD: _("it lies after the last event the chain recorded"),
        ChainBreakReason.SEQ_GAP: _("the chain jumps over it"),
        ChainBreakReason.HEAD_AHEAD: _("the chain recorded events after the last one present"),
        ChainBreakReason.HEAD_MISSING: _("the record of the chain's last event is missing"),
        ChainBreakReason.CHECKPOINT_AHEAD: _(
            "a signed checkpoint names events after the last one present: the trail was cut short"
        ),
        ChainBreakReason.CHECKPOINT_HASH_MISMATCH: _(
            "it is not the event a signed checkpoint recorded: the trail was rewritten"
        ),
        ChainBreakReason.CHECKPOINT_FORGED: _(
            "the checkpoint's signature is wrong: the checkpoint file was edited"
        ),
    }[reason]


def _break_message(broken: ChainBreak) -> str:
    where = _("event {seq}", seq=broken.seq) if broken.seq is not None else _("the chain head")
    if broken.event_id is not None:
        where = _("{where} (row id {id})", where=where, id=broken.event_id)
    if broken.reason is ChainBreakReason.CHECKPOINT_FORGED:
        where = _("checkpoint line {line}", line=broken.checkpoint_line)
    elif broken.checkpoint_line is not None:
        where = _(
            "{where}, against checkpoint line {line},", where=where, line=broken.checkpoint_line
        )
    reason = _reason(broken.reason)
    messages = {
        ChainBreakKind.ALTERED: _(
            "The audit trail is broken: {where} was altered ({reason}).",
            where=where,
            reason=reason,
        ),
        ChainBreakKind.INSERTED: _(
            "The audit trail is broken: {where} was inserted ({reason}).",
            where=where,
            reason=reason,
        ),
        ChainBreakKind.DELETED: _(
            "The audit trail is broken: {where} was deleted ({reason}).",
            where=where,
            reason=reason,
        ),
    }
    return messages[broken.kind]
