"""Audit events: a tamper-evident, append-only hash chain written inside the caller's transaction.

``details`` carries codes and ids only; never a name, an address or a note.

The chain
    Every event has a ``seq`` (1, 2, 3... without gaps), the ``prev_hash`` of event ``seq - 1``
    (64 zeros for the first) and its own ``hash``: SHA-256 over a canonical JSON form of
    (seq, prev_hash, occurred_at, actor, face, action, entity, site, case, details). The one
    row of ``audit_chain_head`` holds the last seq and hash, so deleting the *last* events is
    found too. ``verify_audit_chain`` walks the events in seq order, in batches, and names the
    first event that was altered, inserted or deleted.

How an append stays one chain under concurrency
    ``record_audit`` does not touch the database: it queues the event on the session. When the
    unit of work commits, a ``before_commit`` hook appends the queued events with three short
    statements:

    1. ``UPDATE audit_chain_head SET last_seq = last_seq + n RETURNING last_seq, last_hash``:
       this takes the head row's write lock (PostgreSQL: a row lock held to the end of the
       transaction; a second writer waits on it, then reads the head the first one committed,
       as READ COMMITTED re-evaluates the row; SQLite: the database write lock, writes being
       serialised anyway). It hands back the seqs to use and the hash to link to.
    2. ``INSERT INTO audit_events ...``: the events, numbered, linked and hashed in Python
       (``event_hash``). A seq already taken (a row put past the head) fails the unique
       constraint, and the commit with it (``AuditTrailBlocked``).
    3. ``UPDATE audit_chain_head SET last_hash = ...``: the head moved to the last new hash.

    ``insert_audited`` is the same for a service that writes one row and its event: the row goes
    in at once (Core, its id returned), the event waits on the session with the others. Both
    databases take this one path, and the canonical form is built only in Python
    (``event_hash``).

    The lock is taken at commit, the latest point possible, so it is held only for the final
    flush and the COMMIT itself and never while a service is reading or waiting. A rolled-back
    unit of work leaves neither events nor a moved head, as before.

What this does and does not protect against
    Anyone who edits, adds or removes some rows without recomputing the chain is found. Someone
    with write access to the database who rewrites every later hash *and* the head (or deletes
    the newest events and moves the head back) is found only against a signed checkpoint kept
    outside the database (``core.services.audit_checkpoints``): events before the newest
    checkpoint cannot be cut or rewritten unseen, those after it can. A row put past the head
    takes the next event's seq: audited writes then fail with ``AuditTrailBlocked`` (nothing is
    saved unaudited) until an operator removes it; verify names it.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, date, datetime, time, timedelta
from hashlib import sha256
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import (
    Table,
    event,
    func,
    insert,
    select,
    tuple_,
    update,
)
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, SessionTransaction

from core.enums import Face
from core.errors import AuditTrailBlocked, NotPermitted, ValidationFailed
from core.models import AuditChainHead, AuditEvent, Case, Site, User
from core.policy import Action, allowed_somewhere, authorize_somewhere, sites_where
from core.rules import check_real_day
from core.schemas.actor import Actor
from core.schemas.audit import (
    AuditEventRead,
    AuditPage,
    ChainBreak,
    ChainBreakKind,
    ChainBreakReason,
    ChainVerification,
    CheckpointState,
)
from core.services.audit_checkpoints import CheckpointStore, StoredCheckpoint, read_checkpoints
from core.uow import UnitOfWork

GENESIS_HASH = "0" * 64
HEAD_ROW_ID = 1
# Bump when the canonical form changes; it is hashed, so old events keep verifying only while
# their version's form is still known.
CHAIN_FORMAT = 1
VERIFY_BATCH = 5000
MAX_PAGE = 500
_PENDING_KEY = "drive_assist.pending_audit"

ProgressCallback = Callable[[int, int], None]


def event_hash(
    *,
    seq: int,
    prev_hash: str,
    occurred_at: datetime,
    actor_user_id: int | None,
    face: Face | str,
    action: str,
    entity_type: str,
    entity_id: int | None,
    site_id: int | None,
    case_id: int | None,
    details: dict[str, Any],
) -> str:
    """The SHA-256 of an event's canonical form (the same on SQLite and PostgreSQL): the JSON
    array ``[CHAIN_FORMAT, seq, prev_hash, occurred_at, actor, face, action, entity type,
    entity id, site, case, details]``, keys sorted, no spaces, UTF-8."""
    form = [
        CHAIN_FORMAT,
        seq,
        prev_hash,
        occurred_at.astimezone(UTC).isoformat(timespec="microseconds"),
        actor_user_id,
        str(face),
        action,
        entity_type,
        entity_id,
        site_id,
        case_id,
        details,
    ]
    canonical = json.dumps(
        form, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    )
    return sha256(canonical.encode("utf-8")).hexdigest()


def record_audit(
    uow: UnitOfWork,
    actor: Actor,
    action: str,
    *,
    entity_type: str,
    entity_id: int | None,
    site_id: int | None = None,
    case_id: int | None = None,
    details: dict[str, Any] | None = None,
) -> None:
    """Queue an event; it is appended to the chain when the unit of work commits."""
    pending: list[dict[str, Any]] = uow.session.info.setdefault(_PENDING_KEY, [])
    pending.append(
        _new_event(uow, actor, action, entity_type, entity_id, site_id, case_id, details)
    )


def record_user_audit(
    uow: UnitOfWork, actor: Actor, action: str, user: User, details: dict[str, Any] | None = None
) -> None:
    """An event about a staff account: one per site it belongs to (as ``user.add``), so each
    site's admin sees it, or one with no site for an account that belongs to none."""
    site_ids: list[int | None] = [*sorted({m.site_id for m in user.memberships})] or [None]
    for site_id in site_ids:
        record_audit(
            uow,
            actor,
            action,
            entity_type="user",
            entity_id=user.id,
            site_id=site_id,
            details=details,
        )


