"""Input a person could not have meant, met through the services on SQLite and PostgreSQL.

A contact dated in the future or before its case was referred, a year such as 0001 or 9999 in a
contact, a booking, an audit search or a report, and text too long or holding characters no
database can store: each is refused with its own typed error, naming the field, whose words a
person can act on; nothing is written, and nothing overflows.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from pydantic import ValidationError
from sqlalchemy import func, select

from core.bootstrap import Container
from core.clock import FixedClock
from core.enums import ContactType, PlaceKind, Role, WorkCategory
from core.errors import (
    ContactBeforeReferral,
    ContactInFuture,
    DateOutOfRange,
    TextTooLong,
    UnsavableText,
)
from core.models import Appointment, AuditEvent, Contact
from core.schemas.appointments import AppointmentCreate
from core.schemas.common import input_error, text_problem
from core.schemas.contacts import ContactCreate
from core.services import appointments as appointment_services
from core.services import audit as audit_services
from core.services import contacts as contact_services
from core.services import reports as report_services
from tests.factories import World
from ui.errors import error_message
from ui.i18n import Translator

ENGLISH = Translator("en_GB")
REAL_DATE = "Enter a real date, between the years 1900 and 2100."


async def count(container: Container, model: type) -> int:
    async with container.session_factory() as session:
        return await session.scalar(select(func.count()).select_from(model)) or 0


async def log(world: World, case_id: int, occurred_at: datetime) -> None:
    await contact_services.log_contact(
        uow=world.container.uow(),
        actor=world.actor(Role.CASE_MANAGER),
        data=ContactCreate(
            categories=frozenset({WorkCategory.SUPPORT}),
            case_id=case_id,
            occurred_at=occurred_at,
            contact_type=ContactType.FACE_TO_FACE,
            duration_minutes=30,
        ),
    )


# --- the date of a contact --------------------------------------------------------------------


async def test_a_contact_dated_tomorrow_is_refused_in_words_that_say_so(
    world: World, clock: FixedClock
) -> None:
    case = await world.allocated_case()

    with pytest.raises(ContactInFuture) as refused:
        await log(world, case.id, clock.now() + timedelta(days=1))

    assert refused.value.details["field"] == "occurred_at"
    assert error_message(refused.value, ENGLISH) == (
        "The date and time of the contact must be now or in the past. Check them and try again."
    )
    assert await count(world.container, Contact) == 0


async def test_a_contact_dated_before_the_case_was_referred_is_refused_naming_the_referral(
    world: World,
) -> None:
    case = await world.allocated_case()  # referred on 20 February 2026
    the_day_before = datetime(2026, 2, 19, 12, 0, tzinfo=UTC)

    with pytest.raises(ContactBeforeReferral) as refused:
        await log(world, case.id, the_day_before)

    assert refused.value.details["field"] == "occurred_at"
    assert "before 20 February 2026, when the case was referred" in error_message(
        refused.value, ENGLISH
    )
    assert await count(world.container, Contact) == 0
    # The referral day itself is within the case's life.
    await log(world, case.id, datetime(2026, 2, 20, 9, 0, tzinfo=UTC))
    assert await count(world.container, Contact) == 1


@pytest.mark.parametrize("year", [1, 9999])
async def test_a_contact_in_year_1_or_9999_is_asked_for_a_real_date(
    world: World, year: int
) -> None:
    case = await world.allocated_case()

    with pytest.raises(DateOutOfRange) as refused:
        await log(world, case.id, datetime(year, 12 if year == 9999 else 1, 31, 23, 0, tzinfo=UTC))

    assert refused.value.details["field"] == "occurred_at"
    assert error_message(refused.value, ENGLISH) == REAL_DATE
    assert await count(world.container, Contact) == 0


# --- year 9999 (and 0001) wherever a date is taken ----------------------------------------------


@pytest.mark.parametrize(
    "starts_at",
    [datetime(9999, 12, 31, 22, 0, tzinfo=UTC), datetime(1, 1, 1, 9, 0, tzinfo=UTC)],
    ids=["9999", "0001"],
)
async def test_an_appointment_in_year_9999_or_0001_is_not_booked(
    world: World, starts_at: datetime
) -> None:
    case = await world.allocated_case()

    with pytest.raises(DateOutOfRange) as refused:
        await appointment_services.book_appointment(
            uow=world.container.uow(),
            actor=world.actor(Role.CASE_MANAGER),
            data=AppointmentCreate(
                case_id=case.id,
                starts_at=starts_at,
                ends_at=starts_at + timedelta(hours=1),
                place_kind=PlaceKind.OFFICE,
            ),
        )

    assert error_message(refused.value, ENGLISH) == REAL_DATE
    assert await count(world.container, Appointment) == 0


@pytest.mark.parametrize(
    ("date_from", "date_to", "field"),
    [(None, date(9999, 12, 31), "date_to"), (date(1, 1, 1), None, "date_from")],
    ids=["to-9999-12-31", "from-0001-01-01"],
)
async def test_an_audit_search_to_year_9999_asks_for_a_real_date_instead_of_overflowing(
    world: World, date_from: date | None, date_to: date | None, field: str
) -> None:
    before = await count(world.container, AuditEvent)

    with pytest.raises(DateOutOfRange) as refused:
        await audit_services.search_audit(
            uow=world.container.uow(),
            actor=world.actor(Role.ADMIN),
            date_from=date_from,
            date_to=date_to,
        )

    assert refused.value.details["field"] == field
    assert error_message(refused.value, ENGLISH) == REAL_DATE
    assert await count(world.container, AuditEvent) == before  # no search on record


async def test_a_report_up_to_year_9999_asks_for_a_real_date_instead_of_overflowing(
    world: World,
) -> None:
    with pytest.raises(DateOutOfRange) as refused:
        await report_services.build_report(
            uow=world.container.uow(),
            actor=world.actor(Role.SERVICE_MANAGER),
            site_id=world.sites["HER"].id,
            period_from=date(2026, 1, 1),
            period_to=date(9999, 12, 31),
        )

    assert refused.value.details["field"] == "period_to"
    assert error_message(refused.value, ENGLISH) == REAL_DATE


# --- the text of a note -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("note", "refusal", "words"),
    [
        ("x" * 5001, TextTooLong, "The text must be 5,000 characters or fewer."),
        ("x" * 1_000_000, TextTooLong, "The text must be 5,000 characters or fewer."),
        ("before\x00after", UnsavableText, "The text has characters that cannot be saved."),
        ("before\ud800after", UnsavableText, "The text has characters that cannot be saved."),
    ],
    ids=["5001", "1MB", "nul", "lone-surrogate"],
)
async def test_a_note_too_long_or_unsavable_is_refused_for_the_note_in_its_own_words(
    world: World, note: str, refusal: type, words: str
) -> None:
    case = await world.allocated_case()

    with pytest.raises(ValidationError) as invalid:
        ContactCreate(
            categories=frozenset({WorkCategory.SUPPORT}),
            case_id=case.id,
            contact_type=ContactType.PHONE,
            duration_minutes=15,
            notes=note,
        )
    error = input_error(invalid.value)
    problem = text_problem(note, field="notes")

    for refused in (error, problem):
        assert isinstance(refused, refusal)
        assert refused.details["field"] == "notes"
        assert error_message(refused, ENGLISH).startswith(words)
    assert await count(world.container, Contact) == 0
    # 5,000 characters is a note that fits.
    assert text_problem("x" * 5000, field="notes") is None
    await contact_services.log_contact(
        uow=world.container.uow(),
        actor=world.actor(Role.CASE_MANAGER),
        data=ContactCreate(
            categories=frozenset({WorkCategory.SUPPORT}),
            case_id=case.id,
            contact_type=ContactType.PHONE,
            duration_minutes=15,
            notes="x" * 5000,
        ),
    )
    assert await count(world.container, Contact) == 1
