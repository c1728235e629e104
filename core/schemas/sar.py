"""The subject access bundle: everything held about a case's subject, third parties redacted.

Victims and children appear only as a count per kind. A member of staff from another agency
appears as their role and agency, never by name (``StaffRef.name`` is None and ``display`` is
``[redacted: <agency>]``). Free text (contact notes, outcomes, reasons, panel actions) is kept
whole: software cannot tell reliably whether it mentions someone else, so ``free_text_review``
says that staff must read it before the bundle is released.

The referrer's contact details (``Case.referrer_contact``: a named person at the referring
agency) are a third party's and are never copied in: ``referrer_contact_redacted`` only says
that some are held. The referring agency is kept (an organisation, not a person). So are the
DASH checklist's answers (``dash_checklist_redacted``): the victim gave them, and most are about
the victim (fear, pregnancy, depression, separation); the score, a measure of the risk the
subject poses, is kept.
"""

from __future__ import annotations

from datetime import date, datetime

from pydantic import computed_field

from core.enums import (
    Agency,
    AlertStatus,
    AppointmentStatus,
    ClosureReason,
    ContactType,
    InterventionStatus,
    MaracAppearanceType,
    PanelActionStatus,
    PanelMeetingStatus,
    PersonKind,
    PlaceKind,
    PoliceIncidentType,
    ReferralReason,
    ReferralSource,
    RiskLevel,
    Role,
    Stage,
    WorkCategory,
)
from core.schemas.cases import AbuseProfile
from core.schemas.common import ReadModel

SAR_FORMAT_VERSION = 1


class StaffRef(ReadModel):
    """Who did something: a Drive colleague by name, anyone else by role and agency only."""

    role: Role | None
    agency: Agency
    name: str | None

    @computed_field  # type: ignore[prop-decorator]
    @property
    def display(self) -> str:
        return self.name if self.name is not None else f"[redacted: {self.agency.value}]"


class SarFormerReference(ReadModel):
    """A reference the case had before it was transferred to another site."""

    reference: str
    site_code: str
    replaced_at: datetime


class SarSubject(ReadModel):
    reference: str
    site_code: str
    former_references: tuple[SarFormerReference, ...]
    subject_name: str | None
    subject_date_of_birth: date | None
    subject_address: str | None
    subject_gender: str | None
    subject_phone: str | None
    subject_languages: str | None
    subject_interpreter_needed: bool | None
    referral_date: date
    referral_source: ReferralSource
    referral_reason: ReferralReason
    referrer_agency: str | None
    referrer_contact_redacted: bool  # held, and left out: a third party's contact details
    dash_score: int | None
    dash_checklist_redacted: bool  # held, and left out: the victim's answers, about the victim
    episode: int
    stage: Stage
    stage_changed_at: datetime
    case_manager: StaffRef | None
    allocated_at: datetime | None
    planned_end: date | None
    closed_at: datetime | None
    closure_reason: ClosureReason | None
    closure_reason_other: str | None  # free text: review before release
    abuse_at_start: AbuseProfile
    abuse_at_closure: AbuseProfile
    created_at: datetime


class SarStageChange(ReadModel):
    changed_at: datetime
    effective_on: date | None
    episode: int
    from_stage: Stage | None
    to_stage: Stage
    closure_reason: ClosureReason | None
    closure_reason_other: str | None  # free text: review before release
    reason: str | None  # free text: review before release
    changed_by: StaffRef | None


class SarRiskAssessment(ReadModel):
    assessed_at: datetime
    level: RiskLevel
    dash_score: int | None
    reason: str | None  # free text: review before release
    assessed_by: StaffRef | None


class SarContact(ReadModel):
    occurred_at: datetime
    contact_type: ContactType
    duration_minutes: int
    categories: tuple[WorkCategory, ...]
    topics: tuple[str, ...]
    notes: str | None  # free text: review before release
    next_steps: str | None  # free text: review before release
    staff: StaffRef | None


class SarAppointment(ReadModel):
    starts_at: datetime
    ends_at: datetime
    place_kind: PlaceKind
    status: AppointmentStatus
    outcome: str | None  # free text: review before release
    staff: StaffRef | None


class SarIntervention(ReadModel):
    kind_code: str
    category: WorkCategory
    agency: Agency
    status: InterventionStatus
    started_on: date | None
    ended_on: date | None
    recorded_by: StaffRef | None


class SarPanelDiscussion(ReadModel):
    """The case was on the agenda of a panel meeting."""

    meeting_starts_at: datetime
    meeting_status: PanelMeetingStatus


class SarPanelAction(ReadModel):
    meeting_starts_at: datetime
    description: str  # free text: review before release
    owner_agency: Agency | None
    owner: StaffRef | None
    due_on: date
    status: PanelActionStatus
    completed_on: date | None


class SarMaracAppearance(ReadModel):
    heard_on: date
    appearance_type: MaracAppearanceType | None
    description: str | None  # free text: review before release


class SarPoliceIncident(ReadModel):
    occurred_on: date
    police_reference: str | None
    incident_type: PoliceIncidentType | None
    description: str | None  # free text: review before release


class SarAlert(ReadModel):
    raised_at: datetime
    status: AlertStatus
    raised_by: StaffRef | None
    acknowledged_by: StaffRef | None
    acknowledged_at: datetime | None
    action_taken: str | None  # free text: review before release
    actioned_at: datetime | None


class SarBundle(ReadModel):
    """One subject's data. ``linked_people`` counts victims and children; nothing else of them."""

    format_version: int = SAR_FORMAT_VERSION
    generated_at: datetime
    free_text_review: bool = True
    subject: SarSubject
    stage_history: tuple[SarStageChange, ...]
    risk_assessments: tuple[SarRiskAssessment, ...]
    contacts: tuple[SarContact, ...]
    appointments: tuple[SarAppointment, ...]
    interventions: tuple[SarIntervention, ...]
    panel_discussions: tuple[SarPanelDiscussion, ...]
    panel_actions: tuple[SarPanelAction, ...]
    marac_appearances: tuple[SarMaracAppearance, ...]
    police_incidents: tuple[SarPoliceIncident, ...]
    alerts: tuple[SarAlert, ...]
    linked_people: dict[PersonKind, int]

    def record_counts(self) -> dict[str, int]:
        """How many records of each kind the bundle holds (for the audit trail: counts only)."""
        return {
            "stage_history": len(self.stage_history),
            "risk_assessments": len(self.risk_assessments),
            "contacts": len(self.contacts),
            "appointments": len(self.appointments),
            "interventions": len(self.interventions),
            "panel_discussions": len(self.panel_discussions),
            "panel_actions": len(self.panel_actions),
            "marac_appearances": len(self.marac_appearances),
            "police_incidents": len(self.police_incidents),
            "alerts": len(self.alerts),
        } | {f"linked_{kind.value}": count for kind, count in self.linked_people.items()}
