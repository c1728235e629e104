"""Checkpoints of the audit chain, kept outside the database, so truncating the chain is found.

The chain's head row lives in the database beside the events: someone who may write there can
delete the newest events and move the head back, and the chain still verifies. A checkpoint
anchors the head somewhere else: one line ``{"seq", "hash", "written_at", "mac"}`` appended to
``audit-checkpoints.jsonl`` in ``AUDIT_CHECKPOINT_DIR``, where ``mac`` is an HMAC-SHA256 under
``AUDIT_CHECKPOINT_KEY`` over the seq and the hash (so a line cannot be forged or edited without
the key, which the database never sees). The worker writes one on a schedule
(``AUDIT_CHECKPOINT_INTERVAL_SECONDS``) and ``drive-assist audit checkpoint`` on demand.

``verify_audit_chain`` then checks every checkpoint: a checkpoint whose seq is past the last
event present (the chain was truncated below it), one whose hash is not the hash of the event
at its seq (the chain was rewritten), or a line whose MAC is wrong, is a broken chain.

The file protects only as far as the database user cannot rewrite it: keep the directory on
storage the application's database account (and ideally the application itself) cannot alter,
or ship the lines elsewhere (a log host, a ticket). Events after the newest checkpoint can still
be removed unseen; the interval bounds how many.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import select

from core.errors import NotPermitted
from core.models import AuditChainHead
from core.schemas.actor import Actor
from core.schemas.audit import AuditCheckpointRead
from core.uow import UnitOfWork

CHECKPOINT_FILE = "audit-checkpoints.jsonl"
HEAD_ROW_ID = 1  # as core.services.audit
# Bump when the MAC's input changes.
CHECKPOINT_FORMAT = 1


@dataclass(frozen=True, slots=True)
class CheckpointStore:
    """Where checkpoints are kept and the key that signs them (None: checkpoints are off)."""

    directory: Path
    key: bytes | None

    @classmethod
    def from_settings(cls, settings: Any) -> CheckpointStore:
        key = settings.audit_checkpoint_key
        return cls(
            directory=Path(settings.audit_checkpoint_dir),
            key=key.strip().encode("utf-8") if key and key.strip() else None,
        )

    @property
    def path(self) -> Path:
        return self.directory / CHECKPOINT_FILE


@dataclass(frozen=True, slots=True)
class StoredCheckpoint:
    """One line of the file: ``line`` counts from 1; ``genuine`` is False when the MAC fails
    (or the line cannot be read at all, when ``seq`` and ``hash`` are None)."""

    line: int
    seq: int | None
    hash: str | None
    genuine: bool


def checkpoint_mac(key: bytes, seq: int, chain_hash: str) -> str:
    message = f"drive-assist-audit-checkpoint:{CHECKPOINT_FORMAT}:{seq}:{chain_hash}"
    return hmac.new(key, message.encode("utf-8"), hashlib.sha256).hexdigest()


def read_checkpoints(store: CheckpointStore) -> list[StoredCheckpoint]:
    """Every line of the checkpoint file, each with whether its MAC holds; none: no file."""
    assert store.key is not None
    try:
        text = store.path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return []
    stored = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            entry = json.loads(line)
            seq, chain_hash, mac = int(entry["seq"]), str(entry["hash"]), str(entry["mac"])
        except (ValueError, KeyError, TypeError):
            stored.append(StoredCheckpoint(number, None, None, genuine=False))
            continue
        genuine = hmac.compare_digest(mac, checkpoint_mac(store.key, seq, chain_hash))
        stored.append(StoredCheckpoint(number, seq, chain_hash, genuine))
    return stored


def _append_line(store: CheckpointStore, line: str) -> None:
    store.directory.mkdir(mode=0o700, parents=True, exist_ok=True)
    # Append-only and private: O_APPEND writes a short line in one piece, even from two
    # processes at once; 0600 as created (the mode is not widened later).
    descriptor = os.open(store.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    try:
        os.write(descriptor, (line + "\n").encode("utf-8"))
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


async def write_audit_checkpoint(
    *, uow: UnitOfWork, actor: Actor, store: CheckpointStore
) -> AuditCheckpointRead | None:
    """Append a signed checkpoint of the chain's head to the store; None when there is no
    chain yet or checkpoints are off (no key). The host operator's (system) work only."""
    async with uow:
        if not actor.is_system:
            raise NotPermitted(action="audit.checkpoint", actor=actor)
        head = (
            await uow.session.execute(
                select(AuditChainHead.last_seq, AuditChainHead.last_hash).where(
                    AuditChainHead.id == HEAD_ROW_ID
                )
            )
        ).first()
        written_at = uow.clock.now()
    if head is None or store.key is None:
        return None
    seq, chain_hash = int(head.last_seq), str(head.last_hash)
    line = json.dumps(
        {
            "seq": seq,
            "hash": chain_hash,
            "written_at": written_at.isoformat(timespec="seconds"),
            "mac": checkpoint_mac(store.key, seq, chain_hash),
        },
        sort_keys=True,
        separators=(",", ":"),
    )
    _append_line(store, line)
    return AuditCheckpointRead(seq=seq, hash=chain_hash, written_at=written_at)


def newest_written_at(store: CheckpointStore) -> datetime | None:
    """When the newest line was written (for a message), or None."""
    try:
        lines = store.path.read_text(encoding="utf-8").splitlines()
    except FileNotFoundError:
        return None
    for line in reversed(lines):
        try:
            return datetime.fromisoformat(json.loads(line)["written_at"])
        except (ValueError, KeyError, TypeError):
            continue
    return None
