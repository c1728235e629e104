"""Web sign-in: password (argon2id) and TOTP, one-time handoff codes, and server-side sessions.

The flow: ``sign_in`` checks the email, password and authenticator code and returns a handoff
code (60 seconds, single use). The web app's event handler cannot set an HttpOnly cookie over
its websocket, so it sends the browser to an HTTP endpoint with that code; the endpoint calls
``redeem_handoff`` for the session token and puts it in the cookie. Every event handler then
calls ``actor_for_session`` with the cookie's token. An account without an authenticator
cannot sign in here at all: its authenticator is enrolled only through its invitation or
second-factor reset link (``core.services.accounts``), which then signs in with
``issue_handoff``.

Every failure raises the one ``SignInFailed``, whatever was wrong, in about the same time (an
unknown address is checked against a dummy hash). The face passes the client's network address
too: ``core.services.lockout`` delays a client's attempts after repeated failures for one
address, refuses a client with many failures across addresses, and locks an account only after
many failures from several clients (``AccountLocked``, told only to someone with the right
password). An attempt is recorded *before* the password is checked and removed again if it
succeeds, so a burst of parallel guesses cannot slip past the counts.
Tokens are random (256 bits) and only their SHA-256 is stored. Nothing here logs or audits a
password, a code, a token or a secret.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import secrets
from datetime import datetime, timedelta
from functools import cache
from typing import Any

import pyotp
import segno
from sqlalchemy import delete, or_, select, update

from core.db.results import rowcount
from core.enums import Face
from core.errors import AccountLocked, SignInFailed
from core.models import Membership, Site, User, WebSession, WebSignInToken
from core.passwords import hash_password, verify_password
from core.schemas.actor import Actor, MembershipRead
from core.schemas.auth import SignInResult
from core.schemas.common import has_nul
from core.services import lockout
from core.services.audit import record_audit
from core.services.users import actor_from_user, forget_device_pins, reseal_users_column
from core.settings import Settings
from core.uow import UnitOfWork

HANDOFF_LIFETIME = timedelta(seconds=60)
TOTP_ISSUER = "Drive Assist"
TOTP_STEP_SECONDS = 30
TOTP_VALID_WINDOW = 1  # one step either side: clocks drift and people type slowly
# ``last_seen_at`` is written at most this often, so most events only read. A session may
# therefore end up to this much before the idle limit measured from the very last event.
LAST_SEEN_RESOLUTION = timedelta(minutes=1)

HANDOFF = "handoff"
IDLE = "idle"  # why a session ended after the idle limit; a passkey or PIN may resume it


def _sha256(value: str) -> str:
    return hashlib.sha256(value.encode("utf-8", "replace")).hexdigest()


def hash_token(token: str) -> str:
    return _sha256(token.strip())


def _new_token() -> str:
    return secrets.token_urlsafe(32)


# --- TOTP -------------------------------------------------------------------------------------


def new_totp_secret() -> str:
    return pyotp.random_base32()  # 32 base32 characters: 160 bits, as RFC 4226 recommends


def totp_uri(secret: str, email: str) -> str:
    """The ``otpauth://`` URI an authenticator app reads from the QR code."""
    return pyotp.TOTP(secret, interval=TOTP_STEP_SECONDS).provisioning_uri(
        name=email, issuer_name=TOTP_ISSUER
    )


def totp_qr_svg(uri: str, *, title: str | None = None) -> str:
    """An inline SVG QR code of ``uri``, black on white whatever the page's colours.

    ``title`` is the SVG's accessible name; the face passes it already translated.
    """
    qr = segno.make(uri, error="m")
    return str(qr.svg_inline(scale=4, border=4, dark="#000", light="#fff", title=title))


def current_totp_code(secret: str, now: datetime) -> str:
    return pyotp.TOTP(secret, interval=TOTP_STEP_SECONDS).at(now)


