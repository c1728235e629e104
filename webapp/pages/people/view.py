"""Add or edit a victim or child: GOV.UK fields, an IDVA picker for service managers, and
"End the link" with a date. One page for both routes (``CASE_PERSON_NEW``, ``CASE_PERSON``)."""

from __future__ import annotations

from typing import Any

import reflex as rx

from core.enums import PersonKind
from core.schemas.common import LONG_TEXT_MAX_LENGTH
from webapp.components.forms import (
    button,
    date_input,
    error_summary,
    field_error,
    fieldset,
    group_class,
    radio,
    text_field,
)
from webapp.components.layout import loading, page
from webapp.components.saved import saved_on_case
from webapp.i18n import _
from webapp.pages.people.state import FOUND, MISSING, NO_IDVA, SAVED, PersonState

S = PersonState


def _error(field: str) -> Any:
    return S.field_errors.get(field, "")


def _textarea(name: str, label: Any, hint: Any = None) -> rx.Component:
    error = _error(name)
    described = f"{name}-hint" if hint is not None else ""
    return rx.el.div(
        rx.el.label(label, html_for=name, class_name="label"),
        rx.el.div(hint, id=f"{name}-hint", class_name="hint")
        if hint is not None
        else rx.fragment(),
        field_error(error, f"{name}-error"),
        rx.el.textarea(
            id=name,
            name=name,
            rows=3,
            max_length=2 * LONG_TEXT_MAX_LENGTH,
            default_value=getattr(S, name),
            class_name=rx.cond(error != "", "textarea textarea-error", "textarea"),
            aria_describedby=rx.cond(error != "", f"{described} {name}-error", described),
        ),
        class_name=group_class(error),
    )


def _kind_question() -> rx.Component:
    return fieldset(
        "kind-legend",
        _("Who is this?"),
        radio("kind", PersonKind.VICTIM.value, _("A victim"), "kind-victim", S.kind == "victim"),
        radio("kind", PersonKind.CHILD.value, _("A child"), "kind-child", S.kind == "child"),
        error=_error("kind-victim"),
        error_id="kind",
    )


def _idva_select() -> rx.Component:
    return rx.cond(
        S.assign_shown,
        rx.el.div(
            rx.el.label(_("IDVA supporting this person"), html_for="idva", class_name="label"),
            field_error(_error("idva"), "idva-error"),
            rx.el.select(
                rx.el.option(_("Nobody for now"), value=NO_IDVA),
                rx.foreach(S.idvas, lambda idva: rx.el.option(idva.name, value=idva.id)),
                id="idva",
                name="idva",
                default_value=S.assigned,
                class_name="select",
            ),
            class_name=group_class(_error("idva")),
        ),
    )


def _details_form() -> rx.Component:
    return rx.el.form(
        rx.el.input(type="hidden", name="form_key", value=S.form_key),
        _kind_question(),
        text_field(
            name="name",
            label=_("Name"),
            error=_error("name"),
            default_value=S.name,
            auto_complete="off",
        ),
        date_input(
            name="dob",
            legend=_("Date of birth (optional)"),
            hint=_("For example, 27 3 2007"),
            error=_error("dob"),
            defaults=(S.dob[0], S.dob[1], S.dob[2]),
        ),
        text_field(
            name="relationship",
            label=_("Relationship to the person referred"),
            error=_error("relationship"),
            default_value=S.relationship,
            auto_complete="off",
        ),
        _textarea("contact", _("Contact details"), _("Safe ways and times to get in touch")),
        _textarea("address", _("Address")),
        _textarea("safety_notes", _("Safety notes")),
        rx.cond(S.editing, rx.fragment(), _idva_select()),
        button(_("Save"), type="submit"),
        key=S.form_key,
        on_submit=S.submit,
        reset_on_submit=False,
        class_name="form",
    )


def _assign_form() -> rx.Component:
    return rx.cond(
        S.assign_shown,
        rx.el.form(
            rx.el.h2(_("Who supports this person"), class_name="heading-m"),
            _idva_select(),
            button(_("Save the IDVA"), type="submit", variant="button-secondary"),
            key=S.form_key + "-assign",
            on_submit=S.assign,
            class_name="form",
        ),
        rx.cond(
            S.assigned_name != "",
            rx.el.p(_("Supported by"), " ", S.assigned_name),
        ),
    )


def _end_form() -> rx.Component:
    return rx.cond(
        S.ended_on != "",
        rx.el.p(_("The link ended on"), " ", S.ended_on, class_name="inset-text"),
        rx.el.form(
            rx.el.h2(_("End the link"), class_name="heading-m"),
            rx.el.p(
                _(
                    "When this person is no longer linked to the case. Their details stay in"
                    " the case's history."
                )
            ),
            date_input(
                name="ended_on",
                legend=_("Date the link ended"),
                hint=_("For example, 27 3 2025"),
                error=_error("ended_on"),
            ),
            button(_("End the link"), type="submit", variant="button-warning"),
            key=S.form_key + "-end",
            on_submit=S.end,
            class_name="form",
        ),
    )


def _back() -> rx.Component:
    return rx.el.p(
        rx.el.a(_("Back to the case"), " ", S.case_reference, href=S.case_href),
        class_name="back-link-row",
    )


def _not_found() -> rx.Component:
    return rx.el.p(_("If you typed the web address, check it is correct."))


def person_page() -> rx.Component:
    title = rx.match(
        S.status,
        (MISSING, _("Page not found")),
        (SAVED, _("Saved")),
        rx.cond(S.editing, _("A victim or child"), _("Add a victim or child")),
    )
    found = rx.fragment(
        _back(),
        rx.el.p(
            _(
                "Restricted: share these details only with people who need them to keep"
                " someone safe."
            ),
            class_name="warning-text",
        ),
        error_summary(S.errors),
        _details_form(),
        rx.cond(S.editing, rx.fragment(_assign_form(), _end_form())),
    )
    return page(
        title,
        rx.el.div(
            rx.match(
                S.status,
                (FOUND, found),
                (SAVED, saved_on_case(S.saved_message, S.case_reference, S.case_href)),
                (MISSING, _not_found()),
                loading(),
            ),
            class_name="person-page",
        ),
        on_language_change=[S.load],
    )
