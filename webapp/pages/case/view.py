"""One case's page: at phone width the summary, then what the reader may do, then risk, stage
history, interventions and the timeline; victims and children last, reached from a link near
the top (only for the roles allowed to see them)."""

from __future__ import annotations

from typing import Any

import reflex as rx

from webapp import routes
from webapp.components.case_risk import risk_history
from webapp.components.case_timeline import timeline
from webapp.components.layout import loading, page
from webapp.i18n import _
from webapp.pages.case.state import FOUND, MISSING, CaseState


def _notice() -> rx.Component:
    return rx.cond(
        CaseState.notice != "",
        rx.el.div(
            rx.el.p(CaseState.notice, class_name="banner-text"),
            id="confirmation",
            role="status",
            tab_index=-1,
            class_name="banner-success",
        ),
    )


def _summary_list() -> rx.Component:
    return rx.el.dl(
        rx.foreach(
            CaseState.summary,
            lambda row: rx.el.div(
                rx.el.dt(row.label, class_name="summary-key"),
                rx.el.dd(row.value, class_name="summary-value"),
                key=row.key,
                class_name="summary-row",
            ),
        ),
        class_name="summary-list",
    )


def _actions() -> rx.Component:
    return rx.cond(
        CaseState.actions.length() > 0,  # type: ignore[attr-defined]
        rx.el.section(
            rx.el.h2(_("Actions"), id="case-actions", class_name="heading-m"),
            rx.el.ul(
                rx.foreach(
                    CaseState.actions,
                    lambda action: rx.el.li(
                        rx.el.a(action.label, href=action.href, class_name="link-action"),
                        key=action.key,
                    ),
                ),
                class_name="plain-list",
            ),
            aria_labelledby="case-actions",
            class_name="case-section",
        ),
    )


def _stage_history() -> rx.Component:
    return rx.el.section(
        rx.el.h2(_("Stage history"), id="stage-history", class_name="heading-m"),
        rx.el.ol(
            rx.foreach(
                CaseState.stage_rows,
                lambda row: rx.el.li(
                    rx.el.p(
                        rx.cond(row.episode != "", rx.el.span(row.episode, ": ")),
                        rx.el.strong(row.stage),
                        " (",
                        row.when,
                        ")",
                    ),
                    rx.cond(row.reason != "", rx.el.p(row.reason, class_name="timeline-detail")),
                    key=row.key,
                    class_name="timeline-entry",
                ),
            ),
            class_name="timeline",
        ),
        aria_labelledby="stage-history",
        class_name="case-section",
    )


def _interventions() -> rx.Component:
    return rx.el.section(
        rx.el.h2(_("Interventions"), id="interventions", class_name="heading-m"),
        rx.cond(
            CaseState.intervention_rows.length() > 0,  # type: ignore[attr-defined]
            rx.el.ul(
                rx.foreach(
                    CaseState.intervention_rows,
                    lambda row: rx.el.li(
                        rx.el.h3(row.kind, class_name="heading-xs"),
                        rx.el.p(row.status, rx.cond(row.dates != "", rx.fragment(", ", row.dates))),
                        rx.cond(
                            row.update_href != "",
                            rx.el.p(
                                rx.el.a(
                                    _("Update status"),
                                    rx.el.span(" (", row.kind, ")", class_name="visually-hidden"),
                                    href=row.update_href,
                                )
                            ),
                        ),
                        key=row.key,
                        class_name="case-card",
                    ),
                ),
                class_name="case-list",
            ),
            rx.el.p(_("No interventions yet.")),
        ),
        rx.cond(
            CaseState.add_intervention_href != "",
            rx.el.p(
                rx.el.a(
                    _("Add an intervention"),
                    href=CaseState.add_intervention_href,
                    class_name="link-action",
                )
            ),
        ),
        aria_labelledby="interventions",
        class_name="case-section",
    )


def _person_field(name: rx.Var | str, value: rx.Var) -> rx.Component:
    return rx.cond(
        value != "",
        rx.el.div(
            rx.el.dt(name, class_name="summary-key"),
            rx.el.dd(value, class_name="summary-value"),
            class_name="summary-row",
        ),
    )


def _person_card(person: Any) -> rx.Component:
    return rx.el.li(
        rx.el.h4(person.kind, ": ", person.name, class_name="heading-xs"),
        rx.el.dl(
            _person_field(_("Date of birth"), person.date_of_birth),
            _person_field(_("Relationship"), person.relationship),
            _person_field(_("Contact details"), person.contact),
            _person_field(_("Address"), person.address),
            _person_field(_("Safety notes"), person.safety_notes),
            _person_field(_("Link ended on"), person.ended),
            class_name="summary-list",
        ),
        rx.cond(
            person.change_href != "",
            rx.el.p(
                rx.el.a(
                    _("Change"),
                    rx.el.span(" ", person.name, class_name="visually-hidden"),
                    href=person.change_href,
                )
            ),
        ),
        key=person.key,
        class_name="case-card",
    )


def _linked_people() -> rx.Component:
    return rx.cond(
        CaseState.people_shown,
        rx.el.section(
            rx.el.h2(_("Linked victims and children"), id="linked-people", class_name="heading-m"),
            rx.el.p(
                _(
                    "Restricted: share these details only with people who need them to keep"
                    " someone safe."
                ),
                class_name="warning-text",
            ),
            rx.el.h3(_("Current"), class_name="heading-s"),
            rx.cond(
                CaseState.people.length() > 0,  # type: ignore[attr-defined]
                rx.el.ul(rx.foreach(CaseState.people, _person_card), class_name="case-list"),
                rx.el.p(_("No victims or children are linked to this case.")),
            ),
            rx.cond(
                CaseState.add_person_href != "",
                rx.el.p(
                    rx.el.a(
                        _("Add a victim or child"),
                        href=CaseState.add_person_href,
                        class_name="link-action",
                    )
                ),
            ),
            rx.cond(
                CaseState.ended_people.length() > 0,  # type: ignore[attr-defined]
                rx.fragment(
                    rx.el.h3(_("Links ended"), class_name="heading-s"),
                    rx.el.ul(
                        rx.foreach(CaseState.ended_people, _person_card), class_name="case-list"
                    ),
                ),
            ),
            aria_labelledby="linked-people",
            class_name="case-section",
        ),
    )


def _people_link() -> rx.Component:
    return rx.cond(
        CaseState.people_shown,
        rx.el.p(rx.el.a(_("Victims and children"), href="#linked-people")),
    )


def _not_found() -> rx.Component:
    return rx.fragment(
        rx.el.p(_("If you typed the web address, check it is correct.")),
        rx.el.p(_("If you pasted the web address, check you copied the entire address.")),
        rx.el.p(rx.el.a(_("Go to your caseload"), href=routes.CASELOAD)),
    )


def case_page() -> rx.Component:
    title = rx.match(
        CaseState.status,
        (FOUND, CaseState.reference),
        (MISSING, _("Page not found")),
        _("Case"),
    )
    return page(
        title,
        rx.el.div(
            rx.match(
                CaseState.status,
                (
                    FOUND,
                    rx.fragment(
                        _notice(),
                        _people_link(),
                        _summary_list(),
                        _actions(),
                        risk_history(CaseState.risk_points),
                        _stage_history(),
                        _interventions(),
                        timeline(CaseState.timeline_rows),
                        _linked_people(),
                    ),
                ),
                (MISSING, _not_found()),
                loading(),
            ),
            class_name="case-page",
        ),
        on_language_change=[CaseState.load],
    )
