"""A case form with one date that starts at today (close, reopen, a MARAC appearance, a police
incident): mixed into its ``CaseFormState``, it opens the form only when ``OFFER`` is offered
on the case and fills the date input's default."""

from __future__ import annotations

from typing import ClassVar

import reflex as rx

from core.areas import Offer
from webapp.components.forms import date_parts
from webapp.handlers import Caller, signed_in
from webapp.pages.case.state import today


class DatedCaseForm(rx.State, mixin=True):
    """Mixed in before ``CaseFormState`` (whose ``_open`` it calls), as ``BookingClash`` is."""

    OFFER: ClassVar[Offer]
    today_parts: list[str] = ["", "", ""]  # day, month, year in the reader's zone

    @rx.event
    @signed_in
    async def load(self, caller: Caller) -> None:
        if await self._open(caller, self.OFFER) is not None:  # type: ignore[attr-defined]
            self.today_parts = list(date_parts(today(caller)))
