"""Tables for Telegram's limits shared by every process that sends (issue 21, part 5).

``send_pacers`` (a limiter's next evenly spaced slot), ``send_pacer_starts`` (its last
``limit`` send starts) and ``send_pacer_chats`` (each chat's turn), used by
``core.notifications.shared_pacer.PostgresPacer`` when the limiter lives in PostgreSQL. Times
are seconds since the epoch on the database's clock. SQLite gets the tables too (one schema),
unused there: with SQLite one process sends and paces itself.

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-07 12:45:00.000000

"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = '0016'
down_revision: str | Sequence[str] | None = '0015'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        'send_pacers',
        sa.Column('limiter', sa.String(length=100), nullable=False),
        sa.Column('next_slot_at', sa.Double(), nullable=False),
        sa.PrimaryKeyConstraint('limiter', name=op.f('pk_send_pacers')),
    )
    op.create_table(
        'send_pacer_starts',
        sa.Column('limiter', sa.String(length=100), nullable=False),
        sa.Column('position', sa.SmallInteger(), autoincrement=False, nullable=False),
        sa.Column('started_at', sa.Double(), nullable=False),
        sa.PrimaryKeyConstraint('limiter', 'position', name=op.f('pk_send_pacer_starts')),
    )
    op.create_table(
        'send_pacer_chats',
        sa.Column('limiter', sa.String(length=100), nullable=False),
        sa.Column('chat_id', sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column('free_at', sa.Double(), nullable=False),
        sa.Column('busy_until', sa.Double(), nullable=False),
        sa.PrimaryKeyConstraint('limiter', 'chat_id', name=op.f('pk_send_pacer_chats')),
    )


def downgrade() -> None:
    op.drop_table('send_pacer_chats')
    op.drop_table('send_pacer_starts')
    op.drop_table('send_pacers')
