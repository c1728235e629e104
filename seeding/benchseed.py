"""Synthetic, obviously fictional data at benchmark scale, loaded straight into the tables.

Used by ``drive-assist bench seed``. Everything here is invented: sites ``BAA``..., references
like ``BAA-00042``, subjects called "Bench Subject 42", staff at ``cm0042@bench.invalid`` with no
password (nobody can sign in as them). The same seed and anchor give the same rows.

PostgreSQL is loaded with ``COPY`` (asyncpg ``copy_records_to_table``), SQLite with batched
``executemany`` inserts; both in one transaction, so a failed load leaves nothing behind. Rows
are generated and written in chunks, so memory stays flat whatever the scale.
"""

from __future__ import annotations

import asyncio
import json
import random
from collections.abc import AsyncIterator, Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine
from sqlalchemy.schema import AddConstraint, CreateIndex, DropConstraint, DropIndex

from core.enums import (
    AppointmentStatus,
    ClosureReason,
    ContactType,
    Locale,
    PlaceKind,
    ReferralReason,
    ReferralSource,
    RiskLevel,
    Role,
    Stage,
)
from core.errors import DomainError
from core.models import (
    Appointment,
    Case,
    CaseStageChange,
    Contact,
    Membership,
    RiskAssessment,
    Site,
    User,
)

ScaleName = Literal["tiny", "site", "national"]
Progress = Callable[[str, int, int], None]

CHUNK_ROWS = 100_000
# Tables in load order (parents first), as reported to the progress callback.
TABLES = (
    "sites",
    "users",
    "memberships",
    "cases",
    "case_stage_changes",
    "risk_assessments",
    "contacts",
    "appointments",
)
# The steps after the tables, as the progress callback names them (PostgreSQL only: restore).
RESTORE_STEP = "indexes and foreign keys"
ANALYZE_STEP = "analyze"


class DatabaseNotEmpty(DomainError):
    """The benchmark loads only into a database without cases: it would mix with real ones."""

    code = "bench_database_not_empty"


@dataclass(frozen=True)
class BenchScale:
    name: str
    sites: int
    staff_per_site: int
    case_managers_per_site: int
    open_cases_per_case_manager: int
    closed_cases_per_site: int
    contacts: int
    appointments: int

    @property
    def open_cases(self) -> int:
        return self.sites * self.case_managers_per_site * self.open_cases_per_case_manager

    @property
    def closed_cases(self) -> int:
        return self.sites * self.closed_cases_per_site

    @property
    def cases(self) -> int:
        return self.open_cases + self.closed_cases

    @property
    def staff(self) -> int:
        return self.sites * self.staff_per_site


SCALES: dict[str, BenchScale] = {
    # For tests: small enough to load in well under a second on either backend.
    "tiny": BenchScale("tiny", 1, 3, 2, 10, 10, 300, 90),
    "site": BenchScale("site", 1, 25, 10, 25, 2_500, 125_000, 25_000),
    # 40 sites x 25 staff = 1,000 staff; 400 case managers x ~25 open cases = 10,000 open.
    "national": BenchScale("national", 40, 25, 10, 25, 2_500, 5_000_000, 1_000_000),
}

# The other staff of a site, after its case managers, in this order (panel members fill the rest).
_OTHER_ROLES = (
    Role.SERVICE_MANAGER,
    Role.PANEL_COORDINATOR,
    Role.POLICE_FELLOW,
    Role.IDVA,
    Role.SERVICE_MANAGER,
    Role.IDVA,
)
_EMAIL_PREFIX = {
    Role.CASE_MANAGER: "cm",
    Role.SERVICE_MANAGER: "sm",
    Role.PANEL_COORDINATOR: "pc",
    Role.POLICE_FELLOW: "pf",
    Role.IDVA: "idva",
    Role.PANEL_MEMBER: "pm",
}
_OPEN_STAGE_WEIGHTS = (
    (Stage.ALLOCATED, 1),
    (Stage.ENGAGING, 3),
    (Stage.ACTIVE, 5),
    (Stage.INDIRECT, 1),
)
_OPEN_STAGES = [stage for stage, _ in _OPEN_STAGE_WEIGHTS]
_OPEN_WEIGHTS = [weight for _, weight in _OPEN_STAGE_WEIGHTS]
_PAST_APPOINTMENT_STATUSES = (
    AppointmentStatus.ATTENDED,
    AppointmentStatus.ATTENDED,
    AppointmentStatus.ATTENDED,
    AppointmentStatus.DID_NOT_ATTEND,
    AppointmentStatus.CANCELLED,
    AppointmentStatus.RESCHEDULED,
)
_TOPICS = ("housing", "substance_misuse", "mental_health", "parenting", "attitudes", "bail")
_DAY = 86_400.0


