"""Refuse every request to the web backend that a page of another origin makes.

Reflex's Socket.IO endpoint, like any WebSocket, is not covered by the browser's same-origin
policy, and the session cookie's SameSite=Strict does not separate origins of one *site*
(another port of the same host, a sibling subdomain). Without this guard a page served at
``http://127.0.0.1:8999`` could open a socket to the app at ``127.0.0.1:3000`` while a member
of staff is signed in, and read what their session may see.

So this ASGI wrapper, outermost around the whole backend (the socket, the frontend's files
and the routes in ``webapp.backend``), looks at the ``Origin`` header a browser sends:

- a WebSocket handshake must carry an allowed ``Origin`` (every browser sends one);
- an HTTP request that carries an ``Origin`` must carry an allowed one (browsers send it on
  cross-origin requests and on every POST; a plain navigation sends none and is let through:
  it cannot read anything it was not already allowed to).

Allowed means listed in ``WEB_ALLOWED_ORIGINS`` (``core.settings``), or, when that is empty,
the origin the app is served on: the request's own ``Host``. A refusal is answered with 403
and logged (origin and path, never a cookie or token).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from urllib.parse import urlsplit

from starlette.types import ASGIApp, Receive, Scope, Send

log = logging.getLogger(__name__)


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", ()):
        if key == name:
            return bytes(value).decode("latin-1")
    return None


def origin_allowed(origin: str, host: str | None, allowed: frozenset[str]) -> bool:
    """Whether a page at ``origin`` may talk to the app reached as ``host``.

    With ``allowed`` set, exactly those origins; otherwise the origin whose host and port are
    the request's own ``Host`` (what the browser's address bar showed when it loaded the app).
    """
    origin = origin.strip().lower()
    if allowed:
        return origin in allowed
    parts = urlsplit(origin)
    if parts.scheme not in {"http", "https"} or not parts.netloc or host is None:
        return False
    default_port = {"http": 80, "https": 443}[parts.scheme]
    origin_netloc = parts.netloc if parts.port not in (None, default_port) else parts.hostname
    host = host.strip().lower()
    if host.endswith(f":{default_port}"):
        host = host[: -len(f":{default_port}")]
    return origin_netloc == host


class OriginGuard:
    """ASGI middleware: 403 for a request from a page of an origin that is not allowed."""

    def __init__(self, app: ASGIApp, allowed: Callable[[], frozenset[str]]) -> None:
        self.app = app
        self._allowed = allowed

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        kind = scope["type"]
        if kind not in {"http", "websocket"}:
            await self.app(scope, receive, send)
            return
        origin = _header(scope, b"origin")
        if origin is None and kind == "http":
            await self.app(scope, receive, send)
            return
        if origin is not None and origin_allowed(origin, _header(scope, b"host"), self._allowed()):
            await self.app(scope, receive, send)
            return
        log.warning(
            "refused a %s request to %s from origin %s",
            "websocket" if kind == "websocket" else scope.get("method", "HTTP"),
            scope.get("path", ""),
            origin if origin is not None else "(none)",
        )
        if kind == "websocket":
            await receive()  # the websocket.connect message; closing before accept is a 403
            await send({"type": "websocket.close", "code": 1008})
            return
        body = b"This page may not be used from another site."
        await send(
            {
                "type": "http.response.start",
                "status": 403,
                "headers": [
                    (b"content-type", b"text/plain; charset=utf-8"),
                    (b"content-length", str(len(body)).encode()),
                    (b"cache-control", b"no-store"),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})
