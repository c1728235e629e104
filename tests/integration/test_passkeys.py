"""Passkeys on SQLite and PostgreSQL: registering one for one's own account, signing in with it
(one handoff code, as the password sign-in), and every answer that must be refused: made on
another origin or for another RP ID, a replayed or expired challenge, an unknown or removed
passkey, no user verification, a sign count that went backwards, an inactive account.

The answers come from ``tests.fakes.passkey_authenticator``: real P-256 keys and ES256
signatures, checked by py_webauthn as a browser's would be.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select, update

from core.bootstrap import Container
from core.enums import Role
from core.errors import NotFound, PasskeyRejected, PasskeysUnavailable, ValidationFailed
from core.models import AuditEvent, Passkey, User, WebSignInToken
from core.schemas.actor import Actor
from core.services import auth, passkeys
from core.settings import Settings
from tests.fakes.passkey_authenticator import SoftwareAuthenticator

ORIGIN = "https://drive-assist.example.org"
RP_ID = "drive-assist.example.org"
LOOK_ALIKE = "https://drive-assist.example.org.evil.invalid"
SETTINGS = Settings(web_allowed_origins=ORIGIN)


async def register(
    container: Container, actor: Actor, device: SoftwareAuthenticator, name: str = "Work phone"
) -> int:
    options = await passkeys.begin_registration(uow=container.uow(), actor=actor, settings=SETTINGS)
    read = await passkeys.finish_registration(
        uow=container.uow(),
        actor=actor,
        settings=SETTINGS,
        credential_json=device.register(options, origin=ORIGIN),
        name=name,
    )
    return read.id


async def sign_in_options(container: Container) -> str:
    return await passkeys.begin_sign_in(uow=container.uow(), settings=SETTINGS)


async def finish(container: Container, answer: str) -> str:
    """The session token a passkey answer signs in to (through the handoff code)."""
    result = await passkeys.finish_sign_in(
        uow=container.uow(), settings=SETTINGS, credential_json=answer
    )
    return await auth.redeem_handoff(uow=container.uow(), code=result.handoff_code)


async def count(container: Container, model: type) -> int:
    async with container.session_factory() as session:
        return int(await session.scalar(select(func.count()).select_from(model)) or 0)


async def actions(container: Container, prefix: str) -> list[tuple[str, dict | None]]:
    async with container.session_factory() as session:
        rows = await session.execute(
            select(AuditEvent.action, AuditEvent.details)
            .where(AuditEvent.action.like(f"{prefix}%"))
            .order_by(AuditEvent.id)
        )
        return [(action, details) for action, details in rows]


@pytest.fixture
def device() -> SoftwareAuthenticator:
    return SoftwareAuthenticator()


async def test_a_person_registers_a_passkey_and_signs_in_with_it_without_typing_anything(
    container: Container, world, device: SoftwareAuthenticator
) -> None:
    actor = world.actor(Role.CASE_MANAGER)
    passkey_id = await register(container, actor, device)

    token = await finish(container, device.sign_in(await sign_in_options(container), origin=ORIGIN))

    signed_in = await auth.actor_for_session(uow=container.uow(), token=token)
    assert signed_in is not None and signed_in.user_id == actor.user_id
    (listed,) = await passkeys.my_passkeys(uow=container.uow(), actor=actor)
    assert (listed.id, listed.name, listed.last_used_at) == (
        passkey_id,
        "Work phone",
        container.clock.now(),
    )
    assert await actions(container, "passkey.") == [("passkey.registered", {})]
    assert ("auth.sign_in", {"method": "passkey", "passkey_id": passkey_id}) in await actions(
        container, "auth.sign_in"
    )


@pytest.mark.parametrize(
    ("wrong", "reason"),
    [
        ({"origin": LOOK_ALIKE}, "passkey_wrong_origin"),
        ({"rp_id": "example.org"}, "passkey_wrong_rp_id"),
        ({"user_verified": False}, "passkey_not_verified"),
    ],
    ids=["another-origin", "another-rp-id", "no-user-verification"],
)
async def test_a_sign_in_answer_made_for_another_site_or_without_verification_changes_nothing(
    container: Container,
    world,
    device: SoftwareAuthenticator,
    wrong: dict[str, object],
    reason: str,
) -> None:
    actor = world.actor(Role.CASE_MANAGER)
    await register(container, actor, device)
    answer = device.sign_in(await sign_in_options(container), **{"origin": ORIGIN, **wrong})

    with pytest.raises(PasskeyRejected):
        await passkeys.finish_sign_in(
            uow=container.uow(), settings=SETTINGS, credential_json=answer
        )

    assert await count(container, WebSignInToken) == 0  # no handoff code
    (listed,) = await passkeys.my_passkeys(uow=container.uow(), actor=actor)
    assert listed.last_used_at is None
    assert ("auth.sign_in_failed", {"reason": reason}) in await actions(container, "auth.")


async def test_an_answer_replayed_to_its_used_challenge_is_refused(
    container: Container, world, device: SoftwareAuthenticator
) -> None:
    await register(container, world.actor(Role.CASE_MANAGER), device)
    answer = device.sign_in(await sign_in_options(container), origin=ORIGIN)
    await finish(container, answer)

    with pytest.raises(PasskeyRejected):
        await finish(container, answer)
    assert ("auth.sign_in_failed", {"reason": "passkey_challenge"}) in await actions(
        container, "auth."
    )


async def test_an_answer_after_the_challenge_expired_is_refused(
    container: Container, world, device: SoftwareAuthenticator, clock
) -> None:
    await register(container, world.actor(Role.CASE_MANAGER), device)
    options = await sign_in_options(container)
    clock.advance(passkeys.CHALLENGE_LIFETIME + timedelta(seconds=1))

    with pytest.raises(PasskeyRejected):
        await finish(container, device.sign_in(options, origin=ORIGIN))


async def test_a_passkey_never_registered_or_removed_signs_no_one_in(
    container: Container, world, device: SoftwareAuthenticator
) -> None:
    actor = world.actor(Role.CASE_MANAGER)
    stranger = SoftwareAuthenticator()
    stranger.register(
        await passkeys.begin_registration(uow=container.uow(), actor=actor, settings=SETTINGS),
        origin=ORIGIN,
    )  # made on the device, never sent to us
    with pytest.raises(PasskeyRejected):
        await finish(container, stranger.sign_in(await sign_in_options(container), origin=ORIGIN))

    passkey_id = await register(container, actor, device)
    await passkeys.remove_passkey(uow=container.uow(), actor=actor, passkey_id=passkey_id)
    with pytest.raises(PasskeyRejected):
        await finish(container, device.sign_in(await sign_in_options(container), origin=ORIGIN))
    assert await passkeys.my_passkeys(uow=container.uow(), actor=actor) == []
    assert [a for a, _ in await actions(container, "passkey.")] == [
        "passkey.registered",
        "passkey.removed",
    ]


async def test_a_sign_count_that_goes_backwards_is_refused_as_a_possible_clone(
    container: Container, world, device: SoftwareAuthenticator
) -> None:
    await register(container, world.actor(Role.CASE_MANAGER), device)
    await finish(container, device.sign_in(await sign_in_options(container), origin=ORIGIN))
    await finish(container, device.sign_in(await sign_in_options(container), origin=ORIGIN))

    clone = device.sign_in(await sign_in_options(container), origin=ORIGIN, sign_count=1)
    with pytest.raises(PasskeyRejected):
        await finish(container, clone)
    assert ("auth.sign_in_failed", {"reason": "passkey_sign_count_regressed"}) in await actions(
        container, "auth."
    )


async def test_a_switched_off_accounts_passkey_signs_no_one_in(
    container: Container, world, device: SoftwareAuthenticator
) -> None:
    actor = world.actor(Role.CASE_MANAGER)
    await register(container, actor, device)
    async with container.session_factory() as session:
        await session.execute(update(User).where(User.id == actor.user_id).values(is_active=False))
        await session.commit()

    with pytest.raises(PasskeyRejected):
        await finish(container, device.sign_in(await sign_in_options(container), origin=ORIGIN))


@pytest.mark.parametrize(
    "wrong",
    [{"origin": LOOK_ALIKE}, {"rp_id": "example.org"}, {"user_verified": False}],
    ids=["another-origin", "another-rp-id", "no-user-verification"],
)
async def test_a_registration_made_for_another_site_or_without_verification_keeps_nothing(
    container: Container, world, device: SoftwareAuthenticator, wrong: dict[str, object]
) -> None:
    actor = world.actor(Role.CASE_MANAGER)
    options = await passkeys.begin_registration(uow=container.uow(), actor=actor, settings=SETTINGS)

    with pytest.raises(PasskeyRejected):
        await passkeys.finish_registration(
            uow=container.uow(),
            actor=actor,
            settings=SETTINGS,
            credential_json=device.register(options, **{"origin": ORIGIN, **wrong}),
            name="Work phone",
        )
    assert await count(container, Passkey) == 0


async def test_a_registration_challenge_works_only_for_the_person_it_was_made_for(
    container: Container, world, device: SoftwareAuthenticator
) -> None:
    mine = world.actor(Role.CASE_MANAGER)
    options = await passkeys.begin_registration(uow=container.uow(), actor=mine, settings=SETTINGS)

    with pytest.raises(PasskeyRejected):
        await passkeys.finish_registration(
            uow=container.uow(),
            actor=world.actor(Role.IDVA),
            settings=SETTINGS,
            credential_json=device.register(options, origin=ORIGIN),
            name="Work phone",
        )
    assert await count(container, Passkey) == 0


async def test_names_are_required_and_short_and_a_passkey_can_be_renamed_by_its_owner_only(
    container: Container, world, device: SoftwareAuthenticator
) -> None:
    actor = world.actor(Role.CASE_MANAGER)
    passkey_id = await register(container, actor, device)
    for bad in ("   ", "x" * (passkeys.NAME_MAX_LENGTH + 1), "nul\x00"):
        with pytest.raises(ValidationFailed):
            await passkeys.rename_passkey(
                uow=container.uow(), actor=actor, passkey_id=passkey_id, name=bad
            )

    renamed = await passkeys.rename_passkey(
        uow=container.uow(), actor=actor, passkey_id=passkey_id, name="  Personal   phone "
    )

    assert renamed.name == "Personal phone"
    with pytest.raises(NotFound):
        await passkeys.remove_passkey(
            uow=container.uow(), actor=world.actor(Role.IDVA), passkey_id=passkey_id
        )
    assert await count(container, Passkey) == 1


async def test_without_a_domain_name_passkeys_are_not_offered(container: Container) -> None:
    for settings in (Settings(), Settings(web_allowed_origins="http://127.0.0.1:3000")):
        assert not passkeys.passkeys_offered(settings)
        with pytest.raises(PasskeysUnavailable):
            await passkeys.begin_sign_in(uow=container.uow(), settings=settings)


# --- Resuming an idle session ----------------------------------------------------------------


async def idle_session(
    container: Container, actor: Actor, device: SoftwareAuthenticator, clock
) -> str:
    """A session of ``actor``'s (signed in with a passkey) that just ended for being idle."""
    await register(container, actor, device)
    token = await finish(container, device.sign_in(await sign_in_options(container), origin=ORIGIN))
    clock.advance(timedelta(minutes=SETTINGS.web_session_idle_minutes + 1))
    assert await auth.actor_for_session(uow=container.uow(), token=token, settings=SETTINGS) is None
    return token


