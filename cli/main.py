"""Entry point for ``drive-assist``: registers each command group from its own module."""

from __future__ import annotations

import typer

app = typer.Typer(no_args_is_help=True, add_completion=False, help="Drive Assist")


def _register() -> None:
    import importlib

    for module_name in ("cli.db", "cli.users", "cli.cases", "cli.demo", "cli.bench", "cli.run"):
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as exc:  # a command group not written yet
            if exc.name == module_name:
                continue
            raise
        module.register(app)


_register()


def main() -> None:
    app()
