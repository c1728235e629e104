"""The service manager's team view: each case manager's load, and referrals waiting for one."""

from __future__ import annotations

from datetime import date

from core.enums import ReferralReason, ReferralSource, RiskLevel, Stage
from core.schemas.common import ReadModel


class CaseManagerLoad(ReadModel):
    """One case manager at a site, with their open cases at that site.

    ``high_risk_cases``: open cases whose latest risk assessment is high or, with none yet
    recorded, whose DASH score at referral is high (14 or more). ``contacts_last_28_days``:
    contacts and attempts they logged on the site's cases in the 28 days to now.
    ``cases_without_recent_contact``: open cases with no contact or attempt by anyone in
    those 28 days.
    """

    user_id: int
    display_name: str
    is_active: bool
    open_cases: int
    cases_by_stage: dict[Stage, int]
    high_risk_cases: int
    contacts_last_28_days: int
    cases_without_recent_contact: int


class UnallocatedReferral(ReadModel):
    """A referral at stage *referred*, waiting for a case manager. ``version`` is what
    ``core.services.cases.allocate_case`` needs back."""

    case_id: int
    reference: str
    referral_date: date
    referral_source: ReferralSource
    referral_reason: ReferralReason
    dash_score: int | None
    dash_risk_level: RiskLevel | None
    days_waiting: int
    version: int


class TeamSite(ReadModel):
    """A site whose team the actor may see."""

    id: int
    code: str
    name: str


class CaseManagerChoice(ReadModel):
    """An active case manager at the site: someone a referral may be allocated to."""

    user_id: int
    display_name: str


class TeamPage(ReadModel):
    """The web's Team page in one read. ``site_id``: the site shown (the one asked for when
    the actor may see its team, else their first such site; None when they may see none),
    and everything else is for that site."""

    sites: tuple[TeamSite, ...]
    site_id: int | None
    caseloads: tuple[CaseManagerLoad, ...]
    referrals: tuple[UnallocatedReferral, ...]
    case_managers: tuple[CaseManagerChoice, ...]
