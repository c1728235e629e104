"""What every case action page shares: opening the case (only when ``core.areas`` offers the
action on it), the error summary with each message by its question, and, after saving, the
confirmation back on the case's page.

Each page is a substate of ``CaseFormState`` naming its questions (``QUESTIONS``: question,
the id of its first field) and, where core names a field otherwise than the question that
answers it, which question that is (``FIELD_QUESTIONS``: core's ``error.details['field']`` ->
question; a field named as a question is that question), and holding one ``<question>_error``
var per question. Its Save is ``SaveCaseForm``'s: the page reads the form (``_read``) and calls
its one service (``_save``).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, ClassVar, TypeVar

import reflex as rx
from pydantic import BaseModel, ValidationError

from core.areas import Offer, offers_on_case
from core.errors import DomainError, NotFound, NotPermitted
from core.schemas.cases import CaseRead
from core.schemas.common import input_error
from core.services import cases
from ui.i18n import Translator
from ui.labels import LABELS
from webapp import routes
from webapp.components.forms import (
    FieldError,
    button,
    error_summary,
    field_error,
    focus,
    group_class,
    radio,
)
from webapp.components.layout import loading, page
from webapp.handlers import Caller, signed_in
from webapp.i18n import _
from webapp.pages.case.state import CASE_ID, FOUND, LOADING, MISSING, CaseState
from webapp.state import AppState

Problems = dict[str, str]  # question -> message
Model = TypeVar("Model", bound=BaseModel)


class CaseFormState(AppState):
    status: str = LOADING
    reference: str = ""
    case_href: str = ""
    form_key: str = ""  # a new one re-mounts the form with its defaults
    saving: bool = False
    errors: list[FieldError] = []
    _case_id: int = 0
    _version: int = 0

    QUESTIONS: ClassVar[tuple[tuple[str, str], ...]] = ()
    FIELD_QUESTIONS: ClassVar[dict[str, str]] = {}

    def _clear_messages(self) -> None:
        self.errors = []
        for question, _field in self.QUESTIONS:
            setattr(self, f"{question}_error", "")

    async def _open(self, caller: Caller, offer: Offer) -> CaseRead | None:
        """The case named in the address when ``offer`` is offered on it; else "Page not
        found" (the same for a case the reader may not see, as on the case page)."""
        self.status, self.saving = LOADING, False
        self._clear_messages()
        raw_id = str(self.router.page.params.get("case_id", ""))
        if not CASE_ID.fullmatch(raw_id):
            self.status = MISSING
            return None
        case = await cases.get_case(uow=caller.uow(), actor=caller.actor, case_id=int(raw_id))
        if not offers_on_case(caller.actor, offer, case):
            self.status = MISSING
            return None
        self._case_id, self._version = case.id, case.version
        self.reference, self.case_href = case.reference, routes.case_path(case.id)
        self.form_key = uuid.uuid4().hex
        self.status = FOUND
        return case

    def _show_error(self, message: str, error: DomainError) -> rx.event.EventSpec | None:
        """Core's refusal by the question it names (the first question when it names none);
        a case not found or not allowed while opening the page: "Page not found"."""
        self.saving = False
        if self.status != FOUND:
            if not isinstance(error, NotFound | NotPermitted):
                raise error
            self.status = MISSING
            return None
        field = str(error.details.get("field") or "")
        question = self.FIELD_QUESTIONS.get(field, field)
        if question not in {asked for asked, _field in self.QUESTIONS}:
            question = self.QUESTIONS[0][0]
        return self._fail({question: message})

    def _fail(self, problems: Problems) -> rx.event.EventSpec:
        """Each problem by its question and in the summary, in the form's order."""
        self.saving = False
        self.errors = [
            FieldError(self._field_id(question, field_id), problems[question])
            for question, field_id in self.QUESTIONS
            if question in problems
        ]
        for question, _field in self.QUESTIONS:
            setattr(self, f"{question}_error", problems.get(question, ""))
        return focus("error-summary")

    def _field_id(self, question: str, field_id: str) -> str:
        """Where the summary's link for ``question`` goes (a page may choose it per error)."""
        return field_id

    def _fresh(self, form: dict[str, Any]) -> bool:
        """True for the form this page drew, not yet saved (a second tap on Save is not)."""
        if self.saving or not self.form_key or form.get("form_key") != self.form_key:
            return False
        self.saving = True
        return True

    async def _saved(self, message: str, case_id: int | None = None) -> rx.event.EventSpec:
        """Back to the case's page, which shows ``message`` once. The form goes back to
        "Loading…": the next visit must not draw this one again, stale, and then swap it for a
        fresh one under the reader's fingers (they lost what they had picked)."""
        self.form_key, self.status = "", LOADING
        case_page = await self.get_state(CaseState)
        case_page.tell(case_id or self._case_id, message)
        return rx.redirect(routes.case_path(case_id or self._case_id))


