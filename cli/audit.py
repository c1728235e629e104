"""``drive-assist audit``: check the audit trail's hash chain, as the host operator."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from cli.common import _, console, err_console, run_with_container
from core.bootstrap import Container
from core.schemas.actor import Actor
from core.schemas.audit import ChainBreak, ChainBreakKind, ChainBreakReason, ChainVerification
from core.services import audit as audit_services


def register(app: typer.Typer) -> None:
    audit = typer.Typer(no_args_is_help=True, help=_("The audit trail."))
    app.add_typer(audit, name="audit")

    @audit.command(
        "verify",
        help=_("Check that no audit event was altered, inserted or deleted (exits 1 if one was)."),
    )
    def verify(
        batch: Annotated[
            int, typer.Option("--batch", min=1, help=_("Events read per query."))
        ] = audit_services.VERIFY_BATCH,
    ) -> None:
        result = run_with_container(lambda container: _verify(container, batch))
        if result.first_break is None:
            console.print(
                _(
                    "The audit trail is intact: {count} events checked.",
                    count=f"{result.checked:,}",
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
            uow=container.uow(), actor=actor, batch_size=batch, progress=progress
        )
    await audit_services.record_chain_verification(uow=container.uow(), actor=actor, result=result)
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
    }[reason]


def _break_message(broken: ChainBreak) -> str:
    where = _("event {seq}", seq=broken.seq) if broken.seq is not None else _("the chain head")
    if broken.event_id is not None:
        where = _("{where} (row id {id})", where=where, id=broken.event_id)
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
