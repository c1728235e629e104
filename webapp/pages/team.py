"""Team: a service manager's view of their site's case managers and the referrals to allocate.

Each case manager is a card (open cases, high risk, cases without a contact in 28 days, the
contacts they logged), readable on a phone; each referral waiting for a case manager is a card
with a drop-down list of the site's active case managers and an Allocate button
(``core.services.cases.allocate_case``). Core decides who may see and do this
(``Action.TEAM_VIEW``, ``Action.CASE_ALLOCATE``); anyone else sees a "not allowed" notice and
no data. A service manager covering two sites picks the site with a button per site.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import reflex as rx

from core.areas import Offer, offers
from core.errors import DomainError
from core.schemas.cases import CaseAllocate
from core.schemas.team import CaseManagerLoad, TeamPage, UnallocatedReferral
from core.services import cases, team
from ui.i18n import N_, Translator
from ui.labels import label
from webapp.components.forms import FieldError, button, error_summary, field_error, focus
from webapp.components.layout import not_allowed, page
from webapp.handlers import Caller, signed_in
from webapp.i18n import _
from webapp.state import AppState

ALLOCATE_FIELD_PREFIX = "allocate-"
CHOOSE_CASE_MANAGER = N_("Choose the case manager to allocate this referral to")


@dataclass(frozen=True)
class SiteChoice:
    id: str
    code: str


@dataclass(frozen=True)
class LoadCard:
    """A case manager's load at the site."""

    key: str
    name: str
    inactive: str  # '' while the account is on
    open_cases: str
    high_risk: str
    quiet: str
    contacts: str


@dataclass(frozen=True)
class ReferralCard:
    """A referral waiting for a case manager, with what its Allocate form sends back."""

    case_id: str
    version: str
    reference: str
    referred: str
    waiting: str
    source: str
    reason: str
    dash: str
    field_id: str


@dataclass(frozen=True)
class CaseManagerOption:
    id: str
    name: str


def _load_card(load: CaseManagerLoad, words: Translator) -> LoadCard:
    return LoadCard(
        key=str(load.user_id),
        name=load.display_name,
        inactive="" if load.is_active else words.gettext("Account switched off"),
        open_cases=str(load.open_cases),
        high_risk=str(load.high_risk_cases),
        quiet=str(load.cases_without_recent_contact),
        contacts=str(load.contacts_last_28_days),
    )


def _referral_card(referral: UnallocatedReferral, words: Translator) -> ReferralCard:
    dash = (
        words.gettext(
            "{score} ({level})",
            score=referral.dash_score,
            level=label(referral.dash_risk_level, words),
        )
        if referral.dash_score is not None and referral.dash_risk_level is not None
        else words.gettext("Not known")
    )
    return ReferralCard(
        case_id=str(referral.case_id),
        version=str(referral.version),
        reference=referral.reference,
        referred=words.format_date(referral.referral_date, "d MMM yyyy"),
        waiting=words.ngettext("{n} day", "{n} days", referral.days_waiting),
        source=label(referral.referral_source, words),
        reason=label(referral.referral_reason, words),
        dash=dash,
        field_id=f"{ALLOCATE_FIELD_PREFIX}{referral.case_id}",
    )


