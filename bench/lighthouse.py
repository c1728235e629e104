"""Lighthouse (mobile preset) on the signed-in Today and Caseload pages, with the demo data.

Targets (issue 5): performance at least 90 and accessibility 100 on both pages.

What it does, end to end, with nothing installed by hand:

1. installs the npm package ``lighthouse`` into ``.tools/lighthouse`` (skipped when present);
2. starts the app as the README's run command does (``drive-assist run``, demo data, production
   build) on a fresh SQLite file and a free port;
3. signs a demo case manager in through core (password and the current authenticator code) and
   takes the session token a browser would get in its cookie;
4. runs Lighthouse's default (mobile: a mid-range phone, simulated slow 4G and 4x CPU
   slowdown) against each page in Debian's chromium (``CHROME_PATH``), sending the cookie;
5. prints each page's scores and main timings, and the command that made them.

    .venv/bin/python bench/lighthouse.py [--runs 3] [--email casey.cm@demo.drive-assist.invalid]

Each page is measured ``--runs`` times and the median score is reported (Lighthouse's own
advice: single runs vary by a few points).
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import os
import shlex
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT_ROOT))

LIGHTHOUSE_VERSION = "13.5.0"
LIGHTHOUSE_PREFIX = PROJECT_ROOT / ".tools" / "lighthouse"
LIGHTHOUSE_CLI = LIGHTHOUSE_PREFIX / "node_modules" / "lighthouse" / "cli" / "index.js"
CHROMIUM = os.environ.get("CHROME_PATH", "/usr/bin/chromium")
PAGES = (("Today", "/"), ("Caseload", "/caseload"))
START_TIMEOUT_SECONDS = 600


def install_lighthouse() -> None:
    if LIGHTHOUSE_CLI.exists():
        return
    print(f"Installing lighthouse {LIGHTHOUSE_VERSION} from the npm registry into .tools/")
    LIGHTHOUSE_PREFIX.mkdir(parents=True, exist_ok=True)
    subprocess.run(
        [
            "npm", "install", "--prefix", str(LIGHTHOUSE_PREFIX), "--no-save", "--no-audit",
            "--no-fund", "--loglevel=error", f"lighthouse@{LIGHTHOUSE_VERSION}",
        ],
        check=True,
    )  # fmt: skip


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.status == 200
    except (urllib.error.URLError, OSError):
        return False


def start_app(workdir: Path) -> tuple[subprocess.Popen[bytes], str, str]:
    """``drive-assist run`` with the demo data; (process, base URL, database URL)."""
    port = _free_port()
    database_url = f"sqlite+aiosqlite:///{workdir / 'lighthouse.sqlite3'}"
    env = {
        **os.environ,
        "DEMO_MODE": "true",
        "DATABASE_URL": database_url,
        "REFLEX_WEB_WORKDIR": str(workdir / ".web"),
        "REFLEX_STATES_WORKDIR": str(workdir / ".states"),
    }
    env.pop("REDIS_URL", None)
    env.pop("TELEGRAM_BOT_TOKEN", None)
    log = (workdir / "app.log").open("wb")
    process = subprocess.Popen(
        [sys.executable, "-m", "cli", "run", "--port", str(port)],
        cwd=PROJECT_ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + START_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"the app exited with {process.returncode}; see {workdir}/app.log")
        if _answers(f"{base}/ping") and _answers(f"{base}/sign-in/"):
            return process, base, database_url
        time.sleep(1)
    stop_app(process)
    raise SystemExit(f"the app did not answer within {START_TIMEOUT_SECONDS} s")


def stop_app(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is not None:
        return
    os.killpg(process.pid, signal.SIGINT)
    try:
        process.wait(timeout=60)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=30)


async def session_token(database_url: str, email: str) -> str:
    """Sign ``email`` in through core, as the sign-in page does; the cookie's session token."""
    from datetime import UTC, datetime

    from core.bootstrap import bootstrap
    from core.services import auth
    from core.settings import Settings
    from seeding.demo import DEMO_PASSWORD, demo_totp_secret

    container = bootstrap(Settings(database_url=database_url, demo_mode=True))
    try:
        code = auth.current_totp_code(demo_totp_secret(email), datetime.now(UTC))
        result = await auth.sign_in(
            uow=container.uow(),
            email=email,
            password=DEMO_PASSWORD,
            totp_code=code,
            client="127.0.0.1",
        )
        return await auth.redeem_handoff(uow=container.uow(), code=result.handoff_code)
    finally:
        await container.dispose()


