"""The app opens with no signal (issue 21 part 2): the manifest, the service worker's shell, and
the log-contact form over the last caseload the device saw (references only).

The app is the shared one (``running_app``, at http://127.0.0.1, a secure context, so the
service worker registers); the browser goes offline with ``context.set_offline``.
"""

from __future__ import annotations

import json
import re
import struct
import urllib.request
from html.parser import HTMLParser
from typing import Any

import pytest
from playwright.async_api import Browser, BrowserContext, Page, expect

from core.enums import Face, Locale, WorkCategory
from core.services import caseload_lookup, users
from core.settings import PROJECT_ROOT
from tests.e2e.web.app_db import contacts_on_case, with_core
from tests.e2e.web.conftest import VIEWPORTS, RunningApp, open_menu, screenshot, sign_in_as

# Case managers no other test signs in as offline; each test sets their language itself.
ENGLISH_CASE_MANAGER = "jordan.cm@demo.drive-assist.invalid"
WELSH_CASE_MANAGER = "rhys.cm@demo.drive-assist.invalid"
KEPT = "drive-assist.caseload"  # assets/shell.js
SHELL_CACHE = "drive-assist-shell-"  # assets/sw.js
# What the shell cache may hold: the build's pages (no record's address), its hashed files, and
# the few unhashed files the worker names. Never a backend route, never /case/12.
SHELL_ENTRY = re.compile(
    r"^/(?:|log|caseload|sign-in|account|inbox|alerts|appointments|my-cases|__spa-fallback\.html"
    r"|assets/[^/]+|webapp\.css|focus\.js|passkeys\.js|shell\.js|held\.js|manifest\.webmanifest"
    r"|icon\.svg|icon-192\.png|icon-512\.png)$"
)

OFFLINE = {"en_GB": "You are offline.", "cy": "Rydych chi all-lein."}
LOG_A_CONTACT = {"en_GB": "Log a contact", "cy": "Cofnodi cyswllt"}
SAVE = {"en_GB": "Save contact", "cy": "Cadw'r cyswllt"}
HELD = {
    "en_GB": "Saved on this phone. It will be sent when you have signal.",
    "cy": "Wedi'i gadw ar y ffôn hwn. Bydd yn cael ei anfon pan fydd gennych signal.",
}
NEEDS_CONNECTION = {
    "en_GB": "This page needs a connection. It will open when the signal is back.",
    "cy": "Mae angen cysylltiad ar y dudalen hon. Bydd yn agor pan fydd y signal yn ôl.",
}
LOADING_TODAY = {"en_GB": "Loading your day…", "cy": "Wrthi'n llwytho"}
NO_CASES_YET = {"en_GB": "This phone has no cases to offer yet.", "cy": "Does gan y ffôn hwn ddim"}


class _Head(HTMLParser):
    """A page's ``<link rel=... href=...>`` and ``<script src=...>``."""

    def __init__(self) -> None:
        super().__init__()
        self.links: dict[str, str] = {}
        self.scripts: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        if tag == "link" and found.get("rel"):
            self.links[str(found["rel"])] = str(found.get("href"))
        if tag == "script" and found.get("src"):
            self.scripts.append(str(found["src"]))


def _get(url: str) -> tuple[str, bytes]:
    with urllib.request.urlopen(url, timeout=30) as response:
        return response.headers.get("content-type", ""), response.read()


def test_the_app_has_a_manifest_its_pages_link_with_icons_it_serves(
    running_app: RunningApp,
) -> None:
    content_type, body = _get(f"{running_app.url}/manifest.webmanifest")
    assert content_type.startswith("application/manifest+json")
    manifest = json.loads(body)
    assert manifest["name"] == manifest["short_name"] == "Drive Assist"
    assert (manifest["start_url"], manifest["scope"], manifest["display"]) == (
        "/",
        "/",
        "standalone",
    )
    assert manifest["lang"] == "en-GB"
    header = re.search(
        r"--header:\s*(#[0-9a-f]{6})", (PROJECT_ROOT / "assets/webapp.css").read_text()
    )
    assert header is not None and manifest["theme_color"] == header.group(1)
    purposes = set()
    for icon in manifest["icons"]:
        content_type, image = _get(f"{running_app.url}{icon['src']}")
        assert content_type.startswith(icon["type"])
        purposes.add(icon["purpose"])
        if icon["type"] == "image/png":  # the size it says it is (the PNG header's width, height)
            width, height = struct.unpack(">II", image[16:24])
            assert icon["sizes"] == f"{width}x{height}"
    assert {"any", "maskable"} <= purposes
    assert any(icon["sizes"] == "512x512" for icon in manifest["icons"])

    for path in ("/", "/sign-in/", "/log/", "/case/1"):  # a prerendered page, and the fallback
        _, page = _get(f"{running_app.url}{path}")
        head = _Head()
        head.feed(page.decode())
        assert head.links.get("manifest") == "/manifest.webmanifest", path
        assert "/shell.js" in head.scripts, path
    content_type, worker = _get(f"{running_app.url}/sw.js")
    assert "javascript" in content_type and b'addEventListener("fetch"' in worker


