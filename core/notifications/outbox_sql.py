"""The dispatcher's SQL: claiming due outbox rows and writing what happened to them.

**Claim** (:func:`claim_due`): mark a batch of due rows ``sending`` with a lease, this worker's
name and one more attempt, and read them with the recipient's locale and active chat, in lane
order, then ``not_before``, then id. Due means ``queued`` with ``not_before <= now``, or
``sending`` whose lease ran out because a dispatcher died mid-send. The claim commits before
anything is sent.

- *PostgreSQL*: one statement, ``SELECT ... FOR UPDATE SKIP LOCKED`` in a CTE, then ``UPDATE
  ... RETURNING``: concurrent workers each lock different rows and never wait on each other.
  The transaction first turns off bitmap and sequential scans for itself, so the due rows are
  read in index order and the scan stops at the batch size however many are due
  (``POSTGRESQL_CLAIM_PLAN``).
- *SQLite*: ``UPDATE ... WHERE id IN (SELECT ... LIMIT n) RETURNING``, the first statement of
  its transaction. SQLite takes its one database-wide write lock before that statement reads,
  so the claim is atomic across processes: a second dispatcher waits on ``busy_timeout`` and
  then finds the rows already ``sending``. Inside one process an ``asyncio.Lock`` per database
  lets dispatchers queue for the claim instead of contending on the file lock.

**Record** (:func:`record_results`): one statement per kind of outcome for a whole set of
results (PostgreSQL: ``UPDATE ... FROM unnest(arrays)``; SQLite: an ``executemany``), each
guarded by ``state = sending``, ``claimed_by`` and ``attempts`` as claimed, so a result whose
claim another worker took over after the lease ran out changes nothing. A blocked recipient's
Telegram link is switched off only with a result that was still ours.
"""

from __future__ import annotations

import asyncio
import json
import operator
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from pydantic import TypeAdapter
from sqlalchemy import Float, String, Text, and_, bindparam, column, or_, select, text, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from core.enums import Channel, Locale, OutboxState
from core.models import OutboxMessage, TelegramLink, User
from core.notifications.channels import OutboundMessage

BLOCKED_REASON = "blocked"


class Outcome(StrEnum):
    """What happened to one claimed message, as far as its row is concerned."""

    SENT = "sent"
    RETRY = "retry"  # queued again after a backoff
    DEFERRED = "deferred"  # given back unsent (its chat was busy), the attempt not counted
    FAILED = "failed"
    BLOCKED = "blocked"  # failed, and the recipient's Telegram link switched off
    REROUTED = "rerouted"  # a critical message to a blocked recipient: link off, to the inbox


LINK_LOST = frozenset({Outcome.BLOCKED, Outcome.REROUTED})


@dataclass(slots=True)
class DeliveryResult:
    """What happened to one claimed message, waiting to be written with others."""

    outcome: Outcome
    message: OutboundMessage
    at: datetime | None = None  # sent_at, or the new not_before
    error: str | None = None
    provider_message_id: int | None = None

    def parameters(self) -> dict[str, Any]:
        return {
            "b_id": self.message.id,
            "b_attempts": self.message.attempts,
            "b_at": self.at,
            "b_error": self.error,
            "b_provider_id": self.provider_message_id,
        }


# -- claiming ----------------------------------------------------------------------------------

# One claim at a time per SQLite database inside this process (see the module docstring).
_sqlite_claim_locks: dict[str, asyncio.Lock] = {}

# What a claim reads of each row (the recipient's locale and active chat come with it).
_CLAIMED_COLUMNS = (
    "id", "recipient_user_id", "channel", "kind", "message_key", "params", "lane", "lane_rank",
    "not_before", "attempts",
)  # fmt: skip


