"""Two people editing one case at once: the second is told to reload, nobody's change is lost.

Optimistic locking works at two levels: ``update_case`` compares the version the editor read
with the stored one (the explicit check), and the ``version`` column makes the UPDATE itself
conditional (``WHERE version = :read``), which catches the race the explicit check cannot see
because both writers passed it before either committed. Both are tested on SQLite and
PostgreSQL, the second with real concurrent connections.
"""

from __future__ import annotations

import asyncio
from contextlib import AsyncExitStack

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.exc import StaleDataError

from core.bootstrap import Container
from core.enums import Role
from core.errors import DuplicateReference, StaleVersion
from core.models import AuditEvent, Case
from core.schemas.actor import Actor
from core.schemas.cases import CaseRead, CaseUpdate
from core.services import cases as case_services
from core.uow import UnitOfWork
from tests.factories import World


async def stored_case(container: Container, case_id: int) -> Case:
    async with container.session_factory() as session:
        case = await session.get(Case, case_id)
        assert case is not None
        return case


async def case_updates_recorded(container: Container, case_id: int) -> int:
    async with container.session_factory() as session:
        return (
            await session.scalar(
                select(func.count())
                .select_from(AuditEvent)
                .where(AuditEvent.action == "case.update", AuditEvent.case_id == case_id)
            )
            or 0
        )


async def read(world: World, actor: Actor, case_id: int) -> CaseRead:
    return await case_services.get_case(uow=world.container.uow(), actor=actor, case_id=case_id)


async def edit(world: World, actor: Actor, case_id: int, data: CaseUpdate) -> CaseRead:
    return await case_services.update_case(
        uow=world.container.uow(), actor=actor, case_id=case_id, data=data
    )


# --- (a) two editors, one after the other ---------------------------------------------------


async def test_the_second_of_two_editors_who_read_the_same_version_is_told_to_reload(
    world: World,
) -> None:
    case = await world.allocated_case()
    case_manager, service_manager = (
        world.actor(Role.CASE_MANAGER),
        world.actor(Role.SERVICE_MANAGER),
    )
    first_view = await read(world, case_manager, case.id)
    second_view = await read(world, service_manager, case.id)
    assert first_view.version == second_view.version == case.version

    saved = await edit(
        world,
        case_manager,
        case.id,
        CaseUpdate(version=first_view.version, subject_name="Name from the first editor"),
    )
    with pytest.raises(StaleVersion) as stale:
        await edit(
            world,
            service_manager,
            case.id,
            CaseUpdate(version=second_view.version, subject_name="Name from the second editor"),
        )

    assert saved.version == case.version + 1
    assert stale.value.details == {
        "reference": case.reference,
        "current": case.version + 1,
        "given": case.version,
    }
    stored = await stored_case(world.container, case.id)
    assert (stored.subject_name, stored.version) == ("Name from the first editor", saved.version)
    assert await case_updates_recorded(world.container, case.id) == 1


async def test_the_second_editor_reloads_and_both_changes_are_kept(world: World) -> None:
    case = await world.allocated_case()
    case_manager, service_manager = (
        world.actor(Role.CASE_MANAGER),
        world.actor(Role.SERVICE_MANAGER),
    )
    stale_view = await read(world, service_manager, case.id)
    await edit(
        world, case_manager, case.id, CaseUpdate(version=case.version, subject_name="A Person")
    )
    with pytest.raises(StaleVersion):
        await edit(
            world, service_manager, case.id, CaseUpdate(version=stale_view.version, dash_score=7)
        )

    fresh_view = await read(world, service_manager, case.id)
    await edit(
        world, service_manager, case.id, CaseUpdate(version=fresh_view.version, dash_score=7)
    )

    stored = await stored_case(world.container, case.id)
    assert (stored.subject_name, stored.dash_score, stored.version) == (
        "A Person",
        7,
        case.version + 2,
    )


# --- (b) a race below the explicit check ----------------------------------------------------


async def test_when_two_units_of_work_change_one_loaded_case_the_second_commit_is_stale(
    world: World,
) -> None:
    case = await world.allocated_case()

    async with AsyncExitStack() as stack:
        first = await stack.enter_async_context(world.container.uow())
        second = await stack.enter_async_context(world.container.uow())
        first_copy = await first.session.get(Case, case.id)
        second_copy = await second.session.get(Case, case.id)
        assert first_copy is not None and second_copy is not None
        assert first_copy.version == second_copy.version == case.version
        first_copy.subject_name = "Written first"
        second_copy.subject_name = "Written second"

        await first.commit()
        with pytest.raises(StaleVersion):
            await second.commit()

    stored = await stored_case(world.container, case.id)
    assert (stored.subject_name, stored.version) == ("Written first", case.version + 1)


