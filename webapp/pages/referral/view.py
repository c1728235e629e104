"""A new referral: one page of GOV.UK questions, the DASH risk checklist, the possible
duplicates before saving, and a confirmation with the new reference and risk level.

On a phone the 24 DASH questions are grouped under four headings, each a yes / no / not known
radio group, and a bar fixed to the bottom of the screen keeps the running score (counted in
the browser as the radios change; core works out the score that is saved). The checklist and
"enter the score" are one or the other: the question before them shows one and hides the other.
"""

from __future__ import annotations

from typing import Any

import reflex as rx

from core.enums import AbuseType, DashAnswer, ReferralReason, ReferralSource
from core.schemas.common import LONG_TEXT_MAX_LENGTH
from ui.dash import DASH_QUESTION_TEXT
from ui.i18n import N_
from ui.labels import LABELS
from webapp.components.forms import (
    date_input,
    error_summary,
    field_error,
    fieldset,
    group_class,
    radio,
    text_field,
)
from webapp.components.layout import loading, page
from webapp.i18n import _
from webapp.pages.referral.state import CHECKLIST, NOT_DONE, SCORE, ReferralState

DASH_GROUPS = (
    (N_("The incident and how the victim feels"), range(1, 6)),
    (N_("Separation, children and pregnancy"), range(6, 10)),
    (N_("How the abuse is changing"), range(10, 17)),
    (N_("Other people, history and the abuser's circumstances"), range(17, 25)),
)
_YES_NO_UNKNOWN = (("yes", N_("Yes")), ("no", N_("No")), ("not_known", N_("Not known")))
# Counted in the browser as the radios change: "yes" answers and answered questions.
_RECOUNT = (
    "(() => { const form = document.getElementById('referral-form'); if (!form) return;"
    " const checked = form.querySelectorAll('input[name^=\"dash_q\"]:checked');"
    " const yes = Array.from(checked).filter(i => i.value === 'yes').length;"
    " const s = document.getElementById('dash-score'); if (s) s.textContent = String(yes);"
    " const a = document.getElementById('dash-answered');"
    " if (a) a.textContent = String(checked.length); })()"
)


def _error(field: str) -> rx.Var:
    return ReferralState.field_errors[field]


def _radios(name: str, choices: Any, error_field: str | None, legend: Any, **kw: Any) -> Any:
    items = [radio(name, value, _(text), f"{name}-{value}", False) for value, text in choices]
    if error_field is None:
        return fieldset(f"{name}-legend", legend, *items, **kw)
    return fieldset(
        f"{name}-legend", legend, *items, error=_error(error_field), error_id=name, **kw
    )


def _site_question() -> rx.Component:
    state = ReferralState
    choices = rx.foreach(
        state.sites, lambda site: radio("site", site.id, site.label, "site-" + site.id, False)
    )
    return rx.cond(
        state.sites.length() > 1,  # type: ignore[attr-defined]
        fieldset(
            "site-legend",
            _("Which site is the referral for?"),
            choices,
            error=_error("site"),
            error_id="site",
        ),
    )


def _referral_questions() -> list[rx.Component]:
    sources = [(s.value, LABELS[ReferralSource][s]) for s in ReferralSource]
    reasons = [(r.value, LABELS[ReferralReason][r]) for r in ReferralReason]
    return [
        _site_question(),
        date_input(
            name="referral_date",
            legend=_("When was the referral made?"),
            hint=_("For example, 27 3 2025"),
            error=_error("referral_date"),
        ),
        _radios("source", sources, "source", _("Where did the referral come from?")),
        _radios("reason", reasons, "reason", _("Why was the person referred?")),
    ]


def _abuse_questions() -> rx.Component:
    groups = [
        _radios(f"abuse_{t.value}", _YES_NO_UNKNOWN, None, _(LABELS[AbuseType][t]), inline=True)
        for t in AbuseType
    ]
    return rx.el.section(
        rx.el.h2(_("Abuse at the time of referral"), class_name="heading-m"),
        rx.el.p(_("Leave a question unanswered if it is not known."), class_name="hint"),
        *groups,
    )


