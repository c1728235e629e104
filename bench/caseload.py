"""Caseload benchmark: ``list_caseload`` against the best hand-written SQL, in the same run.

A case manager opening the app sees their open cases (about 25) with last contact, next
appointment and current risk. This times that service call through a real unit of work and
actor, and the hand-written query returning the same rows through the same engine, interleaved,
checks on every run that both return the same rows, and prints p50/p95/p99, the ratio of the
p95s (service / SQL), the scale of the data and the command that made the figures.

Against a seeded database (``drive-assist bench seed --scale site|national``)::

    DATABASE_URL=postgresql+asyncpg://postgres@127.0.0.1:5432/da_bench \\
        .venv/bin/python bench/caseload.py --runs 500

``drive-assist bench caseload`` runs the same code.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import shlex
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import func, select, text
from sqlalchemy.engine import make_url

from core.bootstrap import Container, bootstrap
from core.clock import FixedClock
from core.enums import OPEN_STAGES, Face
from core.models import Appointment, Case, Contact, Membership, Site, User
from core.schemas.actor import Actor, MembershipRead
from core.schemas.caseload import CaseloadRow
from core.services.caseload import list_caseload
from core.uow import UnitOfWork
from seeding.benchseed import SCALES

P95_TARGET_MS = 20.0
RATIO_TARGET = 1.5

_COLUMNS = """
    c.id AS case_id, c.site_id, c.reference, c.stage, c.referral_reason,
    (SELECT max(ct.occurred_at) FROM contacts ct WHERE ct.case_id = c.id) AS last_contact_at,
    a.starts_at AS next_appointment_at, a.place_kind AS next_appointment_place,
    r.level AS current_risk, r.assessed_at AS current_risk_at"""
_OPEN = ", ".join(f"'{stage}'" for stage in sorted(OPEN_STAGES))
_WHERE = f"""
WHERE c.case_manager_id = :case_manager_id AND c.stage IN ({_OPEN})
ORDER BY c.reference, c.id"""

# The best plan on PostgreSQL: for each open case of the manager (ix_cases_case_manager_stage),
# one backward step on ix_contacts_case_occurred and ix_risk_assessments_case_assessed and one
# forward walk of ix_appointments_case_starts from now.
RAW_SQL_POSTGRESQL = f"""
SELECT {_COLUMNS}
FROM cases c
LEFT JOIN LATERAL (
    SELECT starts_at, place_kind FROM appointments
    WHERE case_id = c.id AND status = 'scheduled' AND starts_at >= :now
    ORDER BY starts_at, id LIMIT 1
) a ON true
LEFT JOIN LATERAL (
    SELECT level, assessed_at FROM risk_assessments
    WHERE case_id = c.id
    ORDER BY assessed_at DESC, id DESC LIMIT 1
) r ON true
{_WHERE}
"""

# SQLite has no LATERAL: find each row's id with a correlated LIMIT 1, then join on it.
RAW_SQL_SQLITE = f"""
SELECT {_COLUMNS}
FROM cases c
LEFT JOIN appointments a ON a.id = (
    SELECT id FROM appointments
    WHERE case_id = c.id AND status = 'scheduled' AND starts_at >= :now
    ORDER BY starts_at, id LIMIT 1
)
LEFT JOIN risk_assessments r ON r.id = (
    SELECT id FROM risk_assessments
    WHERE case_id = c.id
    ORDER BY assessed_at DESC, id DESC LIMIT 1
)
{_WHERE}
"""


def raw_sql(dialect: str) -> str:
    return RAW_SQL_SQLITE if dialect == "sqlite" else RAW_SQL_POSTGRESQL


def raw_parameters(dialect: str, case_manager_id: int, now: datetime) -> dict[str, Any]:
    """Bind values as each database stores them (SQLite: the UTC text SQLAlchemy writes)."""
    if dialect == "sqlite":
        return {
            "case_manager_id": case_manager_id,
            "now": now.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f"),
        }
    return {"case_manager_id": case_manager_id, "now": now}


async def fetch_caseload_raw(
    container: Container, case_manager_id: int, now: datetime
) -> Sequence[Any]:
    """The hand-written query, as the benchmark times it: plain rows, nothing converted."""
    dialect = container.engine.dialect.name
    async with container.engine.connect() as connection:
        result = await connection.execute(
            text(raw_sql(dialect)), raw_parameters(dialect, case_manager_id, now)
        )
        return result.all()


def raw_rows_as_caseload(rows: Sequence[Any]) -> list[CaseloadRow]:
    """The raw rows in the service's shape, to compare them (SQLite hands back text times)."""

    def moment(value: Any) -> datetime | None:
        if value is None:
            return None
        if isinstance(value, str):
            value = datetime.fromisoformat(value)
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)

    caseload = []
    for row in rows:
        values = dict(row._mapping)
        for key in ("last_contact_at", "next_appointment_at", "current_risk_at"):
            values[key] = moment(values[key])
        caseload.append(CaseloadRow(**values))
    return caseload


