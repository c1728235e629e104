"""The benchmark loader at its tiny scale, into a fresh database on SQLite and PostgreSQL."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import func, inspect, select

from bench.caseload import actor_for, fetch_caseload_raw, raw_rows_as_caseload
from core.bootstrap import bootstrap
from core.clock import FixedClock
from core.db.base import Base
from core.db.engine import make_engine
from core.db.migrate import upgrade
from core.enums import OPEN_STAGES, Role, Stage
from core.models import Case, Contact, Membership, Site, User
from core.services.caseload import list_caseload
from core.settings import Settings
from seeding.benchseed import SCALES, TABLES, DatabaseNotEmpty, seed_benchmark
from tests.conftest import (
    START,
    create_postgres_database,
    drop_postgres_database,
    require_postgres,
)

TINY = SCALES["tiny"]


async def _fresh_database(backend: str, folder: Path) -> AsyncIterator[str]:
    """A migrated, empty database of its own, dropped afterwards."""
    if backend == "sqlite":
        url = f"sqlite+aiosqlite:///{folder / 'bench.sqlite3'}"
    else:
        await require_postgres()
        url = await create_postgres_database("da_benchseed")
    engine = make_engine(url)
    try:
        await upgrade(engine)
    finally:
        await engine.dispose()
    try:
        yield url
    finally:
        if backend == "postgresql":
            await drop_postgres_database(url)


@pytest.fixture(params=["sqlite", "postgresql"], scope="module")
async def seeded(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory):
    """A fresh database holding the tiny data set, anchored at the test clock's start."""
    folder = tmp_path_factory.mktemp("benchseed")
    databases = _fresh_database(request.param, folder)
    url = await anext(databases)
    engine = make_engine(url)
    reports: list[tuple[str, int, int]] = []
    try:
        summary = await seed_benchmark(
            engine,
            scale="tiny",
            seed=7,
            anchor=START,
            progress=lambda table, done, total: reports.append((table, done, total)),
        )
    finally:
        await engine.dispose()
    yield url, summary, reports
    await anext(databases, None)


async def _count(url: str, model: type[Base], *where) -> int:
    engine = make_engine(url)
    try:
        async with engine.connect() as connection:
            return int(
                await connection.scalar(select(func.count()).select_from(model).where(*where))
            )
    finally:
        await engine.dispose()


async def test_the_tiny_scale_loads_the_rows_it_promises(seeded) -> None:
    url, summary, _reports = seeded

    assert await _count(url, Site) == TINY.sites == 1
    assert await _count(url, User) == TINY.staff == 3
    assert await _count(url, Membership, Membership.role == Role.CASE_MANAGER) == 2
    assert await _count(url, Case) == TINY.cases == 30
    assert await _count(url, Case, Case.stage.in_(OPEN_STAGES)) == TINY.open_cases == 20
    assert await _count(url, Case, Case.stage == Stage.CLOSED) == TINY.closed_cases == 10
    assert await _count(url, Contact) == TINY.contacts == 300
    assert summary.rows["appointments"] == TINY.appointments == 90
    assert summary.rows["risk_assessments"] >= summary.rows["cases"]
    assert summary.rows["case_stage_changes"] >= 2 * summary.rows["cases"]


async def test_the_progress_reports_end_with_every_table_complete(seeded) -> None:
    _url, summary, reports = seeded
    last = {table: (done, total) for table, done, total in reports}

    for table in TABLES:
        assert last[table] == (summary.rows[table], summary.rows[table])


async def test_the_data_is_obviously_fictional(seeded) -> None:
    url, _summary, _reports = seeded
    engine = make_engine(url)
    try:
        async with engine.connect() as connection:
            emails = list(await connection.scalars(select(User.email)))
            passwords = list(await connection.scalars(select(User.password_hash)))
            references = list(await connection.scalars(select(Case.reference)))
            names = list(await connection.scalars(select(Case.subject_name)))
    finally:
        await engine.dispose()

    assert all(email.endswith("@bench.invalid") for email in emails)
    assert passwords == [None] * len(passwords)
    assert all(re.fullmatch(r"B[A-Z]{2}-\d{5}", reference) for reference in references)
    assert all(name.startswith("Bench Subject ") for name in names)


async def test_the_service_and_the_benchmarks_sql_return_the_same_rows(seeded) -> None:
    url, _summary, _reports = seeded
    container = bootstrap(Settings(database_url=url), clock=FixedClock(START))
    try:
        async with container.engine.connect() as connection:
            managers = list(
                await connection.scalars(
                    select(Membership.user_id).where(Membership.role == Role.CASE_MANAGER)
                )
            )
        caseloads = []
        for manager in managers:
            actor = await actor_for(container, manager)
            service = await list_caseload(uow=container.uow(), actor=actor)
            raw = raw_rows_as_caseload(await fetch_caseload_raw(container, manager, START))
            assert service == raw
            caseloads.extend(service)
    finally:
        await container.dispose()

    # The comparison means something only if the figures are there to compare.
    assert len(caseloads) == TINY.open_cases
    assert any(row.last_contact_at for row in caseloads)
    assert any(row.next_appointment_at for row in caseloads)
    assert all(row.current_risk for row in caseloads)


async def test_it_refuses_a_database_that_already_holds_cases(seeded) -> None:
    url, _summary, _reports = seeded
    engine = make_engine(url)
    try:
        with pytest.raises(DatabaseNotEmpty):
            await seed_benchmark(engine, scale="tiny", seed=8, anchor=START)
    finally:
        await engine.dispose()

    assert await _count(url, Case) == TINY.cases


async def test_new_records_can_be_added_after_a_load(seeded) -> None:
    url, _summary, _reports = seeded
    container = bootstrap(Settings(database_url=url), clock=FixedClock(START))
    try:
        async with container.uow() as uow:
            site = Site(code="NEW", name="New site", created_at=START)
            uow.session.add(site)
            await uow.flush()
            assert site.id == TINY.sites + 1
            # Left uncommitted: the data set stays as loaded for the other tests.
    finally:
        await container.dispose()


async def test_indexes_and_foreign_keys_are_all_there_after_a_load(seeded) -> None:
    url, _summary, _reports = seeded
    engine = make_engine(url)
    try:
        async with engine.connect() as connection:

            def shape(sync_connection):  # type: ignore[no-untyped-def]
                inspector = inspect(sync_connection)
                return {
                    table: (
                        {index["name"] for index in inspector.get_indexes(table)},
                        len(inspector.get_foreign_keys(table)),
                    )
                    for table in TABLES
                }

            found = await connection.run_sync(shape)
    finally:
        await engine.dispose()

    for table in TABLES:
        model = Base.metadata.tables[table]
        assert found[table][0] >= {index.name for index in model.indexes}
        assert found[table][1] == len(model.foreign_key_constraints)


async def test_the_same_seed_gives_the_same_data(tmp_path: Path) -> None:
    contacts = []
    for name in ("first", "second"):
        url = f"sqlite+aiosqlite:///{tmp_path / name}.sqlite3"
        engine = make_engine(url)
        try:
            await upgrade(engine)
            await seed_benchmark(engine, scale="tiny", seed=3, anchor=START)
            async with engine.connect() as connection:
                result = await connection.execute(select(Contact.__table__).order_by(Contact.id))
                contacts.append(result.all())
        finally:
            await engine.dispose()

    assert len(contacts[0]) == TINY.contacts
    assert contacts[0] == contacts[1]
