"""The Panel page's own form parts: a GOV.UK select with a hint and its error line, whose
ids are built in the browser (one planning form per meeting)."""

from __future__ import annotations

import reflex as rx

from webapp.components.forms import field_error


def described_by(hint_id: rx.Var | str, error_id: rx.Var | str, in_error: rx.Var) -> rx.Var:
    return rx.cond(in_error, hint_id + " " + error_id, hint_id)  # type: ignore[operator]


def select_field(
    *,
    field_id: rx.Var,
    name: str,
    label_text: str,
    hint: str,
    error: rx.Var,
    in_error: rx.Var,
    placeholder: str,
    options: rx.Var,
) -> rx.Component:
    """A labelled select with a hint and its own error line (GOV.UK select)."""
    hint_id = field_id.to(str) + "-hint"
    error_id = field_id.to(str) + "-error"
    return rx.el.div(
        rx.el.label(label_text, html_for=field_id, class_name="label"),
        rx.el.div(hint, id=hint_id, class_name="hint"),
        field_error(error, error_id, in_error),
        rx.el.select(
            rx.el.option(placeholder, value=""),
            rx.foreach(options, lambda choice: rx.el.option(choice.label, value=choice.id)),
            id=field_id,
            name=name,
            class_name=rx.cond(in_error, "input select input-error", "input select"),
            aria_describedby=described_by(hint_id, error_id, in_error),
        ),
        class_name=rx.cond(in_error, "form-group form-group-error", "form-group"),
    )
