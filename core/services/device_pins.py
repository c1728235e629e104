"""A short PIN that resumes an idle web session on the same device (issue 20 part 6).

The 15-minute idle limit stays. A signed-in person sets a 6-digit PIN for the browser they are
using (``set_my_pin``, confirmed with their current password). When that browser's session
later ends only for being idle, within ``web_session_max_hours`` of its sign-in, the sign-in
page offers "Enter your PIN"; the right PIN brings the same session back
(``resume_with_pin``), as a passkey does (``core.services.passkeys``).

Bound to the device and the person: the browser carries a random device id in a cookie of its
own (HttpOnly, SameSite=Strict, set by the web app's cookie endpoint); only its SHA-256 is
stored, and the PIN is kept as argon2id of the device id and the PIN together, so the table
without the device's cookie gives nothing to guess offline. One PIN per person per device.

Guessing is capped: each try is claimed before the PIN is checked (parallel guesses cannot
slip past), ``MAX_TRIES`` wrong PINs remove it from the device, and every failure also counts
in the sign-in throttle for that client (``core.services.lockout``). Sign-out, "sign out
everywhere", a password or second-factor reset and an account lock remove the person's PINs
(``core.services.users.forget_device_pins``). Every set, removal, resume and failure is
audited; nothing here logs or audits a PIN, a device id or a token.
"""

from __future__ import annotations

import asyncio
import hashlib
import re
import secrets
from datetime import timedelta

from sqlalchemy import delete, select, update

from core.db.results import rowcount
from core.enums import Face
from core.errors import DeviceUnknown, NotPermitted, PinNotAllowed, PinRejected, WrongPassword
from core.models import DevicePin, User, WebSession
from core.passwords import hash_password, verify_password
from core.schemas.actor import Actor
from core.schemas.device_pins import DevicePinRead
from core.services import auth, lockout
from core.services.audit import record_user_audit
from core.services.users import actor_from_user
from core.settings import Settings
from core.uow import UnitOfWork

PIN_LENGTH = 6
MAX_TRIES = 5
_PIN = re.compile(r"[0-9]{6}")
_DEVICE_ID = re.compile(r"[A-Za-z0-9_-]{43}")  # secrets.token_urlsafe(32)


# --- The device and the PIN --------------------------------------------------------------------


def new_device_id() -> str:
    """A new random device id (256 bits) for the device cookie."""
    return secrets.token_urlsafe(32)


def is_device_id(value: str | None) -> bool:
    """Whether ``value`` looks like a device id this service made (anything else is none)."""
    return value is not None and _DEVICE_ID.fullmatch(value) is not None


def _device_hash(device_id: str) -> str:
    return hashlib.sha256(device_id.encode("ascii")).hexdigest()


def _secret(device_id: str, pin: str) -> str:
    return f"{device_id}:{pin}"


def pin_problem(pin: str) -> str | None:
    """Why ``pin`` may not be used, as a rule code, or None: ``format`` (not 6 digits),
    ``one_digit`` (one digit six times) or ``sequence`` (a straight run up or down, like
    123456 or 987654: the first PINs anyone watching would try)."""
    if _PIN.fullmatch(pin) is None:
        return "format"
    if len(set(pin)) == 1:
        return "one_digit"
    steps = {int(b) - int(a) for a, b in zip(pin, pin[1:], strict=False)}
    if steps in ({1}, {-1}):
        return "sequence"
    return None


def _me(actor: Actor) -> int:
    if actor.is_system:
        raise NotPermitted(action="pin.manage", actor=actor)
    return actor.user_id


async def _user(uow: UnitOfWork, user_id: int) -> User:
    user = await uow.session.get(User, user_id)
    if user is None or not user.is_active:
        raise NotPermitted(action="pin.manage")
    return user


# --- The person's PIN on this device -----------------------------------------------------------


async def my_pin(*, uow: UnitOfWork, actor: Actor, device_id: str | None) -> DevicePinRead | None:
    """The actor's PIN on this device (``device_id``: its cookie), or None."""
    user_id = _me(actor)
    if not is_device_id(device_id):
        return None
    assert device_id is not None
    async with uow:
        row = await uow.session.scalar(
            select(DevicePin).where(
                DevicePin.user_id == user_id, DevicePin.device_hash == _device_hash(device_id)
            )
        )
        return None if row is None else DevicePinRead.model_validate(row)


