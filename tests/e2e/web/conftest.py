"""Browser tests of the web app: the real entry point in production mode, and Debian's chromium.

``web_app`` starts ``drive-assist run`` (migrate, seed the demo into a fresh SQLite file, build
and serve the Reflex app on one free port) once per test session. The first build of a clone
installs the frontend packages and takes about a minute; later ones use bun's cache. Every
started app builds in its own temporary folder, never the repository's ``.web/``.

Chromium is Debian's (``/usr/bin/chromium``, installed by ``.ci/run``); never
``playwright install``. With ``CI=true`` a missing browser fails the run instead of skipping.
Screenshots go to ``var/test-artefacts/screenshots/``.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from playwright.async_api import Browser, BrowserContext, Page, async_playwright
from playwright.async_api import Error as PlaywrightError

from core.settings import PROJECT_ROOT
from tests.conftest import IN_CI

CHROMIUM = Path("/usr/bin/chromium")
SCREENSHOTS = PROJECT_ROOT / "var" / "test-artefacts" / "screenshots"
VIEWPORTS = {"phone": {"width": 390, "height": 844}, "desktop": {"width": 1280, "height": 800}}
START_TIMEOUT_SECONDS = 900  # a first build on a slow machine; a warm start takes seconds
REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/0")


def _missing(message: str) -> None:
    if IN_CI:
        pytest.fail(message + " (CI=true: a missing dependency fails the run)", pytrace=False)
    pytest.skip(message)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class RunningApp:
    url: str
    process: subprocess.Popen[bytes]
    log: Path
    database_url: str

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    @property
    def localhost_url(self) -> str:
        """The same app at ``http://localhost:PORT``: WebAuthn refuses an IP address as the
        passkeys' RP ID, so passkey tests open the app by name (``WEB_RP_ID=localhost``)."""
        return self.url.replace("://127.0.0.1:", "://localhost:", 1)


def _answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.status == 200
    except (urllib.error.URLError, OSError):
        return False


def start_app(workdir: Path, *, extra_env: dict[str, str] | None = None) -> RunningApp:
    """``drive-assist run`` on a fresh SQLite file and a free port, once it answers.

    Its pages may be opened at 127.0.0.1 or at localhost (the origins allowed); passkeys use
    the RP ID ``localhost``, as WebAuthn takes no IP address.
    """
    port = free_port()
    log = workdir / "app.log"
    database_url = f"sqlite+aiosqlite:///{workdir / 'web.sqlite3'}"
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "COLUMNS": "200",
        "DEMO_MODE": "true",  # the demo data and its sign-ins
        # Each app builds its frontend in its own folder: a production build bakes in the
        # backend's port, so a second app building into a shared .web would repoint the pages
        # the first app is still serving at the second one's backend.
        "REFLEX_WEB_WORKDIR": str(workdir / ".web"),
        "REFLEX_STATES_WORKDIR": str(workdir / ".states"),
        "WEB_ALLOWED_ORIGINS": f"http://127.0.0.1:{port},http://localhost:{port}",
        "WEB_RP_ID": "localhost",
        # Invitation and reset links point at this app.
        "WEB_PUBLIC_URL": f"http://127.0.0.1:{port}",
        # As behind one reverse proxy, so a test can be two people at two addresses by sending
        # X-Forwarded-For (the sign-in throttle counts per client); a browser that sends none is
        # known by its socket's address, as before.
        "WEB_TRUSTED_PROXY_HOPS": "1",
        **(extra_env or {}),
    }
    env.pop("TELEGRAM_BOT_TOKEN", None)
    if "REDIS_URL" not in (extra_env or {}):
        env.pop("REDIS_URL", None)
    with log.open("wb") as sink:
        process = subprocess.Popen(
            [sys.executable, "-m", "cli", "run", "--port", str(port)],
            cwd=PROJECT_ROOT,
            env=env,
            stdout=sink,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # stop() signals Reflex and its workers as one group
        )
    app = RunningApp(
        url=f"http://127.0.0.1:{port}", process=process, log=log, database_url=database_url
    )
    _apps[app.url] = _apps[app.localhost_url] = app
    deadline = time.monotonic() + START_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the app exited with {process.returncode}:\n{app.output()}")
        if _answers(f"{app.url}/ping") and _answers(f"{app.url}/sign-in/"):
            return app
        time.sleep(1)
    stop_app(app)
    raise RuntimeError(f"the app did not answer within {START_TIMEOUT_SECONDS} s:\n{app.output()}")


