"""Panel broadcasts (core): who gets one, what it holds, and that Send twice queues once."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from core.clock import FixedClock
from core.enums import AttendanceStatus, Lane, NotificationKind, Role
from core.errors import NotPermitted, ValidationFailed
from core.models import OutboxMessage
from core.schemas.panels import PanelMeetingCreate, PanelMeetingRead
from core.services import broadcasts
from core.services import panels as panel_services
from tests.factories import World

STANDING_ROLES = (
    Role.PANEL_MEMBER,
    Role.PANEL_COORDINATOR,
    Role.POLICE_FELLOW,
    Role.IDVA,
    Role.SERVICE_MANAGER,
)


async def meeting_in(world: World, days: float, site: str = "HER") -> PanelMeetingRead:
    return await panel_services.schedule_panel_meeting(
        uow=world.container.uow(),
        actor=world.actor(Role.PANEL_COORDINATOR, site),
        data=PanelMeetingCreate(
            site_id=world.sites[site].id,
            starts_at=world.container.clock.now() + timedelta(days=days),
            place="Room 4",
        ),
    )


async def broadcast_rows(world: World) -> list[OutboxMessage]:
    async with world.container.session_factory() as session:
        rows = await session.scalars(
            select(OutboxMessage)
            .where(OutboxMessage.kind == NotificationKind.PANEL_BROADCAST)
            .order_by(OutboxMessage.recipient_user_id, OutboxMessage.id)
        )
        return list(rows)


async def send(world: World, meeting_id: int, key: str, role: Role = Role.PANEL_COORDINATOR):
    return await broadcasts.broadcast_panel_meeting(
        uow=world.container.uow(), actor=world.actor(role), meeting_id=meeting_id, broadcast_key=key
    )


async def test_a_broadcast_queues_one_message_for_each_panel_member_of_the_site(
    world: World,
) -> None:
    meeting = await meeting_in(world, 7)
    await meeting_in(world, 7, site="WOR")
    coordinator = world.actor(Role.PANEL_COORDINATOR)

    preview = await broadcasts.preview_panel_broadcast(
        uow=world.container.uow(), actor=coordinator, meeting_id=meeting.id
    )
    sent = await send(world, meeting.id, preview.broadcast_key)

    rows = await broadcast_rows(world)
    expected = sorted(world.actor(role).user_id for role in STANDING_ROLES)
    assert [row.recipient_user_id for row in rows] == expected
    assert (preview.recipients, sent.recipients, sent.queued) == (5, 5, 5)
    assert {row.lane for row in rows} == {Lane.NORMAL}
    assert {row.message_key for row in rows} == {preview.message_key}
    assert [row.params for row in rows] == [preview.params] * 5
    assert set(preview.params) == {"meeting_id", "site_code", "site_name", "starts_at"}
    assert (preview.params["site_code"], preview.params["site_name"]) == ("HER", "Testshire North")
    assert "Room 4" not in repr(preview.params)


async def test_sending_the_same_preview_twice_queues_nothing_more_but_a_new_preview_does(
    world: World,
) -> None:
    meeting = await meeting_in(world, 7)
    coordinator = world.actor(Role.PANEL_COORDINATOR)
    first = await broadcasts.preview_panel_broadcast(
        uow=world.container.uow(), actor=coordinator, meeting_id=meeting.id
    )
    await send(world, meeting.id, first.broadcast_key)

    again = await send(world, meeting.id, first.broadcast_key)
    assert (again.recipients, again.queued) == (5, 0)
    assert len(await broadcast_rows(world)) == 5

    second = await broadcasts.preview_panel_broadcast(
        uow=world.container.uow(), actor=coordinator, meeting_id=meeting.id
    )
    assert second.broadcast_key != first.broadcast_key
    deliberate = await send(world, meeting.id, second.broadcast_key)
    assert deliberate.queued == 5
    assert len(await broadcast_rows(world)) == 10


async def test_people_who_sent_apologies_are_left_out_and_agenda_case_managers_are_in(
    world: World,
) -> None:
    meeting = await meeting_in(world, 7)
    case = await world.allocated_case()
    await panel_services.add_agenda_item(
        uow=world.container.uow(),
        actor=world.actor(Role.PANEL_COORDINATOR),
        meeting_id=meeting.id,
        case_id=case.id,
    )
    await panel_services.rsvp_panel_meeting(
        uow=world.container.uow(),
        actor=world.actor(Role.PANEL_MEMBER),
        meeting_id=meeting.id,
        status=AttendanceStatus.APOLOGIES,
    )

    sent = await send(world, meeting.id, "apologies-test")

    recipients = {row.recipient_user_id for row in await broadcast_rows(world)}
    assert world.actor(Role.PANEL_MEMBER).user_id not in recipients
    assert world.actor(Role.CASE_MANAGER).user_id in recipients
    assert sent.queued == len(recipients) == 5


@pytest.mark.parametrize(
    ("role", "site"),
    [(Role.CASE_MANAGER, "HER"), (Role.PANEL_MEMBER, "HER"), (Role.PANEL_COORDINATOR, "WOR")],
)
async def test_only_someone_who_manages_that_sites_panel_may_broadcast(
    world: World, role: Role, site: str
) -> None:
    meeting = await meeting_in(world, 7)
    actor = world.actor(role, site)

    with pytest.raises(NotPermitted):
        await broadcasts.preview_panel_broadcast(
            uow=world.container.uow(), actor=actor, meeting_id=meeting.id
        )
    with pytest.raises(NotPermitted):
        await broadcasts.broadcast_panel_meeting(
            uow=world.container.uow(), actor=actor, meeting_id=meeting.id, broadcast_key="k" * 12
        )
    assert await broadcast_rows(world) == []


async def test_a_case_manager_is_refused_the_list_of_meetings_to_broadcast(world: World) -> None:
    await meeting_in(world, 7)
    with pytest.raises(NotPermitted):
        await broadcasts.broadcastable_meetings(
            uow=world.container.uow(), actor=world.actor(Role.CASE_MANAGER)
        )


async def test_only_upcoming_meetings_at_my_sites_can_be_broadcast(
    world: World, clock: FixedClock
) -> None:
    soon = await meeting_in(world, 1)
    later = await meeting_in(world, 9)
    await meeting_in(world, 3, site="WOR")
    clock.advance(timedelta(days=2))

    listed = await broadcasts.broadcastable_meetings(
        uow=world.container.uow(), actor=world.actor(Role.PANEL_COORDINATOR)
    )

    assert [m.id for m in listed] == [later.id]
    with pytest.raises(ValidationFailed):
        await send(world, soon.id, "too-late-key")


async def test_a_malformed_broadcast_key_is_refused(world: World) -> None:
    meeting = await meeting_in(world, 7)
    with pytest.raises(ValidationFailed):
        await send(world, meeting.id, "short")
    assert await broadcast_rows(world) == []


async def test_my_upcoming_panel_meetings_show_my_own_reply_only(world: World) -> None:
    meeting = await meeting_in(world, 7)
    other = await meeting_in(world, 14)
    await panel_services.rsvp_panel_meeting(
        uow=world.container.uow(),
        actor=world.actor(Role.PANEL_MEMBER),
        meeting_id=meeting.id,
        status=AttendanceStatus.ATTENDING,
    )

    mine = await panel_services.my_upcoming_panel_meetings(
        uow=world.container.uow(), actor=world.actor(Role.PANEL_MEMBER)
    )
    idva = await panel_services.my_upcoming_panel_meetings(
        uow=world.container.uow(), actor=world.actor(Role.IDVA)
    )

    assert [(i.meeting.id, i.my_rsvp) for i in mine] == [
        (meeting.id, AttendanceStatus.ATTENDING),
        (other.id, None),
    ]
    assert [(i.meeting.id, i.my_rsvp) for i in idva] == [(meeting.id, None), (other.id, None)]
