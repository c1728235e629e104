"""Anything no other handler took: an unknown command, plain text, a stale button.

Registered last, so a feature's own handlers (and later its conversations) always come first.
The user always gets an answer: never silence.
"""

from __future__ import annotations

from telegram import Update

from bot.context import BotContext
from bot.render import esc, reply


async def not_understood(update: Update, context: BotContext) -> None:
    if update.callback_query is not None:
        await update.callback_query.answer(
            context.t.gettext("That button no longer works. Send /help to start again.")
        )
        return
    if update.message is not None:
        await reply(
            update,
            esc(
                context.t.gettext(
                    "Sorry, I did not understand that. Send /help to see what I can do."
                )
            ),
        )