async def set_my_pin(
    *,
    uow: UnitOfWork,
    actor: Actor,
    device_id: str | None,
    pin: str,
    current_password: str,
) -> DevicePinRead:
    """Set (or replace) the actor's PIN for this device, after their current password.

    ``PinNotAllowed`` for a PIN that breaks a rule (``pin_problem``), ``DeviceUnknown`` when
    the browser has no device id, ``WrongPassword`` (audited ``pin.set_failed``) for a wrong
    password: nothing changes. Audited ``pin.set`` (with whether it replaced one)."""
    user_id = _me(actor)
    problem = pin_problem(pin)
    if problem is not None:
        raise PinNotAllowed(field="pin", rule=problem)
    if not is_device_id(device_id):
        raise DeviceUnknown()
    assert device_id is not None
    async with uow:
        stored = (await _user(uow, user_id)).password_hash
    right = stored is not None and await asyncio.to_thread(
        verify_password, stored, current_password
    )
    if not right:
        async with uow:
            user = await _user(uow, user_id)
            record_user_audit(uow, actor, "pin.set_failed", user, {"reason": "wrong_password"})
            await uow.commit()
        raise WrongPassword()
    pin_hash = await asyncio.to_thread(hash_password, _secret(device_id, pin))
    async with uow:
        user = await _user(uow, user_id)
        device = _device_hash(device_id)
        replaced = rowcount(
            await uow.session.execute(
                delete(DevicePin).where(
                    DevicePin.user_id == user_id, DevicePin.device_hash == device
                )
            )
        )
        row = DevicePin(
            user_id=user_id,
            device_hash=device,
            pin_hash=pin_hash,
            failed_attempts=0,
            created_at=uow.clock.now(),
        )
        uow.session.add(row)
        await uow.flush()
        record_user_audit(uow, actor, "pin.set", user, {"replaced": replaced > 0})
        read = DevicePinRead.model_validate(row)
        await uow.commit()
        return read


async def remove_my_pin(*, uow: UnitOfWork, actor: Actor, device_id: str | None) -> bool:
    """Remove the actor's PIN from this device; False if it had none. Audited ``pin.removed``
    (reason ``removed_by_owner``)."""
    user_id = _me(actor)
    if not is_device_id(device_id):
        return False
    assert device_id is not None
    async with uow:
        user = await _user(uow, user_id)
        removed = rowcount(
            await uow.session.execute(
                delete(DevicePin).where(
                    DevicePin.user_id == user_id,
                    DevicePin.device_hash == _device_hash(device_id),
                )
            )
        )
        if removed:
            record_user_audit(
                uow, actor, "pin.removed", user, {"reason": "removed_by_owner", "count": 1}
            )
        await uow.commit()
        return removed > 0


# --- Resuming an idle session with the PIN -----------------------------------------------------


async def _resumable(
    uow: UnitOfWork, settings: Settings, session_token: str | None, device_id: str | None
) -> tuple[WebSession, DevicePin] | None:
    """The session behind ``session_token`` and its owner's PIN on this device, if the session
    ended only for being idle, is within ``web_session_max_hours`` of its sign-in, and its owner
    is active and not locked."""
    if not session_token or "\x00" in session_token or not is_device_id(device_id):
        return None
    assert device_id is not None
    oldest = uow.clock.now() - timedelta(hours=settings.web_session_max_hours)
    found = (
        await uow.session.execute(
            select(WebSession, DevicePin)
            .join(User, User.id == WebSession.user_id)
            .join(DevicePin, DevicePin.user_id == User.id)
            .where(
                WebSession.token_hash == auth.hash_token(session_token),
                WebSession.revoked_reason == auth.IDLE,
                WebSession.created_at > oldest,
                User.is_active.is_(True),
                User.locked_at.is_(None),
                DevicePin.device_hash == _device_hash(device_id),
            )
        )
    ).first()
    return None if found is None else (found[0], found[1])


