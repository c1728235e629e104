"""The report as a flat table, and its CSV and XLSX exports with small counts suppressed.

``report_rows`` turns a ``Report`` into rows of (section, measure, breakdown, value): the web
page shows them as they are; the exports pass them through ``suppress_small_counts`` first
(statistical disclosure control: a count from 1 to 4 is left blank, and so is any share, median
or rate made from one) and always carry a note row saying so. The rows hold codes, site codes and
numbers only: no names, no case references. Faces translate the codes and write the note.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import IO

from openpyxl import Workbook

from core.enums import WorkCategory
from core.schemas.reports import Report, ReportRow, ReportScope, Share

SMALL_COUNT_MAX = 4
HEADER = ("sites", "period_from", "period_to", "section", "measure", "breakdown", "value")
NOTE_SECTION, NOTE_MEASURE = "note", "suppression"


def _count(section: str, measure: str, value: int, breakdown: str = "") -> ReportRow:
    return ReportRow(
        section=section, measure=measure, breakdown=breakdown, value=value, kind="count"
    )


def _share(section: str, measure: str, part: Share, breakdown: str = "") -> list[ReportRow]:
    """The count, and its percentage of ``part.of`` (made from both counts)."""
    return [
        _count(section, measure, part.count, breakdown),
        ReportRow(
            section=section,
            measure=f"{measure}_percent",
            breakdown=breakdown,
            value=part.percent,
            kind="percent",
            counts=(part.count, part.of),
        ),
    ]


def report_rows(report: Report) -> list[ReportRow]:
    """Every figure of the report, in a fixed order, unsuppressed (what the screen shows)."""
    f, o = report.funder, report.outcomes
    rows = [
        _count("funder", "referrals", f.referrals),
        _count("funder", "allocations", f.allocations),
        ReportRow(
            section="funder",
            measure="median_days_referral_to_allocation",
            value=f.median_days_referral_to_allocation,
            kind="median",
            counts=(f.allocations,),
        ),
        _count("funder", "cases_worked", f.cases_worked),
        *_share("funder", "engaged", f.engagement),
        _count("funder", "contacts", f.contacts),
        ReportRow(
            section="funder",
            measure="case_months",
            value=f.case_months,
            kind="months",
            counts=(f.cases_worked,),
        ),
        ReportRow(
            section="funder",
            measure="contacts_per_case_month",
            value=f.contacts_per_case_month,
            kind="rate",
            counts=(f.contacts, f.cases_worked),
        ),
    ]
    for category in WorkCategory:
        rows += _share("funder", "work_mix", f.work_mix[category], category.value)
    rows.append(_count("funder", "interventions", f.interventions))
    for category, n in f.interventions_by_category.items():
        rows.append(_count("funder", "interventions_by_category", n, category.value))
    for code, n in f.interventions_by_kind.items():
        rows.append(_count("funder", "interventions_by_kind", n, code))
    for agency, n in f.interventions_by_agency.items():
        rows.append(_count("funder", "interventions_by_agency", n, agency.value))
    rows.append(_count("funder", "panel_actions_due", f.panel_actions_on_time.of))
    rows += _share("funder", "panel_actions_on_time", f.panel_actions_on_time)
    rows.append(_count("funder", "panel_meetings_held", f.panel_meetings_held))
    rows.append(_count("funder", "panel_meetings_cancelled", f.panel_meetings_cancelled))
    rows.append(_count("funder", "panel_attendance_marked", f.panel_attendance.of))
    rows += _share("funder", "panel_attendance", f.panel_attendance)
    rows.append(_count("funder", "alerts_raised", f.alerts_acknowledged_within_4h.of))
    rows += _share("funder", "alerts_acknowledged_within_4h", f.alerts_acknowledged_within_4h)
    rows.append(_count("funder", "closures", f.closures))
    for reason, n in f.closures_by_reason.items():
        rows.append(_count("funder", "closures_by_reason", n, reason.value))
    rows.append(_count("funder", "open_cases", f.open_cases))
    for cell in f.open_cases_by_stage_and_risk:
        risk = cell.risk_level.value if cell.risk_level else "not_assessed"
        rows.append(
            _count("funder", "open_cases_by_stage_and_risk", cell.cases, f"{cell.stage}/{risk}")
        )

    rows.append(_count("outcomes", "closed_cases", o.closed_cases))
    for change in o.abuse:
        kind = change.abuse_type.value
        rows.append(_count("outcomes", "abuse_recorded", change.recorded, kind))
        rows += _share("outcomes", "abuse_at_start", change.at_start, kind)
        rows += _share("outcomes", "abuse_at_closure", change.at_closure, kind)
        rows.append(
            ReportRow(
                section="outcomes",
                measure="abuse_change_percent",
                breakdown=kind,
                value=change.change_percent,
                kind="percent",
                counts=(change.at_start.count, change.at_closure.count),
            )
        )
    rows += [
        _count("outcomes", "idva_assessed", o.idva_assessed),
        *_share("outcomes", "idva_risk_reduced", o.idva_risk_reduced),
        _count("outcomes", "idva_risk_unchanged", o.idva_risk_unchanged),
        _count("outcomes", "idva_risk_increased", o.idva_risk_increased),
        _count("outcomes", "cases_allocated", o.cases_allocated),
        _count("outcomes", "marac_appearances", o.marac_before, "before_allocation"),
        _count("outcomes", "marac_appearances", o.marac_after, "after_closure"),
        _count("outcomes", "police_incidents", o.police_incidents_before, "before_allocation"),
        _count("outcomes", "police_incidents", o.police_incidents_after, "after_closure"),
    ]
    return rows


def _is_small(n: int) -> bool:
    return 1 <= n <= SMALL_COUNT_MAX


def suppress_small_counts(rows: Iterable[ReportRow]) -> list[ReportRow]:
    """Blank every count from 1 to 4, and every figure made from such a count."""
    suppressed = []
    for row in rows:
        small = (
            row.kind == "count" and isinstance(row.value, int) and _is_small(row.value)
        ) or any(_is_small(n) for n in row.counts)
        suppressed.append(
            row.model_copy(update={"value": None, "suppressed": True}) if small else row
        )
    return suppressed


def export_table(
    rows: Sequence[ReportRow], scope: ReportScope, note: str
) -> list[tuple[str | int | float | None, ...]]:
    """The export's lines, header first and the suppression note last (the same in CSV and XLSX).

    ``rows`` should already be suppressed; ``note`` is the face's translated explanation.
    """
    sites = " ".join(scope.site_codes)
    first, last = scope.period_from.isoformat(), scope.period_to.isoformat()
    lines: list[tuple[str | int | float | None, ...]] = [HEADER]
    for row in rows:
        lines.append((sites, first, last, row.section, row.measure, row.breakdown, row.value))
    lines.append((sites, first, last, NOTE_SECTION, NOTE_MEASURE, "", note))
    return lines


def write_csv(rows: Sequence[ReportRow], scope: ReportScope, note: str, stream: IO[str]) -> None:
    """The suppressed report as CSV (UTF-8 text; a blank value is a suppressed figure)."""
    writer = csv.writer(stream, lineterminator="\n")
    for line in export_table(suppress_small_counts(rows), scope, note):
        writer.writerow(["" if value is None else value for value in line])


def write_xlsx(rows: Sequence[ReportRow], scope: ReportScope, note: str, path: Path) -> None:
    """The suppressed report as one XLSX worksheet, numbers as numbers."""
    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.title = "report"
    for line in export_table(suppress_small_counts(rows), scope, note):
        sheet.append(list(line))
    sheet.freeze_panes = "A2"
    workbook.save(path)
