"""Staff sign-in: a service manager or admin resets a colleague's password or second factor,
or sends their invitation again, and sees their passkeys and removes one (a lost phone).

One core read (``accounts.staff_accounts``) lists the staff at a site where the person may
(``Action.ACCOUNT_RESET``) with each account's state; each button asks "are you sure?" first
and then makes one core call, which ends the colleague's sessions, tells them in their inbox
and emails them a new link. When the link could not be emailed it is shown here once, with
why, to be handed over.
"""

from __future__ import annotations

from dataclasses import dataclass

import reflex as rx

from core.areas import Offer, offers
from core.errors import DomainError
from core.schemas.accounts import AccountState, LinkDelivery, StaffAccountRead
from core.schemas.passkeys import PasskeyRead
from core.services import accounts
from ui.account_mail import NotifyLinkMailer, delivery_text
from ui.i18n import N_, Translator
from webapp.components.forms import FieldError, error_summary, field_error, focus
from webapp.components.layout import not_allowed, page
from webapp.handlers import Caller, signed_in
from webapp.i18n import _
from webapp.state import AppState

PASSWORD, SECOND_FACTOR, INVITATION = "password", "second_factor", "invitation"
PASSKEY = "passkey"
STATES = {
    AccountState.SET_UP: N_("Set up"),
    AccountState.INVITED: N_("Invited"),
    AccountState.INVITATION_EXPIRED: N_("Invitation expired"),
    AccountState.SWITCHED_OFF: N_("Switched off"),
}
QUESTIONS = {
    PASSWORD: N_(
        "Reset {name}'s password? They will be signed out everywhere and sent a link to choose"
        " a new one."
    ),
    SECOND_FACTOR: N_(
        "Reset {name}'s authenticator app? Its codes stop working now, they will be signed out"
        " everywhere and sent a link to set up a new one."
    ),
    INVITATION: N_("Send {name} a new invitation? The old link will stop working."),
}
REMOVE_PASSKEY = N_(
    "Remove {name}'s passkey {passkey}? It stops signing them in now, and they will be signed"
    " out everywhere."
)


@dataclass(frozen=True)
class PasskeyLine:
    id: str
    name: str
    added: str
    last_used: str


@dataclass(frozen=True)
class SiteButton:
    id: str
    code: str


@dataclass(frozen=True)
class StaffLine:
    id: str
    name: str
    email: str
    state: str
    set_up: bool
    invited: bool
    name_id: str
    field_id: str
    passkeys: list[PasskeyLine]


def _passkey_line(passkey: PasskeyRead, words: Translator) -> PasskeyLine:
    return PasskeyLine(
        id=str(passkey.id),
        name=passkey.name,
        added=words.format_date(passkey.created_at, "d MMMM yyyy"),
        last_used=words.format_date(passkey.last_used_at, "d MMMM yyyy")
        if passkey.last_used_at
        else words.gettext("Not used yet"),
    )


def _line(person: StaffAccountRead, me: int, words: Translator) -> StaffLine | None:
    if person.id == me:
        return None  # one's own account: My account
    return StaffLine(
        id=str(person.id),
        name=person.display_name,
        email=person.email,
        state=words.gettext(STATES[person.state]),
        set_up=person.state is AccountState.SET_UP,
        invited=person.state in {AccountState.INVITED, AccountState.INVITATION_EXPIRED},
        name_id=f"staff-{person.id}-name",
        field_id=f"staff-{person.id}",
        passkeys=[_passkey_line(p, words) for p in person.passkeys],
    )


