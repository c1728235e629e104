"""Shared plumbing for CLI commands: the container, running coroutines, printing errors."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import TypeVar

import typer
from pydantic import ValidationError
from rich.console import Console

from core.bootstrap import Container, bootstrap
from core.errors import DomainError
from core.settings import Settings
from ui.errors import error_message
from ui.i18n import Translator

T = TypeVar("T")

console = Console()
err_console = Console(stderr=True)
# The CLI speaks the operator's language: en-GB unless DEFAULT_LOCALE says otherwise
# (read through Settings like every other option).
_settings = Settings()
translator = Translator(_settings.default_locale, _settings.timezone)
_ = translator.gettext


def run_with_container(work: Callable[[Container], Awaitable[T]]) -> T:
    """Build the container, run ``work`` on it, dispose of it, and turn core errors into text."""

    async def _main() -> T:
        container = bootstrap()
        try:
            return await work(container)
        finally:
            await container.dispose()

    try:
        return asyncio.run(_main())
    except DomainError as error:
        err_console.print(f"[red]{error_message(error, translator)}[/red]")
        raise typer.Exit(code=1) from None


def validation_message(error: ValidationError) -> str:
    """Name each field that was refused, in the operator's language."""
    fields = sorted({".".join(str(part) for part in issue["loc"]) for issue in error.errors()})
    return _(
        "These values are not valid: {fields}. Check them and try again.",
        fields=", ".join(fields),
    )
