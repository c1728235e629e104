"""Email and text messages as channels of the outbox (issue 20): a mobile number per person and
the channels each person chose per group of notifications.

``users.mobile_number`` is sealed at rest like the second factor (TEXT, wide enough for a
Fernet token). ``notification_preferences`` holds one row per person and group (reminders,
digest, alerts, panel) that they changed from the default; no row means the default. The
outbox's ``channel`` column is a plain string, so ``email`` and ``sms`` need no change there.

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-07 12:30:00.000000

"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


# revision identifiers, used by Alembic.
revision: str = '0015'
down_revision: str | Sequence[str] | None = '0014'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('mobile_number', sa.Text(), nullable=True))
    op.create_table(
        'notification_preferences',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('kind_group', sa.String(length=16), nullable=False),
        sa.Column('channels', sa.JSON(), nullable=False),
        sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['user_id'], ['users.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('user_id', 'kind_group'),
    )


def downgrade() -> None:
    op.drop_table('notification_preferences')
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_column('mobile_number')