def _new_event(
    uow: UnitOfWork,
    actor: Actor,
    action: str,
    entity_type: str,
    entity_id: int | None,
    site_id: int | None,
    case_id: int | None,
    details: dict[str, Any] | None,
) -> dict[str, Any]:
    return {
        "occurred_at": uow.clock.now(),
        "actor_user_id": None if actor.is_system else actor.user_id,
        "face": actor.face,
        "action": action,
        "entity_type": entity_type,
        "entity_id": entity_id,
        "site_id": site_id,
        "case_id": case_id,
        # Round-trip through JSON now, so the hash covers exactly what the database gives back.
        "details": json.loads(json.dumps(details or {}, allow_nan=False)),
    }


async def insert_audited(
    uow: UnitOfWork,
    actor: Actor,
    action: str,
    *,
    table: Table,
    values: dict[str, Any],
    entity_type: str,
    site_id: int | None = None,
    case_id: int | None = None,
    details: dict[str, Any] | None = None,
) -> int:
    """Insert one row into ``table`` now and queue its audit event (``entity_id`` the new row's
    ``id``), appended when the unit of work commits as every other event. Returns the id."""
    connection = await uow.connection()
    entity_id = int(
        (await connection.execute(insert(table).values(values).returning(table.c.id))).scalar_one()
    )
    record_audit(
        uow, actor, action, entity_type=entity_type, entity_id=entity_id, site_id=site_id,
        case_id=case_id, details=details,
    )  # fmt: skip
    return entity_id


# --- appending ------------------------------------------------------------------------------

_head = AuditChainHead.__table__
_events = AuditEvent.__table__
_VERIFIED_COLUMNS = (
    AuditEvent.id,
    AuditEvent.seq,
    AuditEvent.prev_hash,
    AuditEvent.hash,
    AuditEvent.occurred_at,
    AuditEvent.actor_user_id,
    AuditEvent.face,
    AuditEvent.action,
    AuditEvent.entity_type,
    AuditEvent.entity_id,
    AuditEvent.site_id,
    AuditEvent.case_id,
    AuditEvent.details,
)


