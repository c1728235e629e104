"""Linking a staff account to a Telegram account with a one-time code, and resolving the link.

A person gets a code for their own account in the web app (the Inbox page) and sends
``/start CODE`` to the bot. An admin (web Admin page) or the host operator
(``drive-assist users link-code``) may issue one for someone else: that is audited, as every issue
is, and the account's owner is told in their in-app inbox (never in Telegram, whose chat may be
the one the code is about to replace; never with the code), so a code used to take over someone's
account does not go unnoticed. The bot's first reply after linking names the account's email.

Codes are random, single use, live 15 minutes, and only their SHA-256 is stored: short-lived and
rate-limited, so a slow hash would add nothing. A Telegram account that sends
``MAX_WRONG_CODES`` wrong codes within ``ATTEMPT_WINDOW`` is refused, even with the right one,
until the window has passed. The link keeps the Telegram user id and chat id and nothing else
from the profile.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import RowMapping, Select, bindparam, delete, func, or_, select, update

from core.db.results import rowcount
from core.enums import Channel, Face, Lane, NotificationKind
from core.errors import (
    LinkAttemptsExceeded,
    LinkCodeInvalid,
    NotFound,
    NotPermitted,
    ValidationFailed,
)
from core.models import Membership, Site, TelegramLink, TelegramLinkAttempt, TelegramLinkCode, User
from core.notifications.outbox import enqueue
from core.notifications.schedulers import message_key
from core.policy import Action, is_allowed
from core.schemas.actor import Actor, MembershipRead
from core.schemas.telegram import LinkCodeRead, LinkedAccountRead
from core.services.audit import record_user_audit
from core.services.users import actor_from_user
from core.uow import UnitOfWork

# No 0/O, 1/I/L: a code is read off one screen and typed on another.
CODE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
CODE_LENGTH = 8
CODE_LIFETIME = timedelta(minutes=15)
MAX_WRONG_CODES = 5
ATTEMPT_WINDOW = timedelta(minutes=15)
REVOKED_REASON = "revoked"
RELINKED_REASON = "relinked"


def normalise_code(code: str) -> str:
    """The code as stored: upper case, without the spaces or dashes a person may add."""
    return "".join(code.split()).replace("-", "").upper()


def hash_code(code: str) -> str:
    return hashlib.sha256(normalise_code(code).encode("ascii", "replace")).hexdigest()


def _new_code() -> str:
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))


def _site_ids(user: User) -> list[int]:
    return sorted({m.site_id for m in user.memberships})


async def _user_for(uow: UnitOfWork, actor: Actor, user_id: int) -> User:
    """The account, if the actor may manage its Telegram link: their own, or at an admin's site."""
    user = await uow.session.get(User, user_id)
    if user is None:
        raise NotFound(entity="users", id=user_id)
    sites: Iterable[int | None] = _site_ids(user) or [None]
    if not any(
        is_allowed(actor, Action.TELEGRAM_LINK_MANAGE, site_id=site_id, owner_user_id=user.id)
        for site_id in sites
    ):
        raise NotPermitted(action=str(Action.TELEGRAM_LINK_MANAGE), actor=actor)
    return user


async def issue_link_code(*, uow: UnitOfWork, actor: Actor, user_id: int) -> LinkCodeRead:
    """A new code for the account; any older code of theirs stops working."""
    async with uow:
        user = await _user_for(uow, actor, user_id)
        if not user.is_active:
            raise ValidationFailed(field="user_id", rule="inactive_account")
        now = uow.clock.now()
        await uow.session.execute(
            delete(TelegramLinkCode).where(TelegramLinkCode.user_id == user.id)
        )
        code = _new_code()
        row = TelegramLinkCode(
            user_id=user.id,
            code_hash=hash_code(code),
            created_at=now,
            expires_at=now + CODE_LIFETIME,
        )
        uow.session.add(row)
        await uow.flush()
        record_user_audit(
            uow, actor, "telegram_link.issue_code", user=user, details={"code_id": row.id}
        )
        if actor.user_id != user.id:
            await _tell_owner_of_code(uow, user, issued_at=now)
        await uow.commit()
        return LinkCodeRead(user_id=user.id, code=code, expires_at=row.expires_at)


