"""Sign in: email address, password and the 6-digit code from an authenticator app.

The form follows the GOV.UK pattern: visible labels, hints, an error summary linking to each
field in error. Authentication itself is core's (``core.services.auth``); this page only
checks that each answer is there and well formed before asking core. A browser whose session
ended for being idle may instead carry on with a passkey or the PIN set for this device
(``core.services.passkeys``, ``core.services.device_pins``).
"""

from __future__ import annotations

import json
import re
from urllib.parse import quote

import reflex as rx

from core.errors import DomainError, PinRejected
from core.services import auth, device_pins, passkeys
from ui.errors import error_message
from ui.i18n import N_, Translator
from webapp import routes
from webapp.components.forms import FieldError, button, error_summary, focus, text_field
from webapp.components.layout import page
from webapp.components.passkeys import ceremony, credential_from, offer_passkeys
from webapp.container import container
from webapp.i18n import _, translator
from webapp.state import BACK_TO_THE_PAGE, AppState

_CODE = re.compile(r"\d{6}")

MISSING_EMAIL = N_("Enter your email address")
BAD_EMAIL = N_("Enter an email address in the correct format, like name@example.org")
MISSING_PASSWORD = N_("Enter your password")
BAD_CODE = N_("Enter the 6-digit code from your authenticator app")
PASSKEY_NOT_USED = N_(
    "Your passkey was not used: the request was cancelled or timed out. Try again, or sign in"
    " with your password and authenticator code."
)
ENTER_PIN = N_("Enter the 6-digit PIN you set for this device")
PIN_REMOVED = N_(
    "That PIN was wrong {tries} times, so it is removed from this device. Sign in with your"
    " email address, password and authenticator code."
)
PASSKEY_BUTTON_ID = "passkey"
RESUME_BUTTON_ID = "resume"