def _append_to_chain(session: Session, events: list[dict[str, Any]]) -> None:
    """Number, link and insert ``events``; Core statements on the session's connection."""
    # Whatever the ORM still holds goes first, so an event may name a row added in this unit.
    session.flush()
    connection = session.connection()
    row = connection.execute(
        update(_head)
        .where(_head.c.id == HEAD_ROW_ID)
        .values(last_seq=_head.c.last_seq + len(events))
        .returning(_head.c.last_seq, _head.c.last_hash)
    ).first()
    if row is None:
        # No head yet (an empty database, or a test that emptied every table): start from the
        # last stored event, so the chain goes on rather than restarting at 1.
        last = connection.execute(
            select(_events.c.seq, _events.c.hash).order_by(_events.c.seq.desc()).limit(1)
        ).first()
        base_seq, prev_hash = (last.seq, last.hash) if last is not None else (0, GENESIS_HASH)
    else:
        base_seq, prev_hash = row.last_seq - len(events), row.last_hash
    for offset, audit_event in enumerate(events, start=1):
        audit_event["seq"] = base_seq + offset
        audit_event["prev_hash"] = prev_hash
        audit_event["hash"] = prev_hash = event_hash(**audit_event)
    if row is None:
        connection.execute(insert(_events), events)
        connection.execute(
            insert(_head).values(
                id=HEAD_ROW_ID, last_seq=base_seq + len(events), last_hash=prev_hash
            )
        )
    else:
        connection.execute(insert(_events), events)
        connection.execute(
            update(_head).where(_head.c.id == HEAD_ROW_ID).values(last_hash=prev_hash)
        )


def _is_chain_collision(error: IntegrityError) -> bool:
    """The next seq is taken: a row was put past the head outside the chain (the seq's unique
    constraint, as SQLite and PostgreSQL name it)."""
    message = str(error.orig)
    return "uq_audit_events_seq" in message or "audit_events.seq" in message


@event.listens_for(Session, "before_commit")
def _append_queued_events(session: Session) -> None:
    pending: list[dict[str, Any]] | None = session.info.pop(_PENDING_KEY, None)
    if pending:
        try:
            _append_to_chain(session, pending)
        except IntegrityError as error:
            # Fail safe: a write that cannot be audited is not saved (the unit of work rolls
            # back); a typed error, not a crash, and verify names the row in the way.
            if _is_chain_collision(error):
                raise AuditTrailBlocked() from error
            raise


@event.listens_for(Session, "after_transaction_end")
def _forget_queued_events(session: Session, transaction: SessionTransaction) -> None:
    # A rollback (or a close without commit) drops what was queued with the change.
    if transaction.parent is None:
        session.info.pop(_PENDING_KEY, None)


# --- verifying ------------------------------------------------------------------------------


def _broken(
    kind: ChainBreakKind, reason: ChainBreakReason, seq: int | None, event_id: int | None
) -> ChainBreak:
    return ChainBreak(kind=kind, reason=reason, seq=seq, event_id=event_id)


def _check_row(row: Any, expected_seq: int, prev_hash: str) -> ChainBreak | None:
    if row.seq < expected_seq:
        return _broken(ChainBreakKind.INSERTED, ChainBreakReason.DUPLICATE_SEQ, row.seq, row.id)
    if row.seq > expected_seq:
        return _broken(ChainBreakKind.DELETED, ChainBreakReason.SEQ_GAP, expected_seq, None)
    recomputed = event_hash(
        seq=row.seq,
        prev_hash=row.prev_hash,
        occurred_at=row.occurred_at,
        actor_user_id=row.actor_user_id,
        face=row.face,
        action=row.action,
        entity_type=row.entity_type,
        entity_id=row.entity_id,
        site_id=row.site_id,
        case_id=row.case_id,
        details=row.details,
    )
    if recomputed != row.hash:
        return _broken(ChainBreakKind.ALTERED, ChainBreakReason.HASH_MISMATCH, row.seq, row.id)
    if row.prev_hash != prev_hash:
        # The row is consistent with itself but not with the chain: it was made elsewhere.
        return _broken(
            ChainBreakKind.INSERTED, ChainBreakReason.PREV_HASH_MISMATCH, row.seq, row.id
        )
    return None


