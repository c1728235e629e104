"""The intervention page's state: add one (``/case/ID/interventions/new``) or update one's
status. Shown only when ``core.areas`` offers ``ADD_INTERVENTION`` (an open case) or
``MANAGE_INTERVENTIONS`` on the case; every
save is core's (``interventions.add_intervention`` / ``update_intervention_status``)."""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from datetime import date
from typing import Any

import reflex as rx
from pydantic import ValidationError

from core.areas import Offer, offers_on_case
from core.enums import Agency, InterventionStatus
from core.errors import DomainError, NotFound, NotPermitted
from core.schemas.common import input_error
from core.schemas.interventions import InterventionCreate, InterventionStatusUpdate
from core.services import cases, interventions
from ui.errors import error_message
from ui.i18n import N_, Translator
from ui.labels import choices, intervention_kind_label, label
from webapp import routes
from webapp.components.forms import FieldError, focus, parse_date_parts
from webapp.handlers import Caller, signed_in
from webapp.state import AppState

_ID = re.compile(r"[1-9]\d{0,9}")
LOADING, FOUND, MISSING, SAVED = "loading", "found", "missing", "saved"

MISSING_KIND = N_("Select the kind of intervention")
MISSING_AGENCY = N_("Select the agency delivering it")
MISSING_STATUS = N_("Select the status")
BAD_START = N_("Enter a real start date, like 27 3 2025")
BAD_END = N_("Enter a real end date, like 27 3 2025")
FIELD_IDS = {
    "kind_code": "kind",
    "agency": "agency",
    "status": "status-offered",
    "started_on": "started_on",
    "ended_on": "ended_on",
}


@dataclass(frozen=True)
class Choice:
    value: str
    text: str


def _date_given(form: dict[str, Any], name: str) -> bool:
    return any(str(form.get(f"{name}_{part}") or "").strip() for part in ("day", "month", "year"))


def _optional_date(
    form: dict[str, Any], name: str, problems: dict[str, str], message: str
) -> date | None:
    day = parse_date_parts(form, name)
    if day is None and _date_given(form, name):
        problems[name] = message
    return day