async def resume(container: Container, token: str, device: SoftwareAuthenticator) -> None:
    options = await passkeys.begin_resume(
        uow=container.uow(), settings=SETTINGS, session_token=token
    )
    await passkeys.finish_resume(
        uow=container.uow(),
        settings=SETTINGS,
        session_token=token,
        credential_json=device.sign_in(options, origin=ORIGIN),
    )


async def test_an_idle_session_resumes_with_its_owners_passkey_within_the_twelve_hours(
    container: Container, world, device: SoftwareAuthenticator, clock
) -> None:
    actor = world.actor(Role.CASE_MANAGER)
    token = await idle_session(container, actor, device, clock)
    assert await passkeys.resume_offered(
        uow=container.uow(), settings=SETTINGS, session_token=token
    )

    await resume(container, token, device)

    back = await auth.actor_for_session(uow=container.uow(), token=token, settings=SETTINGS)
    assert back is not None and back.user_id == actor.user_id
    assert [a for a, _ in await actions(container, "auth.session_")] == [
        "auth.session_end",
        "auth.session_resumed",
    ]
    # The 12 hours still count from the sign-in: a session past them cannot be resumed.
    clock.advance(timedelta(hours=SETTINGS.web_session_max_hours))
    assert await auth.actor_for_session(uow=container.uow(), token=token, settings=SETTINGS) is None
    assert not await passkeys.resume_offered(
        uow=container.uow(), settings=SETTINGS, session_token=token
    )
    with pytest.raises(PasskeyRejected):
        await resume(container, token, device)


