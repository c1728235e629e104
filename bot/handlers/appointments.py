"""Answers to appointment reminders: the buttons ``bot.keyboards`` puts under them.

- I'll record it after (``appt:later:<id>``), under a reminder sent before the appointment:
  core queues the "did it happen?" prompt for the end time (once, however often it is asked,
  and never once the outcome is in); the reminder is edited to say when, without buttons.
- Attended / It happened (``appt:att:<id>``) and Did not attend (``appt:dna:<id>``) record the
  outcome through core, then the message is edited to show it (reference, time and kind of
  place, no buttons). A tap on an appointment that already has an outcome (the other reminder's
  buttons, a second tap) says so and changes nothing.
- Book (``appt:book:<case id>``), under a ``/case`` card, starts the same flow for a new
  appointment on that case (an hour, at the office unless another place is chosen).
- A booking that clashes with another appointment on the case at that time (core's ``Clash``)
  is not saved: the confirm step says so and offers "Book anyway" (``appt:confirm:anyway``).
- Reschedule (``appt:move:<id>``) and Book the next one (``appt:next:<id>``) start a short
  flow: a day (the next working days), a time (hourly presets), the kind of place (keep it or
  choose another), then confirm; the new appointment lasts as long as the original. The flow
  lives in the database (``core.services.bot_state``, flow ``appointment``), saved before each
  answer goes out, so a restart resumes at the same step. Its buttons carry
  ``appt:<step>:<value>``; they are on one message at a time (``bot.screens``), taken off
  when the flow is cancelled or another flow starts over it; a tap that still arrives for a
  step the user is not at now is answered "expired".

Every appointment id from a button is authorised again by core; a refusal is put on record
(``core.services.refusals``) and answered with the not-permitted message. Reminders for the new
time come from the schedulers as usual; moving an appointment cancels the old time's.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, TypeVar

from telegram import InlineKeyboardMarkup, Update

from bot.context import BotContext
from bot.keyboards import ATTENDED, BOOK_NEXT, DID_NOT_ATTEND, RECORD_LATER, RESCHEDULE
from bot.refusals import refusal_on_record
from bot.render import appointment_line, bold, esc, keyboard, reply
from bot.screens import on_screen, supersede
from core.enums import AppointmentStatus, PlaceKind
from core.errors import Clash, ValidationFailed
from core.policy import Action
from core.schemas.appointments import (
    AppointmentCreate,
    AppointmentOutcome,
    AppointmentRead,
    AppointmentReschedule,
)
from core.services import appointments, bot_state, case_card
from ui.i18n import Translator
from ui.labels import choices, label

CALLBACK_PATTERN = r"^appt:"
_CALLBACK = re.compile(r"^appt:([a-z]{2,8}):([0-9a-z_]{1,18})$")
FLOW = "appointment"
# Steps (stored in the database, and the <action> of the flow's buttons).
DAY, TIME, PLACE, CONFIRM = "day", "time", "place", "confirm"
STOP = "stop"  # Cancel, at any step
BOOK = "yes"
ANYWAY = "anyway"  # Book anyway, over a clash
BOOK_CASE = "book"  # the flow started from a case card (the value is a case id)
CASE_MINUTES = 60
WORKING_DAYS_OFFERED = 7
TIMES = tuple(time(hour) for hour in range(9, 18))
OUTCOMES = {ATTENDED: AppointmentStatus.ATTENDED, DID_NOT_ATTEND: AppointmentStatus.DID_NOT_ATTEND}

T = TypeVar("T")
Screen = tuple[str, InlineKeyboardMarkup | None]


def _data(step: str, value: object) -> str:
    return f"appt:{step}:{value}"


def _user_id(update: Update) -> int:
    assert update.effective_user is not None
    return update.effective_user.id


async def _audited(context: BotContext, appointment_id: int, call: Callable[[], Awaitable[T]]) -> T:
    """Run a core call; a refusal is put on record before the error handler answers it."""
    assert context.actor is not None
    return await refusal_on_record(
        context.container,
        context.actor,
        action=Action.APPOINTMENT_MANAGE,
        entity_type="appointment",
        entity_id=appointment_id,
        call=call,
    )


async def _my_appointment(context: BotContext, appointment_id: int) -> AppointmentRead:
    actor, uow = context.actor, context.container.uow()
    assert actor is not None
    return await _audited(
        context,
        appointment_id,
        lambda: appointments.my_appointment(uow=uow, actor=actor, appointment_id=appointment_id),
    )


def outcome_text(appointment: AppointmentRead, t: Translator) -> str:
    """The reminder, answered: what it was about and what is now on record."""
    status = label(appointment.status, t)
    if appointment.status in appointments.OUTCOME_STATUSES:
        result = t.gettext("Outcome recorded: {outcome}", outcome=status)
    else:
        result = t.gettext("Status: {status}", status=status)
    return f"{appointment_line(appointment, t, with_date=True)}\n{esc(result)}"


async def on_button(update: Update, context: BotContext) -> None:
    """Any ``appt:`` button."""
    query = update.callback_query
    assert query is not None and context.actor is not None
    match = _CALLBACK.match(query.data or "")
    action, value = (match.group(1), match.group(2)) if match else ("", "")
    if action in OUTCOMES and value.isdigit():
        await _record_outcome(update, context, OUTCOMES[action], int(value))
    elif action == RECORD_LATER and value.isdigit():
        await _record_later(update, context, int(value))
    elif action in (RESCHEDULE, BOOK_NEXT) and value.isdigit():
        await _start_flow(update, context, action, int(value))
    elif action == BOOK_CASE and value.isdigit():
        await _start_case_flow(update, context, int(value))
    elif action in _STEPS or action == STOP:
        await _flow_step(update, context, action, value)
    else:
        await _expired(update, context)


async def _expired(update: Update, context: BotContext) -> None:
    assert update.callback_query is not None
    await update.callback_query.answer(context.t.gettext("That button has expired."))


async def _already(update: Update, context: BotContext, appointment: AppointmentRead) -> None:
    """The appointment has moved on (an outcome, a new time): say so, change nothing."""
    query = update.callback_query
    assert query is not None
    t = context.t
    text = t.gettext(
        "This appointment is already marked {status}. Nothing was changed.",
        status=label(appointment.status, t),
    )
    await query.answer(text, show_alert=True)
    message = query.message
    if message is not None and getattr(message, "reply_markup", None) is not None:
        await query.edit_message_text(outcome_text(appointment, t), reply_markup=None)


async def _record_outcome(
    update: Update, context: BotContext, status: AppointmentStatus, appointment_id: int
) -> None:
    query = update.callback_query
    assert query is not None and context.actor is not None
    t, actor, uow = context.t, context.actor, context.container.uow()
    appointment = await _my_appointment(context, appointment_id)
    if appointment.status is not AppointmentStatus.SCHEDULED:
        await _already(update, context, appointment)
        return
    try:
        recorded = await _audited(
            context,
            appointment_id,
            lambda: appointments.record_appointment_outcome(
                uow=uow,
                actor=actor,
                appointment_id=appointment_id,
                data=AppointmentOutcome(status=status),
            ),
        )
    except ValidationFailed as error:
        if error.details.get("rule") != "not_started_yet":
            raise
        await query.answer(
            t.gettext("You can record what happened once the appointment has started."),
            show_alert=True,
        )
        return
    await query.answer(t.gettext("Recorded."))
    await query.edit_message_text(outcome_text(recorded, t), reply_markup=None)


async def _record_later(update: Update, context: BotContext, appointment_id: int) -> None:
    """I'll record it after: the outcome prompt comes at the end time, with its buttons."""
    query = update.callback_query
    assert query is not None and context.actor is not None
    t, actor, uow = context.t, context.actor, context.container.uow()
    appointment = await _my_appointment(context, appointment_id)
    if appointment.status is not AppointmentStatus.SCHEDULED:
        await _already(update, context, appointment)
        return
    asked = await _audited(
        context,
        appointment_id,
        lambda: appointments.ask_for_outcome_after(
            uow=uow, actor=actor, appointment_id=appointment_id
        ),
    )
    if asked.ends_at > context.container.clock.now():
        when = t.format_datetime(asked.ends_at, "EEE d MMM, HH:mm")
        text = t.gettext("I will ask you what happened at {time}, when it ends.", time=when)
    else:
        text = t.gettext("It has ended, so I will ask you what happened now.")
    await query.answer()
    line = appointment_line(asked, t, with_date=True)
    await query.edit_message_text(f"{line}\n{esc(text)}", reply_markup=None)


