"""Inputs that cannot hurt: core services fed random unicode, 10 kB strings, forged ids and ids
from another site, on SQLite and PostgreSQL.

Every call either succeeds within the actor's permissions or fails with a pydantic validation
error at the schema (what a face turns into "these values are not valid") or a typed
``DomainError`` with a code. Nothing else escapes, and a refusal writes nothing.
"""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import ValidationError
from sqlalchemy import func, select

from core.enums import ContactType, Role, WorkCategory
from core.errors import DomainError, NotFound, NotPermitted, SignInFailed, ValidationFailed
from core.models import AuditEvent, Contact
from core.schemas.contacts import ContactCreate
from core.services import auth as auth_services
from core.services import cases as case_services
from core.services import contacts as contact_services
from core.services import people as people_services
from core.services import sar as sar_services
from tests.factories import World

EXAMPLES = settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
# NUL included: input models refuse it and raw-text lookups match nothing (PostgreSQL cannot
# store or compare it).
_chars = st.characters()
any_text = st.one_of(
    st.text(_chars, max_size=200),
    # 10 kB and more: a random piece repeated (Hypothesis draws no text that long by itself).
    st.builds(
        lambda piece, n: (piece or "x") * n,
        st.text(_chars, min_size=1, max_size=8),
        st.integers(1300, 10_500),
    ),
    st.sampled_from(["", " ", "\t\n", "HER-0001", "' OR 1=1 --", "<script>x</script>", "%_%"]),
)
forged_id = st.one_of(st.integers(min_value=-(2**31), max_value=2**31 - 1), st.just(0))


async def _count(world: World, model: Any) -> int:
    async with world.container.uow() as uow:
        return int(await uow.session.scalar(select(func.count()).select_from(model)) or 0)


@pytest.fixture
async def cases_here_and_there(world: World) -> tuple[int, int]:
    here = await world.allocated_case("HER")
    there = await world.allocated_case("WOR")
    return here.id, there.id


@EXAMPLES
@given(
    which=st.sampled_from(["own", "other_site", "forged"]),
    forged=forged_id,
    notes=any_text,
    next_steps=any_text,
    minutes=st.integers(min_value=-(10**6), max_value=10**6),
    topics=st.lists(any_text, max_size=14),
)
async def test_logging_a_contact_with_any_input_succeeds_in_scope_or_fails_with_a_code(
    world: World,
    cases_here_and_there: tuple[int, int],
    which: str,
    forged: int,
    notes: str,
    next_steps: str,
    minutes: int,
    topics: list[str],
) -> None:
    own, other = cases_here_and_there
    case_id = {"own": own, "other_site": other, "forged": forged}[which]
    before = await _count(world, Contact)
    try:
        data = ContactCreate(
            categories=frozenset({WorkCategory.SUPPORT}),
            case_id=case_id,
            contact_type=ContactType.PHONE,
            duration_minutes=minutes,
            notes=notes,
            next_steps=next_steps,
            topics=topics,
        )
    except ValidationError as error:
        assert error.errors()  # each refused field is named for the face's message
        assert await _count(world, Contact) == before
        return
    try:
        read = await contact_services.log_contact(
            uow=world.container.uow(), actor=world.actor(Role.CASE_MANAGER), data=data
        )
    except DomainError as error:
        assert error.code in {NotFound.code, NotPermitted.code, ValidationFailed.code}
        assert await _count(world, Contact) == before
        if which == "other_site":
            assert isinstance(error, NotPermitted)
        return
    assert case_id == own  # only the actor's own case can take a contact
    assert read.notes == (notes.strip() or None) or read.notes == notes.strip()
    assert await _count(world, Contact) == before + 1


@EXAMPLES
@given(reference=any_text)
async def test_finding_a_case_by_any_text_returns_a_visible_case_or_not_found(
    world: World, cases_here_and_there: tuple[int, int], reference: str
) -> None:
    actor = world.actor(Role.CASE_MANAGER)
    try:
        found = await case_services.find_case(
            uow=world.container.uow(), actor=actor, reference=reference
        )
    except DomainError as error:
        assert error.code in {NotFound.code, ValidationFailed.code}
        return
    assert found.site_id in actor.site_ids


@EXAMPLES
@given(reference=any_text, site=st.sampled_from(["HER", "WOR"]))
async def test_a_subject_access_export_of_any_text_is_in_scope_or_refused_and_unaudited(
    world: World, cases_here_and_there: tuple[int, int], reference: str, site: str
) -> None:
    before = await _count(world, AuditEvent)
    try:
        bundle = await sar_services.export_subject_access(
            uow=world.container.uow(), actor=world.actor(Role.ADMIN, site), reference=reference
        )
    except DomainError as error:
        assert error.code in {NotFound.code, ValidationFailed.code}
        assert await _count(world, AuditEvent) == before
        return
    assert bundle.subject.site_code == site
    assert await _count(world, AuditEvent) == before + 1


@EXAMPLES
@given(
    role=st.sampled_from(list(Role)), which=st.sampled_from(["own", "other_site", "forged"]),
    forged=forged_id,
)  # fmt: skip
async def test_victims_are_listed_only_to_the_roles_allowed_at_the_case_site(
    world: World, cases_here_and_there: tuple[int, int], role: Role, which: str, forged: int
) -> None:
    own, other = cases_here_and_there
    case_id = {"own": own, "other_site": other, "forged": forged}[which]
    try:
        await people_services.case_people(
            uow=world.container.uow(), actor=world.actor(role), case_id=case_id
        )
    except DomainError as error:
        assert error.code in {NotFound.code, NotPermitted.code}
        return
    assert which == "own"
    assert role in {Role.IDVA, Role.SERVICE_MANAGER, Role.ADMIN}


async def test_a_nul_character_is_refused_before_the_database(
    world: World, cases_here_and_there: tuple[int, int]
) -> None:
    """PostgreSQL can neither store nor compare text holding NUL: input models refuse it with
    a validation message, and lookups by raw text treat it as matching nothing."""
    own, _other = cases_here_and_there
    before = await _count(world, Contact)
    with pytest.raises(ValidationError, match="NUL"):
        ContactCreate(
            categories=frozenset({WorkCategory.SUPPORT}),
            case_id=own,
            contact_type=ContactType.PHONE,
            duration_minutes=5,
            notes="a\x00b",
        )
    with pytest.raises(ValidationError, match="NUL"):
        ContactCreate(
            categories=frozenset({WorkCategory.SUPPORT}),
            case_id=own,
            contact_type=ContactType.PHONE,
            duration_minutes=5,
            topics=["x\x00"],
        )
    with pytest.raises(NotFound):
        await case_services.find_case(
            uow=world.container.uow(), actor=world.actor(Role.CASE_MANAGER), reference="HER-\x00"
        )
    with pytest.raises(SignInFailed):
        await auth_services.sign_in(
            uow=world.container.uow(),
            email="a\x00@b.test",
            password="x",
            totp_code="000000",
            client="192.0.2.1\x00",  # hashed, never stored as typed
        )
    assert await _count(world, Contact) == before
