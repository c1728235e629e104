"""Web sign-in on SQLite and PostgreSQL: password and TOTP, one-time handoff codes, sessions
(idle and absolute limits, sign-out, deactivated accounts), enrolment, and the demo's
``drive-assist demo code``. The throttle and the lock: ``test_sign_in_throttle.py``.

Time is moved with the injected clock; nothing here reads the wall clock except the CLI test,
which only checks that the printed code is valid for the demo secret around now.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pyotp
import pytest
from sqlalchemy import select, text, update

from core import sealing
from core.bootstrap import Container
from core.clock import FixedClock
from core.enums import Face, Role
from core.errors import SignInFailed
from core.models import AuditEvent, User, WebSession, WebSignInToken
from core.schemas.actor import Actor
from core.schemas.auth import SignInResult
from core.schemas.sites import SiteCreate
from core.schemas.users import MembershipCreate, UserCreate
from core.services import accounts, auth
from core.services import sites as site_services
from core.services import users as user_services
from core.settings import Settings
from seeding.demo import DEMO_PASSWORD, demo_accounts, demo_totp_code, demo_totp_secret, seed_demo

PASSWORD = "a long test password"
EMAIL = "casey@test.invalid"
SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"
STEP = timedelta(seconds=30)
CLIENT = "192.0.2.10"  # the account's owner, on their own device (TEST-NET-1 addresses)
ATTACKER = "198.51.100.66"


@pytest.fixture
async def site(container: Container) -> int:
    created = await site_services.create_site(
        uow=container.uow(), actor=Actor.system(), data=SiteCreate(code="HER", name="Testshire")
    )
    return created.id


async def add_account(
    container: Container, email: str = EMAIL, *, secret: str | None = SECRET
) -> int:
    """An active case manager at HER with ``PASSWORD``, enrolled with ``secret`` unless None."""
    user = await user_services.add_user(
        uow=container.uow(),
        actor=Actor.system(),
        data=UserCreate(
            email=email,
            display_name="Test Casey",
            password=PASSWORD,
            memberships=[MembershipCreate(site_code="HER", role=Role.CASE_MANAGER)],
        ),
    )
    if secret is not None:
        await set_user(
            container, user.id, totp_secret=secret, totp_enrolled_at=container.clock.now()
        )
    return user.id


async def set_user(container: Container, user_id: int, **values: object) -> None:
    async with container.session_factory() as session:
        await session.execute(update(User).where(User.id == user_id).values(**values))
        await session.commit()


def code_now(container: Container, secret: str = SECRET) -> str:
    return auth.current_totp_code(secret, container.clock.now())


def wrong(code: str) -> str:
    return f"{(int(code) + 1) % 1_000_000:06d}"


async def sign_in(
    container: Container,
    email: str = EMAIL,
    password: str = PASSWORD,
    code: str | None = None,
    *,
    client: str = CLIENT,
) -> SignInResult:
    return await auth.sign_in(
        uow=container.uow(),
        email=email,
        password=password,
        totp_code=code if code is not None else code_now(container),
        client=client,
    )


async def signed_in_token(container: Container, email: str = EMAIL) -> str:
    result = await sign_in(container, email)
    assert isinstance(result, SignInResult)
    return await auth.redeem_handoff(uow=container.uow(), code=result.handoff_code)


async def actor_for(
    container: Container, token: str | None, settings: Settings | None = None
) -> Actor | None:
    return await auth.actor_for_session(uow=container.uow(), token=token, settings=settings)


async def audit_actions(container: Container) -> list[tuple[str, dict[str, object]]]:
    async with container.session_factory() as session:
        rows = await session.execute(
            select(AuditEvent.action, AuditEvent.details)
            .where(AuditEvent.action.like("auth.%"))
            .order_by(AuditEvent.id)
        )
        return [(action, details) for action, details in rows]


# --- Signing in ---------------------------------------------------------------------------------


async def test_the_right_password_and_code_give_a_handoff_that_opens_a_session_for_that_account(
    container: Container, site: int
) -> None:
    user_id = await add_account(container)

    result = await sign_in(container)
    assert isinstance(result, SignInResult)
    assert result.expires_at == container.clock.now() + timedelta(seconds=60)
    token = await auth.redeem_handoff(uow=container.uow(), code=result.handoff_code)
    actor = await actor_for(container, token)

    assert actor is not None
    assert (actor.user_id, actor.email, actor.face) == (user_id, EMAIL, Face.WEB)
    assert [(m.site_id, m.role) for m in actor.memberships] == [(site, Role.CASE_MANAGER)]
    assert ("auth.sign_in", {}) in await audit_actions(container)


async def test_only_hashes_of_the_session_token_and_the_handoff_code_are_stored(
    container: Container, site: int
) -> None:
    await add_account(container)
    result = await sign_in(container)
    assert isinstance(result, SignInResult)
    token = await auth.redeem_handoff(uow=container.uow(), code=result.handoff_code)

    async with container.session_factory() as session:
        session_hashes = (await session.scalars(select(WebSession.token_hash))).all()
        token_hashes = (await session.scalars(select(WebSignInToken.token_hash))).all()
    assert session_hashes == [hashlib.sha256(token.encode()).hexdigest()]
    assert token_hashes == [hashlib.sha256(result.handoff_code.encode()).hexdigest()]
    assert len(token) >= 40 and token != result.handoff_code


async def test_a_wrong_password_a_wrong_code_an_unknown_email_and_an_inactive_account_fail_alike(
    container: Container, site: int
) -> None:
    user_id = await add_account(container)
    inactive_id = await add_account(container, "gone@test.invalid")
    await set_user(container, inactive_id, is_active=False)
    clock = container.clock
    assert isinstance(clock, FixedClock)

    errors = []
    for email, password, code in (
        (EMAIL, "not the password", None),
        (EMAIL, PASSWORD, wrong(code_now(container))),
        (EMAIL, PASSWORD, "12345"),
        ("nobody@test.invalid", PASSWORD, None),
        ("gone@test.invalid", PASSWORD, None),
    ):
        clock.advance(STEP)
        with pytest.raises(SignInFailed) as caught:
            await sign_in(container, email, password, code)
        errors.append((caught.value.code, caught.value.details, str(caught.value)))

    assert errors == [("sign_in_failed", {}, "sign_in_failed")] * 5
    reasons = [d["reason"] for action, d in await audit_actions(container) if "reason" in d]
    assert reasons == [
        "wrong_password",
        "wrong_code",
        "wrong_code",
        "unknown_account",
        "inactive_account",
    ]
    clock.advance(STEP)
    assert isinstance(await sign_in(container), SignInResult)  # four failures: not locked
    assert user_id


async def test_no_audit_event_holds_the_password_or_the_code(
    container: Container, site: int
) -> None:
    await add_account(container)
    code = code_now(container)
    with pytest.raises(SignInFailed):
        await sign_in(container, password="not the password", code=code)
    assert isinstance(await sign_in(container, code=code), SignInResult)

    events = repr(await audit_actions(container))
    assert "auth.sign_in_failed" in events and "auth.sign_in'" in events
    assert "not the password" not in events and PASSWORD not in events and code not in events


async def test_a_code_is_accepted_once_and_one_step_late_but_not_two_steps_late(
    container: Container, site: int
) -> None:
    await add_account(container)
    clock = container.clock
    assert isinstance(clock, FixedClock)
    code = code_now(container)
    assert isinstance(await sign_in(container, code=code), SignInResult)

    with pytest.raises(SignInFailed):  # the same code again, in its own window
        await sign_in(container, code=code)

    late = code_now(container)
    clock.advance(STEP)
    clock.advance(STEP)
    with pytest.raises(SignInFailed):  # two steps old
        await sign_in(container, code=late)
    previous_step = auth.current_totp_code(SECRET, clock.now() - STEP)
    assert isinstance(await sign_in(container, code=previous_step), SignInResult)


# --- Handoff codes ------------------------------------------------------------------------------


async def test_a_handoff_code_opens_one_session_only(container: Container, site: int) -> None:
    await add_account(container)
    result = await sign_in(container)
    assert isinstance(result, SignInResult)
    await auth.redeem_handoff(uow=container.uow(), code=result.handoff_code)

    with pytest.raises(SignInFailed):
        await auth.redeem_handoff(uow=container.uow(), code=result.handoff_code)
    with pytest.raises(SignInFailed):
        await auth.redeem_handoff(uow=container.uow(), code="made-up")


@pytest.mark.parametrize(("seconds", "works"), [(59, True), (61, False)])
async def test_a_handoff_code_works_for_sixty_seconds(
    container: Container, site: int, seconds: int, works: bool
) -> None:
    await add_account(container)
    result = await sign_in(container)
    assert isinstance(result, SignInResult)
    clock = container.clock
    assert isinstance(clock, FixedClock)
    clock.advance(timedelta(seconds=seconds))

    if works:
        token = await auth.redeem_handoff(uow=container.uow(), code=result.handoff_code)
        assert await actor_for(container, token) is not None
    else:
        with pytest.raises(SignInFailed):
            await auth.redeem_handoff(uow=container.uow(), code=result.handoff_code)


# --- Sessions -----------------------------------------------------------------------------------


async def test_a_session_idle_fourteen_minutes_lives_and_one_idle_sixteen_minutes_ends(
    container: Container, site: int
) -> None:
    await add_account(container)
    token = await signed_in_token(container)
    clock = container.clock
    assert isinstance(clock, FixedClock)

    clock.advance(timedelta(minutes=14))
    assert await actor_for(container, token) is not None
    clock.advance(timedelta(minutes=14))  # 28 minutes after sign-in, 14 after the last event
    assert await actor_for(container, token) is not None
    clock.advance(timedelta(minutes=16))
    assert await actor_for(container, token) is None
    clock.advance(timedelta(minutes=1))
    assert await actor_for(container, token) is None  # ended for good
    assert ("auth.session_end", {"reason": "idle"}) in [
        (a, {"reason": d.get("reason")}) for a, d in await audit_actions(container)
    ]


async def test_last_seen_is_written_at_most_once_a_minute(container: Container, site: int) -> None:
    await add_account(container)
    token = await signed_in_token(container)
    clock = container.clock
    assert isinstance(clock, FixedClock)
    signed_in_at = clock.now()

    async def last_seen() -> object:
        async with container.session_factory() as session:
            return await session.scalar(select(WebSession.last_seen_at))

    clock.advance(timedelta(seconds=30))
    assert await actor_for(container, token) is not None
    assert await last_seen() == signed_in_at
    clock.advance(timedelta(seconds=31))
    assert await actor_for(container, token) is not None
    assert await last_seen() == clock.now()


async def test_an_active_session_still_ends_at_the_configured_age(
    container: Container, site: int
) -> None:
    await add_account(container)
    token = await signed_in_token(container)
    clock = container.clock
    assert isinstance(clock, FixedClock)
    settings = Settings(web_session_max_hours=1, web_session_idle_minutes=15)

    for _ in range(6):
        clock.advance(timedelta(minutes=10))
        assert await actor_for(container, token, settings) is not None
    clock.advance(timedelta(minutes=1))
    assert await actor_for(container, token, settings) is None


async def test_signing_out_ends_the_session_and_a_missing_or_unknown_token_is_nobody(
    container: Container, site: int
) -> None:
    await add_account(container)
    token = await signed_in_token(container)
    assert await actor_for(container, token) is not None

    await auth.sign_out(uow=container.uow(), token=token)
    await auth.sign_out(uow=container.uow(), token=token)  # twice: nothing more happens

    assert await actor_for(container, token) is None
    assert await actor_for(container, None) is None
    assert await actor_for(container, "") is None
    assert await actor_for(container, "not-a-token") is None
    ends = [d for a, d in await audit_actions(container) if a == "auth.session_end"]
    assert [d["reason"] for d in ends] == ["signed_out"]


async def test_a_deactivated_account_loses_its_session_on_the_next_event_for_good(
    container: Container, site: int
) -> None:
    user_id = await add_account(container)
    token = await signed_in_token(container)
    other_id = await add_account(container, "other@test.invalid")
    other_token = await signed_in_token(container, "other@test.invalid")

    await set_user(container, user_id, is_active=False)
    assert await actor_for(container, token) is None
    await set_user(container, user_id, is_active=True)

    assert await actor_for(container, token) is None  # reactivating does not revive it
    other = await actor_for(container, other_token)
    assert other is not None and other.user_id == other_id


# --- Enrolment ----------------------------------------------------------------------------------


async def test_an_account_without_an_authenticator_cannot_sign_in_or_enrol_one_here(
    container: Container, site: int
) -> None:
    """Whoever first knew a new account's password used to enrol its authenticator here; now
    only the account's invitation or reset link enrols one (core.services.accounts)."""
    user_id = await add_account(container, secret=None)

    for code in ("", "123456"):
        with pytest.raises(SignInFailed):
            await sign_in(container, code=code)

    async with container.session_factory() as session:
        user = await session.get(User, user_id)
        assert user is not None and user.totp_secret is None and user.totp_enrolled_at is None
    details = [d for a, d in await audit_actions(container) if a == "auth.sign_in_failed"]
    assert details == [{"reason": "not_set_up"}] * 2
    assert not hasattr(auth, "confirm_totp_enrolment")


