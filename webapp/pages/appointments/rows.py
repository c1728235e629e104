"""What the appointments page keeps and shows: its views, its words, its typed rows.

Rows hold strings only (already in the reader's language), so the browser gets nothing else:
a case reference, a time, a kind of place and a length, never a name or an address.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from core.enums import AppointmentStatus, PlaceKind
from core.schemas.appointments import AppointmentRead
from ui.i18n import N_, Translator
from ui.labels import label

LIST, BOOK, RESCHEDULE, CANCEL, OUTCOME = "list", "book", "reschedule", "cancel", "outcome"
DURATIONS = (30, 45, 60, 90)
DEFAULT_MINUTES = 60
UPCOMING_DAYS = 90
MOMENT = "EEE d MMM yyyy, HH:mm"
OUTCOMES = (AppointmentStatus.ATTENDED, AppointmentStatus.DID_NOT_ATTEND)

MISSING_CASE = N_("Select the case the appointment is for")
BAD_WHEN = N_("Enter the date and time of the appointment, like 27 3 2026 and 14:30")
PAST_WHEN = N_("The date and time of the appointment must be in the future")
MISSING_PLACE = N_("Select where the appointment is")
MISSING_OUTCOME = N_("Select whether the appointment happened")
ALREADY_CHANGED = N_(
    "This appointment has already been changed. Check the list of appointments and try again."
)


@dataclass(frozen=True)
class AppointmentRow:
    """One appointment card, or the appointment a form is about."""

    id: str = ""
    case_id: str = ""
    reference: str = ""
    when: str = ""
    datetime: str = ""
    place: str = ""
    place_kind: str = ""
    duration: str = ""
    minutes: str = ""
    date: str = ""
    time: str = ""


NO_APPOINTMENT = AppointmentRow()  # no form is about an appointment


@dataclass(frozen=True)
class NextBooking:
    """After an outcome: what "Book the next appointment" fills in (backend only)."""

    case_id: str = ""
    place_kind: str = ""
    minutes: str = ""
    start: str = ""  # ISO, the appointment just answered


def minutes_of(appointment: AppointmentRead) -> int:
    return int((appointment.ends_at - appointment.starts_at).total_seconds() // 60)


def appointment_row(appointment: AppointmentRead, words: Translator) -> AppointmentRow:
    local = words.local(appointment.starts_at)
    minutes = minutes_of(appointment)
    return AppointmentRow(
        id=str(appointment.id),
        case_id=str(appointment.case_id),
        reference=appointment.case_reference,
        when=words.format_datetime(appointment.starts_at, MOMENT),
        datetime=appointment.starts_at.isoformat(),
        place=label(appointment.place_kind, words),
        place_kind=appointment.place_kind.value,
        duration=words.gettext("{minutes} min", minutes=minutes),
        minutes=str(minutes),
        date=local.date().isoformat(),
        time=local.strftime("%H:%M"),
    )


def next_booking(answered: AppointmentRead) -> NextBooking:
    return NextBooking(
        case_id=str(answered.case_id),
        place_kind=answered.place_kind.value,
        minutes=str(minutes_of(answered)),
        start=answered.starts_at.isoformat(),
    )


def week_on(local: datetime, weeks: int) -> datetime:
    """``local`` moved on ``weeks`` weeks, at the same wall-clock time in the same zone."""
    day = local.date() + timedelta(weeks=weeks)
    return datetime.combine(day, local.time().replace(tzinfo=None), local.tzinfo)


def next_free_week(last_start: str, now: datetime, words: Translator) -> tuple[str, str]:
    """The date and time a week after ``last_start`` (ISO), by the wall clock (the same local
    time across a clock change); the next week still ahead of ``now`` if that is past."""
    local = words.local(datetime.fromisoformat(last_start))
    now = words.local(now)
    week = 1
    while week_on(local, week) <= now:
        week += 1
    start = week_on(local, week)
    return start.date().isoformat(), start.strftime("%H:%M")


def first_place() -> str:
    return next(iter(PlaceKind)).value
