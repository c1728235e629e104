"""GOV.UK's date input: what people type into Day, Month and Year, read back as a date."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest

from ui.i18n import Translator
from webapp.components.forms import date_parts, parse_date_parts, parse_date_time_parts


def _form(day: str, month: str, year: str) -> dict[str, str]:
    return {"when_day": day, "when_month": month, "when_year": year}


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        (("27", "3", "2025"), date(2025, 3, 27)),  # what the hint suggests
        ((" 07 ", "03", "2025"), date(2025, 3, 7)),  # leading zeros and stray spaces
        (("31", "2", "2025"), None),  # no such day
        (("1", "1", "25"), None),  # a year needs its four digits
        (("1", "1", "9999"), None),  # outside the years core accepts
        (("1", "1", "0001"), None),
        (("", "1", "2025"), None),  # a part left empty
        (("1st", "1", "2025"), None),
    ],
)
def test_the_three_fields_read_back_as_a_real_date_or_none(
    typed: tuple[str, str, str], expected: date | None
) -> None:
    assert parse_date_parts(_form(*typed), "when") == expected


def test_a_date_fills_the_three_fields_and_reads_back_the_same() -> None:
    day = date(2026, 12, 7)
    assert date_parts(day) == ("7", "12", "2026")
    assert parse_date_parts(_form(*date_parts(day)), "when") == day
    assert date_parts(None) == ("", "", "")


def test_the_date_and_a_time_read_back_as_a_moment_in_the_users_zone_or_none() -> None:
    words = Translator("en_GB")
    form = {**_form("27", "3", "2026"), "when_time": "14:30"}
    moment = parse_date_time_parts(form, "when", "when_time", words)
    assert moment == datetime(2026, 3, 27, 14, 30, tzinfo=ZoneInfo("Europe/London"))
    assert parse_date_time_parts({**form, "when_time": "25:00"}, "when", "when_time", words) is None
    assert parse_date_time_parts({**form, "when_day": "32"}, "when", "when_time", words) is None
