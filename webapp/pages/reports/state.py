"""The Reports page's state: the period and site asked for, and the figures for them, from one
core read (``core.services.reports.report_page``); each download builds the report afresh."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import date, timedelta
from typing import Any

import reflex as rx

from core.areas import Offer, offer_sites
from core.errors import DomainError
from core.schemas.reports import Report, ReportPage
from core.services import reports
from ui.i18n import N_, Translator
from webapp.components import report_labels
from webapp.components.forms import DATE_PARTS, FieldError, date_parts, focus, parse_date_parts
from webapp.handlers import Caller, signed_in
from webapp.pages.reports.figures import (
    FigureRow,
    abuse_chart,
    before_after_chart,
    export_name,
    report_csv,
    report_xlsx,
    table_rows,
    work_mix_chart,
)
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


def _site_id(site: str) -> int | None:
    return None if site == ALL_SITES else int(site)


def _today(caller: Caller) -> date:
    return caller.words.local(caller.container.clock.now()).date()


@dataclass(frozen=True)
class SiteOption:
    id: str  # a site's id, or ALL_SITES
    label: str


class ReportsState(AppState):
    allowed: bool = True
    loaded: bool = False
    site_choices: list[SiteOption] = []
    # The form's answers (ISO dates; a site id or ALL_SITES) and what the figures are for.
    period_from: list[str] = ["", "", ""]  # day, month, year as typed
    period_to: list[str] = ["", "", ""]
    site: str = ALL_SITES
    shown_from: str = ""
    shown_to: str = ""
    shown_site: str = ""
    has_report: bool = False
    scope_text: str = ""
    rows: dict[str, list[FigureRow]] = {group: [] for group, *_r in report_labels.GROUPS}
    # The charts' points (``ChartPoint``) as dicts: Recharts takes its data in that shape.
    work_mix: list[dict[str, Any]] = []
    abuse: list[dict[str, Any]] = []
    before_after: list[dict[str, Any]] = []
    has_contacts: bool = False
    has_abuse: bool = False
    has_before_after: bool = False
    errors: list[FieldError] = []
    from_error: str = ""
    to_error: str = ""
    site_error: str = ""

    def _clear_messages(self) -> None:
        self.errors = []
        self.from_error = self.to_error = self.site_error = ""

    def _fail(self, field: str, message: str) -> None:
        setattr(self, f"{field.removeprefix('period_')}_error", message)
        self.errors = [*self.errors, FieldError(field, message)]

    def _show_error(self, message: str, error: DomainError) -> rx.event.EventSpec:
        """Not permitted there, or a year such as 0001 or 9999: by the field it is about."""
        field = str(error.details.get("field", ""))
        self._fail(field if field in _DATE_FIELDS else "site", message)
        return focus("error-summary")

    def _choices(self, shown: ReportPage, words: Translator) -> None:
        everywhere = [SiteOption(ALL_SITES, words.gettext("All my sites"))] if shown.sites else []
        self.site_choices = everywhere + [
            SiteOption(str(s.site_id), words.gettext("{name} ({code})", name=s.name, code=s.code))
            for s in shown.sites
        ]

    def _figures(self, report: Report, words: Translator) -> None:
        self.rows = table_rows(report, words)
        before_after = before_after_chart(report, words)
        self.work_mix = [asdict(point) for point in work_mix_chart(report, words)]
        self.abuse = [asdict(point) for point in abuse_chart(report, words)]
        self.before_after = [asdict(point) for point in before_after]
        self.has_contacts = report.funder.contacts > 0
        self.has_abuse = any(change.recorded > 0 for change in report.outcomes.abuse)
        self.has_before_after = any(point.first or point.second for point in before_after)
        self.has_report = True

    async def _show(self, caller: Caller, first: date, last: date, site: str) -> None:
        """Work out the figures for these answers and show them (core's refusal: the error)."""
        self.has_report = False
        shown = await reports.report_page(
            uow=caller.uow(),
            actor=caller.actor,
            site_id=_site_id(site),
            period_from=first,
            period_to=last,
        )
        words = caller.words
        self._choices(shown, words)
        self.shown_from, self.shown_to, self.shown_site = first.isoformat(), last.isoformat(), site
        names = {choice.id: choice.label for choice in self.site_choices}
        self.scope_text = words.gettext(
            "Figures for {sites}, {first} to {last}.",
            sites=names.get(site, " ".join(shown.report.funder.scope.site_codes)),
            first=words.format_date(first, "d MMMM yyyy"),
            last=words.format_date(last, "d MMMM yyyy"),
        )
        self._figures(shown.report, words)

    def _known_site(self, caller: Caller, site: str) -> str:
        """``site`` if the person may still report on it, else all their sites."""
        allowed = {str(site_id) for site_id in offer_sites(caller.actor, Offer.REPORTS)}
        return site if site in allowed else ALL_SITES

    @rx.event
    @signed_in
    async def load(self, caller: Caller) -> None:
        self.allowed = bool(offer_sites(caller.actor, Offer.REPORTS))
        if not self.allowed:
            self.site_choices, self.has_report = [], False
            self.rows = {group: [] for group in self.rows}
            self.loaded = True
            return
        if self.shown_from and self.shown_to:  # a language switch: the same figures, reworded
            first, last, site = self.shown_from, self.shown_to, self.shown_site
        else:
            default_from, default_to = preset_periods(_today(caller))["last_quarter"]
            first, last, site = default_from.isoformat(), default_to.isoformat(), self.site
        site = self._known_site(caller, site)
        self.period_from = list(date_parts(date.fromisoformat(first)))
        self.period_to = list(date_parts(date.fromisoformat(last)))
        self.site = site
        self.loaded = True
        await self._show(caller, date.fromisoformat(first), date.fromisoformat(last), site)

    def _read_answers(self, form: dict[str, Any], words: Translator) -> tuple[date, date] | None:
        """The form's period, or None with each problem shown by its field."""
        self.period_from = [str(form.get(f"period_from_{p}") or "") for p, *_ in DATE_PARTS]
        self.period_to = [str(form.get(f"period_to_{p}") or "") for p, *_ in DATE_PARTS]
        self.site = str(form.get("site") or "")
        first = parse_date_parts(form, "period_from")
        last = parse_date_parts(form, "period_to")
        if first is None:
            self._fail("period_from", words.gettext(MISSING_FROM))
        if last is None:
            self._fail("period_to", words.gettext(MISSING_TO))
        elif first is not None and last < first:
            self._fail("period_to", words.gettext(TO_BEFORE_FROM))
        if self.site not in {choice.id for choice in self.site_choices}:
            self._fail("site", words.gettext(CHOOSE_SITE))
        return None if self.errors or first is None or last is None else (first, last)

    @rx.event
    @signed_in
    async def show(self, caller: Caller, form: dict[str, Any]) -> rx.event.EventSpec:
        period = self._read_answers(form, caller.words)
        if period is None:
            return focus("error-summary")
        await self._show(caller, *period, self.site)
        return focus("report-scope")

    @rx.event
    def set_site(self, site: str) -> None:
        self.site = site

    @rx.event
    @signed_in
    async def choose_preset(self, caller: Caller, key: str) -> rx.event.EventSpec | None:
        periods = preset_periods(_today(caller))
        if key not in periods:
            return None
        first, last = periods[key]
        self.period_from, self.period_to = list(date_parts(first)), list(date_parts(last))
        if self.site not in {choice.id for choice in self.site_choices}:
            self.site = ALL_SITES
        await self._show(caller, first, last, self.site)
        return focus("report-scope")

    async def _report_for_download(self, caller: Caller) -> Report:
        """The figures shown, built afresh (a live session, and nothing kept in the state)."""
        return await reports.build_report(
            uow=caller.uow(),
            actor=caller.actor,
            site_id=_site_id(self.shown_site),
            period_from=date.fromisoformat(self.shown_from),
            period_to=date.fromisoformat(self.shown_to),
        )

    @rx.event
    @signed_in
    async def download_csv(self, caller: Caller) -> rx.event.EventSpec | None:
        if not self.has_report:
            return None
        report = await self._report_for_download(caller)
        data = report_csv(report, caller.words)
        return rx.download(data=data, filename=export_name(report, "csv"), mime_type="text/csv")

    @rx.event
    @signed_in
    async def download_xlsx(self, caller: Caller) -> rx.event.EventSpec | None:
        if not self.has_report:
            return None
        report = await self._report_for_download(caller)
        data = report_xlsx(report, caller.words)
        return rx.download(data=data, filename=export_name(report, "xlsx"), mime_type=XLSX_MIME)