async def pin_resume_offered(
    *, uow: UnitOfWork, settings: Settings, session_token: str | None, device_id: str | None
) -> bool:
    """Whether this browser's session, ended after the idle limit, may be resumed with its
    owner's PIN on this device."""
    async with uow:
        return await _resumable(uow, settings, session_token, device_id) is not None


async def resume_with_pin(
    *,
    uow: UnitOfWork,
    settings: Settings,
    session_token: str | None,
    device_id: str | None,
    pin: str,
    client: str,
) -> None:
    """Bring this browser's idle session back with its owner's PIN on this device: the same
    session (its 12 hours still count from the sign-in), active again from now. Audited
    ``auth.session_resumed`` (method ``pin``).

    ``PinRejected`` when the session may not be resumed on this device, or for a wrong PIN
    (audited ``auth.sign_in_failed``, reason ``pin_wrong``, and counted by the sign-in
    throttle for ``client``); the ``MAX_TRIES``-th wrong PIN removes it (audited
    ``pin.removed``, reason ``too_many_tries``). ``SignInThrottled`` or
    ``SignInClientThrottled`` when this client must wait first.
    """
    async with uow:
        found = await _resumable(uow, settings, session_token, device_id)
        if found is None:
            raise PinRejected()
        session, stored = found
        session_id, pin_id, pin_hash = session.id, stored.id, stored.pin_hash
        user_id = session.user_id
        email = await uow.session.scalar(select(User.email).where(User.id == user_id))
        assert email is not None and device_id is not None
        attempt = await lockout.open_attempt(uow, email=email, client=client)
        # A try is claimed before the PIN is checked, so parallel guesses share MAX_TRIES.
        claimed = await uow.session.execute(
            update(DevicePin)
            .where(DevicePin.id == pin_id, DevicePin.failed_attempts < MAX_TRIES)
            .values(failed_attempts=DevicePin.failed_attempts + 1)
            .execution_options(synchronize_session=False)
        )
        if rowcount(claimed) != 1:
            await lockout.withdraw(uow, attempt)
            await uow.commit()
            raise PinRejected(removed=True)
        await uow.commit()
    right = _PIN.fullmatch(pin) is not None and await asyncio.to_thread(
        verify_password, pin_hash, _secret(device_id, pin)
    )
    async with uow:
        user = await uow.session.get(User, user_id)
        assert user is not None
        if not right:
            raise await _wrong_pin(uow, user, pin_id, attempt)
        now = uow.clock.now()
        revived = await uow.session.execute(
            update(WebSession)
            .where(WebSession.id == session_id, WebSession.revoked_reason == auth.IDLE)
            .values(revoked_at=None, revoked_reason=None, last_seen_at=now)
            .execution_options(synchronize_session=False)
        )
        if rowcount(revived) != 1:  # resumed or ended meanwhile: nothing is kept
            raise PinRejected()
        await uow.session.execute(
            update(DevicePin)
            .where(DevicePin.id == pin_id)
            .values(failed_attempts=0, last_used_at=now)
            .execution_options(synchronize_session=False)
        )
        await lockout.succeeded(uow, attempt)
        record_user_audit(
            uow,
            actor_from_user(user, Face.WEB),
            "auth.session_resumed",
            user,
            {"method": "pin", "session_id": session_id},
        )
        await uow.commit()


async def _wrong_pin(
    uow: UnitOfWork, user: User, pin_id: int, attempt: lockout.Attempt
) -> PinRejected:
    """Audit and count a wrong PIN (its try is already claimed); the last try removes it."""
    await auth.record_failed_sign_in(uow, user, "pin_wrong")
    await lockout.failed(uow, attempt, user)
    used = await uow.session.scalar(select(DevicePin.failed_attempts).where(DevicePin.id == pin_id))
    if used is None:  # gone meanwhile (a lock, a sign-out elsewhere)
        await uow.commit()
        return PinRejected(removed=True)
    if used >= MAX_TRIES:
        await uow.session.execute(delete(DevicePin).where(DevicePin.id == pin_id))
        record_user_audit(
            uow,
            Actor.system(Face.WEB),
            "pin.removed",
            user,
            {"reason": "too_many_tries", "count": 1},
        )
        await uow.commit()
        return PinRejected(removed=True)
    await uow.commit()
    return PinRejected(removed=False, tries_left=MAX_TRIES - used)