class TeamState(AppState):
    allowed: bool = True
    loaded: bool = False
    site_choices: list[SiteChoice] = []
    site_id: str = ""
    site_title: str = ""
    load_cards: list[LoadCard] = []
    referral_cards: list[ReferralCard] = []
    case_manager_choices: list[CaseManagerOption] = []
    confirmation: str = ""
    errors: list[FieldError] = []
    error_field: str = ""
    error_text: str = ""
    _allocating: str = ""  # the Allocate form pressed: where core's refusal is shown

    def _clear_messages(self) -> None:
        self.confirmation = ""
        self.errors = []
        self.error_field = ""
        self.error_text = ""

    def _fail(self, field: str, message: str) -> rx.event.EventSpec:
        self.error_field = field
        self.error_text = message
        self.errors = [FieldError(field, message)]
        return focus("error-summary")

    def _show_error(self, message: str, error: DomainError) -> rx.event.EventSpec:
        return self._fail(self._allocating, message)

    def _show(self, shown: TeamPage, words: Translator) -> None:
        self.site_choices = [SiteChoice(id=str(site.id), code=site.code) for site in shown.sites]
        self.site_id = str(shown.site_id) if shown.site_id is not None else ""
        site = next((site for site in shown.sites if site.id == shown.site_id), None)
        if site is not None:
            self.site_title = words.gettext("{name} ({code})", name=site.name, code=site.code)
        self.load_cards = [_load_card(load, words) for load in shown.caseloads]
        self.referral_cards = [_referral_card(item, words) for item in shown.referrals]
        self.case_manager_choices = [
            CaseManagerOption(id=str(person.user_id), name=person.display_name)
            for person in shown.case_managers
        ]

    async def _refresh(self, caller: Caller) -> None:
        self.allowed = offers(caller.actor, Offer.TEAM)
        if not self.allowed:
            self.site_choices, self.load_cards, self.referral_cards = [], [], []
            self.case_manager_choices = []
            return
        site_id = int(self.site_id) if self.site_id.isdigit() else None
        shown = await team.team_page(uow=caller.uow(), actor=caller.actor, site_id=site_id)
        self._show(shown, caller.words)

    @rx.event
    @signed_in
    async def load(self, caller: Caller) -> None:
        await self._refresh(caller)
        self.loaded = True

    @rx.event
    @signed_in
    async def choose_site(self, caller: Caller, site_id: str) -> None:
        self.site_id = site_id
        await self._refresh(caller)

    @rx.event
    @signed_in
    async def allocate(self, caller: Caller, form: dict[str, Any]) -> rx.event.EventSpec | None:
        case_id = str(form.get("case_id") or "")
        version = str(form.get("version") or "")
        manager_id = str(form.get("case_manager_id") or "")
        self._allocating = f"{ALLOCATE_FIELD_PREFIX}{case_id}"
        names = {choice.id: choice.name for choice in self.case_manager_choices}
        if manager_id not in names:
            return self._fail(self._allocating, caller.words.gettext(CHOOSE_CASE_MANAGER))
        if not case_id.isdigit() or not version.isdigit():
            return None  # not a form this page made
        reference = next((c.reference for c in self.referral_cards if c.case_id == case_id), "")
        try:
            await cases.allocate_case(
                uow=caller.uow(),
                actor=caller.actor,
                case_id=int(case_id),
                data=CaseAllocate(version=int(version), case_manager_id=int(manager_id)),
            )
        finally:
            await self._refresh(caller)  # allocated or not: the referrals as they are now
        self.confirmation = caller.words.gettext(
            "{reference} allocated to {name}.", reference=reference, name=names[manager_id]
        )
        return focus("confirmation")


# --- the page ---------------------------------------------------------------------------------


def _not_allowed() -> rx.Component:
    return not_allowed(
        _("The team page is for service managers. If you need it, ask your administrator.")
    )


def _site_switch() -> rx.Component:
    return rx.cond(
        TeamState.site_choices.length() > 1,  # type: ignore[attr-defined]
        rx.el.nav(
            rx.el.ul(
                rx.foreach(
                    TeamState.site_choices,
                    lambda site: rx.el.li(
                        rx.el.button(
                            site.code,
                            type="button",
                            on_click=TeamState.choose_site(site.id),
                            aria_pressed=rx.cond(site.id == TeamState.site_id, "true", "false"),
                            class_name=rx.cond(
                                site.id == TeamState.site_id,
                                "button",
                                "button button-secondary",
                            ),
                        )
                    ),
                ),
                class_name="button-group plain-list",
            ),
            aria_label=_("Sites"),
        ),
    )


def _row(key: Any, value: Any) -> rx.Component:
    return rx.el.div(rx.el.dt(key), rx.el.dd(value), class_name="card-row")


