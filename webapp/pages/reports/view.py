"""Reports: the funder return and the outcome measures, for service managers and admins.

The user picks a period (two dates, or a quick choice such as "Last quarter") and a site (one,
or every site where they may view reports); the page shows every figure of
``core.services.reports.build_report`` as the rows of ``report_export.report_rows``, in
tables, with a few bar charts drawn from the same figures. Each chart is a picture for sighted
readers, hidden from assistive technology; its table carries the same figures, so nothing is
only in a chart.

The screen shows the figures as they are (the people allowed here may see the cases behind
them); the CSV and XLSX downloads are made by ``report_export`` from a fresh ``build_report``
for the same inputs, with counts from 1 to 4 left blank and a note saying so. Core decides who
may see any of this (``Action.REPORT_VIEW``); anyone else sees "You cannot see this page" and
no figures.
"""

from __future__ import annotations

from typing import Any

import reflex as rx

from ui.i18n import SOURCE_LOCALE
from webapp.components import report_labels
from webapp.components.forms import button, date_input, error_summary, field_error
from webapp.components.layout import role_page
from webapp.i18n import _, translator
from webapp.pages.reports.state import PRESET_LABELS, ReportsState
from webapp.state import AppState


def _suppression_note() -> rx.Var | str:
    """The exports' note, as the files word it, in the reader's language."""
    source = report_labels.suppression_note(translator(SOURCE_LOCALE))
    welsh = report_labels.suppression_note(translator("cy"))
    return source if welsh == source else rx.cond(AppState.locale == "cy", welsh, source)


def _date_field(name: str, title: Any, value: rx.Var, error: rx.Var) -> rx.Component:
    return rx.el.div(
        date_input(
            name=name,
            legend=title,
            hint=_("For example, 27 3 2026"),
            error=error,
            defaults=(value[0], value[1], value[2]),
        ),
        # A quick choice changes the dates: draw the fields again with them.
        key=value[0] + "-" + value[1] + "-" + value[2],
    )


def _presets() -> rx.Component:
    return rx.el.nav(
        rx.el.h2(_("Quick choices"), id="presets-heading", class_name="heading-xs"),
        rx.el.ul(
            *[
                rx.el.li(
                    rx.el.button(
                        _(text),
                        type="button",
                        on_click=ReportsState.choose_preset(key),
                        class_name="button button-secondary",
                    )
                )
                for key, text in PRESET_LABELS
            ],
            class_name="button-group plain-list",
        ),
        aria_labelledby="presets-heading",
    )


def _picker() -> rx.Component:
    state = ReportsState
    site_in_error = state.site_error != ""
    return rx.el.section(
        rx.el.h2(_("Period and site"), id="picker-heading", class_name="heading-m"),
        _presets(),
        rx.el.form(
            rx.el.div(
                _date_field("period_from", _("First day"), state.period_from, state.from_error),
                _date_field("period_to", _("Last day"), state.period_to, state.to_error),
                class_name="date-range",
            ),
            rx.el.div(
                rx.el.label(_("Site"), html_for="site", class_name="label"),
                field_error(state.site_error, "site-error"),
                rx.el.select(
                    rx.foreach(
                        state.site_choices,
                        lambda choice: rx.el.option(choice.label, value=choice.id),
                    ),
                    id="site",
                    name="site",
                    # Not controlled: a controlled select snaps back to the old choice until the
                    # server answers, so a quick "Show figures" sent the old site. The change is
                    # still told to the state, for the quick choices; the key draws the select
                    # again when the load brings the choices.
                    default_value=state.site,
                    on_change=ReportsState.set_site,
                    key=state.site_choices.length().to_string(),
                    class_name=rx.cond(site_in_error, "select input-error", "select"),
                    aria_describedby=rx.cond(site_in_error, "site-error", ""),
                ),
                class_name=rx.cond(site_in_error, "form-group form-group-error", "form-group"),
            ),
            button(_("Show figures"), type="submit"),
            on_submit=ReportsState.show,
            no_validate=True,
        ),
        aria_labelledby="picker-heading",
        class_name="report-picker",
    )


def _table(group: str, title: str, *chart: rx.Component) -> rx.Component:
    """A group's heading, its chart (if any), then its table of figures."""
    heading_id = f"table-{group}"
    return rx.el.div(
        rx.el.h3(_(title), id=heading_id, class_name="heading-s"),
        *chart,
        rx.el.table(
            rx.el.thead(
                rx.el.tr(
                    rx.el.th(_("Measure"), scope="col", class_name="table-header"),
                    rx.el.th(_("Figure"), scope="col", class_name="table-header table-number"),
                )
            ),
            rx.el.tbody(
                rx.foreach(
                    ReportsState.rows[group],
                    lambda row: rx.el.tr(
                        rx.el.th(row.label, scope="row", class_name="table-cell"),
                        rx.el.td(row.value, class_name="table-cell table-number"),
                        key=row.key,
                        custom_attrs={"data-key": row.key},
                    ),
                )
            ),
            aria_labelledby=heading_id,
            class_name="table",
        ),
        class_name="report-group",
    )


