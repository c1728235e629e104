from __future__ import annotations

from datetime import date, datetime
from typing import Annotated

from pydantic import Field, StringConstraints

from core.enums import ClosureReason, DashAnswer, ReferralReason, ReferralSource, RiskLevel, Stage
from core.schemas.common import InputModel, LongText, ReadModel, ShortText

DashScore = Annotated[int, Field(ge=0, le=24)]


class AbuseProfile(ReadModel):
    """The four abuse types the evaluation tracked. None: not recorded."""

    physical: bool | None = None
    sexual: bool | None = None
    harassment_stalking: bool | None = None
    jealous_controlling: bool | None = None


# A case reference: the site's code, a hyphen, a number (``HER-0012``; the bench uses five digits).
CASE_REFERENCE_PATTERN = r"^[A-Z]{2,5}-\d{4,6}$"


class CaseCreate(InputModel):
    site_id: int
    referral_date: date
    referral_source: ReferralSource
    referral_reason: ReferralReason
    dash_score: DashScore | None = None
    reference: Annotated[str, Field(pattern=CASE_REFERENCE_PATTERN)] | None = None
    subject_name: ShortText | None = None
    subject_date_of_birth: date | None = None
    subject_address: LongText | None = None
    abuse_at_start: AbuseProfile | None = None


class CaseUpdate(InputModel):
    """Only the fields given are changed. ``version`` is the one the editor read."""

    version: int
    referral_date: date | None = None
    referral_source: ReferralSource | None = None
    referral_reason: ReferralReason | None = None
    dash_score: DashScore | None = None
    subject_name: ShortText | None = None
    subject_date_of_birth: date | None = None
    subject_address: LongText | None = None
    planned_end: date | None = None
    abuse_at_start: AbuseProfile | None = None


class CaseAllocate(InputModel):
    version: int
    case_manager_id: int
    planned_end: date | None = None


class StageMove(InputModel):
    """A move between the working stages (engaging, active, indirect).

    ``effective_on``: the day it happened (today when not given); it may not be in the future,
    before the referral or before the case's last move. ``reason``: why, in a few words.
    """

    version: int
    to_stage: Stage
    reason: LongText | None = None
    effective_on: date | None = None


class CaseClose(InputModel):
    """``reason_other`` is required when ``reason`` is *other*. ``effective_on`` as for a move."""

    version: int
    reason: ClosureReason | None = None
    reason_other: LongText | None = None
    abuse_at_closure: AbuseProfile | None = None
    effective_on: date | None = None


class CaseReopen(InputModel):
    """Reopen a closed case as its next episode; it goes back to *referred* for allocation."""

    version: int
    reason: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=5000)]
    effective_on: date | None = None


class CaseTransfer(InputModel):
    """Move the case to another site (the person moved area). It takes a reference of the new
    site; the old one stays findable. ``reason``: why, in a few words."""

    version: int
    to_site_id: int
    reason: LongText | None = None


class StageChangeRead(ReadModel):
    from_stage: Stage | None
    to_stage: Stage
    closure_reason: ClosureReason | None
    closure_reason_other: str | None = None
    changed_at: datetime
    effective_on: date | None = None
    reason: str | None = None
    episode: int = 1
    changed_by_id: int | None


class CaseSummary(ReadModel):
    id: int
    site_id: int
    site_code: str
    reference: str
    stage: Stage
    referral_date: date
    referral_reason: ReferralReason
    dash_score: int | None
    case_manager_id: int | None


class CaseRead(ReadModel):
    id: int
    site_id: int
    site_code: str
    reference: str
    subject_name: str | None
    subject_date_of_birth: date | None
    subject_address: str | None
    referral_date: date
    referral_source: ReferralSource
    referral_reason: ReferralReason
    dash_score: int | None
    dash_risk_level: RiskLevel | None
    stage: Stage
    stage_changed_at: datetime
    case_manager_id: int | None
    case_manager_name: str | None
    allocated_at: datetime | None
    planned_end: date | None
    closed_at: datetime | None
    closure_reason: ClosureReason | None
    closure_reason_other: str | None = None
    abuse_at_start: AbuseProfile
    abuse_at_closure: AbuseProfile
    linked_people_count: int
    version: int
    subject_gender: str | None = None
    subject_phone: str | None = None
    subject_languages: str | None = None
    subject_interpreter_needed: bool | None = None
    referrer_agency: str | None = None
    referrer_contact: str | None = None
    # {"q1": "yes", ...} when the DASH checklist was answered here; None when a score was typed.
    dash_answers: dict[str, DashAnswer] | None = None
    episode: int = 1
    # References the case held at sites it was transferred from, oldest first.
    former_references: list[str] = []
