"""Audit hash chain (seq, prev_hash, hash on audit_events; the audit_chain_head row) and the
closed-case retention policy (sites.closed_case_retention_years, cases.anonymised_at).

Existing audit events are chained in id order, in batches, with the same canonical form as
``core.services.audit.event_hash`` (copied here so this revision never changes under it).

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-23 09:00:00.000000

"""
import json
from datetime import UTC
from hashlib import sha256
from typing import Any, Sequence, Union

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision: str = '0006'
down_revision: Union[str, Sequence[str], None] = '0005'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

GENESIS_HASH = "0" * 64
BATCH = 5000


def _event_hash(row: sa.Row[Any], seq: int, prev_hash: str) -> str:
    occurred_at = row.occurred_at
    if occurred_at.tzinfo is None:  # SQLite keeps the UTC wall time
        occurred_at = occurred_at.replace(tzinfo=UTC)
    details = row.details
    if isinstance(details, str):
        details = json.loads(details)
    payload = [
        1,
        seq,
        prev_hash,
        occurred_at.astimezone(UTC).isoformat(timespec="microseconds"),
        row.actor_user_id,
        str(row.face),
        row.action,
        row.entity_type,
        row.entity_id,
        row.site_id,
        row.case_id,
        details if details is not None else {},
    ]
    canonical = json.dumps(
        payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    )
    return sha256(canonical.encode("utf-8")).hexdigest()


def _backfill_chain() -> tuple[int, str]:
    connection = op.get_bind()
    events = sa.table(
        'audit_events',
        sa.column('id', sa.Integer()),
        sa.column('occurred_at', sa.DateTime(timezone=True)),
        sa.column('actor_user_id', sa.Integer()),
        sa.column('face', sa.String()),
        sa.column('action', sa.String()),
        sa.column('entity_type', sa.String()),
        sa.column('entity_id', sa.Integer()),
        sa.column('site_id', sa.Integer()),
        sa.column('case_id', sa.Integer()),
        sa.column('details', sa.JSON()),
        sa.column('seq', sa.BigInteger()),
        sa.column('prev_hash', sa.String()),
        sa.column('hash', sa.String()),
    )
    seq, prev_hash, last_id = 0, GENESIS_HASH, 0
    while True:
        rows = connection.execute(
            sa.select(events).where(events.c.id > last_id).order_by(events.c.id).limit(BATCH)
        ).all()
        if not rows:
            return seq, prev_hash
        updates = []
        for row in rows:
            seq += 1
            digest = _event_hash(row, seq, prev_hash)
            updates.append({'row_id': row.id, 'seq': seq, 'prev_hash': prev_hash, 'hash': digest})
            prev_hash, last_id = digest, row.id
        connection.execute(
            events.update()
            .where(events.c.id == sa.bindparam('row_id'))
            .values(seq=sa.bindparam('seq'), prev_hash=sa.bindparam('prev_hash'),
                    hash=sa.bindparam('hash')),
            updates,
        )


def upgrade() -> None:
    """Upgrade schema."""
    with op.batch_alter_table('sites', schema=None) as batch_op:
        batch_op.add_column(sa.Column('closed_case_retention_years', sa.SmallInteger(), nullable=True))
    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.add_column(sa.Column('anonymised_at', sa.DateTime(timezone=True), nullable=True))

    with op.batch_alter_table('audit_events', schema=None) as batch_op:
        batch_op.add_column(sa.Column('seq', sa.BigInteger(), nullable=True))
        batch_op.add_column(sa.Column('prev_hash', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('hash', sa.String(length=64), nullable=True))

    last_seq, last_hash = _backfill_chain()

    with op.batch_alter_table('audit_events', schema=None) as batch_op:
        batch_op.alter_column('seq', existing_type=sa.BigInteger(), nullable=False)
        batch_op.alter_column('prev_hash', existing_type=sa.String(length=64), nullable=False)
        batch_op.alter_column('hash', existing_type=sa.String(length=64), nullable=False)
        batch_op.create_unique_constraint(batch_op.f('uq_audit_events_seq'), ['seq'])
        batch_op.create_index('ix_audit_events_site_occurred', ['site_id', 'occurred_at'], unique=False)

    head = op.create_table('audit_chain_head',
    sa.Column('id', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('last_seq', sa.BigInteger(), nullable=False),
    sa.Column('last_hash', sa.String(length=64), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_chain_head'))
    )
    op.bulk_insert(head, [{'id': 1, 'last_seq': last_seq, 'last_hash': last_hash}])


def downgrade() -> None:
    """Downgrade schema."""
    op.drop_table('audit_chain_head')
    with op.batch_alter_table('audit_events', schema=None) as batch_op:
        batch_op.drop_index('ix_audit_events_site_occurred')
        batch_op.drop_constraint(batch_op.f('uq_audit_events_seq'), type_='unique')
        batch_op.drop_column('hash')
        batch_op.drop_column('prev_hash')
        batch_op.drop_column('seq')
    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.drop_column('anonymised_at')
    with op.batch_alter_table('sites', schema=None) as batch_op:
        batch_op.drop_column('closed_case_retention_years')
