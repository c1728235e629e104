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
from ui.i18n import N_
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


class RiskState(CaseFormState):
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
    FIELD_QUESTIONS: ClassVar = {
        "dash_answers": "dash",
        "dash_score": "dash_score",
        "level": "level",
        "reason": "reason",
        "assessor_role": "assessor_role",
    }

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

    @rx.event
    @signed_in
    async def submit(self, caller: Caller, form: dict[str, Any]):  # type: ignore[no-untyped-def]
        if not self._fresh(form):
            return None
        score_text = str(form.get("dash_score") or "").strip()
        if score_text and not score_text.isdigit():
            return self._fail({"dash_score": caller.words.gettext(BAD_SCORE)})
        data = build(
            RiskAssessmentCreate,
            case_id=self._case_id,
            level=str(form.get("level") or "") or None,
            dash_score=int(score_text) if score_text else None,
            dash_answers=dash_answers(form),
            reason=text(form, "reason"),
            assessor_role=str(form.get("assessor_role") or "") or None,
        )
        made = await risk.record_risk_assessment(uow=caller.uow(), actor=caller.actor, data=data)
        message = caller.words.gettext(
            "Risk assessment recorded: {level}.", level=label(made.level, caller.words)
        )
        return await self._saved(message)


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


# --- MARAC ------------------------------------------------------------------------------------


class MaracState(DatedCaseForm, CaseFormState):
    OFFER: ClassVar = Offer.RECORD_MARAC
    heard_on_error: str = ""
    description_error: str = ""
    QUESTIONS: ClassVar = (("heard_on", "heard_on"), ("description", "description"))
    FIELD_QUESTIONS: ClassVar = {"heard_on": "heard_on", "description": "description"}

    @rx.event
    @signed_in
    async def submit(self, caller: Caller, form: dict[str, Any]):  # type: ignore[no-untyped-def]
        if not self._fresh(form):
            return None
        problems: Problems = {}
        day = date_or_problem(form, problems, caller.words, "heard_on")
        if problems or day is None:
            return self._fail(problems)
        data = build(
            MaracAppearanceCreate,
            case_id=self._case_id,
            heard_on=day,
            appearance_type=str(form.get("appearance_type") or "") or None,
            description=text(form, "description"),
        )
        await risk.record_marac_appearance(uow=caller.uow(), actor=caller.actor, data=data)
        return await self._saved(caller.words.gettext("MARAC appearance recorded."))


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
        textarea(
            "description",
            _("What happened (optional)"),
            state.description_error,
            hint=_("Up to 500 characters. No victim's name or address."),
        ),
        save=_("Save"),
    )


# --- police incident --------------------------------------------------------------------------


class IncidentState(DatedCaseForm, CaseFormState):
    OFFER: ClassVar = Offer.RECORD_INCIDENT
    occurred_on_error: str = ""
    police_reference_error: str = ""
    description_error: str = ""
    QUESTIONS: ClassVar = (
        ("occurred_on", "occurred_on"),
        ("police_reference", "police_reference"),
        ("description", "description"),
    )
    FIELD_QUESTIONS: ClassVar = {
        "occurred_on": "occurred_on",
        "police_reference": "police_reference",
        "description": "description",
    }

    @rx.event
    @signed_in
    async def submit(self, caller: Caller, form: dict[str, Any]):  # type: ignore[no-untyped-def]
        if not self._fresh(form):
            return None
        problems: Problems = {}
        day = date_or_problem(form, problems, caller.words, "occurred_on")
        if problems or day is None:
            return self._fail(problems)
        data = build(
            PoliceIncidentCreate,
            case_id=self._case_id,
            occurred_on=day,
            police_reference=text(form, "police_reference"),
            incident_type=str(form.get("incident_type") or "") or None,
            description=text(form, "description"),
        )
        await risk.record_police_incident(uow=caller.uow(), actor=caller.actor, data=data)
        return await self._saved(caller.words.gettext("Police incident recorded."))


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
        textarea(
            "description",
            _("What happened (optional)"),
            state.description_error,
            hint=_("Up to 500 characters. No victim's name or address."),
        ),
        save=_("Save"),
    )