async def verify_audit_chain(
    *,
    uow: UnitOfWork,
    actor: Actor,
    batch_size: int = VERIFY_BATCH,
    progress: ProgressCallback | None = None,
    checkpoints: CheckpointStore | None = None,
) -> ChainVerification:
    """Walk the chain in seq order, ``batch_size`` rows at a time, and report its first break.

    Events appended while the walk runs are left for the next one: the walk stops at the head
    it read first, then checks that no row lies beyond the head as it is at the end.

    With ``checkpoints`` (and its key), the chain is also checked against every signed
    checkpoint kept outside the database (``core.services.audit_checkpoints``): read before
    the head, so a checkpoint written while the walk runs is never ahead of the head it read.
    """
    stored = (
        read_checkpoints(checkpoints)
        if checkpoints is not None and checkpoints.key is not None
        else None
    )
    async with uow:
        if not actor.is_system and not allowed_somewhere(actor, Action.AUDIT_VIEW):
            raise NotPermitted(action=str(Action.AUDIT_VIEW), actor=actor)
        session = uow.session
        head = (
            await session.execute(
                select(_head.c.last_seq, _head.c.last_hash).where(_head.c.id == HEAD_ROW_ID)
            )
        ).first()
        total = head.last_seq if head is not None else 0
        expected_seq, prev_hash, checked = 1, GENESIS_HASH, 0
        after: tuple[int, int] = (0, 0)  # (seq, id) of the last row read: keyset paging
        first_break = _forged_checkpoint(stored or [])
        expected = _checkpointed_hashes(stored or [])
        if progress is not None:
            progress(0, total)
        while first_break is None:
            query = (
                select(*_VERIFIED_COLUMNS)
                .where(tuple_(AuditEvent.seq, AuditEvent.id) > tuple_(*after))
                .order_by(AuditEvent.seq, AuditEvent.id)
                .limit(batch_size)
            )
            if head is not None:
                query = query.where(AuditEvent.seq <= head.last_seq)
            rows = (await session.execute(query)).all()
            if not rows:
                break
            for row in rows:
                first_break = _check_row(row, expected_seq, prev_hash) or _check_checkpoints(
                    row, expected
                )
                if first_break is not None:
                    break
                expected_seq, prev_hash = row.seq + 1, row.hash
                checked += 1
            after = (rows[-1].seq, rows[-1].id)
            if progress is not None:
                progress(checked, total)
        if first_break is None:
            first_break = await _check_against_head(session, head, expected_seq - 1, prev_hash)
        if first_break is None:
            first_break = _truncated_below_checkpoint(stored or [], expected_seq - 1)
        genuine = [c for c in stored or [] if c.genuine and c.seq is not None]
        return ChainVerification(
            ok=first_break is None,
            checked=checked,
            head_seq=head.last_seq if head is not None else None,
            head_hash=head.last_hash if head is not None else None,
            first_break=first_break,
            checkpoint=(
                CheckpointState.NOT_CONFIGURED
                if stored is None
                else CheckpointState.CHECKED
                if genuine
                else CheckpointState.NONE_YET
            ),
            checkpoint_seq=max((c.seq for c in genuine if c.seq is not None), default=None),
        )


def _forged_checkpoint(stored: list[StoredCheckpoint]) -> ChainBreak | None:
    forged = next((c for c in stored if not c.genuine), None)
    if forged is None:
        return None
    return ChainBreak(
        kind=ChainBreakKind.ALTERED,
        reason=ChainBreakReason.CHECKPOINT_FORGED,
        seq=forged.seq,
        event_id=None,
        checkpoint_line=forged.line,
    )


