"""``/next``: my next five scheduled appointments, with date, time, reference and kind of place."""

from __future__ import annotations

from telegram import Update

from bot.context import BotContext
from bot.render import appointment_line, bold, esc, reply
from core.services import agenda


async def next_appointments(update: Update, context: BotContext) -> None:
    assert context.actor is not None
    t = context.t
    upcoming = await agenda.my_next_appointments(uow=context.container.uow(), actor=context.actor)
    if not upcoming:
        await reply(update, esc(t.gettext("You have no appointments coming up.")))
        return
    lines = [bold(t.gettext("Your next appointments"))]
    lines += [appointment_line(a, t, with_date=True) for a in upcoming]
    await reply(update, "\n".join(lines))
