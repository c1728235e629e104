"""Where an invitation or reset link leads (signed out): set a password and an authenticator.

One page, by the link's kind: an invitation asks for a new password and then sets up an
authenticator app; a second-factor reset asks for the password and then sets up a new one;
a password reset asks for a new password and a code from the authenticator. At the end the
person is signed in (the hand-off code, as on the sign-in page). Everything is decided by core
(``core.services.accounts``): this page checks only that each answer is there, and that a new
password was typed the same twice. The page holds the token on its server side only.
"""

from __future__ import annotations

import json
import re
from urllib.parse import quote

import reflex as rx

from core.errors import DomainError
from core.schemas.accounts import EnrolmentStart, LinkStep
from core.services import accounts
from ui.errors import error_message
from ui.i18n import N_, SUPPORTED_LOCALES, Translator
from webapp import routes
from webapp.components.authenticator import new_authenticator, qr_svg
from webapp.components.forms import FieldError, button, error_summary, text_field
from webapp.components.layout import page
from webapp.container import container
from webapp.i18n import _, translator
from webapp.state import AppState

_CODE = re.compile(r"\d{6}")
ENTER_PASSWORD = N_("Enter a password")
ENTER_CURRENT = N_("Enter your password")
NOT_THE_SAME = N_("The passwords do not match. Type the same password twice.")
ENTER_CODE = N_("Enter the 6-digit code from your authenticator app")
ENROL = "enrol"
INVALID = "invalid"


class AccountLinkState(AppState):
    step: str = ""  # a LinkStep, ENROL or INVALID; '' while loading
    invalid_message: str = ""
    greeting: str = ""
    password_error: str = ""
    again_error: str = ""
    code_error: str = ""
    errors: list[FieldError] = []
    enrol_secret: str = ""
    enrol_qr_svg: str = ""
    _token: str = ""  # backend only: never sent back to the browser
    _whose: tuple[str, str] = ("", "")  # the account's name and email address

    def _clear(self) -> None:
        self.password_error = self.again_error = self.code_error = ""
        self.errors = []

    def _problems(self, shown: dict[str, str]) -> None:
        self.password_error = shown.get("password", "")
        self.again_error = shown.get("again", "")
        self.code_error = shown.get("code", "")
        self.errors = [FieldError(field, message) for field, message in shown.items()]

    def _refused(self, error: DomainError, words: Translator, field: str) -> None:
        """Core said no: a link that cannot be used ends the flow; the rest shows by a field."""
        message = error_message(error, words)
        if error.code == "account_link_invalid":
            self.step, self.invalid_message = INVALID, message
            self.errors, self._token = [], ""
            return
        self._problems({field: message})

    def _enrol(self, started: EnrolmentStart, words: Translator) -> None:
        self.step = ENROL
        self.enrol_secret = started.secret
        self.enrol_qr_svg = qr_svg(started.otpauth_uri, words)

    @rx.event
    async def load(self) -> list[rx.event.EventSpec]:
        self._clear()
        self.enrol_secret = self.enrol_qr_svg = ""
        token = self.router.url.query_parameters.get("token", "").strip()
        self._token = token
        try:
            link = await accounts.open_account_link(uow=container().uow(), token=token)
        except DomainError as error:
            self._refused(error, translator(self.locale), "password")
            return [self._document_language()]
        if str(link.locale) in SUPPORTED_LOCALES:
            self.locale = str(link.locale)  # the person's own language
        self.step = str(link.step)
        self._whose = (link.display_name, link.email)
        self.retranslate()
        # The token stays in the address: a reload (or a reconnect, which empties a signed-out
        # tab's state: webapp.session_guard) starts the link's steps again. It is single-use.
        return [self._document_language()]

    @rx.event
    def retranslate(self) -> None:
        """After the language switch: the words made here follow it."""
        if self._whose[1]:
            name, email = self._whose
            self.greeting = translator(self.locale).gettext(
                "This is for {name} ({email}).", name=name, email=email
            )

    def _new_password(self, form: dict[str, str], words: Translator) -> str | None:
        password = form.get("password") or ""
        problems = {}
        if not password:
            problems["password"] = words.gettext(ENTER_PASSWORD)
        elif password != (form.get("again") or ""):
            problems["again"] = words.gettext(NOT_THE_SAME)
        self._problems(problems)
        return None if problems else password

    @rx.event
    async def set_password(self, form: dict[str, str]) -> None:
        words = translator(self.locale)
        password = self._new_password(form, words)
        if password is None:
            return
        try:
            started = await accounts.set_password_with_link(
                uow=container().uow(), token=self._token, password=password
            )
        except DomainError as error:
            self._refused(error, words, "password")
            return
        self._enrol(started, words)

    @rx.event
    async def confirm_password(self, form: dict[str, str]) -> None:
        words = translator(self.locale)
        password = form.get("password") or ""
        if not password:
            self._problems({"password": words.gettext(ENTER_CURRENT)})
            return
        try:
            started = await accounts.confirm_password_with_link(
                uow=container().uow(), token=self._token, password=password
            )
        except DomainError as error:
            self._refused(error, words, "password")
            return
        self._clear()
        self._enrol(started, words)

    @rx.event
    async def reset_password(self, form: dict[str, str]) -> rx.event.EventSpec | None:
        words = translator(self.locale)
        password = self._new_password(form, words)
        code = re.sub(r"\s", "", form.get("code") or "")
        if password is not None and not _CODE.fullmatch(code):
            self._problems({"code": words.gettext(ENTER_CODE)})
            return None
        if password is None:
            return None
        try:
            result = await accounts.reset_password_with_link(
                uow=container().uow(), token=self._token, password=password, totp_code=code
            )
        except DomainError as error:
            field = "code" if error.code == "wrong_code" else "password"
            self._refused(error, words, field)
            return None
        return self._finish(result.handoff_code)

    @rx.event
    async def finish_enrolment(self, form: dict[str, str]) -> rx.event.EventSpec | None:
        words = translator(self.locale)
        code = re.sub(r"\s", "", form.get("code") or "")
        if not _CODE.fullmatch(code):
            self._problems({"code": words.gettext(ENTER_CODE)})
            return None
        try:
            result = await accounts.finish_enrolment_with_link(
                uow=container().uow(), token=self._token, totp_code=code
            )
        except DomainError as error:
            self._refused(error, words, "code")
            return None
        return self._finish(result.handoff_code)

    def _finish(self, handoff_code: str) -> rx.event.EventSpec:
        """Signed in: forget the link, and let the cookie endpoint set the session."""
        self._token = ""
        self.enrol_secret = self.enrol_qr_svg = ""
        url = f"{routes.AUTH_SESSION}?code={quote(handoff_code)}"
        return rx.call_script(f"window.location.assign({json.dumps(url)})")


