"""A fake Telegram Bot API server on 127.0.0.1 for tests and benchmarks.

Every request is checked against the Bot API spec in ``/work/shared/telegram-bot-api/api.json``
(method name, required fields, unknown fields, value types, nested object fields, inline keyboard
buttons, HTML markup). A request that fails gets HTTP 400 and lands in ``invalid_requests``.

In-process use::

    async with FakeBotApi() as fake:
        bot = telegram.Bot(token=fake.token, base_url=fake.base_url)

Standalone (own process; port on stdout line 1; serves until SIGTERM)::

    python -m tests.fakes.bot_api --port 0 --print-port --record deliveries.jsonl
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import html
import json
import os
import re
import signal
import sys
import time
from dataclasses import asdict, dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from aiohttp import web

SPEC_PATH = Path(os.environ.get("TELEGRAM_BOT_API_SPEC", "/work/shared/telegram-bot-api/api.json"))
FAKE_TOKEN = "fake-token-for-tests"
DEFAULT_BOT_USER: dict[str, Any] = {
    "id": 4242424242,
    "is_bot": True,
    "first_name": "Drive Assist (fake)",
    "username": "drive_assist_fake_bot",
    "can_join_groups": False,
    "can_read_all_group_messages": False,
    "supports_inline_queries": False,
}
_UNSET: Any = object()
_INT_RE = re.compile(r"-?\d+")
_PRIMITIVES = {"Integer", "String", "Boolean", "Float", "InputFile"}
_BUTTON_NON_ACTION = {"text", "icon_custom_emoji_id", "style"}
_PARSE_MODES = {"html", "markdown", "markdownv2"}
_MESSAGE_TEXT_METHODS = {"sendMessage", "editMessageText"}


class ValidationError(Exception):
    """A request that Telegram would answer with 400 Bad Request."""


# --------------------------------------------------------------------------- spec


@dataclass(frozen=True)
class _Field:
    name: str
    types: tuple[str, ...]
    required: bool


@dataclass(frozen=True)
class _Spec:
    methods: dict[str, dict[str, _Field]]  # canonical name -> fields
    by_lower: dict[str, str]  # lower-case name -> canonical name
    required: dict[str, frozenset[str]]
    type_fields: dict[str, dict[str, _Field]]
    type_required: dict[str, frozenset[str]]
    subtypes: dict[str, tuple[str, ...]]


def _fields(raw: list[dict[str, Any]]) -> dict[str, _Field]:
    return {f["name"]: _Field(f["name"], tuple(f["types"]), bool(f.get("required"))) for f in raw}


@lru_cache(maxsize=4)
def load_spec(path: Path = SPEC_PATH) -> _Spec:
    """Reads api.json once and indexes it for fast per-request checks."""
    raw = json.loads(Path(path).read_text(encoding="utf-8"))
    methods = {name: _fields(m.get("fields", [])) for name, m in raw["methods"].items()}
    type_fields = {name: _fields(t["fields"]) for name, t in raw["types"].items() if "fields" in t}
    return _Spec(
        methods=methods,
        by_lower={name.lower(): name for name in methods},
        required={
            n: frozenset(f.name for f in fs.values() if f.required) for n, fs in methods.items()
        },
        type_fields=type_fields,
        type_required={
            n: frozenset(f.name for f in fs.values() if f.required) for n, fs in type_fields.items()
        },
        subtypes={
            name: tuple(t["subtypes"]) for name, t in raw["types"].items() if "subtypes" in t
        },
    )


class _Validator:
    def __init__(self, spec: _Spec) -> None:
        self.spec = spec

    # Top-level parameters arrive as JSON values (JSON body) or strings (form, query, multipart:
    # this is what python-telegram-bot sends, objects JSON-encoded inside the string).
    def parameter(self, method: str, f: _Field, value: Any, *, from_form: bool) -> Any:
        errors = []
        for type_name in f.types:
            try:
                return self._top(type_name, value, f.name, from_form=from_form)
            except ValidationError as exc:
                errors.append(str(exc))
        raise ValidationError(errors[0] if len(errors) == 1 else " or ".join(errors))

    def _top(self, type_name: str, value: Any, path: str, *, from_form: bool) -> Any:
        if type_name == "InputFile":
            if isinstance(value, str | bytes) or hasattr(value, "file"):
                return value if isinstance(value, str) else "<uploaded file>"
            raise ValidationError(f"{path} must be a file or a string")
        if isinstance(value, str) and type_name != "String":
            if type_name == "Integer":
                if _INT_RE.fullmatch(value.strip()):
                    return int(value)
                raise ValidationError(f"{path} must be an Integer, got {value!r}")
            if type_name == "Float":
                try:
                    return float(value)
                except ValueError:
                    raise ValidationError(f"{path} must be a Float, got {value!r}") from None
            if type_name == "Boolean":
                lowered = value.strip().lower()
                if lowered in {"true", "1"}:
                    return True
                if lowered in {"false", "0"}:
                    return False
                raise ValidationError(f"{path} must be a Boolean, got {value!r}")
            try:
                value = json.loads(value)
            except ValueError:
                raise ValidationError(f"can't parse {path} JSON object") from None
        if from_form and type_name == "String" and not isinstance(value, str):
            raise ValidationError(f"{path} must be a String")
        self.check(type_name, value, path)
        return value

    def check(self, type_name: str, value: Any, path: str) -> None:
        if type_name.startswith("Array of "):
            if not isinstance(value, list):
                raise ValidationError(f"{path} must be an Array")
            inner = type_name[len("Array of ") :]
            for i, item in enumerate(value):
                self.check(inner, item, f"{path}[{i}]")
            return
        if type_name == "String":
            ok = isinstance(value, str)
        elif type_name == "Integer":
            ok = isinstance(value, int) and not isinstance(value, bool)
        elif type_name == "Float":
            ok = isinstance(value, int | float) and not isinstance(value, bool)
        elif type_name == "Boolean":
            ok = isinstance(value, bool)
        elif type_name == "InputFile":
            ok = isinstance(value, str)
        else:
            self._object(type_name, value, path)
            return
        if not ok:
            raise ValidationError(f"{path} must be {_article(type_name)}, got {value!r}")

    def _object(self, type_name: str, value: Any, path: str) -> None:
        if not isinstance(value, dict):
            raise ValidationError(f"{path} must be a JSON object of type {type_name}")
        subtypes = self.spec.subtypes.get(type_name)
        if subtypes:
            errors = []
            for sub in subtypes:
                try:
                    self._object(sub, value, path)
                    return
                except ValidationError as exc:
                    errors.append(f"{sub}: {exc}")
            raise ValidationError(f"{path} matches no {type_name} ({'; '.join(errors)})")
        fields = self.spec.type_fields.get(type_name)
        if fields is None:  # types the spec leaves opaque (CallbackGame, ...)
            return
        for key, item in value.items():
            f = fields.get(key)
            if f is None:
                raise ValidationError(f"{path} has unknown field {key!r} for {type_name}")
            errors = []
            for alternative in f.types:
                try:
                    self.check(alternative, item, f"{path}.{key}")
                    break
                except ValidationError as exc:
                    errors.append(str(exc))
            else:
                raise ValidationError(errors[0])
        missing = self.spec.type_required[type_name] - value.keys()
        if missing:
            raise ValidationError(
                f"{path} ({type_name}) lacks required field {', '.join(sorted(missing))}"
            )
        if type_name == "InlineKeyboardButton":
            _check_button(value, path)


def _article(type_name: str) -> str:
    return f"an {type_name}" if type_name[0] in "AEIOU" else f"a {type_name}"


def _check_button(button: dict[str, Any], path: str) -> None:
    actions = [k for k in button if k not in _BUTTON_NON_ACTION]
    if not actions:
        raise ValidationError("text buttons are unallowed in the inline keyboard")
    if len(actions) > 1:
        raise ValidationError(f"{path} must use exactly one of {', '.join(sorted(actions))}")
    if not button["text"]:
        raise ValidationError(f"{path}: button text is empty")
    data = button.get("callback_data")
    if data is not None and not 1 <= len(data.encode("utf-8")) <= 64:
        raise ValidationError("BUTTON_DATA_INVALID")


_HTML_TAGS = {
    "b", "strong", "i", "em", "u", "ins", "s", "strike", "del", "span", "tg-spoiler", "a",
    "code", "pre", "blockquote", "tg-emoji", "tg-time",
}  # fmt: skip
_TAG_RE = re.compile(r"<(/?)([a-zA-Z][a-zA-Z0-9-]*)((?:\s+[^<>]*)?)>")
_ENTITY_RE = re.compile(r"&(?:lt|gt|amp|quot|#\d+|#x[0-9a-fA-F]+);")


def check_html(text: str) -> str:
    """Checks Telegram HTML markup; returns the plain text Telegram would store."""
    stack: list[str] = []
    pos = 0
    plain: list[str] = []
    while pos < len(text):
        lt = text.find("<", pos)
        chunk = text[pos : len(text) if lt < 0 else lt]
        amp = chunk.find("&")
        while amp >= 0:
            if not _ENTITY_RE.match(chunk, amp):
                raise ValidationError(
                    "can't parse entities: Unsupported HTML entity or unescaped '&' "
                    f"at byte offset {pos + amp}"
                )
            amp = chunk.find("&", amp + 1)
        plain.append(chunk)
        if lt < 0:
            break
        m = _TAG_RE.match(text, lt)
        if not m:
            raise ValidationError(
                f"can't parse entities: Unsupported start tag or unescaped '<' at byte offset {lt}"
            )
        closing, tag = m.group(1), m.group(2).lower()
        if tag not in _HTML_TAGS:
            raise ValidationError(f'can\'t parse entities: Unsupported start tag "{tag}"')
        if closing:
            if not stack or stack[-1] != tag:
                raise ValidationError(
                    f"can't parse entities: Can't find end tag corresponding to start tag {tag}"
                )
            stack.pop()
        else:
            stack.append(tag)
        pos = m.end()
    if stack:
        raise ValidationError(
            f"can't parse entities: Can't find end tag corresponding to start tag \"{stack[-1]}\""
        )
    return html.unescape("".join(plain))


# --------------------------------------------------------------------------- records


@dataclass
class Call:
    """An accepted request."""

    method: str
    params: dict[str, Any]
    at: float  # time.monotonic()
    chat_id: int | str | None = None


@dataclass
class FailedCall:
    """A request answered with an injected fault (or a blocked chat); not delivered."""

    method: str
    params: dict[str, Any]
    at: float
    chat_id: int | str | None
    status: int | None
    description: str


@dataclass
class InvalidRequest:
    """A request rejected because it breaks the Bot API spec (or has a wrong token)."""

    method: str
    params: dict[str, Any]
    at: float
    status: int
    description: str


@dataclass
class _Fault:
    method: str | None
    status: int | None
    retry_after: int
    times: int
    chat_id: int | str | None
    delay: float
    description: str | None = None


@dataclass
class _Outcome:
    status: int
    body: dict[str, Any] | None = None
    raw: bytes | None = None
    content_type: str = "application/json"
    extra: dict[str, Any] = field(default_factory=dict)


def _norm_chat(value: Any) -> int | str | None:
    if value is None:
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and _INT_RE.fullmatch(value):
        return int(value)
    return value


def _chat_object(chat_id: int | str) -> dict[str, Any]:
    if isinstance(chat_id, str):
        return {"id": -1000000000000 - (hash(chat_id) % 10**9), "type": "channel",
                "username": chat_id.lstrip("@"), "title": chat_id}  # fmt: skip
    if chat_id > 0:
        return {"id": chat_id, "type": "private", "first_name": f"User {chat_id}"}
    if chat_id < -1000000000000:
        return {"id": chat_id, "type": "supergroup", "title": f"Group {chat_id}"}
    return {"id": chat_id, "type": "group", "title": f"Group {chat_id}"}


# --------------------------------------------------------------------------- server


class FakeBotApi:
    """A Bot API look-alike on 127.0.0.1 that validates, records and can misbehave on demand."""

    def __init__(
        self,
        *,
        token: str = FAKE_TOKEN,
        host: str = "127.0.0.1",
        port: int = 0,
        record_path: str | os.PathLike[str] | None = None,
        bot_user: dict[str, Any] | None = None,
        spec_path: Path = SPEC_PATH,
    ) -> None:
        self.token = token
        self.host = host
        self.port = port
        self.bot_user = dict(bot_user or DEFAULT_BOT_USER)
        self.calls: list[Call] = []
        self.failed_calls: list[FailedCall] = []
        self.invalid_requests: list[InvalidRequest] = []
        self.commands: dict[tuple[str, str], list[dict[str, Any]]] = {}
        self.webhook: dict[str, Any] = {}
        self._spec = load_spec(spec_path)
        self._validator = _Validator(self._spec)
        self._record_path = record_path
        self._record_file: Any = None
        self._faults: list[_Fault] = []
        self._blocked: set[int | str] = set()
        self._next_message_id: dict[int | str, int] = {}
        self._messages: dict[tuple[int | str, int], dict[str, Any]] = {}
        self._updates: list[dict[str, Any]] = []
        self._next_update_id = 1
        self._update_event: asyncio.Event | None = None
        self._stopping: asyncio.Event | None = None
        self._runner: web.AppRunner | None = None

    # -- lifecycle ---------------------------------------------------------

    @property
    def base_url(self) -> str:
        """Pass as ``telegram.Bot(base_url=...)``; PTB appends the token and the method."""
        return f"http://{self.host}:{self.port}/bot"

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    async def start(self) -> FakeBotApi:
        self._update_event = asyncio.Event()
        self._stopping = asyncio.Event()
        if self._record_path is not None:
            self._record_file = open(self._record_path, "a", buffering=1, encoding="utf-8")  # noqa: ASYNC230, SIM115
        app = web.Application(client_max_size=60 * 1024 * 1024)
        app.router.add_route("*", "/_fake/{action}", self._control)
        app.router.add_route("*", "/bot{token}/{method}", self._handle)
        app.router.add_route("*", "/{tail:.*}", self._not_found)
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=0.5)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, self.port, backlog=1024)
        await site.start()
        self.port = self._runner.addresses[0][1]
        return self

    async def stop(self) -> None:
        if self._stopping is not None:
            self._stopping.set()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
        if self._record_file is not None:
            self._record_file.close()
            self._record_file = None

    async def __aenter__(self) -> FakeBotApi:
        return await self.start()

    async def __aexit__(self, *exc_info: object) -> None:
        await self.stop()

    # -- test controls -----------------------------------------------------

    def fail_next(
        self,
        method: str | None = "sendMessage",
        *,
        status: int | None = _UNSET,
        retry_after: int = 1,
        times: int = 1,
        chat_id: int | str | None = None,
        delay: float = 0.0,
        description: str | None = None,
    ) -> None:
        """Makes the next ``times`` calls of ``method`` (any method if None; only for ``chat_id``
        if given) fail. ``status``: 429 (with ``retry_after``), 403 (bot blocked), 502 (an nginx
        HTML page, as Telegram's front end sends), 400/500/... (JSON error). ``delay`` holds the
        request that many seconds first; with ``delay`` and no ``status`` the request is then
        processed normally (delivered late: the client may already have timed out)."""
        if status is _UNSET:
            status = None if delay else 429
        canonical = None if method is None else self._spec.by_lower.get(method.lower(), method)
        self._faults.append(
            _Fault(canonical, status, retry_after, times, _norm_chat(chat_id), delay, description)
        )

    def clear_faults(self) -> None:
        self._faults.clear()
        self._blocked.clear()

    def block_chat(self, chat_id: int | str) -> None:
        """From now on every call for this chat gets 403 Forbidden: bot was blocked by the user."""
        self._blocked.add(_norm_chat(chat_id))  # type: ignore[arg-type]

    def unblock_chat(self, chat_id: int | str) -> None:
        self._blocked.discard(_norm_chat(chat_id))  # type: ignore[arg-type]

    def push_update(self, update: dict[str, Any]) -> dict[str, Any]:
        """Queues an Update for getUpdates (``update_id`` added if missing). Messages inside it
        become known, so the bot may edit or delete them. Call from the server's event loop."""
        update = dict(update)
        if "update_id" not in update:
            update["update_id"] = self._next_update_id
        self._next_update_id = max(self._next_update_id, update["update_id"] + 1)
        for key in ("message", "edited_message", "callback_query"):
            message = update.get(key)
            if key == "callback_query" and message:
                message = message.get("message")
            if message and "chat" in message and "message_id" in message:
                chat = _norm_chat(message["chat"]["id"])
                self._messages[(chat, message["message_id"])] = message  # type: ignore[index]
                self._next_message_id[chat] = max(  # type: ignore[index]
                    self._next_message_id.get(chat, 1),
                    message["message_id"] + 1,  # type: ignore[arg-type]
                )
        self._updates.append(update)
        if self._update_event is not None:
            self._update_event.set()
        return update

    def new_message_id(self, chat_id: int | str) -> int:
        """The id Telegram would give the next message in this chat, whoever sends it, for a
        test making up a user's message: ids are shared by both sides of a chat, so one made
        up here never takes the id of a message the bot has sent (or will send)."""
        chat = _norm_chat(chat_id)
        message_id = self._next_message_id.get(chat, 1)  # type: ignore[call-overload]
        self._next_message_id[chat] = message_id + 1  # type: ignore[index]
        return message_id

    def sent_messages(self, chat_id: int | str | None = None) -> list[Call]:
        wanted = _norm_chat(chat_id)
        return [
            c for c in self.calls
            if c.method == "sendMessage" and (wanted is None or c.chat_id == wanted)
        ]  # fmt: skip

    def every_payload(self) -> list[tuple[str, dict[str, Any]]]:
        """(method, params) of every request that reached the fake: accepted, failed on purpose,
        or rejected as invalid; for checks over everything the client sent."""
        requests: list[Call | FailedCall | InvalidRequest] = [
            *self.calls,
            *self.failed_calls,
            *self.invalid_requests,
        ]
        return [(request.method, request.params) for request in requests]

    def count(self, method: str) -> int:
        canonical = self._spec.by_lower.get(method.lower(), method)
        return sum(1 for c in self.calls if c.method == canonical)

    def reset(self) -> None:
        """Forgets calls, faults, blocks and queued updates (not the stored messages)."""
        self.calls.clear()
        self.failed_calls.clear()
        self.invalid_requests.clear()
        self._faults.clear()
        self._blocked.clear()
        self._updates.clear()

    # -- HTTP --------------------------------------------------------------

    async def _not_found(self, request: web.Request) -> web.Response:
        return _json(404, {"ok": False, "error_code": 404, "description": "Not Found"})

    async def _handle(self, request: web.Request) -> web.Response:
        now = time.monotonic()
        method_raw = request.match_info["method"]
        if request.match_info["token"] != self.token:
            self.invalid_requests.append(
                InvalidRequest(method_raw, {}, now, 401, "Unauthorized: wrong token")
            )
            return _json(401, {"ok": False, "error_code": 401, "description": "Unauthorized"})
        method = self._spec.by_lower.get(method_raw.lower())
        if method is None:
            self.invalid_requests.append(
                InvalidRequest(method_raw, {}, now, 404, f"unknown method {method_raw!r}")
            )
            return _json(404, {"ok": False, "error_code": 404, "description": "Not Found"})
        try:
            raw, from_form = await _read_params(request)
        except ValidationError as exc:
            return self._reject(method, {}, now, str(exc))
        try:
            params = self._validate(method, raw, from_form=from_form)
        except ValidationError as exc:
            return self._reject(method, raw, now, str(exc))

        plain = params.pop("_plain_text", None)
        chat_id = _norm_chat(params.get("chat_id"))
        if chat_id is not None:
            params["chat_id"] = chat_id
        if chat_id is not None and chat_id in self._blocked:
            return self._fail(method, params, now, chat_id, _Fault(None, 403, 0, 1, None, 0.0))
        fault = self._take_fault(method, chat_id)
        if fault is not None:
            if fault.delay:
                assert self._stopping is not None
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._stopping.wait(), fault.delay)
            if fault.status is not None:
                return self._fail(method, params, now, chat_id, fault)
        try:
            outcome = await self._respond(method, params, chat_id, plain)
        except ValidationError as exc:
            return self._reject(method, params, now, str(exc))
        if outcome.status != 200:
            return _json(outcome.status, outcome.body or {})
        self.calls.append(Call(method, params, now, chat_id))
        if method == "sendMessage" and self._record_file is not None:
            result = (outcome.body or {}).get("result", {})
            self._record_file.write(
                json.dumps(
                    {
                        "method": method,
                        "chat_id": chat_id,
                        "text": params.get("text"),
                        "message_id": result.get("message_id"),
                        "at": now,
                        "wall": time.time(),
                    }
                )  # fmt: skip
                + "\n"
            )
        return _json(200, outcome.body or {})

    def _reject(self, method: str, params: dict[str, Any], now: float, why: str) -> web.Response:
        description = f"Bad Request: {why}"
        self.invalid_requests.append(InvalidRequest(method, params, now, 400, description))
        return _json(400, {"ok": False, "error_code": 400, "description": description})

    def _take_fault(self, method: str, chat_id: int | str | None) -> _Fault | None:
        for fault in self._faults:
            if fault.method not in (None, method):
                continue
            if fault.chat_id is not None and fault.chat_id != chat_id:
                continue
            fault.times -= 1
            if fault.times <= 0:
                self._faults.remove(fault)
            return fault
        return None

    def _fail(
        self, method: str, params: dict[str, Any], now: float, chat_id: Any, fault: _Fault
    ) -> web.Response:
        status = fault.status or 500
        if status == 429:
            description = fault.description or f"Too Many Requests: retry after {fault.retry_after}"
            body: dict[str, Any] = {"ok": False, "error_code": 429, "description": description,
                                    "parameters": {"retry_after": fault.retry_after}}  # fmt: skip
        elif status == 403:
            description = fault.description or "Forbidden: bot was blocked by the user"
            body = {"ok": False, "error_code": 403, "description": description}
        elif status in (502, 504):
            phrase = "Bad Gateway" if status == 502 else "Gateway Time-out"
            description = fault.description or phrase
            self.failed_calls.append(FailedCall(method, params, now, chat_id, status, description))
            page = (
                f"<html>\r\n<head><title>{status} {phrase}</title></head>\r\n<body>\r\n"
                f"<center><h1>{status} {phrase}</h1></center>\r\n<hr><center>nginx/1.18.0"
                "</center>\r\n</body>\r\n</html>\r\n"
            )
            return web.Response(status=status, text=page, content_type="text/html")
        else:
            description = fault.description or {
                400: "Bad Request: injected failure",
                500: "Internal Server Error",
            }.get(status, f"Error {status}")
            body = {"ok": False, "error_code": status, "description": description}
        self.failed_calls.append(FailedCall(method, params, now, chat_id, status, description))
        return _json(status, body)

    def _validate(self, method: str, raw: dict[str, Any], *, from_form: bool) -> dict[str, Any]:
        fields = self._spec.methods[method]
        params: dict[str, Any] = {}
        for key, value in raw.items():
            f = fields.get(key)
            if f is None:
                if from_form and hasattr(value, "file"):  # multipart attachment (attach://name)
                    continue
                raise ValidationError(f"unknown parameter {key!r} for method {method}")
            params[key] = self._validator.parameter(method, f, value, from_form=from_form)
        missing = self._spec.required[method] - params.keys()
        if missing:
            raise ValidationError(f"{', '.join(sorted(missing))} is required for {method}")
        parse_mode = params.get("parse_mode")
        if parse_mode is not None and parse_mode.lower() not in _PARSE_MODES:
            raise ValidationError(f"unsupported parse_mode {parse_mode!r}")
        if method in _MESSAGE_TEXT_METHODS:
            text = params["text"]
            plain = check_html(text) if (parse_mode or "").lower() == "html" else text
            if not plain.strip():
                raise ValidationError("message text is empty")
            if len(plain.encode("utf-16-le")) // 2 > 4096:
                raise ValidationError("message is too long")
            params["_plain_text"] = plain
        return params

    async def _respond(
        self, method: str, params: dict[str, Any], chat_id: Any, plain: str | None
    ) -> _Outcome:
        if method == "sendMessage":
            return _ok(self._store_message(params, chat_id, text=plain or ""))
        if method == "getMe":
            return _ok(self.bot_user)
        if method in ("editMessageText", "editMessageReplyMarkup"):
            if "inline_message_id" in params:
                return _ok(True)
            message = self._find_message(params, "message to edit not found")
            edited = dict(message)
            if plain is not None:
                edited["text"] = plain
            edited.pop("reply_markup", None)
            if "reply_markup" in params:
                edited["reply_markup"] = params["reply_markup"]
            if edited == message:
                raise ValidationError(
                    "message is not modified: specified new message content and reply markup "
                    "are exactly the same as a current content and reply markup of the message"
                )
            edited["edit_date"] = int(time.time())
            self._messages[(chat_id, params["message_id"])] = edited
            return _ok(edited)
        if method == "deleteMessage":
            self._find_message(params, "message to delete not found")
            del self._messages[(chat_id, params["message_id"])]
            return _ok(True)
        if method in ("setMyCommands", "deleteMyCommands", "getMyCommands"):
            key = (json.dumps(params.get("scope", {"type": "default"}), sort_keys=True),
                   params.get("language_code", ""))  # fmt: skip
            if method == "setMyCommands":
                self.commands[key] = params["commands"]
            elif method == "deleteMyCommands":
                self.commands.pop(key, None)
            else:
                return _ok(self.commands.get(key, []))
            return _ok(True)
        if method == "setWebhook":
            self.webhook = dict(params)
            return _ok(True)
        if method == "deleteWebhook":
            self.webhook = {}
            if params.get("drop_pending_updates"):
                self._updates.clear()
            return _ok(True)
        if method == "getWebhookInfo":
            info = {"url": self.webhook.get("url", ""), "has_custom_certificate": False,
                    "pending_update_count": len(self._updates)}  # fmt: skip
            return _ok(info)
        if method == "getUpdates":
            if self.webhook.get("url"):
                return _Outcome(409, {"ok": False, "error_code": 409, "description": (
                    "Conflict: can't use getUpdates method while webhook is active; "
                    "use deleteWebhook to delete the webhook first")})  # fmt: skip
            return _ok(await self._get_updates(params))
        return _ok(True)

    def _store_message(self, params: dict[str, Any], chat_id: Any, *, text: str) -> dict:
        message_id = self._next_message_id.get(chat_id, 1)
        self._next_message_id[chat_id] = message_id + 1
        message: dict[str, Any] = {
            "message_id": message_id,
            "from": self.bot_user,
            "chat": _chat_object(chat_id),
            "date": int(time.time()),
            "text": text,
        }
        if "reply_markup" in params and "inline_keyboard" in params["reply_markup"]:
            message["reply_markup"] = params["reply_markup"]
        self._messages[(chat_id, message_id)] = message
        return message

    def _find_message(self, params: dict[str, Any], missing: str) -> dict[str, Any]:
        if "chat_id" not in params or "message_id" not in params:
            raise ValidationError("chat_id and message_id are required here")
        message = self._messages.get((params["chat_id"], params["message_id"]))
        if message is None:
            raise ValidationError(missing)
        return message

    async def _get_updates(self, params: dict[str, Any]) -> list[dict[str, Any]]:
        assert self._update_event is not None and self._stopping is not None
        offset = params.get("offset")
        if offset is not None:  # confirms every update before offset
            self._updates = [u for u in self._updates if u["update_id"] >= offset]
        limit = max(1, min(100, params.get("limit", 100)))
        deadline = time.monotonic() + max(0, params.get("timeout", 0))
        while True:
            if self._updates:
                return self._updates[:limit]
            remaining = deadline - time.monotonic()
            if remaining <= 0 or self._stopping.is_set():
                return []
            self._update_event.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._update_event.wait(), remaining)

    # -- control endpoints (standalone mode) ------------------------------

    async def _control(self, request: web.Request) -> web.Response:
        """POST /_fake/fail_next|block_chat|unblock_chat|push_update|reset with a JSON body;
        GET /_fake/calls|failed_calls|invalid_requests."""
        action = request.match_info["action"]
        body = await request.json() if request.can_read_body else {}
        if action == "fail_next":
            self.fail_next(**body)
        elif action == "block_chat":
            self.block_chat(body["chat_id"])
        elif action == "unblock_chat":
            self.unblock_chat(body["chat_id"])
        elif action == "push_update":
            return _json(200, self.push_update(body))
        elif action == "reset":
            self.reset()
        elif action in ("calls", "failed_calls", "invalid_requests"):
            return web.Response(
                text=json.dumps([asdict(c) for c in getattr(self, action)], default=str),
                content_type="application/json",
            )
        else:
            return _json(404, {"ok": False, "description": f"no control {action!r}"})
        return _json(200, {"ok": True})


