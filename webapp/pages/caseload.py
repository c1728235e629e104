"""Caseload: the signed-in case manager's open cases, filtered by stage and risk level and
searched by reference (a transferred case also by the one it had before); each case links to its
page.

The rows are core's (``caseload.list_caseload``, which decides whose cases these are); the
filters only narrow what is shown. The full list stays on the server; the browser gets the
rows that match, as plain words.
"""

from __future__ import annotations

from dataclasses import dataclass

import reflex as rx

from core.areas import Area
from core.enums import OPEN_STAGES, RiskLevel, Stage
from core.schemas.caseload import CaseloadRow
from core.services import caseload
from ui.i18n import N_, Translator
from ui.labels import LABELS, label
from webapp import routes
from webapp.components.device_caseload import device_caseload, for_device
from webapp.components.forms import button
from webapp.components.layout import loading, page
from webapp.handlers import Caller, signed_in
from webapp.i18n import _, translator
from webapp.state import AppState

ANY, NOT_ASSESSED = "", "none"
_STAGE_CHOICES = [stage for stage in Stage if stage in OPEN_STAGES]
_RISK_CHOICES = [RiskLevel.HIGH, RiskLevel.MEDIUM, RiskLevel.STANDARD]
NOT_ASSESSED_LABEL = N_("Not assessed")


def matches(row: CaseloadRow, *, stage: str, risk_level: str, reference: str) -> bool:
    """True when ``row`` passes the filters ('' means any)."""
    if stage and row.stage.value != stage:
        return False
    if risk_level == NOT_ASSESSED and row.current_risk is not None:
        return False
    if risk_level not in (ANY, NOT_ASSESSED) and (
        row.current_risk is None or row.current_risk.value != risk_level
    ):
        return False
    return row.answers_to(reference)  # its reference, or one it held before a transfer


@dataclass(frozen=True)
class CaseCard:
    """One case of the caseload as the page shows it, in the reader's language."""

    key: str
    href: str
    reference: str
    stage: str
    risk: str
    last_contact: str
    next_appointment: str
    former_references: str = ""  # held before a transfer, e.g. "HER-0001"


def _card(row: CaseloadRow, words: Translator) -> CaseCard:
    never = words.gettext("None")
    return CaseCard(
        key=str(row.case_id),
        href=routes.case_path(row.case_id),
        reference=row.reference,
        stage=label(row.stage, words),
        risk=label(row.current_risk, words)
        if row.current_risk
        else words.gettext(NOT_ASSESSED_LABEL),
        last_contact=words.format_date(row.last_contact_at, "d MMM yyyy")
        if row.last_contact_at
        else never,
        next_appointment=words.format_datetime(row.next_appointment_at, "EEE d MMM, HH:mm")
        if row.next_appointment_at
        else never,
        former_references=", ".join(row.former_references),
    )


class CaseloadState(AppState):
    stage_filter: str = ANY
    risk_filter: str = ANY
    reference_filter: str = ""
    cards: list[CaseCard] = []
    count_text: str = ""
    loaded: bool = False
    _rows: list[CaseloadRow] = []  # backend only: the whole caseload, never sent to the browser
    # Its ids and references only, for the device's copy (webapp.components.device_caseload).
    device_caseload: str = "[]"

    def _show(self) -> None:
        words = translator(self.locale)
        shown = [
            row
            for row in self._rows
            if matches(
                row,
                stage=self.stage_filter,
                risk_level=self.risk_filter,
                reference=self.reference_filter,
            )
        ]
        self.cards = [_card(row, words) for row in shown]
        self.count_text = words.ngettext(
            "{n} case of {total}", "{n} cases of {total}", len(shown), total=len(self._rows)
        )

    @rx.event
    @signed_in
    async def load(self, caller: Caller) -> None:
        self._rows = await caseload.list_caseload(uow=caller.uow(), actor=caller.actor)
        self.device_caseload = for_device((row.case_id, row.reference) for row in self._rows)
        self.loaded = True
        self._show()

    @rx.event
    def apply_filters(self, form: dict[str, str]) -> None:
        self.stage_filter = form.get("stage", ANY) if form.get("stage") in _stage_codes() else ANY
        self.risk_filter = form.get("risk", ANY) if form.get("risk") in _risk_codes() else ANY
        self.reference_filter = (form.get("reference") or "")[:20]
        self._show()

    @rx.event
    def change_filter(self, field: str, value: str) -> None:
        """A select changed: show its effect at once (the button is there for the search)."""
        if field == "stage":
            self.stage_filter = value if value in _stage_codes() else ANY
        elif field == "risk":
            self.risk_filter = value if value in _risk_codes() else ANY
        self._show()

    @rx.event
    def set_reference(self, value: str) -> None:
        self.reference_filter = value[:20]

    @rx.event
    def clear_filters(self) -> None:
        self.stage_filter = ANY
        self.risk_filter = ANY
        self.reference_filter = ""
        self._show()


