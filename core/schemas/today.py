"""The web's Today page in one read: my day, the alerts waiting on me, and my unread inbox."""

from __future__ import annotations

from core.schemas.agenda import MyDayRead
from core.schemas.alerts import AlertRead
from core.schemas.common import ReadModel


class TodayRead(ReadModel):
    """``open_alerts``: unresolved disruption alerts the actor answers (police fellow, service
    manager) or that sit on their caseload (case manager); empty for everyone else."""

    my_day: MyDayRead
    open_alerts: tuple[AlertRead, ...]
    unread_inbox: int
    # The cases named above whose page the actor may open (policy ``case.view``): the face
    # links those references to the case and shows the others as plain text.
    openable_case_ids: frozenset[int] = frozenset()
