"""Your passkeys (``/account/passkeys``): the signed-in person's own passkeys, by name and when
each was last used; add one (the browser asks for a fingerprint, face or PIN); rename one;
remove one after a confirmation. Core keeps each person to their own
(``core.services.passkeys``); the browser's side of the ceremony is ``assets/passkeys.js``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import reflex as rx

from core.errors import DomainError
from core.schemas.passkeys import PasskeyRead
from core.services import passkeys
from ui.i18n import N_, Translator
from webapp.components.forms import FieldError, button, error_summary, focus, text_field
from webapp.components.layout import page
from webapp.components.passkeys import ceremony, credential_from, offer_passkeys
from webapp.handlers import Caller, signed_in
from webapp.i18n import _
from webapp.state import AppState

NAME_FIELD = "passkey_name"
RENAME_FIELD = "passkey_rename"
MISSING_NAME = N_("Enter a name for the passkey, like Work phone")
LONG_NAME = N_("The name must be {max_length} characters or fewer")
NOT_ADDED = N_(
    "The passkey was not added: the request was cancelled or timed out, or this device already"
    " has a passkey for your account. Try again, or use another device."
)


@dataclass(frozen=True)
class PasskeyRow:
    id: str
    name: str
    added: str
    last_used: str


def _row(passkey: PasskeyRead, words: Translator) -> PasskeyRow:
    when = "d MMMM yyyy 'at' HH:mm" if words.locale != "cy" else "d MMMM yyyy 'am' HH:mm"
    return PasskeyRow(
        id=str(passkey.id),
        name=passkey.name,
        added=words.format_date(passkey.created_at, "d MMMM yyyy"),
        last_used=words.format_datetime(passkey.last_used_at, when)
        if passkey.last_used_at
        else words.gettext("Not used yet"),
    )


class PasskeysState(AppState):
    rows: list[PasskeyRow] = []
    loaded: bool = False
    offered: bool = False  # the server has an RP ID (core.settings)
    browser_supported: bool = False
    confirm_id: str = ""  # the passkey whose removal is being confirmed
    rename_id: str = ""  # the passkey being renamed
    name_error: str = ""
    rename_error: str = ""
    errors: list[FieldError] = []
    notice: str = ""
    _pending_name: str = ""

    def _clear_messages(self) -> None:
        self.errors = []
        self.name_error = self.rename_error = ""
        self.notice = ""

    def _show_error(self, message: str, error: DomainError) -> rx.event.EventSpec:
        by_name = message if error.details.get("field") == "name" else ""
        if self.rename_id:
            self.rename_error = by_name
            self.errors = [FieldError(RENAME_FIELD, message)]
        else:
            self.name_error = by_name
            self.errors = [FieldError(NAME_FIELD, message)]
        return focus("error-summary")

    def _name_problem(self, name: str, words: Translator) -> str:
        """What is wrong with a passkey's name as typed ('' if nothing): core says the same."""
        if not name:
            return words.gettext(MISSING_NAME)
        if len(name) > passkeys.NAME_MAX_LENGTH:
            return words.gettext(LONG_NAME, max_length=passkeys.NAME_MAX_LENGTH)
        return ""

    async def _reload(self, caller: Caller) -> None:
        read = await passkeys.my_passkeys(uow=caller.uow(), actor=caller.actor)
        self.rows = [_row(p, caller.words) for p in read]
        self.loaded = True

    @rx.event
    @signed_in
    async def load(self, caller: Caller) -> rx.event.EventSpec | None:
        self.confirm_id = ""
        await self._reload(caller)
        self.offered = passkeys.passkeys_offered(caller.container.settings)
        return offer_passkeys(caller.container.settings, PasskeysState.browser_has_passkeys)

    @rx.event
    def browser_has_passkeys(self, supported: bool) -> None:
        self.browser_supported = supported is True

    @rx.event
    @signed_in
    async def add(self, caller: Caller, form: dict[str, Any]) -> rx.event.EventSpec:
        name = " ".join(str(form.get(NAME_FIELD) or "").split())
        self.rename_id = ""
        message = self._name_problem(name, caller.words)
        if message:
            self.name_error = message
            self.errors = [FieldError(NAME_FIELD, message)]
            return focus("error-summary")
        options = await passkeys.begin_registration(
            uow=caller.uow(), actor=caller.actor, settings=caller.container.settings
        )
        self._pending_name = name
        return ceremony("create", options, PasskeysState.finish_add)

    @rx.event
    @signed_in
    async def finish_add(self, caller: Caller, outcome: str) -> list[rx.event.EventSpec]:
        credential = credential_from(outcome)
        if credential is None:
            self.errors = [FieldError(NAME_FIELD, caller.words.gettext(NOT_ADDED))]
            return [focus("error-summary")]
        added = await passkeys.finish_registration(
            uow=caller.uow(),
            actor=caller.actor,
            settings=caller.container.settings,
            credential_json=credential,
            name=self._pending_name,
        )
        await self._reload(caller)
        self.notice = caller.words.gettext(
            "Passkey added: {name}. You can now sign in with it.", name=added.name
        )
        return [rx.set_value(NAME_FIELD, ""), focus("passkey-notice")]

    @rx.event
    def ask_to_remove(self, passkey_id: str) -> rx.event.EventSpec:
        self.confirm_id, self.rename_id = passkey_id, ""
        return focus("confirm-remove")

    @rx.event
    def ask_to_rename(self, passkey_id: str) -> rx.event.EventSpec:
        self.rename_id, self.confirm_id = passkey_id, ""
        self.rename_error, self.errors = "", []
        return focus(RENAME_FIELD)

    @rx.event
    def cancel_rename(self) -> None:
        self.rename_id, self.rename_error, self.errors = "", "", []

    @rx.event
    @signed_in
    async def rename(self, caller: Caller, form: dict[str, Any]) -> rx.event.EventSpec | None:
        if not self.rename_id.isdigit():
            return None
        name = " ".join(str(form.get(RENAME_FIELD) or "").split())
        message = self._name_problem(name, caller.words)
        if message:
            self.rename_error = message
            self.errors = [FieldError(RENAME_FIELD, message)]
            return focus("error-summary")
        renamed = await passkeys.rename_passkey(
            uow=caller.uow(), actor=caller.actor, passkey_id=int(self.rename_id), name=name
        )
        self.rename_id = ""
        await self._reload(caller)
        self.notice = caller.words.gettext("Passkey renamed: {name}.", name=renamed.name)
        return focus("passkey-notice")

    @rx.event
    def cancel_remove(self) -> None:
        self.confirm_id = ""

    @rx.event
    @signed_in
    async def remove(self, caller: Caller) -> rx.event.EventSpec | None:
        if not self.confirm_id.isdigit():
            return None
        await passkeys.remove_passkey(
            uow=caller.uow(), actor=caller.actor, passkey_id=int(self.confirm_id)
        )
        self.confirm_id = ""
        await self._reload(caller)
        self.notice = caller.words.gettext("Passkey removed. It can no longer sign you in.")
        return focus("passkey-notice")


