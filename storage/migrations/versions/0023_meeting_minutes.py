"""meeting minutes: drafts, approval and versions

Revision ID: 0023
Revises: 0022
Create Date: 2026-11-30 21:00:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes

import storage.types
from alembic import op


revision: str = '0023'
down_revision: str | None = '0022'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        'meeting_minutes',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('meeting_id', sa.Integer(), nullable=False),
        sa.Column('version', sa.Integer(), nullable=False),
        sa.Column('status', sqlmodel.sql.sqltypes.AutoString(length=10), nullable=False),
        sa.Column('attendees', sqlmodel.sql.sqltypes.AutoString(length=3000), nullable=False),
        sa.Column('apologies', sqlmodel.sql.sqltypes.AutoString(length=3000), nullable=False),
        sa.Column('items', sqlmodel.sql.sqltypes.AutoString(length=200000), nullable=False),
        sa.Column('platform', sqlmodel.sql.sqltypes.AutoString(length=10), nullable=False),
        sa.Column('written_by', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column('written_by_name', sqlmodel.sql.sqltypes.AutoString(length=100),
                  nullable=False),
        sa.Column('written_at', storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column('approved_by', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
        sa.Column('approved_by_name', sqlmodel.sql.sqltypes.AutoString(length=100),
                  nullable=True),
        sa.Column('approved_at', storage.types.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(['meeting_id'], ['meeting.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('meeting_id', 'version'),
    )


def downgrade() -> None:
    op.drop_table('meeting_minutes')
