"""The web sign-in throttle and the account lock, built so that nobody can use them to lock a
colleague out.

Every attempt is recorded under two keys: the email address as typed (``account_key``) and the
client it came from (``client_key``: its network address, an IPv6 address by its /64), both as
SHA-256 hashes. Three rules use them:

- **Per address and client, a growing delay.** ``FREE_FAILURES`` failures from one client for
  one address, then that client must wait ``FIRST_DELAY`` after its last failure, twice as long
  after each further one, at most ``MAX_DELAY``. Failures from other clients do not count, so
  the owner's own device is never held back by someone else's guesses. A success from that
  client forgets that client's failures for the address.
- **Per client, a ceiling.** ``MAX_FAILURES_PER_CLIENT`` failures in ``CLIENT_WINDOW`` from one
  client, whatever the addresses, and it is refused until the oldest of them leaves the window,
  before any account is looked at (guessing across many accounts from one place).
- **Per account, a lock only for a spread-out attack.** ``LOCK_AFTER_FAILURES`` failures within
  ``FAILURE_MEMORY`` from at least ``LOCK_MIN_CLIENTS`` different clients lock the account
  (``users.locked_at``): the right password then gets ``AccountLocked`` until the person's own
  reset link (``unlock_account``) or a service manager or admin (``unlock_user``) unlocks it.
  Both are audited (``account.locked``, ``account.unlocked``). A lock also removes the
  account's device PINs (``core.services.device_pins``), so none can resume a session.

Unknown addresses are counted and delayed exactly as known ones; only the right password can
learn that an account is locked, so no refusal shows that an account exists. Refusals by the
throttle are not audited one by one (anyone could fill the audit trail with them); each
failure before them is, as ``auth.sign_in_failed``.
"""

from __future__ import annotations

import hashlib
import ipaddress
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, distinct, func, select, update
from sqlalchemy.orm import selectinload

from core.db.results import rowcount
from core.enums import Face
from core.errors import NotFound, NotPermitted, SignInClientThrottled, SignInThrottled
from core.models import User, WebSignInAttempt
from core.policy import Action, is_allowed
from core.schemas.actor import Actor
from core.services.audit import record_user_audit
from core.services.users import forget_device_pins
from core.uow import UnitOfWork

FREE_FAILURES = 5
FIRST_DELAY = timedelta(minutes=1)
MAX_DELAY = timedelta(minutes=15)
MAX_FAILURES_PER_CLIENT = 20
CLIENT_WINDOW = timedelta(minutes=15)
LOCK_AFTER_FAILURES = 100
LOCK_MIN_CLIENTS = 5
# How long failed attempts are kept and counted (for the delay and the lock).
FAILURE_MEMORY = timedelta(hours=24)

IPV6_CLIENT_PREFIX = 64  # one household or office gets a /64; its addresses are one client


def _sha256(value: str) -> str:
    return hashlib.sha256(value.encode("utf-8", "replace")).hexdigest()


def account_key(email: str) -> str:
    """What the throttle counts an address by: as typed, normalised, hashed."""
    return _sha256(email.strip().lower())


def client_key(client: str) -> str:
    """What the throttle counts a client by: its address (an IPv6 one by its /64), hashed.

    Whatever the face passes that is not an address is hashed as it is; an unknown client is
    ``""``, and all unknown clients share one key.
    """
    text = client.strip()
    try:
        address = ipaddress.ip_address(text)
    except ValueError:
        return _sha256(text)
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return _sha256(str(address.ipv4_mapped))
        network = ipaddress.IPv6Network((address, IPV6_CLIENT_PREFIX), strict=False)
        return _sha256(str(network))
    return _sha256(str(address))


def delay_after(failures: int) -> timedelta:
    """How long a client waits after its last failure for an address, given how many it has."""
    if failures < FREE_FAILURES:
        return timedelta(0)
    doublings = min(failures - FREE_FAILURES, 16)  # far past MAX_DELAY already
    return min(FIRST_DELAY * (1 << doublings), MAX_DELAY)


def _next_minute(moment: datetime) -> datetime:
    """``moment`` rounded up to a whole minute, so "try again at 10:05" is never too early."""
    whole = moment.replace(second=0, microsecond=0)
    return whole if whole == moment else whole + timedelta(minutes=1)


@dataclass(frozen=True)
class Attempt:
    """An attempt recorded and let through: what ``succeeded`` and ``failed`` need."""

    id: int
    account_key: str
    client_key: str


