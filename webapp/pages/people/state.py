"""The victim-or-child page's state: add (``/case/ID/people/new``) or edit one linked person.

Core decides who may do what: the page shows its forms only when ``core.areas`` offers
``MANAGE_PEOPLE`` on the case (IDVAs and service managers), the IDVA picker only with
``ASSIGN_IDVA`` (service managers); every read of the person goes through ``people.case_people``
(audited). The person's details are restricted: ``forget_restricted`` and ``__getstate__`` keep
them out of Reflex's state store and out of a reconnecting tab, as on the case page.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from datetime import date
from typing import Any

import reflex as rx
from pydantic import ValidationError

from core.areas import Offer, offers_on_case
from core.enums import PersonKind
from core.errors import DomainError, NotFound, NotPermitted
from core.schemas.common import input_error
from core.schemas.people import (
    IdvaAssignment,
    LinkedPersonCreate,
    LinkedPersonRead,
    LinkedPersonUpdate,
    LinkEnd,
)
from core.services import cases, people
from ui.errors import error_message
from ui.i18n import N_, Translator
from webapp import routes
from webapp.components.forms import FieldError, date_parts, focus, parse_date_parts
from webapp.handlers import Caller, signed_in
from webapp.state import AppState

_ID = re.compile(r"[1-9]\d{0,9}")
LOADING, FOUND, MISSING, SAVED = "loading", "found", "missing", "saved"
NO_IDVA = "none"

MISSING_KIND = N_("Select whether this is a victim or a child")
BAD_BIRTH_DATE = N_("Enter a real date of birth, like 27 3 2007")
BAD_END_DATE = N_("Enter the date the link ended, like 27 3 2025")
# Core's refusals by the field they name: the id of the question on the form.
FIELD_IDS = {
    "kind": "kind-victim",
    "name": "name",
    "date_of_birth": "dob",
    "relationship_to_subject": "relationship",
    "contact": "contact",
    "address": "address",
    "safety_notes": "safety_notes",
    "assigned_idva_id": "idva",
    "idva_user_id": "idva",
    "ended_on": "ended_on",
}
RESTRICTED = ("name", "relationship", "contact", "address", "safety_notes", "dob")


@dataclass(frozen=True)
class IdvaOption:
    id: str
    name: str


def _text(form: dict[str, Any], name: str) -> str | None:
    return str(form.get(name) or "").strip() or None


def _dob_given(form: dict[str, Any]) -> bool:
    return any(str(form.get(f"dob_{part}") or "").strip() for part in ("day", "month", "year"))


class PersonState(AppState):
    status: str = LOADING
    editing: bool = False
    case_reference: str = ""
    case_href: str = ""
    form_key: str = ""
    kind: str = ""
    # Restricted: never stored (see __getstate__), dropped before a reconnecting tab hydrates.
    name: str = ""
    relationship: str = ""
    contact: str = ""
    address: str = ""
    safety_notes: str = ""
    dob: list[str] = ["", "", ""]
    # Who supports the person, and whether this reader may change it.
    assign_shown: bool = False
    idvas: list[IdvaOption] = []
    assigned: str = NO_IDVA
    assigned_name: str = ""
    ended_on: str = ""  # the date the link ended, as shown; '' while current
    errors: list[FieldError] = []
    field_errors: dict[str, str] = {}
    saved_message: str = ""
    _case_id: int = 0
    _person_id: int = 0

    def forget_restricted(self) -> None:
        """Drop the person's details (``webapp.session_guard`` calls this before a
        reconnecting tab is sent its state; ``load`` reads them again through core)."""
        for field in RESTRICTED:
            setattr(self, field, ["", "", ""] if field == "dob" else "")
        self.assigned_name = ""

    def __getstate__(self) -> dict[str, Any]:
        """What Reflex writes to its state store: everything but the person's details."""
        fields = dict(super().__getstate__())
        for field in (*RESTRICTED, "assigned_name"):
            fields[field] = ["", "", ""] if field == "dob" else ""
        return fields

    def _clear_messages(self) -> None:
        self.errors = []
        self.field_errors = {}

    def _show_error(self, message: str, error: DomainError) -> rx.event.EventSpec | None:
        """Not allowed or not there: "Page not found"; a refusal of an answer: against it."""
        if isinstance(error, NotFound | NotPermitted):
            self._clear(MISSING)
            return None
        field = FIELD_IDS.get(str(error.details.get("field")), "name")
        return self._show({field: message})

    def _show(self, problems: dict[str, str]) -> rx.event.EventSpec:
        self.field_errors = problems
        self.errors = [FieldError(field, message) for field, message in problems.items()]
        return focus("error-summary")

    def _clear(self, status: str) -> None:
        self.status = status
        self.case_reference = self.case_href = self.saved_message = self.ended_on = ""
        self.kind = ""
        self.forget_restricted()
        self.assign_shown = False
        self.idvas = []
        self.assigned = NO_IDVA
        self.errors = []
        self.field_errors = {}

    @rx.event
    @signed_in
    async def load(self, caller: Caller) -> None:
        self._clear(LOADING)
        params = self.router.page.params
        raw_case, raw_person = str(params.get("case_id", "")), str(params.get("person_id", ""))
        self.editing = raw_person not in ("", "new")
        if not _ID.fullmatch(raw_case) or (self.editing and not _ID.fullmatch(raw_person)):
            self._clear(MISSING)
            return
        self._case_id, self._person_id = int(raw_case), int(raw_person) if self.editing else 0
        case = await cases.get_case(uow=caller.uow(), actor=caller.actor, case_id=self._case_id)
        if not offers_on_case(caller.actor, Offer.MANAGE_PEOPLE, case):
            self._clear(MISSING)
            return
        self.case_reference, self.case_href = case.reference, routes.case_path(case.id)
        if offers_on_case(caller.actor, Offer.ASSIGN_IDVA, case):
            choices = await people.idva_choices(
                uow=caller.uow(), actor=caller.actor, case_id=case.id
            )
            self.idvas = [IdvaOption(str(c.user_id), c.display_name) for c in choices]
            self.assign_shown = True
        if self.editing and not await self._read_person(caller):
            self._clear(MISSING)
            return
        self.form_key = uuid.uuid4().hex
        self.status = FOUND

    async def _read_person(self, caller: Caller) -> bool:
        """The person's details into the form (through core: audited); False: not on this case."""
        read = await people.case_people(uow=caller.uow(), actor=caller.actor, case_id=self._case_id)
        found = [p for p in (*read.current, *read.ended) if p.id == self._person_id]
        if not found:
            return False
        self._fill(found[0], caller.words)
        return True

    def _fill(self, person: LinkedPersonRead, words: Translator) -> None:
        self.kind = person.kind.value
        self.name = person.name or ""
        self.relationship = person.relationship_to_subject or ""
        self.contact = person.contact or ""
        self.address = person.address or ""
        self.safety_notes = person.safety_notes or ""
        self.dob = list(date_parts(person.date_of_birth))
        self.assigned = str(person.assigned_idva_id or NO_IDVA)
        self.assigned_name = person.assigned_idva_name or ""
        self.ended_on = words.format_date(person.ended_on, "d MMMM yyyy") if person.ended_on else ""

    def _read_form(
        self, form: dict[str, Any], words: Translator
    ) -> tuple[dict[str, Any] | None, dict[str, str]]:
        """The person's fields from the form (for the input models), or the problems."""
        problems: dict[str, str] = {}
        kind = str(form.get("kind") or "")
        if kind not in {k.value for k in PersonKind}:
            problems["kind-victim"] = words.gettext(MISSING_KIND)
        birth = parse_date_parts(form, "dob")
        if birth is None and _dob_given(form):
            problems["dob"] = words.gettext(BAD_BIRTH_DATE)
        if problems:
            return None, problems
        return {
            "kind": kind,
            "name": _text(form, "name"),
            "date_of_birth": birth,
            "relationship_to_subject": _text(form, "relationship"),
            "contact": _text(form, "contact"),
            "address": _text(form, "address"),
            "safety_notes": _text(form, "safety_notes"),
        }, {}

    def _model(self, make: Any, fields: dict[str, Any], words: Translator) -> Any:
        try:
            return make(**fields)
        except ValidationError as invalid:
            error = input_error(invalid)
            field = FIELD_IDS.get(str(error.details.get("field")), "name")
            return {field: error_message(error, words)}

    @rx.event
    @signed_in
    async def submit(self, caller: Caller, form: dict[str, Any]) -> rx.event.EventSpec | None:
        if form.get("form_key") != self.form_key or not self.form_key:
            return None  # a second tap on Save: the first one is handled
        fields, problems = self._read_form(form, caller.words)
        if fields is None:
            return self._show(problems)
        if not self.editing:
            idva = str(form.get("idva") or NO_IDVA)
            fields |= {"case_id": self._case_id}
            if self.assign_shown and idva.isdigit():
                fields["assigned_idva_id"] = int(idva)
        model = self._model(
            LinkedPersonUpdate if self.editing else LinkedPersonCreate, fields, caller.words
        )
        if isinstance(model, dict):
            return self._show(model)
        if self.editing:
            await people.update_linked_person(
                uow=caller.uow(), actor=caller.actor, person_id=self._person_id, data=model
            )
        else:
            await people.add_linked_person(uow=caller.uow(), actor=caller.actor, data=model)
        return self._saved(caller.words.gettext("Saved the details."))

    @rx.event
    @signed_in
    async def assign(self, caller: Caller, form: dict[str, Any]) -> rx.event.EventSpec:
        idva = str(form.get("idva") or NO_IDVA)
        await people.assign_idva(
            uow=caller.uow(),
            actor=caller.actor,
            person_id=self._person_id,
            data=IdvaAssignment(idva_user_id=int(idva) if idva.isdigit() else None),
        )
        return self._saved(caller.words.gettext("Saved who supports this person."))

    @rx.event
    @signed_in
    async def end(self, caller: Caller, form: dict[str, Any]) -> rx.event.EventSpec:
        ended_on: date | None = parse_date_parts(form, "ended_on")
        if ended_on is None:
            return self._show({"ended_on": caller.words.gettext(BAD_END_DATE)})
        await people.end_link(
            uow=caller.uow(),
            actor=caller.actor,
            person_id=self._person_id,
            data=LinkEnd(ended_on=ended_on),
        )
        return self._saved(caller.words.gettext("Ended the link. It stays in the case's history."))

    def _saved(self, message: str) -> rx.event.EventSpec:
        """The confirmation; the form's details leave the state (the case page shows them)."""
        reference, href = self.case_reference, self.case_href
        self._clear(SAVED)
        self.case_reference, self.case_href = reference, href
        self.form_key = ""
        self.saved_message = message
        return focus("confirmation")