async def claim_due(
    session: AsyncSession,
    *,
    now: datetime,
    lease_until: datetime,
    worker_id: str,
    limit: int,
    max_rank: int,
) -> list[OutboundMessage]:
    """Claim up to ``limit`` due messages with lane rank ``max_rank`` or lower for
    ``worker_id``, committed before returning, in claim order."""
    if session.get_bind().dialect.name == "postgresql":
        connection = await session.connection()
        await connection.execute(POSTGRESQL_CLAIM_PLAN)
        parameters = {"now": now, "lease_until": lease_until, "worker": worker_id,
                      "limit": limit, "max_rank": max_rank}  # fmt: skip
        rows = (await connection.execute(POSTGRESQL_CLAIM, parameters)).all()
        await session.commit()
        return _outbound(rows)
    lock = _sqlite_claim_locks.setdefault(str(session.get_bind().engine.url), asyncio.Lock())
    async with lock:
        rows = await _claim_sqlite(session, now, lease_until, worker_id, limit, max_rank)
        await session.commit()
    return _outbound(rows)


async def _claim_sqlite(
    session: AsyncSession,
    now: datetime,
    lease_until: datetime,
    worker_id: str,
    limit: int,
    max_rank: int,
) -> Sequence[Any]:
    table = OutboxMessage.__table__
    due = (
        select(table.c.id)
        .where(
            or_(
                and_(table.c.state == OutboxState.QUEUED, table.c.not_before <= now),
                and_(table.c.state == OutboxState.SENDING, table.c.lease_until < now),
            ),
            table.c.lane_rank <= max_rank,
        )
        .order_by(table.c.lane_rank, table.c.not_before, table.c.id)
        .limit(limit)
    )
    connection = await session.connection()
    claimed = await connection.execute(
        update(table)
        .where(table.c.id.in_(due.scalar_subquery()))
        .values(
            state=OutboxState.SENDING,
            lease_until=lease_until,
            claimed_by=worker_id,
            attempts=table.c.attempts + 1,
        )
        .returning(table.c.id)
    )
    ids = list(claimed.scalars())
    if not ids:
        return []
    return (
        await connection.execute(
            select(
                *(table.c[name] for name in _CLAIMED_COLUMNS),
                User.__table__.c.locale,
                TelegramLink.__table__.c.chat_id,
            )
            .join(User, User.id == table.c.recipient_user_id)
            .outerjoin(
                TelegramLink,
                and_(
                    TelegramLink.user_id == table.c.recipient_user_id,
                    TelegramLink.is_active.is_(True),
                ),
            )
            .where(table.c.id.in_(ids))
        )
    ).all()


def _postgresql_claim() -> Any:
    """Lock, mark and read a batch in one statement. Two index range scans on
    ``ix_outbox_messages_due`` (expired leases, then due queued rows), each ``FOR UPDATE SKIP
    LOCKED`` so concurrent workers take different rows and never wait; not an ``OR`` of the two,
    which makes PostgreSQL scan and sort every due row. Rows locked and not picked are
    released at the commit."""
    table = OutboxMessage.__table__
    sending, queued = OutboxState.SENDING.value, OutboxState.QUEUED.value
    due = """SELECT id, lane_rank, not_before FROM outbox_messages
        WHERE state = '{state}' AND {when} AND lane_rank <= :max_rank
        ORDER BY lane_rank, not_before LIMIT :limit FOR UPDATE SKIP LOCKED"""
    # Some columns are returned in a form that is quicker to read than the column itself: the
    # params as their JSON text, parsed once per distinct text by ``_outbound`` (a broadcast's
    # thousand rows carry the same few parameters); ``not_before``, which only orders the
    # batch, as epoch seconds (a float holds today's microseconds exactly, so the order is the
    # same); the enums as their stored values, which ``_outbound`` validates into members.
    returned_as = {
        "params": ("o.params::text", column("params", Text)),
        "not_before": (
            "EXTRACT(EPOCH FROM o.not_before)::float8",
            column("not_before", Float),
        ),
        **{name: (f"o.{name}", column(name, String)) for name in ("channel", "kind", "lane")},
    }
    returned = ", ".join(
        returned_as[name][0] if name in returned_as else f"o.{name}" for name in _CLAIMED_COLUMNS
    )
    return text(
        f"""WITH expired AS ({due.format(state=sending, when="lease_until < :now")}),
        queued AS ({due.format(state=queued, when="not_before <= :now")}),
        picked AS (
            SELECT id FROM (SELECT * FROM expired UNION ALL SELECT * FROM queued) AS c
            ORDER BY lane_rank, not_before, id LIMIT :limit)
        UPDATE outbox_messages AS o
        SET state = '{sending}', lease_until = :lease_until, claimed_by = :worker,
            attempts = o.attempts + 1
        FROM picked, users AS u
            LEFT JOIN telegram_links AS l ON l.user_id = u.id AND l.is_active
        WHERE o.id = picked.id AND u.id = o.recipient_user_id
        RETURNING {returned}, u.locale, l.chat_id"""
    ).columns(
        *(returned_as[name][1] if name in returned_as else table.c[name]
          for name in _CLAIMED_COLUMNS),
        column("locale", String),
        TelegramLink.__table__.c.chat_id,
    )  # fmt: skip


