"""Linking a Telegram account with a one-time code, on SQLite and PostgreSQL.

The code is what stands between a stranger's Telegram account and case data, so each promise is
checked against the database: random codes from an unambiguous alphabet, stored only as hashes,
single use, 15 minutes to live, five wrong tries per Telegram account per 15 minutes, and a
revoke or a deactivated account that bites on the very next update.
"""

from __future__ import annotations

import hashlib
from datetime import timedelta

import pytest
from sqlalchemy import func, select, text, update

from core.bootstrap import Container
from core.clock import FixedClock
from core.enums import Channel, Face, Locale, NotificationKind, Role
from core.errors import LinkAttemptsExceeded, LinkCodeInvalid, NotPermitted, ValidationFailed
from core.models import (
    AuditEvent,
    OutboxMessage,
    TelegramLink,
    TelegramLinkAttempt,
    TelegramLinkCode,
    User,
)
from core.notifications.channels import InboxChannel
from core.notifications.dispatcher import Dispatcher, DispatchSettings
from core.schemas.actor import Actor
from core.schemas.telegram import LinkedAccountRead
from core.services import inbox
from core.services import telegram_links as links
from core.services import users as user_services
from tests.factories import World
from ui.notifications import render

TG_ALICE, TG_BOB = 7_000_000_001, 7_000_000_002
CHAT_ALICE, CHAT_BOB = 7_100_000_001, 7_100_000_002
AMBIGUOUS = set("0O1lI")


async def issue(world: World, actor: Actor, user_id: int | None = None) -> str:
    issued = await links.issue_link_code(
        uow=world.container.uow(), actor=actor, user_id=user_id or actor.user_id
    )
    return issued.code


async def redeem(
    world: World, code: str, telegram_user_id: int = TG_ALICE, chat_id: int = CHAT_ALICE
) -> LinkedAccountRead:
    return await links.redeem_link_code(
        uow=world.container.uow(), code=code, telegram_user_id=telegram_user_id, chat_id=chat_id
    )


async def actor_for(world: World, telegram_user_id: int = TG_ALICE) -> Actor | None:
    return await links.actor_for_telegram_user(
        uow=world.container.uow(), telegram_user_id=telegram_user_id
    )


async def stored_links(container: Container) -> list[tuple[int, int, int, bool]]:
    async with container.session_factory() as session:
        rows = await session.execute(
            select(
                TelegramLink.user_id,
                TelegramLink.telegram_user_id,
                TelegramLink.chat_id,
                TelegramLink.is_active,
            ).order_by(TelegramLink.user_id)
        )
        return [tuple(row) for row in rows]  # type: ignore[misc]


async def wrong_attempts(container: Container, telegram_user_id: int) -> int:
    async with container.session_factory() as session:
        return (
            await session.scalar(
                select(func.count())
                .select_from(TelegramLinkAttempt)
                .where(TelegramLinkAttempt.telegram_user_id == telegram_user_id)
            )
            or 0
        )


def a_wrong_code_for(code: str) -> str:
    replacement = "A" if code[-1] != "A" else "B"
    return code[:-1] + replacement


# --- the code itself --------------------------------------------------------------------------


async def test_a_code_is_eight_unambiguous_characters_and_only_its_hash_is_stored(
    world: World,
) -> None:
    codes = [await issue(world, world.actor(role)) for role in Role]

    assert len(set(codes)) == len(codes)
    for code in codes:
        assert len(code) >= 8
        assert set(code) <= set(links.CODE_ALPHABET)
        assert not set(code) & AMBIGUOUS
    async with world.container.engine.connect() as connection:
        stored = (await connection.execute(text("SELECT * FROM telegram_link_codes"))).all()
        hashes = set((await connection.execute(select(TelegramLinkCode.code_hash))).scalars())
    assert len(stored) == len(codes)
    dump = repr(stored)
    assert [code for code in codes if code in dump or code.lower() in dump] == []
    assert hashes == {hashlib.sha256(code.encode()).hexdigest() for code in codes}


