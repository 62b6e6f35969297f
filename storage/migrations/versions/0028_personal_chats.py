"""The personal chat of each Teams user with the bot (its conversation reference), so private
messages (nudges, notices to leads) reach Teams users as they reach Slack users

Revision ID: 0028
Revises: 0024
Create Date: 2026-11-30 22:00:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes

import storage.types
from alembic import op

revision: str = '0028'
down_revision: str | None = '0024'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """A new table only: filled as people talk to the bot in a personal chat."""
    op.create_table(
        'personal_chat',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('workspace', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column('platform', sqlmodel.sql.sqltypes.AutoString(length=10), nullable=False),
        sa.Column('user_id', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column('conversation_ref', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column('updated_at', storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('workspace', 'platform', 'user_id'),
    )


def downgrade() -> None:
    op.drop_table('personal_chat')
