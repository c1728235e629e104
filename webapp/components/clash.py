"""The warning a form shows when core refused a time because it clashes (``core.errors.Clash``):
what it clashes with, then "Save anyway" or "Change the time". The booking form and the panel
meeting form each keep their own state (what is pending, what saving anyway calls); this is the
part they draw alike."""

from __future__ import annotations

from dataclasses import dataclass

import reflex as rx

from webapp.i18n import _


@dataclass(frozen=True)
class ClashRow:
    """One thing the new time would clash with, as the warning lists it (times and the kind of
    place or the site only, never a name)."""

    key: str = ""
    text: str = ""


def clash_warning(
    rows: rx.Var,
    *,
    heading: rx.Var | str,
    advice: rx.Var | str,
    save_anyway: rx.Component,
    change_time: rx.EventHandler,
    warning_id: str,
) -> rx.Component:
    """The GOV.UK-style warning above the form while a clash waits for a choice: ``rows`` (a
    state's ``list[ClashRow]``), the ``save_anyway`` button and "Change the time"."""
    row = lambda clash: rx.el.li(clash.text, key=clash.key)  # noqa: E731
    return rx.cond(
        rows.length() > 0,  # type: ignore[attr-defined]
        rx.el.div(
            rx.el.h2(heading, class_name="heading-m"),
            rx.el.ul(rx.foreach(rows, row), class_name="list clash-list"),
            rx.el.p(advice),
            rx.el.div(
                save_anyway,
                rx.el.button(
                    _("Change the time"),
                    type="button",
                    on_click=change_time,
                    class_name="button button-secondary",
                ),
                class_name="button-group",
            ),
            id=warning_id,
            tab_index=-1,
            role="alert",
            class_name="warning-panel",
        ),
    )
