"""The error handler: every failure is logged and answered politely in the user's language.

A refusal (``NotPermitted``) is put on record first (``bot.refusals``). A core ``DomainError``
becomes its message from ``ui.errors`` (what went wrong, what to do);
anything else is logged with its traceback and gets a generic apology. Never silence.
"""

from __future__ import annotations

import logging
from typing import Any

from telegram import Update
from telegram.error import TelegramError
from telegram.ext import ApplicationHandlerStop, CallbackContext

from bot.context import CONTAINER_KEY, remembered_actor, remembered_locale, translator_for
from bot.refusals import record_unrecorded_refusal
from bot.render import esc
from core.errors import DomainError, NotPermitted
from ui.errors import error_message

log = logging.getLogger(__name__)


async def on_error(update: object, context: CallbackContext[Any, Any, Any, Any]) -> None:
    error = context.error
    if not isinstance(update, Update):
        # Polling and network trouble: PTB retries on its own; keep a record.
        log.error("Telegram bot error outside an update: %r", error, exc_info=error)
        return
    container = context.application.bot_data[CONTAINER_KEY]
    t = translator_for(container, remembered_locale(context.application, update.update_id))
    if isinstance(error, NotPermitted):
        actor = remembered_actor(context.application, update.update_id)
        try:
            await record_unrecorded_refusal(container, actor, update, error)
        except Exception:  # the answer matters more than the record; keep both in the log
            log.exception("Could not record the refusal of update %s", update.update_id)
    if isinstance(error, DomainError):
        log.info("Update %s refused by core: %s", update.update_id, error.code)
        text = error_message(error, t)
    else:
        log.error("Update %s failed", update.update_id, exc_info=error)
        text = t.gettext("Something went wrong on our side. Nothing was saved. Please try again.")
    chat = update.effective_chat
    if chat is not None:
        try:
            await chat.send_message(esc(text))
        except TelegramError as send_error:
            log.warning("Could not tell chat %s about an error: %r", chat.id, send_error)
    raise ApplicationHandlerStop
