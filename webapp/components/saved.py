"""The confirmation a case's own form page shows once it has saved (a victim or child, an
intervention): "Saved", what was saved, and the way back to the case."""

from __future__ import annotations

import reflex as rx

from webapp.i18n import _


def saved_on_case(message: rx.Var, case_reference: rx.Var, case_href: rx.Var) -> rx.Component:
    """The GOV.UK panel with ``message`` (focused by the page, id ``confirmation``), then a
    large link to the case."""
    return rx.fragment(
        rx.el.div(
            rx.el.h2(_("Saved"), class_name="panel-title"),
            rx.el.p(message, class_name="panel-body"),
            id="confirmation",
            tab_index=-1,
            role="status",
            class_name="panel",
        ),
        rx.el.p(
            rx.el.a(
                _("Go to the case"),
                " ",
                case_reference,
                href=case_href,
                class_name="link-large",
            )
        ),
    )
