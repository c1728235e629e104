"""The permission matrix: every service operation x every role x where the record sits.

Each cell calls the real service against a real (SQLite) database and compares what happened
with ``core.policy``:

- the policy allows it: the call succeeds (and, for a listing, shows the record);
- the policy does not: the call is refused (``NotPermitted``, or ``NotFound`` where a service
  hides that a record exists elsewhere) and nothing at all is committed, or, for a listing,
  the record is simply not in it.

Every case built holds a victim, a child and case notes (see ``tests.policy_cases``); any
result that carries a victim's details to someone without ``victim.view``, or a note to someone
without ``case_notes.view``, fails, and every result that carries a victim's details must have
written an audit event for the case.

A meta-test fails when a public service function that takes an ``actor`` is missing from the
registry, so no new operation escapes the matrix.

The world is built once for the module on a SQLite file of its own (the policy does not depend
on the backend; the other integration tests cover PostgreSQL).
"""

from __future__ import annotations

import importlib
import inspect
import pkgutil
import sqlite3
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import select

import core.services
from core.bootstrap import Container, bootstrap
from core.clock import FixedClock
from core.db.engine import make_engine
from core.db.migrate import upgrade
from core.enums import Role
from core.errors import DomainError, NotFound, NotPermitted, ValidationFailed
from core.models import AuditEvent, Case, User
from core.policy import Action, is_allowed
from core.schemas.cases import CaseAllocate
from core.schemas.timeline import TimelineKind
from core.services import cases as case_services
from core.services import people, risk, timeline
from core.settings import Settings
from tests.conftest import START
from tests.factories import build_world
from tests.policy_cases import (
    NOT_POLICY_CHECKED,
    NOTES_SENTINEL,
    OPERATIONS,
    VICTIM_SENTINEL,
    Bench,
    Operation,
    Where,
)

REFUSALS = (NotPermitted, NotFound)


class _Database:
    def __init__(self, path: Path) -> None:
        # A connection of our own, outside the engine's pool: its ``data_version`` moves when
        # any other connection commits a change, so "nothing committed" is one pragma away.
        self._watch = sqlite3.connect(path)

    def version(self) -> int:
        return int(self._watch.execute("PRAGMA data_version").fetchone()[0])

    def refusals(self) -> list[tuple[object, ...]]:
        """The ``access.refused`` events: a refusal leaves one, in a transaction of its own."""
        return self._watch.execute(
            "SELECT actor_user_id, details FROM audit_events WHERE action = 'access.refused'"
            " ORDER BY seq"
        ).fetchall()

    def everything_but_refusals(self) -> list[tuple[object, ...]]:
        """Every row of every table, less the refusals on record and the chain head they move."""
        tables = [
            name
            for (name,) in self._watch.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name"
            )
            if name != "audit_chain_head"
        ]
        rows: list[tuple[object, ...]] = []
        for name in tables:
            where = " WHERE action != 'access.refused'" if name == "audit_events" else ""
            rows += [(name, *row) for row in self._watch.execute(f"SELECT * FROM {name}{where}")]
        return rows

    def close(self) -> None:
        self._watch.close()


@pytest.fixture(scope="module")
async def matrix(
    tmp_path_factory: pytest.TempPathFactory,
) -> AsyncIterator[tuple[Bench, _Database]]:
    path = tmp_path_factory.mktemp("policy_matrix") / "matrix.sqlite3"
    url = f"sqlite+aiosqlite:///{path}"
    engine = make_engine(url)
    await upgrade(engine)
    await engine.dispose()
    container: Container = bootstrap(Settings(database_url=url), clock=FixedClock(START))
    bench = Bench(container, await build_world(container))
    await bench.setup()
    database = _Database(path)
    yield bench, database
    database.close()
    await container.dispose()


def _cells() -> list[pytest.ParameterSet]:
    return [
        pytest.param(operation, role, where, id=f"{operation.name}-{role.value}-{where.value}")
        for operation in OPERATIONS
        for role in Role
        for where in operation.wheres
    ]


