"""My account: the signed-in person's own password, sign-ins and authenticator (every role).

Change the password (the current one first; the person's other sessions end), see each
browser signed in (when it signed in, when it was last used, which one is this one) and sign
out everywhere, this browser too. Passkeys, and changing one's authenticator app while the old
one still works, have pages of their own, linked from here. A lost authenticator is not
replaced from here: a service manager or administrator resets it (``core.services.accounts``),
so that a stolen session cannot swap it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import reflex as rx

from core.areas import Offer, offers
from core.errors import DomainError
from core.schemas.accounts import MyAccount
from core.services import accounts
from ui.i18n import N_, Translator
from webapp import routes
from webapp.components.forms import FieldError, button, error_summary, focus, text_field
from webapp.components.layout import page
from webapp.handlers import Caller, signed_in
from webapp.i18n import _
from webapp.state import AppState

MOMENT = "EEE d MMM yyyy, HH:mm"
ENTER_CURRENT = N_("Enter your current password")
ENTER_NEW = N_("Enter a new password")
NOT_THE_SAME = N_("The passwords do not match. Type the same password twice.")
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

    def _clear_messages(self) -> None:
        self.confirmation = ""
        self.current_error = self.new_error = self.again_error = ""
        self.errors = []

    def _problems(self, found: dict[str, str]) -> rx.event.EventSpec:
        self.current_error = found.get("current_password", "")
        self.new_error = found.get("new_password", "")
        self.again_error = found.get("again", "")
        self.errors = [FieldError(field, message) for field, message in found.items()]
        return focus("error-summary")

    def _show_error(self, message: str, error: DomainError) -> rx.event.EventSpec:
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
                _sessions_section(),
                _colleagues_section(),
            ),
        ),
        on_language_change=[AccountState.load],
    )