class StaffSignInState(AppState):
    allowed: bool = True
    loaded: bool = False
    sites: list[SiteButton] = []
    site_id: str = ""
    staff: list[StaffLine] = []
    asking_id: str = ""  # the colleague whose button awaits "are you sure?"
    asking_what: str = ""
    question: str = ""
    result: str = ""
    result_url: str = ""  # a link that could not be emailed: shown once
    errors: list[FieldError] = []
    row_field: str = ""
    row_error: str = ""
    _pressed: str = ""
    _asking_passkey: str = ""

    def _clear_messages(self) -> None:
        self.result = self.result_url = ""
        self.errors = []
        self.row_field = self.row_error = ""

    def _show_error(self, message: str, error: DomainError) -> rx.event.EventSpec:
        self.row_field, self.row_error = self._pressed, message
        self.errors = [FieldError(self._pressed, message)]
        return focus("error-summary")

    async def _refresh(self, caller: Caller) -> None:
        self.allowed = offers(caller.actor, Offer.RESET_SIGN_IN)
        if not self.allowed:
            self.staff, self.sites = [], []
            return
        site_id = int(self.site_id) if self.site_id.isdigit() else None
        shown = await accounts.staff_accounts(uow=caller.uow(), actor=caller.actor, site_id=site_id)
        self.sites = [SiteButton(id=str(s.id), code=s.code) for s in shown.sites]
        self.site_id = str(shown.site_id or "")
        lines = [_line(p, caller.actor.user_id, caller.words) for p in shown.staff]
        self.staff = [line for line in lines if line is not None]

    @rx.event
    @signed_in
    async def load(self, caller: Caller) -> None:
        self.asking_id = self.asking_what = self.question = ""
        await self._refresh(caller)
        self.loaded = True

    @rx.event
    @signed_in
    async def choose_site(self, caller: Caller, site_id: str) -> None:
        self.site_id, self.asking_id = site_id, ""
        await self._refresh(caller)

    @rx.event
    @signed_in
    async def ask(self, caller: Caller, user_id: str, what: str) -> rx.event.EventSpec | None:
        name = next((line.name for line in self.staff if line.id == user_id), "")
        if what not in QUESTIONS or not name:
            return None
        self.asking_id, self.asking_what = user_id, what
        self.question = caller.words.gettext(QUESTIONS[what], name=name)
        return focus(f"staff-{user_id}")

    @rx.event
    @signed_in
    async def ask_remove_passkey(
        self, caller: Caller, user_id: str, passkey_id: str
    ) -> rx.event.EventSpec | None:
        line = next((line for line in self.staff if line.id == user_id), None)
        key = next((p for p in line.passkeys if p.id == passkey_id), None) if line else None
        if line is None or key is None:
            return None
        self.asking_id, self.asking_what, self._asking_passkey = user_id, PASSKEY, passkey_id
        self.question = caller.words.gettext(REMOVE_PASSKEY, name=line.name, passkey=key.name)
        return focus(f"staff-{user_id}")

    @rx.event
    @signed_in
    async def cancel(self, caller: Caller) -> None:
        self.asking_id = self.asking_what = self.question = ""

    @rx.event
    @signed_in
    async def confirm(self, caller: Caller) -> rx.event.EventSpec | None:
        user_id, what = self.asking_id, self.asking_what
        self.asking_id = self.asking_what = self.question = ""
        self._pressed = f"staff-{user_id}"
        if what == PASSKEY and user_id.isdigit() and self._asking_passkey.isdigit():
            return await self._remove_passkey(caller, int(user_id), int(self._asking_passkey))
        if not user_id.isdigit() or what not in QUESTIONS:
            return None
        service = {
            PASSWORD: accounts.reset_password,
            SECOND_FACTOR: accounts.reset_second_factor,
            INVITATION: accounts.resend_invitation,
        }[what]
        try:
            delivery = await service(
                uow=caller.uow(),
                actor=caller.actor,
                user_id=int(user_id),
                mailer=NotifyLinkMailer(caller.container.settings),
            )
        finally:
            await self._refresh(caller)
        self._show_delivery(delivery, caller.words)
        return focus("link-result")

    async def _remove_passkey(
        self, caller: Caller, user_id: int, passkey_id: int
    ) -> rx.event.EventSpec:
        try:
            await accounts.remove_colleague_passkey(
                uow=caller.uow(), actor=caller.actor, user_id=user_id, passkey_id=passkey_id
            )
        finally:
            await self._refresh(caller)
        self.result = caller.words.gettext(
            "Passkey removed. It no longer signs them in; they were signed out everywhere and"
            " told by email and in their inbox."
        )
        return focus("link-result")

    def _show_delivery(self, delivery: LinkDelivery, words: Translator) -> None:
        self.result = delivery_text(delivery, words)
        self.result_url = delivery.url


def _button(text: rx.Var | str, line: rx.Var, what: str, warning: bool = False) -> rx.Component:
    return rx.el.button(
        text,
        type="button",
        on_click=StaffSignInState.ask(line.id, what),
        aria_describedby=line.name_id,
        class_name="button button-warning" if warning else "button button-secondary",
    )


def _confirmation(line: rx.Var) -> rx.Component:
    return rx.cond(
        StaffSignInState.asking_id == line.id,
        rx.el.div(
            rx.el.p(StaffSignInState.question),
            rx.el.div(
                rx.el.button(
                    _("Yes, go ahead"),
                    type="button",
                    on_click=StaffSignInState.confirm,
                    class_name="button button-warning",
                ),
                rx.el.button(
                    _("Cancel"),
                    type="button",
                    on_click=StaffSignInState.cancel,
                    class_name="button button-secondary",
                ),
                class_name="button-group",
            ),
            role="alert",
            class_name="notice",
        ),
    )


