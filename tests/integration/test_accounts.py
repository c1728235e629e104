"""Staff accounts by invitation only, resets and "My account" (core.services.accounts), on a
real database: single-use links that expire, are revoked by newer ones and by wrong guesses;
passwords checked as the NCSC advises; resets that end sessions, stop the old authenticator at
once and unlink nothing else; and GOV.UK Notify's refusals, which leave the link usable."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta

import pytest
from sqlalchemy import select

from core.bootstrap import Container
from core.clock import FixedClock
from core.enums import Channel, Locale, NotificationKind, Role
from core.errors import (
    AccountLinkInvalid,
    AccountLocked,
    AuthenticatorChangeExpired,
    NotFound,
    PasswordNotAllowed,
    SignInFailed,
    SignInThrottled,
    ValidationFailed,
    WrongCode,
    WrongPassword,
)
from core.models import (
    AccountLink,
    AuditEvent,
    OutboxMessage,
    Passkey,
    TelegramLink,
    User,
    WebSession,
)
from core.passwords import common_passwords, password_problem
from core.schemas.accounts import LinkDelivery, LinkKind, LinkStep
from core.schemas.actor import Actor
from core.schemas.users import MembershipCreate, UserCreate
from core.services import accounts, auth, lockout
from core.services import users as user_services
from core.settings import Settings
from core.uow import UnitOfWork
from tests.factories import World
from tests.fakes.notify_api import FakeNotifyApi
from ui.account_mail import NotifyLinkMailer
from webapp import routes

PASSWORD = "marmalade kettle lighthouse"
NEW_PASSWORD = "cobweb tangerine escalator"
STEP = timedelta(seconds=30)
HERE = "198.51.100.7"  # the client My account is used from


def token_of(delivery: LinkDelivery) -> str:
    assert delivery.url, "the link was emailed, so not returned"
    return delivery.url.split("token=", 1)[1]


async def invite(
    container: Container,
    email: str = "new.starter@test.invalid",
    *,
    site: str = "HER",
    role: Role = Role.CASE_MANAGER,
    locale: Locale = Locale.EN_GB,
    mailer: NotifyLinkMailer | None = None,
) -> tuple[int, LinkDelivery]:
    added = await user_services.add_user(
        uow=container.uow(),
        actor=Actor.system(),
        data=UserCreate(
            email=email,
            display_name="Test Newstarter",
            locale=locale,
            memberships=[MembershipCreate(site_code=site, role=role)],
        ),
        mailer=mailer,
    )
    return added.id, added.invitation


def code(container: Container, secret: str) -> str:
    return auth.current_totp_code(secret, container.clock.now())


def tick(container: Container) -> None:
    """The next 30-second step: a code is accepted once."""
    clock = container.clock
    assert isinstance(clock, FixedClock)
    clock.advance(STEP)


async def accept(container: Container, token: str) -> tuple[str, str]:
    """Follow an invitation to its end; the authenticator's secret and the session token."""
    started = await accounts.set_password_with_link(
        uow=container.uow(), token=token, password=PASSWORD
    )
    signed_in = await accounts.finish_enrolment_with_link(
        uow=container.uow(), token=token, totp_code=code(container, started.secret)
    )
    session = await auth.redeem_handoff(uow=container.uow(), code=signed_in.handoff_code)
    return started.secret, session


async def sign_in(container: Container, email: str, password: str, secret: str) -> str:
    tick(container)
    result = await auth.sign_in(
        uow=container.uow(),
        email=email,
        password=password,
        totp_code=code(container, secret),
        client="192.0.2.20",
    )
    return await auth.redeem_handoff(uow=container.uow(), code=result.handoff_code)


async def user_row(container: Container, user_id: int) -> User:
    async with container.session_factory() as session:
        user = await session.get(User, user_id)
        assert user is not None
        return user


async def audit_actions(container: Container) -> list[str]:
    async with container.session_factory() as session:
        return list(await session.scalars(select(AuditEvent.action).order_by(AuditEvent.id)))


# --- Invitations -------------------------------------------------------------------------------


