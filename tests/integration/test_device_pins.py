"""Device PINs on SQLite and PostgreSQL (``core.services.device_pins``): set with the current
password, bound to one device and one person, resuming only a session that ended for being idle
within its 12 hours; five wrong PINs remove it, each failure audited and counted by the sign-in
throttle; a sign-out, "sign out everywhere", a reset, an account lock or switching the account off
removes the person's PINs.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from argon2 import PasswordHasher
from sqlalchemy import func, select

from core.bootstrap import Container
from core.enums import Role
from core.errors import DeviceUnknown, PinNotAllowed, PinRejected, SignInThrottled, WrongPassword
from core.models import AuditEvent, DevicePin, User, WebSignInAttempt
from core.schemas.actor import Actor
from core.services import accounts, auth, device_pins, lockout
from core.services import users as user_services
from core.settings import Settings
from tests.conftest import START
from tests.integration.test_auth import set_user

SETTINGS = Settings()
PASSWORD = "a long test password"
PIN = "480152"
CLIENT = "192.0.2.10"
CHEAP = PasswordHasher(time_cost=1, memory_cost=64, parallelism=1)


async def with_password(container: Container, actor: Actor) -> Actor:
    await set_user(
        container, actor.user_id, password_hash=CHEAP.hash(PASSWORD), totp_enrolled_at=START
    )
    return actor


async def signed_in(container: Container, actor: Actor) -> str:
    """A new session token of ``actor``'s (as the cookie endpoint gets it)."""
    uow = container.uow()
    async with uow:
        result = await auth.issue_handoff(uow, actor.user_id)
        await uow.commit()
    return await auth.redeem_handoff(uow=container.uow(), code=result.handoff_code)


async def go_idle(container: Container, token: str, clock) -> None:
    clock.advance(timedelta(minutes=SETTINGS.web_session_idle_minutes + 1))
    assert await auth.actor_for_session(uow=container.uow(), token=token, settings=SETTINGS) is None


async def set_pin(container: Container, actor: Actor, device: str, pin: str = PIN) -> None:
    await device_pins.set_my_pin(
        uow=container.uow(), actor=actor, device_id=device, pin=pin, current_password=PASSWORD
    )


async def offered(container: Container, token: str | None, device: str | None) -> bool:
    return await device_pins.pin_resume_offered(
        uow=container.uow(), settings=SETTINGS, session_token=token, device_id=device
    )


async def resume(container: Container, token: str, device: str, pin: str = PIN) -> None:
    await device_pins.resume_with_pin(
        uow=container.uow(),
        settings=SETTINGS,
        session_token=token,
        device_id=device,
        pin=pin,
        client=CLIENT,
    )


async def actions(container: Container, prefix: str) -> list[tuple[str, dict | None]]:
    async with container.session_factory() as session:
        rows = await session.execute(
            select(AuditEvent.action, AuditEvent.details)
            .where(AuditEvent.action.like(f"{prefix}%"))
            .order_by(AuditEvent.id)
        )
        return [(action, details) for action, details in rows]


async def pins(container: Container) -> int:
    async with container.session_factory() as session:
        return int(await session.scalar(select(func.count()).select_from(DevicePin)) or 0)


async def test_a_pin_resumes_its_owners_idle_session_on_the_same_device_within_twelve_hours(
    container: Container, world, clock
) -> None:
    actor = await with_password(container, world.actor(Role.CASE_MANAGER))
    phone, laptop = device_pins.new_device_id(), device_pins.new_device_id()
    token = await signed_in(container, actor)
    await set_pin(container, actor, phone)
    await set_pin(container, actor, phone, "703915")  # setting it again replaces it
    await set_pin(container, actor, phone)
    assert await pins(container) == 1
    assert not await offered(container, token, phone)  # still active: nothing to resume
    await go_idle(container, token, clock)

    assert await offered(container, token, phone)
    assert not await offered(container, token, laptop)  # another device: no PIN there
    assert not await offered(container, None, phone)
    someone_else = await signed_in(container, world.actor(Role.IDVA))
    await go_idle(container, someone_else, clock)
    assert not await offered(container, someone_else, phone)  # the PIN is the owner's only
    await resume(container, token, phone)

    back = await auth.actor_for_session(uow=container.uow(), token=token, settings=SETTINGS)
    assert back is not None and back.user_id == actor.user_id
    mine = await device_pins.my_pin(uow=container.uow(), actor=actor, device_id=phone)
    assert mine is not None and mine.last_used_at == clock.now()
    assert [(a, d) for a, d in await actions(container, "pin.")] == [
        ("pin.set", {"replaced": False}),
        ("pin.set", {"replaced": True}),
        ("pin.set", {"replaced": True}),
    ]
    resumed = [d or {} for _, d in await actions(container, "auth.session_resumed")]
    assert [d.get("method") for d in resumed] == ["pin"]
    # The 12 hours count from the sign-in: after them the session cannot be resumed.
    clock.advance(timedelta(hours=SETTINGS.web_session_max_hours))
    assert await auth.actor_for_session(uow=container.uow(), token=token, settings=SETTINGS) is None
    assert not await offered(container, token, phone)
    with pytest.raises(PinRejected):
        await resume(container, token, phone)


