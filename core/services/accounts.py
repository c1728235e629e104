"""Staff accounts' sign-in: invitations, resets, and each person's own account.

Nobody is given a password. Adding a member of staff (``users.add_user``) makes an
*invitation*: a single-use link, valid for ``LINK_LIFETIMES``, emailed through GOV.UK Notify
(or, where Notify is not set up or refuses, shown once to whoever added them, to hand over).
Following it, the person chooses a password and then enrols an authenticator, in that order,
and is signed in. That link is the only way an authenticator is ever enrolled: the sign-in
page no longer offers it (``core.services.auth``), so knowing a new account's password is not
enough to take it.

A service manager or admin at every site of a colleague's account may *reset* their password
or their second factor (``Action.ACCOUNT_RESET``). Either ends all that person's web sessions,
tells them in their inbox, and sends (or shows) a new link: a password reset leads to a new
password, proved with the authenticator's code; a second-factor reset removes the old
authenticator at once and leads to the password, then a new authenticator. Nothing else is
unlinked (their Telegram link stays). They also see a colleague's passkeys (names and dates) and
may remove one (``remove_colleague_passkey``: a lost phone), which ends that person's sessions
and tells them in their inbox and by email.

A link's token is random (256 bits); only its SHA-256 is stored. A newer link of the same kind
for the account revokes older unused ones; ``MAX_LINK_FAILURES`` wrong passwords or codes typed
through one revoke it. Following a link needs no actor (the link is the credential); it is
audited as the account's owner.

Every person can change their own password (the current one first; their other sessions end),
change their own authenticator app (the password and the old app's code first, then the new
app's first code; they are told in their inbox and by email), see their live sessions and sign
out everywhere (``my_account``, ``change_my_password``, ``start_authenticator_change``,
``finish_authenticator_change``, ``sign_out_everywhere``). A wrong current password or code
there counts as a failed sign-in (``core.services.lockout``), so an unlocked phone cannot be
used to guess it. Nothing here logs or audits a password, a code, a token or a secret.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import secrets
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Protocol

from sqlalchemy import delete, select, update
from sqlalchemy.orm import selectinload

from core import sealing
from core.db.results import rowcount
from core.enums import Channel, Face, Lane, Locale, NotificationKind
from core.errors import (
    AccountLinkInvalid,
    AuthenticatorChangeExpired,
    NotFound,
    NotPermitted,
    PasswordNotAllowed,
    ValidationFailed,
    WrongCode,
    WrongNewCode,
    WrongPassword,
)
from core.models import AccountLink, Membership, Passkey, User, WebSession, WebSignInToken
from core.notifications.outbox import enqueue
from core.notifications.schedulers import message_key
from core.notify import NotifyError, NotifyNotConfigured
from core.passwords import hash_password, password_problem, verify_password
from core.policy import Action, authorize, authorize_somewhere, sites_where
from core.schemas.accounts import (
    AccountLinkRead,
    AccountState,
    AuthenticatorChangeStart,
    EnrolmentStart,
    LinkDelivery,
    LinkKind,
    LinkStep,
    MyAccount,
    SessionRead,
    StaffAccountRead,
    StaffAccountsPage,
)
from core.schemas.actor import Actor
from core.schemas.auth import SignInResult
from core.schemas.passkeys import PasskeyRead
from core.services import auth, lockout, sites
from core.services.audit import record_user_audit
from core.services.users import actor_from_user, forget_device_pins
from core.uow import UnitOfWork

# The web page a link opens (webapp.routes.ACCOUNT_LINK); the token follows as ``?token=``.
LINK_PATH = "/account-link"
LINK_LIFETIMES: dict[LinkKind, timedelta] = {
    LinkKind.INVITATION: timedelta(hours=72),
    # A reset is asked for when someone needs it now; a shorter life if the email is read by
    # someone else later.
    LinkKind.PASSWORD_RESET: timedelta(hours=24),
    LinkKind.SECOND_FACTOR_RESET: timedelta(hours=24),
}
MAX_LINK_FAILURES = 5
_FIRST_STEP = {
    LinkKind.INVITATION: LinkStep.SET_PASSWORD,
    LinkKind.SECOND_FACTOR_RESET: LinkStep.CONFIRM_PASSWORD,
    LinkKind.PASSWORD_RESET: LinkStep.RESET_PASSWORD,
}
_RESET_NOTICE = {
    LinkKind.PASSWORD_RESET: NotificationKind.ACCOUNT_PASSWORD_RESET,
    LinkKind.SECOND_FACTOR_RESET: NotificationKind.ACCOUNT_SECOND_FACTOR_RESET,
}


class LinkMailer(Protocol):
    """Makes a link's address and emails it (``ui.account_mail.NotifyLinkMailer``: GOV.UK
    Notify, with the words in the person's language). ``send`` raises ``NotifyError`` or
    ``NotifyNotConfigured`` when the email did not go."""

    def link_url(self, token: str) -> str: ...

    async def send(
        self,
        *,
        to: str,
        locale: Locale,
        kind: LinkKind,
        url: str,
        expires_at: datetime,
        reference: str,
    ) -> None: ...


def _sha256(value: str) -> str:
    return hashlib.sha256(value.strip().encode("utf-8", "replace")).hexdigest()


def _relative_url(token: str) -> str:
    return f"{LINK_PATH}?token={token}"


# --- Audit ------------------------------------------------------------------------------------


def _site_ids(user: User) -> list[int]:
    return sorted({m.site_id for m in user.memberships})


# --- Issuing and sending links -----------------------------------------------------------------


async def issue_link(
    uow: UnitOfWork, user: User, kind: LinkKind, issued_by: Actor
) -> tuple[str, datetime]:
    """A new link of ``kind`` for ``user``, inside the caller's unit of work (which has checked
    that ``issued_by`` may); the account's older unused links of that kind stop working."""
    now = uow.clock.now()
    await uow.session.execute(
        update(AccountLink)
        .where(
            AccountLink.user_id == user.id,
            AccountLink.kind == kind.value,
            AccountLink.used_at.is_(None),
            AccountLink.revoked_at.is_(None),
        )
        .values(revoked_at=now)
        .execution_options(synchronize_session=False)
    )
    token = secrets.token_urlsafe(32)
    expires_at = now + LINK_LIFETIMES[kind]
    link = AccountLink(
        user_id=user.id,
        kind=kind.value,
        token_hash=_sha256(token),
        created_by_id=None if issued_by.is_system else issued_by.user_id,
        created_at=now,
        expires_at=expires_at,
        failed_attempts=0,
    )
    uow.session.add(link)
    await uow.flush()
    action = "account_link.invite" if kind is LinkKind.INVITATION else f"account_link.{kind.value}"
    record_user_audit(uow, issued_by, action, user, {"link_id": link.id})
    return token, expires_at


