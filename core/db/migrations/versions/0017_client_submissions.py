"""Client submission keys: a save held on a device and sent again is done once (issue 21,
part 1).

``client_submissions``: per person, the key a device made for a save and the id of what the
first save with it wrote (``core.services.submissions``).

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-07 16:00:00.000000

"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = '0017'
down_revision: str | Sequence[str] | None = '0016'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        'client_submissions',
        sa.Column('user_id', sa.Integer(), autoincrement=False, nullable=False),
        sa.Column('client_key', sa.String(length=36), nullable=False),
        sa.Column('kind', sa.String(length=20), nullable=False),
        sa.Column('result_id', sa.BigInteger(), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ['user_id'], ['users.id'], name=op.f('fk_client_submissions_user_id_users'),
            ondelete='CASCADE',
        ),
        sa.PrimaryKeyConstraint('user_id', 'client_key', name=op.f('pk_client_submissions')),
    )
    op.create_index(
        op.f('ix_client_submissions_created_at'), 'client_submissions', ['created_at'],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index(op.f('ix_client_submissions_created_at'), table_name='client_submissions')
    op.drop_table('client_submissions')