async def test_an_invitation_sets_a_password_then_an_authenticator_signs_in_and_works_once(
    container: Container, world: World
) -> None:
    user_id, invitation = await invite(container)
    token = token_of(invitation)
    assert invitation.kind is LinkKind.INVITATION and not invitation.emailed
    assert invitation.url.startswith(f"{accounts.LINK_PATH}?token=")
    assert accounts.LINK_PATH == routes.ACCOUNT_LINK
    assert invitation.expires_at == container.clock.now() + timedelta(hours=72)

    opened = await accounts.open_account_link(uow=container.uow(), token=token)
    assert (opened.step, opened.email) == (LinkStep.SET_PASSWORD, "new.starter@test.invalid")
    secret, session = await accept(container, token)

    actor = await auth.actor_for_session(uow=container.uow(), token=session)
    assert actor is not None and actor.user_id == user_id
    assert await sign_in(container, "new.starter@test.invalid", PASSWORD, secret)
    for follow in (
        accounts.open_account_link(uow=container.uow(), token=token),
        accounts.set_password_with_link(uow=container.uow(), token=token, password=NEW_PASSWORD),
    ):
        with pytest.raises(AccountLinkInvalid) as refused:
            await follow
        assert refused.value.details["reason"] == "used"
    async with container.session_factory() as session_:
        stored = (await session_.scalars(select(AccountLink.token_hash))).all()
    assert token not in stored and len(stored[0]) == 64  # its SHA-256 only
    actions = await audit_actions(container)
    for action in ("account_link.invite", "account.password_set", "auth.totp_enrolled"):
        assert action in actions
    assert "account_link.redeem" in actions


async def test_an_invitation_works_for_72_hours_and_not_a_second_longer(
    container: Container, world: World, clock: FixedClock
) -> None:
    _user_id, first = await invite(container, "first@test.invalid")
    _user_id, second = await invite(container, "second@test.invalid")
    clock.advance(timedelta(hours=72) - timedelta(seconds=1))
    await accounts.open_account_link(uow=container.uow(), token=token_of(first))
    clock.advance(timedelta(seconds=1))

    with pytest.raises(AccountLinkInvalid) as refused:
        await accounts.set_password_with_link(
            uow=container.uow(), token=token_of(second), password=PASSWORD
        )
    assert refused.value.details["reason"] == "expired"
    user = await user_row(container, _user_id)
    assert user.password_hash is None and user.totp_secret is None


async def test_sending_an_invitation_again_revokes_the_old_link(
    container: Container, world: World
) -> None:
    user_id, old = await invite(container)
    admin = world.actor(Role.ADMIN)

    new = await accounts.resend_invitation(
        uow=container.uow(), actor=admin, user_id=user_id, mailer=None
    )

    with pytest.raises(AccountLinkInvalid) as refused:
        await accounts.open_account_link(uow=container.uow(), token=token_of(old))
    assert refused.value.details["reason"] == "revoked"
    await accept(container, token_of(new))
    with pytest.raises(ValidationFailed) as already:  # accepted: nothing left to send
        await accounts.resend_invitation(
            uow=container.uow(), actor=admin, user_id=user_id, mailer=None
        )
    assert already.value.details["rule"] == "already_set_up"


@pytest.mark.parametrize(
    ("password", "rule"),
    [
        ("short one", "too_short"),
        ("x" * 257, "too_long"),
        ("iloveyou1234", "common"),  # a listed password with digits added
        ("!!Qwertyuiop2026", "common"),
        ("passwordpassword", "common"),
        ("            ", "common"),
        ("new.starter@test.invalid", "like_account"),
        ("Test Newstarter", "like_account"),
        ("testnewstarter", "like_account"),
    ],
)
async def test_a_weak_or_common_password_is_refused_and_changes_nothing(
    container: Container, world: World, password: str, rule: str
) -> None:
    user_id, invitation = await invite(container)

    with pytest.raises(PasswordNotAllowed) as refused:
        await accounts.set_password_with_link(
            uow=container.uow(), token=token_of(invitation), password=password
        )

    assert refused.value.details["rule"] == rule
    user = await user_row(container, user_id)
    assert (user.password_hash, user.totp_secret) == (None, None)
    with pytest.raises(AccountLinkInvalid) as skipped:  # the first step is not done
        await accounts.finish_enrolment_with_link(
            uow=container.uow(), token=token_of(invitation), totp_code="123456"
        )
    assert skipped.value.details["reason"] == "step_missing"
    assert "account.password_set" not in await audit_actions(container)