def _passkeys(line: rx.Var) -> rx.Component:
    def one(key: rx.Var) -> rx.Component:
        return rx.el.li(
            rx.el.p(rx.el.strong(key.name)),
            rx.el.dl(
                rx.el.div(rx.el.dt(_("Added")), rx.el.dd(key.added), class_name="card-row"),
                rx.el.div(rx.el.dt(_("Last used")), rx.el.dd(key.last_used), class_name="card-row"),
                class_name="card-details",
            ),
            rx.el.button(
                _("Remove passkey"),
                rx.el.span(" ", key.name, class_name="visually-hidden"),
                type="button",
                on_click=StaffSignInState.ask_remove_passkey(line.id, key.id),
                aria_describedby=line.name_id,
                class_name="button button-secondary",
            ),
            custom_attrs={"data-testid": "colleague-passkey"},
        )

    return rx.cond(
        line.passkeys.length() > 0,  # type: ignore[attr-defined]
        rx.fragment(
            rx.el.h3(_("Passkeys"), class_name="heading-s"),
            rx.el.ul(rx.foreach(line.passkeys, one), class_name="plain-list"),
        ),
    )


def _staff_card(line: rx.Var) -> rx.Component:
    return rx.el.li(
        rx.el.h2(line.name, id=line.name_id, class_name="card-title"),
        rx.el.dl(
            rx.el.div(rx.el.dt(_("Email")), rx.el.dd(line.email), class_name="card-row"),
            rx.el.div(rx.el.dt(_("Account")), rx.el.dd(line.state), class_name="card-row"),
            class_name="card-details",
        ),
        rx.el.div(
            field_error(
                StaffSignInState.row_error,
                line.field_id.to(str) + "-error",
                StaffSignInState.row_field == line.field_id,
            ),
            id=line.field_id,
            tab_index=-1,
        ),
        _confirmation(line),
        _passkeys(line),
        rx.el.div(
            rx.cond(
                line.set_up,
                rx.fragment(
                    _button(_("Reset password"), line, PASSWORD),
                    _button(_("Reset second factor"), line, SECOND_FACTOR, warning=True),
                ),
            ),
            rx.cond(line.invited, _button(_("Send the invitation again"), line, INVITATION)),
            class_name="button-group",
        ),
        class_name="card",
        custom_attrs={"data-testid": "staff-account"},
    )


def _result() -> rx.Component:
    return rx.cond(
        StaffSignInState.result != "",
        rx.el.div(
            rx.el.p(StaffSignInState.result),
            rx.cond(
                StaffSignInState.result_url != "",
                rx.el.p(
                    StaffSignInState.result_url,
                    class_name="secret",
                    custom_attrs={"data-testid": "link-url"},
                ),
            ),
            role="status",
            id="link-result",
            tab_index=-1,
            class_name="banner-success",
        ),
    )


def _site_switch() -> rx.Component:
    return rx.cond(
        StaffSignInState.sites.length() > 1,  # type: ignore[attr-defined]
        rx.el.ul(
            rx.foreach(
                StaffSignInState.sites,
                lambda site: rx.el.li(
                    rx.el.button(
                        site.code,
                        type="button",
                        on_click=StaffSignInState.choose_site(site.id),
                        aria_pressed=rx.cond(site.id == StaffSignInState.site_id, "true", "false"),
                        class_name=rx.cond(
                            site.id == StaffSignInState.site_id,
                            "button",
                            "button button-secondary",
                        ),
                    )
                ),
            ),
            class_name="button-group plain-list",
            aria_label=_("Show the staff at"),
        ),
    )


def staff_sign_in_page() -> rx.Component:
    return page(
        _("Staff sign-in"),
        error_summary(StaffSignInState.errors),
        rx.cond(
            StaffSignInState.loaded,
            rx.cond(
                StaffSignInState.allowed,
                rx.fragment(
                    rx.el.p(
                        _(
                            "Reset a colleague's password or authenticator app when they have"
                            " forgotten it or lost their phone. They are signed out everywhere"
                            " and sent a new link; nothing else about their account changes."
                        )
                    ),
                    _site_switch(),
                    _result(),
                    rx.el.ul(
                        rx.foreach(StaffSignInState.staff, _staff_card), class_name="card-list"
                    ),
                ),
                not_allowed(
                    _(
                        "This page is for service managers and administrators. If you need it,"
                        " ask your administrator."
                    )
                ),
            ),
        ),
        on_language_change=[StaffSignInState.load],
    )