async def open_attempt(uow: UnitOfWork, *, email: str, client: str) -> Attempt:
    """Record an attempt and commit it, then count what came before it.

    ``SignInClientThrottled`` or ``SignInThrottled`` (the new row removed again, so being
    refused does not prolong the wait) when a rule above refuses it. Counted after our own row
    is committed: of any number of parallel attempts, the k-th to commit sees at least k - 1
    others, so a burst cannot slip past the counts.
    """
    now = uow.clock.now()
    account, client_k = account_key(email), client_key(client)
    await uow.session.execute(
        delete(WebSignInAttempt).where(WebSignInAttempt.attempted_at <= now - FAILURE_MEMORY)
    )
    row = WebSignInAttempt(account_key=account, client_key=client_k, attempted_at=now)
    uow.session.add(row)
    await uow.flush()
    attempt = Attempt(id=row.id, account_key=account, client_key=client_k)
    await uow.commit()

    others = (
        select(WebSignInAttempt.attempted_at)
        .where(WebSignInAttempt.client_key == client_k, WebSignInAttempt.id != attempt.id)
        .order_by(WebSignInAttempt.attempted_at)
    )
    from_client = (
        await uow.session.scalars(others.where(WebSignInAttempt.attempted_at > now - CLIENT_WINDOW))
    ).all()
    refusal: SignInClientThrottled | SignInThrottled | None = None
    if len(from_client) >= MAX_FAILURES_PER_CLIENT:
        # Let through again once all but MAX - 1 of these have left the window.
        oldest = from_client[len(from_client) - MAX_FAILURES_PER_CLIENT]
        refusal = SignInClientThrottled(retry_at=_next_minute(oldest + CLIENT_WINDOW))
    else:
        for_account = (
            await uow.session.scalars(
                others.where(
                    WebSignInAttempt.account_key == account,
                    WebSignInAttempt.attempted_at > now - FAILURE_MEMORY,
                )
            )
        ).all()
        if for_account and now < for_account[-1] + delay_after(len(for_account)):
            retry_at = _next_minute(for_account[-1] + delay_after(len(for_account)))
            refusal = SignInThrottled(retry_at=retry_at)
    if refusal is None:
        return attempt
    await uow.session.execute(delete(WebSignInAttempt).where(WebSignInAttempt.id == attempt.id))
    await uow.commit()
    raise refusal


async def succeeded(uow: UnitOfWork, attempt: Attempt) -> None:
    """The attempt succeeded: this client's failures for this address are forgotten (the
    caller commits). Other clients' failures stay, and still count towards a lock."""
    await uow.session.execute(
        delete(WebSignInAttempt).where(
            WebSignInAttempt.account_key == attempt.account_key,
            WebSignInAttempt.client_key == attempt.client_key,
        )
    )


async def withdraw(uow: UnitOfWork, attempt: Attempt) -> None:
    """The attempt neither succeeded nor failed (the right password for a locked account):
    it does not count (the caller commits)."""
    await uow.session.execute(delete(WebSignInAttempt).where(WebSignInAttempt.id == attempt.id))


async def failed(uow: UnitOfWork, attempt: Attempt, user: User | None) -> None:
    """The attempt failed: its row stays, counting. Locks the account (audited, once) when the
    address's failures reach the lock's thresholds; the caller commits. Counted for unknown
    addresses too, so both take the same path."""
    failures, clients = (
        await uow.session.execute(
            select(func.count(), func.count(distinct(WebSignInAttempt.client_key))).where(
                WebSignInAttempt.account_key == attempt.account_key,
                WebSignInAttempt.attempted_at > uow.clock.now() - FAILURE_MEMORY,
            )
        )
    ).one()
    if user is None or failures < LOCK_AFTER_FAILURES or clients < LOCK_MIN_CLIENTS:
        return
    result = await uow.session.execute(
        update(User)
        .where(User.id == user.id, User.locked_at.is_(None))
        .values(locked_at=uow.clock.now())
        .execution_options(synchronize_session=False)
    )
    if rowcount(result) == 1:  # of two failures locking at once, one audits it
        record_user_audit(
            uow,
            Actor.system(Face.WEB),
            "account.locked",
            user,
            {"failures": failures, "clients": clients},
        )
        # A lock is a sign of attack: no PIN may resume a session until the owner signs in.
        await forget_device_pins(uow, user, Actor.system(Face.WEB), "account_locked")


async def _unlock(uow: UnitOfWork, user: User, actor: Actor, reason: str) -> bool:
    result = await uow.session.execute(
        update(User)
        .where(User.id == user.id, User.locked_at.is_not(None))
        .values(locked_at=None)
        .execution_options(synchronize_session=False)
    )
    if rowcount(result) != 1:
        return False
    # Its failures go too: otherwise the next one would lock it again at once.
    await uow.session.execute(
        delete(WebSignInAttempt).where(WebSignInAttempt.account_key == account_key(user.email))
    )
    record_user_audit(uow, actor, "account.unlocked", user, {"reason": reason})
    return True


async def unlock_account(uow: UnitOfWork, *, user_id: int, reason: str) -> bool:
    """Unlock the account inside the caller's unit of work (the caller commits); False if it
    was not locked. For a flow that has already proved who the person is: **the password reset
    link must call this** (``reason="reset_link"``) once the person has used it, so their own
    link lifts a lock. Audited as ``account.unlocked`` by the system, with the reason."""
    user = await uow.session.scalar(
        select(User).options(selectinload(User.memberships)).where(User.id == user_id)
    )
    if user is None:
        raise NotFound(entity="users", id=user_id)
    return await _unlock(uow, user, Actor.system(Face.WEB), reason)


async def unlock_user(*, uow: UnitOfWork, actor: Actor, user_id: int) -> bool:
    """A service manager or admin at one of the account's sites (or the host operator) unlocks
    it; False if it was not locked. Audited as ``account.unlocked`` by the actor."""
    async with uow:
        user = await uow.session.scalar(
            select(User).options(selectinload(User.memberships)).where(User.id == user_id)
        )
        if user is None:
            raise NotFound(entity="users", id=user_id)
        site_ids = sorted({m.site_id for m in user.memberships})
        if not any(is_allowed(actor, Action.USER_UNLOCK, site_id=s) for s in site_ids):
            if not (actor.is_system and is_allowed(actor, Action.USER_UNLOCK)):
                site_id = site_ids[0] if site_ids else None
                raise NotPermitted(
                    action=str(Action.USER_UNLOCK), actor=actor, site_id=site_id
                ).about("user", user_id)
        unlocked = await _unlock(uow, user, actor, "unlocked_by_staff")
        await uow.commit()
        return unlocked