async def _tell_owner_of_code(uow: UnitOfWork, user: User, *, issued_at: datetime) -> None:
    """An in-app inbox message: someone else issued a link code for your account (when, not the
    code). Through the outbox's inbox channel, so a Telegram link never carries it."""
    kind = NotificationKind.TELEGRAM_LINK_CODE_ISSUED
    await enqueue(
        uow,
        recipient_user_id=user.id,
        channel=Channel.INBOX,
        kind=kind,
        lane=Lane.HIGH,
        message_key=message_key(kind),
        params={"time": issued_at.isoformat()},
        # One notice per issue. Not the code's row id: a deleted code's id may come back.
        dedupe_key=f"telegram_link_code:{user.id}:{secrets.token_hex(8)}",
    )


async def redeem_link_code(
    *, uow: UnitOfWork, code: str, telegram_user_id: int, chat_id: int
) -> LinkedAccountRead:
    """Link the code's account to this Telegram user and chat (``/start CODE``).

    Unknown, used and expired codes, and codes of inactive accounts, all raise
    ``LinkCodeInvalid``; each is recorded as a wrong attempt (committed although the redeem
    fails). ``LinkAttemptsExceeded`` once this Telegram user has made ``MAX_WRONG_CODES``
    wrong attempts in the last ``ATTEMPT_WINDOW``.
    """
    async with uow:
        now = uow.clock.now()
        window_start = now - ATTEMPT_WINDOW
        wrong = await uow.session.scalar(
            select(func.count())
            .select_from(TelegramLinkAttempt)
            .where(
                TelegramLinkAttempt.telegram_user_id == telegram_user_id,
                TelegramLinkAttempt.attempted_at > window_start,
            )
        )
        if (wrong or 0) >= MAX_WRONG_CODES:
            raise LinkAttemptsExceeded()

        found = (
            await uow.session.execute(
                select(TelegramLinkCode.id, User)
                .join(User, User.id == TelegramLinkCode.user_id)
                .where(
                    TelegramLinkCode.code_hash == hash_code(code),
                    TelegramLinkCode.used_at.is_(None),
                    TelegramLinkCode.expires_at > now,
                    User.is_active.is_(True),
                )
            )
        ).first()
        claimed = False
        if found is not None:
            # Single use even when two redeems race: only one of them sees the code unused.
            result = await uow.session.execute(
                update(TelegramLinkCode)
                .where(TelegramLinkCode.id == found[0], TelegramLinkCode.used_at.is_(None))
                .values(used_at=now)
                .execution_options(synchronize_session=False)
            )
            claimed = rowcount(result) == 1
        if found is None or not claimed:
            await uow.session.execute(
                delete(TelegramLinkAttempt).where(TelegramLinkAttempt.attempted_at <= window_start)
            )
            uow.session.add(
                TelegramLinkAttempt(telegram_user_id=telegram_user_id, attempted_at=now)
            )
            await uow.commit()
            raise LinkCodeInvalid()

        user: User = found[1]
        actor = actor_from_user(user, Face.BOT)
        await _replace_links(uow, actor, user, telegram_user_id=telegram_user_id, chat_id=chat_id)
        record_user_audit(
            uow,
            actor,
            "telegram_link.link",
            user=user,
            details={"code_id": found[0], "telegram_user_id": telegram_user_id},
        )
        await uow.commit()
        return LinkedAccountRead(
            user_id=user.id,
            email=user.email,
            locale=user.locale,
            roles=tuple(sorted({m.role for m in user.memberships})),
            site_codes=tuple(sorted({m.site.code for m in user.memberships})),
        )


