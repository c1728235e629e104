"""The web sign-in throttle and the account lock (``core.services.lockout``), on SQLite and
PostgreSQL: a growing delay per address and client, a ceiling per client, a lock only after many
failures from several clients, unlocking, and above all that one attacker cannot lock a
colleague out.

Time is moved with the injected clock. The test accounts' passwords are hashed with cheap
argon2 parameters (``argon2`` reads them from the hash), so a hundred failures take seconds;
unknown addresses still go through the app's own dummy hash.
"""

from __future__ import annotations

import asyncio
import sqlite3
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from argon2 import PasswordHasher
from sqlalchemy import func, select

from core.bootstrap import Container
from core.clock import FixedClock
from core.enums import Face, Role
from core.errors import (
    AccountLocked,
    NotPermitted,
    SignInClientThrottled,
    SignInFailed,
    SignInThrottled,
)
from core.models import AuditEvent, User, WebSignInAttempt
from core.schemas.actor import Actor
from core.schemas.auth import SignInResult
from core.schemas.sites import SiteCreate
from core.schemas.users import MembershipCreate, UserCreate
from core.services import lockout
from core.services import sites as site_services
from core.services import users as user_services
from tests.integration.test_auth import (
    ATTACKER,
    CLIENT,
    EMAIL,
    PASSWORD,
    add_account,
    run_cli,
    set_user,
    sign_in,
)

WRONG = "not the password"
CHEAP = PasswordHasher(time_cost=1, memory_cost=64, parallelism=1)
Refusal = SignInThrottled | SignInClientThrottled


@pytest.fixture
async def site(container: Container) -> int:
    created = await site_services.create_site(
        uow=container.uow(), actor=Actor.system(), data=SiteCreate(code="HER", name="Testshire")
    )
    return created.id


async def colleague(container: Container, email: str = EMAIL) -> int:
    """An enrolled case manager at HER whose password is quick to check."""
    user_id = await add_account(container, email)
    await set_user(container, user_id, password_hash=CHEAP.hash(PASSWORD))
    return user_id


def moving_clock(container: Container) -> FixedClock:
    clock = container.clock
    assert isinstance(clock, FixedClock)
    return clock


async def fail(container: Container, client: str, email: str = EMAIL) -> None:
    with pytest.raises(SignInFailed):
        await sign_in(container, email, WRONG, client=client)


async def fail_as_fast_as_allowed(
    container: Container, client: str, failures: int, email: str = EMAIL
) -> int:
    """``failures`` wrong passwords from ``client``, each tried again at once when refused and
    then as soon as the refusal says; returns how many were refused on the way."""
    clock, refused = moving_clock(container), 0
    while failures:
        try:
            await sign_in(container, email, WRONG, client=client)
        except SignInFailed:
            failures -= 1
        except (SignInThrottled, SignInClientThrottled) as refusal:
            refused += 1
            clock.set(refusal.details["retry_at"])
    return refused


async def actions(container: Container, prefix: str) -> list[tuple[str, int | None, dict]]:
    async with container.session_factory() as session:
        rows = await session.execute(
            select(AuditEvent.action, AuditEvent.actor_user_id, AuditEvent.details)
            .where(AuditEvent.action.like(f"{prefix}%"))
            .order_by(AuditEvent.id)
        )
        return [(action, actor, details) for action, actor, details in rows]


async def locked_at(container: Container, user_id: int) -> datetime | None:
    async with container.session_factory() as session:
        return await session.scalar(select(User.locked_at).where(User.id == user_id))


async def attempt_rows(container: Container) -> int:
    async with container.session_factory() as session:
        return int(await session.scalar(select(func.count()).select_from(WebSignInAttempt)) or 0)


# --- One attacker against a colleague -----------------------------------------------------------


async def test_one_attacker_failing_any_number_of_times_cannot_stop_a_colleague_signing_in(
    container: Container, site: int
) -> None:
    user_id = await colleague(container)
    clock = moving_clock(container)

    # A day of guessing from one place, trying again the moment each refusal allows (and once
    # more straight after each refusal): the colleague signs in from their own device at once,
    # whenever they like, and is never delayed.
    for _round in range(4):
        refused = await fail_as_fast_as_allowed(container, ATTACKER, 30)
        assert refused > 0  # the attacker was held back
        with pytest.raises(SignInThrottled):
            await sign_in(container, client=ATTACKER)  # even with the right password
        assert isinstance(await sign_in(container, client=CLIENT), SignInResult)
        clock.advance(timedelta(seconds=30))  # the next code

    assert await locked_at(container, user_id) is None
    assert await actions(container, "account.") == []


