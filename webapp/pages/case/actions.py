"""A case's stage work, each a small form page: allocate, change stage, close, reopen, transfer.

A handler is: read the form, one core service, back to the case with a confirmation. Core
refuses what is wrong (a date in the future or before the last move, "other" without words,
a site the reader may not transfer to) with a typed error naming the field; the page shows
it by that field.
"""

from __future__ import annotations

from datetime import date
from typing import Any, ClassVar

import reflex as rx

from core.areas import Offer, offer_sites
from core.enums import AbuseType, ClosureReason, DashAnswer, Stage
from core.schemas.cases import (
    AbuseProfile,
    CaseAllocate,
    CaseClose,
    CaseReopen,
    CaseTransfer,
    StageMove,
)
from core.services import cases, sites, team
from ui.i18n import N_, Translator
from ui.labels import LABELS, label
from webapp.components.forms import date_input, date_parts, fieldset, parse_date_parts, text_field
from webapp.handlers import Caller, signed_in
from webapp.i18n import _
from webapp.pages.case.dated import DatedCaseForm
from webapp.pages.case.form import (
    CaseFormState,
    Choice,
    Problems,
    SaveCaseForm,
    build,
    choice_radios,
    choices,
    enum_radios,
    form_page,
    textarea,
)
from webapp.pages.case.state import today

BAD_DATE = N_("Enter a real date, like 27 3 2025")
NO_REASON = N_("Enter why the case is being reopened")
NO_CASE_MANAGER = N_("Choose the case manager")
NO_SITE = N_("Choose the site the case is moving to")
NO_STAGE = N_("Choose the stage the case is moving to")
DATE_HINT = N_("For example, 27 3 2025. Today, unless you change it.")
WORKING_STAGES = (Stage.ENGAGING, Stage.ACTIVE, Stage.INDIRECT)
ANSWERS = (DashAnswer.YES, DashAnswer.NO, DashAnswer.NOT_KNOWN)


def date_or_problem(
    form: dict[str, Any], problems: Problems, words: Translator, name: str = "effective_on"
) -> date | None:
    """The date typed into ``name``'s fields, or None with the problem noted."""
    day = parse_date_parts(form, name)
    if day is None:
        problems[name] = words.gettext(BAD_DATE)
    return day


def text(form: dict[str, Any], name: str) -> str | None:
    return str(form.get(name) or "").strip() or None


# --- allocate ---------------------------------------------------------------------------------


class AllocateState(SaveCaseForm, CaseFormState):
    case_manager_error: str = ""
    case_managers: list[Choice] = []
    QUESTIONS: ClassVar = (("case_manager", "case_manager-legend"),)
    FIELD_QUESTIONS: ClassVar = {"case_manager_id": "case_manager"}

    def _field_id(self, question: str, field_id: str) -> str:
        return self.case_managers[0].field_id if self.case_managers else field_id

    @rx.event
    @signed_in
    async def load(self, caller: Caller) -> None:
        self.case_managers = []
        case = await self._open(caller, Offer.ALLOCATE_CASE)
        if case is None:
            return
        shown = await team.team_page(uow=caller.uow(), actor=caller.actor, site_id=case.site_id)
        people = [(str(p.user_id), p.display_name) for p in shown.case_managers]
        self.case_managers = choices("case_manager_id", people)

    def _read(self, form: dict[str, Any], words: Translator, problems: Problems) -> Any:
        chosen = str(form.get("case_manager_id") or "")
        if chosen not in {c.value for c in self.case_managers}:
            problems["case_manager"] = words.gettext(NO_CASE_MANAGER)
            return None
        return CaseAllocate(version=self._version, case_manager_id=int(chosen))

    async def _save(self, caller: Caller, data: CaseAllocate) -> str:
        case = await cases.allocate_case(
            uow=caller.uow(), actor=caller.actor, case_id=self._case_id, data=data
        )
        names = {c.value: c.label for c in self.case_managers}
        return caller.words.gettext(
            "{reference} allocated to {name}.",
            reference=case.reference,
            name=names[str(data.case_manager_id)],
        )


def allocate_page() -> rx.Component:
    state = AllocateState
    question = fieldset(
        "case_manager-legend",
        _("Which case manager will work with this case?"),
        choice_radios("case_manager_id", state.case_managers),
        hint=_("Case managers at the case's site."),
        error=state.case_manager_error,
        error_id="case_manager",
    )
    return form_page(state, _("Allocate the case"), question, save=_("Allocate"))


