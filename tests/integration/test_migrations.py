"""Migrations from an empty database, on SQLite and PostgreSQL: up, down, up again, and the CLI.

Each test gets a database of its own that has never been migrated (a fresh SQLite file, or a
fresh PostgreSQL database dropped at the end), so nothing here depends on the shared fixture.
"""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Column, Connection, Integer, MetaData, func, inspect, select
from sqlalchemy.ext.asyncio import AsyncEngine

from core import models  # noqa: F401  (registers every table on Base.metadata)
from core.bootstrap import bootstrap
from core.db.base import Base
from core.db.engine import make_engine
from core.db.migrate import current_revision, downgrade, head_revision, upgrade
from core.enums import WorkCategory
from core.errors import DatabaseNotReady
from core.models import InterventionKind
from core.schemas.actor import Actor
from core.services import sites as site_services
from core.settings import Settings
from tests.conftest import create_postgres_database, drop_postgres_database, require_postgres

MODEL_TABLES = set(Base.metadata.tables)
ALEMBIC_VERSION_TABLE = "alembic_version"
DRIVE_ASSIST = Path(sys.executable).parent / "drive-assist"


@pytest.fixture(params=["sqlite", "postgresql"])
async def empty_database_url(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[str]:
    """The URL of a database that exists but has never been migrated."""
    if request.param == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path / 'empty.sqlite3'}"
        return
    await require_postgres()
    url = await create_postgres_database("da_migrations")
    try:
        yield url
    finally:
        await drop_postgres_database(url)


@pytest.fixture
async def engine(empty_database_url: str) -> AsyncIterator[AsyncEngine]:
    engine = make_engine(empty_database_url)
    yield engine
    await engine.dispose()


async def table_names(engine: AsyncEngine) -> set[str]:
    async with engine.connect() as connection:
        return await connection.run_sync(lambda sync: set(inspect(sync).get_table_names()))


async def catalogue(engine: AsyncEngine) -> list[tuple[str, WorkCategory]]:
    async with engine.connect() as connection:
        rows = await connection.execute(
            select(InterventionKind.code, InterventionKind.category).order_by(InterventionKind.code)
        )
        return [(code, category) for code, category in rows]


def schema_differences(connection: Connection, metadata: MetaData) -> list[Any]:
    context = MigrationContext.configure(
        connection, opts={"compare_type": True, "compare_server_default": True}
    )
    return list(compare_metadata(context, metadata))


async def differences_from(engine: AsyncEngine, metadata: MetaData) -> list[Any]:
    async with engine.connect() as connection:
        return await connection.run_sync(schema_differences, metadata)


async def test_upgrading_an_empty_database_creates_every_table_and_seeds_the_catalogue(
    engine: AsyncEngine,
) -> None:
    assert await table_names(engine) == set()

    await upgrade(engine)

    assert await table_names(engine) == MODEL_TABLES | {ALEMBIC_VERSION_TABLE}
    kinds = await catalogue(engine)
    assert {category for _, category in kinds} == set(WorkCategory)
    assert len({code for code, _ in kinds}) == len(kinds)
    # The examples the programme itself gives for each kind of work.
    assert {
        ("dvpn_dvpo", WorkCategory.DISRUPTION),
        ("clares_law_disclosure", WorkCategory.DISRUPTION),
        ("mappa_referral", WorkCategory.DISRUPTION),
        ("housing", WorkCategory.SUPPORT),
        ("substance_misuse", WorkCategory.SUPPORT),
        ("parenting", WorkCategory.SUPPORT),
        ("one_to_one_sessions", WorkCategory.BEHAVIOUR_CHANGE),
        ("accredited_programme_referral", WorkCategory.BEHAVIOUR_CHANGE),
    } <= set(kinds)


async def test_the_schema_after_upgrade_matches_the_models_with_nothing_ignored(
    engine: AsyncEngine,
) -> None:
    await upgrade(engine)

    # Types, nullability, server defaults, indexes, unique and foreign keys are all compared;
    # no difference is filtered out on either backend.
    assert await differences_from(engine, Base.metadata) == []