def _matching_step(secret: str, code: str, now: datetime) -> int | None:
    """The time step ``code`` belongs to, within one step of ``now``; None if it matches none."""
    code = "".join(code.split())
    if len(code) != 6 or not code.isascii() or not code.isdigit():
        return None
    totp = pyotp.TOTP(secret, interval=TOTP_STEP_SECONDS)
    current = totp.timecode(now)
    found = None
    for step in range(current - TOTP_VALID_WINDOW, current + TOTP_VALID_WINDOW + 1):
        if hmac.compare_digest(totp.generate_otp(step), code):
            found = step  # no early return: every code costs the same
    return found


# --- Passwords --------------------------------------------------------------------------------


@cache
def _dummy_password_hash() -> str:
    """Checked instead when there is no account, so an unknown address takes as long."""
    return hash_password(secrets.token_urlsafe(16))


def _password_matches(password_hash: str | None, password: str) -> bool:
    if password_hash is None:
        verify_password(_dummy_password_hash(), password)
        return False
    return verify_password(password_hash, password)


# --- Audit ------------------------------------------------------------------------------------


def _audit(
    uow: UnitOfWork,
    action: str,
    *,
    user_id: int | None,
    site_ids: set[int],
    actor: Actor | None = None,
    details: dict[str, Any] | None = None,
) -> None:
    """One event per site of the account (as ``user.add``), so each site's admin sees it.

    Failures are recorded as the web face itself: whoever typed them is not known to be the
    account's owner.
    """
    for site_id in tuple(sorted(site_ids)) or (None,):
        record_audit(
            uow,
            actor or Actor.system(Face.WEB),
            action,
            entity_type="user",
            entity_id=user_id,
            site_id=site_id,
            details=details,
        )


def _site_ids(user: User | None) -> set[int]:
    return {m.site_id for m in user.memberships} if user is not None else set()


# --- Failures --------------------------------------------------------------------------------


async def _fail(
    uow: UnitOfWork, user: User | None, reason: str, attempt: lockout.Attempt
) -> SignInFailed:
    """Audit a failure (its attempt row stays, counting towards the throttle and the lock,
    which this failure may close) and commit."""
    _audit(
        uow,
        "auth.sign_in_failed",
        user_id=user.id if user else None,
        site_ids=_site_ids(user),
        details={"reason": reason},
    )
    await lockout.failed(uow, attempt, user)
    await uow.commit()
    return SignInFailed()


async def _refuse_locked(uow: UnitOfWork, user: User, attempt: lockout.Attempt) -> AccountLocked:
    """The right password for a locked account: audited, not counted as a failure."""
    await lockout.withdraw(uow, attempt)
    _audit(
        uow,
        "auth.sign_in_failed",
        user_id=user.id,
        site_ids=_site_ids(user),
        details={"reason": "account_locked"},
    )
    await uow.commit()
    return AccountLocked()


# --- One-time tokens --------------------------------------------------------------------------


async def _issue_token(
    uow: UnitOfWork, user_id: int, kind: str, lifetime: timedelta
) -> tuple[str, datetime]:
    """A new token of ``kind`` for the account; its older unused ones of that kind stop working."""
    now = uow.clock.now()
    await uow.session.execute(
        delete(WebSignInToken).where(
            WebSignInToken.user_id == user_id,
            or_(
                WebSignInToken.kind == kind,
                WebSignInToken.used_at.is_not(None),
                WebSignInToken.expires_at <= now,
            ),
        )
    )
    token = _new_token()
    expires_at = now + lifetime
    uow.session.add(
        WebSignInToken(
            user_id=user_id,
            kind=kind,
            token_hash=hash_token(token),
            created_at=now,
            expires_at=expires_at,
        )
    )
    return token, expires_at