@dataclass(frozen=True)
class SeedSummary:
    scale: str
    seed: int
    anchor: datetime
    rows: dict[str, int]


@dataclass(frozen=True)
class _Case:
    """What the child tables need to know about a case; held in memory for every case."""

    id: int
    site_id: int
    case_manager_id: int
    stage: Stage
    # Epoch seconds: the span in which its contacts, appointments and assessments fall.
    allocated: float
    ended: float | None  # closed_at; None while open


def _sized(total: int, count: int, rng: random.Random, jitter: int) -> list[int]:
    """``count`` sizes near ``total / count`` that add up to exactly ``total``."""
    base, extra = divmod(total, count)
    sizes = [base + (1 if i < extra else 0) for i in range(count)]
    for i in range(0, count - 1, 2):
        shift = rng.randint(0, min(jitter, sizes[i + 1]))
        sizes[i] += shift
        sizes[i + 1] -= shift
    rng.shuffle(sizes)
    return sizes


def _at(epoch: float) -> datetime:
    return datetime.fromtimestamp(round(epoch), UTC)


class _Plan:
    """The shape of the data (sites, staff, cases) decided up front; child rows are streamed."""

    def __init__(self, scale: BenchScale, seed: int, anchor: datetime, offsets: dict[str, int]):
        self.scale = scale
        self.seed = seed
        self.anchor = anchor
        self.now = anchor.timestamp()
        self.offsets = offsets
        self.site_ids = [offsets["sites"] + i + 1 for i in range(scale.sites)]
        self.site_codes = [f"B{chr(65 + i // 26)}{chr(65 + i % 26)}" for i in range(scale.sites)]
        # (user id, site id, role, number) for every member of staff.
        self.staff: list[tuple[int, int, Role, int]] = []
        self.case_managers: dict[int, list[int]] = {}
        number = 0
        for site_id in self.site_ids:
            managers: list[int] = []
            for j in range(scale.staff_per_site):
                number += 1
                if j < scale.case_managers_per_site:
                    role = Role.CASE_MANAGER
                elif j - scale.case_managers_per_site < len(_OTHER_ROLES):
                    role = _OTHER_ROLES[j - scale.case_managers_per_site]
                else:
                    role = Role.PANEL_MEMBER
                user_id = offsets["users"] + number
                self.staff.append((user_id, site_id, role, number))
                if role is Role.CASE_MANAGER:
                    managers.append(user_id)
            self.case_managers[site_id] = managers
        self.cases = self._plan_cases()

    def rng(self, purpose: str) -> random.Random:
        return random.Random(f"{self.seed}:{purpose}")

    def _plan_cases(self) -> list[_Case]:
        rng = self.rng("cases")
        scale = self.scale
        drafts: list[tuple[float, int, int, Stage, float | None]] = []
        for site_id in self.site_ids:
            managers = self.case_managers[site_id]
            open_counts = _sized(
                scale.open_cases_per_case_manager * len(managers), len(managers), rng, 3
            )
            for manager, count in zip(managers, open_counts, strict=True):
                for _ in range(count):
                    # Allocated within the last year: Drive works with someone for 3 to 12 months.
                    allocated = self.now - rng.uniform(14, 365) * _DAY
                    stage = rng.choices(_OPEN_STAGES, _OPEN_WEIGHTS)[0]
                    drafts.append((allocated, site_id, manager, stage, None))
            for k in range(scale.closed_cases_per_site):
                allocated = self.now - rng.uniform(120, 6 * 365) * _DAY
                ended = min(allocated + rng.uniform(30, 365) * _DAY, self.now - _DAY)
                manager = managers[k % len(managers)]
                drafts.append((allocated, site_id, manager, Stage.CLOSED, ended))
        # Cases get their ids in the order they were allocated, as they would have been created.
        drafts.sort(key=lambda d: d[0])
        first = self.offsets["cases"] + 1
        return [
            _Case(first + i, site_id, manager, stage, allocated, ended)
            for i, (allocated, site_id, manager, stage, ended) in enumerate(drafts)
        ]


# -- Row generators: each yields tuples in the column order of its ``_COLUMNS`` entry. --

