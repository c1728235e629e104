"""Keeps secrets out of every log record, whichever library logs them and at whatever level.

python-telegram-bot puts the bot token in every request's address and logs that address at
DEBUG ("Set Bot API URL: .../bot<token>"); a library's error may carry it too. So the token
(and the webhook secret) is taken out of each record as it is made, not by each handler: a
record factory sees every record in the process, whichever handler (a console, a file, a test's
recorder, Reflex's or uvicorn's own) later writes it out.

A record holding a secret is formatted first (``msg % args``) and the result redacted, because a
secret usually arrives in the args; its traceback and stack text are redacted the same way.
Records without a secret keep their ``args`` untouched (uvicorn's access formatter reads them).

``redact_in_logs`` is called by the composition root (``core.bootstrap.bootstrap``) with the
secrets from the settings, and by ``bot.app``/``bot.request`` with the token they are given, so
every process (bot, worker, web backend, CLI) is covered.
"""

from __future__ import annotations

import logging
import threading
from typing import Any
from urllib.parse import quote

REDACTED = "[redacted]"
# Shorter values are not secrets worth the name, and redacting them would garble every log line.
MIN_SECRET_LENGTH = 8

_lock = threading.Lock()
_secrets: tuple[str, ...] = ()
_installed = False


def redact(text: str) -> str:
    """``text`` with every registered secret replaced by ``[redacted]``."""
    for secret in _secrets:
        if secret in text:
            text = text.replace(secret, REDACTED)
    return text


def _holds_secret(text: str) -> bool:
    return any(secret in text for secret in _secrets)


def _redact_record(record: logging.LogRecord) -> None:
    try:
        message = record.getMessage()
    except Exception:  # a broken format string: logging reports it later, with msg and args
        message = f"{record.msg!s} {record.args!r}"
    if _holds_secret(message):
        record.msg = redact(message)
        record.args = ()
    if record.exc_info and record.exc_info[0] is not None and not record.exc_text:
        text = logging.Formatter().formatException(record.exc_info)
        if _holds_secret(text):
            record.exc_text = redact(text)  # Formatter.format uses exc_text when it is set
    if record.stack_info and _holds_secret(record.stack_info):
        record.stack_info = redact(record.stack_info)


def _install() -> None:
    global _installed
    if _installed:
        return
    make_record = logging.getLogRecordFactory()

    def redacting_factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = make_record(*args, **kwargs)
        if _secrets:
            _redact_record(record)
        return record

    logging.setLogRecordFactory(redacting_factory)
    _installed = True


def redact_in_logs(*values: str | None) -> None:
    """From now on, no log record in this process shows these values (None and short values are
    ignored). Each is also redacted percent-encoded, as it appears inside a URL."""
    global _secrets
    with _lock:
        found = set(_secrets)
        for value in values:
            if value is None or len(value.strip()) < MIN_SECRET_LENGTH:
                continue
            found.update({value, quote(value, safe=""), quote(value, safe=":/")})
        # Longest first, so a secret that contains another is replaced whole.
        _secrets = tuple(sorted(found, key=len, reverse=True))
        _install()
