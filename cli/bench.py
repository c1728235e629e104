"""``drive-assist bench``: load synthetic benchmark data, and time the caseload against raw SQL.

The benchmark itself lives in ``bench/caseload.py`` (runnable on its own); this is its CLI face.
"""

from __future__ import annotations

import importlib.util
import shlex
import sys
import time
from enum import StrEnum
from pathlib import Path
from types import ModuleType
from typing import Annotated

import typer
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
)
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError, ProgrammingError

from cli.common import _, console, err_console, run_with_container
from core.bootstrap import Container
from core.db.migrate import upgrade
from core.errors import DatabaseNotReady
from seeding.benchseed import ANALYZE_STEP, RESTORE_STEP, DatabaseNotEmpty, seed_benchmark

BENCH_DIR = Path(__file__).resolve().parent.parent / "bench"


class SeedScale(StrEnum):
    TINY = "tiny"
    SITE = "site"
    NATIONAL = "national"


def register(app: typer.Typer) -> None:
    bench = typer.Typer(
        no_args_is_help=True, help=_("Benchmarks: synthetic data and the caseload timing.")
    )
    app.add_typer(bench, name="bench")

    @bench.command("seed")
    def seed(
        scale: Annotated[
            SeedScale,
            typer.Option(
                "--scale",
                help=_("How much data: site (one site) or national (40 sites, 5M contacts)."),
            ),
        ],
        seed: Annotated[int, typer.Option("--seed", help=_("Random seed."))] = 1,
    ) -> None:
        """Load synthetic, obviously fictional data into an empty database (COPY on PostgreSQL)."""
        run_with_container(lambda container: _seed(container, scale, seed))

    @bench.command("caseload")
    def caseload(
        runs: Annotated[int, typer.Option("--runs", help=_("Timed runs of each."))] = 500,
        warmup: Annotated[int, typer.Option("--warmup", help=_("Untimed runs first."))] = 50,
        managers: Annotated[
            int, typer.Option("--managers", help=_("Case managers to cycle through."))
        ] = 20,
    ) -> None:
        """Time a case manager's caseload against the best hand-written SQL, same rows."""
        benchmark = _load_benchmark()
        run_with_container(
            lambda container: _caseload(container, benchmark, runs, warmup, managers)
        )


async def _seed(container: Container, scale: SeedScale, seed: int) -> None:
    await upgrade(container.engine)
    labels = {
        RESTORE_STEP: _("indexes and foreign keys"),
        ANALYZE_STEP: _("planner statistics"),
    }
    started = time.perf_counter()
    with Progress(
        TextColumn("{task.description:<26}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
    ) as bar:
        tasks: dict[str, TaskID] = {}

        def progress(table: str, done: int, total: int) -> None:
            if table not in tasks:
                tasks[table] = bar.add_task(labels.get(table, table), total=total)
            bar.update(tasks[table], completed=done, total=total)

        try:
            summary = await seed_benchmark(
                container.engine, scale=scale.value, seed=seed, progress=progress
            )
        except DatabaseNotEmpty:
            bar.stop()
            err_console.print(
                "[red]"
                + _(
                    "This database already holds cases. Seed benchmark data only into an "
                    "empty database (create one, set DATABASE_URL to it, and run this again)."
                )
                + "[/red]"
            )
            raise typer.Exit(code=1) from None
    seconds = time.perf_counter() - started
    console.print(
        _(
            "Seeded {scale} scale ({rows} rows, seed {seed}, anchored at {anchor}) "
            "in {seconds:.1f} s.",
            scale=summary.scale,
            rows=f"{sum(summary.rows.values()):,}",
            seed=summary.seed,
            anchor=summary.anchor.isoformat(),
            seconds=seconds,
        )
    )
    console.print(_("Command: {command}", command=_command(container)), soft_wrap=True)


async def _caseload(
    container: Container, benchmark: ModuleType, runs: int, warmup: int, managers: int
) -> None:
    with Progress(
        TextColumn(_("caseload benchmark")), BarColumn(), MofNCompleteColumn(), console=console
    ) as bar:
        task = bar.add_task("", total=runs + warmup)
        try:
            result = await benchmark.run_caseload_benchmark(
                container,
                runs=runs,
                warmup=warmup,
                case_managers=managers,
                progress=lambda done, total: bar.update(task, completed=done),
            )
        except (OperationalError, ProgrammingError) as error:
            if "no such table" in str(error) or "does not exist" in str(error):
                raise DatabaseNotReady() from error
            raise
        except LookupError:
            bar.stop()
            err_console.print(
                "[red]"
                + _("No case manager has 20 to 30 open cases here: run 'bench seed' first.")
                + "[/red]"
            )
            raise typer.Exit(code=1) from None
    for line in benchmark.report_lines(result, _command(container), _):
        console.print(line, soft_wrap=True, highlight=False)


def _command(container: Container) -> str:
    """The command line as typed, with the database it ran against (password hidden)."""
    url = make_url(container.settings.database_url).render_as_string(hide_password=True)
    program = Path(sys.argv[0]).name
    return f"DATABASE_URL={shlex.quote(url)} {shlex.join([program, *sys.argv[1:]])}"


def _load_benchmark() -> ModuleType:
    """``bench/caseload.py`` from the source tree (``bench/`` is not an installed package)."""
    path = BENCH_DIR / "caseload.py"
    spec = importlib.util.spec_from_file_location("drive_assist_bench_caseload", path)
    if spec is None or spec.loader is None or not path.exists():
        err_console.print("[red]" + _("The benchmark is not here: {path}", path=path) + "[/red]")
        raise typer.Exit(code=1)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while being built
    spec.loader.exec_module(module)
    return module
