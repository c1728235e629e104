"""One case's page state: its summary, what the reader may do on it, risk, stage history,
interventions, timeline and, for the roles allowed, victims and children.

Core decides everything, in one read (``core.services.case_page``): whether the reader may see
the case at all, which free text they get, whether they may see victims and children (None
when not); ``core.areas.offers_on_case`` which actions to show. A case the reader may not see,
an unknown id and an address that is not a case id all show the same "Page not found", so the
page never tells anyone that a case exists.
The state holds only what the page shows: the subject's name, date of birth and address never
reach the browser.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import date
from typing import Any

import reflex as rx

from core.areas import Offer, offers_on_case
from core.enums import Stage
from core.errors import DomainError, NotFound, NotPermitted
from core.schemas.cases import CaseRead, StageChangeRead
from core.schemas.interventions import InterventionRead
from core.schemas.people import CasePeopleRead, LinkedPersonRead
from core.services.case_page import case_page
from ui.i18n import N_, Translator
from ui.labels import intervention_kind_label, label
from webapp import routes
from webapp.components.case_risk import risk_points
from webapp.components.case_timeline import timeline_rows
from webapp.handlers import Caller, signed_in
from webapp.state import AppState

CASE_ID = re.compile(r"[1-9]\d{0,9}")
LOADING, FOUND, MISSING = "loading", "found", "missing"
TIMELINE_LIMIT = 50  # the newest entries: a phone page stays a sensible length

# The case page's actions, in the order shown: the offer, its words, where it goes.
ACTIONS: tuple[tuple[Offer, str, str], ...] = (
    (Offer.LOG_CONTACT, N_("Log a contact"), "log"),
    (Offer.BOOK_APPOINTMENT, N_("Book an appointment"), "book"),
    (Offer.RECORD_RISK, N_("Record risk"), "risk"),
    (Offer.CHANGE_STAGE, N_("Change stage"), "stage"),
    (Offer.ALLOCATE_CASE, N_("Allocate"), "allocate"),
    (Offer.RECORD_MARAC, N_("Record a MARAC appearance"), "marac"),
    (Offer.RECORD_INCIDENT, N_("Record a police incident"), "incident"),
    (Offer.TRANSFER_CASE, N_("Transfer"), "transfer"),
    (Offer.CLOSE_CASE, N_("Close case"), "close"),
    (Offer.REOPEN_CASE, N_("Reopen"), "reopen"),
)


@dataclass(frozen=True)
class SummaryRow:
    key: str
    label: str
    value: str


@dataclass(frozen=True)
class ActionLink:
    key: str
    label: str
    href: str


@dataclass(frozen=True)
class StageRow:
    """One move in the case's stage history: to which stage, when, why, in which episode."""

    key: str
    episode: str
    stage: str
    when: str
    reason: str


@dataclass(frozen=True)
class InterventionRow:
    key: str
    kind: str
    status: str
    dates: str
    update_href: str  # '' when the reader may not update it


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
    ended: str  # '' for a current link
    change_href: str  # '' when the reader may not change it


def _day(value: Any, words: Translator) -> str:
    return words.format_date(value, "d MMM yyyy") if value is not None else ""


def _summary(case: CaseRead, current_risk: str, words: Translator) -> list[SummaryRow]:
    """(label, value) rows of the summary list; no personal details of the subject."""
    not_recorded = words.gettext("Not recorded")

    def day(value: Any) -> str:
        return _day(value, words) or not_recorded

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
    if case.former_references:
        rows.append((words.gettext("Earlier references"), ", ".join(case.former_references)))
    return [SummaryRow(str(i), name, value) for i, (name, value) in enumerate(rows)]


def _actions(case: CaseRead, caller: Caller) -> list[ActionLink]:
    def href(action: str) -> str:
        if action == "log":
            return f"{routes.LOG_CONTACT}?case={case.id}"
        if action == "book":
            return f"{routes.APPOINTMENTS}?case={case.id}"
        return routes.case_action_path(case.id, action)

    return [
        ActionLink(action, caller.words.gettext(words), href(action))
        for offer, words, action in ACTIONS
        if offers_on_case(caller.actor, offer, case)
    ]


def _stage_rows(
    case: CaseRead, history: list[StageChangeRead], words: Translator
) -> list[StageRow]:
    """Newest first; each row names its episode when the case has had more than one."""
    rows = []
    for index, change in enumerate(history):
        reason = change.reason or ""
        if change.to_stage is Stage.CLOSED and change.closure_reason is not None:
            reason = label(change.closure_reason, words)
            if change.closure_reason_other:
                reason = f"{reason}: {change.closure_reason_other}"
        episode = (
            words.gettext("Episode {number}", number=change.episode) if case.episode > 1 else ""
        )
        rows.append(
            StageRow(
                key=str(index),
                episode=episode,
                stage=label(change.to_stage, words),
                when=_day(change.effective_on or change.changed_at, words),
                reason=reason,
            )
        )
    return rows[::-1]


