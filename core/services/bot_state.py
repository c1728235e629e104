"""The bot's own state, kept in the database so a restart loses nothing and repeats nothing.

- Processed updates: each Telegram ``update_id`` is claimed once (a unique insert), so an update
  delivered twice is acted on once. Claims are kept for ``UPDATE_MEMORY`` (Telegram does not
  redeliver older ones) and pruned on every ``PRUNE_EVERY``-th update id.
- Conversations: where a Telegram user is in a multi-step flow (``/log`` and the like), one row
  per Telegram user, so a restart in the middle of a flow resumes at the same step. A
  conversation untouched for ``CONVERSATION_LIFETIME`` counts as gone.

Conversation ``data`` is JSON and holds ids and codes only (case ids, enum codes, minutes,
message ids), never a name, an address or any other free text, with one exception: a note the
user is typing for the record being built. The flow deletes it with the conversation when the
record is saved or the flow is cancelled (``clear_conversation``).

Each function opens its own unit of work, so a claim is committed before the update is handled:
an update that fails half-way is not handled again (at most once, never twice). The exception
is :func:`confirm_log_from_conversation`, the Save at the end of ``/log``: it claims the update,
resolves the actor, takes the conversation and writes the contact in one unit of work, so the
contact is written exactly once however often the update comes (the claim and the contact
commit together or not at all). :func:`log_from_message`, the one-message ``/log``, does the
same for a contact named by its case reference.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from enum import StrEnum
from functools import cache
from typing import Any

from sqlalchemy import bindparam, delete, select, true
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from core.enums import Stage
from core.models import BotConversation, BotProcessedUpdate, Case
from core.schemas.actor import Actor
from core.schemas.common import ReadModel
from core.schemas.contacts import ContactCreate, ContactOnReference, ContactRead
from core.schemas.telegram import ConversationRead
from core.services.access import CaseKey
from core.services.caseload_lookup import my_case_key_by_reference_in
from core.services.contacts import log_contact_in
from core.services.telegram_links import (
    actor_from_link_rows,
    linked_actor_in,
    linked_actor_select,
)
from core.uow import UnitOfWork

UPDATE_MEMORY = timedelta(days=7)
PRUNE_EVERY = 100
CONVERSATION_LIFETIME = timedelta(hours=24)
CASE_ID_KEY = "case_id"  # where a conversation that logs a contact keeps its case's id


_INSERT_FOR: dict[str, Callable[[Any], Any]] = {"postgresql": pg_insert, "sqlite": sqlite_insert}
_updates = BotProcessedUpdate.__table__
_conversations = BotConversation.__table__


def _insert(uow: UnitOfWork, model: Any) -> Any:
    return _INSERT_FOR[_dialect(uow)](model)


async def claim_update(*, uow: UnitOfWork, update_id: int) -> bool:
    """True the first time this update id is seen, False every time after."""
    async with uow:
        claimed = await _claim_in(uow, update_id)
        await uow.commit()
        return claimed


def _dialect(uow: UnitOfWork) -> str:
    return uow.session.get_bind().dialect.name


@cache
def _claim_statement(dialect: str) -> Any:
    return (
        _INSERT_FOR[dialect](_updates)
        .values(update_id=bindparam("update_id"), processed_at=bindparam("now"))
        .on_conflict_do_nothing(index_elements=["update_id"])
    )


async def _claim_in(uow: UnitOfWork, update_id: int) -> bool:
    connection = await uow.connection()
    claimed = bool(
        (
            await connection.execute(
                _claim_statement(_dialect(uow)), {"update_id": update_id, "now": uow.clock.now()}
            )
        ).rowcount
    )
    if claimed and update_id % PRUNE_EVERY == 0:
        await _prune_bot_state(uow)
    return claimed


async def _prune_bot_state(uow: UnitOfWork) -> None:
    """Forget old update claims and stale conversations, inside the caller's unit of work."""
    now = uow.clock.now()
    await uow.session.execute(
        delete(BotProcessedUpdate).where(BotProcessedUpdate.processed_at < now - UPDATE_MEMORY)
    )
    await uow.session.execute(
        delete(BotConversation).where(BotConversation.updated_at < now - CONVERSATION_LIFETIME)
    )


async def load_conversation(*, uow: UnitOfWork, telegram_user_id: int) -> ConversationRead | None:
    """The user's conversation, or None when there is none or it is older than a day."""
    async with uow:
        row = await uow.session.get(BotConversation, telegram_user_id)
        if row is None:
            return None
        if row.updated_at <= uow.clock.now() - CONVERSATION_LIFETIME:
            await uow.session.delete(row)
            await uow.commit()
            return None
        return ConversationRead.model_validate(row)