async def _live_token(uow: UnitOfWork, token: str, kind: str) -> tuple[int, User] | None:
    """The unused, unexpired token of ``kind`` and its active account, if there is one."""
    found = (
        await uow.session.execute(
            select(WebSignInToken.id, User)
            .join(User, User.id == WebSignInToken.user_id)
            .where(
                WebSignInToken.token_hash == hash_token(token),
                WebSignInToken.kind == kind,
                WebSignInToken.used_at.is_(None),
                WebSignInToken.expires_at > uow.clock.now(),
                User.is_active.is_(True),
            )
        )
    ).first()
    return None if found is None else (found[0], found[1])


async def _claim_token(uow: UnitOfWork, token_id: int) -> bool:
    """Mark the token used; False if someone else did first (two redeems racing)."""
    result = await uow.session.execute(
        update(WebSignInToken)
        .where(WebSignInToken.id == token_id, WebSignInToken.used_at.is_(None))
        .values(used_at=uow.clock.now())
        .execution_options(synchronize_session=False)
    )
    return rowcount(result) == 1


async def _accept_step(uow: UnitOfWork, user_id: int, step: int) -> bool:
    """Record ``step`` as the account's last code; False if it (or a later one) was used."""
    result = await uow.session.execute(
        update(User)
        .where(
            User.id == user_id,
            or_(User.totp_last_step.is_(None), User.totp_last_step < step),
        )
        .values(totp_last_step=step)
        .execution_options(synchronize_session=False)
    )
    return rowcount(result) == 1


# --- Signing in -------------------------------------------------------------------------------


async def sign_in(
    *, uow: UnitOfWork, email: str, password: str, totp_code: str, client: str
) -> SignInResult:
    """Check email, password and authenticator code; a handoff code for the cookie endpoint.

    ``client`` is the network address the attempt came from, as the face sees it ("" when
    unknown). ``SignInFailed`` for anything wrong, an account without an authenticator
    included (it enrols one through its invitation or reset link, never here: whoever first
    knew the password could otherwise take the account); ``SignInThrottled`` or
    ``SignInClientThrottled`` when this client must wait (before anything is checked);
    ``AccountLocked`` for the right password of a locked account.
    """
    address = email.strip().lower()
    if has_nul(address):  # no account's address holds NUL (and PostgreSQL cannot compare it)
        address = ""
    async with uow:
        attempt = await lockout.open_attempt(uow, email=address, client=client)
        user = await uow.session.scalar(select(User).where(User.email == address))
        user_id, password_hash = (user.id, user.password_hash) if user else (None, None)
    # The slow hash runs in a thread and outside any transaction.
    password_ok = await asyncio.to_thread(_password_matches, password_hash, password)
    async with uow:
        user = None if user_id is None else await uow.session.get(User, user_id)
        if user is None:
            raise await _fail(uow, None, "unknown_account", attempt)
        if not password_ok:
            raise await _fail(uow, user, "wrong_password", attempt)
        if not user.is_active:
            raise await _fail(uow, user, "inactive_account", attempt)
        if user.locked_at is not None:
            raise await _refuse_locked(uow, user, attempt)
        if user.totp_secret is None or user.totp_enrolled_at is None:
            raise await _fail(uow, user, "not_set_up", attempt)
        step = _matching_step(user.totp_secret, totp_code, uow.clock.now())
        if step is None:
            raise await _fail(uow, user, "wrong_code", attempt)
        if not await _accept_step(uow, user.id, step):
            raise await _fail(uow, user, "code_reused", attempt)
        await lockout.succeeded(uow, attempt)
        handoff, expires_at = await _issue_token(uow, user.id, HANDOFF, HANDOFF_LIFETIME)
        _audit(
            uow,
            "auth.sign_in",
            user_id=user.id,
            site_ids=_site_ids(user),
            actor=actor_from_user(user, Face.WEB),
        )
        await uow.commit()
        return SignInResult(handoff_code=handoff, expires_at=expires_at)


