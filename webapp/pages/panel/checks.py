"""The Panel page's form checks: what a person must fix before core is asked.

Each problem names the state field that shows it by its form field, the element it is about
(the error summary links there) and the message in the person's language. Core checks again,
and holds the rules about time: an action due today or later, a meeting in the future.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from ui.i18n import N_, Translator
from webapp.components.forms import parse_date_parts, parse_date_time_parts

DESCRIPTION_MAX_LENGTH = 2000
PLACE_MAX_LENGTH = 200

# The planning forms: one of each per meeting, so their field ids end in the meeting's id.
AGENDA_CASE = "agenda-case-"
ACTION_CASE = "action-case-"
ACTION_DESCRIPTION = "action-description-"
ACTION_OWNER = "action-owner-"
ACTION_DUE = "action-due-"
SCHEDULE_SITE = "schedule-site"
SCHEDULE_DATE = "schedule-date"
SCHEDULE_TIME = "schedule-time"
SCHEDULE_PLACE = "schedule-place"

CHOOSE_AGENDA_CASE = N_("Choose a case to add to the agenda")
ALREADY_ON_AGENDA = N_("That case is already on the agenda")
CHOOSE_ACTION_CASE = N_("Choose the case the action is for")
ENTER_DESCRIPTION = N_("Enter what needs to be done")
DESCRIPTION_TOO_LONG = N_("The action must be 2000 characters or fewer")
CHOOSE_OWNER = N_("Choose who owns the action")
ENTER_DUE = N_("Enter the due date of the action")
CHOOSE_SITE = N_("Choose the site of the panel")
ENTER_WHEN = N_("Enter the date and time of the meeting")
PLACE_TOO_LONG = N_("The place must be 200 characters or fewer")


@dataclass(frozen=True)
class Problem:
    attribute: str  # the state field holding the field's own error line
    element: str  # the element the error summary links to
    message: str


@dataclass(frozen=True)
class ActionForm:
    """The "Add an action" form as sent: the meeting's id and the answers, stripped."""

    key: str
    case_id: str
    description: str
    owner_id: str
    due_on: date | None

    @classmethod
    def parse(cls, form: dict[str, Any]) -> ActionForm:
        return cls(
            key=str(form.get("meeting_id") or ""),
            case_id=str(form.get("case_id") or ""),
            description=str(form.get("description") or "").strip(),
            owner_id=str(form.get("owner_user_id") or ""),
            due_on=parse_date_parts(form, "due_on"),
        )


@dataclass(frozen=True)
class ScheduleForm:
    site_id: str
    starts_at: datetime | None
    place: str

    @classmethod
    def parse(cls, form: dict[str, Any], words: Translator) -> ScheduleForm:
        return cls(
            site_id=str(form.get("site_id") or ""),
            starts_at=parse_date_time_parts(form, "meeting_date", "meeting_time", words),
            place=str(form.get("place") or "").strip(),
        )


def action_problems(
    sent: ActionForm, cases: set[str], owners: set[str], words: Translator
) -> list[Problem]:
    """What is wrong with an action: ``cases`` and ``owners`` are the ids the form offered."""
    key = sent.key
    problems: list[Problem] = []
    if sent.case_id not in cases:
        problems.append(
            Problem("action_case_error", ACTION_CASE + key, words.gettext(CHOOSE_ACTION_CASE))
        )
    if not sent.description:
        problems.append(
            Problem(
                "action_description_error",
                ACTION_DESCRIPTION + key,
                words.gettext(ENTER_DESCRIPTION),
            )
        )
    elif len(sent.description) > DESCRIPTION_MAX_LENGTH:
        problems.append(
            Problem(
                "action_description_error",
                ACTION_DESCRIPTION + key,
                words.gettext(DESCRIPTION_TOO_LONG),
            )
        )
    if sent.owner_id not in owners:
        problems.append(
            Problem("action_owner_error", ACTION_OWNER + key, words.gettext(CHOOSE_OWNER))
        )
    if sent.due_on is None:
        problems.append(Problem("action_due_error", ACTION_DUE + key, words.gettext(ENTER_DUE)))
    return problems


def schedule_problems(sent: ScheduleForm, sites: set[str], words: Translator) -> list[Problem]:
    """What is wrong with a meeting to schedule: ``sites`` are the site ids the form offered."""
    problems: list[Problem] = []
    if sent.site_id not in sites:
        problems.append(Problem("schedule_site_error", SCHEDULE_SITE, words.gettext(CHOOSE_SITE)))
    if sent.starts_at is None:
        problems.append(Problem("schedule_when_error", SCHEDULE_DATE, words.gettext(ENTER_WHEN)))
    if len(sent.place) > PLACE_MAX_LENGTH:
        problems.append(
            Problem("schedule_place_error", SCHEDULE_PLACE, words.gettext(PLACE_TOO_LONG))
        )
    return problems
