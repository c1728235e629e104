"""Reading the log-contact form: one set of rules for the page's Save and for a save held on
the phone and sent later (``webapp.held``), so both refuse the same answers with the same words.
"""

from __future__ import annotations

import uuid
from collections.abc import Collection, Mapping
from datetime import datetime
from typing import Any

from pydantic import ValidationError

from core.enums import ContactType, WorkCategory
from core.errors import DomainError
from core.rules import work_problem
from core.schemas.common import input_error, text_problem
from core.schemas.contacts import ContactCreate
from ui.errors import error_message
from ui.i18n import N_, Translator
from webapp.components.forms import parse_date_time_parts

DURATIONS = (15, 30, 45, 60, 90)  # the bot's presets
DEFAULT_MINUTES = 30
DEFAULT_CONTACT_TYPE = ContactType.FACE_TO_FACE
_DURATION_ANSWERS = frozenset(str(minutes) for minutes in DURATIONS)

MISSING_CASE = N_("Select the case this contact is on")
BAD_WHEN = N_("Enter the date and time of the contact, like 27 3 2026 and 14:30")
# Core's refusals, by the field they name: which question on this form shows the message.
_QUESTION_OF_FIELD = {"occurred_at": "when", "notes": "note", "categories": "category"}
# The element each question's error summary link goes to (the case's: the first choice).
_FIELD_OF_QUESTION = {
    "when": "contact_date",
    "note": "note",
    "category": f"category-{WorkCategory.DISRUPTION.value}",
}
QUESTIONS = ("case", "category", "when", "note")

Problems = dict[str, tuple[str, str]]  # question -> (the id of its field, the message)


def client_key_of(form: Mapping[str, Any]) -> uuid.UUID | None:
    """The device's key for this save (a UUID the page's script put in the form), or None."""
    try:
        return uuid.UUID(str(form.get("client_key") or ""))
    except ValueError:
        return None


def problem_of(error: DomainError, message: str, case_field_id: str) -> Problems:
    """Core's refusal as a problem with the question it is about (the case, by default)."""
    question = _QUESTION_OF_FIELD.get(str(error.details.get("field")), "case")
    field_id = _FIELD_OF_QUESTION.get(question, case_field_id)
    return {question: (field_id, message)}


def read_contact_form(
    form: Mapping[str, Any],
    words: Translator,
    problems: Problems,
    *,
    case_ids: Collection[str] | None,
    case_field_id: str,
) -> ContactCreate | None:
    """The contact the form describes, or None (``problems`` says why).

    ``case_ids``: the cases the page offered; None when no page offered any (a save sent from
    the phone later), when any case id will do and core says whether it is one's to log on.
    """
    case = str(form.get("case") or "")
    contact_type = str(form.get("contact_type") or DEFAULT_CONTACT_TYPE.value)
    minutes = str(form.get("minutes") or DEFAULT_MINUTES)
    categories = frozenset(m for m in WorkCategory if form.get(f"category-{m.value}"))
    occurred_at = parse_date_time_parts(form, "contact_date", "contact_time", words)
    note = str(form.get("note") or "")
    offered = case in case_ids if case_ids is not None else case.isdigit()
    if not offered:
        problems["case"] = (case_field_id, words.gettext(MISSING_CASE))
    _check_answers(words, problems, categories, occurred_at, note, case_field_id)
    if problems or occurred_at is None:
        return None
    try:
        return ContactCreate(
            case_id=int(case),
            occurred_at=occurred_at,
            contact_type=contact_type,  # checked by the model
            duration_minutes=minutes if minutes in _DURATION_ANSWERS else DEFAULT_MINUTES,
            categories=categories,
            notes=note.strip() or None,
        )
    except ValidationError as invalid:
        error = input_error(invalid)
        problems.update(problem_of(error, error_message(error, words), case_field_id))
        return None


def _check_answers(
    words: Translator,
    problems: Problems,
    categories: frozenset[WorkCategory],
    occurred_at: datetime | None,
    note: str,
    case_field_id: str,
) -> None:
    no_work = work_problem(categories)  # core's rule, asked with the other questions
    if no_work is not None:
        problems.update(problem_of(no_work, error_message(no_work, words), case_field_id))
    if occurred_at is None:
        problems["when"] = ("contact_date", words.gettext(BAD_WHEN))
    note_problem = text_problem(note, field="notes")
    if note_problem is not None:
        problems["note"] = ("note", error_message(note_problem, words))
