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

import io
import tempfile
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import reflex as rx

from core.areas import Offer, offers
from core.enums import WorkCategory
from core.errors import DomainError
from core.schemas.actor import Actor
from core.schemas.reports import Report
from core.services import report_export, reports
from ui.errors import error_message
from ui.i18n import N_, SOURCE_LOCALE, Translator
from ui.labels import label
from webapp import routes
from webapp.components import report_labels
from webapp.components.forms import button, error_summary, field_error, focus
from webapp.components.layout import not_allowed, page
from webapp.i18n import _, translator
from webapp.state import AppState

ALL_SITES = "all"
FINANCIAL_YEAR_START_MONTH = 4  # 1 April

MISSING_FROM = N_("Enter the first day of the period")
MISSING_TO = N_("Enter the last day of the period")
TO_BEFORE_FROM = N_("The last day must be the same as or after the first day")
CHOOSE_SITE = N_("Choose a site, or all your sites")

XLSX_MIME = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


# --- Periods ----------------------------------------------------------------------------------


def _quarter_start(day: date) -> date:
    return date(day.year, 3 * ((day.month - 1) // 3) + 1, 1)


def _financial_year_start(day: date) -> date:
    year = day.year if day.month >= FINANCIAL_YEAR_START_MONTH else day.year - 1
    return date(year, FINANCIAL_YEAR_START_MONTH, 1)


def preset_periods(today: date) -> dict[str, tuple[date, date]]:
    """The quick choices, by key: whole quarters and financial years (from 1 April), or the
    current one up to today."""
    this_quarter = _quarter_start(today)
    last_quarter_end = this_quarter - timedelta(days=1)
    this_year = _financial_year_start(today)
    last_year = _financial_year_start(this_year - timedelta(days=1))
    return {
        "last_quarter": (_quarter_start(last_quarter_end), last_quarter_end),
        "this_quarter": (this_quarter, today),
        "last_financial_year": (last_year, this_year - timedelta(days=1)),
        "this_financial_year": (this_year, today),
    }


_DATE_FIELDS = frozenset({"period_from", "period_to"})  # core names them as this form does
PRESET_LABELS = (
    ("last_quarter", N_("Last quarter")),
    ("this_quarter", N_("This quarter so far")),
    ("last_financial_year", N_("Last financial year")),
    ("this_financial_year", N_("This financial year so far")),
)


def _parse_day(text: str) -> date | None:
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        return None


# --- What the page shows ----------------------------------------------------------------------


def table_rows(report: Report, words: Translator) -> dict[str, list[dict[str, str]]]:
    """Every row of ``report_rows``, unsuppressed, in the reader's words, by table."""
    tables: dict[str, list[dict[str, str]]] = {group: [] for group, *_rest in report_labels.GROUPS}
    for row in report_export.report_rows(report):
        tables[report_labels.GROUP_OF_MEASURE[row.measure]].append(
            {
                "key": f"{row.measure}|{row.breakdown}",
                "label": report_labels.row_label(row, words),
                "value": report_labels.format_value(row, words),
            }
        )
    return tables


def _percent(value: float | None) -> float:
    return value if value is not None else 0.0


def work_mix_chart(report: Report, words: Translator) -> list[dict[str, Any]]:
    mix = report.funder.work_mix
    return [
        {"name": label(category, words), "first": _percent(mix[category].percent)}
        for category in WorkCategory
    ]


def abuse_chart(report: Report, words: Translator) -> list[dict[str, Any]]:
    return [
        {
            "name": label(change.abuse_type, words),
            "first": _percent(change.at_start.percent),
            "second": _percent(change.at_closure.percent),
        }
        for change in report.outcomes.abuse
    ]


def before_after_chart(report: Report, words: Translator) -> list[dict[str, Any]]:
    outcomes = report.outcomes
    # Looked up first: Babel would take a subscript inside gettext(...) for a message.
    marac, incidents = (
        report_labels.MEASURE_LABELS[code] for code in ("marac_appearances", "police_incidents")
    )
    return [
        {
            "name": words.gettext(marac),
            "first": outcomes.marac_before,
            "second": outcomes.marac_after,
        },
        {
            "name": words.gettext(incidents),
            "first": outcomes.police_incidents_before,
            "second": outcomes.police_incidents_after,
        },
    ]


def _export_name(report: Report, extension: str) -> str:
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


class ReportsState(AppState):
    allowed: bool = True
    loaded: bool = False
    site_choices: list[dict[str, str]] = []  # {"id", "label"}
    # The form's answers (ISO dates; a site id or ALL_SITES) and what the figures are for.
    period_from: str = ""
    period_to: str = ""
    site: str = ALL_SITES
    shown_from: str = ""
    shown_to: str = ""
    shown_site: str = ""
    has_report: bool = False
    scope_text: str = ""
    rows: dict[str, list[dict[str, str]]] = {group: [] for group, *_r in report_labels.GROUPS}
    work_mix: list[dict[str, Any]] = []
    abuse: list[dict[str, Any]] = []
    before_after: list[dict[str, Any]] = []
    has_contacts: bool = False
    has_abuse: bool = False
    has_before_after: bool = False
    errors: list[dict[str, str]] = []
    from_error: str = ""
    to_error: str = ""
    site_error: str = ""

    def _clear_errors(self) -> None:
        self.errors = []
        self.from_error = self.to_error = self.site_error = ""

    def _fail(self, field: str, message: str) -> None:
        setattr(self, f"{field.removeprefix('period_')}_error", message)
        self.errors = [*self.errors, {"field": field, "message": message}]

    def _today(self) -> date:
        from webapp.backend import container

        return translator(self.locale).local(container().clock.now()).date()

    async def _site_choices(self, actor: Actor, words: Translator) -> None:
        from webapp.backend import container

        known = await reports.report_sites(uow=container().uow(), actor=actor)
        choices = [{"id": ALL_SITES, "label": words.gettext("All my sites")}] if known else []
        self.site_choices = choices + [
            {
                "id": str(s.site_id),
                "label": words.gettext("{name} ({code})", name=s.name, code=s.code),
            }
            for s in known
        ]

    async def _show(self, actor: Actor, period_from: date, period_to: date, site: str) -> None:
        """Work out the figures for these answers and show them (or the error)."""
        from webapp.backend import container

        words = translator(self.locale)
        try:
            report = await reports.build_report(
                uow=container().uow(),
                actor=actor,
                site_id=None if site == ALL_SITES else int(site),
                period_from=period_from,
                period_to=period_to,
            )
        except DomainError as error:  # not permitted there, or a year such as 0001 or 9999
            self.has_report = False
            field = str(error.details.get("field", ""))
            self._fail(field if field in _DATE_FIELDS else "site", error_message(error, words))
            return
        self.shown_from, self.shown_to, self.shown_site = (
            period_from.isoformat(),
            period_to.isoformat(),
            site,
        )
        names = {c["id"]: c["label"] for c in self.site_choices}
        self.scope_text = words.gettext(
            "Figures for {sites}, {first} to {last}.",
            sites=names.get(site, " ".join(report.funder.scope.site_codes)),
            first=words.format_date(period_from, "d MMMM yyyy"),
            last=words.format_date(period_to, "d MMMM yyyy"),
        )
        self.rows = table_rows(report, words)
        self.work_mix = work_mix_chart(report, words)
        self.abuse = abuse_chart(report, words)
        self.before_after = before_after_chart(report, words)
        self.has_contacts = report.funder.contacts > 0
        self.has_abuse = any(change.recorded > 0 for change in report.outcomes.abuse)
        self.has_before_after = any(
            point["first"] or point["second"] for point in self.before_after
        )
        self.has_report = True

    @rx.event
    async def load(self) -> rx.event.EventSpec | None:
        actor = await self.actor()
        if actor is None:
            return rx.redirect(routes.SIGN_IN, replace=True)
        self._clear_errors()
        self.allowed = offers(actor, Offer.REPORTS)
        if not self.allowed:
            self.site_choices, self.has_report = [], False
            self.rows = {group: [] for group in self.rows}
            self.loaded = True
            return None
        words = translator(self.locale)
        await self._site_choices(actor, words)
        if self.site not in {c["id"] for c in self.site_choices}:
            self.site = ALL_SITES
        if self.shown_from and self.shown_to:  # a language switch: the same figures, reworded
            first, last, site = self.shown_from, self.shown_to, self.shown_site
        else:
            default_from, default_to = preset_periods(self._today())["last_quarter"]
            first, last, site = default_from.isoformat(), default_to.isoformat(), self.site
        self.period_from, self.period_to, self.site = first, last, site
        await self._show(actor, date.fromisoformat(first), date.fromisoformat(last), site)
        self.loaded = True
        return None

    @rx.event
    async def show(self, form: dict[str, Any]) -> rx.event.EventSpec | None:
        actor = await self.actor()
        if actor is None:
            return rx.redirect(routes.SIGN_IN, replace=True)
        words = translator(self.locale)
        self._clear_errors()
        self.period_from = str(form.get("period_from") or "")
        self.period_to = str(form.get("period_to") or "")
        self.site = str(form.get("site") or "")
        first, last = _parse_day(self.period_from), _parse_day(self.period_to)
        if first is None:
            self._fail("period_from", words.gettext(MISSING_FROM))
        if last is None:
            self._fail("period_to", words.gettext(MISSING_TO))
        elif first is not None and last < first:
            self._fail("period_to", words.gettext(TO_BEFORE_FROM))
        if self.site not in {c["id"] for c in self.site_choices}:
            self._fail("site", words.gettext(CHOOSE_SITE))
        if self.errors or first is None or last is None:
            return focus("error-summary")
        await self._show(actor, first, last, self.site)
        return focus("error-summary") if self.errors else focus("report-scope")

    @rx.event
    def set_site(self, site: str) -> None:
        self.site = site

    @rx.event
    async def choose_preset(self, key: str) -> rx.event.EventSpec | None:
        actor = await self.actor()
        if actor is None:
            return rx.redirect(routes.SIGN_IN, replace=True)
        periods = preset_periods(self._today())
        if key not in periods:
            return None
        self._clear_errors()
        first, last = periods[key]
        self.period_from, self.period_to = first.isoformat(), last.isoformat()
        if self.site not in {c["id"] for c in self.site_choices}:
            self.site = ALL_SITES
        await self._show(actor, first, last, self.site)
        return focus("report-scope")

    async def _report_for_download(self) -> tuple[Report, Translator] | None:
        from webapp.backend import container

        actor = await self.actor()
        if actor is None or not self.has_report:
            return None
        words = translator(self.locale)
        try:
            report = await reports.build_report(
                uow=container().uow(),
                actor=actor,
                site_id=None if self.shown_site == ALL_SITES else int(self.shown_site),
                period_from=date.fromisoformat(self.shown_from),
                period_to=date.fromisoformat(self.shown_to),
            )
        except DomainError as error:
            self._clear_errors()
            self._fail("site", error_message(error, words))
            return None
        return report, words

    @rx.event
    async def download_csv(self) -> rx.event.EventSpec | None:
        made = await self._report_for_download()
        if made is None:
            return None
        report, words = made
        return rx.download(
            data=report_csv(report, words),
            filename=_export_name(report, "csv"),
            mime_type="text/csv",
        )

    @rx.event
    async def download_xlsx(self) -> rx.event.EventSpec | None:
        made = await self._report_for_download()
        if made is None:
            return None
        report, words = made
        return rx.download(
            data=report_xlsx(report, words),
            filename=_export_name(report, "xlsx"),
            mime_type=XLSX_MIME,
        )


# --- the page ---------------------------------------------------------------------------------


def _suppression_note() -> rx.Var | str:
    """The exports' note, as the files word it, in the reader's language."""
    source = report_labels.suppression_note(translator(SOURCE_LOCALE))
    welsh = report_labels.suppression_note(translator("cy"))
    return source if welsh == source else rx.cond(AppState.locale == "cy", welsh, source)


def _not_allowed() -> rx.Component:
    return not_allowed(
        _(
            "Reports are for service managers and administrators. If you need them, ask "
            "your administrator."
        )
    )


def _date_field(name: str, title: Any, value: rx.Var, error: rx.Var) -> rx.Component:
    in_error = error != ""
    return rx.el.div(
        rx.el.label(title, html_for=name, class_name="label"),
        field_error(error, f"{name}-error"),
        rx.el.input(
            type="date",
            id=name,
            name=name,
            default_value=value,
            key=value,  # a quick choice changes the value: draw the field again with it
            class_name=rx.cond(in_error, "input input-date input-error", "input input-date"),
            aria_describedby=rx.cond(in_error, f"{name}-error", ""),
        ),
        class_name=rx.cond(in_error, "form-group form-group-error", "form-group"),
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
                        lambda choice: rx.el.option(choice["label"], value=choice["id"]),
                    ),
                    id="site",
                    name="site",
                    value=state.site,
                    on_change=ReportsState.set_site,
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
                        rx.el.th(row["label"], scope="row", class_name="table-cell"),
                        rx.el.td(row["value"], class_name="table-cell table-number"),
                        key=row["key"],
                        custom_attrs={"data-key": row["key"]},
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
    return page(
        _("Reports"),
        rx.cond(
            ReportsState.loaded,
            rx.cond(ReportsState.allowed, _reports(), _not_allowed()),
        ),
        on_language_change=[ReportsState.load],
    )
