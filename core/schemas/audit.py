"""Read models for the audit trail: one event as an admin sees it, a page of a search, and the
result of verifying the hash chain. Codes and ids only; an event never carries personal data.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from core.enums import Face
from core.schemas.common import ReadModel


class AuditEventRead(ReadModel):
    id: int
    seq: int
    occurred_at: datetime
    actor_user_id: int | None
    face: Face
    action: str
    entity_type: str
    entity_id: int | None
    site_id: int | None
    site_code: str | None
    case_id: int | None
    case_reference: str | None
    details: dict[str, Any]


class AuditPage(ReadModel):
    """One page of a search, newest first. ``has_more``: a next page exists (no total count,
    which would mean counting millions of rows for every page)."""

    items: list[AuditEventRead]
    offset: int
    limit: int
    has_more: bool
    up_to_seq: int  # the newest event this search could see; pass it on for the next page


class ChainBreakKind(StrEnum):
    ALTERED = "altered"  # the row's content no longer matches its hash
    INSERTED = "inserted"  # a row that was never appended through the chain
    DELETED = "deleted"  # a row the chain expects is missing


class ChainBreakReason(StrEnum):
    HASH_MISMATCH = "hash_mismatch"  # recomputed hash differs from the stored one
    HEAD_HASH_MISMATCH = "head_hash_mismatch"  # the last row is not the one the head recorded
    DUPLICATE_SEQ = "duplicate_seq"  # a second row with a seq already seen
    PREV_HASH_MISMATCH = "prev_hash_mismatch"  # the row does not link to the row before it
    BEYOND_HEAD = "beyond_head"  # a row after the last one the head recorded
    SEQ_GAP = "seq_gap"  # seq jumps: the rows between are gone
    HEAD_AHEAD = "head_ahead"  # the head recorded rows after the last one present
    HEAD_MISSING = "head_missing"  # events exist but the chain head row is gone
    # Checked against the signed checkpoints kept outside the database
    # (core.services.audit_checkpoints):
    CHECKPOINT_AHEAD = "checkpoint_ahead"  # a checkpoint names events no longer present
    CHECKPOINT_HASH_MISMATCH = "checkpoint_hash_mismatch"  # its event's hash is not the same
    CHECKPOINT_FORGED = "checkpoint_forged"  # a checkpoint line whose MAC fails


class ChainBreak(ReadModel):
    """The first place the chain is broken. ``seq`` is the event's place in the chain (for a
    deleted event, the first missing place); ``event_id`` the row's id when the row exists."""

    kind: ChainBreakKind
    reason: ChainBreakReason
    seq: int | None
    event_id: int | None
    checkpoint_line: int | None = None  # the checkpoint file's line that shows the break


class CheckpointState(StrEnum):
    CHECKED = "checked"  # every checkpoint matched the chain
    NONE_YET = "none_yet"  # no checkpoint written yet: truncating the chain cannot be found
    NOT_CONFIGURED = "not_configured"  # no checkpoint key: checkpoints are not checked


class AuditCheckpointRead(ReadModel):
    seq: int
    hash: str
    written_at: datetime


class ChainVerification(ReadModel):
    ok: bool
    checked: int  # events whose hash was checked
    head_seq: int | None  # the last seq the chain head recorded (None: no head row)
    head_hash: str | None  # note it down: a later verify can be compared with it
    first_break: ChainBreak | None
    checkpoint: CheckpointState = CheckpointState.NOT_CONFIGURED
    checkpoint_seq: int | None = None  # the newest checkpoint checked