# --- Reschedule / Book the next one -----------------------------------------------------------


async def _save(update: Update, context: BotContext, step: str, data: dict[str, Any]) -> None:
    await bot_state.save_conversation(
        uow=context.container.uow(),
        telegram_user_id=_user_id(update),
        flow=FLOW,
        step=step,
        data=data,
    )


def _today(context: BotContext) -> date:
    return context.t.local(context.container.clock.now()).date()


def working_days(after: date, count: int = WORKING_DAYS_OFFERED) -> list[date]:
    """The next ``count`` weekdays after ``after`` (bank holidays are not known here)."""
    days: list[date] = []
    day = after
    while len(days) < count:
        day += timedelta(days=1)
        if day.weekday() < 5:
            days.append(day)
    return days


def _starts_at(data: dict[str, Any], t: Translator) -> datetime:
    local = datetime.combine(date.fromisoformat(data["day"]), time.fromisoformat(data["time"]))
    return local.replace(tzinfo=t.timezone).astimezone(UTC)


def _heading(data: dict[str, Any], t: Translator) -> str:
    titles = {RESCHEDULE: t.gettext("Reschedule"), BOOK_CASE: t.gettext("Book an appointment")}
    title = titles.get(data["mode"]) or t.gettext("Book the next one")
    return f"{bold(title)} · <code>{esc(data['reference'])}</code>"


