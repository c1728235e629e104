"""Entry point for ``drive-assist``: registers each command group from its own module."""

from __future__ import annotations

import typer

from cli import audit as cli_audit
from cli import bench as cli_bench
from cli import bot as cli_bot
from cli import cases as cli_cases
from cli import db as cli_db
from cli import demo as cli_demo
from cli import report as cli_report
from cli import retention as cli_retention
from cli import run as cli_run
from cli import sar as cli_sar
from cli import sites as cli_sites
from cli import users as cli_users
from cli import worker as cli_worker

app = typer.Typer(no_args_is_help=True, add_completion=False, help="Drive Assist")


for command_group in (
    cli_run,
    cli_db,
    cli_users,
    cli_cases,
    cli_demo,
    cli_bench,
    cli_worker,
    cli_bot,
    cli_sites,
    cli_report,
    cli_audit,
    cli_retention,
    cli_sar,
):
    command_group.register(app)


def main() -> None:
    app()
