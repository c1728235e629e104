"""The message a flow's buttons are on, and taking them off when the flow moves on.

A flow that asks with buttons keeps the id of the message holding them in its stored data
(``SCREEN``): the message a button was tapped on, or the one just sent. When the flow moves on
without a tap on that message (typed text answers the step, ``/cancel``, another flow starts
over it), the buttons are removed with ``editMessageReplyMarkup``, so an old button is never
left in the chat to answer "expired". A message already gone (deleted by the user, or by the
site's retention rule) or already without buttons is left as it is.
"""

from __future__ import annotations

import logging
from typing import Any

from telegram import Update
from telegram.error import BadRequest

from bot.context import BotContext
from core.schemas.telegram import ConversationRead
from core.services import bot_state

SCREEN = "screen"  # key in a conversation's data: the id of the message with the buttons
log = logging.getLogger(__name__)


def tapped_message_id(update: Update) -> int | None:
    query = update.callback_query
    return query.message.message_id if query is not None and query.message else None


def on_screen(data: dict[str, Any], message_id: int | None) -> dict[str, Any]:
    """``data`` naming ``message_id`` as the flow's screen (unchanged when it is None)."""
    return data if message_id is None else data | {SCREEN: message_id}


async def drop_buttons(update: Update, context: BotContext, message_id: int) -> None:
    """Remove the buttons of one of the bot's messages in this chat."""
    chat = update.effective_chat
    if chat is None:
        return
    try:
        # PTB adds the default parse mode to this method too, which has none: drop it.
        await context.bot.edit_message_reply_markup(
            chat_id=chat.id, message_id=message_id, api_kwargs={"parse_mode": None}
        )
    except BadRequest as error:  # gone, or no buttons left: nothing to tidy
        log.info("Left the buttons of message %s as they were: %s", message_id, error)


async def retire(
    update: Update, context: BotContext, conversation: ConversationRead | None
) -> None:
    """Take the buttons off the screen of ``conversation`` (if it has one), unless it is the
    message just tapped, which the caller edits itself."""
    if conversation is None:
        return
    screen = conversation.data.get(SCREEN)
    if isinstance(screen, int) and screen != tapped_message_id(update):
        await drop_buttons(update, context, screen)


async def supersede(update: Update, context: BotContext) -> None:
    """A new flow is about to start over whatever flow the user is in: retire its screen."""
    assert update.effective_user is not None
    conversation = await bot_state.load_conversation(
        uow=context.container.uow(), telegram_user_id=update.effective_user.id
    )
    await retire(update, context, conversation)
