"""A case's risk history: a step chart of the level over time and the same figures as a table.

The chart is a picture for sighted readers and is hidden from assistive technology; the table
beside it carries every point (date, level, DASH score), so nothing is only in the chart.
"""

from __future__ import annotations

import json
from typing import Any

import reflex as rx

from core.enums import RiskLevel
from core.schemas.risk import RiskAssessmentRead
from ui.i18n import SOURCE_LOCALE, Translator
from ui.labels import label
from webapp.i18n import _, translator
from webapp.state import AppState

# The chart's y axis: higher is riskier.
LEVEL_HEIGHT = {RiskLevel.STANDARD: 1, RiskLevel.MEDIUM: 2, RiskLevel.HIGH: 3}


def risk_points(history: list[RiskAssessmentRead], words: Translator) -> list[dict[str, Any]]:
    """One point per assessment, oldest first, with its date and level in the reader's words."""
    return [
        {
            "key": str(assessment.id),
            "when": words.format_date(assessment.assessed_at, "d MMM yyyy"),
            "when_iso": assessment.assessed_at.isoformat(),
            "height": LEVEL_HEIGHT[assessment.level],
            "level": label(assessment.level, words),
            "dash": "" if assessment.dash_score is None else str(assessment.dash_score),
        }
        for assessment in sorted(history, key=lambda a: (a.assessed_at, a.id))
    ]


def _tick_formatter(locale: str) -> str:
    """A JavaScript function naming each level on the y axis in ``locale``."""
    names = {height: label(level, translator(locale)) for level, height in LEVEL_HEIGHT.items()}
    return f"(value) => ({json.dumps(names)})[value] ?? ''"


def _chart(points: rx.Var, locale: str) -> rx.Component:
    return rx.recharts.line_chart(
        rx.recharts.cartesian_grid(stroke_dasharray="3 3", vertical=False),
        rx.recharts.x_axis(data_key="when", tick={"fill": "#0b0c0c", "fontSize": 14}),
        rx.recharts.y_axis(
            domain=[1, 3],
            ticks=[1, 2, 3],
            allow_decimals=False,
            width=90,
            tick={"fill": "#0b0c0c", "fontSize": 14},
            tick_formatter=_tick_formatter(locale),
        ),
        rx.recharts.line(
            data_key="height",
            type_="stepAfter",
            stroke="#1d70b8",
            stroke_width=3,
            is_animation_active=False,
        ),
        data=points,
        width="100%",
        height=220,
        margin={"top": 10, "right": 20, "bottom": 10, "left": 0},
        custom_attrs={"accessibilityLayer": False},
    )


def risk_history(points: rx.Var) -> rx.Component:
    """The risk section: heading, chart (hidden from screen readers) and the table of points."""
    table = rx.el.table(
        rx.el.caption(_("Risk assessments, oldest first"), class_name="table-caption"),
        rx.el.thead(
            rx.el.tr(
                rx.el.th(_("Date"), scope="col", class_name="table-header"),
                rx.el.th(_("Risk level"), scope="col", class_name="table-header"),
                rx.el.th(_("DASH score"), scope="col", class_name="table-header"),
            )
        ),
        rx.el.tbody(
            rx.foreach(
                points,
                lambda point: rx.el.tr(
                    rx.el.td(
                        rx.el.time(point["when"], date_time=point["when_iso"]),
                        class_name="table-cell",
                    ),
                    rx.el.td(point["level"], class_name="table-cell"),
                    rx.el.td(point["dash"], class_name="table-cell"),
                    key=point["key"],
                ),
            )
        ),
        class_name="table",
    )
    return rx.el.section(
        rx.el.h2(_("Risk history"), id="risk-history", class_name="heading-m"),
        rx.cond(
            points.length() > 0,  # type: ignore[attr-defined]
            rx.fragment(
                rx.el.div(
                    rx.cond(
                        AppState.locale == "cy",
                        _chart(points, "cy"),
                        _chart(points, SOURCE_LOCALE),
                    ),
                    aria_hidden="true",
                    class_name="risk-chart",
                ),
                table,
            ),
            rx.el.p(_("No risk assessments have been recorded.")),
        ),
        aria_labelledby="risk-history",
        class_name="case-section",
    )