async def save_conversation(
    *, uow: UnitOfWork, telegram_user_id: int, flow: str, step: str, data: dict[str, Any]
) -> None:
    """Start or move on the user's conversation (one per Telegram user; a new flow replaces it).

    ``data`` must be JSON and hold ids and codes only (see the module docstring).
    """
    async with uow:
        values = {
            "telegram_user_id": telegram_user_id,
            "flow": flow,
            "step": step,
            "data": dict(data),
            "updated_at": uow.clock.now(),
        }
        statement = _insert(uow, BotConversation).values(values)
        statement = statement.on_conflict_do_update(
            index_elements=["telegram_user_id"],
            set_={key: statement.excluded[key] for key in ("flow", "step", "data", "updated_at")},
        )
        await uow.session.execute(statement)
        await uow.commit()


async def clear_conversation(*, uow: UnitOfWork, telegram_user_id: int) -> None:
    """End the user's conversation, deleting whatever it held (a typed note included)."""
    async with uow:
        await uow.session.execute(
            delete(BotConversation).where(BotConversation.telegram_user_id == telegram_user_id)
        )
        await uow.commit()


class ConfirmOutcome(StrEnum):
    SAVED = "saved"
    DUPLICATE = "duplicate"  # the update was handled before: nothing to do, nothing to say
    UNLINKED = "unlinked"  # no active link to an active account
    EXPIRED = "expired"  # no conversation at that flow and step (finished, older, cancelled)
    NOT_MY_CASE = "not_my_case"  # the reference is none of the actor's open cases (one message)


class ConfirmedLog(ReadModel):
    outcome: ConfirmOutcome
    actor: Actor | None = None
    data: dict[str, Any] | None = None  # the conversation's data, when saved
    contact: ContactRead | None = None


async def confirm_log_from_conversation(
    *,
    uow: UnitOfWork,
    telegram_user_id: int,
    flow: str,
    step: str,
    contact_from: Callable[[dict[str, Any]], ContactCreate],
    update_id: int | None = None,
    actor: Actor | None = None,
    on_actor: Callable[[Actor], None] | None = None,
    on_taken: Callable[[], None] | None = None,
) -> ConfirmedLog:
    """Save the contact a conversation has built, and end the conversation: one transaction.

    In order: claim ``update_id`` (unless None: the caller claimed it), resolve the actor from
    the Telegram link (unless given; ``on_actor`` hears who it is before anything can fail),
    take the conversation if it is at ``flow``/``step`` and younger than a day, log the contact
    ``contact_from`` makes of its data (authorised again, audited), commit. A refusal or any
    other error rolls it all back, the claim included; an update already claimed, an unlinked
    user or no such conversation commits the claim and changes nothing else. ``on_taken`` is
    called once the update is claimed, the user known and the conversation taken, before the
    contact is written: the face may acknowledge the tap while the write goes on.
    """
    async with uow:
        if update_id is not None and not await _claim_in(uow, update_id):
            return ConfirmedLog(outcome=ConfirmOutcome.DUPLICATE)
        case = None
        if actor is None:
            actor, case = await _linked_actor_and_case(uow, telegram_user_id, flow, step)
        data = None
        if actor is not None:
            if on_actor is not None:
                on_actor(actor)
            data = await _take_conversation(uow, telegram_user_id, flow, step)
        if actor is None:
            await uow.commit()
            return ConfirmedLog(outcome=ConfirmOutcome.UNLINKED)
        if data is None:
            await uow.commit()
            return ConfirmedLog(outcome=ConfirmOutcome.EXPIRED, actor=actor)
        if on_taken is not None:
            on_taken()
        # The case's key read with the link is used only if the conversation taken is about
        # that case (log_contact_in reads it again otherwise), and authorised there either way.
        contact = await log_contact_in(uow, actor, contact_from(data), case=case)
        await uow.commit()
        return ConfirmedLog(outcome=ConfirmOutcome.SAVED, actor=actor, data=data, contact=contact)


class LoggedFromMessage(ReadModel):
    outcome: ConfirmOutcome
    actor: Actor | None = None
    contact: ContactRead | None = None
    reference: str | None = None  # the case's own spelling of it, when saved