def test_long_passwords_of_unrelated_words_are_fine_and_the_list_is_the_shipped_one() -> None:
    assert password_problem(PASSWORD, email="a@test.invalid", name="Test Person") is None
    assert password_problem("Correct Horse Battery Stapler") is None  # no composition rules
    assert len(common_passwords()) > 3000
    assert {"password", "qwertyuiop", "iloveyou", "passwordpassword"} <= common_passwords()


async def test_five_wrong_codes_through_a_link_revoke_it(
    container: Container, world: World
) -> None:
    user_id, invitation = await invite(container)
    token = token_of(invitation)
    started = await accounts.set_password_with_link(
        uow=container.uow(), token=token, password=PASSWORD
    )
    right = code(container, started.secret)
    wrong = f"{(int(right) + 1) % 1_000_000:06d}"

    for _attempt in range(accounts.MAX_LINK_FAILURES):
        with pytest.raises(WrongCode):
            await accounts.finish_enrolment_with_link(
                uow=container.uow(), token=token, totp_code=wrong
            )

    with pytest.raises(AccountLinkInvalid) as refused:
        await accounts.finish_enrolment_with_link(uow=container.uow(), token=token, totp_code=right)
    assert refused.value.details["reason"] == "revoked"
    assert (await user_row(container, user_id)).totp_enrolled_at is None


# --- Resets ------------------------------------------------------------------------------------


async def test_a_second_factor_reset_stops_the_old_authenticator_ends_sessions_and_keeps_the_rest(
    container: Container, world: World
) -> None:
    email = "new.starter@test.invalid"
    user_id, invitation = await invite(container, email)
    old_secret, session = await accept(container, token_of(invitation))
    async with container.uow() as uow:
        uow.session.add(
            TelegramLink(
                user_id=user_id,
                telegram_user_id=7001,
                chat_id=7001,
                is_active=True,
                linked_at=container.clock.now(),
            )
        )
        await uow.commit()
    manager = world.actor(Role.SERVICE_MANAGER)

    reset = await accounts.reset_second_factor(
        uow=container.uow(), actor=manager, user_id=user_id, mailer=None
    )

    assert await auth.actor_for_session(uow=container.uow(), token=session) is None
    with pytest.raises(SignInFailed):  # the old authenticator no longer signs in
        await sign_in(container, email, PASSWORD, old_secret)
    async with container.session_factory() as db:
        link = await db.scalar(select(TelegramLink).where(TelegramLink.user_id == user_id))
        assert link is not None and link.is_active  # unlinks nothing else
        [notice] = (
            await db.scalars(
                select(OutboxMessage).where(OutboxMessage.recipient_user_id == user_id)
            )
        ).all()
        assert (notice.channel, notice.kind) == (
            Channel.INBOX,
            NotificationKind.ACCOUNT_SECOND_FACTOR_RESET,
        )
        assert set(notice.params) == {"time"}
        ended = (await db.scalars(select(WebSession.revoked_reason))).all()
        assert ended == ["account_reset"]

    token = token_of(reset)
    opened = await accounts.open_account_link(uow=container.uow(), token=token)
    assert opened.step is LinkStep.CONFIRM_PASSWORD
    with pytest.raises(WrongPassword):
        await accounts.confirm_password_with_link(
            uow=container.uow(), token=token, password=NEW_PASSWORD
        )
    started = await accounts.confirm_password_with_link(
        uow=container.uow(), token=token, password=PASSWORD
    )
    tick(container)
    await accounts.finish_enrolment_with_link(
        uow=container.uow(), token=token, totp_code=code(container, started.secret)
    )
    assert await sign_in(container, email, PASSWORD, started.secret)
    with pytest.raises(SignInFailed):
        await sign_in(container, email, PASSWORD, old_secret)


