"""Read models of the funder return and the evaluation's outcome measures.

Aggregates only: counts, shares and medians over a set of sites and a period. Nothing here names
or points to a person or a case. The definitions of the figures are in ``core.services.reports``.
"""

from __future__ import annotations

from datetime import date
from typing import Literal

from core.enums import AbuseType, Agency, ClosureReason, RiskLevel, Stage, WorkCategory
from core.schemas.common import ReadModel


class ReportScope(ReadModel):
    """The sites (ids and codes, in code order) and the period (both days included)."""

    site_ids: tuple[int, ...]
    site_codes: tuple[str, ...]
    period_from: date
    period_to: date


class ReportSite(ReadModel):
    """A site the actor may report on."""

    site_id: int
    code: str
    name: str


class Share(ReadModel):
    """``count`` of ``of``; ``percent`` rounded to one decimal place, None when ``of`` is 0."""

    count: int
    of: int
    percent: float | None


class StageRiskCount(ReadModel):
    """Open cases at a stage with a risk level (None: no risk assessment yet)."""

    stage: Stage
    risk_level: RiskLevel | None
    cases: int


class FunderReturn(ReadModel):
    scope: ReportScope
    referrals: int
    allocations: int
    median_days_referral_to_allocation: float | None
    cases_worked: int
    engagement: Share
    contacts: int
    case_months: float
    contacts_per_case_month: float | None
    work_mix: dict[WorkCategory, Share]
    interventions: int
    interventions_by_category: dict[WorkCategory, int]
    interventions_by_kind: dict[str, int]
    interventions_by_agency: dict[Agency, int]
    panel_actions_on_time: Share
    panel_meetings_held: int
    panel_meetings_cancelled: int
    panel_attendance: Share
    alerts_acknowledged_within_4h: Share
    closures: int
    closures_by_reason: dict[ClosureReason, int]
    open_cases: int
    open_cases_by_stage_and_risk: tuple[StageRiskCount, ...]


class AbuseChange(ReadModel):
    """One abuse type over the closed cases with it recorded at both start and closure."""

    abuse_type: AbuseType
    recorded: int
    at_start: Share
    at_closure: Share
    change_percent: float | None


class OutcomeMeasures(ReadModel):
    scope: ReportScope
    closed_cases: int
    abuse: tuple[AbuseChange, ...]
    idva_assessed: int
    idva_risk_reduced: Share
    idva_risk_unchanged: int
    idva_risk_increased: int
    cases_allocated: int
    marac_before: int
    marac_after: int
    police_incidents_before: int
    police_incidents_after: int


class Report(ReadModel):
    funder: FunderReturn
    outcomes: OutcomeMeasures


class ReportPage(ReadModel):
    """The web's Reports page in one read: the sites the actor may report on (to choose
    from) and the report for the site (or all of them) and period asked for."""

    sites: tuple[ReportSite, ...]
    report: Report


ValueKind = Literal["count", "percent", "median", "rate", "months"]


class ReportRow(ReadModel):
    """One figure as a flat row: the shape of the exports and of the web page's table.

    ``section`` is ``funder`` or ``outcomes``; ``measure`` and ``breakdown`` are stable codes
    (``closures`` / ``completed``, ``abuse_at_start_percent`` / ``physical``) that faces
    translate. ``counts`` are the counts a derived figure (a share, a median, a rate) was made
    from, so that suppressing a small count suppresses what would reveal it too.
    """

    section: str
    measure: str
    breakdown: str = ""
    value: int | float | None
    kind: ValueKind
    counts: tuple[int, ...] = ()
    suppressed: bool = False
