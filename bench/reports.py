"""Report benchmark: the funder return and outcome measures for a year, one site and all sites.

Times ``core.services.reports.build_report`` (every figure of both sections, through a real unit
of work) for the year that ends the day before the newest referral, as an admin of every site.
Targets: one site at most 500 ms, all sites at most 5 s.

    DATABASE_URL=postgresql+asyncpg://postgres@127.0.0.1:5432/da_bench \
        .venv/bin/python bench/reports.py
"""

from __future__ import annotations

import argparse
import asyncio
import shlex
import statistics
import sys
import time
from datetime import timedelta

from sqlalchemy import func, select
from sqlalchemy.engine import make_url

from core.bootstrap import bootstrap
from core.enums import Face, Role
from core.models import Case, Site
from core.schemas.actor import Actor, MembershipRead
from core.services.reports import build_report

ONE_SITE_TARGET_MS = 500
ALL_SITES_TARGET_MS = 5_000


def _summary(label: str, seconds: list[float], target_ms: float) -> str:
    ms = sorted(s * 1e3 for s in seconds)
    verdict = "met" if ms[-1] <= target_ms else "NOT met"
    return (
        f"{label:<10} runs {len(ms):>3}  min {ms[0]:>8.1f} ms  median "
        f"{statistics.median(ms):>8.1f} ms  max {ms[-1]:>8.1f} ms  "
        f"(target <= {target_ms:.0f} ms: {verdict})"
    )


async def _main(site_runs: int, all_runs: int) -> None:
    container = bootstrap()
    try:
        async with container.engine.connect() as connection:
            sites = (await connection.execute(select(Site.id, Site.code).order_by(Site.id))).all()
            newest = await connection.scalar(select(func.max(Case.referral_date)))
            cases = await connection.scalar(select(func.count()).select_from(Case))
        if not sites or newest is None:
            raise SystemExit("No cases here: seed the database first (drive-assist bench seed).")
        period_to = newest - timedelta(days=1)
        period_from = period_to - timedelta(days=364)
        admin = Actor(
            user_id=-1,
            email="bench@invalid",
            display_name="bench",
            face=Face.CLI,
            memberships=tuple(
                MembershipRead(site_id=site.id, site_code=site.code, role=Role.ADMIN)
                for site in sites
            ),
        )

        async def timed(site_id: int | None) -> tuple[float, object]:
            started = time.perf_counter()
            report = await build_report(
                uow=container.uow(),
                actor=admin,
                site_id=site_id,
                period_from=period_from,
                period_to=period_to,
            )
            return time.perf_counter() - started, report

        await timed(sites[0].id)  # warm-up: connection, statement caches
        one_site = [(await timed(sites[i % len(sites)].id))[0] for i in range(site_runs)]
        everything = []
        for _ in range(all_runs):
            seconds, report = await timed(None)
            everything.append(seconds)
    finally:
        await container.dispose()
    funder = report.funder  # type: ignore[attr-defined]
    url = make_url(container.settings.database_url).render_as_string(hide_password=True)
    print(
        f"Reports benchmark on {container.engine.dialect.name}: {len(sites)} sites, "
        f"{cases:,} cases; period {period_from} to {period_to}."
    )
    print(
        f"All sites that year: {funder.referrals:,} referrals, {funder.allocations:,} "
        f"allocations, {funder.contacts:,} contacts, {funder.closures:,} closures, "
        f"{funder.open_cases:,} open at the end."
    )
    print(_summary("one site", one_site, ONE_SITE_TARGET_MS))
    print(_summary("all sites", everything, ALL_SITES_TARGET_MS))
    print(f"Command: DATABASE_URL={shlex.quote(url)} {shlex.join([sys.executable, *sys.argv])}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--site-runs", type=int, default=20, help="one-site runs (default 20)")
    parser.add_argument("--all-runs", type=int, default=5, help="all-sites runs (default 5)")
    args = parser.parse_args()
    asyncio.run(_main(args.site_runs, args.all_runs))


if __name__ == "__main__":
    main()
