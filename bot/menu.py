"""The commands the bot answers: one list, used for the handlers, ``/help`` and setMyCommands.

A new feature adds its entry here; ``bot.app`` registers a ``CommandHandler`` for each and
publishes the menu in every supported language (English as Telegram's default, Welsh with
``language_code="cy"``).
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from typing import Any

from telegram import BotCommand, Update
from telegram.ext import Application

from bot.context import MENU_KEY, BotContext
from bot.conversations.common import cancel
from bot.handlers.alerts import show_alerts
from bot.handlers.broadcast import start_broadcast
from bot.handlers.case import show_case
from bot.handlers.help import show_help
from bot.handlers.lang import choose_language
from bot.handlers.next import next_appointments
from bot.handlers.panel import show_panel
from bot.handlers.quick_log import log_command
from bot.handlers.today import today
from core.areas import Offer
from ui.i18n import N_, Translator


@dataclass(frozen=True)
class MenuEntry:
    command: str
    description: str  # an msgid, translated where it is shown
    callback: Callable[[Update, BotContext], Coroutine[Any, Any, None]]
    # Listed in /help only for someone core offers this to (core.areas), when not None.
    offer: Offer | None = None


MENU: tuple[MenuEntry, ...] = (
    MenuEntry("today", N_("Today's appointments and overdue actions"), today),
    MenuEntry("log", N_("Log a contact on one of my cases"), log_command),
    MenuEntry("next", N_("My next appointments"), next_appointments),
    MenuEntry(
        "case",
        N_("One case: stage, risk, next appointment, panel actions"),
        show_case,
        Offer.OPEN_CASE,
    ),
    MenuEntry(
        "alerts", N_("Open disruption alerts to acknowledge"), show_alerts, Offer.ANSWER_ALERTS
    ),
    MenuEntry("panel", N_("Next panel meetings, and your reply"), show_panel),
    MenuEntry("broadcast", N_("Tell the panel about a meeting"), start_broadcast, Offer.BROADCAST),
    MenuEntry("lang", N_("Choose English or Cymraeg"), choose_language),
    MenuEntry("help", N_("What this bot can do"), show_help),
    MenuEntry("cancel", N_("Stop what you are doing (nothing is saved)"), cancel),
)

# (Telegram language_code, our locale): None is the default menu, shown to everyone else.
MENU_LANGUAGES: tuple[tuple[str | None, str], ...] = ((None, "en_GB"), ("cy", "cy"))


def bot_commands(menu: tuple[MenuEntry, ...], locale: str) -> list[BotCommand]:
    t = Translator(locale)
    return [BotCommand(entry.command, t.gettext(entry.description)) for entry in menu]


async def publish_menu(application: Application[Any, Any, Any, Any, Any, Any]) -> None:
    """setMyCommands once per language (PTB's ``post_init``)."""
    menu: tuple[MenuEntry, ...] = application.bot_data[MENU_KEY]
    for language_code, locale in MENU_LANGUAGES:
        await application.bot.set_my_commands(
            bot_commands(menu, locale), language_code=language_code
        )
