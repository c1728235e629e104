"""The bot's state in the database, on SQLite and PostgreSQL: update ids claimed once, and
conversations that survive a restart for a day and no longer.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

from sqlalchemy import event, func, select

from core.bootstrap import Container
from core.clock import FixedClock
from core.enums import ContactType, Role, WorkCategory
from core.models import BotConversation, BotProcessedUpdate, Contact
from core.schemas.actor import Actor
from core.schemas.contacts import ContactCreate
from core.schemas.telegram import ConversationRead
from core.services import bot_state, telegram_links
from tests.factories import World

TG_USER, OTHER_TG_USER = 7_000_000_001, 7_000_000_002


async def claim(container: Container, update_id: int) -> bool:
    return await bot_state.claim_update(uow=container.uow(), update_id=update_id)


async def stored_update_ids(container: Container) -> list[int]:
    async with container.session_factory() as session:
        rows = await session.scalars(
            select(BotProcessedUpdate.update_id).order_by(BotProcessedUpdate.update_id)
        )
        return list(rows)


async def conversation_rows(container: Container) -> int:
    async with container.session_factory() as session:
        return await session.scalar(select(func.count()).select_from(BotConversation)) or 0


async def test_an_update_is_claimed_the_first_time_and_refused_after(container: Container) -> None:
    assert await claim(container, 501) is True
    assert await claim(container, 501) is False
    assert await claim(container, 502) is True
    assert await stored_update_ids(container) == [501, 502]


async def test_of_many_simultaneous_claims_of_one_update_exactly_one_wins(
    container: Container,
) -> None:
    results = await asyncio.gather(*(claim(container, 777) for _ in range(8)))

    assert sorted(results) == [False] * 7 + [True]
    assert await stored_update_ids(container) == [777]


async def test_claims_older_than_a_week_are_pruned_now_and_then(
    container: Container, clock: FixedClock
) -> None:
    await claim(container, 101)
    clock.advance(timedelta(days=3))
    await claim(container, 102)
    clock.advance(timedelta(days=4, seconds=1))

    # Not every claim prunes: 103 is not a multiple of PRUNE_EVERY.
    await claim(container, 103)
    assert await stored_update_ids(container) == [101, 102, 103]

    await claim(container, bot_state.PRUNE_EVERY * 3)

    assert await stored_update_ids(container) == [102, 103, bot_state.PRUNE_EVERY * 3]


async def test_a_conversation_is_saved_loaded_moved_on_and_cleared(
    container: Container, clock: FixedClock
) -> None:
    uow = container.uow
    assert await bot_state.load_conversation(uow=uow(), telegram_user_id=TG_USER) is None

    await bot_state.save_conversation(
        uow=uow(), telegram_user_id=TG_USER, flow="log", step="case", data={}
    )
    clock.advance(timedelta(minutes=2))
    await bot_state.save_conversation(
        uow=uow(),
        telegram_user_id=TG_USER,
        flow="log",
        step="duration",
        data={"case_id": 42, "categories": ["support", "disruption"]},
    )

    loaded = await bot_state.load_conversation(uow=uow(), telegram_user_id=TG_USER)
    assert loaded == ConversationRead(
        flow="log",
        step="duration",
        data={"case_id": 42, "categories": ["support", "disruption"]},
        updated_at=clock.now(),
    )
    assert await bot_state.load_conversation(uow=uow(), telegram_user_id=OTHER_TG_USER) is None
    assert await conversation_rows(container) == 1

    await bot_state.clear_conversation(uow=uow(), telegram_user_id=TG_USER)

    assert await bot_state.load_conversation(uow=uow(), telegram_user_id=TG_USER) is None
    assert await conversation_rows(container) == 0


async def test_a_conversation_survives_a_restart_of_the_bot(
    container: Container, database_url: str, clock: FixedClock
) -> None:
    from core.bootstrap import bootstrap
    from core.settings import Settings

    await bot_state.save_conversation(
        uow=container.uow(), telegram_user_id=TG_USER, flow="log", step="type", data={"case_id": 9}
    )
    await container.dispose()

    restarted = bootstrap(Settings(database_url=database_url), clock=clock)
    try:
        loaded = await bot_state.load_conversation(uow=restarted.uow(), telegram_user_id=TG_USER)
    finally:
        await restarted.dispose()

    assert loaded is not None
    assert (loaded.flow, loaded.step, loaded.data) == ("log", "type", {"case_id": 9})


async def test_a_conversation_untouched_for_a_day_is_gone(
    container: Container, clock: FixedClock
) -> None:
    uow = container.uow
    await bot_state.save_conversation(
        uow=uow(), telegram_user_id=TG_USER, flow="log", step="note", data={"case_id": 1}
    )
    clock.advance(timedelta(hours=23, minutes=59))
    assert await bot_state.load_conversation(uow=uow(), telegram_user_id=TG_USER) is not None

    clock.advance(timedelta(minutes=1))

    assert await bot_state.load_conversation(uow=uow(), telegram_user_id=TG_USER) is None
    assert await conversation_rows(container) == 0


async def test_a_claim_that_prunes_also_drops_stale_conversations(
    container: Container, clock: FixedClock
) -> None:
    uow = container.uow
    await bot_state.save_conversation(
        uow=uow(), telegram_user_id=TG_USER, flow="log", step="case", data={}
    )
    clock.advance(timedelta(hours=25))
    await bot_state.save_conversation(
        uow=uow(), telegram_user_id=OTHER_TG_USER, flow="panel", step="meeting", data={}
    )

    await claim(container, bot_state.PRUNE_EVERY)

    async with container.session_factory() as session:
        kept = list(await session.scalars(select(BotConversation.telegram_user_id)))
    assert kept == [OTHER_TG_USER]


def _never_called(data: dict[str, Any]) -> ContactCreate:
    raise AssertionError(f"no contact may be built here: {data!r}")


async def test_a_save_whose_update_id_prunes_forgets_old_claims_and_is_claimed_once(
    container: Container, clock: FixedClock
) -> None:
    await claim(container, 101)
    clock.advance(timedelta(days=7, seconds=1))
    update_id = bot_state.PRUNE_EVERY * 5

    async def save() -> bot_state.ConfirmedLog:
        return await bot_state.confirm_log_from_conversation(
            uow=container.uow(),
            telegram_user_id=TG_USER,
            flow="log",
            step="confirm",
            contact_from=_never_called,
            update_id=update_id,
        )

    first = await save()
    assert first.outcome is bot_state.ConfirmOutcome.UNLINKED  # nobody linked that user
    assert await stored_update_ids(container) == [update_id]
    assert (await save()).outcome is bot_state.ConfirmOutcome.DUPLICATE


async def _linked_manager_at_confirm(world: World, telegram_user_id: int) -> tuple[Actor, int]:
    """A case manager linked to ``telegram_user_id``, with a ``/log`` at its Save on their case."""
    manager = world.actor(Role.CASE_MANAGER)
    case = await world.allocated_case(case_manager=manager)
    code = await telegram_links.issue_link_code(
        uow=world.container.uow(), actor=manager, user_id=manager.user_id
    )
    await telegram_links.redeem_link_code(
        uow=world.container.uow(),
        code=code.code,
        telegram_user_id=telegram_user_id,
        chat_id=telegram_user_id,
    )
    await bot_state.save_conversation(
        uow=world.container.uow(),
        telegram_user_id=telegram_user_id,
        flow="log",
        step="confirm",
        data={"case_id": case.id, "minutes": 10},
    )
    return manager, case.id


def _phone_call(data: dict[str, Any]) -> ContactCreate:
    return ContactCreate(
        case_id=int(data["case_id"]),
        contact_type=ContactType.PHONE,
        duration_minutes=int(data["minutes"]),
        categories=frozenset({WorkCategory.SUPPORT}),
    )


async def _save(world: World, update_id: int) -> bot_state.ConfirmedLog:
    return await bot_state.confirm_log_from_conversation(
        uow=world.container.uow(),
        telegram_user_id=TG_USER,
        flow="log",
        step="confirm",
        contact_from=_phone_call,
        update_id=update_id,
    )


async def test_a_save_reads_the_link_and_the_case_in_one_statement(world: World) -> None:
    # Claim, link with the case's key, take the conversation, the contact, and at commit the
    # audit chain's three: seven statements, where reading the link, the conversation and the
    # case one by one made eight.
    manager, case_id = await _linked_manager_at_confirm(world, TG_USER)
    statements: list[str] = []

    def sent(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        statements.append(statement)

    engine = world.container.engine.sync_engine
    event.listen(engine, "before_cursor_execute", sent)
    try:
        saved = await _save(world, 9_001)
    finally:
        event.remove(engine, "before_cursor_execute", sent)

    assert saved.outcome is bot_state.ConfirmOutcome.SAVED
    assert saved.contact is not None and saved.contact.case_id == case_id
    assert saved.actor is not None and saved.actor.user_id == manager.user_id
    assert len(statements) == 7
    assert await conversation_rows(world.container) == 0


async def test_two_saves_of_one_conversation_at_once_write_one_contact(world: World) -> None:
    # A double tap: two updates, two claims, one conversation; the take decides.
    _, case_id = await _linked_manager_at_confirm(world, TG_USER)

    results = await asyncio.gather(_save(world, 9_101), _save(world, 9_102))

    outcomes = sorted(result.outcome.value for result in results)
    assert outcomes == [bot_state.ConfirmOutcome.EXPIRED.value, bot_state.ConfirmOutcome.SAVED]
    async with world.container.session_factory() as session:
        contacts = await session.scalar(
            select(func.count()).select_from(Contact).where(Contact.case_id == case_id)
        )
    assert contacts == 1
    assert await stored_update_ids(world.container) == [9_101, 9_102]
