"""After a panel meeting: marked held with who attended, or cancelled; and the report's figures.

Each test checks what the service answers and what the database holds afterwards.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from core.clock import FixedClock
from core.enums import AttendanceStatus, PanelMeetingStatus, Role
from core.errors import NotPermitted, ValidationFailed
from core.models import OutboxMessage, PanelAttendance, PanelMeeting
from core.notifications.schedulers import schedule_panel_reminders
from core.schemas.panel_outcomes import MeetingHeld
from core.schemas.panels import PanelMeetingCreate
from core.schemas.reports import Share
from core.services import panel_outcomes, panels
from core.services.report_export import report_rows
from core.services.reports import build_report
from tests.conftest import START
from tests.factories import World
from webapp.components.report_labels import GROUP_OF_MEASURE, row_label
from webapp.i18n import words as page_words


async def _meeting(world: World, starts_offset: timedelta, site: str = "HER") -> int:
    meeting = await panels.schedule_panel_meeting(
        uow=world.container.uow(),
        actor=world.actor(Role.PANEL_COORDINATOR, site),
        data=PanelMeetingCreate(site_id=world.sites[site].id, starts_at=START + starts_offset),
    )
    return meeting.id


async def _rsvp(world: World, meeting_id: int, role: Role, status: AttendanceStatus) -> None:
    await panels.rsvp_panel_meeting(
        uow=world.container.uow(), actor=world.actor(role), meeting_id=meeting_id, status=status
    )


async def _attendance(world: World, meeting_id: int) -> dict[int, AttendanceStatus]:
    async with world.container.uow() as uow:
        rows = await uow.session.scalars(
            select(PanelAttendance).where(PanelAttendance.meeting_id == meeting_id)
        )
        return {row.user_id: row.status for row in rows}


async def test_a_meeting_marked_held_records_everyone_on_the_register_attended_or_absent(
    world: World, clock: FixedClock
) -> None:
    meeting_id = await _meeting(world, timedelta(days=1))
    await _rsvp(world, meeting_id, Role.PANEL_MEMBER, AttendanceStatus.ATTENDING)
    await _rsvp(world, meeting_id, Role.POLICE_FELLOW, AttendanceStatus.APOLOGIES)
    register = await panel_outcomes.panel_register(
        uow=world.container.uow(), actor=world.actor(Role.PANEL_COORDINATOR), meeting_id=meeting_id
    )
    clock.advance(timedelta(days=1, hours=2))
    member = world.actor(Role.PANEL_MEMBER).user_id
    coordinator = world.actor(Role.PANEL_COORDINATOR).user_id

    marked = await panel_outcomes.mark_panel_meeting_held(
        uow=world.container.uow(),
        actor=world.actor(Role.PANEL_COORDINATOR),
        meeting_id=meeting_id,
        data=MeetingHeld(attended_user_ids=frozenset({member, coordinator})),
    )

    before = {row.user_id: row.status for row in register.rows}
    assert before[member] is AttendanceStatus.ATTENDING
    assert before[world.actor(Role.POLICE_FELLOW).user_id] is AttendanceStatus.APOLOGIES
    assert before[coordinator] is None
    held = await _attendance(world, meeting_id)
    assert held[member] is AttendanceStatus.ATTENDED
    assert held[coordinator] is AttendanceStatus.ATTENDED
    assert held[world.actor(Role.POLICE_FELLOW).user_id] is AttendanceStatus.ABSENT
    assert held[world.actor(Role.IDVA).user_id] is AttendanceStatus.ABSENT
    assert len(held) == len(Role)  # one person in every role at HER, nobody from WOR
    assert (marked.attended, marked.absent) == (2, len(Role) - 2)
    assert marked.meeting.status is PanelMeetingStatus.HELD


async def test_a_meeting_cannot_be_marked_held_before_it_starts_or_with_someone_from_elsewhere(
    world: World, clock: FixedClock
) -> None:
    meeting_id = await _meeting(world, timedelta(days=1))
    coordinator = world.actor(Role.PANEL_COORDINATOR)

    with pytest.raises(ValidationFailed) as early:
        await panel_outcomes.mark_panel_meeting_held(
            uow=world.container.uow(), actor=coordinator, meeting_id=meeting_id, data=MeetingHeld()
        )
    clock.advance(timedelta(days=2))
    with pytest.raises(ValidationFailed) as stranger:
        await panel_outcomes.mark_panel_meeting_held(
            uow=world.container.uow(),
            actor=coordinator,
            meeting_id=meeting_id,
            data=MeetingHeld(
                attended_user_ids=frozenset({world.actor(Role.PANEL_MEMBER, "WOR").user_id})
            ),
        )

    assert early.value.details["rule"] == "not_started_yet"
    assert stranger.value.details["rule"] == "not_at_site"
    async with world.container.uow() as uow:
        meeting = await uow.session.get(PanelMeeting, meeting_id)
        assert meeting is not None and meeting.status is PanelMeetingStatus.SCHEDULED
    assert await _attendance(world, meeting_id) == {}


async def test_a_cancelled_meeting_sends_no_more_reminders_and_cannot_be_marked_held(
    world: World, clock: FixedClock
) -> None:
    meeting_id = await _meeting(world, timedelta(days=2, hours=3))
    queued = await schedule_panel_reminders(uow=world.container.uow())

    cancelled = await panel_outcomes.cancel_panel_meeting(
        uow=world.container.uow(), actor=world.actor(Role.SERVICE_MANAGER), meeting_id=meeting_id
    )
    clock.advance(timedelta(days=3))
    with pytest.raises(ValidationFailed) as held:
        await panel_outcomes.mark_panel_meeting_held(
            uow=world.container.uow(),
            actor=world.actor(Role.PANEL_COORDINATOR),
            meeting_id=meeting_id,
            data=MeetingHeld(),
        )

    assert queued > 0
    assert cancelled.status is PanelMeetingStatus.CANCELLED
    assert held.value.details["rule"] == "cancelled"
    async with world.container.uow() as uow:
        states = set(
            await uow.session.scalars(
                select(OutboxMessage.state).where(
                    OutboxMessage.dedupe_key.like(f"panel:{meeting_id}:%")
                )
            )
        )
    assert {state.value for state in states} == {"cancelled"}


async def test_only_the_panel_coordinator_and_service_manager_of_the_site_mark_meetings(
    world: World, clock: FixedClock
) -> None:
    meeting_id = await _meeting(world, timedelta(days=1))
    clock.advance(timedelta(days=2))
    for actor in (world.actor(Role.CASE_MANAGER), world.actor(Role.PANEL_COORDINATOR, "WOR")):
        with pytest.raises(NotPermitted):
            await panel_outcomes.mark_panel_meeting_held(
                uow=world.container.uow(), actor=actor, meeting_id=meeting_id, data=MeetingHeld()
            )


async def test_the_report_counts_meetings_held_and_cancelled_and_the_share_who_attended(
    world: World, clock: FixedClock
) -> None:
    held_id = await _meeting(world, timedelta(days=1))
    cancelled_id = await _meeting(world, timedelta(days=2))
    await _meeting(world, timedelta(days=3), site="WOR")  # another site: not counted
    await panel_outcomes.cancel_panel_meeting(
        uow=world.container.uow(), actor=world.actor(Role.SERVICE_MANAGER), meeting_id=cancelled_id
    )
    clock.advance(timedelta(days=5))
    attendees = frozenset(world.actor(role).user_id for role in (Role.PANEL_MEMBER, Role.IDVA))
    await panel_outcomes.mark_panel_meeting_held(
        uow=world.container.uow(),
        actor=world.actor(Role.PANEL_COORDINATOR),
        meeting_id=held_id,
        data=MeetingHeld(attended_user_ids=attendees),
    )

    report = await build_report(
        uow=world.container.uow(),
        actor=world.actor(Role.SERVICE_MANAGER),
        site_id=world.sites["HER"].id,
        period_from=START.date(),
        period_to=(START + timedelta(days=10)).date(),
    )

    assert report.funder.panel_meetings_held == 1
    assert report.funder.panel_meetings_cancelled == 1
    expected = Share(count=2, of=len(Role), percent=round(200 / len(Role), 1))
    assert report.funder.panel_attendance == expected
    # The same figures in the export's rows, each with its words on the Reports page.
    figures = {row.measure: row for row in report_rows(report)}
    assert [
        figures[measure].value
        for measure in (
            "panel_meetings_held",
            "panel_meetings_cancelled",
            "panel_attendance_marked",
            "panel_attendance",
            "panel_attendance_percent",
        )
    ] == [1, 1, len(Role), 2, expected.percent]
    words = page_words("en_GB")
    assert row_label(figures["panel_attendance_percent"], words) == (
        "Share of people who attended meetings held"
    )
    assert GROUP_OF_MEASURE["panel_meetings_cancelled"] == "panel-alerts"
