"""Records on a case, each a small form page: a risk assessment (the DASH checklist or a known
score), a MARAC appearance, a police incident. Core works out the DASH score and level and
refuses what is wrong with a typed error naming the field."""

from __future__ import annotations

from typing import Any, ClassVar

import reflex as rx

from core.areas import Offer
from core.enums import MaracAppearanceType, PoliceIncidentType, RiskLevel, Role
from core.errors import DomainError
from core.schemas.risk import MaracAppearanceCreate, PoliceIncidentCreate, RiskAssessmentCreate
from core.services import risk
from ui.i18n import N_, Translator
from ui.labels import label
from webapp.components.dash import dash_answers, dash_checklist, dash_field_id
from webapp.components.forms import fieldset, text_field
from webapp.handlers import Caller, signed_in
from webapp.i18n import _
from webapp.pages.case.actions import date_or_problem, dated, text
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

BAD_SCORE = N_("Enter the DASH score as a whole number from 0 to 24")
ASSESSORS = (Role.CASE_MANAGER, Role.IDVA, Role.SERVICE_MANAGER)

# --- risk -------------------------------------------------------------------------------------


class RiskState(SaveCaseForm, CaseFormState):
    dash_error: str = ""
    dash_score_error: str = ""
    level_error: str = ""
    reason_error: str = ""
    assessor_role_error: str = ""
    assessor_choices: list[Choice] = []
    _dash_link: str = dash_field_id("q1")
    QUESTIONS: ClassVar = (
        ("dash", dash_field_id("q1")),
        ("dash_score", "dash_score"),
        ("level", f"level-{RiskLevel.STANDARD.value}"),
        ("reason", "reason"),
        ("assessor_role", "assessor_role-legend"),
    )
    FIELD_QUESTIONS: ClassVar = {"dash_answers": "dash"}

    def _field_id(self, question: str, field_id: str) -> str:
        if question == "assessor_role" and self.assessor_choices:
            return self.assessor_choices[0].field_id
        return self._dash_link if question == "dash" else field_id

    def _show_error(self, message: str, error: DomainError) -> rx.event.EventSpec | None:
        question = str(error.details.get("question") or "")
        self._dash_link = dash_field_id(question) if question else dash_field_id("q1")
        return super()._show_error(message, error)

    @rx.event
    @signed_in
    async def load(self, caller: Caller) -> None:
        self.assessor_choices = []
        case = await self._open(caller, Offer.RECORD_RISK)
        if case is None:
            return
        held = caller.actor.roles_at(case.site_id)
        roles = [(role.value, label(role, caller.words)) for role in ASSESSORS if role in held]
        self.assessor_choices = choices("assessor_role", roles) if len(roles) > 1 else []

    def _read(self, form: dict[str, Any], words: Translator, problems: Problems) -> Any:
        score_text = str(form.get("dash_score") or "").strip()
        if score_text and not score_text.isdigit():
            problems["dash_score"] = words.gettext(BAD_SCORE)
            return None
        return build(
            RiskAssessmentCreate,
            case_id=self._case_id,
            level=str(form.get("level") or "") or None,
            dash_score=int(score_text) if score_text else None,
            dash_answers=dash_answers(form),
            reason=text(form, "reason"),
            assessor_role=str(form.get("assessor_role") or "") or None,
        )

    async def _save(self, caller: Caller, data: RiskAssessmentCreate) -> str:
        made = await risk.record_risk_assessment(uow=caller.uow(), actor=caller.actor, data=data)
        return caller.words.gettext(
            "Risk assessment recorded: {level}.", level=label(made.level, caller.words)
        )