def stop_app(app: RunningApp) -> None:
    if app.process.poll() is not None:
        return
    os.killpg(app.process.pid, signal.SIGINT)
    try:
        app.process.wait(timeout=60)
    except subprocess.TimeoutExpired:
        os.killpg(app.process.pid, signal.SIGKILL)
        app.process.wait(timeout=30)


@pytest.fixture(scope="session")
def chromium_path() -> Path:
    if not os.access(CHROMIUM, os.X_OK):
        _missing(f"{CHROMIUM} is missing; install Debian's chromium (apt-get install chromium)")
    return CHROMIUM


@dataclass
class FakeNotifyProcess:
    """The fake GOV.UK Notify API (tests.fakes.notify_api) in a process of its own, so it
    answers the app whatever the test's event loop is doing."""

    process: subprocess.Popen[bytes]
    url: str

    def settings_env(self) -> dict[str, str]:
        from tests.fakes.notify_api import API_KEY, EMAIL_TEMPLATE_ID, SMS_TEMPLATE_ID

        return {
            "NOTIFY_API_KEY": API_KEY,
            "NOTIFY_BASE_URL": self.url,
            "NOTIFY_EMAIL_TEMPLATE_ID": EMAIL_TEMPLATE_ID,
            "NOTIFY_SMS_TEMPLATE_ID": SMS_TEMPLATE_ID,
        }

    def sent_to(self, address: str, *, within: float = 30.0) -> list[dict[str, Any]]:
        """The messages Notify accepted for ``address``; waits for at least one."""
        deadline = time.monotonic() + within
        while True:
            with urllib.request.urlopen(f"{self.url}/_fake/sent", timeout=5) as response:
                sent = json.loads(response.read())["sent"]
            found = [message for message in sent if message["to"] == address]
            if found or time.monotonic() > deadline:
                return found
            time.sleep(0.5)


@pytest.fixture(scope="session")
def notify_api() -> Iterator[FakeNotifyProcess]:
    process = subprocess.Popen(
        [sys.executable, "-m", "tests.fakes.notify_api", "--port", "0", "--print-port"],
        cwd=PROJECT_ROOT,
        stdout=subprocess.PIPE,
    )
    assert process.stdout is not None
    port = int(process.stdout.readline().decode().strip())
    try:
        yield FakeNotifyProcess(process, f"http://127.0.0.1:{port}")
    finally:
        process.terminate()
        process.wait(timeout=30)


@pytest.fixture(scope="session")
def running_app(
    chromium_path: Path, tmp_path_factory: pytest.TempPathFactory, notify_api: FakeNotifyProcess
) -> Iterator[RunningApp]:
    """The app with the demo data (SQLite, state on disk, one backend worker), sending email
    through the fake GOV.UK Notify."""
    app = start_app(tmp_path_factory.mktemp("web"), extra_env=notify_api.settings_env())
    try:
        yield app
    finally:
        stop_app(app)


@pytest.fixture(scope="session")
def web_app(running_app: RunningApp) -> str:
    """The running app's base URL."""
    return running_app.url


def redis_reachable(url: str) -> bool:
    import redis

    try:
        client = redis.Redis.from_url(url, socket_timeout=3)
        client.ping()
        client.close()
    except redis.RedisError:
        return False
    return True


@pytest.fixture(scope="session")
async def browser(chromium_path: Path) -> AsyncIterator[Browser]:
    async with async_playwright() as playwright:
        launched = await playwright.chromium.launch(executable_path=str(chromium_path))
        yield launched
        await launched.close()


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """A test using ``context`` (or ``page``) runs at phone and at desktop size; one marked
    ``phone_only`` (what it shows does not depend on the page's width) at phone size only."""
    if "context" in metafunc.fixturenames:
        phone_only = metafunc.definition.get_closest_marker("phone_only") is not None
        sizes = ["phone"] if phone_only else list(VIEWPORTS)
        metafunc.parametrize("context", sizes, indirect=True)


@pytest.fixture
async def context(
    browser: Browser, request: pytest.FixtureRequest
) -> AsyncIterator[BrowserContext]:
    """A fresh browser (no cookies) at the size ``pytest_generate_tests`` chose."""
    made = await browser.new_context(viewport=VIEWPORTS[request.param], locale="en-GB")
    made.viewport_name = request.param  # type: ignore[attr-defined]
    yield made
    await made.close()


@pytest.fixture
async def page(context: BrowserContext) -> AsyncIterator[Page]:
    yield await context.new_page()


