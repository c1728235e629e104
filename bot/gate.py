"""The gate: runs before every handler (group -1) and decides whether an update goes further.

In this order, for every update:

1. claim its ``update_id`` in the database; one seen before is dropped, so an update delivered
   twice (a retry, a restart) is handled once;
2. refuse group, supergroup and channel chats: one polite reply, nothing else;
3. resolve the actor from the Telegram user id, fresh each time, so a revoked link or a
   deactivated account takes effect on the very next update;
4. an unlinked Telegram user gets one generic reply for anything but ``/start CODE``.

Handlers then read ``context.actor`` (never None after the gate, except in ``/start``) and
``context.t``, the translator in the user's language.

One exception: a button registered under ``HANDLER_CLAIMS_KEY`` (the Save at the end of
``/log``), or a command under ``HANDLER_CLAIMS_COMMANDS_KEY`` sent with words after it (the
one-message ``/log``), in a private chat, with the production resolver. Its handler does steps
1, 3 and 4 itself, in the same transaction as its write (``core.services.bot_state.
confirm_log_from_conversation``, ``log_from_message``), so the write happens exactly once and
costs one transaction; the gate only sets ``context.claim_left_to_handler`` and the Telegram
language. A handler that ends up writing nothing calls :func:`admit` for the gate's own steps.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable

from telegram import MessageEntity, Update
from telegram.constants import ChatType
from telegram.ext import ApplicationHandlerStop, TypeHandler

from bot.context import BotContext, locale_from_telegram
from bot.render import esc
from core.bootstrap import Container
from core.schemas.actor import Actor
from core.services import bot_state, telegram_links

GATE_GROUP = -1
RESOLVER_KEY = "resolve_actor"
_FORGED_NUMBER = re.compile(r"\d{10,}")
HANDLER_CLAIMS_KEY = "handler_claims"  # callback data whose handler claims the update itself
HANDLER_CLAIMS_COMMANDS_KEY = "handler_claims_commands"  # the same, for a command with words
_COMMAND_WITH_WORDS = re.compile(r"^/(\w+)(?:@(\w+))?\s+\S", re.IGNORECASE)
_START_WITH_CODE = re.compile(r"^/start(@\w+)?\s+\S+", re.IGNORECASE)

ActorResolver = Callable[[Container, int], Awaitable[Actor | None]]


async def linked_actor(container: Container, telegram_user_id: int) -> Actor | None:
    """Production: the account linked to this Telegram user, if the link is active."""
    return await telegram_links.actor_for_telegram_user(
        uow=container.uow(), telegram_user_id=telegram_user_id
    )


def _is_start_with_code(update: Update) -> bool:
    return bool(update.message and update.message.text and
                _START_WITH_CODE.match(update.message.text))  # fmt: skip


async def _answer_once(update: Update, text: str) -> None:
    """One reply in whatever form the update allows: a message, or a button-press notice."""
    if update.callback_query is not None:
        await update.callback_query.answer(text, show_alert=True)
    elif update.effective_message is not None and update.effective_chat is not None:
        await update.effective_chat.send_message(esc(text))


def _handler_claims(update: Update, context: BotContext) -> bool:
    query, chat, message = update.callback_query, update.effective_chat, update.message
    if (
        chat is None
        or chat.type != ChatType.PRIVATE
        or update.effective_user is None
        or RESOLVER_KEY in context.bot_data
    ):
        return False
    if query is not None:
        return query.data in context.bot_data.get(HANDLER_CLAIMS_KEY, ())
    if message is None or not message.entities:
        return False
    entity = message.entities[0]  # PTB's CommandHandler reads the command from this entity
    command = _COMMAND_WITH_WORDS.match(message.text or "")
    return (
        entity.type == MessageEntity.BOT_COMMAND
        and entity.offset == 0
        and command is not None
        and entity.length == len(command[0].split()[0])
        and command[1].lower() in context.bot_data.get(HANDLER_CLAIMS_COMMANDS_KEY, ())
        # "/log@another_bot" is not for this bot's command handler: the gate takes it
        and (command[2] is None or command[2].lower() == (context.bot.username or "").lower())
    )


async def refuse_unlinked(update: Update, context: BotContext) -> None:
    """The one answer an unlinked Telegram user gets."""
    await _answer_once(
        update,
        context.t.gettext(
            "This bot is for Drive staff. Ask your manager for a link code, then send /start CODE."
        ),
    )


async def gate(update: object, context: BotContext) -> None:
    if not isinstance(update, Update):
        raise ApplicationHandlerStop
    if _handler_claims(update, context):
        user = update.effective_user
        context.act_as(update, None, locale_from_telegram(user.language_code if user else None))
        context.claim_left_to_handler = True
        return
    if not await admit(update, context):
        raise ApplicationHandlerStop


async def admit(update: Update, context: BotContext) -> bool:
    """The gate's own steps (claim, chat, actor, link); False when the update goes no further
    (answered here where it needs an answer). For a handler the gate left its claim to."""
    container = context.container
    if not await bot_state.claim_update(uow=container.uow(), update_id=update.update_id):
        return False
    user, chat = update.effective_user, update.effective_chat
    telegram_locale = locale_from_telegram(user.language_code if user else None)
    if chat is not None and chat.type != ChatType.PRIVATE:
        context.act_as(update, None, telegram_locale)
        if update.message is not None or update.callback_query is not None:
            await _answer_once(
                update,
                context.t.gettext(
                    "This bot works only in a private chat. Message it directly, not in a group."
                ),
            )
        return False
    if user is None:
        return False
    resolve: ActorResolver = context.bot_data.get(RESOLVER_KEY, linked_actor)
    actor = await resolve(container, user.id)
    context.act_as(update, actor, actor.locale.value if actor else telegram_locale)
    if actor is None and not _is_start_with_code(update):
        await refuse_unlinked(update, context)
        return False
    query = update.callback_query
    if query is not None and _FORGED_NUMBER.search(query.data or ""):
        # Our buttons carry database ids; a number no id can be (over 9 digits) was not made by
        # us, and the database would refuse it as an integer. One answer, nothing else.
        await query.answer(
            context.t.gettext("That button no longer works. Send /help to start again.")
        )
        return False
    return True


def gate_handler() -> TypeHandler[Update, BotContext, None]:
    return TypeHandler(Update, gate)