async def test_a_signed_out_session_or_one_still_active_is_not_resumed(
    container: Container, world, device: SoftwareAuthenticator, clock
) -> None:
    actor = world.actor(Role.CASE_MANAGER)
    await register(container, actor, device)
    token = await finish(container, device.sign_in(await sign_in_options(container), origin=ORIGIN))
    assert not await passkeys.resume_offered(
        uow=container.uow(), settings=SETTINGS, session_token=token
    )  # still active: nothing to resume
    await auth.sign_out(uow=container.uow(), token=token)
    for unusable in (token, "not a session", None):
        assert not await passkeys.resume_offered(
            uow=container.uow(), settings=SETTINGS, session_token=unusable
        )
    with pytest.raises(PasskeyRejected):
        await resume(container, token, device)


async def test_someone_elses_passkey_cannot_resume_a_session(
    container: Container, world, device: SoftwareAuthenticator, clock
) -> None:
    token = await idle_session(container, world.actor(Role.CASE_MANAGER), device, clock)
    theirs = SoftwareAuthenticator()
    await register(container, world.actor(Role.IDVA), theirs)
    options = await passkeys.begin_resume(
        uow=container.uow(), settings=SETTINGS, session_token=token
    )

    with pytest.raises(PasskeyRejected):
        await passkeys.finish_resume(
            uow=container.uow(),
            settings=SETTINGS,
            session_token=token,
            credential_json=theirs.sign_in(options, origin=ORIGIN),
        )
    assert await auth.actor_for_session(uow=container.uow(), token=token, settings=SETTINGS) is None
    assert ("auth.sign_in_failed", {"reason": "passkey_wrong_user"}) in await actions(
        container, "auth."
    )