async def actor_for(container: Container, user_id: int) -> Actor:
    """The actor as a sign-in would build it: the user and their roles at each site."""
    async with container.engine.connect() as connection:
        user = (
            await connection.execute(
                select(User.id, User.email, User.display_name, User.locale).where(
                    User.id == user_id
                )
            )
        ).one()
        memberships = (
            await connection.execute(
                select(Membership.site_id, Site.code, Membership.role, Membership.agency)
                .join(Site, Site.id == Membership.site_id)
                .where(Membership.user_id == user_id)
                .order_by(Membership.site_id, Membership.role)
            )
        ).all()
    return Actor(
        user_id=user.id,
        email=user.email,
        display_name=user.display_name,
        locale=user.locale,
        face=Face.CLI,
        memberships=tuple(
            MembershipRead(site_id=m.site_id, site_code=m.code, role=m.role, agency=m.agency)
            for m in memberships
        ),
    )


async def case_managers_to_time(container: Container, count: int) -> list[int]:
    """Up to ``count`` case managers holding 20 to 30 open cases, spread over the id range."""
    async with container.engine.connect() as connection:
        ids = list(
            await connection.scalars(
                select(Case.case_manager_id)
                .where(Case.case_manager_id.is_not(None), Case.stage.in_(sorted(OPEN_STAGES)))
                .group_by(Case.case_manager_id)
                .having(func.count().between(20, 30))
                .order_by(Case.case_manager_id)
            )
        )
    if len(ids) <= count:
        return ids
    step = len(ids) / count
    return [ids[int(i * step)] for i in range(count)]


@dataclass(frozen=True)
class DataScale:
    name: str
    sites: int
    staff: int
    open_cases: int
    closed_cases: int
    contacts: int
    appointments: int


async def data_scale(container: Container) -> DataScale:
    async with container.engine.connect() as connection:

        async def count(statement: Any) -> int:
            return int(await connection.scalar(statement) or 0)

        open_cases = await count(select(func.count()).where(Case.stage.in_(sorted(OPEN_STAGES))))
        m = DataScale(
            name="custom",
            sites=await count(select(func.count()).select_from(Site)),
            staff=await count(select(func.count()).select_from(User)),
            open_cases=open_cases,
            closed_cases=await count(select(func.count()).select_from(Case)) - open_cases,
            contacts=await count(select(func.count()).select_from(Contact)),
            appointments=await count(select(func.count()).select_from(Appointment)),
        )
    for name, scale in SCALES.items():
        shape = (scale.sites, scale.open_cases, scale.closed_cases, scale.contacts)
        if shape == (m.sites, m.open_cases, m.closed_cases, m.contacts):
            return replace(m, name=name)
    return m


@dataclass(frozen=True)
class Timings:
    p50_ms: float
    p95_ms: float
    p99_ms: float

    @classmethod
    def of(cls, seconds: list[float]) -> Timings:
        cuts = statistics.quantiles(seconds, n=100, method="inclusive")
        return cls(statistics.median(seconds) * 1e3, cuts[94] * 1e3, cuts[98] * 1e3)


@dataclass(frozen=True)
class CaseloadBenchmark:
    backend: str
    scale: DataScale
    case_managers: int
    mean_rows: float
    runs: int
    warmup: int
    service: Timings
    raw: Timings

    @property
    def ratio(self) -> float:
        return self.service.p95_ms / self.raw.p95_ms


class RowsDiffer(AssertionError):
    """The service and the hand-written SQL disagreed: the figures would mean nothing."""