async def _replace_links(
    uow: UnitOfWork, actor: Actor, user: User, *, telegram_user_id: int, chat_id: int
) -> None:
    """Give the user one active link to this Telegram account, taking it from anyone else."""
    links = (
        await uow.session.scalars(
            select(TelegramLink).where(
                or_(
                    TelegramLink.user_id == user.id,
                    TelegramLink.telegram_user_id == telegram_user_id,
                )
            )
        )
    ).all()
    mine = None
    for link in links:
        if link.user_id == user.id:
            mine = link
            continue
        previous = await uow.session.get(User, link.user_id)
        assert previous is not None
        if link.is_active:
            record_user_audit(
                uow,
                actor,
                "telegram_link.revoke",
                user=previous,
                details={"reason": RELINKED_REASON},
            )
        await uow.session.delete(link)
    # The deletes must reach the database before the unique telegram_user_id is reused.
    await uow.flush()
    now = uow.clock.now()
    if mine is None:
        uow.session.add(
            TelegramLink(
                user_id=user.id,
                telegram_user_id=telegram_user_id,
                chat_id=chat_id,
                is_active=True,
                linked_at=now,
            )
        )
    else:
        mine.telegram_user_id = telegram_user_id
        mine.chat_id = chat_id
        mine.is_active = True
        mine.linked_at = now
        mine.deactivated_at = None
        mine.deactivation_reason = None


async def revoke_telegram_link(*, uow: UnitOfWork, actor: Actor, user_id: int) -> bool:
    """End the account's Telegram link (and any unused code). True when there was a link.

    The bot resolves the actor on every update, so the next update is already refused.
    """
    async with uow:
        user = await _user_for(uow, actor, user_id)
        now = uow.clock.now()
        await uow.session.execute(
            delete(TelegramLinkCode).where(
                TelegramLinkCode.user_id == user.id, TelegramLinkCode.used_at.is_(None)
            )
        )
        result = await uow.session.execute(
            update(TelegramLink)
            .where(TelegramLink.user_id == user.id, TelegramLink.is_active.is_(True))
            .values(is_active=False, deactivated_at=now, deactivation_reason=REVOKED_REASON)
            .execution_options(synchronize_session=False)
        )
        revoked = bool(rowcount(result))
        if revoked:
            record_user_audit(
                uow, actor, "telegram_link.revoke", user=user, details={"reason": REVOKED_REASON}
            )
        await uow.commit()
        return revoked


async def actor_for_telegram_user(*, uow: UnitOfWork, telegram_user_id: int) -> Actor | None:
    """The linked, active account behind a Telegram user, as a bot ``Actor``; None if none.

    One query (link, account and roles together): the bot asks on every update.
    """
    async with uow:
        return await linked_actor_in(uow, telegram_user_id)


def linked_actor_select(telegram_user_id: Any) -> Select[*tuple[Any, ...]]:
    """The rows an actor is made of (one per membership) for an active link to an active account.

    ``telegram_user_id`` is a value or a bind parameter; :func:`actor_from_link_rows` reads them.
    """
    return (
        select(
            User.id,
            User.email,
            User.display_name,
            User.locale,
            Membership.site_id,
            Site.code,
            Membership.role,
            Membership.agency,
        )
        .select_from(TelegramLink)
        .join(User, User.id == TelegramLink.user_id)
        .outerjoin(Membership, Membership.user_id == User.id)
        .outerjoin(Site, Site.id == Membership.site_id)
        .where(
            TelegramLink.telegram_user_id == telegram_user_id,
            TelegramLink.is_active.is_(True),
            User.is_active.is_(True),
        )
    )


def actor_from_link_rows(rows: Sequence[RowMapping]) -> Actor | None:
    """The bot's actor from :func:`linked_actor_select`'s rows, read by column name; None for
    no rows (no link)."""
    rows = [row for row in rows if row["id"] is not None]
    if not rows:
        return None
    first = rows[0]
    return Actor(
        user_id=first["id"],
        email=first["email"],
        display_name=first["display_name"],
        locale=first["locale"],
        face=Face.BOT,
        memberships=tuple(
            MembershipRead(
                site_id=row["site_id"],
                site_code=row["code"],
                role=row["role"],
                agency=row["agency"],
            )  # fmt: skip
            for row in rows
            if row["site_id"] is not None
        ),
    )


_LINKED_ACTOR = linked_actor_select(bindparam("telegram_user_id"))  # built once: every update


async def linked_actor_in(uow: UnitOfWork, telegram_user_id: int) -> Actor | None:
    """:func:`actor_for_telegram_user` inside the caller's open unit of work."""
    connection = await uow.connection()
    rows = await connection.execute(_LINKED_ACTOR, {"telegram_user_id": telegram_user_id})
    return actor_from_link_rows(rows.mappings().all())
