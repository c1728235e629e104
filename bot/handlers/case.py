"""``/case REF``: one case at a glance, and buttons to log a contact or book on it.

Shows the reference, stage, risk level, next appointment (time and kind of place) and the open
panel actions (due date and owning agency): never a name, an address, a note or anything about
a victim (``core.services.case_card``). "Log a contact" (``log:start:<case id>``) starts
``/log`` on the case; "Book" (``appt:book:<case id>``) starts the booking flow of
``bot.handlers.appointments``. Each is offered only when core says the reader may, and core
authorises the case id again when the button is pressed.
"""

from __future__ import annotations

from telegram import Update

from bot.context import BotContext
from bot.render import bold, esc, keyboard, reply
from core.errors import NotFound
from core.schemas.case_card import CaseCard
from core.services import case_card
from ui.i18n import Translator
from ui.labels import label

LOG_START = "log:start:{case_id}"
BOOK_START = "appt:book:{case_id}"


def render_case_card(card: CaseCard, t: Translator) -> str:
    risk = label(card.risk_level, t) if card.risk_level else t.gettext("not assessed yet")
    lines = [
        f"{bold(t.gettext('Case'))} <code>{esc(card.reference)}</code>",
        esc(t.gettext("Stage: {stage}", stage=label(card.stage, t))),
        esc(t.gettext("Risk: {risk}", risk=risk)),
    ]
    if card.next_appointment is not None:
        appointment = card.next_appointment
        when = t.format_datetime(appointment.starts_at, "EEE d MMM, HH:mm")
        place = label(appointment.place_kind, t)
        lines.append(esc(t.gettext("Next appointment: {when} · {place}", when=when, place=place)))
    else:
        lines.append(esc(t.gettext("Next appointment: none booked")))
    if card.open_actions:
        lines.append(esc(t.gettext("Open panel actions:")))
        for action in card.open_actions:
            parts = [t.gettext("due {date}", date=t.format_date(action.due_on))]
            if action.owner_agency is not None:
                parts.append(label(action.owner_agency, t))
            line = "• " + esc(" · ".join(parts))
            if action.overdue:
                line += f" · <i>{esc(t.gettext('overdue'))}</i>"
            lines.append(line)
    else:
        lines.append(esc(t.gettext("Open panel actions: none")))
    return "\n".join(lines)


def case_buttons(card: CaseCard, t: Translator) -> list[list[tuple[str, str]]]:
    row = []
    if card.may_log_contact:
        row.append((t.gettext("Log a contact"), LOG_START.format(case_id=card.case_id)))
    if card.may_book:
        row.append((t.gettext("Book"), BOOK_START.format(case_id=card.case_id)))
    return [row] if row else []


async def show_case(update: Update, context: BotContext) -> None:
    assert context.actor is not None
    t = context.t
    reference = " ".join(context.args or []).strip()
    if not reference:
        usage = t.gettext("Send /case and a case reference, for example /case HER-0042.")
        await reply(update, esc(usage))
        return
    try:
        card = await case_card.case_card(
            uow=context.container.uow(), actor=context.actor, reference=reference
        )
    except NotFound:
        await reply(
            update,
            esc(t.gettext("No case you can see has that reference. Check it and try again.")),
        )
        return
    rows = case_buttons(card, t)
    await reply(update, render_case_card(card, t), keyboard(rows) if rows else None)