S = PasskeysState


def _confirmation(row: Any) -> rx.Component:
    return rx.el.div(
        rx.el.p(
            _("Remove this passkey? You will not be able to sign in with it any more."),
            class_name="warning-text",
        ),
        rx.el.div(
            button(
                _("Yes, remove it"), type="button", variant="button-warning", on_click=S.remove
            ),  # fmt: skip
            button(
                _("Cancel"), type="button", variant="button-secondary", on_click=S.cancel_remove
            ),  # fmt: skip
            class_name="button-group",
        ),
        id="confirm-remove",
        tab_index=-1,
        role="group",
        aria_label=row.name,
    )


def _rename_form(row: Any) -> rx.Component:
    return rx.el.form(
        text_field(
            name=RENAME_FIELD,
            label=_("New name for this passkey"),
            hint=_("So you can tell your passkeys apart, like Work phone."),
            error=S.rename_error,
            type="text",
            auto_complete="off",
            default_value=row.name,
            max_length=passkeys.NAME_MAX_LENGTH + 20,
            width_class="input-wide",
        ),
        rx.el.div(
            button(_("Save name"), type="submit"),
            button(
                _("Cancel"), type="button", variant="button-secondary", on_click=S.cancel_rename
            ),  # fmt: skip
            class_name="button-group",
        ),
        on_submit=S.rename,
        no_validate=True,
        aria_label=row.name,
    )


