"""Disruption alerts: a case manager's call for police disruption, and the response to it."""

from __future__ import annotations

from datetime import datetime

from core.enums import AlertStatus
from core.schemas.common import ReadModel


class AlertRead(ReadModel):
    id: int
    case_id: int
    case_reference: str
    site_id: int
    status: AlertStatus
    raised_by_id: int | None
    raised_at: datetime
    acknowledged_by_id: int | None
    acknowledged_at: datetime | None
    action_taken: str | None
    actioned_at: datetime | None
