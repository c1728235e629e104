"""The cases a booking or a log may be on, for the appointments and log-contact pages.

My open cases (``caseload_lookup.my_open_case_choices``), and a case the page's address asks
for (``?case=ID``) that is not among them, when core says I may see it: a service manager's
case at their site, say. Anything I may not see looks like nothing at all.
"""

from __future__ import annotations

from dataclasses import dataclass

from core.errors import NotFound, NotPermitted
from core.services import caseload_lookup, cases
from webapp.handlers import Caller


@dataclass(frozen=True)
class CaseOption:
    """A case the person may choose: its id (the form's value) and its reference."""

    id: str
    reference: str


async def case_options(caller: Caller, requested: str) -> list[CaseOption] | None:
    """My open cases by reference, with the ``requested`` one (an id, or '') first when it is
    not among them; None when ``requested`` is no case I may see."""
    choices = await caseload_lookup.my_open_case_choices(uow=caller.uow(), actor=caller.actor)
    options = [CaseOption(id=str(choice.case_id), reference=choice.reference) for choice in choices]
    if not requested or requested in {option.id for option in options}:
        return options
    if not requested.isdigit():
        return None
    try:
        case = await cases.get_case(uow=caller.uow(), actor=caller.actor, case_id=int(requested))
    except (NotFound, NotPermitted):
        return None
    return [CaseOption(id=str(case.id), reference=case.reference), *options]
