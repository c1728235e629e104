from __future__ import annotations

from datetime import date, datetime
from typing import Annotated

from pydantic import StringConstraints

from core.enums import RiskLevel, Role
from core.schemas.cases import DashScore
from core.schemas.common import AwareDatetime, InputModel, LongText, ReadModel


class RiskAssessmentCreate(InputModel):
    case_id: int
    level: RiskLevel
    dash_score: DashScore | None = None
    reason: LongText | None = None
    assessed_at: AwareDatetime | None = None


class RiskAssessmentRead(ReadModel):
    id: int
    case_id: int
    assessed_at: datetime
    level: RiskLevel
    dash_score: int | None
    reason: str | None
    assessed_by_id: int | None
    assessor_role: Role | None
    # True when there is a reason the reader may not see (``case_notes.view``).
    reason_withheld: bool = False


class MaracAppearanceCreate(InputModel):
    case_id: int
    heard_on: date


class MaracAppearanceRead(ReadModel):
    id: int
    case_id: int
    heard_on: date


class PoliceIncidentCreate(InputModel):
    case_id: int
    occurred_on: date
    police_reference: Annotated[str, StringConstraints(max_length=40)] | None = None


class PoliceIncidentRead(ReadModel):
    id: int
    case_id: int
    occurred_on: date
    police_reference: str | None