async def deliver_link(
    uow: UnitOfWork,
    mailer: LinkMailer | None,
    *,
    user_id: int,
    token: str,
    kind: LinkKind,
    expires_at: datetime,
    issued_by: Actor,
) -> LinkDelivery:
    """Email a link just issued (after its unit of work committed). When Notify is not set up
    or refuses, the link is returned to be shown once instead, and the refusal is audited:
    the link itself stays usable either way."""
    async with uow:
        user = await uow.session.get(User, user_id)
        assert user is not None
        email, name, locale = user.email, user.display_name, user.locale
    url = mailer.link_url(token) if mailer is not None else _relative_url(token)
    delivered = LinkDelivery(
        kind=kind,
        user_id=user_id,
        email=email,
        display_name=name,
        expires_at=expires_at,
        emailed=False,
        url=url,
    )
    if mailer is None:
        return delivered
    try:
        await mailer.send(
            to=email,
            locale=locale,
            kind=kind,
            url=url,
            expires_at=expires_at,
            reference=f"{kind.value}-{user_id}",
        )
    except NotifyNotConfigured:
        return delivered
    except NotifyError as error:
        async with uow:
            user = await uow.session.get(User, user_id)
            assert user is not None
            details = {"kind": kind.value, "status": error.status, "retryable": error.retryable}
            record_user_audit(uow, issued_by, "account_link.email_failed", user, details)
            await uow.commit()
        return delivered.model_copy(
            update={"notify_status": error.status, "notify_reason": error.reason}
        )
    async with uow:
        user = await uow.session.get(User, user_id)
        assert user is not None
        record_user_audit(uow, issued_by, "account_link.emailed", user, {"kind": kind.value})
        await uow.commit()
    return delivered.model_copy(update={"emailed": True, "url": ""})


