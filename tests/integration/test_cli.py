"""The ``drive-assist`` command line, run as a person runs it: a subprocess with an environment.

These use a SQLite file of their own; the services under them are tested on both backends.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from core.bootstrap import bootstrap
from core.enums import Role
from core.services import telegram_links
from core.settings import Settings
from seeding.demo import demo_accounts

CLI = [sys.executable, "-m", "cli"]


def run_cli(
    *args: str, database: Path, input_text: str | None = None
) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite+aiosqlite:///{database}",
        "COLUMNS": "200",
        # Links made by `users add|invite|reset` start with it (core.settings.secret_problems).
        "WEB_PUBLIC_URL": "http://localhost:3000",
        "WEB_ALLOWED_ORIGINS": "http://localhost:3000",
    }
    if args[:2] == ("demo", "seed"):
        env["DEMO_MODE"] = "true"  # the demo is seeded only in demo mode
    return subprocess.run(
        [*CLI, *args], env=env, capture_output=True, text=True, timeout=120, input=input_text
    )


@pytest.fixture
def database(tmp_path: Path) -> Path:
    path = tmp_path / "cli.sqlite3"
    result = run_cli("db", "upgrade", database=path)
    assert result.returncode == 0, result.stderr
    assert "Database is at schema revision" in result.stdout
    return path


def test_a_command_on_a_database_that_was_never_migrated_says_to_run_db_upgrade(
    tmp_path: Path,
) -> None:
    result = run_cli("users", "list", database=tmp_path / "empty.sqlite3")
    assert result.returncode == 1
    assert "drive-assist db upgrade" in result.stderr


def test_an_operator_adds_a_member_of_staff_and_sees_them_listed(database: Path) -> None:
    seeded = run_cli("demo", "seed", "--seed", "7", database=database)
    assert seeded.returncode == 0, seeded.stderr
    added = run_cli(
        "users",
        "add",
        "new.person@test.invalid",
        "--name",
        "New Person",
        "--role",
        "HER:case_manager",
        "--role",
        "WOR:panel_member:housing",
        database=database,
    )
    assert added.returncode == 0, added.stderr
    assert "Added new.person@test.invalid" in added.stdout
    listed = run_cli("users", "list", "--site", "WOR", database=database)
    assert "new.person@test.invalid" in listed.stdout
    assert "WOR:panel_member:housing" in listed.stdout


def test_a_bad_role_is_refused_with_the_roles_to_choose_from_and_adds_nobody(
    database: Path,
) -> None:
    result = run_cli(
        "users", "add", "x@test.invalid", "--name", "X", "--role", "HER:chief", database=database
    )
    assert result.returncode == 2
    assert "case_manager" in result.stderr
    listed = run_cli("users", "list", database=database)
    assert "x@test.invalid" not in listed.stdout
    assert "0 accounts" in listed.stdout


def test_an_unknown_site_is_refused_and_adds_nobody(database: Path) -> None:
    result = run_cli(
        "users", "add", "y@test.invalid", "--name", "Y", "--role", "ZZZ:idva", database=database
    )
    assert result.returncode == 1
    assert "y@test.invalid" not in run_cli("users", "list", database=database).stdout


def test_a_second_account_with_the_same_email_is_refused(database: Path) -> None:
    run_cli("demo", "seed", database=database)
    first = run_cli(
        "users", "add", "z@test.invalid", "--name", "Z", "--role", "HER:idva", database=database
    )
    assert first.returncode == 0, first.stderr
    second = run_cli(
        "users", "add", "Z@test.invalid", "--name", "Z", "--role", "HER:idva", database=database
    )
    assert second.returncode == 1
    assert "z@test.invalid" in second.stderr


def test_a_case_manager_lists_only_the_cases_of_their_own_site(database: Path) -> None:
    assert run_cli("demo", "seed", database=database).returncode == 0
    case_manager = next(
        account for account in demo_accounts() if account.roles == ((Role.CASE_MANAGER, "HER"),)
    )
    result = run_cli("cases", "list", "--as", case_manager.email, database=database)
    assert result.returncode == 0, result.stderr
    assert "HER-0001" in result.stdout
    assert "WOR-" not in result.stdout


def test_listing_cases_as_someone_unknown_says_so(database: Path) -> None:
    result = run_cli("cases", "list", "--as", "nobody@test.invalid", database=database)
    assert result.returncode == 1
    assert "There is no account with the email address nobody@test.invalid" in result.stderr


def add_case_manager(database: Path, email: str) -> None:
    assert run_cli("demo", "seed", database=database).returncode == 0
    added = run_cli(
        "users",
        "add",
        email,
        "--name",
        "Link Tester",
        "--role",
        "HER:case_manager",
        database=database,
    )
    assert added.returncode == 0, added.stderr


async def test_an_operator_gives_a_link_code_that_links_once_and_then_unlinks_it(
    database: Path,
) -> None:
    add_case_manager(database, "link.tester@test.invalid")

    issued = run_cli("users", "link-code", "Link.Tester@test.invalid", database=database)

    assert issued.returncode == 0, issued.stderr
    assert "Send this message to the Drive Assist bot in Telegram:" in issued.stdout
    assert "expires at" in issued.stdout
    found = re.search(r"^/start ([A-Z2-9]{8,})$", issued.stdout, re.MULTILINE)
    assert found is not None, issued.stdout
    container = bootstrap(Settings(database_url=f"sqlite+aiosqlite:///{database}"))
    try:
        linked = await telegram_links.redeem_link_code(
            uow=container.uow(), code=found.group(1), telegram_user_id=4242, chat_id=4242
        )
        actor = await telegram_links.actor_for_telegram_user(
            uow=container.uow(), telegram_user_id=4242
        )
        assert actor is not None and actor.user_id == linked.user_id

        unlinked = run_cli("users", "unlink", "link.tester@test.invalid", database=database)
        assert unlinked.returncode == 0, unlinked.stderr
        assert "Unlinked link.tester@test.invalid from Telegram." in unlinked.stdout
        assert (
            await telegram_links.actor_for_telegram_user(uow=container.uow(), telegram_user_id=4242)
            is None
        )
    finally:
        await container.dispose()

    again = run_cli("users", "unlink", "link.tester@test.invalid", database=database)
    assert again.returncode == 0, again.stderr
    assert "link.tester@test.invalid was not linked to Telegram." in again.stdout


def test_a_link_code_for_an_unknown_address_is_refused_in_words(database: Path) -> None:
    result = run_cli("users", "link-code", "nobody@test.invalid", database=database)

    assert result.returncode == 1
    assert "There is no account with the email address nobody@test.invalid" in result.stderr
    assert "/start" not in result.stdout


# --- case work (issue 19) ---------------------------------------------------------------------

SERVICE_MANAGER = "both.sites.sm@test.invalid"  # service manager of HER and WOR
CASE_MANAGER = "her.cm@test.invalid"


def two_sites_and_their_staff(database: Path) -> None:
    for code, name in (("HER", "Herefordshire"), ("WOR", "Worcestershire")):
        assert run_cli("sites", "add", code, name, database=database).returncode == 0
    for email, roles in (
        (SERVICE_MANAGER, ("HER:service_manager", "WOR:service_manager")),
        (CASE_MANAGER, ("HER:case_manager",)),
    ):
        options = [part for role in roles for part in ("--role", role)]
        added = run_cli("users", "add", email, "--name", "Test Person", *options, database=database)
        assert added.returncode == 0, added.stderr


REFERRAL = (
    "--site", "HER", "--referral-date", "2026-01-05", "--source", "self", "--reason", "serial",
    "--name", "Cliona Testperson", "--dob", "1984-11-30",
)  # fmt: skip


def added_reference(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode == 0, result.stderr
    found = re.search(r"Referral (HER-\d+) recorded", result.stdout)
    assert found, result.stdout
    return found.group(1)


def case_count(database: Path) -> str:
    listed = run_cli("cases", "list", "--as", SERVICE_MANAGER, database=database)
    return listed.stdout.strip().splitlines()[-1]


def test_a_referral_is_recorded_closed_reopened_and_transferred_from_the_command_line(
    database: Path,
) -> None:
    two_sites_and_their_staff(database)
    dash = "y" * 14 + "n" * 9 + "u"
    reference = added_reference(
        run_cli(
            "cases", "add", "--as", SERVICE_MANAGER, *REFERRAL, "--dash", dash, database=database
        )
    )
    assert (
        run_cli(
            "cases",
            "add",
            "--as",
            SERVICE_MANAGER,
            *REFERRAL,
            "--dash-score",
            "3",
            database=database,
        ).returncode
        == 1
    )  # a possible duplicate: shown, not saved

    refused = run_cli("cases", "stage", reference, "--as", SERVICE_MANAGER, "--to", "active",
                      database=database)  # fmt: skip
    assert refused.returncode == 1
    assert "A case cannot move from 'Referred' to 'Active'" in refused.stderr

    no_words = run_cli("cases", "close", reference, "--as", SERVICE_MANAGER, "--reason", "other",
                       database=database)  # fmt: skip
    assert no_words.returncode == 1
    assert "say in a few words what the reason is" in no_words.stderr
    closed = run_cli("cases", "close", reference, "--as", SERVICE_MANAGER, "--reason", "other",
                     "--other", "Left the country", database=database)  # fmt: skip
    assert closed.returncode == 0, closed.stderr
    assert f"{reference} is closed." in closed.stdout

    by_case_manager = run_cli("cases", "reopen", reference, "--as", CASE_MANAGER, "--reason",
                              "Back", database=database)  # fmt: skip
    assert by_case_manager.returncode == 1
    reopened = run_cli("cases", "reopen", reference, "--as", SERVICE_MANAGER, "--reason", "Back",
                       database=database)  # fmt: skip
    assert f"{reference} is reopened (episode 2)." in reopened.stdout, reopened.stderr

    moved = run_cli("cases", "transfer", reference, "--as", SERVICE_MANAGER, "--to-site", "WOR",
                    database=database)  # fmt: skip
    assert moved.returncode == 0, moved.stderr
    assert re.search(rf"{reference} is now WOR-\d+ at WOR\.", moved.stdout), moved.stdout


def test_a_dash_checklist_short_of_an_answer_saves_nothing_and_names_the_question(
    database: Path,
) -> None:
    two_sites_and_their_staff(database)
    before = case_count(database)

    result = run_cli("cases", "add", "--as", SERVICE_MANAGER, *REFERRAL, "--dash", "y" * 23,
                     database=database)  # fmt: skip

    assert result.returncode == 1
    assert "DASH question 24 has no answer" in result.stderr
    assert case_count(database) == before


def test_a_case_manager_records_referrals_only_once_the_site_allows_it(database: Path) -> None:
    two_sites_and_their_staff(database)
    refused = run_cli("cases", "add", "--as", CASE_MANAGER, *REFERRAL, database=database)
    assert refused.returncode == 1
    assert "You do not have permission" in refused.stderr

    allowed = run_cli("sites", "set-referral-roles", "HER", "case_manager", database=database)
    assert "new referrals may also be recorded by: Case manager" in allowed.stdout

    added_reference(run_cli("cases", "add", "--as", CASE_MANAGER, *REFERRAL, database=database))


# --- staff accounts (issue 20) ----------------------------------------------------------------


def test_users_add_prints_the_invitation_without_notify_and_resets_need_an_account_set_up(
    database: Path,
) -> None:
    for code, name in (("HER", "Herefordshire"), ("WOR", "Worcestershire")):
        assert run_cli("sites", "add", code, name, database=database).returncode == 0
    added = run_cli(
        "users", "add", SERVICE_MANAGER, "--name", "Test Lead", "--role", "HER:service_manager",
        database=database,
    )  # fmt: skip
    assert added.returncode == 0, added.stderr
    assert "Email is not set up for this service" in added.stdout
    assert re.search(r"^http://localhost:3000/account-link\?token=\S{40,}$", added.stdout, re.M)
    run_cli("users", "add", CASE_MANAGER, "--name", "Test Casey", "--role", "HER:case_manager",
            database=database)  # fmt: skip

    both = run_cli("users", "reset", CASE_MANAGER, "--as", SERVICE_MANAGER, database=database)
    assert both.returncode == 2 and "--password or --second-factor" in both.stderr
    early = run_cli(
        "users", "reset", CASE_MANAGER, "--second-factor", "--as", SERVICE_MANAGER,
        database=database,
    )  # fmt: skip
    assert early.returncode == 1 and "Send their invitation again" in early.stderr
    again = run_cli("users", "invite", CASE_MANAGER, "--as", SERVICE_MANAGER, database=database)
    assert again.returncode == 0, again.stderr
    assert "/account-link?token=" in again.stdout