class SignInState(AppState):
    email_error: str = ""
    password_error: str = ""
    code_error: str = ""
    errors: list[FieldError] = []
    passkeys_offered: bool = False  # this server has an RP ID and the browser has WebAuthn
    resume_offered: bool = False  # this browser's session ended idle and may be resumed
    pin_resume_offered: bool = False  # ... and its owner set a PIN on this device
    pin_error: str = ""

    def _show_problems(self, problems: dict[str, str], words: Translator) -> None:
        """Each field's message (``problems``: field -> msgid), and the summary of them all."""
        shown = {field: words.gettext(message) for field, message in problems.items()}
        self.email_error = shown.get("email", "")
        self.password_error = shown.get("password", "")
        self.code_error = shown.get("code", "")
        self.pin_error = shown.get("pin", "")
        self.errors = [FieldError(field, message) for field, message in shown.items()]

    @rx.event
    async def submit(self, form: dict[str, str]) -> rx.event.EventSpec | None:
        words = translator(self.locale)
        email = (form.get("email") or "").strip()
        password = form.get("password") or ""
        code = re.sub(r"\s", "", form.get("code") or "")
        problems = _sign_in_problems(email, password, code)
        self._show_problems(problems, words)
        if problems:
            return focus("error-summary")  # GOV.UK: the summary takes focus, read out first
        try:
            result = await auth.sign_in(
                uow=container().uow(),
                email=email,
                password=password,
                totp_code=code,
                client=self.router.session.client_ip,
            )
        except DomainError as error:  # failed, throttled or locked: one message, no field
            self.errors = [FieldError("email", error_message(error, words))]
            return focus("error-summary")
        return _go_to_session(result.handoff_code)

    @rx.event
    async def check_passkeys(self) -> rx.event.EventSpec | None:
        """Show the passkey buttons only when the server and the browser both support them;
        "Resume" only when this browser's session ended for being idle and may come back."""
        self.passkeys_offered = False
        app = container()
        self.resume_offered = await passkeys.resume_offered(
            uow=app.uow(), settings=app.settings, session_token=self._session_token()
        )
        self.pin_resume_offered = await device_pins.pin_resume_offered(
            uow=app.uow(),
            settings=app.settings,
            session_token=self._session_token(),
            device_id=self._device_id(),
        )
        return offer_passkeys(app.settings, SignInState.browser_has_passkeys)

    @rx.event
    def browser_has_passkeys(self, supported: bool) -> None:
        self.passkeys_offered = supported is True

    @rx.event
    async def begin_passkey(self) -> rx.event.EventSpec | None:
        """Ask the browser for any of this site's passkeys (fingerprint, face or PIN)."""
        words = translator(self.locale)
        self._show_problems({}, words)
        app = container()
        try:
            options = await passkeys.begin_sign_in(uow=app.uow(), settings=app.settings)
        except DomainError as error:
            self.errors = [FieldError(PASSKEY_BUTTON_ID, error_message(error, words))]
            return None
        return ceremony("get", options, SignInState.finish_passkey)

    @rx.event
    async def finish_passkey(self, outcome: str) -> rx.event.EventSpec | None:
        """The browser's answer: a session (the same handoff as the password), or why not."""
        words = translator(self.locale)
        credential = credential_from(outcome)
        if credential is None:
            self.errors = [FieldError(PASSKEY_BUTTON_ID, words.gettext(PASSKEY_NOT_USED))]
            return None
        app = container()
        try:
            result = await passkeys.finish_sign_in(
                uow=app.uow(), settings=app.settings, credential_json=credential
            )
        except DomainError as error:
            self.errors = [FieldError(PASSKEY_BUTTON_ID, error_message(error, words))]
            return None
        return _go_to_session(result.handoff_code)

    @rx.event
    async def begin_resume(self) -> rx.event.EventSpec | None:
        """Ask the browser for one of the idle session's owner's own passkeys."""
        words = translator(self.locale)
        self._show_problems({}, words)
        app = container()
        try:
            options = await passkeys.begin_resume(
                uow=app.uow(), settings=app.settings, session_token=self._session_token()
            )
        except DomainError as error:
            return self._resume_failed(error_message(error, words))
        return ceremony("get", options, SignInState.finish_resume)

    @rx.event
    async def finish_resume(self, outcome: str) -> rx.event.EventSpec | None:
        """The same session back (its cookie never left this browser), or why not."""
        words = translator(self.locale)
        credential = credential_from(outcome)
        if credential is None:
            self.errors = [FieldError(RESUME_BUTTON_ID, words.gettext(PASSKEY_NOT_USED))]
            return None
        app = container()
        try:
            await passkeys.finish_resume(
                uow=app.uow(),
                settings=app.settings,
                session_token=self._session_token(),
                credential_json=credential,
            )
        except DomainError as error:
            return self._resume_failed(error_message(error, words))
        return BACK_TO_THE_PAGE  # the page the session idled out on, else Today

    @rx.event
    async def resume_with_pin(self, form: dict[str, str]) -> rx.event.EventSpec | None:
        """The same session back with this device's PIN, or why not (a wrong PIN says how many
        tries are left; the last one, or a session that may no longer resume, ends the offer)."""
        words = translator(self.locale)
        pin = re.sub(r"\s", "", form.get("pin") or "")
        if not _CODE.fullmatch(pin):
            self._show_problems({"pin": ENTER_PIN}, words)
            return focus("error-summary")
        self._show_problems({}, words)
        app = container()
        try:
            await device_pins.resume_with_pin(
                uow=app.uow(),
                settings=app.settings,
                session_token=self._session_token(),
                device_id=self._device_id(),
                pin=pin,
                client=self.router.session.client_ip,
            )
        except DomainError as error:
            tries_left = error.details.get("tries_left")
            if isinstance(error, PinRejected) and isinstance(tries_left, int):
                message = words.ngettext(
                    "That PIN is not right. You have {n} more try before it is removed from"
                    " this device.",
                    "That PIN is not right. You have {n} more tries before it is removed from"
                    " this device.",
                    tries_left,
                )
                self.pin_error = message
                self.errors = [FieldError("pin", message)]
                return focus("error-summary")
            if error.details.get("removed"):
                message = words.gettext(PIN_REMOVED, tries=device_pins.MAX_TRIES)
            else:  # no longer resumable, or this client must wait: sign in in full
                message = error_message(error, words)
            self.pin_resume_offered = False
            self.errors = [FieldError("email", message)]
            return focus("error-summary")
        return BACK_TO_THE_PAGE  # the page the session idled out on, else Today

    def _resume_failed(self, message: str) -> None:
        """Resuming is over (no longer allowed, or refused): sign in in full instead."""
        self.resume_offered = False
        self.errors = [FieldError(PASSKEY_BUTTON_ID, message)]


def _sign_in_problems(email: str, password: str, code: str) -> dict[str, str]:
    """What is missing or malformed, by field (untranslated messages)."""
    problems: dict[str, str] = {}
    if not email:
        problems["email"] = MISSING_EMAIL
    elif "@" not in email.strip("@"):
        problems["email"] = BAD_EMAIL
    if not password:
        problems["password"] = MISSING_PASSWORD
    if not _CODE.fullmatch(code):
        problems["code"] = BAD_CODE
    return problems


