"""What the Reports page shows of a report (its table rows and charts) and the files it offers
(the CSV and XLSX of ``report_export``, small counts suppressed), in the reader's words."""

from __future__ import annotations

import io
import tempfile
from dataclasses import dataclass
from pathlib import Path

from core.enums import WorkCategory
from core.schemas.reports import Report
from core.services import report_export
from ui.i18n import Translator
from ui.labels import label
from webapp.components import report_labels


@dataclass(frozen=True)
class FigureRow:
    """One row of a table of figures: ``key`` names the measure and breakdown."""

    key: str
    label: str
    value: str


@dataclass(frozen=True)
class ChartPoint:
    """One bar (or pair of bars) of a chart: ``second`` is 0 for a chart of one series."""

    name: str
    first: float
    second: float = 0.0


def table_rows(report: Report, words: Translator) -> dict[str, list[FigureRow]]:
    """Every row of ``report_rows``, unsuppressed, in the reader's words, by table."""
    tables: dict[str, list[FigureRow]] = {group: [] for group, *_rest in report_labels.GROUPS}
    for row in report_export.report_rows(report):
        tables[report_labels.GROUP_OF_MEASURE[row.measure]].append(
            FigureRow(
                key=f"{row.measure}|{row.breakdown}",
                label=report_labels.row_label(row, words),
                value=report_labels.format_value(row, words),
            )
        )
    return tables


def _percent(value: float | None) -> float:
    return value if value is not None else 0.0


def work_mix_chart(report: Report, words: Translator) -> list[ChartPoint]:
    mix = report.funder.work_mix
    return [
        ChartPoint(name=label(category, words), first=_percent(mix[category].percent))
        for category in WorkCategory
    ]


def abuse_chart(report: Report, words: Translator) -> list[ChartPoint]:
    return [
        ChartPoint(
            name=label(change.abuse_type, words),
            first=_percent(change.at_start.percent),
            second=_percent(change.at_closure.percent),
        )
        for change in report.outcomes.abuse
    ]


def before_after_chart(report: Report, words: Translator) -> list[ChartPoint]:
    outcomes = report.outcomes
    # Looked up first: Babel would take a subscript inside gettext(...) for a message.
    marac, incidents = (
        report_labels.MEASURE_LABELS[code] for code in ("marac_appearances", "police_incidents")
    )
    return [
        ChartPoint(
            name=words.gettext(marac), first=outcomes.marac_before, second=outcomes.marac_after
        ),
        ChartPoint(
            name=words.gettext(incidents),
            first=outcomes.police_incidents_before,
            second=outcomes.police_incidents_after,
        ),
    ]


def export_name(report: Report, extension: str) -> str:
    scope = report.funder.scope
    sites = "-".join(scope.site_codes)
    first, last = scope.period_from.isoformat(), scope.period_to.isoformat()
    return f"drive-assist-report-{sites}-{first}-to-{last}.{extension}"


def report_csv(report: Report, words: Translator) -> str:
    """The download: ``report_export``'s CSV (small counts suppressed) with the note."""
    stream = io.StringIO()
    report_export.write_csv(
        report_export.report_rows(report),
        report.funder.scope,
        report_labels.suppression_note(words),
        stream,
    )
    return stream.getvalue()


def report_xlsx(report: Report, words: Translator) -> bytes:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "report.xlsx"
        report_export.write_xlsx(
            report_export.report_rows(report),
            report.funder.scope,
            report_labels.suppression_note(words),
            path,
        )
        return path.read_bytes()
