"""``/lang``: choose English or Cymraeg with a button; the reply is already in the new language.

Callback data is ``lang:<code>``; the code is checked again on every tap, and an unknown one
is refused like any stale button.
"""

from __future__ import annotations

from telegram import Update

from bot.context import BotContext
from bot.render import esc, keyboard, reply
from core.enums import Locale
from core.services import users
from ui.labels import LANGUAGE_NAMES

CALLBACK_PREFIX = "lang:"
CALLBACK_PATTERN = r"^lang:"


async def choose_language(update: Update, context: BotContext) -> None:
    buttons = [[(LANGUAGE_NAMES[locale], f"{CALLBACK_PREFIX}{locale.value}") for locale in Locale]]
    await reply(update, esc(context.t.gettext("Choose your language.")), keyboard(buttons))


async def language_chosen(update: Update, context: BotContext) -> None:
    query = update.callback_query
    assert query is not None and context.actor is not None
    try:
        locale = Locale((query.data or "").removeprefix(CALLBACK_PREFIX))
    except ValueError:
        await query.answer(context.t.gettext("That button no longer works. Send /lang again."))
        return
    await users.set_my_locale(uow=context.container.uow(), actor=context.actor, locale=locale)
    context.switch_language(update, locale)
    await query.answer()
    text = context.t.gettext("Language set to {language}.", language=LANGUAGE_NAMES[locale])
    await query.edit_message_text(esc(text))