POSTGRESQL_CLAIM = _postgresql_claim()


def _planner_off(*settings: str) -> Any:
    return text("SELECT " + ", ".join(f"set_config('{name}', 'off', true)" for name in settings))


# Planner settings for the claim's and the record's transactions only (``is_local``). The
# planner's idea of how many rows are due or in flight comes from statistics taken when the
# queue was nearly empty (as it is most of the time), so after a broadcast of thousands it still
# expects a handful. Left to itself it read every due row with a bitmap scan and sorted them to
# claim the first 200 (22 ms a claim at 30,000 due rows, growing with the backlog), and it
# recorded results by walking rows in flight, or the whole table, once per result. With these,
# a claim reads ``ix_outbox_messages_due`` in order, stops at the batch size and looks each
# claimed row, its recipient and their link up by key; a record looks its rows up by primary key
# and joins them to the results in one pass: both cost the same at any backlog. Nothing else
# runs in those transactions but single-row writes by key.
POSTGRESQL_CLAIM_PLAN = _planner_off(
    "enable_bitmapscan", "enable_seqscan", "enable_hashjoin", "enable_mergejoin"
)
POSTGRESQL_RECORD_PLAN = _planner_off("enable_nestloop", "enable_seqscan")


# A claimed row's fields by position: what the claim reads, then the locale and the chat.
_CLAIMED_FIELDS = (*_CLAIMED_COLUMNS, "locale", "chat_id")
_CLAIM_ORDER = operator.itemgetter(
    *(_CLAIMED_FIELDS.index(f) for f in ("lane_rank", "not_before", "id"))
)
_OUTBOUND_LIST = TypeAdapter(list[OutboundMessage])


def _outbound(rows: Sequence[Any]) -> list[OutboundMessage]:
    """Claimed rows as the channels see them, in claim order (lane, then due time, then id).

    Read by position and validated as one list: a result row's attribute access and one
    pydantic call per message cost about 20 microseconds a message, four times this."""
    fields = []
    parsed: dict[str, Any] = {}  # PostgreSQL's params as JSON text -> the value, this claim
    for row in sorted(rows, key=_CLAIM_ORDER):
        values = dict(zip(_CLAIMED_FIELDS, row, strict=True))
        values["locale"] = values["locale"] or Locale.EN_GB
        params = values["params"]
        if isinstance(params, str):
            if params not in parsed:
                parsed[params] = json.loads(params)
            params = parsed[params]
        values["params"] = params or {}
        fields.append(values)
    # Validated one list at a time, so each message has params of its own (never shared).
    return _OUTBOUND_LIST.validate_python(fields)


# -- recording ---------------------------------------------------------------------------------


