"""The Alerts page's one read (``alerts.alerts_page``) on SQLite and PostgreSQL: what a police
fellow and a case manager are shown and offered, the same as the separate reads."""

from __future__ import annotations

from core.enums import Role
from core.services import alerts, caseload_lookup
from tests.factories import World


async def test_a_police_fellow_gets_the_alerts_to_answer_and_no_cases_to_raise_one_on(
    world: World,
) -> None:
    case = await world.allocated_case()
    alert = await alerts.raise_disruption_alert(
        uow=world.container.uow(), actor=world.actor(Role.CASE_MANAGER), case_id=case.id
    )
    fellow = world.actor(Role.POLICE_FELLOW)

    page = await alerts.alerts_page(uow=world.container.uow(), actor=fellow)

    assert [a.id for a in page.alerts] == [alert.id]
    assert list(page.alerts) == await alerts.list_alerts_to_answer(
        uow=world.container.uow(), actor=fellow
    )
    assert (page.can_answer, page.can_raise, page.case_choices) == (True, False, ())


async def test_a_case_manager_gets_the_alerts_on_her_caseload_and_her_open_cases_to_choose(
    world: World,
) -> None:
    mine = await world.allocated_case()
    other = await world.allocated_case()
    case_manager = world.actor(Role.CASE_MANAGER)
    alert = await alerts.raise_disruption_alert(
        uow=world.container.uow(), actor=case_manager, case_id=mine.id
    )

    page = await alerts.alerts_page(uow=world.container.uow(), actor=case_manager)

    assert [(a.id, a.case_reference) for a in page.alerts] == [(alert.id, mine.reference)]
    assert (page.can_answer, page.can_raise) == (False, True)
    assert {c.reference for c in page.case_choices} == {mine.reference, other.reference}
    assert list(page.case_choices) == await caseload_lookup.my_open_case_choices(
        uow=world.container.uow(), actor=case_manager
    )
