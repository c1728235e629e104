"""``drive-assist demo seed``: fill an empty database with obviously fictional demo data;
``drive-assist demo code EMAIL``: a demo account's current sign-in code (demo mode only)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn
from rich.table import Table

from cli.common import _, console, err_console, run_with_container, translator
from core.bootstrap import Container
from core.db.migrate import upgrade
from seeding.demo import (
    DemoAccount,
    DemoDataPresent,
    DemoSummary,
    database_is_empty,
    demo_totp_code,
    seed_demo,
)
from ui.i18n import N_
from ui.labels import label

STEP_LABELS = {
    "staff": N_("Sites and staff"),
    "cases": N_("Cases and their stage history"),
    "people": N_("Victims and children"),
    "risk": N_("Risk, MARAC appearances and police incidents"),
    "appointments": N_("Appointments"),
    "contacts": N_("Contacts and attempts"),
    "interventions": N_("Interventions"),
    "panels": N_("Panels, agendas, actions and attendance"),
    "saving": N_("Saving"),
    "done": N_("Done"),
}
TABLE_LABELS = {
    "sites": N_("Sites"),
    "users": N_("Staff"),
    "memberships": N_("Roles at sites"),
    "cases": N_("Cases"),
    "case_stage_changes": N_("Stage changes"),
    "linked_people": N_("Victims and children"),
    "risk_assessments": N_("Risk assessments"),
    "marac_appearances": N_("MARAC appearances"),
    "police_incidents": N_("Police incidents"),
    "appointments": N_("Appointments"),
    "contacts": N_("Contacts and attempts"),
    "interventions": N_("Interventions"),
    "panel_meetings": N_("Panel meetings"),
    "panel_agenda_items": N_("Panel agenda items"),
    "panel_actions": N_("Panel actions"),
    "panel_attendance": N_("Panel attendance"),
}


def register(app: typer.Typer) -> None:
    demo_app = typer.Typer(no_args_is_help=True, help=_("Demo data for trying Drive Assist."))
    demo_app.command("seed", help=_("Fill an empty database with fictional demo data."))(seed)
    demo_app.command(
        "code", help=_("Print a demo account's current authenticator code (demo mode only).")
    )(code)
    app.add_typer(demo_app, name="demo")


def seed(
    seed: int = typer.Option(42, "--seed", help=_("The same seed gives the same demo data.")),
) -> None:
    summary = run_with_container(lambda container: _migrate_and_seed(container, seed))
    if summary is None:
        raise typer.Exit(code=1)
    print_counts(summary)
    print_sign_ins(summary.accounts, summary.password)


def code(email: str = typer.Argument(..., help=_("The demo account's email address."))) -> None:
    result = run_with_container(
        lambda container: demo_totp_code(
            uow=container.uow(), email=email, demo_mode=container.settings.demo_mode
        )
    )
    typer.echo(result)  # alone on its line and unstyled, so a script can read it


async def _migrate_and_seed(container: Container, seed: int) -> DemoSummary | None:
    """Bring the schema up to date, then seed; None (having said why) if data is present or
    this is not demo mode (the demo's accounts share a published password and codes)."""
    if not container.settings.demo_mode:
        err_console.print(
            "[red]"
            + _(
                "Demo data is added only in demo mode: every demo account shares a published"
                " password, so it must never reach a real database. For a demo database, set"
                " DEMO_MODE=true and run this again."
            )
            + "[/red]"
        )
        return None
    await upgrade(container.engine)
    if not await database_is_empty(container):
        _say_data_present(container)
        return None
    try:
        return await seed_with_progress(container, seed)
    except DemoDataPresent:  # someone else filled it since we looked
        _say_data_present(container)
        return None


async def seed_with_progress(container: Container, seed: int) -> DemoSummary:
    """Seed the demo with a progress bar on the console (the database must be empty)."""
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn())
    with Progress(*columns, console=console) as bar:
        task = bar.add_task(_("Adding demo data"), total=None)

        def report(step: str, done: int, total: int) -> None:
            description = _(STEP_LABELS[step]) if step in STEP_LABELS else step
            bar.update(task, description=description, completed=done, total=total)

        return await seed_demo(container, seed=seed, progress=report)


def _say_data_present(container: Container) -> None:
    url = container.engine.url
    if url.get_backend_name() == "sqlite" and url.database:
        message = _(
            "The database {database} already holds data, so no demo data was added. "
            "Delete that file to start again, or set DATABASE_URL to a new, empty database.",
            database=url.database,
        )
    else:
        message = _(
            "The database {database} already holds data, so no demo data was added. "
            "Set DATABASE_URL to a new, empty database.",
            database=url.render_as_string(hide_password=True),
        )
    err_console.print(f"[red]{message}[/red]")


def print_counts(summary: DemoSummary) -> None:
    table = Table(title=_("Demo data added (seed {seed})", seed=summary.seed))
    table.add_column(_("Records"))
    table.add_column(_("Count"), justify="right")
    for name, count in summary.counts.items():
        table.add_row(_(TABLE_LABELS[name]) if name in TABLE_LABELS else name, str(count))
    console.print(table)


def print_sign_ins(accounts: Sequence[DemoAccount], password: str) -> None:
    table = Table(title=_("Demo sign-ins"))
    table.add_column(_("Email"), no_wrap=True)
    table.add_column(_("Name"))
    table.add_column(_("Roles"))
    table.add_column(_("Authenticator secret"), no_wrap=True)
    for account in accounts:
        table.add_row(account.email, account.display_name, _roles(account), account.totp_secret)
    console.print(table)
    console.print(
        _(
            "Every demo account uses the password {password}. All names, addresses and "
            "cases are fictional.",
            password=password,
        )
    )
    console.print(
        _(
            "To sign in to the web app, add an account's authenticator secret to an "
            "authenticator app, or run: drive-assist demo code EMAIL (with DEMO_MODE=true)."
        )
    )


def _roles(account: DemoAccount) -> str:
    """ "Service manager (HER, WOR)": each role once, with the sites it is held at."""
    sites_by_role: dict[str, list[str]] = defaultdict(list)
    for role, site_code in account.roles:
        sites_by_role[label(role, translator)].append(site_code)
    return ", ".join(f"{role} ({', '.join(codes)})" for role, codes in sites_by_role.items())
