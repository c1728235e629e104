"""Staff accounts, their roles per site, and resolving an authenticated person to an ``Actor``."""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy import Text, bindparam, delete, select, type_coerce, update
from sqlalchemy.orm import selectinload

from core import sealing
from core.db.results import rowcount
from core.enums import Face, Locale
from core.errors import DuplicateEmail, NotFound, NotPermitted, UnknownAccount, ValidationFailed
from core.models import DevicePin, Membership, Site, TelegramLink, User
from core.passwords import hash_password
from core.policy import Action, authorize, sites_where
from core.schemas.accounts import LinkKind, UserAdded
from core.schemas.actor import Actor, MembershipRead
from core.schemas.users import RoleChange, UserCreate, UserMembershipRead, UserRead
from core.services.audit import record_audit, record_user_audit
from core.uow import UnitOfWork

if TYPE_CHECKING:
    from core.services.accounts import LinkMailer


def _user_read(user: User, *, telegram_linked: bool = False) -> UserRead:
    memberships = tuple(
        UserMembershipRead(site_id=m.site_id, site_code=m.site.code, role=m.role, agency=m.agency)
        for m in sorted(user.memberships, key=lambda m: (m.site.code, m.role))
    )
    return UserRead(
        id=user.id,
        email=user.email,
        display_name=user.display_name,
        locale=user.locale,
        is_active=user.is_active,
        created_at=user.created_at,
        memberships=memberships,
        telegram_linked=telegram_linked,
    )


async def add_user(
    *, uow: UnitOfWork, actor: Actor, data: UserCreate, mailer: LinkMailer | None = None
) -> UserAdded:
    """Create an account with its roles, and its invitation (``core.services.accounts``): a
    single-use link, emailed through ``mailer`` when it can be, otherwise returned to be shown
    once to the actor. The actor must manage users at every site named."""
    from core.services import accounts  # accounts imports this module (actor_from_user)

    email = data.email.lower()
    async with uow:
        codes = {m.site_code for m in data.memberships}
        sites = {
            site.code: site
            for site in (await uow.session.scalars(select(Site).where(Site.code.in_(codes)))).all()
        }
        missing = codes - sites.keys()
        if missing:
            raise ValidationFailed(field="site_code", rule="unknown_site", value=sorted(missing)[0])
        for site in sites.values():
            authorize(actor, Action.USER_MANAGE, site_id=site.id)
        if not codes and not actor.is_system and not sites_where(actor, Action.USER_MANAGE):
            raise NotPermitted(action=str(Action.USER_MANAGE), actor=actor)
        if await uow.session.scalar(select(User.id).where(User.email == email)) is not None:
            raise DuplicateEmail(email=email)
        user = User(
            email=email,
            display_name=data.display_name,
            locale=data.locale,
            password_hash=hash_password(data.password) if data.password else None,
            is_active=True,
            created_at=uow.clock.now(),
        )
        user.memberships = [
            Membership(site=sites[m.site_code], role=m.role, agency=m.agency)
            for m in data.memberships
        ]
        uow.session.add(user)
        await uow.flush()
        for membership in user.memberships:
            record_audit(
                uow,
                actor,
                "user.add",
                entity_type="user",
                entity_id=user.id,
                site_id=membership.site_id,
                details={"role": membership.role.value},
            )
        if not user.memberships:
            record_audit(uow, actor, "user.add", entity_type="user", entity_id=user.id)
        token, expires_at = await accounts.issue_link(uow, user, LinkKind.INVITATION, actor)
        await uow.commit()
        added = _user_read(user)
    invitation = await accounts.deliver_link(
        uow,
        mailer,
        user_id=added.id,
        token=token,
        kind=LinkKind.INVITATION,
        expires_at=expires_at,
        issued_by=actor,
    )
    return UserAdded(**added.model_dump(), invitation=invitation)