# --- change stage -----------------------------------------------------------------------------


class StageState(SaveCaseForm, CaseFormState):
    to_stage_error: str = ""
    effective_on_error: str = ""
    reason_error: str = ""
    current_stage: str = ""
    today_parts: list[str] = ["", "", ""]
    QUESTIONS: ClassVar = (
        ("to_stage", f"to_stage-{WORKING_STAGES[0].value}"),
        ("effective_on", "effective_on"),
        ("reason", "reason"),
    )

    @rx.event
    @signed_in
    async def load(self, caller: Caller) -> None:
        case = await self._open(caller, Offer.CHANGE_STAGE)
        if case is not None:
            self.current_stage = label(case.stage, caller.words)
            self.today_parts = list(date_parts(today(caller)))

    def _read(self, form: dict[str, Any], words: Translator, problems: Problems) -> Any:
        to_stage = str(form.get("to_stage") or "")
        if to_stage not in {s.value for s in WORKING_STAGES}:
            problems["to_stage"] = words.gettext(NO_STAGE)
        day = date_or_problem(form, problems, words)
        if problems:
            return None
        return build(
            StageMove,
            version=self._version,
            to_stage=to_stage,
            reason=text(form, "reason"),
            effective_on=day,
        )

    async def _save(self, caller: Caller, data: StageMove) -> str:
        case = await cases.change_stage(
            uow=caller.uow(), actor=caller.actor, case_id=self._case_id, data=data
        )
        stage = label(case.stage, caller.words)
        return caller.words.gettext("Stage changed to {stage}.", stage=stage)


def dated(state: Any, legend: rx.Var | str, name: str = "effective_on") -> rx.Component:
    """The date question, today by default."""
    return date_input(
        name=name,
        legend=legend,
        hint=_(DATE_HINT),
        error=getattr(state, f"{name}_error"),
        defaults=(state.today_parts[0], state.today_parts[1], state.today_parts[2]),
    )


def stage_page() -> rx.Component:
    state = StageState
    return form_page(
        state,
        _("Change stage"),
        fieldset(
            "to_stage-legend",
            _("Which stage is the case moving to?"),
            *enum_radios("to_stage", list(WORKING_STAGES)),
            hint=rx.el.span(_("Now:"), " ", state.current_stage),
            error=state.to_stage_error,
            error_id="to_stage",
        ),
        dated(state, _("When did it change?")),
        textarea("reason", _("Why? (optional)"), state.reason_error),
        save=_("Save"),
    )


# --- close ------------------------------------------------------------------------------------


class CloseState(DatedCaseForm, SaveCaseForm, CaseFormState):
    OFFER: ClassVar = Offer.CLOSE_CASE
    reason_error: str = ""
    reason_other_error: str = ""
    effective_on_error: str = ""
    QUESTIONS: ClassVar = (
        ("reason", f"reason-{ClosureReason.COMPLETED.value}"),
        ("reason_other", "reason_other"),
        ("effective_on", "effective_on"),
    )

    def _read(self, form: dict[str, Any], words: Translator, problems: Problems) -> Any:
        day = date_or_problem(form, problems, words)
        if problems:
            return None
        answers = {abuse.value: str(form.get(f"abuse_{abuse.value}") or "") for abuse in AbuseType}
        abuse = build(
            AbuseProfile,
            **{key: {"yes": True, "no": False}.get(value) for key, value in answers.items()},
        )
        return build(
            CaseClose,
            version=self._version,
            reason=str(form.get("reason") or "") or None,
            reason_other=text(form, "reason_other"),
            abuse_at_closure=abuse,
            effective_on=day,
        )

    async def _save(self, caller: Caller, data: CaseClose) -> str:
        case = await cases.close_case(
            uow=caller.uow(), actor=caller.actor, case_id=self._case_id, data=data
        )
        return caller.words.gettext("{reference} closed.", reference=case.reference)


