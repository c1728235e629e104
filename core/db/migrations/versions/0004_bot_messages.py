"""Messages the bot sent as replies, for the per-site deletion of old bot messages.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-22 04:00:00.000000

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision: str = '0004'
down_revision: Union[str, Sequence[str], None] = '0003'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    """Upgrade schema."""
    op.create_table('bot_messages',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('chat_id', sa.BigInteger(), nullable=False),
    sa.Column('message_id', sa.BigInteger(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=True),
    sa.Column('sent_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_bot_messages_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_bot_messages')),
    sa.UniqueConstraint('chat_id', 'message_id', name=op.f('uq_bot_messages_chat_id_message_id'))
    )
    with op.batch_alter_table('bot_messages', schema=None) as batch_op:
        batch_op.create_index('ix_bot_messages_user_sent', ['user_id', 'sent_at'], unique=False)


def downgrade() -> None:
    """Downgrade schema."""
    with op.batch_alter_table('bot_messages', schema=None) as batch_op:
        batch_op.drop_index('ix_bot_messages_user_sent')

    op.drop_table('bot_messages')
