"""``drive-assist cases``: cases as a named member of staff sees them."""

from __future__ import annotations

import typer
from rich.table import Table

from cli import case_work
from cli.common import _, console, run_with_container, translator
from core.bootstrap import Container
from core.enums import OPEN_STAGES, Face, Stage
from core.schemas.cases import CaseSummary
from core.services import cases as case_services
from core.services import users as user_services
from ui.labels import label


def register(app: typer.Typer) -> None:
    cases = typer.Typer(no_args_is_help=True, help=_("Cases."))
    app.add_typer(cases, name="cases")
    case_work.register(cases)

    @cases.command("list", help=_("List the cases a member of staff may see."))
    def list_command(
        as_email: str = typer.Option(..., "--as", help=_("Email of the member of staff.")),
        stage: list[Stage] = typer.Option([], "--stage", help=_("Only these stages.")),
        open_only: bool = typer.Option(False, "--open", help=_("Only open cases.")),
        mine: bool = typer.Option(False, "--mine", help=_("Only cases allocated to me.")),
    ) -> None:
        async def work(container: Container) -> list[CaseSummary]:
            actor = await user_services.actor_for_email(
                uow=container.uow(), email=as_email, face=Face.CLI
            )
            stages = set(stage) or (set(OPEN_STAGES) if open_only else None)
            return await case_services.list_cases(
                uow=container.uow(),
                actor=actor,
                stages=stages,
                case_manager_id=actor.user_id if mine else None,
                limit=1000,
            )

        rows = run_with_container(work)
        table = Table(_("Reference"), _("Site"), _("Stage"), _("Referred"), _("DASH"))
        for row in rows:
            table.add_row(
                row.reference,
                row.site_code,
                label(row.stage, translator),
                row.referral_date.isoformat(),
                "" if row.dash_score is None else str(row.dash_score),
            )
        console.print(table)
        console.print(translator.ngettext("{n} case.", "{n} cases.", len(rows)))