def _textarea(name: str, label: Any) -> rx.Component:
    return rx.el.div(
        rx.el.label(label, html_for=name, class_name="label"),
        field_error(_error(name), f"{name}-error"),
        rx.el.textarea(
            id=name,
            name=name,
            rows=3,
            max_length=2 * LONG_TEXT_MAX_LENGTH,
            class_name=rx.cond(_error(name) != "", "textarea textarea-error", "textarea"),
            aria_describedby=rx.cond(_error(name) != "", f"{name}-error", ""),
        ),
        class_name=group_class(_error(name)),
    )


def _person_questions() -> rx.Component:
    interpreter = [("yes", N_("Yes")), ("no", N_("No"))]
    return rx.el.section(
        rx.el.h2(_("The person referred"), class_name="heading-m"),
        text_field(name="name", label=_("Full name"), error=_error("name"), auto_complete="off"),
        date_input(
            name="date_of_birth",
            legend=_("Date of birth (optional)"),
            hint=_("For example, 4 11 1985"),
            error=_error("date_of_birth"),
        ),
        text_field(name="gender", label=_("Gender (optional)"), error=_error("gender")),
        _textarea("address", _("Address (optional)")),
        text_field(name="phone", label=_("Phone (optional)"), error=_error("phone"), type="tel"),
        text_field(
            name="languages",
            label=_("Languages spoken (optional)"),
            error=_error("languages"),
        ),
        _radios("interpreter", interpreter, None, _("Is an interpreter needed?"), inline=True),
    )


def _referrer_questions() -> rx.Component:
    return rx.el.section(
        rx.el.h2(_("Who made the referral"), class_name="heading-m"),
        text_field(
            name="referrer_agency",
            label=_("Referring agency (optional)"),
            error=_error("referrer_agency"),
        ),
        _textarea("referrer_contact", _("Contact at the agency (optional)")),
    )


def _dash_question(number: int) -> rx.Component:
    key = f"q{number}"
    state = ReferralState
    name = f"dash_{key}"
    items = [
        rx.el.div(
            rx.el.input(
                type="radio",
                name=name,
                value=value,
                id=f"{name}-{value}",
                class_name="radios-input",
                on_change=rx.call_script(_RECOUNT),
            ),
            rx.el.label(_(text), html_for=f"{name}-{value}", class_name="radios-label"),
            class_name="radios-item",
        )
        for value, text in ((a.value, LABELS[DashAnswer][a]) for a in DashAnswer)
    ]
    missing = rx.cond(state.dash_missing.contains(key), _("Select yes, no or not known"), "")
    return fieldset(
        f"{name}-legend",
        rx.fragment(f"{number}. ", _(DASH_QUESTION_TEXT[key])),
        *items,
        error=missing,
        error_id=name,
        inline=True,
    )


def _dash_checklist() -> rx.Component:
    groups = [
        rx.el.div(
            rx.el.h3(_(heading), class_name="heading-s"),
            *[_dash_question(number) for number in numbers],
        )
        for heading, numbers in DASH_GROUPS
    ]
    return rx.el.div(
        field_error(_error("dash"), "dash-error"),
        *groups,
        rx.el.p(
            _("Score so far:"),
            " ",
            rx.el.strong("0", id="dash-score"),
            " · ",
            _("Answered:"),
            " ",
            rx.el.span("0", id="dash-answered"),
            " / 24",
            class_name="dash-score-bar",
        ),
        hidden=ReferralState.dash_mode != CHECKLIST,
        class_name=group_class(_error("dash")),
    )


def _dash_section() -> rx.Component:
    state = ReferralState
    modes = [
        (CHECKLIST, N_("Answer the checklist here")),
        (SCORE, N_("It was done elsewhere: enter the score")),
        (NOT_DONE, N_("It has not been done")),
    ]
    items = [
        rx.el.div(
            rx.el.input(
                type="radio",
                name="dash_mode",
                value=value,
                id=f"dash_mode-{value}",
                default_checked=value == CHECKLIST,
                on_change=state.choose_dash_mode(value),
                class_name="radios-input",
            ),
            rx.el.label(_(text), html_for=f"dash_mode-{value}", class_name="radios-label"),
            class_name="radios-item",
        )
        for value, text in modes
    ]
    return rx.el.section(
        rx.el.h2(_("DASH risk checklist"), class_name="heading-m"),
        fieldset(
            "dash_mode-legend",
            _("How was the DASH risk checklist done?"),
            *items,
            error=_error("dash_mode"),
            error_id="dash_mode",
        ),
        _dash_checklist(),
        rx.el.div(
            text_field(
                name="dash_score",
                label=_("DASH score"),
                hint=_("The number of questions answered yes, from 0 to 24"),
                error=_error("dash_score"),
                input_mode="numeric",
                width_class="input-2",
            ),
            hidden=state.dash_mode != SCORE,
        ),
    )


