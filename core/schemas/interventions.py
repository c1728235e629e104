from __future__ import annotations

from datetime import date

from core.enums import Agency, InterventionStatus, WorkCategory
from core.schemas.common import InputModel, ReadModel


class InterventionKindRead(ReadModel):
    id: int
    code: str
    category: WorkCategory


class InterventionCreate(InputModel):
    case_id: int
    kind_code: str
    agency: Agency
    status: InterventionStatus = InterventionStatus.OFFERED
    started_on: date | None = None


class InterventionStatusUpdate(InputModel):
    status: InterventionStatus
    ended_on: date | None = None


class InterventionRead(ReadModel):
    id: int
    case_id: int
    kind_code: str
    category: WorkCategory
    agency: Agency
    status: InterventionStatus
    started_on: date | None
    ended_on: date | None
