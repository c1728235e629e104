"""Domain rules on their own: stage transitions, DASH bands, the 3-12 month window, times."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from core.enums import AppointmentStatus, RiskLevel, Stage
from core.errors import AppointmentEndsBeforeStart, InvalidPlannedEnd, InvalidStageTransition
from core.rules import (
    add_months,
    check_appointment_times,
    check_planned_end,
    check_transition,
    is_ahead,
    is_awaiting_outcome,
    risk_level_for_dash,
)

ALLOWED = {
    (Stage.REFERRED, Stage.ALLOCATED),
    (Stage.REFERRED, Stage.CLOSED),
    (Stage.ALLOCATED, Stage.ENGAGING),
    (Stage.ALLOCATED, Stage.ACTIVE),
    (Stage.ALLOCATED, Stage.INDIRECT),
    (Stage.ALLOCATED, Stage.CLOSED),
    (Stage.ENGAGING, Stage.ACTIVE),
    (Stage.ENGAGING, Stage.INDIRECT),
    (Stage.ENGAGING, Stage.CLOSED),
    (Stage.ACTIVE, Stage.ENGAGING),
    (Stage.ACTIVE, Stage.INDIRECT),
    (Stage.ACTIVE, Stage.CLOSED),
    (Stage.INDIRECT, Stage.ENGAGING),
    (Stage.INDIRECT, Stage.ACTIVE),
    (Stage.INDIRECT, Stage.CLOSED),
}


@pytest.mark.parametrize("from_stage", list(Stage))
@pytest.mark.parametrize("to_stage", list(Stage))
def test_stage_moves_follow_the_allowed_transitions(from_stage: Stage, to_stage: Stage) -> None:
    if (from_stage, to_stage) in ALLOWED:
        check_transition(from_stage, to_stage)
    else:
        with pytest.raises(InvalidStageTransition) as refused:
            check_transition(from_stage, to_stage)
        assert refused.value.details == {"from_stage": from_stage, "to_stage": to_stage}


@pytest.mark.parametrize(
    ("score", "level"),
    [
        (None, None),
        (0, RiskLevel.STANDARD),
        (9, RiskLevel.STANDARD),
        (10, RiskLevel.MEDIUM),
        (13, RiskLevel.MEDIUM),
        (14, RiskLevel.HIGH),
        (24, RiskLevel.HIGH),
    ],
)
def test_dash_scores_map_to_the_safelives_risk_bands(score: int | None, level: RiskLevel) -> None:
    assert risk_level_for_dash(score) == level


def test_adding_months_keeps_the_day_or_falls_back_to_the_last_day_of_the_month() -> None:
    assert add_months(date(2026, 1, 31), 1) == date(2026, 2, 28)
    assert add_months(date(2026, 11, 15), 3) == date(2027, 2, 15)
    assert add_months(date(2027, 12, 31), 12) == date(2028, 12, 31)


def test_a_planned_end_must_fall_between_three_and_twelve_months_after_allocation() -> None:
    allocated = date(2026, 3, 2)
    check_planned_end(allocated, date(2026, 6, 2))
    check_planned_end(allocated, date(2027, 3, 2))
    for too_early_or_late in (date(2026, 6, 1), date(2027, 3, 3)):
        with pytest.raises(InvalidPlannedEnd) as refused:
            check_planned_end(allocated, too_early_or_late)
        assert refused.value.details == {"earliest": "2026-06-02", "latest": "2027-03-02"}


def test_an_appointment_cannot_end_before_or_when_it_starts() -> None:
    start = datetime(2026, 3, 2, 10, tzinfo=UTC)
    check_appointment_times(start, start + timedelta(minutes=1))
    for end in (start, start - timedelta(minutes=30)):
        with pytest.raises(AppointmentEndsBeforeStart):
            check_appointment_times(start, end)


def test_a_booking_time_must_be_after_now_not_at_it() -> None:
    now = datetime(2026, 11, 22, 10, 0, tzinfo=UTC)
    assert is_ahead(now + timedelta(minutes=1), now)
    assert not is_ahead(now, now)
    assert not is_ahead(now - timedelta(days=1), now)


def test_an_appointment_awaits_an_outcome_from_its_start_until_one_is_recorded() -> None:
    now = datetime(2026, 11, 22, 10, 0, tzinfo=UTC)
    scheduled = AppointmentStatus.SCHEDULED
    assert is_awaiting_outcome(scheduled, now, now)
    assert is_awaiting_outcome(scheduled, now - timedelta(days=3), now)
    assert not is_awaiting_outcome(scheduled, now + timedelta(minutes=1), now)
    for answered in (AppointmentStatus.ATTENDED, AppointmentStatus.DID_NOT_ATTEND):
        assert not is_awaiting_outcome(answered, now - timedelta(hours=1), now)
    assert not is_awaiting_outcome(AppointmentStatus.CANCELLED, now - timedelta(hours=1), now)
