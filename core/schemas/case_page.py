"""The case page's read model: everything one case's page shows, read in one unit of work."""

from __future__ import annotations

from core.schemas.cases import CaseRead, StageChangeRead
from core.schemas.common import ReadModel
from core.schemas.interventions import InterventionRead
from core.schemas.people import CasePeopleRead
from core.schemas.risk import RiskAssessmentRead
from core.schemas.timeline import TimelineEntry


class CasePageRead(ReadModel):
    """One case as its page shows it. ``people`` is None when the reader may not see victims
    and children (no ``victim.view`` on this case): the page then shows nothing about them."""

    case: CaseRead
    risk: tuple[RiskAssessmentRead, ...]  # oldest first; reasons only for case_notes.view
    stages: tuple[StageChangeRead, ...]  # oldest first
    interventions: tuple[InterventionRead, ...]  # oldest first
    timeline: tuple[TimelineEntry, ...]  # the newest ``timeline_limit``, newest first
    people: CasePeopleRead | None
