"""What every flow shares: ``/cancel``, and routing typed text to the flow that asked for it.

``/cancel`` also takes the buttons off the flow's screen (``bot.screens``).

Typed text goes to the flow the user is in when that flow's current step expects text (see
``TEXT_STEPS``); any other text is answered by the fallback, exactly as if no flow existed.
A new flow that takes typed text adds its handler to ``TEXT_STEPS``.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from telegram import Update
from telegram.ext import ApplicationHandlerStop

from bot.context import BotContext
from bot.conversations import log
from bot.handlers import alerts, fallback
from bot.render import esc, reply
from bot.screens import retire
from core.schemas.telegram import ConversationRead
from core.services import bot_state

TextStep = Callable[[Update, BotContext, ConversationRead], Awaitable[None]]

# flow -> (steps that expect typed text, the handler for them)
TEXT_STEPS: dict[str, tuple[frozenset[str], TextStep]] = {
    log.FLOW: (log.TEXT_STEPS, log.on_text),
    alerts.FLOW: (frozenset({alerts.STEP}), alerts.on_text),
}


async def cancel(update: Update, context: BotContext) -> None:
    """``/cancel``: end whatever flow the user is in, deleting what it held (a typed note too)."""
    assert update.effective_user is not None
    uow, user_id = context.container.uow, update.effective_user.id
    conversation = await bot_state.load_conversation(uow=uow(), telegram_user_id=user_id)
    await bot_state.clear_conversation(uow=uow(), telegram_user_id=user_id)
    await retire(update, context, conversation)  # its buttons would only answer "expired"
    t = context.t
    if conversation is None:
        await reply(update, esc(t.gettext("There is nothing to cancel.")))
    else:
        await reply(update, esc(t.gettext("Cancelled. Nothing was saved.")))


async def on_text(update: Update, context: BotContext) -> None:
    """Plain text: to the flow waiting for it, otherwise to the fallback."""
    assert update.effective_user is not None
    conversation = await bot_state.load_conversation(
        uow=context.container.uow(), telegram_user_id=update.effective_user.id
    )
    if conversation is not None and conversation.flow in TEXT_STEPS:
        steps, handler = TEXT_STEPS[conversation.flow]
        if conversation.step in steps:
            await handler(update, context, conversation)
            raise ApplicationHandlerStop
    await fallback.not_understood(update, context)
