"""The log redaction: a registered secret leaves no record, in its message, args or traceback."""

from __future__ import annotations

import logging
import secrets
from collections.abc import Iterator

import pytest

from core.log_redaction import REDACTED, redact_in_logs


class _Lines(logging.Handler):
    def __init__(self) -> None:
        super().__init__(level=logging.DEBUG)
        self.lines: list[str] = []
        self.records: list[logging.LogRecord] = []
        self.setFormatter(logging.Formatter("%(levelname)s %(message)s"))

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)
        self.lines.append(self.format(record))


@pytest.fixture
def lines() -> Iterator[_Lines]:
    handler = _Lines()
    logger = logging.getLogger("tests.redaction")
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)
    try:
        yield handler
    finally:
        logger.removeHandler(handler)
        logger.setLevel(logging.NOTSET)


def _token() -> str:
    return f"{secrets.randbelow(10**9) + 10**8}:{secrets.token_urlsafe(26)}"


def test_a_token_in_the_args_is_redacted_after_the_message_is_formatted(lines: _Lines) -> None:
    token = _token()
    redact_in_logs(token)
    log = logging.getLogger("tests.redaction")

    log.debug("Set Bot API URL: %s", f"https://api.telegram.org/bot{token}")
    log.warning("called %s with %r (100%% done)", "getMe", {"url": f"/bot{token}/getMe"})

    assert lines.lines == [
        f"DEBUG Set Bot API URL: https://api.telegram.org/bot{REDACTED}",
        f"WARNING called getMe with {{'url': '/bot{REDACTED}/getMe'}} (100% done)",
    ]


def test_a_token_percent_encoded_or_in_a_traceback_is_redacted_too(lines: _Lines) -> None:
    token = _token()
    redact_in_logs(token)
    log = logging.getLogger("tests.redaction")

    try:
        raise ConnectionError(f"cannot reach /bot{token.replace(':', '%3A')}/getUpdates")
    except ConnectionError:
        log.exception("polling failed")

    [line] = lines.lines
    assert "polling failed" in line and "ConnectionError" in line
    assert token not in line and token.split(":")[1] not in line
    assert f"/bot{REDACTED}/getUpdates" in line


def test_a_record_without_a_secret_keeps_its_args_and_short_values_are_never_secrets(
    lines: _Lines,
) -> None:
    redact_in_logs(_token(), "abc", None, "")
    log = logging.getLogger("tests.redaction")

    log.info("%s %s %s", "127.0.0.1:5000", "GET", "/abc")

    [record] = lines.records
    assert record.args == ("127.0.0.1:5000", "GET", "/abc")  # uvicorn's access log reads them
    assert lines.lines == ["INFO 127.0.0.1:5000 GET /abc"]
