"""One zone for everyone: with ``TIMEZONE`` set to a zone other than London, core's "today",
the bot's words and the web's words all count days in it (issue 18 item 5).

The clock stands late on a Sunday evening in New York, when it is already Monday in London:
the day the services show, and the day each face's translator dates "now" to, must be Sunday.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import delete

import webapp.container
from bot.context import translator_for
from core.bootstrap import Container, bootstrap
from core.clock import FixedClock
from core.db.base import Base
from core.enums import PlaceKind, Role
from core.schemas.appointments import AppointmentCreate
from core.services import appointments as appointment_services
from core.services import today
from core.settings import Settings
from tests.conftest import REFERENCE_TABLES
from tests.factories import World
from webapp.i18n import translator as web_translator

ZONE = "America/New_York"
SUNDAY = date(2026, 3, 1)
LATE_SUNDAY_IN_NEW_YORK = datetime(2026, 3, 2, 3, 30, tzinfo=UTC)  # 22:30 EST; 03:30 in London


@pytest.fixture
async def container(
    database_url: str, clock: FixedClock, tmp_path: Path
) -> AsyncIterator[Container]:
    """The shared fixture's container, in New York's zone."""
    settings = Settings(
        database_url=database_url, audit_checkpoint_dir=tmp_path / "checkpoints", timezone=ZONE
    )
    app = bootstrap(settings, clock=clock)
    yield app
    async with app.engine.begin() as connection:
        for table in reversed(Base.metadata.sorted_tables):
            if table.name not in REFERENCE_TABLES:
                await connection.execute(delete(table))
    await app.dispose()


async def test_core_the_bot_and_the_web_agree_on_today_in_the_configured_zone(
    world: World, clock: FixedClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    case = await world.allocated_case()
    clock.set(LATE_SUNDAY_IN_NEW_YORK)
    late_appointment = LATE_SUNDAY_IN_NEW_YORK + timedelta(minutes=45)  # 23:15 on Sunday there
    await appointment_services.book_appointment(
        uow=world.container.uow(),
        actor=world.actor(Role.CASE_MANAGER),
        data=AppointmentCreate(
            case_id=case.id,
            starts_at=late_appointment,
            ends_at=late_appointment + timedelta(minutes=30),
            place_kind=PlaceKind.OFFICE,
        ),
    )
    # The web backend's one container is this one, as in a process started with TIMEZONE set.
    monkeypatch.setattr(webapp.container, "_container", world.container)

    mine = await today.my_today(uow=world.container.uow(), actor=world.actor(Role.CASE_MANAGER))
    bot_words = translator_for(world.container, None)
    web_words = web_translator("en_GB")

    assert mine.my_day.day == SUNDAY
    assert [a.starts_at for a in mine.my_day.appointments] == [late_appointment]
    assert bot_words.local(clock.now()).date() == SUNDAY
    assert web_words.local(clock.now()).date() == SUNDAY
    assert web_words.format_time(late_appointment) == bot_words.format_time(late_appointment)