async def test_a_stale_row_found_by_a_raw_session_flush_still_surfaces_as_stale_version(
    world: World,
) -> None:
    case = await world.allocated_case()

    with pytest.raises(StaleVersion) as stale:
        async with world.container.uow() as uow:
            loaded = await uow.session.get(Case, case.id)
            assert loaded is not None
            # Someone else saves through the service while this copy is held.
            await edit(
                world,
                world.actor(Role.SERVICE_MANAGER),
                case.id,
                CaseUpdate(version=case.version, dash_score=15),
            )
            loaded.dash_score = 3
            await uow.session.flush()  # past the UnitOfWork's own flush: a raw StaleDataError

    assert isinstance(stale.value.__cause__, StaleDataError)
    stored = await stored_case(world.container, case.id)
    assert (stored.dash_score, stored.version) == (15, case.version + 1)


class HeldAtCommit(UnitOfWork):
    """A unit of work that waits at a barrier before committing.

    Every writer has loaded the case and passed the service's explicit version check by the
    time it reaches the barrier, so only the conditional UPDATE can tell them apart.
    """

    def __init__(self, container: Container, barrier: asyncio.Barrier) -> None:
        super().__init__(container.session_factory, container.clock)
        self._barrier = barrier

    async def commit(self) -> None:
        await self._barrier.wait()
        await super().commit()


async def test_two_editors_who_both_pass_the_version_check_cannot_both_commit(
    world: World,
) -> None:
    case = await world.allocated_case()
    barrier = asyncio.Barrier(2)
    editors = {
        "case manager": world.actor(Role.CASE_MANAGER),
        "service manager": world.actor(Role.SERVICE_MANAGER),
    }

    async def save(who: str) -> CaseRead:
        return await case_services.update_case(
            uow=HeldAtCommit(world.container, barrier),
            actor=editors[who],
            case_id=case.id,
            data=CaseUpdate(version=case.version, subject_name=f"Saved by the {who}"),
        )

    outcomes = await asyncio.wait_for(
        asyncio.gather(*(save(who) for who in editors), return_exceptions=True), timeout=60
    )

    saved = [o for o in outcomes if isinstance(o, CaseRead)]
    stale = [o for o in outcomes if isinstance(o, StaleVersion)]
    assert (len(saved), len(stale)) == (1, 1), outcomes
    assert saved[0].version == case.version + 1
    stored = await stored_case(world.container, case.id)
    assert (stored.subject_name, stored.version) == (saved[0].subject_name, case.version + 1)
    assert await case_updates_recorded(world.container, case.id) == 1


# --- (c) many editors at once ---------------------------------------------------------------

EDITORS = 8


async def test_many_concurrent_editors_get_exactly_one_success_per_version(world: World) -> None:
    referral = await world.referral()
    assert referral.version == 1
    manager = world.actor(Role.SERVICE_MANAGER)

    async def read_then_write(editor: int) -> tuple[int, CaseRead | BaseException]:
        view = await read(world, manager, referral.id)
        try:
            saved = await edit(
                world,
                manager,
                referral.id,
                CaseUpdate(version=view.version, subject_name=f"Editor {editor}"),
            )
        except StaleVersion as error:
            return view.version, error
        return view.version, saved

    outcomes = await asyncio.wait_for(
        asyncio.gather(*(read_then_write(editor) for editor in range(EDITORS))), timeout=120
    )

    wins = sorted(
        (read_version, result) for read_version, result in outcomes if isinstance(result, CaseRead)
    )
    losses = [result for _, result in outcomes if not isinstance(result, CaseRead)]
    assert all(isinstance(loss, StaleVersion) for loss in losses), losses
    assert len(wins) + len(losses) == EDITORS
    assert len(wins) >= 1
    # Each version was written at most once, and the winners' versions follow one another.
    assert [read_version for read_version, _ in wins] == list(range(1, len(wins) + 1))
    assert [saved.version for _, saved in wins] == list(range(2, len(wins) + 2))
    stored = await stored_case(world.container, referral.id)
    assert stored.version == 1 + len(wins)
    assert stored.subject_name == wins[-1][1].subject_name
    assert await case_updates_recorded(world.container, referral.id) == len(wins)


