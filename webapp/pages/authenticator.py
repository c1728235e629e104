"""Change your authenticator app (``/account/authenticator``), linked from My account: for a new
phone while the old one still works.

Two steps, both decided by core (``core.services.accounts``): the password and a code from the
app in use now (a wrong one counts as a failed sign-in), then the new app's QR code and key and
its first code. Only then does the old app stop working; the person is told in their inbox and
by email. A lost phone is not changed here: a service manager or administrator resets it, so a
stolen session alone cannot swap it. The ticket between the steps stays on the server side.
"""

from __future__ import annotations

import re
from typing import Any

import reflex as rx

from core.errors import DomainError
from core.services import accounts
from ui.i18n import N_
from webapp import routes
from webapp.components.authenticator import new_authenticator, qr_svg
from webapp.components.forms import FieldError, button, error_summary, focus, text_field
from webapp.components.layout import page
from webapp.handlers import Caller, signed_in
from webapp.i18n import _
from webapp.state import AppState

_CODE = re.compile(r"\d{6}")
ENTER_PASSWORD = N_("Enter your password")
ENTER_CURRENT_CODE = N_("Enter the 6-digit code from the authenticator app you use now")
ENTER_NEW_CODE = N_("Enter the 6-digit code from your new authenticator app")
CONFIRM, ENROL, DONE = "confirm", "enrol", "done"
# Core's refusals that belong by the password (the throttle's too); the rest by the code.
_BY_PASSWORD = {"wrong_password", "sign_in_throttled", "sign_in_client_throttled"}


def _code(form: dict[str, Any]) -> str:
    return re.sub(r"\s", "", str(form.get("code") or ""))


class AuthenticatorState(AppState):
    step: str = CONFIRM
    password_error: str = ""
    code_error: str = ""
    errors: list[FieldError] = []
    new_secret: str = ""
    new_qr_svg: str = ""
    _ticket: str = ""  # backend only: never sent to the browser

    def _clear_messages(self) -> None:
        self.password_error = self.code_error = ""
        self.errors = []

    def _problems(self, found: dict[str, str]) -> rx.event.EventSpec:
        self.password_error = found.get("password", "")
        self.code_error = found.get("code", "")
        self.errors = [FieldError(field, message) for field, message in found.items()]
        return focus("error-summary")

    def _show_error(self, message: str, error: DomainError) -> rx.event.EventSpec:
        if error.code == "authenticator_change_expired":
            self._start_again()
        field = "password" if self.step == CONFIRM and error.code in _BY_PASSWORD else "code"
        return self._problems({field: message})

    def _start_again(self) -> None:
        self.step = CONFIRM
        self.new_secret = self.new_qr_svg = self._ticket = ""

    @rx.event
    @signed_in
    async def load(self, caller: Caller) -> None:
        self._start_again()

    @rx.event
    @signed_in
    async def confirm(self, caller: Caller, form: dict[str, Any]) -> rx.event.EventSpec | None:
        words = caller.words
        password, code = str(form.get("password") or ""), _code(form)
        problems = {}
        if not password:
            problems["password"] = words.gettext(ENTER_PASSWORD)
        if not _CODE.fullmatch(code):
            problems["code"] = words.gettext(ENTER_CURRENT_CODE)
        if problems:
            return self._problems(problems)
        started = await accounts.start_authenticator_change(
            uow=caller.uow(),
            actor=caller.actor,
            current_password=password,
            current_code=code,
            client=self.router.session.client_ip,
        )
        self.step, self._ticket = ENROL, started.ticket
        self.new_secret, self.new_qr_svg = started.secret, qr_svg(started.otpauth_uri, words)
        return focus("new-app-heading")

    @rx.event
    @signed_in
    async def finish(self, caller: Caller, form: dict[str, Any]) -> rx.event.EventSpec | None:
        code = _code(form)
        if not _CODE.fullmatch(code):
            return self._problems({"code": caller.words.gettext(ENTER_NEW_CODE)})
        await accounts.finish_authenticator_change(
            uow=caller.uow(), actor=caller.actor, ticket=self._ticket, totp_code=code
        )
        self._start_again()
        self.step = DONE
        return focus("confirmation")


S = AuthenticatorState


def _code_field(label: rx.Var | str) -> rx.Component:
    return text_field(
        name="code",
        label=label,
        error=S.code_error,
        type="text",
        input_mode="numeric",
        auto_complete="one-time-code",
        max_length=6,
        width_class="input-code",
    )


def _confirm() -> rx.Component:
    return rx.fragment(
        rx.el.p(
            _(
                "Use this when you move to a new phone and still have the old one. You need your"
                " password and a code from the authenticator app you use now."
            )
        ),
        rx.el.p(
            _(
                "If you have lost the phone with your authenticator app, you cannot change it"
                " here: ask your service manager or administrator to reset it."
            )
        ),
        rx.el.form(
            text_field(
                name="password",
                label=_("Password"),
                error=S.password_error,
                type="password",
                auto_complete="current-password",
                width_class="input-wide",
            ),
            _code_field(_("6-digit code from the authenticator app you use now")),
            button(_("Continue"), type="submit"),
            on_submit=S.confirm,
            no_validate=True,
        ),
    )


def _enrol() -> rx.Component:
    return rx.fragment(
        rx.el.h2(
            _("Set up your new authenticator app"),
            id="new-app-heading",
            tab_index=-1,
            class_name="heading-m",
        ),
        rx.el.p(
            _(
                "Scan this QR code with the authenticator app on your new phone, or type in the"
                " key below. Then enter the 6-digit code it shows. Until you do, your old app"
                " keeps working."
            )
        ),
        new_authenticator(S.new_qr_svg, S.new_secret),
        rx.el.form(
            _code_field(_("6-digit code from the new app")),
            button(_("Change authenticator app"), type="submit"),
            on_submit=S.finish,
            no_validate=True,
        ),
    )


def _done() -> rx.Component:
    return rx.fragment(
        rx.el.div(
            rx.el.p(
                _(
                    "Your authenticator app is changed. Codes from the old app no longer work."
                    " We have sent you a message about it."
                ),
                class_name="banner-text",
            ),
            role="status",
            id="confirmation",
            tab_index=-1,
            class_name="banner-success",
        ),
    )


def authenticator_page() -> rx.Component:
    return page(
        _("Change your authenticator app"),
        error_summary(S.errors),
        rx.match(S.step, (ENROL, _enrol()), (DONE, _done()), _confirm()),
        rx.el.p(rx.el.a(_("Back to My account"), href=routes.ACCOUNT, class_name="link-action")),
    )
