"""Shared fixtures: a real database on each backend, a movable clock, and actors.

Service and integration tests that ask for ``container`` run twice: on SQLite (a file under a
temporary folder) and on PostgreSQL (a database of their own on 127.0.0.1:5432, created at the
start of the run and dropped at the end). With ``CI=true`` an unreachable PostgreSQL fails the
run instead of skipping it. ``TEST_DATABASES=sqlite`` (a comma-separated list of ``sqlite`` and
``postgresql``) runs them on those backends only: ``make test-fast`` uses it.
"""

from __future__ import annotations

import os
import tempfile
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import asyncpg
import pytest
from argon2 import PasswordHasher
from sqlalchemy import delete

import core.passwords
from core import models  # noqa: F401  (registers every table for the cleanup below)
from core.bootstrap import Container, bootstrap
from core.clock import FixedClock
from core.db.base import Base
from core.db.engine import make_engine
from core.db.migrate import upgrade
from core.settings import Settings

IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}
# TOTP secrets are sealed with a key from the environment (core.sealing); the tests, and the
# processes they start, share this one (made for the tests, fit for nothing else).
TEST_SEALING_KEY = "dGVzdHMtb25seS1zZWFsaW5nLWtleS1kcml2ZTIwMjY="
os.environ.setdefault("TOTP_ENCRYPTION_KEYS", TEST_SEALING_KEY)
# The audit chain's checkpoints are signed with a key from the environment too
# (core.services.audit_checkpoints): this one is for the tests only, and their checkpoint files
# go to a directory of their own, never the project's var/.
TEST_CHECKPOINT_KEY = "tests-only-audit-checkpoint-key-not-a-secret-2026"
os.environ.setdefault("AUDIT_CHECKPOINT_KEY", TEST_CHECKPOINT_KEY)
os.environ.setdefault("AUDIT_CHECKPOINT_DIR", tempfile.mkdtemp(prefix="drive-assist-checkpoints-"))
# Passwords hashed in this process use argon2's cheapest parameters: the production ones (RFC
# 9106's, about 64 MiB and a fifth of a second a hash, far more on a busy CI machine) made
# hashing a large share of the suite's time. argon2 reads the parameters back from each hash,
# so checking a password works as in production; the apps and workers the tests start as
# processes of their own hash with the production parameters.
core.passwords._hasher = PasswordHasher(time_cost=1, memory_cost=64, parallelism=1)
POSTGRES_ADMIN_DSN = os.environ.get(
    "TEST_POSTGRES_DSN", "postgresql://postgres@127.0.0.1:5432/postgres"
)
# Tables the migrations fill with reference data; emptied never.
REFERENCE_TABLES = {"intervention_kinds"}
BACKENDS = ("sqlite", "postgresql")
TEST_DATABASES = [
    name.strip() for name in os.environ.get("TEST_DATABASES", ",".join(BACKENDS)).split(",")
]
if unknown := set(TEST_DATABASES) - set(BACKENDS):
    raise pytest.UsageError(f"TEST_DATABASES names {sorted(unknown)}; known: {', '.join(BACKENDS)}")
START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


async def _postgres_reachable() -> bool:
    try:
        connection = await asyncpg.connect(POSTGRES_ADMIN_DSN, timeout=5)
    except (OSError, asyncpg.PostgresError, TimeoutError):
        return False
    await connection.close()
    return True


async def create_postgres_database(prefix: str = "da_test") -> str:
    """Create an empty database of our own and return its async SQLAlchemy URL."""
    name = f"{prefix}_{uuid.uuid4().hex[:12]}"
    connection = await asyncpg.connect(POSTGRES_ADMIN_DSN)
    try:
        await connection.execute(f'CREATE DATABASE "{name}"')
    finally:
        await connection.close()
    base = POSTGRES_ADMIN_DSN.rsplit("/", 1)[0].replace("postgresql://", "postgresql+asyncpg://")
    return f"{base}/{name}"


async def drop_postgres_database(url: str) -> None:
    name = url.rsplit("/", 1)[1]
    connection = await asyncpg.connect(POSTGRES_ADMIN_DSN)
    try:
        await connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await connection.close()


async def require_postgres() -> None:
    if "postgresql" not in TEST_DATABASES:
        pytest.skip("TEST_DATABASES leaves PostgreSQL out of this run")
    if await _postgres_reachable():
        return
    message = f"PostgreSQL is not reachable at {POSTGRES_ADMIN_DSN}"
    if IN_CI:
        pytest.fail(message + " (CI=true: a missing database fails the run)", pytrace=False)
    pytest.skip(message + "; start it to run the PostgreSQL half of the suite")


@pytest.fixture(scope="session", params=TEST_DATABASES)
async def database_url(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[str]:
    """A migrated, empty database on each backend, shared by the tests of one run."""
    if request.param == "sqlite":
        path: Path = tmp_path_factory.mktemp("sqlite") / "test.sqlite3"
        url = f"sqlite+aiosqlite:///{path}"
        engine = make_engine(url)
        await upgrade(engine)
        await engine.dispose()
        yield url
        return
    await require_postgres()
    url = await create_postgres_database()
    engine = make_engine(url)
    try:
        await upgrade(engine)
    finally:
        await engine.dispose()
    yield url
    await drop_postgres_database(url)


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(START)


@pytest.fixture
async def container(
    database_url: str, clock: FixedClock, tmp_path: Path
) -> AsyncIterator[Container]:
    """A container on the shared database; every table but reference data is emptied after.
    Its audit checkpoints go to the test's own directory (they belong to this chain only)."""
    settings = Settings(database_url=database_url, audit_checkpoint_dir=tmp_path / "checkpoints")
    app = bootstrap(settings, clock=clock)
    yield app
    async with app.engine.begin() as connection:
        for table in reversed(Base.metadata.sorted_tables):
            if table.name not in REFERENCE_TABLES:
                await connection.execute(delete(table))
    await app.dispose()


@pytest.fixture
def backend(database_url: str) -> str:
    return "sqlite" if database_url.startswith("sqlite") else "postgresql"


@pytest.fixture
async def world(container: Container):  # type: ignore[no-untyped-def]
    from tests.factories import build_world

    return await build_world(container)
