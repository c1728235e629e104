"""``drive-assist db``: schema migrations."""

from __future__ import annotations

import typer

from cli.common import _, console, run_with_container
from core.bootstrap import Container
from core.db.migrate import current_revision, head_revision, upgrade


def register(app: typer.Typer) -> None:
    db = typer.Typer(no_args_is_help=True, help=_("Database schema."))
    app.add_typer(db, name="db")

    @db.command("upgrade", help=_("Bring the database schema up to date (safe to run again)."))
    def upgrade_command() -> None:
        async def work(container: Container) -> str | None:
            await upgrade(container.engine)
            return await current_revision(container.engine)

        revision = run_with_container(work)
        console.print(_("Database is at schema revision {revision}.", revision=revision))

    @db.command("status", help=_("Show the schema revision of the database and of the code."))
    def status_command() -> None:
        async def work(container: Container) -> str | None:
            return await current_revision(container.engine)

        revision = run_with_container(work)
        console.print(
            _(
                "Database revision: {current}. Code revision: {head}.",
                current=revision or _("none"),
                head=head_revision(),
            )
        )