_COLUMNS: dict[str, tuple[str, ...]] = {
    "sites": ("id", "code", "name", "created_at"),
    "users": (
        "id",
        "email",
        "display_name",
        "locale",
        "password_hash",
        "is_active",
        "created_at",
    ),
    "memberships": ("id", "user_id", "site_id", "role", "agency"),
    "cases": (
        "id",
        "site_id",
        "reference",
        "subject_name",
        "subject_date_of_birth",
        "subject_address",
        "referral_date",
        "referral_source",
        "referral_reason",
        "dash_score",
        "stage",
        "stage_changed_at",
        "case_manager_id",
        "allocated_at",
        "planned_end",
        "closed_at",
        "closure_reason",
        "start_physical",
        "start_sexual",
        "start_harassment_stalking",
        "start_jealous_controlling",
        "closure_physical",
        "closure_sexual",
        "closure_harassment_stalking",
        "closure_jealous_controlling",
        "created_at",
        "updated_at",
        "version",
    ),
    "case_stage_changes": (
        "id",
        "case_id",
        "from_stage",
        "to_stage",
        "closure_reason",
        "changed_at",
        "changed_by_id",
    ),
    "risk_assessments": (
        "id",
        "case_id",
        "assessed_at",
        "level",
        "dash_score",
        "reason",
        "assessed_by_id",
        "assessor_role",
    ),
    "contacts": (
        "id",
        "case_id",
        "staff_id",
        "occurred_at",
        "contact_type",
        "duration_minutes",
        "is_disruption",
        "is_support",
        "is_behaviour_change",
        "topics",
        "notes",
        "next_steps",
        "created_at",
    ),
    "appointments": (
        "id",
        "case_id",
        "staff_id",
        "starts_at",
        "ends_at",
        "place_kind",
        "status",
        "outcome",
        "rescheduled_to_id",
        "created_at",
    ),
}
_TABLE_OBJECTS = {
    "sites": Site.__table__,
    "users": User.__table__,
    "memberships": Membership.__table__,
    "cases": Case.__table__,
    "case_stage_changes": CaseStageChange.__table__,
    "risk_assessments": RiskAssessment.__table__,
    "contacts": Contact.__table__,
    "appointments": Appointment.__table__,
}


def _sites(plan: _Plan) -> Iterator[tuple[Any, ...]]:
    created = plan.anchor - timedelta(days=6 * 365 + 30)
    for site_id, code in zip(plan.site_ids, plan.site_codes, strict=True):
        yield (site_id, code, f"Bench Site {code}", created)


def _users(plan: _Plan) -> Iterator[tuple[Any, ...]]:
    created = plan.anchor - timedelta(days=6 * 365 + 30)
    for user_id, _site_id, role, number in plan.staff:
        email = f"{_EMAIL_PREFIX[role]}{number:04d}@bench.invalid"
        yield (user_id, email, f"Bench Staff {number}", Locale.EN_GB.value, None, True, created)


def _memberships(plan: _Plan) -> Iterator[tuple[Any, ...]]:
    for i, (user_id, site_id, role, _number) in enumerate(plan.staff):
        agency = "police" if role in (Role.POLICE_FELLOW, Role.PANEL_MEMBER) else "drive"
        if role is Role.IDVA:
            agency = "idva_service"
        yield (plan.offsets["memberships"] + i + 1, user_id, site_id, role.value, agency)


# The stages a case passed through after allocation, on its way to where it stands (or closed).
_STAGES_AFTER_ALLOCATION: dict[Stage, tuple[Stage, ...]] = {
    Stage.ALLOCATED: (),
    Stage.ENGAGING: (Stage.ENGAGING,),
    Stage.ACTIVE: (Stage.ENGAGING, Stage.ACTIVE),
    Stage.INDIRECT: (Stage.ENGAGING, Stage.INDIRECT),
    Stage.CLOSED: (Stage.ENGAGING, Stage.ACTIVE),
}


def _stage_change_count(case: _Case) -> int:
    return 2 + len(_STAGES_AFTER_ALLOCATION[case.stage]) + (case.ended is not None)


