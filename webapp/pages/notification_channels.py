"""How you get messages (``/account/notifications``): your mobile number and, for each kind of
message, the channels it comes by (issue 20). Your own settings only; core checks the number
and the choices (``core.services.notification_channels``) and says what to fix.

Linked from My account, not from the main menu.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import reflex as rx

from core.enums import Channel, KindGroup
from core.errors import DomainError
from core.schemas.notification_channels import (
    NotificationChannelsRead,
    NotificationChannelsUpdate,
)
from core.services import notification_channels
from ui.i18n import Translator
from ui.labels import label
from webapp.components.forms import (
    FieldError,
    button,
    error_summary,
    fieldset,
    focus,
    text_field,
)
from webapp.components.layout import loading, page
from webapp.handlers import Caller, signed_in
from webapp.i18n import _
from webapp.state import AppState

LOADING, FOUND = "loading", "found"
GROUPS = tuple(KindGroup)


def _legend_id(group: KindGroup | str) -> str:
    return f"{KindGroup(group).value}-legend"


@dataclass(frozen=True)
class ChannelOption:
    id: str  # the channel's code
    name: str  # its label, in the reader's language


class NotificationChannelsState(AppState):
    status: str = LOADING
    mobile_number: str = ""
    telegram_linked: bool = True
    options: list[ChannelOption] = []
    ticked: dict[str, bool] = {}  # "<group>-<channel>": ticked
    form_key: str = ""
    notice: str = ""
    errors: list[FieldError] = []
    field_errors: dict[str, str] = {}
    _saves: int = 0

    def _clear_messages(self) -> None:
        self.errors = []
        self.field_errors = {}
        self.notice = ""

    def _show_error(self, message: str, error: DomainError) -> rx.event.EventSpec:
        field = str(error.details.get("field", ""))
        if field.startswith("channels_"):
            field = _legend_id(field.removeprefix("channels_"))
        elif field != "mobile_number":
            field = "mobile_number"
        self.field_errors = {field: message}
        self.errors = [FieldError(field, message)]
        return focus("error-summary")

    def _show(self, read: NotificationChannelsRead, words: Translator) -> None:
        self.mobile_number = read.mobile_number or ""
        self.telegram_linked = read.telegram_linked
        self.options = [ChannelOption(c.value, label(c, words)) for c in read.available]
        self.ticked = {
            f"{group.value}-{channel.value}": channel in read.choices[group]
            for group in GROUPS
            for channel in read.available
        }
        self.status = FOUND

    @rx.event
    @signed_in
    async def load(self, caller: Caller) -> None:
        read = await notification_channels.my_notification_channels(
            uow=caller.uow(), actor=caller.actor
        )
        self._show(read, caller.words)

    @rx.event
    @signed_in
    async def save(self, caller: Caller, form: dict[str, Any]) -> rx.event.EventSpec:
        self.mobile_number = str(form.get("mobile_number") or "")
        choices = {
            group: [
                Channel(option.id)
                for option in self.options
                if form.get(f"{group.value}-{option.id}")
            ]
            for group in GROUPS
        }
        read = await notification_channels.update_my_notification_channels(
            uow=caller.uow(),
            actor=caller.actor,
            data=NotificationChannelsUpdate(mobile_number=self.mobile_number, choices=choices),
        )
        self._show(read, caller.words)
        # A new key: the form is drawn afresh with what was saved (the number as stored,
        # +447...). Loading again (the language switch) keeps it, and what is being typed.
        self._saves += 1
        self.form_key = str(self._saves)
        self.notice = caller.words.gettext("Saved. Messages now come the ways you chose.")
        return focus("notice")


def _checkbox(group: KindGroup, option: Any) -> rx.Component:
    state = NotificationChannelsState
    field_id = f"{group.value}-" + option.id
    return rx.el.div(
        rx.el.input(
            type="checkbox",
            name=field_id,
            value="yes",
            id=field_id,
            default_checked=state.ticked[field_id],
            class_name="checkboxes-input",
        ),
        rx.el.label(option.name, html_for=field_id, class_name="checkboxes-label"),
        class_name="checkboxes-item",
    )


def _group(group: KindGroup) -> rx.Component:
    state = NotificationChannelsState
    legend_id = _legend_id(group)
    return fieldset(
        legend_id,
        label_for(group),
        rx.foreach(state.options, lambda option: _checkbox(group, option)),
        hint=_hint(group),
        error=state.field_errors.get(legend_id, ""),
        error_id=legend_id,
    )


def _hint(group: KindGroup) -> rx.Var | str:
    hints = {
        KindGroup.REMINDERS: _("Appointments coming up, and appointments with no outcome yet."),
        KindGroup.DIGEST: _("Your appointments for the day, each morning at 8am."),
        KindGroup.ALERTS: _(
            "A case manager asks the police to act on a case. If you have not linked Telegram,"
            " an alert also comes by text message, or by email if you have no mobile number."
        ),
        KindGroup.PANEL: _("Panel meetings coming up, and announcements about them."),
    }
    return hints[group]


def label_for(group: KindGroup) -> rx.Var | str:
    names = {
        KindGroup.REMINDERS: _("Reminders"),
        KindGroup.DIGEST: _("Daily summary"),
        KindGroup.ALERTS: _("Disruption alerts"),
        KindGroup.PANEL: _("Panel meetings"),
    }
    return names[group]


def _found() -> rx.Component:
    state = NotificationChannelsState
    return rx.fragment(
        rx.cond(
            state.notice != "",
            rx.el.div(state.notice, id="notice", tab_index=-1, role="status", class_name="panel"),
        ),
        error_summary(state.errors),
        rx.el.p(
            _(
                "Choose how Drive Assist tells you about each kind of message. A message names a"
                " case by its reference only, never a person."
            )
        ),
        rx.cond(
            ~state.telegram_linked,
            rx.el.div(
                _(
                    "You have not linked Telegram, so messages chosen for Telegram come to your"
                    " Drive Assist inbox."
                ),
                class_name="inset-text",
            ),
        ),
        rx.el.form(
            text_field(
                name="mobile_number",
                label=_("Mobile number (optional)"),
                hint=_("For text messages. A UK mobile number, like 07700 900123."),
                error=state.field_errors.get("mobile_number", ""),
                default_value=state.mobile_number,
                type="tel",
                auto_complete="tel",
            ),
            *(_group(group) for group in GROUPS),
            button(_("Save"), type="submit"),
            key=state.form_key,
            on_submit=state.save,
            class_name="form",
        ),
    )


def notification_channels_page() -> rx.Component:
    state = NotificationChannelsState
    return page(
        _("How you get messages"),
        rx.el.div(
            rx.cond(
                state.status == FOUND,
                _found(),
                loading(),
            ),
            class_name="log-contact",
        ),
        on_language_change=[state.load],
    )
