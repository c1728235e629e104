"""A python-telegram-bot request backend over aiohttp, and ``build_bot`` that uses it.

PTB's default ``HTTPXRequest`` spends about 5 ms of CPU per request in httpx and httpcore, which
caps one process at a few hundred messages a second; one aiohttp ``ClientSession`` does the same
work for a fraction of that. Semantics follow ``HTTPXRequest`` (PTB 22):

- timeouts: ``DEFAULT_NONE`` means "this object's default"; ``None`` means no limit. PTB's four
  timeouts map onto aiohttp's ``ClientTimeout``: ``connect`` -> ``sock_connect``, ``pool`` plus
  ``connect`` -> ``connect`` (aiohttp's ``connect`` covers waiting for a free connection and then
  opening it), ``read`` -> ``sock_read``. aiohttp has no write timeout of its own; requests here
  are small, and a stalled write surfaces as a read timeout.
- ``read_timeout`` (the property) is what ``Bot.get_updates`` adds its long-poll ``timeout`` to.
- a request without files goes as a JSON body with typed values (``RequestData.parameters``),
  one with files as ``multipart/form-data`` with the values JSON-encoded, as PTB does.
- errors: an aiohttp or asyncio timeout -> ``TimedOut``; any other aiohttp client error
  (refused connection, reset, bad response) -> ``NetworkError``. HTTP status codes are left to
  ``BaseRequest``, which turns 429 into ``RetryAfter``, 403 into ``Forbidden`` and so on.
"""

from __future__ import annotations

import json
import logging

import aiohttp
from telegram import Bot
from telegram._utils.defaultvalue import DefaultValue
from telegram._utils.types import ODVInput
from telegram.error import NetworkError, TimedOut
from telegram.request import BaseRequest, RequestData

from core.log_redaction import redact_in_logs

log = logging.getLogger(__name__)

_JSON_HEADERS = {"Content-Type": "application/json"}


class AiohttpRequest(BaseRequest):
    """One aiohttp ``ClientSession`` with at most ``connection_pool_size`` connections."""

    __slots__ = (
        "_connect_timeout",
        "_media_write_timeout",
        "_pool_size",
        "_pool_timeout",
        "_read_timeout",
        "_session",
        "_write_timeout",
    )

    def __init__(
        self,
        connection_pool_size: int = 32,
        read_timeout: float | None = 5.0,
        write_timeout: float | None = 5.0,
        connect_timeout: float | None = 5.0,
        pool_timeout: float | None = 1.0,
        media_write_timeout: float | None = 20.0,
    ) -> None:
        if connection_pool_size < 1:
            raise ValueError("connection_pool_size must be at least 1")
        self._pool_size = connection_pool_size
        self._read_timeout = read_timeout
        self._write_timeout = write_timeout
        self._connect_timeout = connect_timeout
        self._pool_timeout = pool_timeout
        self._media_write_timeout = media_write_timeout
        self._session: aiohttp.ClientSession | None = None

    @property
    def read_timeout(self) -> float | None:
        return self._read_timeout

    async def initialize(self) -> None:
        if self._session is None or self._session.closed:
            # The session binds to the running loop, so it is made here, not in __init__.
            connector = aiohttp.TCPConnector(limit=self._pool_size, limit_per_host=0)
            self._session = aiohttp.ClientSession(
                connector=connector,
                headers={"User-Agent": self.USER_AGENT},
                cookie_jar=aiohttp.DummyCookieJar(),
            )

    async def shutdown(self) -> None:
        if self._session is None or self._session.closed:
            log.debug("This AiohttpRequest is already shut down. Returning.")
            return
        await self._session.close()
        self._session = None

    def _timeout(
        self,
        read_timeout: ODVInput[float],
        write_timeout: ODVInput[float],
        connect_timeout: ODVInput[float],
        pool_timeout: ODVInput[float],
        *,
        has_files: bool,
    ) -> aiohttp.ClientTimeout:
        read = self._read_timeout if isinstance(read_timeout, DefaultValue) else read_timeout
        connect = (
            self._connect_timeout if isinstance(connect_timeout, DefaultValue) else connect_timeout
        )
        pool = self._pool_timeout if isinstance(pool_timeout, DefaultValue) else pool_timeout
        if isinstance(write_timeout, DefaultValue):
            write_timeout = self._media_write_timeout if has_files else self._write_timeout
        # An upload may take its write timeout before the first byte of the answer comes back.
        if has_files and read is not None and write_timeout is not None:
            read += write_timeout
        acquire = None if connect is None or pool is None else connect + pool
        return aiohttp.ClientTimeout(
            total=None, connect=acquire, sock_connect=connect, sock_read=read
        )

    async def do_request(
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
        write_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
        connect_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
        pool_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
    ) -> tuple[int, bytes]:
        if self._session is None or self._session.closed:
            raise RuntimeError("This AiohttpRequest is not initialized!")
        has_files = bool(request_data and request_data.contains_files)
        timeout = self._timeout(
            read_timeout, write_timeout, connect_timeout, pool_timeout, has_files=has_files
        )
        body: bytes | aiohttp.FormData | None = None
        headers = None
        if request_data is not None and has_files:
            form = aiohttp.FormData()
            for name, value in request_data.json_parameters.items():
                form.add_field(name, value)
            for name, (filename, content, mimetype) in request_data.multipart_data.items():
                form.add_field(name, content, filename=filename, content_type=mimetype)
            body = form
        elif request_data is not None and request_data.parameters:
            body = json.dumps(request_data.parameters).encode()
            headers = _JSON_HEADERS
        try:
            async with self._session.request(
                method, url, data=body, headers=headers, timeout=timeout
            ) as response:
                return response.status, await response.read()
        except (TimeoutError, aiohttp.ServerTimeoutError) as error:
            raise TimedOut from error
        except aiohttp.ClientError as error:
            raise NetworkError(f"aiohttp.{type(error).__name__}: {error}") from error


def build_bot(token: str, base_url: str, *, pool_size: int = 32) -> Bot:
    """A ``Bot`` whose requests, ``get_updates`` included, go through aiohttp.

    ``get_updates`` gets a pool of its own (one connection is all a long poll needs), so a busy
    dispatcher never starves the update loop, as in PTB's own ``ApplicationBuilder``.
    """
    redact_in_logs(token)  # PTB logs its URLs, token and all, from the moment the bot is made
    return Bot(
        token=token,
        base_url=base_url,
        request=AiohttpRequest(connection_pool_size=pool_size),
        get_updates_request=AiohttpRequest(connection_pool_size=1),
    )