class InterventionState(AppState):
    status: str = LOADING
    editing: bool = False
    case_reference: str = ""
    case_href: str = ""
    form_key: str = ""
    kinds: list[Choice] = []
    agencies: list[Choice] = []
    statuses: list[Choice] = []
    # The intervention being updated.
    kind_text: str = ""
    agency_text: str = ""
    current_status: str = ""
    started_text: str = ""
    errors: list[FieldError] = []
    field_errors: dict[str, str] = {}
    saved_message: str = ""
    _case_id: int = 0
    _intervention_id: int = 0

    def _clear_messages(self) -> None:
        self.errors = []
        self.field_errors = {}

    def _show_error(self, message: str, error: DomainError) -> rx.event.EventSpec | None:
        if isinstance(error, NotFound | NotPermitted):
            self.status = MISSING
            return None
        return self._show({FIELD_IDS.get(str(error.details.get("field")), "kind"): message})

    def _show(self, problems: dict[str, str]) -> rx.event.EventSpec:
        self.field_errors = problems
        self.errors = [FieldError(field, message) for field, message in problems.items()]
        return focus("error-summary")

    @rx.event
    @signed_in
    async def load(self, caller: Caller) -> None:
        self.status, self.saved_message = LOADING, ""
        params = self.router.page.params
        raw_case, raw_id = str(params.get("case_id", "")), str(params.get("intervention_id", ""))
        self.editing = raw_id not in ("", "new")
        if not _ID.fullmatch(raw_case) or (self.editing and not _ID.fullmatch(raw_id)):
            self.status = MISSING
            return
        self._case_id, self._intervention_id = int(raw_case), int(raw_id) if self.editing else 0
        actor, words = caller.actor, caller.words
        case = await cases.get_case(uow=caller.uow(), actor=actor, case_id=self._case_id)
        offer = Offer.MANAGE_INTERVENTIONS if self.editing else Offer.ADD_INTERVENTION
        if not offers_on_case(actor, offer, case):
            self.status = MISSING
            return
        self.case_reference, self.case_href = case.reference, routes.case_path(case.id)
        self.statuses = [Choice(v, t) for v, t in choices(InterventionStatus, words)]
        if self.editing and not await self._read_one(caller):
            self.status = MISSING
            return
        if not self.editing:
            kinds = await interventions.list_intervention_kinds(uow=caller.uow())
            self.kinds = [Choice(k.code, intervention_kind_label(k.code, words)) for k in kinds]
            self.agencies = [Choice(v, t) for v, t in choices(Agency, words)]
        self.form_key = uuid.uuid4().hex
        self.status = FOUND

    async def _read_one(self, caller: Caller) -> bool:
        rows = await interventions.list_case_interventions(
            uow=caller.uow(), actor=caller.actor, case_id=self._case_id
        )
        found = [row for row in rows if row.id == self._intervention_id]
        if not found:
            return False
        words: Translator = caller.words
        one = found[0]
        self.kind_text = intervention_kind_label(one.kind_code, words)
        self.agency_text = label(one.agency, words)
        self.current_status = one.status.value
        self.started_text = (
            words.format_date(one.started_on, "d MMMM yyyy") if one.started_on else ""
        )
        return True

    def _model(self, make: Any, fields: dict[str, Any], words: Translator) -> Any:
        try:
            return make(**fields)
        except ValidationError as invalid:
            error = input_error(invalid)
            return {
                FIELD_IDS.get(str(error.details.get("field")), "kind"): error_message(error, words)
            }

    @rx.event
    @signed_in
    async def add(self, caller: Caller, form: dict[str, Any]) -> rx.event.EventSpec | None:
        if form.get("form_key") != self.form_key or not self.form_key:
            return None  # a second tap on Save
        words, problems = caller.words, {}
        kind, agency = str(form.get("kind") or ""), str(form.get("agency") or "")
        if kind not in {k.value for k in self.kinds}:
            problems["kind"] = words.gettext(MISSING_KIND)
        if agency not in {a.value for a in self.agencies}:
            problems["agency"] = words.gettext(MISSING_AGENCY)
        started = _optional_date(form, "started_on", problems, words.gettext(BAD_START))
        if problems:
            return self._show(problems)
        model = self._model(
            InterventionCreate,
            {
                "case_id": self._case_id,
                "kind_code": kind,
                "agency": agency,
                "status": str(form.get("status") or InterventionStatus.OFFERED.value),
                "started_on": started,
            },
            words,
        )
        if isinstance(model, dict):
            return self._show(model)
        await interventions.add_intervention(uow=caller.uow(), actor=caller.actor, data=model)
        return self._saved(words.gettext("Added the intervention."))

    @rx.event
    @signed_in
    async def update(self, caller: Caller, form: dict[str, Any]) -> rx.event.EventSpec | None:
        if form.get("form_key") != self.form_key or not self.form_key:
            return None
        words, problems = caller.words, {}
        status = str(form.get("status") or "")
        if status not in {s.value for s in InterventionStatus}:
            problems["status-offered"] = words.gettext(MISSING_STATUS)
        ended = _optional_date(form, "ended_on", problems, words.gettext(BAD_END))
        if problems:
            return self._show(problems)
        data = InterventionStatusUpdate(status=InterventionStatus(status), ended_on=ended)
        await interventions.update_intervention_status(
            uow=caller.uow(), actor=caller.actor, intervention_id=self._intervention_id, data=data
        )
        return self._saved(words.gettext("Saved the status."))

    def _saved(self, message: str) -> rx.event.EventSpec:
        self.form_key = ""
        self.saved_message = message
        self.status = SAVED
        return focus("confirmation")