async def list_users(
    *, uow: UnitOfWork, actor: Actor, site_id: int | None = None, site_code: str | None = None
) -> list[UserRead]:
    """Staff at the sites where the actor may see staff, optionally one site (by id or code)."""
    async with uow:
        if site_code is not None:
            site_id = await uow.session.scalar(
                select(Site.id).where(Site.code == site_code.upper())
            )
            if site_id is None:
                raise NotFound(entity="site", id=site_code)
        if actor.is_system:
            visible = None if site_id is None else {site_id}
        else:
            visible = sites_where(actor, Action.USER_VIEW)
            if site_id is not None:
                authorize(actor, Action.USER_VIEW, site_id=site_id)
                visible = {site_id}
        query = select(User).options(selectinload(User.memberships)).order_by(User.email)
        if visible is not None:
            query = query.where(
                User.id.in_(select(Membership.user_id).where(Membership.site_id.in_(visible)))
            )
        users = (await uow.session.scalars(query)).unique().all()
        linked = set(
            await uow.session.scalars(
                select(TelegramLink.user_id).where(
                    TelegramLink.is_active.is_(True),
                    TelegramLink.user_id.in_([user.id for user in users]),
                )
            )
        )
        return [_user_read(user, telegram_linked=user.id in linked) for user in users]


async def _managed_user(uow: UnitOfWork, actor: Actor, user_id: int) -> User:
    """The account with its roles, if the actor manages users at every site it belongs to."""
    user = await uow.session.scalar(
        select(User).options(selectinload(User.memberships)).where(User.id == user_id)
    )
    if user is None:
        raise NotFound(entity="users", id=user_id)
    site_ids = {m.site_id for m in user.memberships}
    if not site_ids and not actor.is_system and not sites_where(actor, Action.USER_MANAGE):
        raise NotPermitted(action=str(Action.USER_MANAGE), actor=actor)
    for site_id in sorted(site_ids):
        authorize(actor, Action.USER_MANAGE, site_id=site_id)
    return user


async def set_user_active(
    *, uow: UnitOfWork, actor: Actor, user_id: int, is_active: bool
) -> UserRead:
    """Switch an account off (no sign-in, no bot, sessions stop on their next request, its
    device PINs go) or on.

    The actor must manage users at every site the account belongs to, and may not switch off
    their own account (an admin locking themselves out helps nobody).
    """
    async with uow:
        user = await _managed_user(uow, actor, user_id)
        if not is_active and user.id == actor.user_id:
            raise ValidationFailed(field="user_id", rule="own_account")
        if user.is_active != is_active:
            user.is_active = is_active
            record_user_audit(
                uow, actor, "user.reactivate" if is_active else "user.deactivate", user, {}
            )
            if not is_active:  # switched back on later, no old PIN resumes a session
                await forget_device_pins(uow, user, actor, "deactivated")
            await uow.commit()
        return _user_read(user)


async def change_role(*, uow: UnitOfWork, actor: Actor, user_id: int, data: RoleChange) -> UserRead:
    """Give a staff member ``data.role`` at a site where they already work, in place of the
    roles they hold there now. Not for one's own account. Audited (the roles, nothing else)."""
    async with uow:
        authorize(actor, Action.USER_MANAGE, site_id=data.site_id)
        user = await uow.session.scalar(
            select(User).options(selectinload(User.memberships)).where(User.id == user_id)
        )
        here = [m for m in user.memberships if m.site_id == data.site_id] if user else []
        if user is None or not here:
            raise NotFound(entity="users", id=user_id)
        if user.id == actor.user_id:
            raise ValidationFailed(field="user_id", rule="own_account")
        before = sorted(m.role.value for m in here)
        if before == [data.role.value] and here[0].agency == data.agency:
            return _user_read(user)
        for membership in here:
            user.memberships.remove(membership)
        await uow.flush()  # the old rows go before the new one (one role per site and user)
        site = await uow.session.get(Site, data.site_id)
        user.memberships.append(
            Membership(site=site, site_id=data.site_id, role=data.role, agency=data.agency)
        )
        await uow.flush()
        record_audit(
            uow,
            actor,
            "user.change_role",
            entity_type="user",
            entity_id=user.id,
            site_id=data.site_id,
            details={"from_roles": before, "to_role": data.role.value},
        )
        await uow.commit()
        return _user_read(user)


