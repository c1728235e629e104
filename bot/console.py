"""``drive-assist bot console``: the bot's own handlers in a terminal, without Telegram.

How: the console builds the very ``Application`` that ``bot run`` builds (``bot.app``), but its
``Bot`` sends every request to :class:`ConsoleRequest` instead of over HTTP. That request
answers as the Bot API would (``getMe``; ``sendMessage`` and ``editMessageText`` return a valid
Message) and prints what the bot said, its inline buttons numbered. Each line typed becomes an
``Update`` handed to ``Application.process_update``; typing a button's number presses it (a
callback query). So the gate, the handlers, the error handler and the core services all run
exactly as in production; only the transport differs.

Who is acting: the account named by ``--as EMAIL``, looked up on every update as the gate looks
up a Telegram link (a deactivated account gets the unlinked reply). No Telegram link is
created, so the account's real phone link is left alone. Update ids are negative, so they never
collide with Telegram's (always positive) in the processed-updates table.
"""

from __future__ import annotations

import asyncio
import html
import json
import re
import time
from collections.abc import Callable
from typing import Any

from telegram import Update
from telegram._utils.defaultvalue import DEFAULT_NONE
from telegram._utils.types import ODVInput
from telegram.request import BaseRequest, RequestData

from bot.app import build_application
from core.bootstrap import Container
from core.enums import Face
from core.errors import NotPermitted, UnknownAccount
from core.schemas.actor import Actor
from core.services import users

CONSOLE_USER_ID = 1
CONSOLE_BOT: dict[str, Any] = {
    "id": 1000,
    "is_bot": True,
    "first_name": "Drive Assist (console)",
    "username": "drive_assist_console_bot",
}
_TAG = re.compile(r"<[^>]+>")


def plain(text: str) -> str:
    """What a phone would show for an HTML-formatted message."""
    return html.unescape(_TAG.sub("", text))


class ConsoleRequest(BaseRequest):
    """A Bot API stand-in that prints messages and remembers the last buttons shown."""

    def __init__(self, write: Callable[[str], None]) -> None:
        self._write = write
        self._next_message_id = 1
        self.buttons: list[tuple[str, str, dict[str, Any]]] = []  # (text, data, message)

    @property
    def read_timeout(self) -> float | None:
        return None

    async def initialize(self) -> None:
        return None

    async def shutdown(self) -> None:
        return None

    async def do_request(
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout: ODVInput[float] = DEFAULT_NONE,
        write_timeout: ODVInput[float] = DEFAULT_NONE,
        connect_timeout: ODVInput[float] = DEFAULT_NONE,
        pool_timeout: ODVInput[float] = DEFAULT_NONE,
    ) -> tuple[int, bytes]:
        api_method = url.rsplit("/", 1)[-1]
        params = dict(request_data.parameters) if request_data else {}
        result = self._answer(api_method, params)
        return 200, json.dumps({"ok": True, "result": result}).encode()

    def _answer(self, api_method: str, params: dict[str, Any]) -> Any:
        if api_method == "getMe":
            return CONSOLE_BOT
        if api_method in ("sendMessage", "editMessageText"):
            return self._show(params, edited=api_method == "editMessageText")
        if api_method == "answerCallbackQuery" and params.get("text"):
            self._write(f"[{params['text']}]")
        return True

    def _show(self, params: dict[str, Any], *, edited: bool) -> dict[str, Any]:
        if edited:
            message_id = int(params["message_id"])
        else:
            message_id, self._next_message_id = self._next_message_id, self._next_message_id + 1
        markup = params.get("reply_markup")
        if isinstance(markup, str):
            markup = json.loads(markup)
        message: dict[str, Any] = {
            "message_id": message_id,
            "date": int(time.time()),
            "chat": {"id": params["chat_id"], "type": "private", "first_name": "Console"},
            "from": CONSOLE_BOT,
            "text": plain(params["text"]),
        }
        self._write(("(edited) " if edited else "") + message["text"])
        self.buttons = []
        if markup and markup.get("inline_keyboard"):
            message["reply_markup"] = markup
            for row in markup["inline_keyboard"]:
                for button in row:
                    self.buttons.append((button["text"], button["callback_data"], message))
                    self._write(f"  [{len(self.buttons)}] {button['text']}")
        return message


def _actor_by_email(email: str) -> Callable[[Container, int], Any]:
    async def resolve(container: Container, telegram_user_id: int) -> Actor | None:
        try:
            return await users.actor_for_email(uow=container.uow(), email=email, face=Face.BOT)
        except (UnknownAccount, NotPermitted):
            return None

    return resolve


class ConsoleSession:
    """Turns typed lines into updates for one application, numbering update ids downwards."""

    def __init__(self, container: Container, email: str, write: Callable[[str], None]) -> None:
        self.request = ConsoleRequest(write)
        self.application = build_application(
            container,
            token="console",
            base_url="http://console.invalid/bot",
            request=self.request,
            get_updates_request=self.request,
            resolve_actor=_actor_by_email(email),
        )
        self._next_update_id = -time.time_ns() // 1_000_000
        self._next_message_id = 1

    def _ids(self) -> tuple[int, int]:
        update_id, self._next_update_id = self._next_update_id, self._next_update_id - 1
        message_id, self._next_message_id = self._next_message_id, self._next_message_id + 1
        return update_id, message_id

    def update_for(self, line: str) -> dict[str, Any]:
        update_id, message_id = self._ids()
        user = {"id": CONSOLE_USER_ID, "is_bot": False, "first_name": "Console"}
        if line.isdigit() and 1 <= int(line) <= len(self.request.buttons):
            _, data, message = self.request.buttons[int(line) - 1]
            return {
                "update_id": update_id,
                "callback_query": {"id": str(update_id), "from": user, "chat_instance": "console",
                                   "data": data, "message": message},
            }  # fmt: skip
        message = {
            "message_id": message_id,
            "date": int(time.time()),
            "chat": {"id": CONSOLE_USER_ID, "type": "private", "first_name": "Console"},
            "from": user,
            "text": line,
        }
        if line.startswith("/"):
            command = line.split()[0]
            message["entities"] = [{"type": "bot_command", "offset": 0, "length": len(command)}]
        return {"update_id": update_id, "message": message}

    async def send(self, line: str) -> None:
        update = Update.de_json(self.update_for(line), self.application.bot)
        await self.application.process_update(update)


async def run_console(
    container: Container,
    email: str,
    *,
    read_line: Callable[[], str] = input,
    write: Callable[[str], None] = print,
) -> None:
    """Read lines until end of input (or ``/quit``), answering each through the bot."""
    session = ConsoleSession(container, email, write)
    async with session.application:
        while True:
            try:
                line = (await asyncio.to_thread(read_line)).strip()
            except EOFError:
                break
            if line in ("/quit", "/exit"):
                break
            if line:
                await session.send(line)
