"""The exports: the same figures as the service in CSV and in XLSX, small counts suppressed.

The data is the hand-worked January fixture of ``test_reports``.
"""

from __future__ import annotations

import asyncio
import csv
import io
import os
import subprocess
import sys
from pathlib import Path

from openpyxl import load_workbook

from core.enums import Role
from core.services import report_export
from core.services.reports import build_report
from tests.integration.test_reports import JAN_1, JAN_31, Fixture, january_fixture

NOTE = "Counts from 1 to 4 are suppressed."


async def _report(fixture: Fixture):  # type: ignore[no-untyped-def]
    world = fixture.world
    return await build_report(
        uow=world.container.uow(),
        actor=world.actor(Role.SERVICE_MANAGER),
        site_id=world.sites["HER"].id,
        period_from=JAN_1,
        period_to=JAN_31,
    )


def _csv_lines(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text)))


def _xlsx_lines(path: Path) -> list[list[object]]:
    sheet = load_workbook(path).active
    assert sheet is not None
    return [list(row) for row in sheet.iter_rows(values_only=True)]


def _as_text(value: object) -> str:
    return "" if value is None else str(value)


async def test_csv_and_xlsx_hold_the_services_figures_with_small_counts_blank(world, tmp_path):
    fixture = await january_fixture(world)
    report = await _report(fixture)
    rows = report_export.report_rows(report)
    stream = io.StringIO()
    report_export.write_csv(rows, report.funder.scope, NOTE, stream)
    report_export.write_xlsx(rows, report.funder.scope, NOTE, tmp_path / "r.xlsx")
    csv_lines, xlsx_lines = _csv_lines(stream.getvalue()), _xlsx_lines(tmp_path / "r.xlsx")

    assert csv_lines[0] == list(report_export.HEADER)
    assert [[_as_text(v) for v in line] for line in xlsx_lines] == csv_lines
    figures = {(line[4], line[5] or ""): line[6] for line in xlsx_lines[1:-1]}
    # Large enough to show: zero counts, and a figure made only of zeros or counts of 5 or more.
    assert figures[("closures_by_reason", "custody")] == 0
    assert figures[("interventions_by_category", "behaviour_change")] == 0
    # Every other count in the January fixture is from 1 to 4: blank, as is what is made of it.
    assert figures[("referrals", "")] is None
    assert figures[("engaged_percent", "")] is None
    assert figures[("median_days_referral_to_allocation", "")] is None
    assert figures[("abuse_change_percent", "physical")] is None
    # Each shown figure is the service's own, row for row.
    suppressed = report_export.suppress_small_counts(rows)
    assert len(figures) == len(suppressed)
    for row in suppressed:
        assert figures[(row.measure, row.breakdown)] == row.value
    assert all(figures[(r.measure, r.breakdown)] is None for r in suppressed if r.suppressed)
    # The last line says what was suppressed and why.
    assert xlsx_lines[-1][3:] == ["note", "suppression", None, NOTE]
    assert csv_lines[-1][3:] == ["note", "suppression", "", NOTE]
    # No case reference (and so no name) anywhere in the file.
    assert "T-A" not in stream.getvalue()


async def test_counts_of_five_or_more_are_exported_as_they_are(world):
    fixture = await january_fixture(world)
    report = await _report(fixture)
    rows = [
        row.model_copy(update={"value": 5}) if row.measure == "referrals" else row
        for row in report_export.report_rows(report)
    ]
    stream = io.StringIO()
    report_export.write_csv(rows, report.funder.scope, NOTE, stream)
    lines = {(line[4], line[5]): line[6] for line in _csv_lines(stream.getvalue())[1:]}
    assert lines[("referrals", "")] == "5"
    assert lines[("contacts_per_case_month", "")] == ""  # made from 4 contacts


def test_the_screen_rows_are_not_suppressed():
    from core.schemas.reports import ReportRow

    small = ReportRow(section="funder", measure="referrals", value=3, kind="count")
    share = ReportRow(
        section="funder", measure="engaged_percent", value=60.0, kind="percent", counts=(3, 5)
    )
    zero = ReportRow(section="funder", measure="closures", value=0, kind="count")
    assert [r.value for r in report_export.suppress_small_counts([small, share, zero])] == [
        None,
        None,
        0,
    ]
    assert small.value == 3  # the rows the screen shows keep their figures


async def test_the_report_command_writes_the_same_csv_and_xlsx(world, database_url, tmp_path):
    fixture = await january_fixture(world)
    report = await _report(fixture)
    rows = report_export.report_rows(report)
    expected = io.StringIO()
    report_export.write_csv(rows, report.funder.scope, NOTE, expected)

    env = {**os.environ, "DATABASE_URL": database_url, "COLUMNS": "200"}
    outputs = {}
    for export_format in ("csv", "xlsx"):
        path = tmp_path / f"report.{export_format}"
        result = await asyncio.to_thread(
            subprocess.run,
            [sys.executable, "-m", "cli", "report", "--as", "service_manager.her@test.invalid"]
            + ["--site", "HER", "--from", "2026-01-01", "--to", "2026-01-31"]
            + ["--format", export_format, "--output", str(path)],
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert result.returncode == 0, result.stderr
        assert "Wrote" in result.stdout and "HER" in result.stdout
        outputs[export_format] = path
    csv_lines = _csv_lines(outputs["csv"].read_text(encoding="utf-8"))
    xlsx_lines = [[_as_text(v) for v in line] for line in _xlsx_lines(outputs["xlsx"])]
    assert csv_lines == xlsx_lines
    # Same figures as the service; only the note's wording is the command's own.
    assert csv_lines[:-1] == _csv_lines(expected.getvalue())[:-1]
    assert csv_lines[-1][3:5] == ["note", "suppression"] and "suppressed" in csv_lines[-1][6]


async def test_the_report_command_refuses_a_case_manager(world, database_url, tmp_path):
    await january_fixture(world)
    env = {**os.environ, "DATABASE_URL": database_url, "COLUMNS": "200"}
    result = await asyncio.to_thread(
        subprocess.run,
        [sys.executable, "-m", "cli", "report", "--as", "case_manager.her@test.invalid"]
        + ["--site", "all", "--from", "2026-01-01", "--to", "2026-01-31"]
        + ["--output", str(tmp_path / "r.csv")],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 1
    assert not (tmp_path / "r.csv").exists()
