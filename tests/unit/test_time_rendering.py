"""Instants are stored in UTC and shown in Europe/London, through Babel, in each language."""

from __future__ import annotations

from datetime import UTC, date, datetime

from ui.i18n import Translator


def test_a_summer_instant_is_shown_in_british_summer_time() -> None:
    moment = datetime(2026, 7, 1, 8, 30, tzinfo=UTC)
    assert Translator("en_GB").format_time(moment) == "09:30"


def test_a_winter_instant_is_shown_in_greenwich_mean_time() -> None:
    moment = datetime(2026, 12, 1, 8, 30, tzinfo=UTC)
    assert Translator("en_GB").format_time(moment) == "08:30"


def test_the_local_date_is_used_near_midnight() -> None:
    # 23:30 UTC on 30 June is 00:30 on 1 July in London.
    moment = datetime(2026, 6, 30, 23, 30, tzinfo=UTC)
    assert Translator("en_GB").format_date(moment, "short") == "01/07/2026"


def test_dates_are_written_in_welsh_for_welsh_speakers() -> None:
    english = Translator("en_GB").format_date(date(2026, 7, 1), "long")
    welsh = Translator("cy").format_date(date(2026, 7, 1), "long")
    assert english == "1 July 2026"
    assert "Gorffennaf" in welsh


def test_an_unknown_language_falls_back_to_british_english() -> None:
    assert Translator("fr").locale == "en_GB"
