"""Sign-in throttle by account and client, and an account lock.

``web_sign_in_attempts`` gains ``client_key`` (the SHA-256 of the client's network address)
and an index on it with ``attempted_at``; ``users`` gains ``locked_at``. Attempts recorded
before this revision say nothing about their client, so they are dropped (they are at most a
day's failed sign-ins, kept only for the throttle; the audit trail keeps every one).

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-07 12:30:00.000000

"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = '0013'
down_revision: str | Sequence[str] | None = '0012'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.execute(sa.text('DELETE FROM web_sign_in_attempts'))
    with op.batch_alter_table('web_sign_in_attempts', schema=None) as batch_op:
        batch_op.add_column(
            sa.Column('client_key', sa.String(length=64), nullable=False, server_default='')
        )
    with op.batch_alter_table('web_sign_in_attempts', schema=None) as batch_op:
        batch_op.alter_column('client_key', server_default=None)
        batch_op.create_index(
            'ix_web_sign_in_attempts_client_attempted',
            ['client_key', 'attempted_at'],
            unique=False,
        )
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('locked_at', sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_column('locked_at')
    with op.batch_alter_table('web_sign_in_attempts', schema=None) as batch_op:
        batch_op.drop_index('ix_web_sign_in_attempts_client_attempted')
        batch_op.drop_column('client_key')
