"""The web app's server side: the notification service it runs (``processes.serve``, as
``drive-assist run`` does), the HTTP routes that turn a sign-in hand-off code into the session
cookie and sign out, and the guards around the backend (``webapp.origin_guard``; private state
files). The process's ``Container`` is in ``webapp.container``.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import hashlib
import logging
import os
import tempfile
from collections.abc import AsyncIterator
from pathlib import Path
from typing import IO

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import RedirectResponse
from starlette.routing import Route
from starlette.types import ASGIApp

from core.bootstrap import UnsafeSecrets, check_production_secrets
from core.errors import SignInFailed
from core.services import auth, device_pins
from processes.serve import log_progress_to_stdout, serve_notifications
from webapp import held, routes
from webapp.container import container
from webapp.origin_guard import OriginGuard
from webapp.state import (
    DEVICE_COOKIE,
    SESSION_COOKIE,
    cookie_from_header,
    session_token_from_cookie_header,
)

log = logging.getLogger(__name__)

LOCAL_HOSTS = {"localhost", "127.0.0.1", "::1"}
# The session lives on the server (idle timeout there); the cookie only lasts the browser session.
SESSION_COOKIE_PATH = "/"
DEVICE_COOKIE_MAX_AGE = 400 * 24 * 3600  # the most browsers keep a cookie for


def protect_state_files() -> None:
    """Keep Reflex's stored page state readable by this account only.

    Reflex pickles each tab's state into files under its states folder (``.states/``, or
    ``REFLEX_STATES_WORKDIR``) with the process's umask, 0644 by default: readable by every
    local user. Everything this process creates from now on is private to its account
    (umask 077), and the folder itself is closed to others, files written by earlier runs
    included. (Victims' details and subject access bundles are not written there at all:
    ``webapp.pages.case``, ``webapp.pages.sar``.)
    """
    from reflex_base.environment import environment

    os.umask(0o077)
    states = Path(environment.REFLEX_STATES_WORKDIR.get())
    states.mkdir(mode=0o700, parents=True, exist_ok=True)
    states.chmod(0o700)


def _notifications_lock_path(database_url: str) -> Path:
    digest = hashlib.sha256(database_url.encode()).hexdigest()[:16]
    return Path(tempfile.gettempdir()) / f"drive-assist-notifications-{digest}.lock"


def _take_notifications_lock(database_url: str) -> IO[bytes] | None:
    """An exclusive lock per database on this machine; None when another worker holds it.

    With Redis, Reflex runs several backend workers, each with this lifespan task. Only one
    of them may run the service: the bot's long polling must be one process, and on SQLite one
    dispatcher is enough. The operating system drops the lock when its holder exits.
    """
    handle = _notifications_lock_path(database_url).open("ab")
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        handle.close()
        return None
    return handle


@contextlib.asynccontextmanager
async def notifications_lifespan() -> AsyncIterator[None]:
    """Send notifications (and run the bot with a token) while the backend is up.

    Off with ``WEB_RUN_NOTIFICATIONS=false``, for deployments where ``drive-assist worker``
    (and ``drive-assist bot run``) do it in processes of their own.
    """
    app_container = container()
    settings = app_container.settings
    # `drive-assist run` checks the secrets before it starts Reflex; this catches every other
    # way of starting the backend (`reflex run` by hand): it does not serve with unsafe ones.
    try:
        check_production_secrets(
            settings,
            needs_totp_keys=True,
            needs_checkpoint_key=settings.web_run_notifications,  # it writes the checkpoints
            needs_public_url=True,  # its Admin and Staff sign-in pages make invitation links
        )
    except UnsafeSecrets as error:
        for problem in error.problems:
            log.critical("unsafe secret: %s is %s; the web app will not start", problem.setting,
                         problem.problem)  # fmt: skip
        await app_container.dispose()
        raise
    lock = None
    if settings.web_run_notifications:
        lock = _take_notifications_lock(settings.normalised_database_url())
        if lock is None:
            log.info("another backend worker sends the notifications")
    if lock is None:
        try:
            yield
        finally:
            await app_container.dispose()
        return
    log_progress_to_stdout()  # into the server's log, beside Reflex's own lines
    stop = asyncio.Event()
    task = asyncio.create_task(serve_notifications(app_container, stop), name="notifications")
    task.add_done_callback(_log_failure)
    try:
        yield
    finally:
        stop.set()  # the dispatcher finishes the sends in flight, then the task ends
        with contextlib.suppress(Exception):  # a failure was logged when it happened
            await task
        lock.close()
        await app_container.dispose()


def _log_failure(task: asyncio.Task[None]) -> None:
    """Say at once when the notification service stops early (the web app goes on)."""
    if not task.cancelled() and (error := task.exception()) is not None:
        log.error("the notification service stopped", exc_info=error)


def _is_local(request: Request) -> bool:
    return (request.url.hostname or "") in LOCAL_HOSTS


async def session_from_handoff(request: Request) -> RedirectResponse:
    """``GET /auth/session?code=...``: swap a one-time hand-off code for the session cookie.

    The cookie is HttpOnly (no script can read it), SameSite=Strict, and Secure everywhere but
    on localhost (plain HTTP there in development and tests).
    """
    code = request.query_params.get("code", "")
    if not code:
        return RedirectResponse(routes.SIGN_IN, status_code=303)
    try:
        token = await auth.redeem_handoff(uow=container().uow(), code=code)
    except SignInFailed:  # used, expired or made up: sign in again
        return RedirectResponse(routes.SIGN_IN, status_code=303)
    response = RedirectResponse(routes.TODAY, status_code=303)
    response.set_cookie(
        SESSION_COOKIE,
        str(token),
        path=SESSION_COOKIE_PATH,
        httponly=True,
        samesite="strict",
        secure=not _is_local(request),
    )
    _give_device_id(request, response)
    return response


def _give_device_id(request: Request, response: RedirectResponse) -> None:
    """A browser signing in without a device id gets one: random, in its own cookie, HttpOnly,
    SameSite=Strict, Secure but on localhost, kept across browser restarts. A device PIN is
    bound to it (``core.services.device_pins``; only its hash is stored); it says nothing about
    the person and is kept through sign-out, so a PIN set later is for this device."""
    if device_pins.is_device_id(cookie_from_header(request.headers.get("cookie"), DEVICE_COOKIE)):
        return
    response.set_cookie(
        DEVICE_COOKIE,
        device_pins.new_device_id(),
        max_age=DEVICE_COOKIE_MAX_AGE,
        path=SESSION_COOKIE_PATH,
        httponly=True,
        samesite="strict",
        secure=not _is_local(request),
    )


async def sign_out(request: Request) -> RedirectResponse:
    """``POST /auth/sign-out``: end the session on the server and drop the cookie.

    A POST (a form button), so a link or an image on another site cannot sign anyone out; the
    cookie is SameSite=Strict as well.
    """
    token = session_token_from_cookie_header(request.headers.get("cookie"))
    if token:
        await auth.sign_out(uow=container().uow(), token=token)
    response = RedirectResponse(routes.SIGN_IN, status_code=303)
    response.delete_cookie(
        SESSION_COOKIE,
        path=SESSION_COOKIE_PATH,
        httponly=True,
        samesite="strict",
        secure=not _is_local(request),
    )
    return response


def api() -> Starlette:
    """Routes served beside Reflex's own, on the same port."""
    return Starlette(
        routes=[
            Route(routes.AUTH_SESSION, session_from_handoff, methods=["GET"]),
            Route(routes.SIGN_OUT, sign_out, methods=["POST"]),
            Route(routes.HELD, held.send_held, methods=["POST"]),
            Route(routes.HELD_KEY, held.held_key, methods=["POST"]),
        ]
    )


def refuse_foreign_origins(app: ASGIApp) -> ASGIApp:
    """The whole backend behind ``OriginGuard``: only the app's own pages may use it."""
    return OriginGuard(app, allowed=lambda: container().settings.allowed_web_origins())