class SaveCaseForm(rx.State, mixin=True):
    """Save, the same on every case form: once per form drawn, each problem by its question,
    else the page's one service and back to the case with its confirmation. Mixed in before
    ``CaseFormState`` (whose helpers it calls); the page writes ``_read`` and ``_save``."""

    @rx.event
    @signed_in
    async def submit(self, caller: Caller, form: dict[str, Any]):  # type: ignore[no-untyped-def]
        if not self._fresh(form):  # type: ignore[attr-defined]
            return None
        problems: Problems = {}
        data = self._read(form, caller.words, problems)
        if problems or data is None:
            return self._fail(problems)  # type: ignore[attr-defined]
        message = await self._save(caller, data)
        return await self._saved(message)  # type: ignore[attr-defined]

    def _read(self, form: dict[str, Any], words: Translator, problems: Problems) -> Any:
        """What the form asks core to do, or None with ``problems`` noted."""
        raise NotImplementedError

    async def _save(self, caller: Caller, data: Any) -> str:
        """Core's one service for ``data``; the confirmation to show on the case."""
        raise NotImplementedError


def build(model: type[Model], **values: Any) -> Model:
    """``model(**values)``, its refusal raised as core's typed error (naming the field)."""
    try:
        return model(**values)
    except ValidationError as invalid:
        raise input_error(invalid) from None


def form_page(
    state: type[CaseFormState],
    title: rx.Var | str,
    *questions: rx.Component,
    save: rx.Var | str,
    lead: rx.Component | None = None,
) -> rx.Component:
    """An action page: the case's reference as a caption, the error summary, the questions,
    Save and a link back to the case; "Page not found" when it may not be used here."""
    form = rx.el.form(
        rx.el.input(type="hidden", name="form_key", value=state.form_key),
        *questions,
        button(save, type="submit", disabled=state.saving | ~rx.State.is_hydrated),
        key=state.form_key,
        on_submit=state.submit,  # type: ignore[attr-defined]
        reset_on_submit=False,
        novalidate=True,
    )
    found = rx.fragment(
        error_summary(state.errors),
        rx.el.p(_("Case"), " ", state.reference, class_name="caption"),
        *([lead] if lead is not None else []),
        form,
        rx.el.p(rx.el.a(_("Back to the case"), href=state.case_href)),
    )
    missing = rx.fragment(
        rx.el.p(_("If you typed the web address, check it is correct.")),
        rx.el.p(rx.el.a(_("Go to your caseload"), href=routes.CASELOAD)),
    )
    return page(
        rx.match(state.status, (MISSING, _("Page not found")), title),
        rx.match(
            state.status,
            (FOUND, found),
            (MISSING, missing),
            loading(),
        ),
        on_language_change=[state.load],  # type: ignore[attr-defined]
    )


def textarea(
    name: str, label: rx.Var | str, error: rx.Var, hint: rx.Var | str | None = None
) -> rx.Component:
    """A GOV.UK textarea with its label, hint and error line."""
    described = f"{name}-hint" if hint is not None else ""
    return rx.el.div(
        rx.el.label(label, html_for=name, class_name="label"),
        *([rx.el.div(hint, id=f"{name}-hint", class_name="hint")] if hint is not None else []),
        field_error(error, f"{name}-error"),
        rx.el.textarea(
            id=name,
            name=name,
            rows=3,
            max_length=5000,
            class_name=rx.cond(error != "", "textarea input-error", "textarea"),
            aria_describedby=rx.cond(
                error != "", f"{described} {name}-error".strip(), described or ""
            ),
        ),
        class_name=group_class(error),
    )


@dataclass(frozen=True)
class Choice:
    """One radio of a list read at load (case managers, sites): its value, words and id.

    No radio's id is its name: Reflex reads a form's fields by id first, so a radio with the
    name as its id would be read as the answer whether it was chosen or not."""

    value: str
    label: str
    field_id: str


def choices(name: str, options: list[tuple[str, str]]) -> list[Choice]:
    return [Choice(value, text, f"{name}-{value}") for value, text in options]


def choice_radios(name: str, options: rx.Var) -> rx.Component:
    """Radios for ``options`` (a state's ``list[Choice]``)."""
    return rx.foreach(
        options, lambda option: radio(name, option.value, option.label, option.field_id, False)
    )


def enum_radios(name: str, members: list[StrEnum], checked: str = "") -> list[rx.Component]:
    """Radios for enum members, worded by ``ui.labels``; ids ``<name>-<value>``."""
    return [
        radio(
            name,
            member.value,
            _(LABELS[type(member)][member]),
            f"{name}-{member.value}",
            member.value == checked,
        )
        for member in members
    ]