async def issue_passkey_handoff(uow: UnitOfWork, user: User, passkey_id: int) -> SignInResult:
    """A handoff code for ``user``, who has just proved a passkey (``core.services.passkeys``):
    the same code, cookie endpoint and session as a password-and-code sign-in. Audited as
    ``auth.sign_in`` with the passkey's id; the caller commits."""
    handoff, expires_at = await _issue_token(uow, user.id, HANDOFF, HANDOFF_LIFETIME)
    _audit(
        uow,
        "auth.sign_in",
        user_id=user.id,
        site_ids=_site_ids(user),
        actor=actor_from_user(user, Face.WEB),
        details={"method": "passkey", "passkey_id": passkey_id},
    )
    return SignInResult(handoff_code=handoff, expires_at=expires_at)


async def record_failed_sign_in(uow: UnitOfWork, user: User | None, reason: str) -> None:
    """Audit a failed sign-in that no password was typed for (a passkey); the caller commits."""
    _audit(
        uow,
        "auth.sign_in_failed",
        user_id=user.id if user else None,
        site_ids=_site_ids(user),
        details={"reason": reason},
    )


def record_session_resumed(uow: UnitOfWork, user: User, session_id: int, passkey_id: int) -> None:
    """Audit an idle session brought back with a passkey (``core.services.passkeys``)."""
    _audit(
        uow,
        "auth.session_resumed",
        user_id=user.id,
        site_ids=_site_ids(user),
        actor=actor_from_user(user, Face.WEB),
        details={"method": "passkey", "passkey_id": passkey_id, "session_id": session_id},
    )


def matching_step(secret: str, code: str, now: datetime) -> int | None:
    """The time step of ``code`` for ``secret`` near ``now`` (None: a wrong code)."""
    return _matching_step(secret, code, now)


async def accept_step(uow: UnitOfWork, user_id: int, step: int) -> bool:
    """Record ``step`` as the account's last code; False if it (or a later one) was used."""
    return await _accept_step(uow, user_id, step)


async def issue_handoff(uow: UnitOfWork, user_id: int) -> SignInResult:
    """A handoff code for the cookie endpoint, inside the caller's unit of work: for a service
    that has itself checked the person (an invitation or reset link followed to its end)."""
    handoff, expires_at = await _issue_token(uow, user_id, HANDOFF, HANDOFF_LIFETIME)
    return SignInResult(handoff_code=handoff, expires_at=expires_at)


# --- Sessions ---------------------------------------------------------------------------------


async def redeem_handoff(*, uow: UnitOfWork, code: str) -> str:
    """Exchange a handoff code, once, for a new session's token (for the HttpOnly cookie)."""
    async with uow:
        found = await _live_token(uow, code, HANDOFF)
        if found is None or not await _claim_token(uow, found[0]):
            raise SignInFailed()
        now = uow.clock.now()
        token = _new_token()
        uow.session.add(
            WebSession(
                user_id=found[1].id, token_hash=hash_token(token), created_at=now, last_seen_at=now
            )
        )
        await uow.commit()
        return token


def _session_limits(settings: Settings | None) -> tuple[timedelta, timedelta]:
    settings = settings or Settings.model_construct()
    return (
        timedelta(minutes=settings.web_session_idle_minutes),
        timedelta(hours=settings.web_session_max_hours),
    )