async def test_a_code_links_its_owner_and_the_bot_then_knows_them_on_every_update(
    world: World, clock: FixedClock
) -> None:
    case_manager = world.actor(Role.CASE_MANAGER)
    code = await issue(world, case_manager)

    linked = await redeem(world, code)

    assert linked == LinkedAccountRead(
        user_id=case_manager.user_id,
        email=case_manager.email,
        locale=Locale.EN_GB,
        roles=(Role.CASE_MANAGER,),
        site_codes=("HER",),
    )
    assert await stored_links(world.container) == [
        (case_manager.user_id, TG_ALICE, CHAT_ALICE, True)
    ]
    actor = await actor_for(world)
    assert actor == case_manager.model_copy(update={"face": Face.BOT})
    assert await actor_for(world, TG_BOB) is None


async def test_a_code_typed_in_lower_case_with_spaces_still_works(world: World) -> None:
    code = await issue(world, world.actor(Role.POLICE_FELLOW))

    typed = f" {code[:4].lower()} {code[4:].lower()} "
    linked = await redeem(world, typed)

    assert linked.user_id == world.actor(Role.POLICE_FELLOW).user_id


async def test_a_code_works_only_once(world: World) -> None:
    code = await issue(world, world.actor(Role.CASE_MANAGER))
    await redeem(world, code)

    with pytest.raises(LinkCodeInvalid):
        await redeem(world, code, TG_BOB, CHAT_BOB)

    assert await actor_for(world, TG_BOB) is None
    assert await wrong_attempts(world.container, TG_BOB) == 1


async def test_a_code_expires_fifteen_minutes_after_it_was_issued(
    world: World, clock: FixedClock
) -> None:
    in_time = await issue(world, world.actor(Role.CASE_MANAGER))
    clock.advance(timedelta(minutes=14, seconds=59))
    assert (await redeem(world, in_time)).user_id == world.actor(Role.CASE_MANAGER).user_id

    too_late = await issue(world, world.actor(Role.IDVA))
    clock.advance(timedelta(minutes=15))
    with pytest.raises(LinkCodeInvalid):
        await redeem(world, too_late, TG_BOB, CHAT_BOB)
    assert await actor_for(world, TG_BOB) is None


async def test_issuing_a_new_code_makes_the_older_unused_one_stop_working(world: World) -> None:
    case_manager = world.actor(Role.CASE_MANAGER)
    older = await issue(world, case_manager)
    newer = await issue(world, case_manager)

    with pytest.raises(LinkCodeInvalid):
        await redeem(world, older)
    assert (await redeem(world, newer)).user_id == case_manager.user_id


# --- guessing ---------------------------------------------------------------------------------


async def test_after_five_wrong_codes_even_the_right_code_is_refused_from_that_account(
    world: World, clock: FixedClock
) -> None:
    code = await issue(world, world.actor(Role.CASE_MANAGER))
    wrong = a_wrong_code_for(code)
    for _ in range(links.MAX_WRONG_CODES):
        clock.advance(timedelta(seconds=30))
        with pytest.raises(LinkCodeInvalid):
            await redeem(world, wrong)
    # Each wrong try was committed although its redeem failed.
    assert await wrong_attempts(world.container, TG_ALICE) == 5

    with pytest.raises(LinkAttemptsExceeded):
        await redeem(world, code)

    assert await actor_for(world) is None
    assert await stored_links(world.container) == []
    # The lockout belongs to the Telegram account, not to the code: the code is still unused.
    assert (await redeem(world, code, TG_BOB, CHAT_BOB)).user_id == world.actor(
        Role.CASE_MANAGER
    ).user_id


async def test_the_lockout_ends_once_the_wrong_codes_are_fifteen_minutes_old(
    world: World, clock: FixedClock
) -> None:
    for _ in range(links.MAX_WRONG_CODES):
        with pytest.raises(LinkCodeInvalid):
            await redeem(world, "ABCDEFGH")
    clock.advance(timedelta(minutes=14))
    code = await issue(world, world.actor(Role.CASE_MANAGER))
    with pytest.raises(LinkAttemptsExceeded):
        await redeem(world, code)

    clock.advance(timedelta(minutes=1))

    assert (await redeem(world, code)).user_id == world.actor(Role.CASE_MANAGER).user_id