async def stored_totp_secrets(container: Container) -> list[str]:
    """The column as it is in the database (sealed), not as the model opens it."""
    async with container.engine.connect() as connection:
        rows = await connection.execute(
            text("SELECT totp_secret FROM users WHERE totp_secret IS NOT NULL ORDER BY id")
        )
        return [row[0] for row in rows]


async def test_the_database_holds_the_authenticator_secret_sealed_never_in_plain(
    container: Container, site: int
) -> None:
    added = await user_services.add_user(
        uow=container.uow(),
        actor=Actor.system(),
        data=UserCreate(
            email=EMAIL,
            display_name="Test Casey",
            memberships=[MembershipCreate(site_code="HER", role=Role.CASE_MANAGER)],
        ),
    )
    token = added.invitation.url.split("token=")[1]
    enrolment = await accounts.set_password_with_link(
        uow=container.uow(), token=token, password=PASSWORD
    )

    [stored] = await stored_totp_secrets(container)

    assert stored.startswith(sealing.PREFIX)
    assert enrolment.secret not in stored
    assert sealing.unseal(stored) == enrolment.secret


async def test_reseal_seals_old_plain_values_and_values_under_a_rotated_key(
    container: Container, site: int
) -> None:
    await add_account(container)  # enrolled: its secret sealed under the current key
    await add_account(container, email="second.person@example.test")
    async with container.engine.begin() as connection:  # as stored before sealing existed
        await connection.execute(
            text("UPDATE users SET totp_secret = :plain WHERE email = :email"),
            {"plain": SECRET, "email": "second.person@example.test"},
        )
    before = sealing.configured_keys()
    try:
        assert await auth.reseal_totp_secrets(uow=container.uow()) == 1
        assert all(v.startswith(sealing.PREFIX) for v in await stored_totp_secrets(container))
        assert await auth.reseal_totp_secrets(uow=container.uow()) == 0  # nothing left to do

        new_key = sealing.new_key()
        sealing.configure([new_key, *before])  # a rotation: the new key first
        assert await auth.reseal_totp_secrets(uow=container.uow()) == 2
        sealing.configure([new_key])  # the old key gone: everything still opens
        assert [sealing.unseal(v) for v in await stored_totp_secrets(container)] == [SECRET] * 2
        assert isinstance(await sign_in(container), SignInResult)
    finally:
        sealing.configure(before)
    assert ("auth.totp_resealed", {"count": 2}) in await audit_actions(container)


