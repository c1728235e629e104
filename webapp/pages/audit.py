"""Audit search: an admin finds who did what, by case, staff member and period.

A GOV.UK search form (case reference, staff member, from and to dates) over
``core.services.audit.search_audit``, which decides who may search (``Action.AUDIT_VIEW``) and
audits every search itself. Results are cards, newest first, readable on a phone: when, who,
through which face, the action's code, the record it touched, the case reference and site.
"Next page" passes the first page's ``up_to_seq`` on, so paging walks the trail as it was when
the search ran, not the events the searches themselves add. Anyone who may not audit anywhere
sees a "not allowed" notice and no data. Events hold codes and ids only, never a name of a
subject, victim or child; the only names shown are of staff, from ``users.list_users``.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date
from typing import Any

import reflex as rx

from core.areas import Offer, offers
from core.enums import Face
from core.errors import DateOutOfRange, DomainError, NotFound, ValidationFailed
from core.schemas.audit import AuditEventRead
from core.services import audit, cases, users
from ui.errors import error_message
from ui.i18n import N_, Translator
from ui.labels import label
from webapp.components.forms import (
    DATE_PARTS,
    FieldError,
    button,
    case_reference_field,
    date_input,
    error_summary,
    focus,
    parse_date_parts,
)
from webapp.components.layout import role_page
from webapp.handlers import Caller, signed_in
from webapp.i18n import _, translator
from webapp.state import AppState

PAGE_SIZE = 20
NO_SUCH_CASE = N_("There is no case with that reference at your sites. Check the reference")
BAD_DATE_FROM = N_("Enter the start date as a real date, like 27 3 2026")
BAD_DATE_TO = N_("Enter the end date as a real date, like 27 3 2026")
TO_BEFORE_FROM = N_("The end date must be the same as or after the start date")
# Each field's element id, and the state var (less "_error") holding its message.
_ERROR_VAR = {"case_reference": "reference", "date_from": "date_from", "date_to": "date_to"}


def _parse_day(parts: list[str]) -> date | None:
    """The day, month and year typed (as ``date_input``'s fields), or None if not a real day."""
    typed = {f"day_{part}": text for (part, *_), text in zip(DATE_PARTS, parts, strict=True)}
    return parse_date_parts(typed, "day")


@dataclass(frozen=True)
class EventCard:
    """One audit event as the page shows it."""

    id: int
    when: str
    who: str
    face: str
    action: str
    entity: str
    case: str  # '' when the event is about no case
    site: str  # '' when at no site


@dataclass(frozen=True)
class StaffChoice:
    id: str
    label: str


def _event_card(item: AuditEventRead, names: dict[int, str], words: Translator) -> EventCard:
    if item.actor_user_id is None:
        who = words.gettext("System")
    else:
        who = names.get(item.actor_user_id) or words.gettext(
            "Staff member {number}", number=item.actor_user_id
        )
    entity = item.entity_type if item.entity_id is None else f"{item.entity_type} {item.entity_id}"
    return EventCard(
        id=item.id,
        when=words.format_datetime(item.occurred_at, "d MMM yyyy, HH:mm:ss"),
        who=who,
        face=label(Face(item.face), words),
        action=item.action,
        entity=entity,
        case=item.case_reference or "",
        site=item.site_code or "",
    )


class AuditState(AppState):
    allowed: bool = True
    loaded: bool = False
    staff_choices: list[StaffChoice] = []  # staff at the admin's sites
    form_key: str = ""
    # The filters of the search shown (also the form's values when it is drawn again).
    reference: str = ""
    staff_id: str = ""
    date_from: list[str] = ["", "", ""]  # day, month, year; all empty for no limit
    date_to: list[str] = ["", "", ""]
    searched: bool = False
    results: list[EventCard] = []
    has_more: bool = False
    offset: int = 0
    errors: list[FieldError] = []
    reference_error: str = ""
    date_from_error: str = ""
    date_to_error: str = ""
    # Kept on the server: the search's ids (for the next page) and the events, so a language
    # switch redraws them without searching (and auditing) again.
    _case_id: int | None = None
    _up_to_seq: int | None = None
    _items: list[AuditEventRead] = []
    _names: dict[int, str] = {}

    def _clear_messages(self) -> None:
        self.errors = []
        self.reference_error = self.date_from_error = self.date_to_error = ""

    def _fail(self, field: str, message: str) -> None:
        """Show ``message`` by the field ``field`` (its element id) and in the summary."""
        setattr(self, f"{_ERROR_VAR[field]}_error", message)
        self.errors = [*self.errors, FieldError(field, message)]

    def _show_error(self, message: str, error: DomainError) -> rx.event.EventSpec:
        """Core refused the search: by the date it is about, else by the case reference."""
        field = str(error.details.get("field"))
        if isinstance(error, DateOutOfRange):  # a year such as 0001 or 9999
            self._fail(field, message)
        elif isinstance(error, ValidationFailed) and field == "date_to":
            self._fail("date_to", translator(self.locale).gettext(TO_BEFORE_FROM))
        else:
            self._fail("case_reference", message)
        return focus("error-summary")

    def _redraw(self, words: Translator) -> None:
        self.results = [_event_card(item, self._names, words) for item in self._items]

    @rx.event
    @signed_in
    async def load(self, caller: Caller) -> None:
        self.form_key = self.form_key or uuid.uuid4().hex
        self.allowed = offers(caller.actor, Offer.AUDIT_SEARCH)
        if self.allowed:
            staff = await users.list_users(uow=caller.uow(), actor=caller.actor)
            self._names = {person.id: person.display_name for person in staff}
            self.staff_choices = [
                StaffChoice(id=str(person.id), label=f"{person.display_name} ({person.email})")
                for person in sorted(staff, key=lambda p: (p.display_name, p.id))
            ]
        else:
            self.staff_choices, self._items, self._names = [], [], {}
            self.searched = False
        self._redraw(caller.words)
        self.loaded = True

    async def _run(self, caller: Caller) -> rx.event.EventSpec:
        """Search with the stored filters at ``self.offset`` (core's refusal: ``_show_error``)."""
        found = await audit.search_audit(
            uow=caller.uow(),
            actor=caller.actor,
            case_id=self._case_id,
            user_id=int(self.staff_id) if self.staff_id else None,
            date_from=_parse_day(self.date_from) if any(self.date_from) else None,
            date_to=_parse_day(self.date_to) if any(self.date_to) else None,
            limit=PAGE_SIZE,
            offset=self.offset,
            up_to_seq=self._up_to_seq,
            zone=str(caller.words.timezone),
        )
        self._up_to_seq = found.up_to_seq
        self._items = list(found.items)
        self.has_more = found.has_more
        self.searched = True
        self._redraw(caller.words)
        return focus("results-heading")

    def _read_filters(self, form: dict[str, Any]) -> None:
        """The form's answers, kept as the filters shown (and the form's values)."""
        self.reference = str(form.get("case_reference") or "").strip().upper()
        staff_id = str(form.get("staff") or "")
        self.staff_id = staff_id if staff_id.isdigit() else ""
        self.date_from = [str(form.get(f"date_from_{p}") or "").strip() for p, *_ in DATE_PARTS]
        self.date_to = [str(form.get(f"date_to_{p}") or "").strip() for p, *_ in DATE_PARTS]

    def _check_dates(self, words: Translator) -> None:
        start = _parse_day(self.date_from) if any(self.date_from) else None
        end = _parse_day(self.date_to) if any(self.date_to) else None
        if any(self.date_from) and start is None:
            self._fail("date_from", words.gettext(BAD_DATE_FROM))
        if any(self.date_to) and end is None:
            self._fail("date_to", words.gettext(BAD_DATE_TO))
        if start is not None and end is not None and end < start:
            self._fail("date_to", words.gettext(TO_BEFORE_FROM))

    async def _case_id_for_reference(self, caller: Caller) -> int | None:
        """The id of the case typed (None for none; a refusal is shown by the field)."""
        if not self.reference:
            return None
        try:
            found = await cases.find_case(
                uow=caller.uow(), actor=caller.actor, reference=self.reference
            )
        except NotFound:
            self._fail("case_reference", caller.words.gettext(NO_SUCH_CASE))
        except DomainError as error:
            self._fail("case_reference", error_message(error, caller.words))
        else:
            return found.id
        return None

    @rx.event
    @signed_in
    async def search(self, caller: Caller, form: dict[str, Any]) -> rx.event.EventSpec:
        self._read_filters(form)
        case_id = await self._case_id_for_reference(caller)
        self._check_dates(caller.words)
        self.form_key = uuid.uuid4().hex
        if self.errors:
            return focus("error-summary")
        self._case_id, self._up_to_seq, self.offset = case_id, None, 0
        return await self._run(caller)

    @rx.event
    @signed_in
    async def next_page(self, caller: Caller) -> rx.event.EventSpec:
        self.offset = max(self.offset + PAGE_SIZE, 0)
        return await self._run(caller)

    @rx.event
    @signed_in
    async def previous_page(self, caller: Caller) -> rx.event.EventSpec:
        self.offset = max(self.offset - PAGE_SIZE, 0)
        return await self._run(caller)

    @rx.var
    def page_number(self) -> int:
        return self.offset // PAGE_SIZE + 1


# --- the page ---------------------------------------------------------------------------------


def _date_field(name: str, text: Any, error: rx.Var, value: rx.Var) -> rx.Component:
    return date_input(
        name=name,
        legend=text,
        hint=_("For example, 27 3 2026"),
        error=error,
        defaults=(value[0], value[1], value[2]),
    )


def _search_form() -> rx.Component:
    state = AuditState
    return rx.el.form(
        case_reference_field(
            _("Case reference (optional)"), state.reference_error, state.reference
        ),
        rx.el.div(
            rx.el.label(_("Staff member (optional)"), html_for="staff", class_name="label"),
            rx.el.select(
                rx.el.option(_("Anyone"), value=""),
                rx.foreach(
                    state.staff_choices,
                    lambda person: rx.el.option(person.label, value=person.id),
                ),
                id="staff",
                name="staff",
                default_value=state.staff_id,
                class_name="input select",
            ),
            class_name="form-group",
        ),
        rx.el.fieldset(
            rx.el.legend(_("Period (optional)"), class_name="label"),
            rx.el.div(
                _("Whole days, both included. Leave empty for no limit."),
                id="period-hint",
                class_name="hint",
            ),
            _date_field("date_from", _("Start date"), state.date_from_error, state.date_from),
            _date_field("date_to", _("End date"), state.date_to_error, state.date_to),
            aria_describedby="period-hint",
            class_name="fieldset",
            style={"border": "none", "padding": "0", "margin": "0"},
        ),
        button(_("Search the audit"), type="submit"),
        key=state.form_key,
        on_submit=AuditState.search,
        no_validate=True,
        role="search",
    )


def _row(key: Any, value: Any) -> rx.Component:
    return rx.el.div(rx.el.dt(key), rx.el.dd(value), class_name="card-row")


def _result_card(card: rx.Var) -> rx.Component:
    return rx.el.li(
        rx.el.h3(card.when, class_name="card-title"),
        rx.el.dl(
            _row(_("Who"), card.who),
            _row(_("Through"), card.face),
            _row(_("What was done"), rx.el.code(card.action)),
            _row(_("Record"), card.entity),
            rx.cond(card.case != "", _row(_("Case"), card.case)),
            rx.cond(card.site != "", _row(_("Site"), card.site)),
            class_name="card-details",
        ),
        class_name="card",
        custom_attrs={"data-testid": "audit-event"},
    )


def _paging() -> rx.Component:
    state = AuditState
    return rx.el.nav(
        rx.el.p(_("Page"), " ", state.page_number.to_string(), class_name="card-meta"),
        rx.el.div(
            rx.cond(
                state.offset > 0,
                rx.el.button(
                    _("Previous page"),
                    type="button",
                    on_click=AuditState.previous_page,
                    class_name="button button-secondary",
                ),
            ),
            rx.cond(
                state.has_more,
                rx.el.button(
                    _("Next page"),
                    type="button",
                    on_click=AuditState.next_page,
                    class_name="button button-secondary",
                ),
            ),
            class_name="button-group",
        ),
        aria_label=_("Pages of results"),
    )


def _results() -> rx.Component:
    state = AuditState
    return rx.cond(
        state.searched,
        rx.el.section(
            rx.el.h2(_("Events found"), id="results-heading", tab_index=-1, class_name="heading-m"),
            rx.el.p(_("Newest first. Your search is recorded in the audit too.")),
            rx.cond(
                state.results.length() > 0,  # type: ignore[attr-defined]
                rx.el.ul(rx.foreach(state.results, _result_card), class_name="card-list"),
                rx.el.p(_("No events match your search."), class_name="empty-state"),
            ),
            _paging(),
            aria_labelledby="results-heading",
            class_name="case-section",
        ),
    )


def _audit() -> rx.Component:
    return rx.fragment(
        error_summary(AuditState.errors),
        rx.el.p(
            _("Find who saw or changed what. Events are shown for the sites you administer."),
        ),
        _search_form(),
        _results(),
    )


def audit_page() -> rx.Component:
    return role_page(
        _("Search the audit"),
        AuditState,
        _audit(),
        _("The audit is for administrators. If you need it, ask your administrator."),
    )