@pytest.mark.parametrize(("operation", "role", "where"), _cells())
async def test_each_operation_allows_what_the_policy_states_and_refuses_the_rest(
    matrix: tuple[Bench, _Database], operation: Operation, role: Role, where: Where
) -> None:
    bench, database = matrix
    actor = bench.actor(role)
    target = await operation.build(bench, actor, where)
    allowed = operation.allows(actor, target)
    version_before = database.version()
    data_before, refusals_before = database.everything_but_refusals(), database.refusals()
    refused: DomainError | None = None
    error: DomainError | None = None
    result = None
    try:
        result = await operation.call(bench, actor, target)
    except REFUSALS as caught:
        refused = caught
    except DomainError as caught:
        error = caught

    cell = f"{operation.name} as {role.value} on {where.value}"
    if allowed:
        assert refused is None, f"{cell}: the policy allows it, the service refused ({refused})"
        if error is not None:
            assert isinstance(error, operation.tolerated), f"{cell}: allowed, but {error!r}"
        elif operation.shows is not None:
            assert await operation.shows(bench, actor, target, result), (
                f"{cell}: the policy allows it, the result does not show the record"
            )
    else:
        assert error is None, f"{cell}: refused by the policy, but the service said {error!r}"
        if refused is None:
            assert operation.shows is not None, f"{cell}: the policy refuses it, it succeeded"
            assert not await operation.shows(bench, actor, target, result), (
                f"{cell}: the policy refuses it, the result shows the record"
            )
        elif isinstance(refused, NotPermitted):
            # Nothing but the refusal itself is committed (core.uow puts it on record).
            assert database.everything_but_refusals() == data_before, (
                f"{cell}: refused, yet it committed"
            )
            new = database.refusals()[len(refusals_before) :]
            assert [user for user, _ in new] == [actor.user_id], (
                f"{cell}: refused, but not put on record once ({new})"
            )
        else:
            assert database.version() == version_before, f"{cell}: refused, yet it committed"

    text = repr(result)
    if VICTIM_SENTINEL in text:
        assert is_allowed(actor, Action.VICTIM_VIEW, site_id=target.site_id), (
            f"{cell}: victims' details reached someone without victim.view"
        )
        # The case is fresh (built without audit events), so any event on it is this call's.
        assert await bench.audit_count(actor, target.case_id) > 0, (
            f"{cell}: victims' details were read and no audit event was written"
        )
    if NOTES_SENTINEL in text and operation.notes_by_design is None:
        assert is_allowed(
            actor,
            Action.CASE_NOTES_VIEW,
            site_id=target.site_id,
            case_manager_id=target.case_manager_id,
        ), f"{cell}: case notes reached someone without case_notes.view"


def _public_functions_taking_an_actor() -> set[str]:
    found = set()
    for module_info in pkgutil.iter_modules(core.services.__path__):
        module = importlib.import_module(f"core.services.{module_info.name}")
        for name, function in inspect.getmembers(module, inspect.iscoroutinefunction):
            if name.startswith("_") or function.__module__ != module.__name__:
                continue
            if "actor" in inspect.signature(function).parameters:
                found.add(f"{module_info.name}.{name}")
    return found


def test_every_public_service_function_taking_an_actor_is_in_the_matrix() -> None:
    registered = {operation.function for operation in OPERATIONS}
    missing = _public_functions_taking_an_actor() - registered - NOT_POLICY_CHECKED.keys()
    assert not missing, (
        "add these to tests/policy_cases.py OPERATIONS (or, with the reason, to "
        f"NOT_POLICY_CHECKED): {sorted(missing)}"
    )


def test_the_matrix_names_only_functions_that_exist() -> None:
    existing = _public_functions_taking_an_actor()
    stale = (
        {operation.function for operation in OPERATIONS} | NOT_POLICY_CHECKED.keys()
    ) - existing
    assert not stale, f"registered but gone: {sorted(stale)}"


def test_the_matrix_tries_every_role_at_the_own_and_the_other_site_of_each_operation() -> None:
    names = [operation.name for operation in OPERATIONS]
    assert len(names) == len(set(names))
    for operation in OPERATIONS:
        if Where.ANYWHERE in operation.wheres:
            continue
        assert Where.OWN_SITE in operation.wheres and Where.OTHER_SITE in operation.wheres


async def test_the_watch_on_the_database_sees_a_commit_from_the_services_own_connections(
    matrix: tuple[Bench, _Database],
) -> None:
    bench, database = matrix
    before = database.version()
    await bench.case(bench.actor(Role.CASE_MANAGER), Where.OWN_SITE)
    assert database.version() != before


# --- victims and children: IDVAs, service managers and admins only, and every view audited ---


async def test_only_idvas_service_managers_and_admins_see_victims_and_every_view_is_audited(
    matrix: tuple[Bench, _Database],
) -> None:
    bench, _ = matrix
    seen_by = set()
    for role in Role:
        actor = bench.actor(role)
        for where in (Where.OWN_SITE, Where.OTHER_SITE):
            target = await bench.case(actor, where)
            try:
                people_read = (
                    await people.case_people(uow=bench.uow(), actor=actor, case_id=target.id or 0)
                ).current
            except NotPermitted:
                continue
            seen_by.add((role, where))
            assert {person.name for person in people_read} == {
                f"{VICTIM_SENTINEL} Adult",
                f"{VICTIM_SENTINEL} Child",
            }
            events = await bench.scalar(
                select(AuditEvent.details).where(
                    AuditEvent.actor_user_id == actor.user_id,
                    AuditEvent.case_id == target.case_id,
                    AuditEvent.action == "victim.view",
                )
            )
            assert events is not None and len(events["linked_person_ids"]) == 2
            assert VICTIM_SENTINEL not in repr(events)
    assert seen_by == {
        (Role.IDVA, Where.OWN_SITE),
        (Role.SERVICE_MANAGER, Where.OWN_SITE),
        (Role.ADMIN, Where.OWN_SITE),
    }