def _story(plan: _Plan, case: _Case) -> tuple[random.Random, float, list[tuple[Stage, float]]]:
    """A case's own random stream, when it was referred, and the stages it went through.

    Seeded by the case alone, so the case row and its stage history agree without sharing state.
    """
    rng = random.Random(plan.seed * 1_000_003 + case.id)
    referred = case.allocated - rng.uniform(1, 14) * _DAY
    path = [(Stage.REFERRED, referred), (Stage.ALLOCATED, case.allocated)]
    # Open cases moved on within their first four months, and always before the anchor.
    end = case.ended if case.ended is not None else min(case.allocated + 120 * _DAY, plan.now)
    when = case.allocated
    for stage in _STAGES_AFTER_ALLOCATION[case.stage]:
        when += (end - when) * rng.uniform(0.1, 0.5)
        path.append((stage, when))
    if case.ended is not None:
        path.append((Stage.CLOSED, case.ended))
    return rng, referred, path


def _cases(plan: _Plan) -> Iterator[tuple[Any, ...]]:
    numbers: dict[int, int] = {}
    sources = [s.value for s in ReferralSource]
    reasons = [ReferralReason.HIGH_RISK.value] * 7 + [ReferralReason.SERIAL.value] * 3
    closure_reasons = [r.value for r in ClosureReason]
    for case in plan.cases:
        rng, referred, path = _story(plan, case)
        numbers[case.site_id] = numbers.get(case.site_id, 0) + 1
        code = plan.site_codes[case.site_id - plan.site_ids[0]]
        allocated_at = _at(case.allocated)
        closed_at = _at(case.ended) if case.ended is not None else None
        stage_changed_at = _at(path[-1][1])
        start = [rng.random() < p for p in (0.6, 0.15, 0.5, 0.8)]
        closure = [flag and rng.random() < 0.4 for flag in start] if closed_at else [None] * 4
        yield (
            case.id,
            case.site_id,
            f"{code}-{numbers[case.site_id]:05d}",
            f"Bench Subject {case.id}",
            None,
            None,
            _at(referred).date(),
            rng.choice(sources),
            rng.choice(reasons),
            rng.randint(10, 24) if rng.random() < 0.8 else None,
            case.stage.value,
            stage_changed_at,
            case.case_manager_id,
            allocated_at,
            (allocated_at + timedelta(days=rng.choice((183, 274, 365)))).date(),
            closed_at,
            closure_reasons[case.id % len(closure_reasons)] if closed_at else None,
            *start,
            *closure,
            _at(referred),
            stage_changed_at,
            1,
        )


def _case_stage_changes(plan: _Plan) -> Iterator[tuple[Any, ...]]:
    closure_reasons = [r.value for r in ClosureReason]
    next_id = plan.offsets["case_stage_changes"] + 1
    for case in plan.cases:
        _rng, _referred, path = _story(plan, case)
        previous: str | None = None
        for stage, when in path:
            closed = stage is Stage.CLOSED
            yield (
                next_id,
                case.id,
                previous,
                stage.value,
                closure_reasons[case.id % len(closure_reasons)] if closed else None,
                _at(when),
                case.case_manager_id if stage is not Stage.REFERRED else None,
            )
            previous = stage.value
            next_id += 1


def _risk_assessment_count(plan: _Plan) -> int:
    """Two or three per case, one to four with the spread."""
    return len(plan.cases) * 5 // 2


def _risk_assessments(plan: _Plan) -> Iterator[tuple[Any, ...]]:
    rng = plan.rng("risk")
    levels = [RiskLevel.HIGH.value] * 5 + [RiskLevel.MEDIUM.value] * 4 + [RiskLevel.STANDARD.value]
    sizes = _sized(_risk_assessment_count(plan), len(plan.cases), plan.rng("risk-sizes"), 1)
    next_id = plan.offsets["risk_assessments"] + 1
    for case, size in zip(plan.cases, sizes, strict=True):
        end = case.ended if case.ended is not None else plan.now - 60
        for _ in range(size):
            yield (
                next_id,
                case.id,
                _at(rng.uniform(case.allocated, end)),
                rng.choice(levels),
                rng.randint(5, 24),
                None,
                case.case_manager_id,
                Role.CASE_MANAGER.value,
            )
            next_id += 1