async def screenshot(page: Page, name: str) -> Path:
    """Save a full-page screenshot as a test artefact; its path."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    width = page.viewport_size["width"] if page.viewport_size else 0
    path = SCREENSHOTS / f"{name}-{width}px.png"
    await page.screenshot(path=str(path), full_page=True)
    return path


# --- Signing in as a demo account -----------------------------------------------------------

_last_step: dict[str, int] = {}


def next_totp_code(email: str) -> str:
    """A code core will accept now for the demo account ``email``.

    Core refuses a code whose 30 s step is not later than the last one it accepted for the
    account, and accepts one step either side of now; so a test that signs in twice within one
    step uses the next step's code instead of waiting.
    """
    import pyotp

    from seeding.demo import demo_totp_secret

    now_step = int(time.time() // 30)
    step = max(now_step, _last_step.get(email, now_step - 1) + 1)
    if step > now_step + 1:  # two sign-ins in this step already: wait for the clock
        time.sleep((step - 1) * 30 - time.time() + 0.5)
        now_step = step - 1
    _last_step[email] = step
    return pyotp.TOTP(demo_totp_secret(email)).at(step * 30)


# Sessions already signed in, by app address and account: the ``da_session`` cookie.
_sessions: dict[tuple[str, str], Any] = {}
# Every app started (by each address it answers at), for its database.
_apps: dict[str, RunningApp] = {}


async def _session_still_live(base_url: str, token: str) -> bool:
    """Whether core still accepts the session (not signed out, idled out or revoked)."""
    from core.bootstrap import bootstrap
    from core.services import auth
    from core.settings import Settings

    container = bootstrap(Settings(database_url=_apps[base_url].database_url))
    try:
        actor = await auth.actor_for_session(
            uow=container.uow(), token=token, settings=container.settings
        )
    finally:
        await container.dispose()
    return actor is not None


async def sign_in_as(page: Page, base_url: str, email: str, *, fresh: bool = False) -> None:
    """Signed in as a demo account, on the Today page.

    The first time for an app and account this signs in through the sign-in page; later calls
    give the page's browser that session's cookie while core still accepts the session (one
    signed out, idled out or revoked is signed in again). Signing in takes seconds, and core
    takes each 30 s code step once per account, so a third sign-in as one account within a
    step would wait for the clock. ``fresh``: through the sign-in page whatever is cached (for
    a test of signing in itself).
    """
    cached = None if fresh else _sessions.get((base_url, email))
    if cached is not None and await _session_still_live(base_url, cached["value"]):
        await page.context.add_cookies([cached])
        try:
            await page.goto(f"{base_url}/")
            await page.wait_for_url(f"{base_url}/", timeout=30_000)
            # A fresh load: the menu offers Today once the page has connected and the session
            # check has run (it holds only what core offers), so a click now is not lost.
            await page.locator("nav a.nav-link[href='/']").wait_for(
                state="attached", timeout=30_000
            )
            return
        except PlaywrightError as error:
            # The app sent the tab to sign in after all (seen once in 11 runs of a file, as
            # "net::ERR_ABORTED" on the wait): sign in through the page, as a person would.
            if "ERR_ABORTED" not in str(error):
                raise
    await _sign_in_through_the_page(page, base_url, email)
    if base_url in _apps:
        cookie = next(
            (c for c in await page.context.cookies(base_url) if c["name"] == "da_session"), None
        )
        if cookie is not None:
            _sessions[(base_url, email)] = cookie


async def _sign_in_through_the_page(page: Page, base_url: str, email: str) -> None:
    from seeding.demo import DEMO_PASSWORD

    await page.goto(f"{base_url}/sign-in")
    await page.get_by_label("Email address").fill(email)
    await page.get_by_label("Password").fill(DEMO_PASSWORD)
    await page.get_by_label("6-digit code").fill(next_totp_code(email))
    await page.get_by_role("button", name="Sign in", exact=True).click()
    try:
        await page.wait_for_url(f"{base_url}/", timeout=30_000)
    except Exception as error:  # say why: the page's error summary, if it shows one
        summary = await page.locator("#error-summary").all_inner_texts()
        raise AssertionError(f"signing in as {email} did not reach Today: {summary}") from error


async def open_menu(page: Page) -> bool:
    """Open the main menu when it is folded (a phone); from tablet width it is always shown.
    True when that took a tap."""
    toggle = page.locator("summary.nav-toggle")
    if await toggle.is_visible() and await page.locator("details.nav-menu[open]").count() == 0:
        await toggle.click()
        return True
    return False
