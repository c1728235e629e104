"""``drive-assist run``: what ``make run`` starts.

Until the web app and the bot land, the main job is to make a usable database: migrate it, seed
the demo when it is empty, and show who can sign in and what is in it.
"""

from __future__ import annotations

import typer

from cli.common import _, console, run_with_container
from cli.demo import print_counts, print_sign_ins, seed_with_progress
from core.bootstrap import Container
from core.db.migrate import current_revision, upgrade
from core.demo import DEMO_PASSWORD, DemoSummary, database_is_empty, demo_accounts


def register(app: typer.Typer) -> None:
    @app.command("run", help=_("Migrate, seed the demo on first run, and show the demo sign-ins."))
    def run_command(
        seed: int = typer.Option(42, "--seed", help=_("The same seed gives the same demo data.")),
    ) -> None:
        async def work(container: Container) -> tuple[str | None, DemoSummary | None]:
            await upgrade(container.engine)
            summary = None
            if await database_is_empty(container):
                summary = await seed_with_progress(container, seed)
            return await current_revision(container.engine), summary

        revision, summary = run_with_container(work)
        console.print(_("Database is at schema revision {revision}.", revision=revision))
        if summary is not None:
            print_counts(summary)
        else:
            console.print(_("The database already holds data; no demo data was added."))
        print_sign_ins(demo_accounts(), DEMO_PASSWORD)
        console.print(
            _(
                "Try: drive-assist cases list --as {email} --open",
                email=demo_accounts()[0].email,
            )
        )