def _passkey_actions(row: Any) -> rx.Component:
    return rx.el.div(
        rx.el.button(
            _("Rename"),
            rx.el.span(" ", row.name, class_name="visually-hidden"),
            type="button",
            class_name="button button-secondary",
            on_click=S.ask_to_rename(row.id),
        ),
        rx.el.button(
            _("Remove"),
            rx.el.span(" ", row.name, class_name="visually-hidden"),
            type="button",
            class_name="button button-secondary",
            on_click=S.ask_to_remove(row.id),
        ),
        class_name="button-group",
    )


def _passkey(row: Any) -> rx.Component:
    return rx.el.li(
        rx.el.h3(row.name, class_name="heading-s"),
        rx.el.dl(
            rx.el.div(
                rx.el.dt(_("Added"), class_name="summary-key"),
                rx.el.dd(row.added, class_name="summary-value"),
                class_name="summary-row",
            ),
            rx.el.div(
                rx.el.dt(_("Last used"), class_name="summary-key"),
                rx.el.dd(row.last_used, class_name="summary-value"),
                class_name="summary-row",
            ),
            class_name="summary-list",
        ),
        rx.cond(
            S.confirm_id == row.id,
            _confirmation(row),
            rx.cond(S.rename_id == row.id, _rename_form(row), _passkey_actions(row)),
        ),
        class_name="passkey",
    )


def _add_form() -> rx.Component:
    return rx.cond(
        S.offered & S.browser_supported,
        rx.el.form(
            text_field(
                name=NAME_FIELD,
                label=_("Name for the new passkey"),
                hint=_("So you can tell your passkeys apart, like Work phone."),
                error=S.name_error,
                type="text",
                auto_complete="off",
                max_length=passkeys.NAME_MAX_LENGTH + 20,
                width_class="input-wide",
            ),
            button(_("Add a passkey"), type="submit"),
            on_submit=S.add,
            no_validate=True,
        ),
        rx.el.p(
            rx.cond(
                S.offered,
                _(
                    "This browser cannot use passkeys here. Open this page on your phone, or in"
                    " an up-to-date browser, at the service's usual address, to add one."
                ),
                _(
                    "Passkeys are not set up for this service. Ask your administrator to set"
                    " WEB_RP_ID."
                ),
            ),
        ),
    )


def passkeys_page() -> rx.Component:
    return page(
        _("Your passkeys"),
        error_summary(S.errors),
        rx.cond(
            S.notice != "",
            rx.el.div(rx.el.p(S.notice), id="passkey-notice", tab_index=-1, class_name="notice"),
        ),
        rx.el.p(
            _(
                "A passkey lets you sign in with your phone's fingerprint or face unlock, or"
                " its PIN, in one tap instead of your password and code. Your authenticator"
                " app still works if you do not have your phone."
            )
        ),
        rx.el.h2(_("Passkeys you have added"), class_name="heading-m"),
        rx.cond(
            S.rows.length() > 0,  # type: ignore[attr-defined]
            rx.el.ul(rx.foreach(S.rows, _passkey), class_name="passkey-list"),
            rx.el.p(rx.cond(S.loaded, _("You have not added a passkey yet."), "")),
        ),
        rx.el.h2(_("Add a passkey"), class_name="heading-m"),
        _add_form(),
        on_language_change=[S.load],
    )