async def actor_for_email(*, uow: UnitOfWork, email: str, face: Face) -> Actor:
    """The ``Actor`` for an account that a face has already authenticated."""
    async with uow:
        user = await uow.session.scalar(
            select(User)
            .options(selectinload(User.memberships))
            .where(User.email == email.strip().lower())
        )
        if user is None:
            raise UnknownAccount(email=email.strip().lower())
        if not user.is_active:
            raise NotPermitted(action="sign_in")
        return actor_from_user(user, face)


def actor_from_user(user: User, face: Face) -> Actor:
    return Actor(
        user_id=user.id,
        email=user.email,
        display_name=user.display_name,
        locale=user.locale,
        face=face,
        memberships=tuple(
            MembershipRead(site_id=m.site_id, site_code=m.site.code, role=m.role, agency=m.agency)
            for m in user.memberships
        ),
    )


async def user_id_for_email(*, uow: UnitOfWork, email: str) -> int:
    """The id of the account with this email address (active or not); ``UnknownAccount`` if none.

    Only a lookup: what may be done with the account is checked by the service that uses it.
    """
    address = email.strip().lower()
    async with uow:
        user_id = await uow.session.scalar(select(User.id).where(User.email == address))
        if user_id is None:
            raise UnknownAccount(email=address)
        return user_id


async def set_my_locale(*, uow: UnitOfWork, actor: Actor, locale: Locale) -> None:
    """The language the actor's own messages and screens use. Not audited: a preference only."""
    async with uow:
        if actor.is_system:
            raise NotPermitted(action="user.set_locale")
        result = await uow.session.execute(
            update(User)
            .where(User.id == actor.user_id)
            .values(locale=locale)
            .execution_options(synchronize_session=False)
        )
        if not rowcount(result):
            raise NotFound(entity="users", id=actor.user_id)
        await uow.commit()


async def reseal_users_column(uow: UnitOfWork, name: str) -> int:
    """Seal every stored value of the sealed ``users`` column ``name`` under the first key in
    ``TOTP_ENCRYPTION_KEYS`` (values from before sealing, and values sealed with an older key
    after a rotation), inside the caller's unit of work; how many were sealed again. The
    values never leave this function."""
    users = User.__table__
    column = users.c[name]
    stored = type_coerce(column, Text)  # as stored, not opened
    connection = await uow.connection()
    rows = (
        await connection.execute(
            select(users.c.id, stored.label("stored")).where(column.is_not(None))
        )
    ).all()
    stale = [row for row in rows if not sealing.is_sealed_with_current_key(row.stored)]
    if stale:
        await connection.execute(
            update(users)
            .where(users.c.id == bindparam("b_id"))
            .values({name: bindparam("b_value")}),  # the column seals it again
            [{"b_id": row.id, "b_value": sealing.unseal(row.stored)} for row in stale],
        )
    return len(stale)


async def forget_device_pins(uow: UnitOfWork, user: User, actor: Actor, reason: str) -> int:
    """Remove every device PIN of the account (``core.services.device_pins``), inside the
    caller's unit of work: at sign-out, "sign out everywhere", a password or second-factor
    reset, an account lock and switching the account off. Audited ``pin.removed`` once, with
    the reason and the count, when there were any. Returns how many went."""
    removed = rowcount(
        await uow.session.execute(delete(DevicePin).where(DevicePin.user_id == user.id))
    )
    if removed:
        record_user_audit(uow, actor, "pin.removed", user, {"reason": reason, "count": removed})
    return removed
