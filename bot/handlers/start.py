"""``/start CODE`` links a Telegram account to a staff account and says which one (its email
address); ``/start`` when linked says hello.

A wrong, used or expired code, or too many wrong codes, raises a core error that the error
handler turns into the translated message.
"""

from __future__ import annotations

from telegram import Update

from bot.context import BotContext
from bot.render import esc, reply
from core.services import telegram_links


def _hello(context: BotContext) -> str:
    return esc(context.t.gettext("Hello. Send /help to see what this bot can do."))


async def start(update: Update, context: BotContext) -> None:
    if context.actor is not None:
        await reply(update, _hello(context))
        return
    assert update.effective_user is not None and update.effective_chat is not None
    code = context.args[0] if context.args else ""
    linked = await telegram_links.redeem_link_code(
        uow=context.container.uow(),
        code=code,
        telegram_user_id=update.effective_user.id,
        chat_id=update.effective_chat.id,
    )
    context.switch_language(update, linked.locale)
    # The account's sign-in address, so its owner sees at once whose account this chat now acts
    # as (a code someone else was given shows up here); an address, not a name, in the chat.
    linked_text = esc(
        context.t.gettext(
            "Your Telegram account is now linked to the Drive Assist account {email}.",
            email=linked.email,
        )
    )
    await reply(update, f"{linked_text}\n{_hello(context)}")
