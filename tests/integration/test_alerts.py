"""Disruption alerts, on both databases: who may raise and answer them, who hears, escalation."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from core.bootstrap import Container
from core.clock import FixedClock
from core.enums import (
    AlertStatus,
    Channel,
    ClosureReason,
    Lane,
    NotificationKind,
    OutboxState,
    Role,
)
from core.errors import CaseClosed, NotPermitted, ValidationFailed
from core.models import OutboxMessage
from core.notifications import schedulers
from core.schemas.alerts import AlertRead
from core.schemas.cases import CaseClose, CaseRead
from core.services import alerts as alert_services
from core.services import cases as case_services
from tests.factories import World


async def messages(container: Container, kind: NotificationKind) -> list[OutboxMessage]:
    async with container.session_factory() as session:
        rows = await session.scalars(
            select(OutboxMessage).where(OutboxMessage.kind == kind).order_by(OutboxMessage.id)
        )
        return list(rows)


async def raised(world: World) -> tuple[CaseRead, AlertRead]:
    case = await world.allocated_case()
    alert = await alert_services.raise_disruption_alert(
        uow=world.container.uow(), actor=world.actor(Role.CASE_MANAGER), case_id=case.id
    )
    return case, alert


async def test_raising_an_alert_tells_every_police_fellow_of_the_site_in_the_critical_lane(
    world: World, clock: FixedClock
) -> None:
    second_fellow = await world.add_actor(
        "second.fellow@test.invalid", [("HER", Role.POLICE_FELLOW)]
    )

    case, alert = await raised(world)

    assert (alert.status, alert.raised_at, alert.case_reference) == (
        AlertStatus.OPEN,
        clock.now(),
        case.reference,
    )
    rows = await messages(world.container, NotificationKind.DISRUPTION_ALERT)
    fellows = {world.actor(Role.POLICE_FELLOW).user_id, second_fellow.user_id}
    assert {row.recipient_user_id for row in rows} == fellows
    assert {(row.lane, row.channel, row.case_id, row.not_before) for row in rows} == {
        (Lane.CRITICAL, Channel.TELEGRAM, case.id, clock.now())
    }
    assert {row.dedupe_key for row in rows} == {f"alert:{alert.id}:{uid}" for uid in fellows}
    assert [row.params for row in rows] == [{"reference": case.reference, "alert_id": alert.id}] * 2


async def test_raising_again_while_an_alert_is_unresolved_returns_it_and_tells_nobody_twice(
    world: World, clock: FixedClock
) -> None:
    case, alert = await raised(world)
    clock.advance(timedelta(minutes=5))
    again = await alert_services.raise_disruption_alert(
        uow=world.container.uow(), actor=world.actor(Role.SERVICE_MANAGER), case_id=case.id
    )
    await alert_services.acknowledge_alert(
        uow=world.container.uow(), actor=world.actor(Role.POLICE_FELLOW), alert_id=alert.id
    )
    while_acknowledged = await alert_services.raise_disruption_alert(
        uow=world.container.uow(), actor=world.actor(Role.CASE_MANAGER), case_id=case.id
    )
    await alert_services.record_alert_action(
        uow=world.container.uow(),
        actor=world.actor(Role.POLICE_FELLOW),
        alert_id=alert.id,
        action_taken="Fictional: bail conditions checked",
    )
    after_action = await alert_services.raise_disruption_alert(
        uow=world.container.uow(), actor=world.actor(Role.CASE_MANAGER), case_id=case.id
    )

    assert again.id == while_acknowledged.id == alert.id
    assert again.raised_at == alert.raised_at
    assert after_action.id != alert.id
    assert after_action.status is AlertStatus.OPEN
    rows = await messages(world.container, NotificationKind.DISRUPTION_ALERT)
    assert [row.params["alert_id"] for row in rows] == [alert.id, after_action.id]


@pytest.mark.parametrize(
    ("role", "site"),
    [
        (Role.POLICE_FELLOW, "HER"),
        (Role.IDVA, "HER"),
        (Role.PANEL_COORDINATOR, "HER"),
        (Role.CASE_MANAGER, "WOR"),
        (Role.SERVICE_MANAGER, "WOR"),
    ],
)
async def test_only_the_case_manager_of_the_case_or_a_service_manager_may_raise_an_alert(
    world: World, role: Role, site: str
) -> None:
    case = await world.allocated_case()

    with pytest.raises(NotPermitted):
        await alert_services.raise_disruption_alert(
            uow=world.container.uow(), actor=world.actor(role, site), case_id=case.id
        )

    assert await messages(world.container, NotificationKind.DISRUPTION_ALERT) == []


async def test_a_case_manager_cannot_raise_an_alert_on_a_colleagues_case(world: World) -> None:
    colleague = await world.add_actor("colleague.cm@test.invalid", [("HER", Role.CASE_MANAGER)])
    case = await world.allocated_case(case_manager=colleague)

    with pytest.raises(NotPermitted):
        await alert_services.raise_disruption_alert(
            uow=world.container.uow(), actor=world.actor(Role.CASE_MANAGER), case_id=case.id
        )
    by_manager = await alert_services.raise_disruption_alert(
        uow=world.container.uow(), actor=world.actor(Role.SERVICE_MANAGER), case_id=case.id
    )
    assert by_manager.status is AlertStatus.OPEN


async def test_no_alert_can_be_raised_on_a_closed_case(world: World) -> None:
    case = await world.allocated_case()
    await case_services.close_case(
        uow=world.container.uow(),
        actor=world.actor(Role.CASE_MANAGER),
        case_id=case.id,
        data=CaseClose(version=case.version, reason=ClosureReason.CUSTODY),
    )

    with pytest.raises(CaseClosed):
        await alert_services.raise_disruption_alert(
            uow=world.container.uow(), actor=world.actor(Role.CASE_MANAGER), case_id=case.id
        )


async def test_the_police_fellow_acknowledges_then_records_the_action_taken(
    world: World, clock: FixedClock
) -> None:
    _, alert = await raised(world)
    fellow = world.actor(Role.POLICE_FELLOW)

    clock.advance(timedelta(minutes=20))
    acknowledged = await alert_services.acknowledge_alert(
        uow=world.container.uow(), actor=fellow, alert_id=alert.id
    )
    acknowledged_at = clock.now()
    clock.advance(timedelta(hours=2))
    actioned = await alert_services.record_alert_action(
        uow=world.container.uow(),
        actor=fellow,
        alert_id=alert.id,
        action_taken="Intelligence shared with the neighbourhood team",
    )

    assert (acknowledged.status, acknowledged.acknowledged_by_id) == (
        AlertStatus.ACKNOWLEDGED,
        fellow.user_id,
    )
    assert (actioned.status, actioned.acknowledged_at, actioned.actioned_at) == (
        AlertStatus.ACTIONED,
        acknowledged_at,
        clock.now(),
    )
    assert actioned.action_taken == "Intelligence shared with the neighbourhood team"
    with pytest.raises(ValidationFailed):
        await alert_services.acknowledge_alert(
            uow=world.container.uow(), actor=fellow, alert_id=alert.id
        )


@pytest.mark.parametrize(
    ("role", "site"),
    [(Role.CASE_MANAGER, "HER"), (Role.IDVA, "HER"), (Role.POLICE_FELLOW, "WOR")],
)
async def test_only_the_sites_police_fellow_or_service_manager_may_answer_an_alert(
    world: World, role: Role, site: str
) -> None:
    _, alert = await raised(world)

    with pytest.raises(NotPermitted):
        await alert_services.acknowledge_alert(
            uow=world.container.uow(), actor=world.actor(role, site), alert_id=alert.id
        )
    with pytest.raises(NotPermitted):
        await alert_services.record_alert_action(
            uow=world.container.uow(),
            actor=world.actor(role, site),
            alert_id=alert.id,
            action_taken="Something",
        )


async def test_the_open_alerts_list_shows_what_still_waits_to_those_concerned(
    world: World,
) -> None:
    _, first = await raised(world)
    _, second = await raised(world)
    _, done = await raised(world)
    fellow = world.actor(Role.POLICE_FELLOW)
    await alert_services.acknowledge_alert(
        uow=world.container.uow(), actor=fellow, alert_id=first.id
    )
    await alert_services.record_alert_action(
        uow=world.container.uow(), actor=fellow, alert_id=done.id, action_taken="DVPN issued"
    )

    def ids(role: Role, site: str = "HER") -> list[int]:
        return [alert.id for alert in listed[(role, site)]]

    listed = {
        (role, site): await alert_services.list_open_alerts(
            uow=world.container.uow(), actor=world.actor(role, site)
        )
        for role, site in (
            (Role.POLICE_FELLOW, "HER"),
            (Role.SERVICE_MANAGER, "HER"),
            (Role.CASE_MANAGER, "HER"),
            (Role.POLICE_FELLOW, "WOR"),
            (Role.IDVA, "HER"),
        )
    }

    assert ids(Role.POLICE_FELLOW) == [first.id, second.id]
    assert ids(Role.SERVICE_MANAGER) == [first.id, second.id]
    assert ids(Role.CASE_MANAGER) == [first.id, second.id]
    assert ids(Role.POLICE_FELLOW, "WOR") == []
    assert ids(Role.IDVA) == []


async def test_an_alert_unacknowledged_for_four_hours_escalates_to_the_service_manager_once(
    world: World, clock: FixedClock
) -> None:
    case, alert = await raised(world)
    raised_at = clock.now()

    clock.advance(timedelta(hours=3, minutes=59))
    too_soon = await schedulers.escalate_unacknowledged_alerts(uow=world.container.uow())
    clock.advance(timedelta(minutes=1))
    due = await schedulers.escalate_unacknowledged_alerts(uow=world.container.uow())
    clock.advance(timedelta(hours=1))
    again = await schedulers.escalate_unacknowledged_alerts(uow=world.container.uow())

    assert (too_soon, due, again) == (0, 1, 0)
    [escalation] = await messages(world.container, NotificationKind.ESCALATION)
    manager = world.actor(Role.SERVICE_MANAGER)
    assert (escalation.recipient_user_id, escalation.lane, escalation.dedupe_key) == (
        manager.user_id,
        Lane.CRITICAL,
        f"escalation:alert:{alert.id}:{manager.user_id}",
    )
    assert escalation.params == {
        "reference": case.reference,
        "alert_id": alert.id,
        "raised_at": raised_at.isoformat(),
    }


async def test_an_acknowledgement_after_the_escalation_was_queued_cancels_it_before_it_is_sent(
    world: World, clock: FixedClock
) -> None:
    _, alert = await raised(world)
    _, other_alert = await raised(world)
    clock.advance(timedelta(hours=4))
    assert await schedulers.escalate_unacknowledged_alerts(uow=world.container.uow()) == 2

    await alert_services.acknowledge_alert(
        uow=world.container.uow(), actor=world.actor(Role.POLICE_FELLOW), alert_id=alert.id
    )

    states = {
        message.params["alert_id"]: message.state
        for message in await messages(world.container, NotificationKind.ESCALATION)
    }
    assert states == {alert.id: OutboxState.CANCELLED, other_alert.id: OutboxState.QUEUED}


async def test_an_acknowledged_alert_does_not_escalate(world: World, clock: FixedClock) -> None:
    _, alert = await raised(world)
    clock.advance(timedelta(hours=1))
    await alert_services.acknowledge_alert(
        uow=world.container.uow(), actor=world.actor(Role.POLICE_FELLOW), alert_id=alert.id
    )

    clock.advance(timedelta(hours=5))
    queued = await schedulers.escalate_unacknowledged_alerts(uow=world.container.uow())

    assert queued == 0
    assert await messages(world.container, NotificationKind.ESCALATION) == []
