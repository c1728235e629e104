"""My cases: an IDVA's open cases with the victims and children she supports (issue 19).

One service call (``people.my_idva_cases``: core picks the cases and audits the read of the
people on them). Each card links its reference to the case's page. The people's names are
restricted: ``forget_restricted`` and ``__getstate__`` keep them out of Reflex's state store
and out of a reconnecting tab, as on the case page.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import reflex as rx

from core.schemas.people import MyIdvaCase
from core.services import people
from ui.i18n import Translator
from ui.labels import label
from webapp import routes
from webapp.components.layout import loading, page
from webapp.handlers import Caller, signed_in
from webapp.i18n import _
from webapp.state import AppState


@dataclass(frozen=True)
class MyCaseCard:
    key: str
    reference: str
    href: str
    site: str
    stage: str
    risk: str
    people: str  # restricted: "Victim: name; Child: name"


def _card(case: MyIdvaCase, words: Translator) -> MyCaseCard:
    named = "; ".join(
        f"{label(person.kind, words)}: {person.name or words.gettext('Name not recorded')}"
        for person in case.people
    )
    return MyCaseCard(
        key=str(case.case_id),
        reference=case.case_reference,
        href=routes.case_path(case.case_id),
        site=case.site_code,
        stage=label(case.stage, words),
        risk=label(case.risk_level, words) if case.risk_level else words.gettext("Not recorded"),
        people=named,
    )


class MyCasesState(AppState):
    loaded: bool = False
    cards: list[MyCaseCard] = []

    def forget_restricted(self) -> None:
        """Drop the people's names before a reconnecting tab hydrates (``load`` reads again)."""
        self.cards = []

    def __getstate__(self) -> dict[str, Any]:
        """What Reflex stores: everything but the cards, which name victims and children."""
        fields = dict(super().__getstate__())
        fields["cards"] = []
        return fields

    @rx.event
    @signed_in
    async def load(self, caller: Caller) -> None:
        found = await people.my_idva_cases(uow=caller.uow(), actor=caller.actor)
        self.cards = [_card(case, caller.words) for case in found]
        self.loaded = True


def _row(name: Any, value: Any) -> rx.Component:
    return rx.el.div(
        rx.el.dt(name, class_name="summary-key"),
        rx.el.dd(value, class_name="summary-value"),
        class_name="summary-row",
    )


def _case_card(card: Any) -> rx.Component:
    return rx.el.li(
        rx.el.h2(rx.el.a(card.reference, href=card.href), class_name="heading-s"),
        rx.el.dl(
            _row(_("Site"), card.site),
            _row(_("Stage"), card.stage),
            _row(_("Risk level"), card.risk),
            _row(_("People I support"), card.people),
            class_name="summary-list",
        ),
        key=card.key,
        class_name="case-card",
    )


def my_cases_page() -> rx.Component:
    state = MyCasesState
    return page(
        _("My cases"),
        rx.cond(
            state.loaded,
            rx.cond(
                state.cards.length() > 0,  # type: ignore[attr-defined]
                rx.el.ul(rx.foreach(state.cards, _case_card), class_name="case-list"),
                rx.el.p(_("No open cases have victims or children assigned to you.")),
            ),
            loading(),
        ),
        on_language_change=[state.load],
    )
