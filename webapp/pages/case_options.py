"""The cases a booking or a log may be on, for the appointments and log-contact pages, and the
state both pages keep for the case question (``webapp.components.case_question``).

My open cases (``caseload_lookup.my_open_case_choices``), and a case the page's address asks
for (``?case=ID``) that is not among them, when core says I may see it: a service manager's
case at their site, say. Anything I may not see looks like nothing at all.
"""

from __future__ import annotations

from dataclasses import dataclass

import reflex as rx

from core.errors import NotFound, NotPermitted
from core.services import caseload_lookup, cases
from webapp.components.case_question import MAX_CASE_RADIOS
from webapp.handlers import Caller


@dataclass(frozen=True)
class CaseOption:
    """A case the person may choose: its id (the form's value) and its reference; ``mine``:
    one of my open cases (not one the page's address asked for)."""

    id: str
    reference: str
    mine: bool = True


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
    return [CaseOption(id=str(case.id), reference=case.reference, mine=False), *options]


class CaseChoice(rx.State, mixin=True):
    """The case question's state, mixed into a page's state: the cases to choose from, the
    one chosen, its error, and where the error summary links to."""

    cases: list[CaseOption] = []
    selected_case: str = ""
    case_error: str = ""
    not_found: bool = False

    @rx.var
    def case_field_id(self) -> str:
        """Where the error summary's link for the case goes: the first choice."""
        if len(self.cases) > MAX_CASE_RADIOS or not self.cases:
            return "case-select"
        return f"case-{self.cases[0].id}"

    @rx.var
    def many_cases(self) -> bool:
        return len(self.cases) > MAX_CASE_RADIOS

    async def _load_cases(self, caller: Caller, requested: str) -> bool:
        """The cases to choose from (``case_options``); False, with ``not_found``, when
        ``requested`` is no case I may see."""
        options = await case_options(caller, requested)
        self.not_found = options is None
        if options is None:
            return False
        self.cases = options
        return True
