"""``drive-assist sar``: subject access exports, made by an admin of the case's site.

``sar export CASE_REF --as EMAIL --output PATH`` writes the bundle as JSON and as a readable HTML
page into the folder PATH, or into one zip file when PATH ends in ``.zip``. Third parties are
redacted by core (see ``core.services.sar``); free text still needs a person's review.
"""

from __future__ import annotations

from pathlib import Path

import typer

from cli.common import _, console, err_console, run_with_container, translator
from core.bootstrap import Container
from core.enums import Face
from core.schemas.sar import SarBundle
from core.services import sar as sar_services
from core.services import users as user_services
from ui.sar import write_bundle


def register(app: typer.Typer) -> None:
    sar = typer.Typer(no_args_is_help=True, help=_("Subject access requests."))
    app.add_typer(sar, name="sar")

    @sar.command(
        "export", help=_("Export everything held about a case's subject, third parties redacted.")
    )
    def export_command(
        reference: str = typer.Argument(..., help=_("The case reference, e.g. HER-0042.")),
        as_email: str = typer.Option(..., "--as", help=_("Email of the administrator.")),
        output: Path = typer.Option(
            ..., "--output", help=_("A folder to write into, or a file name ending in .zip.")
        ),
    ) -> None:
        async def work(container: Container) -> SarBundle:
            actor = await user_services.actor_for_email(
                uow=container.uow(), email=as_email, face=Face.CLI
            )
            return await sar_services.export_subject_access(
                uow=container.uow(), actor=actor, reference=reference
            )

        bundle = run_with_container(work)
        try:
            written = write_bundle(bundle, translator, output)
        except FileExistsError as error:
            err_console.print(
                "[red]"
                + _(
                    "{path} already exists. Choose another place so an earlier export is not"
                    " overwritten.",
                    path=error.args[0],
                )
                + "[/red]"
            )
            raise typer.Exit(code=1) from None
        except OSError:
            err_console.print(
                "[red]"
                + _(
                    "Could not write to {path}. Check the folder exists and you may write there.",
                    path=output,
                )
                + "[/red]"
            )
            raise typer.Exit(code=1) from None
        for path in written:
            console.print(_("Wrote {path}", path=path))
        console.print(
            _(
                "Review notes and other free text for anything about another person before"
                " you release the bundle."
            )
        )