def close_page() -> rx.Component:
    state = CloseState
    abuse_questions = [
        fieldset(
            f"abuse_{abuse.value}-legend",
            _(LABELS[AbuseType][abuse]),
            *enum_radios(f"abuse_{abuse.value}", list(ANSWERS)),
            inline=True,
        )
        for abuse in AbuseType
    ]
    return form_page(
        state,
        _("Close the case"),
        fieldset(
            "reason-legend",
            _("Why is the case closing?"),
            *enum_radios("reason", list(ClosureReason)),
            error=state.reason_error,
            error_id="reason",
        ),
        text_field(
            name="reason_other",
            label=_("If other, what is the reason?"),
            error=state.reason_other_error,
            width_class="input-wide",
        ),
        rx.el.h2(_("Abuse at closure"), class_name="heading-m"),
        rx.el.p(
            _("Was each kind of abuse still happening when the case closed?"), class_name="hint"
        ),
        *abuse_questions,
        dated(state, _("When did the case close?")),
        save=_("Close the case"),
    )


# --- reopen -----------------------------------------------------------------------------------


class ReopenState(DatedCaseForm, SaveCaseForm, CaseFormState):
    OFFER: ClassVar = Offer.REOPEN_CASE
    reason_error: str = ""
    effective_on_error: str = ""
    QUESTIONS: ClassVar = (("reason", "reason"), ("effective_on", "effective_on"))

    def _read(self, form: dict[str, Any], words: Translator, problems: Problems) -> Any:
        reason = text(form, "reason")
        if reason is None:
            problems["reason"] = words.gettext(NO_REASON)
        day = date_or_problem(form, problems, words)
        if problems:
            return None
        return build(CaseReopen, version=self._version, reason=reason, effective_on=day)

    async def _save(self, caller: Caller, data: CaseReopen) -> str:
        case = await cases.reopen_case(
            uow=caller.uow(), actor=caller.actor, case_id=self._case_id, data=data
        )
        return caller.words.gettext(
            "{reference} reopened. Allocate it to a case manager.", reference=case.reference
        )


def reopen_page() -> rx.Component:
    state = ReopenState
    return form_page(
        state,
        _("Reopen the case"),
        textarea("reason", _("Why is the case being reopened?"), state.reason_error),
        dated(state, _("When was it reopened?")),
        save=_("Reopen the case"),
    )


# --- transfer ---------------------------------------------------------------------------------


class TransferState(SaveCaseForm, CaseFormState):
    to_site_error: str = ""
    reason_error: str = ""
    site_choices: list[Choice] = []
    QUESTIONS: ClassVar = (("to_site", "to_site-legend"), ("reason", "reason"))
    FIELD_QUESTIONS: ClassVar = {"to_site_id": "to_site"}

    def _field_id(self, question: str, field_id: str) -> str:
        if question == "to_site" and self.site_choices:
            return self.site_choices[0].field_id
        return field_id

    @rx.event
    @signed_in
    async def load(self, caller: Caller) -> None:
        self.site_choices = []
        case = await self._open(caller, Offer.TRANSFER_CASE)
        if case is None:
            return
        allowed = offer_sites(caller.actor, Offer.TRANSFER_CASE) - {case.site_id}
        known = await sites.list_sites(uow=caller.uow(), actor=caller.actor)
        options = [
            (str(site.id), caller.words.gettext("{name} ({code})", name=site.name, code=site.code))
            for site in known
            if site.id in allowed
        ]
        self.site_choices = choices("to_site_id", options)

    def _read(self, form: dict[str, Any], words: Translator, problems: Problems) -> Any:
        chosen = str(form.get("to_site_id") or "")
        if chosen not in {c.value for c in self.site_choices}:
            problems["to_site"] = words.gettext(NO_SITE)
            return None
        return build(
            CaseTransfer,
            version=self._version,
            to_site_id=int(chosen),
            reason=text(form, "reason"),
        )

    async def _save(self, caller: Caller, data: CaseTransfer) -> str:
        case = await cases.transfer_case(
            uow=caller.uow(), actor=caller.actor, case_id=self._case_id, data=data
        )
        return caller.words.gettext(
            "Case transferred to {site}. Its new reference is {reference}; {old} still finds"
            " it. Allocate it to a case manager there.",
            site=case.site_code,
            reference=case.reference,
            old=self.reference,
        )


def transfer_page() -> rx.Component:
    state = TransferState
    return form_page(
        state,
        _("Transfer the case"),
        fieldset(
            "to_site-legend",
            _("Which site is the case moving to?"),
            choice_radios("to_site_id", state.site_choices),
            hint=_("The case gets that site's next reference. Its old one still finds it."),
            error=state.to_site_error,
            error_id="to_site",
        ),
        textarea("reason", _("Why? (optional)"), state.reason_error),
        save=_("Transfer the case"),
    )
