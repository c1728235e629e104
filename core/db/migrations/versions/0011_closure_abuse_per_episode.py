"""The abuse types at each closure kept on the stage change that closed the episode.

Reopening a case clears its own closure fields for the new episode, so the outcome measures
could only see the latest closure's abuse types. ``case_stage_changes`` gains
``closure_physical``, ``closure_sexual``, ``closure_harassment_stalking`` and
``closure_jealous_controlling`` (set on moves to *closed*). Cases closed now have their
closing row filled from the case; closures of episodes already reopened had theirs cleared
before this revision and stay unknown (None: not recorded).

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-08 10:00:00.000000

"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = '0011'
down_revision: str | Sequence[str] | None = '0010'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

KINDS = ('physical', 'sexual', 'harassment_stalking', 'jealous_controlling')


def upgrade() -> None:
    with op.batch_alter_table('case_stage_changes', schema=None) as batch_op:
        for kind in KINDS:
            batch_op.add_column(sa.Column(f'closure_{kind}', sa.Boolean(), nullable=True))
    cases = sa.table(
        'cases',
        sa.column('id', sa.Integer()),
        sa.column('stage', sa.String()),
        sa.column('episode', sa.SmallInteger()),
        *(sa.column(f'closure_{kind}', sa.Boolean()) for kind in KINDS),
    )
    changes = sa.table(
        'case_stage_changes',
        sa.column('case_id', sa.Integer()),
        sa.column('to_stage', sa.String()),
        sa.column('episode', sa.SmallInteger()),
        *(sa.column(f'closure_{kind}', sa.Boolean()) for kind in KINDS),
    )
    # The closing row of each closed case's current episode takes the case's closure profile.
    closed_now = sa.and_(
        cases.c.id == changes.c.case_id,
        cases.c.stage == 'closed',
        cases.c.episode == changes.c.episode,
    )
    op.execute(
        changes.update()
        .where(
            changes.c.to_stage == 'closed',
            sa.exists().where(closed_now),
        )
        .values(
            {
                f'closure_{kind}': sa.select(cases.c[f'closure_{kind}'])
                .where(closed_now)
                .scalar_subquery()
                for kind in KINDS
            }
        )
    )


def downgrade() -> None:
    with op.batch_alter_table('case_stage_changes', schema=None) as batch_op:
        for kind in reversed(KINDS):
            batch_op.drop_column(f'closure_{kind}')