async def test_an_attacker_moving_through_one_ipv6_slash_64_is_still_one_client(
    container: Container, site: int
) -> None:
    await colleague(container)
    for n in range(5):
        await fail(container, f"2001:db8:1:2::{n + 1:x}")

    with pytest.raises(SignInThrottled):
        await sign_in(container, EMAIL, WRONG, client="2001:db8:1:2:ffff::9")
    assert isinstance(await sign_in(container, client="2001:db8:1:3::1"), SignInResult)


# --- The growing delay per address and client ---------------------------------------------------


async def test_after_five_failures_a_client_waits_one_two_four_eight_then_fifteen_minutes(
    container: Container, site: int
) -> None:
    await colleague(container)
    clock = moving_clock(container)
    for _ in range(5):
        await fail(container, ATTACKER)

    waits = []
    for _ in range(6):
        last_failure = clock.now()
        with pytest.raises(SignInThrottled) as caught:
            await sign_in(container, client=ATTACKER)  # the right password changes nothing
        retry_at = caught.value.details["retry_at"]
        waits.append(retry_at - last_failure)
        clock.set(retry_at - timedelta(seconds=1))
        with pytest.raises(SignInThrottled):  # a second early is still too early
            await sign_in(container, EMAIL, WRONG, client=ATTACKER)
        clock.set(retry_at)
        await fail(container, ATTACKER)

    assert waits == [timedelta(minutes=m) for m in (1, 2, 4, 8, 15, 15)]
    assert await attempt_rows(container) == 11  # refusals leave nothing behind


async def test_after_the_wait_the_right_password_and_code_sign_in_and_the_count_starts_again(
    container: Container, site: int
) -> None:
    await colleague(container)
    clock = moving_clock(container)
    for _ in range(6):
        await fail_as_fast_as_allowed(container, CLIENT, 1)
    with pytest.raises(SignInThrottled) as caught:
        await sign_in(container)
    clock.set(caught.value.details["retry_at"])

    assert isinstance(await sign_in(container), SignInResult)
    for _ in range(5):  # five free failures again, not a wait after the first
        await fail(container, CLIENT)
    assert await attempt_rows(container) == 5


async def test_an_unknown_address_is_delayed_exactly_like_a_real_one(
    container: Container, site: int
) -> None:
    await colleague(container)
    refusals = []
    for email in (EMAIL, "nobody@test.invalid"):
        for _ in range(5):
            await fail(container, ATTACKER, email)
        with pytest.raises(SignInThrottled) as caught:
            await sign_in(container, email, client=ATTACKER)
        refusals.append((caught.value.code, caught.value.details))

    assert refusals[0] == refusals[1]
    assert refusals[0][0] == "sign_in_throttled"


async def test_ten_wrong_sign_ins_at_once_from_one_client_are_checked_at_most_five_times(
    container: Container, site: int
) -> None:
    await colleague(container)

    outcomes = await asyncio.gather(
        *(sign_in(container, password=f"guess {n}", client=ATTACKER) for n in range(10)),
        return_exceptions=True,
    )

    # Parallel attempts are counted before any password is checked, so a burst may be held
    # back more than strictly needed, never less: at most five are checked, each leaving a row.
    assert all(isinstance(o, SignInFailed | SignInThrottled) for o in outcomes), outcomes
    checked = sum(isinstance(o, SignInFailed) for o in outcomes)
    assert checked <= 5  # all ten may even be held back, when all commit before any counts
    failures = [a for a, _u, _d in await actions(container, "auth.sign_in_failed")]
    assert len(failures) == checked
    assert await attempt_rows(container) == checked


# --- The ceiling per client ---------------------------------------------------------------------


async def test_twenty_failures_from_one_client_across_addresses_stop_that_client_only(
    container: Container, site: int
) -> None:
    await colleague(container)
    clock = moving_clock(container)
    start = clock.now()
    for n in range(20):
        await fail(container, ATTACKER, f"guess{n}@test.invalid")
        clock.advance(timedelta(seconds=10))

    with pytest.raises(SignInClientThrottled) as caught:
        await sign_in(container, client=ATTACKER)  # a real account, its right password
    assert caught.value.details == {"retry_at": start + timedelta(minutes=15)}
    assert isinstance(await sign_in(container, client=CLIENT), SignInResult)

    clock.set(start + timedelta(minutes=15))  # the first failure has left the window
    clock.advance(timedelta(seconds=30))
    assert isinstance(await sign_in(container, client=ATTACKER), SignInResult)


# --- The lock -----------------------------------------------------------------------------------


