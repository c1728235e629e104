"""TOTP secrets sealed at rest: users.totp_secret becomes TEXT, wide enough for a Fernet token.

The values themselves are not touched here (a migration has no business holding the key):
an unsealed value keeps working and is sealed by ``drive-assist users reseal``, which
``drive-assist run`` runs on every start (see core.sealing).

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-22 10:45:00.000000

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision: str = '0007'
down_revision: Union[str, Sequence[str], None] = '0006'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.alter_column(
            'totp_secret', existing_type=sa.String(length=64), type_=sa.Text(),
            existing_nullable=True,
        )


def downgrade() -> None:
    # Sealed values do not fit 64 characters: a downgrade drops every enrolment, so each person
    # enrols their authenticator again after it.
    op.execute("UPDATE users SET totp_secret = NULL, totp_enrolled_at = NULL")
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.alter_column(
            'totp_secret', existing_type=sa.Text(), type_=sa.String(length=64),
            existing_nullable=True,
        )