async def test_a_wrong_code_from_one_account_does_not_count_against_another(world: World) -> None:
    for _ in range(links.MAX_WRONG_CODES - 1):
        with pytest.raises(LinkCodeInvalid):
            await redeem(world, "ABCDEFGH", TG_BOB, CHAT_BOB)
    with pytest.raises(LinkCodeInvalid):
        await redeem(world, "ABCDEFGH")

    code = await issue(world, world.actor(Role.CASE_MANAGER))
    assert (await redeem(world, code)).user_id == world.actor(Role.CASE_MANAGER).user_id
    assert await wrong_attempts(world.container, TG_BOB) == 4


# --- who the link belongs to ------------------------------------------------------------------


async def test_a_revoked_link_is_refused_on_the_next_update(world: World) -> None:
    case_manager = world.actor(Role.CASE_MANAGER)
    await redeem(world, await issue(world, case_manager))
    assert await actor_for(world) is not None

    revoked = await links.revoke_telegram_link(
        uow=world.container.uow(), actor=case_manager, user_id=case_manager.user_id
    )

    assert revoked is True
    assert await actor_for(world) is None
    assert await stored_links(world.container) == [
        (case_manager.user_id, TG_ALICE, CHAT_ALICE, False)
    ]
    again = await links.revoke_telegram_link(
        uow=world.container.uow(), actor=case_manager, user_id=case_manager.user_id
    )
    assert again is False


async def test_a_new_code_relinks_a_revoked_account(world: World) -> None:
    case_manager = world.actor(Role.CASE_MANAGER)
    await redeem(world, await issue(world, case_manager))
    await links.revoke_telegram_link(
        uow=world.container.uow(), actor=Actor.system(), user_id=case_manager.user_id
    )

    await redeem(world, await issue(world, case_manager), TG_BOB, CHAT_BOB)

    assert await stored_links(world.container) == [(case_manager.user_id, TG_BOB, CHAT_BOB, True)]
    assert await actor_for(world) is None
    assert (await actor_for(world, TG_BOB)) is not None


async def test_a_second_account_redeeming_from_the_same_telegram_account_takes_the_link(
    world: World,
) -> None:
    case_manager, fellow = world.actor(Role.CASE_MANAGER), world.actor(Role.POLICE_FELLOW)
    await redeem(world, await issue(world, case_manager))

    await redeem(world, await issue(world, fellow), TG_ALICE, CHAT_BOB)

    assert await stored_links(world.container) == [(fellow.user_id, TG_ALICE, CHAT_BOB, True)]
    actor = await actor_for(world)
    assert actor is not None and actor.user_id == fellow.user_id


async def test_an_inactive_account_cannot_link_and_its_old_link_stops_working(
    world: World,
) -> None:
    case_manager, idva = world.actor(Role.CASE_MANAGER), world.actor(Role.IDVA)
    await redeem(world, await issue(world, idva), TG_BOB, CHAT_BOB)
    code = await issue(world, case_manager)
    async with world.container.session_factory() as session:
        await session.execute(
            update(User)
            .where(User.id.in_([case_manager.user_id, idva.user_id]))
            .values(is_active=False)
        )
        await session.commit()

    with pytest.raises(LinkCodeInvalid):
        await redeem(world, code)

    assert await actor_for(world) is None
    assert await actor_for(world, TG_BOB) is None
    with pytest.raises(ValidationFailed):
        await issue(world, Actor.system(), case_manager.user_id)


async def test_an_admin_manages_links_at_their_site_and_nobody_else_manages_a_colleagues(
    world: World,
) -> None:
    case_manager = world.actor(Role.CASE_MANAGER)
    # The host operator and the site's admin may issue a code for someone.
    assert await issue(world, Actor.system(), case_manager.user_id)
    code = await issue(world, world.actor(Role.ADMIN), case_manager.user_id)
    await redeem(world, code)

    for outsider in (
        world.actor(Role.SERVICE_MANAGER),
        world.actor(Role.ADMIN, "WOR"),
        world.actor(Role.CASE_MANAGER, "WOR"),
    ):
        with pytest.raises(NotPermitted):
            await issue(world, outsider, case_manager.user_id)
        with pytest.raises(NotPermitted):
            await links.revoke_telegram_link(
                uow=world.container.uow(), actor=outsider, user_id=case_manager.user_id
            )
    assert await actor_for(world) is not None

    assert await links.revoke_telegram_link(
        uow=world.container.uow(), actor=world.actor(Role.ADMIN), user_id=case_manager.user_id
    )
    assert await actor_for(world) is None


