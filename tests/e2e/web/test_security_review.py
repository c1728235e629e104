"""What the outside security review tried against the running app, tried again (issue 17).

- Another origin (another port of 127.0.0.1 here; a sibling subdomain in a deployment) gets
  nothing from the backend: its socket handshake and its HTTP requests are refused and logged,
  even from the browser of a signed-in IDVA.
- A closed tab's token, presented without the session cookie, hydrates to an empty state: no
  victim's name crosses the socket.
- Reflex's stored page state is private to the app's account and never holds a victim's name.
- A subject access download after the session has ended returns nothing.

Each test opens its own browser context at phone width: what is checked here does not depend
on the page's layout.
"""

from __future__ import annotations

import asyncio
import http.server
import re
import stat
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from playwright.async_api import Browser, Download, expect
from sqlalchemy import select

from core.models import Case, LinkedPerson
from core.services import auth
from tests.e2e.web.conftest import VIEWPORTS, RunningApp, free_port, sign_in_as
from tests.e2e.web.test_alerts_panel import in_app_db
from tests.e2e.web.test_team_admin import in_english

FFION = "ffion.idva@demo.drive-assist.invalid"  # IDVA at both sites
ADMIN = "admin@demo.drive-assist.invalid"
SOCKET_PATH = "/_event/?EIO=4&transport=websocket"

# The review's attack: a page of another origin opens the app's socket while the person is
# signed in, and reports what came back.
ATTACKER_PAGE = """<!doctype html><html lang="en"><head><title>Another origin</title></head>
<body><p>Nothing to see here.</p></body></html>"""
PROBE = """async (target) => {
  const seen = {opened: false, messages: [], closed: false};
  await new Promise((done) => {
    let socket;
    try { socket = new WebSocket(target); } catch (error) { done(); return; }
    socket.onopen = () => { seen.opened = true; };
    socket.onmessage = (message) => { seen.messages.push(String(message.data)); };
    socket.onerror = () => {};
    socket.onclose = () => { seen.closed = true; done(); };
    setTimeout(done, 4000);
  });
  let read = null;
  try {
    const response = await fetch(target.replace(/^ws/, "http").split("/_event")[0] + "/ping",
                                 {credentials: "include"});
    read = await response.text();
  } catch (error) { read = null; }
  seen.read = read;
  return seen;
}"""