# --- Resets, and sending an invitation again ----------------------------------------------------


async def _colleague(uow: UnitOfWork, actor: Actor, user_id: int) -> User:
    """The account, if the actor may reset sign-in at every site it belongs to; not their own
    (that is "My account"), and not a switched-off one."""
    user = await uow.session.scalar(
        select(User).options(selectinload(User.memberships)).where(User.id == user_id)
    )
    if user is None:
        raise NotFound(entity="users", id=user_id)
    site_ids = _site_ids(user)
    if not site_ids and not actor.is_system:
        raise NotPermitted(action=str(Action.ACCOUNT_RESET), actor=actor)
    for site_id in site_ids:
        authorize(actor, Action.ACCOUNT_RESET, site_id=site_id)
    if user.id == actor.user_id:
        raise ValidationFailed(field="user_id", rule="own_account")
    if not user.is_active:
        raise ValidationFailed(field="user_id", rule="inactive_account")
    return user


async def _end_sessions(
    uow: UnitOfWork, user: User, reason: str, actor: Actor, *, keep: str | None = None
) -> int:
    """End every live web session of the account (but the one whose token is ``keep``), and
    drop its unused handoff codes. Audited once, with the count."""
    now = uow.clock.now()
    query = (
        update(WebSession)
        .where(WebSession.user_id == user.id, WebSession.revoked_at.is_(None))
        .values(revoked_at=now, revoked_reason=reason)
        .execution_options(synchronize_session=False)
    )
    if keep:
        query = query.where(WebSession.token_hash != auth.hash_token(keep))
    ended = rowcount(await uow.session.execute(query))
    await uow.session.execute(delete(WebSignInToken).where(WebSignInToken.user_id == user.id))
    if ended:
        record_user_audit(
            uow, actor, "auth.sessions_ended", user, {"reason": reason, "count": ended}
        )
    return ended


async def _tell_owner(
    uow: UnitOfWork, user: User, notice: NotificationKind, *, by_email: bool = False
) -> None:
    """A message to the account's owner about their sign-in (a reset, a change), and when: in
    their inbox and, with ``by_email`` and Notify's email set up, by email. Never by Telegram,
    so a Telegram link never carries it."""
    channels = [Channel.INBOX]
    if by_email and Channel.EMAIL in uow.notify_channels:
        channels.append(Channel.EMAIL)
    once = secrets.token_hex(8)
    for channel in channels:
        await enqueue(
            uow,
            recipient_user_id=user.id,
            channel=channel,
            kind=notice,
            lane=Lane.HIGH,
            message_key=message_key(notice),
            params={"time": uow.clock.now().isoformat()},
            dedupe_key=f"{notice.value}:{user.id}:{once}:{channel.value}",
        )


async def _reset(
    uow: UnitOfWork, actor: Actor, user_id: int, kind: LinkKind, mailer: LinkMailer | None
) -> LinkDelivery:
    async with uow:
        user = await _colleague(uow, actor, user_id)
        if user.totp_enrolled_at is None:
            raise ValidationFailed(field="user_id", rule="not_set_up")
        await _end_sessions(uow, user, "account_reset", actor)
        await forget_device_pins(uow, user, actor, kind.value)
        if kind is LinkKind.SECOND_FACTOR_RESET:
            user.totp_secret = None  # the old authenticator's codes stop working now
            user.totp_enrolled_at = None
            user.totp_last_step = None
        token, expires_at = await issue_link(uow, user, kind, actor)
        await _tell_owner(uow, user, _RESET_NOTICE[kind])
        await uow.commit()
    return await deliver_link(
        uow,
        mailer,
        user_id=user_id,
        token=token,
        kind=kind,
        expires_at=expires_at,
        issued_by=actor,
    )


async def reset_password(
    *, uow: UnitOfWork, actor: Actor, user_id: int, mailer: LinkMailer | None
) -> LinkDelivery:
    """A colleague forgot their password: end their sessions, tell them in their inbox, and
    email (or return, to show once) a link to a new password. Their authenticator stays."""
    return await _reset(uow, actor, user_id, LinkKind.PASSWORD_RESET, mailer)