def _bar_chart(
    data: rx.Var, caption: Any, series: list[tuple[str, Any, str]], *, percent: bool
) -> rx.Component:
    """Horizontal bars, one row per item of ``data`` (``name`` and the ``series`` keys).

    A picture only: hidden from assistive technology, with a caption saying the figures are
    in the table below it."""
    bars = [
        rx.recharts.bar(
            data_key=key, name=name, fill=colour, is_animation_active=False, bar_size=18
        )
        for key, name, colour in series
    ]
    chart = rx.recharts.bar_chart(
        rx.recharts.cartesian_grid(stroke_dasharray="3 3", horizontal=False),
        rx.recharts.x_axis(
            type_="number",
            domain=[0, 100] if percent else [0, "auto"],
            allow_decimals=False,
            tick={"fill": "#0b0c0c", "fontSize": 14},
            unit="%" if percent else "",
        ),
        rx.recharts.y_axis(
            data_key="name",
            type_="category",
            width=130,
            tick={"fill": "#0b0c0c", "fontSize": 14},
        ),
        *bars,
        *(
            # In series order (Recharts sorts a legend by name unless told otherwise).
            [rx.recharts.legend(custom_attrs={"itemSorter": "dataKey"})] if len(series) > 1 else []
        ),
        data=data,
        layout="vertical",
        width="100%",
        height=len(series) * 110 + 120 if len(series) > 1 else 230,
        margin={"top": 10, "right": 20, "bottom": 10, "left": 0},
        custom_attrs={"accessibilityLayer": False},
    )
    return rx.el.figure(
        rx.el.figcaption(caption, class_name="chart-caption"),
        rx.el.div(chart, aria_hidden="true", class_name="report-chart"),
        class_name="chart",
    )


def _figures() -> rx.Component:
    state = ReportsState
    tables = {group: (section, title) for group, section, title, _m in report_labels.GROUPS}
    funder = [g for g, (section, _t) in tables.items() if section == report_labels.FUNDER]
    outcomes = [g for g, (section, _t) in tables.items() if section == report_labels.OUTCOMES]

    def block(group: str) -> rx.Component:
        parts: list[rx.Component] = []
        if group == "work-mix":
            parts.append(
                rx.cond(
                    state.has_contacts,
                    _bar_chart(
                        state.work_mix,
                        _(
                            "Chart: share of contacts with each kind of work. The figures are "
                            "in the table below."
                        ),
                        [("first", _("Share of contacts"), "#1d70b8")],
                        percent=True,
                    ),
                )
            )
        elif group == "abuse":
            parts.append(
                rx.cond(
                    state.has_abuse,
                    _bar_chart(
                        state.abuse,
                        _(
                            "Chart: share using each kind of abuse at the start and at closure. "
                            "The figures are in the table below."
                        ),
                        [
                            ("first", _("At the start"), "#1d70b8"),
                            ("second", _("At closure"), "#912b88"),
                        ],
                        percent=True,
                    ),
                )
            )
        elif group == "marac-police":
            parts.append(
                rx.cond(
                    state.has_before_after,
                    _bar_chart(
                        state.before_after,
                        _(
                            "Chart: MARAC appearances and police incidents in the 6 months "
                            "before allocation and after closure. The figures are in the table "
                            "below."
                        ),
                        [
                            ("first", _("Before allocation"), "#1d70b8"),
                            ("second", _("After closure"), "#912b88"),
                        ],
                        percent=False,
                    ),
                )
            )
        return _table(group, tables[group][1], *parts)

    return rx.fragment(
        rx.el.p(
            state.scope_text,
            id="report-scope",
            tab_index=-1,
            role="status",
            class_name="report-scope",
        ),
        rx.el.section(
            rx.el.h2(_("Download"), id="download-heading", class_name="heading-m"),
            rx.el.p(_("The files hold the same figures as this page, except:"), class_name="hint"),
            rx.el.p(_suppression_note(), class_name="inset-text"),
            rx.el.div(
                button(
                    _("Download CSV"),
                    variant="button-secondary",
                    type="button",
                    on_click=ReportsState.download_csv,
                ),
                button(
                    _("Download XLSX"),
                    variant="button-secondary",
                    type="button",
                    on_click=ReportsState.download_xlsx,
                ),
                class_name="button-group",
            ),
            aria_labelledby="download-heading",
        ),
        rx.el.section(
            rx.el.h2(_("Funder return"), id="funder-heading", class_name="heading-m"),
            *[block(group) for group in funder],
            aria_labelledby="funder-heading",
            class_name="report-section",
        ),
        rx.el.section(
            rx.el.h2(_("Outcome measures"), id="outcomes-heading", class_name="heading-m"),
            rx.el.p(
                _(
                    "Over the cases closed in the period. Abuse, risk, MARAC and police figures "
                    "compare the start of the work with its end."
                ),
                class_name="hint",
            ),
            *[block(group) for group in outcomes],
            aria_labelledby="outcomes-heading",
            class_name="report-section",
        ),
    )


def _reports() -> rx.Component:
    return rx.el.div(
        error_summary(ReportsState.errors),
        _picker(),
        rx.cond(ReportsState.has_report, _figures()),
        class_name="reports-page",
    )


def reports_page() -> rx.Component:
    return role_page(
        _("Reports"),
        ReportsState,
        _reports(),
        _(
            "Reports are for service managers and administrators. If you need them, ask "
            "your administrator."
        ),
    )