async def _set_language(app: RunningApp, email: str, locale: str) -> None:
    async def work(container: Any) -> None:
        who = await users.actor_for_email(uow=container.uow(), email=email, face=Face.WEB)
        await users.set_my_locale(uow=container.uow(), actor=who, locale=Locale(locale))

    await with_core(app.database_url, work)


async def _my_references(app: RunningApp, email: str) -> list[str]:
    async def work(container: Any) -> list[str]:
        who = await users.actor_for_email(uow=container.uow(), email=email, face=Face.WEB)
        choices = await caseload_lookup.my_open_case_choices(uow=container.uow(), actor=who)
        return [choice.reference for choice in choices]

    return await with_core(app.database_url, work)


async def _shell_cache(page: Page) -> dict[str, list[str]]:
    """Every cache of the origin and the paths it holds."""
    return await page.evaluate(
        """async () => {
            const found = {};
            for (const name of await caches.keys()) {
              const requests = await (await caches.open(name)).keys();
              found[name] = requests.map((request) => new URL(request.url).pathname);
            }
            return found;
        }"""
    )


async def _offline_page(context: BrowserContext, url: str) -> Page:
    """``url`` opened in a new tab with no connection: the service worker's copy."""
    await context.set_offline(True)
    page = await context.new_page()
    await page.goto(url)
    return page