def _contacts(plan: _Plan, *, json_topics: bool) -> Iterator[tuple[Any, ...]]:
    # The hot loop of a national load (5,000,000 rows): plain ``random()`` arithmetic and local
    # names, about twice as fast as ``choice``/``randint``/``uniform``.
    rng = plan.rng("contacts")
    random_ = rng.random
    sizes = _sized(plan.scale.contacts, len(plan.cases), plan.rng("contact-sizes"), 20)
    types = [t.value for t in ContactType]
    n_types = len(types)
    topic_pairs = [[a, b] for a in _TOPICS for b in _TOPICS if a != b]
    n_pairs = len(topic_pairs)
    no_topics: Any = "[]" if json_topics else []
    logged_after = timedelta(minutes=10)
    from_epoch = datetime.fromtimestamp
    next_id = plan.offsets["contacts"] + 1
    for case, size in zip(plan.cases, sizes, strict=True):
        start = case.allocated
        span = (case.ended if case.ended is not None else plan.now - 60) - start
        case_id, staff_id = case.id, case.case_manager_id
        for _ in range(size):
            occurred = from_epoch(int(start + span * random_()), UTC)
            if random_() < 0.3:
                topics: Any = topic_pairs[int(random_() * n_pairs)]
                topics = json.dumps(topics) if json_topics else list(topics)
                notes: str | None = f"Synthetic benchmark note {next_id}."
            else:
                topics, notes = no_topics, None
            yield (
                next_id,
                case_id,
                staff_id,
                occurred,
                types[int(random_() * n_types)],
                5 + int(random_() * 86),
                random_() < 0.3,
                random_() < 0.5,
                random_() < 0.4,
                topics,
                notes,
                None,
                occurred + logged_after,
            )
            next_id += 1


def _appointments(plan: _Plan) -> Iterator[tuple[Any, ...]]:
    rng = plan.rng("appointments")
    sizes = _sized(plan.scale.appointments, len(plan.cases), plan.rng("appointment-sizes"), 4)
    places = [p.value for p in PlaceKind]
    past_statuses = [s.value for s in _PAST_APPOINTMENT_STATUSES]
    scheduled, cancelled = AppointmentStatus.SCHEDULED.value, AppointmentStatus.CANCELLED.value
    next_id = plan.offsets["appointments"] + 1
    for case, size in zip(plan.cases, sizes, strict=True):
        # Most open cases have one to three appointments booked in the next six weeks.
        upcoming = 0 if case.ended is not None or rng.random() < 0.1 else rng.randint(1, 3)
        upcoming = min(upcoming, size)
        end = case.ended if case.ended is not None else plan.now - 3_600
        for k in range(size):
            if k < upcoming:
                starts = plan.now + rng.uniform(0.05, 42) * _DAY
                status = cancelled if rng.random() < 0.1 else scheduled
                created = min(starts - 7 * _DAY, plan.now - 600)
            else:
                starts = rng.uniform(case.allocated, end)
                status = rng.choice(past_statuses)
                created = starts - 7 * _DAY
            yield (
                next_id,
                case.id,
                case.case_manager_id,
                _at(starts),
                _at(starts + 3_600),
                rng.choice(places),
                status,
                None,
                None,
                _at(created),
            )
            next_id += 1


# -- Loading --


async def seed_benchmark(
    engine: AsyncEngine,
    *,
    scale: ScaleName,
    seed: int = 1,
    progress: Progress | None = None,
    anchor: datetime | None = None,
) -> SeedSummary:
    """Load a benchmark data set of ``scale`` into an empty, migrated database.

    ``anchor`` is the "now" the data is built around (default: today, 00:00 UTC): contacts and
    assessments before it, upcoming appointments in the six weeks after. Raises
    ``DatabaseNotEmpty`` if the database already holds cases.
    """
    shape = SCALES[scale]
    if anchor is None:
        anchor = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    if anchor.tzinfo is None:
        raise ValueError("anchor must be timezone-aware")
    anchor = anchor.astimezone(UTC)
    report = progress or (lambda _table, _done, _total: None)
    postgres = engine.dialect.name == "postgresql"
    rows: dict[str, int] = {}
    async with engine.begin() as connection:
        if await connection.scalar(select(func.count()).select_from(Case.__table__)):
            raise DatabaseNotEmpty()
        offsets = {
            table: int(await connection.scalar(select(func.coalesce(func.max(t.c.id), 0))) or 0)
            for table, t in _TABLE_OBJECTS.items()
        }
        plan = _Plan(shape, seed, anchor, offsets)
        expected = {
            "sites": shape.sites,
            "users": shape.staff,
            "memberships": shape.staff,
            "cases": shape.cases,
            "case_stage_changes": sum(_stage_change_count(case) for case in plan.cases),
            "risk_assessments": _risk_assessment_count(plan),
            "contacts": shape.contacts,
            "appointments": shape.appointments,
        }
        generators: dict[str, Iterator[tuple[Any, ...]]] = {
            "sites": _sites(plan),
            "users": _users(plan),
            "memberships": _memberships(plan),
            "cases": _cases(plan),
            "case_stage_changes": _case_stage_changes(plan),
            "risk_assessments": _risk_assessments(plan),
            "contacts": _contacts(plan, json_topics=postgres),
            "appointments": _appointments(plan),
        }
        if postgres:
            await _suspend_constraints_and_indexes(connection)
        for table in TABLES:
            report(table, 0, expected[table])
            done = 0
            async for chunk in _chunks_ahead(generators[table], CHUNK_ROWS):
                if postgres:
                    await _copy(connection, table, chunk)
                else:
                    await _insert(connection, table, chunk)
                done += len(chunk)
                report(table, done, expected[table])
            rows[table] = done
        if postgres:
            report(RESTORE_STEP, 0, 1)
            await _restore_constraints_and_indexes(connection)
            report(RESTORE_STEP, 1, 1)
            for table in TABLES:
                await connection.execute(
                    text(
                        f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                        f"(SELECT max(id) FROM {table}))"
                    )
                )
    report(ANALYZE_STEP, 0, 1)
    await _analyze(engine, postgres)
    report(ANALYZE_STEP, 1, 1)
    return SeedSummary(scale=scale, seed=seed, anchor=anchor, rows=rows)