def _stage_codes() -> set[str]:
    return {ANY, *(stage.value for stage in _STAGE_CHOICES)}


def _risk_codes() -> set[str]:
    return {ANY, NOT_ASSESSED, *(level.value for level in _RISK_CHOICES)}


def _select(
    name: str, title: rx.Var | str, options: list[tuple[str, rx.Var | str]], value: rx.Var
) -> rx.Component:
    return rx.el.div(
        rx.el.label(title, html_for=name, class_name="label"),
        rx.el.select(
            *[rx.el.option(text, value=code) for code, text in options],
            id=name,
            name=name,
            value=value,
            on_change=lambda picked: CaseloadState.change_filter(name, picked),
            class_name="select",
        ),
        class_name="form-group filter-group",
    )


def _filters() -> rx.Component:
    stages = [(ANY, _("Any stage"))] + [(s.value, _(LABELS[Stage][s])) for s in _STAGE_CHOICES]
    risks = (
        [(ANY, _("Any risk level"))]
        + [(r.value, _(LABELS[RiskLevel][r])) for r in _RISK_CHOICES]
        + [(NOT_ASSESSED, _(NOT_ASSESSED_LABEL))]
    )
    return rx.el.form(
        rx.el.h2(_("Filter cases"), id="filter-heading", class_name="heading-m"),
        rx.el.div(
            _select("stage", _("Stage"), stages, CaseloadState.stage_filter),
            _select("risk", _("Risk level"), risks, CaseloadState.risk_filter),
            rx.el.div(
                rx.el.label(_("Case reference"), html_for="reference", class_name="label"),
                rx.el.div(_("For example, HER-0042"), id="reference-hint", class_name="hint"),
                rx.el.input(
                    id="reference",
                    name="reference",
                    type="search",
                    value=CaseloadState.reference_filter,
                    on_change=CaseloadState.set_reference,
                    aria_describedby="reference-hint",
                    autocomplete="off",
                    spell_check=False,
                    class_name="input",
                ),
                class_name="form-group filter-group",
            ),
            class_name="filters",
        ),
        rx.el.div(
            button(_("Apply filters"), type="submit"),
            rx.el.button(
                _("Clear filters"),
                type="button",
                on_click=CaseloadState.clear_filters,
                class_name="button button-secondary",
            ),
            class_name="button-group",
        ),
        on_submit=CaseloadState.apply_filters,
        reset_on_submit=False,
        role="search",
        aria_labelledby="filter-heading",
        class_name="filter-form",
    )


def _field(name: rx.Var | str, value: rx.Var) -> rx.Component:
    return rx.el.div(
        rx.el.dt(name, class_name="summary-key"),
        rx.el.dd(value, class_name="summary-value"),
        class_name="summary-row",
    )


def _case_card(card: rx.Var) -> rx.Component:
    return rx.el.li(
        rx.el.h3(rx.el.a(card.reference, href=card.href), class_name="heading-s"),
        rx.el.dl(
            _field(_("Stage"), card.stage),
            _field(_("Risk level"), card.risk),
            _field(_("Last contact"), card.last_contact),
            _field(_("Next appointment"), card.next_appointment),
            rx.cond(
                card.former_references != "",
                _field(_("Former reference"), card.former_references),
            ),
            class_name="summary-list",
        ),
        key=card.key,
        class_name="case-card",
    )


def _results() -> rx.Component:
    return rx.el.section(
        rx.el.h2(_("Cases"), id="cases-heading", class_name="heading-m"),
        rx.el.p(CaseloadState.count_text, role="status", class_name="hint"),
        rx.cond(
            CaseloadState.cards.length() > 0,  # type: ignore[attr-defined]
            rx.el.ul(rx.foreach(CaseloadState.cards, _case_card), class_name="case-list"),
            rx.cond(
                CaseloadState.loaded,
                rx.el.p(_("No cases match these filters.")),
                loading(),
            ),
        ),
        aria_labelledby="cases-heading",
    )


def _new_referral_link() -> rx.Component:
    """Offered where core offers the referral page (``core.areas.Area.REFERRAL``)."""
    return rx.cond(
        AppState.areas.contains(str(Area.REFERRAL)),
        rx.el.p(rx.el.a(_("New referral"), href=routes.REFERRAL, class_name="link-large")),
    )


def caseload_page() -> rx.Component:
    return page(
        _("Caseload"),
        rx.el.div(_new_referral_link(), _filters(), _results(), class_name="caseload-page"),
        rx.cond(CaseloadState.loaded, device_caseload(CaseloadState.device_caseload)),
        on_language_change=[CaseloadState.load],
    )