@pytest.mark.parametrize(
    ("email", "locale"), [(ENGLISH_CASE_MANAGER, "en_GB"), (WELSH_CASE_MANAGER, "cy")]
)
async def test_the_app_opens_offline_and_logs_on_the_last_caseloads_references(
    browser: Browser, running_app: RunningApp, email: str, locale: str
) -> None:
    await _set_language(running_app, email, locale)
    references = await _my_references(running_app, email)
    assert references, "the demo gives every case manager open cases"
    context = await browser.new_context(viewport=VIEWPORTS["phone"], locale="en-GB")
    try:
        online = await context.new_page()
        await sign_in_as(online, running_app.url, email, fresh=True)
        await online.goto(f"{running_app.url}/log")
        await expect(online.get_by_role("button", name=SAVE[locale])).to_be_enabled(timeout=30_000)
        await online.wait_for_function(f"localStorage.getItem({json.dumps(KEPT)}) !== null")
        await online.evaluate("navigator.serviceWorker.ready.then(() => true)")
        kept = json.loads(await online.evaluate(f"localStorage.getItem({json.dumps(KEPT)})"))
        assert sorted(case["reference"] for case in kept["cases"]) == sorted(references)
        assert {tuple(sorted(case)) for case in kept["cases"]} == {("id", "reference")}

        # Opened again with no signal: Today, then the log-contact form.
        today = await _offline_page(context, f"{running_app.url}/")
        banner = today.locator(".connection-banner[aria-live='polite']")
        await expect(banner).to_contain_text(OFFLINE[locale], timeout=30_000)
        assert await banner.get_attribute("role") is None
        # Today needs the server: it says so, and offers what works without it, rather than
        # "Loading your day…" for ever.
        waiting = today.locator("#needs-connection")
        await expect(waiting).to_contain_text(NEEDS_CONNECTION[locale])
        await expect(waiting.get_by_role("link", name=LOG_A_CONTACT[locale])).to_be_visible()
        await expect(today.locator("main")).not_to_contain_text(LOADING_TODAY[locale])
        banner_box = await banner.bounding_box()
        assert banner_box is not None and banner_box["height"] <= 100, banner_box
        await today.close()
        # A page never opened online (My account) opens too, from the build's code the worker
        # kept, and says the same rather than showing a blank screen.
        account = await _offline_page(context, f"{running_app.url}/account")
        await expect(account.locator("#needs-connection")).to_contain_text(
            NEEDS_CONNECTION[locale], timeout=30_000
        )
        await account.close()

        page = await _offline_page(context, f"{running_app.url}/log")
        await expect(page.get_by_role("heading", level=1)).to_have_text(LOG_A_CONTACT[locale])
        await expect(page.locator(".connection-banner")).to_contain_text(OFFLINE[locale])
        tag = "cy" if locale == "cy" else "en-GB"
        await expect(page.locator("div.page")).to_have_attribute("lang", tag)
        assert await page.evaluate("document.documentElement.lang") == tag
        choices = page.locator("input[name=case]")
        await expect(choices).to_have_count(len(references))
        shown = [await label.inner_text() for label in await page.locator(".radios-label").all()]
        assert [text for text in shown if re.fullmatch(r"[A-Z]{3}-\d{4}", text)] == references
        assert "Demo" not in await page.locator("body").inner_text()  # no one's name
        save = page.get_by_role("button", name=SAVE[locale])
        await expect(save).to_be_enabled()  # for the held save (assets/held.js)
        first_case = await page.locator("input[name=case]").first.get_attribute("value")
        before = len(await contacts_on_case(running_app, int(first_case or 0)))
        await page.locator("input[name=case]").first.check()
        await expect(page.locator("input[name=contact_date_year]")).not_to_have_value("")
        await screenshot(page, f"log-opened-offline-{locale}")

        # Part 1 holds the Save of a page opened with no signal, and sends it when the signal
        # returns: logged once, on the case chosen from the device's list.
        await page.locator(f"#category-{WorkCategory.SUPPORT.value}").check()
        await page.locator("textarea[name=note]").fill("Fictional note from a Testshire lay-by")
        await save.click()
        await expect(page.locator("#held-notice")).to_have_text(HELD[locale])
        await context.set_offline(False)
        await page.evaluate("window.DriveHeld.flush()")
        await expect(page.locator("#held-count")).to_have_text("", timeout=15_000)
        assert len(await contacts_on_case(running_app, int(first_case or 0))) == before + 1
        await page.close()

        # Signed out: the caseload is gone from the device, and the shell cache holds only the
        # build's pages and files.
        await context.set_offline(False)
        await online.evaluate(f"localStorage.removeItem({json.dumps(KEPT)})")
        await online.goto(f"{running_app.url}/caseload")  # keeps the caseload too
        await online.wait_for_function(f"localStorage.getItem({json.dumps(KEPT)}) !== null")
        await open_menu(online)
        await online.locator(".nav-sign-out button").click()
        await online.wait_for_url(re.compile(r"/sign-in/?$"), timeout=30_000)
        await online.wait_for_function(f"localStorage.getItem({json.dumps(KEPT)}) === null")
        cached = await _shell_cache(online)
        assert list(cached) and all(name.startswith(SHELL_CACHE) for name in cached)
        stray = [path for paths in cached.values() for path in paths if not SHELL_ENTRY.match(path)]
        assert stray == []

        after = await _offline_page(context, f"{running_app.url}/log")
        await expect(after.locator("main")).to_contain_text(NO_CASES_YET[locale], timeout=30_000)
        await expect(after.locator("input[name=case]")).to_have_count(0)
    finally:
        await context.close()
        await _set_language(running_app, email, "cy" if email == WELSH_CASE_MANAGER else "en_GB")


async def test_a_new_build_s_worker_replaces_the_old_cache(
    browser: Browser, running_app: RunningApp
) -> None:
    context = await browser.new_context(viewport=VIEWPORTS["phone"], locale="en-GB")
    try:
        page = await context.new_page()
        await page.goto(f"{running_app.url}/sign-in")
        await page.evaluate("navigator.serviceWorker.ready.then(() => true)")
        (old,) = await _shell_cache(page)
        assert old.startswith(SHELL_CACHE) and old != f"{SHELL_CACHE}next-build"
        # What shell.js does on a new build's page: the worker's address names the build.
        await page.evaluate(
            """async () => {
                const registration = await navigator.serviceWorker.register('/sw.js?v=next-build');
                const worker =
                  registration.installing || registration.waiting || registration.active;
                if (worker.state !== 'activated') {
                  await new Promise((done) => worker.addEventListener('statechange', () => {
                    if (worker.state === 'activated') done();
                  }));
                }
            }"""
        )
        await page.wait_for_function(
            "caches.keys().then((names) => names.join() === 'drive-assist-shell-next-build')"
        )
        assert list(await _shell_cache(page)) == [f"{SHELL_CACHE}next-build"]
    finally:
        await context.close()
