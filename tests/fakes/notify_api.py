"""A fake GOV.UK Notify API on 127.0.0.1 for tests: it checks each request's shape and signs
nothing real.

It serves the two endpoints Drive Assist uses, ``POST /v2/notifications/email`` and
``POST /v2/notifications/sms``, and checks every request as Notify does: the bearer token is a
JWT (HS256, ``typ`` JWT) issued by the API key's service id, signed with the key's secret and
issued within 30 seconds; the body is a JSON object with only the fields Notify knows, a
known template of the right type, every placeholder of that template given, a valid email
address or UK mobile number, and a text message no longer than Notify takes. A request that
fails gets Notify's error shape (400 or 403) and lands in ``rejected``; one that passes is kept
in ``sent`` and answered with Notify's 201 response. It also keeps Notify's rate limit (3,000
requests a minute by default) and can fail on demand (``fail_next``).

    async with FakeNotifyApi() as notify:
        settings = Settings(notify_api_key=notify.api_key, notify_base_url=notify.url,
                            notify_email_template_id=notify.email_template_id,
                            notify_sms_template_id=notify.sms_template_id)

Standalone (own process; port on stdout line 1; serves until SIGTERM)::

    python -m tests.fakes.notify_api --port 0 --print-port

A process that cannot share the test's memory reads what arrived at ``GET /_fake/sent``.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import re
import signal
import time
import uuid
from collections import deque
from dataclasses import asdict, dataclass, field
from typing import Any

import jwt
from aiohttp import web

SERVICE_ID = "5f0c4b4e-0000-4000-8000-00000000d71e"
SECRET = "c0ffee00-0000-4000-8000-0000000fa4e5"
API_KEY = f"drive_assist_tests-{SERVICE_ID}-{SECRET}"
EMAIL_TEMPLATE_ID = "e3a11e00-0000-4000-8000-00000000e3a1"
SMS_TEMPLATE_ID = "5e500000-0000-4000-8000-0000000005e5"
TOKEN_BOUND_SECONDS = 30
SMS_MAX_CHARACTERS = 918  # Notify's limit: 6 fragments of a text message
RATE_LIMIT_PER_MINUTE = 3000

_EMAIL = re.compile(r"^[^\s@]+@[^\s@]+\.[^\s@]+$")
_UK_MOBILE = re.compile(r"^(?:\+44\s?7|0044\s?7|07)\d{3}\s?\d{6}$")
_PLACEHOLDER = re.compile(r"\(\(([^()]+)\)\)")

_FIELDS = {
    "email": (
        {"email_address", "template_id"},
        {"personalisation", "reference", "email_reply_to_id", "one_click_unsubscribe_url"},
    ),
    "sms": ({"phone_number", "template_id"}, {"personalisation", "reference", "sms_sender_id"}),
}


@dataclass
class Template:
    id: str
    type: str  # "email" or "sms"
    body: str
    subject: str | None = None

    def placeholders(self) -> set[str]:
        text = (self.subject or "") + self.body
        return {name.strip().lower() for name in _PLACEHOLDER.findall(text)}

    def render(self, personalisation: dict[str, Any]) -> tuple[str | None, str]:
        values = {str(k).lower(): str(v) for k, v in personalisation.items()}

        def fill(text: str) -> str:
            return _PLACEHOLDER.sub(lambda m: values[m.group(1).strip().lower()], text)

        return (fill(self.subject) if self.subject else None), fill(self.body)


@dataclass
class Sent:
    """A message Notify accepted."""

    id: str
    type: str
    to: str
    template_id: str
    personalisation: dict[str, Any]
    reference: str | None
    subject: str | None
    body: str
    at: float


@dataclass
class Rejected:
    path: str
    status: int
    error: str
    message: str
    body: Any = None


@dataclass
class _Fault:
    status: int
    remaining: int
    error: str
    message: str


@dataclass
class FakeNotifyApi:
    host: str = "127.0.0.1"
    port: int = 0
    rate_limit_per_minute: int = RATE_LIMIT_PER_MINUTE
    templates: dict[str, Template] = field(
        default_factory=lambda: {
            EMAIL_TEMPLATE_ID: Template(EMAIL_TEMPLATE_ID, "email", "((body))", "((subject))"),
            SMS_TEMPLATE_ID: Template(SMS_TEMPLATE_ID, "sms", "((body))"),
        }
    )
    sent: list[Sent] = field(default_factory=list)
    rejected: list[Rejected] = field(default_factory=list)
    _faults: list[_Fault] = field(default_factory=list)
    _recent: deque[float] = field(default_factory=deque)
    _runner: web.AppRunner | None = None
    _arrived: asyncio.Condition | None = None

    api_key = API_KEY
    email_template_id = EMAIL_TEMPLATE_ID
    sms_template_id = SMS_TEMPLATE_ID

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def settings_env(self) -> dict[str, str]:
        """The environment a process needs to send through this fake."""
        return {
            "NOTIFY_API_KEY": self.api_key,
            "NOTIFY_BASE_URL": self.url,
            "NOTIFY_EMAIL_TEMPLATE_ID": self.email_template_id,
            "NOTIFY_SMS_TEMPLATE_ID": self.sms_template_id,
        }

    # -- lifecycle ---------------------------------------------------------

    async def start(self) -> FakeNotifyApi:
        self._arrived = asyncio.Condition()
        app = web.Application()
        app.router.add_route("GET", "/_fake/sent", self._control_sent)
        app.router.add_route("POST", "/v2/notifications/{kind}", self._handle)
        app.router.add_route("*", "/{tail:.*}", self._not_found)
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=0.5)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, self.port)
        await site.start()
        self.port = self._runner.addresses[0][1]
        return self

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> FakeNotifyApi:
        return await self.start()

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    # -- test controls -----------------------------------------------------

    def fail_next(
        self, status: int, *, times: int = 1, error: str | None = None, message: str = "failed"
    ) -> None:
        """The next ``times`` well-formed requests get ``status`` with Notify's error shape."""
        default = {400: "BadRequestError", 403: "AuthError", 429: "RateLimitError"}
        name = error or default.get(status, "Exception")
        self._faults.append(_Fault(status, times, name, message))

    async def wait_for(self, count: int, within: float = 10.0) -> list[Sent]:
        """Wait until at least ``count`` messages were accepted; return them all."""
        assert self._arrived is not None
        async with asyncio.timeout(within), self._arrived:
            await self._arrived.wait_for(lambda: len(self.sent) >= count)
        return list(self.sent)

    # -- handlers ----------------------------------------------------------

    async def _control_sent(self, request: web.Request) -> web.Response:
        return web.json_response(
            {
                "sent": [asdict(s) for s in self.sent],
                "rejected": [asdict(r) for r in self.rejected],
            }
        )

    async def _not_found(self, request: web.Request) -> web.Response:
        return self._error(request.path, 404, "ResourceNotFound", "Not found", None)

    async def _handle(self, request: web.Request) -> web.Response:
        kind = request.match_info["kind"]
        if kind not in _FIELDS:
            return self._error(request.path, 404, "ResourceNotFound", "Not found", None)
        problem = self._check_token(request.headers.get("Authorization", ""))
        if problem:
            return self._error(request.path, 403, "AuthError", problem, None)
        if not request.content_type == "application/json":
            return self._error(request.path, 400, "BadRequestError", "Not JSON", None)
        try:
            body = json.loads(await request.text())
        except ValueError:
            return self._error(request.path, 400, "BadRequestError", "Invalid JSON", None)
        problem = self._check_body(kind, body)
        if problem:
            return self._error(request.path, 400, "ValidationError", problem, body)
        now = time.monotonic()
        while self._recent and now - self._recent[0] > 60:
            self._recent.popleft()
        if len(self._recent) >= self.rate_limit_per_minute:
            limit = self.rate_limit_per_minute
            message = f"Exceeded rate limit for key type LIVE of {limit} requests per 60 seconds"
            return self._error(request.path, 429, "RateLimitError", message, None)
        self._recent.append(now)
        for fault in self._faults:
            if fault.remaining > 0:
                fault.remaining -= 1
                return self._error(request.path, fault.status, fault.error, fault.message, body)
        return await self._accept(kind, body)

    def _check_token(self, header: str) -> str | None:
        scheme, _, token = header.partition(" ")
        if scheme != "Bearer" or not token:
            return "Unauthorized: authentication token must be provided"
        try:
            headers = jwt.get_unverified_header(token)
            if headers.get("alg") != "HS256" or headers.get("typ") != "JWT":
                return "Invalid token: algorithm used is not HS256"
            claims = jwt.decode(token, SECRET, algorithms=["HS256"], options={"verify_iat": False})
        except jwt.InvalidSignatureError:
            return "Invalid token: API key not found"
        except jwt.PyJWTError:
            return "Invalid token: signature, api token is not valid"
        if claims.get("iss") != SERVICE_ID:
            return "Invalid token: service not found"
        issued = claims.get("iat")
        if not isinstance(issued, int) or abs(time.time() - issued) > TOKEN_BOUND_SECONDS:
            return "Error: Your system clock must be accurate to within 30 seconds"
        return None

    def _check_body(self, kind: str, body: Any) -> str | None:
        if not isinstance(body, dict):
            return "JSON body must be an object"
        required, optional = _FIELDS[kind]
        missing = sorted(required - body.keys())
        if missing:
            return f"{missing[0]} is a required property"
        unknown = sorted(body.keys() - required - optional)
        if unknown:
            return f"Additional properties are not allowed ({unknown[0]} was unexpected)"
        template = self.templates.get(str(body["template_id"]))
        if template is None or template.type != kind:
            return "template_id Template not found"
        personalisation = body.get("personalisation") or {}
        if not isinstance(personalisation, dict):
            return "personalisation must be an object"
        given = {str(k).lower() for k in personalisation}
        absent = sorted(template.placeholders() - given)
        if absent:
            return f"Missing personalisation: {', '.join(absent)}"
        reference = body.get("reference")
        if reference is not None and (not isinstance(reference, str) or len(reference) > 1000):
            return "reference must be a string of at most 1000 characters"
        if kind == "email":
            if not isinstance(body["email_address"], str) or not _EMAIL.match(
                body["email_address"]
            ):
                return "email_address Not a valid email address"
        else:
            number = body["phone_number"]
            if not isinstance(number, str) or not _UK_MOBILE.match(number.replace("-", "")):
                return "phone_number Not a UK mobile number"
            _, text = template.render(personalisation)
            if len(text) > SMS_MAX_CHARACTERS:
                return f"Text messages cannot be longer than {SMS_MAX_CHARACTERS} characters"
        return None

    async def _accept(self, kind: str, body: dict[str, Any]) -> web.Response:
        template = self.templates[str(body["template_id"])]
        personalisation = dict(body.get("personalisation") or {})
        subject, text = template.render(personalisation)
        notification_id = str(uuid.uuid4())
        to = body["email_address"] if kind == "email" else body["phone_number"]
        sent = Sent(
            notification_id,
            kind,
            to,
            template.id,
            personalisation,
            body.get("reference"),
            subject,
            text,
            time.time(),
        )
        assert self._arrived is not None
        async with self._arrived:
            self.sent.append(sent)
            self._arrived.notify_all()
        content: dict[str, Any] = {"body": text}
        if kind == "email":
            content |= {"subject": subject, "from_email": "drive.assist@notifications.invalid"}
        else:
            content |= {"from_number": "DRIVE"}
        return web.json_response(
            {
                "id": notification_id,
                "reference": body.get("reference"),
                "content": content,
                "uri": f"{self.url}/v2/notifications/{notification_id}",
                "template": {
                    "id": template.id,
                    "version": 1,
                    "uri": f"{self.url}/v2/template/{template.id}",
                },
            },
            status=201,
        )

    def _error(self, path: str, status: int, error: str, message: str, body: Any) -> web.Response:
        self.rejected.append(Rejected(path, status, error, message, body))
        return web.json_response(
            {"errors": [{"error": error, "message": message}], "status_code": status},
            status=status,
        )


async def _serve(args: argparse.Namespace) -> None:
    fake = await FakeNotifyApi(host=args.host, port=args.port).start()
    if args.print_port:
        print(fake.port, flush=True)
    stopping = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(sig, stopping.set)
    await stopping.wait()
    await fake.stop()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Fake GOV.UK Notify API server")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--print-port", action="store_true")
    asyncio.run(_serve(parser.parse_args(argv)))


if __name__ == "__main__":
    main()
