"""The per-update context every handler gets: who is acting, in which language, and the core.

PTB builds one ``CallbackContext`` per update and hands the same object to every handler group,
so the gate (group -1) resolves the actor once and the handlers read ``context.actor`` and
``context.t``. Nothing here lives longer than the update: ``user_data`` is deliberately unused,
because a link revoked between two updates must take effect on the next one.
"""

from __future__ import annotations

from collections import OrderedDict
from typing import Any

from telegram import Update
from telegram.ext import Application, CallbackContext, ExtBot

from core.bootstrap import Container
from core.enums import Locale
from core.schemas.actor import Actor
from ui.i18n import Translator, shared_translator

CONTAINER_KEY = "container"
MENU_KEY = "menu"
# Languages of recently gated updates, so the error handler (which PTB gives a fresh context)
# can answer in the user's language. Bounded: a busy bot never grows it past this.
_RECENT_LOCALES_MAX = 1024


class BotContext(CallbackContext[ExtBot[None], dict[Any, Any], dict[Any, Any], dict[Any, Any]]):
    def __init__(
        self,
        application: Application[Any, Any, Any, Any, Any, Any],
        chat_id: int | None = None,
        user_id: int | None = None,
    ) -> None:
        super().__init__(application, chat_id=chat_id, user_id=user_id)
        self.actor: Actor | None = None
        # Set by the gate when the handler claims the update and resolves the actor itself,
        # in the same transaction as its write (the Save at the end of /log): until then
        # ``actor`` is None.
        self.claim_left_to_handler = False
        self._translator: Translator | None = None

    @property
    def container(self) -> Container:
        return self.application.bot_data[CONTAINER_KEY]

    @property
    def t(self) -> Translator:
        """The translator for this update's user (set by the gate)."""
        if self._translator is None:
            self._translator = translator_for(self.container, None)
        return self._translator

    def act_as(self, update: Update, actor: Actor | None, locale: str | None) -> None:
        self.actor = actor
        self._translator = translator_for(self.container, locale)
        remember_locale(self.application, update.update_id, self._translator.locale, actor)

    def switch_language(self, update: Update, locale: Locale) -> None:
        self._translator = translator_for(self.container, locale.value)
        remember_locale(self.application, update.update_id, locale.value)


def translator_for(container: Container, locale: str | None) -> Translator:
    return shared_translator(
        locale or container.settings.default_locale, container.settings.timezone
    )


def locale_from_telegram(language_code: str | None) -> str | None:
    """The language Telegram reports for someone we do not know yet (cy or nothing)."""
    if language_code and language_code.lower().split("-")[0] == "cy":
        return Locale.CY.value
    return None


def remember_locale(application: Application[Any, Any, Any, Any, Any, Any], update_id: int,
                    locale: str, actor: Actor | None = None) -> None:  # fmt: skip
    """Keep the update's language (and actor) for the error handler, whose context is fresh."""
    for key, value in (("recent_locales", locale), ("recent_actors", actor)):
        recent: OrderedDict[int, Any] = application.bot_data.setdefault(key, OrderedDict())
        if value is not None or key == "recent_locales":
            recent[update_id] = value
        while len(recent) > _RECENT_LOCALES_MAX:
            recent.popitem(last=False)


def remembered_actor(
    application: Application[Any, Any, Any, Any, Any, Any], update_id: int
) -> Actor | None:
    return application.bot_data.get("recent_actors", {}).get(update_id)


def remembered_locale(
    application: Application[Any, Any, Any, Any, Any, Any], update_id: int
) -> str | None:
    return application.bot_data.get("recent_locales", {}).get(update_id)
