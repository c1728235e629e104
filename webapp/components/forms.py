"""GOV.UK Design System form parts: a visible label on every field, an optional hint, the
field's own error message, and the error summary that links to each field in error.

(https://design-system.service.gov.uk/components/text-input/ and /error-summary/)
"""

from __future__ import annotations

from typing import Any

import reflex as rx

from webapp.i18n import _


def text_field(
    *,
    name: str,
    label: rx.Var | str,
    hint: rx.Var | str | None = None,
    error: rx.Var | None = None,
    width_class: str = "",
    **input_props: Any,
) -> rx.Component:
    """A labelled input. ``error`` is a state var holding the message ('' when none)."""
    field_id = name
    described_by = [f"{field_id}-hint"] if hint is not None else []
    parts: list[rx.Component] = [rx.el.label(label, html_for=field_id, class_name="label")]
    if hint is not None:
        parts.append(rx.el.div(hint, id=f"{field_id}-hint", class_name="hint"))
    if error is not None:
        parts.append(field_error(error, f"{field_id}-error"))
        has_error = error != ""
        aria_describedby = rx.cond(
            has_error,
            " ".join([*described_by, f"{field_id}-error"]),
            " ".join(described_by),
        )
        input_class = rx.cond(has_error, f"input input-error {width_class}", f"input {width_class}")
        group_class = rx.cond(has_error, "form-group form-group-error", "form-group")
    else:
        aria_describedby = " ".join(described_by) or None
        input_class = f"input {width_class}"
        group_class = "form-group"
    parts.append(
        rx.el.input(
            id=field_id,
            name=name,
            class_name=input_class,
            aria_describedby=aria_describedby,
            **input_props,
        )
    )
    return rx.el.div(*parts, class_name=group_class)


def field_error(
    message: rx.Var, element_id: rx.Var | str, shown: rx.Var | None = None
) -> rx.Component:
    """A field's own error line ("Error:" for screen readers, then ``message``), shown while
    ``shown`` holds (by default: while ``message`` is not empty)."""
    return rx.cond(
        shown if shown is not None else message != "",
        rx.el.p(
            rx.el.span(_("Error:"), class_name="visually-hidden"),
            " ",
            message,
            id=element_id,
            class_name="error-message",
        ),
    )


def error_summary(errors: rx.Var) -> rx.Component:
    """A summary of ``errors`` (a list of ``{"field": id, "message": text}``) linking to each."""
    return rx.cond(
        errors.length() > 0,  # type: ignore[attr-defined]
        rx.el.div(
            rx.el.h2(_("There is a problem"), class_name="error-summary-title"),
            rx.el.ul(
                rx.foreach(
                    errors,
                    lambda item: rx.el.li(rx.el.a(item["message"], href=f"#{item['field']}")),
                ),
                class_name="error-summary-list",
            ),
            role="alert",
            tab_index=-1,
            id="error-summary",
            class_name="error-summary",
        ),
    )


def button(label: rx.Var | str, *, variant: str = "", **props: Any) -> rx.Component:
    """A GOV.UK button. A submit button stays disabled until the page is connected to the
    server: pressed earlier, the browser would post the form itself (sign-in: a bare "Method
    Not Allowed" page; other forms: the answers in the address) instead of the event handler.
    ``variant``: extra classes, such as ``"button-warning"``."""
    if props.get("type") == "submit" and "disabled" not in props:
        props["disabled"] = ~rx.State.is_hydrated
    return rx.el.button(label, class_name=f"button {variant}".strip(), **props)
