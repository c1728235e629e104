"""Case intake benchmark: the possible-duplicate check of a new referral at national scale.

Before a referral is saved, ``core.services.referrals.check_duplicates`` looks across every
site for cases with the same folded surname and a date of birth equal or with day and month
swapped (``ix_cases_subject_match``), then compares the folded names. This loads 110,000
fictional cases over 40 sites into a database of its own (made and migrated here when it
holds no cases), then times the service through a real unit of work and actor: half the
checks for a person already on record (a hit, typed differently), half for a new person (a
miss). It prints p50/p95/p99 and the command that made them.

    .venv/bin/python bench/case_intake.py \\
        --database-url postgresql+asyncpg://postgres@127.0.0.1:5432/da_bench_intake --runs 1000

The target is p95 <= 50 ms on PostgreSQL. A test never asserts a time; this script does not
either: it says met or NOT met.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import shlex
import statistics
import sys
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from sqlalchemy import func, insert, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import create_async_engine

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from core.bootstrap import Container, bootstrap  # noqa: E402
from core.db.migrate import upgrade  # noqa: E402
from core.enums import Face, ReferralReason, ReferralSource, Role, Stage  # noqa: E402
from core.models import Case, Site, User  # noqa: E402
from core.names import fold_name, surname_key  # noqa: E402
from core.schemas.actor import Actor, MembershipRead  # noqa: E402
from core.schemas.referrals import DuplicateQuery  # noqa: E402
from core.services.referrals import check_duplicates  # noqa: E402
from core.settings import Settings  # noqa: E402

P95_TARGET_MS = 50.0
CASES = 110_000
SITES = 40
_SYLLABLES = "bar ten lo mi rha dun ev ost gwy nal pe tor kin sa dro vel amb ric hol fen".split()
_GIVEN = "Alex Bryn Cai Dafydd Eli Ffion Gareth Huw Ieuan Jordan Kai Lowri Morgan Nia Owen".split()


def _surname(rng: random.Random) -> str:
    # About 8,000 distinct surnames over 110,000 people: many share one, as in life.
    return "".join(rng.choice(_SYLLABLES) for _ in range(3)).capitalize()


def random_person(rng: random.Random) -> tuple[str, date]:
    born = date(1950, 1, 1) + timedelta(days=rng.randrange(365 * 55))
    return f"{rng.choice(_GIVEN)} {_surname(rng)}", born


async def ensure_database(url: str) -> None:
    parsed = make_url(url)
    if parsed.get_backend_name() != "postgresql":
        return
    admin = create_async_engine(parsed.set(database="postgres"), isolation_level="AUTOCOMMIT")
    async with admin.connect() as connection:
        exists = await connection.scalar(
            text("SELECT 1 FROM pg_database WHERE datname = :name"), {"name": parsed.database}
        )
        if not exists:
            await connection.execute(text(f'CREATE DATABASE "{parsed.database}"'))
    await admin.dispose()


async def seed_cases(container, rng: random.Random) -> list[tuple[str, date]]:  # type: ignore[no-untyped-def]
    """110,000 cases over 40 sites (once); the people on record, for the hits."""
    await upgrade(container.engine)
    people: list[tuple[str, date]] = []
    async with container.engine.begin() as connection:
        if await connection.scalar(select(func.count()).select_from(Case.__table__)):
            rows = await connection.execute(
                select(Case.subject_name, Case.subject_date_of_birth).limit(5000)
            )
            return [(name, born) for name, born in rows]
        now = datetime.now(UTC)
        await connection.execute(
            insert(Site.__table__),
            [
                {"id": n, "code": f"S{n:03d}", "name": f"Bench site {n}", "created_at": now}
                for n in range(1, SITES + 1)
            ],
        )
        # The service manager the checks run as (audit events name them).
        await connection.execute(
            insert(User.__table__),
            [{"id": 1, "email": "bench.sm@test.invalid", "display_name": "Bench", "locale": "en_GB",
              "is_active": True, "created_at": now}],
        )  # fmt: skip
        rows = []
        for number in range(1, CASES + 1):
            name, born = random_person(rng)
            folded = fold_name(name)
            people.append((name, born))
            site = number % SITES + 1
            rows.append(
                {
                    "site_id": site,
                    "reference": f"S{site:03d}-{number:06d}",
                    "subject_name": name,
                    "subject_date_of_birth": born,
                    "subject_name_key": folded,
                    "subject_surname_key": surname_key(folded),
                    "referral_date": date(2025, 1, 1) + timedelta(days=number % 600),
                    "referral_source": ReferralSource.POLICE,
                    "referral_reason": ReferralReason.HIGH_RISK,
                    "stage": Stage.ACTIVE,
                    "stage_changed_at": now,
                    "episode": 1,
                    "created_at": now,
                    "updated_at": now,
                    "version": 1,
                }
            )
            if len(rows) == 5000:
                await connection.execute(insert(Case.__table__), rows)
                rows = []
        if rows:
            await connection.execute(insert(Case.__table__), rows)
    async with container.engine.connect() as connection:
        if container.engine.dialect.name == "postgresql":
            await connection.execute(text("ANALYZE cases"))
            await connection.commit()
    return people[:5000]


def typed_again(name: str, rng: random.Random) -> str:
    """The same person as someone else would type them: case, spacing, an initial."""
    given, surname = name.split(" ", 1)
    return rng.choice([f"  {name.upper()} ", f"{given[0]}. {surname}", f"{given}  {surname}."])


def bench_manager(face: Face) -> Actor:
    """The service manager at site S001 the bench acts as."""
    return Actor(
        user_id=1,
        email="bench.sm@test.invalid",
        display_name="Bench",
        face=face,
        memberships=(MembershipRead(site_id=1, site_code="S001", role=Role.SERVICE_MANAGER),),
    )


async def time_each(
    rng: random.Random,
    on_record: list[tuple[str, date]],
    runs: int,
    attempt: Callable[[str, date], Awaitable[bool]],
) -> tuple[list[float], int]:
    """``attempt`` timed for ``runs`` people, after 20 more that warm the pool and the caches:
    every other one on record, typed again as someone else would. The seconds each took, and
    how many answered True."""
    seconds: list[float] = []
    hits = 0
    for run in range(runs + 20):
        if run % 2:
            name, born = rng.choice(on_record)
            name = typed_again(name, rng)
        else:
            name, born = random_person(rng)
        began = time.perf_counter()
        hit = await attempt(name, born)
        if run >= 20:
            seconds.append(time.perf_counter() - began)
            hits += hit
    return seconds, hits


async def count_cases(container: Container) -> int:
    async with container.engine.connect() as connection:
        return int(await connection.scalar(select(func.count()).select_from(Case.__table__)) or 0)


def target_line(p95: float, target_ms: float) -> str:
    verdict = "met" if p95 <= target_ms else "NOT met"
    return f"target p95 <= {target_ms:.0f} ms: {verdict}"


def percentiles_ms(seconds: list[float]) -> tuple[float, float, float]:
    """p50, p95 and p99 of ``seconds``, in milliseconds."""
    cuts = statistics.quantiles(seconds, n=100, method="inclusive")
    return statistics.median(seconds) * 1000, cuts[94] * 1000, cuts[98] * 1000


async def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--runs", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)
    await ensure_database(args.database_url)
    container = bootstrap(Settings(database_url=args.database_url))
    rng = random.Random(args.seed)
    try:
        started = time.perf_counter()
        on_record = await seed_cases(container, rng)
        seeded_s = time.perf_counter() - started
        cases = await count_cases(container)
        actor = bench_manager(Face.CLI)

        async def check(name: str, born: date) -> bool:
            query = DuplicateQuery(site_id=1, name=name, date_of_birth=born)
            found = await check_duplicates(uow=container.uow(), actor=actor, data=query)
            return found.count > 0

        seconds, hits = await time_each(rng, on_record, args.runs, check)
    finally:
        await container.dispose()
    p50, p95, p99 = percentiles_ms(seconds)
    backend = make_url(args.database_url).get_backend_name()
    print(f"command: .venv/bin/python bench/case_intake.py {shlex.join(sys.argv[1:])}")
    print(f"backend: {backend}; cases: {cases:,} over {SITES} sites; seeding took {seeded_s:.1f} s")
    print(f"checks: {len(seconds)} ({hits} found a possible duplicate)")
    print(f"check_duplicates p50 {p50:.2f} ms, p95 {p95:.2f} ms, p99 {p99:.2f} ms")
    print(target_line(p95, P95_TARGET_MS))
    return 0


if __name__ == "__main__":
    raise SystemExit(asyncio.run(main()))