@pytest.mark.parametrize(
    ("pin", "rule"),
    [("12345", "format"), ("12345a", "format"), ("777777", "one_digit"),
     ("123456", "sequence"), ("987654", "sequence")],
)  # fmt: skip
async def test_a_weak_pin_or_a_wrong_password_or_no_device_id_sets_nothing(
    container: Container, world, pin: str, rule: str
) -> None:
    actor = await with_password(container, world.actor(Role.CASE_MANAGER))
    phone = device_pins.new_device_id()
    with pytest.raises(PinNotAllowed) as caught:
        await set_pin(container, actor, phone, pin)
    assert caught.value.details == {"field": "pin", "rule": rule}
    with pytest.raises(WrongPassword):
        await device_pins.set_my_pin(
            uow=container.uow(), actor=actor, device_id=phone, pin=PIN, current_password="no"
        )
    with pytest.raises(DeviceUnknown):
        await set_pin(container, actor, "not a device id")
    assert await pins(container) == 0
    assert await actions(container, "pin.") == [("pin.set_failed", {"reason": "wrong_password"})]


async def test_five_wrong_pins_remove_it_and_each_failure_is_audited_and_throttled(
    container: Container, world, clock
) -> None:
    actor = await with_password(container, world.actor(Role.CASE_MANAGER))
    phone = device_pins.new_device_id()
    token = await signed_in(container, actor)
    await set_pin(container, actor, phone)
    await go_idle(container, token, clock)

    tries_left = []
    for _ in range(device_pins.MAX_TRIES):
        with pytest.raises(PinRejected) as caught:
            await resume(container, token, phone, "111222")
        tries_left.append(caught.value.details.get("tries_left"))
    assert tries_left == [4, 3, 2, 1, None]
    assert caught.value.details == {"removed": True}
    assert await pins(container) == 0
    assert not await offered(container, token, phone)
    with pytest.raises(PinRejected):  # the right PIN no longer works: sign in in full
        await resume(container, token, phone)
    assert await auth.actor_for_session(uow=container.uow(), token=token, settings=SETTINGS) is None
    failures = [d for a, d in await actions(container, "auth.sign_in_failed")]
    assert failures == [{"reason": "pin_wrong"}] * device_pins.MAX_TRIES
    assert ("pin.removed", {"reason": "too_many_tries", "count": 1}) in await actions(
        container, "pin."
    )
    async with container.session_factory() as session:
        counted = await session.scalar(
            select(func.count())
            .select_from(WebSignInAttempt)
            .where(WebSignInAttempt.client_key == lockout.client_key(CLIENT))
        )
    assert counted == device_pins.MAX_TRIES
    # The throttle holds this client back now, even with a new PIN and the right one.
    await set_pin(container, actor, phone)
    with pytest.raises(SignInThrottled):
        await resume(container, token, phone)


async def end_by_sign_out(container: Container, world, actor: Actor, token: str) -> None:
    await auth.sign_out(uow=container.uow(), token=token)


async def end_everywhere(container: Container, world, actor: Actor, token: str) -> None:
    await accounts.sign_out_everywhere(uow=container.uow(), actor=actor)


async def end_by_reset(container: Container, world, actor: Actor, token: str) -> None:
    await accounts.reset_second_factor(
        uow=container.uow(),
        actor=world.actor(Role.SERVICE_MANAGER),
        user_id=actor.user_id,
        mailer=None,
    )


async def end_by_switching_off(container: Container, world, actor: Actor, token: str) -> None:
    await user_services.set_user_active(
        uow=container.uow(), actor=world.actor(Role.ADMIN), user_id=actor.user_id, is_active=False
    )


async def end_by_lock(container: Container, world, actor: Actor, token: str) -> None:
    """Failures for the address from five other clients, one short of the lock; then a wrong
    PIN from this device is the hundredth."""
    await go_idle(container, token, container.clock)
    email = actor.email
    async with container.session_factory() as session:
        for n in range(lockout.LOCK_AFTER_FAILURES - 1):
            session.add(
                WebSignInAttempt(
                    account_key=lockout.account_key(email),
                    client_key=lockout.client_key(f"203.0.113.{n % 5 + 1}"),
                    attempted_at=container.clock.now() - timedelta(hours=1),
                )
            )
        await session.commit()
    with pytest.raises(PinRejected):
        await resume(container, token, PHONE, "111222")
    async with container.session_factory() as session:
        assert await session.scalar(select(User.locked_at).where(User.id == actor.user_id))


PHONE = device_pins.new_device_id()


@pytest.mark.parametrize(
    ("end", "reason"),
    [
        (end_by_sign_out, "signed_out"),
        (end_everywhere, "signed_out_all"),
        (end_by_reset, "second_factor_reset"),
        (end_by_lock, "account_locked"),
        (end_by_switching_off, "deactivated"),
    ],
    ids=["sign-out", "everywhere", "reset", "lock", "switched-off"],
)
async def test_signing_out_a_reset_or_a_lock_removes_the_persons_pins(
    container: Container, world, clock, end, reason: str
) -> None:
    actor = await with_password(container, world.actor(Role.CASE_MANAGER))
    token = await signed_in(container, actor)
    await set_pin(container, actor, PHONE)
    await set_pin(container, actor, device_pins.new_device_id())  # and on another device

    await end(container, world, actor, token)

    assert await pins(container) == 0
    assert ("pin.removed", {"reason": reason, "count": 2}) in await actions(container, "pin.")
    assert not await offered(container, token, PHONE)
