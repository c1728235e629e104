"""Babel catalogs from ``locales/`` and locale-aware formatting in the user's time zone.

Catalogs are read from the ``.po`` files and compiled in memory, so a fresh clone needs no
build step; ``make i18n`` keeps the ``.pot``/``.po`` files in step with the code.
"""

from __future__ import annotations

import io
from datetime import date, datetime
from functools import lru_cache
from pathlib import Path
from zoneinfo import ZoneInfo

from babel import Locale as BabelLocale
from babel import dates as babel_dates
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import NullTranslations, Translations

LOCALES_DIR = Path(__file__).resolve().parent.parent / "locales"
DOMAIN = "messages"
SOURCE_LOCALE = "en_GB"
SUPPORTED_LOCALES = ("en_GB", "cy")
DEFAULT_TIMEZONE = "Europe/London"


def N_(message: str) -> str:
    """Mark a string for extraction without translating it yet (translated where it is shown)."""
    return message


@lru_cache(maxsize=8)
def translations_for(locale: str) -> NullTranslations:
    """The catalog for ``locale``; the English source strings when there is none."""
    po_path = LOCALES_DIR / locale / "LC_MESSAGES" / f"{DOMAIN}.po"
    if not po_path.exists():
        return NullTranslations()
    with po_path.open("rb") as handle:
        catalog = read_po(handle, locale=locale)
    buffer = io.BytesIO()
    write_mo(buffer, catalog, use_fuzzy=False)
    buffer.seek(0)
    return Translations(fp=buffer, domain=DOMAIN)


class Translator:
    """Words and formats for one person: their language and their time zone."""

    def __init__(self, locale: str = SOURCE_LOCALE, timezone: str = DEFAULT_TIMEZONE) -> None:
        self.locale = locale if locale in SUPPORTED_LOCALES else SOURCE_LOCALE
        self.timezone = ZoneInfo(timezone)
        self._translations = translations_for(self.locale)
        self._babel_locale = BabelLocale.parse(self.locale)

    def gettext(self, message: str, **params: object) -> str:
        text = self._translations.gettext(message)
        return text.format(**params) if params else text

    def ngettext(self, singular: str, plural: str, n: int, **params: object) -> str:
        text = self._translations.ngettext(singular, plural, n)
        return text.format(n=n, **params)

    def local(self, moment: datetime) -> datetime:
        if moment.tzinfo is None:
            raise ValueError("naive datetime: core always hands out aware UTC datetimes")
        return moment.astimezone(self.timezone)

    def format_datetime(self, moment: datetime, fmt: str = "medium") -> str:
        return babel_dates.format_datetime(
            moment, format=fmt, tzinfo=self.timezone, locale=self._babel_locale
        )

    def format_time(self, moment: datetime, fmt: str = "short") -> str:
        return babel_dates.format_time(
            moment, format=fmt, tzinfo=self.timezone, locale=self._babel_locale
        )

    def format_date(self, day: date | datetime, fmt: str = "medium") -> str:
        if isinstance(day, datetime):
            day = self.local(day).date()
        return babel_dates.format_date(day, format=fmt, locale=self._babel_locale)


@lru_cache(maxsize=32)
def shared_translator(locale: str, timezone: str = DEFAULT_TIMEZONE) -> Translator:
    """One :class:`Translator` per language and zone, for a face that needs one per request
    (it holds nothing of the person but those two; building one parses the locale's data)."""
    return Translator(locale, timezone)
