"""Interventions in the programme's words: offered, started, completed, declined, ended."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select

from core.enums import Agency, InterventionStatus, Role
from core.errors import NotPermitted, ValidationFailed
from core.models import Intervention
from core.schemas.interventions import InterventionCreate, InterventionStatusUpdate
from core.services import interventions
from tests.conftest import START
from tests.factories import World


async def _offered(world: World) -> int:
    case = await world.allocated_case()
    added = await interventions.add_intervention(
        uow=world.container.uow(),
        actor=world.actor(Role.CASE_MANAGER),
        data=InterventionCreate(case_id=case.id, kind_code="dvpn_dvpo", agency=Agency.POLICE),
    )
    return added.id


async def _stored(world: World, intervention_id: int) -> tuple[str, date | None, date | None]:
    async with world.container.uow() as uow:
        row = (
            await uow.session.execute(
                select(Intervention.status, Intervention.started_on, Intervention.ended_on).where(
                    Intervention.id == intervention_id
                )
            )
        ).one()
        return row[0].value, row[1], row[2]


async def test_an_intervention_is_offered_then_started_today_then_ended(world: World) -> None:
    intervention_id = await _offered(world)
    offered = await _stored(world, intervention_id)

    for status, ended_on in (
        (InterventionStatus.STARTED, None),
        (InterventionStatus.ENDED, START.date()),
    ):
        await interventions.update_intervention_status(
            uow=world.container.uow(),
            actor=world.actor(Role.POLICE_FELLOW),
            intervention_id=intervention_id,
            data=InterventionStatusUpdate(status=status, ended_on=ended_on),
        )

    assert offered == ("offered", None, None)
    assert await _stored(world, intervention_id) == ("ended", START.date(), START.date())


async def test_only_a_finished_intervention_takes_an_end_date(world: World) -> None:
    intervention_id = await _offered(world)

    with pytest.raises(ValidationFailed) as refused:
        await interventions.update_intervention_status(
            uow=world.container.uow(),
            actor=world.actor(Role.CASE_MANAGER),
            intervention_id=intervention_id,
            data=InterventionStatusUpdate(status=InterventionStatus.STARTED, ended_on=START.date()),
        )

    assert refused.value.details == {"field": "ended_on", "rule": "not_finished"}
    assert await _stored(world, intervention_id) == ("offered", None, None)


async def test_an_idva_or_panel_member_may_not_change_an_intervention(world: World) -> None:
    intervention_id = await _offered(world)
    for role in (Role.IDVA, Role.PANEL_MEMBER):
        with pytest.raises(NotPermitted):
            await interventions.update_intervention_status(
                uow=world.container.uow(),
                actor=world.actor(role),
                intervention_id=intervention_id,
                data=InterventionStatusUpdate(status=InterventionStatus.DECLINED),
            )
    assert await _stored(world, intervention_id) == ("offered", None, None)