async def test_a_password_reset_needs_a_good_new_password_and_the_authenticator(
    container: Container, world: World
) -> None:
    email = "new.starter@test.invalid"
    user_id, invitation = await invite(container, email)
    secret, session = await accept(container, token_of(invitation))
    reset = await accounts.reset_password(
        uow=container.uow(), actor=world.actor(Role.ADMIN), user_id=user_id, mailer=None
    )
    token = token_of(reset)
    assert reset.expires_at == container.clock.now() + timedelta(hours=24)
    assert await auth.actor_for_session(uow=container.uow(), token=session) is None
    tick(container)

    with pytest.raises(PasswordNotAllowed):
        await accounts.reset_password_with_link(
            uow=container.uow(),
            token=token,
            password="password1234",
            totp_code=code(container, secret),
        )
    with pytest.raises(WrongCode):
        await accounts.reset_password_with_link(
            uow=container.uow(), token=token, password=NEW_PASSWORD, totp_code="000000"
        )
    assert await sign_in(container, email, PASSWORD, secret)  # nothing changed so far

    tick(container)
    await accounts.reset_password_with_link(
        uow=container.uow(), token=token, password=NEW_PASSWORD, totp_code=code(container, secret)
    )
    assert await sign_in(container, email, NEW_PASSWORD, secret)
    with pytest.raises(SignInFailed):
        await sign_in(container, email, PASSWORD, secret)


async def test_the_persons_own_reset_link_lifts_a_sign_in_lock(
    container: Container, world: World
) -> None:
    email = "new.starter@test.invalid"
    user_id, invitation = await invite(container, email)
    secret, _session = await accept(container, token_of(invitation))
    async with container.session_factory() as session:  # locked by failures from many places
        locked = await session.get(User, user_id)
        assert locked is not None
        locked.locked_at = container.clock.now()
        await session.commit()
    tick(container)
    with pytest.raises(AccountLocked):  # the right password and code are not enough
        await sign_in(container, email, PASSWORD, secret)

    reset = await accounts.reset_password(
        uow=container.uow(), actor=world.actor(Role.ADMIN), user_id=user_id, mailer=None
    )
    tick(container)
    await accounts.reset_password_with_link(
        uow=container.uow(),
        token=token_of(reset),
        password=NEW_PASSWORD,
        totp_code=code(container, secret),
    )

    tick(container)
    assert await sign_in(container, email, NEW_PASSWORD, secret)
    async with container.session_factory() as session:
        events = (
            await session.scalars(select(AuditEvent).where(AuditEvent.action == "account.unlocked"))
        ).all()
    assert [(e.entity_id, e.details) for e in events] == [(user_id, {"reason": "reset_link"})]


async def test_nobody_resets_their_own_account_or_one_not_set_up(
    container: Container, world: World
) -> None:
    user_id, _invitation = await invite(container)
    manager = world.actor(Role.SERVICE_MANAGER)
    for target, rule in ((manager.user_id, "own_account"), (user_id, "not_set_up")):
        with pytest.raises(ValidationFailed) as refused:
            await accounts.reset_password(
                uow=container.uow(), actor=manager, user_id=target, mailer=None
            )
        assert refused.value.details["rule"] == rule


# --- GOV.UK Notify -----------------------------------------------------------------------------


@pytest.fixture
async def notify_api() -> AsyncIterator[FakeNotifyApi]:
    async with FakeNotifyApi() as fake:
        yield fake


def mailer_for(fake: FakeNotifyApi) -> NotifyLinkMailer:
    return NotifyLinkMailer(
        Settings(
            notify_api_key=fake.api_key,
            notify_base_url=fake.url,
            notify_email_template_id=fake.email_template_id,
            web_public_url="https://drive-assist.test.invalid",
        )
    )


async def test_an_invitation_is_emailed_in_the_persons_language_and_not_shown(
    container: Container, world: World, notify_api: FakeNotifyApi
) -> None:
    _user_id, invitation = await invite(container, locale=Locale.CY, mailer=mailer_for(notify_api))

    [sent] = await notify_api.wait_for(1)
    assert invitation.emailed and invitation.url == ""
    assert sent.to == "new.starter@test.invalid"
    assert sent.subject == "Sefydlu eich cyfrif Drive Assist"
    link = sent.body.split("https://drive-assist.test.invalid/account-link?token=", 1)[1].split()[0]
    opened = await accounts.open_account_link(uow=container.uow(), token=link)
    assert opened.locale is Locale.CY
    assert "account_link.emailed" in await audit_actions(container)


