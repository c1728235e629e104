"""Partial outbox indexes: recording a sent message writes three index entries, not six.

Every claim and every result rewrites an outbox row, and PostgreSQL writes a new entry in
every index for it (the state changes, so the update cannot be heap-only). Three of the six
indexes only ever serve part of the rows:

- ``ix_outbox_messages_due`` serves the claim (queued and sending rows) and the failed list;
  sent and cancelled rows, nearly all of the table once it has run a while, are left out;
- ``ix_outbox_messages_case_id`` and ``ix_outbox_messages_appointment_id`` serve cancelling a
  case's or an appointment's pending messages and the foreign keys' cascades, which always
  name a value; broadcasts and digests have neither, and are left out.

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-22 14:20:00.000000

"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = '0008'
down_revision: str | Sequence[str] | None = '0007'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

UNFINISHED = "state IN ('queued', 'sending', 'failed')"
PARTIAL = {
    'ix_outbox_messages_due': (['state', 'lane_rank', 'not_before'], UNFINISHED),
    'ix_outbox_messages_case_id': (['case_id'], 'case_id IS NOT NULL'),
    'ix_outbox_messages_appointment_id': (['appointment_id'], 'appointment_id IS NOT NULL'),
}


def upgrade() -> None:
    with op.batch_alter_table('outbox_messages', schema=None) as batch_op:
        for name, (columns, where) in PARTIAL.items():
            batch_op.drop_index(name)
            batch_op.create_index(
                name, columns, unique=False,
                postgresql_where=sa.text(where), sqlite_where=sa.text(where),
            )


def downgrade() -> None:
    with op.batch_alter_table('outbox_messages', schema=None) as batch_op:
        for name, (columns, _where) in PARTIAL.items():
            batch_op.drop_index(name)
            batch_op.create_index(name, columns, unique=False)
