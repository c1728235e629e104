"""Core error codes turned into words a person can act on: what went wrong, what to do."""

from __future__ import annotations

from core.errors import DomainError
from ui.i18n import N_, Translator

ERROR_MESSAGES: dict[str, str] = {
    "error": N_("Something went wrong. Try again, and tell your administrator if it keeps happening."),
}


def error_message(error: DomainError, translator: Translator) -> str:
    template = ERROR_MESSAGES.get(error.code, ERROR_MESSAGES["error"])
    params = {k: str(v) for k, v in error.details.items()}
    try:
        return translator.gettext(template, **params)
    except (KeyError, IndexError):
        return translator.gettext(template)