def _load_card_view(card: rx.Var) -> rx.Component:
    return rx.el.li(
        rx.el.h3(card.name, class_name="card-title"),
        rx.cond(card.inactive != "", rx.el.p(card.inactive, class_name="tag")),
        rx.el.dl(
            _row(_("Open cases"), card.open_cases),
            _row(_("High risk"), card.high_risk),
            _row(_("No contact in 28 days"), card.quiet),
            _row(_("Contacts logged in 28 days"), card.contacts),
            class_name="card-details",
        ),
        class_name="card",
        custom_attrs={"data-testid": "caseload-card"},
    )


def _allocate_form(card: rx.Var) -> rx.Component:
    field_id = card.field_id
    in_error = TeamState.error_field == field_id
    return rx.el.form(
        rx.el.input(type="hidden", name="case_id", value=card.case_id),
        rx.el.input(type="hidden", name="version", value=card.version),
        rx.el.div(
            rx.el.label(_("Case manager"), html_for=field_id, class_name="label"),
            field_error(TeamState.error_text, field_id.to(str) + "-error", in_error),
            rx.el.select(
                rx.el.option(_("Choose a case manager"), value=""),
                rx.foreach(
                    TeamState.case_manager_choices,
                    lambda person: rx.el.option(person.name, value=person.id),
                ),
                id=field_id,
                name="case_manager_id",
                class_name=rx.cond(in_error, "input select input-error", "input select"),
                aria_describedby=rx.cond(in_error, field_id.to(str) + "-error", ""),
            ),
            class_name=rx.cond(in_error, "form-group form-group-error", "form-group"),
        ),
        button(_("Allocate"), type="submit"),
        on_submit=TeamState.allocate,
        no_validate=True,
    )


def _referral_card_view(card: rx.Var) -> rx.Component:
    return rx.el.li(
        rx.el.h3(rx.el.span(card.reference, class_name="case-reference"), class_name="card-title"),
        rx.el.dl(
            _row(_("Referred"), card.referred),
            _row(_("Waiting"), card.waiting),
            _row(_("Source"), card.source),
            _row(_("Reason"), card.reason),
            _row(_("DASH score"), card.dash),
            class_name="card-details",
        ),
        _allocate_form(card),
        class_name="card",
        custom_attrs={"data-testid": "referral-card"},
    )


def _team() -> rx.Component:
    return rx.fragment(
        error_summary(TeamState.errors),
        rx.cond(
            TeamState.confirmation != "",
            rx.el.div(
                rx.el.p(TeamState.confirmation, class_name="banner-text"),
                role="status",
                id="confirmation",
                tab_index=-1,
                class_name="banner-success",
            ),
        ),
        _site_switch(),
        rx.el.p(TeamState.site_title, class_name="heading-xs"),
        rx.el.section(
            rx.el.h2(_("Referrals to allocate"), id="referrals-heading", class_name="heading-m"),
            rx.cond(
                TeamState.referral_cards.length() > 0,  # type: ignore[attr-defined]
                rx.el.ul(
                    rx.foreach(TeamState.referral_cards, _referral_card_view),
                    class_name="card-list",
                ),
                rx.el.p(
                    _("There are no referrals waiting for a case manager."),
                    class_name="empty-state",
                ),
            ),
            aria_labelledby="referrals-heading",
        ),
        rx.el.section(
            rx.el.h2(_("Caseloads"), id="caseloads-heading", class_name="heading-m"),
            rx.cond(
                TeamState.load_cards.length() > 0,  # type: ignore[attr-defined]
                rx.el.ul(rx.foreach(TeamState.load_cards, _load_card_view), class_name="card-list"),
                rx.el.p(_("There are no case managers at this site."), class_name="empty-state"),
            ),
            aria_labelledby="caseloads-heading",
        ),
    )


def team_page() -> rx.Component:
    return page(
        _("Team"),
        rx.cond(
            TeamState.loaded,
            rx.cond(TeamState.allowed, _team(), _not_allowed()),
        ),
        on_language_change=[TeamState.load],
    )