def _ok(result: Any) -> _Outcome:
    return _Outcome(200, {"ok": True, "result": result})


def _json(status: int, body: dict[str, Any]) -> web.Response:
    return web.Response(
        status=status, body=json.dumps(body).encode(), content_type="application/json"
    )


async def _read_params(request: web.Request) -> tuple[dict[str, Any], bool]:
    """Returns the parameters and whether they came as strings (query/form/multipart)."""
    params: dict[str, Any] = dict(request.query)
    from_form = True
    if request.can_read_body:
        ctype = request.content_type
        if ctype == "application/json":
            try:
                body = await request.json()
            except ValueError:
                raise ValidationError("can't parse JSON body") from None
            if not isinstance(body, dict):
                raise ValidationError("JSON body must be an object")
            if params:  # mixing query strings and typed JSON: keep it simple, refuse
                raise ValidationError("parameters both in the query string and the JSON body")
            return body, False
        if ctype in ("application/x-www-form-urlencoded", "multipart/form-data"):
            form = await request.post()
            for key in form:
                params[key] = form[key]
        elif ctype and await request.read():
            raise ValidationError(f"unsupported Content-Type {ctype!r}")
    return params, from_form


# --------------------------------------------------------------------------- standalone


async def _serve(args: argparse.Namespace) -> None:
    fake = FakeBotApi(token=args.token, host=args.host, port=args.port, record_path=args.record)
    await fake.start()
    if args.print_port:
        print(fake.port, flush=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()
    await fake.stop()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Fake Telegram Bot API server")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--token", default=FAKE_TOKEN)
    parser.add_argument("--print-port", action="store_true", help="print the port on line 1")
    parser.add_argument("--record", help="append one JSON line per accepted sendMessage")
    args = parser.parse_args(argv)
    asyncio.run(_serve(args))
    sys.exit(0)


if __name__ == "__main__":
    main()