async def test_a_wrong_password_fails_like_any_other_on_an_account_not_set_up(
    container: Container, site: int
) -> None:
    await add_account(container, secret=None)
    with pytest.raises(SignInFailed):
        await sign_in(container, password="not the password", code="")


def test_the_qr_code_is_an_inline_svg_with_its_accessible_name() -> None:
    svg = auth.totp_qr_svg(auth.totp_uri(SECRET, EMAIL), title="Scan with your app")

    assert svg.startswith("<svg") and svg.rstrip().endswith("</svg>")
    assert "<title>Scan with your app</title>" in svg
    assert "<?xml" not in svg


# --- Demo ---------------------------------------------------------------------------------------


async def test_every_demo_account_signs_in_with_its_public_secret(container: Container) -> None:
    await seed_demo(container)
    accounts = demo_accounts()
    assert len({account.totp_secret for account in accounts}) == len(accounts)

    for account in accounts[:2]:
        assert account.totp_secret == demo_totp_secret(account.email)
        result = await sign_in(
            container, account.email, DEMO_PASSWORD, code_now(container, account.totp_secret)
        )
        assert isinstance(result, SignInResult)


async def test_the_demo_code_is_only_given_in_demo_mode_and_for_demo_accounts(
    container: Container, site: int
) -> None:
    from seeding.demo import STAFF, DemoModeOff, NotADemoAccount

    await add_account(container)
    member = STAFF[0]
    user_id = await add_account(container, member.email, secret=demo_totp_secret(member.email))

    code = await demo_totp_code(uow=container.uow(), email=member.email, demo_mode=True)
    assert code == code_now(container, demo_totp_secret(member.email))
    with pytest.raises(DemoModeOff):
        await demo_totp_code(uow=container.uow(), email=member.email, demo_mode=False)
    with pytest.raises(NotADemoAccount):
        await demo_totp_code(uow=container.uow(), email=EMAIL, demo_mode=True)
    await set_user(container, user_id, totp_secret=SECRET)  # re-enrolled with a real secret
    with pytest.raises(NotADemoAccount):
        await demo_totp_code(uow=container.uow(), email=member.email, demo_mode=True)