async def test_a_linked_person_choosing_welsh_is_spoken_to_in_welsh_from_the_next_update(
    world: World,
) -> None:
    fellow = world.actor(Role.POLICE_FELLOW)
    await redeem(world, await issue(world, fellow))
    actor = await actor_for(world)
    assert actor is not None and actor.locale is Locale.EN_GB

    await user_services.set_my_locale(uow=world.container.uow(), actor=actor, locale=Locale.CY)

    actor = await actor_for(world)
    assert actor is not None and actor.locale is Locale.CY
    with pytest.raises(NotPermitted):
        await user_services.set_my_locale(
            uow=world.container.uow(), actor=Actor.system(), locale=Locale.CY
        )


def test_what_the_bot_learns_on_linking_holds_the_accounts_email_but_no_name() -> None:
    # The email, to tell the Telegram user which account they linked (bot.handlers.start).
    assert set(LinkedAccountRead.model_fields) == {
        "user_id",
        "email",
        "locale",
        "roles",
        "site_codes",
    }


async def outbox_rows(container: Container) -> list[OutboxMessage]:
    async with container.session_factory() as session:
        return list(await session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))


async def issue_audits(container: Container, user_id: int) -> list[tuple[int | None, Face]]:
    async with container.session_factory() as session:
        rows = await session.execute(
            select(AuditEvent.actor_user_id, AuditEvent.face)
            .where(
                AuditEvent.action == "telegram_link.issue_code",
                AuditEvent.entity_type == "user",
                AuditEvent.entity_id == user_id,
            )
            .order_by(AuditEvent.seq)
        )
        return [tuple(row) for row in rows]  # type: ignore[misc]


async def deliver_to_inboxes(container: Container) -> None:
    channels = {Channel.INBOX: InboxChannel(container.session_factory, container.clock)}
    settings = DispatchSettings(pacing=False, batch_size=50, concurrency=1)
    worker = Dispatcher(container, container.clock, channels, settings, "links")
    while await worker.run_once():
        pass


async def test_a_code_someone_else_issues_is_audited_and_its_owner_told_in_the_inbox_without_it(
    world: World, clock: FixedClock
) -> None:
    case_manager = world.actor(Role.CASE_MANAGER)
    admin = world.actor(Role.ADMIN)
    by_admin = await issue(world, admin, case_manager.user_id)  # the web Admin page
    clock.advance(timedelta(minutes=1))
    by_operator = await issue(world, Actor.system(), case_manager.user_id)  # users link-code

    assert await issue_audits(world.container, case_manager.user_id) == [
        (admin.user_id, admin.face),
        (None, Face.CLI),
    ]
    rows = await outbox_rows(world.container)
    assert [(row.recipient_user_id, row.channel, row.kind) for row in rows] == [
        (case_manager.user_id, Channel.INBOX, NotificationKind.TELEGRAM_LINK_CODE_ISSUED)
    ] * 2
    await deliver_to_inboxes(world.container)
    page = await inbox.list_my_inbox(uow=world.container.uow(), actor=case_manager)
    texts = [render(item.message_key, item.params, "en_GB") for item in page.items]
    assert texts == [
        "An administrator made a code at Mon 2 Mar, 09:01 that links a Telegram account to your"
        " Drive Assist account. If you did not ask for one, tell your manager straight away.",
        "An administrator made a code at Mon 2 Mar, 09:00 that links a Telegram account to your"
        " Drive Assist account. If you did not ask for one, tell your manager straight away.",
    ]
    stored = repr([(row.params, row.message_key, row.dedupe_key) for row in rows]) + repr(
        [item.params for item in page.items]
    )
    for code in (by_admin, by_operator):
        assert code not in stored and code.lower() not in stored
    # Nobody else was told, and the admin's page shows nothing new.
    admin_page = await inbox.list_my_inbox(uow=world.container.uow(), actor=admin)
    assert admin_page.items == ()


async def test_a_code_a_person_issues_for_themselves_is_audited_and_tells_nobody(
    world: World,
) -> None:
    fellow = world.actor(Role.POLICE_FELLOW)
    await issue(world, fellow)

    assert await issue_audits(world.container, fellow.user_id) == [(fellow.user_id, fellow.face)]
    assert await outbox_rows(world.container) == []