def risk_page() -> rx.Component:
    state = RiskState
    return form_page(
        state,
        _("Record risk"),
        dash_checklist(state.dash_error, state.dash_error != ""),
        text_field(
            name="dash_score",
            label=_("Or the DASH score, if the checklist was done elsewhere (optional)"),
            hint=_("The number of yes answers, from 0 to 24."),
            error=state.dash_score_error,
            width_class="input-2",
            input_mode="numeric",
        ),
        fieldset(
            "level-legend",
            _("Risk level (optional)"),
            *enum_radios("level", list(RiskLevel)),
            hint=_("Leave this to use the level the DASH score gives, or choose to differ."),
            error=state.level_error,
            error_id="level",
        ),
        textarea("reason", _("Why has the risk changed? (optional)"), state.reason_error),
        rx.cond(
            state.assessor_choices.length() > 0,  # type: ignore[attr-defined]
            fieldset(
                "assessor_role-legend",
                _("Who assessed the risk?"),
                choice_radios("assessor_role", state.assessor_choices),
                error=state.assessor_role_error,
                error_id="assessor_role",
            ),
        ),
        save=_("Save"),
    )


def description_question(state: type[MaracState] | type[IncidentState]) -> rx.Component:
    """What happened, in a few words, on a MARAC appearance or a police incident."""
    return textarea(
        "description",
        _("What happened (optional)"),
        state.description_error,
        hint=_("Up to 500 characters. No victim's name or address."),
    )


# --- MARAC ------------------------------------------------------------------------------------


class MaracState(DatedCaseForm, SaveCaseForm, CaseFormState):
    OFFER: ClassVar = Offer.RECORD_MARAC
    heard_on_error: str = ""
    description_error: str = ""
    QUESTIONS: ClassVar = (("heard_on", "heard_on"), ("description", "description"))

    def _read(self, form: dict[str, Any], words: Translator, problems: Problems) -> Any:
        day = date_or_problem(form, problems, words, "heard_on")
        if day is None:
            return None
        return build(
            MaracAppearanceCreate,
            case_id=self._case_id,
            heard_on=day,
            appearance_type=str(form.get("appearance_type") or "") or None,
            description=text(form, "description"),
        )

    async def _save(self, caller: Caller, data: MaracAppearanceCreate) -> str:
        await risk.record_marac_appearance(uow=caller.uow(), actor=caller.actor, data=data)
        return caller.words.gettext("MARAC appearance recorded.")


def marac_page() -> rx.Component:
    state = MaracState
    return form_page(
        state,
        _("Record a MARAC appearance"),
        dated(state, _("When was the case heard at MARAC?"), "heard_on"),
        fieldset(
            "appearance_type-legend",
            _("Was it the first appearance or a repeat? (optional)"),
            *enum_radios("appearance_type", list(MaracAppearanceType)),
        ),
        description_question(state),
        save=_("Save"),
    )


# --- police incident --------------------------------------------------------------------------


class IncidentState(DatedCaseForm, SaveCaseForm, CaseFormState):
    OFFER: ClassVar = Offer.RECORD_INCIDENT
    occurred_on_error: str = ""
    police_reference_error: str = ""
    description_error: str = ""
    QUESTIONS: ClassVar = (
        ("occurred_on", "occurred_on"),
        ("police_reference", "police_reference"),
        ("description", "description"),
    )

    def _read(self, form: dict[str, Any], words: Translator, problems: Problems) -> Any:
        day = date_or_problem(form, problems, words, "occurred_on")
        if day is None:
            return None
        return build(
            PoliceIncidentCreate,
            case_id=self._case_id,
            occurred_on=day,
            police_reference=text(form, "police_reference"),
            incident_type=str(form.get("incident_type") or "") or None,
            description=text(form, "description"),
        )

    async def _save(self, caller: Caller, data: PoliceIncidentCreate) -> str:
        await risk.record_police_incident(uow=caller.uow(), actor=caller.actor, data=data)
        return caller.words.gettext("Police incident recorded.")


def incident_page() -> rx.Component:
    state = IncidentState
    return form_page(
        state,
        _("Record a police incident"),
        dated(state, _("When did it happen?"), "occurred_on"),
        fieldset(
            "incident_type-legend",
            _("What kind of incident? (optional)"),
            *enum_radios("incident_type", list(PoliceIncidentType)),
        ),
        text_field(
            name="police_reference",
            label=_("Police reference (optional)"),
            error=state.police_reference_error,
        ),
        description_question(state),
        save=_("Save"),
    )