async def reset_second_factor(
    *, uow: UnitOfWork, actor: Actor, user_id: int, mailer: LinkMailer | None
) -> LinkDelivery:
    """A colleague lost their authenticator: it stops working now, their sessions end, they are
    told in their inbox, and a link (emailed or returned) leads to enrolling a new one after
    their password. Their password stays."""
    return await _reset(uow, actor, user_id, LinkKind.SECOND_FACTOR_RESET, mailer)


async def resend_invitation(
    *, uow: UnitOfWork, actor: Actor, user_id: int, mailer: LinkMailer | None
) -> LinkDelivery:
    """A new invitation for someone who has not accepted theirs (the old link stops working)."""
    async with uow:
        user = await _colleague(uow, actor, user_id)
        if user.totp_enrolled_at is not None:
            raise ValidationFailed(field="user_id", rule="already_set_up")
        token, expires_at = await issue_link(uow, user, LinkKind.INVITATION, actor)
        await uow.commit()
    return await deliver_link(
        uow,
        mailer,
        user_id=user_id,
        token=token,
        kind=LinkKind.INVITATION,
        expires_at=expires_at,
        issued_by=actor,
    )


async def staff_accounts(
    *, uow: UnitOfWork, actor: Actor, site_id: int | None = None
) -> StaffAccountsPage:
    """For the page where a service manager or admin resets colleagues' sign-in: the sites
    where they may, and the staff at ``site_id`` (or the first of them) with each account's
    state (set up, invited, invitation expired, switched off) and passkeys (names and dates)."""
    known = await sites.list_sites(uow=uow, actor=actor)
    async with uow:
        authorize_somewhere(actor, Action.ACCOUNT_RESET)
        allowed = sites_where(actor, Action.ACCOUNT_RESET)
        mine = tuple(site for site in known if actor.is_system or site.id in allowed)
        ids = [site.id for site in mine]
        shown = site_id if site_id in ids else (ids[0] if ids else None)
        if shown is None:
            return StaffAccountsPage(sites=mine, site_id=None, staff=())
        users = (
            await uow.session.scalars(
                select(User)
                .where(User.id.in_(select(Membership.user_id).where(Membership.site_id == shown)))
                .order_by(User.display_name, User.id)
            )
        ).all()
        now = uow.clock.now()
        rows = await uow.session.execute(
            select(AccountLink.user_id, AccountLink.expires_at).where(
                AccountLink.user_id.in_([u.id for u in users]),
                AccountLink.kind == LinkKind.INVITATION.value,
                AccountLink.used_at.is_(None),
                AccountLink.revoked_at.is_(None),
                AccountLink.expires_at > now,
            )
        )
        live = {user_id: until for user_id, until in rows}
        keys: dict[int, list[PasskeyRead]] = {}
        for passkey in await uow.session.scalars(
            select(Passkey)
            .where(Passkey.user_id.in_([u.id for u in users]))
            .order_by(Passkey.created_at, Passkey.id)
        ):
            keys.setdefault(passkey.user_id, []).append(PasskeyRead.model_validate(passkey))
        return StaffAccountsPage(
            sites=mine,
            site_id=shown,
            staff=tuple(_staff_row(u, live.get(u.id), keys.get(u.id, ())) for u in users),
        )


async def remove_colleague_passkey(
    *, uow: UnitOfWork, actor: Actor, user_id: int, passkey_id: int
) -> None:
    """A colleague lost the phone (or key) holding a passkey: it signs no one in from now, their
    web sessions end (the lost phone's too), and they are told in their inbox and by email.
    ``NotFound`` for a passkey that is not that colleague's. Audited ``passkey.removed_by_staff``
    (the passkey's number, never its name's owner's details)."""
    async with uow:
        user = await _colleague(uow, actor, user_id)
        passkey = await uow.session.scalar(
            select(Passkey).where(Passkey.id == passkey_id, Passkey.user_id == user.id)
        )
        if passkey is None:
            raise NotFound(entity="passkeys", id=passkey_id)
        await uow.session.delete(passkey)
        await _end_sessions(uow, user, "passkey_removed", actor)
        await _tell_owner(uow, user, NotificationKind.ACCOUNT_PASSKEY_REMOVED, by_email=True)
        record_user_audit(uow, actor, "passkey.removed_by_staff", user, {"passkey_id": passkey_id})
        await uow.commit()


