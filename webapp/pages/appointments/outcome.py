"""Reading the appointment outcome form: one set of rules for the page's "Record outcome" and
for an answer held on the phone without signal and sent later (``webapp.held``)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from core.schemas.appointments import AppointmentOutcome
from core.schemas.common import text_problem
from ui.errors import error_message
from ui.i18n import Translator
from webapp.pages.appointments.rows import MISSING_OUTCOME, OUTCOMES

Problems = dict[str, tuple[str, str]]  # question -> (the id of its field, the message)


def read_outcome_form(
    form: Mapping[str, Any], words: Translator, problems: Problems
) -> AppointmentOutcome | None:
    """The outcome the form gives, or None (``problems`` says why)."""
    answer = str(form.get("status") or "")
    status = next((s for s in OUTCOMES if s.value == answer), None)
    if status is None:
        problems["outcome"] = (f"status-{OUTCOMES[0].value}", words.gettext(MISSING_OUTCOME))
    note = str(form.get("note") or "")
    note_problem = text_problem(note, field="outcome")
    if note_problem is not None:
        problems["note"] = ("note", error_message(note_problem, words))
    if problems or status is None:
        return None
    return AppointmentOutcome(status=status, outcome=note.strip() or None)