async def log_from_message(
    *,
    uow: UnitOfWork,
    telegram_user_id: int,
    data: ContactOnReference,
    update_id: int | None = None,
    actor: Actor | None = None,
    on_actor: Callable[[Actor], None] | None = None,
) -> LoggedFromMessage:
    """The one-message ``/log``: log a contact on one of the actor's open cases, by reference.

    One transaction, as :func:`confirm_log_from_conversation`: claim ``update_id`` (unless
    None: the caller claimed it), resolve the actor from the Telegram link (unless given;
    ``on_actor`` hears who it is before anything can fail), find the case among the actor's
    open cases (``caseload_lookup``: a picker's rule), log the contact (authorised again,
    audited), commit. An update already claimed, an unlinked user or a reference that is not
    one of theirs commits the claim and changes nothing else; an error rolls it all back.
    """
    async with uow:
        if update_id is not None and not await _claim_in(uow, update_id):
            return LoggedFromMessage(outcome=ConfirmOutcome.DUPLICATE)
        if actor is None:
            actor = await linked_actor_in(uow, telegram_user_id)
        if actor is None:
            await uow.commit()
            return LoggedFromMessage(outcome=ConfirmOutcome.UNLINKED)
        if on_actor is not None:
            on_actor(actor)
        case = await my_case_key_by_reference_in(uow, actor, data.reference)
        if case is None:
            await uow.commit()
            return LoggedFromMessage(outcome=ConfirmOutcome.NOT_MY_CASE, actor=actor)
        contact = await log_contact_in(uow, actor, data.on_case(case.id), case=case)
        await uow.commit()
        return LoggedFromMessage(
            outcome=ConfirmOutcome.SAVED, actor=actor, contact=contact, reference=case.reference
        )


_ALIVE_CONVERSATION = (
    _conversations.c.telegram_user_id == bindparam("telegram_user_id"),
    _conversations.c.flow == bindparam("flow"),
    _conversations.c.step == bindparam("step"),
    _conversations.c.updated_at > bindparam("alive_after"),
)
_CASE_KEY_COLUMNS = (
    Case.id,
    Case.reference,
    Case.site_id,
    Case.case_manager_id,
    Case.stage,
    Case.referral_date,
)
# The key of the case a live conversation at the flow and step keeps (``data[CASE_ID_KEY]``):
# no row when there is no such conversation or no such case.
_CONVERSATION_CASE = (
    select(*(column.label(f"case_{column.key}") for column in _CASE_KEY_COLUMNS))
    .select_from(_conversations)
    .join(Case, Case.id == _conversations.c.data[CASE_ID_KEY].as_integer())
    .where(*_ALIVE_CONVERSATION)
    .subquery("conversation_case")
)
# One row per membership of the linked, active account (none when there is no link), each
# with the case's key, or NULLs. A read only: the conversation is taken by its own statement.
_LINKED_ACTOR_AND_CASE = (
    linked_actor_select(bindparam("telegram_user_id"))
    .outerjoin(_CONVERSATION_CASE, true())
    .add_columns(*_CONVERSATION_CASE.c)
)


async def _linked_actor_and_case(
    uow: UnitOfWork, telegram_user_id: int, flow: str, step: str
) -> tuple[Actor | None, CaseKey | None]:
    """The linked actor and the key of the case the conversation is about: one ``SELECT``."""
    connection = await uow.connection()
    result = await connection.execute(
        _LINKED_ACTOR_AND_CASE,
        {
            "telegram_user_id": telegram_user_id,
            "flow": flow,
            "step": step,
            "alive_after": uow.clock.now() - CONVERSATION_LIFETIME,
        },
    )
    rows = result.mappings().all()
    actor = actor_from_link_rows(rows)
    if actor is None or rows[0]["case_id"] is None:
        return actor, None
    first = rows[0]
    case = CaseKey(
        first["case_id"], first["case_reference"], first["case_site_id"],
        first["case_case_manager_id"], Stage(first["case_stage"]), first["case_referral_date"],
    )  # fmt: skip
    return actor, case


_TAKE_CONVERSATION = (
    delete(_conversations).where(*_ALIVE_CONVERSATION).returning(_conversations.c.data)
)


async def _take_conversation(
    uow: UnitOfWork, telegram_user_id: int, flow: str, step: str
) -> dict[str, Any] | None:
    """Delete the conversation if it is at ``flow``/``step`` and alive; its data, or None.

    One statement (``DELETE ... RETURNING``); the delete stands only if the caller commits.
    """
    connection = await uow.connection()
    returned = await connection.execute(
        _TAKE_CONVERSATION,
        {
            "telegram_user_id": telegram_user_id,
            "flow": flow,
            "step": step,
            "alive_after": uow.clock.now() - CONVERSATION_LIFETIME,
        },
    )
    data = returned.scalar_one_or_none()
    return None if data is None else dict(data)