async def test_many_editors_who_all_read_before_anyone_writes_get_one_success(
    world: World,
) -> None:
    referral = await world.referral()
    manager = world.actor(Role.SERVICE_MANAGER)
    everyone_has_read = asyncio.Barrier(EDITORS)

    async def read_wait_write(editor: int) -> CaseRead:
        view = await read(world, manager, referral.id)
        await everyone_has_read.wait()
        return await edit(
            world,
            manager,
            referral.id,
            CaseUpdate(version=view.version, subject_name=f"Editor {editor}"),
        )

    outcomes = await asyncio.wait_for(
        asyncio.gather(*(read_wait_write(e) for e in range(EDITORS)), return_exceptions=True),
        timeout=120,
    )

    saved = [o for o in outcomes if isinstance(o, CaseRead)]
    assert len(saved) == 1
    assert all(isinstance(o, StaleVersion) for o in outcomes if o is not saved[0]), outcomes
    stored = await stored_case(world.container, referral.id)
    assert (stored.version, stored.subject_name) == (2, saved[0].subject_name)
    assert await case_updates_recorded(world.container, referral.id) == 1


async def test_editors_who_reload_after_a_stale_refusal_all_get_their_change_in(
    world: World,
) -> None:
    referral = await world.referral()
    manager = world.actor(Role.SERVICE_MANAGER)

    async def save_with_retries(editor: int) -> int:
        for attempt in range(1, 10 * EDITORS):
            view = await read(world, manager, referral.id)
            try:
                await edit(
                    world,
                    manager,
                    referral.id,
                    CaseUpdate(version=view.version, subject_name=f"Editor {editor}"),
                )
            except StaleVersion:
                await asyncio.sleep(0)
                continue
            return attempt
        raise AssertionError(f"editor {editor} never got a save in")

    attempts = await asyncio.wait_for(
        asyncio.gather(*(save_with_retries(e) for e in range(EDITORS))), timeout=120
    )

    assert all(attempt >= 1 for attempt in attempts)
    stored = await stored_case(world.container, referral.id)
    assert stored.version == 1 + EDITORS
    assert await case_updates_recorded(world.container, referral.id) == EDITORS


# --- two referrals at one site at the same moment -------------------------------------------


class HeldAtFirstFlush(UnitOfWork):
    """Waits (briefly) for the other writer at its first flush, after reading the references.

    Both referrals have then chosen their reference before either is written. The wait gives
    up after a few seconds, so a fix that serialises the writers (a lock) is not deadlocked.
    """

    def __init__(self, container: Container, barrier: asyncio.Barrier) -> None:
        super().__init__(container.session_factory, container.clock)
        self._barrier = barrier
        self._waited = False

    async def flush(self) -> None:
        if not self._waited:
            self._waited = True
            try:
                await asyncio.wait_for(self._barrier.wait(), timeout=3)
            except (TimeoutError, asyncio.BrokenBarrierError):
                pass
        await super().flush()


async def test_two_referrals_recorded_at_the_same_moment_at_one_site_get_different_references(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    barrier = asyncio.Barrier(2)
    container = world.container
    monkeypatch.setattr(container, "uow", lambda: HeldAtFirstFlush(container, barrier))

    created = await asyncio.wait_for(asyncio.gather(world.referral(), world.referral()), 60)

    assert sorted(case.reference for case in created) == ["HER-0001", "HER-0002"]


async def test_the_same_reference_given_twice_at_the_same_moment_is_refused_once_as_duplicate(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    barrier = asyncio.Barrier(2)
    container = world.container
    monkeypatch.setattr(container, "uow", lambda: HeldAtFirstFlush(container, barrier))

    outcomes = await asyncio.wait_for(
        asyncio.gather(
            world.referral(reference="HER-0100"),
            world.referral(reference="HER-0100"),
            return_exceptions=True,
        ),
        60,
    )

    for outcome in outcomes:
        if isinstance(outcome, IntegrityError):
            raise outcome
    assert sorted(type(outcome).__name__ for outcome in outcomes) == [
        "CaseRead",
        DuplicateReference.__name__,
    ]
