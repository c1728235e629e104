"""Secrets: outside demo mode no process starts with a missing or published secret, the refusal
names the setting and never its value, and secrets come from the environment only."""

from __future__ import annotations

import hashlib
import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest

from core import settings as settings_module
from core.bootstrap import UnsafeSecrets, check_production_secrets
from core.settings import SecretProblem, Settings, secret_problems

CLI = [sys.executable, "-m", "cli"]
# No token-shaped text in the repository: a placeholder people paste from documentation (one of
# core.settings.KNOWN_DEFAULT_SECRETS), and a token of our own made afresh for each run.
DOCUMENTED_TOKEN = "your-token-here"
OWN_TOKEN = f"{secrets.randbelow(10**9) + 10**8}:{secrets.token_urlsafe(26)}"
SECRET_NAMES = ("TELEGRAM_BOT_TOKEN", "TELEGRAM_WEBHOOK_SECRET", "TELEGRAM_WEBHOOK_URL")


def _run(*args: str, database: Path, **variables: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "DATABASE_URL": f"sqlite+aiosqlite:///{database}", "COLUMNS": "200"}
    for name in (*SECRET_NAMES, "DEMO_MODE", "WEB_PUBLIC_URL"):
        env.pop(name, None)
    env.update(variables)
    return subprocess.run([*CLI, *args], env=env, capture_output=True, text=True, timeout=180)


def test_run_refuses_a_published_bot_token_outside_demo_mode_naming_the_setting_only(
    tmp_path: Path,
) -> None:
    database = tmp_path / "run.sqlite3"

    result = _run(
        "run",
        "--setup-only",
        database=database,
        DEMO_MODE="false",
        TELEGRAM_BOT_TOKEN=DOCUMENTED_TOKEN,
    )

    assert result.returncode == 1
    assert "TELEGRAM_BOT_TOKEN holds a published example or default secret" in result.stderr
    assert "DEMO_MODE=true" in result.stderr
    assert DOCUMENTED_TOKEN not in result.stdout + result.stderr
    assert not database.exists()  # refused before anything was touched


def test_demo_mode_starts_with_the_same_published_token(tmp_path: Path) -> None:
    result = _run(
        "run",
        "--setup-only",
        database=tmp_path / "demo.sqlite3",
        DEMO_MODE="true",
        TELEGRAM_BOT_TOKEN=DOCUMENTED_TOKEN,
    )

    assert result.returncode == 0, result.stderr
    assert "Database is at schema revision" in result.stdout


def test_a_worker_with_no_secrets_at_all_still_starts_outside_demo_mode(tmp_path: Path) -> None:
    database = tmp_path / "worker.sqlite3"
    assert _run("db", "upgrade", database=database).returncode == 0

    result = _run("worker", "--once", "--no-schedulers", database=database, DEMO_MODE="false")

    assert result.returncode == 0, result.stderr
    assert "every message goes to the in-app inbox" in result.stdout


def test_a_worker_refuses_a_database_url_with_a_default_password(tmp_path: Path) -> None:
    result = _run(
        "worker",
        "--once",
        database=tmp_path / "unused.sqlite3",
        DEMO_MODE="false",
        DATABASE_URL="postgresql://drive:ChangeMe@127.0.0.1:1/drive",
    )

    assert result.returncode == 1
    assert "DATABASE_URL holds a published example or default secret" in result.stderr
    assert "ChangeMe" not in result.stdout + result.stderr


def test_the_bot_refuses_a_published_token_and_still_explains_a_missing_one(
    tmp_path: Path,
) -> None:
    database = tmp_path / "bot.sqlite3"

    published = _run(
        "bot", "run", database=database, DEMO_MODE="false", TELEGRAM_BOT_TOKEN="changeme"
    )
    missing = _run("bot", "run", database=database, DEMO_MODE="false")

    assert published.returncode == 1
    assert "TELEGRAM_BOT_TOKEN holds a published example or default secret" in published.stderr
    assert "changeme" not in published.stdout + published.stderr
    assert missing.returncode == 1
    assert "TELEGRAM_BOT_TOKEN is not set" in missing.stderr