@pytest.mark.parametrize("status", [400, 403, 429, 500])
async def test_when_notify_refuses_the_link_is_shown_instead_and_still_works(
    container: Container, world: World, notify_api: FakeNotifyApi, status: int
) -> None:
    notify_api.fail_next(status, message="test refusal")

    user_id, invitation = await invite(container, mailer=mailer_for(notify_api))

    assert not invitation.emailed and notify_api.sent == []
    assert invitation.notify_status == status and "test refusal" in (invitation.notify_reason or "")
    assert invitation.url.startswith("https://drive-assist.test.invalid/account-link?token=")
    await accept(container, token_of(invitation))
    assert (await user_row(container, user_id)).totp_enrolled_at is not None
    assert "account_link.email_failed" in await audit_actions(container)


# --- My account ---------------------------------------------------------------------------------


async def test_changing_my_password_needs_the_current_one_and_ends_my_other_sessions(
    container: Container, world: World
) -> None:
    email = "new.starter@test.invalid"
    user_id, invitation = await invite(container, email)
    secret, here = await accept(container, token_of(invitation))
    elsewhere = await sign_in(container, email, PASSWORD, secret)
    me = await auth.actor_for_session(uow=container.uow(), token=here)
    assert me is not None

    with pytest.raises(WrongPassword):
        await accounts.change_my_password(
            uow=container.uow(),
            actor=me,
            current_password="not it at all",
            new_password=NEW_PASSWORD,
            client=HERE,
        )
    with pytest.raises(PasswordNotAllowed):
        await accounts.change_my_password(
            uow=container.uow(),
            actor=me,
            current_password=PASSWORD,
            new_password="qwerty123456",
            client=HERE,
        )
    mine = await accounts.my_account(uow=container.uow(), actor=me, session_token=here)
    assert [s.this_device for s in mine.sessions].count(True) == 1 and len(mine.sessions) == 2

    ended = await accounts.change_my_password(
        uow=container.uow(),
        actor=me,
        current_password=PASSWORD,
        new_password=NEW_PASSWORD,
        client=HERE,
        session_token=here,
    )

    assert ended == 1
    assert await auth.actor_for_session(uow=container.uow(), token=here) is not None
    assert await auth.actor_for_session(uow=container.uow(), token=elsewhere) is None
    assert await sign_in(container, email, NEW_PASSWORD, secret)
    assert "account.password_change_failed" in await audit_actions(container)


async def test_signing_out_everywhere_ends_every_session_this_one_too(
    container: Container, world: World
) -> None:
    email = "new.starter@test.invalid"
    _user_id, invitation = await invite(container, email)
    secret, here = await accept(container, token_of(invitation))
    elsewhere = await sign_in(container, email, PASSWORD, secret)
    me = await auth.actor_for_session(uow=container.uow(), token=here)
    assert me is not None

    assert await accounts.sign_out_everywhere(uow=container.uow(), actor=me) == 2

    for token in (here, elsewhere):
        assert await auth.actor_for_session(uow=container.uow(), token=token) is None
    assert "account.sign_out_everywhere" in await audit_actions(container)