@pytest.fixture(scope="module")
def attacker_origin() -> Iterator[str]:
    """A page served on another port of 127.0.0.1: the same site, another origin."""

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 (the standard library's name)
            body = ATTACKER_PAGE.encode()
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: Any) -> None:
            return

    server = http.server.ThreadingHTTPServer(("127.0.0.1", free_port()), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


async def _case_with_named_victim(database_url: str) -> tuple[int, str]:
    async def work(container: Any) -> tuple[int, str]:
        async with container.session_factory() as session:
            row = (
                await session.execute(
                    select(Case.id, LinkedPerson.name)
                    .join(LinkedPerson, LinkedPerson.case_id == Case.id)
                    .where(LinkedPerson.name.is_not(None))
                    .order_by(Case.id)
                    .limit(1)
                )
            ).one()
        return int(row[0]), str(row[1])

    return await in_app_db(database_url, work)


async def test_the_backend_refuses_http_and_socket_requests_from_another_origin(
    running_app: RunningApp,
) -> None:
    own = running_app.url
    foreign = "http://127.0.0.1:8999"
    async with aiohttp.ClientSession() as http_client:
        async with http_client.get(f"{own}/ping", headers={"Origin": foreign}) as refused:
            assert refused.status == 403
        async with http_client.get(f"{own}/ping", headers={"Origin": own}) as allowed:
            assert allowed.status == 200
        async with http_client.get(f"{own}/ping") as plain:  # a navigation sends no Origin
            assert plain.status == 200

        socket_url = own.replace("http", "ws", 1) + SOCKET_PATH
        with pytest.raises(aiohttp.WSServerHandshakeError) as handshake:
            await http_client.ws_connect(socket_url, origin=foreign)
        assert handshake.value.status == 403
        async with http_client.ws_connect(socket_url, origin=own) as socket:
            opening = await socket.receive(timeout=10)
            assert str(opening.data).startswith("0{")  # Engine.IO's open packet
    assert f"refused a websocket request to /_event/ from origin {foreign}" in (
        running_app.output()
    )


async def test_a_page_on_another_port_gets_nothing_from_a_signed_in_idvas_socket(
    browser: Browser, running_app: RunningApp, attacker_origin: str
) -> None:
    context = await browser.new_context(viewport=VIEWPORTS["phone"], locale="en-GB")
    try:
        page = await context.new_page()
        await sign_in_as(page, running_app.url, FFION)  # the cookie is in this browser now
        await page.goto(f"{attacker_origin}/")
        target = running_app.url.replace("http", "ws", 1) + SOCKET_PATH
        seen = await page.evaluate(PROBE, target)
    finally:
        await context.close()
    assert seen["opened"] is False
    assert seen["messages"] == []
    assert seen["read"] is None  # the fetch was refused: nothing readable came back
    assert f"from origin {attacker_origin}" in running_app.output()


async def _idva_opens_the_case_and_closes_the_tab(
    browser: Browser, running_app: RunningApp
) -> tuple[int, str, str]:
    """An IDVA sees a case's victim, then closes the tab without signing out (her session
    stays live). The case id, the victim's name, and the closed tab's Reflex token."""
    case_id, victim = await _case_with_named_victim(running_app.database_url)
    await in_english(running_app.database_url, FFION)
    context = await browser.new_context(viewport=VIEWPORTS["phone"], locale="en-GB")
    try:
        tab = await context.new_page()
        await sign_in_as(tab, running_app.url, FFION)
        await tab.goto(f"{running_app.url}/case/{case_id}")
        await expect(tab.get_by_role("main")).to_contain_text(victim)
        token = await tab.evaluate("() => window.sessionStorage.getItem('token')")
        assert token
        await tab.close()
    finally:
        await context.close()
    return case_id, victim, str(token)


async def test_reflex_state_files_are_private_and_never_hold_a_victims_name(
    browser: Browser, running_app: RunningApp
) -> None:
    _case_id, victim, _token = await _idva_opens_the_case_and_closes_the_tab(browser, running_app)
    states = Path(running_app.log).parent / ".states"  # REFLEX_STATES_WORKDIR of the app
    await asyncio.sleep(3)  # Reflex writes state files after a 2 s debounce
    files = [path for path in states.iterdir() if path.is_file()]
    assert files, "Reflex should have stored the tab's state"
    assert stat.S_IMODE(states.stat().st_mode) & 0o077 == 0
    for path in files:
        assert stat.S_IMODE(path.stat().st_mode) & 0o077 == 0, path
    assert not [path for path in files if victim.encode() in path.read_bytes()]


async def test_a_closed_tabs_token_without_the_cookie_hydrates_to_nothing(
    browser: Browser, running_app: RunningApp
) -> None:
    case_id, victim, token = await _idva_opens_the_case_and_closes_the_tab(browser, running_app)
    # Someone with that token but not the cookie (another browser, a copied sessionStorage).
    thief = await browser.new_context(viewport=VIEWPORTS["phone"], locale="en-GB")
    try:
        await thief.add_init_script(f"window.sessionStorage.setItem('token', {token!r});")
        page = await thief.new_page()
        frames: list[str] = []
        page.on(
            "websocket",
            lambda socket: socket.on(
                "framereceived",
                lambda payload: frames.append(
                    payload.decode(errors="replace") if isinstance(payload, bytes) else payload
                ),
            ),
        )
        await page.goto(f"{running_app.url}/case/{case_id}")
        await page.wait_for_url(re.compile(r"/sign-in/?$"), timeout=30_000)
        await page.wait_for_timeout(1000)  # any late frame
        assert await page.evaluate("() => window.sessionStorage.getItem('token')") == token
    finally:
        await thief.close()
    assert frames, "the socket should have been hydrated"
    assert not [frame for frame in frames if victim in frame]


async def test_a_subject_access_download_after_the_session_ended_returns_nothing(
    browser: Browser, running_app: RunningApp
) -> None:
    await in_english(running_app.database_url, ADMIN)
    context = await browser.new_context(viewport=VIEWPORTS["desktop"], locale="en-GB")
    try:
        page = await context.new_page()
        await sign_in_as(page, running_app.url, ADMIN)
        await page.goto(f"{running_app.url}/admin/sar")
        reference = await in_app_db(
            running_app.database_url,
            lambda container: _first_reference(container),
        )
        await page.get_by_label("Case reference").fill(reference)
        await page.get_by_role("button", name="Prepare the bundle").click()
        await expect(page.get_by_role("heading", name="The bundle is ready")).to_be_visible()

        # The session ends on the server (as an idle-out does); the page is still open.
        cookie = next(c for c in await context.cookies() if c["name"] == "da_session")
        await in_app_db(
            running_app.database_url,
            lambda container: auth.sign_out(uow=container.uow(), token=cookie["value"]),
        )
        downloads: list[Download] = []
        page.on("download", lambda download: downloads.append(download))
        await page.get_by_role("button", name="Download JSON").click()
        await page.wait_for_url(re.compile(r"/sign-in/?$"), timeout=30_000)
        await page.wait_for_timeout(1000)
        assert downloads == []
    finally:
        await context.close()


async def _first_reference(container: Any) -> str:
    async with container.session_factory() as session:
        return str(
            (await session.execute(select(Case.reference).order_by(Case.id).limit(1))).scalar_one()
        )
