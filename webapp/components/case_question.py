"""Which case a form is about: radios for a few cases, a select for many (the log-contact and
book-an-appointment forms). Either way the field is named ``case``."""

from __future__ import annotations

from typing import Any

import reflex as rx

from webapp.components.forms import field_error, fieldset, group_class, radio
from webapp.i18n import _

MAX_CASE_RADIOS = 10  # more open cases than this: a drop-down list instead of radios


def case_question(state: Any, question: Any, cases: rx.Var | None = None) -> rx.Component:
    """``question`` over the cases of ``state`` (a page state with ``cases``, rows with ``id``
    and ``reference``; ``selected_case``; ``many_cases``; ``case_error``). The label or legend
    has the id ``case-legend``, where the error summary and the page may move focus.

    ``cases``: other rows to offer instead of the state's (a page opened with no signal offers
    the ones the device kept, ``webapp.components.device_caseload``)."""
    many: Any = state.many_cases
    if cases is None:
        cases = state.cases
    else:
        many = cases.length() > MAX_CASE_RADIOS  # type: ignore[attr-defined]
    radios = rx.foreach(
        cases,
        lambda case: radio(
            "case",
            case.id,
            case.reference,
            "case-" + case.id,
            case.id == state.selected_case,
        ),
    )
    select = rx.el.select(
        rx.el.option(_("Choose a case"), value=""),
        rx.foreach(cases, lambda case: rx.el.option(case.reference, value=case.id)),
        # Not id="case": Reflex's form would read the (unmounted) select over the radios.
        id="case-select",
        name="case",
        default_value=state.selected_case,
        class_name="select",
        aria_describedby=rx.cond(state.case_error != "", "case-error", ""),
    )
    return rx.cond(
        many,
        rx.el.div(
            rx.el.label(
                question,
                html_for="case-select",
                id="case-legend",
                class_name="label",
                tab_index=-1,
            ),
            field_error(state.case_error, "case-error"),
            select,
            class_name=group_class(state.case_error),
        ),
        fieldset("case-legend", question, radios, error=state.case_error, error_id="case"),
    )