async def test_a_hundred_failures_lock_the_account_only_once_they_come_from_five_clients(
    container: Container, site: int
) -> None:
    user_id = await colleague(container)
    clients = [f"203.0.113.{n}" for n in range(1, 6)]
    for client in clients[:4]:
        await fail_as_fast_as_allowed(container, client, 25)
    assert await locked_at(container, user_id) is None  # a hundred, but from four clients

    await fail(container, clients[4])

    assert await locked_at(container, user_id) == moving_clock(container).now()
    [(action, actor, details)] = await actions(container, "account.")
    assert (action, actor, details) == ("account.locked", None, {"failures": 101, "clients": 5})
    with pytest.raises(SignInFailed):  # without the password, nothing shows the lock
        await sign_in(container, password=WRONG, client="192.0.2.99")
    with pytest.raises(AccountLocked) as caught:  # the right password, from anywhere
        await sign_in(container, client="192.0.2.98")
    assert caught.value.code == "account_locked"
    assert len(await actions(container, "account.")) == 1  # locked once


async def lock(container: Container, user_id: int) -> None:
    for n in range(1, 6):
        await fail_as_fast_as_allowed(container, f"203.0.113.{n}", 20)
    assert await locked_at(container, user_id) is not None


async def test_the_persons_own_reset_link_unlocks_the_account_and_forgets_its_failures(
    container: Container, site: int
) -> None:
    user_id = await colleague(container)
    await lock(container, user_id)

    uow = container.uow()
    async with uow:  # as the reset link's flow does, inside its own unit of work
        assert await lockout.unlock_account(uow, user_id=user_id, reason="reset_link")
        await uow.commit()

    assert await locked_at(container, user_id) is None
    assert (await actions(container, "account."))[-1] == (
        "account.unlocked",
        None,
        {"reason": "reset_link"},
    )
    await fail(container, "203.0.113.1")  # one more failure does not lock it again at once
    assert await locked_at(container, user_id) is None
    assert isinstance(await sign_in(container), SignInResult)
    uow = container.uow()
    async with uow:
        assert not await lockout.unlock_account(uow, user_id=user_id, reason="reset_link")


async def test_a_service_manager_at_the_persons_site_unlocks_it_and_a_case_manager_cannot(
    container: Container, site: int
) -> None:
    user_id = await colleague(container)
    await lock(container, user_id)

    async def staff(role: Role, email: str) -> Actor:
        await user_services.add_user(
            uow=container.uow(),
            actor=Actor.system(),
            data=UserCreate(
                email=email,
                display_name="Test Staff",
                memberships=[MembershipCreate(site_code="HER", role=role)],
            ),
        )
        return await user_services.actor_for_email(uow=container.uow(), email=email, face=Face.WEB)

    case_manager = await staff(Role.CASE_MANAGER, "cm@test.invalid")
    manager = await staff(Role.SERVICE_MANAGER, "sm@test.invalid")
    with pytest.raises(NotPermitted):
        await lockout.unlock_user(uow=container.uow(), actor=case_manager, user_id=user_id)
    assert await locked_at(container, user_id) is not None
    assert await lockout.unlock_user(uow=container.uow(), actor=manager, user_id=user_id)
    assert (await actions(container, "account."))[-1] == (
        "account.unlocked",
        manager.user_id,
        {"reason": "unlocked_by_staff"},
    )
    assert isinstance(await sign_in(container), SignInResult)


def test_drive_assist_users_unlock_unlocks_a_locked_account(tmp_path: Path) -> None:
    database = tmp_path / "unlock.sqlite3"
    assert run_cli("db", "upgrade", database=database, demo_mode=False).returncode == 0
    added = run_cli("users", "add", EMAIL, "--name", "Casey", database=database, demo_mode=False)
    assert added.returncode == 0, added.stderr
    with sqlite3.connect(database) as connection:
        connection.execute("UPDATE users SET locked_at = '2026-03-02 09:00:00.000000'")

    unlocked = run_cli("users", "unlock", EMAIL.upper(), database=database, demo_mode=False)
    again = run_cli("users", "unlock", EMAIL, database=database, demo_mode=False)

    assert unlocked.returncode == 0, unlocked.stderr
    assert f"Unlocked {EMAIL}" in unlocked.stdout
    assert again.returncode == 0 and f"{EMAIL} was not locked" in again.stdout
    with sqlite3.connect(database) as connection:
        assert connection.execute("SELECT locked_at FROM users").fetchall() == [(None,)]
        actions = connection.execute(
            "SELECT action FROM audit_events WHERE action LIKE 'account.%'"
        ).fetchall()
    assert actions == [("account.unlocked",)]


# --- What is stored -----------------------------------------------------------------------------


async def test_attempts_hold_neither_the_address_nor_the_client_only_their_hashes(
    container: Container, site: int
) -> None:
    await colleague(container)
    await fail(container, ATTACKER)

    async with container.session_factory() as session:
        row = (await session.scalars(select(WebSignInAttempt))).one()
    assert row.account_key == lockout.account_key(EMAIL)
    assert row.client_key == lockout.client_key(ATTACKER)
    assert EMAIL not in repr(vars(row)) and ATTACKER not in repr(vars(row))
