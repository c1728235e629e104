"""``drive-assist retention``: a site's closed-case retention policy, and running it, as the
host operator."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
)

from cli.common import _, console, run_with_container, translator
from core.bootstrap import Container
from core.schemas.actor import Actor
from core.schemas.retention import MAX_RETENTION_YEARS, RetentionRun, SiteCaseRetentionRead
from core.services import retention as retention_services


def _parse_years(text: str) -> int | None:
    if text.strip().lower() == "off":
        return None
    try:
        years = int(text)
    except ValueError:
        years = 0
    if not 1 <= years <= MAX_RETENTION_YEARS:
        raise typer.BadParameter(
            _("Give a whole number of years from 1 to {max}, or off.", max=MAX_RETENTION_YEARS)
        )
    return years


def register(app: typer.Typer) -> None:
    retention = typer.Typer(
        no_args_is_help=True, help=_("Anonymise closed cases after a number of years.")
    )
    app.add_typer(retention, name="retention")

    @retention.command(
        "set",
        help=_(
            "Anonymise a site's closed cases this many years after they closed (off: keep them)."
        ),
    )
    def set_command(
        site: Annotated[str, typer.Option("--site", help=_("Site code, for example HER."))],
        years: Annotated[
            str,
            typer.Option(
                "--years", help=_("Years from 1 to {max}, or off.", max=MAX_RETENTION_YEARS)
            ),
        ],
    ) -> None:
        parsed = _parse_years(years)

        async def work(container: Container) -> SiteCaseRetentionRead:
            return await retention_services.set_case_retention(
                uow=container.uow(), actor=Actor.system(), site_code=site, years=parsed
            )

        result = run_with_container(work)
        if result.closed_case_retention_years is None:
            console.print(_("Closed cases at {site} are kept.", site=result.site_code))
        else:
            console.print(
                translator.ngettext(
                    "Closed cases at {site} are anonymised {n} year after they closed.",
                    "Closed cases at {site} are anonymised {n} years after they closed.",
                    result.closed_case_retention_years,
                    site=result.site_code,
                )
            )

    @retention.command(
        "run",
        help=_(
            "Anonymise the closed cases each site's policy says are due. --dry-run only"
            " reports what would change."
        ),
    )
    def run_command(
        dry_run: Annotated[
            bool, typer.Option("--dry-run", help=_("Report what would change; change nothing."))
        ] = False,
        apply: Annotated[bool, typer.Option("--apply", help=_("Make the changes."))] = False,
        site: Annotated[
            str | None, typer.Option("--site", help=_("Only this site (a site code)."))
        ] = None,
    ) -> None:
        if dry_run == apply:
            raise typer.BadParameter(_("Give exactly one of --dry-run and --apply."))
        run = run_with_container(lambda container: _run(container, apply=apply, site=site))
        _print_run(run)


async def _run(container: Container, *, apply: bool, site: str | None) -> RetentionRun:
    actor = Actor.system()
    if not apply:
        return await retention_services.plan_retention(
            uow=container.uow(), actor=actor, site_code=site
        )
    with Progress(
        TextColumn("{task.description:<8}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
    ) as bar:
        tasks: dict[str, TaskID] = {}

        def progress(site_code: str, done: int, total: int) -> None:
            if site_code not in tasks:
                tasks[site_code] = bar.add_task(site_code, total=total)
            bar.update(tasks[site_code], completed=done, total=total)

        return await retention_services.apply_retention(
            uow=container.uow(), actor=actor, site_code=site, progress=progress
        )


def _print_run(run: RetentionRun) -> None:
    if not run.sites:
        console.print(_("No site has a retention policy for closed cases."))
        return
    for site in run.sites:
        cutoff = translator.format_datetime(site.cutoff, "medium")
        if run.applied:
            line = translator.ngettext(
                "{site}: {n} case closed before {cutoff} anonymised, {fields} values removed.",
                "{site}: {n} cases closed before {cutoff} anonymised, {fields} values removed.",
                site.cases,
                site=site.site_code,
                cutoff=cutoff,
                fields=site.fields_cleared,
            )
        else:
            line = translator.ngettext(
                "{site}: {n} case closed before {cutoff} would be anonymised, {fields} values"
                " removed.",
                "{site}: {n} cases closed before {cutoff} would be anonymised, {fields} values"
                " removed.",
                site.cases,
                site=site.site_code,
                cutoff=cutoff,
                fields=site.fields_cleared,
            )
        console.print(line)
        for column, count in site.fields_by_column.items():
            if count:
                console.print(f"  {column}: {count}")
    if not run.applied:
        console.print(_("Dry run: nothing was changed. Run with --apply to make these changes."))
