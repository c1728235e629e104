"""My account: the signed-in person's own password, sign-ins and authenticator (every role).

Change the password (the current one first; the person's other sessions end), see each
browser signed in (when it signed in, when it was last used, which one is this one) and sign
out everywhere, this browser too; set or remove a PIN for this device, which resumes a session
ended for being idle (``core.services.device_pins``). Passkeys, and changing one's authenticator
app while the old one still works, have pages of their own, linked from here. A lost
authenticator is not replaced from here: a service manager or administrator resets it
(``core.services.accounts``), so that a stolen session cannot swap it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import reflex as rx

from core.areas import Offer, offers
from core.errors import DomainError
from core.schemas.accounts import MyAccount
from core.services import accounts, device_pins
from ui.i18n import N_, Translator
from webapp import routes
from webapp.components.forms import FieldError, button, error_summary, focus, text_field
from webapp.components.layout import loading, page
from webapp.handlers import Caller, signed_in
from webapp.i18n import _
from webapp.state import AppState

MOMENT = "EEE d MMM yyyy, HH:mm"
ENTER_CURRENT = N_("Enter your current password")
ENTER_NEW = N_("Enter a new password")
NOT_THE_SAME = N_("The passwords do not match. Type the same password twice.")
ENTER_PIN = N_("Enter a PIN of 6 digits")
ENTER_PASSWORD_FOR_PIN = N_("Enter your password to confirm it is you")
PIN_FIELDS = {"pin_not_allowed": "pin", "device_unknown": "pin", "wrong_password": "pin_password"}
# Core's refusals shown by the current password: a wrong one, or too many (the sign-in throttle).
BY_CURRENT_PASSWORD = {"wrong_password", "sign_in_throttled", "sign_in_client_throttled"}


@dataclass(frozen=True)
class SessionLine:
    id: str
    started: str
    last_used: str
    this_device: bool


class AccountState(AppState):
    loaded: bool = False
    resets_colleagues: bool = False  # a service manager or admin: link to Staff sign-in
    email: str = ""
    authenticator: str = ""
    sessions: list[SessionLine] = []
    confirmation: str = ""
    current_error: str = ""
    new_error: str = ""
    again_error: str = ""
    errors: list[FieldError] = []
    form_key: int = 0
    pin_status: str = ""  # when this device's PIN was set; "" when it has none
    pin_error: str = ""
    pin_password_error: str = ""
    pin_form_key: int = 0
    _pin_form: bool = False  # the event in hand is the PIN form's (where its errors go)

    def _clear_messages(self) -> None:
        self.confirmation = ""
        self.current_error = self.new_error = self.again_error = ""
        self.pin_error = self.pin_password_error = ""
        self.errors = []
        self._pin_form = False

    def _problems(self, found: dict[str, str]) -> rx.event.EventSpec:
        self.current_error = found.get("current_password", "")
        self.new_error = found.get("new_password", "")
        self.again_error = found.get("again", "")
        self.pin_error = found.get("pin", "")
        self.pin_password_error = found.get("pin_password", "")
        self.errors = [FieldError(field, message) for field, message in found.items()]
        return focus("error-summary")

    def _show_error(self, message: str, error: DomainError) -> rx.event.EventSpec:
        if self._pin_form:
            return self._problems({PIN_FIELDS.get(error.code, "pin"): message})
        field = "current_password" if error.code in BY_CURRENT_PASSWORD else "new_password"
        return self._problems({field: message})

    def _show(self, mine: MyAccount, words: Translator) -> None:
        self.email = mine.email
        self.authenticator = (
            words.gettext(
                "Set up on {date}.", date=words.format_datetime(mine.totp_enrolled_at, MOMENT)
            )
            if mine.totp_enrolled_at
            else words.gettext("Not set up.")
        )
        self.sessions = [
            SessionLine(
                id=str(s.id),
                started=words.format_datetime(s.created_at, MOMENT),
                last_used=words.format_datetime(s.last_seen_at, MOMENT),
                this_device=s.this_device,
            )
            for s in mine.sessions
        ]

    async def _refresh(self, caller: Caller) -> None:
        mine = await accounts.my_account(
            uow=caller.uow(), actor=caller.actor, session_token=self._session_token()
        )
        self._show(mine, caller.words)
        pin = await device_pins.my_pin(
            uow=caller.uow(), actor=caller.actor, device_id=self._device_id()
        )
        self.pin_status = (
            caller.words.gettext(
                "Set on {date}.", date=caller.words.format_datetime(pin.created_at, MOMENT)
            )
            if pin
            else ""
        )

    @rx.event
    @signed_in
    async def load(self, caller: Caller) -> None:
        await self._refresh(caller)
        self.resets_colleagues = offers(caller.actor, Offer.RESET_SIGN_IN)
        self.loaded = True

    @rx.event
    @signed_in
    async def change_password(self, caller: Caller, form: dict[str, Any]) -> rx.event.EventSpec:
        words = caller.words
        current = str(form.get("current_password") or "")
        new = str(form.get("new_password") or "")
        problems = {}
        if not current:
            problems["current_password"] = words.gettext(ENTER_CURRENT)
        if not new:
            problems["new_password"] = words.gettext(ENTER_NEW)
        elif new != str(form.get("again") or ""):
            problems["again"] = words.gettext(NOT_THE_SAME)
        if problems:
            return self._problems(problems)
        ended = await accounts.change_my_password(
            uow=caller.uow(),
            actor=caller.actor,
            current_password=current,
            new_password=new,
            client=self.router.session.client_ip,
            session_token=self._session_token(),
        )
        self.confirmation = words.ngettext(
            "Your password is changed. {n} other browser was signed out.",
            "Your password is changed. {n} other browsers were signed out.",
            ended,
        )
        self.form_key += 1  # an empty form
        await self._refresh(caller)
        return focus("confirmation")

    @rx.event
    @signed_in
    async def set_pin(self, caller: Caller, form: dict[str, Any]) -> rx.event.EventSpec:
        words = caller.words
        self._pin_form = True
        pin = re.sub(r"\s", "", str(form.get("pin") or ""))
        password = str(form.get("pin_password") or "")
        problems = {}
        if not pin:
            problems["pin"] = words.gettext(ENTER_PIN)
        if not password:
            problems["pin_password"] = words.gettext(ENTER_PASSWORD_FOR_PIN)
        if problems:
            return self._problems(problems)
        await device_pins.set_my_pin(
            uow=caller.uow(),
            actor=caller.actor,
            device_id=self._device_id(),
            pin=pin,
            current_password=password,
        )
        self.confirmation = words.gettext(
            "Your PIN is set for this device. After a while without activity you can carry on"
            " here with it."
        )
        self.pin_form_key += 1  # an empty form
        await self._refresh(caller)
        return focus("confirmation")

    @rx.event
    @signed_in
    async def remove_pin(self, caller: Caller) -> rx.event.EventSpec:
        await device_pins.remove_my_pin(
            uow=caller.uow(), actor=caller.actor, device_id=self._device_id()
        )
        self.confirmation = caller.words.gettext("Your PIN is removed from this device.")
        await self._refresh(caller)
        return focus("confirmation")

    @rx.event
    @signed_in
    async def sign_out_everywhere(self, caller: Caller) -> rx.event.EventSpec:
        await accounts.sign_out_everywhere(uow=caller.uow(), actor=caller.actor)
        return self._signed_out()


def _row(key: Any, value: Any) -> rx.Component:
    return rx.el.div(rx.el.dt(key), rx.el.dd(value), class_name="card-row")


def _session_card(line: rx.Var) -> rx.Component:
    return rx.el.li(
        rx.el.dl(
            _row(_("Signed in"), line.started),
            _row(_("Last used"), line.last_used),
            class_name="card-details",
        ),
        rx.cond(line.this_device, rx.el.p(rx.el.strong(_("This browser")), class_name="tag")),
        class_name="card",
        custom_attrs={"data-testid": "session"},
    )


def _password_section() -> rx.Component:
    state = AccountState
    return rx.el.section(
        rx.el.h2(_("Change your password"), id="password-heading", class_name="heading-m"),
        rx.el.form(
            text_field(
                name="current_password",
                label=_("Current password"),
                error=state.current_error,
                type="password",
                auto_complete="current-password",
                width_class="input-wide",
            ),
            text_field(
                name="new_password",
                label=_("New password"),
                hint=_(
                    "At least 12 characters. Three or more unrelated words make a strong"
                    " password that is easy to remember."
                ),
                error=state.new_error,
                type="password",
                auto_complete="new-password",
                width_class="input-wide",
            ),
            text_field(
                name="again",
                label=_("Type the new password again"),
                error=state.again_error,
                type="password",
                auto_complete="new-password",
                width_class="input-wide",
            ),
            button(_("Change password"), type="submit"),
            key=state.form_key,
            on_submit=state.change_password,
            no_validate=True,
        ),
        aria_labelledby="password-heading",
        class_name="case-section",
    )


def _sign_in_section() -> rx.Component:
    return rx.el.section(
        rx.el.h2(_("Your authenticator and passkeys"), id="factor-heading", class_name="heading-m"),
        rx.el.dl(
            _row(_("Authenticator app"), AccountState.authenticator), class_name="card-details"
        ),
        rx.el.p(
            _(
                "Moving to a new phone? Change your authenticator app while you still have the"
                " old one. If you lose the phone with your authenticator app, ask your service"
                " manager or administrator to reset it."
            )
        ),
        rx.el.p(
            rx.el.a(
                _("Change your authenticator app"),
                href=routes.ACCOUNT_AUTHENTICATOR,
                class_name="link-action",
            )
        ),
        rx.el.p(rx.el.a(_("Passkeys"), href=routes.ACCOUNT_PASSKEYS, class_name="link-action")),
        aria_labelledby="factor-heading",
        class_name="case-section",
    )


def _pin_section() -> rx.Component:
    state = AccountState
    return rx.el.section(
        rx.el.h2(_("A PIN for this device"), id="pin-heading", class_name="heading-m"),
        rx.el.p(
            _(
                "You are signed out after a while without activity. On this device you can then"
                " carry on with a 6-digit PIN instead of signing in again, until your sign-in"
                " reaches its time limit. Only set a PIN on a device that is yours."
            )
        ),
        rx.cond(
            state.pin_status != "",
            rx.fragment(
                rx.el.dl(_row(_("PIN"), state.pin_status), class_name="card-details"),
                rx.el.button(
                    _("Remove the PIN"),
                    type="button",
                    on_click=state.remove_pin,
                    class_name="button button-secondary",
                ),
            ),
        ),
        rx.el.form(
            text_field(
                name="pin",
                label=rx.cond(state.pin_status != "", _("New PIN"), _("PIN")),
                hint=_("6 digits. Not one digit repeated, and not digits in order like 123456."),
                error=state.pin_error,
                type="password",
                input_mode="numeric",
                auto_complete="off",
                max_length=6,
                width_class="input-code",
            ),
            text_field(
                name="pin_password",
                label=_("Your password"),
                hint=_("To confirm it is you."),
                error=state.pin_password_error,
                type="password",
                auto_complete="current-password",
                width_class="input-wide",
            ),
            button(
                rx.cond(
                    state.pin_status != "",
                    _("Change the PIN for this device"),
                    _("Set a PIN for this device"),
                ),
                type="submit",
            ),
            key=state.pin_form_key,
            on_submit=state.set_pin,
            no_validate=True,
        ),
        aria_labelledby="pin-heading",
        class_name="case-section",
    )


def _sessions_section() -> rx.Component:
    return rx.el.section(
        rx.el.h2(_("Where you are signed in"), id="sessions-heading", class_name="heading-m"),
        rx.el.ul(rx.foreach(AccountState.sessions, _session_card), class_name="card-list"),
        rx.el.p(
            _(
                "If you see a sign-in you do not recognise, sign out everywhere, change your"
                " password and tell your manager."
            )
        ),
        rx.el.button(
            _("Sign out everywhere"),
            type="button",
            on_click=AccountState.sign_out_everywhere,
            class_name="button button-warning",
        ),
        aria_labelledby="sessions-heading",
        class_name="case-section",
    )


def _colleagues_section() -> rx.Component:
    return rx.cond(
        AccountState.resets_colleagues,
        rx.el.section(
            rx.el.h2(
                _("Your colleagues' sign-in"), id="colleagues-heading", class_name="heading-m"
            ),
            rx.el.p(
                _(
                    "If a colleague has forgotten their password or lost their phone, reset it"
                    " on Staff sign-in."
                )
            ),
            rx.el.p(
                rx.el.a(_("Staff sign-in"), href=routes.STAFF_SIGN_IN, class_name="link-action")
            ),
            aria_labelledby="colleagues-heading",
            class_name="case-section",
        ),
    )


def account_page() -> rx.Component:
    return page(
        _("My account"),
        error_summary(AccountState.errors),
        rx.cond(
            AccountState.confirmation != "",
            rx.el.div(
                rx.el.p(AccountState.confirmation, class_name="banner-text"),
                role="status",
                id="confirmation",
                tab_index=-1,
                class_name="banner-success",
            ),
        ),
        rx.cond(
            AccountState.loaded,
            rx.fragment(
                rx.el.p(AccountState.email),
                _password_section(),
                _sign_in_section(),
                _pin_section(),
                _sessions_section(),
                _colleagues_section(),
            ),
            loading(),
        ),
        on_language_change=[AccountState.load],
    )