def lighthouse(url: str, token: str, output: Path) -> dict:
    """One Lighthouse run (its default mobile preset); the parsed report."""
    command = [
        "node", str(LIGHTHOUSE_CLI), url,
        "--only-categories=performance,accessibility",
        "--output=json", f"--output-path={output}", "--quiet",
        "--chrome-flags=--headless=new --no-sandbox --disable-gpu",
        f"--extra-headers={json.dumps({'Cookie': f'da_session={token}'})}",
    ]  # fmt: skip
    subprocess.run(command, check=True, env={**os.environ, "CHROME_PATH": CHROMIUM})
    return json.loads(output.read_text())


def summary(report: dict) -> dict[str, float | str]:
    audits = report["audits"]
    failing = [
        key
        for key, audit in audits.items()
        if audit.get("scoreDisplayMode") == "binary" and audit.get("score") == 0
        and key in {ref["id"] for ref in report["categories"]["accessibility"]["auditRefs"]}
    ]  # fmt: skip
    return {
        "final_url": report.get("finalDisplayedUrl") or report.get("finalUrl", ""),
        "performance": round(report["categories"]["performance"]["score"] * 100),
        "accessibility": round(report["categories"]["accessibility"]["score"] * 100),
        "fcp_ms": audits["first-contentful-paint"]["numericValue"],
        "lcp_ms": audits["largest-contentful-paint"]["numericValue"],
        "tbt_ms": audits["total-blocking-time"]["numericValue"],
        "cls": audits["cumulative-layout-shift"]["numericValue"],
        "failing_accessibility_audits": ", ".join(failing) or "none",
    }


SCREENSHOTS = PROJECT_ROOT / "var" / "bench-artefacts"


def _save_final_screenshot(report: dict, name: str) -> None:
    """Keep what the page showed at the end of the run, to check it was the signed-in page."""
    data = report["audits"].get("final-screenshot", {}).get("details", {}).get("data", "")
    if data.startswith("data:image/"):
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        header, encoded = data.split(",", 1)
        extension = header.split("/")[1].split(";")[0]
        (SCREENSHOTS / f"lighthouse-{name.lower()}.{extension}").write_bytes(
            base64.b64decode(encoded)
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--email", default="casey.cm@demo.drive-assist.invalid")
    args = parser.parse_args()
    if not os.access(CHROMIUM, os.X_OK):
        raise SystemExit(f"{CHROMIUM} is missing; install Debian's chromium")
    install_lighthouse()
    with tempfile.TemporaryDirectory(prefix="da-lighthouse-") as folder:
        workdir = Path(folder)
        print("Starting the app (production build with the demo data)...", flush=True)
        process, base, database_url = start_app(workdir)
        try:
            token = asyncio.run(session_token(database_url, args.email))
            for name, path in PAGES:
                runs = []
                for run in range(args.runs):
                    report = lighthouse(f"{base}{path}", token, workdir / f"{name}-{run}.json")
                    runs.append(summary(report))
                    _save_final_screenshot(report, name)
                    if not runs[-1]["final_url"].rstrip("/").endswith(path.rstrip("/")):
                        raise SystemExit(f"{name}: Lighthouse ended on {runs[-1]['final_url']}")
                print(f"\n{name} ({path}), {args.runs} runs, mobile preset:")
                for key in ("performance", "accessibility", "fcp_ms", "lcp_ms", "tbt_ms", "cls"):
                    values = [float(r[key]) for r in runs]
                    print(f"  {key:>14}: median {statistics.median(values):.3g}  runs {values}")
                print(f"  failing a11y audits: {runs[-1]['failing_accessibility_audits']}")
        finally:
            stop_app(process)
    command = shlex.join([".venv/bin/python", "bench/lighthouse.py", *sys.argv[1:]])
    print(f"\nCommand: {command}  (lighthouse {LIGHTHOUSE_VERSION}, {CHROMIUM})")


if __name__ == "__main__":
    main()