async def record_results(
    connection: AsyncConnection, results: Sequence[DeliveryResult], *, worker_id: str, now: datetime
) -> int:
    """Write ``results`` in the connection's transaction (the caller commits); returns how
    many were still this worker's to write."""
    if connection.dialect.name == "postgresql":
        await connection.execute(POSTGRESQL_RECORD_PLAN)
        recorded, ours = await _record_postgresql(connection, results, worker_id)
    else:
        ours = await _record_sqlite(connection, results, worker_id)
        recorded = len(ours)
    for result in results:
        if result.outcome in LINK_LOST and result.message.id in ours:
            await connection.execute(
                update(TelegramLink)
                .where(
                    TelegramLink.user_id == result.message.recipient_user_id,
                    TelegramLink.chat_id == result.message.chat_id,
                    TelegramLink.is_active.is_(True),
                )
                .values(is_active=False, deactivated_at=now, deactivation_reason=BLOCKED_REASON)
            )
    return recorded


def _postgresql_record(assignments: str, *, returning: bool = False) -> Any:
    """One outcome for a whole batch: ``UPDATE ... FROM unnest(arrays)``, the rows found by
    primary key (``id = ANY``) and joined to their results by hash or merge, never by a nested
    loop (``POSTGRESQL_RECORD_PLAN``). The guard on the state is written ``(...) IS TRUE`` so
    it cannot steer the scan to ``ix_outbox_messages_due``. Left to itself, with statistics
    saying hardly any rows are ``sending``, the planner joined every row in flight against
    every result, unnesting the arrays again for each: 20 ms to record 200 rows, not 2."""
    return text(
        f"""UPDATE outbox_messages AS o SET {assignments}
        FROM unnest(CAST(:ids AS BIGINT[]), CAST(:attempts AS INTEGER[]),
                    CAST(:ats AS TIMESTAMPTZ[]), CAST(:errors AS TEXT[]),
                    CAST(:provider_ids AS BIGINT[])) AS r(id, attempts, at, error, provider_id)
        WHERE o.id = ANY(CAST(:ids AS BIGINT[])) AND o.id = r.id
          AND (o.state = '{OutboxState.SENDING.value}') IS TRUE
          AND o.claimed_by = :worker AND o.attempts = r.attempts"""
        + ("\n        RETURNING o.id" if returning else "")
    )


_FAILED_ASSIGNMENTS = (
    f"state = '{OutboxState.FAILED.value}', lease_until = NULL, last_error = r.error"
)
POSTGRESQL_RECORD = {
    Outcome.SENT: _postgresql_record(
        f"state = '{OutboxState.SENT.value}', sent_at = r.at, lease_until = NULL, "
        "telegram_message_id = r.provider_id"
    ),
    Outcome.RETRY: _postgresql_record(
        f"state = '{OutboxState.QUEUED.value}', not_before = r.at, lease_until = NULL, "
        "last_error = r.error"
    ),
    Outcome.DEFERRED: _postgresql_record(
        f"state = '{OutboxState.QUEUED.value}', not_before = r.at, lease_until = NULL, "
        "attempts = o.attempts - 1"
    ),
    Outcome.FAILED: _postgresql_record(_FAILED_ASSIGNMENTS),
    Outcome.BLOCKED: _postgresql_record(_FAILED_ASSIGNMENTS, returning=True),
    Outcome.REROUTED: _postgresql_record(
        f"state = '{OutboxState.QUEUED.value}', channel = '{Channel.INBOX.value}', "
        "not_before = r.at, lease_until = NULL, last_error = r.error",
        returning=True,
    ),
}

# Which of the result arrays (``r.at``, ``r.error``, ``r.provider_id``) each statement reads.
_POSTGRESQL_RECORD_READS = {
    outcome: frozenset(
        name for name in ("at", "error", "provider_id") if re.search(rf"\br\.{name}\b", sql.text)
    )
    for outcome, sql in POSTGRESQL_RECORD.items()
}


