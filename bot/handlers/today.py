"""``/today``: my appointments today (London day) and my overdue panel actions.

Each line shows the case reference, the local time or due date and the kind of place: never a
name, an address or a note.
"""

from __future__ import annotations

from telegram import Update

from bot.context import BotContext
from bot.render import appointment_line, bold, esc, reply
from core.schemas.agenda import MyDayRead
from core.services import agenda
from ui.i18n import Translator


def render_my_day(day: MyDayRead, t: Translator) -> str:
    lines = [bold(t.gettext("Today, {date}", date=t.format_date(day.day, "full")))]
    if day.appointments:
        lines.append(esc(t.gettext("Appointments:")))
        lines += [appointment_line(a, t, with_date=False) for a in day.appointments]
    else:
        lines.append(esc(t.gettext("No appointments today.")))
    if day.overdue_actions:
        lines.append("")
        lines.append(esc(t.gettext("Overdue panel actions:")))
        lines += [
            f"• <code>{esc(action.case_reference)}</code> · "
            + esc(t.gettext("due {date}", date=t.format_date(action.due_on)))
            for action in day.overdue_actions
        ]
    return "\n".join(lines)


async def today(update: Update, context: BotContext) -> None:
    assert context.actor is not None
    t = context.t
    day = t.local(context.container.clock.now()).date()
    my_day = await agenda.my_day(uow=context.container.uow(), actor=context.actor, day=day)
    await reply(update, render_my_day(my_day, t))
