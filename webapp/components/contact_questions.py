"""Questions the log-contact form and the appointment forms ask alike: how long (radios of
preset minutes) and a note (a textarea with the GOV.UK character count)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import reflex as rx

from core.schemas.common import LONG_TEXT_MAX_LENGTH
from webapp.components.forms import character_count, field_error, fieldset, group_class, radio
from webapp.i18n import _, both_languages


def minutes_question(legend: Any, durations: Iterable[int], chosen: rx.Var) -> rx.Component:
    """``legend`` over one inline radio per preset length, named ``minutes``; ``chosen`` is the
    state's answer (a string)."""
    items = [
        radio(
            "minutes",
            str(minutes),
            both_languages("{minutes} min", minutes=minutes),
            f"minutes-{minutes}",
            chosen == str(minutes),
        )
        for minutes in durations
    ]
    return fieldset("minutes-legend", legend, items, inline=True)


def note_question(error: rx.Var, *, rows: int) -> rx.Component:
    """The optional note, named ``note``, with its hint, error line and character count."""
    count, recount = character_count("note", LONG_TEXT_MAX_LENGTH)
    return rx.el.div(
        rx.el.label(_("Note (optional)"), html_for="note", class_name="label"),
        rx.el.div(
            _("What happened and what comes next. No victim's name or address."),
            id="note-hint",
            class_name="hint",
        ),
        field_error(error, "note-error"),
        rx.el.textarea(
            id="note",
            name="note",
            rows=rows,
            # Not the limit itself (the count shows it, and core refuses more), but a stop to
            # a paste of a megabyte, which no browser could send to the server.
            max_length=2 * LONG_TEXT_MAX_LENGTH,
            class_name=rx.cond(error != "", "textarea textarea-error", "textarea"),
            aria_describedby=rx.cond(
                error != "",
                "note-hint note-error note-count-hint",
                "note-hint note-count-hint",
            ),
            on_change=recount,
        ),
        count,
        class_name=group_class(error),
    )