def _password_fields(label: rx.Var | str) -> list[rx.Component]:
    return [
        text_field(
            name="password",
            label=label,
            hint=_(
                "At least 12 characters. Three or more unrelated words make a strong password"
                " that is easy to remember. Do not use a password you use anywhere else."
            ),
            error=AccountLinkState.password_error,
            type="password",
            auto_complete="new-password",
            width_class="input-wide",
        ),
        text_field(
            name="again",
            label=_("Type the password again"),
            error=AccountLinkState.again_error,
            type="password",
            auto_complete="new-password",
            width_class="input-wide",
        ),
    ]


def _code_field(hint: rx.Var | str | None = None) -> rx.Component:
    return text_field(
        name="code",
        label=_("6-digit code"),
        hint=hint,
        error=AccountLinkState.code_error,
        type="text",
        input_mode="numeric",
        auto_complete="one-time-code",
        max_length=6,
        width_class="input-code",
    )


def _form(*children: rx.Component, on_submit: rx.EventHandler) -> rx.Component:
    return rx.el.form(*children, on_submit=on_submit, no_validate=True)


def _set_password() -> rx.Component:
    return rx.fragment(
        rx.el.h2(_("Step 1 of 2: choose a password"), class_name="heading-m"),
        _form(
            *_password_fields(_("New password")),
            button(_("Continue"), type="submit"),
            on_submit=AccountLinkState.set_password,
        ),
    )


def _confirm_password() -> rx.Component:
    return rx.fragment(
        rx.el.h2(_("Step 1 of 2: your password"), class_name="heading-m"),
        _form(
            text_field(
                name="password",
                label=_("Password"),
                error=AccountLinkState.password_error,
                type="password",
                auto_complete="current-password",
                width_class="input-wide",
            ),
            button(_("Continue"), type="submit"),
            on_submit=AccountLinkState.confirm_password,
        ),
    )


def _reset_password() -> rx.Component:
    return rx.fragment(
        rx.el.h2(_("Choose a new password"), class_name="heading-m"),
        _form(
            *_password_fields(_("New password")),
            _code_field(_("The code your authenticator app shows for Drive Assist.")),
            button(_("Save password and sign in"), type="submit"),
            on_submit=AccountLinkState.reset_password,
        ),
    )


def _enrol() -> rx.Component:
    return rx.fragment(
        rx.el.h2(_("Step 2 of 2: set up your authenticator app"), class_name="heading-m"),
        rx.el.p(
            _(
                "Scan this QR code with an authenticator app on your phone, or type in the key"
                " below. Then enter the 6-digit code it shows."
            )
        ),
        new_authenticator(AccountLinkState.enrol_qr_svg, AccountLinkState.enrol_secret),
        _form(
            _code_field(),
            button(_("Finish and sign in"), type="submit"),
            on_submit=AccountLinkState.finish_enrolment,
        ),
    )


def _invalid() -> rx.Component:
    return rx.el.div(
        rx.el.p(AccountLinkState.invalid_message, custom_attrs={"data-testid": "link-problem"}),
        rx.el.p(
            rx.el.a(_("Go to the sign-in page"), href=routes.SIGN_IN, class_name="link-action")
        ),
        class_name="notice",
        role="alert",
    )


def account_link_page() -> rx.Component:
    step = AccountLinkState.step
    return page(
        _("Set up your account"),
        error_summary(AccountLinkState.errors),
        rx.cond((step != "") & (step != INVALID), rx.el.p(AccountLinkState.greeting)),
        rx.match(
            step,
            (str(LinkStep.SET_PASSWORD), _set_password()),
            (str(LinkStep.CONFIRM_PASSWORD), _confirm_password()),
            (str(LinkStep.RESET_PASSWORD), _reset_password()),
            (ENROL, _enrol()),
            (INVALID, _invalid()),
            rx.fragment(),
        ),
        navigation=False,
        on_language_change=[AccountLinkState.retranslate],
    )