async def test_wrong_current_passwords_on_my_account_are_throttled_as_sign_ins_are(
    container: Container, world: World
) -> None:
    email = "new.starter@test.invalid"
    _user_id, invitation = await invite(container, email)
    _secret, here = await accept(container, token_of(invitation))
    me = await auth.actor_for_session(uow=container.uow(), token=here)
    assert me is not None

    async def change(current: str, client: str = HERE) -> int:
        return await accounts.change_my_password(
            uow=container.uow(),
            actor=me,
            current_password=current,
            new_password=NEW_PASSWORD,
            client=client,
        )

    for _ in range(lockout.FREE_FAILURES):
        with pytest.raises(WrongPassword):
            await change("a guess at it")
    with pytest.raises(SignInThrottled):  # now even the right one waits, from this client
        await change(PASSWORD)
    with pytest.raises(SignInThrottled):  # and signing in from it waits as well
        await auth.sign_in(
            uow=container.uow(), email=email, password=PASSWORD, totp_code="000000", client=HERE
        )
    await change(PASSWORD, client="203.0.113.9")  # the owner's other device is not held back
    container.clock.advance(lockout.FIRST_DELAY)
    with pytest.raises(WrongPassword):  # the old password, after the delay: counted again
        await change(PASSWORD)
    assert (await audit_actions(container)).count("account.password_change_failed") == 6


# --- My account: changing one's own authenticator -------------------------------------------------


async def test_i_change_my_own_authenticator_and_only_then_the_old_one_stops(
    container: Container, world: World
) -> None:
    email = "new.starter@test.invalid"
    user_id, invitation = await invite(container, email)
    old_secret, here = await accept(container, token_of(invitation))
    me = await auth.actor_for_session(uow=container.uow(), token=here)
    assert me is not None
    tick(container)

    async def start(password: str, current_code: str) -> str:
        started = await accounts.start_authenticator_change(
            uow=container.uow(),
            actor=me,
            current_password=password,
            current_code=current_code,
            client=HERE,
        )
        assert started.secret in started.otpauth_uri and started.secret not in started.ticket
        return started.ticket

    with pytest.raises(WrongPassword):
        await start("not it at all", code(container, old_secret))
    with pytest.raises(WrongCode):
        await start(PASSWORD, "000000" if code(container, old_secret) != "000000" else "111111")
    ticket = await start(PASSWORD, code(container, old_secret))
    new_secret = accounts.sealing.unseal(ticket).split('"secret": "')[1].split('"')[0]
    assert await sign_in(container, email, PASSWORD, old_secret)  # the old app still works
    tick(container)
    with pytest.raises(WrongCode):  # a code from the old app does not finish it
        await accounts.finish_authenticator_change(
            uow=container.uow(), actor=me, ticket=ticket, totp_code=code(container, old_secret)
        )
    assert await sign_in(container, email, PASSWORD, old_secret)

    email_ready = UnitOfWork(
        container.session_factory, container.clock, container.zone, frozenset({Channel.EMAIL})
    )
    await accounts.finish_authenticator_change(
        uow=email_ready, actor=me, ticket=ticket, totp_code=code(container, new_secret)
    )

    with pytest.raises(SignInFailed):  # the confirming code does not sign in again
        await auth.sign_in(
            uow=container.uow(),
            email=email,
            password=PASSWORD,
            totp_code=code(container, new_secret),
            client="192.0.2.20",
        )
    with pytest.raises(SignInFailed):
        await sign_in(container, email, PASSWORD, old_secret)
    assert await sign_in(container, email, PASSWORD, new_secret)
    assert await auth.actor_for_session(uow=container.uow(), token=here) is not None
    async with container.session_factory() as db:
        told = (
            await db.execute(
                select(OutboxMessage.channel, OutboxMessage.kind, OutboxMessage.params).where(
                    OutboxMessage.recipient_user_id == user_id
                )
            )
        ).all()
    assert sorted((str(c), k, set(p)) for c, k, p in told) == [
        ("email", NotificationKind.ACCOUNT_AUTHENTICATOR_CHANGED, {"time"}),
        ("inbox", NotificationKind.ACCOUNT_AUTHENTICATOR_CHANGED, {"time"}),
    ]
    actions = await audit_actions(container)
    assert actions.count("account.authenticator_change_failed") == 3
    assert "account.authenticator_change_started" in actions and "auth.totp_changed" in actions