def _staff_row(
    user: User, invitation_until: datetime | None, passkeys: Iterable[PasskeyRead] = ()
) -> StaffAccountRead:
    if not user.is_active:
        state = AccountState.SWITCHED_OFF
    elif user.totp_enrolled_at is not None:
        state = AccountState.SET_UP
    elif invitation_until is not None:
        state = AccountState.INVITED
    else:
        state = AccountState.INVITATION_EXPIRED
    return StaffAccountRead(
        id=user.id,
        display_name=user.display_name,
        email=user.email,
        state=state,
        link_expires_at=invitation_until if state is AccountState.INVITED else None,
        passkeys=tuple(passkeys),
    )


# --- Following a link (no actor: the link is the credential) ------------------------------------


async def _live_link(
    uow: UnitOfWork, token: str, kinds: Iterable[LinkKind] | None = None
) -> tuple[AccountLink, User]:
    """The link and its account, or ``AccountLinkInvalid`` saying why it cannot be used."""
    found = (
        await uow.session.execute(
            select(AccountLink, User)
            .join(User, User.id == AccountLink.user_id)
            .where(AccountLink.token_hash == _sha256(token))
        )
    ).first()
    if found is None:
        raise AccountLinkInvalid(reason="unknown")
    link, user = found
    if kinds is not None and LinkKind(link.kind) not in set(kinds):
        raise AccountLinkInvalid(reason="unknown")
    if link.used_at is not None:
        raise AccountLinkInvalid(reason="used")
    if link.revoked_at is not None:
        raise AccountLinkInvalid(reason="revoked")
    if link.expires_at <= uow.clock.now():
        raise AccountLinkInvalid(reason="expired")
    if not user.is_active:
        raise AccountLinkInvalid(reason="inactive")
    return link, user


async def _count_failure(uow: UnitOfWork, link: AccountLink, user: User, reason: str) -> None:
    """A wrong password or code through the link: counted (the link is revoked at the limit)
    and audited, committed although the step fails."""
    link.failed_attempts += 1
    if link.failed_attempts >= MAX_LINK_FAILURES:
        link.revoked_at = uow.clock.now()
    record_user_audit(
        uow,
        Actor.system(Face.WEB),
        "account_link.failed",
        user,
        {"link_id": link.id, "reason": reason, "revoked": link.revoked_at is not None},
    )
    await uow.commit()


def _check_new_password(password: str, user: User) -> None:
    rule = password_problem(password, email=user.email, name=user.display_name)
    if rule is not None:
        raise PasswordNotAllowed(field="password", rule=rule)


def _start_enrolment(user: User) -> EnrolmentStart:
    """A new authenticator secret for the account (kept until its first code confirms it)."""
    secret = auth.new_totp_secret()
    user.totp_secret = secret
    user.totp_enrolled_at = None
    return EnrolmentStart(secret=secret, otpauth_uri=auth.totp_uri(secret, user.email))


async def open_account_link(*, uow: UnitOfWork, token: str) -> AccountLinkRead:
    """What a link is for and its first step; ``AccountLinkInvalid`` if it cannot be used."""
    async with uow:
        link, user = await _live_link(uow, token)
        kind = LinkKind(link.kind)
        return AccountLinkRead(
            kind=kind,
            step=_FIRST_STEP[kind],
            email=user.email,
            display_name=user.display_name,
            locale=user.locale,
            expires_at=link.expires_at,
        )


async def set_password_with_link(*, uow: UnitOfWork, token: str, password: str) -> EnrolmentStart:
    """An invitation's first step: the new password (``PasswordNotAllowed`` changes nothing),
    then a new authenticator secret to enrol."""
    async with uow:
        link, user = await _live_link(uow, token, [LinkKind.INVITATION])
        _check_new_password(password, user)
        user.password_hash = await asyncio.to_thread(hash_password, password)
        link.verified_at = uow.clock.now()
        started = _start_enrolment(user)
        record_user_audit(uow, actor_from_user(user, Face.WEB), "account.password_set", user)
        await uow.commit()
        return started


