"""One case's page in one read: the case, its risk history, stage history, interventions, the
newest of its timeline and, for a reader with ``victim.view`` on it, its victims and children.

One unit of work and the same rules as the separate reads (``cases.get_case``,
``risk.risk_history``, ``cases.stage_history``, ``interventions.list_case_interventions``,
``timeline.case_timeline``, ``people.case_people``), whose bodies it shares: a case the reader
may not see is ``NotPermitted`` (put on record) or ``NotFound``; free text needs
``case_notes.view``; victims and children are read, and their ``victim.view`` audit event
written and committed, only when the reader has ``victim.view`` on the case. Without it the
page's people part is None, not a refusal.
"""

from __future__ import annotations

from core.policy import Action, is_allowed
from core.schemas.actor import Actor
from core.schemas.case_page import CasePageRead
from core.services.access import load_case
from core.services.cases import case_read, stage_changes_of
from core.services.interventions import interventions_of
from core.services.people import case_people_of
from core.services.risk import risk_history_of
from core.services.timeline import timeline_of
from core.uow import UnitOfWork


async def case_page(
    *, uow: UnitOfWork, actor: Actor, case_id: int, timeline_limit: int = 50
) -> CasePageRead:
    async with uow:
        case = await load_case(uow, actor, case_id, Action.CASE_VIEW)
        victims = is_allowed(
            actor, Action.VICTIM_VIEW, site_id=case.site_id, case_manager_id=case.case_manager_id
        )
        page = CasePageRead(
            case=await case_read(uow, case),
            risk=tuple(await risk_history_of(uow, actor, case)),
            stages=tuple(await stage_changes_of(uow, case.id)),
            interventions=tuple(await interventions_of(uow, case.id)),
            timeline=tuple(await timeline_of(uow, actor, case, timeline_limit)),
            people=await case_people_of(uow, actor, case) if victims else None,
        )
        if victims:
            await uow.commit()  # the victim.view audit event, as people.case_people commits it
        return page
