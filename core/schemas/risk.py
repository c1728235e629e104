from __future__ import annotations

from datetime import date, datetime
from typing import Annotated

from pydantic import StringConstraints

from core.enums import DashAnswer, MaracAppearanceType, PoliceIncidentType, RiskLevel, Role
from core.schemas.cases import DashScore
from core.schemas.common import AwareDatetime, InputModel, LongText, ReadModel

Description = Annotated[str, StringConstraints(strip_whitespace=True, max_length=500)]


class RiskAssessmentCreate(InputModel):
    """A new risk assessment. ``dash_answers`` (all of q1..q24) gives the score and the level;
    otherwise a typed ``dash_score`` or none, and then ``level`` is required. A ``level``
    given with answers or a score may differ from the DASH level (professional judgement).

    ``assessor_role``: the hat the assessor wore (case manager or IDVA); one of their roles at
    the case's site. Not given: the first of IDVA, case manager, service manager they hold.
    """

    case_id: int
    level: RiskLevel | None = None
    dash_score: DashScore | None = None
    dash_answers: dict[str, DashAnswer] | None = None
    reason: LongText | None = None
    assessed_at: AwareDatetime | None = None
    assessor_role: Role | None = None


class RiskAssessmentRead(ReadModel):
    id: int
    case_id: int
    assessed_at: datetime
    level: RiskLevel
    dash_score: int | None
    dash_answers: dict[str, DashAnswer] | None = None
    reason: str | None
    assessed_by_id: int | None
    assessor_role: Role | None
    # True when there is a reason the reader may not see (``case_notes.view``).
    reason_withheld: bool = False


class MaracAppearanceCreate(InputModel):
    case_id: int
    heard_on: date
    appearance_type: MaracAppearanceType | None = None
    description: Description | None = None


class MaracAppearanceRead(ReadModel):
    id: int
    case_id: int
    heard_on: date
    appearance_type: MaracAppearanceType | None = None
    description: str | None = None


class PoliceIncidentCreate(InputModel):
    case_id: int
    occurred_on: date
    police_reference: Annotated[str, StringConstraints(max_length=40)] | None = None
    incident_type: PoliceIncidentType | None = None
    description: Description | None = None


class PoliceIncidentRead(ReadModel):
    id: int
    case_id: int
    occurred_on: date
    police_reference: str | None
    incident_type: PoliceIncidentType | None = None
    description: str | None = None