def run_cli(*args: str, database: Path, demo_mode: bool) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite+aiosqlite:///{database}",
        "COLUMNS": "200",
        "DEMO_MODE": "true" if demo_mode else "false",
        # Links made by `users add` start with it (core.settings.secret_problems).
        "WEB_PUBLIC_URL": "https://drive.test.invalid",
        "WEB_ALLOWED_ORIGINS": "https://drive.test.invalid",
    }
    return subprocess.run(
        [sys.executable, "-m", "cli", *args], env=env, capture_output=True, text=True, timeout=180
    )


def test_drive_assist_demo_code_prints_a_valid_code_in_demo_mode_only(tmp_path: Path) -> None:
    database = tmp_path / "demo.sqlite3"
    seeded = run_cli("demo", "seed", database=database, demo_mode=True)
    assert seeded.returncode == 0, seeded.stderr
    account = demo_accounts()[0]
    assert account.totp_secret in seeded.stdout  # the sign-in table shows each secret

    printed = run_cli("demo", "code", account.email, database=database, demo_mode=True)
    assert printed.returncode == 0, printed.stderr
    code = printed.stdout.strip()
    assert len(code) == 6 and code.isdigit()
    assert pyotp.TOTP(account.totp_secret).verify(code, valid_window=1)

    refused = run_cli("demo", "code", account.email, database=database, demo_mode=False)
    assert refused.returncode == 1 and refused.stdout == ""
    assert "DEMO_MODE=true" in refused.stderr
    stranger = run_cli("demo", "code", "someone@test.invalid", database=database, demo_mode=True)
    assert stranger.returncode == 1 and stranger.stdout == ""
    assert "not a demo account" in stranger.stderr
