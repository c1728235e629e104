"""The reads the Panel page stands on: several meetings with their agendas and actions at once,
and what a coordinator picks from when planning a panel.

Each runs on SQLite and PostgreSQL, with its permission edges (another site, another role) next
to the happy path; the batch read is checked for a statement count that does not grow with the
number of meetings.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import event

from core.bootstrap import Container
from core.enums import (
    Agency,
    AttendanceStatus,
    ClosureReason,
    PanelActionStatus,
    PanelMeetingStatus,
    Role,
)
from core.errors import NotFound, NotPermitted
from core.models import PanelAction, PanelMeeting
from core.schemas.actor import Actor
from core.schemas.cases import CaseClose, CaseRead
from core.schemas.panels import PanelActionCreate, PanelMeetingCreate, PanelMeetingRead
from core.services import cases as case_services
from core.services import panels as panel_services
from tests.factories import World

# The clock stands at 2026-03-02 09:00 UTC (tests/conftest.py).
NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


@contextmanager
def counting_statements(container: Container) -> Iterator[list[str]]:
    """Every SQL statement the engine runs inside the block, in order."""
    statements: list[str] = []

    def count(conn, cursor, statement, parameters, context, executemany):  # type: ignore[no-untyped-def]
        statements.append(statement)

    engine = container.engine.sync_engine
    event.listen(engine, "before_cursor_execute", count)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", count)


async def schedule(world: World, site: str = "HER", days: int = 7) -> PanelMeetingRead:
    return await panel_services.schedule_panel_meeting(
        uow=world.container.uow(),
        actor=world.actor(Role.PANEL_COORDINATOR, site),
        data=PanelMeetingCreate(
            site_id=world.sites[site].id, starts_at=NOW + timedelta(days=days), place="Room 2"
        ),
    )


async def plan(
    world: World, meeting: PanelMeetingRead, case: CaseRead, owner: Actor, due: date
) -> int:
    """Put ``case`` on the meeting's agenda with one action for ``owner``; the action's id."""
    coordinator = world.actor(Role.PANEL_COORDINATOR, meeting.site_code)
    await panel_services.add_agenda_item(
        uow=world.container.uow(), actor=coordinator, meeting_id=meeting.id, case_id=case.id
    )
    action = await panel_services.add_panel_action(
        uow=world.container.uow(),
        actor=coordinator,
        data=PanelActionCreate(
            meeting_id=meeting.id,
            case_id=case.id,
            description="Check bail conditions and report back.",
            owner_user_id=owner.user_id,
            due_on=due,
        ),
    )
    return action.id


async def test_several_meetings_come_back_in_the_order_asked_with_their_agendas_and_actions(
    world: World,
) -> None:
    fellow = world.actor(Role.POLICE_FELLOW)
    first, second = await schedule(world, days=7), await schedule(world, days=35)
    case_a, case_b = await world.allocated_case(), await world.allocated_case()
    action_a = await plan(world, first, case_a, fellow, date(2026, 3, 20))
    action_b = await plan(world, second, case_b, world.actor(Role.IDVA), date(2026, 4, 20))

    details = await panel_services.get_panel_meetings(
        uow=world.container.uow(),
        actor=world.actor(Role.PANEL_MEMBER),
        meeting_ids=[second.id, first.id],
    )

    assert [d.meeting.id for d in details] == [second.id, first.id]
    assert [[item.case_reference for item in d.agenda] for d in details] == [
        [case_b.reference],
        [case_a.reference],
    ]
    assert [
        [(a.id, a.case_reference, a.owner_name, a.due_on) for a in d.actions] for d in details
    ] == [
        [(action_b, case_b.reference, "Test idva.her", date(2026, 4, 20))],
        [(action_a, case_a.reference, "Test police_fellow.her", date(2026, 3, 20))],
    ]
    assert details[1].meeting.place == "Room 2"


async def test_only_the_owner_the_coordinator_and_the_case_manager_may_update_an_action(
    world: World,
) -> None:
    fellow = world.actor(Role.POLICE_FELLOW)
    meeting = await schedule(world)
    case = await world.allocated_case()
    await plan(world, meeting, case, fellow, date(2026, 3, 20))

    async def may_update(actor: Actor) -> bool:
        [detail] = await panel_services.get_panel_meetings(
            uow=world.container.uow(), actor=actor, meeting_ids=[meeting.id]
        )
        return detail.actions[0].may_update

    assert await may_update(fellow) is True
    assert await may_update(world.actor(Role.PANEL_COORDINATOR)) is True
    assert await may_update(world.actor(Role.SERVICE_MANAGER)) is True
    assert await may_update(world.actor(Role.CASE_MANAGER)) is True  # the case is on their caseload
    assert await may_update(world.actor(Role.PANEL_MEMBER)) is False
    assert await may_update(world.actor(Role.IDVA)) is False
    # What the read offers, core allows: the owner marks it done.
    done = await panel_services.update_panel_action_status(
        uow=world.container.uow(),
        actor=fellow,
        action_id=(
            await panel_services.get_panel_meeting(
                uow=world.container.uow(), actor=fellow, meeting_id=meeting.id
            )
        )
        .actions[0]
        .id,
        status=PanelActionStatus.DONE,
    )
    assert done.status is PanelActionStatus.DONE


async def test_the_batch_read_runs_the_same_number_of_statements_for_one_meeting_or_five(
    world: World,
) -> None:
    fellow = world.actor(Role.POLICE_FELLOW)
    coordinator = world.actor(Role.PANEL_COORDINATOR)
    meetings = [await schedule(world, days=7 * n) for n in range(1, 6)]
    for meeting in meetings:
        await plan(world, meeting, await world.allocated_case(), fellow, date(2026, 5, 1))

    with counting_statements(world.container) as one:
        await panel_services.get_panel_meetings(
            uow=world.container.uow(), actor=coordinator, meeting_ids=[meetings[0].id]
        )
    with counting_statements(world.container) as five:
        details = await panel_services.get_panel_meetings(
            uow=world.container.uow(), actor=coordinator, meeting_ids=[m.id for m in meetings]
        )

    assert len(five) == len(one)
    assert [len(d.actions) for d in details] == [1, 1, 1, 1, 1]


async def test_a_meeting_at_another_site_or_unknown_is_refused_and_none_asked_gives_none(
    world: World,
) -> None:
    ours, theirs = await schedule(world, "HER"), await schedule(world, "WOR")
    member = world.actor(Role.PANEL_MEMBER, "HER")

    with pytest.raises(NotPermitted):
        await panel_services.get_panel_meetings(
            uow=world.container.uow(), actor=member, meeting_ids=[ours.id, theirs.id]
        )
    with pytest.raises(NotFound):
        await panel_services.get_panel_meetings(
            uow=world.container.uow(), actor=member, meeting_ids=[ours.id, 999_999]
        )
    assert (
        await panel_services.get_panel_meetings(
            uow=world.container.uow(), actor=member, meeting_ids=[]
        )
        == []
    )


async def test_a_coordinator_plans_from_the_sites_open_cases_and_its_staff(world: World) -> None:
    open_case = await world.allocated_case("HER")
    closed = await world.allocated_case("HER")
    await case_services.close_case(
        uow=world.container.uow(),
        actor=world.actor(Role.SERVICE_MANAGER),
        case_id=closed.id,
        data=CaseClose(version=closed.version, reason=ClosureReason.COMPLETED),
    )
    await world.allocated_case("WOR")

    page = await panel_services.panel_page(
        uow=world.container.uow(), actor=world.actor(Role.PANEL_COORDINATOR, "HER")
    )
    [her] = page.planning_sites

    assert (her.site_id, her.site_code) == (world.sites["HER"].id, "HER")
    assert [c.reference for c in her.cases] == [open_case.reference]
    owners = {o.display_name: o.agency for o in her.owners}
    assert owners["Test police_fellow.her"] is Agency.POLICE
    assert owners["Test panel_member.her"] is Agency.PROBATION
    assert not any(name.endswith(".wor") for name in owners)


async def test_a_service_manager_plans_too_but_a_panel_member_does_not(world: World) -> None:
    manager = world.actor(Role.SERVICE_MANAGER, "WOR")

    managers = await panel_services.panel_page(uow=world.container.uow(), actor=manager)
    members = await panel_services.panel_page(
        uow=world.container.uow(), actor=world.actor(Role.PANEL_MEMBER)
    )

    assert [c.site_code for c in managers.planning_sites] == ["WOR"]
    assert members.planning_sites == ()


async def held_meeting(world: World, site: str, days_ago: int, *, held: bool = True) -> int:
    """A past meeting at ``site`` (marked held, or left scheduled), with one action on a case
    there; the meeting's id. Straight into the database: no service marks a meeting held."""
    case = await world.allocated_case(site)
    async with world.container.uow() as uow:
        meeting = PanelMeeting(
            site_id=world.sites[site].id,
            starts_at=NOW - timedelta(days=days_ago),
            status=PanelMeetingStatus.HELD if held else PanelMeetingStatus.SCHEDULED,
            created_at=NOW - timedelta(days=days_ago + 30),
        )
        uow.session.add(meeting)
        await uow.session.flush()
        uow.session.add(
            PanelAction(
                meeting_id=meeting.id,
                case_id=case.id,
                description=f"Synthetic action from {days_ago} days ago",
                owner_agency=Agency.POLICE,
                due_on=date(2026, 3, 20),
                status=PanelActionStatus.OPEN,
                created_at=meeting.starts_at,
            )
        )
        await uow.commit()
        return meeting.id


