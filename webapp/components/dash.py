"""The SafeLives DASH checklist as a form part: 24 questions, each answered yes, no or not known
(GOV.UK inline radios), behind a disclosure so a typed score stays one tap away.

Fields are named ``dash_q1`` .. ``dash_q24``; ``dash_answers`` reads them back. Core works out
the score and level and refuses a checklist with a question unanswered (``DashAnswerMissing``,
``details['question']``): link the error to ``dash_field_id(question)``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import reflex as rx

from core.enums import DashAnswer
from core.rules import DASH_QUESTIONS
from ui.dash import DASH_QUESTION_TEXT
from ui.labels import LABELS
from webapp.components.forms import field_error, fieldset, radio
from webapp.i18n import _

ANSWERS = (DashAnswer.YES, DashAnswer.NO, DashAnswer.NOT_KNOWN)


def dash_field_id(question: str) -> str:
    """The id of ``question``'s first radio (where an error about it links)."""
    return f"dash_{question}-{ANSWERS[0].value}"


def dash_answers(form: Mapping[str, Any]) -> dict[str, DashAnswer] | None:
    """The answers given, by question key; None when no question was answered at all."""
    answers = {
        question: DashAnswer(value)
        for question in DASH_QUESTIONS
        if (value := str(form.get(f"dash_{question}") or "")) in {a.value for a in ANSWERS}
    }
    return answers or None


def _question(number: int, question: str) -> rx.Component:
    name = f"dash_{question}"
    return fieldset(
        f"{name}-legend",
        rx.fragment(f"{number}. ", _(DASH_QUESTION_TEXT[question])),
        *[
            radio(
                name,
                answer.value,
                _(LABELS[DashAnswer][answer]),
                f"{name}-{answer.value}",
                False,
            )
            for answer in ANSWERS
        ],
        inline=True,
    )


def dash_checklist(error: rx.Var, shown: rx.Var) -> rx.Component:
    """The checklist in a disclosure (open while ``shown``), with ``error`` above the
    questions."""
    return rx.el.details(
        rx.el.summary(
            rx.el.span(_("Answer the DASH checklist"), class_name="details-summary-text"),
            class_name="details-summary",
        ),
        rx.el.div(
            rx.el.p(
                _("Answer every question. The score is the number of yes answers."),
                class_name="hint",
            ),
            field_error(error, "dash-error"),
            *[_question(n, q) for n, q in enumerate(DASH_QUESTIONS, start=1)],
            class_name="details-text",
        ),
        open=shown,
        class_name="details",
    )
