"""The new-referral page's state: reading the form, the possible duplicates, saving, the
confirmation.

Saving is two steps in core, in this order: ``referrals.check_duplicates`` (audited when
something matched, so what the person was shown is on record), then
``referrals.record_referral``. Matches stop the save and are shown; "Save anyway" saves the
referral exactly as it was checked (kept on the server, ``_pending``), with
``save_despite_duplicates`` (core audits that). A match that appears between the two calls
comes back as ``PossibleDuplicates`` and is shown the same way.
"""

from __future__ import annotations

import uuid
from typing import Any

import reflex as rx

from core.errors import DomainError, PossibleDuplicates
from core.schemas.referrals import DuplicateCheckRead, DuplicateQuery, ReferralCreate
from core.services import referrals
from ui.i18n import Translator
from webapp.components.forms import FieldError, focus
from webapp.handlers import Caller, signed_in
from webapp.pages.referral.reading import (
    QUESTION_OF_FIELD,
    Problems,
    SiteChoice,
    read_referral,
)
from webapp.pages.referral.rows import (
    Confirmation,
    ElsewhereRow,
    MatchRow,
    confirmation,
    elsewhere_rows,
    match_rows,
)
from webapp.state import AppState

CHECKLIST, SCORE, NOT_DONE = "checklist", "score", "none"
# The questions' ids in the order the form asks them (the error summary follows it).
FIELD_ORDER = (
    "site", "referral_date", "source", "reason", "abuse", "name", "date_of_birth", "gender",
    "address", "phone", "languages", "referrer_agency", "referrer_contact", "dash_mode",
    "dash", "dash_score",
)  # fmt: skip


class ReferralState(AppState):
    sites: list[SiteChoice] = []
    loaded: bool = False
    form_key: str = ""
    dash_mode: str = CHECKLIST
    saving: bool = False
    errors: list[FieldError] = []
    # Each question's own message ('' when none), by its id in FIELD_ORDER.
    field_errors: dict[str, str] = dict.fromkeys(FIELD_ORDER, "")
    dash_missing: list[str] = []  # checklist questions left unanswered ("q7")
    # The possible duplicates found before saving.
    matches: list[MatchRow] = []
    elsewhere: list[ElsewhereRow] = []
    showing_duplicates: bool = False
    # The confirmation after saving (saved.reference == "": not saved yet).
    saved: Confirmation = Confirmation()
    _pending: ReferralCreate | None = None  # backend only: the referral the matches are for

    def _clear_messages(self) -> None:
        """Each handler sets the messages itself (a second tap must not clear a confirmation)."""

    def _show_error(self, message: str, error: DomainError) -> rx.event.EventSpec:
        """Core's refusal against the question it names (the referral date, by default)."""
        self.saving = False
        field = QUESTION_OF_FIELD.get(str(error.details.get("field")), "referral_date")
        if error.code == "dash_answer_missing":
            field = "dash"
        self.showing_duplicates = False
        return self._show({field: (self._field_id(field), message)})

    def _fresh_form(self) -> None:
        self.form_key = uuid.uuid4().hex
        self.dash_mode = CHECKLIST
        self.saving = self.showing_duplicates = False
        self.errors, self.dash_missing = [], []
        self.field_errors = dict.fromkeys(FIELD_ORDER, "")
        self.matches, self.elsewhere = [], []
        self.saved = Confirmation()
        self._pending = None

    @rx.event
    @signed_in
    async def load(self, caller: Caller) -> None:
        self.loaded = False
        sites = await referrals.referral_sites(uow=caller.uow(), actor=caller.actor)
        self.sites = [SiteChoice(id=str(s.site_id), label=f"{s.name} ({s.code})") for s in sites]
        self._fresh_form()
        self.loaded = True

    @rx.event
    def choose_dash_mode(self, mode: str) -> None:
        """Show the checklist or the score field (both stay in the form, one hidden)."""
        self.dash_mode = mode if mode in (CHECKLIST, SCORE, NOT_DONE) else CHECKLIST

    @rx.event
    @signed_in
    async def submit(self, caller: Caller, form: dict[str, Any]):  # type: ignore[no-untyped-def]
        if self.saving or not self.form_key or form.get("form_key") != self.form_key:
            return  # a second tap on Save, or an old form
        problems: Problems = {}
        data = read_referral(form, [s.id for s in self.sites], caller.words, problems)
        if data is None:
            self.dash_missing = sorted(problems.pop("dash_missing", ("", ""))[1].split())
            yield self._show(problems)
            return
        self.saving = True
        yield
        query = DuplicateQuery(
            site_id=data.site_id, name=data.subject.name, date_of_birth=data.subject.date_of_birth
        )
        found = await referrals.check_duplicates(uow=caller.uow(), actor=caller.actor, data=query)
        if found.count:
            yield self._duplicates(data, found, caller.words)
            return
        yield await self._save(caller, data)

    @rx.event
    @signed_in
    async def save_anyway(self, caller: Caller):  # type: ignore[no-untyped-def]
        """Save the referral the matches were shown for, as it was."""
        if self.saving or self._pending is None:
            return
        data = self._pending.model_copy(update={"save_despite_duplicates": True})
        self.saving = True
        yield
        yield await self._save(caller, data)

    @rx.event
    def change_details(self) -> rx.event.EventSpec:
        """Back to the form (still filled in) from the matches."""
        self.showing_duplicates = False
        self._pending = None
        return focus("name")

    async def _save(self, caller: Caller, data: ReferralCreate) -> rx.event.EventSpec:
        try:
            saved = await referrals.record_referral(uow=caller.uow(), actor=caller.actor, data=data)
        except PossibleDuplicates as duplicates:
            return self._duplicates(data, duplicates.matches, caller.words)  # type: ignore[arg-type]
        self.saving = self.showing_duplicates = False
        self.form_key, self._pending = "", None
        self.errors, self.dash_missing = [], []
        self.field_errors = dict.fromkeys(FIELD_ORDER, "")
        self.saved = confirmation(saved.case, caller.actor, caller.words)
        return focus("confirmation")

    def _duplicates(
        self, data: ReferralCreate, found: DuplicateCheckRead, words: Translator
    ) -> rx.event.EventSpec:
        self.saving = False
        self._pending = data
        self.matches = match_rows(found, words)
        self.elsewhere = elsewhere_rows(found, words)
        self.showing_duplicates = True
        self.errors, self.dash_missing = [], []
        self.field_errors = dict.fromkeys(FIELD_ORDER, "")
        return focus("duplicates", scroll=True)

    @rx.event
    def new_referral(self) -> rx.event.EventSpec:
        self._fresh_form()
        return focus("referral_date")

    def _field_id(self, field: str) -> str:
        """The element a summary link for ``field`` goes to (a radio group: its first choice)."""
        firsts = {
            "site": f"site-{self.sites[0].id}" if self.sites else "site",
            "source": "source-marac",
            "reason": "reason-high_risk",
            "abuse": "abuse_physical-yes",
            "dash_mode": "dash_mode-checklist",
            "dash": "dash_q1-yes",
        }
        return firsts.get(field, field)

    def _show(self, problems: Problems) -> rx.event.EventSpec:
        """Each problem under its question and in the summary (in form order); focus it."""
        self.field_errors = {field: problems.get(field, ("", ""))[1] for field in FIELD_ORDER}
        self.errors = [FieldError(*problems[f]) for f in FIELD_ORDER if f in problems]
        return focus("error-summary")
