"""Victims and children: add, edit, end the link, the assigned IDVA and her "My cases".

Every rule through the services on SQLite and PostgreSQL; each test checks what the service
answers and what the database holds (the people, and the audit trail of every view).
"""

from __future__ import annotations

from datetime import date, timedelta
from types import SimpleNamespace

import pytest
from sqlalchemy import select

from core.enums import ClosureReason, PersonKind, Role
from core.errors import NotPermitted, ValidationFailed
from core.models import AuditEvent, LinkedPerson
from core.schemas.actor import Actor
from core.schemas.cases import CaseClose
from core.schemas.people import (
    IdvaAssignment,
    LinkedPersonCreate,
    LinkedPersonUpdate,
    LinkEnd,
)
from core.services import cases as case_services
from core.services import people
from tests.conftest import START
from tests.factories import World


async def _add(world: World, actor: Actor, case_id: int, **fields: object) -> int:
    added = await people.add_linked_person(
        uow=world.container.uow(),
        actor=actor,
        data=LinkedPersonCreate(case_id=case_id, kind=PersonKind.VICTIM, **fields),
    )
    return added.id


async def _row(world: World, person_id: int) -> SimpleNamespace:
    """The person's row as the database holds it (a copy of its columns)."""
    async with world.container.uow() as uow:
        person = await uow.session.get(LinkedPerson, person_id)
        assert person is not None
        return SimpleNamespace(
            **{column.key: getattr(person, column.key) for column in LinkedPerson.__table__.c}
        )


async def _audits(world: World, action: str) -> list[tuple[int | None, dict]]:
    """(case id, details) of each audit event of ``action``, oldest first."""
    async with world.container.uow() as uow:
        rows = await uow.session.execute(
            select(AuditEvent.case_id, AuditEvent.details)
            .where(AuditEvent.action == action)
            .order_by(AuditEvent.seq)
        )
        return [(case_id, details) for case_id, details in rows]


async def test_an_idva_adding_a_victim_is_assigned_to_support_them(world: World) -> None:
    case = await world.allocated_case()
    idva = world.actor(Role.IDVA)

    person_id = await _add(world, idva, case.id, name="Testvictim Fictional")

    assert (await _row(world, person_id)).assigned_idva_id == idva.user_id


async def test_a_service_manager_assigns_an_idva_and_an_idva_may_not_assign_someone_else(
    world: World,
) -> None:
    case = await world.allocated_case()
    idva = world.actor(Role.IDVA)
    other_idva = await world.add_actor("idva.two@test.invalid", [("HER", Role.IDVA)])
    manager = world.actor(Role.SERVICE_MANAGER)

    by_manager = await _add(world, manager, case.id)
    unassigned = await _add(world, manager, case.id)
    with pytest.raises(NotPermitted):
        await _add(world, idva, case.id, assigned_idva_id=other_idva.user_id)
    with pytest.raises(ValidationFailed) as not_idva:
        await people.assign_idva(
            uow=world.container.uow(),
            actor=manager,
            person_id=by_manager,
            data=IdvaAssignment(idva_user_id=world.actor(Role.CASE_MANAGER).user_id),
        )
    assigned = await people.assign_idva(
        uow=world.container.uow(),
        actor=manager,
        person_id=by_manager,
        data=IdvaAssignment(idva_user_id=other_idva.user_id),
    )
    with pytest.raises(NotPermitted):
        await people.assign_idva(
            uow=world.container.uow(),
            actor=idva,
            person_id=unassigned,
            data=IdvaAssignment(idva_user_id=idva.user_id),
        )

    assert not_idva.value.details["rule"] == "not_idva_at_site"
    assert assigned.assigned_idva_id == other_idva.user_id
    assert assigned.assigned_idva_name == "Test idva.two"
    assert (await _row(world, unassigned)).assigned_idva_id is None
    async with world.container.uow() as uow:
        count = len(list(await uow.session.scalars(select(LinkedPerson.id))))
    assert count == 2  # the refused add wrote nothing


async def test_editing_a_person_saves_the_safety_notes_and_audits_which_fields_not_values(
    world: World, clock
) -> None:
    case = await world.allocated_case()
    idva = world.actor(Role.IDVA)
    person_id = await _add(world, idva, case.id, name="Testvictim Fictional")
    clock.advance(timedelta(hours=1))

    edited = await people.update_linked_person(
        uow=world.container.uow(),
        actor=idva,
        person_id=person_id,
        data=LinkedPersonUpdate(
            kind=PersonKind.VICTIM,
            name="Testvictim Fictional",
            safety_notes="Fictional safety plan: code word agreed",
        ),
    )

    row = await _row(world, person_id)
    assert row.safety_notes == "Fictional safety plan: code word agreed"
    assert row.updated_at == START + timedelta(hours=1)
    assert edited.safety_notes == row.safety_notes
    [(_case_id, details)] = await _audits(world, "victim.update")
    assert details["fields"] == ["safety_notes"]
    assert "code word" not in str(details)


