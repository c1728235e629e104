"""Domain rules as plain functions: no database, no clock, easy to test on their own."""

from __future__ import annotations

import calendar
from collections.abc import Collection
from datetime import date, datetime

from core.enums import AppointmentStatus, DashAnswer, RiskLevel, Stage, WorkCategory
from core.errors import (
    ActionDueInPast,
    AppointmentEndsBeforeStart,
    DashAnswerMissing,
    DateOutOfRange,
    InvalidPlannedEnd,
    InvalidStageTransition,
    MeetingInPast,
    ValidationFailed,
    WorkCategoryRequired,
)

# Where a case may go from each stage. Allocation and closure have their own services
# (they need a case manager, or a reason), but the moves they make are checked here too.
ALLOWED_TRANSITIONS: dict[Stage, frozenset[Stage]] = {
    Stage.REFERRED: frozenset({Stage.ALLOCATED, Stage.CLOSED}),
    Stage.ALLOCATED: frozenset({Stage.ENGAGING, Stage.ACTIVE, Stage.INDIRECT, Stage.CLOSED}),
    Stage.ENGAGING: frozenset({Stage.ACTIVE, Stage.INDIRECT, Stage.CLOSED}),
    Stage.ACTIVE: frozenset({Stage.ENGAGING, Stage.INDIRECT, Stage.CLOSED}),
    Stage.INDIRECT: frozenset({Stage.ENGAGING, Stage.ACTIVE, Stage.CLOSED}),
    Stage.CLOSED: frozenset(),
}

# A case manager holds a case for 3 to 12 months.
MIN_INTERVENTION_MONTHS = 3
MAX_INTERVENTION_MONTHS = 12
DEFAULT_INTERVENTION_MONTHS = 6

# The dates a person can mean. Outside them a typed year is a slip (0001, 9999), and a day or
# an hour added near Python's own limits (year 1, year 9999) would overflow.
EARLIEST_DAY = date(1900, 1, 1)
LATEST_DAY = date(2100, 12, 31)


def check_transition(from_stage: Stage, to_stage: Stage) -> None:
    if to_stage not in ALLOWED_TRANSITIONS[from_stage]:
        raise InvalidStageTransition(from_stage=from_stage.value, to_stage=to_stage.value)


def risk_level_for_dash(score: int | None) -> RiskLevel | None:
    """SafeLives DASH: 14 or more ticks is high risk, 10 to 13 medium, 0 to 9 standard."""
    if score is None:
        return None
    if score >= 14:
        return RiskLevel.HIGH
    if score >= 10:
        return RiskLevel.MEDIUM
    return RiskLevel.STANDARD


# The SafeLives DASH risk identification checklist: 24 questions, answered yes / no / not known.
# Core knows them by key; their words (English and Welsh) live in ui.dash.
DASH_QUESTIONS: tuple[str, ...] = tuple(f"q{number}" for number in range(1, 25))


def dash_score_for(answers: dict[str, DashAnswer]) -> int:
    """The number of "yes" answers; every question must be answered, and nothing else given."""
    unknown = sorted(set(answers) - set(DASH_QUESTIONS))
    if unknown:
        raise ValidationFailed(field="dash_answers", rule="unknown_question", question=unknown[0])
    for question in DASH_QUESTIONS:
        if question not in answers:
            raise DashAnswerMissing(field="dash_answers", question=question)
    return sum(1 for answer in answers.values() if answer is DashAnswer.YES)


def add_months(day: date, months: int) -> date:
    """The same day ``months`` later, or the month's last day when it is shorter."""
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def is_real_day(day: date | datetime) -> bool:
    """True when ``day`` (a datetime: its own date) lies within ``EARLIEST_DAY``..``LATEST_DAY``."""
    return EARLIEST_DAY <= (day.date() if isinstance(day, datetime) else day) <= LATEST_DAY


def check_real_day(day: date | datetime, *, field: str) -> None:
    if not is_real_day(day):
        raise DateOutOfRange(
            field=field, earliest=EARLIEST_DAY.isoformat(), latest=LATEST_DAY.isoformat()
        )


def check_planned_end(allocated_on: date, planned_end: date) -> None:
    earliest = add_months(allocated_on, MIN_INTERVENTION_MONTHS)
    latest = add_months(allocated_on, MAX_INTERVENTION_MONTHS)
    if not earliest <= planned_end <= latest:
        raise InvalidPlannedEnd(earliest=earliest.isoformat(), latest=latest.isoformat())


def check_appointment_times(starts_at: datetime, ends_at: datetime) -> None:
    check_real_day(starts_at, field="starts_at")
    check_real_day(ends_at, field="ends_at")
    if ends_at <= starts_at:
        raise AppointmentEndsBeforeStart()


def is_awaiting_outcome(status: AppointmentStatus, starts_at: datetime, now: datetime) -> bool:
    """An appointment that has started and still says *scheduled*: someone must record whether
    it happened (the missed-appointment prompt asks the same an hour later)."""
    return status is AppointmentStatus.SCHEDULED and starts_at <= now


def is_ahead(starts_at: datetime, now: datetime) -> bool:
    """A time offered for a new booking or a new time must be after ``now``.

    The booking services accept past times (an appointment recorded after the event, and the
    tests and schedulers that need one); the booking forms ask this before they call them.
    """
    return starts_at > now


def work_problem(categories: Collection[WorkCategory]) -> WorkCategoryRequired | None:
    """A contact needs at least one kind of work: the error ``log_contact`` raises without one,
    or None. For a face that asks it with its other questions, in core's words."""
    return None if categories else WorkCategoryRequired(field="categories", rule="required")


def check_action_due(due_on: date, today: date) -> None:
    """A panel action is due today or later (``today``: the site's day)."""
    if due_on < today:
        raise ActionDueInPast(field="due_on", rule="in_past")


def check_meeting_ahead(starts_at: datetime, now: datetime) -> None:
    """A panel meeting is scheduled after ``now``."""
    if not is_ahead(starts_at, now):
        raise MeetingInPast(field="starts_at", rule="in_past")
