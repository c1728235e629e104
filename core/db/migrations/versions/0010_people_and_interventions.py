"""Victims and children over time, and interventions in the words the programme uses (issue 19).

- ``linked_people``: ``ended_on`` (the day the link to the case ended; ended links stay, as
  history), ``assigned_idva_id`` (the IDVA supporting the person, for her "My cases") with
  its index, and ``updated_at`` (the last edit; existing rows take their ``created_at``).
- ``interventions.status``: planned/in_progress/completed/not_pursued become
  offered/started/completed/declined/ended. Stored values are mapped: planned -> offered,
  in_progress -> started, not_pursued -> declined (completed stays); the downgrade maps back,
  with ended -> completed.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-07 08:30:00.000000

"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = '0010'
down_revision: str | Sequence[str] | None = '0009'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

UP = {'planned': 'offered', 'in_progress': 'started', 'not_pursued': 'declined'}
DOWN = {'offered': 'planned', 'started': 'in_progress', 'declined': 'not_pursued',
        'ended': 'completed'}


def _map_statuses(mapping: dict[str, str]) -> None:
    interventions = sa.table('interventions', sa.column('status', sa.String()))
    for old, new in mapping.items():
        op.execute(
            interventions.update().where(interventions.c.status == old).values(status=new)
        )


def upgrade() -> None:
    with op.batch_alter_table('linked_people', schema=None) as batch_op:
        batch_op.add_column(sa.Column('ended_on', sa.Date(), nullable=True))
        batch_op.add_column(sa.Column('assigned_idva_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('updated_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f('fk_linked_people_assigned_idva_id_users'),
            'users', ['assigned_idva_id'], ['id'],
        )
        batch_op.create_index(
            batch_op.f('ix_linked_people_assigned_idva_id'), ['assigned_idva_id'], unique=False
        )
    linked_people = sa.table(
        'linked_people',
        sa.column('created_at', sa.DateTime(timezone=True)),
        sa.column('updated_at', sa.DateTime(timezone=True)),
    )
    op.execute(linked_people.update().values(updated_at=linked_people.c.created_at))
    with op.batch_alter_table('linked_people', schema=None) as batch_op:
        batch_op.alter_column(
            'updated_at', existing_type=sa.DateTime(timezone=True), nullable=False
        )
    _map_statuses(UP)


def downgrade() -> None:
    _map_statuses(DOWN)
    with op.batch_alter_table('linked_people', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_linked_people_assigned_idva_id'))
        batch_op.drop_constraint(
            batch_op.f('fk_linked_people_assigned_idva_id_users'), type_='foreignkey'
        )
        batch_op.drop_column('updated_at')
        batch_op.drop_column('assigned_idva_id')
        batch_op.drop_column('ended_on')