async def confirm_password_with_link(
    *, uow: UnitOfWork, token: str, password: str
) -> EnrolmentStart:
    """A second-factor reset's first step: the account's password (``WrongPassword`` counts
    against the link), then a new authenticator secret to enrol."""
    async with uow:
        link, user = await _live_link(uow, token, [LinkKind.SECOND_FACTOR_RESET])
        stored = user.password_hash
    right = stored is not None and await asyncio.to_thread(verify_password, stored, password)
    async with uow:
        link, user = await _live_link(uow, token, [LinkKind.SECOND_FACTOR_RESET])
        if not right:
            await _count_failure(uow, link, user, "wrong_password")
            raise WrongPassword()
        link.verified_at = uow.clock.now()
        started = _start_enrolment(user)
        await uow.commit()
        return started


async def finish_enrolment_with_link(
    *, uow: UnitOfWork, token: str, totp_code: str
) -> SignInResult:
    """The first code from the new authenticator: it is enrolled, the link is used, and the
    person is signed in (a handoff code for the cookie endpoint). ``WrongCode`` counts against
    the link; the link's first step must have been done."""
    async with uow:
        link, user = await _live_link(
            uow, token, [LinkKind.INVITATION, LinkKind.SECOND_FACTOR_RESET]
        )
        if link.verified_at is None or user.totp_secret is None:
            raise AccountLinkInvalid(reason="step_missing")
        now = uow.clock.now()
        step = auth.matching_step(user.totp_secret, totp_code, now)
        if step is None or not await auth.accept_step(uow, user.id, step):
            await _count_failure(uow, link, user, "wrong_code")
            raise WrongCode()
        user.totp_enrolled_at = now
        return await _redeem(uow, link, user, now, "auth.totp_enrolled")


async def reset_password_with_link(
    *, uow: UnitOfWork, token: str, password: str, totp_code: str
) -> SignInResult:
    """A password reset followed: the new password (``PasswordNotAllowed`` changes nothing) and
    a code from the account's authenticator (``WrongCode`` counts against the link), then the
    person is signed in (a handoff code)."""
    async with uow:
        link, user = await _live_link(uow, token, [LinkKind.PASSWORD_RESET])
        _check_new_password(password, user)
    new_hash = await asyncio.to_thread(hash_password, password)
    async with uow:
        link, user = await _live_link(uow, token, [LinkKind.PASSWORD_RESET])
        now = uow.clock.now()
        step = (
            None
            if user.totp_secret is None or user.totp_enrolled_at is None
            else auth.matching_step(user.totp_secret, totp_code, now)
        )
        if step is None or not await auth.accept_step(uow, user.id, step):
            await _count_failure(uow, link, user, "wrong_code")
            raise WrongCode()
        user.password_hash = new_hash
        return await _redeem(uow, link, user, now, "account.password_set")


async def _redeem(
    uow: UnitOfWork, link: AccountLink, user: User, now: datetime, done: str
) -> SignInResult:
    """A link followed to its end (``done``: the audit action of its last step): claim it once
    (two tabs finishing together: one wins, the other ``used``), lift a sign-in lock (the
    person's own link proves them: core.services.lockout), audit, commit and sign them in."""
    claimed = await uow.session.execute(
        update(AccountLink)
        .where(AccountLink.id == link.id, AccountLink.used_at.is_(None))
        .values(used_at=now)
        .execution_options(synchronize_session=False)
    )
    if rowcount(claimed) != 1:
        raise AccountLinkInvalid(reason="used")
    if user.locked_at is not None:
        await lockout.unlock_account(uow, user_id=user.id, reason="reset_link")
    actor = actor_from_user(user, Face.WEB)
    record_user_audit(uow, actor, done, user)
    details = {"kind": link.kind, "link_id": link.id}
    record_user_audit(uow, actor, "account_link.redeem", user, details)
    record_user_audit(uow, actor, "auth.sign_in", user)
    signed_in = await auth.issue_handoff(uow, user.id)
    await uow.commit()
    return signed_in


# --- My account ---------------------------------------------------------------------------------