async def test_an_ended_link_leaves_the_current_list_and_stays_in_the_history(
    world: World,
) -> None:
    case = await world.allocated_case()
    manager = world.actor(Role.SERVICE_MANAGER)
    stays = await _add(world, manager, case.id)
    ends = await _add(world, manager, case.id)

    await people.end_link(
        uow=world.container.uow(),
        actor=manager,
        person_id=ends,
        data=LinkEnd(ended_on=START.date() - timedelta(days=1)),
    )
    both = await people.case_people(uow=world.container.uow(), actor=manager, case_id=case.id)

    assert [p.id for p in both.current] == [stays]
    assert [(p.id, p.ended_on) for p in both.ended] == [(ends, date(2026, 3, 1))]
    assert (await _row(world, ends)).ended_on == date(2026, 3, 1)
    shown = await case_services.get_case(uow=world.container.uow(), actor=manager, case_id=case.id)
    assert shown.linked_people_count == 1  # the case page's count: current links only
    views = await _audits(world, "victim.view")
    assert [details["linked_person_ids"] for _case, details in views] == [[stays, ends]]


async def test_a_link_cannot_end_in_the_future_or_end_twice(world: World) -> None:
    case = await world.allocated_case()
    manager = world.actor(Role.SERVICE_MANAGER)
    person_id = await _add(world, manager, case.id)

    with pytest.raises(ValidationFailed) as future:
        await people.end_link(
            uow=world.container.uow(),
            actor=manager,
            person_id=person_id,
            data=LinkEnd(ended_on=START.date() + timedelta(days=1)),
        )
    await people.end_link(
        uow=world.container.uow(),
        actor=manager,
        person_id=person_id,
        data=LinkEnd(ended_on=START.date()),
    )
    with pytest.raises(ValidationFailed) as twice:
        await people.end_link(
            uow=world.container.uow(),
            actor=manager,
            person_id=person_id,
            data=LinkEnd(ended_on=START.date()),
        )

    assert future.value.details["rule"] == "in_future"
    assert twice.value.details["rule"] == "already_ended"
    assert (await _row(world, person_id)).ended_on == START.date()


async def test_case_managers_and_panel_members_may_not_edit_or_end_a_link(world: World) -> None:
    case = await world.allocated_case()
    person_id = await _add(world, world.actor(Role.IDVA), case.id, name="Testvictim Fictional")
    for role in (Role.CASE_MANAGER, Role.PANEL_MEMBER, Role.POLICE_FELLOW):
        with pytest.raises(NotPermitted):
            await people.update_linked_person(
                uow=world.container.uow(),
                actor=world.actor(role),
                person_id=person_id,
                data=LinkedPersonUpdate(kind=PersonKind.CHILD),
            )
        with pytest.raises(NotPermitted):
            await people.end_link(
                uow=world.container.uow(),
                actor=world.actor(role),
                person_id=person_id,
                data=LinkEnd(ended_on=START.date()),
            )

    row = await _row(world, person_id)
    assert (row.kind, row.name, row.ended_on) == (
        PersonKind.VICTIM,
        "Testvictim Fictional",
        None,
    )


async def test_my_cases_lists_the_idvas_open_cases_with_the_people_she_supports(
    world: World,
) -> None:
    idva = world.actor(Role.IDVA)
    manager = world.actor(Role.SERVICE_MANAGER)
    other_idva = await world.add_actor("idva.three@test.invalid", [("HER", Role.IDVA)])
    mine = await world.allocated_case()
    hers = await world.allocated_case()
    closed = await world.allocated_case()
    supported = await _add(world, idva, mine.id, name="Testvictim Mine")
    ended = await _add(world, idva, mine.id, name="Testvictim Ended")
    await _add(world, manager, mine.id, name="Testvictim Unassigned")
    await _add(world, manager, hers.id, assigned_idva_id=other_idva.user_id)
    await _add(world, idva, closed.id)
    await people.end_link(
        uow=world.container.uow(), actor=idva, person_id=ended, data=LinkEnd(ended_on=START.date())
    )
    await case_services.close_case(
        uow=world.container.uow(),
        actor=manager,
        case_id=closed.id,
        data=CaseClose(version=closed.version, reason=ClosureReason.COMPLETED),
    )

    my_cases = await people.my_idva_cases(uow=world.container.uow(), actor=idva)

    assert [(c.case_id, [p.id for p in c.people]) for c in my_cases] == [(mine.id, [supported])]
    assert my_cases[0].case_reference == mine.reference
    assert my_cases[0].people[0].name == "Testvictim Mine"
    views = await _audits(world, "victim.view")
    assert [(case_id, details["linked_person_ids"]) for case_id, details in views] == [
        (mine.id, [supported])
    ]
    assert await people.my_idva_cases(uow=world.container.uow(), actor=manager) == []