def _day_screen(data: dict[str, Any], context: BotContext) -> Screen:
    t = context.t
    buttons = [
        (t.format_date(day, "EEE d MMM"), _data(DAY, day.strftime("%Y%m%d")))
        for day in working_days(_today(context))
    ]
    rows = [buttons[i : i + 2] for i in range(0, len(buttons), 2)]
    rows.append([(t.gettext("Cancel"), _data(STOP, 0))])
    return f"{_heading(data, t)}\n{esc(t.gettext('Which day?'))}", keyboard(rows)


def _time_screen(data: dict[str, Any], t: Translator) -> Screen:
    buttons = [(moment.strftime("%H:%M"), _data(TIME, moment.strftime("%H%M"))) for moment in TIMES]
    rows = [buttons[i : i + 3] for i in range(0, len(buttons), 3)]
    rows.append([(t.gettext("Cancel"), _data(STOP, 0))])
    day = t.format_date(date.fromisoformat(data["day"]), "EEE d MMM")
    return f"{_heading(data, t)}\n{esc(day)}\n{esc(t.gettext('What time?'))}", keyboard(rows)


def _place_screen(data: dict[str, Any], t: Translator) -> Screen:
    current = PlaceKind(data["place_kind"])
    keep = t.gettext("Keep: {place}", place=label(current, t))
    others = [(text, _data(PLACE, code)) for code, text in choices(PlaceKind, t) if code != current]
    rows = [[(keep, _data(PLACE, current.value))]]
    rows += [others[i : i + 2] for i in range(0, len(others), 2)]
    rows.append([(t.gettext("Cancel"), _data(STOP, 0))])
    when = t.format_datetime(_starts_at(data, t), "EEE d MMM, HH:mm")
    prompt = t.gettext("Where will it be?")
    return f"{_heading(data, t)}\n{esc(when)}\n{esc(prompt)}", keyboard(rows)