def test_only_published_or_missing_needed_secrets_are_problems_and_demo_mode_has_none() -> None:
    base = Settings(demo_mode=False)

    assert secret_problems(base) == []
    assert secret_problems(base, needs_bot_token=True) == [
        SecretProblem("TELEGRAM_BOT_TOKEN", "missing")
    ]
    assert secret_problems(base.model_copy(update={"telegram_bot_token": OWN_TOKEN})) == []
    assert secret_problems(base.model_copy(update={"telegram_bot_token": " Secret "})) == [
        SecretProblem("TELEGRAM_BOT_TOKEN", "default")
    ]
    assert (
        secret_problems(
            base.model_copy(update={"telegram_webhook_secret": "x" * 40}), needs_webhook_secret=True
        )
        == []
    )
    assert secret_problems(base, needs_bot_token=True, needs_webhook_secret=True) == [
        SecretProblem("TELEGRAM_BOT_TOKEN", "missing"),
        SecretProblem("TELEGRAM_WEBHOOK_SECRET", "missing"),
    ]
    passwordless = base.model_copy(update={"database_url": "postgresql://drive@db:5432/drive"})
    assert secret_problems(passwordless) == []
    demo = base.model_copy(update={"demo_mode": True, "telegram_bot_token": "changeme"})
    assert secret_problems(demo, needs_webhook_secret=True) == []


def test_the_typed_error_carries_setting_names_and_never_a_value() -> None:
    settings = Settings(demo_mode=False, telegram_bot_token="password")

    with pytest.raises(UnsafeSecrets) as caught:
        check_production_secrets(settings)

    assert caught.value.code == "unsafe_secrets"
    assert caught.value.problems == [SecretProblem("TELEGRAM_BOT_TOKEN", "default")]
    assert "password" not in str(caught.value).replace("TELEGRAM_BOT_TOKEN", "")


def test_secrets_come_from_the_environment_and_never_from_a_dotenv_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / ".env").write_text(f"TELEGRAM_BOT_TOKEN={OWN_TOKEN}\nDEMO_MODE=true\n")
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("TELEGRAM_BOT_TOKEN", raising=False)
    monkeypatch.delenv("DEMO_MODE", raising=False)

    assert Settings().telegram_bot_token is None
    assert Settings().demo_mode is False
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", OWN_TOKEN)
    assert Settings().telegram_bot_token == OWN_TOKEN