async def _record_postgresql(
    connection: AsyncConnection, results: Sequence[DeliveryResult], worker_id: str
) -> tuple[int, set[int]]:
    """How many results were still ours, and which of those lost the recipient's link
    (their ids come back; for the rest, nearly all, the row count is enough)."""
    grouped: dict[Outcome, list[DeliveryResult]] = {}
    for result in results:
        grouped.setdefault(result.outcome, []).append(result)
    recorded, ours = 0, set[int]()
    for outcome, group in grouped.items():
        reads = _POSTGRESQL_RECORD_READS[outcome]
        written = await connection.execute(
            POSTGRESQL_RECORD[outcome],
            {
                "ids": [r.message.id for r in group],
                "attempts": [r.message.attempts for r in group],
                # The arrays this outcome's statement does not read go empty: unnest pads them
                # with NULLs.
                "ats": [r.at for r in group] if "at" in reads else [],
                "errors": [r.error for r in group] if "error" in reads else [],
                "provider_ids": [r.provider_message_id for r in group]
                if "provider_id" in reads
                else [],
                "worker": worker_id,
            },
        )
        if outcome in LINK_LOST:
            held = set(written.scalars())
            ours |= held
            recorded += len(held)
        else:
            recorded += written.rowcount
    return recorded, ours


def _sqlite_record_statements() -> dict[Outcome, Any]:
    table = OutboxMessage.__table__
    guarded = update(table).where(
        table.c.id == bindparam("b_id"),
        table.c.state == OutboxState.SENDING,
        table.c.attempts == bindparam("b_attempts"),
        table.c.claimed_by == bindparam("b_worker"),
    )
    failed = guarded.values(
        state=OutboxState.FAILED, lease_until=None, last_error=bindparam("b_error")
    )
    return {
        Outcome.SENT: guarded.values(
            state=OutboxState.SENT,
            sent_at=bindparam("b_at"),
            lease_until=None,
            telegram_message_id=bindparam("b_provider_id"),
        ),
        Outcome.RETRY: guarded.values(
            state=OutboxState.QUEUED,
            not_before=bindparam("b_at"),
            lease_until=None,
            last_error=bindparam("b_error"),
        ),
        Outcome.DEFERRED: guarded.values(
            state=OutboxState.QUEUED,
            not_before=bindparam("b_at"),
            lease_until=None,
            attempts=table.c.attempts - 1,
        ),
        Outcome.FAILED: failed,
        Outcome.BLOCKED: failed,
        Outcome.REROUTED: guarded.values(
            state=OutboxState.QUEUED,
            channel=Channel.INBOX,
            not_before=bindparam("b_at"),
            lease_until=None,
            last_error=bindparam("b_error"),
        ),
    }


_SQLITE_RECORD = _sqlite_record_statements()


async def _record_sqlite(
    connection: AsyncConnection, results: Sequence[DeliveryResult], worker_id: str
) -> set[int]:
    """The ids still ours (a ``SELECT`` of the rows this worker holds), then an
    ``executemany`` per outcome for those."""
    table = OutboxMessage.__table__
    by_id = {result.message.id: result for result in results}
    held = await connection.execute(
        select(table.c.id, table.c.attempts).where(
            table.c.id.in_(list(by_id)),
            table.c.state == OutboxState.SENDING,
            table.c.claimed_by == worker_id,
        )
    )
    ours = {row.id for row in held if row.attempts == by_id[row.id].message.attempts}
    grouped: dict[Outcome, list[dict[str, Any]]] = {}
    for result in results:
        if result.message.id in ours:
            grouped.setdefault(result.outcome, []).append(
                {**result.parameters(), "b_worker": worker_id}
            )
    for outcome, parameters in grouped.items():
        await connection.execute(_SQLITE_RECORD[outcome], parameters)
    return ours
