"""The case page's one read (``core.services.case_page``) on SQLite and PostgreSQL: it returns
what the separate reads return, writes the same ``victim.view`` audit event as
``people.case_people`` when the reader may see victims, and leaves them out (no refusal) when
not."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from core.enums import PersonKind, Role
from core.errors import NotPermitted
from core.models import AuditEvent
from core.schemas.people import LinkedPersonCreate, LinkEnd
from core.services import cases, interventions, people, risk, timeline
from core.services.case_page import case_page
from tests.conftest import START
from tests.factories import World


async def _audits(world: World, action: str) -> list[tuple[int | None, int | None, dict]]:
    """(actor, case id, details) of each audit event of ``action``, oldest first."""
    async with world.container.uow() as uow:
        rows = await uow.session.execute(
            select(AuditEvent.actor_user_id, AuditEvent.case_id, AuditEvent.details)
            .where(AuditEvent.action == action)
            .order_by(AuditEvent.seq)
        )
        return [tuple(row) for row in rows]  # type: ignore[misc]


async def test_the_case_page_holds_what_the_separate_reads_return_and_audits_the_victims_view(
    world: World,
) -> None:
    case = await world.allocated_case()
    manager = world.actor(Role.SERVICE_MANAGER)
    ids = []
    for name in ("Testvictim Current", "Testvictim Ended"):
        added = await people.add_linked_person(
            uow=world.container.uow(),
            actor=manager,
            data=LinkedPersonCreate(case_id=case.id, kind=PersonKind.VICTIM, name=name),
        )
        ids.append(added.id)
    await people.end_link(
        uow=world.container.uow(),
        actor=manager,
        person_id=ids[1],
        data=LinkEnd(ended_on=START.date() - timedelta(days=1)),
    )

    page = await case_page(uow=world.container.uow(), actor=manager, case_id=case.id)
    after_page = await _audits(world, "victim.view")

    def read(service, **extra):  # type: ignore[no-untyped-def]
        return service(uow=world.container.uow(), actor=manager, case_id=case.id, **extra)

    assert page.case == await read(cases.get_case)
    assert list(page.risk) == await read(risk.risk_history)
    assert list(page.stages) == await read(cases.stage_history)
    assert list(page.interventions) == await read(interventions.list_case_interventions)
    assert list(page.timeline) == await read(timeline.case_timeline, limit=50)
    assert page.timeline  # the referral, the allocation: something to compare
    assert page.people == await read(people.case_people)
    assert page.people is not None
    assert [p.name for p in page.people.current] == ["Testvictim Current"]
    assert [p.name for p in page.people.ended] == ["Testvictim Ended"]
    # One event for the page's read, committed, exactly as case_people writes its own.
    views = await _audits(world, "victim.view")
    assert after_page == [(manager.user_id, case.id, {"linked_person_ids": ids})]
    assert views == after_page * 2


async def test_a_case_manager_gets_the_page_without_victims_and_nothing_put_on_record(
    world: World,
) -> None:
    case = await world.allocated_case()
    await people.add_linked_person(
        uow=world.container.uow(),
        actor=world.actor(Role.SERVICE_MANAGER),
        data=LinkedPersonCreate(case_id=case.id, kind=PersonKind.VICTIM, name="Testvictim One"),
    )
    case_manager = world.actor(Role.CASE_MANAGER)

    page = await case_page(uow=world.container.uow(), actor=case_manager, case_id=case.id)

    assert page.case.reference == case.reference
    assert page.people is None
    assert "Testvictim" not in repr(page)
    assert await _audits(world, "victim.view") == []
    assert await _audits(world, "access.refused") == []


async def test_a_reader_at_another_site_is_refused_the_case_page_and_it_is_on_record(
    world: World,
) -> None:
    case = await world.allocated_case()
    outsider = world.actor(Role.SERVICE_MANAGER, "WOR")

    with pytest.raises(NotPermitted):
        await case_page(uow=world.container.uow(), actor=outsider, case_id=case.id)

    assert [actor for actor, _case, _details in await _audits(world, "access.refused")] == [
        outsider.user_id
    ]
    assert await _audits(world, "victim.view") == []
