"""The base state every page's state inherits: who is signed in, and their language.

Pages guard themselves with ``on_load=AppState.require_session``. The session cookie is
HttpOnly, so no script can read it: the server reads it from the headers of the page's
connection and asks core who it belongs to (``auth.actor_for_session``), on every page load
and again in every event handler that reads or changes data (``await self.actor()``), so an
idle, signed-out or revoked session stops working on the next event.
"""

from __future__ import annotations

import json
from http.cookies import CookieError, SimpleCookie

import reflex as rx

from core.areas import areas_for
from core.enums import Locale
from core.errors import DomainError
from core.schemas.actor import Actor
from core.services import auth, referrals, users
from ui.i18n import SOURCE_LOCALE, SUPPORTED_LOCALES
from webapp import routes
from webapp.container import container

SESSION_COOKIE = "da_session"  # HttpOnly, set by webapp.backend; JavaScript never sees it
# HttpOnly too: this browser's random device id, which a device PIN is bound to
# (core.services.device_pins); set by webapp.backend at sign-in when the browser has none.
DEVICE_COOKIE = "da_device"
LOCALE_COOKIE = "da_locale"


def cookie_from_header(header: str | None, name: str) -> str | None:
    """The cookie ``name`` in a ``Cookie`` header, or None (a malformed header has none)."""
    if not header:
        return None
    jar: SimpleCookie = SimpleCookie()
    try:
        jar.load(header)
    except CookieError:
        return None
    morsel = jar.get(name)
    return morsel.value if morsel is not None and morsel.value else None


def session_token_from_cookie_header(header: str | None) -> str | None:
    """The session token in a ``Cookie`` header, or None (a malformed header is no session)."""
    return cookie_from_header(header, SESSION_COOKIE)


# The page a tab was on when its session was found gone, kept in that tab only (sessionStorage)
# for a resume (a passkey or a PIN) to go back to: a path of this site, never another site's.
RETURN_TO = "drive-return-to"
# One script, so the path is kept before the page changes (as two events, a redirect could
# run first and the tab would remember the sign-in page instead).
TO_SIGN_IN_REMEMBERING_THE_PAGE = rx.call_script(
    "(() => {"
    " if (/^\\/sign-in/.test(location.pathname)) return;"
    f" sessionStorage.setItem({json.dumps(RETURN_TO)}, location.pathname + location.search);"
    f" location.replace({json.dumps(routes.SIGN_IN)});"
    " })()"
)
BACK_TO_THE_PAGE = rx.call_script(
    "(() => {"
    f" const path = sessionStorage.getItem({json.dumps(RETURN_TO)}) || '';"
    f" sessionStorage.removeItem({json.dumps(RETURN_TO)});"
    " const ours = /^\\/(?![\\/\\\\])/.test(path) && !/^\\/sign-in/.test(path);"
    f" window.location.assign(ours ? path : {json.dumps(routes.TODAY)});"
    " })()"
)


class AppState(rx.State):
    """Shared by every page: the user's language (remembered in a cookie) and the session."""

    locale: str = rx.Cookie(
        SOURCE_LOCALE, name=LOCALE_COOKIE, same_site="strict", max_age=365 * 24 * 3600
    )
    # What the page shell shows; never used to decide anything (core decides, per event).
    signed_in_name: str = ""
    # The areas the menu offers (core.areas); offering only, every handler still asks core.
    areas: list[str] = []

    @rx.event
    async def set_locale(self, locale: str) -> rx.event.EventSpec | None:
        """Show the pages in ``locale`` and, when someone is signed in, remember it for them
        (core keeps it per user; ``require_session`` loads it on their next page)."""
        if locale not in SUPPORTED_LOCALES:
            return None
        self.locale = locale
        actor = await self.actor()
        if actor is not None:  # signed out: the cookie alone remembers it in this browser
            try:
                await users.set_my_locale(uow=container().uow(), actor=actor, locale=Locale(locale))
            except DomainError:  # a preference only: the page still changes language
                pass
        return self._document_language()

    def _document_language(self) -> rx.event.EventSpec:
        """Set ``<html lang>`` to the page's language (screen readers pick their voice from it;
        Reflex writes the attribute once, in English, when it builds the pages)."""
        tag = "cy" if self.locale == "cy" else "en-GB"
        return rx.call_script(f"document.documentElement.lang = {json.dumps(tag)}")

    @rx.event
    def show_language(self) -> rx.event.EventSpec:
        """On a page without a session check (sign-in): the document's language only."""
        return self._document_language()

    def _session_token(self) -> str | None:
        return session_token_from_cookie_header(self.router.headers.cookie)

    def _device_id(self) -> str | None:
        """This browser's device id (its HttpOnly cookie), for a device PIN."""
        return cookie_from_header(self.router.headers.cookie, DEVICE_COOKIE)

    async def actor(self) -> Actor | None:
        """Who this connection's session belongs to now, or None (core checks it every time)."""
        app_container = container()
        return await auth.actor_for_session(
            uow=app_container.uow(), token=self._session_token(), settings=app_container.settings
        )

    def _forget_pages(self) -> None:
        """Empty every page's stored state for this tab, keeping only the language.

        Reflex keeps a tab's state on the server (on disk or in Redis) and sends all of it
        back when the tab reconnects; without this, the back button after signing out could
        bring a case's details (or an IDVA's victim details) back into the browser.
        """
        locale = self.locale
        root: rx.State = self
        while root.parent_state is not None:
            root = root.parent_state
        hydrated = root.is_hydrated  # Reflex's own flag: the page stays connected
        root.reset()
        root.is_hydrated = hydrated
        self.locale = locale

    # --- Hooks of ``webapp.handlers.signed_in`` (pages override the last two) ---------------

    def _signed_out(self) -> rx.event.EventSpec:
        """No live session: forget this tab's pages and show the sign-in page (which, resuming
        an idle session, brings the person back to the page they were on)."""
        self._forget_pages()
        return TO_SIGN_IN_REMEMBERING_THE_PAGE

    def _clear_messages(self) -> None:
        """Before an event: drop the messages the page showed for the one before."""

    def _show_error(self, message: str, error: DomainError) -> rx.event.EventSpec | None:
        """Show core's refusal (``message``, in the person's language) in the page's error
        summary. A page that shows none lets the error through, as before."""
        raise error

    @rx.event
    async def require_session(self) -> rx.event.EventSpec | None:
        """Send anyone without a live session to the sign-in page."""
        actor = await self.actor()
        if actor is None:
            return self._signed_out()
        self.signed_in_name = actor.display_name
        refers_at = await referrals.referral_sites(uow=container().uow(), actor=actor)
        self.areas = [
            str(area) for area in areas_for(actor, referral_sites=[s.site_id for s in refers_at])
        ]
        if str(actor.locale) in SUPPORTED_LOCALES:
            self.locale = str(actor.locale)
        return self._document_language()

    @rx.event
    async def sign_out(self) -> rx.event.EventSpec:
        """End the session on the server, then let the backend drop the cookie (HttpOnly, so
        only a response can remove it) and show the sign-in page."""
        token = self._session_token()
        if token:
            await auth.sign_out(uow=container().uow(), token=token)
        self._forget_pages()
        return rx.call_script(
            f"fetch({json.dumps(routes.SIGN_OUT)}, {{method: 'POST', credentials: 'same-origin'}})"
            f".finally(() => window.location.assign({json.dumps(routes.SIGN_IN)}))"
        )
