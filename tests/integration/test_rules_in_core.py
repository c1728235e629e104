"""Rules that once lived only in a face, now held by core on SQLite and PostgreSQL.

A contact with no kind of work, a panel action due before today and a panel meeting at or
before now: each is refused by the service itself, whichever face (or none) calls it, with a
typed error naming the field and words a person can act on; nothing is written.
"""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from core.bootstrap import Container
from core.clock import FixedClock
from core.enums import ContactType, Role, WorkCategory
from core.errors import ActionDueInPast, MeetingInPast, WorkCategoryRequired
from core.models import Contact, PanelAction, PanelMeeting
from core.schemas.contacts import ContactCreate
from core.schemas.panels import PanelActionCreate, PanelMeetingCreate
from core.services import contacts, panels
from tests.factories import World
from ui.errors import error_message
from ui.i18n import Translator

ENGLISH = Translator("en_GB")


async def count(container: Container, model: type) -> int:
    async with container.session_factory() as session:
        return await session.scalar(select(func.count()).select_from(model)) or 0


def _contact(case_id: int, categories: frozenset[WorkCategory]) -> ContactCreate:
    return ContactCreate(
        case_id=case_id,
        contact_type=ContactType.PHONE,
        duration_minutes=15,
        categories=categories,
    )


async def test_a_contact_with_no_kind_of_work_is_refused_and_nothing_is_logged(
    world: World,
) -> None:
    case = await world.allocated_case()

    with pytest.raises(WorkCategoryRequired) as refused:
        await contacts.log_contact(
            uow=world.container.uow(),
            actor=world.actor(Role.CASE_MANAGER),
            data=_contact(case.id, frozenset()),
        )

    assert refused.value.details["field"] == "categories"
    assert error_message(refused.value, ENGLISH) == "Select at least one kind of work"
    assert await count(world.container, Contact) == 0


async def test_a_contact_with_one_kind_of_work_is_logged(world: World) -> None:
    case = await world.allocated_case()

    logged = await contacts.log_contact(
        uow=world.container.uow(),
        actor=world.actor(Role.CASE_MANAGER),
        data=_contact(case.id, frozenset({WorkCategory.DISRUPTION})),
    )

    assert logged.categories == (WorkCategory.DISRUPTION,)
    assert await count(world.container, Contact) == 1


async def _meeting_tomorrow(world: World, clock: FixedClock) -> int:
    meeting = await panels.schedule_panel_meeting(
        uow=world.container.uow(),
        actor=world.actor(Role.PANEL_COORDINATOR),
        data=PanelMeetingCreate(
            site_id=world.sites["HER"].id, starts_at=clock.now() + timedelta(days=1)
        ),
    )
    return meeting.id


async def test_a_panel_meeting_at_or_before_now_is_refused_and_nothing_is_scheduled(
    world: World, clock: FixedClock
) -> None:
    for starts_at in (clock.now() - timedelta(hours=2), clock.now()):
        with pytest.raises(MeetingInPast) as refused:
            await panels.schedule_panel_meeting(
                uow=world.container.uow(),
                actor=world.actor(Role.PANEL_COORDINATOR),
                data=PanelMeetingCreate(site_id=world.sites["HER"].id, starts_at=starts_at),
            )
        assert refused.value.details["field"] == "starts_at"
        assert error_message(refused.value, ENGLISH) == "The meeting must be in the future"
    assert await count(world.container, PanelMeeting) == 0


async def test_a_panel_action_due_yesterday_is_refused_and_one_due_today_is_added(
    world: World, clock: FixedClock
) -> None:
    case = await world.allocated_case()
    meeting_id = await _meeting_tomorrow(world, clock)
    coordinator = world.actor(Role.PANEL_COORDINATOR)
    today = clock.now().date()  # 09:00 UTC is the same day in London

    def action(due_on: date) -> PanelActionCreate:
        return PanelActionCreate(
            meeting_id=meeting_id,
            case_id=case.id,
            description="Fictional action: call the housing office",
            owner_user_id=coordinator.user_id,
            due_on=due_on,
        )

    with pytest.raises(ActionDueInPast) as refused:
        await panels.add_panel_action(
            uow=world.container.uow(), actor=coordinator, data=action(today - timedelta(days=1))
        )
    assert refused.value.details["field"] == "due_on"
    assert error_message(refused.value, ENGLISH) == "The due date must be today or in the future"
    assert await count(world.container, PanelAction) == 0

    added = await panels.add_panel_action(
        uow=world.container.uow(), actor=coordinator, data=action(today)
    )
    assert added.due_on == today
    assert await count(world.container, PanelAction) == 1
