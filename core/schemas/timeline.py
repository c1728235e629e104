"""A case's timeline: everything that happened on it, in one list, newest first.

One flat model for every kind of entry, so a face can hold the list in its state and render it
with one component: the fields of other kinds are None. ``label_key`` is a stable code
(``"contact.phone"``, ``"stage.active"``, ``"appointment.did_not_attend"``) that the face
translates; core writes no words.

Free text (contact notes and next steps, appointment outcomes, the reason for a risk level, the
action taken on an alert) is present only for those allowed to read a case's notes
(``Action.CASE_NOTES_VIEW``); for anyone else it is None and ``notes_withheld`` is True, so a
face can say that there is something it is not showing rather than implying there is nothing.
A panel action's description is shown to everyone who may see the panel, as on the panel page.
"""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from core.enums import (
    Agency,
    AlertStatus,
    AppointmentStatus,
    ClosureReason,
    ContactType,
    InterventionStatus,
    PanelActionStatus,
    PlaceKind,
    RiskLevel,
    Stage,
    WorkCategory,
)
from core.schemas.common import ReadModel


class TimelineKind(StrEnum):
    CONTACT = "contact"
    APPOINTMENT = "appointment"
    INTERVENTION = "intervention"
    PANEL_ACTION = "panel_action"
    STAGE_CHANGE = "stage"
    RISK_ASSESSMENT = "risk"
    DISRUPTION_ALERT = "alert"


class TimelineEntry(ReadModel):
    """One thing that happened on a case.

    ``when`` orders the list: a contact's time, an appointment's start, a stage change's or a
    risk assessment's time, when an alert was raised, and when an intervention or panel action
    was recorded (their own dates are in ``started_on``/``ended_on`` and ``due_on``).
    ``entry_id`` is the id of the record, unique within its ``kind``.
    """

    kind: TimelineKind
    entry_id: int
    when: datetime
    label_key: str
    staff_id: int | None = None
    staff_name: str | None = None
    notes_withheld: bool = False

    # contact
    contact_type: ContactType | None = None
    duration_minutes: int | None = None
    categories: tuple[WorkCategory, ...] = ()
    topics: tuple[str, ...] = ()
    notes: str | None = None
    next_steps: str | None = None
    # appointment
    ends_at: datetime | None = None
    place_kind: PlaceKind | None = None
    appointment_status: AppointmentStatus | None = None
    outcome: str | None = None
    # intervention
    intervention_kind: str | None = None
    category: WorkCategory | None = None
    agency: Agency | None = None
    intervention_status: InterventionStatus | None = None
    started_on: date | None = None
    ended_on: date | None = None
    # panel action
    meeting_id: int | None = None
    description: str | None = None
    owner_agency: Agency | None = None
    owner_user_id: int | None = None
    due_on: date | None = None
    action_status: PanelActionStatus | None = None
    completed_on: date | None = None
    # stage change
    from_stage: Stage | None = None
    to_stage: Stage | None = None
    closure_reason: ClosureReason | None = None
    # risk assessment
    risk_level: RiskLevel | None = None
    dash_score: int | None = None
    reason: str | None = None
    # disruption alert
    alert_status: AlertStatus | None = None
    action_taken: str | None = None
