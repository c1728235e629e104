"""Builds the bot's ``Application``: transport, defaults, the gate, the handlers, errors, menu.

Every entry point (``drive-assist bot run``, the console, the tests) builds the bot here, so
they all run the same handlers. Replies use HTML parse mode; every value is escaped where it is
inserted (``bot.render``). Requests go through the aiohttp transport of ``bot.request`` (the
same one ``build_bot`` uses) unless the caller passes its own, as the console does.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any

from telegram.constants import ParseMode
from telegram.ext import (
    AIORateLimiter,
    Application,
    ApplicationBuilder,
    BaseRateLimiter,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    Defaults,
    MessageHandler,
    filters,
)
from telegram.request import BaseRequest

from bot.context import CONTAINER_KEY, MENU_KEY, BotContext
from bot.conversations import common as conversations
from bot.conversations import log
from bot.errors import on_error
from bot.gate import (
    GATE_GROUP,
    HANDLER_CLAIMS_COMMANDS_KEY,
    HANDLER_CLAIMS_KEY,
    RESOLVER_KEY,
    ActorResolver,
    gate_handler,
)
from bot.handlers import alerts, broadcast, fallback, lang, panel, start
from bot.handlers import appointments as appointment_buttons
from bot.jobs import RecordingBot, recorder
from bot.menu import MENU, MenuEntry, publish_menu
from bot.reply_limiter import SharedReplyLimiter
from bot.request import AiohttpRequest
from core.bootstrap import Container
from core.log_redaction import redact_in_logs
from core.notifications.pacer import SendPacer

BotApplication = Application[Any, BotContext, Any, Any, Any, Any]

# When Telegram answers a reply with 429 (flood control), the reply waits the ``retry_after``
# Telegram gives and is sent again, up to this many times, instead of failing the handler and
# showing "Something went wrong". PTB's ``AIORateLimiter`` does the waiting; its own pacing is
# off (rates 0): the bot's replies answer people one at a time, and the outbox paces itself.
REPLY_RETRIES_AFTER_FLOOD_CONTROL = 8


def reply_rate_limiter(pacer: SendPacer | None = None) -> BaseRateLimiter[int]:
    """With ``pacer`` (the limiter every sending process shares), replies also take its slots
    (``bot.reply_limiter``); retries after flood control either way."""
    if pacer is not None:
        return SharedReplyLimiter(pacer, max_retries=REPLY_RETRIES_AFTER_FLOOD_CONTROL)
    return AIORateLimiter(
        overall_max_rate=0, group_max_rate=0, max_retries=REPLY_RETRIES_AFTER_FLOOD_CONTROL
    )


def build_application(
    container: Container,
    *,
    token: str,
    base_url: str = "https://api.telegram.org/bot",
    request: BaseRequest | None = None,
    get_updates_request: BaseRequest | None = None,
    resolve_actor: ActorResolver | None = None,
    menu: tuple[MenuEntry, ...] = MENU,
    post_shutdown: Callable[[BotApplication], Coroutine[Any, Any, None]] | None = None,
    reply_pacer: SendPacer | None = None,
) -> BotApplication:
    """The bot, ready for ``run_polling`` or ``async with`` + ``process_update``.

    ``resolve_actor`` replaces the Telegram-link lookup (the console acts as an account chosen
    by email); ``menu`` is the list of commands to answer and publish; ``post_shutdown``
    runs after ``run_polling`` stops (the CLI disposes of the database engine there);
    ``reply_pacer``, the shared send limiter replies to Telegram take their slots from.
    """
    redact_in_logs(token)  # PTB logs its URLs, token and all, from the moment the bot is made
    builder = ApplicationBuilder()
    if request is None:
        # Talking to Telegram: every reply is recorded for its site's retention rule (bot.jobs).
        # A caller with its own transport (the console) sends nothing to Telegram to delete.
        builder = builder.bot(
            RecordingBot(
                token=token,
                base_url=base_url,
                defaults=Defaults(parse_mode=ParseMode.HTML),
                request=AiohttpRequest(connection_pool_size=32),
                get_updates_request=get_updates_request or AiohttpRequest(connection_pool_size=1),
                rate_limiter=reply_rate_limiter(reply_pacer),
                on_sent=recorder(container),
            )
        )
    else:
        builder = (
            builder.token(token)
            .base_url(base_url)
            .defaults(Defaults(parse_mode=ParseMode.HTML))
            .request(request)
            .get_updates_request(get_updates_request or AiohttpRequest(connection_pool_size=1))
            # PTB's builder types its limiter's argument as None; AIORateLimiter takes an int.
            .rate_limiter(reply_rate_limiter())  # type: ignore[arg-type]
        )
    typed = builder.context_types(ContextTypes(context=BotContext)).post_init(publish_menu)
    if post_shutdown is not None:
        typed = typed.post_shutdown(post_shutdown)
    application: BotApplication = typed.build()
    application.bot_data[CONTAINER_KEY] = container
    application.bot_data[MENU_KEY] = menu
    if resolve_actor is not None:
        application.bot_data[RESOLVER_KEY] = resolve_actor
    application.bot_data[HANDLER_CLAIMS_KEY] = frozenset({log.SAVE_BUTTON})
    # "/log" with words after it, when this bot answers /log (a test's own menu may not)
    commands = {entry.command for entry in menu}
    application.bot_data[HANDLER_CLAIMS_COMMANDS_KEY] = frozenset({"log"} & commands)
    application.add_handler(gate_handler(), group=GATE_GROUP)
    application.add_handler(CommandHandler("start", start.start))
    for entry in menu:
        application.add_handler(CommandHandler(entry.command, entry.callback))
    application.add_handler(
        CallbackQueryHandler(lang.language_chosen, pattern=lang.CALLBACK_PATTERN)
    )
    application.add_handler(CallbackQueryHandler(log.on_button, pattern=log.CALLBACK_PATTERN))
    application.add_handler(
        CallbackQueryHandler(alerts.alert_pressed, pattern=alerts.CALLBACK_PATTERN)
    )
    application.add_handler(
        CallbackQueryHandler(panel.rsvp_pressed, pattern=panel.CALLBACK_PATTERN)
    )
    application.add_handler(
        CallbackQueryHandler(broadcast.broadcast_pressed, pattern=broadcast.CALLBACK_PATTERN)
    )
    application.add_handler(
        CallbackQueryHandler(
            appointment_buttons.on_button, pattern=appointment_buttons.CALLBACK_PATTERN
        )
    )
    # Typed text goes to the flow waiting for it; anything else on to the fallback's answer.
    application.add_handler(MessageHandler(filters.TEXT & ~filters.COMMAND, conversations.on_text))
    # Last in group 0: only what no handler above took (new features register above this).
    application.add_handler(MessageHandler(filters.ALL, fallback.not_understood))
    application.add_handler(CallbackQueryHandler(fallback.not_understood))
    application.add_error_handler(on_error)
    return application