def _checkpointed_hashes(stored: list[StoredCheckpoint]) -> dict[int, list[StoredCheckpoint]]:
    by_seq: dict[int, list[StoredCheckpoint]] = {}
    for checkpoint in stored:
        if checkpoint.genuine and checkpoint.seq is not None:
            by_seq.setdefault(checkpoint.seq, []).append(checkpoint)
    return by_seq


def _check_checkpoints(row: Any, expected: dict[int, list[StoredCheckpoint]]) -> ChainBreak | None:
    for checkpoint in expected.get(row.seq, ()):
        if checkpoint.hash != row.hash:
            # The event verifies against its neighbours, but not against what was signed when
            # it was the head: the chain from here on was rewritten.
            return ChainBreak(
                kind=ChainBreakKind.ALTERED,
                reason=ChainBreakReason.CHECKPOINT_HASH_MISMATCH,
                seq=row.seq,
                event_id=row.id,
                checkpoint_line=checkpoint.line,
            )
    return None


def _truncated_below_checkpoint(stored: list[StoredCheckpoint], last_seq: int) -> ChainBreak | None:
    ahead = [c for c in stored if c.genuine and c.seq is not None and c.seq > last_seq]
    if not ahead:
        return None
    newest = max(ahead, key=lambda c: c.seq or 0)
    return ChainBreak(
        kind=ChainBreakKind.DELETED,
        reason=ChainBreakReason.CHECKPOINT_AHEAD,
        seq=last_seq + 1,
        event_id=None,
        checkpoint_line=newest.line,
    )


async def _check_against_head(
    session: Any, head: Any, last_seq: int, last_hash: str
) -> ChainBreak | None:
    if head is None:
        if last_seq > 0:
            return _broken(ChainBreakKind.DELETED, ChainBreakReason.HEAD_MISSING, None, None)
        head_seq = 0
    else:
        if head.last_seq > last_seq:
            return _broken(ChainBreakKind.DELETED, ChainBreakReason.HEAD_AHEAD, last_seq + 1, None)
        if last_seq and head.last_hash != last_hash:
            last_id = await session.scalar(
                select(AuditEvent.id).where(AuditEvent.seq == last_seq).limit(1)
            )
            return _broken(
                ChainBreakKind.ALTERED, ChainBreakReason.HEAD_HASH_MISMATCH, last_seq, last_id
            )
        head_seq = head.last_seq
    # Rows beyond the head: appended outside the chain. The head is read again, so events
    # appended properly while the walk ran are not taken for forgeries.
    current_head = await session.scalar(select(_head.c.last_seq).where(_head.c.id == HEAD_ROW_ID))
    beyond = await session.execute(
        select(AuditEvent.id, AuditEvent.seq)
        .where(AuditEvent.seq > max(head_seq, current_head or 0))
        .order_by(AuditEvent.seq)
        .limit(1)
    )
    forged = beyond.first()
    if forged is not None:
        return _broken(ChainBreakKind.INSERTED, ChainBreakReason.BEYOND_HEAD, forged.seq, forged.id)
    return None


async def record_chain_verification(
    *, uow: UnitOfWork, actor: Actor, result: ChainVerification
) -> None:
    """Leave a trace that the chain was checked, and what was found (seqs and codes only)."""
    # As ``verify_audit_chain``: only someone who may check the chain may say it was checked.
    async with uow:
        if not actor.is_system and not allowed_somewhere(actor, Action.AUDIT_VIEW):
            raise NotPermitted(action=str(Action.AUDIT_VIEW), actor=actor)
        details: dict[str, Any] = {"ok": result.ok, "checked": result.checked}
        if result.first_break is not None:
            details |= {
                "kind": result.first_break.kind.value,
                "reason": result.first_break.reason.value,
                "seq": result.first_break.seq,
            }
        record_audit(
            uow, actor, "audit.verify", entity_type="audit_chain", entity_id=None, details=details
        )
        await uow.commit()


# --- searching ------------------------------------------------------------------------------