def _confirm_screen(data: dict[str, Any], t: Translator) -> Screen:
    when = t.format_datetime(_starts_at(data, t), "EEE d MMM, HH:mm")
    place = label(PlaceKind(data["place_kind"]), t)
    lines = [
        _heading(data, t),
        esc(t.gettext("When:")) + " " + esc(when),
        esc(t.gettext("Place:")) + " " + esc(place),
        esc(t.gettext("Duration:"))
        + " "
        + esc(t.gettext("{minutes} min", minutes=data["minutes"])),
    ]
    buttons = [[(t.gettext("Book"), _data(CONFIRM, BOOK)), (t.gettext("Cancel"), _data(STOP, 0))]]
    return "\n".join(lines), keyboard(buttons)


async def _start_flow(update: Update, context: BotContext, mode: str, appointment_id: int) -> None:
    query = update.callback_query
    assert query is not None
    appointment = await _my_appointment(context, appointment_id)
    if mode == RESCHEDULE and appointment.status is not AppointmentStatus.SCHEDULED:
        await _already(update, context, appointment)
        return
    minutes = int((appointment.ends_at - appointment.starts_at).total_seconds() // 60)
    data = {
        "mode": mode,
        "appointment_id": appointment.id,
        "case_id": appointment.case_id,
        "reference": appointment.case_reference,
        "minutes": minutes,
        "place_kind": appointment.place_kind.value,
    }
    await _start(update, context, data)


async def _start(update: Update, context: BotContext, data: dict[str, Any]) -> None:
    """The flow's first screen, as a new message that becomes its screen (``bot.screens``)."""
    query = update.callback_query
    assert query is not None
    await supersede(update, context)
    await _save(update, context, DAY, data)
    await query.answer()
    screen = _day_screen(data, context)
    sent = await reply(update, *screen)
    if sent is not None:
        await _save(update, context, DAY, on_screen(data, sent.message_id))


async def _start_case_flow(update: Update, context: BotContext, case_id: int) -> None:
    query = update.callback_query
    assert query is not None and context.actor is not None
    actor, uow = context.actor, context.container.uow()
    case = await refusal_on_record(
        context.container,
        actor,
        action=Action.APPOINTMENT_MANAGE,
        entity_type="case",
        entity_id=case_id,
        call=lambda: case_card.case_to_book(uow=uow, actor=actor, case_id=case_id),
    )
    data = {
        "mode": BOOK_CASE,
        "appointment_id": 0,
        "case_id": case.case_id,
        "reference": case.reference,
        "minutes": CASE_MINUTES,
        "place_kind": PlaceKind.OFFICE.value,
    }
    await _start(update, context, data)


def _clash_screen(data: dict[str, Any], t: Translator, count: int) -> Screen:
    text, _buttons = _confirm_screen(data, t)
    warning = t.ngettext(
        "This case already has an appointment at that time.",
        "This case already has {n} appointments at that time.",
        count,
    )
    buttons = [
        [(t.gettext("Book anyway"), _data(CONFIRM, ANYWAY)), (t.gettext("Cancel"), _data(STOP, 0))]
    ]
    return f"{text}\n<b>{esc(warning)}</b>", keyboard(buttons)


async def _flow_step(update: Update, context: BotContext, step: str, value: str) -> None:
    query = update.callback_query
    assert query is not None
    conversation = await bot_state.load_conversation(
        uow=context.container.uow(), telegram_user_id=_user_id(update)
    )
    if conversation is None or conversation.flow != FLOW:
        await _expired(update, context)
        return
    if step == STOP:
        await bot_state.clear_conversation(
            uow=context.container.uow(), telegram_user_id=_user_id(update)
        )
        await query.answer()
        await query.edit_message_text(esc(context.t.gettext("Cancelled. Nothing was changed.")))
        return
    if conversation.step != step:
        await _expired(update, context)
        return
    screen = await _STEPS[step](update, context, dict(conversation.data), value)
    if screen is None:
        await _expired(update, context)
        return
    await query.answer()
    await query.edit_message_text(screen[0], reply_markup=screen[1])


async def _day_chosen(
    update: Update, context: BotContext, data: dict[str, Any], value: str
) -> Screen | None:
    try:
        day = datetime.strptime(value, "%Y%m%d").date()
    except ValueError:
        return None
    today = _today(context)
    # Offered days move on at midnight: accept any weekday in the coming fortnight.
    if day.weekday() >= 5 or not today < day <= today + timedelta(days=14):
        return None
    data["day"] = day.isoformat()
    await _save(update, context, TIME, data)
    return _time_screen(data, context.t)


async def _time_chosen(
    update: Update, context: BotContext, data: dict[str, Any], value: str
) -> Screen | None:
    chosen = {moment.strftime("%H%M"): moment for moment in TIMES}.get(value)
    if chosen is None:
        return None
    data["time"] = chosen.strftime("%H:%M")
    await _save(update, context, PLACE, data)
    return _place_screen(data, context.t)


async def _place_chosen(
    update: Update, context: BotContext, data: dict[str, Any], value: str
) -> Screen | None:
    if value not in set(PlaceKind):
        return None
    data["place_kind"] = value
    await _save(update, context, CONFIRM, data)
    return _confirm_screen(data, context.t)


async def _confirmed(
    update: Update, context: BotContext, data: dict[str, Any], value: str
) -> Screen | None:
    if value != BOOK and not (value == ANYWAY and data.get("clash")):
        return None
    anyway = value == ANYWAY
    assert context.actor is not None
    t, actor, uow = context.t, context.actor, context.container.uow()
    starts_at = _starts_at(data, t)
    ends_at = starts_at + timedelta(minutes=int(data["minutes"]))
    place_kind = PlaceKind(data["place_kind"])
    appointment_id = int(data["appointment_id"])
    try:
        if data["mode"] == RESCHEDULE:
            change = AppointmentReschedule(
                starts_at=starts_at, ends_at=ends_at, place_kind=place_kind
            )
            booked = await _audited(
                context,
                appointment_id,
                lambda: appointments.reschedule_appointment(
                    uow=uow,
                    actor=actor,
                    appointment_id=appointment_id,
                    data=change,
                    save_anyway=anyway,
                ),
            )
        else:
            new = AppointmentCreate(
                case_id=int(data["case_id"]),
                starts_at=starts_at,
                ends_at=ends_at,
                place_kind=place_kind,
            )
            booked = await refusal_on_record(
                context.container,
                actor,
                action=Action.APPOINTMENT_MANAGE,
                entity_type="appointment" if appointment_id else "case",
                entity_id=appointment_id or int(data["case_id"]),
                call=lambda: appointments.book_appointment(
                    uow=uow, actor=actor, data=new, save_anyway=anyway
                ),
            )
    except Clash as clash:
        data["clash"] = True
        await _save(update, context, CONFIRM, data)
        return _clash_screen(data, t, int(clash.details["count"]))
    await bot_state.clear_conversation(
        uow=context.container.uow(), telegram_user_id=_user_id(update)
    )
    text = t.gettext(
        "Booked: {reference}, {time}, {place}",
        reference=booked.case_reference,
        time=t.format_datetime(booked.starts_at, "EEE d MMM HH:mm"),
        place=label(booked.place_kind, t),
    )
    return esc(text), None


_STEPS: dict[str, Callable[[Update, BotContext, dict[str, Any], str], Awaitable[Screen | None]]] = {
    DAY: _day_chosen,
    TIME: _time_chosen,
    PLACE: _place_chosen,
    CONFIRM: _confirmed,
}
