"""Translated words in the web app, from the same Babel catalogs as the bot (``ui.i18n``).

``_(msgid)`` (extracted by ``make i18n`` like every ``_``) is for fixed text in a component:
both languages are compiled into the page and the user's ``AppState.locale`` picks one, so
switching language needs no round trip. Text made in an event handler (with values in it)
uses ``translator(locale)`` on the server instead, which also dates and times in the service's
zone (``TIMEZONE``, from the container's settings, as the bot's and core's "today" are).
"""

from __future__ import annotations

import reflex as rx
from reflex.components.core.banner import has_connection_errors

from ui.i18n import SOURCE_LOCALE, SUPPORTED_LOCALES, Translator, shared_translator
from webapp.container import container
from webapp.state import LOCALE_COOKIE, AppState

BCP47 = {"en_GB": "en-GB", "cy": "cy"}

# Opened with no signal (the service worker's copy of the page, ``assets/sw.js``): the server
# never sent this page its state, so ``AppState.locale`` is still the build's default. The
# language then comes from the cookie that state keeps (``da_locale``, readable by scripts);
# online, and after a connection drops, the state's own value as before.
OPENED_OFFLINE = has_connection_errors & ~rx.State.is_hydrated
_COOKIE_SAYS_WELSH = rx.Var(
    "(typeof document !== 'undefined'"
    f" && document.cookie.split('; ').includes('{LOCALE_COOKIE}=cy'))"
).to(bool)
READS_WELSH = rx.cond(OPENED_OFFLINE, _COOKIE_SAYS_WELSH, AppState.locale == "cy")


def _supported(locale: str) -> str:
    return locale if locale in SUPPORTED_LOCALES else SOURCE_LOCALE


def words(locale: str) -> Translator:
    """Words only, for text compiled into a page: no zone, so compiling builds no container."""
    return shared_translator(_supported(locale))


def translator(locale: str) -> Translator:
    """Words, dates and times for a server-side handler, in the service's zone."""
    return shared_translator(_supported(locale), container().settings.timezone)


def _(message: str) -> rx.Var | str:
    """``message`` in the user's language (a plain string when no catalog changes it)."""
    source = words(SOURCE_LOCALE).gettext(message)
    welsh = words("cy").gettext(message)
    if welsh == source:
        return source
    return rx.cond(READS_WELSH, welsh, source)


def both_languages(message: str, **params: object) -> rx.Var | str:
    """Like ``_`` for fixed text with values in it: both languages formatted on the server."""
    source = words(SOURCE_LOCALE).gettext(message, **params)
    welsh = words("cy").gettext(message, **params)
    return source if welsh == source else rx.cond(READS_WELSH, welsh, source)


def html_lang() -> rx.Var:
    """The BCP 47 tag of the user's language, for a ``lang`` attribute."""
    return rx.cond(READS_WELSH, BCP47["cy"], BCP47[SOURCE_LOCALE])


SERVICE_NAME = "Drive Assist"  # a name: the same in both languages


def page_title(message: str) -> rx.Var | str:
    """A page's ``<title>``: its own name, then the service's, in the reader's language.

    Every page needs a title of its own (WCAG 2.4.2), so that a screen reader, a tab and the
    browser's history say which page it is; GOV.UK's pattern is "Page – Service".
    """
    source = words(SOURCE_LOCALE).gettext(message)
    welsh = words("cy").gettext(message)
    return rx.cond(READS_WELSH, f"{welsh} – {SERVICE_NAME}", f"{source} – {SERVICE_NAME}")
