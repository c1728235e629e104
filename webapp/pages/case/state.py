"""One case: its summary, risk history, timeline and, for the roles allowed, linked people.

Core decides everything: ``get_case`` whether the reader may see the case at all,
``case_timeline`` which free text they get, ``list_linked_people`` whether they may see victims
and children (a refusal shows nothing). A case the reader may not see, an unknown id and an
address that is not a case id all show the same "Page not found", so the page never tells
anyone that a case exists. The state holds only what the page shows: the subject's name,
date of birth and address never reach the browser.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import reflex as rx

from core.areas import Offer, offers_on_case
from core.errors import DomainError, NotFound, NotPermitted
from core.schemas.cases import CaseRead
from core.schemas.people import LinkedPersonRead
from core.schemas.risk import RiskAssessmentRead
from core.schemas.timeline import TimelineEntry
from core.services import cases, people, risk
from core.services.timeline import case_timeline
from ui.i18n import Translator
from ui.labels import label
from webapp import routes
from webapp.components.case_risk import risk_history, risk_points
from webapp.components.case_timeline import timeline, timeline_rows
from webapp.components.layout import page
from webapp.handlers import Caller, signed_in
from webapp.i18n import _
from webapp.state import AppState

_CASE_ID = re.compile(r"[1-9]\d{0,9}")
LOADING, FOUND, MISSING = "loading", "found", "missing"
TIMELINE_LIMIT = 50  # the newest entries: a phone page stays a sensible length


@dataclass(frozen=True)
class SummaryRow:
    key: str
    label: str
    value: str


@dataclass(frozen=True)
class PersonCard:
    """A linked victim or child as the card shows them ('' for what is not recorded).
    Restricted: ``CaseState`` never lets these reach its state store."""

    key: str
    kind: str
    name: str
    date_of_birth: str
    relationship: str
    contact: str
    address: str
    safety_notes: str


def _summary(case: CaseRead, current_risk: str, words: Translator) -> list[SummaryRow]:
    """(label, value) rows of the summary list; no personal details of the subject."""
    not_recorded = words.gettext("Not recorded")

    def day(value: Any) -> str:
        return words.format_date(value, "d MMM yyyy") if value is not None else not_recorded

    rows = [
        (words.gettext("Reference"), case.reference),
        (words.gettext("Stage"), label(case.stage, words)),
        (words.gettext("In this stage since"), day(case.stage_changed_at)),
        (words.gettext("Risk level"), current_risk or not_recorded),
        (
            words.gettext("Case manager"),
            case.case_manager_name or words.gettext("Not allocated yet"),
        ),
        (words.gettext("Referral reason"), label(case.referral_reason, words)),
        (words.gettext("Referred on"), day(case.referral_date)),
        (words.gettext("Allocated on"), day(case.allocated_at)),
        (words.gettext("Planned end"), day(case.planned_end)),
    ]
    if case.closed_at is not None:
        rows.append((words.gettext("Closed on"), day(case.closed_at)))
    return [SummaryRow(str(i), name, value) for i, (name, value) in enumerate(rows)]


def _person(person: LinkedPersonRead, words: Translator) -> PersonCard:
    return PersonCard(
        key=str(person.id),
        kind=label(person.kind, words),
        name=person.name or words.gettext("Name not recorded"),
        date_of_birth=words.format_date(person.date_of_birth, "d MMM yyyy")
        if person.date_of_birth
        else "",
        relationship=person.relationship_to_subject or "",
        contact=person.contact or "",
        address=person.address or "",
        safety_notes=person.safety_notes or "",
    )


class CaseState(AppState):
    status: str = LOADING
    reference: str = ""
    summary: list[SummaryRow] = []
    risk_points: list[dict[str, Any]] = []
    timeline_rows: list[dict[str, str]] = []
    people_shown: bool = False
    people: list[PersonCard] = []
    book_appointment_href: str = ""

    def forget_restricted(self) -> None:
        """Drop the victims' and children's details (``webapp.session_guard`` calls this
        before a reconnecting tab is sent its state: the page's ``load`` reads them again,
        through core, which checks the session and audits the read)."""
        self.people = []

    def __getstate__(self) -> dict[str, Any]:
        """What Reflex writes to its state store (files on disk, or Redis): everything but
        the victims' and children's details, which live only in this process's memory."""
        fields = dict(super().__getstate__())
        fields["people"] = []
        return fields

    def _clear(self, status: str) -> None:
        self.status = status
        self.reference = ""
        self.summary = []
        self.risk_points = []
        self.timeline_rows = []
        self.people_shown = False
        self.people = []
        self.book_appointment_href = ""

    def _show_error(self, message: str, error: DomainError) -> None:
        """A case the reader may not see, or none: the same "Page not found" (a refusal is
        put on record by core as it leaves the unit of work)."""
        if not isinstance(error, NotFound | NotPermitted):
            raise error
        self._clear(MISSING)

    @rx.event
    @signed_in
    async def load(self, caller: Caller) -> AsyncIterator[None]:
        self._clear(LOADING)
        yield None
        raw_id = str(self.router.page.params.get("case_id", ""))
        if not _CASE_ID.fullmatch(raw_id):
            self._clear(MISSING)
            return
        case_id, actor = int(raw_id), caller.actor
        case = await cases.get_case(uow=caller.uow(), actor=actor, case_id=case_id)
        history = await risk.risk_history(uow=caller.uow(), actor=actor, case_id=case_id)
        entries = await case_timeline(
            uow=caller.uow(), actor=actor, case_id=case_id, limit=TIMELINE_LIMIT
        )
        linked = None  # not for this role: the page shows nothing about linked people
        if offers_on_case(actor, Offer.LINKED_PEOPLE, case):
            linked = await people.list_linked_people(uow=caller.uow(), actor=actor, case_id=case_id)
        self._show_case(case, history, entries, linked, caller)

    def _show_case(
        self,
        case: CaseRead,
        history: list[RiskAssessmentRead],
        entries: list[TimelineEntry],
        linked: list[LinkedPersonRead] | None,
        caller: Caller,
    ) -> None:
        words = caller.words
        points = risk_points(history, words)
        self.reference = case.reference
        self.summary = _summary(case, points[-1]["level"] if points else "", words)
        self.risk_points = points
        self.timeline_rows = timeline_rows(entries, words)
        self.people_shown = linked is not None
        self.people = [_person(person, words) for person in linked or []]
        may_book = offers_on_case(caller.actor, Offer.BOOK_APPOINTMENT, case)
        self.book_appointment_href = f"{routes.APPOINTMENTS}?case={case.id}" if may_book else ""
        self.status = FOUND


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
        rx.el.h3(person.kind, ": ", person.name, class_name="heading-s"),
        rx.el.dl(
            _person_field(_("Date of birth"), person.date_of_birth),
            _person_field(_("Relationship"), person.relationship),
            _person_field(_("Contact details"), person.contact),
            _person_field(_("Address"), person.address),
            _person_field(_("Safety notes"), person.safety_notes),
            class_name="summary-list",
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
            rx.cond(
                CaseState.people.length() > 0,  # type: ignore[attr-defined]
                rx.el.ul(rx.foreach(CaseState.people, _person_card), class_name="case-list"),
                rx.el.p(_("No victims or children are linked to this case.")),
            ),
            aria_labelledby="linked-people",
            class_name="case-section",
        ),
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
                        _summary_list(),
                        rx.cond(
                            CaseState.book_appointment_href != "",
                            rx.el.p(
                                rx.el.a(
                                    _("Book an appointment"),
                                    href=CaseState.book_appointment_href,
                                    class_name="link-action",
                                )
                            ),
                        ),
                        risk_history(CaseState.risk_points),
                        _linked_people(),
                        timeline(CaseState.timeline_rows),
                    ),
                ),
                (MISSING, _not_found()),
                rx.el.p(_("Loading…"), role="status"),
            ),
            class_name="case-page",
        ),
        on_language_change=[CaseState.load],
    )