async def _me(uow: UnitOfWork, actor: Actor) -> User:
    if actor.is_system:
        raise NotPermitted(action="account.own", actor=actor)
    user = await uow.session.scalar(
        select(User).options(selectinload(User.memberships)).where(User.id == actor.user_id)
    )
    if user is None or not user.is_active:
        raise NotFound(entity="users", id=actor.user_id)
    return user


async def my_account(
    *, uow: UnitOfWork, actor: Actor, session_token: str | None = None
) -> MyAccount:
    """The actor's own account: their authenticator's state and their live web sessions
    (``session_token``: this browser's, marked as this device)."""
    async with uow:
        user = await _me(uow, actor)
        rows = (
            await uow.session.scalars(
                select(WebSession)
                .where(WebSession.user_id == user.id, WebSession.revoked_at.is_(None))
                .order_by(WebSession.created_at.desc(), WebSession.id.desc())
            )
        ).all()
        mine = auth.hash_token(session_token) if session_token else None
        return MyAccount(
            email=user.email,
            display_name=user.display_name,
            totp_enrolled_at=user.totp_enrolled_at,
            sessions=tuple(
                SessionRead(
                    id=row.id,
                    created_at=row.created_at,
                    last_seen_at=row.last_seen_at,
                    this_device=row.token_hash == mine,
                )
                for row in rows
            ),
        )


async def _check_my_password(
    uow: UnitOfWork, actor: Actor, password: str, client: str
) -> tuple[bool, lockout.Attempt]:
    """Whether ``password`` is the actor's, counted by the sign-in throttle for their account
    and ``client`` (``SignInThrottled`` or ``SignInClientThrottled`` before anything is
    checked), so an unlocked phone cannot be used to guess it. The caller settles the attempt
    (``lockout.succeeded`` or ``_my_failure``)."""
    async with uow:
        user = await _me(uow, actor)
        stored, email = user.password_hash, user.email
        attempt = await lockout.open_attempt(uow, email=email, client=client)
    right = stored is not None and await asyncio.to_thread(verify_password, stored, password)
    return right, attempt


async def _my_failure(
    uow: UnitOfWork, user: User, actor: Actor, attempt: lockout.Attempt, action: str, **details: str
) -> None:
    """A wrong password or code on My account: audited, and counted as a failed sign-in
    (inside the caller's unit of work; committed here)."""
    record_user_audit(uow, actor, action, user, details or None)
    await lockout.failed(uow, attempt, user)
    await uow.commit()


async def change_my_password(
    *,
    uow: UnitOfWork,
    actor: Actor,
    current_password: str,
    new_password: str,
    client: str,
    session_token: str | None = None,
) -> int:
    """The actor's new password, after their current one (``WrongPassword``: nothing changes;
    counted by the sign-in throttle for ``client``, the network address as the face sees it).
    Their other web sessions end (this one, ``session_token``, stays). Returns how many ended."""
    async with uow:
        user = await _me(uow, actor)
        _check_new_password(new_password, user)
    right, attempt = await _check_my_password(uow, actor, current_password, client)
    if not right:
        async with uow:
            user = await _me(uow, actor)
            await _my_failure(uow, user, actor, attempt, "account.password_change_failed")
        raise WrongPassword()
    new_hash = await asyncio.to_thread(hash_password, new_password)
    async with uow:
        user = await _me(uow, actor)
        user.password_hash = new_hash
        await lockout.succeeded(uow, attempt)
        ended = await _end_sessions(uow, user, "password_changed", actor, keep=session_token)
        record_user_audit(uow, actor, "account.password_change", user)
        await uow.commit()
        return ended


# --- My account: changing one's own authenticator app -------------------------------------------

# How long the new app's first code may take after the password and the old app's code.
AUTHENTICATOR_CHANGE_LIFETIME = timedelta(minutes=15)


def _ticket(user: User, secret: str, until: datetime) -> str:
    """The new secret sealed with the account and the old authenticator it replaces: only this
    account may finish the change, before ``until``, while that authenticator is still its."""
    assert user.totp_enrolled_at is not None
    return sealing.seal(
        json.dumps(
            {
                "user_id": user.id,
                "secret": secret,
                "until": until.isoformat(),
                "replaces": user.totp_enrolled_at.isoformat(),
            }
        )
    )


