"""Reading the booking form: one set of rules for the page's "Book" and for a booking held on
the phone without signal and sent later (``webapp.held``)."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from datetime import datetime, timedelta
from typing import Any

from pydantic import ValidationError

from core.enums import PlaceKind
from core.rules import is_ahead
from core.schemas.appointments import AppointmentCreate
from ui.i18n import Translator
from webapp.components.forms import parse_date_time_parts
from webapp.pages.appointments.rows import (
    BAD_WHEN,
    DEFAULT_MINUTES,
    DURATIONS,
    MISSING_CASE,
    MISSING_PLACE,
    PAST_WHEN,
    first_place,
)

Problems = dict[str, tuple[str, str]]  # question -> (the id of its field, the message)


def read_when(
    form: Mapping[str, Any], words: Translator, problems: Problems, now: datetime
) -> datetime | None:
    """The start the form gives, if it is a real date and time still ahead of ``now``."""
    starts_at = parse_date_time_parts(form, "appointment_date", "appointment_time", words)
    if starts_at is None:
        problems["when"] = ("appointment_date", words.gettext(BAD_WHEN))
    elif not is_ahead(starts_at, now):
        problems["when"] = ("appointment_date", words.gettext(PAST_WHEN))
    return starts_at


def read_minutes(form: Mapping[str, Any]) -> int:
    """The length chosen, or the default for anything that is not one of the choices."""
    chosen = str(form.get("minutes") or DEFAULT_MINUTES)
    return int(chosen) if chosen in {str(m) for m in DURATIONS} else DEFAULT_MINUTES


def read_place(form: Mapping[str, Any], words: Translator, problems: Problems) -> PlaceKind | None:
    try:
        return PlaceKind(str(form.get("place_kind") or ""))
    except ValueError:
        problems["place"] = (f"place_kind-{first_place()}", words.gettext(MISSING_PLACE))
        return None


def read_booking_form(
    form: Mapping[str, Any],
    words: Translator,
    problems: Problems,
    *,
    now: datetime,
    case_ids: Collection[str] | None,
    case_field_id: str,
) -> AppointmentCreate | None:
    """The booking the form asks for, or None (``problems`` says why). ``case_ids``: the cases
    the page offered (None: any case id, which core then authorises)."""
    case = str(form.get("case") or "")
    if not case.isdigit() or (case_ids is not None and case not in case_ids):
        problems["case"] = (case_field_id, words.gettext(MISSING_CASE))
    starts_at = read_when(form, words, problems, now)
    minutes = read_minutes(form)
    place = read_place(form, words, problems)
    if problems or starts_at is None or place is None:
        return None
    try:
        return AppointmentCreate(
            case_id=int(case),
            starts_at=starts_at,
            ends_at=starts_at + timedelta(minutes=minutes),
            place_kind=place,
        )
    except (ValueError, ValidationError):
        problems["case"] = (case_field_id, words.gettext(MISSING_CASE))
        return None