async def _suspend_constraints_and_indexes(connection: AsyncConnection) -> None:
    """Drop the loaded tables' secondary indexes and foreign keys for the load.

    PostgreSQL's own advice for bulk loading ("Populating a Database"): building an index once
    and checking a foreign key with one join are many times faster than doing both row by row.
    They come back, exactly as the models define them, in the same transaction.
    """
    await connection.execute(text("SET LOCAL maintenance_work_mem = '256MB'"))
    for table in _TABLE_OBJECTS.values():
        for constraint in table.foreign_key_constraints:
            await connection.execute(DropConstraint(constraint))
        for index in table.indexes:
            await connection.execute(DropIndex(index))


async def _restore_constraints_and_indexes(connection: AsyncConnection) -> None:
    for table in _TABLE_OBJECTS.values():
        for index in table.indexes:
            await connection.execute(CreateIndex(index))
    for table in _TABLE_OBJECTS.values():
        for constraint in table.foreign_key_constraints:
            await connection.execute(AddConstraint(constraint))


async def _chunks_ahead(
    rows: Iterator[tuple[Any, ...]], size: int
) -> AsyncIterator[list[tuple[Any, ...]]]:
    """Chunks of ``rows``, the next one generated in a thread while the caller writes this one."""
    chunks = _chunks(rows, size)
    ahead = asyncio.create_task(asyncio.to_thread(next, chunks, None))
    try:
        while (chunk := await ahead) is not None:
            ahead = asyncio.create_task(asyncio.to_thread(next, chunks, None))
            yield chunk
    finally:
        if not ahead.done():
            await asyncio.wait([ahead])


def _chunks(rows: Iterator[tuple[Any, ...]], size: int) -> Iterator[list[tuple[Any, ...]]]:
    chunk: list[tuple[Any, ...]] = []
    for row in rows:
        chunk.append(row)
        if len(chunk) >= size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


async def _copy(connection: AsyncConnection, table: str, chunk: Sequence[tuple[Any, ...]]) -> None:
    raw = await connection.get_raw_connection()
    driver = raw.driver_connection
    assert driver is not None
    await driver.copy_records_to_table(table, records=chunk, columns=list(_COLUMNS[table]))


async def _insert(
    connection: AsyncConnection, table: str, chunk: Sequence[tuple[Any, ...]]
) -> None:
    columns = _COLUMNS[table]
    await connection.execute(
        _TABLE_OBJECTS[table].insert(), [dict(zip(columns, row, strict=True)) for row in chunk]
    )


async def _analyze(engine: AsyncEngine, postgres: bool) -> None:
    """Fresh planner statistics; on PostgreSQL also the visibility map, for index-only scans."""
    if postgres:
        async with engine.connect() as connection:
            autocommit = await connection.execution_options(isolation_level="AUTOCOMMIT")
            for table in TABLES:
                await autocommit.execute(text(f"VACUUM (ANALYZE) {table}"))
        return
    async with engine.begin() as connection:
        await connection.execute(text("ANALYZE"))