async def test_the_schema_comparison_does_notice_a_column_the_migrations_lack(
    engine: AsyncEngine,
) -> None:
    # Guards the test above: the comparison is live, not an empty list whatever happens.
    await upgrade(engine)
    changed = MetaData(naming_convention=Base.metadata.naming_convention)
    for table in Base.metadata.sorted_tables:
        table.to_metadata(changed)
    changed.tables["contacts"].append_column(Column("mood", Integer, nullable=True))

    differences = await differences_from(engine, changed)

    assert [(d[0], d[2], d[3].name) for d in differences] == [("add_column", "contacts", "mood")]


async def test_the_revision_is_none_before_upgrade_and_head_after(engine: AsyncEngine) -> None:
    assert await current_revision(engine) is None

    await upgrade(engine)

    assert head_revision() is not None
    assert await current_revision(engine) == head_revision()


async def test_downgrading_to_base_removes_every_table_and_upgrading_again_works(
    engine: AsyncEngine,
) -> None:
    await upgrade(engine)
    first_catalogue = await catalogue(engine)

    await downgrade(engine, "base")

    assert await table_names(engine) - {ALEMBIC_VERSION_TABLE} == set()
    assert await current_revision(engine) is None

    await upgrade(engine)

    assert await table_names(engine) == MODEL_TABLES | {ALEMBIC_VERSION_TABLE}
    assert await current_revision(engine) == head_revision()
    assert await catalogue(engine) == first_catalogue
    assert await differences_from(engine, Base.metadata) == []


async def test_upgrading_a_database_already_at_head_changes_nothing(engine: AsyncEngine) -> None:
    await upgrade(engine)
    first_catalogue = await catalogue(engine)

    await upgrade(engine)

    assert await current_revision(engine) == head_revision()
    assert await catalogue(engine) == first_catalogue


async def test_a_service_on_a_database_never_upgraded_raises_database_not_ready(
    empty_database_url: str,
) -> None:
    container = bootstrap(Settings(database_url=empty_database_url))
    try:
        with pytest.raises(DatabaseNotReady):
            await site_services.list_sites(uow=container.uow(), actor=Actor.system())
    finally:
        await container.dispose()


async def test_a_service_works_once_the_database_is_upgraded(empty_database_url: str) -> None:
    container = bootstrap(Settings(database_url=empty_database_url))
    try:
        await upgrade(container.engine)
        async with container.engine.connect() as connection:
            kinds = await connection.scalar(select(func.count()).select_from(InterventionKind))
        assert await site_services.list_sites(uow=container.uow(), actor=Actor.system()) == []
        assert kinds
    finally:
        await container.dispose()


# --- the command line -----------------------------------------------------------------------


def run_db_upgrade(database: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "DATABASE_URL": f"sqlite+aiosqlite:///{database}", "COLUMNS": "200"}
    return subprocess.run(
        [str(DRIVE_ASSIST), "db", "upgrade"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def sqlite_tables_and_revision(database: Path) -> tuple[set[str], list[str]]:
    with sqlite3.connect(database) as connection:
        tables = {
            name
            for (name,) in connection.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
            )
        }
        revisions = [
            row[0] for row in connection.execute("SELECT version_num FROM alembic_version")
        ]
    return tables, revisions


def test_drive_assist_db_upgrade_creates_the_tables_in_a_fresh_sqlite_file(
    tmp_path: Path,
) -> None:
    database = tmp_path / "fresh" / "drive-assist.sqlite3"

    result = run_db_upgrade(database)

    assert result.returncode == 0, result.stderr
    tables, revisions = sqlite_tables_and_revision(database)
    assert tables == MODEL_TABLES | {ALEMBIC_VERSION_TABLE}
    assert revisions == [head_revision()]
    assert str(head_revision()) in result.stdout


def test_drive_assist_db_upgrade_run_twice_succeeds_both_times(tmp_path: Path) -> None:
    database = tmp_path / "drive-assist.sqlite3"

    first, second = run_db_upgrade(database), run_db_upgrade(database)

    assert (first.returncode, second.returncode) == (0, 0), second.stderr
    assert sqlite_tables_and_revision(database)[1] == [head_revision()]
