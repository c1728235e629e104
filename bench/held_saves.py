"""100 contacts held offline on one phone, all saved exactly once within 10 s of the signal
returning (issue 21, part 1, the first figure).

End to end, as a person's phone would do it:

1. starts the app as the browser tests do (``drive-assist run``, demo data, production build)
   on a fresh SQLite file and a free port;
2. signs a demo case manager in through the sign-in page in Debian's chromium at 390 px and
   opens Log a contact (which gives the tab its device key);
3. takes the phone offline and holds 100 contacts through ``window.DriveHeld.hold`` (what the
   Save button does without signal; each with its own key and a numbered note);
4. brings the phone back online and times until the phone holds none, then counts the
   contacts in the database: each note exactly once.

    .venv/bin/python bench/held_saves.py [--entries 100]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shlex
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

PROJECT_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT_ROOT))

from playwright.async_api import async_playwright  # noqa: E402
from sqlalchemy import func, select  # noqa: E402

from core.enums import WorkCategory  # noqa: E402
from core.models import Contact  # noqa: E402
from tests.e2e.web.app_db import with_core  # noqa: E402
from tests.e2e.web.conftest import (  # noqa: E402
    CHROMIUM,
    VIEWPORTS,
    sign_in_as,
    start_app,
    stop_app,
)
from tests.e2e.web.test_log_contact import CASE_MANAGER, _my_cases  # noqa: E402

TARGET_SECONDS = 10.0
NOTE = "Bench held contact"


def fields(case_id: int, number: int) -> dict[str, str]:
    now = datetime.now(ZoneInfo("Europe/London"))
    return {
        "case": str(case_id),
        "contact_type": "phone",
        "minutes": "15",
        "contact_date_day": str(now.day),
        "contact_date_month": str(now.month),
        "contact_date_year": str(now.year),
        "contact_time": now.strftime("%H:%M"),
        f"category-{WorkCategory.SUPPORT.value}": "yes",
        "note": f"{NOTE} {number:03d}",
    }


async def notes_saved(database_url: str) -> tuple[int, int]:
    """How many bench contacts the database holds, and how many distinct notes among them."""

    async def work(container: Any) -> tuple[int, int]:
        async with container.uow() as uow:
            row = (
                await uow.session.execute(
                    select(func.count(), func.count(func.distinct(Contact.notes))).where(
                        Contact.notes.like(f"{NOTE} %")
                    )
                )
            ).one()
            return int(row[0]), int(row[1])

    return await with_core(database_url, work)


async def measure(app: Any, entries: int) -> dict[str, float]:
    case = (await _my_cases(app, CASE_MANAGER))[0]
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=str(CHROMIUM))
        context = await browser.new_context(viewport=VIEWPORTS["phone"], locale="en-GB")
        page = await context.new_page()
        await sign_in_as(page, app.url, CASE_MANAGER)
        await page.goto(f"{app.url}/log?case={case.case_id}")
        await page.locator("form button[type=submit]").wait_for(timeout=60_000)
        await page.wait_for_function("window.DriveHeld !== undefined")
        await context.set_offline(True)
        for number in range(entries):
            await page.evaluate(
                "(fields) => window.DriveHeld.hold('contact', fields)",
                fields(case.case_id, number),
            )
        held = await page.evaluate("window.DriveHeld.count()")
        assert held == entries, f"{held} held, not {entries}"
        started = time.monotonic()
        await context.set_offline(False)
        while await page.evaluate("window.DriveHeld.count()") > 0:
            if time.monotonic() - started > 120:
                break
            await asyncio.sleep(0.05)
        seconds = time.monotonic() - started
        left = await page.evaluate("window.DriveHeld.count()")
        await browser.close()
    saved, distinct = await notes_saved(app.database_url)
    return {"seconds": seconds, "left": left, "saved": saved, "distinct": distinct}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--entries", type=int, default=100)
    args = parser.parse_args()
    load_before = os.getloadavg()
    with tempfile.TemporaryDirectory(prefix="da-bench-held-") as workdir:
        app = start_app(Path(workdir))
        try:
            result = asyncio.run(measure(app, args.entries))
        finally:
            stop_app(app)
    load_after = os.getloadavg()
    met = (
        result["seconds"] <= TARGET_SECONDS
        and result["left"] == 0
        and result["saved"] == result["distinct"] == args.entries
    )
    print(f"held offline: {args.entries}; still held after: {result['left']:.0f}")
    print(f"time from the signal returning to none held: {result['seconds']:.2f} s")
    print(f"contacts saved: {result['saved']:.0f} ({result['distinct']:.0f} distinct notes)")
    print(f"target: all {args.entries} saved exactly once within {TARGET_SECONDS:.0f} s: "
          f"{'met' if met else 'NOT met'}")  # fmt: skip
    print(f"load average before {load_before[0]:.2f}, after {load_after[0]:.2f} (1 min)")
    print("command: " + shlex.join([".venv/bin/python", "bench/held_saves.py", *sys.argv[1:]]))


if __name__ == "__main__":
    main()
