"""One case's page and the small form pages that work it (issue 19): allocate, change stage,
close, reopen, transfer, record risk, a MARAC appearance, a police incident."""

from webapp.pages.case.actions import (
    AllocateState,
    CloseState,
    ReopenState,
    StageState,
    TransferState,
    allocate_page,
    close_page,
    reopen_page,
    stage_page,
    transfer_page,
)
from webapp.pages.case.records import (
    IncidentState,
    MaracState,
    RiskState,
    incident_page,
    marac_page,
    risk_page,
)
from webapp.pages.case.state import CaseState
from webapp.pages.case.view import case_page

__all__ = [
    "AllocateState",
    "CaseState",
    "CloseState",
    "IncidentState",
    "MaracState",
    "ReopenState",
    "RiskState",
    "StageState",
    "TransferState",
    "allocate_page",
    "case_page",
    "close_page",
    "incident_page",
    "marac_page",
    "reopen_page",
    "risk_page",
    "stage_page",
    "transfer_page",
]