async def test_the_web_backend_started_by_other_means_refuses_a_published_token(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """`reflex run` by hand skips the CLI's check; the backend's own start-up makes it."""
    from core.bootstrap import bootstrap
    from webapp import backend, container

    settings = Settings(
        database_url=f"sqlite+aiosqlite:///{tmp_path / 'web.sqlite3'}",
        demo_mode=False,
        telegram_bot_token=DOCUMENTED_TOKEN,
    )
    monkeypatch.setattr(container, "_container", bootstrap(settings))

    with pytest.raises(UnsafeSecrets):
        async with backend.notifications_lifespan():
            raise AssertionError("the backend started with a published token")

    assert "unsafe secret: telegram_bot_token is default" in caplog.text.lower()
    assert DOCUMENTED_TOKEN not in caplog.text


def test_the_web_app_outside_demo_mode_needs_a_sealing_key_of_its_own(tmp_path: Path) -> None:
    from core.sealing import DEMO_KEY

    database = tmp_path / "keys.sqlite3"
    for value, words in (
        ("", "TOTP_ENCRYPTION_KEYS is not set"),
        (DEMO_KEY, "TOTP_ENCRYPTION_KEYS holds a published example or default secret"),
        ("not-a-fernet-key", "TOTP_ENCRYPTION_KEYS does not hold valid keys"),
    ):
        result = _run(
            "run", "--setup-only", database=database, DEMO_MODE="false",
            TOTP_ENCRYPTION_KEYS=value,
        )  # fmt: skip
        assert result.returncode == 1, value
        assert words in result.stderr
        assert not database.exists()
        if value:
            assert value not in result.stdout + result.stderr


def test_secret_problems_accept_a_fresh_sealing_key_and_ask_for_one_only_when_needed() -> None:
    from core.sealing import new_key

    without = Settings(demo_mode=False, totp_encryption_keys=None)
    assert secret_problems(without) == []
    assert secret_problems(without, needs_totp_keys=True) == [
        SecretProblem("TOTP_ENCRYPTION_KEYS", "missing")
    ]
    fresh = Settings(demo_mode=False, totp_encryption_keys=f"{new_key()}, {new_key()}")
    assert secret_problems(fresh, needs_totp_keys=True) == []


def test_a_token_whose_digest_is_on_the_published_list_is_refused_in_any_letter_case(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Telegram's own example tokens are kept as digests (core.settings); the check compares
    the digest of the lower-cased value, shown here with a token made for the test."""
    published = f"123456:{secrets.token_urlsafe(26)}"
    digest = hashlib.sha256(published.lower().encode()).hexdigest()
    monkeypatch.setattr(settings_module, "_PUBLISHED_TOKEN_DIGESTS", frozenset({digest}))
    base = Settings(demo_mode=False)

    for value in (published, published.upper()):
        assert secret_problems(base.model_copy(update={"telegram_bot_token": value})) == [
            SecretProblem("TELEGRAM_BOT_TOKEN", "default")
        ]
    assert secret_problems(base.model_copy(update={"telegram_bot_token": OWN_TOKEN})) == []


@pytest.mark.parametrize(
    "url",
    [
        "postgresql://drive:p%6Fstgres@db:5432/drive",  # "postgres", one letter percent-encoded
        "postgresql://drive:%70%6F%73%74%67%72%65%73@db:5432/drive",
        "postgresql://drive@db:5432/drive?password=postgres",  # libpq and asyncpg read this too
        "postgresql+asyncpg://drive@db/drive?ssl=require&password=Ch%61ngeMe",
    ],
)
def test_a_published_database_password_is_found_percent_encoded_or_in_the_query(
    url: str,
) -> None:
    settings = Settings(demo_mode=False, database_url=url)

    with pytest.raises(UnsafeSecrets) as caught:
        check_production_secrets(settings)

    assert caught.value.problems == [SecretProblem("DATABASE_URL", "default")]


def test_a_database_password_of_our_own_passes_however_it_is_written() -> None:
    own = secrets.token_urlsafe(18)
    for url in (
        f"postgresql://drive:{own}@db:5432/drive",
        f"postgresql://drive:{own}%40x@db:5432/drive",  # an @ in the password, as URLs need it
        f"postgresql://drive@db:5432/drive?password={own}&sslmode=require",
    ):
        assert secret_problems(Settings(demo_mode=False, database_url=url)) == [], url


def test_links_need_a_public_address_of_the_apps_own_outside_demo_mode_only() -> None:
    """Invitation and reset links start with WEB_PUBLIC_URL: unset (its localhost default) or
    not one of WEB_ALLOWED_ORIGINS, the web app and `drive-assist users add|invite|reset`
    refuse to start, naming the setting."""
    unset = Settings(demo_mode=False, web_allowed_origins="https://drive.test.invalid")
    elsewhere = Settings(
        demo_mode=False,
        web_allowed_origins="https://drive.test.invalid",
        web_public_url="https://elsewhere.test.invalid",
    )
    right = elsewhere.model_copy(update={"web_public_url": "https://DRIVE.test.invalid/"})

    assert secret_problems(unset) == []  # only a process that makes links needs it
    assert secret_problems(unset, needs_public_url=True) == [
        SecretProblem("WEB_PUBLIC_URL", "missing")
    ]
    assert secret_problems(elsewhere, needs_public_url=True) == [
        SecretProblem("WEB_PUBLIC_URL", "invalid")
    ]
    no_origins = Settings(demo_mode=False, web_public_url="https://drive.test.invalid")
    assert secret_problems(no_origins, needs_public_url=True) == [
        SecretProblem("WEB_PUBLIC_URL", "invalid")
    ]
    assert secret_problems(right, needs_public_url=True) == []
    demo = unset.model_copy(update={"demo_mode": True})
    assert secret_problems(demo, needs_public_url=True) == []
    with pytest.raises(UnsafeSecrets):
        check_production_secrets(elsewhere, needs_public_url=True)


def test_adding_staff_from_the_command_line_refuses_without_a_public_address(
    tmp_path: Path,
) -> None:
    result = _run(
        "users", "add", "new.starter@test.invalid", "--name", "Test Starter",
        "--role", "HER:case_manager", database=tmp_path / "unused.sqlite3", DEMO_MODE="false",
    )  # fmt: skip

    assert result.returncode == 1
    assert "WEB_PUBLIC_URL is not set" in result.stderr
