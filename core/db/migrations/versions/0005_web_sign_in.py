"""Web sign-in: TOTP on users, web sessions, one-time handoff and enrolment tokens, and failed
sign-in attempts for the per-account rate limit.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-22 05:00:00.000000

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision: str = '0005'
down_revision: Union[str, Sequence[str], None] = '0004'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    """Upgrade schema."""
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('totp_secret', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('totp_enrolled_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('totp_last_step', sa.BigInteger(), nullable=True))

    op.create_table('web_sessions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('last_seen_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('revoked_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('revoked_reason', sa.String(length=20), nullable=True),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_web_sessions_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_web_sessions')),
    sa.UniqueConstraint('token_hash', name=op.f('uq_web_sessions_token_hash'))
    )
    with op.batch_alter_table('web_sessions', schema=None) as batch_op:
        batch_op.create_index('ix_web_sessions_user_revoked', ['user_id', 'revoked_at'], unique=False)

    op.create_table('web_sign_in_tokens',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('used_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_web_sign_in_tokens_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_web_sign_in_tokens')),
    sa.UniqueConstraint('token_hash', name=op.f('uq_web_sign_in_tokens_token_hash'))
    )
    with op.batch_alter_table('web_sign_in_tokens', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_web_sign_in_tokens_expires_at'), ['expires_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_web_sign_in_tokens_user_id'), ['user_id'], unique=False)

    op.create_table('web_sign_in_attempts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('account_key', sa.String(length=64), nullable=False),
    sa.Column('attempted_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_web_sign_in_attempts'))
    )
    with op.batch_alter_table('web_sign_in_attempts', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_web_sign_in_attempts_attempted_at'), ['attempted_at'], unique=False)
        batch_op.create_index('ix_web_sign_in_attempts_account_attempted', ['account_key', 'attempted_at'], unique=False)


def downgrade() -> None:
    """Downgrade schema."""
    with op.batch_alter_table('web_sign_in_attempts', schema=None) as batch_op:
        batch_op.drop_index('ix_web_sign_in_attempts_account_attempted')
        batch_op.drop_index(batch_op.f('ix_web_sign_in_attempts_attempted_at'))

    op.drop_table('web_sign_in_attempts')
    with op.batch_alter_table('web_sign_in_tokens', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_web_sign_in_tokens_user_id'))
        batch_op.drop_index(batch_op.f('ix_web_sign_in_tokens_expires_at'))

    op.drop_table('web_sign_in_tokens')
    with op.batch_alter_table('web_sessions', schema=None) as batch_op:
        batch_op.drop_index('ix_web_sessions_user_revoked')

    op.drop_table('web_sessions')
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_column('totp_last_step')
        batch_op.drop_column('totp_enrolled_at')
        batch_op.drop_column('totp_secret')