def _day_start(day: date, zone: ZoneInfo) -> datetime:
    return datetime.combine(day, time.min, tzinfo=zone).astimezone(UTC)


async def search_audit(
    *,
    uow: UnitOfWork,
    actor: Actor,
    case_id: int | None = None,
    user_id: int | None = None,
    date_from: date | None = None,
    date_to: date | None = None,
    limit: int = 50,
    offset: int = 0,
    up_to_seq: int | None = None,
    zone: str = "Europe/London",
) -> AuditPage:
    """Events at the sites the actor may audit, newest first, by case, user and period.

    ``date_from`` and ``date_to`` are whole days (both included) in ``zone``. The search is
    itself audited, once per site searched, with the filters (ids and dates) it used.

    Being audited, every search adds to the trail; pass the first page's ``up_to_seq`` when
    asking for the next pages, so they page through the trail as it was then.
    """
    async with uow:
        authorize_somewhere(actor, Action.AUDIT_VIEW)
        if not 1 <= limit <= MAX_PAGE:
            raise ValidationFailed(field="limit", rule="range")
        if offset < 0:
            raise ValidationFailed(field="offset", rule="range")
        for field, day in (("date_from", date_from), ("date_to", date_to)):
            if day is not None:
                check_real_day(day, field=field)
        if date_from is not None and date_to is not None and date_to < date_from:
            raise ValidationFailed(field="date_to", rule="before_date_from")
        site_ids = sorted(sites_where(actor, Action.AUDIT_VIEW))
        tz = ZoneInfo(zone)
        if up_to_seq is None:
            up_to_seq = await uow.session.scalar(select(func.max(AuditEvent.seq))) or 0
        query = (
            select(AuditEvent, Site.code, Case.reference)
            .outerjoin(Site, Site.id == AuditEvent.site_id)
            .outerjoin(Case, Case.id == AuditEvent.case_id)
            .where(AuditEvent.site_id.in_(site_ids), AuditEvent.seq <= up_to_seq)
        )
        if case_id is not None:
            query = query.where(AuditEvent.case_id == case_id)
        if user_id is not None:
            query = query.where(AuditEvent.actor_user_id == user_id)
        if date_from is not None:
            query = query.where(AuditEvent.occurred_at >= _day_start(date_from, tz))
        if date_to is not None:
            query = query.where(
                AuditEvent.occurred_at < _day_start(date_to + timedelta(days=1), tz)
            )
        rows = (
            await uow.session.execute(
                query.order_by(AuditEvent.occurred_at.desc(), AuditEvent.seq.desc())
                .limit(limit + 1)
                .offset(offset)
            )
        ).all()
        items = [_read(audit_event, code, ref) for audit_event, code, ref in rows[:limit]]
        filters = {
            "case_id": case_id,
            "user_id": user_id,
            "date_from": date_from.isoformat() if date_from else None,
            "date_to": date_to.isoformat() if date_to else None,
            "offset": offset,
            "results": len(items),
        }
        for site_id in site_ids:
            record_audit(
                uow,
                actor,
                "audit.search",
                entity_type="audit_event",
                entity_id=None,
                site_id=site_id,
                case_id=case_id,
                details=filters,
            )
        await uow.commit()
        return AuditPage(
            items=items,
            offset=offset,
            limit=limit,
            has_more=len(rows) > limit,
            up_to_seq=up_to_seq,
        )


def _read(audit_event: AuditEvent, site_code: str | None, reference: str | None) -> AuditEventRead:
    return AuditEventRead(
        id=audit_event.id,
        seq=audit_event.seq,
        occurred_at=audit_event.occurred_at,
        actor_user_id=audit_event.actor_user_id,
        face=audit_event.face,
        action=audit_event.action,
        entity_type=audit_event.entity_type,
        entity_id=audit_event.entity_id,
        site_id=audit_event.site_id,
        site_code=site_code,
        case_id=audit_event.case_id,
        case_reference=reference,
        details=dict(audit_event.details),
    )