def _intervention(item: InterventionRead, may_update: bool, words: Translator) -> InterventionRow:
    started, ended = _day(item.started_on, words), _day(item.ended_on, words)
    dates = ""
    if started and ended:
        dates = words.gettext("{start} to {end}", start=started, end=ended)
    elif started:
        dates = words.gettext("Since {start}", start=started)
    return InterventionRow(
        key=str(item.id),
        kind=intervention_kind_label(item.kind_code, words),
        status=label(item.status, words),
        dates=dates,
        update_href=routes.intervention_path(item.case_id, item.id) if may_update else "",
    )


def _person(person: LinkedPersonRead, change: bool, words: Translator) -> PersonCard:
    return PersonCard(
        key=str(person.id),
        kind=label(person.kind, words),
        name=person.name or words.gettext("Name not recorded"),
        date_of_birth=_day(person.date_of_birth, words),
        relationship=person.relationship_to_subject or "",
        contact=person.contact or "",
        address=person.address or "",
        safety_notes=person.safety_notes or "",
        ended=_day(person.ended_on, words),
        change_href=routes.person_path(person.case_id, person.id) if change else "",
    )


class CaseState(AppState):
    status: str = LOADING
    reference: str = ""
    notice: str = ""  # the confirmation of what an action page just saved
    summary: list[SummaryRow] = []
    actions: list[ActionLink] = []
    risk_points: list[dict[str, Any]] = []
    stage_rows: list[StageRow] = []
    intervention_rows: list[InterventionRow] = []
    add_intervention_href: str = ""
    timeline_rows: list[dict[str, str]] = []
    people_shown: bool = False
    people: list[PersonCard] = []
    ended_people: list[PersonCard] = []
    add_person_href: str = ""
    # Set by an action page just before it sends the reader here (shown once, on that case).
    _pending_notice: str = ""
    _pending_case: int = 0

    def forget_restricted(self) -> None:
        """Drop the victims' and children's details (``webapp.session_guard`` calls this
        before a reconnecting tab is sent its state: the page's ``load`` reads them again,
        through core, which checks the session and audits the read)."""
        self.people = []
        self.ended_people = []

    def __getstate__(self) -> dict[str, Any]:
        """What Reflex writes to its state store (files on disk, or Redis): everything but
        the victims' and children's details, which live only in this process's memory."""
        fields = dict(super().__getstate__())
        fields["people"] = []
        fields["ended_people"] = []
        return fields

    def tell(self, case_id: int, message: str) -> None:
        """Show ``message`` on ``case_id``'s page when it next loads (an action page's
        confirmation)."""
        self._pending_case = case_id
        self._pending_notice = message

    def _clear(self, status: str) -> None:
        self.status = status
        self.reference = ""
        self.notice = ""
        self.summary = []
        self.actions = []
        self.risk_points = []
        self.stage_rows = []
        self.intervention_rows = []
        self.add_intervention_href = ""
        self.timeline_rows = []
        self.people_shown = False
        self.people = []
        self.ended_people = []
        self.add_person_href = ""

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
        if not CASE_ID.fullmatch(raw_id):
            self._clear(MISSING)
            return
        case_id, actor = int(raw_id), caller.actor
        notice = self._pending_notice if self._pending_case == case_id else ""
        self._pending_notice, self._pending_case = "", 0
        page = await case_page(
            uow=caller.uow(), actor=actor, case_id=case_id, timeline_limit=TIMELINE_LIMIT
        )
        self._show_case(page.case, list(page.risk), caller)
        self.stage_rows = _stage_rows(page.case, list(page.stages), caller.words)
        self._show_work(page.case, list(page.interventions), caller)
        # None when the reader may not see victims: the page shows nothing about them.
        self._show_people(page.case, page.people, caller)
        self.timeline_rows = timeline_rows(list(page.timeline), caller.words)
        self.notice = notice
        self.status = FOUND

    def _show_case(self, case: CaseRead, history: list[Any], caller: Caller) -> None:
        points = risk_points(history, caller.words)
        self.reference = case.reference
        self.summary = _summary(case, points[-1]["level"] if points else "", caller.words)
        self.risk_points = points
        self.actions = _actions(case, caller)

    def _show_work(self, case: CaseRead, work: list[InterventionRead], caller: Caller) -> None:
        manage = offers_on_case(caller.actor, Offer.MANAGE_INTERVENTIONS, case)
        self.intervention_rows = [_intervention(item, manage, caller.words) for item in work]
        may_add = offers_on_case(caller.actor, Offer.ADD_INTERVENTION, case)
        self.add_intervention_href = routes.intervention_path(case.id) if may_add else ""

    def _show_people(self, case: CaseRead, linked: CasePeopleRead | None, caller: Caller) -> None:
        self.people_shown = linked is not None
        if linked is None:
            return
        manage = offers_on_case(caller.actor, Offer.MANAGE_PEOPLE, case)
        self.people = [_person(p, manage, caller.words) for p in linked.current]
        self.ended_people = [_person(p, False, caller.words) for p in linked.ended]
        self.add_person_href = routes.person_path(case.id) if manage else ""


def today(caller: Caller) -> date:
    """Today in the reader's zone: the date fields' default."""
    return caller.words.local(caller.container.clock.now()).date()
