"""``/help``: the commands this bot answers, described in the user's language, and the
one-message ``/log`` with its codes."""

from __future__ import annotations

from typing import TYPE_CHECKING

from telegram import Update

from bot.context import MENU_KEY, BotContext
from bot.render import bold, esc, reply
from core.areas import offers
from ui.quick_log import help_lines

if TYPE_CHECKING:
    from bot.menu import MenuEntry


async def show_help(update: Update, context: BotContext) -> None:
    t = context.t
    menu: tuple[MenuEntry, ...] = context.bot_data[MENU_KEY]
    lines = [bold(t.gettext("What this bot can do"))]
    lines += [
        f"/{entry.command} · {esc(t.gettext(entry.description))}"
        for entry in menu
        if entry.offer is None or (context.actor is not None and offers(context.actor, entry.offer))
    ]
    lines += ["", *(esc(line) for line in help_lines(t))]
    await reply(update, "\n".join(lines))
