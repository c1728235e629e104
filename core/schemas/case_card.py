"""A case as a chat message may show it: its reference and where the work stands, nothing more.

No name, address, date of birth, note or anything about a victim: only codes, dates and counts.
"""

from __future__ import annotations

from datetime import date, datetime

from core.enums import Agency, PlaceKind, RiskLevel, Stage
from core.schemas.common import ReadModel


class CardAppointment(ReadModel):
    appointment_id: int
    starts_at: datetime
    place_kind: PlaceKind


class CardAction(ReadModel):
    """An open panel action on the case: when it is due and which agency owns it."""

    action_id: int
    due_on: date
    owner_agency: Agency | None
    overdue: bool


class CaseCard(ReadModel):
    case_id: int
    reference: str
    stage: Stage
    risk_level: RiskLevel | None  # the latest risk assessment's; None before the first
    next_appointment: CardAppointment | None  # the next scheduled one not yet started
    open_actions: tuple[CardAction, ...]  # soonest due first
    # What the reader may start from the card (the starts are authorised again by core).
    may_log_contact: bool  # an open case on the reader's own caseload
    may_book: bool  # an open case the reader may book appointments on