def passkey_resume() -> rx.Component:
    """After the idle limit: the same session back with a passkey, within its 12 hours."""
    return rx.cond(
        SignInState.passkeys_offered & SignInState.resume_offered,
        rx.el.div(
            rx.el.h2(_("Resume where you were"), class_name="heading-m"),
            rx.el.p(
                _(
                    "You were signed out after a while without activity. On this device you"
                    " can carry on with your passkey instead of signing in again."
                )
            ),
            button(
                _("Resume with your passkey"),
                id=RESUME_BUTTON_ID,
                type="button",
                on_click=SignInState.begin_resume,
            ),
            class_name="notice form-group",
        ),
    )


def pin_resume() -> rx.Component:
    """After the idle limit, on a device with its owner's PIN: the same session back."""
    return rx.cond(
        SignInState.pin_resume_offered,
        rx.el.div(
            rx.el.h2(_("Enter your PIN"), class_name="heading-m"),
            rx.el.p(
                _(
                    "You were signed out after a while without activity. On this device you"
                    " can carry on with the PIN you set instead of signing in again."
                )
            ),
            rx.el.form(
                text_field(
                    name="pin",
                    label=_("Your PIN"),
                    error=SignInState.pin_error,
                    type="password",
                    input_mode="numeric",
                    auto_complete="off",
                    max_length=6,
                    width_class="input-code",
                ),
                button(_("Carry on"), type="submit"),
                on_submit=SignInState.resume_with_pin,
                no_validate=True,
            ),
            class_name="notice form-group",
        ),
    )


def passkey_sign_in() -> rx.Component:
    """One tap with the phone's fingerprint or face unlock; shown only where it can work."""
    return rx.cond(
        SignInState.passkeys_offered,
        rx.el.div(
            button(
                _("Sign in with a passkey"),
                id=PASSKEY_BUTTON_ID,
                type="button",
                variant="button-secondary",
                on_click=SignInState.begin_passkey,
            ),
            rx.el.p(
                _(
                    "Use your phone's fingerprint or face unlock, if you have added a passkey."
                    " Or sign in with your password and code below."
                ),
                class_name="hint",
            ),
            class_name="form-group",
        ),
    )


def _go_to_session(handoff_code: str) -> rx.event.EventSpec:
    """A full page load of the cookie endpoint, so the server can set the HttpOnly cookie."""
    url = f"{routes.AUTH_SESSION}?code={quote(handoff_code)}"
    return rx.call_script(f"window.location.assign({json.dumps(url)})")


def _new_account_guidance() -> rx.Component:
    """A new account is set up only through its invitation link (docs/SECURITY.md,
    "Invitations and resets"); the sign-in page never sets up an authenticator."""
    return rx.el.details(
        rx.el.summary(
            rx.el.span(_("New account, or lost your phone?"), class_name="details-summary-text"),
            class_name="details-summary",
        ),
        rx.el.div(
            rx.el.p(
                _(
                    "A new account is set up with the link in your invitation email: it asks"
                    " you to choose a password, then to set up an authenticator app. You"
                    " cannot sign in here until you have done that."
                )
            ),
            rx.el.p(
                _(
                    "If you have forgotten your password or lost the phone with your"
                    " authenticator app, ask your service manager or administrator to reset"
                    " it. You will be sent a new link."
                )
            ),
            class_name="details-text",
        ),
        class_name="details",
    )


def sign_in() -> rx.Component:
    return page(
        _("Sign in"),
        error_summary(SignInState.errors),
        pin_resume(),
        passkey_resume(),
        passkey_sign_in(),
        rx.el.form(
            text_field(
                name="email",
                label=_("Email address"),
                error=SignInState.email_error,
                type="email",
                auto_complete="username",
                spell_check=False,
                width_class="input-wide",
            ),
            text_field(
                name="password",
                label=_("Password"),
                error=SignInState.password_error,
                type="password",
                auto_complete="current-password",
                width_class="input-wide",
            ),
            text_field(
                name="code",
                label=_("6-digit code"),
                hint=_("The code your authenticator app shows for Drive Assist."),
                error=SignInState.code_error,
                type="text",
                input_mode="numeric",
                auto_complete="one-time-code",
                max_length=6,
                width_class="input-code",
            ),
            button(_("Sign in"), type="submit"),
            on_submit=SignInState.submit,
            no_validate=True,
            action=routes.SIGN_IN,
            method="post",
        ),
        _new_account_guidance(),
        navigation=False,
    )