async def run_caseload_benchmark(
    container: Container,
    *,
    runs: int = 500,
    warmup: int = 50,
    case_managers: int = 20,
    progress: Callable[[int, int], None] | None = None,
) -> CaseloadBenchmark:
    """Time ``list_caseload`` and the raw SQL ``runs`` times each (after ``warmup``), in turn."""
    managers = await case_managers_to_time(container, case_managers)
    if not managers:
        raise LookupError("no case manager with 20 to 30 open cases: seed the database first")
    actors = {user_id: await actor_for(container, user_id) for user_id in managers}
    scale = await data_scale(container)
    # One "now" for both sides, so an appointment starting mid-run cannot make them differ.
    clock = FixedClock(datetime.now(UTC))
    now = clock.now()
    service_times: list[float] = []
    raw_times: list[float] = []
    row_counts: list[int] = []
    total = warmup + runs
    gc.collect()
    for i in range(total):
        user_id = managers[i % len(managers)]
        actor = actors[user_id]
        timed = i >= warmup
        for side in ("service", "raw") if i % 2 == 0 else ("raw", "service"):
            if side == "service":
                uow = UnitOfWork(container.session_factory, clock)
                started = time.perf_counter()
                service_rows = await list_caseload(uow=uow, actor=actor)
                elapsed = time.perf_counter() - started
                if timed:
                    service_times.append(elapsed)
            else:
                started = time.perf_counter()
                raw_rows = await fetch_caseload_raw(container, user_id, now)
                elapsed = time.perf_counter() - started
                if timed:
                    raw_times.append(elapsed)
        if service_rows != raw_rows_as_caseload(raw_rows):
            raise RowsDiffer(f"case manager {user_id}: list_caseload and the SQL differ")
        if timed:
            row_counts.append(len(service_rows))
        if progress is not None:
            progress(i + 1, total)
    return CaseloadBenchmark(
        backend=container.engine.dialect.name,
        scale=scale,
        case_managers=len(managers),
        mean_rows=statistics.fmean(row_counts),
        runs=runs,
        warmup=warmup,
        service=Timings.of(service_times),
        raw=Timings.of(raw_times),
    )


def _plain(message: str, **params: object) -> str:
    return message.format(**params) if params else message


def report_lines(
    result: CaseloadBenchmark, command: str, _: Callable[..., str] = _plain
) -> list[str]:
    """The figures as printed; ``_`` is the face's gettext (the CLI translates them)."""
    s = result.scale
    met, missed = _("met"), _("NOT met")
    lines = [
        _(
            "Caseload benchmark on {backend}. Data ({scale} scale): sites {sites}, staff {staff}, "
            "open cases {open}, closed cases {closed}, contacts {contacts}, "
            "appointments {appointments}.",
            backend=result.backend,
            scale=s.name,
            sites=f"{s.sites:,}",
            staff=f"{s.staff:,}",
            open=f"{s.open_cases:,}",
            closed=f"{s.closed_cases:,}",
            contacts=f"{s.contacts:,}",
            appointments=f"{s.appointments:,}",
        ),
        _(
            "{managers} case managers, {rows:.1f} open cases each on average; {runs} runs of "
            "each after {warmup} warm-up runs, interleaved.",
            managers=result.case_managers,
            rows=result.mean_rows,
            runs=result.runs,
            warmup=result.warmup,
        ),
        "",
        f"{'':<22}{'p50':>10}{'p95':>10}{'p99':>10}",
    ]
    sides = ((_("list_caseload"), result.service), (_("hand-written SQL"), result.raw))
    for label, timing in sides:
        lines.append(
            f"{label:<22}{timing.p50_ms:>7.2f} ms{timing.p95_ms:>7.2f} ms{timing.p99_ms:>7.2f} ms"
        )
    lines += [
        "",
        _(
            "p95 of list_caseload: {p95:.2f} ms (target <= {target:.0f} ms: {verdict}).",
            p95=result.service.p95_ms,
            target=P95_TARGET_MS,
            verdict=met if result.service.p95_ms <= P95_TARGET_MS else missed,
        ),
        _(
            "Ratio of p95s, service / SQL: {ratio:.2f} (target <= {target}: {verdict}).",
            ratio=result.ratio,
            target=RATIO_TARGET,
            verdict=met if result.ratio <= RATIO_TARGET else missed,
        ),
        _("Command: {command}", command=command),
    ]
    return lines


def command_line(database_url: str, argv: Sequence[str]) -> str:
    """The command that made the figures, with any password in the URL hidden."""
    shown = make_url(database_url).render_as_string(hide_password=True)
    return f"DATABASE_URL={shlex.quote(shown)} {shlex.join(argv)}"


def python_argv() -> list[str]:
    """How this Python was started, its path relative to here when it can be."""
    python = Path(sys.executable)
    try:
        python = python.relative_to(Path.cwd())
    except ValueError:
        pass
    return [str(python), *sys.argv]


async def _main(runs: int, warmup: int, managers: int) -> None:
    container = bootstrap()
    try:
        result = await run_caseload_benchmark(
            container, runs=runs, warmup=warmup, case_managers=managers
        )
    finally:
        await container.dispose()
    command = command_line(container.settings.database_url, python_argv())
    print("\n".join(report_lines(result, command)))


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=500, help="timed runs of each (default 500)")
    parser.add_argument("--warmup", type=int, default=50, help="untimed runs first (default 50)")
    parser.add_argument(
        "--managers", type=int, default=20, help="case managers to cycle through (default 20)"
    )
    args = parser.parse_args(argv)
    asyncio.run(_main(args.runs, args.warmup, args.managers))


if __name__ == "__main__":
    main()
