"""The caseload read model: one row per open case, with what a case manager looks at first."""

from __future__ import annotations

from datetime import datetime

from core.enums import PlaceKind, ReferralReason, RiskLevel, Stage
from core.schemas.common import ReadModel


class CaseloadRow(ReadModel):
    """An open case on someone's caseload: last contact, next appointment and current risk.

    ``next_appointment_*`` is the earliest scheduled appointment from now on; ``current_risk``
    the level of the latest risk assessment. None where there is none. ``former_references``:
    the references the case held at sites it was transferred from (oldest first).
    """

    case_id: int
    site_id: int
    reference: str
    stage: Stage
    referral_reason: ReferralReason
    last_contact_at: datetime | None
    next_appointment_at: datetime | None
    next_appointment_place: PlaceKind | None
    current_risk: RiskLevel | None
    current_risk_at: datetime | None
    former_references: tuple[str, ...] = ()

    def answers_to(self, reference: str) -> bool:
        """True when ``reference`` (any letter case, part of one) is in the case's reference or
        in one it held before a transfer; an empty search matches every case."""
        needle = reference.strip().upper()
        return not needle or any(
            needle in held.upper() for held in (self.reference, *self.former_references)
        )
