"""Small helpers for replies in HTML parse mode: every value is escaped where it is inserted."""

from __future__ import annotations

from html import escape

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Message, Update

from core.schemas.appointments import AppointmentRead
from ui.i18n import Translator
from ui.labels import label


def esc(text: object) -> str:
    return escape(str(text), quote=False)


def bold(text: str) -> str:
    return f"<b>{esc(text)}</b>"


def appointment_line(appointment: AppointmentRead, t: Translator, *, with_date: bool) -> str:
    """Reference, local time and kind of place (all an appointment line may show), and whether
    it is awaiting an outcome."""
    when = (
        t.format_datetime(appointment.starts_at, "EEE d MMM, HH:mm")
        if with_date
        else t.format_time(appointment.starts_at)
    )
    line = (
        f"• {esc(when)} · <code>{esc(appointment.case_reference)}</code> · "
        f"{esc(label(appointment.place_kind, t))}"
    )
    if appointment.awaiting_outcome:  # started, still scheduled: someone must say what happened
        awaiting = t.gettext("awaiting outcome")
        line += f" · <i>{esc(awaiting)}</i>"
    return line


def keyboard(rows: list[list[tuple[str, str]]]) -> InlineKeyboardMarkup:
    """Rows of (text, callback_data) pairs."""
    return InlineKeyboardMarkup(
        [[InlineKeyboardButton(text, callback_data=data) for text, data in row] for row in rows]
    )


async def reply(
    update: Update, text: str, markup: InlineKeyboardMarkup | None = None
) -> Message | None:
    """Answer in the chat the update came from (a message or a button press); the message
    sent, so a flow can remember which one holds its buttons (``bot.screens``)."""
    chat = update.effective_chat
    if chat is None:
        return None
    return await chat.send_message(text, reply_markup=markup)