def _ticket_secret(ticket: str, user: User, now: datetime) -> str:
    """The new secret in a ticket of ``_ticket``'s, or ``AuthenticatorChangeExpired``."""
    try:
        if not ticket.startswith(sealing.PREFIX):
            raise ValueError("not sealed")
        content = json.loads(sealing.unseal(ticket))
        secret, until = str(content["secret"]), datetime.fromisoformat(content["until"])
        replaces = datetime.fromisoformat(content["replaces"])
    except (ValueError, KeyError, TypeError, sealing.SealedValueUnreadable):
        raise AuthenticatorChangeExpired() from None
    if content.get("user_id") != user.id or until <= now or user.totp_enrolled_at != replaces:
        raise AuthenticatorChangeExpired()
    return secret


async def start_authenticator_change(
    *, uow: UnitOfWork, actor: Actor, current_password: str, current_code: str, client: str
) -> AuthenticatorChangeStart:
    """The first step of changing one's own authenticator app: the current password
    (``WrongPassword``) and a code from the current app (``WrongCode``), both counted by the
    sign-in throttle for ``client``. Returns a new secret to set up, and the ticket that
    finishes the change; until then the old app keeps working. (Without the old app, a
    colleague resets it: ``reset_second_factor``.)"""
    right, attempt = await _check_my_password(uow, actor, current_password, client)
    async with uow:
        user = await _me(uow, actor)
        if not right:
            await _my_failure(
                uow,
                user,
                actor,
                attempt,
                "account.authenticator_change_failed",
                reason="wrong_password",
            )
            raise WrongPassword()
        now = uow.clock.now()
        old = user.totp_secret if user.totp_enrolled_at is not None else None
        step = None if old is None else auth.matching_step(old, current_code, now)
        if step is None or not await auth.accept_step(uow, user.id, step):
            await _my_failure(
                uow,
                user,
                actor,
                attempt,
                "account.authenticator_change_failed",
                reason="wrong_code",
            )
            raise WrongCode()
        await lockout.succeeded(uow, attempt)
        secret = auth.new_totp_secret()
        ticket = _ticket(user, secret, now + AUTHENTICATOR_CHANGE_LIFETIME)
        record_user_audit(uow, actor, "account.authenticator_change_started", user)
        await uow.commit()
        return AuthenticatorChangeStart(
            secret=secret, otpauth_uri=auth.totp_uri(secret, user.email), ticket=ticket
        )


async def finish_authenticator_change(
    *, uow: UnitOfWork, actor: Actor, ticket: str, totp_code: str
) -> None:
    """The new app's first code (``WrongNewCode``: nothing changes; ``AuthenticatorChangeExpired``
    for a ticket too old, not this account's, or whose old app was replaced meanwhile): the new
    app replaces the old one, whose codes stop working now. The person is told in their inbox
    and by email, in case it was not them."""
    async with uow:
        user = await _me(uow, actor)
        now = uow.clock.now()
        secret = _ticket_secret(ticket, user, now)
        step = auth.matching_step(secret, totp_code, now)
        if step is None:
            details = {"reason": "wrong_new_code"}
            record_user_audit(uow, actor, "account.authenticator_change_failed", user, details)
            await uow.commit()
            raise WrongNewCode()
        user.totp_secret = secret
        user.totp_enrolled_at = now
        user.totp_last_step = step  # this code cannot sign in again
        await _tell_owner(uow, user, NotificationKind.ACCOUNT_AUTHENTICATOR_CHANGED, by_email=True)
        record_user_audit(uow, actor, "auth.totp_changed", user)
        await uow.commit()


async def sign_out_everywhere(*, uow: UnitOfWork, actor: Actor) -> int:
    """End every web session of the actor's, this one included, and remove their device PINs.
    Returns how many sessions ended."""
    async with uow:
        user = await _me(uow, actor)
        ended = await _end_sessions(uow, user, "signed_out_all", actor)
        await forget_device_pins(uow, user, actor, "signed_out_all")
        record_user_audit(uow, actor, "account.sign_out_everywhere", user, {"count": ended})
        await uow.commit()
        return ended
