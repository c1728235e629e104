"""Read models for the closed-case retention policy: a site's rule, and what a run changes."""

from __future__ import annotations

from datetime import datetime

from core.schemas.common import ReadModel

MAX_RETENTION_YEARS = 100


class SiteCaseRetentionRead(ReadModel):
    site_id: int
    site_code: str
    closed_case_retention_years: int | None  # None: closed cases are kept as they are


class SiteRetentionPlan(ReadModel):
    """What the policy changes at one site: cases closed before ``cutoff`` not yet anonymised.

    ``fields_cleared`` counts the stored values that are removed (a value already empty is not
    counted); ``fields_by_column`` breaks it down by ``table.column``.
    """

    site_id: int
    site_code: str
    years: int
    cutoff: datetime
    cases: int
    fields_cleared: int
    fields_by_column: dict[str, int]


class RetentionRun(ReadModel):
    applied: bool  # False: a dry run, nothing was changed
    sites: list[SiteRetentionPlan]

    @property
    def cases(self) -> int:
        return sum(site.cases for site in self.sites)

    @property
    def fields_cleared(self) -> int:
        return sum(site.fields_cleared for site in self.sites)