async def test_a_change_of_authenticator_is_finished_only_by_its_account_in_time_and_once(
    container: Container, world: World
) -> None:
    sessions = []
    for email in ("new.starter@test.invalid", "other.starter@test.invalid"):
        _user_id, invitation = await invite(container, email)
        sessions.append(await accept(container, token_of(invitation)))
    [(secret, here), (_other_secret, there)] = sessions
    me = await auth.actor_for_session(uow=container.uow(), token=here)
    other = await auth.actor_for_session(uow=container.uow(), token=there)
    assert me is not None and other is not None

    async def start() -> tuple[str, str]:
        tick(container)
        started = await accounts.start_authenticator_change(
            uow=container.uow(),
            actor=me,
            current_password=PASSWORD,
            current_code=code(container, secret),
            client=HERE,
        )
        return started.ticket, started.secret

    async def finish(actor: Actor, ticket: str, new_secret: str) -> None:
        await accounts.finish_authenticator_change(
            uow=container.uow(), actor=actor, ticket=ticket, totp_code=code(container, new_secret)
        )

    ticket, new_secret = await start()
    with pytest.raises(AuthenticatorChangeExpired):  # not someone else's
        await finish(other, ticket, new_secret)
    with pytest.raises(AuthenticatorChangeExpired):  # not made up
        await finish(me, "fernet:" + ticket[-40:], new_secret)
    container.clock.advance(accounts.AUTHENTICATOR_CHANGE_LIFETIME)
    with pytest.raises(AuthenticatorChangeExpired):  # not too late
        await finish(me, ticket, new_secret)

    ticket, new_secret = await start()
    stale, _stale_secret = await start()
    await finish(me, ticket, new_secret)
    tick(container)
    with pytest.raises(AuthenticatorChangeExpired):  # once: the app it replaced is gone
        await finish(me, ticket, new_secret)
    with pytest.raises(AuthenticatorChangeExpired):
        await finish(me, stale, _stale_secret)


# --- A colleague's passkeys on Staff sign-in ------------------------------------------------------


async def test_a_manager_sees_a_colleagues_passkeys_and_removes_a_lost_ones(
    container: Container, world: World
) -> None:
    email = "new.starter@test.invalid"
    user_id, invitation = await invite(container, email)
    _secret, session = await accept(container, token_of(invitation))
    other_id, other_invitation = await invite(container, "other.starter@test.invalid")
    await accept(container, token_of(other_invitation))
    async with container.uow() as uow:
        keys = [
            Passkey(
                user_id=owner,
                credential_id=f"test-credential-{n}",
                public_key=b"test",
                sign_count=0,
                name=name,
                created_at=container.clock.now() + timedelta(minutes=n),
            )
            for n, (owner, name) in enumerate(
                [(user_id, "Lost phone"), (user_id, "Desk key"), (other_id, "Their phone")]
            )
        ]
        uow.session.add_all(keys)
        await uow.commit()
        lost, desk, theirs = (key.id for key in keys)
    manager = world.actor(Role.SERVICE_MANAGER)

    shown = await accounts.staff_accounts(uow=container.uow(), actor=manager)
    [row] = [person for person in shown.staff if person.id == user_id]
    assert [(p.id, p.name) for p in row.passkeys] == [(lost, "Lost phone"), (desk, "Desk key")]

    with pytest.raises(NotFound):  # another colleague's passkey, named through this one
        await accounts.remove_colleague_passkey(
            uow=container.uow(), actor=manager, user_id=user_id, passkey_id=theirs
        )
    email_ready = UnitOfWork(
        container.session_factory, container.clock, container.zone, frozenset({Channel.EMAIL})
    )
    await accounts.remove_colleague_passkey(
        uow=email_ready, actor=manager, user_id=user_id, passkey_id=lost
    )

    async with container.session_factory() as db:
        left = (await db.scalars(select(Passkey.id).order_by(Passkey.id))).all()
        told = (
            await db.execute(
                select(OutboxMessage.channel, OutboxMessage.kind).where(
                    OutboxMessage.recipient_user_id == user_id
                )
            )
        ).all()
    assert left == [desk, theirs]
    assert sorted((str(channel), kind) for channel, kind in told) == [
        ("email", NotificationKind.ACCOUNT_PASSKEY_REMOVED),
        ("inbox", NotificationKind.ACCOUNT_PASSKEY_REMOVED),
    ]
    assert await auth.actor_for_session(uow=container.uow(), token=session) is None
    assert "passkey.removed_by_staff" in await audit_actions(container)