async def test_the_panel_page_shows_the_actions_of_the_last_meeting_held_at_each_of_my_sites(
    world: World,
) -> None:
    await held_meeting(world, "HER", days_ago=200)  # before the look-back
    await held_meeting(world, "HER", days_ago=30)
    last_her = await held_meeting(world, "HER", days_ago=10)
    await held_meeting(world, "HER", days_ago=3, held=False)  # past, but never marked held
    last_wor = await held_meeting(world, "WOR", days_ago=40)
    manager = world.actor(Role.SERVICE_MANAGER, "HER")  # runs the panel at HER only
    member = world.actor(Role.PANEL_MEMBER, "HER")

    page = await panel_services.panel_page(uow=world.container.uow(), actor=manager)
    member_page = await panel_services.panel_page(uow=world.container.uow(), actor=member)

    assert [d.meeting.id for d in page.last_held] == [last_her]
    assert [a.description for a in page.last_held[0].actions] == [
        "Synthetic action from 10 days ago"
    ]
    assert [d.meeting.id for d in member_page.last_held] == [last_her]
    assert last_wor not in {d.meeting.id for d in page.last_held}


async def test_the_panel_page_gives_a_coordinator_planning_and_broadcasts_and_a_member_neither(
    world: World,
) -> None:
    ours, later, theirs = (
        await schedule(world, "HER", days=7),
        await schedule(world, "HER", days=14),
        await schedule(world, "WOR", days=7),
    )
    case = await world.allocated_case("HER")
    await plan(world, ours, case, world.actor(Role.POLICE_FELLOW), date(2026, 3, 20))
    coordinator = world.actor(Role.PANEL_COORDINATOR, "HER")
    await panel_services.rsvp_panel_meeting(
        uow=world.container.uow(),
        actor=coordinator,
        meeting_id=later.id,
        status=AttendanceStatus.APOLOGIES,
    )

    page = await panel_services.panel_page(uow=world.container.uow(), actor=coordinator)
    member = await panel_services.panel_page(
        uow=world.container.uow(), actor=world.actor(Role.PANEL_MEMBER, "HER")
    )

    assert [(m.detail.meeting.id, m.my_rsvp) for m in page.upcoming] == [
        (ours.id, None),
        (later.id, AttendanceStatus.APOLOGIES),
    ]
    assert [item.case_reference for item in page.upcoming[0].detail.agenda] == [case.reference]
    assert [m.planning.site_code if m.planning else None for m in page.upcoming] == ["HER", "HER"]
    assert [c.site_code for c in page.planning_sites] == ["HER"]
    assert page.can_broadcast
    assert [m.id for m in page.broadcastable] == [ours.id, later.id]
    assert theirs.id not in {m.detail.meeting.id for m in page.upcoming}
    assert [m.detail.meeting.id for m in member.upcoming] == [ours.id, later.id]
    assert [m.planning for m in member.upcoming] == [None, None]
    assert (member.planning_sites, member.can_broadcast, member.broadcastable) == ((), False, ())
