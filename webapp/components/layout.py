"""The page shell: skip link, header (banner) with the service name, navigation, the language
switch, and main.

Every page renders through ``page()`` so landmarks are the same everywhere and each page
has exactly one ``h1`` (its title).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import reflex as rx
from reflex.components.core.banner import has_connection_errors

from core.areas import Area
from core.enums import Locale
from ui.i18n import SOURCE_LOCALE
from ui.labels import LANGUAGE_NAMES
from webapp import routes
from webapp.components.forms import focus
from webapp.i18n import BCP47, READS_WELSH, _, html_lang
from webapp.state import AppState

MAIN_ID = "main-content"
LANGUAGE_SWITCH_ID = "language-switch"


def _language_button(locale: str, reload: Sequence[Any]) -> rx.Component:
    """A button naming ``locale`` in its own words (GOV.UK's "English | Cymraeg" switch)."""
    code = Locale(locale)
    return rx.el.button(
        LANGUAGE_NAMES[code],
        type="button",
        lang=BCP47[locale],
        # The switch is drawn again as the other language's button: focus goes to it, not
        # back to the top of the page, so a keyboard user carries on where they were.
        on_click=[AppState.set_locale(locale), *reload, focus(LANGUAGE_SWITCH_ID)],
        id=LANGUAGE_SWITCH_ID,
        class_name="header-button language-switch",
    )


def _language_switch(reload: Sequence[Any]) -> rx.Component:
    """Offers the other language; ``reload`` re-runs the page's loader so text the server
    built (times, labels) follows the switch too."""
    return rx.cond(
        READS_WELSH,
        _language_button(SOURCE_LOCALE, reload),
        _language_button("cy", reload),
    )


def _menu_links() -> list[tuple[Area, Any, str]]:
    """Each area of the menu: its label and address, in menu order."""
    return [
        (Area.TODAY, _("Today"), routes.TODAY),
        (Area.CASELOAD, _("Caseload"), routes.CASELOAD),
        (Area.REFERRAL, _("New referral"), routes.REFERRAL),
        (Area.MY_CASES, _("My cases"), routes.MY_CASES),
        (Area.LOG_CONTACT, _("Log a contact"), routes.LOG_CONTACT),
        (Area.APPOINTMENTS, _("Appointments"), routes.APPOINTMENTS),
        (Area.INBOX, _("Inbox"), routes.INBOX),
        (Area.ALERTS, _("Alerts"), routes.ALERTS),
        (Area.PANEL, _("Panel"), routes.PANEL),
        (Area.TEAM, _("Team"), routes.TEAM),
        (Area.REPORTS, _("Reports"), routes.REPORTS),
        (Area.ADMIN, _("Admin"), routes.ADMIN),
    ]


def _navigation() -> rx.Component:
    """The main menu: only the areas this person may use (``AppState.areas``, from core).

    On a phone it folds behind a "Menu" disclosure (a native ``details``, so it works before
    the page has connected); from tablet width up the list is always shown (see webapp.css).
    """
    items = [
        rx.cond(
            AppState.areas.contains(str(area)),
            rx.el.li(rx.el.a(label, href=route, class_name="nav-link")),
            rx.fragment(),
        )
        for area, label, route in _menu_links()
    ]
    # "My account" and "Sign out" close the folded menu on a phone; from tablet width both sit
    # by the language switch instead (the menu's row holds only the areas).
    items.append(rx.el.li(_account_link("nav-link"), class_name="nav-sign-out"))
    items.append(rx.el.li(_sign_out_button(), class_name="nav-sign-out"))
    return rx.el.details(
        rx.el.summary(_("Menu"), class_name="nav-toggle header-button"),
        rx.el.nav(rx.el.ul(*items, class_name="nav-list"), aria_label=_("Main menu")),
        class_name="nav-menu",
    )


def _account_link(class_name: str) -> rx.Component:
    """My account: one's own password, sign-ins and authenticator (every role)."""
    return rx.el.a(_("My account"), href=routes.ACCOUNT, class_name=class_name)


def _sign_out_button() -> rx.Component:
    # data-sign-out: assets/held.js asks first what to do with saves still held on the phone.
    return rx.el.button(
        _("Sign out"),
        type="button",
        on_click=AppState.sign_out,
        class_name="header-button",
        custom_attrs={"data-sign-out": "yes"},
    )


def _held_words() -> dict[str, Any]:
    """What assets/held.js says, in the reader's language (the script has no catalogue)."""
    return {
        "data-held": _("Saved on this phone. It will be sent when you have signal."),
        "data-waiting": _("Waiting to send:"),
        "data-sent": _("Sent. What you saved on this phone has reached Drive Assist."),
        "data-invalid": _(
            "Something you saved on this phone could not be sent. Put it back in the form and"
            " change what it says:"
        ),
        "data-put-back": _("Put it back in the form"),
        "data-expired": _(
            "Something saved on this phone was more than 24 hours old and has been deleted"
            " without being sent."
        ),
        "data-no-key": _(
            "This cannot be kept on this phone until you have had signal since signing in."
            " Keep this page open and press Save again when you have signal."
        ),
        "data-sign-out-question": _(
            "You have saves on this phone that have not been sent yet. What should happen to them?"
        ),
        "data-send-now": _("Send them now, then sign out"),
        "data-keep": _("Keep them for me, then sign out"),
        "data-discard": _("Delete them, then sign out"),
        "data-cancel": _("Do not sign out"),
    }


def _held_status() -> rx.Component:
    """How many saves wait on this phone: assets/held.js writes it, empty when none (it is
    always in the page, so the polite announcement is made when the number changes)."""
    return rx.el.p(
        id="held-count",
        class_name="held-count",
        aria_live="polite",
        custom_attrs=_held_words(),
    )


def _header(show_navigation: bool, reload: Sequence[Any]) -> rx.Component:
    """The service's name and the language switch on the first row; the menu beneath, one row
    from tablet width. On a phone "Sign out" is the last item of the folded menu; from tablet
    width it sits by the language switch (CSS shows one of the two), so the menu's own row
    holds only its areas, in either language."""
    parts = [rx.el.a(_("Drive Assist"), href=routes.TODAY, class_name="service-name")]
    parts.append(_held_status())
    parts.append(_language_switch(reload))
    if show_navigation:
        parts.append(
            rx.el.div(
                _account_link("header-account"), _sign_out_button(), class_name="header-sign-out"
            )
        )
        parts.append(_navigation())
    return rx.el.header(rx.el.div(*parts, class_name="header-inner"), class_name="header")


def not_allowed(explanation: rx.Var | str) -> rx.Component:
    """What a page shows someone whose role may not use it: no data, a way back."""
    return rx.el.div(
        rx.el.h2(_("You cannot see this page"), class_name="heading-m"),
        rx.el.p(explanation),
        rx.el.p(rx.el.a(_("Go to Today"), href=routes.TODAY, class_name="link-action")),
        class_name="notice",
    )


def loading(text: rx.Var | str | None = None) -> rx.Component:
    """What a page shows until its data has come: ``text`` ("Loading…" by default) while the
    page is connected, and with no connection (a page opened with no signal, from the service
    worker's copy) what the page is waiting for and what can be done meanwhile, rather than
    "Loading…" for ever. The page loads by itself once the signal is back."""
    return rx.cond(
        has_connection_errors,
        rx.el.div(
            rx.el.p(_("This page needs a connection. It will open when the signal is back.")),
            rx.el.p(_("You can still log a contact: it is kept on this phone and sent then.")),
            rx.el.p(rx.el.a(_("Log a contact"), href=routes.LOG_CONTACT, class_name="link-action")),
            class_name="notice",
            id="needs-connection",
        ),
        rx.el.p(_("Loading…") if text is None else text, role="status"),
    )


def _connection_banner() -> rx.Component:
    """Said in the reader's language when the page has lost its connection to the server.

    It replaces Reflex's own toast ("Cannot connect to server: websocket error ..."), which
    was in English on every page and covered the Save button. The live region is always in
    the page (empty while connected) so a screen reader announces the words when they appear;
    it sits at the end of the page, held to the bottom of the screen while it shows, so it
    covers nothing that cannot be scrolled clear of it. A page opened with no signal (the
    service worker's copy, ``assets/sw.js``) says the same, in the language of the cookie the
    page keeps (``webapp.i18n.READS_WELSH``).
    """
    return rx.el.div(
        rx.cond(
            has_connection_errors,
            rx.el.p(
                rx.el.strong(_("You are offline.")),
                " ",
                # Held saves (assets/held.js) keep these three; nothing else can be saved.
                # Short: at a phone's width it stays three lines over the page's foot.
                _(
                    "Contacts, outcomes and bookings are kept on this phone till the signal is"
                    " back."
                ),
                class_name="connection-banner-text",
            ),
        ),
        # A live region (polite), but not role="status": the page's own confirmations are its
        # status messages; this one speaks only when the connection drops.
        aria_live="polite",
        class_name="connection-banner",
    )


def page(
    title: rx.Var | str,
    *children: rx.Component,
    navigation: bool = True,
    on_language_change: Sequence[Any] = (),
) -> rx.Component:
    """A whole page: ``title`` is its one ``h1``; ``children`` go inside ``main``.

    ``on_language_change``: the page's loaders, run again after the language switch so text
    made on the server (dates, labels) changes language as well.
    """
    return rx.el.div(
        # assets/focus.js moves focus to main, so the next Tab starts from the page's content.
        rx.el.a(_("Skip to main content"), href=f"#{MAIN_ID}", class_name="skip-link"),
        _header(navigation, on_language_change),
        rx.el.main(
            rx.el.h1(title, class_name="heading-xl"),
            # What assets/held.js says about saves held on this phone (held, sent, to fix).
            rx.el.div(id="held-notice", class_name="held-notice", tab_index=-1, hidden=True),
            *children,
            id=MAIN_ID,
            class_name="main",
            tab_index=-1,
        ),
        _connection_banner(),
        lang=html_lang(),
        class_name="page",
    )


def role_page(
    title: rx.Var | str, state: Any, body: rx.Component, refusal: rx.Var | str
) -> rx.Component:
    """A page some roles may use: nothing until ``state.load`` has asked core (``loaded``),
    then ``body`` when core allows it (``allowed``), else ``not_allowed(refusal)``."""
    return page(
        title,
        rx.cond(state.loaded, rx.cond(state.allowed, body, not_allowed(refusal)), loading()),
        on_language_change=[state.load],
    )
