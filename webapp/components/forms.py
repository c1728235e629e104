"""GOV.UK Design System form parts: a visible label on every field, an optional hint, the
field's own error message, and the error summary that links to each field in error.

(https://design-system.service.gov.uk/components/text-input/ and /error-summary/)
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime, time
from typing import Any

import reflex as rx

from ui.i18n import Translator
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


def focus(element_id: str, *, scroll: bool = False) -> rx.event.EventSpec:
    """Move keyboard focus to ``element_id`` once the page has drawn it (after a save, to the
    confirmation or the error summary); ``scroll`` also brings it to the top of the screen."""
    then = " e.scrollIntoView({block: 'start'});" if scroll else ""
    return rx.call_script(
        f"setTimeout(() => {{ const e = document.getElementById('{element_id}');"
        f" if (e) {{ e.focus();{then} }} }}, 50)"
    )


def parse_local_datetime(day: str, at: str, words: Translator) -> datetime | None:
    """A date field's and a time field's text as an aware datetime in the user's zone; None
    when they are not a real date and time."""
    try:
        local = datetime.combine(date.fromisoformat(day.strip()), time.fromisoformat(at.strip()))
    except ValueError:
        return None
    return local.replace(tzinfo=words.timezone)


def group_class(error: rx.Var) -> rx.Var:
    """A form group's class: with the red bar while ``error`` holds a message."""
    return rx.cond(error != "", "form-group form-group-error", "form-group")


def radio(name: str, value: str, text: Any, field_id: str, checked: Any) -> rx.Component:
    """One GOV.UK radio: the input and its label, a 44 px tall row."""
    return rx.el.div(
        rx.el.input(
            type="radio",
            name=name,
            value=value,
            id=field_id,
            default_checked=checked,
            class_name="radios-input",
        ),
        rx.el.label(text, html_for=field_id, class_name="radios-label"),
        class_name="radios-item",
    )


def fieldset(
    legend_id: str,
    legend: Any,
    *items: rx.Component | Iterable[rx.Component],
    hint: Any = None,
    error: rx.Var | None = None,
    error_id: str = "",
    inline: bool = False,
) -> rx.Component:
    """A question answered by radios or checkboxes: legend, hint, the error line, the choices.

    ``items``: the choices, each a component or an iterable of them.
    """
    described = [f"{legend_id}-hint"] if hint is not None else []
    parts: list[rx.Component] = [
        rx.el.legend(legend, id=legend_id, class_name="fieldset-legend", tab_index=-1)
    ]
    if hint is not None:
        parts.append(rx.el.div(hint, id=f"{legend_id}-hint", class_name="hint"))
    if error is not None:
        parts.append(field_error(error, f"{error_id}-error"))
        aria = rx.cond(
            error != "", " ".join([*described, f"{error_id}-error"]), " ".join(described)
        )
    else:
        aria = " ".join(described) or None
    children: list[rx.Component] = []
    for item in items:
        children.extend([item] if isinstance(item, rx.Component) else item)
    parts.append(rx.el.div(*children, class_name="radios radios-inline" if inline else "radios"))
    group = rx.el.fieldset(*parts, class_name="fieldset", aria_describedby=aria)
    return rx.el.div(group, class_name=group_class(error) if error is not None else "form-group")