async def test_a_case_read_gives_the_number_of_linked_people_never_their_details(
    matrix: tuple[Bench, _Database],
) -> None:
    bench, _ = matrix
    actor = bench.actor(Role.CASE_MANAGER)
    target = await bench.case(actor, Where.MY_CASE)
    case = await case_services.get_case(uow=bench.uow(), actor=actor, case_id=target.id or 0)
    assert case.linked_people_count == 2
    assert VICTIM_SENTINEL not in repr(case)


# --- case notes: the staff who work the case, not panel coordinators or admins ---------------


@pytest.mark.parametrize("role", [Role.PANEL_COORDINATOR, Role.ADMIN])
async def test_panel_coordinators_and_admins_see_that_work_happened_not_what_was_said(
    matrix: tuple[Bench, _Database], role: Role
) -> None:
    bench, _ = matrix
    actor = bench.actor(role)
    target = await bench.case(actor, Where.OWN_SITE)
    case_id = target.id or 0
    history = await risk.risk_history(uow=bench.uow(), actor=actor, case_id=case_id)
    entries = await timeline.case_timeline(uow=bench.uow(), actor=actor, case_id=case_id)
    contact_list = [e for e in entries if e.kind is TimelineKind.CONTACT]
    assert [(c.notes, c.next_steps, c.notes_withheld) for c in contact_list] == [(None, None, True)]
    assert [(r.level, r.reason, r.reason_withheld) for r in history] == [("high", None, True)]
    assert NOTES_SENTINEL not in repr(entries)


@pytest.mark.parametrize("role", [Role.CASE_MANAGER, Role.SERVICE_MANAGER, Role.IDVA])
async def test_the_staff_who_work_the_case_read_its_notes(
    matrix: tuple[Bench, _Database], role: Role
) -> None:
    bench, _ = matrix
    actor = bench.actor(role)
    target = await bench.case(actor, Where.OWN_SITE)
    case_id = target.id or 0
    entries = await timeline.case_timeline(uow=bench.uow(), actor=actor, case_id=case_id)
    contact_list = [e for e in entries if e.kind is TimelineKind.CONTACT]
    history = await risk.risk_history(uow=bench.uow(), actor=actor, case_id=case_id)
    assert [(c.notes, c.notes_withheld) for c in contact_list] == [
        (f"{NOTES_SENTINEL} contact note", False)
    ]
    assert [(r.reason, r.reason_withheld) for r in history] == [
        (f"{NOTES_SENTINEL} risk reason", False)
    ]


# --- allocation: only to an active case manager at the case's site --------------------------


async def _allocate_to(bench: Bench, case_manager_id: int) -> None:
    manager = bench.actor(Role.SERVICE_MANAGER)
    target = await bench.case(manager, Where.OWN_SITE, allocated=False)
    await case_services.allocate_case(
        uow=bench.uow(),
        actor=manager,
        case_id=target.id or 0,
        data=CaseAllocate(version=1, case_manager_id=case_manager_id),
    )


async def test_a_case_cannot_be_allocated_to_someone_who_is_not_a_case_manager_at_its_site(
    matrix: tuple[Bench, _Database],
) -> None:
    bench, _ = matrix
    for not_here in (
        bench.world.actor(Role.CASE_MANAGER, "WOR").user_id,  # a case manager elsewhere
        bench.world.actor(Role.IDVA, "HER").user_id,  # here, but not a case manager
    ):
        with pytest.raises(ValidationFailed) as refused:
            await _allocate_to(bench, not_here)
        assert refused.value.details == {
            "field": "case_manager_id",
            "rule": "not_a_case_manager_at_site",
        }


async def test_a_case_cannot_be_allocated_to_a_switched_off_account(
    matrix: tuple[Bench, _Database],
) -> None:
    bench, _ = matrix
    leaver = await bench.world.add_actor("leaver.her@test.invalid", [("HER", Role.CASE_MANAGER)])
    async with bench.uow() as uow:
        user = await uow.session.get(User, leaver.user_id)
        assert user is not None
        user.is_active = False
        await uow.commit()
    with pytest.raises(ValidationFailed) as refused:
        await _allocate_to(bench, leaver.user_id)
    assert refused.value.details["field"] == "case_manager_id"
    stuck = await bench.scalar(select(Case.id).where(Case.case_manager_id == leaver.user_id))
    assert stuck is None