def _form() -> rx.Component:
    state = ReferralState
    return rx.el.form(
        rx.el.input(type="hidden", name="form_key", value=state.form_key),
        *_referral_questions(),
        _abuse_questions(),
        _person_questions(),
        _referrer_questions(),
        _dash_section(),
        rx.el.button(
            rx.cond(state.saving, _("Saving…"), _("Save referral")),
            type="submit",
            disabled=state.saving | ~rx.State.is_hydrated,
            aria_disabled=state.saving,
            class_name="button",
        ),
        id="referral-form",
        key=state.form_key,
        on_submit=state.submit,
        no_validate=True,
        hidden=state.showing_duplicates,
    )


def _duplicates() -> rx.Component:
    state = ReferralState
    match = lambda row: rx.el.li(  # noqa: E731
        rx.el.a(row.reference, href=row.href, class_name="link-large"),
        rx.el.p(row.site, " · ", row.stage, " · ", row.closeness, class_name="hint"),
        key=row.key,
    )
    return rx.el.div(
        rx.el.h2(_("There may already be a case for this person"), class_name="heading-m"),
        rx.el.ul(rx.foreach(state.matches, match), class_name="list"),
        rx.el.ul(
            rx.foreach(state.elsewhere, lambda row: rx.el.li(row.text, key=row.key)),
            class_name="list",
        ),
        rx.el.p(
            _(
                "Check these before you save. If this is a different person, or a new"
                " referral for the same person, save anyway."
            )
        ),
        rx.el.div(
            rx.el.button(
                rx.cond(state.saving, _("Saving…"), _("Save anyway")),
                type="button",
                on_click=state.save_anyway,
                disabled=state.saving,
                class_name="button button-warning",
            ),
            rx.el.button(
                _("Change the details"),
                type="button",
                on_click=state.change_details,
                class_name="button button-secondary",
            ),
            class_name="button-group",
        ),
        id="duplicates",
        tab_index=-1,
        role="alert",
        class_name="warning-panel",
    )


def _confirmation() -> rx.Component:
    saved = ReferralState.saved
    return rx.el.div(
        rx.el.div(
            rx.el.h2(_("Referral saved"), class_name="panel-title"),
            rx.el.p(_("Reference"), " ", rx.el.strong(saved.reference), class_name="panel-body"),
            rx.el.p(_("Risk level:"), " ", saved.level, class_name="panel-body"),
            id="confirmation",
            tab_index=-1,
            role="status",
            class_name="panel",
        ),
        rx.el.ul(
            rx.el.li(rx.el.a(_("Open the case"), href=saved.case_href, class_name="link-large")),
            rx.cond(
                saved.allocate_href != "",
                rx.el.li(rx.el.a(_("Allocate a case manager"), href=saved.allocate_href)),
            ),
            rx.el.li(
                rx.el.button(
                    _("Enter another referral"),
                    type="button",
                    on_click=ReferralState.new_referral,
                    class_name="button button-secondary",
                )
            ),
            class_name="next-steps",
        ),
    )


def referral_page() -> rx.Component:
    state = ReferralState
    body = rx.cond(
        state.loaded,
        rx.cond(
            state.saved.reference != "",
            _confirmation(),
            rx.cond(
                state.sites.length() > 0,  # type: ignore[attr-defined]
                rx.el.div(
                    error_summary(state.errors),
                    rx.cond(state.showing_duplicates, _duplicates()),
                    _form(),
                ),
                rx.el.p(_("You cannot record referrals at your sites.")),
            ),
        ),
        loading(),
    )
    return page(_("New referral"), rx.el.div(body, class_name="log-contact referral-page"))
