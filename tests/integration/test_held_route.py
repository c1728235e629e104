"""``POST /api/held`` (webapp.held): a save held on a phone, sent when the signal returns, is
read by the log-contact page's own rules, answered in the person's language, and logged once.
An appointment's outcome the same way. In process against the test database, on SQLite and
PostgreSQL."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from typing import Any

import httpx
import pytest

from core import sealing
from core.bootstrap import Container
from core.clock import DEFAULT_ZONE
from core.enums import Face, Locale, PlaceKind, Role, WorkCategory
from core.schemas.appointments import AppointmentCreate
from core.services import appointments
from core.services import users as user_services
from tests.factories import World
from tests.integration.test_auth import add_account, signed_in_token
from tests.integration.test_client_keys import events, stored_contacts
from webapp import backend
from webapp import container as web_container
from webapp import held as held_route
from webapp.state import SESSION_COOKIE


@pytest.fixture
async def api(
    container: Container, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[httpx.AsyncClient]:
    """The backend's routes with this test's container (no origin guard: no Origin is sent)."""
    monkeypatch.setattr(web_container, "_container", container)
    transport = httpx.ASGITransport(app=backend.api())
    async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1") as client:
        yield client


async def a_case_and_a_session(world: World) -> tuple[int, str]:
    """A case allocated to a case manager who is signed in on the web; its id and the token."""
    user_id = await add_account(world.container)
    manager = await user_services.actor_for_email(
        uow=world.container.uow(), email="casey@test.invalid", face=Face.WEB
    )
    assert manager.user_id == user_id
    case = await world.allocated_case(case_manager=manager)
    return case.id, await signed_in_token(world.container)


def signed_in(token: str) -> dict[str, str]:
    return {"cookie": f"{SESSION_COOKIE}={token}"}


def held(case_id: int, key: uuid.UUID, **fields: str) -> dict[str, Any]:
    form = {
        "case": str(case_id),
        "contact_type": "phone",
        "minutes": "45",
        "contact_date_day": "2", "contact_date_month": "3", "contact_date_year": "2026",
        "contact_time": "08:30",
        f"category-{WorkCategory.SUPPORT.value}": "yes",
    } | fields  # fmt: skip
    return {"kind": "contact", "client_key": str(key), "fields": form}


async def test_a_held_contact_sent_twice_is_saved_once(
    world: World, api: httpx.AsyncClient
) -> None:
    case_id, token = await a_case_and_a_session(world)
    entry = held(case_id, uuid.uuid4())

    first = await api.post("/api/held", json=entry, headers=signed_in(token))
    again = await api.post("/api/held", json=entry, headers=signed_in(token))

    assert (first.status_code, first.json()["status"]) == (200, "saved")
    assert (again.status_code, again.json()) == (200, first.json())
    assert await stored_contacts(world.container, case_id) == 1


async def test_a_body_over_the_limit_is_refused_unread_and_nothing_is_saved(
    world: World, api: httpx.AsyncClient
) -> None:
    case_id, token = await a_case_and_a_session(world)
    entry = held(case_id, uuid.uuid4(), note="x" * (held_route.MAX_BODY_BYTES + 1))

    answer = await api.post("/api/held", json=entry, headers=signed_in(token))

    assert (answer.status_code, answer.json()["status"]) == (413, "too_large")
    assert await stored_contacts(world.container, case_id) == 0


async def test_a_held_contact_the_form_would_refuse_is_answered_field_by_field_in_welsh(
    world: World, api: httpx.AsyncClient
) -> None:
    case_id, token = await a_case_and_a_session(world)
    manager = await user_services.actor_for_email(
        uow=world.container.uow(), email="casey@test.invalid", face=Face.WEB
    )
    await user_services.set_my_locale(uow=world.container.uow(), actor=manager, locale=Locale.CY)
    entry = held(case_id, uuid.uuid4(), **{f"category-{WorkCategory.SUPPORT.value}": ""})
    entry["fields"]["contact_time"] = "25:99"

    answer = await api.post("/api/held", json=entry, headers=signed_in(token))

    assert answer.status_code == 422
    problems = {p["field"]: p["message"] for p in answer.json()["problems"]}
    assert set(problems) == {f"category-{WorkCategory.DISRUPTION.value}", "contact_date"}
    assert "Rhowch ddyddiad" in problems["contact_date"], problems  # the page's own words
    assert await stored_contacts(world.container, case_id) == 0


async def test_without_a_live_session_nothing_is_saved_and_the_phone_keeps_it(
    world: World, api: httpx.AsyncClient
) -> None:
    case_id, _token = await a_case_and_a_session(world)

    answer = await api.post("/api/held", json=held(case_id, uuid.uuid4()))
    key = await api.post("/api/held/key")

    assert (answer.status_code, answer.json()["status"]) == (401, "signed_out")
    assert key.status_code == 401
    assert await stored_contacts(world.container, case_id) == 0


async def test_each_person_gets_their_own_device_key_and_the_same_one_in_every_session(
    world: World, api: httpx.AsyncClient
) -> None:
    _case_id, token = await a_case_and_a_session(world)
    first = (await api.post("/api/held/key", headers=signed_in(token))).json()
    world.container.clock.advance(timedelta(seconds=30))  # a new code for the second sign-in
    again = await api.post(
        "/api/held/key", headers=signed_in(await signed_in_token(world.container))
    )

    assert again.json() == first
    someone_else = sealing.device_key(world.actor(Role.CASE_MANAGER).user_id)
    assert someone_else.owner != first["owner"]


async def test_a_held_appointment_outcome_sent_twice_is_recorded_once(
    world: World, api: httpx.AsyncClient
) -> None:
    case_id, token = await a_case_and_a_session(world)
    manager = await user_services.actor_for_email(
        uow=world.container.uow(), email="casey@test.invalid", face=Face.WEB
    )
    starts = world.container.clock.now() + timedelta(minutes=1)
    booked = await appointments.book_appointment(
        uow=world.container.uow(),
        actor=manager,
        data=AppointmentCreate(
            case_id=case_id,
            starts_at=starts,
            ends_at=starts + timedelta(minutes=30),
            place_kind=PlaceKind.OFFICE,
        ),
    )
    world.container.clock.advance(timedelta(minutes=2))  # type: ignore[attr-defined]
    answer = {
        "kind": "outcome",
        "client_key": str(uuid.uuid4()),
        "fields": {"appointment": str(booked.id), "status": "attended", "note": ""},
    }

    first = await api.post("/api/held", json=answer, headers=signed_in(token))
    again = await api.post("/api/held", json=answer, headers=signed_in(token))

    assert (first.status_code, again.status_code) == (200, 200)
    assert await events(world.container, "appointment.outcome", case_id) == 1


def held_booking(case_id: int, key: uuid.UUID, starts: datetime) -> dict[str, Any]:
    local = starts.astimezone(DEFAULT_ZONE)
    return {
        "kind": "booking",
        "client_key": str(key),
        "fields": {
            "case": str(case_id),
            "appointment_date_day": str(local.day),
            "appointment_date_month": str(local.month),
            "appointment_date_year": str(local.year),
            "appointment_time": local.strftime("%H:%M"),
            "minutes": "45",
            "place_kind": PlaceKind.HOME_VISIT.value,
        },
    }


async def test_a_held_booking_sent_twice_books_once_and_one_over_a_clash_is_sent_back(
    world: World, api: httpx.AsyncClient
) -> None:
    case_id, token = await a_case_and_a_session(world)
    starts = (world.container.clock.now() + timedelta(days=2)).replace(
        minute=0, second=0, microsecond=0
    )
    entry = held_booking(case_id, uuid.uuid4(), starts)

    first = await api.post("/api/held", json=entry, headers=signed_in(token))
    again = await api.post("/api/held", json=entry, headers=signed_in(token))

    assert (first.status_code, first.json()["status"]) == (200, "saved")
    assert (again.status_code, again.json()) == (200, first.json())
    assert await events(world.container, "appointment.book", case_id) == 1

    # Another booking at the same time, made on a phone without signal: nothing is booked, and
    # the phone is told to put it back in the form, where the clash can be seen and decided.
    clashing = await api.post(
        "/api/held", json=held_booking(case_id, uuid.uuid4(), starts), headers=signed_in(token)
    )
    assert clashing.status_code == 422
    assert clashing.json()["problems"] == [
        {"field": "appointment_date", "message": held_route.HELD_BOOKING_CLASHES}
    ]
    assert await events(world.container, "appointment.book", case_id) == 1