async def actor_for_session(
    *, uow: UnitOfWork, token: str | None, settings: Settings | None = None
) -> Actor | None:
    """The signed-in account behind a session token, as a web ``Actor``; None when there is
    no such session, or it was revoked, or has been idle longer than
    ``web_session_idle_minutes``, or is older than ``web_session_max_hours``, or its account
    is inactive (these last three end the session: for good, but for an idle one, which a
    passkey or a device PIN may resume: ``core.services.passkeys``,
    ``core.services.device_pins``). Every web event calls this.
    """
    if not token:
        return None
    idle_limit, age_limit = _session_limits(settings)
    async with uow:
        rows = (
            await uow.session.execute(
                select(
                    WebSession.id.label("session_id"),
                    WebSession.created_at,
                    WebSession.last_seen_at,
                    User.id,
                    User.email,
                    User.display_name,
                    User.locale,
                    User.is_active,
                    Membership.site_id,
                    Site.code,
                    Membership.role,
                    Membership.agency,
                )
                .select_from(WebSession)
                .join(User, User.id == WebSession.user_id)
                .outerjoin(Membership, Membership.user_id == User.id)
                .outerjoin(Site, Site.id == Membership.site_id)
                .where(WebSession.token_hash == hash_token(token), WebSession.revoked_at.is_(None))
            )
        ).all()
        if not rows:
            return None
        first = rows[0]
        site_ids = {row.site_id for row in rows if row.site_id is not None}
        now = uow.clock.now()
        reason = None
        if not first.is_active:
            reason = "user_inactive"
        elif now - first.last_seen_at > idle_limit:
            reason = IDLE
        elif now - first.created_at > age_limit:
            reason = "too_old"
        if reason is not None:
            await _revoke(uow, first.session_id, first.id, site_ids, reason, actor=None)
            await uow.commit()
            return None
        if now - first.last_seen_at >= LAST_SEEN_RESOLUTION:
            await uow.session.execute(
                update(WebSession)
                .where(WebSession.id == first.session_id)
                .values(last_seen_at=now)
                .execution_options(synchronize_session=False)
            )
            await uow.commit()
    return Actor(
        user_id=first.id,
        email=first.email,
        display_name=first.display_name,
        locale=first.locale,
        face=Face.WEB,
        memberships=tuple(
            MembershipRead(
                site_id=row.site_id, site_code=row.code, role=row.role, agency=row.agency
            )
            for row in rows
            if row.site_id is not None
        ),
    )


async def _revoke(
    uow: UnitOfWork,
    session_id: int,
    user_id: int,
    site_ids: set[int],
    reason: str,
    *,
    actor: Actor | None,
) -> None:
    result = await uow.session.execute(
        update(WebSession)
        .where(WebSession.id == session_id, WebSession.revoked_at.is_(None))
        .values(revoked_at=uow.clock.now(), revoked_reason=reason)
        .execution_options(synchronize_session=False)
    )
    if rowcount(result) == 1:
        _audit(
            uow,
            "auth.session_end",
            user_id=user_id,
            site_ids=site_ids,
            actor=actor,
            details={"reason": reason, "session_id": session_id},
        )


async def sign_out(*, uow: UnitOfWork, token: str) -> None:
    """End the session for good, and remove the person's device PINs (a sign-out is meant).
    An unknown or already ended session is left as it is."""
    async with uow:
        found = (
            await uow.session.execute(
                select(WebSession.id, User)
                .join(User, User.id == WebSession.user_id)
                .where(WebSession.token_hash == hash_token(token), WebSession.revoked_at.is_(None))
            )
        ).first()
        if found is None:
            return
        session_id, user = found
        actor = actor_from_user(user, Face.WEB) if user.is_active else None
        await _revoke(uow, session_id, user.id, _site_ids(user), "signed_out", actor=actor)
        await forget_device_pins(uow, user, actor or Actor.system(Face.WEB), "signed_out")
        await uow.commit()


# --- sealing at rest ---------------------------------------------------------------------------


async def reseal_totp_secrets(*, uow: UnitOfWork) -> int:
    """Seal every stored TOTP secret under the first key in ``TOTP_ENCRYPTION_KEYS``: values
    from before sealing, and values sealed with an older key after a rotation. Returns how
    many were sealed again (none when all are current). One audit event when any were."""
    async with uow:
        count = await reseal_users_column(uow, "totp_secret")
        if count:
            record_audit(
                uow,
                Actor.system(Face.CLI),
                "auth.totp_resealed",
                entity_type="user",
                entity_id=None,
                details={"count": count},
            )
        await uow.commit()
        return count
