"""Disruption alerts: a case manager's call for police disruption, and the response to it."""

from __future__ import annotations

from datetime import datetime

from core.enums import AlertStatus
from core.schemas.case_choice import CaseChoice
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


class AlertsPageRead(ReadModel):
    """The Alerts page: the alerts shown, and what the reader may do there."""

    alerts: tuple[AlertRead, ...]
    can_answer: bool  # acknowledge an alert and record what was done
    can_raise: bool  # raise one ("Disruption needed") on a case of their own
    case_choices: tuple[CaseChoice, ...]  # the cases they may raise one for; () if not can_raise
