"""``drive-assist report``: the funder return and outcome measures as CSV or XLSX.

Reports are case data in aggregate, which the host operator (``Actor.system()``) may not see, so
the command acts as a named service manager or admin (``--as EMAIL``) and reports only on the
sites where that person may view reports. Small counts are suppressed in the file, as in every
export (``core.services.report_export``).
"""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from cli.common import _, console, run_with_container
from core.bootstrap import Container
from core.enums import Face
from core.errors import NotFound
from core.schemas.reports import Report
from core.services import report_export, reports
from core.services import users as user_services

ALL_SITES = "all"


class ExportFormat(StrEnum):
    CSV = "csv"
    XLSX = "xlsx"


def suppression_note() -> str:
    return _(
        "Counts from 1 to {max} are suppressed (left blank), and so is any percentage, median "
        "or rate worked out from one, to protect the people counted.",
        max=report_export.SMALL_COUNT_MAX,
    )


def register(app: typer.Typer) -> None:
    @app.command("report", help=_("Export the funder return and outcome measures."))
    def report_command(
        as_email: Annotated[
            str,
            typer.Option("--as", help=_("Email of the service manager or admin running it.")),
        ],
        site: Annotated[
            str, typer.Option("--site", help=_("Site code, or 'all' for every site you manage."))
        ],
        period_from: Annotated[
            datetime, typer.Option("--from", formats=["%Y-%m-%d"], help=_("First day."))
        ],
        period_to: Annotated[
            datetime, typer.Option("--to", formats=["%Y-%m-%d"], help=_("Last day."))
        ],
        output: Annotated[Path, typer.Option("--output", help=_("File to write."))],
        export_format: Annotated[
            ExportFormat, typer.Option("--format", help=_("csv or xlsx."))
        ] = ExportFormat.CSV,
    ) -> None:
        first, last = period_from.date(), period_to.date()
        report = run_with_container(
            lambda container: _build(container, as_email, site, first, last, export_format, output)
        )
        rows = report_export.suppress_small_counts(report_export.report_rows(report))
        console.print(
            _(
                "Wrote {rows} figures for {sites}, {first} to {last}, to {path} "
                "({suppressed} suppressed).",
                rows=len(rows),
                sites=" ".join(report.funder.scope.site_codes),
                first=first.isoformat(),
                last=last.isoformat(),
                path=str(output),
                suppressed=sum(row.suppressed for row in rows),
            ),
            soft_wrap=True,
        )


async def _build(
    container: Container,
    email: str,
    site: str,
    first: date,
    last: date,
    export_format: ExportFormat,
    output: Path,
) -> Report:
    with Progress(
        TextColumn("{task.description:<24}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
        transient=True,
    ) as bar:
        task = bar.add_task(_("Checking access"), total=3)
        actor = await user_services.actor_for_email(uow=container.uow(), email=email, face=Face.CLI)
        site_id = None
        if site.lower() != ALL_SITES:
            sites = await reports.report_sites(uow=container.uow(), actor=actor)
            site_id = next((s.site_id for s in sites if s.code.upper() == site.upper()), None)
            if site_id is None:
                raise NotFound(entity="site", code=site)
        bar.update(task, advance=1, description=_("Working out figures"))
        report = await reports.build_report(
            uow=container.uow(), actor=actor, site_id=site_id, period_from=first, period_to=last
        )
        bar.update(task, advance=1, description=_("Writing the file"))
        rows = report_export.report_rows(report)
        scope = report.funder.scope
        if export_format is ExportFormat.XLSX:
            report_export.write_xlsx(rows, scope, suppression_note(), output)
        else:
            with output.open("w", encoding="utf-8", newline="") as stream:
                report_export.write_csv(rows, scope, suppression_note(), stream)
        bar.update(task, advance=1)
    return report
